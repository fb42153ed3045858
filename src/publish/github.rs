//! Publishing a report to GitHub: the sticky comment (found by its marker
//! across every page of comments, updated in place), the review (inline
//! comments on diff lines; if GitHub rejects a line, every finding goes in
//! the body), and the check run (annotations in batches of 50; a commit
//! status plus workflow commands where checks are not permitted).

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{Api, ApiError};
use super::render;
use super::{GithubTarget, Published, Step, StepStatus};
use crate::ledger::Ledger;
use crate::report::Report;
use crate::vocab::Action;

/// Annotations GitHub takes per check-run request.
const ANNOTATIONS_PER_REQUEST: usize = 50;
/// A check run's summary, in bytes (GitHub takes 65,535 characters).
const MAX_SUMMARY_BYTES: usize = 65_000;

/// Publish `r`; `print` receives workflow commands for stdout. Returns
/// what was done, and the ledger as it now stands (with the review that
/// carries each finding).
pub(crate) async fn publish(
    target: &GithubTarget,
    r: &Report,
    fail_on: Option<Action>,
    print: &(dyn Fn(&str) + Sync),
) -> (Published, Option<Ledger>) {
    let api = match target.api() {
        Ok(api) => api,
        Err(why) => {
            let s = Step::done(StepStatus::Failed, None, Some(why));
            let published = Published {
                comment: Some(s.clone()),
                review: Some(s.clone()),
                check: Some(s),
                webhook: None,
            };
            return (published, None);
        }
    };
    let repo = format!("/repos/{}", target.repository);
    let number = r
        .subject
        .number
        .filter(|_| r.subject.kind == "pull_request");
    let s = &target.settings;
    // The ledger travels in the sticky comment: without it there is none.
    let mut ledger = r
        .ledger
        .as_ref()
        .map(|l| l.ledger.clone())
        .filter(|_| s.comment && number.is_some());
    // The review first: what it posts goes into the ledger the comment carries.
    let (review, said) = match (s.review, number) {
        (false, _) => (
            Step::skipped("turned off ([publish.github] review = false)"),
            Default::default(),
        ),
        (true, None) => (
            Step::skipped("the payload names no pull request"),
            Default::default(),
        ),
        (true, Some(n)) => review_step(&api, &repo, n, r, target, ledger.as_mut()).await,
    };
    let comment = match (s.comment, number) {
        (false, _) => Step::skipped("turned off ([publish.github] comment = false)"),
        (true, None) => Step::skipped("the payload names no pull request"),
        (true, Some(n)) => {
            let extra = render::Extra {
                run_url: target.run_url.as_deref(),
                ledger: ledger.as_ref(),
                stale: said.stale.as_deref(),
                inline: &said.inline,
            };
            super::sticky::sticky(&api, &repo, n, r, &extra).await
        }
    };
    let check = check_step(&api, &repo, r, target, fail_on, print).await;
    let published = Published {
        comment: Some(comment),
        review: Some(review),
        check: Some(check),
        webhook: None,
    };
    (published, ledger)
}

/// The commit a check belongs on: the one the run reviewed. For a pull
/// request that is its head (from the payload, else asked of GitHub: an
/// issue comment's payload names none, and GITHUB_SHA is then the default
/// branch); never a commit the run did not review.
async fn check_sha(
    api: &Api,
    repo: &str,
    r: &Report,
    target: &GithubTarget,
) -> Result<String, NoCheck> {
    let reviewed = r.inputs.iter().find_map(|i| i.source.head.clone());
    if r.subject.kind != "pull_request" {
        return r
            .subject
            .head_sha
            .clone()
            .or(reviewed)
            .or_else(|| target.sha.clone())
            .ok_or_else(|| {
                "no commit to attach a check to (no head SHA and no GITHUB_SHA)".into()
            });
    }
    if let Some(sha) = r.subject.head_sha.clone().or(reviewed) {
        return Ok(sha);
    }
    let Some(n) = r.subject.number else {
        return Err(NoCheck(
            "the pull request's head commit is unknown: no check".into(),
        ));
    };
    match api
        .send(Method::GET, &format!("{repo}/pulls/{n}"), None)
        .await
    {
        Ok(resp) => resp.body["head"]["sha"]
            .as_str()
            .filter(|s| s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string)
            .ok_or_else(|| {
                NoCheck(format!(
                    "GitHub named no head commit for pull request #{n}: no check"
                ))
            }),
        Err(e) => Err(NoCheck(format!(
            "could not ask GitHub for pull request #{n}'s head commit ({}): no check, rather \
             than one on a commit the run did not review",
            e.message
        ))),
    }
}

/// Where check runs are not permitted: a commit status with the check's
/// conclusion, and the findings as workflow commands on stdout.
async fn status_instead(
    api: &Api,
    at: &CheckAt<'_>,
    r: &Report,
    conclusion: &str,
    e: &ApiError,
    print: &(dyn Fn(&str) + Sync),
) -> Step {
    let CheckAt {
        repo,
        sha,
        name: check_name,
        run_url,
    } = *at;
    for line in render::workflow_commands(r) {
        print(&line);
    }
    // A status has no neutral: only a decision at `--fail-on` fails it.
    let state = if conclusion == "failure" {
        "failure"
    } else {
        "success"
    };
    let mut status = json!({
        "state": state,
        "context": check_name,
        "description": crate::text::ellipsize(&format!("{}: {}", r.decision.action, crate::text::one_line(&r.decision.reason, 200)), 139),
    });
    if let Some(url) = run_url {
        status["target_url"] = json!(url);
    }
    match api
        .send(
            Method::POST,
            &format!("{repo}/statuses/{sha}"),
            Some(&status),
        )
        .await
    {
        Ok(resp) => Step::done(
            StepStatus::Created,
            url(&resp.body),
            Some(format!(
                "commit status {state} (check runs not permitted: {})",
                e.message
            )),
        ),
        Err(e2) => failed(&e2),
    }
}

/// Why no check is made, for the step's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct NoCheck(String);

impl From<&str> for NoCheck {
    fn from(why: &str) -> Self {
        NoCheck(why.to_string())
    }
}

/// Who the token is, so only bsu's own sticky comment is adopted: the
/// user's login (`GET /user`), else GitHub Actions' bot (an installation
/// token cannot read `/user`).
/// Asked once per client: the sticky comment and the review threads both need it.
pub(super) async fn identity(api: &Api) -> String {
    api.identity
        .get_or_init(|| async {
            match api.send(Method::GET, "/user", None).await {
                Ok(resp) => resp.body["login"]
                    .as_str()
                    .map_or_else(|| "github-actions[bot]".to_string(), str::to_string),
                Err(_) => "github-actions[bot]".to_string(),
            }
        })
        .await
        .clone()
}

pub(super) fn failed(e: &ApiError) -> Step {
    Step::done(StepStatus::Failed, None, Some(e.message.clone()))
}

pub(super) fn url(v: &Value) -> Option<String> {
    v["html_url"]
        .as_str()
        .map(str::to_string)
        .or_else(|| v["id"].as_u64().map(|id| id.to_string()))
}

/// The review, then the threads of findings closed since (resolved or
/// minimized), both told in the review step's detail.
async fn review_step(
    api: &Api,
    repo: &str,
    number: u64,
    r: &Report,
    target: &GithubTarget,
    mut ledger: Option<&mut Ledger>,
) -> (Step, super::review::Said) {
    let (mut step, said) =
        super::review::review(api, repo, number, r, target, ledger.as_deref_mut()).await;
    let Some(l) = ledger else {
        return (step, said);
    };
    let me = identity(api).await;
    let (note, failed) = match super::threads::close(api, &target.repository, number, l, &me).await
    {
        Some(Ok(note)) => (note, false),
        Some(Err(why)) => (why, true),
        None => return (step, said),
    };
    let d = step.detail.take().unwrap_or_default();
    step.detail = Some(if d.is_empty() {
        note
    } else {
        format!("{d}; {note}")
    });
    if failed {
        step.status = StepStatus::Failed;
    }
    (step, said)
}

/// The check step: on the commit the run reviewed, unless turned off.
async fn check_step(
    api: &Api,
    repo: &str,
    r: &Report,
    target: &GithubTarget,
    fail_on: Option<Action>,
    print: &(dyn Fn(&str) + Sync),
) -> Step {
    if !target.settings.check {
        return Step::skipped("turned off ([publish.github] check = false)");
    }
    match check_sha(api, repo, r, target).await {
        Err(why) => Step::skipped(&why.to_string()),
        Ok(sha) => {
            let at = CheckAt {
                repo,
                sha: &sha,
                name: &target.check_name,
                run_url: target.run_url.as_deref(),
            };
            check(api, &at, r, fail_on, print).await
        }
    }
}

/// Where a check goes: the repository, the commit, the check's name and
/// the workflow run it links to.
#[derive(Clone, Copy)]
struct CheckAt<'a> {
    repo: &'a str,
    sha: &'a str,
    name: &'a str,
    run_url: Option<&'a str>,
}

async fn check(
    api: &Api,
    at: &CheckAt<'_>,
    r: &Report,
    fail_on: Option<Action>,
    print: &(dyn Fn(&str) + Sync),
) -> Step {
    let conclusion = render::conclusion(r.decision.action, fail_on);
    let annotations = render::annotations(r);
    let mut batches = annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let title = format!("bsu: {}", r.decision.action);
    let summary = crate::text::ellipsize_bytes(
        &render::comment(r, &render::Extra::default()),
        MAX_SUMMARY_BYTES,
    );
    let mut first = json!({
        "name": at.name,
        "head_sha": at.sha,
        "status": "completed",
        "conclusion": conclusion,
        "output": {"title": title, "summary": summary, "annotations": batches.next().unwrap_or(&[])},
    });
    if let Some(url) = at.run_url {
        first["details_url"] = json!(url);
    }
    let repo = at.repo;
    match api
        .send(Method::POST, &format!("{repo}/check-runs"), Some(&first))
        .await
    {
        Ok(resp) => {
            let id = resp.body["id"].as_u64();
            for batch in batches {
                let Some(id) = id else { break };
                let more =
                    json!({"output": {"title": title, "summary": summary, "annotations": batch}});
                if let Err(e) = api
                    .send(
                        Method::PATCH,
                        &format!("{repo}/check-runs/{id}"),
                        Some(&more),
                    )
                    .await
                {
                    return failed(&e);
                }
            }
            Step::done(
                StepStatus::Created,
                url(&resp.body),
                Some(format!(
                    "{conclusion}, {} annotation{}",
                    annotations.len(),
                    if annotations.len() == 1 { "" } else { "s" }
                )),
            )
        }
        // No checks: write permission (a fork's token): a commit status, and
        // the findings as workflow commands, which Actions turns into
        // annotations. A rate limit that outlasted the retries is a failure,
        // not a refusal of permission.
        Err(e) if !e.rate_limited && matches!(e.status, Some(403 | 404)) => {
            status_instead(api, at, r, conclusion, &e, print).await
        }
        Err(e) => failed(&e),
    }
}

/// A run its strategy's filters skipped still posts its check, `skipped`
/// with the reason, so a required check never waits for ever.
pub(crate) async fn skipped_check(target: &GithubTarget, sha: &str, why: &str) -> Step {
    let api = match target.api() {
        Ok(api) => api,
        Err(why) => return Step::done(StepStatus::Failed, None, Some(why)),
    };
    let mut body = json!({
        "name": target.check_name,
        "head_sha": sha,
        "status": "completed",
        "conclusion": "skipped",
        "output": {"title": "bsu: skipped", "summary": crate::text::ellipsize_bytes(why, MAX_SUMMARY_BYTES)},
    });
    if let Some(url) = &target.run_url {
        body["details_url"] = json!(url);
    }
    let path = format!("/repos/{}/check-runs", target.repository);
    match api.send(Method::POST, &path, Some(&body)).await {
        Ok(resp) => Step::done(StepStatus::Created, url(&resp.body), Some("skipped".into())),
        Err(e) => failed(&e),
    }
}
