//! bsu's own review threads of findings now closed, through GitHub's
//! GraphQL API: a fixed finding's thread gets a one-line reply naming the
//! commit and is resolved; an outdated one's comment is minimized as
//! outdated. Each is closed once (the ledger's `closed`), and only threads
//! whose first comment bsu's own identity wrote and that carry the id.

use serde_json::{json, Value};

use super::client::{Api, ApiError};
use crate::ledger::{Ledger, State};

const THREADS: &str = "query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) {
    reviewThreads(first: 100, after: $cursor) {
      nodes { id isResolved comments(first: 1) { nodes { id body author { login } } } }
      pageInfo { hasNextPage endCursor } } } } }";
const REPLY: &str = "mutation($thread: ID!, $body: String!) {
  addPullRequestReviewThreadReply(input: {pullRequestReviewThreadId: $thread, body: $body}) { comment { id } } }";
const RESOLVE: &str = "mutation($thread: ID!) {
  resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } } }";
const MINIMIZE: &str = "mutation($comment: ID!) {
  minimizeComment(input: {subjectId: $comment, classifier: OUTDATED}) { minimizedComment { isMinimized } } }";

/// Pages of review threads read at most.
const MAX_PAGES: usize = 10;

/// One review thread: its id, whether it is resolved, and its first comment.
struct Thread {
    id: String,
    resolved: bool,
    comment: String,
    body: String,
    author: String,
}

/// Close the threads of findings fixed or outdated since they were posted;
/// what was done, for the review step's detail (`None`: nothing to do).
pub(crate) async fn close(
    api: &Api,
    repository: &str,
    number: u64,
    ledger: &mut Ledger,
    me: &str,
) -> Option<Result<String, String>> {
    let due = ledger.findings.iter().any(|e| {
        e.review.is_some() && !e.closed && matches!(e.state, State::Fixed | State::Outdated)
    });
    if !due {
        return None;
    }
    let threads = match threads(api, repository, number).await {
        Ok(t) => t,
        Err(e) => {
            return Some(Err(format!(
                "could not read the review threads ({})",
                e.message
            )))
        }
    };
    let head = ledger.head.clone().unwrap_or_default();
    let short: String = head.chars().take(12).collect();
    let (mut resolved, mut minimized) = (0, 0);
    for e in &mut ledger.findings {
        if e.review.is_none() || e.closed || !matches!(e.state, State::Fixed | State::Outdated) {
            continue;
        }
        let mark = format!("id `{}`", e.id);
        let mine = |t: &&Thread| {
            t.body.contains(&mark) && (t.author == me || format!("{}[bot]", t.author) == me)
        };
        let Some(t) = threads.iter().find(mine) else {
            // Its thread is gone (deleted by a person): nothing to close.
            e.closed = true;
            continue;
        };
        let done = match e.state {
            State::Fixed if t.resolved => Ok(()),
            State::Fixed => {
                let body = format!("Fixed in `{short}` — bsu");
                let reply = api
                    .graphql(REPLY, json!({"thread": t.id, "body": body}))
                    .await;
                match reply {
                    Ok(_) => api
                        .graphql(RESOLVE, json!({"thread": t.id}))
                        .await
                        .map(|_| resolved += 1),
                    Err(e) => Err(e),
                }
            }
            _ => api
                .graphql(MINIMIZE, json!({"comment": t.comment}))
                .await
                .map(|_| minimized += 1),
        };
        match done {
            Ok(()) => e.closed = true,
            Err(err) => {
                return Some(Err(format!(
                    "could not close the thread of {} ({})",
                    e.id, err.message
                )))
            }
        }
    }
    Some(Ok(format!(
        "resolved {resolved} thread{} of fixed findings, minimized {minimized} outdated",
        if resolved == 1 { "" } else { "s" }
    )))
}

async fn threads(api: &Api, repository: &str, number: u64) -> Result<Vec<Thread>, ApiError> {
    let (owner, name) = repository.split_once('/').unwrap_or((repository, ""));
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let vars = json!({"owner": owner, "name": name, "number": number, "cursor": cursor});
        let data = api.graphql(THREADS, vars).await?;
        let page = &data["repository"]["pullRequest"]["reviewThreads"];
        for n in page["nodes"].as_array().map_or(&[][..], Vec::as_slice) {
            let first = &n["comments"]["nodes"][0];
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            out.push(Thread {
                id: text(&n["id"]),
                resolved: n["isResolved"].as_bool().unwrap_or(false),
                comment: text(&first["id"]),
                body: text(&first["body"]),
                author: text(&first["author"]["login"]),
            });
        }
        if page["pageInfo"]["hasNextPage"].as_bool() != Some(true) {
            break;
        }
        cursor = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    Ok(out)
}
