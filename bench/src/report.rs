//! `BENCHMARKS.md`: the results of a run laid out beside the issue's targets. The prose here (method,
//! notes) is the human-written part of the template; the "Analysis" section of an existing file is
//! carried over from run to run.

use crate::machine::Machine;
use crate::report_invoke::{self, Invocation};
use crate::server::Memory;
use crate::stats::Summary;
use std::fmt::Write as _;
use std::time::Duration;

const ANALYSIS_BEGIN: &str = "<!-- analysis:begin -->";
const ANALYSIS_END: &str = "<!-- analysis:end -->";

/// The command that reproduces the default run.
pub const REPRODUCE: &str =
    "cargo build --release -p lamina -p lamina-bench && target/release/lamina-bench --write BENCHMARKS.md";

/// Small operations: p50 under 2 ms (issue 2).
pub const SMALL_P50: Duration = Duration::from_millis(2);
/// A 1 MB CreateFunction under 20 ms (issue 2), read as its p50.
pub const CREATE_1M_P50: Duration = Duration::from_millis(20);
/// "Memory flat": RSS may grow by less than this per function added between the small and the
/// large fleet (1 KiB × 9,000 functions = 9 MiB), measured on a server doing nothing else.
pub const FLAT_KIB_PER_FUNCTION: f64 = 1.0;

/// A latency target of issue 2 a row is held to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// A small operation: p50 under [`SMALL_P50`].
    Small,
    /// A 1 MB CreateFunction: p50 under [`CREATE_1M_P50`].
    Create1M,
}

impl Target {
    fn limit(self) -> Duration {
        match self {
            Target::Small => SMALL_P50,
            Target::Create1M => CREATE_1M_P50,
        }
    }

    fn met(self, s: &Summary) -> bool {
        s.p50 < self.limit()
    }

    /// The short form, for a scenario table.
    fn label(self) -> String {
        format!("p50 < {} ms", self.limit().as_millis())
    }

    /// The issue's wording, for the targets table.
    fn issue(self) -> String {
        match self {
            Target::Small => format!("Small operation: {}", self.label()),
            Target::Create1M => format!("1 MB CreateFunction: {}", self.label()),
        }
    }
}

/// One measured scenario.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub concurrency: usize,
    pub summary: Summary,
    /// Operations asked for, when the deadline stopped the phase before all completed.
    pub cut_short: Option<usize>,
    /// Wall-clock time of the measured phase (client-side preparation included).
    pub wall: Duration,
    pub target: Option<Target>,
}

/// Scenario rows under one heading, all measured on one server.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    /// What the rows share, for the targets table ("1,000 functions").
    pub context: String,
    /// The floors measured on the same server, before and after these rows.
    pub floor: Vec<Row>,
    pub rows: Vec<Row>,
}

impl Section {
    /// The better (lower-p50) of the server's floors at `concurrency`: a transient slowdown while
    /// one floor was measured must not flatter the ratios.
    fn floor(&self, concurrency: usize) -> Option<&Summary> {
        self.floor
            .iter()
            .filter(|r| r.concurrency == concurrency)
            .map(|r| &r.summary)
            .min_by_key(|s| s.p50)
    }
}

/// A step of building the function fleet, and the server's memory after it.
#[derive(Debug, Clone)]
pub struct FleetStep {
    pub label: String,
    /// Functions present after the step.
    pub functions: usize,
    /// The creates of the step (none for "server started").
    pub creates: Option<Creates>,
    pub memory: Memory,
}

/// Bulk creation figures.
#[derive(Debug, Clone)]
pub struct Creates {
    pub wall: Duration,
    pub summary: Summary,
}

/// Everything one run produced.
pub struct Report {
    pub machine: Machine,
    pub quick: bool,
    pub started_utc: String,
    pub took: Duration,
    /// The 1-minute load average when the run ended.
    pub load_end: String,
    /// Every floor measurement, in the order taken (the sections hold the ones they are divided by).
    pub floors: Vec<Row>,
    /// Sections of scenario rows.
    pub sections: Vec<Section>,
    pub fleet: Vec<FleetStep>,
    /// Memory at the end of the run (after the large CreateFunction uploads).
    pub memory_end: Memory,
    pub small_fleet: usize,
    pub large_fleet: usize,
    pub invocation: Invocation,
}

impl Report {
    /// RSS growth per function added between the small and the large fleet, in KiB.
    fn growth_per_function(&self) -> Option<(i64, f64)> {
        let at = |n: usize| self.fleet.iter().find(|s| s.functions == n);
        let (a, b) = (at(self.small_fleet)?, at(self.large_fleet)?);
        let grew = b.memory.rss_kib as i64 - a.memory.rss_kib as i64;
        let added = (b.functions - a.functions).max(1) as f64;
        Some((grew, grew as f64 / added))
    }

    /// Render the Markdown; `previous` is the file being replaced, whose Analysis section is kept.
    pub fn render(&self, previous: Option<&str>) -> String {
        let mut o = String::new();
        self.header(&mut o);
        self.targets(&mut o);
        self.floor_table(&mut o);
        for section in &self.sections {
            let _ = writeln!(o, "## {}\n", section.title);
            self.scenario_table(&mut o, section);
        }
        self.fleet_table(&mut o);
        self.invocation.render(&mut o);
        method(&mut o, self.small_fleet, self.large_fleet);
        let _ = writeln!(o, "{}", self.invocation.method());
        notes(&mut o);
        analysis(&mut o, previous);
        o
    }

    fn header(&self, o: &mut String) {
        let m = &self.machine;
        let _ = writeln!(o, "# Lamina benchmarks\n");
        let _ = writeln!(
            o,
            "Written by `lamina-bench` (`bench/`) on {}. The harness rewrites this file on every run, except the\n\
             Analysis section at the end, which it carries over.\n",
            self.started_utc
        );
        if self.quick {
            let _ = writeln!(
                o,
                "**Quick mode (`--quick`): smaller fleets and fewer iterations. These figures are a smoke test, not\n\
                 the reference run.**\n"
            );
        }
        let _ = writeln!(o, "## Reproduce\n\n```sh\n{REPRODUCE}\n```\n");
        let _ = writeln!(
            o,
            "The harness does not build Lamina: it starts the `lamina` binary it is given (`--lamina`, default\n\
             `target/release/lamina`), so build both in release mode first, as above. It does build the\n\
             function the invocation benchmarks run (`testdata/functions/rust`, into `target/testfn`;\n\
             about 80 s the first time).\n"
        );
        let _ = writeln!(o, "## Machine\n\n| | |\n|---|---|");
        let _ = writeln!(o, "| CPU | {} |", m.cpu);
        let _ = writeln!(o, "| nproc | {} |", m.nproc);
        let mem = m.mem_total_kib.map_or_else(
            || "unknown".to_owned(),
            |k| format!("{:.1} GiB", k as f64 / 1024.0 / 1024.0),
        );
        let _ = writeln!(o, "| Memory | {mem} |");
        let _ = writeln!(o, "| Kernel | {} |", m.kernel);
        let _ = writeln!(o, "| File system of the data directory | {} |", m.data_fs);
        let _ = writeln!(o, "| `lamina --version` | {} |", m.lamina_version);
        let tree = if m.dirty.is_empty() {
            "clean working tree".to_owned()
        } else {
            format!(
                "working tree with uncommitted changes to {}",
                m.dirty
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(o, "| Git commit | `{}` ({tree}) |", m.commit);
        let _ = writeln!(o, "| Run time | {} |", human(self.took));
        let _ = writeln!(
            o,
            "| Load average (1 min) at start / end | {} / {} |\n",
            m.load_start, self.load_end
        );
    }

    fn targets(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## Targets\n\n\
             Load average (1 min): {} when the run started, {} when the invocation benchmarks started, {} at\n\
             the end, on {} cores. Client and server share those cores.\n",
            self.machine.load_start,
            self.invocation.load_start,
            self.load_end,
            self.machine.nproc
        );
        let _ = writeln!(o, "### Control plane (issue 2)\n");
        let _ = writeln!(
            o,
            "| Target | Scenario | Measured | Met |\n|---|---|---|---|"
        );
        for section in &self.sections {
            for r in &section.rows {
                if let Some(t) = r.target {
                    let _ = writeln!(
                        o,
                        "| {} | {}, c={}, {} | p50 {} | {} |",
                        t.issue(),
                        r.name,
                        r.concurrency,
                        section.context,
                        ms(r.summary.p50),
                        yes_no(t.met(&r.summary))
                    );
                }
            }
        }
        match self.growth_per_function() {
            Some((grew, per)) => {
                let _ = writeln!(
                    o,
                    "| Memory flat with {} functions (< {FLAT_KIB_PER_FUNCTION} KiB RSS per function added) | RSS after creating {} vs {} functions (server 2) | {:+.1} MiB, {:.2} KiB per function | {} |",
                    thousands(self.large_fleet),
                    thousands(self.small_fleet),
                    thousands(self.large_fleet),
                    grew as f64 / 1024.0,
                    per,
                    yes_no(per < FLAT_KIB_PER_FUNCTION)
                );
            }
            None => {
                let _ = writeln!(o, "| Memory flat | — | not measured | — |");
            }
        }
        let mut missed: Vec<String> = self
            .sections
            .iter()
            .flat_map(|s| s.rows.iter().map(move |r| (s, r)))
            .filter(|(_, r)| r.target.is_some_and(|t| !t.met(&r.summary)))
            .map(|(s, r)| format!("{} (c={}, {})", r.name, r.concurrency, s.context))
            .collect();
        if self
            .growth_per_function()
            .is_some_and(|(_, per)| per >= FLAT_KIB_PER_FUNCTION)
        {
            missed.push("memory flat".to_owned());
        }
        let _ = writeln!(o);
        let checks = self.invocation.checks();
        report_invoke::targets_table(o, &checks);
        missed.extend(
            checks
                .iter()
                .filter(|c| !c.met)
                .map(|c| format!("{} ({})", c.target, c.scenario)),
        );
        if missed.is_empty() {
            let _ = writeln!(o, "Every target is met in this run.\n");
        } else {
            let what = missed;
            let _ = writeln!(
                o,
                "**Not met in this run: {}.** See the Analysis section for what dominates.\n",
                what.join("; ")
            );
        }
    }

    fn floor_table(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## Floor: `GET /_lamina/health` on the same server\n\n\
             No signature, no store access: what any request costs on this machine, client and loopback\n\
             included. Each server's floor is measured when it starts and again when its scenarios are\n\
             done; the ratios in a section divide by the better (lower-p50) of its own server's two floors\n\
             at the same concurrency, so a slow moment during one floor measurement does not flatter them.\n\
             The gap between the two shows how much the machine drifted meanwhile.\n"
        );
        let _ = writeln!(
            o,
            "| Floor | c | n | p50 | p99 | max | ops/s |\n|---|---|---|---|---|---|---|"
        );
        for r in &self.floors {
            let s = &r.summary;
            let _ = writeln!(
                o,
                "| {}{} | {} | {} | {} | {} | {} | {} |",
                r.name,
                cut(r),
                r.concurrency,
                thousands(s.n),
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                rate(s.throughput)
            );
        }
        let _ = writeln!(o);
    }

    fn scenario_table(&self, o: &mut String, section: &Section) {
        let _ = writeln!(
            o,
            "| Scenario | c | n | p50 | p99 | max | ops/s | p50 ÷ floor | ops/s ÷ floor | Target |\n\
             |---|---|---|---|---|---|---|---|---|---|"
        );
        for r in &section.rows {
            let s = &r.summary;
            let (p50_ratio, rate_ratio) = match section.floor(r.concurrency) {
                Some(f) => (
                    ratio(s.p50.as_secs_f64(), f.p50.as_secs_f64()),
                    ratio(s.throughput, f.throughput),
                ),
                None => ("—".to_owned(), "—".to_owned()),
            };
            let target = r.target.map_or_else(
                || "—".to_owned(),
                |t| format!("{}: {}", t.label(), yes_no(t.met(s))),
            );
            let _ = writeln!(
                o,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.name,
                cut(r),
                r.concurrency,
                thousands(s.n),
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                rate(s.throughput),
                p50_ratio,
                rate_ratio,
                target
            );
        }
        let _ = writeln!(o);
    }

    fn fleet_table(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## Creating functions, and server memory\n\n\
             Server 2, fresh, creating its fleet with CreateFunction and a small package (one handler\n\
             file, stored), 8 at a time, with no other requests in between. RSS is `VmRSS` of the server\n\
             process after the step, split into anonymous memory (heap, stacks) and file-backed pages (the\n\
             binary, SQLite's WAL index); peak is `VmHWM`. Wall time is the client's clock for the whole\n\
             step, building and signing the requests included.\n"
        );
        let _ = writeln!(
            o,
            "| Step | Functions | Wall time | Creates/s (wall) | p50 | p99 | max | RSS | anon + file | Peak RSS | Threads |\n\
             |---|---|---|---|---|---|---|---|---|---|---|"
        );
        for step in &self.fleet {
            let (wall, per_sec, p50, p99, max) = match &step.creates {
                Some(c) => (
                    human(c.wall),
                    rate(c.summary.n as f64 / c.wall.as_secs_f64().max(1e-9)),
                    ms(c.summary.p50),
                    ms(c.summary.p99),
                    ms(c.summary.max),
                ),
                None => {
                    let dash = || "—".to_owned();
                    (dash(), dash(), dash(), dash(), dash())
                }
            };
            let _ = writeln!(
                o,
                "| {} | {} | {wall} | {per_sec} | {p50} | {p99} | {max} | {} |",
                step.label,
                thousands(step.functions),
                memory_cells(&step.memory)
            );
        }
        let _ = writeln!(
            o,
            "| End of run (after the large CreateFunction scenarios) | | | | | | | {} |\n",
            memory_cells(&self.memory_end)
        );
    }
}

fn method(o: &mut String, small: usize, large: usize) {
    let text = include_str!("text/method.md")
        .replace("{small}", &thousands(small))
        .replace("{large}", &thousands(large))
        .replace("{flat}", &FLAT_KIB_PER_FUNCTION.to_string());
    let _ = writeln!(o, "{text}");
}

fn notes(o: &mut String) {
    let _ = writeln!(o, "{}", include_str!("text/notes.md"));
}

fn analysis(o: &mut String, previous: Option<&str>) {
    let kept = previous.and_then(|p| {
        let start = p.find(ANALYSIS_BEGIN)? + ANALYSIS_BEGIN.len();
        let end = start + p[start..].find(ANALYSIS_END)?;
        Some(p[start..end].trim().to_owned())
    });
    let _ = writeln!(o, "## Analysis\n");
    let _ = writeln!(o, "{ANALYSIS_BEGIN}");
    match kept {
        Some(text) if !text.is_empty() => {
            let _ = writeln!(o, "{text}");
        }
        _ => {
            let _ = writeln!(
                o,
                "(Hand-written: what the figures mean and what dominates the ones that miss. Kept across runs;\n\
                 check that it still matches the figures above.)"
            );
        }
    }
    let _ = writeln!(o, "{ANALYSIS_END}");
}

fn cut(r: &Row) -> String {
    r.cut_short.map_or_else(String::new, |asked| {
        format!(" (cut short by its deadline: {} of {asked})", r.summary.n)
    })
}

pub fn yes_no(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**NOT MET**"
    }
}

/// Milliseconds with precision that suits the size.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 1.0 {
        format!("{v:.3} ms")
    } else if v < 100.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.0} ms")
    }
}

pub fn rate(v: f64) -> String {
    if v >= 100.0 {
        thousands(v.round() as usize)
    } else {
        format!("{v:.1}")
    }
}

pub fn ratio(a: f64, b: f64) -> String {
    if b <= 0.0 {
        return "—".to_owned();
    }
    let r = a / b;
    if r <= 0.0 {
        return "0".to_owned();
    }
    // Below 1, "1/40" reads better than "0.03×".
    let (v, inverse) = if r < 1.0 { (1.0 / r, true) } else { (r, false) };
    let v = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if inverse {
        format!("1/{v}")
    } else {
        format!("{v}×")
    }
}

/// RSS | anon + file | peak | threads.
fn memory_cells(m: &Memory) -> String {
    format!(
        "{} | {} + {} | {} | {}",
        mib(m.rss_kib),
        mib(m.anon_kib),
        mib(m.file_kib),
        mib(m.hwm_kib),
        m.threads
    )
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A duration for people: seconds, or minutes and seconds.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.2} s")
    } else {
        format!("{} min {:.0} s", (s / 60.0).floor(), s % 60.0)
    }
}

/// `12345` → `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(ms(Duration::from_micros(850)), "0.850 ms");
        assert_eq!(ms(Duration::from_micros(12_340)), "12.34 ms");
        assert_eq!(ratio(3.0, 1.5), "2.00×");
        assert_eq!(ratio(1.0, 40.0), "1/40.0");
        assert_eq!(ratio(1.0, 0.0), "—");
    }

    #[test]
    fn analysis_is_carried_over() {
        let mut first = String::new();
        analysis(&mut first, None);
        let edited = first.replace("(Hand-written", "Mine.\n(Hand-written");
        let mut second = String::new();
        analysis(&mut second, Some(&format!("# old\n{edited}\ntrailer")));
        assert!(second.contains("Mine."));
        assert_eq!(second.matches(ANALYSIS_BEGIN).count(), 1);
    }
}
