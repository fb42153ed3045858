//! Matching findings to golden ones. By location first: the same file, and
//! lines that overlap the golden range widened by the tolerance (a golden
//! finding with a file but no line matches anywhere in that file), with the
//! finding's title and detail similar enough to the golden description.
//! Then, when a judge answered, the pairs it said are the same issue — the
//! only way a golden finding without a location is matched. Each golden
//! finding matches at most one finding and each finding at most one golden
//! one: best pairs first (location before judge, then the most similar,
//! then the nearest, then the earliest).

use std::collections::BTreeMap;

use super::case::Golden;
use crate::vocab::Severity;

/// A finding as an eval sees it: one agent's, or the panel's merged one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub end_line: Option<u64>,
    pub agents: Vec<String>,
}

impl Found {
    /// What identifies it to the judge (the same text is asked once).
    pub(crate) fn key(&self) -> String {
        format!(
            "{}:{}:{}\n{}\n{}",
            self.file.as_deref().unwrap_or(""),
            self.line.map(|l| l.to_string()).unwrap_or_default(),
            self.end_line.map(|l| l.to_string()).unwrap_or_default(),
            self.title,
            self.detail
        )
    }
}

/// How a pair was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum How {
    Location,
    Judge,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub tolerance: u64,
    pub min_similarity: f64,
}

/// The judge's answers: (golden index, finding key) → same issue or not.
pub(crate) type Judged = BTreeMap<(usize, String), bool>;

/// A golden finding (by index) matched to a finding (by index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pair {
    pub golden: usize,
    pub found: usize,
    pub how: How,
    pub similarity: f64,
}

/// Text similarity of a finding to a golden description, 0 to 1: the
/// Sørensen–Dice coefficient of character bigrams (lowercase, whitespace
/// folded), the better of the title alone and title with detail.
pub(crate) fn similarity(g: &Golden, f: &Found) -> f64 {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let d = norm(&g.description);
    let title = norm(&f.title);
    let both = norm(&format!("{} {}", f.title, f.detail));
    strsim::sorensen_dice(&d, &title).max(strsim::sorensen_dice(&d, &both))
}

/// Are they at the same place, within `tolerance` lines? `None` when the
/// golden finding has no file (only a judge can match it).
pub(crate) fn near(g: &Golden, f: &Found, tolerance: u64) -> Option<bool> {
    let gf = g.file.as_deref()?;
    if f.file.as_deref() != Some(gf) {
        return Some(false);
    }
    let Some(gl) = g.line else { return Some(true) };
    let Some(fl) = f.line else { return Some(false) };
    let (lo, hi) = (
        gl.saturating_sub(tolerance),
        g.end_line.unwrap_or(gl).saturating_add(tolerance),
    );
    let fe = f.end_line.unwrap_or(fl).max(fl);
    Some(fl <= hi && lo <= fe)
}

fn distance(g: &Golden, f: &Found) -> u64 {
    match (g.line, f.line) {
        (Some(a), Some(b)) => a.abs_diff(b),
        _ => 0,
    }
}

/// The pairs, best first, each golden and each finding used once.
pub(crate) fn assign(
    golden: &[Golden],
    found: &[Found],
    rules: Rules,
    judged: &Judged,
) -> Vec<Pair> {
    let mut options: Vec<(Pair, u64)> = Vec::new();
    for (gi, g) in golden.iter().enumerate() {
        for (fi, f) in found.iter().enumerate() {
            let sim = similarity(g, f);
            let by_location =
                near(g, f, rules.tolerance) == Some(true) && sim >= rules.min_similarity;
            let how = if by_location {
                How::Location
            } else if judged.get(&(gi, f.key())) == Some(&true)
                && near(g, f, rules.tolerance) != Some(false)
            {
                How::Judge
            } else {
                continue;
            };
            let pair = Pair {
                golden: gi,
                found: fi,
                how,
                similarity: sim,
            };
            options.push((pair, distance(g, f)));
        }
    }
    options.sort_by(|(a, da), (b, db)| {
        (a.how == How::Judge)
            .cmp(&(b.how == How::Judge))
            .then(b.similarity.total_cmp(&a.similarity))
            .then(da.cmp(db))
            .then(a.golden.cmp(&b.golden))
            .then(a.found.cmp(&b.found))
    });
    let (mut g_used, mut f_used) = (vec![false; golden.len()], vec![false; found.len()]);
    let mut out = Vec::new();
    for (p, _) in options {
        if g_used[p.golden] || f_used[p.found] {
            continue;
        }
        g_used[p.golden] = true;
        f_used[p.found] = true;
        out.push(p);
    }
    out.sort_by_key(|p| (p.golden, p.found));
    out
}

/// The findings (by index) that fall into a known trap: at its place (or
/// anywhere, for a trap without a file) and similar enough to it.
pub(crate) fn traps(absent: &[Golden], found: &[Found], rules: Rules) -> Vec<usize> {
    (0..found.len())
        .filter(|i| {
            absent.iter().any(|t| {
                near(t, &found[*i], rules.tolerance) != Some(false)
                    && similarity(t, &found[*i]) >= rules.min_similarity
            })
        })
        .collect()
}

/// The pairs a judge should be asked about after matching by location:
/// each golden finding still open with each finding still open that is not
/// at a different place (a located golden finding is never matched across
/// files or beyond the tolerance).
pub(crate) fn to_judge(golden: &[Golden], found: &[Found], rules: Rules) -> Vec<(usize, usize)> {
    let pairs = assign(golden, found, rules, &Judged::new());
    let mut out = Vec::new();
    for (gi, g) in golden.iter().enumerate() {
        if pairs.iter().any(|p| p.golden == gi) {
            continue;
        }
        for (fi, f) in found.iter().enumerate() {
            if pairs.iter().any(|p| p.found == fi) || near(g, f, rules.tolerance) == Some(false) {
                continue;
            }
            out.push((gi, fi));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(desc: &str, file: Option<&str>, line: Option<u64>) -> Golden {
        Golden {
            description: desc.into(),
            severity: Severity::High,
            file: file.map(Into::into),
            line,
            end_line: None,
        }
    }

    fn found(title: &str, file: &str, line: u64) -> Found {
        Found {
            severity: Severity::High,
            title: title.into(),
            detail: String::new(),
            file: Some(file.into()),
            line: Some(line),
            end_line: None,
            agents: vec!["a".into()],
        }
    }

    const RULES: Rules = Rules {
        tolerance: 3,
        min_similarity: 0.2,
    };

    #[test]
    fn location_within_tolerance_and_similar_text_match_once() {
        let g = [golden(
            "SQL injection in the query",
            Some("db.py"),
            Some(10),
        )];
        let f = [
            found("SQL injection via format", "db.py", 13),
            found("SQL injection via format", "db.py", 10),
            found("SQL injection via format", "db.py", 14),
            found("SQL injection", "web.py", 10),
        ];
        let pairs = assign(&g, &f, RULES, &Judged::new());
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].found, pairs[0].how), (1, How::Location));
        assert_eq!(near(&g[0], &f[2], 3), Some(false), "beyond tolerance");
    }

    #[test]
    fn unlike_text_at_the_place_needs_the_judge() {
        let g = [golden("Race on the counter", Some("a.rs"), Some(5))];
        let f = [found("xyz", "a.rs", 5)];
        assert!(assign(&g, &f, RULES, &Judged::new()).is_empty());
        assert_eq!(to_judge(&g, &f, RULES), vec![(0, 0)]);
        let judged = Judged::from([((0, f[0].key()), true)]);
        assert_eq!(assign(&g, &f, RULES, &judged)[0].how, How::Judge);
    }

    #[test]
    fn a_locationless_golden_finding_matches_only_by_the_judge() {
        let g = [golden("Missing auth check", None, None)];
        let f = [found("Missing auth check", "x.rs", 1)];
        assert!(assign(&g, &f, RULES, &Judged::new()).is_empty());
        let judged = Judged::from([((0, f[0].key()), true)]);
        assert_eq!(assign(&g, &f, RULES, &judged).len(), 1);
    }
}
