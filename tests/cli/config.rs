//! The foundation: check, events, agents and every class of configuration
//! error.

use crate::support::Project;

#[test]
fn example_project_checks_clean() {
    let p = Project::example();
    let (code, stdout, stderr) = p.run(&["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        "events.toml: 8 events · agents/: 9 agents · 0 problems"
    );
}

#[test]
fn check_json_shape() {
    let p = Project::example();
    let (code, v) = p.json(&["check", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        v,
        serde_json::json!({"ok": true, "problems": [], "warnings": [], "events": 8, "agents": 9})
    );
}

/// A project with one of every class of problem: each is listed once, with
/// file, line and column where there is one, and the exit code is 2.
fn broken() -> Project {
    Project::empty()
        .file(
            "events.toml",
            r#"[defaults]
provider = "openia"

[events."pull_request.opened"]
agents = ["code-review", "secruity-agent", "code-review"]
required = ["runner"]

[events."a*"]
agents = []

[events."*b"]
agents = ["code-review", "typo"]
"#,
        )
        .file(
            "agents/code-review.toml",
            "name = \"Code\"\ninstructions = \"Review.\"\nprovider = \"nope\"\nknowledge = [\"k/missing.md\"]\n",
        )
        .file("agents/security-agent.toml", "name = \"S\"\ninstructions = \"Scan.\"\n")
        .file("agents/typo.toml", "name = \"T\"\ninstrucions = \"oops\"\n")
        .file("agents/Bad_Name.toml", "name = \"B\"\ninstructions = \"x\"\n")
        .file("agents/wrong-type.toml", "name = \"W\"\ninstructions = \"x\"\nmax_tokens = \"many\"\n")
        .file("agents/bad-duration.toml", "name = \"D\"\ninstructions = \"x\"\ntimeout = \"soon\"\n")
        .bytes("agents/binary.toml", b"name = \"\xff\"\n")
}

#[test]
fn check_lists_every_problem_with_file_and_line() {
    let p = broken();
    let (code, stdout, _) = p.run(&["check", "--color", "never"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("broken_project_check", stdout);
}

#[test]
fn check_json_lists_problems_with_locations() {
    let (code, v) = broken().json(&["check", "--json"]);
    assert_eq!(code, 2);
    assert_eq!(v["ok"], false);
    assert_eq!(v["events"], 3);
    let problems = v["problems"].as_array().unwrap();
    let find = |needle: &str| {
        problems
            .iter()
            .find(|p| p["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no problem mentions {needle:?}: {problems:#?}"))
    };
    let at = |p: &serde_json::Value| {
        (
            p["file"].as_str().unwrap().to_string(),
            p["line"].as_u64(),
            p["column"].as_u64(),
        )
    };
    assert_eq!(
        at(find("\"secruity-agent\"")),
        ("events.toml".into(), Some(5), Some(26))
    );
    assert!(find("\"secruity-agent\"")["message"]
        .as_str()
        .unwrap()
        .contains("did you mean \"security-agent\""));
    assert_eq!(at(find("twice")), ("events.toml".into(), Some(5), Some(44)));
    assert_eq!(
        at(find("runs no agents")),
        ("events.toml".into(), Some(9), Some(10))
    );
    assert_eq!(
        at(find("required agent \"runner\"")),
        ("events.toml".into(), Some(6), Some(13))
    );
    assert_eq!(
        at(find("provider \"openia\"")),
        ("events.toml".into(), Some(2), Some(12))
    );
    assert_eq!(at(find("same length")).1, Some(8));
    assert_eq!(
        at(find("provider \"nope\"")),
        ("agents/code-review.toml".into(), Some(3), Some(12))
    );
    assert_eq!(
        at(find("k/missing.md")),
        ("agents/code-review.toml".into(), Some(4), Some(14))
    );
    assert_eq!(
        at(find("instrucions")),
        ("agents/typo.toml".into(), Some(2), Some(1))
    );
    assert_eq!(
        at(find("not a valid agent id")),
        ("agents/Bad_Name.toml".into(), None, None)
    );
    assert_eq!(at(find("not UTF-8")).0, "agents/binary.toml");
    assert_eq!(at(find("invalid type")).0, "agents/wrong-type.toml");
    assert_eq!(
        at(find("invalid duration")),
        ("agents/bad-duration.toml".into(), Some(3), Some(11))
    );
    // An agent whose file does not parse is not also said not to exist.
    assert!(
        !problems.iter().any(|p| p["message"]
            .as_str()
            .unwrap()
            .contains("\"typo\", which does not exist")),
        "{problems:#?}"
    );
    // Each problem once.
    let mut messages: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let n = messages.len();
    messages.dedup();
    assert_eq!(messages.len(), n);
    assert_eq!(n, 13, "{problems:#?}");
}

#[test]
fn other_commands_refuse_a_broken_project_with_exit_2() {
    let p = broken();
    for args in [&["events"][..], &["agents"], &["events", "--json"]] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains("error: events.toml:5:26:"), "{stderr}");
        assert!(stderr.contains("13 configuration problems"), "{stderr}");
    }
}

#[test]
fn missing_events_toml_says_where_it_looked_and_suggests_init() {
    let p = Project::empty();
    let (code, stdout, _) = p.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("events.toml: not found (looked for"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&p.path().join("events.toml").display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains("bsu init"), "{stdout}");
}

#[test]
fn dir_flag_and_bsu_dir_point_at_the_project() {
    let p = Project::example();
    let elsewhere = Project::empty();
    let root = p.path().to_str().unwrap();
    let (code, stdout, _) = elsewhere.run(&["-C", root, "check"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains(&format!("{root}/events.toml: 8 events")));
    let (code, _, _) = elsewhere.run(&["check", "-C", root]);
    assert_eq!(code, 0);
    let code = elsewhere
        .bsu()
        .env("BSU_DIR", root)
        .arg("check")
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(0));
}

#[test]
fn events_are_listed_in_match_order() {
    let p = Project::with_agents(
        r#"
[events.default]
agents = ["a"]
[events."pull_request.*"]
agents = ["a"]
[events."*"]
agents = ["a"]
[events."pull_request.opened"]
description = "new PRs"
agents = ["a", "b"]
execution = "sequential"
required = ["b"]
[events.push]
agents = ["b"]
"#,
        &["a", "b"],
    );
    let (code, v) = p.json(&["events", "--json"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "pull_request.opened",
            "push",
            "pull_request.*",
            "*",
            "default"
        ]
    );
    assert_eq!(
        v[0],
        serde_json::json!({"name": "pull_request.opened", "match": "exact", "description": "new PRs",
            "agents": ["a", "b"], "execution": "sequential", "required": ["b"], "stop_on_failure": false})
    );
    assert_eq!(v[2]["match"], "glob");
    assert_eq!(v[4]["match"], "default");
    assert_eq!(v[4]["execution"], "parallel");

    // In match order; the description under the name, required agents marked.
    p.expect(&["events"])
        .stdout(
            "\
┌─────────────────────┬────────────┬──────────────┐
│ event               ┆ execution  ┆ agents       │
╞═════════════════════╪════════════╪══════════════╡
│ pull_request.opened ┆ sequential ┆ a            │
│ new PRs             ┆            ┆ b (required) │
│ push                ┆ parallel   ┆ b            │
│ pull_request.*      ┆ parallel   ┆ a            │
│ *                   ┆ parallel   ┆ a            │
│ default             ┆ parallel   ┆ a            │
└─────────────────────┴────────────┴──────────────┘
",
        )
        .run();
}

#[test]
fn agents_table_json_and_context_filter() {
    let p = Project::example();
    let (code, v) = p.json(&["agents", "--json"]);
    assert_eq!(code, 0);
    let agents = v.as_array().unwrap();
    assert_eq!(agents.len(), 9);
    let sec = agents.iter().find(|a| a["id"] == "security-agent").unwrap();
    assert_eq!(sec["name"], "Security Vulnerability Scanner");
    assert_eq!(sec["provider"], "openai");
    assert_eq!(sec["model"], "gpt-4o-mini");
    assert_eq!(sec["risk"]["level"], "medium");
    assert_eq!(sec["approval"]["required"], false);
    assert_eq!(sec["contexts"], serde_json::json!(["ci", "cli", "github"]));
    assert_eq!(
        sec["knowledge"],
        serde_json::json!(["knowledge/owasp-top-10.md"])
    );
    assert_eq!(sec["timeout"], "5m");

    let filtered = Project::example()
        .agent("ci-only", "contexts = [\"ci\"]")
        .agent("github-only", "contexts = [\"github\"]");
    let (_, v) = filtered.json(&["agents", "--json", "--context", "ci"]);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"ci-only") && !ids.contains(&"github-only"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"architect"),
        "agents without contexts run everywhere"
    );

    // Fits 80 columns; the name under the id, words wrapped, none broken.
    p.expect(&["agents"])
        .stdout(
            "\
┌─────────────────────────┬────────────────────┬────────┬──────────┬───────────┐
│ agent                   ┆ provider/model     ┆ risk   ┆ approval ┆ contexts  │
╞═════════════════════════╪════════════════════╪════════╪══════════╪═══════════╡
│ architect               ┆ openai/gpt-4o-mini ┆ low    ┆ -        ┆ any       │
│ Architect               ┆                    ┆        ┆          ┆           │
│ code-review-agent       ┆ openai/gpt-4o-mini ┆ low    ┆ -        ┆ any       │
│ Code Reviewer           ┆                    ┆        ┆          ┆           │
│ governance-agent        ┆ openai/gpt-4o-mini ┆ low    ┆ -        ┆ any       │
│ Governance Agent        ┆                    ┆        ┆          ┆           │
│ governance-review-agent ┆ openai/gpt-4o-mini ┆ low    ┆ -        ┆ ci, cli,  │
│ Governance Reviewer     ┆                    ┆        ┆          ┆ github    │
│ integrity-agent         ┆ openai/gpt-4o-mini ┆ low    ┆ -        ┆ any       │
│ Repository Integrity    ┆                    ┆        ┆          ┆           │
│ Auditor                 ┆                    ┆        ┆          ┆           │
│ merge-readiness-agent   ┆ openai/gpt-4o-mini ┆ medium ┆ -        ┆ any       │
│ Merge Readiness Checker ┆                    ┆        ┆          ┆           │
│ runner                  ┆ openai/gpt-4o-mini ┆ medium ┆ -        ┆ any       │
│ Runner                  ┆                    ┆        ┆          ┆           │
│ security-agent          ┆ openai/gpt-4o-mini ┆ medium ┆ -        ┆ ci, cli,  │
│ Security Vulnerability  ┆                    ┆        ┆          ┆ github    │
│ Scanner                 ┆                    ┆        ┆          ┆           │
│ security-audit-agent    ┆ openai/gpt-4o-mini ┆ medium ┆ -        ┆ any       │
│ Security Auditor        ┆                    ┆        ┆          ┆           │
└─────────────────────────┴────────────────────┴────────┴──────────┴───────────┘
",
        )
        .run();
}

#[test]
fn env_overrides_reach_the_settled_providers_and_agents() {
    let p = Project::with_agents("[events.default]\nagents = [\"a\"]\n", &["a"]);
    let (_, v) = p.json(&["agents", "--json"]);
    assert_eq!(v[0]["model"], "gpt-4o-mini");
    let p = p.env("BSU_MODEL", "llama3");
    let (_, v) = p.json(&["agents", "--json"]);
    assert_eq!(v[0]["model"], "llama3");

    let bad = Project::example().env("BSU_MAX_RETRIES", "lots");
    let (code, stdout, _) = bad.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("$BSU_MAX_RETRIES: \"lots\" must be a whole number"),
        "{stdout}"
    );
}

/// A pull-request strategy that reads no diff can never put a finding on a
/// changed line: `bsu check` warns (exit 0), and `--base` given to a
/// strategy with nothing to read it says it is ignored.
#[test]
fn a_pull_request_strategy_without_a_diff_is_warned_about() {
    let p = Project::with_agents("[events.\"pull_request.*\"]\nagents = [\"a\"]\n", &["a"]);
    p.expect(&["check"])
        .status(0)
        .stdout(
            "warning: events.toml: strategy \"pull_request.*\" reviews pull requests but reads no \
             diff input, so no finding can land on a changed line; declare [inputs.diff] kind = \
             \"git_diff\" and add inputs = [\"diff\"] to it\n\
             events.toml: 1 event · agents/: 1 agent · 0 problems\n",
        )
        .run();
    let (code, _, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--dry-run",
        "--base",
        "HEAD~1",
    ]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains(
            "warning: --base/--head are ignored: strategy \"pull_request.*\" has no git_diff, \
             changed_files or git_log input to read them"
        ),
        "{stderr}"
    );
}

/// Configuration files are read by the reading rule: a symlink, into the
/// project or out of it, is refused with the file named, and what it points
/// at is never read nor quoted back (a pull request could link an agent file
/// to `/proc/self/environ`).
#[test]
fn a_symlinked_configuration_file_is_refused_and_never_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("b.toml");
    std::fs::write(&secret, "name = \"b\"\nTOP_SECRET_LINE = \"hunter2\"\n").unwrap();
    let p = Project::with_agents("[events.review]\nagents = [\"a\"]\n", &["a"]);
    std::os::unix::fs::symlink(&secret, p.path().join("agents/b.toml")).unwrap();
    std::os::unix::fs::symlink("a.toml", p.path().join("agents/c.toml")).unwrap();
    // Links to what is not a regular file, or to nothing, and a FIFO: each
    // named, none passed over (nor waited on).
    std::os::unix::fs::symlink("/dev/zero", p.path().join("agents/d.toml")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", p.path().join("agents/e.toml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(p.path().join("agents/f.toml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    // An editor's lock file (Emacs: a dangling link) is hidden, so skipped.
    std::os::unix::fs::symlink("me@host.1", p.path().join("agents/.#a.toml")).unwrap();
    let (code, stdout, stderr) = p.run(&["check"]);
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, 2, "{all}");
    for name in ["b", "c", "d", "e"] {
        let said = format!("agents/{name}.toml: is a symlink; bsu reads configuration only");
        assert!(all.contains(&said), "{all}");
    }
    assert!(
        all.contains("agents/f.toml: is a FIFO, not a regular file"),
        "{all}"
    );
    assert!(
        all.ends_with("5 problems\n") && !all.contains(".#a"),
        "{all}"
    );
    assert!(!all.contains("TOP_SECRET"), "{all}");

    // events.toml itself, linked to a file outside.
    for name in ["b", "c", "d", "e", "f", ".#a"] {
        std::fs::remove_file(p.path().join(format!("agents/{name}.toml"))).unwrap();
    }
    let events = outside.path().join("events.toml");
    std::fs::write(
        &events,
        "[events.review]\nagents = [\"a\"]\nTOP_SECRET_KEY = 1\n",
    )
    .unwrap();
    std::fs::remove_file(p.path().join("events.toml")).unwrap();
    std::os::unix::fs::symlink(&events, p.path().join("events.toml")).unwrap();
    let (code, stdout, stderr) = p.run(&["run", "review", "--dry-run"]);
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("events.toml: is a symlink"), "{all}");
    assert!(!all.contains("TOP_SECRET"), "{all}");
}
