//! When two findings are one: the same place (the same file, and the same
//! line or overlapping ranges) and similar titles (at least half of the
//! shorter title's words shared, any case, punctuation dropped). The report
//! merges them into one finding naming every agent; the ledger gives them
//! one id.

use std::collections::HashMap;

use super::Finding;

/// A title's words, lower-cased, sorted, each once: what `Words::similar`
/// compares. Made once per finding where findings are compared in pairs (a
/// panel's 2,000 at one place, each pair's titles split again, took 4.3 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words(Vec<String>);

impl Words {
    pub(crate) fn of(title: &str) -> Words {
        let mut words: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        words.sort_unstable();
        words.dedup();
        Words(words)
    }

    /// At least half of the shorter title's words shared.
    pub(crate) fn similar(&self, other: &Words) -> bool {
        let (a, b) = (&self.0, &other.0);
        let shorter = a.len().min(b.len());
        if shorter == 0 {
            return false;
        }
        // Both sorted: count the words they share in one pass.
        let (mut i, mut j, mut shared) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        shared * 2 >= shorter
    }
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

/// Findings met so far, in order: the first of them a new finding is one
/// with, found among those in its file whose title shares a word with its
/// own (no other can be the same place with a similar title), not by
/// comparing it with every one.
#[derive(Debug, Default)]
pub(crate) struct Met {
    /// Each finding's first and last line (its file is its key in `by_word`).
    lines: Vec<(Option<u64>, Option<u64>)>,
    titles: Vec<Words>,
    /// For each file, for each word, the findings there whose title has
    /// it, in order.
    by_word: HashMap<Option<String>, HashMap<String, Vec<usize>>>,
}

impl Met {
    /// The first finding met at the same place with a similar title.
    pub(crate) fn first(&self, place: Place<'_>, title: &Words) -> Option<usize> {
        let in_file = self.by_word.get(&place.0.map(str::to_string))?;
        // The findings sharing a word, as bits: read back in order, each once.
        let mut sharing = vec![0u64; self.titles.len().div_ceil(64)];
        for i in title.0.iter().filter_map(|w| in_file.get(w)).flatten() {
            sharing[i / 64] |= 1 << (i % 64);
        }
        let same = |i: usize| {
            let (line, end) = self.lines[i];
            same_place((place.0, line, end), place) && self.titles[i].similar(title)
        };
        for (k, &bits) in sharing.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let i = k * 64 + bits.trailing_zeros() as usize;
                if same(i) {
                    return Some(i);
                }
                bits &= bits - 1;
            }
        }
        None
    }

    /// Meet a finding at `place` titled `title`: its index.
    pub(crate) fn meet(&mut self, place: Place<'_>, title: Words) -> usize {
        let i = self.titles.len();
        let in_file = self.by_word.entry(place.0.map(str::to_string)).or_default();
        for w in &title.0 {
            in_file.entry(w.clone()).or_default().push(i);
        }
        self.lines.push((place.1, place.2));
        self.titles.push(title);
        i
    }
}

impl Finding {
    pub(crate) fn place(&self) -> Place<'_> {
        (self.file.as_deref(), self.line, self.end_line)
    }
}

#[cfg(test)]
mod tests {
    use super::Words;
    use proptest::prelude::*;

    /// Do two titles say the same thing? As it was first written: each
    /// pair's words made into sets and intersected.
    fn similar_as_sets(a: &str, b: &str) -> bool {
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

    fn similar(a: &str, b: &str) -> bool {
        Words::of(a).similar(&Words::of(b))
    }

    #[test]
    fn titles_are_similar_when_half_the_shorter_ones_words_are_shared() {
        assert!(similar("Unchecked input", "unchecked  INPUT!"));
        assert!(similar("SQL injection in login", "Possible SQL injection"));
        assert!(!similar("SQL injection", "Off-by-one in loop"));
        assert!(similar("a a a b", "a c"), "each word once");
        assert!(!similar("", "anything"));
        assert!(!similar("?!", "?!"));
    }

    type Owned = (Option<String>, Option<u64>, Option<u64>, String);

    fn place(f: &Owned) -> super::Place<'_> {
        (f.0.as_deref(), f.1, f.2)
    }

    /// Each finding's index among the first ones, as `Met` finds it and
    /// as comparing it with every earlier first one does.
    fn firsts(findings: &[Owned]) -> (Vec<usize>, Vec<usize>) {
        let (mut met, mut by_index) = (super::Met::default(), Vec::new());
        let (mut linear, mut by_scan): (Vec<&Owned>, Vec<usize>) = (Vec::new(), Vec::new());
        for f in findings {
            let words = Words::of(&f.3);
            let i = match met.first(place(f), &words) {
                Some(i) => i,
                None => met.meet(place(f), words),
            };
            by_index.push(i);
            let same = |e: &&&Owned| super::same_place(place(e), place(f)) && similar(&e.3, &f.3);
            let j = match linear.iter().position(|e| same(&e)) {
                Some(j) => j,
                None => {
                    linear.push(f);
                    linear.len() - 1
                }
            };
            by_scan.push(j);
        }
        (by_index, by_scan)
    }

    #[test]
    fn met_findings_are_found_first_in_order_at_their_place() {
        let f = |file: &str, line: u64, title: &str| -> Owned {
            (Some(file.into()), Some(line), None, title.into())
        };
        let all = [
            f("a", 1, "SQL injection"),
            f("a", 2, "SQL injection"),
            f("a", 1, "possible sql injection here"),
            f("b", 1, "SQL injection"),
            f("a", 1, "Off by one"),
        ];
        let (by_index, by_scan) = firsts(&all);
        assert_eq!(by_index, [0, 1, 0, 2, 3]);
        assert_eq!(by_index, by_scan);
    }

    proptest! {
        #[test]
        fn met_finds_what_comparing_with_every_one_finds(
            findings in proptest::collection::vec(
                (
                    proptest::option::of("[ab]"),
                    proptest::option::of(1u64..5),
                    proptest::option::of(1u64..7),
                    "(sql|injection|loop|off|by|one|null| ){0,5}",
                ),
                0..40,
            )
        ) {
            let (by_index, by_scan) = firsts(&findings);
            prop_assert_eq!(by_index, by_scan);
        }

        #[test]
        fn words_answer_as_the_sets_did(
            a in "[a-dA-D ,.é1-2]{0,24}",
            b in "[a-dA-D ,.é1-2]{0,24}",
        ) {
            prop_assert_eq!(similar(&a, &b), similar_as_sets(&a, &b));
        }
    }
}
