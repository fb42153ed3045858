//! Reading an agent's reply into a verdict, fail-closed (CONTRACT.md, "How a
//! reply is read"): every verdict-shaped object in the reply is collected, the
//! strictest readable decision wins, and a reply holding something
//! verdict-like that cannot be read never yields `approve`.

mod cap;
pub(crate) mod consensus;
mod finding;
mod read;
mod scan;

use serde::{Deserialize, Serialize};

pub(crate) use cap::cap_panel;
pub(crate) use read::{merge, read};

/// What an agent decided, as it said it (merged when the reply held several).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Verdict {
    pub decision: VerdictDecision,
    pub score: Option<f64>,
    pub comments: String,
    pub findings: Vec<Finding>,
    pub actions: Vec<String>,
    /// Ids of earlier findings the agent says are resolved (it was shown
    /// them as open); only ids it was shown count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<String>,
}

/// Ordered from most permissive to strictest, so `max` is the strictest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum VerdictDecision {
    Approve,
    Comment,
    RequestChanges,
    Block,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Finding {
    pub severity: Severity,
    /// The severity as the model wrote it, when that was not one of the five
    /// words (a synonym, an unknown word, or nothing at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    pub title: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The finding's stable id (docs/CONTRACT.md, "The finding ledger"):
    /// set by bsu, never read from the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The last line of a range that starts at `line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u64>,
    /// The exact code the finding is about, as the agent quoted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// How bsu checked `file`/`line` against the quote (set by bsu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    /// Set when the strategy's verifier kept it off the lines: its reason.
    /// It still counts toward the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<String>,
    /// How sure the agent says it is, 0 to 1, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Replacement text for exactly the quoted lines (at most 8 KB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The anchored lines as they read, with up to three lines of context
    /// each side: what a patch of the suggestion is built from (set by bsu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchored: Option<Anchored>,
    /// The suggestion as a unified diff of its file, `git apply`-able on
    /// its own: set by bsu when the anchor is checked (verified or moved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion_diff: Option<String>,
}

/// Lines of the new version around a checked anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Anchored {
    pub before: Vec<String>,
    pub lines: Vec<String>,
    pub after: Vec<String>,
}

/// What checking a finding's quote against the change found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub(crate) enum Anchor {
    /// The quote is at the stated line(s).
    Verified,
    /// The quote is elsewhere in the file's hunks: the finding moved there.
    Moved { from: u64 },
    /// The quote is nowhere in what the agent was shown: never inline.
    Unanchored,
    /// A line but no quote: kept where it says, not checked.
    Unverified,
}

pub(crate) use crate::vocab::Severity;

/// How a reply was read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// One verdict, or several that agree, and nothing unreadable.
    Clear(Verdict),
    /// Several verdicts that disagree, or some verdict-like text that could not
    /// be read beside a readable verdict stricter than `comment`: the strictest
    /// readable verdict, with what else the reply held.
    Ambiguous(Verdict, Ambiguity),
    /// Nothing verdict-like at all: the reply is kept as text.
    Absent,
    /// Something verdict-like that could not be read, and no readable verdict
    /// stricter than `comment`: the agent has no verdict.
    Unreadable(Ambiguity),
}

/// What made a reply ambiguous; goes into the report as `reading`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Ambiguity {
    /// Every readable decision the reply held, in the order found.
    pub decisions: Vec<VerdictDecision>,
    /// Why each verdict-like part that could not be read was refused.
    pub unreadable: Vec<String>,
}

impl Reading {
    pub(crate) fn verdict(&self) -> Option<&Verdict> {
        match self {
            Reading::Clear(v) | Reading::Ambiguous(v, _) => Some(v),
            Reading::Absent | Reading::Unreadable(_) => None,
        }
    }

    pub(crate) fn verdict_mut(&mut self) -> Option<&mut Verdict> {
        match self {
            Reading::Clear(v) | Reading::Ambiguous(v, _) => Some(v),
            Reading::Absent | Reading::Unreadable(_) => None,
        }
    }
}

impl Ambiguity {
    /// One line for reasons: "held approve, block; 1 unreadable part (…)".
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.decisions.is_empty() {
            let list: Vec<String> = self.decisions.iter().map(ToString::to_string).collect();
            parts.push(format!("the reply held {}", list.join(", ")));
        }
        if let Some(first) = self.unreadable.first() {
            let more = match self.unreadable.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            parts.push(format!("a verdict that could not be read ({first}{more})"));
        }
        parts.join("; ")
    }
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

impl Finding {
    /// "high", or "high (weird)" when the model wrote another word.
    pub(crate) fn severity_text(&self) -> String {
        match &self.severity_label {
            Some(label) => format!("{} ({label})", self.severity),
            None => self.severity.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
