//! Reading an agent's reply into a verdict, tolerantly: a bare JSON object, one
//! inside a Markdown code fence, or one with prose around it. A reply with no
//! such object has no verdict (`None`); it is kept as text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an agent decided, as it said it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Verdict {
    pub decision: VerdictDecision,
    pub score: Option<f64>,
    pub comments: String,
    pub findings: Vec<Finding>,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum VerdictDecision {
    Approve,
    RequestChanges,
    Block,
    Comment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Finding {
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Ordered from weakest to strongest so findings sort by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for VerdictDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerdictDecision::Approve => "approve",
            VerdictDecision::RequestChanges => "request_changes",
            VerdictDecision::Block => "block",
            VerdictDecision::Comment => "comment",
        })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// The verdict in `reply`, if there is one.
pub(crate) fn parse(reply: &str) -> Option<Verdict> {
    candidates(reply).find_map(|v| from_value(&v))
}

/// JSON objects found in the reply: the whole text, then each `{` onwards
/// (which covers code fences and leading or trailing prose).
fn candidates(reply: &str) -> impl Iterator<Item = Value> + '_ {
    let whole = serde_json::from_str::<Value>(reply.trim()).ok();
    let embedded = reply.match_indices('{').filter_map(move |(i, _)| {
        serde_json::Deserializer::from_str(&reply[i..])
            .into_iter::<Value>()
            .next()
            .and_then(Result::ok)
    });
    whole.into_iter().chain(embedded).filter(Value::is_object)
}

fn from_value(v: &Value) -> Option<Verdict> {
    let decision = match v
        .get("decision")?
        .as_str()?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "approve" | "approved" => VerdictDecision::Approve,
        "request_changes" | "request-changes" | "changes_requested" => {
            VerdictDecision::RequestChanges
        }
        "block" | "blocked" | "reject" => VerdictDecision::Block,
        "comment" => VerdictDecision::Comment,
        _ => return None,
    };
    let score = v
        .get("score")
        .and_then(|s| s.as_f64().or_else(|| s.as_str()?.trim().parse().ok()))
        .filter(|s| s.is_finite())
        .map(|s| s.clamp(0.0, 10.0));
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let findings = v
        .get("findings")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(finding).collect())
        .unwrap_or_default();
    let actions = v
        .get("actions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Some(Verdict {
        decision,
        score,
        comments: text(v, "comments"),
        findings,
        actions,
    })
}

fn finding(v: &Value) -> Option<Finding> {
    let severity = match v
        .get("severity")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("critical") => Severity::Critical,
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        _ => Severity::Info,
    };
    let s = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let title = s("title").or_else(|| s("detail"))?;
    Some(Finding {
        severity,
        title,
        detail: s("detail").unwrap_or_default(),
        file: s("file").filter(|f| !f.is_empty()),
        line: v.get("line").and_then(Value::as_u64).filter(|n| *n > 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE: &str =
        r#"{"decision": "approve", "score": 8, "comments": "fine", "findings": [], "actions": []}"#;

    #[test]
    fn bare_fenced_and_prose() {
        assert_eq!(parse(BARE).unwrap().decision, VerdictDecision::Approve);
        let fenced = format!("```json\n{BARE}\n```");
        assert_eq!(parse(&fenced).unwrap().score, Some(8.0));
        let prose = format!("Here is my review.\n\n{BARE}\n\nThanks!");
        assert_eq!(parse(&prose).unwrap().comments, "fine");
    }

    #[test]
    fn prose_with_braces_before_the_object() {
        let reply = format!("The function f() {{ return 1 }} looks odd. {BARE}");
        assert_eq!(parse(&reply).unwrap().decision, VerdictDecision::Approve);
    }

    #[test]
    fn no_verdict() {
        assert_eq!(parse("Looks good to me!"), None);
        assert_eq!(parse(r#"{"summary": "no decision key"}"#), None);
        assert_eq!(parse(r#"{"decision": "maybe"}"#), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn findings_and_tolerance() {
        let v = parse(
            r#"{"decision": "Request_Changes", "score": "12", "findings": [
                {"severity": "CRITICAL", "title": "Leaked key", "detail": "in .env", "file": ".env", "line": 3},
                {"severity": "weird", "title": "Odd"},
                {"detail": "title-less finding"},
                "not an object"
            ], "actions": ["block_pr", 7]}"#,
        )
        .unwrap();
        assert_eq!(v.decision, VerdictDecision::RequestChanges);
        assert_eq!(v.score, Some(10.0));
        assert_eq!(v.findings.len(), 3);
        assert_eq!(v.findings[0].severity, Severity::Critical);
        assert_eq!(v.findings[0].line, Some(3));
        assert_eq!(v.findings[1].severity, Severity::Info);
        assert_eq!(v.findings[2].title, "title-less finding");
        assert_eq!(v.actions, ["block_pr"]);
    }
}
