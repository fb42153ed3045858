//! A `files` input: the files under the project matching globs, with
//! `.gitignore` semantics (the `ignore` crate: ignored files stay out, `!`
//! excludes), in path order. Binary files are listed as excluded.

use std::path::Path;

use ignore::gitignore::GitignoreBuilder;
use ignore::WalkBuilder;

use super::InputError;
use super::{Gathered, Item, SourceInfo};
use crate::config::inputs::InputKind;
use crate::error::Result;
use crate::project_file::Entry;

/// Most files one `files` input may hold.
const MAX_FILES: usize = 10_000;
/// Files larger than this are left out (listed as excluded).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// What became of one selected file.
enum Read {
    Item(Item),
    Excluded(String),
    Unseen(String),
}

/// Read `rel` by the reading rule: a regular file inside the project, no
/// link followed; a symlink shows its target; a binary is left out.
fn read_one(root: &Path, rel: String) -> Read {
    let item = |label: &str, text: String| {
        Read::Item(Item {
            path: rel.clone(),
            label: label.into(),
            text,
            rank: 0,
            hunks: None,
        })
    };
    match crate::project_file::read(root, &rel, MAX_FILE_BYTES) {
        Entry::File(bytes) if !bytes.contains(&0) => match String::from_utf8(bytes) {
            Ok(text) => item("file", text),
            Err(_) => Read::Excluded(format!("{rel} (binary)")),
        },
        Entry::File(_) => Read::Excluded(format!("{rel} (binary)")),
        Entry::Symlink(target) => item("symlink, not followed", format!("symlink to {target}\n")),
        Entry::NotRead(why) => Read::Unseen(format!("{rel} (not read: it {why})")),
    }
}

pub(crate) fn gather(root: &Path, name: &str, globs: &[String]) -> Result<Gathered> {
    // The globs select files the way .gitignore lines select them: the last
    // line that matches decides, and `!` takes a file back out.
    let mut gb = GitignoreBuilder::new(root);
    for g in globs {
        gb.add_line(None, g).map_err(|e| InputError::BadGlob {
            input: name.to_string(),
            glob: g.clone(),
            why: e.to_string(),
        })?;
    }
    let select = gb.build().map_err(|e| InputError::Unreadable {
        what: format!("input {name}"),
        why: e.to_string(),
    })?;
    // The walk itself honours .gitignore (and .ignore): ignored files never come in.
    let walk = WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    let mut items = Vec::new();
    let mut excluded = Vec::new();
    let mut unseen = Vec::new();
    for entry in walk.flatten() {
        let Some(t) = entry.file_type() else { continue };
        if t.is_dir() {
            continue;
        }
        if !select
            .matched_path_or_any_parents(entry.path(), false)
            .is_ignore()
        {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if items.len() >= MAX_FILES {
            excluded.push(format!("{rel} (over the {MAX_FILES}-file limit)"));
            continue;
        }
        if entry.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
            excluded.push(format!("{rel} (larger than {} MiB)", MAX_FILE_BYTES >> 20));
            continue;
        }
        match read_one(root, rel) {
            Read::Item(i) => items.push(i),
            Read::Excluded(e) => excluded.push(e),
            Read::Unseen(why) => unseen.push(format!("{name}:{why}")),
        }
    }
    Ok(Gathered {
        name: name.to_string(),
        kind: InputKind::Files,
        source: SourceInfo {
            globs: globs.to_vec(),
            ..SourceInfo::default()
        },
        items,
        excluded,
        unseen,
        exit_code: None,
    })
}
