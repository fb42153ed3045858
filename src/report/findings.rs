//! Findings merged across agents — the panel's consensus: findings on the
//! same place (file, and line or overlapping range) with similar titles
//! (most of their words shared, any case) are one finding naming every agent
//! that raised it, the strongest severity kept; strongest first, then best
//! agreed. The Markdown report and everything published show these.

use super::Report;
use crate::engine::verdict::{consensus, Severity};

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
    /// The highest confidence an agent gave it, when one did.
    pub confidence: Option<f64>,
    /// Why the verifier kept it off the lines, if it did.
    pub dropped: Option<String>,
    /// The suggestion as a patch, when bsu checked its lines.
    pub diff: Option<String>,
}

pub(crate) fn merged_findings(r: &Report) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::new();
    // Each merged finding's first place and title, at its index in `out`.
    let mut met = consensus::Met::default();
    for a in &r.agents {
        let Some(v) = &a.verdict else { continue };
        for f in &v.findings {
            let words = consensus::Words::of(&f.title);
            match met.first(f.place(), &words).map(|i| &mut out[i]) {
                Some(m) => {
                    if f.severity > m.severity {
                        m.severity = f.severity;
                        m.label = f.severity_text();
                    }
                    if !m.agents.contains(&a.id) {
                        m.agents.push(a.id.clone());
                    }
                    m.confidence = match (m.confidence, f.confidence) {
                        (Some(x), Some(y)) => Some(x.max(y)),
                        (x, y) => x.or(y),
                    };
                }
                None => {
                    met.meet(f.place(), words);
                    out.push(Merged {
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
                        confidence: f.confidence,
                        dropped: f.dropped.clone(),
                        diff: f.suggestion_diff.clone(),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.agents.len().cmp(&a.agents.len()))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
    });
    out
}
