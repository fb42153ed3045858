//! Tools around reports: `bsu report` (byte-identical re-rendering) and
//! `bsu diff` (what changed between two runs).

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::support::Project;

fn two_agents() -> Project {
    Project::with_agents("[events.nightly]\nagents = [\"a\", \"b\"]\n", &["a", "b"])
}

#[test]
fn report_renders_every_format_byte_for_byte_as_the_run_wrote_it() {
    let fake = Fake::start(|r| {
        if r.agent() == "a" {
            Reply::content(
                "quoted {\"decision\": \"approve\"} then ```json\n{\"decision\": \"block\", \"findings\": [{\"severity\": \"Blocker\", \"title\": \"Key | leak\", \"file\": \"a.rs\", \"line\": 2}]}\n```",
            )
        } else {
            Reply::content("no verdict here")
        }
    });
    let p = two_agents().serve(&fake);
    let (code, _, _) = p.run(&[
        "run",
        "nightly",
        "--format",
        "json,md,junit,sarif",
        "--metrics-file",
        "m.prom",
    ]);
    assert_eq!(code, 3);
    for (format, file) in [
        ("json", "reports/latest.json"),
        ("md", "reports/latest.md"),
        ("junit", "reports/latest.junit.xml"),
        ("sarif", "reports/latest.sarif"),
        ("metrics", "m.prom"),
    ] {
        let (code, stdout, stderr) = p.run(&["report", "reports/latest.json", "--format", format]);
        assert_eq!(code, 0, "{format}: {stderr}");
        assert_eq!(
            stdout,
            p.read(file),
            "{format} differs from what the run wrote"
        );
    }
    let p = p.file("old.json", &json!({"schema_version": 0}).to_string());
    let (code, _, stderr) = p.run(&["report", "old.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("schema_version 0; this bsu reads version 1"),
        "{stderr}"
    );
}

#[test]
fn diff_shows_the_decision_agents_and_findings_that_moved() {
    let fake = Fake::start(|_| {
        Reply::content(
            r#"{"decision": "approve", "findings": [{"severity": "low", "title": "Old nit", "file": "x.rs", "line": 1}]}"#,
        )
    });
    let p = two_agents().serve(&fake);
    assert_eq!(p.run(&["run", "nightly"]).0, 0);
    let first = p.read("reports/latest.json");
    let p = p.file("first.json", &first);
    fake.set_script(|r| {
        if r.agent() == "b" {
            Reply::content(r#"{"decision": "block", "findings": [{"severity": "critical", "title": "New leak", "file": "y.rs", "line": 9}]}"#)
        } else {
            Reply::content(r#"{"decision": "approve", "findings": [{"severity": "low", "title": "Old nit", "file": "x.rs", "line": 1}]}"#)
        }
    });
    assert_eq!(p.run(&["run", "nightly", "--no-cache"]).0, 3);
    let (code, d) = p.json(&["diff", "first.json", "reports/latest.json", "--json"]);
    assert_eq!(code, 0, "diff exits 0 without --exit-code");
    assert_eq!(
        d["decision"],
        json!({"before": "approve", "after": "block"})
    );
    assert_eq!(d["decision_changed"], true);
    assert_eq!(
        d["agents"],
        json!([{"id": "b", "before": "approve", "after": "block"}])
    );
    assert_eq!(d["added"][0]["title"], "New leak");
    assert_eq!(d["resolved"][0]["title"], "Old nit");
    assert_eq!(d["resolved"][0]["agent"], "b");

    let (code, stdout, _) = p.run(&["diff", "first.json", "reports/latest.json", "--exit-code"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("decision: approve → block"), "{stdout}");
    let (code, _, _) = p.run(&["diff", "first.json", "first.json", "--exit-code"]);
    assert_eq!(code, 0);

    // The two newest runs from the history.
    let (code, d) = p.json(&["diff", "--last", "nightly", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(d["decision"]["after"], "block");
    let (code, _, stderr) = p.run(&["diff", "--last", "other"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("needs two"), "{stderr}");
}
