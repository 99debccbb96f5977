//! Spawning the runtime process: a clean environment, its own process group, and membership of its cgroup
//! from before `exec` (so the limits apply to its very first allocation).

use crate::cgroup::Cgroup;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;

/// What to run.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    /// Executable.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(OsString, OsString)>,
    /// Working directory.
    pub cwd: PathBuf,
}

/// A started process and the read end of the one pipe its stdout and stderr share (so lines keep the order
/// in which the process wrote them).
#[derive(Debug)]
pub struct Spawned {
    /// The process.
    pub child: tokio::process::Child,
    /// stdout and stderr, merged.
    pub output: tokio::net::unix::pipe::Receiver,
}

/// Start `spec` with stdin closed and stdout/stderr on one pipe, in a new process group, inside `cgroup` if
/// given.
pub fn spawn(spec: &SpawnSpec, cgroup: Option<&Cgroup>) -> std::io::Result<Spawned> {
    let (reader, writer) = std::io::pipe()?;
    let writer2 = writer.try_clone()?;
    let procs: Vec<OwnedFd> = match cgroup {
        Some(g) => g.procs_files().map_err(std::io::Error::other)?,
        None => Vec::new(),
    };
    let raw: Vec<i32> = procs.iter().map(AsRawFd::as_raw_fd).collect();
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe calls are
    // allowed; it calls write(2) on descriptors opened before the fork and touches no allocator or lock.
    unsafe {
        cmd.pre_exec(move || {
            for fd in &raw {
                // Writing "0" to cgroup.procs moves the calling process into that group (v1 and v2).
                if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn();
    drop(procs);
    // The parent's copies of the write end go with `cmd`, so the reader sees EOF when the process exits.
    drop(cmd);
    let output = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader))?;
    Ok(Spawned {
        child: child?,
        output,
    })
}

/// Send `sig` to one process.
pub fn kill(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Send `sig` to a whole process group (the runtime and everything it started).
pub fn kill_group(pgid: i32, sig: i32) {
    if pgid > 0 {
        // SAFETY: as for `kill`; a negative pid addresses the process group.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_with_a_clean_environment_in_its_own_group() -> std::io::Result<()> {
        let spec = SpawnSpec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "echo \"$ONLY:$HOME\"; ps -o pgid= -p $$".into(),
            ],
            env: vec![
                ("ONLY".into(), "yes".into()),
                ("PATH".into(), "/usr/bin:/bin".into()),
            ],
            cwd: std::env::temp_dir(),
        };
        let mut sp = spawn(&spec, None)?;
        let pid = sp.child.id().unwrap_or(0) as i32;
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut sp.output, &mut text).await?;
        sp.child.wait().await?;
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("yes:"));
        assert_eq!(lines.next().map(str::trim), Some(pid.to_string().as_str()));
        Ok(())
    }
}
