//! The Markdown report's account of what the run left on the pull request:
//! its findings across pushes (the ledger's counts) and what publishing did,
//! with links — on a fork's pull request, where nothing can be published,
//! the job's step summary is the only place its author looks.

use std::fmt::Write as _;

use super::markdown::inline;
use super::{Report, Step, StepStatus};

/// Where the Actions guide explains what a fork's token cannot do.
const FORK_DOCS: &str = "docs/github-actions.md#reviews-that-converge-and-a-check-you-can-require";

/// "Incremental review: 19 files unchanged since the last review were not
/// sent again, ≈ 19,800 input tokens (≈ $0.0030) saved against a full review."
pub(crate) fn saved_line(r: &Report) -> Option<String> {
    let saved = r.ledger.as_ref()?.saved?;
    let usd = saved
        .usd
        .map(|u| format!(" (≈ ${u:.4})"))
        .unwrap_or_default();
    Some(format!(
        "Incremental review: {} file{} unchanged since the last review {} not sent again, \
         ≈ {} input tokens{usd} saved against a full review.",
        saved.files,
        if saved.files == 1 { "" } else { "s" },
        if saved.files == 1 { "was" } else { "were" },
        saved.input_tokens
    ))
}

pub(crate) fn section(r: &Report) -> String {
    let mut s = String::new();
    if let Some(line) = saved_line(r) {
        let _ = writeln!(s, "{line}\n");
    }
    if let Some(l) = &r.ledger {
        let c = &l.counts;
        if c.new + c.open + c.fixed + c.dismissed + c.outdated > 0 {
            let _ = writeln!(
                s,
                "**Across pushes:** {} new · {} still open · {} fixed · {} dismissed · {} outdated\n",
                c.new, c.open, c.fixed, c.dismissed, c.outdated
            );
        }
    }
    let Some(p) = &r.publish else { return s };
    let steps: Vec<(&str, &Step)> = [
        ("comment", &p.comment),
        ("review", &p.review),
        ("check", &p.check),
        ("webhook", &p.webhook),
    ]
    .into_iter()
    .filter_map(|(what, step)| Some((what, step.as_ref()?)))
    .collect();
    if steps.is_empty() {
        return s;
    }
    s.push_str("## Published\n\n");
    for (what, step) in &steps {
        let status = match step.status {
            StepStatus::Created => "created",
            StepStatus::Updated => "updated",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "**failed**",
        };
        let link = step
            .url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(|u| format!(" — <{}>", inline(u)))
            .unwrap_or_default();
        let detail = step
            .detail
            .as_deref()
            .map(|d| format!(": {}", inline(d)))
            .unwrap_or_default();
        let _ = writeln!(s, "- the {what}: {status}{detail}{link}");
    }
    s.push('\n');
    let refused = steps.iter().any(|(_, step)| {
        step.failed()
            && step
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("HTTP 403") || d.contains("not accessible"))
    });
    if refused {
        let _ = writeln!(
            s,
            "> [!NOTE]\n> GitHub refused to let this job publish (HTTP 403). A pull request \
             from a fork gets a read-only token, so this summary is the review's result; \
             see `{FORK_DOCS}`.\n"
        );
    }
    s
}
