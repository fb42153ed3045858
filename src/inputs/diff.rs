//! A unified diff, split per file: which files a change touches, in what
//! way, and which are left out on purpose (by glob, or because they are binary).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use super::Item;
use crate::config::inputs::DiffOptions;

/// Globs with gitignore's rule for the common case: a pattern without a `/`
/// matches a file name at any depth (`*.lock`), one with a `/` matches from
/// the top (`vendor/**`).
pub(crate) struct Matcher {
    names: GlobSet,
    paths: GlobSet,
}

impl Matcher {
    pub(crate) fn new(globs: &[String]) -> Matcher {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for g in globs {
            let g = g.trim_start_matches("./");
            if g.contains('/') {
                if let Ok(glob) = GlobBuilder::new(g.trim_start_matches('/'))
                    .literal_separator(true)
                    .build()
                {
                    paths.add(glob);
                }
            } else if let Ok(glob) = Glob::new(g) {
                names.add(glob);
            }
        }
        Matcher {
            names: names.build().unwrap_or_else(|_| GlobSet::empty()),
            paths: paths.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    pub(crate) fn is_match(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.names.is_match(name) || self.paths.is_match(path)
    }

    /// Index of the first glob in `globs` that matches, for ordering.
    fn first(globs: &[Matcher], path: &str) -> Option<usize> {
        globs.iter().position(|m| m.is_match(path))
    }
}

/// Packing rank of `path`: by `order` globs when given (unmatched last),
/// else source (0), then tests (1), then docs (2).
pub(crate) fn rank(path: &str, order: &[Matcher]) -> u32 {
    if !order.is_empty() {
        return Matcher::first(order, path).map_or(order.len() as u32, |i| i as u32);
    }
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let dirs: Vec<&str> = lower.split('/').collect();
    let in_dir = |d: &[&str]| {
        dirs[..dirs.len().saturating_sub(1)]
            .iter()
            .any(|x| d.contains(x))
    };
    let is_doc = in_dir(&["docs", "doc"])
        || [".md", ".rst", ".adoc", ".txt"]
            .iter()
            .any(|e| name.ends_with(e));
    let is_test = in_dir(&["test", "tests", "spec", "specs", "__tests__", "testdata"])
        || name.starts_with("test_")
        || name.contains("_test.")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.contains("_spec.");
    if is_doc {
        2
    } else if is_test {
        1
    } else {
        0
    }
}

/// One file of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDiff {
    /// The path after the change (before it, for a deletion).
    pub path: String,
    pub label: String,
    pub binary: bool,
    pub deleted: bool,
    pub text: String,
}

/// Split a unified diff (`git diff` output) into files.
pub(crate) fn split(patch: &str) -> Vec<FileDiff> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let flush = |c: Option<(String, Vec<&str>)>, out: &mut Vec<FileDiff>| {
        if let Some((header, lines)) = c {
            out.push(describe(&header, &lines));
        }
    };
    for line in patch.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            let prev = current.take();
            flush(prev, &mut out);
            current = Some((line.trim_end().to_string(), vec![line]));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    flush(current, &mut out);
    out
}

fn describe(header: &str, lines: &[&str]) -> FileDiff {
    let text: String = lines.concat();
    let mut old = None;
    let mut new = None;
    let mut label = "modified".to_string();
    let mut binary = false;
    let mut deleted = false;
    for l in lines.iter().take(12) {
        let l = l.trim_end_matches(['\n', '\r']);
        if let Some(p) = l.strip_prefix("--- ") {
            old = strip_side(p, "a/");
        } else if let Some(p) = l.strip_prefix("+++ ") {
            new = strip_side(p, "b/");
        } else if let Some(p) = l.strip_prefix("rename from ") {
            label = format!("renamed from {p}");
            old = Some(p.to_string());
        } else if let Some(p) = l.strip_prefix("rename to ") {
            new = Some(p.to_string());
        } else if l.starts_with("new file mode") {
            label = "added".into();
        } else if l.starts_with("deleted file mode") {
            label = "deleted".into();
            deleted = true;
        } else if l.starts_with("Binary files ") || l == "GIT binary patch" {
            binary = true;
        }
    }
    // Fall back on the header ("diff --git a/x b/x") for binary files and mode changes.
    let from_header = || {
        header
            .strip_prefix("diff --git a/")
            .and_then(|rest| rest.split_once(" b/"))
            .map(|(_, b)| b.to_string())
    };
    let path = new
        .or_else(|| if deleted { old.clone() } else { None })
        .or_else(from_header)
        .or(old)
        .unwrap_or_else(|| header.to_string());
    FileDiff {
        path,
        label,
        binary,
        deleted,
        text,
    }
}

fn strip_side(p: &str, side: &str) -> Option<String> {
    let p = p.trim_end();
    if p == "/dev/null" {
        return None;
    }
    let p = p
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(p);
    Some(p.strip_prefix(side).unwrap_or(p).to_string())
}

/// A given patch's items, with what was left out on purpose (and why) and
/// what counts as unseen: the rules of `git::given_patch_fate`.
pub(crate) struct FromPatch {
    pub items: Vec<Item>,
    pub excluded: Vec<String>,
    pub unseen: Vec<String>,
}

/// Items of a diff given with `--input NAME`.
pub(crate) fn items_from_patch(patch: &str, opts: &DiffOptions, name: &str) -> FromPatch {
    let any = Matcher::new(&opts.exclude);
    let globs: Vec<(&String, Matcher)> = opts
        .exclude
        .iter()
        .map(|g| (g, Matcher::new(std::slice::from_ref(g))))
        .collect();
    let order: Vec<Matcher> = opts
        .order
        .iter()
        .map(|g| Matcher::new(std::slice::from_ref(g)))
        .collect();
    let files = split(patch);
    let config_touched = files.iter().any(|f| {
        f.path == "events.toml" || (f.path.starts_with("agents/") && f.path.ends_with(".toml"))
    });
    let mut out = FromPatch {
        items: Vec::new(),
        excluded: Vec::new(),
        unseen: Vec::new(),
    };
    for f in files {
        let glob = any
            .is_match(&f.path)
            .then(|| {
                globs
                    .iter()
                    .find(|(_, m)| m.is_match(&f.path))
                    .map(|(g, _)| g.as_str())
            })
            .flatten();
        let added = f.label == "added";
        match super::git::given_patch_fate(&f.path, added, f.binary, &f.text, glob, config_touched)
        {
            Some(super::git::Fate::Excluded(why)) => {
                out.excluded.push(format!("{} ({why})", f.path))
            }
            Some(super::git::Fate::Unseen(why) | super::git::Fate::Shown(why)) => {
                out.unseen.push(format!("{name}:{} ({why})", f.path))
            }
            None => out.items.push(Item {
                rank: rank(&f.path, &order),
                path: f.path,
                label: f.label,
                text: f.text,
                hunks: None,
            }),
        }
    }
    out.items
        .sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.path.cmp(&b.path)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "diff --git a/src/lib.rs b/src/lib.rs\nindex 1..2 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n\
diff --git a/old.rs b/new.rs\nsimilarity index 90%\nrename from old.rs\nrename to new.rs\n\
diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0..1\nBinary files /dev/null and b/logo.png differ\n\
diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1 +1 @@\n-x\n+y\n\
diff --git a/tests/t.rs b/tests/t.rs\ndeleted file mode 100644\n--- a/tests/t.rs\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n\
diff --git a/docs/a.md b/docs/a.md\nnew file mode 100644\n--- /dev/null\n+++ b/docs/a.md\n@@ -0,0 +1 @@\n+doc\n";

    #[test]
    fn a_patch_splits_into_labelled_files() {
        let files = split(PATCH);
        let got: Vec<(&str, &str, bool)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.label.as_str(), f.binary))
            .collect();
        assert_eq!(
            got,
            [
                ("src/lib.rs", "modified", false),
                ("new.rs", "renamed from old.rs", false),
                ("logo.png", "added", true),
                ("Cargo.lock", "modified", false),
                ("tests/t.rs", "deleted", false),
                ("docs/a.md", "added", false),
            ]
        );
        assert!(files[0].text.ends_with("+b\n"));
    }

    #[test]
    fn items_are_ordered_source_tests_docs_and_exclusions_listed() {
        let opts = DiffOptions {
            exclude: vec!["*.lock".into()],
            context_lines: 3,
            include_untracked: false,
            fetch: false,
            order: vec![],
            scope: Default::default(),
        };
        let got = items_from_patch(PATCH, &opts, "diff");
        let paths: Vec<&str> = got.items.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["new.rs", "src/lib.rs", "tests/t.rs", "docs/a.md"]);
        assert_eq!(
            got.excluded,
            [
                "logo.png (binary)",
                "Cargo.lock (lockfile, excluded by rule *.lock)"
            ]
        );
        assert!(got.unseen.is_empty());
        // A script the given patch calls binary, and a generated-looking name
        // without a marker, are unseen: the patch may be the attacker's.
        let hostile = "diff --git a/deploy.sh b/deploy.sh\nBinary files a/deploy.sh and b/deploy.sh differ\n\
diff --git a/x.min.js b/x.min.js\nnew file mode 100644\n--- /dev/null\n+++ b/x.min.js\n@@ -0,0 +1 @@\n+evil()\n";
        let opts = DiffOptions {
            exclude: vec!["*.min.js".into()],
            ..opts
        };
        let got = items_from_patch(hostile, &opts, "diff");
        assert_eq!(got.unseen.len(), 2, "{:?}", got.unseen);
    }

    #[test]
    fn globs_follow_gitignore_for_names_and_paths() {
        let m = Matcher::new(&["*.lock".into(), "vendor/**".into()]);
        assert!(m.is_match("a/b/yarn.lock"));
        assert!(m.is_match("vendor/x/y.go"));
        assert!(!m.is_match("src/vendor/x.go"));
        assert!(!m.is_match("src/lock.rs"));
    }
}
