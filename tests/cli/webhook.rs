//! `[publish.webhook]` end to end: the summary posted, the URL kept secret,
//! `on` and `format` obeyed, and a scheduled audit's post saying what its
//! ledger found new and fixed since the last run.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::publish::reply_json;
use crate::support::Project;

// The scheduled audits' ledger lives in the state: on SQLite and on PostgreSQL.
crate::on_both!(a_scheduled_audits_webhook_posts_what_changed);

#[test]
fn a_webhook_receives_the_summary_and_its_url_stays_secret() {
    let models = Fake::start(|_| Reply::verdict("block", 1));
    let hook = Fake::start(|_| Reply::json(200, json!({"ok": true})));
    let url = format!("{}/hooks/SECRETHOOK123", hook.url);
    let events =
        "[events.nightly]\nagents = [\"a\"]\n[publish.webhook]\nurl_env = \"AUDIT_HOOK\"\n";
    let p = Project::with_agents(events, &["a"])
        .serve(&models)
        .env("AUDIT_HOOK", &url);
    let (code, stdout, stderr) = p.run(&["run", "nightly", "-v"]);
    assert_eq!(code, 3, "{stderr}");
    let posted = hook.requests();
    assert_eq!(posted.len(), 1);
    let text = posted[0].body["text"].as_str().unwrap();
    assert!(text.contains("bsu nightly: *block*"), "{text}");
    assert!(text.contains("• a: block"), "{text}");
    assert_eq!(p.latest()["publish"]["webhook"]["status"], "created");
    let all = format!("{stdout}{stderr}{}", p.all_text());
    assert!(!all.contains("SECRETHOOK"), "the webhook URL leaked");

    // `on` limits the decisions posted; the report format posts the report.
    let p = p.file(
        "events.toml",
        &format!("{events}on = [\"approve\"]\nformat = \"report\"\n"),
    );
    let (code, _, _) = p.run(&["run", "nightly", "--no-cache"]);
    assert_eq!(code, 3);
    assert_eq!(hook.count(), 1, "a block is not in on = [\"approve\"]");
    assert_eq!(p.latest()["publish"]["webhook"]["status"], "skipped");
}

/// A scheduled audit keeps its ledger in the state store: the second run's
/// webhook says what is new and what was fixed, and counts the rest.
fn a_scheduled_audits_webhook_posts_what_changed() {
    let hook = Fake::start(|_| Reply::json(200, json!({"ok": true})));
    let finding = |t: &str| json!({"severity": "medium", "title": t, "file": "src/x.rs"});
    let models = Fake::start(move |_| {
        reply_json(
            json!({"decision": "comment", "findings": [finding("Old one"), finding("Stays")]}),
        )
    });
    let events =
        "[events.\"scheduled.weekly\"]\nagents = [\"a\"]\n[publish.webhook]\nurl_env = \"HOOK\"\n";
    let p = Project::with_agents(events, &["a"])
        .serve(&models)
        .env("HOOK", &format!("{}/hook", hook.url))
        .env("GITHUB_SERVER_URL", "https://github.test")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_RUN_ID", "7");
    assert_eq!(p.run(&["run", "scheduled.weekly"]).0, 0);
    let first = hook.requests()[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.contains("new: [medium] src/x.rs Old one ("),
        "{first}"
    );
    assert!(first.contains("2 changed · 0 unchanged"), "{first}");
    assert!(
        first.ends_with("\nhttps://github.test/o/r/actions/runs/7"),
        "{first}"
    );
    let old = p.latest()["ledger"]["findings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resolved = old.clone();
    models.set_script(move |r| {
        assert!(
            r.system().contains(&resolved),
            "the audit's open findings are shown"
        );
        reply_json(
            json!({"decision": "comment", "resolved": [resolved.clone()],
            "findings": [finding("Stays"), finding("Brand new")]}),
        )
    });
    assert_eq!(p.run(&["run", "scheduled.weekly", "--no-cache"]).0, 0);
    let second = hook.requests()[1].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        second.contains(&format!("fixed: [medium] src/x.rs Old one ({old})")),
        "{second}"
    );
    assert!(
        second.contains("new: [medium] src/x.rs Brand new ("),
        "{second}"
    );
    assert!(
        !second.contains("Stays"),
        "unchanged findings are counted, not listed: {second}"
    );
    assert!(
        second.contains("2 changed · 1 unchanged (1 still open)"),
        "{second}"
    );
}
