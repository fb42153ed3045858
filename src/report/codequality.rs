//! GitLab's Code Quality report (the CodeClimate issue format GitLab reads
//! from `artifacts: reports: codequality:`): one issue per finding the
//! panel raised on a file, merged across agents as everywhere else, so the
//! findings appear in the merge request's widget and diff with no token.
//! A finding without a file has no place in it (the other reports list it).

use serde_json::{json, Value};

use super::findings::merged_findings;
use super::Report;
use crate::engine::verdict::Severity;

/// GitLab's five severities, from bsu's five.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

pub(crate) fn render(r: &Report) -> String {
    let issues: Vec<Value> = merged_findings(r)
        .into_iter()
        .filter_map(|m| {
            let path = m.file.clone().filter(|f| !f.is_empty())?;
            let line = m.line.unwrap_or(1).max(1);
            let fingerprint = m.id.clone().unwrap_or_else(|| {
                use sha2::{Digest, Sha256};
                let key = format!("{}\n{path}\n{line}\n{}", r.strategy, m.title);
                crate::engine::prompt::hex(&Sha256::digest(key.as_bytes()))
            });
            let mut description = crate::text::one_line(&m.title, 300);
            if !m.detail.trim().is_empty() {
                description.push_str(": ");
                description.push_str(&crate::text::one_line(&m.detail, 1000));
            }
            let mut lines = json!({"begin": line});
            if let Some(end) = m.end_line.filter(|e| *e > line) {
                lines["end"] = json!(end);
            }
            Some(json!({
                "type": "issue",
                "description": description,
                "check_name": format!("bsu/{}", m.agents.join("+")),
                "categories": ["Bug Risk"],
                "fingerprint": fingerprint,
                "severity": severity(m.severity),
                "location": {"path": path, "lines": lines},
            }))
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).expect("plain data serialises");
    s.push('\n');
    s
}
