//! When two findings are one: the same place (the same file, and the same
//! line or overlapping ranges) and similar titles (at least half of the
//! shorter title's words shared, any case, punctuation dropped). The report
//! merges them into one finding naming every agent; the ledger gives them
//! one id.

use super::Finding;

/// Do two titles say the same thing?
pub(crate) fn similar(a: &str, b: &str) -> bool {
    let words = |t: &str| -> std::collections::BTreeSet<String> {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let shared = a.intersection(&b).count();
    let shorter = a.len().min(b.len());
    shorter > 0 && shared * 2 >= shorter
}

/// A finding's place: its file, first line and last line.
pub(crate) type Place<'a> = (Option<&'a str>, Option<u64>, Option<u64>);

/// The same place: the same file, and the same line or overlapping ranges.
pub(crate) fn same_place(a: Place<'_>, b: Place<'_>) -> bool {
    if a.0 != b.0 {
        return false;
    }
    match (a.1, b.1) {
        (Some(x), Some(y)) => x <= b.2.unwrap_or(y) && y <= a.2.unwrap_or(x),
        (None, None) => true,
        _ => false,
    }
}

impl Finding {
    pub(crate) fn place(&self) -> Place<'_> {
        (self.file.as_deref(), self.line, self.end_line)
    }

    /// Are these two findings one (the panel agrees)?
    pub(crate) fn same_issue(&self, other: &Finding) -> bool {
        same_place(self.place(), other.place()) && similar(&self.title, &other.title)
    }
}
