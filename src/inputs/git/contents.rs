//! What a change's files hold, read as safely as they can be: untracked
//! files by the reading rule, committed ones by object id through one
//! `git cat-file --batch` whose every answer is checked against the id asked.

use std::collections::HashMap;

use std::path::Path;
use tokio::io::AsyncWriteExt;

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
    // Read on a blocking thread: the working tree may hold many new files.
    let top = top.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let top = top.as_path();
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
        out
    })
    .await
    .map_err(|e| crate::error::Error::Failed(format!("{what}: {e}")))?;
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
    let mut on_disk: Vec<(usize, String, usize)> = Vec::new();
    for (i, keep) in wanted {
        let e = &entries[i];
        let deleted = e.status == b'D';
        if range.head.is_none() && !deleted {
            on_disk.push((i, e.name(), keep));
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
    // The working tree's files are read on a blocking thread, each no further than needed.
    let top = top.to_path_buf();
    let read = tokio::task::spawn_blocking(move || {
        on_disk
            .into_iter()
            .map(|(i, name, keep)| {
                (
                    i,
                    Probe::from_head(project_file::read_head(&top, &name, keep as u64)),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    out.extend(read);
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
    let Ok((mut child, _group)) = git.spawn_piped(&["cat-file", "--batch"]) else {
        return out;
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return out;
    };
    let request: String = wanted.iter().map(|(o, _)| format!("{o}\n")).collect();
    // Written beside the read, so neither pipe can fill up and stall the other.
    let write = async move {
        let _ = stdin.write_all(request.as_bytes()).await;
    };
    // When the reading stops, the reader is dropped: git's next write fails
    // and it exits, and the guard kills what is left.
    let read = read_blobs(tokio::io::BufReader::new(stdout), wanted, &mut out);
    tokio::join!(write, read);
    out
}

/// Read `cat-file --batch` answers into `out`: of each blob only its first
/// `keep` bytes are kept, the rest read past, so a huge blob costs no memory.
/// An answer that does not name the id asked ends the reading.
async fn read_blobs(
    mut r: impl tokio::io::AsyncBufRead + Unpin,
    wanted: &[(String, usize)],
    out: &mut [Option<(Vec<u8>, bool)>],
) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut header = Vec::new();
    for (slot, (oid, keep)) in out.iter_mut().zip(wanted) {
        header.clear();
        if r.read_until(b'\n', &mut header).await.unwrap_or(0) == 0 {
            return;
        }
        let line = header.strip_suffix(b"\n").unwrap_or(&header);
        let fields: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
        let size = match fields[..] {
            [id, b"blob", size] if id == oid.as_bytes() => std::str::from_utf8(size)
                .ok()
                .and_then(|s| s.parse::<u64>().ok()),
            [id, b"missing"] if id == oid.as_bytes() => continue,
            _ => None,
        };
        let Some(size) = size else { return };
        let kept = size.min(*keep as u64);
        let mut data = Vec::with_capacity(kept as usize);
        if (&mut r).take(kept).read_to_end(&mut data).await.ok() != Some(kept as usize) {
            return;
        }
        let rest = size - kept;
        let skipped = tokio::io::copy(&mut (&mut r).take(rest), &mut tokio::io::sink()).await;
        let mut lf = [0u8; 1];
        if skipped.ok() != Some(rest) || r.read_exact(&mut lf).await.is_err() || lf != *b"\n" {
            return;
        }
        *slot = Some((data, size <= *keep as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_blob_past_its_keep_is_read_past_and_the_next_one_still_lines_up() {
        let big = "x".repeat(10_000);
        let stream =
            format!("aaaa blob 10000\n{big}\nbbbb missing\ncccc blob 5\nhello\ndddd blob 3\nabc\n");
        let wanted: Vec<(String, usize)> = [("aaaa", 8), ("bbbb", 8), ("cccc", 8), ("eeee", 8)]
            .iter()
            .map(|(o, k)| (o.to_string(), *k))
            .collect();
        let mut out = vec![None; wanted.len()];
        read_blobs(stream.as_bytes(), &wanted, &mut out).await;
        assert_eq!(
            out[0],
            Some((b"xxxxxxxx".to_vec(), false)),
            "only `keep` bytes kept"
        );
        assert_eq!(out[1], None, "missing");
        assert_eq!(
            out[2],
            Some((b"hello".to_vec(), true)),
            "still in step after the big one"
        );
        assert_eq!(out[3], None, "an answer for another id ends the reading");
    }
}
