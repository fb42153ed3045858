//! Findings, read generously and fail-closed: any usual spelling of a
//! severity, a title from wherever the model put one, one object or a bare
//! string instead of a list. An unknown or missing severity counts as `high`.

use serde_json::{Map, Value};

use super::read::get;
use super::{Finding, Severity};

/// A suggestion at most, in bytes: a replacement for a few lines, not a file.
const MAX_SUGGESTION: usize = 8 * 1024;

/// `findings` as a list, one object, or one string.
pub(super) fn findings(v: &Value) -> Vec<Finding> {
    match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

fn one(v: &Value) -> Option<Finding> {
    match v {
        Value::Object(obj) => Some(from_object(obj)),
        Value::String(s) if !s.trim().is_empty() => Some(from_string(s)),
        _ => None,
    }
}

fn from_object(obj: &Map<String, Value>) -> Finding {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| get(obj, k).map(text).filter(|s| !s.trim().is_empty()))
    };
    let detail = field(&["detail", "details", "description", "message"]);
    let title = field(&["title", "summary", "name"])
        .or_else(|| detail.as_deref().map(first_line))
        .unwrap_or_else(|| "untitled finding".into());
    let (severity, severity_label) = match get(obj, "severity").or_else(|| get(obj, "level")) {
        Some(Value::String(s)) => severity(s),
        Some(Value::Null) | None => (Severity::High, Some("unstated".into())),
        Some(other) => (
            Severity::High,
            Some(crate::text::ellipsize(&json_text(other, 160), 40)),
        ),
    };
    let number = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| get(obj, k))
            .and_then(|l| l.as_u64().or_else(|| l.as_str()?.trim().parse().ok()))
            .filter(|n| *n > 0)
    };
    let line = number(&["line", "line_number", "start_line"]);
    // A range ends at or after its start; anything else is no range.
    let end_line = number(&["end_line", "last_line"]).filter(|e| line.is_some_and(|l| *e > l));
    // The quote is code: kept as written (whitespace and all), at most 4 KB.
    let quote = get(obj, "quote")
        .and_then(Value::as_str)
        .filter(|q| !q.trim().is_empty())
        .map(|q| crate::text::ellipsize_bytes(&crate::text::clean_block(q), 4096));
    Finding {
        severity,
        severity_label,
        title,
        detail: detail.unwrap_or_default(),
        file: field(&["file", "path", "filename"]).map(|f| f.trim().to_string()),
        line,
        id: None,
        end_line,
        quote,
        anchor: None,
        // A replacement cut short would be wrong: one too large is left out.
        suggestion: get(obj, "suggestion")
            .and_then(Value::as_str)
            .filter(|t| t.len() <= MAX_SUGGESTION)
            .map(crate::text::clean_block),
        anchored: None,
        suggestion_diff: None,
        dropped: None,
        confidence: get(obj, "confidence")
            .and_then(Value::as_f64)
            .filter(|c| (0.0..=1.0).contains(c)),
    }
}

/// "critical: SQL injection in login" → a critical finding of that title.
fn from_string(s: &str) -> Finding {
    let trimmed = s.trim();
    let head = trimmed
        .trim_start_matches(['[', '(', '*'])
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .next()
        .unwrap_or("");
    let known = canonical(head).filter(|_| !head.is_empty());
    let (severity, severity_label, rest) = match known {
        Some(sev) => {
            let rest = trimmed
                .trim_start_matches(['[', '(', '*'])
                .get(head.len()..)
                .unwrap_or("")
                .trim_start_matches([']', ')', '*', ':', '-', ' ']);
            let label = (!head.eq_ignore_ascii_case(&sev.to_string())).then(|| head.to_string());
            (sev, label, rest)
        }
        None => (Severity::High, Some("unstated".to_string()), trimmed),
    };
    let rest = if rest.trim().is_empty() {
        trimmed
    } else {
        rest
    };
    Finding {
        severity,
        severity_label,
        title: first_line(rest),
        detail: trimmed.to_string(),
        file: None,
        line: None,
        id: None,
        end_line: None,
        quote: None,
        anchor: None,
        suggestion: None,
        anchored: None,
        suggestion_diff: None,
        dropped: None,
        confidence: None,
    }
}

/// A severity word as written, with the label to show when it was not one
/// of the five canonical words.
pub(super) fn severity(word: &str) -> (Severity, Option<String>) {
    let trimmed = word.trim();
    let shown = || Some(crate::text::ellipsize(trimmed, 40));
    if let Some(sev) = canonical(trimmed) {
        let exact = trimmed.eq_ignore_ascii_case(&sev.to_string());
        return (sev, if exact { None } else { shown() });
    }
    // "Critical - security", "sev: blocker": any word that means critical makes it critical.
    let critical = trimmed
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| canonical(w) == Some(Severity::Critical));
    (
        if critical {
            Severity::Critical
        } else {
            Severity::High
        },
        shown(),
    )
}

fn canonical(word: &str) -> Option<Severity> {
    let w = word
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_ascii_lowercase()
        .replace([' ', '_'], "-");
    Some(match w.as_str() {
        "critical" | "crit" | "blocker" | "blocking" | "fatal" | "p0" | "sev0" | "sev-0" => {
            Severity::Critical
        }
        "high" | "error" | "major" | "important" | "p1" | "sev1" | "sev-1" => Severity::High,
        "medium" | "moderate" | "warning" | "warn" | "minor" | "p2" | "sev2" | "sev-2" => {
            Severity::Medium
        }
        "low" | "note" | "nit" | "nitpick" | "suggestion" | "trivial" | "p3" | "sev3" => {
            Severity::Low
        }
        "info" | "informational" | "information" | "none" => Severity::Info,
        _ => return None,
    })
}

/// A value as text: strings as they are, anything else as JSON, cut at
/// `MAX_JSON_TEXT` bytes.
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => json_text(other, MAX_JSON_TEXT),
    }
}

/// The most of a non-string value kept as text. A verdict's `comments` or a
/// finding's field given as an object holds everything nested in it: taken
/// whole, a reply of verdicts nested in each other's comments would be kept
/// once per level.
const MAX_JSON_TEXT: usize = 16 * 1024;

/// `v` as JSON, written only up to `max` bytes (then `…`): a value of any
/// size costs at most that.
pub(super) fn json_text(v: &Value, max: usize) -> String {
    struct Capped(Vec<u8>, usize);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = self.1 - self.0.len();
            self.0.extend_from_slice(&buf[..buf.len().min(room)]);
            if buf.len() > room {
                return Err(std::io::Error::other("enough"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new(), max);
    let cut = serde_json::to_writer(&mut out, v).is_err();
    let mut text = String::from_utf8_lossy(&out.0).into_owned();
    if cut {
        text.push('…');
    }
    text
}

fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").trim().to_string()
}
