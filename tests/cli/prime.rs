//! Cache-aware fan-out against a fake with a prompt cache as providers have
//! one (a prefix is served from the cache only after a request with it was
//! answered): one agent goes first, the rest find the shared prefix cached.

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
fn one_agent_goes_first_and_the_rest_find_the_prefix_cached() {
    let m = caching();
    let p = project(&m, "auto");
    let (code, report) = p.json(&["run", "review", "--input", "diff=change.patch", "--json"]);
    assert_eq!(code, 0, "{report}");
    let (prompt, cached) = tokens(&report);
    // Seven of eight find the prefix cached: more than 80 % of all prompt
    // tokens, where sending all at once caches none (below).
    assert!(cached * 10 > prompt * 7, "{cached} of {prompt}");
    assert_eq!(report["primed"]["agent"], "a", "{}", report["primed"]);
    assert!(report["primed"]["waited_ms"].as_u64().unwrap() >= 100);
    // The first request was answered before any other was sent.
    let reqs = m.requests();
    let first = reqs.iter().min_by_key(|r| r.at).unwrap().at;
    let rest: Vec<_> = reqs.iter().filter(|r| r.at > first).collect();
    assert_eq!(rest.len(), 7);
    assert!(rest
        .iter()
        .all(|r| r.at >= first + Duration::from_millis(100)));
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
