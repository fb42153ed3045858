//! Inputs end to end: real git repositories in temp dirs, the real binary,
//! the fake model server. What each agent was sent, the report's `inputs`,
//! and the fail-closed decision when something went unseen.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::Project;

/// Run git in `dir` with a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Two agents on `pull_request.opened`, given the diff.
pub(crate) const EVENTS: &str = r#"
[inputs.diff]
kind = "git_diff"

[inputs.changed]
kind = "changed_files"

[events."pull_request.opened"]
agents = ["a", "b"]
inputs = ["diff"]
"#;

/// A repository with two commits: the base, and a change with a rename, a
/// binary file, a lockfile, a test and a doc. Returns (project, base, head).
/// Built once per `events` and copied.
fn repo(events: &str) -> (Project, String, String) {
    let (p, (base, head)) = crate::support::fixture(&format!("inputs::repo {events}"), |d| {
        let write = |rel: &str, bytes: &[u8]| {
            let path = d.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        let model = Project::with_agents(events, &["a", "b"]);
        for rel in ["events.toml", "agents/a.toml", "agents/b.toml"] {
            write(rel, model.read(rel).as_bytes());
        }
        write("src/lib.rs", b"pub fn one() -> u32 {\n    1\n}\n");
        write("src/old.rs", "// a file that moves\n".repeat(20).as_bytes());
        write("Cargo.lock", b"# lock v1\n");
        write("README.md", b"# demo\n");
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "base"]);
        let base = git(d, &["rev-parse", "HEAD"]);
        write(
            "src/lib.rs",
            b"pub fn one() -> u32 {\n    2 // CHANGED-LINE\n}\n",
        );
        write("tests/t.rs", b"#[test]\nfn t() {}\n");
        write("docs/guide.md", b"# Guide\nHow to use it.\n");
        write("Cargo.lock", b"# lock v2 LOCKFILE-CONTENT\n");
        write("logo.png", &[0x89, b'P', b'N', b'G', 0, 0, 1, 2]);
        std::fs::rename(d.join("src/old.rs"), d.join("src/new.rs")).unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "change"]);
        let head = git(d, &["rev-parse", "HEAD"]);
        (base, head)
    });
    (p, base, head)
}

fn pr_payload(base: &str, head: &str) -> String {
    json!({"action": "opened", "number": 7,
           "pull_request": {"title": "Demo", "base": {"sha": base}, "head": {"sha": head}}})
    .to_string()
}

#[test]
fn a_pull_request_diff_reaches_every_agent_and_the_report() {
    let fake = Fake::approving();
    let (p, base, head) = repo(EVENTS);
    let p = p.serve(&fake).file("event.json", &pr_payload(&base, &head));
    let (code, stdout, stderr) = p.run(&["run", "pull_request.opened", "--payload", "event.json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        let system = r.system();
        assert!(
            system.contains("### diff · src/lib.rs (modified)"),
            "{system}"
        );
        assert!(system.contains("+    2 // CHANGED-LINE"));
        assert!(system.contains("### diff · src/new.rs (renamed from src/old.rs)"));
        assert!(system.contains("### diff · tests/t.rs (added)"));
        assert!(
            !system.contains("LOCKFILE-CONTENT"),
            "lockfiles are excluded"
        );
        // Source before tests before docs.
        let pos = |s: &str| system.rfind(s).unwrap();
        assert!(pos("src/lib.rs (modified)") < pos("tests/t.rs (added)"));
        assert!(pos("tests/t.rs (added)") < pos("docs/guide.md (added)"));
        // The inputs come before the agent's role.
        assert!(pos("### diff ·") < pos("=== Your role ==="));
    }
    // The shared part is byte-identical for both agents.
    let prefix = |s: &str| s.rsplit_once("=== Your role ===").unwrap().0.to_string();
    assert_eq!(prefix(&reqs[0].system()), prefix(&reqs[1].system()));

    let r = p.latest();
    assert_eq!(r["decision"]["action"], "approve");
    let input = &r["inputs"][0];
    assert_eq!(input["name"], "diff");
    assert_eq!(input["kind"], "git_diff");
    assert_eq!(input["source"]["head"], head);
    assert_eq!(input["source"]["resolved_by"], "payload (pull_request)");
    assert_eq!(input["sha256"].as_str().unwrap().len(), 64);
    let excluded = input["excluded"].to_string();
    assert!(excluded.contains("logo.png (binary)"), "{excluded}");
    assert!(
        excluded.contains("Cargo.lock (lockfile, excluded by rule *.lock)"),
        "{excluded}"
    );
    let a = &r["agents"][0]["inputs"];
    assert_eq!(a["inputs"], json!(["diff"]));
    assert_eq!(a["batches"], 1);
    assert_eq!(a["unseen"], json!([]));
    assert!(a["shared_prefix_tokens"].as_u64().unwrap() > 100, "{a}");

    // The same commits again cost nothing: the cache key covers the inputs.
    let before = fake.count();
    assert_eq!(
        p.run(&["run", "pull_request.opened", "--payload", "event.json"])
            .0,
        0
    );
    assert_eq!(fake.count(), before);
}

#[test]
fn flags_override_the_payload_and_the_working_tree_is_compared_with_base_alone() {
    let fake = Fake::approving();
    let (p, base, _) = repo(EVENTS);
    let p = p.serve(&fake).file(
        "src/lib.rs",
        "pub fn one() -> u32 {\n    3 // WORKTREE-EDIT\n}\n",
    );
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--base", &base]);
    assert_eq!(code, 0, "{stderr}");
    assert!(fake.requests()[0].system().contains("WORKTREE-EDIT"));
    assert_eq!(p.latest()["inputs"][0]["source"]["resolved_by"], "flags");
    assert_eq!(p.latest()["inputs"][0]["source"]["head"], Value::Null);

    // Off a terminal, with nothing to say what changed, it says what to do.
    let (code, _, stderr) = p.run(&["run", "pull_request.opened"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Pass --base REV"), "{stderr}");
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--base", "--all"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_shallow_clone_without_the_base_says_what_to_do_or_fetches_it() {
    let fake = Fake::approving();
    let (origin, base, head) = repo(EVENTS);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let d = clone.path().join("shallow");
    std::fs::write(d.join("event.json"), pr_payload(&base, &head)).unwrap();
    let run = |events: &str| {
        std::fs::write(d.join("events.toml"), events).unwrap();
        origin
            .command()
            .current_dir(&d)
            .env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", "sk-test")
            .args(["run", "pull_request.opened", "--payload", "event.json"])
            .output()
            .unwrap()
    };
    let out = run(EVENTS);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    assert!(
        stderr.contains(&format!("git fetch --no-tags origin {base}")),
        "{stderr}"
    );
    assert_eq!(fake.count(), 0);

    let out = run(&EVENTS.replace("kind = \"git_diff\"", "kind = \"git_diff\"\nfetch = true"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fake.requests()[0].system().contains("CHANGED-LINE"));
}

const SMALL: &str = r#"
[inputs.changed]
kind = "changed_files"

[events."pull_request.opened"]
agents = ["a", "b"]
inputs = ["changed"]
"#;

#[test]
fn a_change_larger_than_one_prompt_is_reviewed_in_batches() {
    // Agent a reads a large file in batches; the batch with the file blocks.
    let fake = Fake::start(|r| {
        if r.system().contains("BIG-FILE-MARKER") {
            Reply::verdict("block", 1)
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let (p, base, _) = repo(SMALL);
    // Four files of about 6,000 tokens each against a budget of about 9,000 per call.
    let mut p = p;
    for i in 0..4 {
        let marker = if i == 2 { "BIG-FILE-MARKER" } else { "filler" };
        let text: String = (0..500)
            .map(|l| format!("// {marker} line {l} of file {i}\n"))
            .collect();
        p = p.file(&format!("src/big{i}.rs"), &text);
    }
    let p = p
        .agent("a", "context_window = 12000\nmax_tokens = 1000")
        .agent(
            "b",
            "context_window = 12000\nmax_tokens = 1000\nmax_batches = 1",
        )
        .serve(&fake);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "big"]);
    let head = git(p.path(), &["rev-parse", "HEAD"]);
    let p = p.file("event.json", &pr_payload(&base, &head));
    let (code, stdout, stderr) = p.run(&["run", "pull_request.opened", "--payload", "event.json"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    let r = p.latest();
    let a = r["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "a")
        .unwrap();
    let batches = a["inputs"]["batches"].as_u64().unwrap();
    assert!(batches >= 2, "{}", a["inputs"]);
    assert_eq!(
        a["verdict"]["decision"], "block",
        "the strictest batch wins"
    );
    let a_reqs: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|q| q.agent() == "a")
        .collect();
    assert_eq!(a_reqs.len() as u64, batches);
    assert!(a_reqs[0].user().contains(&format!("batch 1 of {batches}")));
    // Batches are calls, not retries.
    assert_eq!(r["totals"]["retries"], 0, "{}", r["totals"]);
    // b may call once: what did not fit is named and b cannot approve.
    let b = r["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "b")
        .unwrap();
    assert_eq!(b["inputs"]["batches"], 1);
    let unseen = b["inputs"]["unseen"].to_string();
    assert!(unseen.contains("past max_batches = 1"), "{unseen}");
    assert_ne!(b["decision"], "approve");
    let b_req = fake
        .requests()
        .into_iter()
        .find(|q| q.agent() == "b")
        .unwrap();
    assert!(b_req.system().contains("## Not shown to you"));
}

#[test]
fn a_dry_run_shows_tokens_batches_and_the_shared_prefix() {
    let (p, base, head) = repo(EVENTS);
    let (code, stdout, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--dry-run",
        "--base",
        &base,
        "--head",
        &head,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("batches"), "{stdout}");
    assert!(stdout.contains("shared prefix"), "{stdout}");
    assert!(crate::support::system_prompt(&p.latest(), 0).contains("CHANGED-LINE"));
}

#[test]
fn a_file_over_the_budget_is_clipped_and_cannot_be_approved() {
    let fake = Fake::approving();
    let (p, base, _) = repo(EVENTS);
    let huge: String = (0..3000).map(|i| format!("// HUGE line {i}\n")).collect();
    let p = p
        .file("src/huge.rs", &huge)
        .agent("a", "context_window = 8000\nmax_tokens = 500")
        .agent("b", "context_window = 8000\nmax_tokens = 500");
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "huge"]);
    let head = git(p.path(), &["rev-parse", "HEAD"]);
    let p = p.serve(&fake);
    let (code, _, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--base",
        &base,
        "--head",
        &head,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let all: Vec<String> = fake.requests().iter().map(|r| r.system()).collect();
    assert!(
        all.iter()
            .any(|s| s.contains("lines cut here to fit the token budget")),
        "{}",
        p.latest()["agents"][0]["inputs"]
    );
    assert!(all.iter().all(|s| s.contains("## Not shown to you")));
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "manual_review");
    assert!(
        r["decision"]["reason"]
            .as_str()
            .unwrap()
            .contains("did not see all of its inputs: diff:src/huge.rs"),
        "{}",
        r["decision"]
    );
    assert_eq!(
        r["agents"][0]["inputs"]["clipped"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn untracked_files_join_a_working_tree_diff_when_asked() {
    let fake = Fake::approving();
    let events = EVENTS.replace(
        "kind = \"git_diff\"",
        "kind = \"git_diff\"\ninclude_untracked = true\ncontext_lines = 0",
    );
    let (p, _, head) = repo(&events);
    let p = p.serve(&fake).file("notes/new.txt", "UNTRACKED-NOTE\n");
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--base", &head]);
    assert_eq!(code, 0, "{stderr}");
    let system = fake.requests()[0].system();
    assert!(
        system.contains("### diff · notes/new.txt (added)"),
        "{system}"
    );
    assert!(system.contains("+UNTRACKED-NOTE"));
}
