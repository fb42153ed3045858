//! What a change's files hold, read as safely as they can be: untracked
//! files by the reading rule, committed ones by object id through one
//! `git cat-file --batch` whose every answer is checked against the id asked.

use std::collections::HashMap;
use std::path::Path;

use super::change::{RawEntry, MAX_WHOLE_BYTES, MAX_WHOLE_FILES, ZERO_OID};
use super::classify::{self, Probe};
use super::{quote, Git, Range};
use crate::error::Result;
use crate::project_file::{self, Entry};

/// Bytes of a file looked at to tell text from binary and find a generated marker.
const PROBE_BYTES: usize = 8_000;

/// Untracked files of the working tree (git's own ignore rules apply), as
/// entries with a patch made from their text; read by the reading rule.
pub(super) async fn untracked(
    git: Git<'_>,
    top: &Path,
    what: &str,
) -> Result<Vec<(RawEntry, Vec<u8>)>> {
    let list = git
        .ok(
            &[
                "ls-files",
                "--others",
                "--exclude-standard",
                "-z",
                "--full-name",
            ],
            what,
        )
        .await?;
    let mut out = Vec::new();
    for path in list.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let name = String::from_utf8_lossy(path).into_owned();
        let entry = RawEntry {
            status: b'A',
            new_mode: "100644".into(),
            old_oid: ZERO_OID.into(),
            new_oid: ZERO_OID.into(),
            old_path: None,
            path: path.to_vec(),
        };
        let header = entry.header();
        let mut text = header.clone();
        text.extend_from_slice(b"\nnew file mode 100644\n");
        match project_file::read(top, &name, MAX_WHOLE_BYTES as u64) {
            Entry::File(bytes) if classify::is_text(&bytes) => {
                let body = String::from_utf8_lossy(&bytes);
                let lines: Vec<&str> = body.lines().collect();
                text.extend_from_slice(
                    format!(
                        "--- /dev/null\n+++ {}\n@@ -0,0 +1,{} @@\n",
                        String::from_utf8_lossy(&quote::quote(&[b"b/", path].concat())),
                        lines.len()
                    )
                    .as_bytes(),
                );
                for l in lines {
                    text.push(b'+');
                    text.extend_from_slice(l.as_bytes());
                    text.push(b'\n');
                }
            }
            Entry::File(_) => text.extend_from_slice(b"Binary files differ\n"),
            Entry::Symlink(target) => {
                text.extend_from_slice(format!("+{target}\n\\ symlink\n").as_bytes())
            }
            // Named as unseen by the classification, which reads the file again.
            Entry::NotRead(_) => text.extend_from_slice(b"Binary files differ\n"),
        }
        out.push((entry, text));
    }
    Ok(out)
}

/// The files whose content the classification or `changed_files` needs:
/// every file git shows as binary, every file a default rule would leave
/// out, and with `whole` every file up to the cap.
pub(super) async fn probe(
    git: Git<'_>,
    top: &Path,
    range: &Range,
    entries: &[RawEntry],
    texts: &[Option<Vec<u8>>],
    whole: bool,
) -> HashMap<usize, Probe> {
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    let mut whole_count = 0;
    for (i, e) in entries.iter().enumerate() {
        let binaryish = texts[i].as_deref().is_some_and(classify::git_says_binary);
        let keep = if whole && e.status != b'D' && whole_count < MAX_WHOLE_FILES {
            whole_count += 1;
            MAX_WHOLE_BYTES + 1
        } else if binaryish || classify::default_rule(&e.name()).is_some() {
            PROBE_BYTES
        } else {
            continue;
        };
        wanted.push((i, keep));
    }
    let mut out = HashMap::new();
    let mut by_oid: Vec<(usize, String, usize)> = Vec::new();
    for (i, keep) in wanted {
        let e = &entries[i];
        let deleted = e.status == b'D';
        if range.head.is_none() && !deleted {
            let entry = project_file::read(top, &e.name(), 64 * 1024 * 1024);
            out.insert(i, Probe::from_entry(entry, keep));
            continue;
        }
        let oid = if deleted { &e.old_oid } else { &e.new_oid };
        if e.new_mode == "120000" && !deleted {
            by_oid.push((i, oid.clone(), 4096));
        } else if e.new_mode == "160000" || oid == ZERO_OID {
            continue;
        } else {
            by_oid.push((i, oid.clone(), keep));
        }
    }
    let oids: Vec<(String, usize)> = by_oid.iter().map(|(_, o, k)| (o.clone(), *k)).collect();
    let blobs = cat_blobs(git, &oids).await;
    for ((i, _, _), blob) in by_oid.into_iter().zip(blobs) {
        let Some((data, complete)) = blob else {
            out.insert(i, Probe::Missing);
            continue;
        };
        let probe = if entries[i].new_mode == "120000" && entries[i].status != b'D' {
            Probe::Symlink(String::from_utf8_lossy(&data).into_owned())
        } else {
            Probe::Bytes { data, complete }
        };
        out.insert(i, probe);
    }
    out
}

/// `git cat-file --batch` by object id: for each (id, keep), the first
/// `keep` bytes of the blob and whether that was all of it. Every answer's
/// header must name the id asked and a blob; the first that does not ends
/// the reading, and it and every later one is `None` (unseen), never shifted.
pub(super) async fn cat_blobs(
    git: Git<'_>,
    wanted: &[(String, usize)],
) -> Vec<Option<(Vec<u8>, bool)>> {
    let mut out: Vec<Option<(Vec<u8>, bool)>> = vec![None; wanted.len()];
    if wanted.is_empty() {
        return out;
    }
    let request: String = wanted.iter().map(|(o, _)| format!("{o}\n")).collect();
    let Ok(res) = git
        .output_with(&["cat-file", "--batch"], request.into_bytes())
        .await
    else {
        return out;
    };
    let bytes = res.stdout;
    let mut pos = 0;
    for (slot, (oid, keep)) in out.iter_mut().zip(wanted) {
        let Some(nl) = bytes[pos..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let header = &bytes[pos..pos + nl];
        pos += nl + 1;
        let fields: Vec<&[u8]> = header.split(|b| *b == b' ').collect();
        let size = match fields[..] {
            [id, b"blob", size] if id == oid.as_bytes() => std::str::from_utf8(size)
                .ok()
                .and_then(|s| s.parse::<usize>().ok()),
            [id, b"missing"] if id == oid.as_bytes() => continue,
            _ => None,
        };
        let Some(size) = size.filter(|n| pos + n < bytes.len() + 1) else {
            break;
        };
        let data = bytes[pos..pos + size.min(*keep)].to_vec();
        *slot = Some((data, size <= *keep));
        pos += size;
        if bytes.get(pos) != Some(&b'\n') {
            break;
        }
        pos += 1;
    }
    out
}
