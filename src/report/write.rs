//! The one place that writes report files. Every file goes to a temporary
//! name in its own folder and is renamed into place, so a reader never sees
//! half a report; the formats are written concurrently with tokio::fs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::{extension, render, Report};
use crate::config::ReportFormat;

/// Write `report` in each format as `<stamp>-<event>-<run id>.<ext>` and
/// `latest.<ext>`, then apply `keep`. Returns the paths of the run's own files.
pub(crate) async fn write_reports(
    report: &Report,
    dir: &Path,
    formats: &[ReportFormat],
    keep: u32,
) -> Result<Vec<PathBuf>, String> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| format!("could not create the reports folder {}: {e}", dir.display()))?;
    let base = format!(
        "{}-{}-{}",
        file_stamp(&report.started_at),
        sanitize(&report.event),
        report.run_id
    );
    let mut set = JoinSet::new();
    let mut paths = Vec::new();
    for &format in formats {
        let bytes: Arc<[u8]> = render(report, format).into();
        let ext = extension(format);
        let own = dir.join(format!("{base}.{ext}"));
        let latest = dir.join(format!("latest.{ext}"));
        paths.push(own.clone());
        for path in [own, latest] {
            let bytes = bytes.clone();
            set.spawn(async move {
                atomic_write(&path, &bytes)
                    .await
                    .map_err(|e| format!("could not write {}: {e}", path.display()))
            });
        }
    }
    let mut first_error = None;
    while let Some(res) = set.join_next().await {
        let res = res.unwrap_or_else(|e| Err(format!("a report writer stopped: {e}")));
        if let Err(e) = res {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if keep > 0 {
        prune(dir, &sanitize(&report.event), keep as usize).await;
    }
    Ok(paths)
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) async fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        crate::run_id::random_hex(6)
    ));
    let result = async {
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Append `text` to `path` (the GitHub step summary), creating it if needed.
pub(crate) async fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    f.write_all(text.as_bytes()).await?;
    f.write_all(b"\n").await?;
    f.flush().await
}

/// The event as it appears in file names: every character outside
/// `[A-Za-z0-9._-]` becomes `_`, so no event can name a path.
pub(crate) fn sanitize(event: &str) -> String {
    event
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `2026-11-28T04:15:23.123Z` → `20261128T041523Z`.
fn file_stamp(rfc3339: &str) -> String {
    let digits: String = rfc3339
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}Z")
}

/// Keep the newest `keep` runs of this event in `dir`; delete the files of older ones.
async fn prune(dir: &Path, event: &str, keep: usize) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    let mut runs: Vec<(String, Vec<PathBuf>)> = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = run_stem(&name, event) else {
            continue;
        };
        match runs.iter_mut().find(|(s, _)| *s == stem) {
            Some((_, files)) => files.push(entry.path()),
            None => runs.push((stem, vec![entry.path()])),
        }
    }
    // Stems start with the UTC timestamp, so name order is age order.
    runs.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, files) in runs.into_iter().skip(keep) {
        for f in files {
            let _ = tokio::fs::remove_file(f).await;
        }
    }
}

/// `<16-char stamp>-<event>-<12 hex>` when `name` is a report of `event`.
fn run_stem(name: &str, event: &str) -> Option<String> {
    let stamp = name.get(..16)?;
    if !(stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T') {
        return None;
    }
    let rest = name.get(17..)?.strip_prefix(event)?.strip_prefix('-')?;
    let id = rest.get(..12)?;
    if !id.chars().all(|c| c.is_ascii_hexdigit()) || !rest[12..].starts_with('.') {
        return None;
    }
    Some(name[..17 + event.len() + 13].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cannot_escape_the_folder() {
        assert_eq!(sanitize("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(sanitize("pull_request.opened"), "pull_request.opened");
        assert_eq!(sanitize("a b/c\\d:é"), "a_b_c_d__");
    }

    #[test]
    fn stamps_and_stems() {
        assert_eq!(file_stamp("2026-11-28T04:15:23.123Z"), "20261128T041523Z");
        let name = "20261128T041523Z-push-0123456789ab.json";
        assert_eq!(
            run_stem(name, "push").as_deref(),
            Some("20261128T041523Z-push-0123456789ab")
        );
        assert_eq!(
            run_stem("20261128T041523Z-push-0123456789ab.junit.xml", "push").as_deref(),
            Some("20261128T041523Z-push-0123456789ab")
        );
        assert_eq!(run_stem(name, "pull"), None);
        assert_eq!(run_stem("latest.json", "push"), None);
        assert_eq!(
            run_stem("20261128T041523Z-push-extra-0123456789ab.json", "push"),
            None
        );
    }
}
