//! The server under test: a `lamina serve` child process on a fresh temporary data directory,
//! its address, and its memory use as the kernel reports it.

use anyhow::{bail, Context};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping server gets after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const READY_PREFIX: &str = "lamina listening on http://";

/// A running `lamina serve`; stopped (and its data directory removed) on drop.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

/// Resident memory of the server process, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// `VmRSS`: resident now, in KiB.
    pub rss_kib: u64,
    /// `VmHWM`: the resident high-water mark so far, in KiB.
    pub hwm_kib: u64,
    /// `RssAnon`: the anonymous (heap, stacks) part of `VmRSS`, in KiB.
    pub anon_kib: u64,
    /// `RssFile` + `RssShmem`: the file-backed part of `VmRSS` (the binary, SQLite's shared-memory
    /// index), in KiB.
    pub file_kib: u64,
    /// `Threads`.
    pub threads: u64,
}

impl Server {
    /// Start `binary serve --listen 127.0.0.1:0 --dev` on a new temporary data directory and wait
    /// for the line that gives its address. `LAMINA_*` variables of this process are not passed on,
    /// so the server runs with its defaults whatever the caller's environment holds.
    ///
    /// With `keep`, the directory (data and `server.log`) is left in place at the end.
    pub fn start(binary: &Path, keep: bool) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("bench-server-")
            .disable_cleanup(keep)
            .tempdir()
            .context("creating a temporary data directory")?;
        let log = File::create(dir.path().join("server.log"))?;
        let mut cmd = Command::new(binary);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--dev", "--data-dir"])
            .arg(dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LAMINA_") {
                cmd.env_remove(key);
            }
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {}; build it first with `cargo build --release -p lamina`",
                binary.display()
            )
        })?;
        let stdout = child.stdout.take().context("server stdout")?;
        // The address arrives on stdout; a thread reads it (and drains the pipe afterwards) so the
        // wait below can have a deadline.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.trim().strip_prefix(READY_PREFIX) {
                        server.addr = rest
                            .trim_end_matches('/')
                            .parse()
                            .with_context(|| format!("parsing the server address in {line:?}"))?;
                        return Ok(server);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "the server printed no address within {START_TIMEOUT:?}; its log ends:\n{}",
                    server.log_tail()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                    "the server exited before printing its address; its log ends:\n{}",
                    server.log_tail()
                ),
            }
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's temporary directory (its data directory is inside).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current and peak resident memory.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("reading the server's /proc status (is this Linux?)")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("no {name} in the server's /proc status"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
            anon_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")? + field("RssShmem:")?,
            threads: field("Threads:")?,
        })
    }

    /// The process state as `/proc` gives it ("S (sleeping)", "Z (zombie)" once it has exited).
    pub fn state(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("State:"))
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_else(|| "gone".to_owned())
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.dir.path().join("server.log")) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Ask for a graceful stop first (the server handles SIGTERM); std can only send SIGKILL,
        // so the signal goes through kill(1), addressed to this child's pid alone.
        let pid = self.child.id().to_string();
        let asked = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if asked {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
