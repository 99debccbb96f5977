//! Runtimes as data: which runtime names exist, which of them Lamina can run, how each one is started,
//! and the installer that fetches the official runtime interface clients (`awslambdaric` from PyPI,
//! `aws-lambda-ric` from npm) into a cache, using interpreters already on the host.
//!
//! * `provided`, `provided.al2`, `provided.al2023`: the function's own `bootstrap` (task root first, then
//!   the layers in `/opt`), started with no arguments.
//! * `python3.10` … `python3.14`: `<venv>/bin/python3 -m awslambdaric <handler>`, in a venv made per
//!   runtime name with that exact Python version (`cache_dir/python3.X/venv`).
//! * `nodejs18.x` … `nodejs24.x`: `node <V8 memory flags> <prefix>/node_modules/aws-lambda-ric/index.mjs`,
//!   with the client built per runtime name (`cache_dir/nodejsNN.x`) against that exact `node`.
//!
//! Every other name AWS knows has a definition with [`Family::Unsupported`] and a reason.
//!
//! Interpreters are looked up, per runtime name, in this order:
//! 1. the operator's override for the name (`RuntimeConfig::interpreters["python3.12"]`);
//! 2. the host's `PATH`: `python3.X` for Python; `nodeNN`, then `node`, for Node — a `node` whose major
//!    version is not NN is *not* used (a nodejs22.x function does not silently run on Node 20);
//! 3. the operator's fallback for the family, only if configured: `interpreters["python3.*"]`,
//!    `interpreters["nodejs*.x"]` — used whatever its version (with a warning when it differs).
//!
//! A client is "installed" when its stamp file (`cache_dir/<name>/installed.json`) names the pinned
//! client version and the interpreter that the lookup above resolves to now; otherwise [`launch`]
//! answers [`RuntimeError::ClientMissing`] and [`install`] (idempotent, serialised by a lock file)
//! builds it again from scratch. [`launch_or_install`] does both.
//!
//! The engine starts `Launch::program` with `Launch::args`, the working directory set to the task root,
//! and the reserved variables of a Lambda environment plus `Launch::env` (which only holds what a
//! runtime's bootstrap script would add).

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The official Python runtime interface client, and the exact set installed with it (wheels only).
pub const PYTHON_CLIENT: &str = "awslambdaric";
pub const PYTHON_CLIENT_VERSION: &str = "4.2.2";
const PYTHON_REQUIREMENTS: &[&str] = &[
    "awslambdaric==4.2.2",
    "simplejson==4.3.0",
    "snapshot-restore-py==1.0.0",
    // AWS's Python runtimes ship the AWS SDK; functions written for them import boto3 without bundling it.
    "boto3==1.44.8",
    "botocore==1.44.8",
];

/// The official Node.js runtime interface client (built from source by its install scripts).
pub const NODE_CLIENT: &str = "aws-lambda-ric";
pub const NODE_CLIENT_VERSION: &str = "4.0.2";
/// What `aws-lambda-ric` 4.0.2 declares (`engines.node`)…
const NODE_CLIENT_DECLARED_MAJOR: u32 = 22;
/// …and the oldest Node.js it has been seen to build and serve invocations on.
const NODE_CLIENT_TESTED_MAJOR: u32 = 20;

/// Key of `RuntimeConfig::interpreters` naming a Python used for any `python3.X` without its own.
pub const PYTHON_FALLBACK_KEY: &str = "python3.*";
/// Key of `RuntimeConfig::interpreters` naming a `node` used for any `nodejsNN.x` without its own.
pub const NODE_FALLBACK_KEY: &str = "nodejs*.x";

const STAMP_FILE: &str = "installed.json";
const INSTALL_LOG: &str = "install.log";
const PIP_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const NPM_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// A lock older than this is taken over even if its holder's pid seems alive (pid reuse).
const LOCK_STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// How a runtime is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Custom runtime: the function's (or a layer's) `bootstrap`.
    Provided,
    /// `python3.X` with `awslambdaric`.
    Python,
    /// `nodejsNN.x` with `aws-lambda-ric`.
    Node,
    /// A name AWS knows that Lamina does not run (Java, .NET, Ruby, Go 1.x, old Python/Node).
    Unsupported,
}

/// One runtime name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeDef {
    /// The runtime identifier, as in `CreateFunction`'s `Runtime`.
    pub name: &'static str,
    pub family: Family,
    /// Language version: `"3.12"` for python3.12, `"20"` for nodejs20.x, `"al2023"` for
    /// provided.al2023, `""` for provided; the language's own version string otherwise.
    pub version: &'static str,
    /// `"provided"`, `"python"`, `"nodejs"`, `"java"`, `"dotnet"`, `"ruby"`, `"go"`.
    pub language: &'static str,
}

impl RuntimeDef {
    /// Whether Lamina can run functions of this runtime (given an interpreter and client).
    pub fn runnable(&self) -> bool {
        self.family != Family::Unsupported
    }

    /// `AWS_EXECUTION_ENV` as AWS's bootstrap scripts export it; none for custom runtimes.
    pub fn execution_env(&self) -> Option<String> {
        match self.family {
            Family::Python | Family::Node => Some(format!("AWS_Lambda_{}", self.name)),
            Family::Provided | Family::Unsupported => None,
        }
    }

    /// Why this runtime cannot run on Lamina, for [`Family::Unsupported`].
    pub fn unsupported_reason(&self) -> Option<String> {
        if self.runnable() {
            return None;
        }
        Some(match self.language {
            "python" => format!(
                "{PYTHON_CLIENT} {PYTHON_CLIENT_VERSION} needs Python 3.10 or later; Lamina runs python3.10 to python3.14"
            ),
            "nodejs" => "Lamina runs nodejs18.x to nodejs24.x".to_string(),
            other => format!(
                "Lamina has no managed {other} runtime; package the function as a custom runtime \
                 (provided.al2023) with its own bootstrap"
            ),
        })
    }
}

const fn def(
    name: &'static str,
    family: Family,
    version: &'static str,
    language: &'static str,
) -> RuntimeDef {
    RuntimeDef {
        name,
        family,
        version,
        language,
    }
}

use Family::{Node, Provided, Python, Unsupported};

/// Every runtime identifier in Lambda's service model.
static RUNTIMES: &[RuntimeDef] = &[
    def("provided", Provided, "", "provided"),
    def("provided.al2", Provided, "al2", "provided"),
    def("provided.al2023", Provided, "al2023", "provided"),
    def("python2.7", Unsupported, "2.7", "python"),
    def("python3.6", Unsupported, "3.6", "python"),
    def("python3.7", Unsupported, "3.7", "python"),
    def("python3.8", Unsupported, "3.8", "python"),
    def("python3.9", Unsupported, "3.9", "python"),
    def("python3.10", Python, "3.10", "python"),
    def("python3.11", Python, "3.11", "python"),
    def("python3.12", Python, "3.12", "python"),
    def("python3.13", Python, "3.13", "python"),
    def("python3.14", Python, "3.14", "python"),
    def("nodejs", Unsupported, "0.10", "nodejs"),
    def("nodejs4.3", Unsupported, "4", "nodejs"),
    def("nodejs4.3-edge", Unsupported, "4", "nodejs"),
    def("nodejs6.10", Unsupported, "6", "nodejs"),
    def("nodejs8.10", Unsupported, "8", "nodejs"),
    def("nodejs10.x", Unsupported, "10", "nodejs"),
    def("nodejs12.x", Unsupported, "12", "nodejs"),
    def("nodejs14.x", Unsupported, "14", "nodejs"),
    def("nodejs16.x", Unsupported, "16", "nodejs"),
    def("nodejs18.x", Node, "18", "nodejs"),
    def("nodejs20.x", Node, "20", "nodejs"),
    def("nodejs22.x", Node, "22", "nodejs"),
    def("nodejs24.x", Node, "24", "nodejs"),
    def("java8", Unsupported, "8", "java"),
    def("java8.al2", Unsupported, "8", "java"),
    def("java11", Unsupported, "11", "java"),
    def("java17", Unsupported, "17", "java"),
    def("java21", Unsupported, "21", "java"),
    def("java25", Unsupported, "25", "java"),
    def("dotnetcore1.0", Unsupported, "1.0", "dotnet"),
    def("dotnetcore2.0", Unsupported, "2.0", "dotnet"),
    def("dotnetcore2.1", Unsupported, "2.1", "dotnet"),
    def("dotnetcore3.1", Unsupported, "3.1", "dotnet"),
    def("dotnet6", Unsupported, "6", "dotnet"),
    def("dotnet8", Unsupported, "8", "dotnet"),
    def("dotnet10", Unsupported, "10", "dotnet"),
    def("go1.x", Unsupported, "1", "go"),
    def("ruby2.5", Unsupported, "2.5", "ruby"),
    def("ruby2.7", Unsupported, "2.7", "ruby"),
    def("ruby3.2", Unsupported, "3.2", "ruby"),
    def("ruby3.3", Unsupported, "3.3", "ruby"),
    def("ruby3.4", Unsupported, "3.4", "ruby"),
    def("ruby4.0", Unsupported, "4.0", "ruby"),
];

/// The definition of a runtime identifier (exact, case-sensitive, as AWS compares them).
pub fn definition(name: &str) -> Option<&'static RuntimeDef> {
    RUNTIMES.iter().find(|d| d.name == name)
}

/// Every runtime identifier AWS's model knows, runnable or not.
pub fn all() -> &'static [RuntimeDef] {
    RUNTIMES
}

/// The runtimes Lamina can run.
pub fn runnable() -> impl Iterator<Item = &'static RuntimeDef> {
    RUNTIMES.iter().filter(|d| d.runnable())
}

/// Where runtime clients are cached and which interpreters the operator chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Cache of installed clients, e.g. `DATA_DIR/runtimes`; one directory per runtime name.
    pub cache_dir: PathBuf,
    /// Operator overrides: a runtime name (`"python3.12"` → `/opt/py312/bin/python3`), or a family
    /// fallback ([`PYTHON_FALLBACK_KEY`], [`NODE_FALLBACK_KEY`]).
    pub interpreters: BTreeMap<String, PathBuf>,
}

impl RuntimeConfig {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            cache_dir: cache_dir.into(),
            interpreters: BTreeMap::new(),
        }
    }
}

/// How to start a runtime process. The working directory is the task root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Runtime-specific variables, added to the reserved ones the engine sets.
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Not a runtime name, or one Lamina does not run.
    #[error("runtime {runtime} is not supported: {reason}")]
    Unsupported { runtime: String, reason: String },
    /// provided.*: no bootstrap in the task root nor in the layers. Maps to `Runtime.InvalidEntrypoint`
    /// "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".
    #[error("Couldn't find valid bootstrap(s): [{}]", display_paths(.looked_for))]
    BootstrapNotFound {
        runtime: String,
        looked_for: Vec<PathBuf>,
    },
    #[error("no interpreter for runtime {runtime} on this host (looked for: {}); {hint}", .looked_for.join("; "))]
    InterpreterMissing {
        runtime: String,
        looked_for: Vec<String>,
        hint: String,
    },
    #[error("the runtime client for {runtime} is not installed: {hint}")]
    ClientMissing { runtime: String, hint: String },
    #[error("installing the runtime client for {runtime} failed: {detail}")]
    InstallFailed { runtime: String, detail: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> RuntimeError {
    let context = context.into();
    move |source| RuntimeError::Io { context, source }
}

/// An interpreter found for a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterpreterInfo {
    pub path: PathBuf,
    /// `"3.11.2"`, `"v20.20.2"`.
    pub version: String,
    /// `"override"`, `"PATH"` or `"fallback"`.
    pub source: &'static str,
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallReport {
    pub runtime: String,
    pub family: Family,
    /// `"awslambdaric 4.2.2"`, `"aws-lambda-ric 4.0.2"`; none for custom runtimes.
    pub client: Option<String>,
    pub interpreter: Option<InterpreterInfo>,
    /// Where the client lives (`cache_dir/<runtime>`).
    pub dir: Option<PathBuf>,
    /// True when nothing had to be done.
    pub already_installed: bool,
    pub duration_ms: u64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InterpreterStatus {
    /// Custom runtimes bring their own.
    NotNeeded,
    Found(InterpreterInfo),
    Missing {
        looked_for: Vec<String>,
        hint: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClientStatus {
    NotNeeded,
    Installed {
        client: String,
        dir: PathBuf,
    },
    /// Not installed, or installed for another interpreter or client version.
    NotInstalled {
        hint: String,
    },
}

/// One line of `lamina runtimes list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeStatus {
    pub name: &'static str,
    pub family: Family,
    pub version: &'static str,
    pub interpreter: InterpreterStatus,
    pub client: ClientStatus,
    /// Functions of this runtime can start now (the client would be installed on first use otherwise).
    pub ready: bool,
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------------------------------
// Public entry points

/// How to start `name`'s runtime for a function whose code is in `task_root` and layers in `opt_dir`.
/// Cheap: no subprocess except a cached `node --version` the first time a `node` is seen.
pub fn launch(
    name: &str,
    cfg: &RuntimeConfig,
    task_root: &Path,
    opt_dir: &Path,
    handler: &str,
    memory_mb: u32,
) -> Result<Launch, RuntimeError> {
    launch_with(
        name,
        cfg,
        task_root,
        opt_dir,
        handler,
        memory_mb,
        &HostPath::process(),
    )
}

/// [`launch`], installing the client first when it is missing (blocking: minutes for Node).
pub fn launch_or_install(
    name: &str,
    cfg: &RuntimeConfig,
    task_root: &Path,
    opt_dir: &Path,
    handler: &str,
    memory_mb: u32,
) -> Result<Launch, RuntimeError> {
    match launch(name, cfg, task_root, opt_dir, handler, memory_mb) {
        Err(RuntimeError::ClientMissing { .. }) => {
            install(name, cfg)?;
            launch(name, cfg, task_root, opt_dir, handler, memory_mb)
        }
        other => other,
    }
}

/// Installs the runtime client for `name` into `cfg.cache_dir/<name>`. Blocking, idempotent, and safe
/// to call concurrently (from threads or processes): one installs, the others wait and find it done.
pub fn install(name: &str, cfg: &RuntimeConfig) -> Result<InstallReport, RuntimeError> {
    install_with(name, cfg, &HostPath::process())
}

/// Status of every runnable runtime on this host.
pub fn list(cfg: &RuntimeConfig) -> Vec<RuntimeStatus> {
    list_with(cfg, &HostPath::process())
}

// ---------------------------------------------------------------------------------------------------
// Lookup on PATH (the search path is a parameter so tests need not touch the process environment)

struct HostPath {
    path: Option<OsString>,
}

impl HostPath {
    fn process() -> Self {
        HostPath {
            path: std::env::var_os("PATH"),
        }
    }

    fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.path.as_deref()?;
        std::env::split_paths(path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable_file(candidate))
    }
}

fn is_executable_file(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn lookup_def(name: &str) -> Result<&'static RuntimeDef, RuntimeError> {
    let def = definition(name).ok_or_else(|| RuntimeError::Unsupported {
        runtime: name.to_string(),
        reason: "not a Lambda runtime identifier".to_string(),
    })?;
    match def.unsupported_reason() {
        Some(reason) => Err(RuntimeError::Unsupported {
            runtime: name.to_string(),
            reason,
        }),
        None => Ok(def),
    }
}

// ---------------------------------------------------------------------------------------------------
// Interpreters

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Override,
    Path,
    Fallback,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::Path => "PATH",
            Source::Fallback => "fallback",
        }
    }
}

#[derive(Debug, Clone)]
struct Interpreter {
    path: PathBuf,
    source: Source,
    /// Known when the lookup had to probe it (node on PATH).
    version: Option<String>,
}

fn missing_hint(def: &RuntimeDef) -> String {
    match def.family {
        Family::Python => format!(
            "install Python {v} so that `python{v}` is on PATH, or run \
             `lamina runtimes install {n} --interpreter /path/to/python{v}`",
            v = def.version,
            n = def.name
        ),
        _ => format!(
            "install Node.js {v} (as `node` or `node{v}` on PATH), or run \
             `lamina runtimes install {n} --interpreter /path/to/node`",
            v = def.version,
            n = def.name
        ),
    }
}

fn resolve_interpreter(
    def: &RuntimeDef,
    cfg: &RuntimeConfig,
    host: &HostPath,
) -> Result<Interpreter, RuntimeError> {
    let mut looked_for = Vec::new();
    let missing = |looked_for: Vec<String>| RuntimeError::InterpreterMissing {
        runtime: def.name.to_string(),
        looked_for,
        hint: missing_hint(def),
    };

    // 1. The operator's override for this very name: used, or an error — never skipped silently.
    if let Some(path) = cfg.interpreters.get(def.name) {
        if is_executable_file(path) {
            return Ok(Interpreter {
                path: path.clone(),
                source: Source::Override,
                version: None,
            });
        }
        looked_for.push(format!(
            "configured interpreter for {}: {} (not an executable file)",
            def.name,
            path.display()
        ));
        return Err(missing(looked_for));
    }
    looked_for.push(format!("no interpreter configured for {}", def.name));

    // 2. PATH, with the exact version.
    match def.family {
        Family::Python => {
            let program = format!("python{}", def.version);
            if let Some(path) = host.which(&program) {
                return Ok(Interpreter {
                    path,
                    source: Source::Path,
                    version: None,
                });
            }
            looked_for.push(format!("`{program}` on PATH (not found)"));
        }
        Family::Node => {
            let want: u32 = def.version.parse().unwrap_or(0);
            for program in [format!("node{}", def.version), "node".to_string()] {
                let Some(path) = host.which(&program) else {
                    looked_for.push(format!("`{program}` on PATH (not found)"));
                    continue;
                };
                match probe_node(&path) {
                    Ok(version) if node_major(&version) == Some(want) => {
                        return Ok(Interpreter {
                            path,
                            source: Source::Path,
                            version: Some(version),
                        })
                    }
                    Ok(version) => looked_for.push(format!(
                        "`{program}` on PATH ({} is Node.js {version}, not {want})",
                        path.display()
                    )),
                    Err(e) => looked_for.push(format!(
                        "`{program}` on PATH ({} did not report a version: {e})",
                        path.display()
                    )),
                }
            }
        }
        Family::Provided | Family::Unsupported => {}
    }

    // 3. The family fallback, only if the operator configured one.
    let key = if def.family == Family::Python {
        PYTHON_FALLBACK_KEY
    } else {
        NODE_FALLBACK_KEY
    };
    match cfg.interpreters.get(key) {
        Some(path) if is_executable_file(path) => Ok(Interpreter {
            path: path.clone(),
            source: Source::Fallback,
            version: None,
        }),
        Some(path) => {
            looked_for.push(format!(
                "fallback {key}: {} (not an executable file)",
                path.display()
            ));
            Err(missing(looked_for))
        }
        None => {
            looked_for.push(format!("no fallback configured ({key})"));
            Err(missing(looked_for))
        }
    }
}

type ProbeKey = (PathBuf, Option<SystemTime>, u64);

fn probe_cache() -> &'static Mutex<HashMap<ProbeKey, String>> {
    static CACHE: OnceLock<Mutex<HashMap<ProbeKey, String>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Runs `program args…` once per (path, mtime, size) and returns its trimmed stdout.
fn probe_cached(program: &Path, args: &[&str]) -> Result<String, String> {
    let meta = fs::metadata(program).map_err(|e| e.to_string())?;
    let key = (program.to_path_buf(), meta.modified().ok(), meta.len());
    if let Some(v) = probe_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(v.clone());
    }
    let mut cmd = Command::new(program);
    cmd.args(args);
    let (status, out) = run_captured(&mut cmd, PROBE_TIMEOUT).map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let v = out.trim().to_string();
    if v.is_empty() {
        return Err("printed nothing".to_string());
    }
    probe_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, v.clone());
    Ok(v)
}

/// `"3.11.2"`
fn probe_python(path: &Path) -> Result<String, String> {
    probe_cached(
        path,
        &[
            "-I",
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3])",
        ],
    )
}

/// `"v20.20.2"`
fn probe_node(path: &Path) -> Result<String, String> {
    probe_cached(path, &["--version"])
}

fn node_major(version: &str) -> Option<u32> {
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// `"3.11.2"` → `"3.11"`
fn major_minor(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((i, _)) => &version[..i],
        None => version,
    }
}

fn interpreter_info(def: &RuntimeDef, interp: &Interpreter) -> Result<InterpreterInfo, String> {
    let version = match (&interp.version, def.family) {
        (Some(v), _) => v.clone(),
        (None, Family::Python) => probe_python(&interp.path)?,
        (None, _) => probe_node(&interp.path)?,
    };
    Ok(InterpreterInfo {
        path: interp.path.clone(),
        version,
        source: interp.source.label(),
    })
}

/// Checks the interpreter's version against the runtime: `Err` when it cannot be used at all,
/// warnings when the operator chose an interpreter of another version.
fn check_version(def: &RuntimeDef, info: &InterpreterInfo) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    match def.family {
        Family::Python => {
            let have = major_minor(&info.version);
            let (major, minor) = have.split_once('.').unwrap_or((have, "0"));
            let (major, minor): (u32, u32) =
                (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
            if (major, minor) < (3, 10) {
                return Err(format!(
                    "{} is Python {}; {PYTHON_CLIENT} {PYTHON_CLIENT_VERSION} needs Python 3.10 or later",
                    info.path.display(),
                    info.version
                ));
            }
            if have != def.version {
                if info.source == Source::Path.label() {
                    return Err(format!(
                        "{} reports Python {}, not {}",
                        info.path.display(),
                        info.version,
                        def.version
                    ));
                }
                warnings.push(format!(
                    "{} functions will run on Python {} ({}, configured as {})",
                    def.name,
                    info.version,
                    info.path.display(),
                    info.source
                ));
            }
        }
        Family::Node => {
            let major = node_major(&info.version).unwrap_or(0);
            if major.to_string() != def.version {
                warnings.push(format!(
                    "{} functions will run on Node.js {} ({}, configured as {})",
                    def.name,
                    info.version,
                    info.path.display(),
                    info.source
                ));
            }
            if major < NODE_CLIENT_TESTED_MAJOR {
                warnings.push(format!(
                    "{NODE_CLIENT} {NODE_CLIENT_VERSION} declares node >= {NODE_CLIENT_DECLARED_MAJOR} \
                     and was not tried on Node.js {}",
                    info.version
                ));
            } else if major < NODE_CLIENT_DECLARED_MAJOR {
                warnings.push(format!(
                    "{NODE_CLIENT} {NODE_CLIENT_VERSION} declares node >= {NODE_CLIENT_DECLARED_MAJOR}; \
                     it builds and runs on Node.js {}",
                    info.version
                ));
            }
        }
        Family::Provided | Family::Unsupported => {}
    }
    Ok(warnings)
}

// ---------------------------------------------------------------------------------------------------
// Stamp: what is installed in cache_dir/<name>

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
struct Stamp {
    client: String,
    client_version: String,
    interpreter: PathBuf,
    interpreter_version: String,
    installed_at: u64,
    /// Everything installed with the client (a changed list means reinstall).
    #[serde(default)]
    bundle: Vec<String>,
}

/// What is installed beside each family's client.
fn bundle(family: Family) -> Vec<String> {
    match family {
        Family::Python => PYTHON_REQUIREMENTS.iter().map(|s| s.to_string()).collect(),
        Family::Node => vec![format!("{NODE_CLIENT}@{NODE_CLIENT_VERSION}")],
        _ => Vec::new(),
    }
}

fn client_pin(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::Node => (NODE_CLIENT, NODE_CLIENT_VERSION),
        _ => (PYTHON_CLIENT, PYTHON_CLIENT_VERSION),
    }
}

fn runtime_dir(cfg: &RuntimeConfig, def: &RuntimeDef) -> PathBuf {
    cfg.cache_dir.join(def.name)
}

fn read_stamp(dir: &Path) -> Option<Stamp> {
    let text = fs::read_to_string(dir.join(STAMP_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_stamp(dir: &Path, stamp: &Stamp) -> io::Result<()> {
    let tmp = dir.join(format!("{STAMP_FILE}.tmp"));
    let text = serde_json::to_string_pretty(stamp).map_err(io::Error::other)?;
    fs::write(&tmp, text + "\n")?;
    fs::rename(&tmp, dir.join(STAMP_FILE))
}

/// `Ok(())` when the client in `dir` was installed for this interpreter and is the pinned version.
fn check_stamp(def: &RuntimeDef, dir: &Path, interp: &Interpreter) -> Result<(), String> {
    let (client, version) = client_pin(def.family);
    let install_cmd = format!("run `lamina runtimes install {}`", def.name);
    let Some(stamp) = read_stamp(dir) else {
        return Err(format!("{client} is not installed; {install_cmd}"));
    };
    if stamp.client != client
        || stamp.client_version != version
        || stamp.bundle != bundle(def.family)
    {
        return Err(format!(
            "{} {} is installed but Lamina uses {client} {version}; {install_cmd}",
            stamp.client, stamp.client_version
        ));
    }
    if stamp.interpreter != interp.path {
        return Err(format!(
            "{client} was installed for {}, but {} now resolves to {}; {install_cmd}",
            stamp.interpreter.display(),
            def.name,
            interp.path.display()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Launch

fn launch_with(
    name: &str,
    cfg: &RuntimeConfig,
    task_root: &Path,
    opt_dir: &Path,
    handler: &str,
    memory_mb: u32,
    host: &HostPath,
) -> Result<Launch, RuntimeError> {
    let def = lookup_def(name)?;
    match def.family {
        Family::Provided => launch_provided(def, task_root, opt_dir),
        Family::Python => {
            let interp = resolve_interpreter(def, cfg, host)?;
            let dir = runtime_dir(cfg, def);
            check_stamp(def, &dir, &interp).map_err(|hint| RuntimeError::ClientMissing {
                runtime: name.to_string(),
                hint,
            })?;
            Ok(python_launch(def, &dir, task_root, opt_dir, handler))
        }
        Family::Node => {
            let interp = resolve_interpreter(def, cfg, host)?;
            let dir = runtime_dir(cfg, def);
            check_stamp(def, &dir, &interp).map_err(|hint| RuntimeError::ClientMissing {
                runtime: name.to_string(),
                hint,
            })?;
            Ok(node_launch(
                def,
                &interp.path,
                &dir,
                task_root,
                opt_dir,
                memory_mb,
            ))
        }
        Family::Unsupported => unreachable!("lookup_def rejects unsupported runtimes"),
    }
}

fn launch_provided(
    def: &RuntimeDef,
    task_root: &Path,
    opt_dir: &Path,
) -> Result<Launch, RuntimeError> {
    let candidates = [task_root.join("bootstrap"), opt_dir.join("bootstrap")];
    for candidate in &candidates {
        // Present as anything but a directory; a dangling symlink counts (its exec error is the answer).
        let present = match fs::metadata(candidate) {
            Ok(m) => !m.is_dir(),
            Err(_) => fs::symlink_metadata(candidate).is_ok(),
        };
        if present {
            return Ok(Launch {
                program: candidate.clone(),
                args: Vec::new(),
                env: Vec::new(),
            });
        }
    }
    Err(RuntimeError::BootstrapNotFound {
        runtime: def.name.to_string(),
        looked_for: candidates.to_vec(),
    })
}

fn venv_python(dir: &Path) -> PathBuf {
    dir.join("venv").join("bin").join("python3")
}

fn python_launch(
    def: &RuntimeDef,
    dir: &Path,
    task_root: &Path,
    opt_dir: &Path,
    handler: &str,
) -> Launch {
    // What AWS's bootstrap.py puts first on sys.path, in this order.
    let python_path = [
        task_root.to_path_buf(),
        opt_dir
            .join("python")
            .join("lib")
            .join(format!("python{}", def.version))
            .join("site-packages"),
        opt_dir.join("python"),
    ];
    Launch {
        program: venv_python(dir),
        args: vec!["-m".into(), "awslambdaric".into(), handler.to_string()],
        env: vec![
            (
                "AWS_EXECUTION_ENV".into(),
                def.execution_env().unwrap_or_default(),
            ),
            ("PYTHONPATH".into(), join_paths(&python_path)),
        ],
    }
}

fn node_client_entry(dir: &Path) -> PathBuf {
    dir.join("node_modules").join(NODE_CLIENT).join("index.mjs")
}

fn node_addon(dir: &Path) -> PathBuf {
    dir.join("node_modules")
        .join(NODE_CLIENT)
        .join("rapid-client.node")
}

/// V8 flags AWS's Node bootstrap derives from the memory size M (MB).
fn node_memory_flags(memory_mb: u32) -> [String; 2] {
    [
        format!("--max-semi-space-size={}", memory_mb / 20),
        format!("--max-old-space-size={}", memory_mb - memory_mb / 10),
    ]
}

fn node_launch(
    def: &RuntimeDef,
    node: &Path,
    dir: &Path,
    task_root: &Path,
    opt_dir: &Path,
    memory_mb: u32,
) -> Launch {
    let node_path = [
        opt_dir
            .join("nodejs")
            .join(format!("node{}", def.version))
            .join("node_modules"),
        opt_dir.join("nodejs").join("node_modules"),
        task_root.to_path_buf(),
    ];
    let [semi, old] = node_memory_flags(memory_mb);
    Launch {
        program: node.to_path_buf(),
        args: vec![
            "--expose-gc".into(),
            "--max-http-header-size".into(),
            "81920".into(),
            semi,
            old,
            node_client_entry(dir).to_string_lossy().into_owned(),
        ],
        env: vec![
            (
                "AWS_EXECUTION_ENV".into(),
                def.execution_env().unwrap_or_default(),
            ),
            ("NODE_PATH".into(), join_paths(&node_path)),
        ],
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

// ---------------------------------------------------------------------------------------------------
// Install

fn install_with(
    name: &str,
    cfg: &RuntimeConfig,
    host: &HostPath,
) -> Result<InstallReport, RuntimeError> {
    let started = Instant::now();
    let def = lookup_def(name)?;
    if def.family == Family::Provided {
        return Ok(InstallReport {
            runtime: name.to_string(),
            family: def.family,
            client: None,
            interpreter: None,
            dir: None,
            already_installed: true,
            duration_ms: 0,
            warnings: Vec::new(),
        });
    }
    let failed = |detail: String| RuntimeError::InstallFailed {
        runtime: name.to_string(),
        detail,
    };

    let interp = resolve_interpreter(def, cfg, host)?;
    let info = interpreter_info(def, &interp).map_err(|e| {
        failed(format!(
            "{} did not report its version: {e}",
            interp.path.display()
        ))
    })?;
    let warnings = check_version(def, &info).map_err(&failed)?;

    fs::create_dir_all(&cfg.cache_dir)
        .map_err(io_err(format!("creating {}", cfg.cache_dir.display())))?;
    let dir = runtime_dir(cfg, def);
    let (client, client_version) = client_pin(def.family);
    let report = |already_installed: bool, warnings: Vec<String>| InstallReport {
        runtime: name.to_string(),
        family: def.family,
        client: Some(format!("{client} {client_version}")),
        interpreter: Some(info.clone()),
        dir: Some(dir.clone()),
        already_installed,
        duration_ms: started.elapsed().as_millis() as u64,
        warnings,
    };

    if check_stamp(def, &dir, &interp).is_ok() {
        return Ok(report(true, warnings));
    }
    let timeout = if def.family == Family::Node {
        NPM_TIMEOUT
    } else {
        PIP_TIMEOUT
    };
    let _lock = InstallLock::acquire(
        &cfg.cache_dir.join(format!("{name}.lock")),
        timeout + Duration::from_secs(60),
    )
    .map_err(&failed)?;
    // Someone else may have finished while we waited.
    if check_stamp(def, &dir, &interp).is_ok() {
        return Ok(report(true, warnings));
    }

    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io_err(format!("removing {}", dir.display())))?;
    }
    fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    tracing::info!(runtime = name, interpreter = %info.path.display(), "installing {client} {client_version}");

    match def.family {
        Family::Python => install_python(def, cfg, &interp, &dir).map_err(&failed)?,
        Family::Node => install_node(def, cfg, &interp, &dir, host).map_err(&failed)?,
        Family::Provided | Family::Unsupported => unreachable!(),
    }

    let stamp = Stamp {
        client: client.to_string(),
        client_version: client_version.to_string(),
        interpreter: interp.path.clone(),
        interpreter_version: info.version.clone(),
        installed_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        bundle: bundle(def.family),
    };
    write_stamp(&dir, &stamp).map_err(io_err(format!("writing the stamp in {}", dir.display())))?;
    tracing::info!(
        runtime = name,
        ms = started.elapsed().as_millis() as u64,
        "installed {client} {client_version}"
    );
    Ok(report(false, warnings))
}

/// Where pip/npm keep their caches when the service runs without a HOME.
fn tool_cache_env(cmd: &mut Command, cfg: &RuntimeConfig) {
    if std::env::var_os("HOME").is_none() {
        cmd.env("PIP_CACHE_DIR", cfg.cache_dir.join(".cache").join("pip"));
        cmd.env("npm_config_cache", cfg.cache_dir.join(".cache").join("npm"));
    }
}

fn install_python(
    def: &RuntimeDef,
    cfg: &RuntimeConfig,
    interp: &Interpreter,
    dir: &Path,
) -> Result<(), String> {
    let log = dir.join(INSTALL_LOG);
    let venv = dir.join("venv");

    let mut cmd = Command::new(&interp.path);
    cmd.arg("-m").arg("venv").arg(&venv);
    run_logged(&mut cmd, &log, PIP_TIMEOUT).map_err(|e| {
        if e.contains("ensurepip") {
            format!(
                "{e}\nthe interpreter has no venv/ensurepip module: install it \
                 (Debian: apt-get install python{}-venv)",
                def.version
            )
        } else {
            e
        }
    })?;

    let python = venv_python(dir);
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--only-binary=:all:",
    ])
    .args(PYTHON_REQUIREMENTS)
    .env("PIP_NO_INPUT", "1");
    tool_cache_env(&mut cmd, cfg);
    run_logged(&mut cmd, &log, PIP_TIMEOUT)?;

    // The client must import, and be the pinned version.
    let mut cmd = Command::new(&python);
    cmd.args([
        "-c",
        "import awslambdaric, importlib.metadata as m; print(m.version('awslambdaric'))",
    ]);
    let (status, out) = run_captured(&mut cmd, PROBE_TIMEOUT).map_err(|e| e.to_string())?;
    let got = out.trim();
    if !status.success() || got != PYTHON_CLIENT_VERSION {
        return Err(format!(
            "{PYTHON_CLIENT} does not import from {} ({status}, version {got:?})",
            venv.display()
        ));
    }
    Ok(())
}

/// Tools `aws-lambda-ric`'s install scripts run, with the Debian package that provides each.
const NODE_BUILD_TOOLS: &[(&[&str], &str)] = &[
    (&["cmake", "cmake3"], "cmake"),
    (&["make"], "make"),
    (&["c++", "g++"], "g++"),
    (&["cc", "gcc"], "gcc"),
    (&["python3"], "python3"),
    (&["tar"], "tar"),
    (&["xz"], "xz-utils"),
];

fn install_node(
    def: &RuntimeDef,
    cfg: &RuntimeConfig,
    interp: &Interpreter,
    dir: &Path,
    host: &HostPath,
) -> Result<(), String> {
    let missing: Vec<&str> = NODE_BUILD_TOOLS
        .iter()
        .filter(|(programs, _)| programs.iter().all(|p| host.which(p).is_none()))
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{NODE_CLIENT} builds a native addon and needs build tools that are not on PATH \
             (Debian: apt-get install {})",
            missing.join(" ")
        ));
    }

    // npm next to this node (so the scripts run under the same node), else on PATH.
    let node_real = fs::canonicalize(&interp.path).unwrap_or_else(|_| interp.path.clone());
    let node_bin_dir = node_real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let npm = [interp.path.parent(), Some(node_bin_dir.as_path())]
        .into_iter()
        .flatten()
        .map(|d| d.join("npm"))
        .find(|p| is_executable_file(p))
        .or_else(|| host.which("npm"))
        .ok_or_else(|| {
            format!(
                "npm not found next to {} nor on PATH",
                interp.path.display()
            )
        })?;

    let package_json = serde_json::json!({
        "name": format!("lamina-runtime-{}", def.name.replace('.', "-")),
        "private": true,
        "description": "Runtime interface client installed by Lamina",
        "dependencies": { NODE_CLIENT: NODE_CLIENT_VERSION },
    });
    fs::write(dir.join("package.json"), format!("{package_json:#}\n"))
        .map_err(|e| format!("writing package.json: {e}"))?;

    let mut path = OsString::from(node_bin_dir.as_os_str());
    if let Some(rest) = host.path.as_deref() {
        path.push(":");
        path.push(rest);
    }
    let mut cmd = Command::new(&npm);
    cmd.args([
        "install",
        "--no-audit",
        "--no-fund",
        "--foreground-scripts",
        "--omit=dev",
    ])
    .current_dir(dir)
    .env("PATH", &path)
    .env("npm_config_update_notifier", "false");
    // node-gyp needs Node's headers; without local ones it downloads them, which fails offline.
    let prefix = node_bin_dir.parent().map(Path::to_path_buf);
    let headers = prefix
        .as_ref()
        .filter(|p| p.join("include").join("node").join("node.h").is_file());
    if let Some(prefix) = headers {
        cmd.env("npm_config_nodedir", prefix);
    }
    tool_cache_env(&mut cmd, cfg);
    run_logged(&mut cmd, &dir.join(INSTALL_LOG), NPM_TIMEOUT).map_err(|e| {
        if headers.is_none() {
            format!(
                "{e}\nno Node.js headers next to {} (include/node/node.h): node-gyp tried to download them",
                interp.path.display()
            )
        } else {
            e
        }
    })?;

    // The addon must exist and load in this node.
    let addon = node_addon(dir);
    if !addon.is_file() || !node_client_entry(dir).is_file() {
        return Err(format!(
            "npm finished but {} or index.mjs is missing",
            addon.display()
        ));
    }
    // (The addon reads AWS_LAMBDA_RUNTIME_API when loaded and aborts without it; nothing connects.)
    let mut cmd = Command::new(&interp.path);
    cmd.args([
        "-e",
        "console.log(Object.keys(require(process.argv[1])).sort().join(','))",
    ])
    .arg(&addon)
    .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    let (status, out) = run_captured(&mut cmd, PROBE_TIMEOUT).map_err(|e| e.to_string())?;
    if !status.success() || out.trim() != "done,error,next" {
        return Err(format!(
            "{} does not load in {} ({status}): {}",
            addon.display(),
            interp.path.display(),
            out.trim()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Subprocesses

/// Runs `cmd` with stdout and stderr appended to `log`, stdin closed, killed after `timeout`.
/// On failure, the error carries the end of the log.
fn run_logged(cmd: &mut Command, log: &Path, timeout: Duration) -> Result<(), String> {
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let start = file.seek(SeekFrom::End(0)).unwrap_or(0);
    let shown = format!("{cmd:?}");
    let _ = writeln!(file, "$ {shown}");
    let err_file = file
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err_file));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} did not finish within {} s; see {}\n{}",
                    timeout.as_secs(),
                    log.display(),
                    log_tail(log, start)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for {shown}: {e}")),
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown} failed ({status}); end of {}:\n{}",
            log.display(),
            log_tail(log, start)
        ))
    }
}

/// The last lines written to `log` since byte `start`.
fn log_tail(log: &Path, start: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = fs::File::open(log) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let from = start.max(len.saturating_sub(4096));
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let mut bytes = Vec::new();
            let _ = f.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// Runs `cmd` to completion (killed after `timeout`) and returns its status and stdout + stderr.
fn run_captured(cmd: &mut Command, timeout: Duration) -> io::Result<(ExitStatus, String)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes on their own threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{cmd:?} did not finish within {} s", timeout.as_secs()),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() && !err.is_empty() {
        out.push_str(&err);
    }
    Ok((status, out))
}

// ---------------------------------------------------------------------------------------------------
// Install lock: a file created exclusively, holding the owner's pid; taken over when the owner is gone.

struct InstallLock {
    path: PathBuf,
}

impl InstallLock {
    fn acquire(path: &Path, timeout: Duration) -> Result<InstallLock, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(InstallLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if Self::is_stale(path) {
                        tracing::warn!(lock = %path.display(), "taking over a stale install lock");
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if Instant::now() >= deadline {
                        let holder = fs::read_to_string(path).unwrap_or_default();
                        return Err(format!(
                            "another install (pid {}) holds {} for longer than {} s",
                            holder.trim(),
                            path.display(),
                            timeout.as_secs()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("creating {}: {e}", path.display())),
            }
        }
    }

    fn is_stale(path: &Path) -> bool {
        let Ok(meta) = fs::metadata(path) else {
            return false; // gone already: the next create_new will tell
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if age > LOCK_STALE_AFTER {
            return true;
        }
        let holder = fs::read_to_string(path).unwrap_or_default();
        match holder.trim().parse::<u32>() {
            Ok(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
            // Being written right now, or garbage: stale only once it is not brand new.
            Err(_) => age > Duration::from_secs(10),
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------------
// List

fn list_with(cfg: &RuntimeConfig, host: &HostPath) -> Vec<RuntimeStatus> {
    runnable()
        .map(|def| {
            if def.family == Family::Provided {
                return RuntimeStatus {
                    name: def.name,
                    family: def.family,
                    version: def.version,
                    interpreter: InterpreterStatus::NotNeeded,
                    client: ClientStatus::NotNeeded,
                    ready: true,
                    warnings: Vec::new(),
                };
            }
            let dir = runtime_dir(cfg, def);
            let (client, client_version) = client_pin(def.family);
            let mut warnings = Vec::new();
            let (interpreter, client_status) = match resolve_interpreter(def, cfg, host) {
                Err(RuntimeError::InterpreterMissing {
                    looked_for, hint, ..
                }) => (
                    InterpreterStatus::Missing { looked_for, hint },
                    ClientStatus::NotInstalled {
                        hint: "needs an interpreter first".to_string(),
                    },
                ),
                Err(other) => (
                    InterpreterStatus::Missing {
                        looked_for: Vec::new(),
                        hint: other.to_string(),
                    },
                    ClientStatus::NotInstalled {
                        hint: "needs an interpreter first".to_string(),
                    },
                ),
                Ok(interp) => {
                    let interpreter = match interpreter_info(def, &interp) {
                        Ok(info) => {
                            match check_version(def, &info) {
                                Ok(w) => warnings.extend(w),
                                Err(e) => warnings.push(e),
                            }
                            InterpreterStatus::Found(info)
                        }
                        Err(e) => InterpreterStatus::Missing {
                            looked_for: vec![format!("{}: {e}", interp.path.display())],
                            hint: missing_hint(def),
                        },
                    };
                    let client_status = match check_stamp(def, &dir, &interp) {
                        Ok(()) => ClientStatus::Installed {
                            client: format!("{client} {client_version}"),
                            dir: dir.clone(),
                        },
                        Err(hint) => ClientStatus::NotInstalled { hint },
                    };
                    (interpreter, client_status)
                }
            };
            let ready = matches!(interpreter, InterpreterStatus::Found(_))
                && matches!(client_status, ClientStatus::Installed { .. });
            RuntimeStatus {
                name: def.name,
                family: def.family,
                version: def.version,
                interpreter,
                client: client_status,
                ready,
                warnings,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    //! Unit tests use fake interpreters (shell scripts) on a PATH of their own. The tests named
    //! `network_*` install the real clients from PyPI and npm and run the functions in
    //! `testdata/functions` through them; they are `#[ignore]`d (reported as ignored, never as passed) and
    //! run on request, failing on any problem:
    //! `cargo test -p lamina-engine runtimes::tests::network -- --ignored --nocapture`.
    //! `LAMINA_TEST_RUNTIME_CACHE=DIR` keeps the installed clients between runs.

    use super::*;
    use std::collections::VecDeque;
    use std::io::{BufRead, BufReader};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::sync::{Arc, Condvar};

    fn write_script(path: &Path, body: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn fake_path(dir: &Path) -> HostPath {
        HostPath {
            path: Some(dir.as_os_str().to_os_string()),
        }
    }

    fn cfg_in(dir: &Path) -> RuntimeConfig {
        RuntimeConfig::new(dir.join("cache"))
    }

    /// Marks `name`'s client as installed for `interpreter`, as `install` would.
    fn fake_stamp(cfg: &RuntimeConfig, name: &str, interpreter: &Path) {
        let def = definition(name).expect("def");
        let dir = runtime_dir(cfg, def);
        fs::create_dir_all(&dir).expect("mkdir");
        let (client, version) = client_pin(def.family);
        write_stamp(
            &dir,
            &Stamp {
                client: client.into(),
                client_version: version.into(),
                interpreter: interpreter.to_path_buf(),
                interpreter_version: "x".into(),
                installed_at: 0,
                bundle: bundle(def.family),
            },
        )
        .expect("stamp");
    }

    fn env_of(launch: &Launch, key: &str) -> Option<String> {
        launch
            .env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    // ------------------------------------------------------------------------------ definitions

    /// The names AWS accepted for CreateFunction on 2026-01-12 (lambda-surface §7.4).
    const AWS_ACCEPTED: &[&str] = &[
        "nodejs16.x",
        "nodejs18.x",
        "nodejs20.x",
        "nodejs22.x",
        "nodejs24.x",
        "python3.8",
        "python3.9",
        "python3.10",
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.14",
        "java8.al2",
        "java11",
        "java17",
        "java21",
        "java25",
        "dotnet6",
        "dotnet8",
        "dotnet10",
        "ruby3.2",
        "ruby3.3",
        "ruby3.4",
        "provided.al2",
        "provided.al2023",
    ];

    #[test]
    fn every_model_runtime_has_a_definition() {
        assert_eq!(all().len(), 46);
        for name in AWS_ACCEPTED {
            assert!(definition(name).is_some(), "{name}");
        }
        let mut names: Vec<_> = all().iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 46, "duplicate names");
        assert!(definition("PYTHON3.12").is_none());
        assert!(definition("python3.15").is_none());
        assert!(definition("").is_none());
    }

    #[test]
    fn runnable_set_and_versions() {
        let names: Vec<_> = runnable().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "provided",
                "provided.al2",
                "provided.al2023",
                "python3.10",
                "python3.11",
                "python3.12",
                "python3.13",
                "python3.14",
                "nodejs18.x",
                "nodejs20.x",
                "nodejs22.x",
                "nodejs24.x"
            ]
        );
        let py = definition("python3.12").expect("def");
        assert_eq!((py.family, py.version), (Family::Python, "3.12"));
        assert_eq!(py.execution_env().as_deref(), Some("AWS_Lambda_python3.12"));
        let node = definition("nodejs20.x").expect("def");
        assert_eq!((node.family, node.version), (Family::Node, "20"));
        assert_eq!(
            node.execution_env().as_deref(),
            Some("AWS_Lambda_nodejs20.x")
        );
        let custom = definition("provided.al2023").expect("def");
        assert_eq!(custom.family, Family::Provided);
        assert_eq!(custom.execution_env(), None);
        for d in all() {
            assert_eq!(d.runnable(), d.unsupported_reason().is_none(), "{}", d.name);
        }
        let java = definition("java21").expect("def");
        assert_eq!(java.family, Family::Unsupported);
        assert!(java
            .unsupported_reason()
            .expect("reason")
            .contains("provided.al2023"));
        assert!(definition("python3.9")
            .and_then(|d| d.unsupported_reason())
            .expect("reason")
            .contains("3.10"));
    }

    #[test]
    fn unsupported_and_unknown_runtimes_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let cfg = cfg_in(tmp.path());
        for name in ["java21", "python3.9", "nodejs16.x", "go1.x", "cobol"] {
            let err = launch(name, &cfg, tmp.path(), tmp.path(), "h", 128).expect_err(name);
            assert!(
                matches!(err, RuntimeError::Unsupported { ref runtime, .. } if runtime == name),
                "{err}"
            );
            let err = install(name, &cfg).expect_err(name);
            assert!(matches!(err, RuntimeError::Unsupported { .. }), "{err}");
        }
    }

    // ------------------------------------------------------------------------------ provided

    #[test]
    fn provided_prefers_task_root_then_opt() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (task, opt) = (tmp.path().join("task"), tmp.path().join("opt"));
        let cfg = cfg_in(tmp.path());
        write_script(&opt.join("bootstrap"), "exit 0");
        let l = launch("provided.al2023", &cfg, &task, &opt, "ignored", 128).expect("opt");
        assert_eq!(l.program, opt.join("bootstrap"));
        assert!(l.args.is_empty() && l.env.is_empty());

        write_script(&task.join("bootstrap"), "exit 0");
        for name in ["provided", "provided.al2", "provided.al2023"] {
            let l = launch(name, &cfg, &task, &opt, "ignored", 128).expect("task");
            assert_eq!(l.program, task.join("bootstrap"));
        }
        // Nothing to install for custom runtimes.
        let report = install("provided.al2", &cfg).expect("install");
        assert!(report.already_installed && report.client.is_none());
    }

    #[test]
    fn provided_without_bootstrap_names_both_paths() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (task, opt) = (tmp.path().join("task"), tmp.path().join("opt"));
        fs::create_dir_all(task.join("bootstrap")).expect("a directory is not a bootstrap");
        let err = launch(
            "provided.al2023",
            &cfg_in(tmp.path()),
            &task,
            &opt,
            "h",
            128,
        )
        .expect_err("no bootstrap");
        match &err {
            RuntimeError::BootstrapNotFound {
                runtime,
                looked_for,
            } => {
                assert_eq!(runtime, "provided.al2023");
                assert_eq!(
                    looked_for,
                    &vec![task.join("bootstrap"), opt.join("bootstrap")]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "Couldn't find valid bootstrap(s): [{} {}]",
                task.join("bootstrap").display(),
                opt.join("bootstrap").display()
            )
        );
    }

    // ------------------------------------------------------------------------------ python

    #[test]
    fn python_interpreter_missing_names_what_to_install() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        // Another version on PATH must not be used for python3.12.
        write_script(&bin.join("python3.11"), "echo 3.11.2");
        write_script(&bin.join("python3"), "echo 3.11.2");
        let cfg = cfg_in(tmp.path());
        let err = launch_with(
            "python3.12",
            &cfg,
            tmp.path(),
            tmp.path(),
            "app.h",
            128,
            &fake_path(&bin),
        )
        .expect_err("missing");
        match &err {
            RuntimeError::InterpreterMissing {
                runtime,
                looked_for,
                hint,
            } => {
                assert_eq!(runtime, "python3.12");
                assert!(
                    looked_for
                        .iter()
                        .any(|l| l.contains("`python3.12` on PATH")),
                    "{looked_for:?}"
                );
                assert!(
                    looked_for.iter().any(|l| l.contains(PYTHON_FALLBACK_KEY)),
                    "{looked_for:?}"
                );
                assert!(
                    hint.contains("lamina runtimes install python3.12 --interpreter"),
                    "{hint}"
                );
            }
            other => panic!("{other:?}"),
        }
        let err = install_with("python3.12", &cfg, &fake_path(&bin)).expect_err("missing");
        assert!(
            matches!(err, RuntimeError::InterpreterMissing { .. }),
            "{err}"
        );
    }

    #[test]
    fn python_launch_after_install() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("python3.12"), "echo 3.12.4");
        let host = fake_path(&bin);
        let cfg = cfg_in(tmp.path());
        let (task, opt) = (Path::new("/var/task"), Path::new("/opt"));

        let err = launch_with("python3.12", &cfg, task, opt, "app.handler", 128, &host)
            .expect_err("no client yet");
        match &err {
            RuntimeError::ClientMissing { runtime, hint } => {
                assert_eq!(runtime, "python3.12");
                assert!(
                    hint.contains("lamina runtimes install python3.12"),
                    "{hint}"
                );
            }
            other => panic!("{other:?}"),
        }

        fake_stamp(&cfg, "python3.12", &bin.join("python3.12"));
        let l = launch_with("python3.12", &cfg, task, opt, "pkg/app.handler", 512, &host)
            .expect("launch");
        assert_eq!(l.program, cfg.cache_dir.join("python3.12/venv/bin/python3"));
        assert_eq!(l.args, ["-m", "awslambdaric", "pkg/app.handler"]);
        assert_eq!(
            env_of(&l, "AWS_EXECUTION_ENV").as_deref(),
            Some("AWS_Lambda_python3.12")
        );
        assert_eq!(
            env_of(&l, "PYTHONPATH").as_deref(),
            Some("/var/task:/opt/python/lib/python3.12/site-packages:/opt/python")
        );
    }

    #[test]
    fn python_client_for_another_interpreter_is_missing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("python3.13"), "echo 3.13.0");
        let cfg = cfg_in(tmp.path());
        fake_stamp(&cfg, "python3.13", Path::new("/elsewhere/python3.13"));
        let err = launch_with(
            "python3.13",
            &cfg,
            tmp.path(),
            tmp.path(),
            "a.b",
            128,
            &fake_path(&bin),
        )
        .expect_err("stale");
        assert!(
            matches!(&err, RuntimeError::ClientMissing { hint, .. } if hint.contains("/elsewhere/python3.13")),
            "{err}"
        );
    }

    #[test]
    fn python_override_and_fallback() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        let custom = tmp.path().join("opt-py/bin/python3");
        write_script(&custom, "echo 3.12.9");
        write_script(&bin.join("python3.12"), "echo 3.12.1");
        let host = fake_path(&bin);

        // The override wins over PATH.
        let mut cfg = cfg_in(tmp.path());
        cfg.interpreters.insert("python3.12".into(), custom.clone());
        let interp = resolve_interpreter(definition("python3.12").expect("def"), &cfg, &host)
            .expect("resolve");
        assert_eq!(
            (interp.path.as_path(), interp.source),
            (custom.as_path(), Source::Override)
        );

        // A configured override that does not exist is an error, not a reason to look elsewhere.
        cfg.interpreters
            .insert("python3.12".into(), tmp.path().join("nope"));
        let err = resolve_interpreter(definition("python3.12").expect("def"), &cfg, &host)
            .expect_err("bad");
        assert!(err.to_string().contains("nope"), "{err}");

        // The family fallback is used only when configured, and only after PATH.
        let cfg = {
            let mut c = cfg_in(tmp.path());
            c.interpreters
                .insert(PYTHON_FALLBACK_KEY.into(), custom.clone());
            c
        };
        let d = definition("python3.12").expect("def");
        assert_eq!(
            resolve_interpreter(d, &cfg, &host).expect("path").source,
            Source::Path
        );
        let d14 = definition("python3.14").expect("def");
        let interp = resolve_interpreter(d14, &cfg, &host).expect("fallback");
        assert_eq!(
            (interp.path.as_path(), interp.source),
            (custom.as_path(), Source::Fallback)
        );
        assert!(resolve_interpreter(d14, &cfg_in(tmp.path()), &host).is_err());

        // Running 3.14 functions on 3.12 is allowed when configured so, with a warning.
        let info = interpreter_info(d14, &interp).expect("probe");
        assert_eq!(info.version, "3.12.9");
        let warnings = check_version(d14, &info).expect("usable");
        assert!(
            warnings.iter().any(|w| w.contains("3.12.9")),
            "{warnings:?}"
        );
        // A PATH python3.12 that is something else is refused.
        let liar = InterpreterInfo {
            path: bin.join("python3.12"),
            version: "3.11.2".into(),
            source: "PATH",
        };
        assert!(check_version(d, &liar).is_err());
        let old = InterpreterInfo {
            path: custom.clone(),
            version: "3.9.1".into(),
            source: "fallback",
        };
        assert!(check_version(d, &old).is_err());
    }

    // ------------------------------------------------------------------------------ node

    #[test]
    fn node_launch_flags_and_paths() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("node"), "echo v22.11.0");
        let host = fake_path(&bin);
        let cfg = cfg_in(tmp.path());
        let (task, opt) = (Path::new("/var/task"), Path::new("/opt"));
        let err = launch_with("nodejs22.x", &cfg, task, opt, "index.handler", 128, &host)
            .expect_err("no client");
        assert!(matches!(err, RuntimeError::ClientMissing { .. }), "{err}");

        fake_stamp(&cfg, "nodejs22.x", &bin.join("node"));
        let l = launch_with("nodejs22.x", &cfg, task, opt, "index.handler", 128, &host)
            .expect("launch");
        assert_eq!(l.program, bin.join("node"));
        let entry = cfg
            .cache_dir
            .join("nodejs22.x/node_modules/aws-lambda-ric/index.mjs");
        assert_eq!(
            l.args,
            [
                "--expose-gc",
                "--max-http-header-size",
                "81920",
                "--max-semi-space-size=6",
                "--max-old-space-size=116",
                entry.to_str().expect("utf-8"),
            ]
        );
        assert_eq!(
            env_of(&l, "AWS_EXECUTION_ENV").as_deref(),
            Some("AWS_Lambda_nodejs22.x")
        );
        assert_eq!(
            env_of(&l, "NODE_PATH").as_deref(),
            Some("/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/task")
        );
        assert_eq!(
            node_memory_flags(1024),
            ["--max-semi-space-size=51", "--max-old-space-size=922"]
        );
        assert_eq!(
            node_memory_flags(10240),
            ["--max-semi-space-size=512", "--max-old-space-size=9216"]
        );
    }

    #[test]
    fn node_of_another_major_is_not_used_unless_configured() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("node"), "echo v20.20.2");
        write_script(&bin.join("node24"), "echo v24.1.0");
        let host = fake_path(&bin);
        let cfg = cfg_in(tmp.path());

        let err = launch_with(
            "nodejs22.x",
            &cfg,
            tmp.path(),
            tmp.path(),
            "i.h",
            128,
            &host,
        )
        .expect_err("v20 is not 22");
        match &err {
            RuntimeError::InterpreterMissing {
                looked_for, hint, ..
            } => {
                assert!(
                    looked_for.iter().any(|l| l.contains("v20.20.2, not 22")),
                    "{looked_for:?}"
                );
                assert!(hint.contains("Node.js 22"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
        // nodeNN on PATH is found for its own major; plain node for its own.
        let d24 = definition("nodejs24.x").expect("def");
        assert_eq!(
            resolve_interpreter(d24, &cfg, &host).expect("node24").path,
            bin.join("node24")
        );
        let d20 = definition("nodejs20.x").expect("def");
        let interp = resolve_interpreter(d20, &cfg, &host).expect("node");
        assert_eq!(interp.path, bin.join("node"));
        let warnings =
            check_version(d20, &interpreter_info(d20, &interp).expect("info")).expect("ok");
        assert!(warnings.iter().any(|w| w.contains(">= 22")), "{warnings:?}");

        // The fallback lets nodejs22.x run on Node 20, with a warning.
        let mut cfg = cfg_in(tmp.path());
        cfg.interpreters
            .insert(NODE_FALLBACK_KEY.into(), bin.join("node"));
        let d22 = definition("nodejs22.x").expect("def");
        let interp = resolve_interpreter(d22, &cfg, &host).expect("fallback");
        assert_eq!(interp.source, Source::Fallback);
        let warnings =
            check_version(d22, &interpreter_info(d22, &interp).expect("info")).expect("ok");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("will run on Node.js v20.20.2")),
            "{warnings:?}"
        );
    }

    #[test]
    fn node_install_names_missing_build_tools() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("node"), "echo v22.1.0");
        write_script(&bin.join("make"), "exit 0");
        let err = install_with("nodejs22.x", &cfg_in(tmp.path()), &fake_path(&bin))
            .expect_err("no cmake");
        match &err {
            RuntimeError::InstallFailed { detail, .. } => {
                assert!(
                    detail.contains("apt-get install cmake g++ gcc python3 tar xz-utils"),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!cfg_in(tmp.path())
            .cache_dir
            .join("nodejs22.x.lock")
            .exists());
    }

    // ------------------------------------------------------------------------------ list, lock

    #[test]
    fn list_reports_interpreters_and_clients() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        write_script(&bin.join("python3.12"), "echo 3.12.4");
        write_script(&bin.join("node"), "echo v20.20.2");
        let cfg = cfg_in(tmp.path());
        fake_stamp(&cfg, "python3.12", &bin.join("python3.12"));
        let statuses = list_with(&cfg, &fake_path(&bin));
        assert_eq!(statuses.len(), runnable().count());
        let get = |n: &str| statuses.iter().find(|s| s.name == n).expect(n).clone();

        let s = get("provided.al2023");
        assert!(s.ready && s.interpreter == InterpreterStatus::NotNeeded);
        let s = get("python3.12");
        assert!(s.ready, "{s:?}");
        assert!(
            matches!(&s.interpreter, InterpreterStatus::Found(i) if i.version == "3.12.4" && i.source == "PATH")
        );
        let s = get("python3.11");
        assert!(!s.ready && matches!(s.interpreter, InterpreterStatus::Missing { .. }));
        let s = get("nodejs20.x");
        assert!(!s.ready && matches!(s.client, ClientStatus::NotInstalled { .. }));
        assert!(matches!(&s.interpreter, InterpreterStatus::Found(i) if i.version == "v20.20.2"));
        let s = get("nodejs22.x");
        assert!(
            matches!(&s.interpreter, InterpreterStatus::Missing { looked_for, .. } if looked_for.iter().any(|l| l.contains("not 22")))
        );
        // Serialisable for `lamina runtimes list --output json`.
        let json = serde_json::to_value(&statuses).expect("json");
        assert_eq!(json[0]["name"], "provided");
    }

    #[test]
    fn install_lock_serialises_and_recovers() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("x.lock");
        let first = InstallLock::acquire(&path, Duration::from_secs(1)).expect("first");
        // Held by a live process (this one): a second acquirer times out…
        let err = InstallLock::acquire(&path, Duration::from_millis(300))
            .err()
            .expect("held");
        assert!(err.contains("holds"), "{err}");
        // …or waits for the release.
        let p2 = path.clone();
        let waiter = std::thread::spawn(move || {
            let started = Instant::now();
            let lock = InstallLock::acquire(&p2, Duration::from_secs(10)).map(|_| ());
            (lock, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(500));
        drop(first);
        let (lock, waited) = waiter.join().expect("join");
        lock.expect("second");
        assert!(waited >= Duration::from_millis(400), "{waited:?}");
        assert!(!path.exists(), "released on drop");

        // A lock left by a process that is gone is taken over.
        fs::write(&path, "4000000000\n").expect("write");
        let lock = InstallLock::acquire(&path, Duration::from_millis(100)).expect("stale");
        drop(lock);
    }

    #[test]
    fn run_logged_reports_the_end_of_the_log() {
        let tmp = tempfile::tempdir().expect("tmp");
        let log = tmp.path().join("install.log");
        let mut ok = Command::new("/bin/sh");
        ok.args(["-c", "echo fine"]);
        run_logged(&mut ok, &log, Duration::from_secs(10)).expect("ok");
        let mut bad = Command::new("/bin/sh");
        bad.args([
            "-c",
            "echo step one; echo 'Error: cmake is not installed.' >&2; exit 1",
        ]);
        let err = run_logged(&mut bad, &log, Duration::from_secs(10)).expect_err("fails");
        assert!(
            err.contains("cmake is not installed") && !err.contains("fine"),
            "{err}"
        );
        let mut slow = Command::new("/bin/sh");
        slow.args(["-c", "sleep 30"]);
        let err = run_logged(&mut slow, &log, Duration::from_millis(300)).expect_err("timeout");
        assert!(err.contains("did not finish"), "{err}");
    }

    // ------------------------------------------------------------------------------ a Runtime API stub

    type Queue = Arc<(Mutex<VecDeque<(String, Vec<u8>)>>, Condvar)>;

    /// Just enough of the Runtime API 2018-06-01 to drive a real runtime client: hands out queued
    /// events on `/next` and reports what comes back on `/response`, `/error` and `/init/error`.
    struct StubApi {
        addr: SocketAddr,
        queue: Queue,
        results: mpsc::Receiver<(String, String, Vec<u8>)>,
    }

    impl StubApi {
        fn start() -> StubApi {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let queue: Queue = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
            let (tx, results) = mpsc::channel();
            let q = queue.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (q, tx) = (q.clone(), tx.clone());
                    std::thread::spawn(move || {
                        let _ = serve_connection(stream, &q, &tx);
                    });
                }
            });
            StubApi {
                addr,
                queue,
                results,
            }
        }

        /// Queues an event and waits for the runtime's answer: ("response" | "error" | "init_error", body).
        fn invoke(&self, id: &str, event: &str) -> (String, String) {
            {
                let (lock, cv) = &*self.queue;
                lock.lock()
                    .expect("queue")
                    .push_back((id.to_string(), event.as_bytes().to_vec()));
                cv.notify_all();
            }
            self.answer()
        }

        fn answer(&self) -> (String, String) {
            let (kind, _id, body) = self
                .results
                .recv_timeout(Duration::from_secs(60))
                .expect("no answer from the runtime within 60 s");
            (kind, String::from_utf8_lossy(&body).into_owned())
        }
    }

    fn serve_connection(
        stream: TcpStream,
        queue: &Queue,
        tx: &mpsc::Sender<(String, String, Vec<u8>)>,
    ) -> io::Result<()> {
        let mut out = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            );
            let (mut length, mut chunked, mut expect) = (0usize, false, false);
            loop {
                let mut h = String::new();
                reader.read_line(&mut h)?;
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                    match k.as_str() {
                        "content-length" => length = v.parse().unwrap_or(0),
                        "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                        "expect" => expect = v.eq_ignore_ascii_case("100-continue"),
                        _ => {}
                    }
                }
            }
            if expect {
                out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            let mut body = Vec::new();
            if chunked {
                loop {
                    let mut size = String::new();
                    reader.read_line(&mut size)?;
                    let size =
                        usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                            .unwrap_or(0);
                    if size == 0 {
                        loop {
                            let mut trailer = String::new();
                            reader.read_line(&mut trailer)?;
                            if trailer.trim_end().is_empty() {
                                break;
                            }
                        }
                        break;
                    }
                    let mut chunk = vec![0; size + 2];
                    reader.read_exact(&mut chunk)?;
                    body.extend_from_slice(&chunk[..size]);
                }
            } else {
                body.resize(length, 0);
                reader.read_exact(&mut body)?;
            }

            if method == "GET" && path.ends_with("/runtime/invocation/next") {
                let (id, event) = {
                    let (lock, cv) = &**queue;
                    let mut q = lock.lock().expect("queue");
                    loop {
                        if let Some(item) = q.pop_front() {
                            break item;
                        }
                        q = cv.wait(q).expect("queue");
                    }
                };
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock")
                    .as_millis()
                    + 60_000;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:fn\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                     Content-Length: {}\r\n\r\n",
                    event.len()
                );
                out.write_all(head.as_bytes())?;
                out.write_all(&event)?;
            } else if method == "POST" {
                let segments: Vec<&str> = path.split('/').collect();
                let kind = match segments.as_slice() {
                    [.., "invocation", _, "response"] => "response",
                    [.., "invocation", _, "error"] => "error",
                    [.., "init", "error"] => "init_error",
                    _ => "unknown",
                };
                let id = if kind == "init_error" {
                    ""
                } else {
                    segments[segments.len() - 2]
                };
                let _ = tx.send((kind.to_string(), id.to_string(), body));
                out.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")?;
            } else {
                out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            }
        }
    }

    fn functions_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/functions")
    }

    /// Copies a function's sources into a fresh task root (modes kept), as deploying a zip would.
    fn deploy(src: &Path, dest: &Path) {
        fs::create_dir_all(dest).expect("mkdir");
        for entry in fs::read_dir(src).expect("read_dir") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                fs::copy(entry.path(), dest.join(entry.file_name())).expect("copy");
            }
        }
    }

    /// Starts a runtime as the engine would: cwd = task root, the reserved variables, then `Launch::env`.
    struct Running(std::process::Child);

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn start(l: &Launch, api: &StubApi, task_root: &Path, handler: &str) -> Running {
        let mut cmd = Command::new(&l.program);
        cmd.args(&l.args)
            .current_dir(task_root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("_HANDLER", handler)
            .env("LAMBDA_TASK_ROOT", task_root)
            .env("AWS_LAMBDA_FUNCTION_NAME", "fn")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/fn")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]00000000000000000000000000000000",
            )
            .env("AWS_REGION", "us-east-1")
            .env("TZ", ":UTC")
            .envs(l.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        Running(
            cmd.spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", l.program.display())),
        )
    }

    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    /// The shell custom runtime, through `launch`, against the stub (needs curl on the host).
    #[test]
    fn shell_bootstrap_echoes_events() {
        assert!(
            HostPath::process().which("curl").is_some(),
            "testdata/functions/shell/bootstrap needs curl on PATH (Debian: apt-get install curl)"
        );
        let tmp = tempfile::tempdir().expect("tmp");
        let task = tmp.path().join("task");
        deploy(&functions_dir().join("shell"), &task);
        let l = launch(
            "provided.al2023",
            &cfg_in(tmp.path()),
            &task,
            &tmp.path().join("opt"),
            "x",
            128,
        )
        .expect("launch");
        let api = StubApi::start();
        let _rt = start(&l, &api, &task, "x");
        let event = r#"{"hello": "world", "n": [1, 2, 3], "s": "line\nbreak & = +"}"#;
        assert_eq!(
            api.invoke("id-1", event),
            ("response".to_string(), event.to_string())
        );
        assert_eq!(
            api.invoke("id-2", "{}"),
            ("response".to_string(), "{}".to_string())
        );
    }

    // ------------------------------------------------------------------------------ network_* tests

    /// A cache that persists if `LAMINA_TEST_RUNTIME_CACHE` says so, else a temporary one.
    fn network_cache() -> (RuntimeConfig, Option<tempfile::TempDir>) {
        match std::env::var_os("LAMINA_TEST_RUNTIME_CACHE") {
            Some(dir) => (RuntimeConfig::new(dir), None),
            None => {
                let tmp = tempfile::tempdir().expect("tmp");
                (RuntimeConfig::new(tmp.path().join("runtimes")), Some(tmp))
            }
        }
    }

    /// Two concurrent installs, then a third: all succeed, the last finds everything done.
    fn install_concurrently(name: &str, cfg: &RuntimeConfig) -> InstallReport {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (name, cfg) = (name.to_string(), cfg.clone());
                std::thread::spawn(move || install(&name, &cfg))
            })
            .collect();
        for h in handles {
            let report = h
                .join()
                .expect("join")
                .unwrap_or_else(|e| panic!("install {name}: {e}"));
            eprintln!(
                "install {name}: {} ms, already_installed={}, interpreter={:?}, warnings={:?}",
                report.duration_ms, report.already_installed, report.interpreter, report.warnings
            );
        }
        let again = install(name, cfg).expect("install again");
        assert!(again.already_installed, "{again:?}");
        assert!(!cfg.cache_dir.join(format!("{name}.lock")).exists());
        again
    }

    #[test]
    #[ignore = "installs the official client from the package registry (minutes); the compat invoke suite covers it in ./test.sh. Run: cargo test -p lamina-engine -- --ignored network"]
    fn network_python_client_installs_and_serves() {
        let (cfg, _keep) = network_cache();
        let name = "python3.11";
        let report = install_concurrently(name, &cfg);
        assert_eq!(report.client.as_deref(), Some("awslambdaric 4.2.2"));
        let status = list(&cfg)
            .into_iter()
            .find(|s| s.name == name)
            .expect("listed");
        assert!(status.ready, "{status:?}");

        let tmp = tempfile::tempdir().expect("tmp");
        let task = tmp.path().join("task");
        let opt = tmp.path().join("opt");
        deploy(&functions_dir().join("python"), &task);
        let api_for = |handler: &str| {
            let l = launch(name, &cfg, &task, &opt, handler, 128).expect("launch");
            let api = StubApi::start();
            let rt = start(&l, &api, &task, handler);
            (api, rt)
        };

        let (api, _rt) = api_for("app.echo");
        let (kind, body) = api.invoke("r1", r#"{"a": 1, "b": [true, null]}"#);
        assert_eq!(kind, "response");
        assert_eq!(json(&body), serde_json::json!({"a": 1, "b": [true, null]}));

        let (api, _rt) = api_for("app.counter");
        assert_eq!(json(&api.invoke("c1", "{}").1)["count"], 1);
        assert_eq!(json(&api.invoke("c2", "{}").1)["count"], 2);

        let (api, _rt) = api_for("app.env");
        let env = json(&api.invoke("e1", "{}").1);
        assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.11");
        assert_eq!(env["_HANDLER"], "app.env");
        assert_eq!(env["_cwd"], task.to_str().expect("utf-8"));

        let (api, _rt) = api_for("app.error");
        let (kind, body) = api.invoke("x1", "{}");
        assert_eq!(kind, "error");
        let err = json(&body);
        assert_eq!(
            (err["errorType"].as_str(), err["errorMessage"].as_str()),
            (Some("ValueError"), Some("boom"))
        );

        let (api, _rt) = api_for("bad_init.handler");
        let (kind, body) = api.answer();
        assert_eq!(kind, "init_error", "{body}");
        assert!(body.contains("init failed on purpose"), "{body}");
    }

    #[test]
    #[ignore = "installs the official client from the package registry (minutes); the compat invoke suite covers it in ./test.sh. Run: cargo test -p lamina-engine -- --ignored network"]
    fn network_node_client_installs_and_serves() {
        // The runtime that matches this host's node.
        let node = HostPath::process().which("node").expect("node on PATH");
        let major = node_major(&probe_node(&node).expect("node --version")).expect("major");
        let name = format!("nodejs{major}.x");
        assert!(
            definition(&name).is_some_and(|d| d.runnable()),
            "no runtime for Node.js {major}"
        );
        let (cfg, _keep) = network_cache();
        let report = install_concurrently(&name, &cfg);
        assert_eq!(report.client.as_deref(), Some("aws-lambda-ric 4.0.2"));

        let tmp = tempfile::tempdir().expect("tmp");
        let task = tmp.path().join("task");
        let opt = tmp.path().join("opt");
        deploy(&functions_dir().join("node"), &task);
        let api_for = |handler: &str| {
            let l = launch(&name, &cfg, &task, &opt, handler, 128).expect("launch");
            let api = StubApi::start();
            let rt = start(&l, &api, &task, handler);
            (api, rt)
        };

        let (api, _rt) = api_for("index.echo");
        let (kind, body) = api.invoke("r1", r#"{"a": 1, "b": [true, null]}"#);
        assert_eq!(kind, "response", "{body}");
        assert_eq!(json(&body), serde_json::json!({"a": 1, "b": [true, null]}));

        let (api, _rt) = api_for("index.counter");
        assert_eq!(json(&api.invoke("c1", "{}").1)["count"], 1);
        assert_eq!(json(&api.invoke("c2", "{}").1)["count"], 2);

        let (api, _rt) = api_for("index.error");
        let (kind, body) = api.invoke("x1", "{}");
        assert_eq!(kind, "error");
        let err = json(&body);
        assert_eq!(
            (err["errorType"].as_str(), err["errorMessage"].as_str()),
            (Some("Error"), Some("boom"))
        );
    }
}
