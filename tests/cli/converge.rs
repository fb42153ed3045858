//! Reviews that converge: one pull request driven through opened →
//! synchronize (a finding fixed) → synchronize (a new finding) → `/bsu
//! dismiss` → synchronize (a force-push), against the GitHub fake, on a
//! real repository. One sticky comment, each finding commented on once, a
//! blocker on an untouched file still blocking, the stale review dismissed,
//! dismissed findings never counted again, suppressions from the base only.

use serde_json::{json, Value};

use crate::fake::{Fake, Reply, Request};
use crate::github::GitHub;
use crate::inputs::git;
use crate::support::Project;

const TOKEN: &str = "ghs_TESTTOKEN_0123456789abcdefXYZ";

const EVENTS: &str = r#"
[inputs.diff]
kind = "git_diff"

[events."pull_request.*"]
agents = ["a"]
inputs = ["diff"]
"#;

fn commit(p: &Project, files: &[(&str, &str)], message: &str) -> String {
    let d = p.path();
    for (path, text) in files {
        let path = d.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", message]);
    git(d, &["rev-parse", "HEAD"])
}

fn push(p: &Project, action: &str, base: &str, head: &str) -> (i32, String) {
    let payload = json!({"action": action, "number": 7,
        "pull_request": {"number": 7, "title": "Demo", "html_url": "https://github.test/o/r/pull/7",
                         "base": {"sha": base}, "head": {"sha": head}},
        "repository": {"full_name": "o/r"}});
    std::fs::write(p.path().join(".event.json"), payload.to_string()).unwrap();
    let event = format!("pull_request.{action}");
    let (code, _, stderr) = p.run(&[
        "run",
        &event,
        "--payload",
        ".event.json",
        "--publish",
        "github",
        "--fail-on",
        "block",
        "--no-cache",
    ]);
    (code, stderr)
}

/// An empty repository for the project, publishing to `gh`.
fn repository(gh: &GitHub, models: &Fake) -> Project {
    let p = Project::with_agents(EVENTS, &["a"])
        .serve(models)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", &gh.api_url())
        .file(".gitignore", ".event.json\n.home/\n.state/\nreports/\n");
    git(p.path(), &["init", "-q", "-b", "main"]);
    p
}

fn reply(v: Value) -> Reply {
    Reply::content(&v.to_string())
}

/// The id the ledger gave the finding titled `title`.
fn id_of(report: &Value, title: &str) -> String {
    report["ledger"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title)
        .unwrap_or_else(|| panic!("no {title:?} in {}", report["ledger"]))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn state_of(report: &Value, id: &str) -> String {
    report["ledger"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_string()
}

fn unsafe_finding() -> Value {
    json!({"severity": "critical", "title": "Unsafe block", "detail": "why unsafe?",
           "file": "src/b.rs", "line": 2})
}

#[test]
fn one_pull_request_converges_across_pushes() {
    let pr = Pr::new();
    let (unsafe_id, secret_id) = opened(&pr);
    a_finding_fixed(&pr, &unsafe_id, &secret_id);
    let magic_id = a_new_finding_the_pr_suppresses(&pr);
    dismissed_by_another_member(&pr, &unsafe_id);
    force_pushed(&pr, &unsafe_id, &magic_id);
}

/// One pull request across its pushes: the GitHub fake it publishes to,
/// its models, its repository and the base commit.
struct Pr {
    gh: GitHub,
    models: Fake,
    p: Project,
    base: String,
}

impl Pr {
    fn new() -> Pr {
        let gh = GitHub::start();
        gh.with(|s| {
            for f in ["src/a.rs", "src/b.rs", "src/c.rs"] {
                s.diff_lines.insert(f.into(), (1..=6).collect());
            }
        });
        let models = Fake::start(|_| Reply::verdict("approve", 9));
        let p = repository(&gh, &models);
        let base = commit(
            &p,
            &[("src/a.rs", "fn a() {}\n"), ("src/b.rs", "fn b() {}\n")],
            "base",
        );
        Pr {
            gh,
            models,
            p,
            base,
        }
    }

    fn parts(&self) -> (&GitHub, &Fake, &Project, &str) {
        (&self.gh, &self.models, &self.p, &self.base)
    }
}

/// Opened: a critical finding on b.rs, a high one on a.rs.
fn opened(pr: &Pr) -> (String, String) {
    let (gh, models, p, base) = pr.parts();
    let head1 = commit(
        p,
        &[
            ("src/a.rs", "fn a() {}\nlet key = \"hunter2\";\n"),
            ("src/b.rs", "fn b() {}\nunsafe { go() }\n"),
        ],
        "push 1",
    );
    models.set_script(|_| {
        reply(json!({"decision": "request_changes", "findings": [
            unsafe_finding(),
            {"severity": "high", "title": "Hardcoded secret", "file": "src/a.rs", "line": 2}]}))
    });
    let (code, stderr) = push(p, "opened", base, &head1);
    assert_eq!(code, 3, "a critical finding blocks: {stderr}");
    let r1 = p.latest();
    let unsafe_id = id_of(&r1, "Unsafe block");
    let secret_id = id_of(&r1, "Hardcoded secret");
    assert_eq!(r1["ledger"]["counts"]["new"], 2);
    let (comments, reviews) = gh.with(|s| (s.comments.clone(), s.reviews.clone()));
    assert_eq!(comments.len(), 1);
    assert!(comments[0].1.contains("<!-- bsu:ledger v1 "));
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["event"], "REQUEST_CHANGES");
    assert_eq!(reviews[0]["comments"].as_array().unwrap().len(), 2);
    let body = reviews[0]["comments"][0]["body"].as_str().unwrap();
    assert!(body.contains("· id `"), "{body}");
    // The id is in every format that lists findings.
    assert!(p
        .read("reports/latest.md")
        .contains(&format!("· id `{unsafe_id}`")));
    let (code, sarif, _) = p.run(&["report", "reports/latest.json", "--format", "sarif"]);
    assert_eq!(code, 0);
    assert!(
        sarif.contains(&format!("\"bsuFindingId/v1\": \"{unsafe_id}\"")),
        "{sarif}"
    );
    (unsafe_id, secret_id)
}

/// Synchronize: a.rs fixed; b.rs untouched. Incremental: only a.rs is
/// shown; the agent marks the secret resolved. The blocker still blocks.
fn a_finding_fixed(pr: &Pr, unsafe_id: &str, secret_id: &str) {
    let (gh, models, p, base) = pr.parts();
    let head2 = commit(p, &[("src/a.rs", "fn a() {}\n")], "push 2: drop the key");
    let sid = secret_id.to_string();
    models.set_script(move |r: &Request| {
        assert!(r.system().contains(&sid), "the open findings are shown");
        reply(json!({"decision": "approve", "resolved": [sid.clone()]}))
    });
    let (code, stderr) = push(p, "synchronize", base, &head2);
    assert_eq!(code, 3, "the untouched blocker still blocks: {stderr}");
    let sent = models.requests().last().unwrap().system();
    assert!(
        sent.contains("src/a.rs") && !sent.contains("unsafe { go() }"),
        "incremental: only what changed since the last review\n{sent}"
    );
    let r2 = p.latest();
    assert!(
        r2["inputs"][0]["source"]["resolved_by"]
            .as_str()
            .unwrap()
            .contains("incremental: the 1 file changed since"),
        "{}",
        r2["inputs"][0]
    );
    assert_eq!(state_of(&r2, secret_id), "fixed");
    assert_eq!(state_of(&r2, unsafe_id), "open");
    assert_eq!(r2["decision"]["action"], "block");
    assert!(
        r2["decision"]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("earlier finding {unsafe_id}")),
        "{}",
        r2["decision"]
    );
    let (comments, reviews) = gh.with(|s| (s.comments.len(), s.reviews.len()));
    assert_eq!(
        (comments, reviews),
        (1, 1),
        "nothing new on a line: no review"
    );
    // The fixed finding's thread: a reply naming the commit, then resolved.
    let (resolved, replies) = gh.with(|s| (s.resolved_threads.clone(), s.thread_replies.clone()));
    assert_eq!(resolved.len(), 1, "{replies:?}");
    assert_eq!(replies[0].0, resolved[0]);
    assert_eq!(replies[0].1, format!("Fixed in `{}` — bsu", &head2[..12]));
}

/// Synchronize: a new file with a new finding, and a suppression the
/// pull request adds for it — which does not count: only the base's do.
fn a_new_finding_the_pr_suppresses(pr: &Pr) -> String {
    let (gh, models, p, base) = pr.parts();
    let head3 = commit(
        p,
        &[
            ("src/c.rs", "const N: u32 = 42;\n"),
            (
                ".bsu/suppressions.toml",
                "[[suppress]]\npath = \"src/**\"\nreason = \"the PR says so\"\n",
            ),
        ],
        "push 3",
    );
    models.set_script(|_| {
        reply(json!({"decision": "comment", "findings": [
            {"severity": "medium", "title": "Magic number", "file": "src/c.rs", "line": 1}]}))
    });
    let (code, stderr) = push(p, "synchronize", base, &head3);
    assert_eq!(code, 3, "{stderr}");
    let r3 = p.latest();
    let magic_id = id_of(&r3, "Magic number");
    assert_eq!(
        state_of(&r3, &magic_id),
        "open",
        "not suppressed by the PR itself"
    );
    let reviews = gh.with(|s| s.reviews.clone());
    assert_eq!(reviews.len(), 2, "a review for the new finding only");
    let inline = reviews[1]["comments"].as_array().unwrap();
    assert_eq!(inline.len(), 1);
    assert_eq!(inline[0]["path"], "src/c.rs");
    magic_id
}

/// `/bsu dismiss` of the blocker: never by the pull request's own
/// author (even a member), then by another member.
fn dismissed_by_another_member(pr: &Pr, unsafe_id: &str) {
    let (gh, models, p, _) = pr.parts();
    let dismiss = |login: &str| {
        let comment = json!({"action": "created",
            "issue": {"number": 7, "pull_request": {"url": "x"}, "user": {"login": "dev"}},
            "comment": {"body": format!("/bsu dismiss {unsafe_id} we need it"),
                        "author_association": "MEMBER", "user": {"login": login}},
            "repository": {"full_name": "o/r"}});
        std::fs::write(p.path().join(".event.json"), comment.to_string()).unwrap();
        let out = p
            .bsu()
            .args(["run"])
            .env("GITHUB_EVENT_NAME", "issue_comment")
            .env("GITHUB_EVENT_PATH", p.path().join(".event.json"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let before = models.count();
    let sticky_before = gh.with(|s| s.comments[0].1.clone());
    let (code, stderr) = dismiss("dev");
    assert_eq!(code, 0);
    assert!(
        stderr.contains("the pull request's author (or an unnamed one) cannot dismiss"),
        "{stderr}"
    );
    assert_eq!(
        gh.with(|s| s.comments[0].1.clone()),
        sticky_before,
        "nothing dismissed"
    );
    let (code, stderr) = dismiss("maint");
    let stderr_ok = stderr.contains(&format!("bsu: finding {unsafe_id} dismissed by maint"));
    assert!(code == 0 && stderr_ok, "{code}: {stderr}");
    assert_eq!(models.count(), before, "no agent called");
    let sticky = gh.with(|s| s.comments[0].1.clone());
    assert!(
        sticky.contains(&format!(
            "`/bsu dismiss {unsafe_id}` by @\u{200b}maint: we need it"
        )),
        "{sticky}"
    );
}

/// A force-push: a full review. The agent raises the blocker again:
/// dismissed, it does not count; the stale review is dismissed.
fn force_pushed(pr: &Pr, unsafe_id: &str, magic_id: &str) {
    let (gh, models, p, base) = pr.parts();
    git(p.path(), &["reset", "-q", "--hard", base]);
    let head4 = commit(
        p,
        &[
            ("src/b.rs", "fn b() {}\nunsafe { go() }\n"),
            ("src/c.rs", "const N: u32 = 7;\n"),
        ],
        "push 4, rewritten",
    );
    models.set_script(|_| reply(json!({"decision": "comment", "findings": [unsafe_finding()]})));
    let (code, stderr) = push(p, "synchronize", base, &head4);
    let r4 = p.latest();
    assert_eq!(code, 0, "{stderr}\n{}", r4["decision"]);
    assert!(
        r4["inputs"][0]["source"]["resolved_by"]
            .as_str()
            .unwrap()
            .contains("full review: the head last reviewed"),
        "{}",
        r4["inputs"][0]
    );
    assert!(models
        .requests()
        .last()
        .unwrap()
        .system()
        .contains("unsafe { go() }"));
    assert_eq!(state_of(&r4, unsafe_id), "dismissed");
    assert_ne!(r4["decision"]["action"], "block");
    let (comments, reviews, dismissals, checks) = gh.with(|s| {
        (
            s.comments.len(),
            s.reviews.len(),
            s.dismissals.clone(),
            s.check_runs.clone(),
        )
    });
    assert_eq!(comments, 1, "one sticky comment throughout");
    assert_eq!(reviews, 2, "the blocker was commented on once, never again");
    assert_eq!(dismissals.len(), 1, "the stale REQUEST_CHANGES review");
    let names: Vec<&Value> = checks.iter().map(|c| &c["name"]).collect();
    assert_eq!(names, vec![&json!("bsu / pull_request.*"); 4]);
    let conclusions: Vec<&Value> = checks.iter().map(|c| &c["conclusion"]).collect();
    assert_eq!(
        conclusions,
        [
            &json!("failure"),
            &json!("failure"),
            &json!("failure"),
            &json!("success")
        ]
    );
    // The magic number's line reads otherwise now: outdated, not open, and
    // its comment minimized as such; the resolved thread is not touched again.
    assert_eq!(state_of(&r4, magic_id), "outdated");
    let (minimized, resolved) = gh.with(|s| (s.minimized.clone(), s.resolved_threads.len()));
    assert_eq!(minimized.len(), 1);
    assert_eq!(minimized[0].1, "OUTDATED");
    assert_eq!(resolved, 1);
    assert_eq!(r4["decision"]["action"], "approve");
}

#[test]
fn suppressions_come_from_the_base_branch() {
    let models = Fake::start(|_| {
        reply(json!({"decision": "comment", "findings": [
            {"severity": "critical", "title": "Generated mess", "file": "gen/x.rs", "line": 1}]}))
    });
    let p = Project::with_agents(EVENTS, &["a"])
        .serve(&models)
        .file(".gitignore", ".event.json\n.home/\n.state/\nreports/\n");
    git(p.path(), &["init", "-q", "-b", "main"]);
    let base = commit(
        &p,
        &[(
            ".bsu/suppressions.toml",
            "[[suppress]]\npath = \"gen/**\"\ntitle = \"generated\"\nreason = \"generated code\"\n",
        )],
        "base",
    );
    let head = commit(&p, &[("gen/x.rs", "// made by a tool\n")], "change");
    let (code, _, stderr) = p.run(&[
        "run",
        "pull_request.opened",
        "--base",
        &base,
        "--head",
        &head,
    ]);
    assert_eq!(
        code, 0,
        "suppressed by the base: it does not block\n{stderr}"
    );
    let r = p.latest();
    let f = &r["ledger"]["findings"][0];
    assert_eq!(f["state"], "dismissed");
    assert_eq!(
        f["why"],
        "suppressed (.bsu/suppressions.toml): generated code"
    );
    assert_eq!(r["ledger"]["counts"]["dismissed"], 1);
}

/// The figure in docs/BENCHMARKS.md: a 20-file pull request, then a push
/// changing one file. The incremental review sends the tokens of that file;
/// the same push reviewed in full (its head reviewed already) sends all 20.
#[test]
fn an_incremental_push_sends_a_fraction_of_a_full_reviews_tokens() {
    let gh = GitHub::start();
    let models = Fake::start(|_| Reply::verdict("approve", 9));
    let p = repository(&gh, &models);
    let base = commit(&p, &[("README.md", "demo\n")], "base");
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            let body: String = (0..40)
                .map(|l| format!("pub fn f{i}_{l}(x: u64) -> u64 {{ x * {l} + {i} }}\n"))
                .collect();
            (format!("src/m{i}.rs"), body)
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let head1 = commit(&p, &refs, "twenty files");
    assert_eq!(push(&p, "opened", &base, &head1).0, 0);
    let head2 = commit(&p, &[("src/m3.rs", "pub fn f3() {}\n")], "one file");
    let tokens = |p: &Project| {
        p.latest()["agents"][0]["inputs"]["input_tokens"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(push(&p, "synchronize", &base, &head2).0, 0);
    let incremental = tokens(&p);
    let saved = &p.latest()["ledger"]["saved"];
    assert_eq!(saved["files"], 19, "{saved}");
    // Estimated from bytes, it errs low against the count: never overclaimed.
    let estimate = saved["input_tokens"].as_u64().unwrap();
    assert!(estimate > 5_000, "{saved}");
    assert!(saved["usd"].as_f64().unwrap() > 0.0, "{saved}");
    let sticky = gh.with(|s| s.comments[0].1.clone());
    assert!(
        sticky.contains(
            "Incremental review: 19 files unchanged since the last review were not sent again, ≈ "
        ),
        "{sticky}"
    );
    // The same head again: reviewed in full.
    assert_eq!(push(&p, "synchronize", &base, &head2).0, 0);
    let full = tokens(&p);
    eprintln!("input tokens: incremental {incremental}, full {full}; saved, estimated {estimate}");
    assert!(
        estimate <= full,
        "the estimate never claims more than a full review sends"
    );
    assert!(incremental * 10 < full, "{incremental} vs {full}");
}
