//! What goes on the lines of a change: the inline comments for findings on
//! changed lines (each with its id; a range within one hunk is one
//! multi-line comment; the noise budget decides which), with one-click
//! suggestions only where bsu checked the lines, and the review's body
//! listing the rest.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::render::{agreement, id_note, inline, place, MAX_LISTED};
use crate::config::publish::Noise;
use crate::engine::verdict::Anchor;
use crate::report::findings::{merged_findings, Merged};
use crate::report::markdown::{banner, quote, severity_icon};
use crate::report::Report;

/// Is `file:line` inside the diff (where GitHub takes a review comment)?
fn in_diff(r: &Report, file: &str, line: u64) -> bool {
    r.inputs.iter().any(|i| {
        i.diff_lines
            .get(file)
            .is_some_and(|ranges| ranges.iter().any(|[a, b]| (*a..=*b).contains(&line)))
    })
}

/// Inline review comments for findings on diff lines (each with its id),
/// and the rest. A finding whose quote is nowhere in the change is never
/// inline; a range within one hunk is one multi-line comment.
pub(crate) fn review_comments(
    r: &Report,
    noise: &Noise,
) -> (Vec<(Option<String>, Value)>, Vec<Merged>) {
    let mut inline_comments = Vec::new();
    let mut rest = Vec::new();
    let panel = r.agents.iter().filter(|a| a.verdict.is_some()).count();
    // Strongest, then best agreed, first: the budget keeps those.
    for m in merged_findings(r) {
        let unanchored = m.anchor == Some(Anchor::Unanchored);
        let worth = m.dropped.is_none()
            && m.severity >= noise.min_severity
            && m.agents.len() >= noise.min_agents as usize
            && noise
                .min_confidence
                .is_none_or(|min| m.confidence.is_none_or(|c| c >= min))
            && inline_comments.len() < noise.max_inline as usize;
        match (&m.file, m.line) {
            (Some(f), Some(l)) if worth && !unanchored && in_diff(r, f, l) => {
                let range = m.end_line.filter(|e| same_hunk(r, f, l, *e));
                // One click replaces exactly the quoted lines: only for a
                // checked anchor whose whole range the comment spans.
                let exact = matches!(m.anchor, Some(Anchor::Verified | Anchor::Moved { .. }))
                    && (m.end_line.is_none() || range.is_some());
                let body = finding_body(&m, exact, panel);
                let mut c = json!({"path": f, "line": l, "side": "RIGHT", "body": body});
                if let Some(end) = range {
                    c["start_line"] = json!(l);
                    c["start_side"] = json!("RIGHT");
                    c["line"] = json!(end);
                }
                inline_comments.push((m.id.clone(), c));
            }
            _ => rest.push(m),
        }
    }
    (inline_comments, rest)
}

/// Are lines `a` and `b` of `file` in one hunk of a `git_diff` input?
fn same_hunk(r: &Report, file: &str, a: u64, b: u64) -> bool {
    r.inputs.iter().any(|i| {
        i.diff_lines.get(file).is_some_and(|ranges| {
            ranges
                .iter()
                .any(|[s, e]| (*s..=*e).contains(&a) && (*s..=*e).contains(&b))
        })
    })
}

/// An inline comment's body; `one_click`: the suggestion replaces exactly
/// the lines the comment spans, so it is GitHub's suggestion block.
fn finding_body(m: &Merged, one_click: bool, panel: usize) -> String {
    let mut s = format!(
        "{} **{}** {}",
        severity_icon(m.severity),
        inline(&m.label),
        inline(&m.title)
    );
    if !m.detail.trim().is_empty() {
        let _ = write!(s, "\n\n{}", quote(&m.detail));
    }
    if let Some(text) = &m.suggestion {
        let _ = write!(s, "\n\n{}", suggestion_block(text, one_click));
    }
    let _ = write!(
        s,
        "\n\n<sub>bsu: {}{}{}</sub>",
        m.agents.join(", "),
        agreement(m, panel),
        id_note(m)
    );
    s
}

/// A suggestion in a fence longer than any run of backticks in it, so it
/// cannot close the block early: GitHub's one-click `suggestion` block, or
/// plain code when it would not replace exactly the commented lines.
pub(crate) fn suggestion_block(text: &str, one_click: bool) -> String {
    let fence = crate::text::fence(text);
    let text = text.trim_end_matches('\n');
    if one_click {
        format!("{fence}suggestion\n{text}\n{fence}")
    } else {
        format!(
            "Suggested change (its lines are not checked, so not one click):\n\n{fence}\n{text}\n{fence}"
        )
    }
}

/// The review's body: the decision, and the findings not commented inline.
pub(crate) fn review_body(r: &Report, rest: &[Merged], note: Option<&str>) -> String {
    let (icon, word) = banner(r.decision.action);
    let mut s = format!("{icon} **bsu: {word}** — {}\n", inline(&r.decision.reason));
    if let Some(n) = note {
        let _ = writeln!(s, "\n{n}");
    }
    if !rest.is_empty() {
        s.push_str("\nFindings not on a changed line:\n\n");
        for m in rest.iter().take(MAX_LISTED) {
            let _ = writeln!(
                s,
                "- {} **{}**{} {}",
                severity_icon(m.severity),
                inline(&m.label),
                place(m),
                inline(&m.title)
            );
        }
    }
    s
}
