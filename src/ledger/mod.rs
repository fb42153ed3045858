//! The finding ledger: every finding a strategy raised on one pull request
//! (or, for a scheduled audit, one project), with a stable id, the commits
//! it was first and last seen on, and its state. It travels with the pull
//! request in a hidden block of the sticky comment (`block`), so any runner
//! can read it; a block that does not parse, or that someone else wrote, is
//! ignored. The run reconciles it with what the agents said (`reconcile`),
//! and the decision covers the whole pull request: an open finding from an
//! earlier push still counts until it is resolved, dismissed or gone.

pub(crate) mod anchor;
pub(crate) mod block;
pub(crate) mod suppress;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::vocab::{Action, Severity};

/// The ledger format's version; a block of another version is not read.
pub(crate) const VERSION: u32 = 1;

/// Findings kept at most; past it the oldest closed ones go first.
pub(crate) const MAX_ENTRIES: usize = 300;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Ledger {
    pub version: u32,
    pub strategy: String,
    /// The head commit the last run reviewed: where an incremental review
    /// starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// bsu's last review on the pull request, and whether it asked for
    /// changes (a stale one is dismissed when the decision no longer does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<LastReview>,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct LastReview {
    pub id: u64,
    pub requested_changes: bool,
}

/// One finding in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Entry {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The anchored line's text, whitespace collapsed: its lines are gone
    /// from the head when no line of the file reads so any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    pub state: State,
    /// Why it is fixed, dismissed or outdated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The review that carries its inline comment, once posted: it is never
    /// posted again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<u64>,
    /// The head at which its state last changed (raised, fixed, outdated):
    /// what a run reports as changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
    /// Its review thread was resolved (fixed) or minimized (outdated).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    /// GitLab: the discussion that carries its inline comment (resolved
    /// when it is fixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discussion: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Hash)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    /// Raised and not yet resolved: counts toward the decision.
    Open,
    /// An agent that saw its file marked it resolved.
    Fixed,
    /// A person dismissed it (`/bsu dismiss`), or a suppression matches it.
    Dismissed,
    /// The lines it was about are gone from the head.
    Outdated,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Open => "open",
            State::Fixed => "fixed",
            State::Dismissed => "dismissed",
            State::Outdated => "outdated",
        })
    }
}

/// A finding's id: ten hex digits of a hash of the strategy, the file, the
/// title (lowercase words) and the text of the line it anchors to (not its
/// number, which moves when lines above it change).
pub(crate) fn finding_id(
    strategy: &str,
    file: Option<&str>,
    title: &str,
    anchor: Option<&str>,
) -> String {
    let title: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut h = Sha256::new();
    for part in [
        strategy,
        file.unwrap_or(""),
        &title.join(" "),
        anchor.unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    crate::text::hex(&h.finalize()[..5])
}

/// A finding as this run saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub anchor: Option<String>,
}

/// A suppression's reason for the finding `(id, file, title)`, if one matches.
pub(crate) type Suppressed<'a> = dyn Fn(&str, Option<&str>, &str) -> Option<String> + 'a;

/// What the run knows besides its findings, for `reconcile`.
pub(crate) struct Facts<'a> {
    pub strategy: &'a str,
    /// The head commit reviewed.
    pub head: Option<&'a str>,
    /// Ids agents marked resolved, each from an agent shown it.
    pub resolved: &'a [String],
    /// Whether an earlier finding's anchored lines are still in the head
    /// (`None`: cannot tell, so it stays).
    pub still_there: &'a dyn Fn(&Entry) -> Option<bool>,
    /// A suppression matching a finding, with its reason.
    pub suppressed: &'a Suppressed<'a>,
}

/// The ledger after this run: its findings added or seen again, earlier
/// open ones resolved, outdated or carried, suppressions applied.
pub(crate) fn reconcile(prev: Option<&Ledger>, seen: &[Seen], facts: &Facts<'_>) -> Ledger {
    let mut by_id: BTreeMap<String, Entry> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for e in prev.map_or(&[][..], |l| &l.findings[..]) {
        if !by_id.contains_key(&e.id) {
            order.push(e.id.clone());
            by_id.insert(e.id.clone(), e.clone());
        }
    }
    let head = facts.head.map(str::to_string);
    for s in seen {
        match by_id.get_mut(&s.id) {
            Some(e) => {
                e.last_seen = head.clone().or(e.last_seen.take());
                e.severity = e.severity.max(s.severity);
                e.line = s.line.or(e.line);
                if matches!(e.state, State::Fixed | State::Outdated) {
                    e.state = State::Open;
                    e.why = Some("raised again".into());
                    e.changed = head.clone();
                    e.closed = false;
                }
            }
            None => {
                order.push(s.id.clone());
                by_id.insert(
                    s.id.clone(),
                    Entry {
                        id: s.id.clone(),
                        severity: s.severity,
                        title: crate::text::one_line(&s.title, 200),
                        file: s.file.clone(),
                        line: s.line,
                        anchor: s.anchor.clone(),
                        first_seen: head.clone(),
                        last_seen: head.clone(),
                        state: State::Open,
                        why: None,
                        review: None,
                        changed: head.clone(),
                        closed: false,
                        discussion: None,
                    },
                );
            }
        }
    }
    close_earlier(&mut by_id, seen, facts, head.as_deref());
    let mut findings: Vec<Entry> = order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect();
    cap(&mut findings);
    Ledger {
        version: VERSION,
        strategy: facts.strategy.to_string(),
        head: head.or_else(|| prev.and_then(|l| l.head.clone())),
        review: prev.and_then(|l| l.review.clone()),
        findings,
    }
}

/// Earlier open findings this run did not raise: suppressed, fixed (an
/// agent marked them resolved), outdated (their lines are gone), or kept.
fn close_earlier(
    by_id: &mut BTreeMap<String, Entry>,
    seen: &[Seen],
    facts: &Facts<'_>,
    head: Option<&str>,
) {
    let head = head.map(str::to_string);
    let raised: std::collections::HashSet<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    for e in by_id.values_mut() {
        if e.state == State::Open {
            if let Some(why) = (facts.suppressed)(&e.id, e.file.as_deref(), &e.title) {
                e.state = State::Dismissed;
                e.why = Some(why);
                e.changed = head.clone();
                continue;
            }
        }
        if e.state != State::Open || raised.contains(e.id.as_str()) {
            continue;
        }
        if facts.resolved.contains(&e.id) {
            e.state = State::Fixed;
            e.changed = head.clone();
            e.why = Some(match facts.head {
                Some(h) => format!("resolved at {}", short(h)),
                None => "resolved".into(),
            });
        } else if (facts.still_there)(e) == Some(false) {
            e.state = State::Outdated;
            e.changed = head.clone();
            e.why = Some("its lines are gone from the head".into());
        }
    }
}

/// At most `MAX_ENTRIES`: closed findings go first, oldest first; open ones
/// are never dropped while closed ones remain.
fn cap(findings: &mut Vec<Entry>) {
    while findings.len() > MAX_ENTRIES {
        match findings.iter().position(|e| e.state != State::Open) {
            Some(i) => {
                findings.remove(i);
            }
            None => {
                findings.truncate(MAX_ENTRIES);
            }
        }
    }
}

fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// Open findings from earlier runs that this run did not raise again: what
/// keeps counting toward the decision.
pub(crate) fn carried<'a>(ledger: &'a Ledger, seen: &[Seen]) -> Vec<&'a Entry> {
    ledger
        .findings
        .iter()
        .filter(|e| e.state == State::Open && !seen.iter().any(|s| s.id == e.id))
        .collect()
}

/// What a carried finding adds to the decision: a critical one blocks, a
/// high one requests changes; milder ones are listed, not counted.
pub(crate) fn action_of(e: &Entry) -> Option<Action> {
    match e.severity {
        Severity::Critical => Some(Action::Block),
        Severity::High => Some(Action::RequestChanges),
        _ => None,
    }
}

/// Findings whose state changed on `head` (new, fixed, outdated,
/// suppressed), and how many others there are.
pub(crate) fn changed_on<'a>(ledger: &'a Ledger, head: Option<&str>) -> (Vec<&'a Entry>, usize) {
    let (now, rest): (Vec<&Entry>, Vec<&Entry>) = ledger
        .findings
        .iter()
        .partition(|e| head.is_some() && e.changed.as_deref() == head);
    (now, rest.len())
}

/// Counts by state, for summaries: (new, open, fixed, dismissed, outdated).
pub(crate) fn counts(ledger: &Ledger, head: Option<&str>) -> Counts {
    let mut c = Counts::default();
    for e in &ledger.findings {
        match e.state {
            State::Open if e.first_seen.as_deref() == head && head.is_some() => c.new += 1,
            State::Open => c.open += 1,
            State::Fixed => c.fixed += 1,
            State::Dismissed => c.dismissed += 1,
            State::Outdated => c.outdated += 1,
        }
    }
    c
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Counts {
    /// Open, first seen on this run's head.
    pub new: usize,
    /// Open from an earlier head.
    pub open: usize,
    pub fixed: usize,
    pub dismissed: usize,
    pub outdated: usize,
}

/// The shared prompt's section on the open findings of earlier reviews
/// ("" when there are none): each agent may list the ids it can tell are
/// fixed in `resolved`, and should not raise them again.
pub(crate) fn prompt(ledger: &Ledger) -> String {
    use std::fmt::Write as _;
    let open: Vec<&Entry> = ledger
        .findings
        .iter()
        .filter(|e| e.state == State::Open)
        .collect();
    if open.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "## Open findings from earlier reviews\n\nEarlier reviews of this change raised these \
         findings and they are still open; they count against it until they are fixed. Do not \
         raise them again as new findings. If what you were shown lets you tell that one is \
         fixed, add its id to a \"resolved\" list in your reply, e.g. \"resolved\": [\"0123abcdef\"]. \
         Leave out any you cannot tell.\n\n",
    );
    for e in open {
        let place = match (&e.file, e.line) {
            (Some(f), Some(l)) => format!(" {}:{l}", crate::text::one_line(f, 200)),
            (Some(f), None) => format!(" {}", crate::text::one_line(f, 200)),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "- {} [{}]{place} — {}",
            e.id,
            e.severity,
            crate::text::one_line(&e.title, 200)
        );
    }
    s.push('\n');
    s
}

/// Mark finding `id` dismissed by `who`, with `reason`; false when the
/// ledger has no such finding.
pub(crate) fn dismiss(ledger: &mut Ledger, id: &str, who: &str, reason: &str) -> bool {
    match ledger.findings.iter_mut().find(|e| e.id == id) {
        Some(e) => {
            e.state = State::Dismissed;
            let reason = crate::text::one_line(reason, 200);
            e.why = Some(match reason.is_empty() {
                true => format!("dismissed by {who}"),
                false => format!("dismissed by {who}: {reason}"),
            });
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
