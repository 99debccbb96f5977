//! The invocation benchmarks of issue 3: warm invokes of a no-op `provided.al2023` function beside
//! the health-endpoint floor, cold starts split into their parts with a bare fork+exec beside them,
//! and the server's memory per idle execution environment.

use crate::client::{Conn, Endpoint};
use crate::load::{drive, Op};
use crate::report::Row;
use crate::report_invoke::{
    ColdSet, IdleMemory, Invocation, SpawnRow, WarmRow, FREEZE_NOW, MAIN, SMALL_MEMORY,
};
use crate::stats::Summary;
use crate::{machine, progress, testfn, Args, Bench, Timed};
use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// MemorySize of the benchmarked functions: two vCPUs of CPU quota (1,769 MB is one), so that the
/// runtime is not throttled by its cgroup and the figures show the platform.
pub const MEMORY_MB: u32 = 3538;
/// The concurrencies of the warm scenarios (and of their floors).
pub const LEVELS: [usize; 3] = [1, 8, 64];
/// Slices a warm scenario and its floor each take turns in.
pub const SLICES: u32 = 10;
/// How long a CreateFunction may stay Pending.
const ACTIVE_LIMIT: Duration = Duration::from_secs(60);
/// How long a runtime started by the fork+exec baseline may run.
const SPAWN_LIMIT: Duration = Duration::from_secs(10);
/// How long the memory reading waits after the last invoke, for the environments to go idle and
/// be frozen (the server's default grace is 50 ms).
pub const SETTLE: Duration = Duration::from_millis(500);

/// How much the invocation benchmarks do.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Warm-up and measured time of a warm scenario at concurrency 1 and 8.
    pub warm: Timed,
    /// The same at concurrency 64, whose warm-up also starts 56 more environments.
    pub wide: Timed,
    /// Fresh functions per cold-start set.
    pub cold: usize,
    /// Idle environments for the memory reading.
    pub idle: usize,
    /// Runs of each fork+exec baseline.
    pub spawns: usize,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
        let secs = Duration::from_secs_f64;
        if quick {
            Plan {
                warm: Timed {
                    warmup: secs(0.3),
                    measure: secs(1.0),
                },
                wide: Timed {
                    warmup: secs(1.0),
                    measure: secs(1.0),
                },
                cold: 5,
                idle: 10,
                spawns: 20,
            }
        } else {
            Plan {
                warm: Timed {
                    warmup: secs(1.0),
                    measure: secs(5.0),
                },
                wide: Timed {
                    warmup: secs(2.0),
                    measure: secs(5.0),
                },
                cold: 30,
                idle: 50,
                spawns: 100,
            }
        }
    }
}

/// Run every invocation benchmark, each server after the other: server 3 (warm, the 128 MB row,
/// cold starts, the fork+exec baseline), server 4 (memory per idle environment), server 5
/// (`--freeze-after-ms 0`).
pub async fn run(args: &Args, plan: Plan, bootstrap: &Path) -> anyhow::Result<Invocation> {
    let binary = std::fs::read(bootstrap)
        .with_context(|| format!("reading the test function {}", bootstrap.display()))?;
    let shared = Code::new(&testfn::package(&binary, None)?);
    let load_start = machine::load_average();

    // Server 3.
    let server = Bench::start(args, "server 3", &[]).await?;
    let noop = "bench-noop";
    server.create(noop, &shared, MEMORY_MB).await?;
    let mut floors = Vec::new();
    let mut warm = Vec::new();
    for c in LEVELS {
        let phase = if c > 8 { plan.wide } else { plan.warm };
        let (floor, row) = server
            .paired(MAIN, invoke(noop), c, phase, "server 3")
            .await?;
        warm.push(WarmRow::against(row, std::slice::from_ref(&floor), None));
        floors.push(floor);
    }
    let small = "bench-noop-128";
    server.create(small, &shared, SMALL_MEMORY).await?;
    let name = format!("{MAIN}, MemorySize {SMALL_MEMORY} MB (7 % of a CPU)");
    let (floor, row) = server
        .paired(&name, invoke(small), 1, plan.warm, "server 3")
        .await?;
    warm.push(WarmRow::against(row, std::slice::from_ref(&floor), None));
    floors.push(floor);
    // Cold starts: first with the package every function so far shares (its code is in the cache),
    // then with a package of its own per function (extracted on its first invoke).
    let cached = server
        .cold_set(
            "Code cached",
            "the functions share the package of the warm scenarios' functions, whose code is already \
             in the cache",
            "bench-cold-cached-",
            plan.cold,
            |_| Ok(shared.clone()),
        )
        .await?;
    let fresh = server
        .cold_set(
            "First extraction",
            "each function has a package of its own (a tag file added), extracted on its first invoke",
            "bench-cold-fresh-",
            plan.cold,
            |i| Ok(Code::new(&testfn::package(&binary, Some(&format!("fresh {i}")))?)),
        )
        .await?;
    let spawn = spawn_baseline(bootstrap, plan.spawns).await?;
    server.stop();

    // Server 4: memory, on a server that has done nothing but this.
    let idle = idle_memory(args, &plan, &shared).await?;

    // Server 5: freezing at once.
    let server = Bench::start(args, "server 5", &["--freeze-after-ms", "0"]).await?;
    server.create(noop, &shared, MEMORY_MB).await?;
    let name = format!("{MAIN}, frozen between invocations");
    let (floor, row) = server
        .paired(&name, invoke(noop), 1, plan.warm, "server 5")
        .await?;
    warm.push(WarmRow::against(
        row,
        std::slice::from_ref(&floor),
        Some(FREEZE_NOW),
    ));
    floors.push(floor);
    server.stop();

    Ok(Invocation {
        load_start,
        load_end: machine::load_average(),
        memory_mb: MEMORY_MB,
        floors,
        warm,
        cold: vec![cached, fresh],
        spawn,
        idle,
        plan,
    })
}

fn invoke(name: &str) -> Op {
    Op::Invoke {
        name: name.to_owned(),
        expect: Bytes::from_static(testfn::NOOP_REPLY),
    }
}

/// A deployment package, base64-encoded for CreateFunction.
#[derive(Clone)]
struct Code {
    base64: std::sync::Arc<String>,
}

impl Code {
    fn new(zip: &[u8]) -> Code {
        Code {
            base64: std::sync::Arc::new(base64::engine::general_purpose::STANDARD.encode(zip)),
        }
    }
}

impl Bench {
    /// `op` at concurrency `c` and the floor at the same concurrency, measured in turns: after a
    /// warm-up of each, [`SLICES`] slices of each alternate, so that both see the machine in the
    /// same state. Returns the floor's row (named after `server` and the scenario) and the
    /// scenario's; each row's wall time is the sum of its slices.
    async fn paired(
        &self,
        name: &str,
        op: Op,
        c: usize,
        phase: Timed,
        server: &str,
    ) -> anyhow::Result<(Row, Row)> {
        let op = Arc::new(op);
        let health = Arc::new(Op::Health);
        let endless = || 0..usize::MAX;
        let fail = || self.failed(name);
        let (mut floor_conns, _) = drive(
            &self.ep,
            &health,
            self.connect(c).await?,
            endless(),
            phase.warmup / 4,
        )
        .await
        .with_context(fail)?;
        let (mut op_conns, _) = drive(
            &self.ep,
            &op,
            self.connect(c).await?,
            endless(),
            phase.warmup,
        )
        .await
        .with_context(fail)?;
        let slice = phase.measure / SLICES;
        let (mut floor_samples, mut op_samples) = (Vec::new(), Vec::new());
        let (mut floor_wall, mut op_wall) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..SLICES {
            let (conns, m) = drive(&self.ep, &health, floor_conns, endless(), slice)
                .await
                .with_context(fail)?;
            floor_conns = conns;
            floor_samples.extend(m.samples);
            floor_wall += m.wall;
            let (conns, m) = drive(&self.ep, &op, op_conns, endless(), slice)
                .await
                .with_context(fail)?;
            op_conns = conns;
            op_samples.extend(m.samples);
            op_wall += m.wall;
        }
        let row = |name: String, samples: Vec<Duration>, wall: Duration| {
            let summary = Summary::of(samples, c)
                .with_context(|| format!("{name}: nothing measured at c={c}"))?;
            anyhow::Ok(Row {
                name,
                concurrency: c,
                summary,
                cut_short: None,
                wall,
                target: None,
            })
        };
        let floor = row(
            format!("{server}, in turns with {name}"),
            floor_samples,
            floor_wall,
        )?;
        let row = row(name.to_owned(), op_samples, op_wall)?;
        progress(&format!(
            "{name} c={c}: n={} p50 {} p99 {}; floor p50 {}",
            row.summary.n,
            crate::report::ms(row.summary.p50),
            crate::report::ms(row.summary.p99),
            crate::report::ms(floor.summary.p50)
        ));
        Ok((floor, row))
    }

    /// Create a no-op function on `code` and wait until it is Active.
    async fn create(&self, name: &str, code: &Code, memory_mb: u32) -> anyhow::Result<()> {
        let mut conn = self.ep.connect().await?;
        create_function(&self.ep, &mut conn, name, code, memory_mb)
            .await
            .with_context(|| self.failed(&format!("creating {name}")))?;
        wait_active(&self.ep, &mut conn, name)
            .await
            .with_context(|| self.failed(&format!("waiting for {name}")))
    }

    /// Create `n` functions (untimed, all Active before the first invoke), then invoke each once,
    /// one after the other on one connection, and pair each invoke with the server's account of
    /// its cold start.
    async fn cold_set(
        &self,
        short: &'static str,
        label: &str,
        prefix: &str,
        n: usize,
        code: impl Fn(usize) -> anyhow::Result<Code>,
    ) -> anyhow::Result<ColdSet> {
        let mut conn = self.ep.connect().await?;
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i:03}")).collect();
        for (i, name) in names.iter().enumerate() {
            create_function(&self.ep, &mut conn, name, &code(i)?, MEMORY_MB)
                .await
                .with_context(|| self.failed(&format!("creating {name}")))?;
        }
        for name in &names {
            wait_active(&self.ep, &mut conn, name).await?;
        }
        let before = self.metrics(&mut conn).await?.len();
        let mut latency = Vec::with_capacity(n);
        for name in &names {
            let req = self.ep.signed(
                Method::POST,
                &format!("/2015-03-31/functions/{name}/invocations"),
                "",
                Bytes::from_static(b"{}"),
            )?;
            let (reply, took) = conn
                .send(req)
                .await
                .with_context(|| self.failed(&format!("invoking {name}")))?;
            let reply = reply.expect(StatusCode::OK, "Invoke (cold)")?;
            anyhow::ensure!(
                reply.body.as_ref() == testfn::NOOP_REPLY,
                "the cold invoke of {name} returned {:?}",
                String::from_utf8_lossy(&reply.body)
            );
            latency.push(took);
        }
        let starts = self.metrics(&mut conn).await?;
        anyhow::ensure!(
            starts.len() == before + n,
            "the server recorded {} cold starts during {n} cold invokes",
            starts.len().saturating_sub(before)
        );
        let parts = &starts[starts.len() - n..];
        let us = Duration::from_micros;
        let platform: Vec<Duration> = latency
            .iter()
            .zip(parts)
            .map(|(e2e, p)| e2e.saturating_sub(us(p.init_us)))
            .collect();
        let of = |v: Vec<Duration>| Summary::of(v, 1).context("no cold starts measured");
        let set = ColdSet {
            label: label.to_owned(),
            short,
            end_to_end: of(latency)?,
            materialise: of(parts.iter().map(|p| us(p.materialise_us)).collect())?,
            start: of(parts.iter().map(|p| us(p.start_us)).collect())?,
            init: of(parts.iter().map(|p| us(p.init_us)).collect())?,
            platform: of(platform)?,
        };
        progress(&format!(
            "cold starts, {short}: n={n} p50 {} (platform-added {})",
            crate::report::ms(set.end_to_end.p50),
            crate::report::ms(set.platform.p50)
        ));
        Ok(set)
    }

    /// The cold starts the server has recorded (up to its last 1,000), oldest first.
    async fn metrics(&self, conn: &mut Conn) -> anyhow::Result<Vec<ColdParts>> {
        Ok(self.metrics_full(conn).await?.1)
    }

    /// `GET /_lamina/metrics`: idle environments, and the recorded cold starts.
    async fn metrics_full(&self, conn: &mut Conn) -> anyhow::Result<(usize, Vec<ColdParts>)> {
        let (reply, _) = conn.send(self.ep.plain_get("/_lamina/metrics")?).await?;
        let v = reply.expect(StatusCode::OK, "/_lamina/metrics")?.json()?;
        let idle = v
            .get("idle_environments")
            .and_then(serde_json::Value::as_u64)
            .context("/_lamina/metrics has no idle_environments")?;
        let starts = v
            .get("cold_starts")
            .and_then(serde_json::Value::as_array)
            .context("/_lamina/metrics has no cold_starts")?
            .iter()
            .map(|c| {
                let field = |k: &str| {
                    c.get(k)
                        .and_then(serde_json::Value::as_u64)
                        .with_context(|| format!("a cold start without {k}"))
                };
                Ok(ColdParts {
                    materialise_us: field("materialise_us")?,
                    start_us: field("start_us")?,
                    init_us: field("init_us")?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((idle as usize, starts))
    }
}

/// One cold start as the server reports it.
struct ColdParts {
    materialise_us: u64,
    start_us: u64,
    init_us: u64,
}

async fn create_function(
    ep: &Endpoint,
    conn: &mut Conn,
    name: &str,
    code: &Code,
    memory_mb: u32,
) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "FunctionName": name,
        "Runtime": "provided.al2023",
        "Handler": "x",
        "Role": "arn:aws:iam::000000000000:role/r",
        "MemorySize": memory_mb,
        "Timeout": 30,
        "Environment": { "Variables": { "MODE": "noop" } },
        "Code": { "ZipFile": code.base64.as_str() },
    });
    let req = ep.signed(
        Method::POST,
        "/2015-03-31/functions",
        "",
        Bytes::from(serde_json::to_vec(&body)?),
    )?;
    conn.send(req)
        .await?
        .0
        .expect(StatusCode::CREATED, "CreateFunction")?;
    Ok(())
}

/// Poll GetFunctionConfiguration (bounded) until the function is Active.
async fn wait_active(ep: &Endpoint, conn: &mut Conn, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + ACTIVE_LIMIT;
    loop {
        let path = format!("/2015-03-31/functions/{name}/configuration");
        let req = ep.signed(Method::GET, &path, "", Bytes::new())?;
        let reply = conn
            .send(req)
            .await?
            .0
            .expect(StatusCode::OK, "GetFunctionConfiguration")?;
        let config = reply.json()?;
        match config.get("State").and_then(|s| s.as_str()) {
            Some("Active") => return Ok(()),
            Some("Pending") | None => {}
            Some(other) => anyhow::bail!(
                "{name} is {other}: {}",
                config
                    .get("StateReason")
                    .and_then(|s| s.as_str())
                    .unwrap_or("no reason given")
            ),
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{name} was not Active within {ACTIVE_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Server 4: RSS before and after `plan.idle` environments exist, each the one environment of its
/// own function. The functions are created first and the server is then restarted on the same data,
/// so that the heap its readings start from holds no garbage of the large CreateFunction bodies
/// (free heap that later allocations would reuse without growing RSS, hiding them).
async fn idle_memory(args: &Args, plan: &Plan, code: &Code) -> anyhow::Result<IdleMemory> {
    let mut server = Bench::start(args, "server 4", &[]).await?;
    // One function invoked before the first reading, so that what a server initialises on its first
    // invoke (the code cache, the cgroup hierarchy, lazily built state) is in the baseline rather
    // than divided among the others.
    let first = "bench-mem-first";
    let names: Vec<String> = (0..plan.idle)
        .map(|i| format!("bench-mem-{i:03}"))
        .collect();
    server.create(first, code, MEMORY_MB).await?;
    for name in &names {
        server.create(name, code, MEMORY_MB).await?;
    }
    server.restart(args, &[]).await?;
    let fresh = server.server.memory()?;
    let mut conn = server.ep.connect().await?;
    invoke_once(&server, &mut conn, first).await?;
    tokio::time::sleep(SETTLE).await;
    let before = server.server.memory()?;
    let runtimes_before = server.server.children()?;
    for name in &names {
        invoke_once(&server, &mut conn, name).await?;
    }
    tokio::time::sleep(SETTLE).await;
    let after = server.server.memory()?;
    let runtimes_after = server.server.children()?;
    let (idle, _) = server.metrics_full(&mut conn).await?;
    anyhow::ensure!(
        idle > plan.idle,
        "only {idle} idle environments after invoking {} functions once each",
        plan.idle + 1
    );
    progress(&format!(
        "{} idle environments: server RSS {} → {} KiB, runtimes' RSS {} KiB in {} processes",
        idle, before.rss_kib, after.rss_kib, runtimes_after.rss_kib, runtimes_after.count
    ));
    drop(conn);
    server.stop();
    Ok(IdleMemory {
        environments: plan.idle,
        idle_reported: idle,
        fresh,
        before,
        after,
        runtimes_before,
        runtimes_after,
    })
}

async fn invoke_once(server: &Bench, conn: &mut Conn, name: &str) -> anyhow::Result<()> {
    let req = server.ep.signed(
        Method::POST,
        &format!("/2015-03-31/functions/{name}/invocations"),
        "",
        Bytes::from_static(b"{}"),
    )?;
    let reply = conn
        .send(req)
        .await
        .with_context(|| server.failed(&format!("invoking {name}")))?
        .0
        .expect(StatusCode::OK, "Invoke")?;
    anyhow::ensure!(
        reply.body.as_ref() == testfn::NOOP_REPLY,
        "{name} returned {:?}",
        String::from_utf8_lossy(&reply.body)
    );
    Ok(())
}

/// The fork+exec baseline: time from spawning a process to having reaped it, for `/bin/true` and
/// for the test function's `bootstrap` pointed at a Runtime API port where nothing listens (its
/// runtime starts, fails to connect, and exits).
async fn spawn_baseline(bootstrap: &Path, n: usize) -> anyhow::Result<Vec<SpawnRow>> {
    // A port that was free a moment ago: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut rows = Vec::new();
    let cases: [(&str, &Path, bool); 2] = [
        ("`/bin/true`", Path::new("/bin/true"), false),
        (
            "`bootstrap`, Runtime API port closed (runtime init, then exit)",
            bootstrap,
            true,
        ),
    ];
    for (label, program, runtime) in cases {
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let mut cmd = tokio::process::Command::new(program);
            cmd.env_clear()
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true);
            if runtime {
                cmd.envs([
                    ("AWS_LAMBDA_RUNTIME_API", closed.to_string().as_str()),
                    ("AWS_LAMBDA_FUNCTION_NAME", "bench-baseline"),
                    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3538"),
                    ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench-baseline"),
                    ("AWS_LAMBDA_LOG_STREAM_NAME", "baseline"),
                    ("MODE", "noop"),
                ]);
            }
            let start = Instant::now();
            let mut child = cmd
                .spawn()
                .with_context(|| format!("starting {}", program.display()))?;
            tokio::time::timeout(SPAWN_LIMIT, child.wait())
                .await
                .with_context(|| {
                    format!("{} ran for longer than {SPAWN_LIMIT:?}", program.display())
                })??;
            samples.push(start.elapsed());
        }
        let summary = Summary::of(samples, 1).context("no spawns measured")?;
        progress(&format!(
            "fork+exec {label}: p50 {}",
            crate::report::ms(summary.p50)
        ));
        rows.push(SpawnRow {
            label: label.to_owned(),
            summary,
        });
    }
    Ok(rows)
}
