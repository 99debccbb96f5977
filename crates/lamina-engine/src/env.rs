//! One execution environment: the runtime process (inside its cgroup), the Runtime API it talks to, and the
//! state machine between them. Exactly one invocation is in flight at a time; the environment is frozen
//! between invocations and thawed to deliver the next one.

use crate::http1::{self, ReadError};
use crate::logs::LogStream;
use bytes::Bytes;
use lamina_sandbox::{Cgroup, SpawnSpec};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

/// Largest response a runtime may post for a buffered invocation (6 MiB + 100, as AWS).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024 + 100;

/// One event delivered to the runtime.
#[derive(Debug)]
pub struct Invocation {
    /// Request id.
    pub request_id: String,
    /// Event payload.
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline_ms: i64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// Decoded client context JSON.
    pub client_context: Option<String>,
}

/// How an invocation ended, as seen from the environment.
#[derive(Debug)]
pub enum Outcome {
    /// `/response` body.
    Response(Bytes),
    /// `/error` body (verbatim) and its error type header, if any.
    Error(Bytes, Option<String>),
    /// The runtime posted a response over the size limit.
    TooLarge,
    /// The runtime reported an init failure.
    InitError(Bytes, Option<String>),
    /// The process exited (or was killed) before answering.
    Exited(ExitInfo),
}

/// Why a runtime process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitInfo {
    /// Exit status code.
    Code(i32),
    /// Killed by a signal (number).
    Signal(i32),
}

impl ExitInfo {
    /// AWS's wording: `exit status 3`, `signal: killed`.
    pub fn describe(&self) -> String {
        match self {
            ExitInfo::Code(c) => format!("exit status {c}"),
            ExitInfo::Signal(9) => "signal: killed".into(),
            ExitInfo::Signal(11) => "signal: segmentation fault".into(),
            ExitInfo::Signal(6) => "signal: aborted".into(),
            ExitInfo::Signal(15) => "signal: terminated".into(),
            ExitInfo::Signal(s) => format!("signal: {s}"),
        }
    }
}

/// Progress of the init phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitState {
    /// The runtime has not asked for an event yet.
    Running,
    /// First `/next` arrived: init is complete.
    Ready,
    /// `/runtime/init/error` was posted (body, error type).
    Failed(Bytes, Option<String>),
    /// The process ended during init.
    Exited(ExitInfo),
}

#[derive(Debug, Default)]
struct Inner {
    /// The invocation in flight and where its outcome goes.
    current: Option<(String, oneshot::Sender<Outcome>)>,
    /// Ids already answered (to tell 403 "state" from 400 "unknown id").
    last_answered: Option<String>,
    dead: bool,
    /// The event waiting for the runtime's `/next`.
    slot: Option<Invocation>,
    /// The cgroup is frozen (or the process group stopped).
    frozen: bool,
    /// The runtime is waiting in `/next`.
    runtime_parked: bool,
}

/// Everything needed to start one environment.
#[derive(Debug, Clone)]
pub struct StartSpec {
    /// The process to run (environment without `AWS_LAMBDA_RUNTIME_API`, added here).
    pub process: SpawnSpec,
    /// External extensions to start beside it (from `/opt/extensions`).
    pub extensions: Vec<SpawnSpec>,
    /// Identifier (32 hex) shared with the log stream name.
    pub id: String,
    /// Freeze the environment once the runtime has waited this long for an event (`None`: never).
    pub freeze_after: Option<std::time::Duration>,
    /// `functionName`, `functionVersion`, `handler` for the extension registration reply.
    pub function: (String, String, String),
}

/// A live execution environment.
pub struct Env {
    /// 32 lowercase hex.
    pub id: String,
    /// The Runtime API address given to the runtime.
    pub addr: SocketAddr,
    /// Its log stream.
    pub log: Arc<LogStream>,
    /// Its cgroup, when the host has cgroups.
    pub cgroup: Option<Cgroup>,
    /// Process id (= process group id).
    pub pid: i32,
    /// Creation time.
    pub created: Instant,
    inner: Mutex<Inner>,
    /// Wakes the runtime's parked `/next` when an event is in the slot (or the environment dies).
    next_ready: tokio::sync::Notify,
    init_tx: watch::Sender<InitState>,
    tasks: Mutex<Vec<AbortHandle>>,
    /// The output pumps: they end on their own at EOF, once every process writing to them is gone.
    pumps: Mutex<Vec<AbortHandle>>,
    runtime_ready: std::sync::atomic::AtomicBool,
    freeze_after: Option<std::time::Duration>,
    /// Registered extensions.
    pub extensions: crate::extensions::Registry,
    extension_pids: Vec<i32>,
    /// External extensions launched and not (yet) known to have died before registering.
    extensions_expected: std::sync::atomic::AtomicUsize,
    function: (String, String, String),
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// Start the runtime process and its Runtime API. Returns once the process is running (init continues).
    pub async fn start(
        spec: StartSpec,
        log: Arc<LogStream>,
        cgroup: Option<Cgroup>,
    ) -> std::io::Result<Arc<Env>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut process = spec.process;
        process
            .env
            .push(("AWS_LAMBDA_RUNTIME_API".into(), addr.to_string().into()));
        // Extensions start first, in parallel with the runtime; their output goes to the same stream.
        let mut ext_children = Vec::new();
        for ext in &spec.extensions {
            let mut e = ext.clone();
            e.env
                .push(("AWS_LAMBDA_RUNTIME_API".into(), addr.to_string().into()));
            ext_children.push(lamina_sandbox::spawn(&e, cgroup.as_ref())?);
        }
        let extension_pids: Vec<i32> = ext_children
            .iter()
            .filter_map(|c| c.child.id())
            .map(|p| p as i32)
            .collect();
        let lamina_sandbox::Spawned { mut child, output } =
            lamina_sandbox::spawn(&process, cgroup.as_ref())?;
        let pid = child.id().map_or(0, |p| p as i32);
        let (init_tx, _) = watch::channel(InitState::Running);
        let env = Arc::new(Env {
            id: spec.id,
            addr,
            log,
            cgroup,
            pid,
            created: Instant::now(),
            inner: Mutex::new(Inner::default()),
            next_ready: tokio::sync::Notify::new(),
            init_tx,
            tasks: Mutex::new(Vec::new()),
            pumps: Mutex::new(Vec::new()),
            runtime_ready: std::sync::atomic::AtomicBool::new(false),
            freeze_after: spec.freeze_after,
            extensions: crate::extensions::Registry::default(),
            extensions_expected: std::sync::atomic::AtomicUsize::new(extension_pids.len()),
            extension_pids,
            function: spec.function,
        });
        let mut handles = Vec::new();
        let mut pumps = Vec::new();
        for c in ext_children {
            let lamina_sandbox::Spawned { mut child, output } = c;
            pumps.push(
                tokio::spawn(pump_lines(BufReader::new(output), Arc::clone(&env.log)))
                    .abort_handle(),
            );
            let weak = Arc::downgrade(&env);
            handles.push(
                tokio::spawn(async move {
                    let _ = child.wait().await;
                    // One that exits before registering is no longer waited for (AWS: Extension.Crash).
                    if let Some(env) = weak.upgrade() {
                        if *env.init_tx.borrow() == InitState::Running {
                            env.log.line(
                                "EXTENSION\tState: LaunchError\tan extension exited during init",
                            );
                            let _ = env.extensions_expected.fetch_update(
                                std::sync::atomic::Ordering::AcqRel,
                                std::sync::atomic::Ordering::Acquire,
                                |n| n.checked_sub(1),
                            );
                            env.check_ready();
                        }
                    }
                })
                .abort_handle(),
            );
        }
        pumps.push(
            tokio::spawn(pump_lines(BufReader::new(output), Arc::clone(&env.log))).abort_handle(),
        );
        if let Ok(mut p) = env.pumps.lock() {
            p.extend(pumps);
        }
        let weak = Arc::downgrade(&env);
        handles.push(
            tokio::spawn(async move {
                let status = child.wait().await;
                let info = match status {
                    Ok(s) => {
                        use std::os::unix::process::ExitStatusExt;
                        match (s.code(), s.signal()) {
                            (Some(c), _) => ExitInfo::Code(c),
                            (None, Some(sig)) => ExitInfo::Signal(sig),
                            _ => ExitInfo::Code(-1),
                        }
                    }
                    Err(_) => ExitInfo::Code(-1),
                };
                if let Some(env) = weak.upgrade() {
                    env.on_exit(info);
                }
            })
            .abort_handle(),
        );
        let weak = Arc::downgrade(&env);
        handles.push(tokio::spawn(accept_loop(listener, weak)).abort_handle());
        if let Ok(mut t) = env.tasks.lock() {
            t.extend(handles);
        }
        Ok(env)
    }

    /// Wait for init to finish (first `/next`), fail, or the process to end.
    pub async fn wait_init(&self) -> InitState {
        let mut rx = self.init_tx.subscribe();
        loop {
            let s = rx.borrow_and_update().clone();
            if s != InitState::Running {
                return s;
            }
            if rx.changed().await.is_err() {
                return InitState::Exited(ExitInfo::Code(-1));
            }
        }
    }

    /// True once the process has ended or the environment was shut down.
    pub fn is_dead(&self) -> bool {
        self.inner.lock().map(|i| i.dead).unwrap_or(true)
    }

    /// Deliver one invocation; the outcome arrives on the returned receiver.
    pub fn deliver(&self, inv: Invocation) -> Result<oneshot::Receiver<Outcome>, Box<Invocation>> {
        let (tx, rx) = oneshot::channel();
        {
            let Ok(mut inner) = self.inner.lock() else {
                return Err(Box::new(inv));
            };
            if inner.dead || inner.current.is_some() || inner.slot.is_some() {
                return Err(Box::new(inv));
            }
            inner.current = Some((inv.request_id.clone(), tx));
            self.extensions.invoke(
                &inv.request_id,
                inv.deadline_ms,
                &inv.invoked_arn,
                &inv.trace_id,
            );
            inner.slot = Some(inv);
            if inner.frozen {
                self.set_frozen(false);
                inner.frozen = false;
            }
        }
        self.next_ready.notify_one();
        Ok(rx)
    }

    /// Abandon the invocation in flight (after a timeout) without an outcome.
    pub fn abandon(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.current = None;
        }
    }

    fn on_exit(&self, info: ExitInfo) {
        let current = self.inner.lock().ok().and_then(|mut i| {
            i.dead = true;
            i.current.take()
        });
        if let Some((_, tx)) = current {
            let _ = tx.send(Outcome::Exited(info.clone()));
        }
        self.init_tx.send_if_modified(|s| {
            if *s == InitState::Running {
                *s = InitState::Exited(info);
                true
            } else {
                false
            }
        });
    }

    /// Freeze or thaw (cgroup freezer, else SIGSTOP/SIGCONT to the process group). Callers hold `inner`.
    fn set_frozen(&self, frozen: bool) {
        match &self.cgroup {
            Some(g) => {
                let _ = if frozen { g.freeze() } else { g.thaw() };
            }
            None => lamina_sandbox::process::kill_group(
                self.pid,
                if frozen {
                    libc_sigstop()
                } else {
                    libc_sigcont()
                },
            ),
        }
    }

    /// Thaw if frozen (before a shutdown, so the processes can react).
    pub fn thaw(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.frozen {
                self.set_frozen(false);
                inner.frozen = false;
            }
        }
    }

    /// The runtime's `/next`: take the waiting event, or freeze the environment and park until one arrives.
    /// Freezing happens only here, once the runtime is blocked reading `/next`, so a thawed runtime is
    /// already waiting for its event (AWS freezes at the same point).
    async fn take_next(&self) -> Option<Invocation> {
        loop {
            let notified = self.next_ready.notified();
            {
                let mut inner = self.inner.lock().ok()?;
                if inner.dead {
                    return None;
                }
                if let Some(inv) = inner.slot.take() {
                    inner.runtime_parked = false;
                    return Some(inv);
                }
                inner.runtime_parked = true;
                if self.freeze_after.is_some_and(|d| d.is_zero()) {
                    self.try_freeze(&mut inner);
                }
            }
            match self.freeze_after {
                Some(grace) if !grace.is_zero() => {
                    tokio::pin!(notified);
                    // Busy environments are never frozen; one idle past the grace period is.
                    if tokio::time::timeout(grace, &mut notified).await.is_err() {
                        if let Ok(mut inner) = self.inner.lock() {
                            self.try_freeze(&mut inner);
                        }
                        notified.await;
                    }
                }
                _ => notified.await,
            }
        }
    }

    /// Freeze if the environment is truly idle: init done, the runtime parked in `/next`, every extension
    /// parked in `event/next`, no event waiting. Callers hold `inner`.
    fn try_freeze(&self, inner: &mut Inner) {
        if inner.frozen
            || inner.dead
            || inner.slot.is_some()
            || !inner.runtime_parked
            || self.freeze_after.is_none()
        {
            return;
        }
        if *self.init_tx.borrow() != InitState::Ready || !self.extensions.all_waiting() {
            return;
        }
        self.set_frozen(true);
        inner.frozen = true;
    }

    /// Peak memory of the environment in MB (cgroup peak, else the process's high-water mark).
    pub fn max_memory_mb(&self) -> u64 {
        let bytes = self
            .cgroup
            .as_ref()
            .and_then(Cgroup::peak_memory)
            .or_else(|| vm_hwm(self.pid))
            .unwrap_or(0);
        bytes.div_ceil(1024 * 1024)
    }

    /// True when the kernel OOM-killed something in the environment.
    pub fn oom_killed(&self) -> bool {
        self.cgroup.as_ref().is_some_and(|g| g.oom_kills() > 0)
    }

    /// Kill every process of the environment (its cgroup stays, so its readings can still be taken).
    pub fn kill(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.dead = true;
            inner.current = None;
            inner.slot = None;
        }
        self.next_ready.notify_waiters();
        lamina_sandbox::process::kill_group(self.pid, 9);
        for p in &self.extension_pids {
            lamina_sandbox::process::kill_group(*p, 9);
        }
        if let Some(g) = &self.cgroup {
            g.kill_all();
        }
    }

    /// Retire an idle environment the way Lambda does: SHUTDOWN to subscribed extensions (up to 2 s for
    /// them to finish), then kill.
    pub async fn retire(&self) {
        let deadline = chrono::Utc::now().timestamp_millis() + 2000;
        self.thaw();
        if self.extensions.shutdown("spindown", deadline) {
            lamina_sandbox::process::kill_group(self.pid, 15);
            let until = Instant::now() + std::time::Duration::from_secs(2);
            while Instant::now() < until
                && self
                    .extension_pids
                    .iter()
                    .any(|p| std::path::Path::new(&format!("/proc/{p}")).exists() && !is_zombie(*p))
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        self.shutdown();
    }

    /// Init is complete once the runtime asked for an event and every registered extension is parked.
    fn check_ready(&self) {
        if self
            .runtime_ready
            .load(std::sync::atomic::Ordering::Acquire)
            && self.extensions.all_parked()
            && self.extensions.registered()
                >= self
                    .extensions_expected
                    .load(std::sync::atomic::Ordering::Acquire)
        {
            self.init_tx.send_if_modified(|s| {
                if *s == InitState::Running {
                    *s = InitState::Ready;
                    true
                } else {
                    false
                }
            });
        }
    }

    /// Kill everything and release the cgroup. Idempotent.
    pub fn shutdown(&self) {
        self.kill();
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
        // The pumps finish by themselves once the killed processes' pipes close, so their last lines (a
        // crash's traceback, an extension's goodbye) still reach the log; a straggler is stopped later.
        let pumps: Vec<AbortHandle> = self
            .pumps
            .lock()
            .map(|mut p| p.drain(..).collect())
            .unwrap_or_default();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                for p in pumps {
                    p.abort();
                }
            });
        } else {
            for p in pumps {
                p.abort();
            }
        }
        self.log.flush();
        if let Some(g) = &self.cgroup {
            // Reaping is asynchronous; remove the group once its processes are gone.
            g.destroy();
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Ok(t) = self.tasks.lock() {
            for h in t.iter() {
                h.abort();
            }
        }
    }
}

fn libc_sigstop() -> i32 {
    19
}

fn libc_sigcont() -> i32 {
    18
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

fn vm_hwm(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

async fn pump_lines<R: tokio::io::AsyncRead + Unpin>(mut r: BufReader<R>, log: Arc<LogStream>) {
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        // Bound one line at 256 KB; longer output is split into several events.
        match (&mut r).take(256 * 1024).read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                log.line(text.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

use tokio::io::AsyncReadExt as _;

async fn accept_loop(listener: TcpListener, env: std::sync::Weak<Env>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let Some(e) = env.upgrade() else { return };
        let h = tokio::spawn(serve_conn(stream, Arc::downgrade(&e)));
        let tasks = e.tasks.lock();
        if let Ok(mut t) = tasks {
            t.retain(|h| !h.is_finished());
            t.push(h.abort_handle());
        }
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn rapi_error(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::json!({ "errorMessage": message, "errorType": error_type })
        .to_string()
        .into_bytes()
}

async fn serve_conn(stream: TcpStream, env: std::sync::Weak<Env>) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::with_capacity(16 * 1024, rd);
    loop {
        let req = match http1::read_request(&mut rd, MAX_RESPONSE).await {
            Ok(r) => r,
            Err(ReadError::Bad(why)) => {
                let _ = http1::write_response(
                    &mut wr,
                    400,
                    "Bad Request",
                    &[JSON],
                    &rapi_error("InvalidRequest", why),
                )
                .await;
                return;
            }
            Err(_) => return,
        };
        let Some(env) = env.upgrade() else { return };
        let keep = handle(&env, req, &mut wr).await;
        drop(env);
        if !keep {
            return;
        }
    }
}

/// Answer one Runtime API request. Returns false to close the connection.
async fn handle(
    env: &Arc<Env>,
    req: http1::Request,
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
) -> bool {
    const ACCEPTED: &[u8] = b"{\"status\":\"OK\"}\n";
    let path = req.path.as_str();
    let method = req.method.as_str();
    let result = match (method, path) {
        ("GET", "/2018-06-01/runtime/invocation/next") => return next(env, wr).await,
        ("GET", "/2018-06-01/ping") => http1::write_response(wr, 200, "OK", &[], b"pong").await,
        ("POST", "/2020-01-01/extension/register") => {
            let name = req
                .header("lambda-extension-name")
                .unwrap_or("")
                .to_string();
            let events: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&req.body) {
                Ok(v) => v
                    .get("events")
                    .and_then(|e| e.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                Err(_) => {
                    let body = rapi_error("InvalidRequestFormat", "Invalid request body");
                    return http1::write_response(wr, 403, "Forbidden", &[JSON], &body)
                        .await
                        .is_ok();
                }
            };
            let closed = *env.init_tx.borrow() != InitState::Running;
            match env.extensions.register(&name, &events, closed) {
                Ok(ext) => {
                    let (f, v, h) = &env.function;
                    let body = serde_json::json!({ "functionName": f, "functionVersion": v, "handler": h }).to_string();
                    http1::write_response(
                        wr,
                        200,
                        "OK",
                        &[JSON, ("Lambda-Extension-Identifier", &ext.id)],
                        body.as_bytes(),
                    )
                    .await
                }
                Err(r) => {
                    http1::write_response(
                        wr,
                        403,
                        "Forbidden",
                        &[JSON],
                        &rapi_error(r.error_type, &r.message),
                    )
                    .await
                }
            }
        }
        ("GET", "/2020-01-01/extension/event/next") => {
            let Some(id) = req.header("lambda-extension-identifier") else {
                let body = rapi_error(
                    "Extension.MissingExtensionIdentifier",
                    "Missing Lambda-Extension-Identifier header",
                );
                return http1::write_response(wr, 403, "Forbidden", &[JSON], &body)
                    .await
                    .is_ok();
            };
            let Some(ext) = env.extensions.get(id) else {
                let (t, m) = if uuid::Uuid::parse_str(id).is_ok() {
                    (
                        "Extension.UnknownExtensionIdentifier",
                        "Unknown extension identifier",
                    )
                } else {
                    (
                        "Extension.InvalidExtensionIdentifier",
                        "Invalid extension identifier",
                    )
                };
                return http1::write_response(wr, 403, "Forbidden", &[JSON], &rapi_error(t, m))
                    .await
                    .is_ok();
            };
            env.extensions.parked(&ext);
            env.check_ready();
            env.extensions.set_waiting(true);
            if env.freeze_after.is_some_and(|d| d.is_zero()) {
                if let Ok(mut inner) = env.inner.lock() {
                    env.try_freeze(&mut inner);
                }
            }
            let event = {
                let mut rx = ext.rx.lock().await;
                rx.recv().await
            };
            env.extensions.set_waiting(false);
            let Some(event) = event else { return false };
            let eid = uuid::Uuid::new_v4().to_string();
            http1::write_response(
                wr,
                200,
                "OK",
                &[JSON, ("Lambda-Extension-Event-Identifier", &eid)],
                event.to_string().as_bytes(),
            )
            .await
        }
        ("POST", "/2020-01-01/extension/init/error")
        | ("POST", "/2020-01-01/extension/exit/error") => {
            if req.header("lambda-extension-function-error-type").is_none() {
                let body = rapi_error(
                    "Extension.MissingHeader",
                    "Lambda-Extension-Function-Error-Type not found",
                );
                return http1::write_response(wr, 403, "Forbidden", &[JSON], &body)
                    .await
                    .is_ok();
            }
            env.log.line(&format!(
                "EXTENSION error reported: {}",
                req.header("lambda-extension-function-error-type")
                    .unwrap_or("")
            ));
            http1::write_response(wr, 202, "Accepted", &[JSON], ACCEPTED).await
        }
        ("POST", "/2018-06-01/runtime/init/error") => {
            let ok = env.init_tx.send_if_modified(|s| {
                if *s == InitState::Running {
                    *s = InitState::Failed(
                        req.body.clone(),
                        req.header("lambda-runtime-function-error-type")
                            .map(str::to_string),
                    );
                    true
                } else {
                    false
                }
            });
            if ok {
                http1::write_response(wr, 202, "Accepted", &[JSON], ACCEPTED).await
            } else {
                let msg = "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed";
                http1::write_response(
                    wr,
                    403,
                    "Forbidden",
                    &[JSON],
                    &rapi_error("InvalidStateTransition", msg),
                )
                .await
            }
        }
        ("POST", p) if p.starts_with("/2018-06-01/runtime/invocation/") => {
            let rest = &p["/2018-06-01/runtime/invocation/".len()..];
            let (id, kind) = match rest.rsplit_once('/') {
                Some((id, k @ ("response" | "error"))) => (id, k),
                _ => return not_found(wr).await,
            };
            let (status, reason, body) = answer(env, id, kind, &req);
            http1::write_response(wr, status, reason, &[JSON], &body).await
        }
        _ => return not_found(wr).await,
    };
    result.is_ok()
}

async fn not_found(wr: &mut tokio::net::tcp::OwnedWriteHalf) -> bool {
    http1::write_response(
        wr,
        404,
        "Not Found",
        &[JSON],
        &rapi_error("NotFound", "Unknown Runtime API path"),
    )
    .await
    .is_ok()
}

fn answer(env: &Env, id: &str, kind: &str, req: &http1::Request) -> (u16, &'static str, Vec<u8>) {
    let Ok(mut inner) = env.inner.lock() else {
        return (
            500,
            "Internal Server Error",
            rapi_error("InternalServerError", "environment state unavailable"),
        );
    };
    let matches = inner.current.as_ref().is_some_and(|(cur, _)| cur == id);
    if !matches {
        if inner.last_answered.as_deref() == Some(id) {
            let msg = format!("State transition from RuntimeResponseSentState to {} failed for runtime. Error: State transition is not allowed", if kind == "response" { "InvocationResponse" } else { "InvocationErrorResponse" });
            return (403, "Forbidden", rapi_error("InvalidStateTransition", &msg));
        }
        return (
            400,
            "Bad Request",
            rapi_error("InvalidRequestID", "Invalid request ID"),
        );
    }
    let Some((cur, tx)) = inner.current.take() else {
        return (
            400,
            "Bad Request",
            rapi_error("InvalidRequestID", "Invalid request ID"),
        );
    };
    inner.last_answered = Some(cur);
    drop(inner);
    if kind == "response" && req.too_large {
        let _ = tx.send(Outcome::TooLarge);
        return (
            413,
            "Payload Too Large",
            rapi_error(
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."),
            ),
        );
    }
    let outcome = if kind == "response" {
        Outcome::Response(req.body.clone())
    } else {
        Outcome::Error(
            req.body.clone(),
            req.header("lambda-runtime-function-error-type")
                .map(str::to_string),
        )
    };
    let _ = tx.send(outcome);
    (202, "Accepted", b"{\"status\":\"OK\"}\n".to_vec())
}

async fn next(env: &Arc<Env>, wr: &mut tokio::net::tcp::OwnedWriteHalf) -> bool {
    env.runtime_ready
        .store(true, std::sync::atomic::Ordering::Release);
    env.check_ready();
    if matches!(&*env.init_tx.borrow(), InitState::Failed(..)) {
        let msg = "State transition from InitError to Ready failed for runtime. Error: State transition is not allowed";
        return http1::write_response(
            wr,
            403,
            "Forbidden",
            &[JSON],
            &rapi_error("InvalidStateTransition", msg),
        )
        .await
        .is_ok();
    }
    let Some(inv) = env.take_next().await else {
        return false;
    };
    let deadline = inv.deadline_ms.to_string();
    let mut headers: Vec<(&str, &str)> = vec![
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", &inv.request_id),
        ("Lambda-Runtime-Deadline-Ms", &deadline),
        ("Lambda-Runtime-Invoked-Function-Arn", &inv.invoked_arn),
        ("Lambda-Runtime-Trace-Id", &inv.trace_id),
    ];
    if let Some(cc) = &inv.client_context {
        headers.push(("Lambda-Runtime-Client-Context", cc));
    }
    http1::write_response(wr, 200, "OK", &headers, &inv.payload)
        .await
        .is_ok()
        && wr.flush().await.is_ok()
}
