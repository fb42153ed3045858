//! The state in SQLite, as only SQLite has it: a corrupt or unusable
//! state directory, another process holding the write lock, the WAL kept
//! between runs, and `bsu state migrate` naming the file.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::state::{one, spawn, status, PANEL};
use crate::support::{statuses, Project};

#[test]
fn a_corrupt_database_is_recovered_from() {
    let fake = Fake::approving();
    let p = one()
        .serve(&fake)
        .file(".state/state.db", &"garbage ".repeat(200));
    let (code, _, stderr) = p.run(&["run", "ping"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: the state database"), "{stderr}");
    assert!(
        stderr.contains(&p.path().join(".state/state.db").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("state.db.broken-"), "{stderr}");
    assert_eq!(status(&p)["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn without_usable_state_the_run_goes_on_and_its_breaker_still_protects_it() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = Project::with_agents("[events.pair]\nagents = [\"a\", \"b\"]\n", &["a", "b"])
        .serve(&fake)
        .file("not-a-dir", "a file where the state dir should be")
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1");
    let state = p.path().join("not-a-dir");
    let out = p
        .bsu()
        .args(["run", "pair", "--concurrency", "1"])
        .env("BSU_STATE_DIR", &state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("warning: could not create the state directory"),
        "{stderr}"
    );
    assert!(stderr.contains("running without breaker state"), "{stderr}");
    assert_eq!(
        fake.count(),
        1,
        "the in-memory breaker opened after the first failure"
    );
    let r = p.latest();
    // With one permit, whichever agent goes first fails and opens the
    // breaker; the other is rejected without a request.
    let mut got: Vec<String> = statuses(&r).into_iter().map(|(_, s)| s).collect();
    got.sort();
    assert_eq!(got, ["failed", "rejected"], "{}", r["agents"]);
    assert_eq!(r["breakers"][0]["after"], "open");
}

#[test]
fn lock_contention_never_hangs_a_run() {
    let fake = Fake::approving();
    let p = Project::with_agents(PANEL, &["a", "b", "c", "d"]).serve(&fake);
    assert_eq!(p.run(&["run", "review", "--agent", "a"]).0, 0); // creates state.db

    // Another process holds the write lock for the whole run.
    let holder = rusqlite::Connection::open(p.path().join(".state/state.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (code, _, stderr) = p.run(&["run", "review"]);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.matches("stayed locked by another process").count(),
        1,
        "warned once: {stderr}"
    );
    // The run's end is tried once more, and still meets the lock.
    assert_eq!(
        stderr.matches("could not").count(),
        1,
        "no further warnings: {stderr}"
    );
    assert!(
        stderr.contains(
            "could not record the run's end (its cost, breakers and history) in the state \
             (database is locked)"
        ),
        "{stderr}"
    );
    // A cache lookup only reads, which a writer does not block (WAL), and
    // is made after the run gave up on the lock too: a's reply comes from
    // the cache, whichever call met the lock first; the others' are asked for.
    assert_eq!(fake.count(), 1 + 3, "the run went on and called the models");
    assert_eq!(p.latest()["totals"]["cache_hits"], 1);
    let db = p.path().join(".state/state.db").display().to_string();
    assert_eq!(
        p.latest()["state_unavailable"],
        format!(
            "the state database {db} stayed locked by another process during the run, which \
             wrote nothing more to it until its end"
        )
    );
    assert!(statuses(&p.latest()).iter().all(|(_, s)| s == "succeeded"));
}

/// A lock let go before the run ends: the run went on without the state
/// once it met the lock, but its end (its spend, which the budgets count,
/// and its history) is recorded after one more wait.
#[test]
fn a_runs_end_is_recorded_once_a_lock_is_let_go() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(300)));
    let events = "[budget]\nmax_cost_per_day = 5.0\n[events.review]\nagents = [\"a\"]\n";
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    assert_eq!(p.run(&["run", "review", "--no-cache"]).0, 0); // creates state.db
    let spent = |s: &Value| s["spend"]["today"][0]["usd"].as_f64().unwrap();
    let once = spent(&status(&p));
    let child = spawn(&p, &["run", "review", "--no-cache"]);
    // Once its request is out (its cost reserved), another process takes
    // the write lock for 3.9 s: the run's end (from 0.3 s after the
    // request; before 1.9 s, on a loaded machine too) meets it, waits 2 s,
    // gives up, and tries again, waiting 2 s more.
    let asked = std::time::Instant::now();
    while fake.count() < 2 {
        assert!(asked.elapsed() < Duration::from_secs(20), "no request");
        std::thread::sleep(Duration::from_millis(5));
    }
    let holder = rusqlite::Connection::open(p.path().join(".state/state.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(Duration::from_millis(3900));
    holder.execute_batch("ROLLBACK").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "stayed locked by another process for over 2s; this run goes on without \
             writing to it (breakers work in memory, the cache is not updated) and tries \
             once more to record its end (its cost and history)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("could not"), "{stderr}");
    let s = status(&p);
    assert_eq!(s["runs"].as_array().unwrap().len(), 2, "{s}");
    assert!(
        (spent(&s) - 2.0 * once).abs() < 1e-9,
        "both runs' cost: {}",
        s["spend"]
    );
    assert!(
        s["spend"]["reservations"].as_array().unwrap().is_empty(),
        "the reservation became the spend: {}",
        s["spend"]
    );
}

/// The WAL stays between runs (no checkpoint-and-delete at every exit), and
/// a successful run through a closed breaker still counts its calls.
#[test]
fn the_wal_is_kept_between_runs_and_calls_are_counted() {
    let fake = Fake::approving();
    let p = one().serve(&fake);
    for _ in 0..2 {
        assert_eq!(p.run(&["run", "ping", "--no-cache"]).0, 0);
        assert!(p.path().join(".state/state.db-wal").exists());
    }
    let s = status(&p);
    assert_eq!(s["breakers"][0]["calls"], json!(2), "{s}");
    assert_eq!(s["breakers"][0]["successes"], json!(2), "{s}");
}

#[test]
fn state_migrate_and_status_name_the_sqlite_database() {
    let p = one();
    let db = p.path().join(".state/state.db").display().to_string();
    let (code, stdout, stderr) = p.run(&["state", "migrate"]);
    assert_eq!(code, 0, "{stderr}");
    let version = stdout
        .trim()
        .strip_prefix(&format!("sqlite {db}: schema version "))
        .and_then(|rest| rest.strip_suffix(", up to date"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let (code, v) = p.json(&["state", "migrate", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        v,
        json!({"backend": "sqlite", "location": db, "schema_version": version.parse::<i64>().unwrap(),
               "was": version.parse::<i64>().unwrap()})
    );
    assert_eq!(
        status(&p)["state"],
        json!({"backend": "sqlite", "location": db})
    );
}
