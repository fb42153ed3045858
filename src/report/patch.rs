//! Every applicable suggestion of a run as one patch (`git apply`): a
//! finding whose anchor bsu checked (verified or moved), with a suggestion
//! and its lines as the run saw them. Per file, hunks in line order; one
//! that overlaps an earlier one is left out. No model text reaches a header.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Report;
use crate::engine::verdict::{Anchor, Finding};

pub(crate) fn render(r: &Report) -> String {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for f in r
        .agents
        .iter()
        .filter_map(|a| a.verdict.as_ref())
        .flat_map(|v| &v.findings)
    {
        if applicable(f) && seen.insert((f.file.clone(), f.line)) {
            by_file
                .entry(f.file.as_deref().unwrap_or(""))
                .or_default()
                .push(f);
        }
    }
    let mut out = String::new();
    for (file, mut findings) in by_file {
        findings.sort_by_key(|f| f.line);
        let mut hunks = String::new();
        let (mut delta, mut last_end) = (0i64, 0u64);
        for f in findings {
            let Some(h) = hunk(f, delta) else { continue };
            if h.start <= last_end {
                continue;
            }
            hunks.push_str(&h.text);
            delta += h.delta;
            last_end = h.end;
        }
        if !hunks.is_empty() {
            let _ = write!(out, "{}{hunks}", header(file));
        }
    }
    out
}

/// One finding's suggestion as a patch of its own (what the JSON report's
/// `suggestion_diff` and the Markdown report show), when it is applicable.
pub(crate) fn one(f: &Finding) -> Option<String> {
    if !applicable(f) {
        return None;
    }
    let h = hunk(f, 0)?;
    Some(format!("{}{}", header(f.file.as_deref()?), h.text))
}

/// A finding whose suggestion can be applied: bsu checked its anchor
/// (verified or moved) and knows its lines; its path is safe in a header.
fn applicable(f: &Finding) -> bool {
    matches!(f.anchor, Some(Anchor::Verified | Anchor::Moved { .. }))
        && f.suggestion.is_some()
        && f.anchored.is_some()
        && f.line.is_some()
        && f.file.as_deref().is_some_and(safe_path)
}

fn header(file: &str) -> String {
    format!("diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n")
}

/// One suggestion's hunk, its new lines `delta` from the old ones.
struct Hunk {
    /// The first old line it shows (context included), and the last.
    start: u64,
    end: u64,
    text: String,
    /// New lines minus old lines.
    delta: i64,
}

fn hunk(f: &Finding, delta: i64) -> Option<Hunk> {
    let (Some(a), Some(text), Some(line)) = (&f.anchored, &f.suggestion, f.line) else {
        return None;
    };
    let start = line.checked_sub(a.before.len() as u64)?;
    let new: Vec<&str> = text.lines().collect();
    let old_len = a.before.len() + a.lines.len() + a.after.len();
    let new_len = a.before.len() + new.len() + a.after.len();
    let new_start = start as i64 + delta;
    let mut s = format!("@@ -{start},{old_len} +{new_start},{new_len} @@\n");
    for l in &a.before {
        let _ = writeln!(s, " {l}");
    }
    for l in &a.lines {
        let _ = writeln!(s, "-{l}");
    }
    for l in &new {
        let _ = writeln!(s, "+{l}");
    }
    for l in &a.after {
        let _ = writeln!(s, " {l}");
    }
    Some(Hunk {
        start,
        end: line + (a.lines.len() as u64).saturating_sub(1) + a.after.len() as u64,
        text: s,
        delta: new.len() as i64 - a.lines.len() as i64,
    })
}

/// A path a patch header can carry as it is: relative, no `..`, no
/// whitespace or control characters (git would quote it; bsu leaves it out).
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.split('/').any(|c| c == ".." || c.is_empty())
        && !p
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
}
