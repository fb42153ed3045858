//! docs/BENCHMARKS.md: every figure of a `cargo bench` run as one line,
//! printed as it is written, with the machine it ran on.

use std::path::Path;
use std::time::Duration;

use super::basics::{Basics, Timed};
use super::packing::Packing;
use super::{fleet, hot, mib, ms};

/// Everything one `cargo bench` run measured.
pub struct Figures {
    pub latency: Duration,
    pub basics: Basics,
    pub packing: Packing,
    pub eval: Timed,
    /// One prompt: (bsu, curl sending the same request, bsu's peak RSS,
    /// fsyncs before the request).
    pub one: (Duration, Duration, u64, Option<usize>),
    /// 1,024 agents: (wall time, most in flight, CPU ms per agent).
    pub wide: (Duration, usize, f64),
    /// Cached prefixes: (wall, dollars, uncached tokens), primed and not.
    pub primed: (Duration, f64, u64),
    pub flat: (Duration, f64, u64),
    pub on_pg: Option<fleet::OneAgent>,
    pub sixty_four: Option<fleet::Fleet>,
}

/// Print `figures` and write them to docs/BENCHMARKS.md.
pub fn write(figures: &Figures) {
    let mut report = String::new();
    let sections = [basics, faster, state, seed];
    for line in sections.iter().flat_map(|section| section(figures)) {
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
    }
    write_page(&report);
}

/// Start-up, fan-out, breaker, cache, status and packing.
fn basics(f: &Figures) -> Vec<String> {
    let (b, p, latency) = (&f.basics, &f.packing, f.latency);
    let start = b.baseline.0;
    let over_start = |t: Duration| t.as_secs_f64() / start.as_secs_f64();
    let mut lines = vec![
        "bsu benchmarks: median wall time, and the largest peak RSS of the runs".to_string(),
        format!(
            "  process start-up, `bsu --version` (baseline)    {:>8.1} ms  {:>6.1} MiB",
            ms(start),
            mib(b.baseline.1)
        ),
    ];
    for (n, (t, rss)) in &b.fan {
        lines.push(format!(
            "  {n:>3} agents in parallel, 200 ms latency        {:>8.1} ms  {:>6.1} MiB  = {:.3}x the ideal 200 ms, {:+.1} ms of overhead",
            ms(*t),
            mib(*rss),
            t.as_secs_f64() / latency.as_secs_f64(),
            ms(*t) - ms(latency)
        ));
    }
    let ((sequential, seq_rss), ideal_seq) = (b.sequential, latency * 4);
    lines.push(format!(
        "    4 agents in sequence, 200 ms latency         {:>8.1} ms  {:>6.1} MiB  = {:.3}x the ideal 800 ms, {:+.1} ms of overhead",
        ms(sequential),
        mib(seq_rss),
        sequential.as_secs_f64() / ideal_seq.as_secs_f64(),
        ms(sequential) - ms(ideal_seq)
    ));
    for (what, (t, rss)) in [
        ("run rejected by an open breaker (4 agents)    ", b.rejected),
        (
            "run served entirely from cache (4 agents)     ",
            b.from_cache,
        ),
        (
            "bsu status --json, 10k cache entries, 1k runs ",
            b.status_json,
        ),
    ] {
        lines.push(format!(
            "  {what}   {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up",
            ms(t),
            mib(rss),
            over_start(t)
        ));
    }
    lines.push(format!(
        "  bsu status (tables), same state                  {:>8.1} ms             = {:.2}x start-up",
        ms(b.status_human),
        over_start(b.status_human)
    ));
    lines.extend(packing(p));
    lines
}

/// Packing a diff, against the dry run without one.
fn packing(p: &Packing) -> Vec<String> {
    let base = p.no_inputs;
    let over = |(t, rss): Timed, what: &str| {
        format!(
            "{:>8.1} ms  {:>6.1} MiB  = {:.2}x the baseline, {:+.1} ms{what}",
            ms(t),
            mib(rss),
            t.as_secs_f64() / base.as_secs_f64(),
            ms(t) - ms(base)
        )
    };
    vec![
        format!(
            "  8-agent dry run, no inputs (baseline)            {:>8.1} ms",
            ms(base)
        ),
        format!(
            "  8-agent dry run, 1 MB 300-file diff packed       {}",
            over(p.packed, " to gather, count and pack")
        ),
        format!(
            "  the same, a re-run on the same change            {}",
            over(p.repacked, " (token counts kept)")
        ),
        format!(
            "  cost projection of that run (8 agents, inputs)  {:>8.2} ms  (timed inside bsu)",
            p.projection_ms
        ),
    ]
}

/// One prompt against curl, a wide panel, cached prefixes, `bsu eval`.
fn faster(f: &Figures) -> Vec<String> {
    let (one, curl, one_rss, fsyncs) = f.one;
    let (wide, in_flight, cpu_per_agent) = f.wide;
    let (flat_wall, flat_usd, flat_tokens) = f.flat;
    let (primed_wall, primed_usd, primed_tokens) = f.primed;
    let (evaluated, eval_rss) = f.eval;
    let (have, listed) = hot::found(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("build/hot-symbols.txt"),
        Path::new(env!("CARGO_BIN_EXE_bsu")),
    );
    let slower = ms(primed_wall) - ms(flat_wall);
    vec![
        format!(
            "  one prompt, 200 ms latency                       {:>8.1} ms  {:>6.1} MiB  = {:+.1} ms over curl sending the same request ({:.1} ms); {} fsyncs before the request",
            ms(one),
            mib(one_rss),
            ms(one) - ms(curl),
            ms(curl),
            fsyncs.map_or("? (no strace)".to_string(), |n| n.to_string())
        ),
        format!(
            "    its code laid out hot-first (build.rs)                        = {have} of the {listed} listed functions found in this binary"
        ),
        format!(
            "  1,024 agents at concurrency 256, 200 ms latency {:>8.1} ms             = {in_flight} of 256 in flight at most; {cpu_per_agent:.2} ms of CPU per agent",
            ms(wide)
        ),
        format!(
            "  8 agents, cached prefixes, prime_cache = off     {:>8.1} ms             = ${flat_usd:.5}, {flat_tokens} uncached prompt tokens",
            ms(flat_wall)
        ),
        format!(
            "  8 agents, cached prefixes, prime_cache = auto    {:>8.1} ms             = ${primed_usd:.5} ({:.1} % less), {primed_tokens} uncached ({:.1} % fewer); {slower:+.1} ms of wall time = {:.2}x the model latency (first token at 0.25x)",
            ms(primed_wall),
            100.0 * (1.0 - primed_usd / flat_usd),
            100.0 * (1.0 - primed_tokens as f64 / flat_tokens as f64),
            slower / ms(f.latency)
        ),
        format!(
            "  bsu eval, 50 cases x 3 agents, replayed          {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up; {:.3}x the 2 s goal",
            ms(evaluated),
            mib(eval_rss),
            evaluated.as_secs_f64() / f.basics.baseline.0.as_secs_f64(),
            evaluated.as_secs_f64() / 2.0
        ),
    ]
}

/// The state on PostgreSQL against SQLite, and 64 runners sharing it.
fn state(f: &Figures) -> Vec<String> {
    let Some(one) = &f.on_pg else {
        return vec!["  state on PostgreSQL: skipped (no PostgreSQL installed)".into()];
    };
    let over = |what: &str, o: &fleet::Over| {
        let floor = o.libpq.map_or(String::new(), |f| {
            format!(", {:.2}x libpq's connection alone ({f:.1} ms)", o.by / f)
        });
        format!(
            "{what}{:>8.1} ms             = {:+.1} ms over SQLite ({:.3}x; middle half {:+.1} to {:+.1}){floor}",
            ms(o.median),
            o.by,
            1.0 + o.by / ms(one.sqlite),
            o.q1,
            o.q3
        )
    };
    let mut lines = vec![
        format!(
            "  one agent, state on SQLite, 200 ms latency       {:>8.1} ms",
            ms(one.sqlite)
        ),
        over("  one agent, state on PostgreSQL (TLS, password)   ", &one.postgres),
        match &one.pooled {
            Some(pooled) => over("    the same through PgBouncer (session mode)      ", pooled),
            None => "    through PgBouncer: skipped (not installed)".into(),
        },
        over("    the same over its Unix socket (no TLS, trust)  ", &one.local),
        format!(
            "    bsu state migrate (connect, lock, check)       {:>8.1} ms             = {:+.1} ms over opening SQLite ({:.1} ms)",
            ms(one.postgres_migrate.median),
            one.postgres_migrate.by,
            ms(one.sqlite_migrate)
        ),
    ];
    if let Some(fleet) = &f.sixty_four {
        lines.push(format!(
            "  64 runners, separate state dirs, one PostgreSQL {:>8.1} ms             = {}/64 succeeded; breaker calls {} (exact: 64); history {} runs",
            ms(fleet.wall),
            fleet.ok,
            fleet.calls,
            fleet.runs
        ));
        lines.push(format!(
            "    the same 64 under a daily budget one run fits                = {} ran, {} refused (75), {} request(s) sent",
            fleet.budget.0, fleet.budget.1, fleet.budget_sent
        ));
    }
    lines
}

/// The seed service's own figures, against these.
fn seed(f: &Figures) -> Vec<String> {
    let fan_out = f.basics.fan[0].1 .0;
    vec![
        String::new(),
        "The seed service bsu replaces, same cases (its own measurements):".into(),
        format!(
            "    4 agents in parallel, 200 ms latency           785.0 ms    73.0 MiB  = 3.925x the ideal; bsu: {:.1}x faster",
            785.0 / ms(fan_out)
        ),
        format!(
            "    4 agents in sequence, 200 ms latency          1618.0 ms              = 2.023x the ideal; bsu: {:.1}x faster",
            1618.0 / ms(f.basics.sequential.0)
        ),
    ]
}

/// Tokens are not timed: they are counted, the same on every machine, by a
/// test that asserts the ratio; the figures are the ones it printed.
const TOKENS: &str = "\n## Tokens: an incremental push against a full review\n\n\
Counted, not timed, by `cargo test --test cli converge::an_incremental -- --nocapture` \
(a 20-file pull request, then a push changing one file; the agent's input tokens as \
its model counts them): the incremental review sent **87** input tokens, the same push \
reviewed in full **19,863** — 0.44 % of a full review. The test fails if incremental \
is not under a tenth of full.\n";

/// docs/BENCHMARKS.md: the figures of this run, with the machine they ran on.
fn write_page(report: &str) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let page = format!(
        "# bsu benchmarks\n\nWritten by `cargo bench` (benches/run.rs): the release binary against a loopback \
         fake model server. Each figure is a median of repeated runs, shown as a ratio to the \
         ideal (the server's latency) or to a baseline measured in the same run. A state \
         server's figure over SQLite is the median of differences between runs made side by \
         side, in alternating order, with the middle half of those differences; beside it, \
         libpq's connection alone by the same route (`pgbench -C`'s average connection time, \
         a new connection for each `SELECT 1`): what the reference client takes just to \
         connect, before a run could read its state. Peak RSS is \
         GNU time's `%M`. The binary is the release profile's: optimised for size, the token \
         counter for speed, and the functions a run executes laid out first (build.rs, from \
         build/hot-symbols.txt).\n\n\
         Machine: {cpu}, {cores} cores.\n\n```\n{report}```\n{TOKENS}"
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/BENCHMARKS.md");
    if let Err(e) = std::fs::write(&path, page) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
