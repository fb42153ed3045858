//! Precise findings on the pull request end to end: quotes that place a
//! finding, one-click suggestions, the patch report, the noise budget, the
//! verifier, an audit's ledger and the Code Quality report.

use serde_json::{json, Value};

use crate::fake::Fake;
use crate::github::GitHub;
use crate::publish::{models, pr_project, reply_json, run, TOKEN};
use crate::support::Project;

// The scheduled audits' ledger lives in the state: on SQLite and on PostgreSQL.
crate::on_both!(an_audits_ledger_keeps_no_secret_a_model_quoted);

/// Anchors are checked, not trusted: a correct quote goes inline where it
/// says, a wrong line with a findable quote moves, an unfindable quote stays
/// in the body, and a quoted range is one multi-line comment.
#[test]
fn quotes_place_findings_on_the_lines_that_read_so() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let models = Fake::start(|_| {
        reply_json(json!({"decision": "comment", "findings": [
            {"severity": "high", "title": "Right", "file": "src/lib.rs", "line": 2, "quote": "fn b() {}"},
            {"severity": "high", "title": "Moved", "file": "src/lib.rs", "line": 1, "quote": "  fn c() {}  "},
            {"severity": "high", "title": "Nowhere", "file": "src/lib.rs", "line": 2, "quote": "fn z() {}"},
            {"severity": "medium", "title": "Range", "file": "src/lib.rs", "line": 2, "end_line": 3,
             "quote": "fn b() {}\nfn c() {}"}
        ]}))
    });
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
    );
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    let findings = p.latest()["agents"][0]["verdict"]["findings"].clone();
    let by = |t: &str| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["title"] == t)
            .unwrap()
            .clone()
    };
    assert_eq!(by("Right")["anchor"], json!({"state": "verified"}));
    assert_eq!(
        (by("Moved")["line"].clone(), by("Moved")["anchor"].clone()),
        (json!(3), json!({"state": "moved", "from": 1}))
    );
    assert_eq!(by("Nowhere")["anchor"], json!({"state": "unanchored"}));
    assert_eq!(by("Range")["end_line"], 3);
    let review = gh.with(|s| s.reviews[0].clone());
    let inline = review["comments"].as_array().unwrap();
    let at = |t: &str| {
        inline
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains(t))
            .map(|c| (c["start_line"].as_u64(), c["line"].as_u64()))
    };
    assert_eq!(at("Right"), Some((None, Some(2))));
    assert_eq!(at("Moved"), Some((None, Some(3))));
    assert_eq!(at("Nowhere"), None, "never inline");
    assert_eq!(
        at("Range"),
        Some((Some(2), Some(3))),
        "one multi-line comment"
    );
    let body = review["body"].as_str().unwrap();
    assert!(
        body.contains("Nowhere")
            && body.contains("(unanchored: the quoted code is not in the change)"),
        "{body}"
    );
}

/// A suggestion renders as GitHub's one-click block on exactly its quoted
/// range, in a fence it cannot close; one on an unchecked line is plain code;
/// one too large (1 MB) is left out; code keeps its `@`.
#[test]
fn suggestions_are_one_click_only_on_checked_ranges_and_cannot_break_out() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let huge = "x".repeat(1 << 20);
    let models = Fake::start(move |_| {
        reply_json(json!({"decision": "comment", "findings": [
            {"severity": "high", "title": "Two lines", "file": "src/lib.rs", "line": 2, "end_line": 3,
             "quote": "fn b() {}\nfn c() {}", "suggestion": "@inline\nfn bc() {}\n```\n@mallory ```` done"},
            {"severity": "medium", "title": "Unchecked", "file": "src/lib.rs", "line": 1,
             "suggestion": "fn a2() {}"},
            {"severity": "medium", "title": "Huge", "file": "src/lib.rs", "line": 1,
             "quote": "fn a() {}", "suggestion": huge}
        ]}))
    });
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
    );
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    let review = gh.with(|s| s.reviews[0].clone());
    let body = |t: &str| {
        review["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains(t))
            .unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let two = body("Two lines");
    assert!(
        two.contains("`````suggestion\n@inline\nfn bc() {}\n```\n@mallory ```` done\n`````"),
        "a fence longer than any inside, the code unchanged: {two}"
    );
    let unchecked = body("Unchecked");
    assert!(
        unchecked.contains("Suggested change (its lines are not checked, so not one click):\n\n```\nfn a2() {}\n```"),
        "{unchecked}"
    );
    let huge = body("Huge");
    assert!(
        !huge.contains("suggestion") && huge.len() < 10_000,
        "left out"
    );
}

/// `--format patch` writes every applicable suggestion as one patch that
/// `git apply --check` takes on the reviewed commit; an unchecked one is
/// left out.
#[test]
fn the_patch_report_applies_to_the_repository() {
    let gh = GitHub::start();
    let models = Fake::start(|_| {
        reply_json(json!({"decision": "comment", "findings": [
            {"severity": "low", "title": "Merge them", "file": "src/lib.rs", "line": 2, "end_line": 3,
             "quote": "fn b() {}\nfn c() {}", "suggestion": "fn bc() {}"},
            {"severity": "medium", "title": "Unchecked", "file": "src/lib.rs", "line": 1,
             "suggestion": "fn nope() {}"}
        ]}))
    });
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
    );
    let (code, _, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--format",
        "json,md,patch",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let patch = p.read("reports/latest.patch");
    // Each checked suggestion as a diff of its own, in the JSON and
    // Markdown reports; the unchecked one as plain code, marked so.
    let report: Value = serde_json::from_str(&p.read("reports/latest.json")).unwrap();
    let findings = &report["agents"][0]["verdict"]["findings"];
    let diffs: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["suggestion_diff"])
        .collect();
    assert_eq!(diffs[0].as_str(), Some(patch.as_str()), "{findings}");
    assert!(diffs[1].is_null(), "unchecked: no diff: {findings}");
    let md = p.read("reports/latest.md");
    assert!(
        md.contains("  Suggested change:\n\n  ```diff\n  diff --git a/src/lib.rs b/src/lib.rs\n")
            && md.contains("  -fn c() {}\n  +fn bc() {}\n  ```\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "  Suggested change (its lines are not checked, so not a patch):\n\n  ```text\n  fn nope() {}\n  ```"
        ),
        "{md}"
    );
    assert_eq!(
        patch,
        "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n\
         @@ -1,3 +1,2 @@\n fn a() {}\n-fn b() {}\n-fn c() {}\n+fn bc() {}\n"
    );
    let out = std::process::Command::new("git")
        .args(["apply", "--check", "reports/latest.patch"])
        .current_dir(p.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, again, _) = p.run(&["report", "reports/latest.json", "--format", "patch"]);
    assert_eq!(
        (code, again),
        (0, patch),
        "the same patch from the JSON report"
    );
}

/// The noise budget limits what goes inline, never the decision; two agents'
/// near-identical findings are one comment naming both.
#[test]
fn the_noise_budget_limits_inline_comments_but_not_the_decision() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let models = Fake::start(|r| {
        let mut findings = vec![
            json!({"severity": "high", "title": "Unchecked input here", "file": "src/lib.rs", "line": 2}),
            json!({"severity": "critical", "title": "Only a says so", "file": "src/lib.rs", "line": 1}),
            json!({"severity": "medium", "title": "Style", "file": "src/lib.rs", "line": 3}),
        ];
        if r.agent() == "b" {
            findings = vec![
                json!({"severity": "medium", "title": "unchecked INPUT", "file": "src/lib.rs", "line": 2}),
            ];
        }
        reply_json(json!({"decision": "comment", "findings": findings}))
    });
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\", \"b\"]\ninputs = [\"diff\"]\n\
         [publish]\nmin_agents = 2\ninline_min_severity = \"high\"\n[publish.github]\nmax_inline_comments = 5\n",
    );
    let (code, _, stderr) = run(&p);
    assert_eq!(
        code, 3,
        "the critical finding blocks, inline or not: {stderr}"
    );
    let review = gh.with(|s| s.reviews[0].clone());
    let inline = review["comments"].as_array().unwrap();
    assert_eq!(inline.len(), 1, "only the agreed, high one: {review}");
    let body = inline[0]["body"].as_str().unwrap();
    assert!(body.contains("Unchecked input here"), "{body}");
    assert!(body.contains("bsu: a, b · 2 of 2 agents · id `"), "{body}");
    let rest = review["body"].as_str().unwrap();
    assert!(
        rest.contains("Only a says so") && rest.contains("Style"),
        "{rest}"
    );
    // The sticky comment lists each finding once: what is on the lines,
    // then the rest folded by severity (the blocking ones open).
    let sticky = gh.with(|s| s.comments[0].1.clone());
    let at = |needle: &str| {
        sticky
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {sticky}"))
    };
    assert!(at("On the changed lines (1):") < at("Unchecked input here"));
    let critical = at("<details open><summary>🔴 1 critical</summary>");
    assert!(critical < at("- 🔴 **critical** `src/lib.rs:1` Only a says so"));
    assert!(critical < at("<details><summary>🟡 1 medium</summary>"));
    assert!(at("<details><summary>🟡 1 medium</summary>") < at("Style"));
    assert_eq!(sticky.matches("**critical**").count(), 1, "{sticky}");
    // The agreed finding is one in the ledger too, not one per agent.
    assert!(
        sticky.contains("**Across pushes:** 3 new · 0 still open"),
        "{sticky}"
    );
    // At most one per push.
    let p = p.file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\n\
         max_inline_comments = 1\n[publish.github]\nmax_inline_comments = 5\n",
    );
    let gh2 = GitHub::start();
    gh2.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let p = p.env("GITHUB_API_URL", &gh2.api_url());
    assert_eq!(run(&p).0, 3);
    let review = gh2.with(|s| s.reviews[0].clone());
    let inline = review["comments"].as_array().unwrap();
    assert_eq!(inline.len(), 1);
    assert!(
        inline[0]["body"]
            .as_str()
            .unwrap()
            .contains("Only a says so"),
        "the strongest first"
    );
}

/// The verifier pass: it is shown each candidate inline finding (never a
/// critical one) and one it drops stays in the report, marked, off the
/// lines; the decision does not change. Its tokens are in the report.
#[test]
fn a_verifier_that_drops_a_finding_removes_it_from_the_lines_only() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let models = Fake::start(|r| {
        let system = r.system();
        if system.starts_with("You are Agent v, verifying") {
            let user = r.user();
            assert!(
                !user.contains("Never shown"),
                "a critical finding is never verified"
            );
            // "## ID at PLACE" then the title on the next line.
            let lines: Vec<&str> = user.lines().collect();
            let id = lines
                .windows(2)
                .find(|w| w[0].starts_with("## ") && w[1] == "Second")
                .map(|w| w[0][3..13].to_string())
                .unwrap();
            return reply_json(
                json!({"verdicts": [{"id": id, "keep": false, "reason": "style only"}]}),
            );
        }
        reply_json(json!({"decision": "request_changes", "findings": [
            {"severity": "high", "title": "First", "file": "src/lib.rs", "line": 2, "quote": "fn b() {}"},
            {"severity": "high", "title": "Second", "file": "src/lib.rs", "line": 3, "quote": "fn c() {}"},
            {"severity": "critical", "title": "Never shown", "file": "src/lib.rs", "line": 1, "quote": "fn a() {}"}
        ]}))
    });
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\nverify = \"v\"\n",
    ).agent("v", "");
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 3, "the critical finding still blocks: {stderr}");
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "block");
    assert_eq!(
        (
            r["verifier"]["kept"].as_u64(),
            r["verifier"]["dropped"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(r["verifier"]["usage"]["total_tokens"], 120);
    // 100 prompt and 20 completion tokens of gpt-4o-mini.
    let want = (100.0 * 0.15 + 20.0 * 0.60) / 1e6;
    assert!(
        (r["verifier"]["usd"].as_f64().unwrap() - want).abs() < 1e-12,
        "{}",
        r["verifier"]
    );
    let second = r["agents"][0]["verdict"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Second")
        .unwrap()
        .clone();
    assert_eq!(second["dropped"], "style only");
    let review = gh.with(|s| s.reviews[0].clone());
    let inline: Vec<&str> = review["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(inline.iter().any(|b| b.contains("First")), "{inline:?}");
    assert!(!inline.iter().any(|b| b.contains("Second")), "{inline:?}");
    assert!(
        review["body"]
            .as_str()
            .unwrap()
            .contains("(kept off the lines by the verifier: style only)"),
        "{review}"
    );
    // A verifier that is no agent is a configuration error at its line.
    let bad = p.file(
        "events.toml",
        "[events.\"pull_request.opened\"]\nagents = [\"a\"]\nverify = \"nope\"\n",
    );
    let (code, stdout, _) = bad.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("names agent \"nope\", which does not exist"),
        "{stdout}"
    );
}

/// A model quoting a secret in a finding's title cannot put it into the
/// audit ledger the state database keeps.
fn an_audits_ledger_keeps_no_secret_a_model_quoted() {
    let key = crate::support::TEST_KEY;
    let models = Fake::start(move |_| {
        reply_json(json!({"decision": "comment", "findings": [
            {"severity": "low", "title": format!("the key is {key}"), "file": "src/x.rs"}]}))
    });
    let p = Project::with_agents("[events.\"scheduled.weekly\"]\nagents = [\"a\"]\n", &["a"])
        .serve(&models);
    assert_eq!(p.run(&["run", "scheduled.weekly"]).0, 0);
    let stored = crate::support::state_text(&p);
    assert!(
        stored.contains("the key is [redacted]"),
        "the ledger was kept"
    );
    assert!(!stored.contains(key), "a secret reached the state database");
}

/// `--format codequality` writes GitLab's Code Quality report: one issue
/// per merged finding on a file, with the fields GitLab requires
/// (description, check_name, fingerprint = the finding's id, severity in
/// GitLab's five words, location.path and location.lines.begin).
#[test]
fn the_code_quality_report_has_what_gitlab_reads() {
    let gh = GitHub::start();
    let models = models();
    let p = pr_project(&gh, &models);
    let (code, _, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--format",
        "json,codequality",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let issues: Value = serde_json::from_str(&p.read("reports/latest.codequality.json")).unwrap();
    let issues = issues.as_array().unwrap();
    // a's three findings and b's copy of one: two on a file, merged; the
    // remark without a file has no place in it.
    assert_eq!(issues.len(), 2, "{issues:?}");
    let report = p.latest();
    let ids: Vec<&str> = report["agents"][0]["verdict"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for i in issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {i}");
        }
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert_eq!(i["location"]["path"], "src/lib.rs");
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(ids.contains(&i["fingerprint"].as_str().unwrap()), "{i}");
    }
    assert_eq!(
        issues[0]["severity"], "critical",
        "high is GitLab's critical"
    );
    assert_eq!(issues[0]["check_name"], "bsu/a+b");
    assert!(!p.all_text().contains(TOKEN));
}
