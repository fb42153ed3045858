//! The response cache across processes: repeats served and counted, failed
//! replies never kept, expiry and eviction, and identical requests in
//! flight sharing one call.

use std::time::Duration;

use crate::fake::{Fake, Reply};
use crate::state::{one, panel, status};
use crate::support::{statuses, Project};

// Each state test runs on SQLite and on PostgreSQL.
crate::on_both!(
    the_cache_serves_repeats_and_counts_hits_and_misses,
    failed_replies_are_never_cached,
    cache_entries_expire_and_the_oldest_are_evicted,
);

fn the_cache_serves_repeats_and_counts_hits_and_misses() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    assert_eq!(p.run(&["run", "review"]).0, 0);
    assert_eq!(fake.count(), 4);
    assert_eq!(p.run(&["run", "review"]).0, 0);
    assert_eq!(fake.count(), 4, "all four served from the cache");
    let r = p.latest();
    assert!(r["agents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["cached"] == true && a["attempts"] == 0));
    assert_eq!(r["totals"]["cache_hits"], 4);
    assert_eq!(r["totals"]["calls"], 0);
    assert_eq!(r["agents"][0]["verdict"]["decision"], "approve");
    let c = &status(&p)["cache"];
    assert_eq!(
        (
            c["entries"].as_u64(),
            c["hits"].as_u64(),
            c["misses"].as_u64()
        ),
        (Some(4), Some(4), Some(4))
    );
    assert_eq!(c["hit_rate"], 0.5);

    // --no-cache neither reads nor writes.
    assert_eq!(p.run(&["run", "review", "--no-cache"]).0, 0);
    assert_eq!(fake.count(), 8);
    assert_eq!(status(&p)["cache"]["hits"], 4);

    // A changed payload is a different request.
    let p2 = p.file("e.json", "{\"n\": 1}");
    assert_eq!(p2.run(&["run", "review", "--payload", "e.json"]).0, 0);
    assert_eq!(fake.count(), 12);

    let (code, stdout, _) = p2.run(&["cache", "clear"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "removed 8 cached responses");
    assert_eq!(status(&p2)["cache"]["entries"], 0);
}

fn failed_replies_are_never_cached() {
    let fake = Fake::start(|_| Reply::error(400, "bad"));
    let p = one().serve(&fake);
    p.run(&["run", "ping"]);
    p.run(&["run", "ping"]);
    assert_eq!(fake.count(), 2);
    assert_eq!(status(&p)["cache"]["entries"], 0);
}

fn cache_entries_expire_and_the_oldest_are_evicted() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[cache]\nttl = \"300ms\"\n[events.ping]\nagents = [\"a\"]\n",
        &["a"],
    )
    .serve(&fake);
    p.run(&["run", "ping"]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(status(&p)["cache"]["expired"], 1);
    p.run(&["run", "ping"]);
    assert_eq!(fake.count(), 2, "an expired entry is a miss");
    std::thread::sleep(Duration::from_millis(400));
    let (code, stdout, _) = p.run(&["cache", "prune"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "removed 1 expired response");

    // Room for one reply: the older is evicted when the newer arrives.
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[cache]\nmax_bytes = 300\n[events.two]\nagents = [\"a\", \"b\"]\n",
        &["a", "b"],
    )
    .serve(&fake);
    assert_eq!(p.run(&["run", "two", "--agent", "a"]).0, 0);
    assert_eq!(p.run(&["run", "two", "--agent", "b"]).0, 0);
    assert_eq!(status(&p)["cache"]["entries"], 1);
    assert_eq!(p.run(&["run", "two", "--agent", "b"]).0, 0);
    assert_eq!(fake.count(), 2, "the newest (b) is still cached");
    assert_eq!(p.run(&["run", "two", "--agent", "a"]).0, 0);
    assert_eq!(fake.count(), 3, "the oldest (a) was evicted");
}

#[test]
fn identical_requests_in_flight_share_one_call() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(300)));
    let twin = "name = \"Twin\"\ninstructions = \"Review it.\"\n";
    let p = Project::empty()
        .file(
            "events.toml",
            "[cache]\nenabled = false\n[events.x]\nagents = [\"left\", \"right\"]\n",
        )
        .file("agents/left.toml", twin)
        .file("agents/right.toml", twin)
        .serve(&fake);
    assert_eq!(p.run(&["run", "x"]).0, 0);
    assert_eq!(fake.count(), 1, "one call for two identical requests");
    let r = p.latest();
    let attempts: Vec<u64> = r["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts.iter().sum::<u64>(), 1);
    assert_eq!(r["agents"][0]["prompt_hash"], r["agents"][1]["prompt_hash"]);
    assert!(statuses(&r).iter().all(|(_, s)| s == "succeeded"));
}
