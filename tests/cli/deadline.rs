//! The run's deadline and signals: an agent's and the run's timeouts, and
//! SIGTERM or Ctrl-C mid-call, end the run with a partial report; and they
//! bound gathering too (issue "Trust nothing in the change", class 7): a
//! hanging fetch, a slow command, a huge change and SIGTERM all end the run
//! with a report, and no child outlives it.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::inputs::git;
use crate::support::{statuses, Project};

/// Wait for `child`; a run that outlives `limit` is killed and fails the test
/// (a liveness check: the deadlines under test are seconds).
fn finish(mut child: Child, limit: Duration) -> std::process::Output {
    let begun = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if begun.elapsed() > limit {
            let _ = child.kill();
            panic!("bsu ran past {limit:?}: its deadline did not hold");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn spawn(p: &Project, args: &[&str]) -> Child {
    p.command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_fetch_from_a_server_that_never_answers_ends_at_the_deadline() {
    let fake = Fake::approving();
    // Accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().take(16) {
            held.push(c);
        }
        std::thread::sleep(Duration::from_secs(120));
    });
    let events = "[inputs.diff]\nkind = \"git_diff\"\nfetch = true\n\
                  [events.review]\nagents = [\"a\"]\ninputs = [\"diff\"]\n";
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "base"]);
    git(
        p.path(),
        &[
            "remote",
            "add",
            "origin",
            &format!("http://127.0.0.1:{port}/r.git"),
        ],
    );
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let payload = json!({"pull_request": {"base": {"sha": missing}, "head": {"sha": missing}}});
    let p = p.file("event.json", &payload.to_string());
    let out = finish(
        spawn(
            &p,
            &[
                "run",
                "review",
                "--payload",
                "event.json",
                "--timeout",
                "3s",
            ],
        ),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "try again later: {stderr}");
    let r = p.latest();
    assert_eq!(r["agents"][0]["status"], "timed_out", "{r}");
    let reason = r["agents"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("while the run's inputs were being gathered"),
        "{r}"
    );
    assert_eq!(fake.count(), 0, "nothing was sent");
}

#[cfg(unix)]
#[test]
fn sigterm_while_a_command_runs_writes_a_partial_report_and_kills_the_command() {
    let fake = Fake::approving();
    let events = r#"
[inputs.slow]
kind = "command"
argv = ["sh", "-c", "sleep 30 & echo $! > child.pid; wait"]

[events.review]
agents = ["a"]
inputs = ["slow"]
"#;
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    let child = spawn(&p, &["run", "review"]);
    let pidfile = p.path().join("child.pid");
    let begun = Instant::now();
    let grandchild = loop {
        let text = std::fs::read_to_string(&pidfile).unwrap_or_default();
        if text.ends_with('\n') {
            break text.trim().to_string();
        }
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = finish(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let r = p.latest();
    assert_eq!(r["interrupted"], true);
    assert_eq!(fake.count(), 0);
    // The command's own child died with it (a zombie waits only for init).
    let gone = (0..100).any(|_| {
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let dead = stat.is_empty() || stat.split(' ').nth(2) == Some("Z");
        if !dead {
            std::thread::sleep(Duration::from_millis(50));
        }
        dead
    });
    assert!(gone, "the command's child {grandchild} outlived bsu");
}

/// Run git in `p` with `input` on stdin; its trimmed stdout.
fn piped(p: &Project, args: &[&str], input: &str) -> String {
    let mut child = std::process::Command::new("git")
        .arg("-C")
        .arg(p.path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn sixty_thousand_files_in_one_folder_end_by_the_deadline() {
    let fake = Fake::approving();
    let events = "[inputs.diff]\nkind = \"git_diff\"\n[inputs.files]\nkind = \"changed_files\"\n\
                  [events.review]\nagents = [\"a\"]\ninputs = [\"diff\", \"files\"]\n";
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "base"]);
    // One commit adding 60,000 files to one folder, written straight into
    // git's object store (mktree sorts in one go; no working tree needed).
    let blob = piped(&p, &["hash-object", "-w", "--stdin"], "hello world\n");
    let listing: String = (0..60_000)
        .map(|i| format!("100644 blob {blob}\tf{i:05}.txt\n"))
        .collect();
    let dir = piped(&p, &["mktree"], &listing);
    let mut root = git(p.path(), &["ls-tree", "HEAD"]);
    root.push_str(&format!("\n040000 tree {dir}\tdir\n"));
    let tree = piped(&p, &["mktree"], &root);
    let commit = git(p.path(), &["commit-tree", &tree, "-p", "HEAD", "-m", "big"]);
    git(p.path(), &["update-ref", "refs/heads/main", &commit]);
    let out = finish(
        spawn(
            &p,
            &[
                "run",
                "review",
                "--base",
                "HEAD~",
                "--head",
                "HEAD",
                "--timeout",
                "3s",
            ],
        ),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let r = p.latest();
    assert_ne!(r["decision"]["action"], "approve", "{stderr}");
    assert!(
        r["duration_ms"].as_u64().unwrap() < 3_000 + 2_000,
        "the run went past its deadline and the backstop: {}",
        r["duration_ms"]
    );
}

/// Event `x` runs `quick` (answered in 10 ms) and `slow` (answered after
/// `slow_ms`, with `slow_extra` in its agent file).
fn quick_and_slow(slow_ms: u64, slow_extra: &str) -> (Fake, Project) {
    let fake = Fake::start(move |r| {
        let d = if r.agent() == "slow" { slow_ms } else { 10 };
        Reply::verdict("approve", 9).delay(Duration::from_millis(d))
    });
    let p = Project::empty()
        .file(
            "events.toml",
            "[events.x]\nagents = [\"quick\", \"slow\"]\n",
        )
        .agent("quick", "")
        .agent("slow", slow_extra)
        .serve(&fake);
    (fake, p)
}

#[test]
fn agent_and_run_timeouts() {
    let (fake, p) = quick_and_slow(3000, "timeout = \"300ms\"");
    let (code, _, _) = p.run(&["run", "x"]);
    assert_eq!(code, 0);
    let r = p.latest();
    assert_eq!(statuses(&r)[1], ("slow".into(), "timed_out".into()));
    assert!(r["agents"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("agent timeout of 300ms"));

    let p = Project::empty()
        .file("events.toml", "[events.x]\nagents = [\"slow\"]\n")
        .agent("slow", "")
        .serve(&fake);
    let (code, _, _) = p.run(&["run", "x", "--timeout", "400ms"]);
    assert_eq!(code, 75, "only a timeout: try again later");
    assert!(p.latest()["agents"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("run's deadline of 400ms"));
}

#[cfg(unix)]
#[test]
fn sigterm_and_ctrl_c_write_a_partial_report_and_exit_130() {
    for signal in ["-TERM", "-INT"] {
        interrupted_by(signal);
    }
}

#[cfg(unix)]
fn interrupted_by(signal: &str) {
    let (fake, p) = quick_and_slow(10_000, "");
    let mut cmd = p.command();
    let child = cmd
        .args(["run", "x"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{signal}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = p.latest();
    assert_eq!(r["interrupted"], true);
    assert!(r["agents"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("interrupted"));
    assert_eq!(
        statuses(&r),
        [
            ("quick".into(), "succeeded".into()),
            ("slow".into(), "failed".into())
        ]
    );
    assert!(p.reports().iter().all(|n| !n.contains(".tmp")));
}
