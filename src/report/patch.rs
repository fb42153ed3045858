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
        let applicable = matches!(f.anchor, Some(Anchor::Verified | Anchor::Moved { .. }))
            && f.suggestion.is_some()
            && f.anchored.is_some()
            && f.line.is_some();
        let safe = f.file.as_deref().is_some_and(safe_path);
        if applicable && safe && seen.insert((f.file.clone(), f.line)) {
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
            let (Some(a), Some(text), Some(line)) = (&f.anchored, &f.suggestion, f.line) else {
                continue;
            };
            let start = line - a.before.len() as u64;
            if start <= last_end {
                continue;
            }
            let new: Vec<&str> = text.lines().collect();
            let old_len = a.before.len() + a.lines.len() + a.after.len();
            let new_len = a.before.len() + new.len() + a.after.len();
            let new_start = start as i64 + delta;
            let _ = writeln!(hunks, "@@ -{start},{old_len} +{new_start},{new_len} @@");
            for l in &a.before {
                let _ = writeln!(hunks, " {l}");
            }
            for l in &a.lines {
                let _ = writeln!(hunks, "-{l}");
            }
            for l in &new {
                let _ = writeln!(hunks, "+{l}");
            }
            for l in &a.after {
                let _ = writeln!(hunks, " {l}");
            }
            delta += new.len() as i64 - a.lines.len() as i64;
            last_end = line + a.lines.len() as u64 - 1 + a.after.len() as u64;
        }
        if !hunks.is_empty() {
            let _ = write!(
                out,
                "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n{hunks}"
            );
        }
    }
    out
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
