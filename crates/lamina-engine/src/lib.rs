//! Lamina's execution engine: execution environments that run unmodified Lambda functions through the
//! Runtime API, kept warm and reused, frozen between invocations, reset on timeout or crash, within the
//! account's and the function's concurrency.
//!
//! The engine knows nothing of HTTP routes or the store: the API hands it a [`FunctionSpec`] (everything
//! needed to start the function, secrets already decrypted) and an event, and gets the outcome back.

mod codecache;
pub mod concurrency;
pub mod env;
pub mod extensions;
mod http1;
pub mod logs;
pub mod runtimes;

use base64::Engine as _;
use bytes::Bytes;
use codecache::{CodeCache, LayerBlob};
use concurrency::{Concurrency, ScalingRate, Throttle};
use env::{Env, ExitInfo, InitState, Invocation, Outcome, StartSpec};
use lamina_sandbox::{Hierarchy, Limits, SpawnSpec};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Operator settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Data directory (code cache, logs, runtimes live below it).
    pub data_dir: PathBuf,
    /// Runtime clients and interpreters.
    pub runtimes: runtimes::RuntimeConfig,
    /// Account concurrency limit.
    pub account_concurrency: i64,
    /// How long an idle environment is kept warm.
    pub idle_timeout: Duration,
    /// Longest life of an environment (it is recycled when idle after this).
    pub max_lifetime: Duration,
    /// Bound on the init phase.
    pub init_timeout: Duration,
    /// New environments a function may add at once, and per second after that.
    pub scaling: (u32, u32),
    /// Freeze an environment once it has waited this long for an event (`Some(0)`: at once, as Lambda does;
    /// `None`: never, for measurements). A short grace spares busy environments a freeze/thaw per event.
    pub freeze_after: Option<Duration>,
}

impl EngineConfig {
    /// Defaults under `data_dir`.
    pub fn new(data_dir: PathBuf) -> EngineConfig {
        EngineConfig {
            runtimes: runtimes::RuntimeConfig {
                cache_dir: data_dir.join("runtimes"),
                interpreters: Default::default(),
            },
            data_dir,
            account_concurrency: 1000,
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(4 * 3600),
            init_timeout: Duration::from_secs(10),
            scaling: (1000, 100),
            freeze_after: Some(Duration::from_millis(50)),
        }
    }
}

/// Everything needed to run one version of a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Function name.
    pub name: String,
    /// Executed version (`$LATEST` or a number).
    pub version: String,
    /// The version's RevisionId: a configuration change means new environments.
    pub revision_id: String,
    /// Runtime name.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// MemorySize, MB.
    pub memory_mb: u32,
    /// Timeout, seconds.
    pub timeout_s: u32,
    /// User environment variables (decrypted).
    pub environment: Vec<(String, String)>,
    /// Hex SHA-256 of the package and its zip path.
    pub code_sha256: String,
    /// Zip path.
    pub code_zip: PathBuf,
    /// Layers in order: (hex SHA-256, zip path).
    pub layers: Vec<(String, PathBuf)>,
    /// Log group.
    pub log_group: String,
    /// `Text` or `JSON`.
    pub log_format: String,
    /// Reserved concurrency of the function, if set.
    pub reserved_concurrency: Option<i64>,
    /// Sum of reserved concurrency across the account (for the unreserved pool).
    pub account_reserved: i64,
}

/// One synchronous invocation.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// What to run.
    pub spec: Arc<FunctionSpec>,
    /// The event.
    pub payload: Bytes,
    /// The ARN the caller used (`Lambda-Runtime-Invoked-Function-Arn`).
    pub invoked_arn: String,
    /// Decoded client context JSON.
    pub client_context: Option<String>,
    /// Collect the last 4 KB of log.
    pub tail: bool,
    /// Request id (also the `x-amzn-RequestId` of the API call).
    pub request_id: String,
}

/// The result of an invocation that ran (successfully or with a function error).
#[derive(Debug, Clone)]
pub struct InvokeResponse {
    /// Response body (or error document).
    pub body: Bytes,
    /// True → `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    /// Base64 of the log tail, when asked for.
    pub log_result: Option<String>,
}

/// Why an invocation did not run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Over a concurrency limit (429 with this `Reason`).
    #[error("Rate Exceeded.")]
    Throttled(&'static str),
    /// The runtime cannot run on this host (what to install is in the message).
    #[error("{0}")]
    RuntimeUnavailable(String),
    /// Lamina failed to start the environment.
    #[error("{0}")]
    Internal(String),
    /// The runtime has no entry point (provided.* without a bootstrap, or one that cannot be executed).
    #[error("{0}")]
    InvalidEntrypoint(String),
}

type EnvKey = (String, String, String, String, String);

struct Idle {
    env: Arc<Env>,
    since: Instant,
}

/// The engine: pools of environments per function version, and the concurrency ledger.
pub struct Engine {
    cfg: EngineConfig,
    cache: CodeCache,
    cgroups: Option<Hierarchy>,
    pools: Mutex<HashMap<EnvKey, Vec<Idle>>>,
    concurrency: Concurrency,
    scaling: ScalingRate,
    logs: logs::Registry,
    cold_starts: Mutex<std::collections::VecDeque<ColdStart>>,
}

/// Where a cold start's time went, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ColdStart {
    /// Code and layers extracted (cached after the first), runtime resolved.
    pub materialise_us: u64,
    /// cgroup created, Runtime API listening, process spawned.
    pub start_us: u64,
    /// Process start to the runtime's first `/next` (runtime and function init).
    pub init_us: u64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("cgroups", &self.cgroups)
            .finish_non_exhaustive()
    }
}

fn key(spec: &FunctionSpec) -> EnvKey {
    (
        spec.account.clone(),
        spec.region.clone(),
        spec.name.clone(),
        spec.version.clone(),
        spec.revision_id.clone(),
    )
}

fn platform_error(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

impl Engine {
    /// Build the engine and start its housekeeping (log flushing, idle reaping). Call inside a tokio runtime.
    pub fn start(cfg: EngineConfig) -> Arc<Engine> {
        // One cgroup subtree per data directory, so several Lamina servers on a host never touch each other's
        // environments, and a restart can clear what a crashed run left behind.
        let instance = {
            use sha2::Digest;
            let dir = std::fs::canonicalize(&cfg.data_dir).unwrap_or_else(|_| cfg.data_dir.clone());
            hex::encode(&sha2::Sha256::digest(dir.to_string_lossy().as_bytes())[..8])
        };
        let cgroups = Hierarchy::detect(&format!("lamina/{instance}"));
        if let Some(h) = &cgroups {
            let n = h.sweep();
            if n > 0 {
                tracing::info!(
                    count = n,
                    "removed execution environments left by a previous run"
                );
            }
        }
        if cgroups.is_none() {
            tracing::warn!("no writable cgroup hierarchy: memory and CPU limits are NOT enforced; freezing uses SIGSTOP");
        }
        let engine = Arc::new(Engine {
            cache: CodeCache::new(cfg.data_dir.clone()),
            concurrency: Concurrency::new(cfg.account_concurrency),
            scaling: ScalingRate::new(cfg.scaling.0, cfg.scaling.1),
            cfg,
            cgroups,
            pools: Mutex::new(HashMap::new()),
            logs: logs::Registry::default(),
            cold_starts: Mutex::new(std::collections::VecDeque::new()),
        });
        let weak = Arc::downgrade(&engine);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            let mut n = 0u64;
            loop {
                tick.tick().await;
                let Some(e) = weak.upgrade() else { return };
                e.logs.flush_all();
                n += 1;
                if n.is_multiple_of(5) {
                    e.reap();
                }
            }
        });
        engine
    }

    /// Extract a package (and its layers) into the code cache in the background, so the first invocation
    /// after a create or a code update finds it ready (AWS prepares code while a function is Pending).
    pub fn prefetch(
        self: &Arc<Self>,
        code_sha256: String,
        code_zip: PathBuf,
        layers: Vec<(String, PathBuf)>,
    ) {
        let engine = Arc::clone(self);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        handle.spawn_blocking(move || {
            if let Err(e) = engine.cache.code_dir(&code_sha256, &code_zip) {
                tracing::warn!(error = %e, "prefetching code failed; the first invocation will retry");
            }
            let blobs: Vec<LayerBlob> = layers.into_iter().map(|(sha256, zip)| LayerBlob { sha256, zip }).collect();
            if let Err(e) = engine.cache.opt_dir(&blobs) {
                tracing::warn!(error = %e, "prefetching layers failed; the first invocation will retry");
            }
        });
    }

    /// Where logs are stored.
    pub fn logs_dir(&self) -> PathBuf {
        self.cfg.data_dir.join("logs")
    }

    fn record_cold_start(&self, c: ColdStart) {
        if let Ok(mut v) = self.cold_starts.lock() {
            if v.len() >= 1000 {
                v.pop_front();
            }
            v.push_back(c);
        }
    }

    /// The most recent cold starts (up to 1,000), oldest first.
    pub fn cold_starts(&self) -> Vec<ColdStart> {
        self.cold_starts
            .lock()
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Number of idle environments (all functions).
    pub fn idle_count(&self) -> usize {
        self.pools
            .lock()
            .map(|p| p.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    fn reap(&self) {
        let now = Instant::now();
        let mut dead = Vec::new();
        if let Ok(mut pools) = self.pools.lock() {
            for list in pools.values_mut() {
                list.retain(|i| {
                    let keep = !i.env.is_dead()
                        && now.duration_since(i.since) < self.cfg.idle_timeout
                        && now.duration_since(i.env.created) < self.cfg.max_lifetime;
                    if !keep {
                        dead.push(Arc::clone(&i.env));
                    }
                    keep
                });
            }
            pools.retain(|_, v| !v.is_empty());
        }
        for e in dead {
            tokio::spawn(async move { e.retire().await });
        }
    }

    /// Shut every environment down (server stop).
    pub fn shutdown_all(&self) {
        let all: Vec<Arc<Env>> = match self.pools.lock() {
            Ok(mut p) => p
                .drain()
                .flat_map(|(_, v)| v.into_iter().map(|i| i.env))
                .collect(),
            Err(_) => Vec::new(),
        };
        for e in all {
            e.shutdown();
        }
        self.logs.flush_all();
    }

    fn take_idle(&self, k: &EnvKey) -> Option<Arc<Env>> {
        let mut pools = self.pools.lock().ok()?;
        let list = pools.get_mut(k)?;
        while let Some(i) = list.pop() {
            if !i.env.is_dead() {
                return Some(i.env);
            }
            i.env.shutdown();
        }
        None
    }

    fn put_idle(&self, k: EnvKey, env: Arc<Env>) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.entry(k).or_default().push(Idle {
                env,
                since: Instant::now(),
            });
        }
    }

    /// Run one synchronous invocation.
    pub async fn invoke(
        self: &Arc<Self>,
        req: InvokeRequest,
    ) -> Result<InvokeResponse, EngineError> {
        let spec = Arc::clone(&req.spec);
        let _slot = self
            .concurrency
            .acquire(
                &spec.account,
                &spec.region,
                &spec.name,
                spec.reserved_concurrency,
                spec.account_reserved,
            )
            .map_err(|t: Throttle| EngineError::Throttled(t.reason()))?;
        let k = key(&spec);
        let (env, init) = match self.take_idle(&k) {
            Some(env) => (env, None),
            None => {
                self.scaling
                    .take(&spec.account, &spec.region, &spec.name)
                    .map_err(|t| EngineError::Throttled(t.reason()))?;
                let (env, mut timing) = match self.cold_start(&spec).await {
                    Ok(x) => x,
                    Err(EngineError::InvalidEntrypoint(why)) => {
                        let msg = format!("RequestId: {} Error: {why}", req.request_id);
                        let log_result = self.failed_start_log(&req, "Runtime.InvalidEntrypoint");
                        return Ok(InvokeResponse {
                            body: platform_error("Runtime.InvalidEntrypoint", &msg),
                            function_error: true,
                            log_result,
                        });
                    }
                    Err(e) => return Err(e),
                };
                let state = tokio::time::timeout(self.cfg.init_timeout, env.wait_init()).await;
                // Init runs from process start (after code extraction and any client install) to the first /next.
                let init_ms = env.created.elapsed().as_secs_f64() * 1000.0;
                timing.init_us = (init_ms * 1000.0) as u64;
                self.record_cold_start(timing);
                match state {
                    Ok(InitState::Ready) => (env, Some(init_ms)),
                    other => return Ok(self.init_failed(&env, &req, other, init_ms)),
                }
            }
        };
        Ok(self.run_on(env, init, &req, k).await)
    }

    async fn cold_start(
        &self,
        spec: &Arc<FunctionSpec>,
    ) -> Result<(Arc<Env>, ColdStart), EngineError> {
        let t0 = Instant::now();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let stream_name = format!(
            "{}/[{}]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            spec.version,
            id
        );
        let log = Arc::new(
            logs::LogStream::open(
                &self.logs_dir(),
                &spec.account,
                &spec.region,
                &spec.log_group,
                &stream_name,
            )
            .map_err(|e| EngineError::Internal(format!("cannot open log stream: {e}")))?,
        );
        self.logs.add(&log);
        let prep = {
            let spec = Arc::clone(spec);
            let cache_cfg = self.cfg.runtimes.clone();
            let cache = &self.cache;
            // Extraction and runtime installation block; the cache is shared, so run them on this thread's
            // blocking section rather than a detached task.
            tokio::task::block_in_place(|| prepare(cache, &cache_cfg, &spec, &stream_name))
        };
        let (process, extensions, runtime_note) = prep?;
        let t_prepared = Instant::now();
        if let Some(note) = runtime_note {
            log.line(&note);
        }
        let cgroup = match &self.cgroups {
            Some(h) => {
                let mem = u64::from(spec.memory_mb) * 1024 * 1024;
                // 1,769 MB is one vCPU.
                let cpu_millis = (u64::from(spec.memory_mb) * 1000 / 1769).max(50);
                Some(
                    h.create(
                        &id,
                        &Limits {
                            memory_bytes: mem,
                            cpu_millis,
                            pids_max: Some(1024),
                        },
                    )
                    .map_err(|e| EngineError::Internal(format!("cannot create cgroup: {e}")))?,
                )
            }
            None => None,
        };
        let program = process.program.clone();
        let function = (
            spec.name.clone(),
            spec.version.clone(),
            spec.handler.clone(),
        );
        Env::start(
            StartSpec {
                process,
                extensions,
                id,
                freeze_after: self.cfg.freeze_after,
                function,
            },
            log,
            cgroup,
        )
        .await
        .map(|env| {
            let t_started = Instant::now();
            let timing = ColdStart {
                materialise_us: t_prepared.duration_since(t0).as_micros() as u64,
                start_us: t_started.duration_since(t_prepared).as_micros() as u64,
                init_us: 0,
            };
            (env, timing)
        })
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::NotFound => {
                let shown = if program.ends_with("bootstrap") {
                    "/var/task/bootstrap".to_string()
                } else {
                    program.display().to_string()
                };
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory"
                } else {
                    "permission denied"
                };
                EngineError::InvalidEntrypoint(format!("fork/exec {shown}: {why}"))
            }
            _ if e.raw_os_error() == Some(8) => EngineError::InvalidEntrypoint(format!(
                "fork/exec {}: exec format error",
                program.display()
            )),
            _ => EngineError::Internal(format!("cannot start the runtime: {e}")),
        })
    }

    /// Log START/END/REPORT for an invocation whose environment never started; the tail if asked.
    fn failed_start_log(&self, req: &InvokeRequest, error_type: &str) -> Option<String> {
        let spec = &req.spec;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let stream = format!(
            "{}/[{}]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            spec.version,
            id
        );
        let log = logs::LogStream::open(
            &self.logs_dir(),
            &spec.account,
            &spec.region,
            &spec.log_group,
            &stream,
        )
        .ok()?;
        if req.tail {
            log.start_tail();
        }
        log.line(&start_line(&req.request_id, &spec.version));
        write_end_and_report(
            &log,
            &Report {
                request_id: &req.request_id,
                duration_ms: 0.0,
                billed_ms: 0,
                memory_mb: spec.memory_mb,
                max_memory_mb: 0,
                init_ms: None,
                status: Status::Error(error_type.to_string()),
            },
        );
        log.flush();
        tail_result(&log, req.tail)
    }

    fn init_failed(
        &self,
        env: &Arc<Env>,
        req: &InvokeRequest,
        state: Result<InitState, tokio::time::error::Elapsed>,
        init_ms: f64,
    ) -> InvokeResponse {
        let id = &req.request_id;
        let (body, error_type, status) = match state {
            Ok(InitState::Failed(body, t)) => {
                let et = t
                    .or_else(|| error_type_of(&body))
                    .unwrap_or_else(|| "Runtime.Unknown".into());
                (body, et, "error")
            }
            Ok(InitState::Exited(info)) => {
                let (et, msg) = exit_error(env, id, &info);
                (platform_error(&et, &msg), et, "error")
            }
            Ok(_) | Err(_) => {
                let msg = format!(
                    "RequestId: {id} Error: Init timed out after {:.2} seconds",
                    self.cfg.init_timeout.as_secs_f64()
                );
                (
                    platform_error("Sandbox.Timedout", &msg),
                    "Sandbox.Timedout".into(),
                    "timeout",
                )
            }
        };
        env.kill();
        let log = &env.log;
        if req.tail {
            log.start_tail();
        }
        let status = if status == "timeout" {
            Status::Timeout
        } else {
            Status::Error(error_type)
        };
        log.line(&format!(
            "INIT_REPORT Init Duration: {init_ms:.2} ms\tPhase: init\t{}",
            status.text()
        ));
        log.line(&start_line(id, &req.spec.version));
        write_end_and_report(
            log,
            &Report {
                request_id: id,
                duration_ms: init_ms,
                billed_ms: init_ms.ceil() as u64,
                memory_mb: req.spec.memory_mb,
                max_memory_mb: env.max_memory_mb(),
                init_ms: None,
                status,
            },
        );
        let log_result = tail_result(log, req.tail);
        env.shutdown();
        InvokeResponse {
            body,
            function_error: true,
            log_result,
        }
    }

    async fn run_on(
        &self,
        env: Arc<Env>,
        init_ms: Option<f64>,
        req: &InvokeRequest,
        k: EnvKey,
    ) -> InvokeResponse {
        let spec = &req.spec;
        let id = req.request_id.clone();
        let log = Arc::clone(&env.log);
        if req.tail {
            log.start_tail();
        }
        log.line(&start_line(&id, &spec.version));
        let started = Instant::now();
        let timeout = Duration::from_secs(u64::from(spec.timeout_s));
        let deadline_ms = chrono::Utc::now().timestamp_millis() + timeout.as_millis() as i64;
        let inv = Invocation {
            request_id: id.clone(),
            payload: if req.payload.is_empty() {
                Bytes::from_static(b"{}")
            } else {
                req.payload.clone()
            },
            deadline_ms,
            invoked_arn: req.invoked_arn.clone(),
            trace_id: trace_id(),
            client_context: req.client_context.clone(),
        };
        let outcome = match env.deliver(inv) {
            Ok(rx) => tokio::time::timeout(timeout, rx).await,
            Err(_) => Ok(Ok(Outcome::Exited(ExitInfo::Code(-1)))),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        // (body, function error, keep env, error type for REPORT, timed out)
        let (body, failed, keep, err_type, timed_out) = match outcome {
            Ok(Ok(Outcome::Response(b))) => (b, false, true, None, false),
            Ok(Ok(Outcome::Error(b, t))) => {
                let et = t.or_else(|| error_type_of(&b));
                (b, true, true, et, false)
            }
            Ok(Ok(Outcome::TooLarge)) => (
                Bytes::from(format!(
                    "{{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size ({} bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}}",
                    env::MAX_RESPONSE
                )),
                true,
                // The runtime was refused its response (413); clients such as awslambdaric exit on that, so the
                // environment is reset rather than handed to the next event.
                false,
                Some("Function.ResponseSizeTooLarge".into()),
                false,
            ),
            Ok(Ok(Outcome::InitError(b, t))) => (b, true, false, t, false),
            Ok(Ok(Outcome::Exited(info))) => {
                let (et, msg) = exit_error(&env, &id, &info);
                (platform_error(&et, &msg), true, false, Some(et), false)
            }
            Ok(Err(_)) => {
                let (et, msg) = exit_error(&env, &id, &ExitInfo::Code(-1));
                (platform_error(&et, &msg), true, false, Some(et), false)
            }
            Err(_) => {
                env.abandon();
                let msg = format!("RequestId: {id} Error: Task timed out after {:.2} seconds", f64::from(spec.timeout_s));
                (platform_error("Sandbox.Timedout", &msg), true, false, Some("Sandbox.Timedout".into()), true)
            }
        };
        if req.tail {
            // Let the output pumps catch up with what the handler printed just before answering.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if !keep {
            // Kill first so Max Memory Used covers the whole life of the process; release after reading it.
            env.kill();
        }
        let max_memory = env.max_memory_mb();
        if !keep {
            env.shutdown();
        }
        let status = if timed_out {
            Status::Timeout
        } else if keep {
            Status::Success
        } else {
            Status::Error(err_type.unwrap_or_else(|| "Runtime.Unknown".into()))
        };
        write_end_and_report(
            &log,
            &Report {
                request_id: &id,
                duration_ms,
                billed_ms: duration_ms.ceil().max(1.0) as u64,
                memory_mb: spec.memory_mb,
                max_memory_mb: max_memory,
                init_ms,
                status,
            },
        );
        let log_result = tail_result(&log, req.tail);
        if keep {
            self.put_idle(k, env);
        }
        InvokeResponse {
            body,
            function_error: failed,
            log_result,
        }
    }
}

/// How an invocation ended, as REPORT states it.
enum Status {
    Success,
    Timeout,
    Error(String),
}

impl Status {
    /// The closing `Status: …` text (empty on success).
    fn text(&self) -> String {
        match self {
            Status::Success => String::new(),
            Status::Timeout => "Status: timeout".into(),
            Status::Error(t) => format!("Status: error\tError Type: {t}"),
        }
    }
}

/// The numbers of one REPORT line.
struct Report<'a> {
    request_id: &'a str,
    duration_ms: f64,
    billed_ms: u64,
    memory_mb: u32,
    max_memory_mb: u64,
    init_ms: Option<f64>,
    status: Status,
}

fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// END and REPORT exactly as AWS prints them: every field followed by a tab; a failure status closes the line.
fn write_end_and_report(log: &logs::LogStream, r: &Report<'_>) {
    log.line(&format!("END RequestId: {}", r.request_id));
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        r.request_id, r.duration_ms, r.billed_ms, r.memory_mb, r.max_memory_mb
    );
    if let Some(i) = r.init_ms {
        line.push_str(&format!("Init Duration: {i:.2} ms\t"));
    }
    line.push_str(&r.status.text());
    log.line(&line);
}

/// The base64 tail for `X-Amz-Log-Result`, when the caller asked for it.
fn tail_result(log: &logs::LogStream, tail: bool) -> Option<String> {
    tail.then(|| base64::engine::general_purpose::STANDARD.encode(log.take_tail()))
}

fn error_type_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("errorType")?.as_str().map(str::to_string)
}

fn exit_error(env: &Env, id: &str, info: &ExitInfo) -> (String, String) {
    if env.oom_killed() {
        return (
            "Runtime.OutOfMemory".into(),
            format!("RequestId: {id} Error: Runtime exited with error: signal: killed"),
        );
    }
    match info {
        ExitInfo::Code(0) | ExitInfo::Code(-1) => (
            "Runtime.ExitError".into(),
            format!("RequestId: {id} Error: Runtime exited without providing a reason"),
        ),
        other => (
            "Runtime.ExitError".into(),
            format!(
                "RequestId: {id} Error: Runtime exited with error: {}",
                other.describe()
            ),
        ),
    }
}

fn trace_id() -> String {
    let now = chrono::Utc::now().timestamp();
    let r: [u8; 12] = rand::random();
    let p: [u8; 8] = rand::random();
    format!(
        "Root=1-{now:08x}-{};Parent={};Sampled=0",
        hex::encode(r),
        hex::encode(p)
    )
}

/// Materialise code and layers, resolve the runtime, and build the process to start. Blocking.
type Prepared = (SpawnSpec, Vec<SpawnSpec>, Option<String>);

fn prepare(
    cache: &CodeCache,
    rcfg: &runtimes::RuntimeConfig,
    spec: &FunctionSpec,
    stream: &str,
) -> Result<Prepared, EngineError> {
    let task_root = cache
        .code_dir(&spec.code_sha256, &spec.code_zip)
        .map_err(|e| {
            EngineError::Internal(format!("cannot extract the deployment package: {e}"))
        })?;
    let layers: Vec<LayerBlob> = spec
        .layers
        .iter()
        .map(|(sha, zip)| LayerBlob {
            sha256: sha.clone(),
            zip: zip.clone(),
        })
        .collect();
    let opt = cache
        .opt_dir(&layers)
        .map_err(|e| EngineError::Internal(format!("cannot extract layers: {e}")))?;
    let mut note = None;
    let try_launch = || {
        runtimes::launch(
            &spec.runtime,
            rcfg,
            &task_root,
            &opt,
            &spec.handler,
            spec.memory_mb,
        )
    };
    let launch = match try_launch() {
        Ok(l) => l,
        Err(runtimes::RuntimeError::ClientMissing { .. }) => {
            runtimes::install(&spec.runtime, rcfg)
                .map_err(|e| EngineError::RuntimeUnavailable(e.to_string()))?;
            note = Some(format!(
                "Lamina installed the runtime client for {}",
                spec.runtime
            ));
            try_launch().map_err(|e| EngineError::RuntimeUnavailable(e.to_string()))?
        }
        Err(runtimes::RuntimeError::BootstrapNotFound { .. }) => {
            return Err(EngineError::InvalidEntrypoint(
                "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into(),
            ))
        }
        Err(e) => return Err(EngineError::RuntimeUnavailable(e.to_string())),
    };
    let mut env: Vec<(String, String)> = Vec::new();
    let task = task_root.to_string_lossy().into_owned();
    let optp = opt.to_string_lossy().into_owned();
    env.push((
        "PATH".into(),
        format!("/usr/local/bin:/usr/bin/:/bin:{optp}/bin"),
    ));
    env.push((
        "LD_LIBRARY_PATH".into(),
        format!("/lib64:/usr/lib64:{task}:{task}/lib:{optp}/lib"),
    ));
    env.push(("LANG".into(), "en_US.UTF-8".into()));
    env.push(("AWS_XRAY_CONTEXT_MISSING".into(), "LOG_ERROR".into()));
    env.extend(launch.env.iter().cloned());
    // User variables override the defaults above but never the reserved ones below.
    for (k, v) in &spec.environment {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    let reserved = [
        ("_HANDLER", spec.handler.clone()),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_string()),
        ("LAMBDA_TASK_ROOT", task.clone()),
        (
            "LAMBDA_RUNTIME_DIR",
            rcfg.cache_dir.to_string_lossy().into_owned(),
        ),
        ("TZ", ":UTC".into()),
    ];
    for (k, v) in reserved {
        env.retain(|(ek, _)| ek != k);
        env.push((k.to_string(), v));
    }
    if spec.log_format == "JSON" {
        env.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
    }
    // External extensions: every executable file in /opt/extensions, with the function's environment less
    // the internal underscore variables.
    let mut extensions = Vec::new();
    if let Ok(dir) = std::fs::read_dir(opt.join("extensions")) {
        let mut files: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            use std::os::unix::fs::PermissionsExt;
            let executable = std::fs::metadata(&f)
                .map(|m| m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false);
            if !executable {
                continue;
            }
            extensions.push(SpawnSpec {
                program: f,
                args: Vec::new(),
                env: env
                    .iter()
                    .filter(|(k, _)| !k.starts_with('_'))
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                cwd: opt.clone(),
            });
        }
    }
    let process = SpawnSpec {
        program: launch.program,
        args: launch.args,
        env: env.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        cwd: task_root,
    };
    Ok((process, extensions, note))
}
