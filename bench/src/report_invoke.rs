//! The invocation part of `BENCHMARKS.md` (issue 3): warm invokes against their floor, cold starts
//! split into their parts beside a bare fork+exec, and memory per idle environment, each held to the
//! issue's targets.

use crate::report::{mib, ms, rate, ratio, thousands, yes_no, Row};
use crate::server::{Children, Memory};
use crate::stats::Summary;
use std::fmt::Write as _;
use std::time::Duration;

/// MemorySize of the throttled row: AWS's default, 7 % of a CPU.
pub const SMALL_MEMORY: u32 = 128;
/// The note of the row measured with freezing at once.
pub const FREEZE_NOW: &str = "`--freeze-after-ms 0`";

/// Warm invoke at c=1: p50 under this.
pub const WARM_P50: Duration = Duration::from_micros(150);
/// Warm invoke at c=1: p50 within this many times the floor's.
pub const WARM_FLOOR_RATIO: f64 = 3.0;
/// Warm invoke at c=1: p99 under this.
pub const WARM_P99: Duration = Duration::from_millis(1);
/// Invokes per second (wall clock) at concurrency 8: at least this many.
pub const RATE_AT_8: f64 = 10_000.0;
/// Cold-start latency the platform adds (end to end minus the runtime's own init): p50 under this.
pub const PLATFORM_COLD: Duration = Duration::from_millis(10);
/// Server memory per idle environment: under this (2 MiB).
pub const IDLE_ENV_KIB: f64 = 2048.0;

/// A warm scenario and the floor it is divided by.
#[derive(Debug, Clone)]
pub struct WarmRow {
    pub row: Row,
    /// The floor measured with it (in turns), at the same concurrency on the same server.
    pub floor: Option<Row>,
    /// How this row's server differs from the default one, if it does.
    pub server_note: Option<&'static str>,
}

impl WarmRow {
    /// `row`, divided by the better (lower-p50) of `floors` at its concurrency.
    pub fn against(row: Row, floors: &[Row], server_note: Option<&'static str>) -> WarmRow {
        let floor = floors
            .iter()
            .filter(|f| f.concurrency == row.concurrency)
            .min_by_key(|f| f.summary.p50)
            .cloned();
        WarmRow {
            row,
            floor,
            server_note,
        }
    }

    /// Operations per second of wall-clock time.
    fn wall_rate(&self) -> f64 {
        wall_rate(&self.row)
    }

    /// The wall-clock rate of this row's floor.
    fn floor_wall_rate(&self) -> Option<f64> {
        self.floor.as_ref().map(wall_rate)
    }
}

fn wall_rate(r: &Row) -> f64 {
    r.summary.n as f64 / r.wall.as_secs_f64().max(1e-9)
}

/// Cold starts of one kind, each the first invoke of a fresh function.
#[derive(Debug, Clone)]
pub struct ColdSet {
    pub label: String,
    /// A column heading.
    pub short: &'static str,
    /// The client's clock for the whole Invoke.
    pub end_to_end: Summary,
    /// The server's parts: code materialised, process started, runtime init (to its first `/next`).
    pub materialise: Summary,
    pub start: Summary,
    pub init: Summary,
    /// Per invoke, end to end minus runtime init.
    pub platform: Summary,
}

/// The fork+exec baseline for one program.
#[derive(Debug, Clone)]
pub struct SpawnRow {
    pub label: String,
    pub summary: Summary,
}

/// Server memory with and without idle environments.
#[derive(Debug, Clone)]
pub struct IdleMemory {
    /// Environments added between `before` and `after`.
    pub environments: usize,
    /// `idle_environments` as the server reported it afterwards (one more: the first function's).
    pub idle_reported: usize,
    pub fresh: Memory,
    pub before: Memory,
    pub after: Memory,
    pub runtimes_before: Children,
    pub runtimes_after: Children,
}

impl IdleMemory {
    /// Server RSS added per environment, KiB.
    fn per_env_kib(&self) -> f64 {
        (self.after.rss_kib as f64 - self.before.rss_kib as f64) / self.environments.max(1) as f64
    }
}

/// Everything the invocation benchmarks measured.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// 1-minute load average when the invocation benchmarks started and ended.
    pub load_start: String,
    pub load_end: String,
    pub memory_mb: u32,
    /// Every floor measured for them, in order.
    pub floors: Vec<Row>,
    pub warm: Vec<WarmRow>,
    pub cold: Vec<ColdSet>,
    pub spawn: Vec<SpawnRow>,
    pub idle: IdleMemory,
    pub plan: crate::invocation::Plan,
}

/// One target and what the run measured for it.
pub struct Check {
    pub target: String,
    pub scenario: String,
    pub measured: String,
    pub met: bool,
}

impl Invocation {
    /// The main warm row at concurrency `c` (default server, full-size function).
    fn main_warm(&self, c: usize) -> Option<&WarmRow> {
        self.warm
            .iter()
            .find(|w| w.server_note.is_none() && w.row.concurrency == c && w.row.name == MAIN)
    }

    /// The targets against this run.
    pub fn checks(&self) -> Vec<Check> {
        let mut out = Vec::new();
        let mem = thousands(self.memory_mb as usize);
        if let Some(w) = self.main_warm(1) {
            let s = &w.row.summary;
            let scenario = format!("Warm invoke, no-op, {mem} MB, c=1");
            out.push(Check {
                target: format!("Warm p50 < {} µs", WARM_P50.as_micros()),
                scenario: scenario.clone(),
                measured: format!("p50 {}", ms(s.p50)),
                met: s.p50 < WARM_P50,
            });
            if let Some(f) = w.floor.as_ref().map(|f| &f.summary) {
                let r = s.p50.as_secs_f64() / f.p50.as_secs_f64().max(1e-12);
                out.push(Check {
                    target: format!("Warm p50 within {WARM_FLOOR_RATIO}× the floor"),
                    scenario: scenario.clone(),
                    measured: format!("{} ÷ floor {} = {r:.2}×", ms(s.p50), ms(f.p50)),
                    met: r <= WARM_FLOOR_RATIO,
                });
            }
            out.push(Check {
                target: format!("Warm p99 < {} ms", WARM_P99.as_millis()),
                scenario,
                measured: format!("p99 {}", ms(s.p99)),
                met: s.p99 < WARM_P99,
            });
        }
        if let Some(w) = self.main_warm(8) {
            let r = w.wall_rate();
            out.push(Check {
                target: format!("≥ {} invokes/s at c=8", thousands(RATE_AT_8 as usize)),
                scenario: format!("Warm invoke, no-op, {mem} MB, c=8"),
                measured: format!("{}/s (wall clock)", rate(r)),
                met: r >= RATE_AT_8,
            });
        }
        for set in &self.cold {
            out.push(Check {
                target: format!(
                    "Platform-added cold start < {} ms (p50)",
                    PLATFORM_COLD.as_millis()
                ),
                scenario: format!("Cold start, {}", set.short.to_lowercase()),
                measured: format!(
                    "p50 {} (p99 {})",
                    ms(set.platform.p50),
                    ms(set.platform.p99)
                ),
                met: set.platform.p50 < PLATFORM_COLD,
            });
        }
        let per = self.idle.per_env_kib();
        out.push(Check {
            target: "Platform memory per idle environment < 2 MiB".to_owned(),
            scenario: format!(
                "Server RSS before and after {} idle environments",
                self.idle.environments
            ),
            measured: format!("{per:.0} KiB"),
            met: per < IDLE_ENV_KIB,
        });
        out
    }

    /// The method's invocation part.
    pub fn method(&self) -> String {
        let p = &self.plan;
        include_str!("text/method_invoke.md")
            .replace("{warmup}", &crate::report::human(p.warm.warmup))
            .replace("{measure}", &crate::report::human(p.warm.measure))
            .replace("{wide_warmup}", &crate::report::human(p.wide.warmup))
            .replace("{slices}", &crate::invocation::SLICES.to_string())
            .replace(
                "{slice}",
                &crate::report::human(p.warm.measure / crate::invocation::SLICES),
            )
            .replace("{cold}", &thousands(p.cold))
            .replace("{idle}", &thousands(p.idle))
            .replace("{spawns}", &thousands(p.spawns))
    }

    /// The sections of `BENCHMARKS.md` that show these figures (the targets table is separate).
    pub fn render(&self, o: &mut String) {
        self.warm_table(o);
        self.cold_tables(o);
        self.memory_table(o);
    }

    fn warm_table(&self, o: &mut String) {
        let mem = thousands(self.memory_mb as usize);
        let _ = writeln!(
            o,
            "## Invocation: warm (issue 3)\n\n\
             `POST /2015-03-31/functions/NAME/invocations` with the event `{{}}`, SigV4-signed, to a no-op\n\
             `provided.al2023` function (the `lambda_runtime` test function, `MODE=noop`, answering\n\
             `{{\"ok\":true}}`), MemorySize {mem} MB (two vCPUs of CPU quota) unless the row says otherwise.\n\
             Each row warms up first (at c=64 the warm-up also starts the extra environments), then runs\n\
             for a fixed time. `ops/s` here is wall clock: operations completed ÷ the time spent on them,\n\
             client included. The floor is `GET /_lamina/health` on the same server at the same\n\
             concurrency, measured in turns with the row: {} slices of each, alternating, so that the two\n\
             see the machine in the same state (on this shared machine the floor alone moves by a factor of\n\
             three from one moment to the next). Load average (1 min) {} when these benchmarks started,\n\
             {} when they ended.\n",
            crate::invocation::SLICES,
            self.load_start, self.load_end
        );
        let _ = writeln!(
            o,
            "| Scenario | c | n | p50 | p99 | max | ops/s | floor p50 | p50 ÷ floor | ops/s ÷ floor | Target |\n\
             |---|---|---|---|---|---|---|---|---|---|---|"
        );
        for w in &self.warm {
            let s = &w.row.summary;
            let name = match w.server_note {
                Some(note) => format!("{}, server with {note}", w.row.name),
                None => w.row.name.clone(),
            };
            let (floor, p50_ratio, rate_ratio) = match (&w.floor, w.floor_wall_rate()) {
                (Some(f), Some(fr)) => (
                    ms(f.summary.p50),
                    ratio(s.p50.as_secs_f64(), f.summary.p50.as_secs_f64()),
                    ratio(w.wall_rate(), fr),
                ),
                _ => ("—".to_owned(), "—".to_owned(), "—".to_owned()),
            };
            let target = self.row_targets(w);
            let _ = writeln!(
                o,
                "| {name} | {} | {} | {} | {} | {} | {} | {floor} | {p50_ratio} | {rate_ratio} | {target} |",
                w.row.concurrency,
                thousands(s.n),
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                rate(w.wall_rate()),
            );
        }
        let _ = writeln!(
            o,
            "\nThe floors, each measured in turns with the row it names:\n"
        );
        let _ = writeln!(
            o,
            "| Floor | c | n | p50 | p99 | max | ops/s |\n|---|---|---|---|---|---|---|"
        );
        for r in &self.floors {
            let s = &r.summary;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.name,
                r.concurrency,
                thousands(s.n),
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                rate(wall_rate(r))
            );
        }
        let _ = writeln!(o);
    }

    /// The targets a warm row is held to, for its last column.
    fn row_targets(&self, w: &WarmRow) -> String {
        let main = |c| self.main_warm(c).is_some_and(|m| std::ptr::eq(m, w));
        let s = &w.row.summary;
        if main(1) {
            let mut parts = vec![
                format!(
                    "p50 < {} µs: {}",
                    WARM_P50.as_micros(),
                    yes_no(s.p50 < WARM_P50)
                ),
                format!("p99 < 1 ms: {}", yes_no(s.p99 < WARM_P99)),
            ];
            if let Some(f) = w.floor.as_ref().map(|f| &f.summary) {
                let r = s.p50.as_secs_f64() / f.p50.as_secs_f64().max(1e-12);
                parts.insert(
                    1,
                    format!(
                        "≤ {WARM_FLOOR_RATIO}× floor: {}",
                        yes_no(r <= WARM_FLOOR_RATIO)
                    ),
                );
            }
            parts.join("; ")
        } else if main(8) {
            format!(
                "≥ {}/s: {}",
                thousands(RATE_AT_8 as usize),
                yes_no(w.wall_rate() >= RATE_AT_8)
            )
        } else {
            "—".to_owned()
        }
    }

    fn cold_tables(&self, o: &mut String) {
        let n = self.cold.first().map_or(0, |s| s.end_to_end.n);
        let _ = writeln!(
            o,
            "## Invocation: cold start (issue 3)\n\n\
             Each set creates {n} fresh functions (MemorySize {} MB, untimed, all Active first), then invokes\n\
             each once, one after the other, on server 3 after its warm scenarios. End to end is the\n\
             client's clock for the Invoke; the parts are the server's own account of each cold start\n\
             (`GET /_lamina/metrics`): code materialisation (code extracted into the cache, or found there;\n\
             runtime resolved), process start (cgroup created, Runtime API listening, fork+exec of\n\
             `bootstrap`), runtime init (process start to the runtime's first `/next`: the function's own\n\
             start-up). Platform-added is end to end minus runtime init, per invoke: everything the\n\
             platform does around the function, including the HTTP request and the invoke itself.\n",
            thousands(self.memory_mb as usize),
        );
        for set in &self.cold {
            let _ = writeln!(o, "- {}: {}.", set.short, set.label);
        }
        let _ = writeln!(o);
        let mut head = "| Part |".to_owned();
        let mut rule = "|---|".to_owned();
        for set in &self.cold {
            let _ = write!(head, " {}: p50 | p99 |", set.short);
            rule.push_str("---|---|");
        }
        let _ = writeln!(o, "{head}\n{rule}");
        let parts: [(&str, Part); 5] = [
            ("End to end (client)", |s| &s.end_to_end),
            ("Code materialisation", |s| &s.materialise),
            ("Process start", |s| &s.start),
            ("Runtime init", |s| &s.init),
            ("**Platform-added** (end to end − runtime init)", |s| {
                &s.platform
            }),
        ];
        for (label, part) in parts {
            let _ = write!(o, "| {label} |");
            for set in &self.cold {
                let s = part(set);
                let _ = write!(o, " {} | {} |", ms(s.p50), ms(s.p99));
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(
            o,
            "\nBaseline in the same run: a bare fork+exec from the harness (`tokio::process`, which\n\
             uses `posix_spawn` where it can), timed from spawn to reaping the exited process.\n"
        );
        let _ = writeln!(
            o,
            "| Process | n | p50 | p99 | max |\n|---|---|---|---|---|"
        );
        for r in &self.spawn {
            let s = &r.summary;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                r.label,
                thousands(s.n),
                ms(s.p50),
                ms(s.p99),
                ms(s.max)
            );
        }
        let _ = writeln!(o);
    }

    fn memory_table(&self, o: &mut String) {
        let m = &self.idle;
        let k = m.environments;
        let _ = writeln!(
            o,
            "## Invocation: memory per idle environment (issue 3)\n\n\
             Server 4: {} functions created (MemorySize {} MB, same code), then the server restarted on\n\
             the same data directory, so that its heap holds no garbage of the large CreateFunction bodies\n\
             for later allocations to hide in. One function is invoked first (so that what a server sets\n\
             up on its first invoke is in the baseline), then each of the other {k} once, one after the\n\
             other, so that each has one idle (frozen) environment; readings {} after the last request.\n\
             Server RSS is the `lamina` process alone; the runtimes are its child processes (`bootstrap`),\n\
             whose RSS sum counts shared pages (the binary, libc) once per process and whose PSS sum\n\
             divides them among the processes.\n",
            k + 1,
            thousands(self.memory_mb as usize),
            crate::report::human(crate::invocation::SETTLE)
        );
        let _ = writeln!(
            o,
            "| Reading | Server RSS | anon + file | Threads | Runtimes | Runtimes' RSS (sum) | Runtimes' PSS (sum) |\n\
             |---|---|---|---|---|---|---|"
        );
        let rows: [(String, &Memory, Option<&Children>); 3] = [
            ("Restarted, nothing invoked".to_owned(), &m.fresh, None),
            (
                "1 function invoked (the baseline)".to_owned(),
                &m.before,
                Some(&m.runtimes_before),
            ),
            (
                format!(
                    "{k} more invoked once ({} idle environments reported)",
                    m.idle_reported
                ),
                &m.after,
                Some(&m.runtimes_after),
            ),
        ];
        for (label, mem, kids) in rows {
            let (count, rss, pss) = match kids {
                Some(c) => (
                    c.count.to_string(),
                    mib(c.rss_kib),
                    c.pss_kib.map_or_else(|| "—".to_owned(), mib),
                ),
                None => ("—".to_owned(), "—".to_owned(), "—".to_owned()),
            };
            let _ = writeln!(
                o,
                "| {label} | {} | {} + {} | {} | {count} | {rss} | {pss} |",
                mib(mem.rss_kib),
                mib(mem.anon_kib),
                mib(mem.file_kib),
                mem.threads
            );
        }
        let added = m
            .runtimes_after
            .count
            .saturating_sub(m.runtimes_before.count);
        let per_runtime = |a: u64, b: u64| (a as f64 - b as f64) / added.max(1) as f64;
        let pss = match (m.runtimes_after.pss_kib, m.runtimes_before.pss_kib) {
            (Some(a), Some(b)) => format!(" (PSS {:.0} KiB)", per_runtime(a, b)),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "\nPer idle environment: the server grows by **{:.0} KiB** ({:+.1} MiB over {k}). Each runtime\n\
             process adds RSS {:.0} KiB{pss}: the function's own memory, not counted as platform memory.\n",
            m.per_env_kib(),
            (m.after.rss_kib as f64 - m.before.rss_kib as f64) / 1024.0,
            per_runtime(m.runtimes_after.rss_kib, m.runtimes_before.rss_kib),
        );
    }
}

/// Picks one part of a cold-start set.
type Part = fn(&ColdSet) -> &Summary;

/// The name of the main warm rows.
pub const MAIN: &str = "Invoke no-op";

/// The invocation targets table.
pub fn targets_table(o: &mut String, checks: &[Check]) {
    let _ = writeln!(
        o,
        "### Invocation (issue 3)\n\n| Target | Scenario | Measured | Met |\n|---|---|---|---|"
    );
    for c in checks {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            c.target,
            c.scenario,
            c.measured,
            yes_no(c.met)
        );
    }
    let _ = writeln!(o);
}
