//! No HTTP client of bsu follows a redirect to another origin: the model
//! client (its key, in Anthropic's `x-api-key`, is a header no client strips,
//! and its request carries the code), the GitHub client (its token and the
//! review) and the webhook (the summary). Within an origin, they follow.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::github::GitHub;
use crate::publish::{models, pr_project, run};
use crate::support::{Project, TEST_KEY};

/// A provider that redirects elsewhere is not followed there: the request
/// carries the key (Anthropic's `x-api-key`, which HTTP clients strip from
/// no redirect) and the code under review. Within its own origin, it is.
#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere =
        Fake::start(|_| Reply::anthropic(r#"{"decision": "approve", "score": 9, "findings": []}"#));
    let to = format!("{}/messages", elsewhere.url);
    let provider = Fake::start(move |r| match r.path.as_str() {
        "/v1/messages" => Reply::json(307, json!({})).header("location", &to),
        _ => Reply::error(404, "no"),
    });
    let events = |url: &str| {
        format!("[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{url}\"\nmodel = \"claude-test\"\n[events.x]\nagents = [\"a\"]\n")
    };
    let p = Project::empty()
        .file("events.toml", &events(&provider.url))
        .agent("a", "provider = \"claude\"")
        .env("ANTHROPIC_API_KEY", TEST_KEY)
        .env("BSU_MAX_RETRIES", "0");
    let (code, stdout, stderr) = p.run(&["run", "x"]);
    assert_eq!(elsewhere.count(), 0, "followed to another origin");
    assert_eq!(code, 1, "{stdout}{stderr}");
    let origin = elsewhere.url.trim_end_matches("/v1");
    assert!(
        stderr.contains(&format!(
            "HTTP 307: a redirect to another origin ({origin}) not followed"
        )),
        "{stderr}"
    );

    // Within the origin: followed, the key with it.
    let moved = Fake::start(|r| match r.path.as_str() {
        "/v1/messages" => Reply::json(308, json!({})).header("location", "/moved/v1/messages"),
        _ => Reply::anthropic(r#"{"decision": "approve", "score": 9, "findings": []}"#),
    });
    let p = p.file("events.toml", &events(&moved.url));
    let (code, stdout, stderr) = p.run(&["run", "x", "--no-cache"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let last = moved.requests().last().cloned().unwrap();
    assert_eq!(
        (last.path.as_str(), last.header("x-api-key")),
        ("/moved/v1/messages", Some(TEST_KEY))
    );
}

#[test]
fn the_github_client_does_not_follow_a_redirect_elsewhere() {
    let elsewhere = Fake::start(|_| Reply::json(201, json!({"id": 1})));
    let gh = GitHub::start();
    gh.with(|s| s.redirect_writes = Some(elsewhere.url.trim_end_matches("/v1").to_string()));
    let models = models();
    let p = pr_project(&gh, &models);
    let (code, stdout, stderr) = run(&p);
    assert_eq!(
        code, 0,
        "publishing does not change the decision: {stdout}{stderr}"
    );
    assert_eq!(
        elsewhere.count(),
        0,
        "the token and the review went elsewhere"
    );
    let comment = &p.latest()["publish"]["comment"];
    assert_eq!(comment["status"], "failed", "{comment}");
    assert!(
        comment["detail"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 307: a redirect to another origin (http://127.0.0.1:"),
        "{comment}"
    );
}

#[test]
fn the_webhook_does_not_follow_a_redirect_elsewhere() {
    let elsewhere = Fake::start(|_| Reply::json(200, json!({"ok": true})));
    let to = format!("{}/stolen", elsewhere.url);
    let hook = Fake::start(move |_| Reply::json(307, json!({})).header("location", &to));
    let models = Fake::approving();
    let p = Project::with_agents(
        "[events.nightly]\nagents = [\"a\"]\n[publish.webhook]\nurl_env = \"HOOK\"\n",
        &["a"],
    )
    .serve(&models)
    .env("HOOK", &format!("{}/hooks/SECRET", hook.url));
    let (code, stdout, stderr) = p.run(&["run", "nightly"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(hook.count(), 1, "a redirect is not tried again");
    assert_eq!(elsewhere.count(), 0, "the summary went elsewhere");
    let step = &p.latest()["publish"]["webhook"];
    assert_eq!(step["status"], "failed", "{step}");
    // Its origin shares the start of the hook's secret URL here (both on
    // 127.0.0.1): that much is redacted.
    let detail = step["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with("HTTP 307: a redirect to another origin (")
            && detail.ends_with(") not followed: the request carries a credential"),
        "{step}"
    );
}
