//! Tools around reports: `bsu report` (byte-identical re-rendering) and
//! `bsu diff` (what changed between two runs).

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::support::Project;

// `bsu diff --last` reads the history: on SQLite and on PostgreSQL.
crate::on_both!(diff_shows_the_decision_agents_and_findings_that_moved);

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

#[test]
fn record_then_replay_offline_without_a_key() {
    let fake = Fake::start(|r| {
        if r.agent() == "a" {
            Reply::verdict("request_changes", 5)
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = two_agents().serve(&fake);
    let (code, _, stderr) = p.run(&["run", "nightly", "--record", "rec"]);
    assert_eq!(code, 0, "{stderr}");
    let files: Vec<_> = std::fs::read_dir(p.path().join("rec"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 2, "one file per request");
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f.path()).unwrap())
        .collect();
    assert!(
        !text.contains(crate::support::TEST_KEY),
        "the key is never recorded"
    );
    assert!(text.contains("\"bsu_recording\": 1"));
    let first = p.latest();

    // No server, no key: the replay decides the same.
    let url = fake.url.clone();
    drop(fake);
    let offline = two_agents().env("OPENAI_BASE_URL", &url).file("keep", "");
    std::fs::create_dir_all(offline.path().join("rec")).unwrap();
    for f in &files {
        std::fs::copy(f.path(), offline.path().join("rec").join(f.file_name())).unwrap();
    }
    let (code, _, stderr) = offline.run(&["run", "nightly", "--replay", "rec"]);
    assert_eq!(code, 0, "{stderr}");
    let replayed = offline.latest();
    assert_eq!(replayed["decision"], first["decision"]);
    assert_eq!(
        replayed["agents"][0]["verdict"],
        first["agents"][0]["verdict"]
    );

    // A request with no recording: exit 2, naming the agent and the request.
    let changed = offline.agent("b", "description = \"Something else now.\"");
    let (code, _, stderr) = changed.run(&["run", "nightly", "--replay", "rec"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("agent b: bsu replay: no recording for request"),
        "{stderr}"
    );
}

/// The example project ships a recording, so the README's first command
/// shows a whole run offline. `BSU_UPDATE_RECORDING=1 cargo test recording`
/// writes it again after a change to the example's prompts.
#[test]
fn the_example_recording_replays_the_readme_command() {
    let root = crate::support::repo_root();
    let dir = root.join("docs/examples/recording");
    let p = Project::example()
        .file(
            "event.json",
            &std::fs::read_to_string(root.join("docs/examples/pull_request.opened.json")).unwrap(),
        )
        .file(
            "change.patch",
            &std::fs::read_to_string(root.join("docs/examples/change.patch")).unwrap(),
        );
    let args = [
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--input",
        "diff=change.patch",
    ];
    if std::env::var_os("BSU_UPDATE_RECORDING").is_some() {
        // Record the example's run against a fake that answers each agent.
        let fake = Fake::start(|r| {
            // The example's agents by their names ("You are Code Reviewer, ...").
            let system = r.system();
            let who = |name: &str| system.contains(&format!("\nYou are {name}"));
            let reply = match () {
                _ if who("Code Reviewer") => json!({"decision": "request_changes", "score": 6,
                    "comments": "The limiter is keyed by peer IP, which is the proxy's address behind the load balancer: every client shares one bucket.",
                    "findings": [{"severity": "high", "title": "Rate limit keyed by the proxy's IP",
                        "detail": "Use the client address from X-Forwarded-For as set by the trusted proxy.",
                        "file": "src/api/search.rs", "line": 13}], "actions": ["suggest_fixes"]}),
                _ if who("Security Vulnerability Scanner") => {
                    json!({"decision": "approve", "score": 8,
                    "comments": "No secrets or injection paths in this change; 429 with Retry-After is correct.",
                    "findings": [{"severity": "low", "title": "Limit is not configurable per route", "file": "config/app.toml", "line": 8}], "actions": []})
                }
                _ => json!({"decision": "approve", "score": 9,
                    "comments": "Small, described change with tests mentioned; labels and description are in order.",
                    "findings": [], "actions": []}),
            };
            Reply::content(&reply.to_string())
        });
        let _ = std::fs::remove_dir_all(&dir);
        let dir_s = dir.to_str().unwrap().to_string();
        let mut record = args.to_vec();
        record.extend(["--record", &dir_s, "--no-cache"]);
        let out = p
            .bsu()
            .args(&record)
            .env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", crate::support::TEST_KEY)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut replay = args.to_vec();
    let dir_s = dir.to_str().unwrap().to_string();
    replay.extend(["--replay", &dir_s]);
    let (code, stdout, stderr) = p.run(&replay);
    assert_eq!(
        code, 0,
        "the example recording is stale: run `BSU_UPDATE_RECORDING=1 cargo test recording`\n{stdout}{stderr}"
    );
    assert!(stdout.contains("Decision: REQUEST_CHANGES"), "{stdout}");
    // Whatever the provider's base URL says in the environment, the recording replays.
    let out = p
        .bsu()
        .args(&replay)
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The README's own line, as a user's shell runs it — with the variables
    // the README suggests for local models set: it pins what it needs.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("--replay docs/examples/recording"))
        .unwrap();
    let (pin, rest) = line
        .split_once(" cargo run --release -- ")
        .expect("the README runs bsu through cargo");
    let mut argv: Vec<&str> = pin.split_whitespace().collect();
    let bsu = env!("CARGO_BIN_EXE_bsu");
    argv.push(bsu);
    argv.extend(rest.split_whitespace());
    let state = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(&root)
        .env("BSU_MODEL", "llama3")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("BSU_STATE_DIR", state.path())
        .env("BSU_REPORTS_DIR", state.path().join("reports"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
