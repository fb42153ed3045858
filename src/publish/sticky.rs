//! The sticky comment on a pull request: one per strategy, bsu's own
//! (found by its marker, written by the token's identity), carrying the
//! ledger's hidden block; `/bsu dismiss` edits that block in place.

use reqwest::Method;
use serde_json::json;

use super::client::{Api, ApiError};
use super::github::{failed, identity, url};
use super::{render, GithubTarget, Step, StepStatus};
use crate::ledger::{block, Ledger};
use crate::report::Report;

/// Pages of comments read at most when looking for the sticky one.
const MAX_PAGES: u32 = 50;

/// bsu's own sticky comment of `strategy` on pull request `number`, with
/// its body: found by its marker on any page, written by the token's own
/// identity (a comment with the marker by anyone else is not bsu's: its
/// author could edit it back to a forged result or ledger).
async fn find_sticky(
    api: &Api,
    repo: &str,
    number: u64,
    strategy: &str,
) -> Result<Option<(u64, String)>, ApiError> {
    Ok(sticky_comments(api, repo, number, strategy).await?.0)
}

/// bsu's own sticky comment, and the login of someone else whose comment
/// carries the marker (a forgery or a copy: never adopted).
async fn sticky_comments(
    api: &Api,
    repo: &str,
    number: u64,
    strategy: &str,
) -> Result<(Option<(u64, String)>, Option<String>), ApiError> {
    let marker = render::marker(strategy);
    let me = identity(api).await;
    let mut foreign = None;
    for page in 1..=MAX_PAGES {
        let path = format!("{repo}/issues/{number}/comments?per_page=100&page={page}");
        let comments = api.send(Method::GET, &path, None).await?.body;
        let list = comments.as_array().cloned().unwrap_or_default();
        let mut found = None;
        for c in &list {
            let (Some(body), login) = (c["body"].as_str(), c["user"]["login"].as_str()) else {
                continue;
            };
            if !body.starts_with(&marker) {
                continue;
            }
            match (login == Some(me.as_str()), c["id"].as_u64()) {
                (true, Some(id)) => {
                    found = Some((id, body.to_string()));
                    break;
                }
                _ => foreign = foreign.or(login.map(|l| crate::text::one_line(l, 60))),
            }
        }
        if found.is_some() || list.len() < 100 {
            return Ok((found, foreign));
        }
    }
    Ok((None, foreign))
}

/// The ledger in bsu's sticky comment on the pull request: `Ok(None)` when
/// there is none yet; `Err` with why when it could not be read (it is then
/// not trusted).
pub(crate) async fn ledger(
    target: &GithubTarget,
    number: u64,
    strategy: &str,
) -> Result<Option<Ledger>, String> {
    let api = target.api()?;
    let repo = format!("/repos/{}", target.repository);
    let (own, foreign) = sticky_comments(&api, &repo, number, strategy)
        .await
        .map_err(|e| format!("could not read the pull request's comments ({})", e.message))?;
    let Some((_, body)) = own else {
        return match foreign {
            Some(who) => Err(format!(
                "a comment by {who} carries bsu's marker but is not bsu's own"
            )),
            None => Ok(None),
        };
    };
    match block::read(&body) {
        Ok(Some(l)) if l.strategy == strategy => Ok(Some(l)),
        Ok(Some(_)) => Err("the sticky comment's ledger names another strategy".into()),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("the sticky comment: {e}")),
    }
}

/// `/bsu dismiss`: mark finding `id` dismissed in the ledger of
/// `strategy`'s sticky comment on pull request `number`, and say so in the
/// comment. `Ok(false)` when that ledger has no such finding.
pub(crate) async fn dismiss(
    target: &GithubTarget,
    number: u64,
    strategy: &str,
    (id, by, reason): (&str, &str, &str),
) -> Result<bool, String> {
    let api = target.api()?;
    let repo = format!("/repos/{}", target.repository);
    let read = |e: ApiError| format!("could not read the pull request's comments ({})", e.message);
    let Some((comment, body)) = find_sticky(&api, &repo, number, strategy)
        .await
        .map_err(read)?
    else {
        return Ok(false);
    };
    let Some(new_body) =
        render::dismissed(&body, strategy, (id, by, reason), "the sticky comment")?
    else {
        return Ok(false);
    };
    api.send(
        Method::PATCH,
        &format!("{repo}/issues/comments/{comment}"),
        Some(&json!({"body": new_body})),
    )
    .await
    .map_err(|e| format!("could not update the sticky comment ({})", e.message))?;
    Ok(true)
}

pub(super) async fn sticky(
    api: &Api,
    repo: &str,
    number: u64,
    r: &Report,
    extra: &render::Extra<'_>,
) -> Step {
    let body = json!({"body": render::comment(r, extra)});
    let found = match find_sticky(api, repo, number, &r.strategy).await {
        Ok(found) => found.map(|(id, _)| id),
        Err(e) => return failed(&e),
    };
    let (method, path, status) = match found {
        Some(id) => (
            Method::PATCH,
            format!("{repo}/issues/comments/{id}"),
            StepStatus::Updated,
        ),
        None => (
            Method::POST,
            format!("{repo}/issues/{number}/comments"),
            StepStatus::Created,
        ),
    };
    match api.send(method, &path, Some(&body)).await {
        Ok(resp) => Step::done(status, url(&resp.body), None),
        Err(e) => failed(&e),
    }
}
