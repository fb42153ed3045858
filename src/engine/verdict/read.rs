//! Finding every verdict in a reply and settling on one, fail-closed.
//!
//! Every `{` in the reply starts a candidate JSON object (which covers the
//! whole text, code fences, prose around an object, objects nested in other
//! objects and the elements of an array). A candidate with a `decision` key is
//! a verdict, readable or not. A `"decision":` key that lies inside no object
//! that parses (an unescaped quote, `1e999`, a truncated reply) is unreadable.
//! The objects are found in one bounded pass (`scan`); a reply too intricate
//! to read whole is unreadable where it was not read.

use serde_json::{Map, Value};

use super::finding::{findings, json_text, text};
use super::{Ambiguity, Finding, Reading, Severity, Verdict, VerdictDecision};

/// Read `reply` by the rules of CONTRACT.md ("How a reply is read").
pub(crate) fn read(reply: &str) -> Reading {
    let mut verdicts: Vec<Verdict> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let scanned = super::scan::objects(reply, |obj| {
        let keys = obj
            .keys()
            .filter(|k| k.trim().eq_ignore_ascii_case("decision"))
            .count();
        if keys > 1 {
            // `Decision` beside `decision`: which one counts is not the
            // model's to leave open.
            unreadable.push(format!("an object gives \"decision\" {keys} times"));
        } else if keys == 1 {
            match verdict(obj) {
                Ok(v) => verdicts.push(v),
                Err(why) => unreadable.push(why.to_string()),
            }
        }
    });
    let unread = scanned.stopped_at.unwrap_or(usize::MAX);
    for pos in decision_keys(reply) {
        if pos < unread && !scanned.covers(pos) {
            unreadable.push(format!(
                "a \"decision\" key at byte {pos} is in text that is not valid JSON"
            ));
        }
    }
    // What the scan did not read may hold a verdict (a key matched in any
    // case, with spaces): it counts against the reply.
    if let Some(at) = scanned.stopped_at {
        if reply[at..].to_ascii_lowercase().contains("decision") {
            unreadable.push(format!(
                "the reply nests more JSON than bsu reads: from byte {at} on it was not \
                 read, and \"decision\" appears there"
            ));
        }
    }
    let given: usize = verdicts.iter().map(|v| v.findings.len()).sum();
    if given > MAX_FINDINGS {
        super::cap::keep_most_severe(verdicts.iter_mut().collect(), MAX_FINDINGS);
        unreadable.push(format!(
            "the reply gives {given} findings; bsu reads the {MAX_FINDINGS} most severe"
        ));
    }
    settle(verdicts, unreadable)
}

/// One reading from the readings of several batches of one agent, by the
/// same rules: the strictest verdict, every finding; a batch that held no
/// verdict at all is unreadable, since part of the change went unjudged.
pub(crate) fn merge(readings: Vec<Reading>) -> Reading {
    let n = readings.len();
    let mut verdicts = Vec::new();
    let mut unreadable = Vec::new();
    for (i, r) in readings.into_iter().enumerate() {
        match r {
            Reading::Clear(v) => verdicts.push(v),
            Reading::Ambiguous(v, a) => {
                verdicts.push(v);
                unreadable.extend(a.unreadable);
            }
            Reading::Unreadable(a) => unreadable.extend(a.unreadable),
            Reading::Absent => unreadable.push(format!("batch {}/{n} held no verdict", i + 1)),
        }
    }
    settle(verdicts, unreadable)
}

/// The most findings one reply gives that are read. A model's output allows
/// a few hundred at most; a reply of 100,000 (7 MB) took 76 s to merge and
/// ten minutes to decide on, every step after comparing findings in pairs.
/// Per reply, not per agent: an agent's batches (`merge`) are the
/// project's to size, and each of them is capped.
const MAX_FINDINGS: usize = 200;

fn settle(verdicts: Vec<Verdict>, unreadable: Vec<String>) -> Reading {
    let mut decisions: Vec<VerdictDecision> = Vec::new();
    for v in &verdicts {
        if !decisions.contains(&v.decision) {
            decisions.push(v.decision);
        }
    }
    let Some(merged) = merge_verdicts(verdicts) else {
        return if unreadable.is_empty() {
            Reading::Absent
        } else {
            Reading::Unreadable(Ambiguity {
                decisions,
                unreadable,
            })
        };
    };
    let critical = merged
        .findings
        .iter()
        .any(|f| f.severity == Severity::Critical);
    let permissive = merged.decision <= VerdictDecision::Comment && !critical;
    match (unreadable.is_empty(), decisions.len() > 1) {
        (true, false) => Reading::Clear(merged),
        (false, _) if permissive => Reading::Unreadable(Ambiguity {
            decisions,
            unreadable,
        }),
        _ => Reading::Ambiguous(
            merged,
            Ambiguity {
                decisions,
                unreadable,
            },
        ),
    }
}

/// The strictest verdict, carrying the findings and actions of all of them
/// (duplicates folded), so no finding is lost by the choice.
fn merge_verdicts(verdicts: Vec<Verdict>) -> Option<Verdict> {
    let strictest = verdicts.iter().map(|v| v.decision).max()?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut actions: Vec<String> = Vec::new();
    let mut resolved: Vec<String> = Vec::new();
    let mut chosen: Option<Verdict> = None;
    for v in verdicts {
        for id in &v.resolved {
            if !resolved.contains(id) {
                resolved.push(id.clone());
            }
        }
        for f in &v.findings {
            if !findings.contains(f) {
                findings.push(f.clone());
            }
        }
        for a in &v.actions {
            if !actions.contains(a) {
                actions.push(a.clone());
            }
        }
        if chosen.is_none() && v.decision == strictest {
            chosen = Some(v);
        }
    }
    let mut v = chosen?;
    v.findings = findings;
    v.actions = actions;
    v.resolved = resolved;
    Some(v)
}

/// Byte offsets of `"decision"` / `'decision'` keys (any case) followed by a
/// colon, not escaped inside a JSON string.
fn decision_keys(reply: &str) -> Vec<usize> {
    const KEY: &[u8] = b"decision";
    let bytes = reply.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + KEY.len() + 2 <= bytes.len() {
        let q = bytes[i];
        let escaped = i > 0 && bytes[i - 1] == b'\\';
        if (q == b'"' || q == b'\'')
            && !escaped
            && bytes[i + 1..i + 1 + KEY.len()].eq_ignore_ascii_case(KEY)
            && bytes[i + 1 + KEY.len()] == q
        {
            let rest = &bytes[i + 2 + KEY.len()..];
            let colon = rest
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b':');
            if colon {
                out.push(i);
            }
        }
        i += 1;
    }
    out
}

/// A key of `obj`, matched without regard to case or surrounding spaces.
pub(super) fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A verdict-like object that could not be read as one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BadVerdict {
    #[error("\"decision\" is {0}, not a word")]
    NotAWord(String),
    #[error("unknown decision {0:?}")]
    Unknown(String),
    /// An unknown word holding a decision word: often an action name copied
    /// into `decision` (`block_pr`). Never read as that decision.
    #[error("unknown decision {0:?}: it contains {1:?}, but a decision is exactly one of approve, request_changes, block, comment (action names go in \"actions\")")]
    Contains(String, &'static str),
}

fn verdict(obj: &Map<String, Value>) -> Result<Verdict, BadVerdict> {
    let raw = get(obj, "decision").unwrap_or(&Value::Null);
    let Some(word) = raw.as_str() else {
        return Err(BadVerdict::NotAWord(crate::text::ellipsize(
            &json_text(raw, 160),
            40,
        )));
    };
    let decision = decision(word).ok_or_else(|| {
        let shown = crate::text::ellipsize(word.trim(), 40);
        let lower = word.to_ascii_lowercase();
        match ["request_changes", "approve", "block", "comment"]
            .into_iter()
            .find(|d| lower.contains(d))
        {
            Some(d) => BadVerdict::Contains(shown, d),
            None => BadVerdict::Unknown(shown),
        }
    })?;
    let score = get(obj, "score")
        .and_then(|s| s.as_f64().or_else(|| s.as_str()?.trim().parse().ok()))
        .filter(|s: &f64| s.is_finite())
        .map(|s| s.clamp(0.0, 10.0));
    let actions = match get(obj, "actions") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|x| x.as_str().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    };
    Ok(Verdict {
        decision,
        score,
        comments: get(obj, "comments")
            .or_else(|| get(obj, "comment"))
            .or_else(|| get(obj, "summary"))
            .map(text)
            .unwrap_or_default(),
        findings: get(obj, "findings").map(findings).unwrap_or_default(),
        actions,
        resolved: get(obj, "resolved").map(ids).unwrap_or_default(),
    })
}

/// `resolved`: finding ids (ten lowercase hex digits), as a list or one
/// string; anything else is left out.
fn ids(v: &Value) -> Vec<String> {
    let one = |x: &Value| {
        x.as_str()
            .map(|s| s.trim().trim_start_matches('#').to_ascii_lowercase())
            .filter(|s| s.len() == 10 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// A decision word, trimmed and case-insensitive, with its usual spellings.
fn decision(word: &str) -> Option<VerdictDecision> {
    let norm: String = word
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c })
        .collect();
    Some(match norm.as_str() {
        "approve" | "approved" => VerdictDecision::Approve,
        "request_changes" | "changes_requested" | "request_change" | "requestchanges" => {
            VerdictDecision::RequestChanges
        }
        "block" | "blocked" | "reject" | "rejected" => VerdictDecision::Block,
        "comment" | "commented" => VerdictDecision::Comment,
        _ => return None,
    })
}
