//! The state on PostgreSQL against SQLite: one agent's run on each,
//! interleaved, and 64 runner processes with separate state directories
//! sharing one server, checked against the invariants they must keep.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::fake::{Fake, Reply};
use super::pg;
use super::{Bench, KEY};

/// A state's time over SQLite's, from runs paired with the SQLite run made
/// beside them: the median difference and the middle half of differences.
/// Pairing cancels what drifts within a bench (a difference of medians
/// moved by 3 ms between runs of the same code); what the machine does
/// between benches still moves the figure by about a millisecond.
#[derive(Clone, Copy)]
pub struct Over {
    pub median: Duration,
    pub by: f64,
    pub q1: f64,
    pub q3: f64,
    /// libpq's time to open a connection by the same route (`pgbench -C`),
    /// in ms: the reference client's floor under the difference, since a
    /// run must read its breakers before its request.
    pub libpq: Option<f64>,
}

impl Over {
    /// From each run's time and the SQLite run's beside it, in ms.
    fn of(runs: &[Duration], sqlite: &[Duration]) -> Option<Over> {
        let mut times = runs.to_vec();
        times.sort();
        let median = *times.get(times.len() / 2)?;
        let mut d: Vec<f64> = runs
            .iter()
            .zip(sqlite)
            .map(|(r, s)| (r.as_secs_f64() - s.as_secs_f64()) * 1000.0)
            .collect();
        d.sort_by(f64::total_cmp);
        let at = |q: usize| d[(d.len() - 1) * q / 4];
        Some(Over {
            median,
            by: at(2),
            q1: at(1),
            q3: at(3),
            libpq: None,
        })
    }
}

/// One agent's run on each state, and `bsu state migrate` on each.
pub struct OneAgent {
    pub sqlite: Duration,
    /// Over TLS with a SCRAM password.
    pub postgres: Over,
    /// On the same server through PgBouncer (session mode), if installed.
    pub pooled: Option<Over>,
    /// On the same server over its Unix socket (no TLS, no password).
    pub local: Over,
    pub sqlite_migrate: Duration,
    pub postgres_migrate: Over,
}

/// One agent at `latency`, `runs` rounds of a run on SQLite and on
/// PostgreSQL (over TLS with a password, through a pooler, over its socket)
/// in turn, the order reversed every other round, and `bsu state migrate`
/// on each (opening the state, then the migration's check: on the server,
/// its connection, the advisory lock and a few round trips more than a run
/// makes). `None` without a PostgreSQL.
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
    let urls = (
        server.fresh().1,
        server.pooler().map(|p| p.url(&server.fresh().0)),
        server.socket_url(&server.fresh().0),
    );
    let sqlite = bench(None);
    let postgres = bench(Some(urls.0.clone()));
    let pooled = urls.1.clone().map(|url| bench(Some(url)));
    let local = bench(Some(urls.2.clone()));
    let run = ["run", "ping", "--no-cache", "-q"];
    let migrate = ["state", "migrate"];
    // The states in a round's order, each with its command: SQLite's run
    // first, the servers' runs, then the migrations.
    let mut order: Vec<(&Bench, &[&str])> = vec![(&sqlite, &run), (&postgres, &run)];
    order.extend(pooled.as_ref().map(|p| (p, &run[..])));
    order.extend([
        (&local, &run[..]),
        (&sqlite, &migrate),
        (&postgres, &migrate),
    ]);
    // First runs make each state (and migrate the server).
    for (b, args) in &order {
        assert_eq!(b.run(args), 0);
    }
    let mut times = vec![Vec::new(); order.len()];
    for round in 0..runs {
        let mut each: Vec<usize> = (0..order.len()).collect();
        if round % 2 == 1 {
            each.reverse();
        }
        for i in each {
            let (code, t) = order[i].0.timed(order[i].1);
            assert_eq!(code, 0);
            times[i].push(t);
        }
    }
    let mut times = times.into_iter();
    let mut next = || times.next().unwrap_or_default();
    let sqlite = next();
    // Each route with libpq's connection by it, measured after the runs so
    // that it is not interleaved with their rounds.
    let floor = |o: Over, url: &str| Over {
        libpq: server.libpq_connect(url, 3),
        ..o
    };
    let postgres = floor(Over::of(&next(), &sqlite)?, &urls.0);
    let pooled = match (pooled, &urls.1) {
        (Some(_), Some(url)) => Over::of(&next(), &sqlite).map(|o| floor(o, url)),
        _ => None,
    };
    let local = floor(Over::of(&next(), &sqlite)?, &urls.2);
    let sqlite_migrate = next();
    let postgres_migrate = Over::of(&next(), &sqlite_migrate)?;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied()
    };
    Some(OneAgent {
        sqlite: median(sqlite)?,
        postgres,
        pooled,
        local,
        sqlite_migrate: median(sqlite_migrate)?,
        postgres_migrate,
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
