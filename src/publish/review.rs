//! The review step of publishing to GitHub, one voice per pull request: a
//! review is posted only when there is something new to say on a line (or
//! the decision newly asks for changes); a finding already commented on is
//! never posted again; bsu's earlier review asking for changes is dismissed
//! once the decision no longer does, so GitHub's state matches the sticky
//! comment. What was posted goes into the ledger.

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{Api, ApiError};
use super::{GithubTarget, Step, StepStatus};
use crate::config::publish::ReviewState;
use crate::ledger::{LastReview, Ledger, State};
use crate::report::Report;
use crate::vocab::Action;

/// What the review step did, for the sticky comment to say.
#[derive(Debug, Default)]
pub(crate) struct Said {
    /// Set when bsu's earlier review asking for changes could not be
    /// dismissed: why, and how to clear it.
    pub stale: Option<String>,
    /// The ids of the findings on the lines: commented now or on an earlier
    /// push (the sticky comment lists the rest folded by severity).
    pub inline: std::collections::HashSet<String>,
}

/// The review's state for a decision (`None` for a dry run: no review).
fn review_state(
    action: Action,
    states: &crate::config::publish::ReviewStates,
) -> Option<ReviewState> {
    Some(match action {
        Action::Block => states.block,
        Action::RequestChanges => states.request_changes,
        Action::ManualReview => states.manual_review,
        Action::Approve => states.approve,
        Action::DryRun => return None,
    })
}

/// Post the review for `r` on pull request `number`, updating `ledger`.
pub(crate) async fn review(
    api: &Api,
    repo: &str,
    number: u64,
    r: &Report,
    target: &GithubTarget,
    mut ledger: Option<&mut Ledger>,
) -> (Step, Said) {
    let Some(event) = review_state(r.decision.action, &target.settings.review_states) else {
        return (
            Step::skipped("a dry run publishes nothing"),
            Said::default(),
        );
    };
    let asks = event == ReviewState::RequestChanges;
    let mut said = Said::default();
    let mut notes = Vec::new();
    if let Some(l) = ledger.as_deref_mut() {
        match dismiss_stale(api, repo, number, r, l, asks).await {
            Some(Ok(note)) => notes.push(note),
            Some(Err(why)) => {
                notes.push(why.clone());
                said.stale = Some(why);
            }
            None => {}
        }
    }
    let (inline, rest) = super::inline::review_comments(r, &target.settings.noise);
    said.inline = inline.iter().filter_map(|(id, _)| id.clone()).collect();
    let fresh = not_yet_posted(inline, ledger.as_deref());
    let already_asking = ledger
        .as_deref()
        .and_then(|l| l.review.as_ref())
        .is_some_and(|p| p.requested_changes);
    let first = ledger.as_deref().is_none_or(|l| l.review.is_none());
    // Post when there is something new on a line, when the decision newly
    // asks for changes, or the first time.
    let newly_asking = asks && !already_asking;
    if fresh.is_empty() && !newly_asking && !first {
        let mut detail = "nothing new to say on a line: no review posted".to_string();
        for n in &notes {
            detail = format!("{detail}; {n}");
        }
        let status = if said.stale.is_some() {
            StepStatus::Failed
        } else {
            StepStatus::Skipped
        };
        return (Step::done(status, None, Some(detail)), said);
    }
    let step = post(api, repo, number, r, event, &fresh, &rest).await;
    if step.1.is_none() {
        // Not posted: nothing new is on a line.
        said.inline
            .retain(|id| !fresh.iter().any(|(f, _)| f.as_ref() == Some(id)));
    }
    if let (Some(l), Some(id)) = (ledger, step.1) {
        l.review = Some(LastReview {
            id,
            requested_changes: asks,
        });
        for (fid, _) in &fresh {
            if let Some(e) = l.findings.iter_mut().find(|e| Some(&e.id) == fid.as_ref()) {
                e.review = Some(id);
            }
        }
    }
    let mut step = step.0;
    if !notes.is_empty() {
        let d = step.detail.take().unwrap_or_default();
        step.detail = Some(format!("{d}; {}", notes.join("; ")));
        if said.stale.is_some() {
            step.status = StepStatus::Failed;
        }
    }
    (step, said)
}

/// bsu's earlier review asked for changes and the decision no longer does:
/// dismiss it. `Some(Ok(note))` when done, `Some(Err(why))` when GitHub
/// refused (the review still stands), `None` when there was nothing to do.
async fn dismiss_stale(
    api: &Api,
    repo: &str,
    number: u64,
    r: &Report,
    l: &mut Ledger,
    asks: bool,
) -> Option<Result<String, String>> {
    let prev = l.review.clone().filter(|p| p.requested_changes && !asks)?;
    Some(match dismiss(api, repo, number, prev.id, r).await {
        Ok(()) => {
            l.review = Some(LastReview {
                id: prev.id,
                requested_changes: false,
            });
            Ok(format!(
                "dismissed the earlier review {} that asked for changes",
                prev.id
            ))
        }
        Err(e) => Err(format!(
            "bsu's earlier review asking for changes still stands: GitHub refused to \
             dismiss it ({}). On a protected branch only administrators or the people \
             it names may dismiss reviews: dismiss it by hand, or publish reviews as \
             COMMENT ([publish.github.review_states]) and require the check instead",
            e.message
        )),
    })
}

/// The inline comments whose findings the ledger has not seen posted and
/// that still count.
fn not_yet_posted(
    inline: Vec<(Option<String>, Value)>,
    ledger: Option<&Ledger>,
) -> Vec<(Option<String>, Value)> {
    inline
        .into_iter()
        .filter(|(id, _)| match (ledger, id) {
            (Some(l), Some(id)) => l
                .findings
                .iter()
                .find(|e| &e.id == id)
                .is_none_or(|e| e.review.is_none() && e.state == State::Open),
            _ => true,
        })
        .collect()
}

/// `PUT …/reviews/{id}/dismissals`.
async fn dismiss(api: &Api, repo: &str, number: u64, id: u64, r: &Report) -> Result<(), ApiError> {
    let body = json!({
        "message": format!("bsu: the decision is now {} — {}", r.decision.action,
            crate::text::one_line(&r.decision.reason, 200)),
        "event": "DISMISS",
    });
    api.send(
        Method::PUT,
        &format!("{repo}/pulls/{number}/reviews/{id}/dismissals"),
        Some(&body),
    )
    .await
    .map(|_| ())
}

/// Post the review; the step and the review's id.
async fn post(
    api: &Api,
    repo: &str,
    number: u64,
    r: &Report,
    event: ReviewState,
    inline: &[(Option<String>, Value)],
    rest: &[crate::report::findings::Merged],
) -> (Step, Option<u64>) {
    let comments: Vec<&Value> = inline.iter().map(|(_, c)| c).collect();
    let path = format!("{repo}/pulls/{number}/reviews");
    let mut body = json!({
        "event": event.as_str(),
        "body": super::inline::review_body(r, rest, None),
        "comments": comments,
    });
    if let Some(sha) = &r.subject.head_sha {
        body["commit_id"] = json!(sha);
    }
    let n = inline.len();
    match api.send(Method::POST, &path, Some(&body)).await {
        Ok(resp) => (
            Step::done(
                StepStatus::Created,
                super::github::url(&resp.body),
                Some(format!(
                    "{} ({n} new inline comment{})",
                    event.as_str(),
                    if n == 1 { "" } else { "s" }
                )),
            ),
            resp.body["id"].as_u64(),
        ),
        // GitHub refuses the whole review when one line is not in its diff:
        // send it again with every finding in the body.
        Err(e) if e.status == Some(422) && n > 0 => {
            let all = crate::report::findings::merged_findings(r);
            body["comments"] = json!([]);
            body["body"] = json!(super::inline::review_body(
                r,
                &all,
                Some("GitHub did not take the findings as line comments, so they are listed here."),
            ));
            match api.send(Method::POST, &path, Some(&body)).await {
                Ok(resp) => (
                    Step::done(
                        StepStatus::Created,
                        super::github::url(&resp.body),
                        Some(format!(
                            "{}; GitHub rejected the line comments ({}), findings in the body",
                            event.as_str(),
                            e.message
                        )),
                    ),
                    resp.body["id"].as_u64(),
                ),
                Err(e) => (super::github::failed(&e), None),
            }
        }
        Err(e) => (super::github::failed(&e), None),
    }
}
