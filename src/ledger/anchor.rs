//! What a finding is anchored to: the text of its line in the new version,
//! read from what the run gathered (a changed file's whole text, else the
//! new side of its hunks). Line numbers move when lines above change; the
//! text is what a finding's id and "its lines are gone" are told by.

use crate::config::inputs::InputKind;
use crate::inputs::Gathered;

/// Whitespace collapsed, at most 200 characters: how anchors compare.
pub(crate) fn normal(line: &str) -> String {
    crate::text::one_line(line, 200)
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

/// The anchored text of `file:line`, when the run saw that line.
pub(crate) fn at(inputs: &[Gathered], file: &str, line: u64) -> Option<String> {
    new_lines(inputs, file)
        .into_iter()
        .find(|(n, _)| *n == line)
        .map(|(_, text)| normal(text))
        .filter(|t| !t.is_empty())
}

/// Whether a line reading `anchor` is still in `file` at the head:
/// `Some(false)` when the file is deleted or its whole new text lacks it,
/// `Some(true)` when a line the run saw reads so, `None` when the run saw
/// too little to tell (the finding then stays as it was).
pub(crate) fn still_there(inputs: &[Gathered], file: &str, anchor: &str) -> Option<bool> {
    let mut whole = false;
    for g in inputs {
        for item in g.items.iter().filter(|i| i.path == file) {
            if item.label.starts_with("deleted") {
                return Some(false);
            }
            // A changed file's whole text, or an added file's patch (its
            // new side is the whole file).
            whole |= (g.kind == InputKind::ChangedFiles && item.hunks.is_some())
                || (g.kind == InputKind::GitDiff && item.label == "added");
        }
    }
    let found = new_lines(inputs, file)
        .iter()
        .any(|(_, text)| normal(text) == anchor);
    match (found, whole) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_side_of_hunks_is_numbered() {
        let patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10 +11 @@\n-y\n+Y\n";
        assert_eq!(
            hunk_new_side(patch),
            vec![(1, "a"), (2, "B"), (3, "C"), (4, "c"), (11, "Y")]
        );
    }
}
