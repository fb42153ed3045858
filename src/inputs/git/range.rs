//! Which commits a change spans: `--base`/`--head`, else the payload
//! (`pull_request.base.sha`/`head.sha`, a push's `before`/`after`), else at
//! a terminal the working tree against the merge-base with the upstream or
//! default branch.

use serde_json::Value;

use super::{check_rev, Git, EMPTY_TREE};
use crate::config::inputs::Scope;
use crate::error::Result;
use crate::inputs::Context;
use crate::inputs::InputError;

/// Which commits a change spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Range {
    pub base: String,
    /// `None`: the working tree (staged and unstaged changes).
    pub head: Option<String>,
    pub resolved_by: String,
    /// An incremental review: only the files these commits changed since
    /// the head last reviewed (each shown as the whole change shows it, so
    /// every rule of what is excluded or unseen reads the whole change).
    pub only: Option<Vec<String>>,
}

/// A commit id from a payload: hex only, so payload text never reaches git as anything else.
fn payload_sha(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    (s.len() >= 7 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.to_string())
}

/// Make sure `rev` is a commit here, fetching it from origin when allowed.
async fn ensure(
    git: Git<'_>,
    rev: &str,
    which: &'static str,
    input: &str,
    fetch: bool,
) -> Result<String> {
    if rev == EMPTY_TREE {
        return Ok(rev.to_string());
    }
    if !git.commit_exists(rev).await && fetch {
        let _ = git
            .output(&["fetch", "--no-tags", "--quiet", "origin", rev])
            .await;
    }
    if !git.commit_exists(rev).await {
        return Err(InputError::CommitMissing {
            input: input.to_string(),
            which,
            rev: rev.to_string(),
        }
        .into());
    }
    let sha = git
        .ok_text(
            &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
            "rev-parse",
        )
        .await?;
    Ok(sha.trim().to_string())
}

pub(crate) async fn resolve_range(ctx: &Context<'_>, input: &str, fetch: bool) -> Result<Range> {
    let git = ctx.git();
    git.ok(&["rev-parse", "--git-dir"], &format!("input {input}"))
        .await
        .map_err(|_| InputError::NotARepository {
            input: input.to_string(),
            root: ctx.root.to_path_buf(),
        })?;
    if let Some(base) = ctx.base {
        check_rev(base, "--base")?;
        let base = ensure(git, base, "base", input, fetch).await?;
        let head = match ctx.head {
            Some(h) => {
                check_rev(h, "--head")?;
                Some(ensure(git, h, "head", input, fetch).await?)
            }
            None => None,
        };
        return Ok(Range {
            base,
            head,
            resolved_by: "flags".into(),
            only: None,
        });
    }
    if ctx.head.is_some() {
        return Err(InputError::HeadWithoutBase.into());
    }
    if let Some(r) = from_payload(git, ctx.payload, input, fetch).await? {
        return Ok(r);
    }
    if !ctx.interactive {
        return Err(InputError::NothingSaysWhatChanged(input.to_string()).into());
    }
    let mut upstream = None;
    for r in [
        "@{upstream}",
        "refs/remotes/origin/HEAD",
        "origin/main",
        "origin/master",
        "main",
        "master",
    ] {
        if git.commit_exists(r).await {
            upstream = Some(r);
            break;
        }
    }
    let upstream = upstream.ok_or_else(|| InputError::NoUpstream(input.to_string()))?;
    let mb = git
        .ok_text(&["merge-base", "HEAD", upstream], &format!("input {input}"))
        .await?;
    Ok(Range {
        base: mb.trim().to_string(),
        head: None,
        resolved_by: format!("working tree against the merge-base with {upstream}"),
        only: None,
    })
}

/// The range as `scope` and the ledger say: the whole change, or — on a
/// pull request reviewed before, when the head last reviewed is an
/// ancestor of this one — only the files changed since it.
pub(crate) async fn scoped(ctx: &Context<'_>, full: Range, scope: Scope) -> Range {
    let incremental = match scope {
        Scope::Full => false,
        Scope::Incremental => true,
        // A push to a pull request (GitHub) or merge request (GitLab).
        Scope::Auto => matches!(
            ctx.event,
            "pull_request.synchronize" | "merge_request.update"
        ),
    };
    let (Some(since), Some(head)) = (ctx.reviewed.filter(|_| incremental), full.head.clone())
    else {
        return full;
    };
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let note = |why: String| Range {
        resolved_by: format!("{}; full review: {why}", full.resolved_by),
        ..full.clone()
    };
    if payload_sha(Some(&Value::String(since.to_string()))).is_none() || since == head {
        return note(format!("the head {} was reviewed already", short(since)));
    }
    let git = ctx.git();
    let ancestor = git
        .output(&["merge-base", "--is-ancestor", since, &head])
        .await
        .is_ok_and(|o| o.status.success());
    if !ancestor {
        return note(format!(
            "the head last reviewed, {}, is not an ancestor of this one (a force-push?)",
            short(since)
        ));
    }
    let names = git
        .output(&[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            since,
            &head,
            "--",
        ])
        .await
        .ok()
        .filter(|o| o.status.success());
    let Some(names) = names else {
        return note("git could not list the files changed since the last review".into());
    };
    let only: Vec<String> = names
        .stdout
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    Range {
        resolved_by: format!(
            "{}; incremental: the {} file{} changed since {}, the head last reviewed",
            full.resolved_by,
            only.len(),
            if only.len() == 1 { "" } else { "s" },
            short(since)
        ),
        only: Some(only),
        ..full
    }
}

/// The range a pull_request or push payload names, if it names one.
async fn from_payload(git: Git<'_>, p: &Value, input: &str, fetch: bool) -> Result<Option<Range>> {
    let pr = p.get("pull_request");
    let pr_shas = pr.map(|pr| {
        (
            payload_sha(pr.pointer("/base/sha")),
            payload_sha(pr.pointer("/head/sha")),
        )
    });
    if let Some((Some(base), Some(head))) = pr_shas {
        let base = ensure(git, &base, "base", input, fetch).await?;
        let head = ensure(git, &head, "head", input, fetch).await?;
        // Review what the pull request adds: from the merge-base, as GitHub shows it.
        let mb = git
            .output(&["merge-base", &base, &head])
            .await
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or(base);
        return Ok(Some(Range {
            base: mb,
            head: Some(head),
            resolved_by: "payload (pull_request)".into(),
            only: None,
        }));
    }
    let (Some(before), Some(after)) = (payload_sha(p.get("before")), payload_sha(p.get("after")))
    else {
        return Ok(None);
    };
    let head = ensure(git, &after, "head", input, fetch).await?;
    let base = if before.bytes().all(|b| b == b'0') {
        // A new branch: its first commit against its parent, or the empty tree.
        let parent = format!("{head}^");
        if git.commit_exists(&parent).await {
            ensure(git, &parent, "base", input, false).await?
        } else {
            EMPTY_TREE.to_string()
        }
    } else {
        ensure(git, &before, "base", input, fetch).await?
    };
    Ok(Some(Range {
        base,
        head: Some(head),
        resolved_by: "payload (push)".into(),
        only: None,
    }))
}
