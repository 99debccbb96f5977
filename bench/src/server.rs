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
    /// Start `binary serve --listen 127.0.0.1:0 --dev` (then `extra`) on a new temporary data
    /// directory and wait for the line that gives its address. `LAMINA_*` variables of this process
    /// are not passed on, so the server runs with its defaults whatever the caller's environment holds.
    ///
    /// With `keep`, the directory (data and `server.log`) is left in place at the end.
    pub fn start(binary: &Path, keep: bool, extra: &[&str]) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("bench-server-")
            .disable_cleanup(keep)
            .tempdir()
            .context("creating a temporary data directory")?;
        let (child, lines) = launch(binary, dir.path(), extra)?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
        };
        server.addr = server.await_address(&lines)?;
        Ok(server)
    }

    /// Stop the server and start `binary` again, with `extra`, on the same data directory: a fresh
    /// process on the data the old one left. Its log goes on in the same file.
    pub fn restart(&mut self, binary: &Path, extra: &[&str]) -> anyhow::Result<()> {
        self.halt();
        let (child, lines) = launch(binary, self.dir.path(), extra)?;
        // The old child is reaped; from here on the new one is the one a drop stops.
        self.child = child;
        self.addr = self.await_address(&lines)?;
        Ok(())
    }

    /// Wait (bounded) for the line that gives the server's address.
    fn await_address(&self, lines: &mpsc::Receiver<String>) -> anyhow::Result<SocketAddr> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.trim().strip_prefix(READY_PREFIX) {
                        return rest
                            .trim_end_matches('/')
                            .parse()
                            .with_context(|| format!("parsing the server address in {line:?}"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "the server printed no address within {START_TIMEOUT:?}; its log ends:\n{}",
                    self.log_tail()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                    "the server exited before printing its address; its log ends:\n{}",
                    self.log_tail()
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
            kib_field(&status, name)
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
        self.halt();
    }
}

impl Server {
    /// Stop the server process (if it still runs) and reap it. A graceful stop first (the server
    /// handles SIGTERM); std can only send SIGKILL, so the signal goes through kill(1), addressed to
    /// this child's pid alone, and only while the child is unreaped (so the pid is still its own).
    fn halt(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
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

/// Spawn `binary serve` on `dir` (its log appended to `dir/server.log`); returns the child and the
/// lines of its stdout, which a thread reads (and drains afterwards) so that waiting for the address
/// can have a deadline.
fn launch(
    binary: &Path,
    dir: &Path,
    extra: &[&str],
) -> anyhow::Result<(Child, mpsc::Receiver<String>)> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))?;
    let mut cmd = Command::new(binary);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--dev", "--data-dir"])
        .arg(dir.join("data"))
        .args(extra)
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
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("the server's stdout was not captured");
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    Ok((child, rx))
}

/// Resident memory of a server's child processes (the runtimes it started), from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Children {
    /// Child processes found.
    pub count: usize,
    /// Sum of their `VmRSS`, in KiB: pages shared between them (the binary, libc) count once per process.
    pub rss_kib: u64,
    /// Sum of their `Pss` (`/proc/PID/smaps_rollup`), in KiB: shared pages divided among the processes
    /// that map them. `None` when a process's rollup could not be read.
    pub pss_kib: Option<u64>,
}

impl Server {
    /// The memory of this server's direct children: every process whose parent (field 4 of
    /// `/proc/PID/stat`) is the server.
    pub fn children(&self) -> anyhow::Result<Children> {
        let server = self.pid();
        let mut sum = Children {
            pss_kib: Some(0),
            ..Children::default()
        };
        for entry in std::fs::read_dir("/proc").context("listing /proc")? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // A process may exit between the listing and the reads: skip it.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if parent_of(&stat) != Some(server) {
                continue;
            }
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                continue;
            };
            let Some(rss) = kib_field(&status, "VmRSS:") else {
                continue;
            };
            sum.count += 1;
            sum.rss_kib += rss;
            let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .ok()
                .and_then(|r| kib_field(&r, "Pss:"));
            sum.pss_kib = sum.pss_kib.zip(pss).map(|(a, b)| a + b);
        }
        Ok(sum)
    }
}

/// The parent pid in a `/proc/PID/stat` line. The command name (field 2) is in parentheses and may
/// hold spaces or parentheses itself, so the fields are counted from the last `)`.
fn parent_of(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // state, then ppid.
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// A `Name:   1234 kB` line of a `/proc` file, in KiB.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parent_survives_odd_names() {
        assert_eq!(parent_of("42 (boot strap) S 7 42 42 0"), Some(7));
        assert_eq!(parent_of("42 (a) b)) R 9 1 1"), Some(9));
        assert_eq!(parent_of("garbage"), None);
        assert_eq!(kib_field("Pss:   12 kB\nVmRSS: 3 kB", "VmRSS:"), Some(3));
    }
}
