//! Cache-aware fan-out against a fake with a prompt cache as providers have
//! one (a prefix is served from the cache only after a request with it was
//! read): one agent goes first, streamed, the rest go as its reply starts
//! and find the shared prefix cached.

use std::time::Duration;

use serde_json::Value;

use crate::fake::{Fake, Reply};
use crate::support::Project;

const AGENTS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

fn project(models: &Fake, prime: &str) -> Project {
    let list = AGENTS.map(|a| format!("\"{a}\"")).join(", ");
    let mut patch = String::from(
        "diff --git a/src/big.rs b/src/big.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/big.rs\n@@ -0,0 +1,200 @@\n",
    );
    for i in 1..=200 {
        patch.push_str(&format!(
            "+pub fn f{i}(x: u64) -> u64 {{ x.wrapping_mul({i}) }}\n"
        ));
    }
    Project::with_agents(
        &format!(
            "[defaults]\nprime_cache = \"{prime}\"\n[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [{list}]\ninputs = [\"diff\"]\n"
        ),
        &AGENTS,
    )
    .serve(models)
    .file("change.patch", &patch)
}

fn caching() -> Fake {
    Fake::caching(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(100)))
}

/// (prompt tokens, cached prompt tokens) over every agent of the report.
fn tokens(report: &Value) -> (u64, u64) {
    report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .fold((0, 0), |(p, c), a| {
            (
                p + a["usage"]["prompt_tokens"].as_u64().unwrap(),
                c + a["usage"]["cached_prompt_tokens"].as_u64().unwrap(),
            )
        })
}

#[test]
fn one_agent_goes_first_and_the_rest_go_as_its_reply_starts() {
    // The first agent's reply starts after 100 ms and is held until every
    // agent's request is in (20 s at most): the rest must go when it starts.
    let m = Fake::caching(|r| {
        let reply = Reply::verdict("approve", 9);
        if r.agent() == "a" {
            let held = reply.first_token(Duration::from_millis(100));
            held.delay(Duration::from_secs(20)).until_seen(AGENTS.len())
        } else {
            reply.delay(Duration::from_millis(100))
        }
    });
    let p = project(&m, "auto");
    let (code, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (prompt, cached) = tokens(&report);
    // Seven of eight find the prefix cached: more than 80 % of all prompt
    // tokens, where sending all at once caches none (below).
    assert!(cached * 10 > prompt * 7, "{cached} of {prompt}");
    assert_eq!(report["primed"]["agent"], "a", "{}", report["primed"]);
    let waited = report["primed"]["waited_ms"].as_u64().unwrap();
    assert!(
        (100..20_000).contains(&waited),
        "sent when the first reply started, not when it ended: {waited} ms"
    );
    // Only the first agent's request asks for a stream, and its reply was
    // read whole from the stream (its verdict and usage are in the report).
    let reqs = m.requests();
    let streamed: Vec<String> = reqs
        .iter()
        .filter(|r| r.body["stream"] == true)
        .map(|r| r.agent())
        .collect();
    assert_eq!(streamed, ["a"]);
    assert_eq!(m.streams_started(), 1);
    assert_eq!(report["agents"][0]["status"], "succeeded");
    assert_eq!(report["agents"][0]["verdict"]["decision"], "approve");
    assert_eq!(report["agents"][0]["usage"]["completion_tokens"], 20);
    // The first request went before any other.
    let first = reqs.iter().min_by_key(|r| r.at).unwrap().at;
    let rest: Vec<_> = reqs.iter().filter(|r| r.at > first).collect();
    assert_eq!(rest.len(), 7);
    // Every request names the same OpenAI prompt cache key.
    let keys: std::collections::BTreeSet<String> = reqs
        .iter()
        .map(|r| r.body["prompt_cache_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys.iter().next().unwrap().starts_with("bsu-"));
}

#[test]
fn with_prime_cache_off_every_agent_goes_at_once() {
    let m = caching();
    let p = project(&m, "off");
    let (code, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(tokens(&report).1, 0, "all sent before any was answered");
    assert!(report.get("primed").is_none());
    assert_eq!(m.max_in_flight(), 8);
}

/// A first agent that fails never holds the others back: they are sent when
/// its failure is known, and the run decides on what they said.
#[test]
fn a_failing_first_agent_lets_the_others_go() {
    let m = Fake::caching(|r| {
        if r.agent() == "a" {
            Reply::error(400, "bad request").delay(Duration::from_millis(50))
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = project(&m, "auto");
    let (_, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(report["primed"]["agent"], "a", "{}", report["primed"]);
    let statuses: Vec<&str> = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses[0], "failed");
    assert!(
        statuses[1..].iter().all(|s| *s == "succeeded"),
        "{statuses:?}"
    );
    assert_eq!(m.requests().len(), 8);
}

/// An Anthropic primer is streamed too: its Messages events are read back
/// into the reply, cache reads and writes counted, and the rest go as its
/// reply starts.
#[test]
fn an_anthropic_primer_is_read_from_its_event_stream() {
    let verdict =
        r#"{"decision": "approve", "score": 8, "comments": "ok", "findings": [], "actions": []}"#;
    let m = Fake::start(move |r| {
        let reply = Reply::json(
            200,
            serde_json::json!({"id": "msg_1", "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": verdict}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 50, "output_tokens": 10,
                          "cache_read_input_tokens": 300, "cache_creation_input_tokens": 40}}),
        );
        if r.agent() == "a" {
            reply
                .delay(Duration::from_secs(20))
                .until_seen(AGENTS.len())
        } else {
            reply
        }
    });
    let p = project(&m, "auto").file(
        "events.toml",
        &format!(
            "[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{}\"\napi_key_env = \"OPENAI_API_KEY\"\n\
             model = \"claude-sonnet-4-5\"\n[defaults]\nprovider = \"claude\"\n[inputs.diff]\nkind = \"git_diff\"\n\
             [events.review]\nagents = [{}]\ninputs = [\"diff\"]\n",
            m.url,
            AGENTS.map(|a| format!("\"{a}\"")).join(", ")
        ),
    );
    let (code, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["primed"]["agent"], "a", "{}", report["primed"]);
    assert!(report["primed"]["waited_ms"].as_u64().unwrap() < 20_000);
    let first = &report["agents"][0];
    assert_eq!(first["verdict"]["score"].as_f64(), Some(8.0), "{first}");
    assert_eq!(first["usage"]["prompt_tokens"], 390, "{first}");
    assert_eq!(first["usage"]["cached_prompt_tokens"], 300, "{first}");
    assert_eq!(first["usage"]["completion_tokens"], 10, "{first}");
    assert_eq!(m.streams_started(), 1);
}

/// A server that answers the first agent whole, though asked for a stream,
/// is read as before, and the rest go when its reply is in.
#[test]
fn a_first_reply_answered_whole_lets_the_rest_go_when_it_is_in() {
    let m = Fake::caching(|r| {
        let reply = Reply::verdict("approve", 9).delay(Duration::from_millis(100));
        if r.agent() == "a" {
            reply.whole()
        } else {
            reply
        }
    });
    let p = project(&m, "auto");
    let (code, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["agents"][0]["verdict"]["decision"], "approve");
    assert!(report["primed"]["waited_ms"].as_u64().unwrap() >= 100);
    assert_eq!(m.streams_started(), 0);
    let reqs = m.requests();
    let first = reqs.iter().min_by_key(|r| r.at).unwrap().at;
    assert!(reqs
        .iter()
        .filter(|r| r.at > first)
        .all(|r| r.at >= first + Duration::from_millis(100)));
}

/// A short shared part is not worth a wait: every agent goes at once.
#[test]
fn a_short_shared_part_is_not_primed() {
    let m = Fake::caching(|_| Reply::verdict("approve", 9));
    let list = AGENTS.map(|a| format!("\"{a}\"")).join(", ");
    let p =
        Project::with_agents(&format!("[events.review]\nagents = [{list}]\n"), &AGENTS).serve(&m);
    let (code, report) = p.json(&["run", "review", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert!(report.get("primed").is_none(), "{}", report["primed"]);
}
