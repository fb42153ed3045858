//! `--publish gitlab` end to end against the loopback GitLab fake: one
//! sticky note and a commit status, GitLab's limits, inline discussions
//! that follow the ledger, model text that cannot carry a quick action,
//! and `/bsu` note commands checked against access levels.

use serde_json::Value;

use crate::fake::Fake;
use crate::gitlab::mr_job;
use crate::gitlab_api::GitLab;
use crate::inputs::git;
use crate::support::Project;

const GL_TOKEN: &str = "glpat-TESTTOKEN0123456789abcd";

/// The merge-request job, publishing to the GitLab fake.
/// `bsu run --publish gitlab` in `p`, which must exit 0.
fn publish(p: &Project) {
    publish_by(p.bsu());
}

/// `bsu run --publish gitlab` as `bsu` is set up, which must exit 0.
fn publish_by(mut bsu: assert_cmd::Command) {
    let out = bsu.args(["run", "--publish", "gitlab"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn publishing(models: &Fake, gl: &GitLab) -> (Project, String) {
    let (p, _, head) = mr_job(models);
    let p = p
        .env("GITLAB_TOKEN", GL_TOKEN)
        .env("CI_API_V4_URL", &gl.api_url())
        .env("CI_JOB_URL", "https://gitlab.test/group/shop/-/jobs/9");
    (p, head)
}

/// Models that ask for changes over one high finding on src/lib.rs:2.
fn one_finding() -> Fake {
    Fake::start(|_| {
        crate::fake::Reply::content(
            &serde_json::json!({"decision": "request_changes", "findings": [
                {"severity": "high", "title": "Unchecked input", "file": "src/lib.rs", "line": 2}]})
            .to_string(),
        )
    })
}

/// `--publish gitlab`: one sticky note per merge request and strategy,
/// edited in place on the next run (another user's note with the marker is
/// never touched), and the commit status on the head commit with the
/// strategy's stable name; the token is in no artefact.
#[test]
fn publishing_to_gitlab_keeps_one_note_and_posts_the_status() {
    let m = one_finding();
    let gl = GitLab::start();
    gl.with(|s| {
        s.notes.push((
            1,
            "mallory".into(),
            "<!-- bsu:sticky strategy=pull_request.* -->\nforged".into(),
        ));
        // A busy merge request: bsu's own note is found past the first page.
        for i in 0..150 {
            s.notes
                .push((10 + i, "reviewer".into(), format!("comment {i}")));
        }
    });
    let (p, head) = publishing(&m, &gl);
    for round in 0..2 {
        let out = p
            .bsu()
            .args(["run", "--publish", "gitlab"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "round {round}: {stderr}");
    }
    let (notes, statuses) = gl.with(|s| (s.notes.clone(), s.statuses.clone()));
    assert_eq!(
        notes.len(),
        152,
        "mallory's, the reviewer's 150 and bsu's own, once"
    );
    assert_eq!(
        notes[0].2,
        "<!-- bsu:sticky strategy=pull_request.* -->\nforged"
    );
    let own = &notes[151];
    assert_eq!(own.1, "project_42_bot");
    assert!(own.2.contains("Unchecked input"), "{}", own.2);
    assert!(
        own.2.contains("<!-- bsu:ledger v1"),
        "the ledger travels in the note"
    );
    assert_eq!(statuses.len(), 2);
    let (sha, status) = &statuses[1];
    assert_eq!(sha, &head);
    assert_eq!(status["name"], "bsu / pull_request.*");
    assert_eq!(
        status["state"], "success",
        "request_changes is below --fail-on block"
    );
    assert_eq!(
        status["target_url"],
        "https://gitlab.test/group/shop/-/jobs/9"
    );
    let report = p.latest();
    assert_eq!(report["publish"]["comment"]["status"], "updated");
    assert!(gl.with(|s| s.tokens.iter().all(|t| t == GL_TOKEN)));
    assert!(!p.all_text().contains(GL_TOKEN));
}

/// Rate limits and server errors are retried; a job token alone is refused
/// with what to do, nothing sent.
#[test]
fn gitlab_limits_are_retried_and_the_job_token_is_refused() {
    let m = Fake::approving();
    let gl = GitLab::start();
    gl.with(|s| {
        s.rate_limited = 1;
        s.bad_gateway = 1;
    });
    let (p, _) = publishing(&m, &gl);
    publish(&p);
    assert_eq!(gl.with(|s| s.notes.len()), 1);
    let out = p
        .bsu()
        .env_remove("GITLAB_TOKEN")
        .env("CI_JOB_TOKEN", "job-token-123456789")
        .args(["run", "--publish", "gitlab"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("publishing to GitLab needs GITLAB_TOKEN: a project or group access token with the api scope"), "{stderr}");
    assert!(
        stderr.contains("CI_JOB_TOKEN cannot write notes"),
        "{stderr}"
    );
}

/// Findings on changed lines become discussions at GitLab's position, each
/// once across runs, with GitLab's suggestion syntax; a position GitLab
/// refuses leaves the finding in the note; a finding since fixed has its
/// discussion resolved.
#[test]
fn inline_discussions_follow_the_ledger() {
    let fixed = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let f = fixed.clone();
    let m = Fake::start(move |_| {
        let resolved: Vec<String> = f.lock().unwrap().clone().into_iter().collect();
        crate::fake::Reply::content(
            &serde_json::json!({"decision": "comment", "resolved": resolved, "findings": if resolved.is_empty() {
                serde_json::json!([
                    {"severity": "high", "title": "Name it", "file": "src/lib.rs", "line": 2,
                     "quote": "fn b() {}", "suggestion": "fn named() {}"},
                    {"severity": "high", "title": "Off the diff", "file": "src/lib.rs", "line": 1,
                     "quote": "fn a() {}"}])
            } else { serde_json::json!([]) }})
            .to_string(),
        )
    });
    let gl = GitLab::start();
    gl.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![2]);
    });
    let (p, _) = publishing(&m, &gl);
    for _ in 0..2 {
        publish(&p);
    }
    let discussions = gl.with(|s| s.discussions.clone());
    assert_eq!(discussions.len(), 1, "once across runs: {discussions:?}");
    let (did, body, pos) = &discussions[0];
    assert_eq!(
        (pos["new_path"].as_str(), pos["new_line"].as_u64()),
        (Some("src/lib.rs"), Some(2))
    );
    assert_eq!(pos["base_sha"], "b".repeat(40));
    assert!(
        body.contains("```suggestion:-0+0\nfn named() {}\n```"),
        "{body}"
    );
    let note = gl.with(|s| s.notes.last().unwrap().2.clone());
    assert!(
        note.contains("Off the diff"),
        "the refused one is in the note: {note}"
    );
    let report = p.latest();
    assert!(report["publish"]["review"]["detail"]
        .as_str()
        .unwrap()
        .contains("0 discussions started"));
    // The agent says the named finding is fixed: its discussion is resolved.
    let id = report["ledger"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "Name it")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    *fixed.lock().unwrap() = Some(id);
    // A push that fixes it.
    let d = p.path().to_path_buf();
    std::fs::write(d.join("src/lib.rs"), "fn a() {}\nfn named() {}\n").unwrap();
    git(&d, &["commit", "-q", "-am", "fix"]);
    let head = git(&d, &["rev-parse", "HEAD"]);
    let mut bsu = p.bsu();
    bsu.env("CI_COMMIT_SHA", &head);
    publish_by(bsu);
    assert_eq!(gl.with(|s| s.resolved.clone()), vec![did.clone()]);
    // A push to a merge request reviewed before is reviewed incrementally.
    let r = p.latest();
    assert_eq!(r["event"], "merge_request.update");
    assert!(
        r["inputs"][0]["source"]["resolved_by"]
            .as_str()
            .unwrap()
            .contains("; incremental: the 1 file changed since"),
        "{}",
        r["inputs"][0]["source"]
    );
}

/// Model text posted to GitLab carries out no quick action: GitLab runs a
/// note's `/approve`, `/merge` or `/label` lines with the token's rights,
/// passing over code only between a line of three backticks and the next
/// such line. The suggestion here holds one, so bsu fences it with four and
/// GitLab's code ends early: its `/approve` would run. A suggestion whose
/// code has such a line is shown as plain code.
#[test]
fn model_text_cannot_give_gitlab_a_quick_action() {
    let m = Fake::start(|_| {
        crate::fake::Reply::content(
            &serde_json::json!({"decision": "request_changes", "summary": "Fine.\n/approve\n/merge",
                "findings": [
                    {"severity": "high", "title": "Name it\n/unapprove", "file": "src/lib.rs",
                     "line": 2, "quote": "fn b() {}", "detail": "see\n/label ~ok\n/close",
                     "suggestion": "fn named() {}\n```\n/approve"}]})
            .to_string(),
        )
    });
    let gl = GitLab::start();
    gl.with(|s| {
        s.diff_lines.insert("src/lib.rs".into(), vec![2]);
    });
    let (p, _) = publishing(&m, &gl);
    publish(&p);
    let (notes, discussions) = gl.with(|s| (s.notes.clone(), s.discussions.clone()));
    let bodies: Vec<&str> = notes
        .iter()
        .map(|n| n.2.as_str())
        .chain(discussions.iter().map(|d| d.1.as_str()))
        .collect();
    assert_eq!(bodies.len(), 2, "the note and the finding's discussion");
    for body in &bodies {
        for line in body.lines() {
            let mut c = line.chars();
            assert!(
                !(c.next() == Some('/') && c.next().is_some_and(|c| c.is_ascii_alphabetic())),
                "a quick action: {line:?} in {body}"
            );
        }
    }
    assert!(bodies.iter().any(|b| b.contains("\u{200B}/")), "{bodies:?}");
    let discussion = &discussions[0].1;
    assert!(!discussion.contains("suggestion"), "{discussion}");
    assert!(discussion.contains("fn named() {}"), "{discussion}");
}

/// A GitLab note hook's `/bsu` command: honoured from Developer access up
/// (asked of GitLab), never from the merge request's author for a
/// dismissal; `/bsu dismiss` marks the finding in the sticky note's ledger.
#[test]
fn note_commands_are_checked_against_access_levels() {
    let m = one_finding();
    let gl = GitLab::start();
    gl.with(|s| {
        s.members.insert(5, 30);
        s.members.insert(6, 20);
    });
    let (p, _) = publishing(&m, &gl);
    let out = p
        .bsu()
        .args(["run", "--publish", "gitlab", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = r["ledger"]["findings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = m.requests().len();
    refused(&gl, &p, &id);
    a_developer_dismisses(&gl, &p, &id);
    assert_eq!(m.requests().len(), sent, "no agent is asked");
    a_developers_run(&gl, &p);
}

/// A GitLab note hook: `user` wrote `text` on merge request !7, whose
/// author is user 9.
fn note(user: u64, text: &str) -> String {
    serde_json::json!({"object_kind": "note", "user": {"id": user, "username": format!("u{user}")},
        "object_attributes": {"note": text, "noteable_type": "MergeRequest"},
        "merge_request": {"iid": 7, "author_id": 9}, "project": {"id": 42}})
    .to_string()
}

/// `bsu run` on the note hook `payload`: its exit code and stderr.
fn on_note(p: &Project, payload: String) -> (Option<i32>, String) {
    std::fs::write(p.path().join("note.json"), payload).unwrap();
    let out = p
        .bsu()
        .args(["run", "--payload", "note.json"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Dismissals of finding `id` that are not commands or are refused: bsu's
/// own note, a reporter, someone outside the project, the author, and a
/// hook that names no author.
fn refused(gl: &GitLab, p: &Project, id: &str) {
    // bsu's own note (its token's user, a maintainer) quoting a command a
    // model wrote: never a command.
    gl.with(|s| {
        s.members.insert(1, 40);
    });
    let (code, stderr) = on_note(p, note(1, &format!("  /bsu dismiss {id}")));
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("the note is bsu's own (its token's user)"),
        "{stderr}"
    );
    // A reporter, then someone outside the project, then the author: refused.
    let (code, stderr) = on_note(p, note(6, &format!("/bsu dismiss {id} fine")));
    assert_eq!(code, Some(0));
    assert!(stderr.contains("access level 20"), "{stderr}");
    let (_, stderr) = on_note(p, note(8, &format!("/bsu dismiss {id}")));
    assert!(stderr.contains("not a member"), "{stderr}");
    let mut by_author: Value =
        serde_json::from_str(&note(5, &format!("/bsu dismiss {id}"))).unwrap();
    by_author["merge_request"]["author_id"] = serde_json::json!(5);
    let (_, stderr) = on_note(p, by_author.to_string());
    assert!(stderr.contains("author"), "{stderr}");
    // A hook that names no author could be the author's own: refused too.
    by_author["merge_request"]
        .as_object_mut()
        .unwrap()
        .remove("author_id");
    by_author["user"]["id"] = serde_json::json!(5);
    let (_, stderr) = on_note(p, by_author.to_string());
    assert!(stderr.contains("cannot dismiss"), "{stderr}");
    assert!(!gl.with(|s| s.notes[0].2.contains("\"state\":\"dismissed\"")));
}

/// A developer dismisses it: the note's ledger says so; no agent is asked.
fn a_developer_dismisses(gl: &GitLab, p: &Project, id: &str) {
    let (code, stderr) = on_note(p, note(5, &format!("/bsu dismiss {id} a false alarm")));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("dismissed by u5 on merge request !7"),
        "{stderr}"
    );
    let body = gl.with(|s| s.notes[0].2.clone());
    assert!(body.contains("\"state\":\"dismissed\""), "{body}");
    assert!(body.contains("`/bsu dismiss"), "{body}");
}

/// A developer's `/bsu run`: the merge request as GitLab has it, its
/// diff_refs the range.
fn a_developers_run(gl: &GitLab, p: &Project) {
    let (base, head) = (
        git(p.path(), &["rev-parse", "HEAD~1"]),
        git(p.path(), &["rev-parse", "HEAD"]),
    );
    gl.with(|s| s.diff_refs = Some((base.clone(), head.clone())));
    std::fs::write(
        p.path().join("note.json"),
        note(5, "/bsu run pull_request.opened"),
    )
    .unwrap();
    let out = p
        .bsu()
        .args(["run", "--payload", "note.json", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["event"], "pull_request.opened");
    let source = &r["inputs"][0]["source"];
    assert_eq!(
        (source["base"].as_str(), source["head"].as_str()),
        (Some(base.as_str()), Some(head.as_str()))
    );
    assert_eq!(r["subject"]["number"], 7);
}
