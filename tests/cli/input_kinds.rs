//! Inputs other than a pull request's diff, end to end: a command's output
//! and exit code, files and the git log since the last run, an input given
//! on the command line, inputs kept apart for agents packed alike, and
//! inputs that do not exist.

use crate::fake::Fake;
use crate::inputs::{git, EVENTS};
use crate::support::Project;

#[test]
fn command_inputs_carry_their_exit_code_and_unfinished_ones_block_approval() {
    let fake = Fake::approving();
    let events = r#"
[inputs.version]
kind = "command"
argv = ["git", "--version"]

[inputs.failing]
kind = "command"
argv = ["git", "rev-parse", "--verify", "no-such-ref"]

[events.check]
agents = ["a"]
inputs = ["version", "failing"]

[events.slow]
agents = ["a"]
inputs = ["missing"]

[inputs.missing]
kind = "command"
argv = ["bsu-no-such-program-xyz"]
"#;
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    git(p.path(), &["init", "-q"]);
    let (code, _, stderr) = p.run(&["run", "check"]);
    assert_eq!(code, 0, "{stderr}");
    let system = fake.requests()[0].system();
    assert!(
        system.contains("$ git --version\n[exit code 0]"),
        "{system}"
    );
    assert!(
        system.contains("[exit code 128]"),
        "a failing command is still an input"
    );
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "approve");
    assert_eq!(r["inputs"][1]["exit_code"], 128);

    let (code, _, stderr) = p.run(&["run", "slow"]);
    assert_eq!(code, 0, "{stderr}");
    let r = p.latest();
    assert_eq!(r["decision"]["action"], "manual_review");
    assert!(
        r["decision"]["reason"]
            .as_str()
            .unwrap()
            .contains("could not start"),
        "{}",
        r["decision"]
    );
}

#[test]
fn files_and_git_log_since_the_last_run() {
    let fake = Fake::approving();
    let events = r#"
[inputs.docs]
kind = "files"
globs = ["docs/**/*.md", "!docs/private/**"]

[inputs.history]
kind = "git_log"
since = "last_run"

[events."scheduled.weekly"]
agents = ["a"]
inputs = ["docs", "history"]
"#;
    let p = Project::with_agents(events, &["a"])
        .file("docs/a.md", "# Public DOC-A\n")
        .file("docs/private/s.md", "SECRET-DOC\n")
        .file(".gitignore", "docs/ignored.md\n")
        .file("docs/ignored.md", "IGNORED-DOC\n")
        .serve(&fake);
    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "FIRST-COMMIT"]);
    assert_eq!(p.run(&["run", "scheduled.weekly"]).0, 0);
    let system = fake.requests()[0].system();
    assert!(system.contains("DOC-A"));
    assert!(!system.contains("SECRET-DOC") && !system.contains("IGNORED-DOC"));
    assert!(system.contains("FIRST-COMMIT"));

    std::thread::sleep(std::time::Duration::from_millis(1100)); // git dates are seconds
    let p = p.file("docs/b.md", "more\n");
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "SECOND-COMMIT"]);
    assert_eq!(p.run(&["run", "scheduled.weekly"]).0, 0);
    let system = fake.requests().last().unwrap().system();
    assert!(system.contains("SECOND-COMMIT"), "{system}");
    assert!(
        !system.contains("FIRST-COMMIT"),
        "only commits since the last run"
    );
}

#[test]
fn an_input_given_on_the_command_line() {
    let fake = Fake::approving();
    let p = Project::with_agents(EVENTS, &["a", "b"]).serve(&fake);
    let patch = "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+FROM-STDIN\n";
    let out = p
        .bsu()
        .args(["run", "pull_request.opened", "--input", "diff=-"])
        .write_stdin(patch)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fake.requests()[0]
        .system()
        .contains("### diff · x.rs (modified)"));
    assert!(fake.requests()[0].system().contains("+FROM-STDIN"));
    let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--input", "nope=x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("declared: changed, diff"), "{stderr}");
    // One too large is refused, as an input, before anything is sent.
    #[cfg(unix)]
    {
        let sent = fake.count();
        let (code, _, stderr) = p.run(&["run", "pull_request.opened", "--input", "diff=/dev/zero"]);
        assert_eq!(code, 2);
        assert_eq!(
            stderr,
            "error: --input diff: could not read /dev/zero: /dev/zero is larger than 64 MiB, \
             the most an --input value may be\n"
        );
        assert_eq!(fake.count(), sent);
    }
}

/// Agents on one model with the same window are packed once, but only when
/// they read the same inputs: each agent's own input reaches it alone.
#[test]
fn agents_packed_alike_still_get_their_own_inputs() {
    let events = r#"
[inputs.notes-a]
kind = "files"
globs = ["a.txt"]

[inputs.notes-b]
kind = "files"
globs = ["b.txt"]

[inputs.shared]
kind = "files"
globs = ["shared.txt"]

[events.review]
agents = ["a", "b", "c"]
inputs = ["shared"]
"#;
    let p = Project::with_agents(events, &[])
        .agent("a", "inputs = [\"notes-a\"]")
        .agent("b", "inputs = [\"notes-b\"]")
        .agent("c", "inputs = [\"notes-a\"]")
        .file("a.txt", "ONLY-FOR-A\n")
        .file("b.txt", "ONLY-FOR-B\n")
        .file("shared.txt", "FOR-EVERYONE\n");
    let (code, stdout, stderr) = p.run(&["run", "review", "--dry-run"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let r = p.latest();
    let prompt = |id: &str| {
        let agent = r["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        format!("{}{}", r["shared_prompt"], agent["prompt"])
    };
    let (a, b, c) = (prompt("a"), prompt("b"), prompt("c"));
    for text in [&a, &b, &c] {
        assert!(text.contains("FOR-EVERYONE"), "{text}");
    }
    assert!(a.contains("ONLY-FOR-A") && !a.contains("ONLY-FOR-B"), "{a}");
    assert!(b.contains("ONLY-FOR-B") && !b.contains("ONLY-FOR-A"), "{b}");
    assert!(c.contains("ONLY-FOR-A") && !c.contains("ONLY-FOR-B"), "{c}");
}

#[test]
fn unknown_inputs_and_wrong_keys_are_configuration_errors() {
    let events = r#"
[inputs.diff]
kind = "git_diff"
argv = ["x"]

[events.x]
agents = ["a"]
inputs = ["dif"]
"#;
    let p = Project::with_agents(events, &["a"]).agent("a", "inputs = [\"nope\"]");
    let (code, stdout, stderr) = p.run(&["check"]);
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("cannot have `argv`"), "{all}");
    assert!(
        all.contains("uses input \"dif\", which is not declared"),
        "{all}"
    );
    assert!(all.contains("agents/a.toml:3:"), "{all}");
}
