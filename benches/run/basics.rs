//! The run's basic costs: start-up, fan-out in parallel and in sequence, a
//! run an open breaker rejects, a run served from the cache, `bsu status`.

use std::path::Path;
use std::time::Duration;

use super::fake::{Fake, Reply};
use super::{agent_ids, Bench, KEY};

/// A median wall time and the peak RSS (KiB) of one more run.
pub type Timed = (Duration, u64);

/// The four-agent panel most of these benches run.
const PANEL: &str = "[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\n";
const FOUR: [&str; 4] = ["a", "b", "c", "d"];

/// The figures `measure` takes.
pub struct Basics {
    /// `bsu --version`: process start-up, the baseline.
    pub baseline: Timed,
    /// (agents, their run) in parallel, at 4, 32 and 256 agents.
    pub fan: Vec<(usize, Timed)>,
    /// Four agents in sequence.
    pub sequential: Timed,
    pub rejected: Timed,
    pub from_cache: Timed,
    pub status_json: Timed,
    pub status_human: Duration,
}

/// Measure every figure of `Basics` against fakes answering in `latency`.
pub fn measure(latency: Duration) -> Basics {
    let baseline = Bench::new(PANEL, &FOUR).measure(21, &["--version"], 0);
    let server = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));
    let fan = [(4usize, 11usize), (32, 7), (256, 5)]
        .map(|(n, runs)| (n, fan_out(&server, n, runs)))
        .to_vec();
    let sequential = Bench::new(
        "[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\nexecution = \"sequential\"\n",
        &FOUR,
    )
    .env("OPENAI_BASE_URL", &server.url)
    .env("OPENAI_API_KEY", KEY)
    .measure(7, &["run", "review", "--no-cache", "-q"], 0);
    let (rejected, from_cache) = (rejected(), from_cache(&server));
    let (status_json, status_human) = status();
    Basics {
        baseline,
        fan,
        sequential,
        rejected,
        from_cache,
        status_json,
        status_human,
    }
}

/// `n` agents in parallel against `server`, at concurrency `n`: `runs` runs.
fn fan_out(server: &Fake, n: usize, runs: usize) -> Timed {
    let (ids, list) = agent_ids(n);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let events = format!(
        "[defaults]\nconcurrency = {n}\n[providers.openai]\nkind = \"openai\"\nmax_concurrency = {n}\n\
         [events.review]\nagents = [{list}]\n"
    );
    Bench::new(&events, &refs)
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY)
        .measure(runs, &["run", "review", "--no-cache", "-q"], 0)
}

/// A run rejected by an open breaker, which sends nothing.
fn rejected() -> Timed {
    let down = Fake::start(|_| Reply::error(503, "down"));
    let rejected = Bench::new(PANEL, &FOUR)
        .env("OPENAI_BASE_URL", &down.url)
        .env("OPENAI_API_KEY", KEY)
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1")
        .env("BSU_BREAKER_RESET_TIMEOUT", "1h");
    rejected.run(&["run", "review", "-q"]);
    let sent = down.count();
    let timed = rejected.measure(21, &["run", "review", "-q"], 75);
    assert_eq!(down.count(), sent, "an open breaker sends nothing");
    timed
}

/// A run served entirely from the cache, after one that filled it.
fn from_cache(server: &Fake) -> Timed {
    let cached = Bench::new(PANEL, &FOUR)
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY);
    cached.run(&["run", "review", "-q"]);
    let before = server.count();
    let timed = cached.measure(21, &["run", "review", "-q"], 0);
    assert_eq!(server.count(), before, "every reply came from the cache");
    timed
}

/// `bsu status --json`, then its tables, with 10,000 cache entries and
/// 1,000 runs.
fn status() -> (Timed, Duration) {
    let status = Bench::new(PANEL, &FOUR);
    status.run(&["run", "review", "--dry-run", "-q"]);
    seed_status(&status.state(), 10_000, 1_000);
    let json = status.measure(21, &["status", "--json"], 0);
    (json, status.median(21, &["status"], 0))
}

/// A state with `entries` cache entries (one in ten expired) and `runs` runs.
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
