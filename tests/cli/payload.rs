//! The event's payload end to end: where it is read from (`--payload`,
//! `GITHUB_EVENT_PATH`, stdin), its errors, and the compact view that
//! keeps its share of the prompt small.

use crate::fake::Fake;
use crate::run::panel;
use crate::support::Project;

#[test]
fn payload_sources_and_errors() {
    let fake = Fake::approving();
    let p = panel()
        .serve(&fake)
        .file("event.json", r#"{"action": "opened", "number": 42}"#);
    let (code, _, _) = p.run(&["run", "pull_request.opened", "--payload", "event.json"]);
    assert_eq!(code, 0);
    assert!(fake.requests()[0].system().contains("\"number\": 42"));

    let out = p
        .bsu()
        .args(["run", "pull_request.opened", "--payload", "-"])
        .write_stdin(r#"{"from": "stdin"}"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(fake
        .requests()
        .last()
        .unwrap()
        .system()
        .contains("\"from\": \"stdin\""));

    // Inside GitHub Actions the event comes from GITHUB_EVENT_NAME + action.
    let gh = p
        .bsu()
        .args(["run"])
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", p.path().join("event.json"))
        .output()
        .unwrap();
    assert_eq!(
        gh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&gh.stderr)
    );
    assert_eq!(p.latest()["event"], "pull_request.opened");

    let before = fake.count();
    let p = p.file("bad.json", "{\"a\": 1,\n  oops}");
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--payload", "bad.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad.json:2:3: the payload is not valid JSON"),
        "{stderr}"
    );
    let (code, _, stderr) = p.run(&["run"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no event given"), "{stderr}");
    assert_eq!(fake.count(), before);
}

/// The compact payload view: a real-sized `pull_request` webhook (25 KB, from
/// @octokit/webhooks-examples) takes at least 80 % less of the prompt than the
/// raw payload (`payload = "full"`); the report says which view was sent.
#[test]
fn the_compact_payload_view_cuts_the_payloads_share_of_the_prompt() {
    let fixture =
        crate::support::repo_root().join("tests/cli/fixtures/octokit-pull_request.opened.json");
    let tokens = |view: &str, payload: &str| {
        let events =
            format!("[events.\"pull_request.opened\"]\nagents = [\"a\"]\npayload = \"{view}\"\n");
        let p = Project::with_agents(&events, &["a"]).file("event.json", payload);
        let (code, r) = p.json(&[
            "run",
            "pull_request.opened",
            "--dry-run",
            "--json",
            "--payload",
            "event.json",
        ]);
        assert_eq!(code, 0);
        assert_eq!(r["payload_view"], view);
        (
            r["cost"]["projected"][0]["input_tokens"].as_u64().unwrap(),
            crate::support::system_prompt(&r, 0),
        )
    };
    let real = std::fs::read_to_string(fixture).unwrap();
    let (empty, _) = tokens("compact", "{}");
    let (full, _) = tokens("full", &real);
    let (compact, prompt) = tokens("compact", &real);
    let (share_full, share_compact) = (full - empty, compact - empty);
    eprintln!("payload tokens: full {share_full}, compact {share_compact}");
    assert!(
        share_compact * 5 <= share_full,
        "compact {share_compact} vs full {share_full}"
    );
    // What a reviewer reads is kept; the API links are not.
    assert!(prompt.contains("\"title\": \"Update the README with new information.\""));
    assert!(prompt.contains("\"author\": \"Codertocat\""));
    assert!(!prompt.contains("api.github.com"), "{prompt}");
}
