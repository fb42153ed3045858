//! The state on PostgreSQL against SQLite: one agent's run on each,
//! interleaved, and 64 runner processes with separate state directories
//! sharing one server, checked against the invariants they must keep.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::fake::{Fake, Reply};
use super::pg;
use super::{Bench, KEY};

/// One agent's run on each state, and `bsu state migrate` on each.
pub struct OneAgent {
    pub sqlite: Duration,
    pub postgres: Duration,
    /// On the same server through PgBouncer (session mode), if installed.
    pub pooled: Option<Duration>,
    /// On the same server over its Unix socket (no TLS, no password).
    pub local: Duration,
    pub sqlite_migrate: Duration,
    pub postgres_migrate: Duration,
}

/// One agent at `latency`, `runs` times on SQLite, on PostgreSQL (over
/// TLS with a password, through a pooler, over its socket), interleaved,
/// and `bsu state migrate` on
/// each (opening the state, then the migration's check: on the server, its
/// connection, the advisory lock and a few round trips more than a run
/// makes): medians, or `None` without a PostgreSQL.
pub fn one_agent(latency: Duration, runs: usize) -> Option<OneAgent> {
    let server = pg::server()?;
    let fake = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));
    let events = "[events.ping]\nagents = [\"a\"]\n";
    let bench = |url: Option<String>| {
        let b = Bench::new(events, &["a"])
            .env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", KEY);
        match url {
            Some(url) => b.env("BSU_STATE_URL", &url),
            None => b,
        }
    };
    let sqlite = bench(None);
    let postgres = bench(Some(server.fresh().1));
    let pooled = server
        .pooler()
        .map(|p| bench(Some(p.url(&server.fresh().0))));
    let local = bench(Some(server.socket_url(&server.fresh().0)));
    let args = ["run", "ping", "--no-cache", "-q"];
    // First runs make each state (and migrate the server).
    for b in [&sqlite, &postgres, &local]
        .into_iter()
        .chain(pooled.as_ref())
    {
        assert_eq!(b.run(&args), 0);
    }
    let timed = |b: &Bench, args: &[&str]| {
        let (code, t) = b.timed(args);
        assert_eq!(code, 0);
        t
    };
    let new = Vec::new;
    let (mut a, mut b, mut c, mut d, mut e, mut f) = (new(), new(), new(), new(), new(), new());
    for _ in 0..runs {
        a.push(timed(&sqlite, &args));
        b.push(timed(&postgres, &args));
        e.extend(pooled.as_ref().map(|p| timed(p, &args)));
        f.push(timed(&local, &args));
        c.push(timed(&sqlite, &["state", "migrate"]));
        d.push(timed(&postgres, &["state", "migrate"]));
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied()
    };
    Some(OneAgent {
        sqlite: median(a)?,
        postgres: median(b)?,
        pooled: median(e),
        local: median(f)?,
        sqlite_migrate: median(c)?,
        postgres_migrate: median(d)?,
    })
}

/// What 64 runners sharing one server did.
pub struct Fleet {
    pub wall: Duration,
    /// Runs that went ahead under a budget one run fits, and runs refused.
    pub budget: (usize, usize),
    /// Requests the server of the budgeted runs saw.
    pub budget_sent: usize,
    /// Unbudgeted: runs that succeeded, and the breaker's calls recorded.
    pub ok: usize,
    pub calls: u64,
    /// History rows the fleet's `bsu status` shows.
    pub runs: usize,
}

fn runners(bench: &Bench, n: usize, args: &[&str]) -> Vec<i32> {
    let children: Vec<Child> = (0..n)
        .map(|i| {
            bench
                .cmd(args)
                .env(
                    "BSU_STATE_DIR",
                    bench.dir.path().join(format!(".runner-{i}")),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap_or(-1))
        .collect()
}

/// 64 runner processes with separate state directories and one URL.
pub fn sixty_four(latency: Duration) -> Option<Fleet> {
    let server = pg::server()?;
    // Replies slow enough that every runner reserves while the others run.
    let slow = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_secs(2)));
    // A daily budget one run fits ($0.021 projected, $0.03 a day).
    let budgeted = Bench::new(
        "[budget]\nmax_cost_per_day = 0.03\n[prices.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n\
         [events.ping]\nagents = [\"a\"]\n",
        &["a"],
    )
    .env("OPENAI_BASE_URL", &slow.url)
    .env("OPENAI_API_KEY", KEY)
    .env("BSU_MODEL", "gpt-4o")
    .env("BSU_MAX_TOKENS", "2000")
    .env("BSU_STATE_URL", &server.fresh().1);
    let codes = runners(&budgeted, 64, &["run", "ping", "-q", "--no-cache"]);
    let budget = (
        codes.iter().filter(|c| **c == 0).count(),
        codes.iter().filter(|c| **c == 75).count(),
    );
    let budget_sent = slow.count();
    let fake = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));

    let free = Bench::new("[events.ping]\nagents = [\"a\"]\n", &["a"])
        .env("OPENAI_BASE_URL", &fake.url)
        .env("OPENAI_API_KEY", KEY)
        .env("BSU_STATE_URL", &server.fresh().1);
    let t = Instant::now();
    let codes = runners(&free, 64, &["run", "ping", "-q", "--no-cache"]);
    let wall = t.elapsed();
    let out = free
        .cmd(&["status", "--json", "--runs", "1000"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(Fleet {
        wall,
        budget,
        budget_sent,
        ok: codes.iter().filter(|c| **c == 0).count(),
        calls: status["breakers"][0]["calls"].as_u64().unwrap_or(0),
        runs: status["runs"].as_array().map_or(0, Vec::len),
    })
}
