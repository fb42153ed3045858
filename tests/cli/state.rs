//! Resilience and state across processes: the persisted breaker, retries,
//! the bulkhead, run history and `bsu status` (cache.rs: the response cache).

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::{statuses, Project};

pub(crate) const PANEL: &str = "[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\n";

/// The four-agent panel on the `review` event.
pub(crate) fn panel() -> Project {
    Project::with_agents(PANEL, &["a", "b", "c", "d"])
}

pub(crate) fn one() -> Project {
    Project::with_agents("[events.ping]\nagents = [\"a\"]\n", &["a"])
}

// Each state test runs on SQLite and on PostgreSQL.
crate::on_both!(
    status_works_with_no_state_and_has_the_contract_shape,
    an_open_breaker_makes_the_next_process_send_nothing_and_exit_75,
    after_the_reset_timeout_one_probe_across_eight_processes_and_success_closes,
    a_failed_probe_reopens_it,
    counters_are_exact_after_sixteen_concurrent_processes,
    quota_exhaustion_is_not_retried_and_opens_the_breaker_at_once,
    run_history_lists_runs_newest_first,
    within_the_probing_process_other_calls_wait_for_the_probe,
    retries_stop_as_soon_as_the_breaker_opens
);

pub(crate) fn status(p: &Project) -> Value {
    let (code, v) = p.json(&["status", "--json", "--runs", "100"]);
    assert_eq!(code, 0);
    v
}

/// `p` against a provider that is down, run once so that its breaker is
/// open (threshold 1, no retries) with a probe due one second later.
fn tripped(p: Project, fake: &Fake, args: &[&str]) -> Project {
    let p = p
        .serve(fake)
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1")
        .env("BSU_BREAKER_RESET_TIMEOUT", "1s");
    assert_eq!(p.run(args).0, 75);
    p
}

pub(crate) fn spawn(p: &Project, args: &[&str]) -> Child {
    p.command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn status_works_with_no_state_and_has_the_contract_shape() {
    let p = one();
    let mut v = status(&p);
    // No state yet on SQLite; on a server, the server (never its URL).
    let state = v.as_object_mut().unwrap().remove("state");
    match crate::support::shared_url() {
        Some(url) => {
            assert_eq!(state.as_ref().unwrap()["backend"], "postgres");
            let location = state.unwrap()["location"].as_str().unwrap().to_string();
            assert!(
                url.ends_with(&format!("@{location}")),
                "host, port and database only"
            );
            assert!(!v.to_string().contains("postgres://"));
        }
        None => assert!(state.is_none()),
    }
    assert_eq!(
        v,
        json!({"breakers": [], "cache": {"entries": 0, "bytes": 0, "hits": 0, "misses": 0, "hit_rate": 0.0,
            "expired": 0, "ttl_seconds": 86400}, "runs": [],
            "spend": {"today": [], "last_7_days": [], "last_30_days": [], "reservations": []}})
    );
    let (code, stdout, _) = p.run(&["status"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Circuit breakers")
            && stdout.contains("Response cache")
            && stdout.contains("Recent runs")
    );
}

fn an_open_breaker_makes_the_next_process_send_nothing_and_exit_75() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = panel()
        .serve(&fake)
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "2")
        .env("BSU_BREAKER_RESET_TIMEOUT", "1h");
    let (code, _, _) = p.run(&["run", "review", "--concurrency", "1"]);
    assert_eq!(code, 75);
    assert_eq!(
        fake.count(),
        2,
        "the breaker opened after two failures; the rest were rejected"
    );
    let r = p.latest();
    assert_eq!(r["breakers"][0]["before"], "closed");
    assert_eq!(r["breakers"][0]["after"], "open");
    let name = r["breakers"][0]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("openai@127.0.0.1:"), "{name}");

    let (code, _, _) = p.run(&["run", "review"]);
    assert_eq!(code, 75);
    assert_eq!(fake.count(), 2, "nothing sent while open");
    let r = p.latest();
    assert!(
        statuses(&r).iter().all(|(_, s)| s == "rejected"),
        "{:?}",
        statuses(&r)
    );
    assert!(r["agents"][0]["reason"]
        .as_str()
        .unwrap()
        .contains(&format!("circuit breaker {name} is open")));
    assert_eq!(r["agents"][0]["attempts"], 0);

    let s = status(&p);
    let b = &s["breakers"][0];
    assert_eq!(b["name"], name.as_str());
    assert_eq!(b["state"], "open");
    assert_eq!(
        (
            b["calls"].as_u64(),
            b["failures"].as_u64(),
            b["successes"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!(b["rejections"], 2 + 4);
    assert_eq!(b["consecutive_failures"], 2);
    assert!(b["last_error"].as_str().unwrap().contains("HTTP 503"));
    assert!(humantime::parse_rfc3339(b["retry_at"].as_str().unwrap()).is_ok());
    assert!(humantime::parse_rfc3339(b["opened_at"].as_str().unwrap()).is_ok());
    let (_, human, _) = p.run(&["status", "--color", "never"]);
    assert!(
        human.contains("open") && (human.contains("in 1h") || human.contains("in 59m")),
        "{human}"
    );

    // A reset closes it and calls go out again.
    let (code, stdout, _) = p.run(&["breaker", "reset", &name]);
    assert_eq!(code, 0);
    assert!(stdout.contains(&format!("closed {name}")));
    fake.set_script(|_| Reply::verdict("approve", 9));
    assert_eq!(p.run(&["run", "review"]).0, 0);
    assert_eq!(status(&p)["breakers"][0]["state"], "closed");
    let (code, _, stderr) = p.run(&["breaker", "reset", "nope@nowhere"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no breaker named \"nope@nowhere\""),
        "{stderr}"
    );
}

fn after_the_reset_timeout_one_probe_across_eight_processes_and_success_closes() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = tripped(one(), &fake, &["run", "ping"]);
    assert_eq!(status(&p)["breakers"][0]["state"], "open");
    fake.set_script(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1000)));
    std::thread::sleep(Duration::from_millis(1200));
    let before = fake.count();
    let children: Vec<Child> = (0..8).map(|_| spawn(&p, &["run", "ping"])).collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(
        fake.count() - before,
        1,
        "exactly one probe went out: {codes:?}"
    );
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 75).count(), 7, "{codes:?}");
    let s = status(&p);
    assert_eq!(
        s["breakers"][0]["state"], "closed",
        "the probe's success closed it"
    );
    assert_eq!(s["breakers"][0]["retry_at"], Value::Null);
    assert_eq!(p.run(&["run", "ping"]).0, 0);
}

fn a_failed_probe_reopens_it() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = tripped(one(), &fake, &["run", "ping"]);
    let first =
        humantime::parse_rfc3339(status(&p)["breakers"][0]["retry_at"].as_str().unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(p.run(&["run", "ping"]).0, 75);
    assert_eq!(fake.count(), 2, "the probe went out");
    let s = status(&p);
    assert_eq!(s["breakers"][0]["state"], "open");
    let second = humantime::parse_rfc3339(s["breakers"][0]["retry_at"].as_str().unwrap()).unwrap();
    let opened = humantime::parse_rfc3339(s["breakers"][0]["opened_at"].as_str().unwrap()).unwrap();
    let open_for = second.duration_since(opened).unwrap();
    assert!(
        open_for >= Duration::from_millis(1900),
        "open time doubled: {open_for:?}"
    );
    assert!(second > first);
}

fn counters_are_exact_after_sixteen_concurrent_processes() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(20)));
    let p = Project::with_agents("[events.pair]\nagents = [\"a\", \"b\"]\n", &["a", "b"])
        .serve(&fake)
        .file(
            "events.toml",
            "[cache]\nenabled = false\n[events.pair]\nagents = [\"a\", \"b\"]\n",
        );
    let children: Vec<Child> = (0..16).map(|_| spawn(&p, &["run", "pair"])).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("warning"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(fake.count(), 32);
    let s = status(&p);
    let b = &s["breakers"][0];
    assert_eq!(
        (
            b["calls"].as_u64(),
            b["successes"].as_u64(),
            b["failures"].as_u64()
        ),
        (Some(32), Some(32), Some(0))
    );
    assert_eq!(s["runs"].as_array().unwrap().len(), 16);
}

#[test]
fn retries_honour_retry_after_in_every_form() {
    let in_2s = || httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    // The three forms wait in parallel: each has its own fake and project.
    std::thread::scope(|s| {
        for (header, value, at_least) in [
            ("retry-after", None, Duration::from_millis(950)),
            ("retry-after-ms", None, Duration::from_millis(1150)),
            (
                "retry-after",
                Some(in_2s as fn() -> String),
                Duration::from_millis(900),
            ),
        ] {
            s.spawn(move || honours_retry_after(header, value, at_least));
        }
    });
}

fn honours_retry_after(header: &str, value: Option<fn() -> String>, at_least: Duration) {
    let value = match (header, value) {
        (_, Some(date)) => date(),
        ("retry-after", None) => "1".to_string(),
        _ => "1200".to_string(),
    };
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s2 = seen.clone();
    let (h, v) = (header.to_string(), value.clone());
    let fake = Fake::start(move |_| {
        if s2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::error(429, "slow down").header(&h, &v)
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = one().serve(&fake);
    let (code, _, stderr) = p.run(&["run", "ping"]);
    assert_eq!(code, 0, "{header}: {stderr}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{header}");
    let gap = reqs[1].at - reqs[0].at;
    assert!(
        gap >= at_least && gap < Duration::from_secs(10),
        "{header}: {value}: waited {gap:?}"
    );
    let r = p.latest();
    assert_eq!(r["agents"][0]["attempts"], 2);
    assert_eq!(r["totals"]["retries"], 1);
    assert_eq!(r["totals"]["calls"], 2);
}

#[test]
fn transient_failures_are_retried_with_backoff_and_4xx_are_not() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let fake = Fake::start(
        move |_| match n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 | 1 => Reply::error(503, "busy"),
            _ => Reply::verdict("approve", 9),
        },
    );
    let p = one().serve(&fake);
    assert_eq!(p.run(&["run", "ping"]).0, 0);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    let (g1, g2) = (reqs[1].at - reqs[0].at, reqs[2].at - reqs[1].at);
    assert!(
        g1 >= Duration::from_millis(240) && g1 < Duration::from_secs(5),
        "{g1:?}"
    );
    assert!(
        g2 >= Duration::from_millis(490) && g2 < Duration::from_secs(5),
        "{g2:?}"
    );
    assert_eq!(p.latest()["agents"][0]["attempts"], 3);

    for status_code in [400, 401] {
        let fake = Fake::start(move |_| Reply::error(status_code, "no"));
        let p = one().serve(&fake);
        assert_eq!(p.run(&["run", "ping"]).0, 1);
        assert_eq!(fake.count(), 1, "{status_code} is not retried");
        // Nor counted by the breaker.
        assert_eq!(status(&p)["breakers"][0]["failures"], 0);
    }

    // Retries never sleep past the agent's deadline.
    let fake = Fake::start(|_| Reply::error(503, "busy").header("retry-after", "30"));
    let p = Project::with_agents("[events.ping]\nagents = [\"a\"]\n", &[])
        .agent("a", "timeout = \"2s\"")
        .serve(&fake);
    assert_eq!(p.run(&["run", "ping"]).0, 75);
    assert_eq!(fake.count(), 1);
    // It gave up at once (failed with the server's error) instead of
    // sleeping into its 2 s timeout (which would read timed_out).
    let a = &p.latest()["agents"][0];
    assert_eq!(a["status"], "failed");
    assert!(a["reason"].as_str().unwrap().contains("HTTP 503"));
}

fn quota_exhaustion_is_not_retried_and_opens_the_breaker_at_once() {
    let fake = Fake::start(|_| {
        Reply::json(
            429,
            json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        )
    });
    let p = one().serve(&fake);
    assert_eq!(p.run(&["run", "ping"]).0, 1, "waiting will not help");
    assert_eq!(fake.count(), 1);
    assert_eq!(status(&p)["breakers"][0]["state"], "open");
}

#[test]
fn the_bulkhead_caps_requests_in_flight_per_provider() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(200)));
    let p = Project::with_agents(
        "[providers.openai]\nmax_concurrency = 2\n[events.review]\nagents = [\"a\", \"b\", \"c\", \"d\"]\n",
        &["a", "b", "c", "d"],
    )
    .serve(&fake);
    assert_eq!(p.run(&["run", "review", "--concurrency", "8"]).0, 0);
    assert_eq!(fake.count(), 4);
    assert_eq!(fake.max_in_flight(), 2);
}

fn run_history_lists_runs_newest_first() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[events.a]\nagents = [\"x\"]\n[events.b]\nagents = [\"x\"]\n",
        &["x"],
    )
    .serve(&fake);
    p.run(&["run", "a"]);
    p.run(&["run", "b", "--dry-run"]);
    let fail = Fake::start(|_| Reply::error(400, "no"));
    let p = p.env("OPENAI_BASE_URL", &fail.url);
    p.run(&["run", "a", "--no-cache"]);
    let runs = status(&p)["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 3);
    let events: Vec<&str> = runs.iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["a", "b", "a"]);
    assert_eq!(runs[0]["decision"], "manual_review");
    assert_eq!(runs[2]["decision"], "approve");
    // What each run cost: nothing answered the failed one, the dry run sent nothing.
    assert!(runs[2]["tokens"].as_u64().unwrap() > 0, "{}", runs[2]);
    assert!(runs[2]["cost_usd"].is_f64(), "{}", runs[2]);
    assert!(runs[1]["cost_usd"].is_null() && runs[0]["cost_usd"].is_null());
    let mut keys: Vec<&String> = runs[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "cost_usd",
            "decision",
            "duration_ms",
            "event",
            "report",
            "run_id",
            "started_at",
            "tokens"
        ]
    );
    assert!(runs[0]["report"].as_str().unwrap().ends_with(".json"));
    let (_, v) = p.json(&["status", "--json", "--runs", "1"]);
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
}

fn within_the_probing_process_other_calls_wait_for_the_probe() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = tripped(panel(), &fake, &["run", "review", "--agent", "a"]);
    fake.set_script(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(300)));
    std::thread::sleep(Duration::from_millis(1100));
    let (code, _, stderr) = p.run(&["run", "review"]);
    assert_eq!(code, 0, "{stderr}");
    let r = p.latest();
    assert!(
        statuses(&r).iter().all(|(_, s)| s == "succeeded"),
        "{:?}",
        statuses(&r)
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1 + 4);
    // The probe went alone; the others followed once it had succeeded.
    let probe_done = reqs[1].at + Duration::from_millis(300);
    assert!(
        reqs[2..].iter().all(|r| r.at >= probe_done),
        "others waited for the probe"
    );
    assert_eq!(r["breakers"][0]["before"], "open");
    assert_eq!(r["breakers"][0]["after"], "closed");
}

fn retries_stop_as_soon_as_the_breaker_opens() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = one()
        .serve(&fake)
        .env("BSU_MAX_RETRIES", "5")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "2");
    assert_eq!(p.run(&["run", "ping"]).0, 75);
    assert_eq!(
        fake.count(),
        2,
        "the second failure opened it; no third attempt"
    );
    assert_eq!(p.latest()["agents"][0]["attempts"], 2);
}
