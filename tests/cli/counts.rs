//! Token counts kept between runs: a project that keeps more than a run
//! reads before gathering still finds its items' older counts, by key.

use crate::fake::Fake;
use crate::support::Project;

#[test]
fn an_items_count_older_than_the_newest_read_is_found_by_key_not_counted_again() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
        &["a"],
    )
    .file(
        "change.patch",
        "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .serve(&fake);
    let review = [
        "run",
        "review",
        "--no-cache",
        "--input",
        "diff=change.patch",
    ];
    assert_eq!(p.run(&review).0, 0);
    let db = rusqlite::Connection::open(p.path().join(".state/state.db")).unwrap();
    let project: String = db
        .query_row("SELECT project FROM token_counts LIMIT 1", [], |r| r.get(0))
        .unwrap();
    // The first run's counts made the oldest, under 2,001 newer ones of
    // other text: more than a run reads before it gathers.
    db.execute("UPDATE token_counts SET at_ms = 1", []).unwrap();
    for i in 0..2_001 {
        db.execute(
            "INSERT INTO token_counts (project, key, tokens, at_ms) VALUES (?1, ?2, 1, ?3)",
            rusqlite::params![project, format!("o200k:{i:032x}"), 10 + i],
        )
        .unwrap();
    }
    assert_eq!(p.run(&review).0, 0);
    // The item's count was found by its key: not counted and kept again,
    // which would have made it the newest.
    let untouched: i64 = db
        .query_row(
            "SELECT count(*) FROM token_counts WHERE at_ms = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        untouched >= 1,
        "every count of the first run was made again"
    );
    assert_eq!(fake.count(), 2);
}
