//! `--publish github` end to end against the loopback GitHub fake: the
//! sticky comment, the review with inline comments, the check run, rate
//! limits, fallbacks, and that publishing never changes the decision.

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::github::GitHub;
use crate::inputs::git;
use crate::support::Project;

pub(crate) const TOKEN: &str = "ghs_TESTTOKEN_0123456789abcdefXYZ";

const EVENTS: &str = r#"
[inputs.diff]
kind = "git_diff"

[events."pull_request.opened"]
agents = ["a", "b"]
inputs = ["diff"]
"#;

/// A repository whose last commit changes src/lib.rs lines 1-3, with a PR payload.
pub fn pr_project(gh: &GitHub, models: &Fake) -> Project {
    let p = Project::with_agents(EVENTS, &["a", "b"]).file("src/lib.rs", "fn a() {}\n");
    let d = p.path().to_path_buf();
    git(&d, &["init", "-q", "-b", "main"]);
    git(&d, &["add", "-A"]);
    git(&d, &["commit", "-q", "-m", "base"]);
    let base = git(&d, &["rev-parse", "HEAD"]);
    let p = p.file("src/lib.rs", "fn a() {}\nfn b() {}\nfn c() {}\n");
    git(&d, &["commit", "-q", "-am", "change"]);
    let head = git(&d, &["rev-parse", "HEAD"]);
    let payload = json!({"action": "opened", "number": 7,
        "pull_request": {"number": 7, "title": "Demo", "html_url": "https://github.test/o/r/pull/7",
                         "base": {"sha": base}, "head": {"sha": head}},
        "repository": {"full_name": "o/r"}});
    p.serve(models)
        .file("event.json", &payload.to_string())
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", &gh.api_url())
        .env("GITHUB_SERVER_URL", "https://github.test")
        .env("GITHUB_RUN_ID", "99")
}

fn findings_reply(decision: &str) -> Reply {
    Reply::content(
        &json!({"decision": decision, "comments": "see findings", "findings": [
            {"severity": "high", "title": "Unchecked input", "detail": "validate it", "file": "src/lib.rs", "line": 2},
            {"severity": "low", "title": "Far away", "file": "src/lib.rs", "line": 100},
            {"severity": "info", "title": "General remark"}
        ]})
        .to_string(),
    )
}

pub(crate) fn models() -> Fake {
    Fake::start(|r| {
        if r.agent() == "a" {
            findings_reply("request_changes")
        } else {
            // b repeats one of a's findings: folded into one, both agents named.
            Reply::content(
                r#"{"decision": "approve", "findings": [{"severity": "medium", "title": "unchecked input", "file": "src/lib.rs", "line": 2}]}"#,
            )
        }
    })
}

pub(crate) fn reply_json(v: Value) -> Reply {
    Reply::content(&v.to_string())
}

pub fn run(p: &Project) -> (i32, String, String) {
    p.run(&[
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--publish",
        "github",
    ])
}

#[test]
fn the_decision_lands_on_the_pull_request_and_the_comment_is_sticky() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
        // 150 comments of others: the marker must be looked for on later pages too.
        for i in 0..150 {
            s.comments.push((i, format!("someone else's comment {i}")));
        }
    });
    let models = models();
    let p = pr_project(&gh, &models);
    let (code, stdout, stderr) = run(&p);
    assert_eq!(code, 0, "{stdout}{stderr}");
    the_sticky_comment_review_and_check(&gh, &p);
    published_and_said(&gh, &p, &stderr);
    let (next_out, next_err) = the_next_push(&gh, &models, &p);

    // The token is in no artefact and no output of either run.
    let all = format!("{stdout}{stderr}{next_out}{next_err}{}", p.all_text());
    assert!(!all.contains("TESTTOKEN"), "the token leaked");
}

/// The first push: the sticky comment after 150 of others, the review with
/// the one finding on a diff line, the check under the strategy's name.
fn the_sticky_comment_review_and_check(gh: &GitHub, p: &Project) {
    let sticky = gh.with(|s| s.comments.last().cloned().unwrap());
    assert!(sticky
        .1
        .starts_with("<!-- bsu:sticky strategy=pull_request.opened -->"));
    assert!(
        sticky.1.contains("**Decision: request_changes**"),
        "{}",
        sticky.1
    );
    assert!(
        sticky.1.contains("Unchecked input — `a`, `b`"),
        "folded across agents: {}",
        sticky.1
    );
    assert!(sticky
        .1
        .contains("[workflow run](https://github.test/o/r/actions/runs/99)"));
    let review = gh.with(|s| s.reviews[0].clone());
    assert_eq!(review["event"], "REQUEST_CHANGES");
    let inline = review["comments"].as_array().unwrap();
    assert_eq!(inline.len(), 1, "only the finding on a diff line: {review}");
    assert_eq!(
        (inline[0]["path"].as_str(), inline[0]["line"].as_u64()),
        (Some("src/lib.rs"), Some(2))
    );
    assert!(review["body"].as_str().unwrap().contains("Far away"));
    let check = gh.with(|s| s.check_runs[0].clone());
    assert_eq!(
        check["conclusion"], "neutral",
        "request_changes below --fail-on block: neither green nor red"
    );
    assert_eq!(
        check["name"], "bsu / pull_request.opened",
        "the strategy's name"
    );
    assert_eq!(
        check["details_url"],
        "https://github.test/o/r/actions/runs/99"
    );
    assert_eq!(check["head_sha"], p.latest()["subject"]["head_sha"]);
    assert_eq!(check["output"]["annotations"].as_array().unwrap().len(), 2);
    assert!(
        p.read("reports/latest.md")
            .contains("Reviewed: [pull request #7](https://github.test/o/r/pull/7) “Demo” at `"),
        "the report opens with what was reviewed"
    );
}

/// What was published, in the report and in the job's log (`stderr`), with
/// links; every request made as bsu with the token.
fn published_and_said(gh: &GitHub, p: &Project, stderr: &str) {
    let r = p.latest();
    assert_eq!(r["publish"]["comment"]["status"], "created");
    assert_eq!(r["publish"]["review"]["status"], "created");
    assert_eq!(r["publish"]["check"]["status"], "created");
    // The job log and the report say what was published, with links.
    let said = stderr
        .lines()
        .find(|l| l.starts_with("bsu: published: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        said.starts_with("bsu: published: the comment created: https://github.test/c/")
            && said.contains(", the review created: https://github.test/r/")
            && said.contains(", the check created: https://github.test/k/"),
        "{said}"
    );
    let md = p.read("reports/latest.md");
    assert!(
        md.contains("## Published\n\n- the comment: created — <https://github.test/c/"),
        "{md}"
    );
    assert!(
        md.contains("**Across pushes:** 3 new · 0 still open"),
        "{md}"
    );
    for req in gh.fake.requests() {
        assert!(req.header("user-agent").unwrap_or("").starts_with("bsu/"));
        assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

/// The next push: the same comment is updated, not a new one added. The
/// agents say the finding is resolved: it no longer counts. Its stdout and
/// stderr.
fn the_next_push(gh: &GitHub, models: &Fake, p: &Project) -> (String, String) {
    let first = p.latest();
    let ids: Vec<String> = first["ledger"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{first}");
    models.set_script(move |_| {
        Reply::content(&json!({"decision": "approve", "score": 9, "resolved": ids}).to_string())
    });
    let (code, stdout, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--publish",
        "github",
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (count, body) = gh.with(|s| (s.comments.len(), s.comments.last().unwrap().1.clone()));
    assert_eq!(count, 151);
    assert!(body.contains("**Decision: approve**"), "{body}");
    assert!(
        body.contains("- **fixed** high `src/lib.rs:2` Unchecked input · id `"),
        "resolved findings are listed as fixed: {body}"
    );
    assert_eq!(p.latest()["publish"]["comment"]["status"], "updated");
    // Nothing new to say on a line: no second review; the first, which
    // asked for changes, is dismissed so GitHub agrees with the comment.
    let (reviews, dismissals) = gh.with(|s| (s.reviews.len(), s.dismissals.clone()));
    assert_eq!(reviews, 1);
    assert_eq!(dismissals.len(), 1);
    assert!(
        dismissals[0].1["message"]
            .as_str()
            .unwrap()
            .starts_with("bsu: the decision is now approve"),
        "{dismissals:?}"
    );
    (stdout, stderr)
}

#[test]
fn a_line_github_rejects_falls_back_to_the_body() {
    let gh = GitHub::start(); // the fake takes no line at all
    let models = models();
    let p = pr_project(&gh, &models);
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    let review = gh.with(|s| s.reviews[0].clone());
    assert_eq!(review["comments"], json!([]));
    assert!(review["body"].as_str().unwrap().contains("Unchecked input"));
    let detail = p.latest()["publish"]["review"]["detail"].to_string();
    assert!(detail.contains("rejected the line comments"), "{detail}");
}

#[test]
fn rate_limits_are_waited_out_and_forbidden_checks_become_a_status() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.rate_limited = 1;
        s.checks_forbidden = true;
    });
    let models = models();
    let p = pr_project(&gh, &models);
    let (code, stdout, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    let r = p.latest();
    assert_eq!(
        r["publish"]["comment"]["status"], "created",
        "{}",
        r["publish"]
    );
    let statuses = gh.with(|s| s.statuses.clone());
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["state"], "success");
    assert!(
        stdout.contains("::error file=src/lib.rs,line=2,title=Unchecked input::"),
        "{stdout}"
    );
}

#[test]
fn a_publish_failure_keeps_the_decisions_exit_code_unless_required() {
    let models = Fake::start(|_| Reply::verdict("block", 1));
    let gh = GitHub::start();
    // Nothing listens on port 9; no retries, so the test waits out no backoff
    // (retries are tested against the fake's rate limits).
    let p = pr_project(&gh, &models)
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .file(
            "events.toml",
            &format!(
                "{EVENTS}
[publish.github]
max_retries = 0
"
            ),
        );
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 3, "the block still fails the job: {stderr}");
    assert!(
        stderr.contains("publishing the comment to GitHub failed"),
        "{stderr}"
    );
    assert_eq!(p.latest()["publish"]["comment"]["status"], "failed");
    assert_eq!(p.latest()["decision"]["action"], "block");

    let models = Fake::approving();
    let p = pr_project(&gh, &models)
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .file(
            "events.toml",
            &format!("{EVENTS}\n[publish.github]\nrequired = true\nmax_retries = 0\n"),
        );
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn publishing_needs_a_token_and_a_repository() {
    let models = Fake::approving();
    let p = Project::with_agents("[events.x]\nagents = [\"a\"]\n", &["a"]).serve(&models);
    let (code, _, stderr) = p.run(&["run", "x", "--publish", "github"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("GITHUB_TOKEN and GITHUB_REPOSITORY"),
        "{stderr}"
    );
    assert_eq!(models.count(), 0, "nothing was sent");
    // Enabled in the configuration only: skipped with a note, the run goes on.
    let p = p.file(
        "events.toml",
        "[events.x]\nagents = [\"a\"]\n[publish.github]\nenabled = true\n",
    );
    let (code, _, stderr) = p.run(&["run", "x"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("not publishing"), "{stderr}");
}

#[test]
fn annotations_go_in_batches_of_fifty() {
    let many: Vec<Value> = (0..120)
        .map(|i| json!({"severity": "medium", "title": format!("f{i}"), "file": "src/lib.rs", "line": i + 1}))
        .collect();
    let reply = json!({"decision": "comment", "findings": many}).to_string();
    let models = Fake::start(move |_| Reply::content(&reply));
    let gh = GitHub::start();
    let p = pr_project(&gh, &models);
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(gh.with(|s| s.annotation_batches.clone()), [50, 50, 20]);
}

/// As a new user would: the review workflow of docs/github-actions.md, run
/// as Actions runs it (no event name, no flags besides --publish) on a
/// recorded `pull_request` payload, against the GitHub fake.
#[test]
fn the_documented_workflow_on_a_recorded_payload() {
    let gh = GitHub::start();
    gh.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![1, 2, 3]);
    });
    let models = models();
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.*\"]\nagents = [\"a\", \"b\"]\ninputs = [\"diff\"]\n",
    );
    let recorded = std::fs::read_to_string(
        crate::support::repo_root().join("docs/examples/github-pull_request.synchronize.json"),
    )
    .unwrap();
    let event: Value = serde_json::from_str(&p.read("event.json")).unwrap();
    let payload = recorded
        .replace(
            "BASE_SHA",
            event["pull_request"]["base"]["sha"].as_str().unwrap(),
        )
        .replace(
            "HEAD_SHA",
            event["pull_request"]["head"]["sha"].as_str().unwrap(),
        );
    let recorded_path = p.path().join("recorded.json");
    let p = p
        .file("recorded.json", &payload)
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", recorded_path.to_str().unwrap())
        .env("GITHUB_ACTIONS", "true");
    let (code, stdout, stderr) = p.run(&["run", "--publish", "github"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(p.latest()["event"], "pull_request.synchronize");
    assert_eq!(p.latest()["subject"]["number"], 42);
    let (comments, reviews, checks) =
        gh.with(|s| (s.comments.len(), s.reviews.len(), s.check_runs.len()));
    assert_eq!((comments, reviews, checks), (1, 1, 1));
    let paths: Vec<String> = gh.fake.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/repos/o/r/issues/42/comments")),
        "{paths:?}"
    );
}

#[test]
fn a_filtered_run_posts_its_check_as_skipped_under_the_strategys_stable_name() {
    let gh = GitHub::start();
    let models = Fake::approving();
    let p = pr_project(&gh, &models).file(
        "events.toml",
        "[inputs.diff]\nkind = \"git_diff\"\n\
         [events.\"pull_request.*\"]\nagents = [\"a\"]\ninputs = [\"diff\"]\ncheck_name = \"AI review\"\n\
         [events.\"pull_request.*\".skip]\nlabels = [\"no-ai\"]\n",
    );
    // Labelled: filtered before anything is gathered or sent.
    let mut payload: Value = serde_json::from_str(&p.read("event.json")).unwrap();
    payload["pull_request"]["labels"] = json!([{"name": "no-ai"}]);
    let head = payload["pull_request"]["head"]["sha"].clone();
    let p = p.file("event.json", &payload.to_string());
    let (code, _, stderr) = run(&p);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(models.count(), 0, "nothing sent");
    let check = gh.with(|s| s.check_runs.clone());
    assert_eq!(check.len(), 1, "{stderr}");
    assert_eq!(check[0]["name"], "AI review");
    assert_eq!(check[0]["conclusion"], "skipped");
    assert_eq!(check[0]["head_sha"], head);
    assert!(
        check[0]["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("no-ai"),
        "{}",
        check[0]
    );
    assert!(
        stderr.contains("bsu: check \"AI review\" posted as skipped: https://github.test/k/"),
        "{stderr}"
    );

    // Unlabelled, opened then synchronized: one check name for both.
    payload["pull_request"]["labels"] = json!([]);
    for action in ["opened", "synchronize"] {
        payload["action"] = json!(action);
        std::fs::write(p.path().join("event.json"), payload.to_string()).unwrap();
        let event = format!("pull_request.{action}");
        let (code, _, stderr) = p.run(&[
            "run",
            &event,
            "--payload",
            "event.json",
            "--publish",
            "github",
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let names: Vec<Value> = gh.with(|s| s.check_runs.iter().map(|c| c["name"].clone()).collect());
    assert_eq!(names, vec![json!("AI review"); 3]);
    let conclusions: Vec<Value> = gh.with(|s| {
        s.check_runs
            .iter()
            .map(|c| c["conclusion"].clone())
            .collect()
    });
    assert_eq!(
        conclusions,
        [json!("skipped"), json!("success"), json!("success")]
    );
}

#[test]
fn on_a_forks_pull_request_the_step_summary_says_nothing_could_be_published() {
    let gh = GitHub::start();
    gh.with(|s| s.read_only = true);
    let models = models();
    let summary = tempfile::NamedTempFile::new().unwrap();
    let p = pr_project(&gh, &models).env("GITHUB_STEP_SUMMARY", summary.path().to_str().unwrap());
    let (code, _, stderr) = run(&p);
    assert_eq!(
        code, 0,
        "a publish failure keeps the decision's exit code: {stderr}"
    );
    assert!(
        stderr.contains("publishing the comment to GitHub failed"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(summary.path()).unwrap();
    assert!(md.contains("- the comment: **failed**: "), "{md}");
    assert!(
        md.contains("GitHub refused to let this job publish (HTTP 403). A pull request from a fork gets a read-only token"),
        "{md}"
    );
}
