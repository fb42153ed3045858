//! Inline discussions on a merge request's changed lines: the findings the
//! noise budget puts on the lines, each once (the ledger remembers the note
//! that carries it), at GitLab's `position` from the merge request's
//! `diff_refs`; a position GitLab refuses leaves the finding in the sticky
//! note only. Discussions of findings since fixed are resolved.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use super::super::client::{Api, ApiError};
use super::GitlabTarget;
use crate::ledger::{Ledger, State};
use crate::report::Report;

/// What the step did.
#[derive(Debug, Default)]
pub(super) struct Said {
    pub posted: usize,
    /// Positions GitLab refused: those findings are in the note only.
    pub refused: usize,
    pub resolved: usize,
    /// The ids of the findings on the lines, now or from earlier pushes.
    pub on_lines: HashSet<String>,
}

pub(super) async fn discuss(
    api: &Api,
    target: &GitlabTarget,
    iid: u64,
    r: &Report,
    mut ledger: Option<&mut Ledger>,
) -> Result<Said, ApiError> {
    let mut said = Said::default();
    let mr = api.send(Method::GET, &target.mr(iid), None).await?.body;
    let refs = &mr["diff_refs"];
    let (Some(base), Some(start), Some(head)) = (
        refs["base_sha"].as_str(),
        refs["start_sha"].as_str(),
        refs["head_sha"].as_str(),
    ) else {
        return Ok(said);
    };
    let (inline, _) = super::super::inline::review_comments(r, &target.noise);
    for (id, c) in inline {
        let posted = id.as_ref().is_some_and(|id| {
            ledger.as_deref().is_some_and(|l| {
                l.findings
                    .iter()
                    .any(|e| &e.id == id && (e.review.is_some() || e.discussion.is_some()))
            })
        });
        if posted {
            said.on_lines.extend(id);
            continue;
        }
        let (Some(path), Some(line)) = (c["path"].as_str(), c["line"].as_u64()) else {
            continue;
        };
        let above = c["start_line"]
            .as_u64()
            .map_or(0, |s| line.saturating_sub(s));
        let body = json!({
            "body": gitlab_suggestion(c["body"].as_str().unwrap_or(""), above),
            "position": {
                "position_type": "text",
                "base_sha": base, "start_sha": start, "head_sha": head,
                "old_path": path, "new_path": path, "new_line": line,
            },
        });
        let path = format!("{}/discussions", target.mr(iid));
        match api.send(Method::POST, &path, Some(&body)).await {
            Ok(resp) => {
                said.posted += 1;
                record(ledger.as_deref_mut(), id.as_deref(), &resp.body);
                said.on_lines.extend(id);
            }
            // GitLab refuses a position it cannot place: the note lists it.
            Err(e) if matches!(e.status, Some(400 | 422)) => said.refused += 1,
            Err(e) => return Err(e),
        }
    }
    if let Some(l) = ledger {
        said.resolved = resolve_fixed(api, target, iid, l).await?;
    }
    Ok(said)
}

/// Remember the discussion that carries finding `id`.
fn record(ledger: Option<&mut Ledger>, id: Option<&str>, discussion: &Value) {
    let (Some(l), Some(id)) = (ledger, id) else {
        return;
    };
    if let Some(e) = l.findings.iter_mut().find(|e| e.id == id) {
        e.discussion = discussion["id"].as_str().map(str::to_string);
        e.review = discussion["notes"][0]["id"].as_u64();
    }
}

/// Resolve the discussions of findings fixed since: how many.
async fn resolve_fixed(
    api: &Api,
    target: &GitlabTarget,
    iid: u64,
    l: &mut Ledger,
) -> Result<usize, ApiError> {
    let mut resolved = 0;
    for e in l
        .findings
        .iter_mut()
        .filter(|e| e.state == State::Fixed && !e.closed)
    {
        // The id comes back from the note's ledger: only an id goes in a path.
        let Some(d) = e.discussion.clone().filter(|d| super::is_hex_id(d)) else {
            continue;
        };
        let path = format!("{}/discussions/{d}?resolved=true", target.mr(iid));
        api.send(Method::PUT, &path, None).await?;
        e.closed = true;
        resolved += 1;
    }
    Ok(resolved)
}

/// GitHub's one-click block (```` ```suggestion ````) in GitLab's syntax,
/// which says how many lines above the commented one it replaces
/// (```` ```suggestion:-N+0 ````).
pub(super) fn gitlab_suggestion(body: &str, above: u64) -> String {
    // The one-click block is the last thing before the footer.
    let Some(i) = body.rfind("suggestion\n") else {
        return body.to_string();
    };
    let fenced = body[..i].ends_with("```");
    if !fenced {
        return body.to_string();
    }
    // A replacement line GitLab would take for a quick action is made inert
    // when the note is sent, which would change the code the block puts in:
    // shown as plain code then, not offered as a one-click change.
    let block = &body[i + "suggestion\n".len()..];
    // Its lines run to the line of as many backticks as open it.
    let ticks = body[..i].len() - body[..i].trim_end_matches('`').len();
    let closing = |l: &str| l.len() >= ticks && l.trim_end().chars().all(|c| c == '`');
    let mut replacement = block.lines().take_while(|l| !closing(l));
    if replacement.any(crate::text::is_quick_action) {
        return format!("{}\n{block}", &body[..i]);
    }
    format!(
        "{}suggestion:-{above}+0\n{}",
        &body[..i],
        &body[i + "suggestion\n".len()..]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions_say_how_many_lines_they_replace() {
        let body = "fix it\n\n````suggestion\nlet x = 1;\n````";
        assert_eq!(
            super::gitlab_suggestion(body, 2),
            "fix it\n\n````suggestion:-2+0\nlet x = 1;\n````"
        );
        assert_eq!(super::gitlab_suggestion("no block", 0), "no block");
        // A line GitLab would carry out: plain code, no one-click change,
        // also after a shorter fence inside the block.
        assert_eq!(
            super::gitlab_suggestion("fix it\n\n````suggestion\n/approve\n````", 1),
            "fix it\n\n````\n/approve\n````"
        );
        assert_eq!(
            super::gitlab_suggestion("f\n\n````suggestion\nx\n```\n/approve\n````\n/y", 1),
            "f\n\n````\nx\n```\n/approve\n````\n/y"
        );
        // One after the block is not the block's.
        assert_eq!(
            super::gitlab_suggestion("f\n\n```suggestion\nx\n```\n/y", 1),
            "f\n\n```suggestion:-1+0\nx\n```\n/y"
        );
    }
}
