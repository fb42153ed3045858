//! The terminal: a summary that says why, a hint for every failure class,
//! `-q` that keeps errors, colour and NO_COLOR, typo'd events, help, version,
//! completions and a closed stdout.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::run::panel;
use crate::support::Project;

fn one() -> Project {
    Project::with_agents(
        "[events.\"pull_request.opened\"]\nagents = [\"a\"]\n[events.default]\nagents = [\"a\"]\n",
        &["a"],
    )
}

#[test]
fn the_summary_gives_the_reason_the_strongest_findings_and_who_did_not_approve() {
    let fake = Fake::start(|_| {
        Reply::content(
            &json!({"decision": "block", "comments": "Rotate the key before merging.", "findings": [
                {"severity": "low", "title": "Naming"},
                {"severity": "critical", "title": "Leaked key", "file": "config/app.toml", "line": 3}
            ]})
            .to_string(),
        )
    });
    let p = one().serve(&fake);
    let (code, stdout, _) = p.run(&["run", "pull_request.opened", "--color", "never"]);
    assert_eq!(code, 3);
    assert!(
        stdout.contains("Decision: BLOCK — a (verdict block)"),
        "{stdout}"
    );
    assert!(stdout.contains("Findings: 2"), "{stdout}");
    let critical = stdout.find("critical").unwrap();
    let low = stdout.find("low ").unwrap();
    assert!(critical < low, "strongest first: {stdout}");
    assert!(
        stdout.contains("a  config/app.toml:3  Leaked key"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  a: Rotate the key before merging."),
        "{stdout}"
    );
}

fn hint_of(p: &Project, args: &[&str]) -> String {
    let (_, _, stderr) = p.run(args);
    stderr
        .lines()
        .filter(|l| l.starts_with("hint:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_failure_class_gets_a_hint_naming_what_to_change() {
    let run = ["run", "pull_request.opened", "--color", "never"];
    let refused = Fake::start(|_| {
        Reply::json(
            401,
            json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}),
        )
    });
    let h = hint_of(&one().serve(&refused), &run);
    assert!(h.contains("refused the key in OPENAI_API_KEY"), "{h}");

    let not_found = Fake::start(|_| Reply::error(404, "Not Found"));
    let root = not_found.url.trim_end_matches("/v1").to_string();
    let h = hint_of(&one().serve(&not_found).env("OPENAI_BASE_URL", &root), &run);
    assert!(
        h.contains("has no chat endpoint") && h.contains("/v1"),
        "{h}"
    );

    let p = one().serve(&refused).env(
        "OPENAI_BASE_URL",
        "http://127.0.0.1:9/v1?api-version=SECRETQ",
    );
    let h = hint_of(&p.env("BSU_MAX_RETRIES", "0"), &run);
    assert!(h.contains("bsu tried http://127.0.0.1:9/v1"), "{h}");
    assert!(h.contains("misconfigured rather than down"), "{h}");
    assert!(!h.contains("SECRETQ"));

    let quota = Fake::start(|_| {
        Reply::json(
            429,
            json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        )
    });
    let p = one().serve(&quota);
    let h = hint_of(&p, &run);
    assert!(
        h.contains("quota is used up") && h.contains("You exceeded your current quota"),
        "{h}"
    );
    // The quota opened the breaker: the next run is rejected, and told how to reset it.
    let h = hint_of(&p, &run);
    assert!(h.contains("bsu breaker reset openai@127.0.0.1:"), "{h}");
}

#[test]
fn quiet_keeps_errors_one_line_per_failed_agent() {
    let fake = Fake::start(|_| Reply::error(500, "boom"));
    let p = Project::with_agents("[events.x]\nagents = [\"a\", \"b\"]\n", &["a", "b"])
        .serve(&fake)
        .env("BSU_MAX_RETRIES", "0");
    let (code, stdout, stderr) = p.run(&["-q", "run", "x"]);
    assert_eq!(code, 75);
    assert!(stdout.is_empty(), "{stdout}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: agent"))
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(errors[0].contains("failed: HTTP 500"), "{stderr}");
}

/// docs/cron.md: under `-q` a finished run prints nothing whatever it
/// decided (cron mails only what is printed), so a block is silent, exit 3.
#[test]
fn quiet_prints_nothing_for_a_finished_run_even_a_block() {
    let fake = Fake::start(|_| Reply::verdict("block", 1));
    let p = Project::with_agents("[events.x]\nagents = [\"a\"]\n", &["a"]).serve(&fake);
    p.expect(&["run", "x", "-q"])
        .status(3)
        .stdout("")
        .stderr("")
        .run();
}

#[test]
fn a_typo_suggests_the_nearest_event_and_strict_stops_it() {
    let fake = Fake::approving();
    let p = one().serve(&fake);
    let (code, _, stderr) = p.run(&["run", "pull_request.opend"]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("did you mean \"pull_request.opened\"?"),
        "{stderr}"
    );
    assert_eq!(fake.count(), 1, "the default strategy ran");

    p.expect(&["run", "pull_request.opend", "--strict"])
        .status(2)
        .stdout("")
        .stderr(
            "error: no strategy matches event \"pull_request.opend\"; did you mean \
             \"pull_request.opened\"? (`bsu events` lists them; --strict keeps a typo from running \
             the default strategy)\n",
        )
        .run();
    let strict = p.file(
        "events.toml",
        "[defaults]\nunmatched = \"error\"\n[events.\"pull_request.opened\"]\nagents = [\"a\"]\n[events.default]\nagents = [\"a\"]\n",
    );
    strict
        .expect(&["run", "pull_request.opend"])
        .status(2)
        .stdout("")
        .stderr(
            "error: no strategy matches event \"pull_request.opend\"; did you mean \
             \"pull_request.opened\"? (`bsu events` lists them; defaults.unmatched = \"error\" \
             keeps a typo from running the default strategy)\n",
        )
        .run();
    assert_eq!(fake.count(), 1, "nothing more was sent");
}

/// Every command's `--json` has a stable shape; snapshots pin it.
#[test]
fn every_json_shape_is_pinned() {
    let p = Project::empty();
    let (code, init) = p.json(&["init", "--json"]);
    assert_eq!(code, 0);
    let written: Vec<String> = init["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().trim_start_matches("./").to_string())
        .collect();
    assert_eq!(
        written,
        [
            "events.toml",
            "agents/reviewer.toml",
            ".bsu/events.schema.json",
            ".bsu/agent.schema.json"
        ]
    );
    assert!(p
        .read("events.toml")
        .starts_with("#:schema ./.bsu/events.schema.json\n"));
    let shapes: Vec<(&str, Vec<&str>)> = vec![
        ("check", vec!["check", "--json"]),
        ("events", vec!["events", "--json"]),
        ("agents", vec!["agents", "--json"]),
        ("cache_clear", vec!["cache", "clear", "--json"]),
        ("cache_prune", vec!["cache", "prune", "--json"]),
        ("breaker_reset", vec!["breaker", "reset", "--json"]),
    ];
    for (name, args) in shapes {
        let (code, value) = p.json(&args);
        assert_eq!(code, 0, "{name}");
        insta::assert_snapshot!(
            format!("json_{name}"),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }
}

#[test]
fn status_fits_80_columns_and_shows_whole_paths_at_200() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[reports]\ndir = \"reports/a/rather/deeply/nested/folder/for/every/report\"\n[events.\"pull_request.synchronize\"]\nagents = [\"a\"]\n",
        &["a"],
    )
    .serve(&fake);
    for _ in 0..3 {
        assert_eq!(p.run(&["run", "pull_request.synchronize"]).0, 0);
    }
    let narrow = p
        .bsu()
        .args(["status", "--color", "never"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    let narrow = String::from_utf8_lossy(&narrow.stdout).into_owned();
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}\n{narrow}",
            line.chars().count()
        );
    }
    assert!(
        narrow.contains('…'),
        "long paths lose their middle: {narrow}"
    );
    // The runs' cells whole: the event, each run's id; at 80 columns the
    // report's path is named under the table for the newest run only.
    let (_, listed) = p.json(&["status", "--json"]);
    for run in listed["runs"].as_array().unwrap() {
        let id = run["run_id"].as_str().unwrap();
        assert!(narrow.contains(&format!(" {id} ")), "{id}: {narrow}");
    }
    assert_eq!(
        narrow.matches(" pull_request.synchronize ").count(),
        3,
        "{narrow}"
    );
    // A breaker's name whole too: it is what `bsu breaker reset` takes.
    for b in listed["breakers"].as_array().unwrap() {
        let name = b["name"].as_str().unwrap();
        assert!(narrow.contains(&format!("│ {name} ")), "{name}: {narrow}");
    }
    assert!(
        narrow.contains("\nNewest report: reports/a/rather/"),
        "{narrow}"
    );
    // Every header word whole: only a long identifier (a breaker's name,
    // an endpoint and a fingerprint) may be cut to fit.
    let words = "provider model today 7 days 30 breaker state failures in a row calls ok \
                 failed rejected next probe last error entries size hit rate hits misses \
                 expired ttl started event decision duration run report";
    let mut heading = false;
    for line in narrow.lines() {
        if line.starts_with('┌') || line.starts_with('╞') {
            heading = line.starts_with('┌');
            continue;
        }
        if heading {
            for word in line.split(['│', '┆']).flat_map(str::split_whitespace) {
                assert!(
                    words.split_whitespace().any(|w| w == word),
                    "a header word broken ({word:?}): {narrow}"
                );
            }
        }
    }
    let wide = p
        .bsu()
        .args(["status", "--color", "never"])
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let wide = String::from_utf8_lossy(&wide.stdout).into_owned();
    assert!(
        wide.contains("reports/a/rather/deeply/nested/folder/for/every/report/"),
        "relative to the current directory, whole: {wide}"
    );
    for line in wide.lines() {
        assert!(line.chars().count() <= 200);
    }
}

/// `COMPLETE=bash` completion asks the binary; it reads the project's events and agents.
#[test]
fn dynamic_completion_offers_the_projects_events_and_agents() {
    let p = Project::with_agents(
        "[events.\"pull_request.opened\"]\nagents = [\"security\", \"style\"]\n[events.\"scheduled.*\"]\nagents = [\"style\"]\n",
        &["security", "style"],
    );
    let complete = |index: &str, words: &[&str]| {
        let out = p
            .bsu()
            .env("COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", index)
            .env("_CLAP_COMPLETE_COMP_TYPE", "9")
            .env("_CLAP_COMPLETE_SPACE", "true")
            .env("_CLAP_IFS", "\n")
            .arg("--")
            .args(words)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let events = complete("2", &["bsu", "run", "pull"]);
    assert_eq!(
        events.trim(),
        "pull_request.opened",
        "globs are not names: {events}"
    );
    let agents = complete("3", &["bsu", "run", "--agent", "s"]);
    assert_eq!(agents.lines().collect::<Vec<_>>(), ["security", "style"]);
    let hook = p.bsu().env("COMPLETE", "bash").output().unwrap();
    assert!(String::from_utf8_lossy(&hook.stdout).contains("_clap_complete_bsu"));
}

#[test]
fn a_typo_of_a_glob_strategy_suggests_the_glob() {
    let p = Project::with_agents(
        "[events.\"pull_request.*\"]\nagents = [\"a\"]\n[events.default]\nagents = [\"a\"]\n",
        &["a"],
    );
    let (code, _, stderr) = p.run(&["run", "pull_requst", "--strict", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean \"pull_request.*\"?"),
        "{stderr}"
    );
}

#[test]
fn completions_are_printed_for_every_shell() {
    let p = Project::empty();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, _) = p.run(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(stdout.contains("bsu"), "{shell}");
    }
    let (code, _, _) = p.run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
}

#[test]
fn help_and_version() {
    let p = Project::empty();
    let (code, stdout, _) = p.run(&["--help"]);
    assert_eq!(code, 0);
    for cmd in [
        "run",
        "status",
        "check",
        "events",
        "agents",
        "cache",
        "breaker",
        "init",
        "completions",
    ] {
        assert!(stdout.contains(cmd), "{cmd} missing from --help");
    }
    let (code, stdout, _) = p.run(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("bsu {}", env!("CARGO_PKG_VERSION")));
    let (code, _, stderr) = p.run(&["frobnicate"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let p = Project::example();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bsu"))
        .args(["agents", "--json"])
        .current_dir(p.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // close the pipe before bsu writes
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn human_summary_and_quiet() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    let (code, stdout, stderr) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 0);
    // Pinned whole, with the times and the report's name (which vary) masked.
    let report = p.reports()[0].trim_end_matches(".json").to_string();
    let masked = stdout.replace(&report, "REPORT").replace("0.1s", "0.0s");
    assert_eq!(
        masked,
        "\
┌───────┬───────────┬──────────────┬──────┬────────┐
│ agent ┆ status    ┆ verdict      ┆ time ┆ tokens │
╞═══════╪═══════════╪══════════════╪══════╪════════╡
│ a     ┆ succeeded ┆ approve 9/10 ┆ 0.0s ┆ 120    │
│ b     ┆ succeeded ┆ approve 9/10 ┆ 0.0s ┆ 120    │
│ c     ┆ succeeded ┆ approve 9/10 ┆ 0.0s ┆ 120    │
│ d     ┆ succeeded ┆ approve 9/10 ┆ 0.0s ┆ 120    │
└───────┴───────────┴──────────────┴──────┴────────┘
Decision: APPROVE — all 4 agents approved: a (verdict approve), b (verdict approve), c (verdict approve), d (verdict approve)
Report: reports/REPORT.json
Report: reports/REPORT.md
"
    );
    // Not a terminal: one plain line per agent start and finish, no escape codes.
    assert_eq!(stderr.matches(": started (").count(), 4, "{stderr}");
    assert_eq!(stderr.matches("✓ approve").count(), 4, "{stderr}");
    assert!(!stderr.contains('\u{1b}'));
    let (code, stdout, stderr) = p.run(&["run", "pull_request.opened", "-q"]);
    assert_eq!(code, 0);
    assert!(stdout.is_empty() && stderr.is_empty(), "{stdout}{stderr}");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let fake = Fake::approving();
    let p = panel().serve(&fake);
    let (_, plain, _) = p.run(&["run", "pull_request.opened"]);
    assert!(!plain.contains('\u{1b}'), "not a terminal: no colour");
    let (_, forced, _) = p.run(&["run", "pull_request.opened", "--color", "always"]);
    assert!(forced.contains("\u{1b}["), "{forced}");
    let out = p
        .bsu()
        .args(["run", "pull_request.opened", "--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let (_, never, _) = p.run(&["check", "--color", "never"]);
    assert!(!never.contains('\u{1b}'));
}
