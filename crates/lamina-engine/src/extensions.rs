//! The Extensions API 2020-01-01 inside one environment: external extensions (executables in
//! `/opt/extensions`) register, then long-poll `event/next` for INVOKE and SHUTDOWN events (§4.2).

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Most extensions one function may have.
pub const MAX_EXTENSIONS: usize = 10;

/// One registered extension.
#[derive(Debug)]
pub struct Extension {
    /// `Lambda-Extension-Identifier`.
    pub id: String,
    /// `Lambda-Extension-Name`.
    pub name: String,
    invoke: bool,
    shutdown: bool,
    tx: mpsc::UnboundedSender<Value>,
    /// Events waiting for `event/next`.
    pub rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
    parked_once: std::sync::atomic::AtomicBool,
}

/// Why a registration was refused (403 with this error type and message).
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `errorType`.
    pub error_type: &'static str,
    /// `errorMessage`.
    pub message: String,
}

/// The extensions of one environment.
#[derive(Debug, Default)]
pub struct Registry {
    list: Mutex<Vec<Arc<Extension>>>,
    waiting: std::sync::atomic::AtomicUsize,
}

impl Registry {
    /// Register `name` for `events` (`INVOKE`, `SHUTDOWN`).
    pub fn register(
        &self,
        name: &str,
        events: &[String],
        closed: bool,
    ) -> Result<Arc<Extension>, Refusal> {
        if name.is_empty() {
            return Err(Refusal {
                error_type: "Extension.InvalidExtensionName",
                message: "Empty extension name".into(),
            });
        }
        if closed {
            return Err(Refusal {
                error_type: "Extension.RegistrationClosed",
                message: "Extension registration closed already".into(),
            });
        }
        if let Some(bad) = events.iter().find(|e| *e != "INVOKE" && *e != "SHUTDOWN") {
            return Err(Refusal {
                error_type: "Extension.InvalidEventType",
                message: format!("Invalid event type: {bad}"),
            });
        }
        let mut list = self.list.lock().map_err(|_| Refusal {
            error_type: "InternalError",
            message: "state unavailable".into(),
        })?;
        if list.iter().any(|e| e.name == name) {
            return Err(Refusal {
                error_type: "Extension.InvalidExtensionState",
                message: format!("Extension {name} is already registered"),
            });
        }
        if list.len() >= MAX_EXTENSIONS {
            return Err(Refusal {
                error_type: "Extension.TooManyExtensions",
                message: format!("Extension limit ({MAX_EXTENSIONS}) reached"),
            });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let ext = Arc::new(Extension {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            invoke: events.iter().any(|e| e == "INVOKE"),
            shutdown: events.iter().any(|e| e == "SHUTDOWN"),
            tx,
            rx: tokio::sync::Mutex::new(rx),
            parked_once: std::sync::atomic::AtomicBool::new(false),
        });
        list.push(Arc::clone(&ext));
        Ok(ext)
    }

    /// Find by identifier.
    pub fn get(&self, id: &str) -> Option<Arc<Extension>> {
        self.list.lock().ok()?.iter().find(|e| e.id == id).cloned()
    }

    /// Note that an extension called `event/next` (its init is done).
    pub fn parked(&self, ext: &Extension) {
        ext.parked_once
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// An extension entered (`true`) or left (`false`) its `event/next` wait.
    pub fn set_waiting(&self, waiting: bool) {
        if waiting {
            self.waiting
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        } else {
            self.waiting
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }

    /// True when every registered extension is waiting in `event/next` (the invoke phase is over for them).
    pub fn all_waiting(&self) -> bool {
        let n = self.list.lock().map(|l| l.len()).unwrap_or(0);
        self.waiting.load(std::sync::atomic::Ordering::Acquire) >= n
    }

    /// How many extensions have registered.
    pub fn registered(&self) -> usize {
        self.list.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// True when every registered extension has called `event/next` at least once.
    pub fn all_parked(&self) -> bool {
        self.list
            .lock()
            .map(|l| {
                l.iter()
                    .all(|e| e.parked_once.load(std::sync::atomic::Ordering::Acquire))
            })
            .unwrap_or(true)
    }

    /// Send INVOKE to the subscribers.
    pub fn invoke(&self, request_id: &str, deadline_ms: i64, arn: &str, trace: &str) {
        let ev = json!({
            "eventType": "INVOKE",
            "deadlineMs": deadline_ms,
            "requestId": request_id,
            "invokedFunctionArn": arn,
            "tracing": { "type": "X-Amzn-Trace-Id", "value": trace },
        });
        self.send(|e| e.invoke, &ev);
    }

    /// Send SHUTDOWN to the subscribers; true if any listens.
    pub fn shutdown(&self, reason: &str, deadline_ms: i64) -> bool {
        let ev =
            json!({ "eventType": "SHUTDOWN", "deadlineMs": deadline_ms, "shutdownReason": reason });
        self.send(|e| e.shutdown, &ev) > 0
    }

    fn send(&self, wants: impl Fn(&Extension) -> bool, ev: &Value) -> usize {
        let Ok(list) = self.list.lock() else { return 0 };
        let mut n = 0;
        for e in list.iter().filter(|e| wants(e)) {
            if e.tx.send(ev.clone()).is_ok() {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let r = Registry::default();
        let ev = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            r.register("", &ev(&[]), false).err().map(|x| x.error_type),
            Some("Extension.InvalidExtensionName")
        );
        assert_eq!(
            r.register("a", &ev(&["BOGUS"]), false)
                .err()
                .map(|x| x.error_type),
            Some("Extension.InvalidEventType")
        );
        let a = r
            .register("a", &ev(&["INVOKE", "SHUTDOWN"]), false)
            .expect("a");
        assert_eq!(
            r.register("a", &ev(&[]), false).err().map(|x| x.error_type),
            Some("Extension.InvalidExtensionState")
        );
        assert_eq!(
            r.register("b", &ev(&[]), true).err().map(|x| x.error_type),
            Some("Extension.RegistrationClosed")
        );
        assert!(!r.all_parked());
        r.parked(&a);
        assert!(r.all_parked());
        for i in 0..9 {
            r.register(&format!("x{i}"), &ev(&[]), false).expect("room");
        }
        assert_eq!(
            r.register("y", &ev(&[]), false).err().map(|x| x.error_type),
            Some("Extension.TooManyExtensions")
        );
        assert!(r.shutdown("spindown", 1));
        r.invoke("id", 1, "arn", "t");
        let mut rx = a.rx.try_lock().expect("rx");
        assert_eq!(
            rx.try_recv()
                .ok()
                .and_then(|v| v["eventType"].as_str().map(String::from))
                .as_deref(),
            Some("SHUTDOWN")
        );
        assert_eq!(
            rx.try_recv()
                .ok()
                .and_then(|v| v["eventType"].as_str().map(String::from))
                .as_deref(),
            Some("INVOKE")
        );
    }
}
