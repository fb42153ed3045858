//! Budgets and locks belong to the project, not to a spelling of its path,
//! and a reservation lives only as long as its lease (issue "Trust nothing
//! in the change", class 8).

use std::time::{Duration, Instant};

use crate::fake::{Fake, Reply};
use crate::support::Project;

/// An approval that reports enough tokens to spend the day's budget.
fn pricey() -> Reply {
    Reply::json(
        200,
        serde_json::json!({"id": "c", "object": "chat.completion", "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                "content": "{\"decision\": \"approve\", \"score\": 9}"}}],
            "usage": {"prompt_tokens": 100000, "completion_tokens": 20, "total_tokens": 100020}}),
    )
}

/// A project whose daily budget fits one run of agent `a` on gpt-4o.
fn budgeted(fake: &Fake) -> Project {
    Project::with_agents(
        "[budget]\nmax_cost_per_day = 0.015\n[events.review]\nagents = [\"a\"]\n",
        &[],
    )
    .agent("a", "model = \"gpt-4o\"\nmax_tokens = 1000")
    .serve(fake)
}

#[cfg(unix)]
#[test]
fn another_spelling_of_the_project_gets_no_fresh_budget_or_lock() {
    let fake = Fake::start(|_| pricey());
    let p = budgeted(&fake);
    let (code, _, stderr) = p.run(&["run", "review", "--no-cache"]);
    assert_eq!(code, 0, "{stderr}");
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("proj");
    std::os::unix::fs::symlink(p.path(), &link).unwrap();
    let spellings = [
        format!("{}/", p.path().display()),
        format!("{}/./", p.path().display()),
        format!(
            "{}/../{}",
            p.path().display(),
            p.path().file_name().unwrap().to_string_lossy()
        ),
        link.display().to_string(),
    ];
    for dir in &spellings {
        let (code, _, stderr) = p.run(&["-C", dir, "run", "review", "--no-cache"]);
        assert_eq!(code, 75, "{dir}: {stderr}");
        assert!(stderr.contains("daily budget"), "{stderr}");
    }
    assert_eq!(fake.count(), 1, "only the first run was sent");

    // One lock for every spelling: a run through the link skips while one runs.
    let slow = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let p = Project::with_agents("[events.review]\nagents = [\"a\"]\n", &["a"]).serve(&slow);
    let link = links.path().join("proj2");
    std::os::unix::fs::symlink(p.path(), &link).unwrap();
    let first = p
        .command()
        .args(["run", "review", "--if-running", "skip"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let begun = Instant::now();
    while slow.count() == 0 {
        assert!(
            begun.elapsed() < Duration::from_secs(20),
            "the first run never called"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let link_s = link.display().to_string();
    let (code, _, stderr) = p.run(&["-C", &link_s, "run", "review", "--if-running", "skip"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("another run of this event is in progress"),
        "{stderr}"
    );
    assert!(first.wait_with_output().unwrap().status.success());
    assert_eq!(slow.count(), 1);
}

#[cfg(unix)]
#[test]
fn a_killed_runs_reservation_lasts_only_its_lease() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_secs(20)));
    let p = budgeted(&fake);
    let mut killed = p
        .command()
        .args(["run", "review", "--no-cache", "--timeout", "5s"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let begun = Instant::now();
    while fake.count() == 0 {
        assert!(
            begun.elapsed() < Duration::from_secs(20),
            "the run never called"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    killed.kill().unwrap(); // SIGKILL: no chance to settle
    killed.wait().unwrap();
    // While its lease holds, the reservation still counts.
    let (code, _, stderr) = p.run(&["run", "review", "--no-cache"]);
    assert_eq!(code, 75, "{stderr}");
    let (_, status) = p.json(&["status", "--json"]);
    let held = &status["spend"]["reservations"][0];
    assert_eq!(held["expired"], false, "{status}");
    assert!(held["lease_until_ms"].as_i64().is_some());
    let (_, human, _) = p.run(&["status"]);
    assert!(human.contains("held until"), "{human}");

    // The lease runs out (the run's deadline and the margin pass): moved into the past here.
    let db = rusqlite::Connection::open(p.path().join(".state/state.db")).unwrap();
    db.execute("UPDATE spend SET lease_until_ms = 1 WHERE reserved = 1", [])
        .unwrap();
    drop(db);
    fake.set_script(|_| Reply::verdict("approve", 9));
    let (code, _, stderr) = p.run(&["run", "review", "--no-cache"]);
    assert_eq!(code, 0, "an expired lease no longer counts: {stderr}");
    let (_, status) = p.json(&["status", "--json"]);
    let reservations = status["spend"]["reservations"].as_array().unwrap();
    assert_eq!(reservations.len(), 1, "{status}");
    assert_eq!(reservations[0]["expired"], true);
    let (_, human, _) = p.run(&["status"]);
    assert!(human.contains("expired: no longer counted"), "{human}");
}
