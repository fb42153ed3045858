//! Wall-time benchmarks of the bsu binary against a loopback fake server.
//!
//! Each figure is a median over repeated runs and is reported as a ratio to
//! the ideal (the server's latency) or to a baseline measured in the same
//! run (`bsu --version`: process start-up). Run with `cargo bench`.

// A benchmark's results are its output.
#![allow(clippy::print_stdout)]

#[allow(dead_code)]
#[path = "../tests/cli/fake.rs"]
mod fake;

#[path = "run/faster.rs"]
mod faster;

#[path = "run/fleet.rs"]
mod fleet;

#[path = "run/hot.rs"]
mod hot;

#[path = "../tests/pg/server.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake::{Fake, Reply};

const KEY: &str = "sk-bench-not-a-real-key";

struct Bench {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Bench {
    fn new(events: &str, agents: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("events.toml"), events).unwrap();
        std::fs::create_dir_all(dir.path().join("agents")).unwrap();
        for id in agents {
            std::fs::write(
                dir.path().join(format!("agents/{id}.toml")),
                format!("name = \"Agent {id}\"\ninstructions = \"You are {id}. Reply with the verdict JSON.\"\n"),
            )
            .unwrap();
        }
        Bench { dir, env: vec![] }
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join(".state")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bsu"));
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("BSU_STATE_DIR", self.state())
            .args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `tool` in this project's folder and environment, as `cmd` runs bsu:
    /// the caller gives its arguments, then a binary and its own.
    fn under(&self, tool: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(tool);
        c.current_dir(self.dir.path()).env_clear();
        for (k, v) in self.cmd(&[]).get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c
    }

    fn run(&self, args: &[&str]) -> i32 {
        self.timed(args).0
    }

    /// Run `bsu ARGS` once: (exit code, wall time).
    fn timed(&self, args: &[&str]) -> (i32, Duration) {
        let t = Instant::now();
        let out = self.cmd(args).output().unwrap();
        (out.status.code().unwrap_or(-1), t.elapsed())
    }

    /// Peak RSS (KiB) of one run of `bsu ARGS`, measured by `/usr/bin/time`
    /// (GNU time's `%M`) when the machine has it; 0 when it does not.
    fn peak_rss(&self, args: &[&str]) -> u64 {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            return 0;
        }
        let out_file = self.dir.path().join(".rss");
        let mut c = self.under(time);
        c.args(["-f", "%M", "-o"])
            .arg(&out_file)
            .arg(env!("CARGO_BIN_EXE_bsu"))
            .args(args);
        let _ = c.output();
        std::fs::read_to_string(&out_file)
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0)
    }

    /// Median wall time of `n` runs of `bsu ARGS`, checking the exit code.
    fn median(&self, n: usize, args: &[&str], code: i32) -> Duration {
        self.measure(n, args, code).0
    }

    /// Median wall time of `n` runs, and the peak RSS (KiB) of one more.
    fn measure(&self, n: usize, args: &[&str], code: i32) -> (Duration, u64) {
        let mut times = Vec::new();
        for _ in 0..n {
            let (got, took) = self.timed(args);
            assert_eq!(got, code, "bsu {args:?}");
            times.push(took);
        }
        times.sort();
        (times[n / 2], self.peak_rss(args))
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn seed_status(state: &Path, entries: usize, runs: usize) {
    let conn = rusqlite::Connection::open(state.join("state.db")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    conn.execute_batch("BEGIN").unwrap();
    for i in 0..entries {
        let reply = format!("{{\"content\":\"{}\",\"usage\":{{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}}}", "x".repeat(500));
        conn.execute(
            "INSERT OR REPLACE INTO cache (key, reply, bytes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![format!("{i:064x}"), reply, reply.len() as i64, now - i as i64, now + if i % 10 == 0 { -1 } else { 86_400_000 }],
        )
        .unwrap();
    }
    for i in 0..runs {
        conn.execute(
            "INSERT OR REPLACE INTO runs (run_id, event, decision, started_at, started_ms, duration_ms, report, project, dry_run)
             VALUES (?1, 'pull_request.opened', 'approve', '2026-11-28T00:00:00.000Z', ?2, 1234, '/tmp/r.json', '/tmp', 0)",
            rusqlite::params![format!("{i:012x}"), now - i as i64],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn main() {
    // The linker's list of the functions a run executes (`build.rs`).
    if let Some(path) = std::env::var_os("BSU_BENCH_HOT_SYMBOLS") {
        hot::write(Path::new(&path));
        return;
    }
    // `cargo bench -- --filter` style arguments are accepted and ignored.
    let latency = Duration::from_millis(200);
    let panel = "[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\n";

    let baseline_project = Bench::new(panel, &["a", "b", "c", "d"]);
    let (baseline, baseline_rss) = baseline_project.measure(21, &["--version"], 0);

    // 1. Parallel fan-out at N = 4, 32, 256 against a server with 200 ms
    //    latency, and 4 agents in sequence (ideal: 4 x 200 ms).
    let server = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));
    let mut fan = Vec::new();
    for (n, runs) in [(4usize, 11usize), (32, 7), (256, 5)] {
        let ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let list = ids
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let events = format!(
            "[defaults]\nconcurrency = {n}\n[providers.openai]\nkind = \"openai\"\nmax_concurrency = {n}\n\
             [events.review]\nagents = [{list}]\n"
        );
        let b = Bench::new(&events, &refs)
            .env("OPENAI_BASE_URL", &server.url)
            .env("OPENAI_API_KEY", KEY);
        let (t, rss) = b.measure(runs, &["run", "review", "--no-cache", "-q"], 0);
        fan.push((n, t, rss));
    }
    let fan_out = fan[0].1;
    let seq = Bench::new(
        "[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\nexecution = \"sequential\"\n",
        &["a", "b", "c", "d"],
    )
    .env("OPENAI_BASE_URL", &server.url)
    .env("OPENAI_API_KEY", KEY);
    let (sequential, seq_rss) = seq.measure(7, &["run", "review", "--no-cache", "-q"], 0);

    // 2. A run rejected by an open breaker.
    let down = Fake::start(|_| Reply::error(503, "down"));
    let rejected = Bench::new(panel, &["a", "b", "c", "d"])
        .env("OPENAI_BASE_URL", &down.url)
        .env("OPENAI_API_KEY", KEY)
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1")
        .env("BSU_BREAKER_RESET_TIMEOUT", "1h");
    rejected.run(&["run", "review", "-q"]);
    let sent = down.count();
    let (reject, reject_rss) = rejected.measure(21, &["run", "review", "-q"], 75);
    assert_eq!(down.count(), sent, "an open breaker sends nothing");

    // 3. A run served entirely from the cache.
    let cached = Bench::new(panel, &["a", "b", "c", "d"])
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY);
    cached.run(&["run", "review", "-q"]);
    let before = server.count();
    let (from_cache, cache_rss) = cached.measure(21, &["run", "review", "-q"], 0);
    assert_eq!(server.count(), before, "every reply came from the cache");

    // 4. `bsu status` with 10,000 cache entries and 1,000 runs.
    let status = Bench::new(panel, &["a", "b", "c", "d"]);
    status.run(&["run", "review", "--dry-run", "-q"]);
    seed_status(&status.state(), 10_000, 1_000);
    let (status_json, status_rss) = status.measure(21, &["status", "--json"], 0);
    let status_human = status.median(21, &["status"], 0);

    // 5. Packing: a 1 MB, 300-file diff for 8 agents, counted with the tokenizer,
    //    against the same dry run without inputs.
    let eight = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let agents_list = eight.map(|a| format!("\"{a}\"")).join(", ");
    let plain = Bench::new(
        &format!("[events.review]\nagents = [{agents_list}]\n"),
        &eight,
    );
    let no_inputs = plain.median(11, &["run", "review", "--dry-run", "-q", "--no-cache"], 0);
    let packing = Bench::new(
        &format!("[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [{agents_list}]\ninputs = [\"diff\"]\n"),
        &eight,
    );
    let patch = big_patch(300, 1024 * 1024);
    std::fs::write(packing.dir.path().join("change.patch"), &patch).unwrap();
    let (packed, packed_rss) = packing.measure(
        11,
        &[
            "run",
            "review",
            "--dry-run",
            "-q",
            "--input",
            "diff=change.patch",
        ],
        0,
    );

    // A re-run on the same change: a real run first keeps its token counts.
    let quick = Fake::start(|_| Reply::verdict("approve", 9));
    let packing = packing
        .env("OPENAI_BASE_URL", &quick.url)
        .env("OPENAI_API_KEY", KEY);
    assert_eq!(
        packing.run(&[
            "run",
            "review",
            "-q",
            "--no-cache",
            "--input",
            "diff=change.patch"
        ]),
        0
    );
    let (repacked, repacked_rss) = packing.measure(
        11,
        &[
            "run",
            "review",
            "--dry-run",
            "-q",
            "--input",
            "diff=change.patch",
        ],
        0,
    );

    // 6. The cost projection of that 8-agent run with inputs, as bsu times it (-v).
    let projection_us: Vec<u64> = (0..7)
        .filter_map(|_| {
            let out = packing
                .cmd(&[
                    "-v",
                    "run",
                    "review",
                    "--dry-run",
                    "--input",
                    "diff=change.patch",
                ])
                .output()
                .ok()?;
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            let line = err
                .lines()
                .find(|l| l.contains("projected the run's cost"))?;
            line.split("us=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let mut sorted = projection_us.clone();
    sorted.sort_unstable();
    let projection_ms = sorted
        .get(sorted.len() / 2)
        .map_or(f64::NAN, |u| *u as f64 / 1000.0);

    let (evaluated, eval_rss) = eval_bench();
    let (one, curl, one_rss, fsyncs) = faster::one_prompt(latency);
    let (wide, in_flight, cpu_per_agent) = faster::wide_panel(latency);
    // Interleaved, the median wall time of five each (one run varied by
    // tens of milliseconds); cost and tokens are the same every run.
    let (mut primed, mut flat) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        primed.push(faster::fan_out_cost(latency, "auto"));
        flat.push(faster::fan_out_cost(latency, "off"));
    }
    let median_wall = |runs: &mut Vec<(Duration, f64, u64)>| {
        runs.sort_by_key(|r| r.0);
        runs[runs.len() / 2]
    };
    let (primed_wall, primed_usd, primed_tokens) = median_wall(&mut primed);
    let (flat_wall, flat_usd, flat_tokens) = median_wall(&mut flat);
    let on_pg = fleet::one_agent(latency, 41);
    let sixty_four = fleet::sixty_four(latency);

    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    line("bsu benchmarks: median wall time, and the largest peak RSS of the runs".into());
    line(format!(
        "  process start-up, `bsu --version` (baseline)    {:>8.1} ms  {:>6.1} MiB",
        ms(baseline),
        mib(baseline_rss)
    ));
    for (n, t, rss) in &fan {
        line(format!(
            "  {n:>3} agents in parallel, 200 ms latency        {:>8.1} ms  {:>6.1} MiB  = {:.3}x the ideal 200 ms, {:+.1} ms of overhead",
            ms(*t),
            mib(*rss),
            t.as_secs_f64() / latency.as_secs_f64(),
            ms(*t) - ms(latency)
        ));
    }
    let ideal_seq = latency * 4;
    line(format!(
        "    4 agents in sequence, 200 ms latency         {:>8.1} ms  {:>6.1} MiB  = {:.3}x the ideal 800 ms, {:+.1} ms of overhead",
        ms(sequential),
        mib(seq_rss),
        sequential.as_secs_f64() / ideal_seq.as_secs_f64(),
        ms(sequential) - ms(ideal_seq)
    ));
    line(format!(
        "  run rejected by an open breaker (4 agents)       {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up",
        ms(reject),
        mib(reject_rss),
        reject.as_secs_f64() / baseline.as_secs_f64()
    ));
    line(format!(
        "  run served entirely from cache (4 agents)        {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up",
        ms(from_cache),
        mib(cache_rss),
        from_cache.as_secs_f64() / baseline.as_secs_f64()
    ));
    line(format!(
        "  bsu status --json, 10k cache entries, 1k runs    {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up",
        ms(status_json),
        mib(status_rss),
        status_json.as_secs_f64() / baseline.as_secs_f64()
    ));
    line(format!(
        "  bsu status (tables), same state                  {:>8.1} ms             = {:.2}x start-up",
        ms(status_human),
        status_human.as_secs_f64() / baseline.as_secs_f64()
    ));
    line(format!(
        "  8-agent dry run, no inputs (baseline)            {:>8.1} ms",
        ms(no_inputs)
    ));
    line(format!(
        "  8-agent dry run, 1 MB 300-file diff packed       {:>8.1} ms  {:>6.1} MiB  = {:.2}x the baseline, {:+.1} ms to gather, count and pack",
        ms(packed),
        mib(packed_rss),
        packed.as_secs_f64() / no_inputs.as_secs_f64(),
        ms(packed) - ms(no_inputs)
    ));
    line(format!(
        "  the same, a re-run on the same change            {:>8.1} ms  {:>6.1} MiB  = {:.2}x the baseline, {:+.1} ms (token counts kept)",
        ms(repacked),
        mib(repacked_rss),
        repacked.as_secs_f64() / no_inputs.as_secs_f64(),
        ms(repacked) - ms(no_inputs)
    ));
    line(format!(
        "  cost projection of that run (8 agents, inputs)  {projection_ms:>8.2} ms  (timed inside bsu)"
    ));
    line(format!(
        "  one prompt, 200 ms latency                       {:>8.1} ms  {:>6.1} MiB  = {:+.1} ms over curl sending the same request ({:.1} ms); {} fsyncs before the request",
        ms(one),
        mib(one_rss),
        ms(one) - ms(curl),
        ms(curl),
        fsyncs.map_or("? (no strace)".to_string(), |n| n.to_string())
    ));
    let (have, listed) = hot::found(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("build/hot-symbols.txt"),
        Path::new(env!("CARGO_BIN_EXE_bsu")),
    );
    line(format!(
        "    its code laid out hot-first (build.rs)                        = {have} of the {listed} listed functions found in this binary"
    ));
    line(format!(
        "  1,024 agents at concurrency 256, 200 ms latency {:>8.1} ms             = {in_flight} of 256 in flight at most; {cpu_per_agent:.2} ms of CPU per agent",
        ms(wide)
    ));
    line(format!(
        "  8 agents, cached prefixes, prime_cache = off     {:>8.1} ms             = ${flat_usd:.5}, {flat_tokens} uncached prompt tokens",
        ms(flat_wall)
    ));
    line(format!(
        "  8 agents, cached prefixes, prime_cache = auto    {:>8.1} ms             = ${primed_usd:.5} ({:.1} % less), {primed_tokens} uncached ({:.1} % fewer); {:+.1} ms of wall time = {:.2}x the model latency (first token at 0.25x)",
        ms(primed_wall),
        100.0 * (1.0 - primed_usd / flat_usd),
        100.0 * (1.0 - primed_tokens as f64 / flat_tokens as f64),
        ms(primed_wall) - ms(flat_wall),
        (ms(primed_wall) - ms(flat_wall)) / ms(latency)
    ));
    line(format!(
        "  bsu eval, 50 cases x 3 agents, replayed          {:>8.1} ms  {:>6.1} MiB  = {:.2}x start-up; {:.3}x the 2 s goal",
        ms(evaluated),
        mib(eval_rss),
        evaluated.as_secs_f64() / baseline.as_secs_f64(),
        evaluated.as_secs_f64() / 2.0
    ));
    match on_pg {
        Some(one) => {
            line(format!(
                "  one agent, state on SQLite, 200 ms latency       {:>8.1} ms",
                ms(one.sqlite)
            ));
            let over = |what: &str, o: fleet::Over| {
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
            line(over(
                "  one agent, state on PostgreSQL (TLS, password)   ",
                one.postgres,
            ));
            match one.pooled {
                Some(pooled) => line(over(
                    "    the same through PgBouncer (session mode)      ",
                    pooled,
                )),
                None => line("    through PgBouncer: skipped (not installed)".into()),
            }
            line(over(
                "    the same over its Unix socket (no TLS, trust)  ",
                one.local,
            ));
            line(format!(
                "    bsu state migrate (connect, lock, check)       {:>8.1} ms             = {:+.1} ms over opening SQLite ({:.1} ms)",
                ms(one.postgres_migrate.median),
                one.postgres_migrate.by,
                ms(one.sqlite_migrate)
            ));
        }
        None => line("  state on PostgreSQL: skipped (no PostgreSQL installed)".into()),
    }
    if let Some(f) = &sixty_four {
        line(format!(
            "  64 runners, separate state dirs, one PostgreSQL {:>8.1} ms             = {}/64 succeeded; breaker calls {} (exact: 64); history {} runs",
            ms(f.wall),
            f.ok,
            f.calls,
            f.runs
        ));
        line(format!(
            "    the same 64 under a daily budget one run fits                = {} ran, {} refused (75), {} request(s) sent",
            f.budget.0, f.budget.1, f.budget_sent
        ));
    }
    line(String::new());
    line("The seed service bsu replaces, same cases (its own measurements):".into());
    line(format!(
        "    4 agents in parallel, 200 ms latency           785.0 ms    73.0 MiB  = 3.925x the ideal; bsu: {:.1}x faster",
        785.0 / ms(fan_out)
    ));
    line(format!(
        "    4 agents in sequence, 200 ms latency          1618.0 ms              = 2.023x the ideal; bsu: {:.1}x faster",
        1618.0 / ms(sequential)
    ));
    write_page(&report);
}

/// `bsu eval` of 50 cases with 3 agents each, from a recording made first
/// against the fake: (median wall time, peak RSS).
fn eval_bench() -> (Duration, u64) {
    let agents = ["a", "b", "c"];
    let bench = Bench::new(
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\", \"b\", \"c\"]\ninputs = [\"diff\"]\n",
        &agents,
    );
    for i in 0..50 {
        let dir = bench.dir.path().join(format!("evals/case{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut patch = format!(
            "diff --git a/src/m{i}.rs b/src/m{i}.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/m{i}.rs\n@@ -0,0 +1,40 @@\n"
        );
        for l in 1..=40 {
            patch.push_str(&format!("+fn f{l}(x: u32) -> u32 {{ x + {l} }}\n"));
        }
        std::fs::write(dir.join("change.patch"), patch).unwrap();
        std::fs::write(
            dir.join("expect.toml"),
            format!("decision = {{ at_least = \"request_changes\" }}\n[[finding]]\ndescription = \"Overflow in f{i} on large input\"\nseverity = \"high\"\nfile = \"src/m{i}.rs\"\nline = 7\n"),
        )
        .unwrap();
    }
    let server = Fake::start(|r| {
        let file = r
            .system()
            .split("+++ b/")
            .nth(1)
            .and_then(|s| s.split('\n').next())
            .unwrap_or("")
            .to_string();
        Reply::content(
            &format!(
                "{{\"decision\": \"request_changes\", \"findings\": [{{\"severity\": \"high\", \"title\": \"Overflow on large input\", \"file\": \"{file}\", \"line\": 8}}, {{\"severity\": \"low\", \"title\": \"Naming\", \"file\": \"{file}\", \"line\": 30}}]}}"
            ),
        )
    });
    let bench = bench
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY);
    assert_eq!(bench.run(&["eval", "evals", "--record", "rec", "-q"]), 0);
    bench.measure(5, &["eval", "evals", "--replay", "rec", "-q"], 0)
}

/// A unified diff of `files` files adding code-like lines, about `bytes` long.
fn big_patch(files: usize, bytes: usize) -> String {
    let per_file = bytes / files;
    let mut out = String::with_capacity(bytes + 4096);
    for f in 0..files {
        let path = format!("src/module_{f:03}/handler.rs");
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,60 @@\n"
        ));
        let start = out.len();
        let mut i = 0;
        while out.len() - start < per_file {
            out.push_str(&format!(
                "+    let value_{i} = request.header(\"x-field-{i}\").map(|v| v.trim().to_lowercase()).unwrap_or_default(); // {f}:{i}\n"
            ));
            i += 1;
        }
    }
    out
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
