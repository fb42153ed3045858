//! A `git_log` input. `since = "last_run"` follows the commit graph, not
//! dates (a committer chooses a commit's date): the log is
//! `<the head the event's last decided run reviewed>..HEAD`. When that commit
//! is gone (history was rewritten) the log falls back to the newest commits,
//! and says so in the prompt.

use super::{check_rev, Git, Range};
use crate::config::inputs::InputSpec;
use crate::error::Result;
use crate::inputs::InputError;
use crate::inputs::{Context, Gathered, Item, SourceInfo};

/// A `git_log` input.
pub(crate) async fn log_input(
    ctx: &Context<'_>,
    spec: &InputSpec,
    range: Option<&str>,
    since_last_run: bool,
    max_commits: u32,
    diff_range: Option<&Range>,
) -> Result<Gathered> {
    let git = ctx.git();
    let what = format!("input {}", spec.name);
    git.ok(&["rev-parse", "--git-dir"], &what)
        .await
        .map_err(|_| InputError::NotARepository {
            input: spec.name.clone(),
            root: ctx.root.to_path_buf(),
        })?;
    let end = match diff_range {
        Some(Range { head: Some(h), .. }) => h.clone(),
        _ => "HEAD".to_string(),
    };
    // The commit this run reviews, remembered for the next `since = "last_run"`.
    let head = git
        .ok_text(
            &["rev-parse", "--verify", &format!("{end}^{{commit}}")],
            &what,
        )
        .await
        .ok()
        .map(|s| s.trim().to_string());
    let (range, label) = match (range, since_last_run) {
        (Some(r), _) => {
            check_rev(r, "range")?;
            (r.to_string(), format!("commits in {r}"))
        }
        (None, true) => since(git, ctx, &end, max_commits).await,
        (None, false) => match diff_range {
            Some(d) => {
                let r = format!("{}..{end}", d.base);
                (r.clone(), format!("commits in {r}"))
            }
            None => ("HEAD".to_string(), "commits in HEAD".to_string()),
        },
    };
    let max = format!("--max-count={max_commits}");
    let args = vec![
        "log",
        "--no-color",
        "--date=iso-strict",
        "--format=commit %H%nAuthor: %an <%ae>%nDate: %ad%n%n%w(0,4,4)%B",
        &max,
        &range,
        "--",
    ];
    let text = git.ok_text(&args, &what).await?;
    Ok(Gathered {
        name: spec.name.clone(),
        kind: spec.kind(),
        source: SourceInfo {
            range: Some(range),
            head,
            ..SourceInfo::default()
        },
        items: vec![Item {
            path: spec.name.clone(),
            label,
            text,
            rank: 0,
            hunks: None,
        }],
        excluded: Vec::new(),
        unseen: Vec::new(),
        exit_code: None,
    })
}

/// The range and label of `since = "last_run"`.
async fn since(git: Git<'_>, ctx: &Context<'_>, end: &str, max: u32) -> (String, String) {
    let newest = || (end.to_string(), format!("the newest {max} commits"));
    let Some(last) = &ctx.last_run else {
        let (r, l) = newest();
        return (r, format!("no earlier decided run of this event: {l}"));
    };
    let Some(sha) = &last.head else {
        let (r, l) = newest();
        return (
            r,
            format!("the event's last decided run recorded no commit to start from: {l}"),
        );
    };
    let valid = sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    let is_ancestor = valid
        && git
            .output(&["merge-base", "--is-ancestor", sha, end])
            .await
            .is_ok_and(|o| o.status.success());
    if is_ancestor {
        return (
            format!("{sha}..{end}"),
            format!("commits since {sha}, the head the event's last decided run reviewed"),
        );
    }
    let (r, l) = newest();
    (
        r,
        format!(
            "the commit the event's last decided run reviewed ({sha}) is no longer in this \
             history (rewritten?): {l}"
        ),
    )
}
