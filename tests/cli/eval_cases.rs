//! `bsu eval`'s cases: bad ones named at their line, the project's folder of
//! cases read only as a real folder, and cases made from golden comments or
//! from two commits of a repository.

use serde_json::Value;

use crate::eval::{models, patch, project, EVENTS};
use crate::support::Project;

/// Bad cases are refused with their file and line, by `bsu eval` and by
/// `bsu check`; nothing is sent.
#[test]
fn bad_cases_are_named_at_their_line() {
    let m = models();
    let p = project(&m)
        .file("evals/bad/change.patch", &patch("x.py", 1))
        .file(
            "evals/bad/expect.toml",
            "decision = \"approve\"\n\n[[finding]]\ndescription = \"x\"\nline = 3\n",
        )
        .file(
            "evals/nochange/expect.toml",
            "decision = { at_least = \"block\", at_most = \"approve\" }\n",
        );
    let (code, stdout, stderr) = p.run(&["eval", "evals"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("evals/bad/expect.toml:3:1: line without file; name the file too"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "evals/nochange/expect.toml:1:12: at_least = Block is above at_most = Approve"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("evals/nochange/expect.toml: no change: add change.patch beside it"),
        "{stderr}"
    );
    assert!(m.requests().is_empty());
    let (code, stdout, _) = p.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("evals/bad/expect.toml:3:1: line without file"),
        "{stdout}"
    );

    // A case reached through a link is named, not passed over: a case left
    // out would change what is measured.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("expect.toml"),
        "decision = \"approve\"\n",
    )
    .unwrap();
    std::fs::write(outside.path().join("change.patch"), patch("y.py", 1)).unwrap();
    for bad in ["bad", "nochange"] {
        std::fs::remove_dir_all(p.path().join("evals").join(bad)).unwrap();
    }
    std::os::unix::fs::symlink(outside.path(), p.path().join("evals/linked")).unwrap();
    let (code, stdout, stderr) = p.run(&["eval", "evals"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("evals/linked: is a symlink; bsu reads a case only from a real folder"),
        "{stderr}"
    );
    assert!(m.requests().is_empty());
}

/// The project's own `evals/` is read only as a real folder: a link there
/// (which a pull request can add) would have cases read from elsewhere.
#[test]
fn the_projects_cases_are_not_read_through_a_link() {
    let m = models();
    let p = project(&m);
    let outside = tempfile::tempdir().unwrap();
    let moved = outside.path().join("evals");
    std::fs::rename(p.path().join("evals"), &moved).unwrap();
    std::os::unix::fs::symlink(&moved, p.path().join("evals")).unwrap();
    let said = "evals: is a symlink (symlinks are not followed); bsu reads the project's cases \
                only from a real folder";
    let (code, stdout, stderr) = p.run(&["eval"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains(said), "{stderr}");
    let (code, stdout, _) = p.run(&["check"]);
    assert_eq!(code, 2);
    assert!(stdout.contains(said), "{stdout}");
    assert!(m.requests().is_empty());
    // Named on the command line, the folder is the caller's own.
    let (code, _, stderr) = p.run(&["eval", &moved.display().to_string()]);
    assert_ne!(code, 2, "{stderr}");
}

/// The converter: one case per pull request with a diff, golden findings
/// without locations, a decision when one is high or critical.
#[test]
fn golden_comments_become_cases() {
    let p = Project::empty()
        .file(
            "golden.json",
            r#"[{"pr_title": "Fast paging", "url": "https://github.com/acme/shop/pull/12",
                 "comments": [{"comment": "Negative slice on a queryset raises", "severity": "High"},
                              {"comment": "Typo in a test name", "severity": "Low"}]},
                {"pr_title": "No diff", "url": "https://github.com/acme/shop/pull/13", "comments": []}]"#,
        )
        .file("diffs/acme-shop-12.patch", &patch("shop.py", 2));
    let (code, stdout, stderr) = p.run(&[
        "eval",
        "import",
        "golden.json",
        "--diffs",
        "diffs",
        "--into",
        "cases",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "1 cases written to cases, 1 skipped\n");
    assert!(
        stderr.contains("acme-shop-13: no diff at diffs/acme-shop-13.patch"),
        "{stderr}"
    );
    let expect = p.read("cases/acme-shop-12/expect.toml");
    assert!(
        expect.contains("[decision]\nat_least = \"request_changes\""),
        "{expect}"
    );
    assert!(
        expect
            .contains("description = \"Negative slice on a queryset raises\"\nseverity = \"high\""),
        "{expect}"
    );
    assert_eq!(
        p.read("cases/acme-shop-12/change.patch"),
        patch("shop.py", 2)
    );
    let payload: Value = serde_json::from_str(&p.read("cases/acme-shop-12/payload.json")).unwrap();
    assert_eq!(payload["pull_request"]["title"], "Fast paging");
}

/// A case may name its change as two commits of a repository inside the
/// project; one outside it is refused (a case cannot make bsu read and send
/// a repository elsewhere on the machine).
#[test]
fn a_case_from_two_commits_of_a_repository_inside_the_project() {
    use crate::inputs::git;
    let m = models();
    let p = Project::with_agents(EVENTS, &["a", "b"]).serve(&m);
    let repo = p.path().join("fixtures/repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("style.py"), "a = 1\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    std::fs::write(repo.join("style.py"), "a = 1\nb = 2\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "head"]);
    let outside = tempfile::tempdir().unwrap();
    let p = p
        .file(
            "evals/git/expect.toml",
            "decision = \"approve\"\n[change]\nrepo = \"../../fixtures/repo\"\nbase = \"HEAD~1\"\nhead = \"HEAD\"\n",
        )
        .file(
            "evals/outside/expect.toml",
            &format!(
                "[change]\nrepo = {:?}\nbase = \"HEAD~1\"\nhead = \"HEAD\"\n",
                outside.path().display().to_string()
            ),
        );
    let (code, v) = p.json(&["eval", "evals", "--json"]);
    assert_eq!(code, 1, "the outside case could not be run: {v}");
    let git_case = &v["cases"][0];
    // a flags style.py in the change it was shown: the diff of the two commits.
    assert_eq!(git_case["decision"], "request_changes", "{git_case}");
    assert!(v["cases"][1]["error"]
        .as_str()
        .unwrap()
        .contains("is not a folder inside the project"));
    let (code, _, stderr) = p.run(&["eval", "evals", "--json"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: case outside: [change] repo"),
        "{stderr}"
    );
}
