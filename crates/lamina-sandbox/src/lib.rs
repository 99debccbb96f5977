//! Starting a process inside limits: cgroups (v1 or v2, detected at run time) for memory, CPU and freezing,
//! its own process group, and the few raw syscalls that need `unsafe`. This crate knows nothing of Lambda.
//!
//! Namespaces, seccomp and pivot_root belong here too (the sandbox issue); today it provides the limits.

pub mod cgroup;
pub mod process;

pub use cgroup::{Cgroup, CgroupError, Hierarchy, Limits};
pub use process::{spawn, SpawnSpec, Spawned};
