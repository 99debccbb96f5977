//! cgroups: detect v1 or v2, create one group per environment with memory and CPU limits, freeze and thaw
//! it, read its peak memory and OOM kills, kill everything in it, and remove it.

use std::fs;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// What can fail while managing cgroups.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A cgroup file could not be read or written.
    #[error("cgroup operation failed on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Resource limits for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hard memory limit in bytes (swap included where the kernel accounts it).
    pub memory_bytes: u64,
    /// CPU time allowed per period, in thousandths of a CPU (1000 = one full CPU).
    pub cpu_millis: u64,
    /// Maximum number of tasks, if limited.
    pub pids_max: Option<u64>,
}

const CPU_PERIOD_US: u64 = 100_000;

/// Which cgroup layout the host has, and where Lamina's groups live in it.
#[derive(Debug, Clone)]
pub enum Hierarchy {
    /// One controller per mount (`/sys/fs/cgroup/memory`, `/sys/fs/cgroup/cpu`, `/sys/fs/cgroup/freezer`, …).
    V1 {
        /// `<mount of memory>/<prefix>`.
        memory: PathBuf,
        /// `<mount of cpu>/<prefix>`.
        cpu: PathBuf,
        /// `<mount of freezer>/<prefix>`.
        freezer: PathBuf,
        /// `<mount of pids>/<prefix>`, if mounted.
        pids: Option<PathBuf>,
    },
    /// The unified hierarchy: one directory, controllers enabled per subtree.
    V2 {
        /// `<unified mount>/<prefix>`.
        base: PathBuf,
    },
}

fn mount_points() -> Vec<(String, PathBuf, String)> {
    // (fstype, mount point, options) from /proc/self/mounts.
    let Ok(text) = fs::read_to_string("/proc/self/mounts") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| (f[2].to_string(), PathBuf::from(f[1]), f[3].to_string()))
        })
        .collect()
}

impl Hierarchy {
    /// Detect the host's cgroup layout and prepare `<prefix>` groups under it. `None` when cgroups are not
    /// usable (not mounted, or not writable by this user).
    pub fn detect(prefix: &str) -> Option<Hierarchy> {
        let mounts = mount_points();
        let v1 = |ctrl: &str| {
            mounts
                .iter()
                .find(|(t, _, o)| t == "cgroup" && o.split(',').any(|x| x == ctrl))
                .map(|(_, p, _)| p.join(prefix))
        };
        let h = match (v1("memory"), v1("cpu"), v1("freezer")) {
            (Some(memory), Some(cpu), Some(freezer)) => Hierarchy::V1 {
                memory,
                cpu,
                freezer,
                pids: v1("pids"),
            },
            _ => {
                let (_, mount, _) = mounts.iter().find(|(t, _, _)| t == "cgroup2")?;
                Hierarchy::V2 {
                    base: mount.join(prefix),
                }
            }
        };
        h.prepare().ok()?;
        Some(h)
    }

    fn prepare(&self) -> Result<(), CgroupError> {
        match self {
            Hierarchy::V1 {
                memory,
                cpu,
                freezer,
                pids,
            } => {
                for d in [Some(memory), Some(cpu), Some(freezer), pids.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    fs::create_dir_all(d).map_err(io(d))?;
                }
                // Children account hierarchically so a group's limit covers all its processes.
                let uh = memory.join("memory.use_hierarchy");
                let _ = fs::write(&uh, "1");
            }
            Hierarchy::V2 { base } => {
                fs::create_dir_all(base).map_err(io(base))?;
                let parent_ctl = base.parent().map(|p| p.join("cgroup.subtree_control"));
                if let Some(p) = parent_ctl {
                    let _ = fs::write(&p, "+memory +cpu +pids");
                }
                let ctl = base.join("cgroup.subtree_control");
                fs::write(&ctl, "+memory +cpu +pids").map_err(io(&ctl))?;
            }
        }
        Ok(())
    }

    /// Kill and remove every group left under this prefix (environments of a previous run that ended without
    /// cleaning up, e.g. after `kill -9`). Returns how many groups were removed.
    pub fn sweep(&self) -> usize {
        let base = match self {
            Hierarchy::V1 { memory, .. } => memory.clone(),
            Hierarchy::V2 { base } => base.clone(),
        };
        let Ok(entries) = fs::read_dir(&base) else {
            return 0;
        };
        let mut n = 0;
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let g = match self {
                Hierarchy::V1 {
                    memory,
                    cpu,
                    freezer,
                    pids,
                } => Cgroup {
                    v1: true,
                    memory: memory.join(&name),
                    cpu: cpu.join(&name),
                    freezer: freezer.join(&name),
                    pids: pids.as_ref().map(|p| p.join(&name)),
                    hot: HotFiles::default(),
                },
                Hierarchy::V2 { base } => {
                    let d = base.join(&name);
                    Cgroup {
                        v1: false,
                        memory: d.clone(),
                        cpu: d.clone(),
                        freezer: d,
                        pids: None,
                        hot: HotFiles::default(),
                    }
                }
            };
            g.kill_all();
            g.destroy();
            n += 1;
        }
        n
    }

    /// True for the v1 layout.
    pub fn is_v1(&self) -> bool {
        matches!(self, Hierarchy::V1 { .. })
    }

    /// Create (or reuse) the group `name` with `limits`.
    pub fn create(&self, name: &str, limits: &Limits) -> Result<Cgroup, CgroupError> {
        let quota = (limits.cpu_millis * CPU_PERIOD_US / 1000).max(1000);
        match self {
            Hierarchy::V1 {
                memory,
                cpu,
                freezer,
                pids,
            } => {
                let g = Cgroup {
                    v1: true,
                    memory: memory.join(name),
                    cpu: cpu.join(name),
                    freezer: freezer.join(name),
                    pids: pids.as_ref().map(|p| p.join(name)),
                    hot: HotFiles::default(),
                };
                for d in g.dirs() {
                    fs::create_dir_all(d).map_err(io(d))?;
                }
                write(
                    &g.memory.join("memory.limit_in_bytes"),
                    &limits.memory_bytes.to_string(),
                )?;
                // Without swap accounting the file is absent; the memory limit alone then applies.
                let _ = fs::write(
                    g.memory.join("memory.memsw.limit_in_bytes"),
                    limits.memory_bytes.to_string(),
                );
                write(&g.cpu.join("cpu.cfs_period_us"), &CPU_PERIOD_US.to_string())?;
                write(&g.cpu.join("cpu.cfs_quota_us"), &quota.to_string())?;
                if let (Some(p), Some(max)) = (&g.pids, limits.pids_max) {
                    write(&p.join("pids.max"), &max.to_string())?;
                }
                Ok(g)
            }
            Hierarchy::V2 { base } => {
                let dir = base.join(name);
                fs::create_dir_all(&dir).map_err(io(&dir))?;
                let g = Cgroup {
                    v1: false,
                    memory: dir.clone(),
                    cpu: dir.clone(),
                    freezer: dir,
                    pids: None,
                    hot: HotFiles::default(),
                };
                write(
                    &g.memory.join("memory.max"),
                    &limits.memory_bytes.to_string(),
                )?;
                let _ = fs::write(g.memory.join("memory.swap.max"), "0");
                write(&g.cpu.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))?;
                if let Some(max) = limits.pids_max {
                    let _ = fs::write(g.memory.join("pids.max"), max.to_string());
                }
                Ok(g)
            }
        }
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(path))?;
    f.write_all(value.as_bytes()).map_err(io(path))
}

/// One environment's group.
#[derive(Debug)]
pub struct Cgroup {
    v1: bool,
    memory: PathBuf,
    cpu: PathBuf,
    freezer: PathBuf,
    pids: Option<PathBuf>,
    /// Files read or written on every invocation, opened once.
    hot: HotFiles,
}

/// The per-invocation cgroup files, kept open (reopening them cost ~10 % of a warm invoke's CPU).
#[derive(Debug, Default)]
struct HotFiles {
    peak: std::sync::OnceLock<Option<fs::File>>,
    freeze: std::sync::OnceLock<Option<fs::File>>,
}

impl Cgroup {
    fn dirs(&self) -> Vec<&Path> {
        let mut v: Vec<&Path> = vec![&self.memory];
        if self.v1 {
            v.push(&self.cpu);
            v.push(&self.freezer);
            if let Some(p) = &self.pids {
                v.push(p);
            }
        }
        v
    }

    /// Open every `cgroup.procs` of the group for writing, for a child to join between fork and exec.
    pub fn procs_files(&self) -> Result<Vec<OwnedFd>, CgroupError> {
        self.dirs()
            .into_iter()
            .map(|d| {
                let p = d.join("cgroup.procs");
                fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .map(OwnedFd::from)
                    .map_err(io(&p))
            })
            .collect()
    }

    /// Stop every process of the group (they keep their state and get no CPU).
    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.write_freezer(if self.v1 { "FROZEN" } else { "1" })
    }

    /// Resume a frozen group.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.write_freezer(if self.v1 { "THAWED" } else { "0" })
    }

    fn freezer_file(&self) -> PathBuf {
        self.freezer.join(if self.v1 {
            "freezer.state"
        } else {
            "cgroup.freeze"
        })
    }

    fn write_freezer(&self, value: &str) -> Result<(), CgroupError> {
        use std::os::unix::fs::FileExt;
        let path = self.freezer_file();
        let file = self
            .hot
            .freeze
            .get_or_init(|| fs::OpenOptions::new().write(true).open(&path).ok());
        match file {
            Some(f) => f
                .write_at(value.as_bytes(), 0)
                .map(|_| ())
                .map_err(io(&path)),
            None => write(&path, value),
        }
    }

    /// Peak memory use of the group since it was created, in bytes.
    pub fn peak_memory(&self) -> Option<u64> {
        let file = if self.v1 {
            "memory.max_usage_in_bytes"
        } else {
            "memory.peak"
        };
        use std::os::unix::fs::FileExt;
        let f = self
            .hot
            .peak
            .get_or_init(|| fs::File::open(self.memory.join(file)).ok())
            .as_ref()?;
        let mut buf = [0u8; 32];
        let n = f.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }

    /// How many processes of the group the kernel OOM-killed.
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = if self.v1 {
            ("memory.oom_control", "oom_kill")
        } else {
            ("memory.events", "oom_kill")
        };
        let Ok(text) = fs::read_to_string(self.memory.join(file)) else {
            return 0;
        };
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The processes currently in the group.
    pub fn pids(&self) -> Vec<i32> {
        fs::read_to_string(self.memory.join("cgroup.procs"))
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// SIGKILL every process of the group (a frozen group is thawed so the kill is delivered).
    pub fn kill_all(&self) {
        if !self.v1 && fs::write(self.memory.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        for pid in self.pids() {
            crate::process::kill(pid, libc::SIGKILL);
        }
        let _ = self.thaw();
    }

    /// Remove the group; its processes must be gone. Retries briefly while the kernel reaps them.
    pub fn destroy(&self) {
        for d in self.dirs() {
            for _ in 0..50 {
                match fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{spawn, SpawnSpec};

    /// These tests need a writable cgroup hierarchy (root, as in CI). Without one they fail loudly, unless
    /// `LAMINA_NO_CGROUPS=1` says the host has none, in which case they say so and pass nothing off as tested.
    fn hierarchy() -> Option<Hierarchy> {
        match Hierarchy::detect("lamina-test") {
            Some(h) => Some(h),
            None if std::env::var("LAMINA_NO_CGROUPS").as_deref() == Ok("1") => {
                eprintln!("SKIPPED: no writable cgroup hierarchy (LAMINA_NO_CGROUPS=1)");
                None
            }
            None => panic!("no writable cgroup hierarchy: run as root, or set LAMINA_NO_CGROUPS=1 to skip explicitly"),
        }
    }

    fn sh(script: &str) -> SpawnSpec {
        SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: std::env::temp_dir(),
        }
    }

    #[tokio::test]
    async fn memory_limit_kills_a_hog_and_is_reported() {
        let Some(h) = hierarchy() else { return };
        let name = format!("mem-{}", std::process::id());
        let g = h
            .create(
                &name,
                &Limits {
                    memory_bytes: 32 << 20,
                    cpu_millis: 1000,
                    pids_max: Some(64),
                },
            )
            .expect("create");
        // A bounded hog: tries to hold 256 MiB in a shell variable; the 32 MiB limit must kill it first.
        let mut sp = spawn(
            &sh("x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo survived"),
            Some(&g),
        )
        .expect("spawn");
        let mut out = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut sp.output, &mut out).await;
        let _ = sp.child.wait().await;
        assert!(!out.contains("survived"));
        assert!(g.oom_kills() >= 1, "the kernel should report an OOM kill");
        let peak = g.peak_memory().unwrap_or(0);
        assert!(
            peak > 16 << 20 && peak <= 33 << 20,
            "peak {peak} within the limit"
        );
        g.kill_all();
        g.destroy();
    }

    #[tokio::test]
    async fn freeze_stops_and_thaw_resumes() {
        let Some(h) = hierarchy() else { return };
        let name = format!("frz-{}", std::process::id());
        let g = h
            .create(
                &name,
                &Limits {
                    memory_bytes: 64 << 20,
                    cpu_millis: 500,
                    pids_max: None,
                },
            )
            .expect("create");
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("ticks");
        let script = format!(
            "i=0; while [ $i -lt 2000 ]; do echo $i >> {}; i=$((i+1)); sleep 0.01; done",
            file.display()
        );
        let mut child = spawn(&sh(&script), Some(&g)).expect("spawn").child;
        let lines = |f: &Path| {
            fs::read_to_string(f)
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while lines(&file) < 5 {
            assert!(std::time::Instant::now() < deadline, "child never wrote");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        g.freeze().expect("freeze");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let frozen_at = lines(&file);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(lines(&file), frozen_at, "a frozen group makes no progress");
        g.thaw().expect("thaw");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while lines(&file) <= frozen_at {
            assert!(
                std::time::Instant::now() < deadline,
                "thawed group never resumed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        g.kill_all();
        let _ = child.wait().await;
        g.destroy();
    }
}
