//! `bsu eval` end to end: cases with known golden findings, scripted model
//! replies whose findings are known, and the metrics as computed by hand.

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::Project;

pub(crate) const EVENTS: &str = r#"
[inputs.diff]
kind = "git_diff"

[events."pull_request.opened"]
agents = ["a", "b"]
inputs = ["diff"]
"#;

/// A patch adding `file` with `n` lines.
pub(crate) fn patch(file: &str, n: usize) -> String {
    let mut s = format!(
        "diff --git a/{file} b/{file}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1,{n} @@\n"
    );
    for i in 1..=n {
        s.push_str(&format!("+line {i} of {file}\n"));
    }
    s
}

fn reply(decision: &str, findings: Value) -> Reply {
    Reply::content(&json!({"decision": decision, "findings": findings}).to_string())
}

/// The judge says "same" for exactly the pairs whose finding and golden
/// issue both speak of authorization.
fn judge(user: &str) -> Reply {
    let mut pairs = Vec::new();
    for block in user.split("\n## p").skip(1) {
        let id = block.split('\n').next().unwrap_or("");
        let known = block
            .lines()
            .find(|l| l.starts_with("Known issue"))
            .unwrap_or("");
        let finding = block
            .lines()
            .find(|l| l.starts_with("Finding"))
            .unwrap_or("");
        let same = known.contains("authorization") && finding.contains("authorization");
        pairs.push(json!({"id": format!("p{id}"), "same": same, "reason": "scripted"}));
    }
    Reply::content(&json!({"pairs": pairs}).to_string())
}

/// Four cases: a seeded injection with a locationless golden finding and a
/// trap; a clean change; a clean change an agent blocks; a missed bug.
pub(crate) fn models() -> Fake {
    Fake::start(|r| {
        if r.system().contains("judging whether code review findings") {
            return judge(&r.user());
        }
        // The change is in the part of the prompt every agent shares.
        let user = format!("{}\n{}", r.system(), r.user());
        let a = r.agent() == "a";
        if user.contains("app.py") {
            if a {
                return reply(
                    "request_changes",
                    json!([
                        {"severity": "critical", "title": "SQL injection: query built with string formatting", "file": "app.py", "line": 6},
                        {"severity": "critical", "title": "SQL injection: query built with string formatting", "file": "app.py", "line": 5},
                        {"severity": "high", "title": "Delete endpoint lacks an authorization check", "file": "app.py", "line": 9}
                    ]),
                );
            }
            return reply(
                "comment",
                json!([
                    {"severity": "high", "title": "SQL injection in the query string formatting", "file": "app.py", "line": 12},
                    {"severity": "low", "title": "Unused import of os", "file": "app.py", "line": 1}
                ]),
            );
        }
        if user.contains("style.py") && a {
            return reply(
                "request_changes",
                json!([
                    {"severity": "low", "title": "Style nit in naming", "file": "style.py", "line": 2}
                ]),
            );
        }
        reply("approve", json!([]))
    })
}

pub(crate) fn project(models: &Fake) -> Project {
    Project::with_agents(EVENTS, &["a", "b", "j"])
        .serve(models)
        .file("evals/sqli/change.patch", &patch("app.py", 10))
        .file(
            "evals/sqli/expect.toml",
            r#"decision = { at_least = "request_changes" }

[[finding]]
description = "SQL injection in query built with string formatting"
severity = "critical"
file = "app.py"
line = 4

[[finding]]
description = "Missing authorization check on the delete endpoint"
severity = "high"

[[absent]]
description = "Unused import of os"
file = "app.py"
line = 1
"#,
        )
        .file("evals/clean/change.patch", &patch("docs.md", 3))
        .file("evals/clean/expect.toml", "decision = \"approve\"\n")
        .file("evals/falseblock/change.patch", &patch("style.py", 3))
        .file("evals/falseblock/expect.toml", "decision = \"approve\"\n")
        .file("evals/missed/change.patch", &patch("lib.py", 5))
        .file(
            "evals/missed/expect.toml",
            r#"decision = { at_least = "request_changes" }

[[finding]]
description = "Off-by-one in the loop bound"
severity = "medium"
file = "lib.py"
line = 3
"#,
        )
}

fn figures(v: &Value) -> (u64, u64, u64, Value, Value, Value) {
    (
        v["tp"].as_u64().unwrap(),
        v["fp"].as_u64().unwrap(),
        v["fn"].as_u64().unwrap(),
        v["precision"].clone(),
        v["recall"].clone(),
        v["f1"].clone(),
    )
}

/// The mixed set, computed by hand (tolerance ±3):
/// - sqli: a's line-6 and line-5 findings both fit golden 1 (line 4): the
///   nearer (5) matches, the other is a duplicate (FP); a's authorization
///   finding matches the locationless golden 2 only through the judge; b's
///   line-12 finding is beyond tolerance (FP) and its unused-import finding
///   is spurious and falls into the trap.
/// - clean: nothing said, approve: right.
/// - falseblock: a asks for changes on a clean change (FP, a false block).
/// - missed: nobody finds the off-by-one (FN, a missed block).
#[test]
fn metrics_come_out_as_computed_by_hand() {
    let m = models();
    let p = project(&m);
    let (code, v) = p.json(&["eval", "evals", "--judge", "j", "--json"]);
    assert_eq!(code, 0, "{v}");
    // Agent a: TP 2 (sqli), FP 2 (duplicate, style), FN 1 (off-by-one).
    assert_eq!(
        figures(&v["agents"]["a"]),
        (2, 2, 1, json!(0.5), json!(0.6667), json!(0.5714))
    );
    // Agent b: TP 0, FP 2, FN 3.
    assert_eq!(
        figures(&v["agents"]["b"]),
        (0, 2, 3, json!(0.0), json!(0.0), json!(0.0))
    );
    // The panel: five findings on sqli (none merge), the style one, none else.
    let panel = &v["panel"];
    assert_eq!(
        figures(panel),
        (2, 4, 1, json!(0.3333), json!(0.6667), json!(0.4444))
    );
    assert_eq!(panel["macro_f1"], json!(0.1905), "(0.5714 + 0 + 0) / 3");
    assert_eq!(panel["weighted_recall"], json!(0.8571), "(8 + 4) / 14");
    assert_eq!(panel["traps"], json!(1));
    let d = &panel["decisions"];
    assert_eq!(
        (
            d["correct"].clone(),
            d["total"].clone(),
            d["accuracy"].clone()
        ),
        (json!(2), json!(4), json!(0.5))
    );
    assert_eq!(
        (
            d["false_blocks"].clone(),
            d["clean_cases"].clone(),
            d["false_block_rate"].clone()
        ),
        (json!(1), json!(2), json!(0.5))
    );
    assert_eq!(
        (
            d["missed_blocks"].clone(),
            d["blocking_cases"].clone(),
            d["missed_block_rate"].clone()
        ),
        (json!(1), json!(2), json!(0.5))
    );
    assert_eq!(
        d["confusion"],
        json!({">= request_changes": {"approve": 1, "block": 1}, "approve": {"approve": 1, "request_changes": 1}})
    );
    // What each agent adds: without a the panel finds nothing.
    assert_eq!(v["agents"]["a"]["recall_lost_without"], json!(0.6667));
    assert_eq!(v["agents"]["b"]["recall_lost_without"], json!(0.0));
    // The matches, by how.
    let sqli = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sqli")
        .unwrap();
    let how: Vec<&str> = sqli["panel"]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["how"].as_str().unwrap())
        .collect();
    assert_eq!(how, ["location", "judge"]);
    assert_eq!(
        sqli["panel"]["matched"][0]["finding"],
        "app.py:5 SQL injection: query built with string formatting"
    );
    assert_eq!(
        sqli["agents"]["b"]["traps"],
        json!(["app.py:1 Unused import of os"])
    );
}

/// Without a judge the locationless golden finding cannot be matched.
#[test]
fn without_a_judge_a_locationless_golden_finding_is_missed() {
    let m = models();
    let p = project(&m);
    let (code, v) = p.json(&["eval", "evals", "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(figures(&v["agents"]["a"]).0, 1);
    assert!(m.requests().iter().all(|r| !r.system().contains("judging")));
}

/// A recorded eval replays offline, byte for byte, with the live figures.
#[test]
fn a_replayed_eval_is_byte_identical_and_needs_no_network() {
    let m = models();
    let p = project(&m);
    let (code, _, stderr) = p.run(&[
        "eval",
        "evals",
        "--judge",
        "j",
        "--record",
        "rec",
        "--output",
        "live.json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let p = p.env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    let sent = m.requests().len();
    for out in ["one", "two"] {
        let (code, _, stderr) = p.run(&[
            "eval",
            "evals",
            "--judge",
            "j",
            "--replay",
            "rec",
            "--output",
            &format!("{out}.json"),
            "--markdown",
            &format!("{out}.md"),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(m.requests().len(), sent, "nothing sent");
    assert_eq!(p.read("one.json"), p.read("two.json"));
    assert_eq!(p.read("one.md"), p.read("two.md"));
    let (live, replayed): (Value, Value) = (
        serde_json::from_str(&p.read("live.json")).unwrap(),
        serde_json::from_str(&p.read("one.json")).unwrap(),
    );
    assert_eq!(live["panel"]["f1"], replayed["panel"]["f1"]);
    assert_eq!(replayed["replayed"], json!(true));
    assert!(replayed["cases"][0]["latency_ms"].is_null());
    // A missing recording is an error naming the case, not a figure.
    std::fs::remove_dir_all(p.path().join("rec")).unwrap();
    std::fs::create_dir(p.path().join("rec")).unwrap();
    let (code, _, stderr) = p.run(&["eval", "evals", "--replay", "rec"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("case clean agent a:"), "{stderr}");
}

/// `--baseline` shows deltas; `--fail-under` and `--max-regression` exit 3
/// naming the figure; a figure that cannot be computed fails its floor.
#[test]
fn gates_give_exit_codes_for_ci() {
    let m = models();
    let p = project(&m);
    let (code, _, _) = p.run(&["eval", "evals", "--judge", "j", "--output", "base.json"]);
    assert_eq!(code, 0);
    // Without the judge recall falls from 2/3 to 1/3.
    let (code, stdout, stderr) = p.run(&[
        "eval",
        "evals",
        "--baseline",
        "base.json",
        "--max-regression",
        "0.05",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stdout.contains("Against base.json:\n  precision -0.1666 · recall -0.3334 · F1 -0.2222\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "error: eval gate: panel recall fell 0.3334 below the baseline (at most 0.05 allowed)"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = p.run(&[
        "eval",
        "evals",
        "--judge",
        "j",
        "--fail-under",
        "f1=0.4,decision=0.6",
    ]);
    assert_eq!(code, 3);
    assert_eq!(
        stderr,
        "error: eval gate: panel decision 0.5000 is under 0.6\n"
    );
    assert_eq!(
        p.run(&[
            "eval",
            "evals",
            "--judge",
            "j",
            "--fail-under",
            "f1=0.4,decision=0.5"
        ])
        .0,
        0
    );
    let (code, _, stderr) = p.run(&["eval", "evals", "--fail-under", "f2=0.4"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "\"f2\" is not a figure; use one of precision, recall, f1, weighted_recall, decision"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = p.run(&["eval", "evals", "--max-regression", "0.1"]);
    assert_eq!(code, 2, "--max-regression needs --baseline: {stderr}");
}

/// The terminal summary, whole.
#[test]
fn the_summary_fits_80_columns() {
    let m = models();
    let p = project(&m).env("COLUMNS", "80");
    let (code, stdout, stderr) = p.run(&["eval", "evals", "--judge", "j"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!(stdout);
    assert!(stdout.lines().all(|l| l.chars().count() <= 80), "{stdout}");
}
