//! SARIF 2.1.0 for code scanning: each finding that names a file is a result,
//! with the agent as the rule.

use serde_json::{json, Value};

use super::Report;
use crate::engine::verdict::Severity;

pub(crate) fn render(r: &Report) -> String {
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for a in &r.agents {
        let Some(v) = &a.verdict else { continue };
        let located: Vec<_> = v.findings.iter().filter(|f| f.file.is_some()).collect();
        if located.is_empty() {
            continue;
        }
        rules.push(json!({
            "id": a.id,
            "name": a.name,
            "shortDescription": {"text": a.name},
        }));
        for f in located {
            let mut location = json!({"artifactLocation": {"uri": f.file}});
            if let Some(line) = f.line {
                location["region"] = json!({"startLine": line});
            }
            let text = if f.detail.is_empty() {
                f.title.clone()
            } else {
                format!("{}: {}", f.title, f.detail)
            };
            let mut result = json!({
                "ruleId": a.id,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": location}],
                "properties": {"severity": f.severity.to_string()},
            });
            // The finding's stable id: code scanning matches results across
            // runs by it.
            if let Some(id) = &f.id {
                result["partialFingerprints"] = json!({"bsuFindingId/v1": id});
            }
            results.push(result);
        }
    }
    let doc: Value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bsu",
                "version": r.bsu_version,
                "rules": rules,
            }},
            "automationDetails": {"id": format!("bsu/{}/{}", r.event, r.run_id)},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data");
    s.push('\n');
    s
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}
