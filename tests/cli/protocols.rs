//! The model protocols end to end: the requests bsu sends to OpenAI-compatible
//! and Anthropic servers, and the key that never appears in what bsu keeps
//! or prints, even when the server echoes it.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::run::panel;
use crate::support::{Project, TEST_KEY};

#[test]
fn anthropic_request_shape() {
    let fake = Fake::start(|_| {
        Reply::anthropic(
            r#"{"decision": "approve", "score": 8, "comments": "ok", "findings": [], "actions": []}"#,
        )
    });
    let p = Project::empty()
        .file(
            "events.toml",
            &format!("[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{}\"\nmodel = \"claude-test\"\n[events.x]\nagents = [\"a\"]\n", fake.url),
        )
        .agent("a", "provider = \"claude\"\nmax_tokens = 500\ntemperature = 0.3")
        .env("ANTHROPIC_API_KEY", TEST_KEY);
    let (code, stdout, stderr) = p.run(&["run", "x"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let req = &fake.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(req.header("x-api-key"), Some(TEST_KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.body["model"], "claude-test");
    assert_eq!(req.body["max_tokens"], 500);
    let system = req.body["system"].as_array().unwrap();
    assert_eq!(system.len(), 2, "the shared part and the agent's");
    assert_eq!(system[0]["cache_control"], json!({"type": "ephemeral"}));
    assert!(system[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("You are one reviewer on a panel"));
    assert!(system[1]["text"]
        .as_str()
        .unwrap()
        .starts_with("=== Your role ===\n\nYou are Agent a."));
    assert_eq!(req.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(req.body["messages"][0]["role"], "user");
    let a = &p.latest()["agents"][0];
    assert_eq!(
        a["usage"],
        json!({"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60,
               "cached_prompt_tokens": 0, "cache_creation_tokens": 0})
    );
    assert_eq!(a["verdict"]["decision"], "approve");
}

#[test]
fn openai_request_shape() {
    let fake = Fake::approving();
    let p = Project::with_agents("[events.x]\nagents = [\"a\"]\n", &[])
        .agent(
            "a",
            "model = \"gpt-test\"\ntemperature = 0.2\nmax_tokens = 300",
        )
        .serve(&fake);
    assert_eq!(p.run(&["run", "x"]).0, 0);
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert!(req.header("user-agent").unwrap().starts_with("bsu/"));
    assert_eq!(req.body["model"], "gpt-test");
    assert_eq!(req.body["temperature"], 0.2);
    assert_eq!(req.body["max_tokens"], 300);
    assert_eq!(req.body["response_format"], json!({"type": "json_object"}));
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert_eq!(req.body["messages"][1]["role"], "user");
}

#[test]
fn the_key_never_appears_even_when_the_server_echoes_it() {
    let fake = Fake::start(|r| {
        let auth = r.header("authorization").unwrap_or("").to_string();
        Reply::error(
            401,
            &format!(
                "Incorrect API key provided: {auth}. Key tail: {}",
                &TEST_KEY[10..]
            ),
        )
    });
    let p = panel()
        .serve(&fake)
        .env("GITHUB_STEP_SUMMARY", "summary.md");
    for args in [
        &["run", "pull_request.opened", "-vv"][..],
        &["run", "pull_request.opened", "--json"],
    ] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!(code, 1);
        for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(TEST_KEY) && !text.contains(&TEST_KEY[10..30]),
                "{what}: {text}"
            );
        }
    }
    let files = p.all_text();
    assert!(
        files.contains("Incorrect API key provided"),
        "the error is kept, redacted"
    );
    assert!(!files.contains(TEST_KEY) && !files.contains(&TEST_KEY[10..30]));
}
