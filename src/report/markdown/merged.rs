//! The Markdown report's findings merged across agents: one line each,
//! with its suggestion as a diff when bsu checked its lines (as plain code,
//! marked unchecked, when it did not).

use std::fmt::Write as _;

use super::{code, inline, severity_icon};
use crate::report::findings::{merged_findings, Merged};
use crate::report::Report;

pub(super) fn section(s: &mut String, r: &Report) {
    let all = merged_findings(r);
    if all.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Findings ({})\n", all.len());
    for m in &all {
        let place = match (&m.file, m.line) {
            (Some(f), Some(l)) => format!(" `{}:{l}`", code(f)),
            (Some(f), None) => format!(" `{}`", code(f)),
            _ => String::new(),
        };
        let id =
            m.id.as_ref()
                .map(|id| format!(" · id `{id}`"))
                .unwrap_or_default();
        let _ = writeln!(
            s,
            "- {} **{}**{place} {} — {}{id}",
            severity_icon(m.severity),
            inline(&m.label),
            inline(&m.title),
            m.agents
                .iter()
                .map(|a| format!("`{}`", code(a)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        suggestion(s, m);
    }
    s.push('\n');
}

/// A finding's suggestion under its line, indented into the list item.
fn suggestion(s: &mut String, m: &Merged) {
    let (label, lang, text) = match (&m.diff, &m.suggestion) {
        (Some(d), _) => ("Suggested change:", "diff", d),
        (None, Some(t)) => (
            "Suggested change (its lines are not checked, so not a patch):",
            "text",
            t,
        ),
        (None, None) => return,
    };
    let _ = writeln!(s, "\n  {label}\n\n{}\n", indent(&block(lang, text)));
}

/// A fenced block whose fence is longer than any backtick run inside it.
fn block(lang: &str, text: &str) -> String {
    let fence = crate::text::fence(text);
    format!("{fence}{lang}\n{}\n{fence}", text.trim_end_matches('\n'))
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
