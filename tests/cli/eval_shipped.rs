//! The labelled cases `evals/` ships, replayed offline from a recording of
//! scripted replies: the whole `bsu eval` path in `cargo test`.

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::Project;

/// The scripted replies behind `evals/recording`: fixtures for testing the
/// evaluator, not a measurement of any model. Keyed by the file each case
/// adds and the agent's name.
fn scripted(system: &str, user: &str) -> Value {
    let text = format!("{system}\n{user}");
    let who = |name: &str| system.contains(&format!("\nYou are {name}"));
    let case = [
        "app/db.py",
        "web/payments.js",
        "cmd/load.go",
        "worker/count.go",
        "lib/pages.py",
        "server/routes.js",
        "app/files.py",
        "app/sync.py",
        "docs/usage.md",
        "lib/names.py",
        "tests/test_pages.py",
        "app/jobs.py",
    ]
    .into_iter()
    .find(|f| text.contains(&format!("+++ b/{f}")))
    .unwrap_or("");
    let f = |sev: &str, title: &str, line: u64| json!({"severity": sev, "title": title, "file": case, "line": line});
    let (decision, findings) = if who("Code Reviewer") {
        match case {
            "app/db.py" => (
                "request_changes",
                vec![f("high", "SQL injection via f-string query", 6)],
            ),
            "cmd/load.go" => (
                "request_changes",
                vec![f("high", "Error from os.Open is ignored", 9)],
            ),
            "worker/count.go" => (
                "request_changes",
                vec![f("high", "Data race on total between goroutines", 12)],
            ),
            "lib/pages.py" => (
                "comment",
                vec![f("medium", "Range bound is off by one: empty last page", 4)],
            ),
            "server/routes.js" => (
                "request_changes",
                vec![f("high", "Delete route lacks the authorization check", 6)],
            ),
            "app/sync.py" => (
                "request_changes",
                vec![f("high", "Exceptions are swallowed silently", 9)],
            ),
            "lib/names.py" => ("approve", vec![f("low", "Consider type hints", 1)]),
            "app/jobs.py" => (
                "approve",
                vec![f("low", "Logging the job id leaks sensitive data", 7)],
            ),
            _ => ("approve", vec![]),
        }
    } else if who("Security Vulnerability Scanner") {
        match case {
            "app/db.py" => (
                "request_changes",
                vec![f(
                    "critical",
                    "SQL injection: f-string query with user input",
                    6,
                )],
            ),
            "web/payments.js" => (
                "request_changes",
                vec![f("critical", "Live API key hard-coded in source", 3)],
            ),
            "server/routes.js" => (
                "request_changes",
                vec![f(
                    "critical",
                    "Missing authorization on the delete route",
                    6,
                )],
            ),
            "app/files.py" => (
                "request_changes",
                vec![f("high", "Path traversal through the name parameter", 9)],
            ),
            _ => ("approve", vec![]),
        }
    } else {
        match case {
            "docs/usage.md" => (
                "request_changes",
                vec![
                    json!({"severity": "medium", "title": "No changelog entry for a user-facing change"}),
                ],
            ),
            _ => ("approve", vec![]),
        }
    };
    json!({"decision": decision, "score": 7, "comments": "scripted", "findings": findings, "actions": []})
}

/// `evals/` ships labelled cases with a recording of scripted replies:
/// `cargo test` runs the whole eval offline, and it is byte-identical
/// across runs. `BSU_UPDATE_EVAL_RECORDING=1 cargo test shipped` records it
/// again after a change to the example's prompts.
#[test]
fn the_shipped_cases_replay_offline_byte_for_byte() {
    let root = crate::support::repo_root();
    let dir = root.join("evals/recording");
    let p = Project::example();
    let cases = root.join("evals");
    let cases_s = cases.to_str().unwrap().to_string();
    let dir_s = dir.to_str().unwrap().to_string();
    if std::env::var_os("BSU_UPDATE_EVAL_RECORDING").is_some() {
        let fake = Fake::start(|r| Reply::content(&scripted(&r.system(), &r.user()).to_string()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = p
            .bsu()
            .args(["eval", &cases_s, "--record", &dir_s])
            .env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", crate::support::TEST_KEY)
            .env_remove("BSU_MODEL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let run = |out: &str| {
        p.run(&[
            "eval",
            &cases_s,
            "--replay",
            &dir_s,
            "--output",
            out,
            "--markdown",
            &format!("{out}.md"),
        ])
    };
    let (code, stdout, stderr) = run("one.json");
    assert_eq!(
        code, 0,
        "the eval recording is stale: run `BSU_UPDATE_EVAL_RECORDING=1 cargo test shipped`\n{stdout}{stderr}"
    );
    let (code, again, _) = run("two.json");
    assert_eq!((code, &again), (0, &stdout));
    assert_eq!(p.read("one.json"), p.read("two.json"));
    assert_eq!(p.read("one.json.md"), p.read("two.json.md"));
    insta::assert_snapshot!(stdout);
}
