//! `lamina-bench`: the end-to-end benchmark harness. It starts `lamina` servers, measures the Lambda
//! API scenarios of issue 2 and the invocation scenarios of issue 3 beside a plain-HTTP floor on the
//! same server, and writes `BENCHMARKS.md`. Of the code it measures it builds only the test function
//! it invokes; it is not part of `cargo test`.

mod client;
mod invocation;
mod load;
mod machine;
mod package;
mod report;
mod report_invoke;
mod server;
mod stats;
mod testfn;

use anyhow::Context;
use clap::Parser;
use client::{Conn, Endpoint};
use load::{drive, Measured, Op};
use package::Payload;
use report::{Creates, FleetStep, Report, Row, Section, Target};
use server::Server;
use stats::Summary;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "lamina-bench",
    about = "Benchmark a lamina server end to end and write BENCHMARKS.md"
)]
struct Args {
    /// The lamina binary to start (build it first: `cargo build --release -p lamina`).
    #[arg(long, default_value = "target/release/lamina")]
    lamina: PathBuf,
    /// Write the report here (an existing file's Analysis section is kept); without it, print it.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Leave the server's data directory and log in place (its path is printed), to look into a failure.
    #[arg(long)]
    keep_data: bool,
    /// Smaller fleets and fewer iterations: a smoke test of the harness, not a reference run.
    #[arg(long)]
    quick: bool,
    /// The Cargo manifest of the function the invocation benchmarks run (built with `cargo build --release`).
    #[arg(long, default_value = "testdata/functions/rust/Cargo.toml")]
    testfn_manifest: PathBuf,
    /// The target directory for that build.
    #[arg(long, default_value = "target/testfn")]
    testfn_target: PathBuf,
}

/// How much a run does.
struct Scale {
    small_fleet: usize,
    large_fleet: usize,
    /// Iterations of the cheap scenarios (floor c=1, GetFunction, GetAccountSettings).
    cheap: usize,
    list_pages: usize,
    list_full: usize,
    publishes: usize,
    create_1m: usize,
    create_40m: usize,
}

impl Scale {
    fn new(quick: bool) -> Scale {
        if quick {
            Scale {
                small_fleet: 100,
                large_fleet: 500,
                cheap: 100,
                list_pages: 50,
                list_full: 5,
                publishes: 20,
                create_1m: 5,
                create_40m: 2,
            }
        } else {
            Scale {
                small_fleet: 1_000,
                large_fleet: 10_000,
                cheap: 1_000,
                list_pages: 500,
                list_full: 30,
                publishes: 200,
                create_1m: 30,
                create_40m: 8,
            }
        }
    }
}

const MIB: usize = 1024 * 1024;
/// Deadline of one measured phase of a scenario (its warm-up has the same again).
const PHASE_LIMIT: Duration = Duration::from_secs(180);
/// Deadline of one fleet-building step.
const FLEET_LIMIT: Duration = Duration::from_secs(1200);
/// How long the server may take to answer its health check after printing its address.
const READY_LIMIT: Duration = Duration::from_secs(10);
/// Concurrency of the loaded scenarios and of fleet building.
const WIDE: usize = 8;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lamina-bench: starting the tokio runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lamina-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One scenario: `warmup` discarded operations, then `count` measured ones, from `concurrency` tasks.
struct Scenario {
    name: String,
    op: Op,
    concurrency: usize,
    warmup: usize,
    count: usize,
    target: Option<Target>,
}

/// The two durations of a phase bounded by time rather than by count (the invocation scenarios).
#[derive(Debug, Clone, Copy)]
struct Timed {
    warmup: Duration,
    measure: Duration,
}

fn scenario(
    name: impl Into<String>,
    op: Op,
    concurrency: usize,
    (warmup, count): (usize, usize),
    target: Option<Target>,
) -> Scenario {
    Scenario {
        name: name.into(),
        op,
        concurrency,
        warmup,
        count,
        target,
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let scale = Scale::new(args.quick);
    let began = Instant::now();
    let started_utc = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    anyhow::ensure!(
        args.lamina.is_file(),
        "no lamina binary at {}; build it first with `cargo build --release -p lamina`",
        args.lamina.display()
    );
    let small_package = Arc::new(Payload::random(0, 1));
    let one_mib = Arc::new(Payload::random(MIB, 2));
    let (small, large) = (
        report::thousands(scale.small_fleet),
        report::thousands(scale.large_fleet),
    );
    let mut floors = Vec::new();
    // The function the invocation benchmarks run, built first so that a failed build fails fast.
    progress("building the test function");
    let bootstrap = testfn::build(&args.testfn_manifest, &args.testfn_target).await?;

    // Server 1: the small fleet and the scenarios on it.
    let server = Bench::start(&args, "server 1", &[]).await?;
    let machine = machine::Machine::probe(server.server.dir(), &args.lamina);
    let mut floor = server.floor(&scale, "server 1, start").await?;
    server.fleet(&small_package, 0, scale.small_fleet).await?;
    let rows = server
        .rows(scenarios(
            &scale,
            scale.small_fleet,
            &small_package,
            &one_mib,
            None,
        ))
        .await?;
    floor.extend(server.floor(&scale, "server 1, end").await?);
    floors.extend(floor.iter().cloned());
    let at_small = Section {
        title: format!("Lambda API with {small} functions"),
        context: format!("{small} functions"),
        floor,
        rows,
    };
    server.stop();

    // Server 2: memory while the large fleet is created with nothing else going on, then the
    // scenarios on the large fleet, the 40 MiB uploads last.
    let server = Bench::start(&args, "server 2", &[]).await?;
    let mut floor = server.floor(&scale, "server 2, start").await?;
    let mut fleet = vec![FleetStep {
        label: "Server 2 after its floor".into(),
        functions: 0,
        creates: None,
        memory: server.server.memory()?,
    }];
    fleet.push(server.fleet(&small_package, 0, scale.small_fleet).await?);
    fleet.push(
        server
            .fleet(&small_package, scale.small_fleet, scale.large_fleet)
            .await?,
    );
    let forty_mib = Arc::new(Payload::random(40 * MIB, 3));
    let rows = server
        .rows(scenarios(
            &scale,
            scale.large_fleet,
            &small_package,
            &one_mib,
            Some(forty_mib),
        ))
        .await?;
    let memory_end = server.server.memory()?;
    floor.extend(server.floor(&scale, "server 2, end").await?);
    floors.extend(floor.iter().cloned());
    let at_large = Section {
        title: format!("Lambda API with {large} functions"),
        context: format!("{large} functions"),
        floor,
        rows,
    };
    server.stop();

    // Servers 3–5: invocation.
    let invocation = invocation::run(&args, invocation::Plan::new(args.quick), &bootstrap).await?;

    let report = Report {
        machine,
        quick: args.quick,
        started_utc,
        took: began.elapsed(),
        load_end: machine::load_average(),
        floors,
        sections: vec![at_small, at_large],
        fleet,
        memory_end,
        small_fleet: scale.small_fleet,
        large_fleet: scale.large_fleet,
        invocation,
    };
    match &args.write {
        Some(path) => {
            let previous = std::fs::read_to_string(path).ok();
            std::fs::write(path, report.render(previous.as_deref()))
                .with_context(|| format!("writing {}", path.display()))?;
            progress(&format!("wrote {}", path.display()));
        }
        None => print!("{}", report.render(None)),
    }
    Ok(())
}

/// The scenarios run on a server holding a fleet of `n` functions; the 40 MiB uploads, when
/// given, come last.
fn scenarios(
    scale: &Scale,
    n: usize,
    tiny: &Arc<Payload>,
    one_mib: &Arc<Payload>,
    forty_mib: Option<Arc<Payload>>,
) -> Vec<Scenario> {
    let cheap = (scale.cheap / 10, scale.cheap);
    // Publishes go round-robin over the fleet, warm-up included: one new version per function.
    let publishes = (
        scale.publishes / 10,
        scale.publishes.min(n - scale.publishes / 10),
    );
    let small = Some(Target::Small);
    let mut list = vec![
        scenario("GetFunction", Op::GetFunction { fleet: n }, 1, cheap, small),
        scenario(
            "GetFunction",
            Op::GetFunction { fleet: n },
            WIDE,
            (scale.cheap / 2, scale.cheap * 4),
            None,
        ),
        scenario(
            "ListFunctions, first page of 50",
            Op::ListPage,
            1,
            (scale.list_pages / 10, scale.list_pages),
            small,
        ),
        scenario(
            format!(
                "ListFunctions, all {} functions ({} pages)",
                report::thousands(n),
                n.div_ceil(50)
            ),
            Op::ListAll { expect: n },
            1,
            // A listing of the large fleet is many pages: fewer of them.
            (1, (scale.list_full * scale.small_fleet / n).max(3)),
            None,
        ),
        scenario("GetAccountSettings", Op::AccountSettings, 1, cheap, small),
        scenario(
            "PublishVersion (configuration changed)",
            Op::Publish { fleet: n },
            1,
            publishes,
            small,
        ),
        scenario(
            "PublishVersion (nothing changed)",
            Op::PublishUnchanged { fleet: n },
            1,
            publishes,
            small,
        ),
        // Creates come last: the functions they make are not part of the fleet.
        scenario(
            "CreateFunction, handler-only zip (< 1 KiB)",
            Op::Create {
                prefix: "bench-tiny-",
                payload: Arc::clone(tiny),
            },
            1,
            ((scale.create_1m / 10).max(1), scale.create_1m),
            None,
        ),
        scenario(
            "CreateFunction, 1 MiB zip",
            Op::Create {
                prefix: "bench-1m-",
                payload: Arc::clone(one_mib),
            },
            1,
            ((scale.create_1m / 10).max(1), scale.create_1m),
            Some(Target::Create1M),
        ),
    ];
    if let Some(payload) = forty_mib {
        list.push(scenario(
            "CreateFunction, 40 MiB zip",
            Op::Create {
                prefix: "bench-40m-",
                payload,
            },
            1,
            (1, scale.create_40m),
            None,
        ));
    }
    list
}

/// A server under test and the endpoint that reaches it.
struct Bench {
    ep: Endpoint,
    server: Server,
}

impl Bench {
    /// Start a server (with `extra` arguments after the harness's own) and wait until it answers.
    async fn start(args: &Args, label: &str, extra: &[&str]) -> anyhow::Result<Bench> {
        let server = Server::start(&args.lamina, args.keep_data, extra)?;
        if args.keep_data {
            progress(&format!(
                "{label}: keeping its directory {}",
                server.dir().display()
            ));
        }
        let ep = Endpoint::new(server.addr())?;
        wait_ready(&ep, &server).await?;
        progress(&format!(
            "{label} up at {} (pid {})",
            server.addr(),
            server.pid()
        ));
        Ok(Bench { ep, server })
    }

    /// Stop the server and start it again (with `extra`) on the same data directory.
    async fn restart(&mut self, args: &Args, extra: &[&str]) -> anyhow::Result<()> {
        self.server.restart(&args.lamina, extra)?;
        self.ep = Endpoint::new(self.server.addr())?;
        wait_ready(&self.ep, &self.server).await?;
        progress(&format!(
            "restarted at {} (pid {})",
            self.server.addr(),
            self.server.pid()
        ));
        Ok(())
    }

    /// Stop the server (and remove its directory unless kept).
    fn stop(self) {
        drop(self);
    }

    /// The floor at concurrency 1 and [`WIDE`].
    async fn floor(&self, scale: &Scale, label: &str) -> anyhow::Result<Vec<Row>> {
        let health = |c: usize, n: usize| scenario("health", Op::Health, c, (n / 10, n), None);
        let mut rows = self
            .rows(vec![
                health(1, scale.cheap * 2),
                health(WIDE, scale.cheap * 4),
            ])
            .await?;
        for r in &mut rows {
            r.name = label.to_owned();
        }
        Ok(rows)
    }

    /// Run scenarios one after the other, each on fresh connections (its warm-up warms them).
    async fn rows(&self, scenarios: Vec<Scenario>) -> anyhow::Result<Vec<Row>> {
        let mut rows = Vec::with_capacity(scenarios.len());
        for s in scenarios {
            let op = Arc::new(s.op);
            let conns = self.connect(s.concurrency).await?;
            let (conns, _) = drive(&self.ep, &op, conns, 0..s.warmup, PHASE_LIMIT)
                .await
                .with_context(|| self.failed(&s.name))?;
            let measured = s.warmup..s.warmup + s.count;
            let (_, m) = drive(&self.ep, &op, conns, measured, PHASE_LIMIT)
                .await
                .with_context(|| self.failed(&s.name))?;
            let row = self.to_row(&s.name, s.concurrency, &m, s.target)?;
            progress(&format!(
                "{} c={}: n={} p50 {} p99 {}",
                s.name,
                s.concurrency,
                row.summary.n,
                report::ms(row.summary.p50),
                report::ms(row.summary.p99)
            ));
            rows.push(row);
        }
        Ok(rows)
    }

    /// Create fleet functions `from..to`; the step fails if its deadline cuts it short, since
    /// later scenarios count on the fleet being complete.
    async fn fleet(
        &self,
        payload: &Arc<Payload>,
        from: usize,
        to: usize,
    ) -> anyhow::Result<FleetStep> {
        let op = Arc::new(Op::Create {
            prefix: "bench-fn-",
            payload: Arc::clone(payload),
        });
        let conns = self.connect(WIDE).await?;
        let what = format!("creating functions {from}..{to}");
        let (_, m) = drive(&self.ep, &op, conns, from..to, FLEET_LIMIT)
            .await
            .with_context(|| self.failed(&what))?;
        anyhow::ensure!(
            !m.truncated(),
            "{what}: only {} of {} done within {FLEET_LIMIT:?}",
            m.samples.len(),
            m.asked
        );
        let memory = self.server.memory()?;
        let wall = m.wall;
        let summary = Summary::of(m.samples, WIDE).context("no creates measured")?;
        progress(&format!(
            "{to} functions: {} for {} creates, RSS {} KiB",
            report::human(wall),
            summary.n,
            memory.rss_kib
        ));
        Ok(FleetStep {
            label: format!(
                "Create functions {}–{}",
                report::thousands(from + 1),
                report::thousands(to)
            ),
            functions: to,
            creates: Some(Creates { wall, summary }),
            memory,
        })
    }

    async fn connect(&self, n: usize) -> anyhow::Result<Vec<Conn>> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(self.ep.connect().await?);
        }
        Ok(conns)
    }

    fn to_row(
        &self,
        name: &str,
        concurrency: usize,
        m: &Measured,
        target: Option<Target>,
    ) -> anyhow::Result<Row> {
        let summary = Summary::of(m.samples.clone(), concurrency)
            .with_context(|| format!("{name}: no operation completed before the deadline"))?;
        Ok(Row {
            name: name.to_owned(),
            concurrency,
            summary,
            cut_short: m.truncated().then_some(m.asked),
            wall: m.wall,
            target,
        })
    }

    fn failed(&self, what: &str) -> String {
        format!(
            "{what} failed (server process state: {}); the server log ends:\n{}\n",
            self.server.state(),
            self.server.log_tail()
        )
    }
}

/// Wait (bounded) until the health endpoint answers 200.
async fn wait_ready(ep: &Endpoint, server: &Server) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        if let Ok(mut conn) = ep.connect().await {
            if let Ok((reply, _)) = conn.send(ep.plain_get("/_lamina/health")?).await {
                if reply.status == http::StatusCode::OK {
                    return Ok(());
                }
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not answer its health check within {READY_LIMIT:?}; its log ends:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn progress(msg: &str) {
    eprintln!("[{}] {msg}", chrono::Utc::now().format("%H:%M:%S"));
}
