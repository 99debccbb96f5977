//! Facts about the machine and the code a run measured, as the report prints them. Nothing here
//! names a path of this machine: the report is committed.

use std::path::Path;
use std::process::Command;

/// What the report says about where it ran.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub nproc: usize,
    pub mem_total_kib: Option<u64>,
    pub kernel: String,
    /// The file system the server's data directory was on (it decides what an fsync costs).
    pub data_fs: String,
    pub commit: String,
    /// Tracked files with uncommitted changes when the run started (repository-relative).
    pub dirty: Vec<String>,
    pub lamina_version: String,
    /// `/proc/loadavg`'s 1-minute figure when the run started: other work on the machine.
    pub load_start: String,
}

impl Machine {
    /// Gather the facts; `data_dir` is where the server keeps its data, `lamina` its binary.
    pub fn probe(data_dir: &Path, lamina: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|v| v.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_kib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
        let commit = output("git", &["rev-parse", "HEAD"])
            .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
        let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"])
            .map(|s| {
                s.lines()
                    // "XY path" (or "XY old -> new"): status letters, a space, the path.
                    .filter_map(|l| l.get(3..))
                    .map(|p| p.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let lamina_version = Command::new(lamina)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map_or_else(
                || "unknown".to_owned(),
                |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            );
        Machine {
            cpu,
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total_kib,
            kernel,
            data_fs: fs_type(data_dir).unwrap_or_else(|| "unknown".into()),
            commit,
            dirty,
            lamina_version,
            load_start: load_average(),
        }
    }
}

/// The 1-minute load average, as `/proc/loadavg` prints it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The type of the file system holding `path`: the longest mount point in `/proc/mounts` that
/// is a prefix of it.
fn fs_type(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_dev, point, kind) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(point)
                .then(|| (point.len(), kind.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}
