//! `bsu run` end to end against the fake server.

use std::time::Duration;

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::support::{statuses, Project, TEST_KEY};

const PANEL: &str = r#"
[events."pull_request.opened"]
agents = ["a", "b", "c", "d"]
required = ["a"]
"#;

pub(crate) fn panel() -> Project {
    Project::with_agents(PANEL, &["a", "b", "c", "d"])
}

#[test]
fn dry_run_sends_nothing_needs_no_key_and_carries_prompts() {
    let fake = Fake::approving();
    let p = Project::example().env("OPENAI_BASE_URL", &fake.url).file(
        "change.patch",
        "diff --git a/src/x.rs b/src/x.rs\n--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-a\n+b\n",
    );
    let (code, stdout, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--dry-run",
        "--input",
        "diff=change.patch",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(fake.count(), 0);
    let r = p.latest();
    assert_eq!(r["dry_run"], true);
    assert_eq!(r["breakers"], json!([]), "a dry run consults no breaker");
    // The shared part is kept once; each agent's own part follows it.
    assert!(r["shared_prompt"]
        .as_str()
        .unwrap()
        .contains("Event: pull_request.opened"));
    for (i, a) in r["agents"].as_array().unwrap().iter().enumerate() {
        assert_eq!(a["status"], "dry_run");
        let own = a["prompt"]["system"].as_str().unwrap();
        assert!(own.starts_with("=== Your role ===\n\nYou are "), "{own}");
        assert!(own.contains("## How to reply"));
        let system = crate::support::system_prompt(&r, i);
        assert!(system.starts_with("You are one reviewer on a panel"));
        assert!(system.contains("Event: pull_request.opened"));
        assert!(a["usage"]["prompt_tokens"].as_u64().unwrap() > 100);
        assert_eq!(a["prompt_hash"].as_str().unwrap().len(), 64);
    }
    let sec = &r["agents"][2];
    assert!(
        sec["prompt"]["user"]
            .as_str()
            .unwrap()
            .contains("OWASP Top 10"),
        "knowledge is in the prompt"
    );
    // A dry run is recorded in the history and touches neither breakers nor cache.
    let (_, status) = p.json(&["status", "--json"]);
    assert_eq!(status["breakers"], json!([]));
    assert_eq!(status["cache"]["entries"], 0);
    assert_eq!(status["cache"]["misses"], 0);
    assert_eq!(status["runs"].as_array().unwrap().len(), 1);
    assert_eq!(status["runs"][0]["event"], "pull_request.opened");
    assert!(stdout.contains("Decision: DRY_RUN"), "{stdout}");
}

#[test]
fn parallel_agents_overlap_and_the_concurrency_cap_holds() {
    let fake = Fake::start(|_| Reply::verdict("approve", 8).delay(Duration::from_millis(300)));
    let p = panel().serve(&fake);
    let (code, stdout, stderr) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(fake.count(), 4);
    assert_eq!(fake.max_in_flight(), 4, "all four in flight together");

    let fake = Fake::start(|_| Reply::verdict("approve", 8).delay(Duration::from_millis(150)));
    let p = panel().serve(&fake);
    let (code, _, _) = p.run(&["run", "pull_request.opened", "--concurrency", "2"]);
    assert_eq!(code, 0);
    assert_eq!(fake.count(), 4);
    assert_eq!(fake.max_in_flight(), 2);
}

#[test]
fn sequential_runs_in_order_and_passes_earlier_results_on() {
    let fake = Fake::start(|r| {
        let id = r.agent();
        Reply::content(
            &json!({"decision": "approve", "score": 7, "comments": format!("notes from {id}"), "findings": [], "actions": []})
                .to_string(),
        )
        .delay(Duration::from_millis(50))
    });
    let p = Project::with_agents(
        "[events.\"scheduled.*\"]\nagents = [\"architect\", \"runner\", \"audit\"]\nexecution = \"sequential\"\n",
        &["architect", "runner", "audit"],
    )
    .serve(&fake);
    let (code, stdout, stderr) = p.run(&["run", "scheduled.weekly_agents"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let reqs = fake.requests();
    let order: Vec<String> = reqs.iter().map(|r| r.agent()).collect();
    assert_eq!(order, ["architect", "runner", "audit"]);
    assert_eq!(fake.max_in_flight(), 1);
    assert!(!reqs[0].user().contains("notes from"));
    assert!(reqs[1].user().contains("notes from architect"));
    assert!(
        reqs[2].user().contains("notes from architect")
            && reqs[2].user().contains("notes from runner")
    );
    let r = p.latest();
    assert_eq!(r["strategy"], "scheduled.*");
    assert_eq!(r["execution"], "sequential");
}

#[test]
fn stop_on_failure_skips_the_rest() {
    let fake = Fake::all_approve_but("first", Reply::error(400, "bad"));
    let p = Project::with_agents(
        "[events.audit]\nagents = [\"first\", \"second\"]\nexecution = \"sequential\"\nstop_on_failure = true\n",
        &["first", "second"],
    )
    .serve(&fake);
    let (code, _, _) = p.run(&["run", "audit"]);
    assert_eq!(code, 1, "no agent succeeded and the failure is permanent");
    assert_eq!(fake.count(), 1);
    let r = p.latest();
    assert_eq!(
        statuses(&r),
        [
            ("first".into(), "failed".into()),
            ("second".into(), "skipped".into())
        ]
    );
    assert!(r["agents"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("stop_on_failure"));
}

/// Each decision rule, with the exit code it leads to: every agent approves
/// but `odd`, which sends `reply`; the decision's reason must name `odd`.
#[test]
fn decision_rules_and_fail_on() {
    const CRITICAL: &str = r#"{"decision": "approve", "score": 6, "comments": "", "findings": [{"severity": "critical", "title": "Leaked key", "detail": "", "file": ".env", "line": 1}], "actions": []}"#;
    let cases = [
        (
            "all approve",
            "a",
            Reply::verdict("approve", 9),
            "approve",
            0,
        ),
        (
            "comment counts as approve",
            "b",
            Reply::verdict("comment", 5),
            "approve",
            0,
        ),
        (
            "a block verdict",
            "c",
            Reply::verdict("block", 1),
            "block",
            3,
        ),
        (
            "a critical finding",
            "d",
            Reply::content(CRITICAL),
            "block",
            3,
        ),
        (
            "a required agent failed",
            "a",
            Reply::error(400, "nope"),
            "block",
            3,
        ),
        (
            "request_changes",
            "b",
            Reply::verdict("request_changes", 4),
            "request_changes",
            0,
        ),
        (
            "an optional agent failed",
            "b",
            Reply::error(400, "nope"),
            "manual_review",
            0,
        ),
        (
            "no verdict",
            "b",
            Reply::content("Looks fine to me."),
            "manual_review",
            0,
        ),
    ];
    for (name, odd, reply, action, code) in cases {
        let fake = Fake::all_approve_but(odd, reply);
        let p = panel().serve(&fake);
        let (got, stdout, stderr) = p.run(&["run", "pull_request.opened"]);
        assert_eq!(got, code, "{name}: {stdout}{stderr}");
        let r = p.latest();
        assert_eq!(r["decision"]["action"], action, "{name}: {}", r["decision"]);
        let reason = r["decision"]["reason"].as_str().unwrap();
        if action == "approve" {
            assert!(
                reason.starts_with("all 4 agents approved"),
                "{name}: {reason}"
            );
        } else {
            assert!(reason.starts_with(&format!("{odd} (")), "{name}: {reason}");
        }
    }

    let fake = Fake::all_approve_but("b", Reply::verdict("request_changes", 4));
    let p = panel().serve(&fake);
    let code = |fail_on: &str| {
        p.run(&["run", "pull_request.opened", "--fail-on", fail_on])
            .0
    };
    assert_eq!(code("request_changes"), 3);
    assert_eq!(code("manual_review"), 3);
    assert_eq!(code("block"), 0);
    let fake = Fake::start(|_| Reply::verdict("block", 0));
    let p = panel().serve(&fake);
    assert_eq!(
        p.run(&["run", "pull_request.opened", "--fail-on", "never"])
            .0,
        0
    );
}

#[test]
fn exit_1_for_permanent_and_75_for_transient_failures() {
    let fake = Fake::start(|_| Reply::error(401, "Incorrect API key provided"));
    let p = panel().serve(&fake);
    let (code, _, _) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 1);
    assert_eq!(
        p.latest()["agents"][0]["reason"].as_str().unwrap(),
        "HTTP 401 server_error: Incorrect API key provided"
    );

    let fake = Fake::start(|_| Reply::error(503, "overloaded"));
    let p = panel().serve(&fake).env("BSU_MAX_RETRIES", "0");
    let (code, _, _) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 75);

    // Nothing listening: connection refused is transient too.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1", l.local_addr().unwrap())
    };
    let p = panel()
        .env("OPENAI_BASE_URL", &closed)
        .env("OPENAI_API_KEY", TEST_KEY)
        .env("BSU_MAX_RETRIES", "0");
    let (code, _, _) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 75);
    assert!(p.latest()["agents"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("could not connect"));
}

#[test]
fn glob_and_default_strategies() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[events.\"pull_request.*\"]\nagents = [\"a\"]\n[events.default]\nagents = [\"b\"]\n",
        &["a", "b"],
    )
    .serve(&fake);
    let (code, _, _) = p.run(&["run", "pull_request.closed"]);
    assert_eq!(code, 0);
    assert_eq!(p.latest()["strategy"], "pull_request.*");
    assert_eq!(p.latest()["event"], "pull_request.closed");
    let (code, _, stderr) = p.run(&["run", "push"]);
    assert_eq!(code, 0);
    assert_eq!(p.latest()["strategy"], "default");
    assert!(stderr.contains("using the default strategy"), "{stderr}");

    let p = Project::with_agents("[events.push]\nagents = [\"a\"]\n", &["a"]).serve(&fake);
    let (code, _, stderr) = p.run(&["run", "tag"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no strategy matches event \"tag\""),
        "{stderr}"
    );
}

#[test]
fn governance_skips_by_approval_context_and_profile() {
    let fake = Fake::approving();
    let p = Project::empty()
        .file(
            "events.toml",
            "[events.deploy]\nagents = [\"plain\", \"gated\", \"ci-only\", \"prod-only\"]\n",
        )
        .agent("plain", "")
        .agent(
            "gated",
            "[approval]\nrequired = true\napprovers = [\"alice\"]",
        )
        .agent("ci-only", "contexts = [\"ci\"]")
        .agent("prod-only", "profiles = [\"production\"]")
        .serve(&fake);
    let (code, _, _) = p.run(&["run", "deploy"]);
    assert_eq!(code, 0);
    let r = p.latest();
    assert_eq!(
        statuses(&r),
        [
            ("plain".into(), "succeeded".into()),
            ("gated".into(), "skipped".into()),
            ("ci-only".into(), "skipped".into()),
            ("prod-only".into(), "skipped".into()),
        ]
    );
    assert!(r["agents"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("--approve gated"));
    assert!(r["agents"][2]["reason"]
        .as_str()
        .unwrap()
        .contains("context \"cli\""));
    assert!(r["agents"][3]["reason"]
        .as_str()
        .unwrap()
        .contains("profile development"));
    assert_eq!(r["decision"]["action"], "manual_review");
    assert_eq!(fake.count(), 1);

    let (code, _, _) = p
        .bsu()
        .args([
            "run",
            "deploy",
            "--approve",
            "gated",
            "--profile",
            "production",
        ])
        .env("CI", "true")
        .output()
        .map(|o| (o.status.code().unwrap(), (), ()))
        .unwrap();
    assert_eq!(code, 0);
    let r = p.latest();
    assert!(
        statuses(&r).iter().all(|(_, s)| s == "succeeded"),
        "{:?}",
        statuses(&r)
    );
    assert_eq!(r["decision"]["action"], "approve");

    let (_, _, _) = p.run(&["run", "deploy", "--context", "github"]);
    assert_eq!(p.latest()["agents"][2]["status"], "skipped");
    let out = p
        .bsu()
        .args(["run", "deploy"])
        .env("BSU_PROFILE", "production")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(p.latest()["agents"][3]["status"], "succeeded");
}

#[test]
fn agent_selection() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    let (code, _, _) = p.run(&["run", "pull_request.opened", "--agent", "b", "--agent", "c"]);
    assert_eq!(code, 0);
    assert_eq!(statuses(&p.latest()).len(), 2);
    assert_eq!(fake.count(), 2);
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--agent", "zz"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does not run \"zz\""), "{stderr}");
    assert_eq!(fake.count(), 2, "nothing sent");
}

#[test]
fn all_agents_skipped_is_manual_review() {
    let p = Project::empty()
        .file("events.toml", "[events.x]\nagents = [\"g\"]\n")
        .agent("g", "[approval]\nrequired = true");
    let (code, _, stderr) = p.run(&["run", "x"]);
    assert_eq!(code, 0, "no key needed when nothing will be sent: {stderr}");
    assert_eq!(p.latest()["decision"]["action"], "manual_review");
    assert_eq!(p.run(&["run", "x", "--fail-on", "manual_review"]).0, 3);
}

#[test]
fn missing_key_is_exit_2_naming_the_variable_before_anything_is_sent() {
    let fake = Fake::approving();
    let p = panel().env("OPENAI_BASE_URL", &fake.url);
    let (code, _, stderr) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("OPENAI_API_KEY is not set"), "{stderr}");
    assert_eq!(fake.count(), 0);
    assert!(p.reports().is_empty());
}

#[test]
fn execution_flag_overrides_the_event() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(100)));
    let p = panel().serve(&fake);
    assert_eq!(
        p.run(&["run", "pull_request.opened", "--execution", "sequential"])
            .0,
        0
    );
    assert_eq!(fake.max_in_flight(), 1);
    let order: Vec<String> = fake.requests().iter().map(|r| r.agent()).collect();
    assert_eq!(order, ["a", "b", "c", "d"]);
    assert_eq!(p.latest()["execution"], "sequential");
}
