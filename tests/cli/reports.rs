//! A run's report files end to end: the JSON report against the contract,
//! their names, `keep`, `latest`, the Markdown report, the step summary,
//! the metrics file and where reports go.

use std::time::Duration;

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::run::panel;
use crate::support::Project;

#[test]
fn the_json_report_matches_the_contract_field_for_field() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    let (code, stdout, _) = p.run(&["run", "pull_request.opened", "--json"]);
    assert_eq!(code, 0);
    let printed: serde_json::Value =
        serde_json::from_str(&stdout).expect("--json prints only the report");
    let r = p.latest();
    assert_eq!(printed, r);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&r),
        [
            "agents",
            "breakers",
            "bsu_version",
            "config_hash",
            "cost",
            "decision",
            "dry_run",
            "duration_ms",
            "event",
            "execution",
            "exit_code",
            "finished_at",
            "inputs",
            "interrupted",
            "ledger",
            "payload_cut",
            "payload_view",
            "publish",
            "run_id",
            "schema_version",
            "started_at",
            "strategy",
            "subject",
            "totals"
        ]
    );
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["bsu_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r["config_hash"].as_str().unwrap().len(), 64);
    assert!(humantime::parse_rfc3339(r["started_at"].as_str().unwrap()).is_ok());
    assert!(humantime::parse_rfc3339(r["finished_at"].as_str().unwrap()).is_ok());
    assert_eq!(keys(&r["decision"]), ["action", "reason"]);
    assert_eq!(
        keys(&r["agents"][0]),
        [
            "ambiguity",
            "attempts",
            "cached",
            "decision",
            "disallowed_actions",
            "duration_ms",
            "fallback",
            "id",
            "inputs",
            "model",
            "name",
            "output",
            "prompt_hash",
            "provider",
            "reason",
            "status",
            "usage",
            "verdict"
        ]
    );
    let a = &r["agents"][0];
    assert_eq!(
        a["usage"],
        json!({"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
               "cached_prompt_tokens": 0, "cache_creation_tokens": 0})
    );
    assert_eq!(
        keys(&a["verdict"]),
        ["actions", "comments", "decision", "findings", "score"]
    );
    assert_eq!(a["attempts"], 1);
    assert_eq!(a["cached"], false);
    assert!(a["reason"].is_null());
    assert_eq!(
        keys(&r["totals"]),
        [
            "cache_hits",
            "calls",
            "completion_tokens",
            "prompt_tokens",
            "retries"
        ]
    );
    assert_eq!(r["totals"]["calls"], 4);
    assert_eq!(r["totals"]["prompt_tokens"], 400);
    assert!(r["breakers"].is_array());
}

#[test]
fn report_files_are_named_by_the_contract_and_no_temp_files_remain() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    let (code, stdout, _) = p.run(&[
        "run",
        "pull_request.opened",
        "--format",
        "json,md,junit,sarif",
    ]);
    assert_eq!(code, 0);
    let names = p.reports();
    let run_id = p.latest()["run_id"].as_str().unwrap().to_string();
    for ext in ["json", "md", "junit.xml", "sarif"] {
        assert!(names.contains(&format!("latest.{ext}")), "{names:?}");
        let own = names
            .iter()
            .find(|n| n.ends_with(&format!("-pull_request.opened-{run_id}.{ext}")));
        let own = own.unwrap_or_else(|| panic!("no {ext} report in {names:?}"));
        assert_eq!(
            own.len(),
            20 + 1 + "pull_request.opened".len() + 1 + run_id.len() + 1 + ext.len()
        );
        assert!(
            stdout.contains(&format!("Report: reports/{own}")),
            "{stdout}"
        );
    }
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    let junit = p.read("reports/latest.junit.xml");
    assert_eq!(
        junit.matches("<testcase ").count(),
        5,
        "4 agents and the decision"
    );
    let sarif: serde_json::Value = serde_json::from_str(&p.read("reports/latest.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // An event that tries to escape the folder stays inside it.
    let p = Project::with_agents("[events.default]\nagents = [\"a\"]\n", &["a"]).serve(&fake);
    let (code, _, _) = p.run(&["run", "../../escape/x y"]);
    assert_eq!(code, 0);
    assert!(
        p.reports().iter().any(|n| n.contains("-.._.._escape_x_y-")),
        "{:?}",
        p.reports()
    );
}

#[test]
fn keep_retains_the_newest_reports_per_event() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[reports]\nkeep = 2\n[events.a]\nagents = [\"x\"]\n[events.b]\nagents = [\"x\"]\n",
        &["x"],
    )
    .serve(&fake);
    for _ in 0..3 {
        assert_eq!(p.run(&["run", "a"]).0, 0);
        std::thread::sleep(Duration::from_millis(5)); // distinct millisecond stamps
    }
    assert_eq!(p.run(&["run", "b"]).0, 0);
    let names = p.reports();
    let of = |ev: &str| {
        names
            .iter()
            .filter(|n| n.contains(&format!("Z-{ev}-")) && n.ends_with(".json"))
            .count()
    };
    assert_eq!((of("a"), of("b")), (2, 1), "{names:?}");
}

#[test]
fn markdown_report_reads_well_and_escapes_model_text() {
    let fake = Fake::all_approve_but(
        "a",
        Reply::content(
            r#"{"decision": "request_changes", "score": 4, "comments": "Fix this <script>alert(1)</script> | now\n# not a heading",
              "findings": [{"severity": "low", "title": "Naming", "detail": "x"}, {"severity": "high", "title": "SQL | injection", "detail": "in query()", "file": "src/db.rs", "line": 12}],
              "actions": ["merge"]}"#,
        ),
    );
    let p = panel().serve(&fake);
    p.run(&["run", "pull_request.opened"]);
    let md = p.read("reports/latest.md");
    assert!(
        md.starts_with("# 🟠 Request changes — `pull_request.opened`"),
        "{md}"
    );
    assert!(md.contains("| Agent | Status | Verdict | Score | Time | Tokens |"));
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("&lt;script&gt;"));
    assert!(md.contains("> \\# not a heading"), "{md}");
    let merged = &md[md.find("## Findings (2)").expect(&md)..];
    let high = merged.find("**high**").expect(&md);
    let low = merged.find("**low**").unwrap();
    assert!(high < low, "findings by severity");
    assert!(
        md.contains("SQL | injection") || md.contains("SQL \\| injection"),
        "{md}"
    );
    assert!(md.contains("`src/db.rs:12`"));
    assert!(md.contains("Asked for actions it is not allowed: `merge`"));
    assert_eq!(
        p.latest()["agents"][0]["disallowed_actions"],
        json!(["merge"])
    );
}

#[test]
fn step_summary_is_appended() {
    let fake = Fake::approving();
    let p = panel().serve(&fake).file("summary.md", "earlier step\n");
    let summary = p.path().join("summary.md");
    let p = p.env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
    assert_eq!(p.run(&["run", "pull_request.opened"]).0, 0);
    let text = p.read("summary.md");
    assert!(text.starts_with("earlier step\n# ✅ Approve"), "{text}");
}

#[test]
fn metrics_file_is_prometheus_text() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    assert_eq!(
        p.run(&["run", "pull_request.opened", "--metrics-file", "bsu.prom"])
            .0,
        0
    );
    let m = p.read("bsu.prom");
    assert!(m.contains("# TYPE bsu_run_duration_seconds gauge"), "{m}");
    assert!(
        m.contains("bsu_run_decision{event=\"pull_request.opened\",decision=\"approve\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("bsu_run_agents{event=\"pull_request.opened\",status=\"succeeded\"} 4"),
        "{m}"
    );
    assert!(
        m.contains("bsu_run_exit_code{event=\"pull_request.opened\"} 0"),
        "{m}"
    );
}

#[test]
fn reports_dir_flag_and_variable() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    assert_eq!(
        p.run(&["run", "pull_request.opened", "--reports-dir", "out/ci"])
            .0,
        0
    );
    assert!(p.path().join("out/ci/latest.json").is_file());
    assert!(p.reports().is_empty(), "nothing in the default folder");
    let out = p
        .bsu()
        .args(["run", "pull_request.opened"])
        .env("BSU_REPORTS_DIR", "elsewhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(p.path().join("elsewhere/latest.md").is_file());
    // [reports] dir in events.toml is relative to the project, even with -C.
    let q = Project::with_agents(
        "[reports]\ndir = \"build/reports\"\n[events.x]\nagents = [\"a\"]\n",
        &["a"],
    )
    .serve(&fake);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = q
        .bsu()
        .current_dir(elsewhere.path())
        .args(["-C", q.path().to_str().unwrap(), "run", "x"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(q.path().join("build/reports/latest.json").is_file());
}

/// `latest.*` is the run's own file under a second name (a hard link), not
/// a second copy of its bytes.
#[cfg(unix)]
#[test]
fn latest_reports_are_links_to_the_runs_own_files() {
    use std::os::unix::fs::MetadataExt;
    let fake = Fake::approving();
    let p = Project::with_agents("[events.ping]\nagents = [\"a\"]\n", &["a"]).serve(&fake);
    for _ in 0..2 {
        assert_eq!(p.run(&["run", "ping"]).0, 0);
    }
    let latest = std::fs::metadata(p.path().join("reports/latest.json")).unwrap();
    let newest = p
        .reports()
        .into_iter()
        .filter(|n| n.ends_with(".json") && n != "latest.json")
        .max()
        .unwrap();
    let own = std::fs::metadata(p.path().join("reports").join(newest)).unwrap();
    assert_eq!(latest.ino(), own.ino());
    assert_eq!(latest.nlink(), 2);
}
