//! The log store: one append-only file per log stream (`DATA_DIR/logs/<account>/<region>/<group>/<stream>`),
//! each line `<epoch-ms>\t<message>`. Environments write their stdout/stderr and the platform's
//! START/END/REPORT lines here; an invocation asking for `Tail` also collects its own lines in memory.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// Encode one path component so any group or stream name maps to a safe file name.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' && !out.is_empty() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decode what [`encode_component`] produced.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a function's log group lives.
pub fn group_dir(root: &Path, account: &str, region: &str, group: &str) -> PathBuf {
    root.join(encode_component(account))
        .join(encode_component(region))
        .join(encode_component(group))
}

/// One log stream being written.
pub struct LogStream {
    /// Stream name (`YYYY/MM/DD/[version]hex`).
    pub name: String,
    writer: Mutex<Option<BufWriter<File>>>,
    tail: Mutex<Option<Vec<u8>>>,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Largest tail kept for `X-Amz-Log-Result`.
pub const TAIL_BYTES: usize = 4096;

impl LogStream {
    /// Open (append) a stream file.
    pub fn open(
        root: &Path,
        account: &str,
        region: &str,
        group: &str,
        name: &str,
    ) -> std::io::Result<LogStream> {
        let dir = group_dir(root, account, region, group);
        fs::create_dir_all(&dir)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(encode_component(name)))?;
        Ok(LogStream {
            name: name.into(),
            writer: Mutex::new(Some(BufWriter::with_capacity(16 * 1024, file))),
            tail: Mutex::new(None),
        })
    }

    /// Append one log line (without its newline).
    pub fn line(&self, msg: &str) {
        let ts = chrono::Utc::now().timestamp_millis();
        if let Ok(mut w) = self.writer.lock() {
            if let Some(w) = w.as_mut() {
                let _ = writeln!(w, "{ts}\t{msg}");
            }
        }
        if let Ok(mut t) = self.tail.lock() {
            if let Some(buf) = t.as_mut() {
                buf.extend_from_slice(msg.as_bytes());
                buf.push(b'\n');
                if buf.len() > 4 * TAIL_BYTES {
                    let cut = buf.len() - TAIL_BYTES;
                    buf.drain(..cut);
                }
            }
        }
    }

    /// Start collecting lines for a `Tail` invocation.
    pub fn start_tail(&self) {
        if let Ok(mut t) = self.tail.lock() {
            *t = Some(Vec::new());
        }
    }

    /// Stop collecting; the last 4 KB.
    pub fn take_tail(&self) -> Vec<u8> {
        let buf = self
            .tail
            .lock()
            .ok()
            .and_then(|mut t| t.take())
            .unwrap_or_default();
        let start = buf.len().saturating_sub(TAIL_BYTES);
        buf[start..].to_vec()
    }

    /// Write buffered lines to the file.
    pub fn flush(&self) {
        if let Ok(mut w) = self.writer.lock() {
            if let Some(w) = w.as_mut() {
                let _ = w.flush();
            }
        }
    }
}

/// All open streams, flushed periodically so `lamina logs --follow` sees lines within a fraction of a second.
#[derive(Default)]
pub struct Registry {
    streams: Mutex<Vec<Weak<LogStream>>>,
}

impl Registry {
    /// Track a stream.
    pub fn add(&self, s: &Arc<LogStream>) {
        if let Ok(mut v) = self.streams.lock() {
            v.push(Arc::downgrade(s));
        }
    }

    /// Flush every live stream and forget dead ones.
    pub fn flush_all(&self) {
        let live: Vec<Arc<LogStream>> = match self.streams.lock() {
            Ok(mut v) => {
                v.retain(|w| w.strong_count() > 0);
                v.iter().filter_map(Weak::upgrade).collect()
            }
            Err(_) => return,
        };
        for s in live {
            s.flush();
        }
    }
}

/// A stored log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The stream it belongs to.
    pub stream: String,
    /// The message.
    pub message: String,
}

/// Read a group's events, every stream merged by time. `after` = only events newer than this (ms).
pub fn read_group(
    root: &Path,
    account: &str,
    region: &str,
    group: &str,
    after: Option<i64>,
) -> std::io::Result<Vec<Event>> {
    let dir = group_dir(root, account, region, group);
    let mut out = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let stream = decode_component(&entry.file_name().to_string_lossy());
        let text = fs::read_to_string(entry.path())?;
        for line in text.lines() {
            if let Some((ts, msg)) = line.split_once('\t') {
                let Ok(timestamp) = ts.parse::<i64>() else {
                    continue;
                };
                if after.is_none_or(|a| timestamp > a) {
                    out.push(Event {
                        timestamp,
                        stream: stream.clone(),
                        message: msg.to_string(),
                    });
                }
            }
        }
    }
    out.sort_by_key(|e| e.timestamp);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_safe() {
        for s in ["/aws/lambda/f", "2026/11/29/[$LATEST]abc", "..", "a%b"] {
            let e = encode_component(s);
            assert!(!e.contains('/') && e != "..", "{e}");
            assert_eq!(decode_component(&e), s);
        }
    }

    #[test]
    fn tail_keeps_the_last_4k_and_files_read_back() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let s = LogStream::open(
            dir.path(),
            "1",
            "r",
            "/aws/lambda/f",
            "2026/01/01/[$LATEST]x",
        )?;
        s.line("before");
        s.start_tail();
        for i in 0..1000 {
            s.line(&format!("line {i}"));
        }
        let tail = s.take_tail();
        assert!(tail.len() <= TAIL_BYTES);
        assert!(String::from_utf8_lossy(&tail).ends_with("line 999\n"));
        s.flush();
        let ev = read_group(dir.path(), "1", "r", "/aws/lambda/f", None)?;
        assert_eq!(ev.len(), 1001);
        assert_eq!(ev[0].message, "before");
        assert_eq!(ev[0].stream, "2026/01/01/[$LATEST]x");
        Ok(())
    }
}
