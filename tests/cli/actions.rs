//! GitHub Actions-native behaviour: event mapping for every trigger, slash
//! commands and who may give them, filters, `pull_request_target` safety,
//! `GITHUB_OUTPUT`, and the `--if-running` lock across processes.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::Project;

const EVENTS: &str = r#"
[events."pull_request.opened"]
agents = ["a"]

[events."pull_request.*"]
agents = ["a"]
[events."pull_request.*".skip]
draft = true
bots = true
labels = ["no-review"]
[events."pull_request.*".when]
base_branches = ["main", "release/*"]

[events."scheduled.weekly"]
agents = ["a"]
schedule = ["0 6 * * 1"]

[events."merge_group.checks_requested"]
agents = ["a"]

[events.push]
agents = ["a"]

[events.nightly]
agents = ["a"]

[events.default]
agents = ["a"]
"#;

fn project(fake: &Fake) -> Project {
    Project::with_agents(EVENTS, &["a"]).serve(fake)
}

/// Run `bsu run` as GitHub Actions would for `event_name` with `payload`.
fn actions(p: &Project, event_name: &str, payload: Value) -> (i32, String, String) {
    let p2 = p.bsu();
    let path = p.path().join(format!("{event_name}.json"));
    std::fs::write(&path, payload.to_string()).unwrap();
    let out = { p2 }
        .args(["run"])
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pr(extra: Value) -> Value {
    let mut p = json!({"action": "synchronize", "number": 3, "pull_request": {
        "number": 3, "draft": false, "user": {"login": "dev", "type": "User"},
        "base": {"ref": "main"}, "labels": []}});
    if let (Some(pr), Some(extra)) = (p["pull_request"].as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            pr.insert(k.clone(), v.clone());
        }
    }
    p
}

#[test]
fn every_trigger_maps_to_its_event() {
    let fake = Fake::approving();
    let p = project(&fake);
    let cases: &[(&str, Value, &str)] = &[
        (
            "pull_request",
            json!({"action": "opened", "pull_request": {}}),
            "pull_request.opened",
        ),
        (
            "pull_request_target",
            json!({"action": "opened", "pull_request": {}}),
            "pull_request.opened",
        ),
        ("push", json!({"ref": "refs/heads/main"}), "push"),
        (
            "schedule",
            json!({"schedule": "0 6 * * 1"}),
            "scheduled.weekly",
        ),
        (
            "workflow_dispatch",
            json!({"inputs": {"event": "nightly"}}),
            "nightly",
        ),
        (
            "workflow_dispatch",
            json!({"inputs": {}}),
            "workflow_dispatch",
        ),
        (
            "merge_group",
            json!({"action": "checks_requested"}),
            "merge_group.checks_requested",
        ),
    ];
    for (name, payload, want) in cases {
        let (code, _, stderr) = actions(&p, name, payload.clone());
        assert_eq!(code, 0, "{name}: {stderr}");
        assert_eq!(p.latest()["event"], *want, "{name}");
    }
}

#[test]
fn a_schedule_with_no_binding_is_an_error_not_the_default() {
    let fake = Fake::approving();
    let p = project(&fake);
    let (code, _, stderr) = actions(&p, "schedule", json!({"schedule": "30 2 * * *"}));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no strategy is bound to the schedule \"30 2 * * *\""),
        "{stderr}"
    );
    assert!(stderr.contains("schedule = [\"30 2 * * *\"]"), "{stderr}");
    assert_eq!(fake.count(), 0);
    let bad = Project::with_agents(
        "[events.x]\nagents = [\"a\"]\nschedule = [\"every monday\"]\n",
        &["a"],
    );
    let (code, stdout, _) = bad.run(&["check"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("is not a cron expression"), "{stdout}");
}

fn comment(body: &str, association: &str) -> Value {
    json!({"action": "created",
           "issue": {"number": 3, "pull_request": {"url": "x"}},
           "comment": {"body": body, "author_association": association}})
}

#[test]
fn slash_commands_run_only_for_allowed_authors_on_pull_requests() {
    let fake = Fake::approving();
    let p = project(&fake);
    let (code, _, stderr) = actions(
        &p,
        "issue_comment",
        comment("Thanks!\n/bsu run nightly", "MEMBER"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(p.latest()["event"], "nightly");
    assert_eq!(fake.count(), 1);

    for (body, who, why) in [
        ("/bsu run nightly", "NONE", "the comment's author is NONE"),
        (
            "/bsu run nightly",
            "CONTRIBUTOR",
            "the comment's author is CONTRIBUTOR",
        ),
        ("looks good", "OWNER", "no /bsu command"),
        ("/bsu deploy", "OWNER", "not understood"),
        // bsu's own sticky comment, posted with a maintainer's token,
        // quoting a model that wrote a command.
        (
            "<!-- bsu:sticky strategy=pull_request.* -->\n  /bsu run nightly",
            "OWNER",
            "the comment is bsu's own sticky comment",
        ),
    ] {
        let (code, _, stderr) = actions(&p, "issue_comment", comment(body, who));
        assert_eq!(code, 0, "{body}");
        assert!(stderr.contains(why), "{body}: {stderr}");
    }
    let mut on_issue = comment("/bsu run nightly", "OWNER");
    on_issue["issue"] = json!({"number": 4});
    let (code, _, stderr) = actions(&p, "issue_comment", on_issue);
    assert_eq!(code, 0);
    assert!(stderr.contains("pull requests only"), "{stderr}");
    let (code, _, stderr) = actions(&p, "issue_comment", comment("/bsu run ../../x;rm", "OWNER"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(fake.count(), 1, "nothing else was sent");

    // The allowed associations are configurable, under [triggers] or its
    // old name [github]; never both.
    for (n, table) in [(2, "[triggers]"), (3, "[github]")] {
        let open = project(&fake).file(
            "events.toml",
            &format!("{EVENTS}\n{table}\nslash_command_associations = [\"contributor\"]\n"),
        );
        let (code, _, stderr) = actions(
            &open,
            "issue_comment",
            comment("/bsu run nightly", "CONTRIBUTOR"),
        );
        assert_eq!(code, 0, "{table}: {stderr}");
        assert_eq!(fake.count(), n);
    }
    let both = project(&fake).file(
        "events.toml",
        &format!(
            "{EVENTS}\n[triggers]\nslash_command_associations = []\n\
             [github]\nslash_command_associations = [\"contributor\"]\n"
        ),
    );
    both.expect(&["check"])
        .status(2)
        .stdout(
            "error: events.toml:32:1: [github] is the old name of [triggers] and both are set; \
             move these keys into [triggers] and delete [github]\n\
             events.toml: 7 events · agents/: 1 agent · 1 problem\n",
        )
        .run();
    assert_eq!(fake.count(), 3, "nothing sent");
}

#[test]
fn filters_skip_drafts_bots_labels_and_other_bases() {
    let fake = Fake::approving();
    let p = project(&fake);
    let summary = p.path().join("summary.md");
    let output = p.path().join("output.txt");
    let p = p
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .env("GITHUB_OUTPUT", output.to_str().unwrap());
    for (extra, why) in [
        (json!({"draft": true}), "is a draft"),
        (
            json!({"user": {"login": "renovate[bot]", "type": "Bot"}}),
            "opened by the bot renovate[bot]",
        ),
        (
            json!({"labels": [{"name": "no-review"}]}),
            "has the label \"no-review\"",
        ),
        (
            json!({"base": {"ref": "feature/x"}}),
            "the base branch \"feature/x\" matches none",
        ),
    ] {
        let (code, _, stderr) = actions(&p, "pull_request", pr(extra));
        assert_eq!(code, 0, "{why}: {stderr}");
        assert!(
            stderr.contains("skipped") && stderr.contains(why),
            "{why}: {stderr}"
        );
    }
    assert_eq!(fake.count(), 0, "a filtered run sends nothing");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("skipped"));
    assert!(std::fs::read_to_string(&output)
        .unwrap()
        .contains("decision=skipped"));
    let (code, _, _) = actions(
        &p,
        "pull_request",
        pr(json!({"base": {"ref": "release/1.2"}})),
    );
    assert_eq!(code, 0);
    assert_eq!(fake.count(), 1, "a release branch matches release/*");
}

#[test]
fn github_output_carries_the_decision_report_and_counts() {
    let fake = Fake::start(|_| {
        Reply::content(
            r#"{"decision": "request_changes", "findings": [{"severity": "high", "title": "x"}]}"#,
        )
    });
    let p = project(&fake);
    let output = p.path().join("output.txt");
    let p = p.env("GITHUB_OUTPUT", output.to_str().unwrap());
    assert_eq!(p.run(&["run", "nightly"]).0, 0);
    let text = std::fs::read_to_string(&output).unwrap();
    let run_id = p.latest()["run_id"].as_str().unwrap().to_string();
    for want in [
        "decision=request_changes".to_string(),
        format!("run-id={run_id}"),
        "agents=1".to_string(),
        "failed-agents=0".to_string(),
        "findings=1".to_string(),
    ] {
        assert!(text.lines().any(|l| l == want), "{want}: {text}");
    }
    let report = text
        .lines()
        .find_map(|l| l.strip_prefix("report="))
        .unwrap();
    assert!(std::path::Path::new(report).is_file(), "{report}");
}

#[test]
fn pull_request_target_refuses_command_inputs_unless_allowed() {
    let fake = Fake::approving();
    let events = "[inputs.lint]\nkind = \"command\"\nargv = [\"git\", \"--version\"]\n\
                  [events.\"pull_request.opened\"]\nagents = [\"a\"]\ninputs = [\"lint\"]\n";
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    let payload = json!({"action": "opened", "pull_request": {}});
    let (code, _, stderr) = actions(&p, "pull_request_target", payload.clone());
    assert_eq!(code, 2);
    assert!(stderr.contains("pull_request_target run"), "{stderr}");
    assert!(
        stderr.contains("allow_commands_on_pull_request_target"),
        "{stderr}"
    );
    assert_eq!(fake.count(), 0);
    let (code, _, stderr) = actions(&p, "pull_request", payload.clone());
    assert_eq!(code, 0, "a plain pull_request may run it: {stderr}");
    let allowed = p.file(
        "events.toml",
        &format!("{events}[triggers]\nallow_commands_on_pull_request_target = true\n"),
    );
    assert_eq!(actions(&allowed, "pull_request_target", payload).0, 0);
}

#[test]
fn if_running_skip_and_wait_and_a_killed_holder() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(700)));
    let p = project(&fake);
    let mut holder = p
        .command()
        .args(["run", "nightly", "--if-running", "skip", "--no-cache"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run has sent its request (it holds the lock by then).
    let t = Instant::now();
    while fake.count() == 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _, stderr) = p.run(&["run", "nightly", "--if-running", "skip", "--no-cache"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("another run of this event is in progress (pid"),
        "{stderr}"
    );
    assert_eq!(fake.count(), 1, "the second run sent nothing");
    // `wait` runs once the holder is done.
    let (code, _, stderr) = p.run(&["run", "nightly", "--if-running", "wait", "--no-cache"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.count(), 2);
    assert!(holder.wait().unwrap().success());

    // A killed holder's lock is taken over at once.
    let mut holder = p
        .command()
        .args(["run", "nightly", "--if-running", "skip", "--no-cache"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while fake.count() == 2 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    holder.kill().unwrap();
    let _ = holder.wait();
    let (code, _, stderr) = p.run(&["run", "nightly", "--if-running", "skip", "--no-cache"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("in progress"), "{stderr}");
    assert_eq!(fake.count(), 4);
}
