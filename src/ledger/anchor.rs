//! What a finding is anchored to: the text of its line in the new version,
//! read from what the run gathered (a changed file's whole text, else the
//! new side of its hunks). Line numbers move when lines above change; the
//! text is what a finding's id and "its lines are gone" are told by.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::config::inputs::InputKind;
use crate::inputs::Gathered;

/// Whitespace collapsed, at most 200 characters: how anchors compare.
pub(crate) fn normal(line: &str) -> String {
    crate::text::one_line(line, 200)
}

/// The lines of each file the run saw, read from `inputs` once per file
/// for every finding that asks: a run's findings (up to a panel's 2,000)
/// each look at their file's lines several times, and the change can hold
/// one large file. Split per finding, 2,200 findings on a 1.3 MB file took
/// 1.2 s.
pub(crate) struct Lines<'a> {
    inputs: &'a [Gathered],
    files: RefCell<HashMap<String, Rc<File<'a>>>>,
}

/// One file as the run saw it.
struct File<'a> {
    /// The new version's lines, by number, in the order read.
    lines: Vec<(u64, &'a str)>,
    /// The first line read of each number.
    numbered: HashMap<u64, &'a str>,
    /// Every line, `normal`ized, once asked for.
    normal: OnceCell<HashSet<String>>,
    /// Where each line, trimmed, is in `lines`, once asked for.
    trimmed: OnceCell<HashMap<&'a str, Vec<usize>>>,
    /// Deleted at the head.
    deleted: bool,
    /// The run saw its whole new text (a changed file's, or an added
    /// file's patch, whose new side is the whole file).
    whole: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(inputs: &'a [Gathered]) -> Lines<'a> {
        Lines {
            inputs,
            files: RefCell::default(),
        }
    }

    fn file(&self, name: &str) -> Rc<File<'a>> {
        if let Some(f) = self.files.borrow().get(name) {
            return f.clone();
        }
        let lines = new_lines(self.inputs, name);
        let mut numbered = HashMap::new();
        for (n, text) in &lines {
            numbered.entry(*n).or_insert(*text);
        }
        let (mut deleted, mut whole) = (false, false);
        for g in self.inputs {
            for item in g.items.iter().filter(|i| i.path == name) {
                deleted |= item.label.starts_with("deleted");
                whole |= (g.kind == InputKind::ChangedFiles && item.hunks.is_some())
                    || (g.kind == InputKind::GitDiff && item.label == "added");
            }
        }
        let f = Rc::new(File {
            lines,
            numbered,
            normal: OnceCell::new(),
            trimmed: OnceCell::new(),
            deleted,
            whole,
        });
        self.files.borrow_mut().insert(name.to_string(), f.clone());
        f
    }

    /// Where `quote` is among the lines of `file` the run saw: the first and
    /// last line of a run of consecutive lines that read as the quote does
    /// (each line trimmed; blank lines at its ends ignored), the one starting
    /// at `near` if there is one, else the nearest to it.
    pub(crate) fn locate(&self, file: &str, quote: &str, near: Option<u64>) -> Option<(u64, u64)> {
        let wanted: Vec<&str> = quote.lines().map(str::trim).collect();
        let first = wanted.iter().position(|l| !l.is_empty())?;
        let last = wanted.iter().rposition(|l| !l.is_empty())?;
        let wanted = &wanted[first..=last];
        let file = self.file(file);
        let lines = &file.lines;
        let trimmed = file.trimmed.get_or_init(|| {
            let mut at: HashMap<&str, Vec<usize>> = HashMap::new();
            for (i, (_, text)) in lines.iter().enumerate() {
                at.entry(text.trim()).or_default().push(i);
            }
            at
        });
        let mut found: Vec<(u64, u64)> = Vec::new();
        // Runs start where the quote's first line is.
        for &i in trimmed.get(wanted[0]).map_or(&[][..], Vec::as_slice) {
            let Some(run) = lines.get(i..i + wanted.len()) else {
                continue;
            };
            let consecutive = run.windows(2).all(|w| w[1].0 == w[0].0 + 1);
            if consecutive
                && run
                    .iter()
                    .zip(wanted)
                    .all(|((_, have), want)| have.trim() == *want)
            {
                found.push((run[0].0, run[run.len() - 1].0));
            }
        }
        let near = near.unwrap_or(0);
        found
            .into_iter()
            .min_by_key(|(start, _)| start.abs_diff(near))
    }

    /// Lines `start..=end` of `file` as the run saw them, with up to
    /// `context` consecutive lines each side; `None` unless every line of
    /// the range was seen.
    pub(crate) fn around(
        &self,
        file: &str,
        (start, end): (u64, u64),
        context: u64,
    ) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
        let file = self.file(file);
        let at = |n: u64| file.numbered.get(&n).map(|t| (*t).to_string());
        let range: Vec<String> = (start..=end).map(at).collect::<Option<_>>()?;
        let mut before = Vec::new();
        for n in (start.saturating_sub(context).max(1)..start).rev() {
            match at(n) {
                Some(t) => before.insert(0, t),
                None => break,
            }
        }
        let after: Vec<String> = (end + 1..=end + context).map_while(at).collect();
        Some((before, range, after))
    }

    /// The anchored text of `file:line`, when the run saw that line.
    pub(crate) fn at(&self, file: &str, line: u64) -> Option<String> {
        self.file(file)
            .numbered
            .get(&line)
            .map(|text| normal(text))
            .filter(|t| !t.is_empty())
    }

    /// Whether a line reading `anchor` is still in `file` at the head:
    /// `Some(false)` when the file is deleted or its whole new text lacks
    /// it, `Some(true)` when a line the run saw reads so, `None` when the run
    /// saw too little to tell (the finding then stays as it was).
    pub(crate) fn still_there(&self, file: &str, anchor: &str) -> Option<bool> {
        let file = self.file(file);
        if file.deleted {
            return Some(false);
        }
        let normal = file
            .normal
            .get_or_init(|| file.lines.iter().map(|(_, t)| normal(t)).collect());
        match (normal.contains(anchor), file.whole) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            (false, false) => None,
        }
    }
}

/// The new version's lines of `file` that the run saw, by number.
fn new_lines<'a>(inputs: &'a [Gathered], file: &str) -> Vec<(u64, &'a str)> {
    let mut hunk_lines = Vec::new();
    for g in inputs {
        for item in g.items.iter().filter(|i| i.path == file) {
            match (g.kind, &item.hunks) {
                // The whole new text: every line, numbered.
                (InputKind::ChangedFiles, Some(_)) => {
                    return (1..).zip(item.text.lines()).collect();
                }
                (InputKind::GitDiff | InputKind::ChangedFiles, _) => {
                    hunk_lines.extend(hunk_new_side(&item.text));
                }
                _ => {}
            }
        }
    }
    hunk_lines
}

/// The new side of a patch's hunks: context and added lines, numbered.
pub(crate) fn hunk_new_side(patch: &str) -> Vec<(u64, &str)> {
    let mut out = Vec::new();
    let mut next: Option<u64> = None;
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("@@ ") {
            // @@ -a,b +c,d @@
            next = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix('+'))
                .and_then(|w| w.split(',').next())
                .and_then(|n| n.parse().ok());
            continue;
        }
        let Some(n) = next else { continue };
        match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++ ") => {
                out.push((n, &line[1..]));
                next = Some(n + 1);
            }
            Some(b' ') => {
                out.push((n, &line[1..]));
                next = Some(n + 1);
            }
            Some(b'-') | Some(b'\\') => {}
            _ => next = None,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(patch: &str) -> Vec<Gathered> {
        vec![Gathered {
            name: "diff".into(),
            kind: InputKind::GitDiff,
            source: Default::default(),
            items: vec![crate::inputs::Item {
                path: "x".into(),
                label: "modified".into(),
                text: patch.into(),
                rank: 0,
                hunks: None,
            }],
            excluded: vec![],
            unseen: vec![],
            exit_code: None,
        }]
    }

    #[test]
    fn a_quote_is_found_where_its_lines_read_so_nearest_first() {
        let g = diff("@@ -1,2 +1,5 @@\n a\n+x = 1\n+y\n b\n+x = 1\n");
        let g = Lines::new(&g);
        assert_eq!(g.locate("x", "x = 1", Some(5)), Some((5, 5)));
        assert_eq!(g.locate("x", "x = 1", Some(1)), Some((2, 2)));
        assert_eq!(g.locate("x", "\n  x = 1\n   y  \n\n", None), Some((2, 3)));
        assert_eq!(g.locate("x", "z", None), None);
        assert_eq!(
            g.locate("x", "  \n ", None),
            None,
            "a blank quote locates nothing"
        );
        assert_eq!(g.locate("other", "a", None), None);
    }

    #[test]
    fn a_files_lines_answer_every_question_alike_when_asked_again() {
        let mut g = diff("@@ -1,2 +1,4 @@\n a\n+x  =  1\n+y\n b\n");
        let mut added = g[0].items[0].clone();
        added.path = "new".into();
        added.label = "added".into();
        let mut gone = g[0].items[0].clone();
        gone.path = "gone".into();
        gone.label = "deleted".into();
        g[0].items.extend([added, gone]);
        let lines = Lines::new(&g);
        for _ in 0..2 {
            assert_eq!(lines.at("x", 2).as_deref(), Some("x = 1"));
            assert_eq!(lines.at("x", 9), None);
            assert_eq!(
                lines.around("x", (2, 3), 3),
                Some((
                    vec!["a".into()],
                    vec!["x  =  1".into(), "y".into()],
                    vec!["b".into()]
                ))
            );
            assert_eq!(lines.around("x", (2, 7), 1), None, "line 7 was not seen");
            assert_eq!(lines.still_there("x", "y"), Some(true));
            assert_eq!(lines.still_there("x", "z"), None, "only hunks were seen");
            assert_eq!(
                lines.still_there("new", "z"),
                Some(false),
                "its whole text was seen"
            );
            assert_eq!(lines.still_there("gone", "y"), Some(false));
        }
    }

    #[test]
    fn the_new_side_of_hunks_is_numbered() {
        let patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10 +11 @@\n-y\n+Y\n";
        assert_eq!(
            hunk_new_side(patch),
            vec![(1, "a"), (2, "B"), (3, "C"), (4, "c"), (11, "Y")]
        );
    }
}
