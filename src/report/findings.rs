//! Findings merged across agents: duplicates (same file, line and title,
//! any case) folded into one naming every agent, the strongest severity kept,
//! strongest first. The Markdown report and everything published show these.

use super::Report;
use crate::engine::verdict::Severity;

/// A finding merged across agents: duplicates folded, the strongest severity kept.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub severity: Severity,
    pub label: String,
    pub title: String,
    pub detail: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub agents: Vec<String>,
    /// Its id in the ledger (absent in a dry run).
    pub id: Option<String>,
    pub end_line: Option<u64>,
    /// How its place was checked against its quote.
    pub anchor: Option<crate::engine::verdict::Anchor>,
    /// Replacement text for the quoted lines.
    pub suggestion: Option<String>,
}

pub(crate) fn merged_findings(r: &Report) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::new();
    for a in &r.agents {
        let Some(v) = &a.verdict else { continue };
        for f in &v.findings {
            let key = |m: &Merged| {
                m.file == f.file
                    && m.line == f.line
                    && m.title.trim().eq_ignore_ascii_case(f.title.trim())
            };
            match out.iter_mut().find(|m| key(m)) {
                Some(m) => {
                    if f.severity > m.severity {
                        m.severity = f.severity;
                        m.label = f.severity_text();
                    }
                    if !m.agents.contains(&a.id) {
                        m.agents.push(a.id.clone());
                    }
                }
                None => out.push(Merged {
                    severity: f.severity,
                    label: f.severity_text(),
                    title: f.title.clone(),
                    detail: f.detail.clone(),
                    file: f.file.clone(),
                    line: f.line,
                    agents: vec![a.id.clone()],
                    id: f.id.clone(),
                    end_line: f.end_line,
                    anchor: f.anchor.clone(),
                    suggestion: f.suggestion.clone(),
                }),
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
    });
    out
}
