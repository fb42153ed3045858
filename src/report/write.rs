//! The one place that writes report files, from one blocking task. Every
//! file goes to a temporary name in its own folder and is renamed into
//! place, so a reader never sees half a report; `latest.<ext>` is a hard
//! link to the run's own file (a copy only where links are impossible).

use std::path::{Path, PathBuf};

use super::{extension, render, Report};
use crate::config::ReportFormat;
use crate::plan::ReportsDir;

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("could not create the reports folder {}: {source}", .path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
    #[error("could not write {}: {source}", .path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a report writer stopped: {0}")]
    Task(String),
    #[error("could not remove the stale {}: {source}", .path.display())]
    Stale {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The run's own report files, one per format: `<stamp>-<event>-<run
/// id>.<ext>` in the reports folder. Pure: what `write_reports` writes.
pub(crate) fn own_paths(
    report: &Report,
    reports: &ReportsDir,
    formats: &[ReportFormat],
) -> Vec<PathBuf> {
    named(&reports.path(), &base_name(report), formats)
}

/// `<base>.<ext>` in `dir`, one per format.
fn named(dir: &Path, base: &str, formats: &[ReportFormat]) -> Vec<PathBuf> {
    formats
        .iter()
        .map(|&f| dir.join(format!("{base}.{}", extension(f))))
        .collect()
}

fn base_name(report: &Report) -> String {
    format!(
        "{}-{}-{}",
        file_stamp(&report.started_at),
        file_event(&report.event),
        report.run_id
    )
}

/// Write `report` in each format as `own_paths` names and `latest.<ext>`,
/// then apply `keep`. Returns the paths of the run's own files.
pub(crate) async fn write_reports(
    report: &Report,
    reports: &ReportsDir,
    formats: &[ReportFormat],
    keep: u32,
) -> Result<Vec<PathBuf>, WriteError> {
    let dir = &reports.path();
    let (event, base) = (file_event(&report.event), base_name(report));
    let paths = named(dir, &base, formats);
    let files: Vec<(PathBuf, PathBuf, Vec<u8>)> = formats
        .iter()
        .zip(&paths)
        .map(|(&format, own)| {
            let ext = extension(format);
            (
                own.clone(),
                dir.join(format!("latest.{ext}")),
                render(report, format),
            )
        })
        .collect();
    // The folder, the files, the stale `latest.*` and the pruning: one
    // blocking task, so one thread, whatever the number of files.
    let (dir, formats, reports) = (dir.to_path_buf(), formats.to_vec(), reports.clone());
    tokio::task::spawn_blocking(move || {
        make_folder(&reports, &dir)?;
        write_all(&files)?;
        remove_stale(&dir, &formats)?;
        if keep > 0 {
            prune(&dir, &event, &base, keep as usize);
        }
        Ok(())
    })
    .await
    .unwrap_or_else(|e| Err(WriteError::Task(e.to_string())))?;
    Ok(paths)
}

/// The reports folder, made where missing: the project's only through real
/// folders (a link put there after the plan's check is refused too).
fn make_folder(reports: &ReportsDir, dir: &Path) -> Result<(), WriteError> {
    match reports {
        ReportsDir::Project { root, rel } => crate::project_file::folder(root, rel, true)
            .map(drop)
            .map_err(|why| match why {
                crate::project_file::NotRead::Unreadable(e) => WriteError::Folder {
                    path: dir.to_path_buf(),
                    source: std::io::Error::other(e),
                },
                why => WriteError::Refused(crate::plan::refused(dir, &why)),
            }),
        ReportsDir::Given(_) => std::fs::create_dir_all(dir).map_err(|source| WriteError::Folder {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// A latest.<ext> this run did not write would pass an older run off as this one.
fn remove_stale(dir: &Path, formats: &[ReportFormat]) -> Result<(), WriteError> {
    for format in ReportFormat::ALL {
        if !formats.contains(&format) {
            let stale = dir.join(format!("latest.{}", extension(format)));
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(WriteError::Stale {
                        path: stale,
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}

/// Each run file, then its `latest.<ext>` linked to it; the first error.
fn write_all(files: &[(PathBuf, PathBuf, Vec<u8>)]) -> Result<(), WriteError> {
    for (own, latest, bytes) in files {
        crate::fsio::atomic_write_now(own, bytes).map_err(|source| WriteError::File {
            path: own.clone(),
            source,
        })?;
        if crate::fsio::atomic_link(own, latest).is_err() {
            crate::fsio::atomic_write_now(latest, bytes).map_err(|source| WriteError::File {
                path: latest.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

pub(crate) use crate::fsio::atomic_write;

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

/// Longest event part of a report file name; longer events are shortened.
const MAX_EVENT_IN_NAME: usize = 100;

/// The event as it appears in file names: sanitized, and when longer than
/// `MAX_EVENT_IN_NAME`, its first 80 characters and 12 hex digits of a
/// SHA-256 of the whole name, so every report name fits a file system's 255.
pub(crate) fn file_event(event: &str) -> String {
    let clean = sanitize(event);
    if clean.len() <= MAX_EVENT_IN_NAME {
        return clean;
    }
    use sha2::{Digest, Sha256};
    let digest = crate::engine::prompt::hex(&Sha256::digest(event.as_bytes()));
    format!("{}~{}", &clean[..80], &digest[..12])
}

/// `2026-11-28T04:15:23.123Z` → `20261128T041523.123Z`.
fn file_stamp(rfc3339: &str) -> String {
    let digits: String = rfc3339
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let millis: String = rfc3339
        .get(20..23)
        .filter(|m| m.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("000")
        .to_string();
    format!("{digits}.{millis}Z")
}

/// Keep the newest `keep` runs of this event in `dir`, by their time stamps;
/// delete the files of older ones. The run that just finished (`own`) is
/// always kept, whatever the clock says of the others.
fn prune(dir: &Path, event: &str, own: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // (time key, stem, files)
    let mut runs: Vec<(String, String, Vec<PathBuf>)> = Vec::new();
    for entry in entries.map_while(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((key, stem)) = run_stem(&name, event) else {
            continue;
        };
        if stem == own {
            continue;
        }
        match runs.iter_mut().find(|(_, s, _)| *s == stem) {
            Some((_, _, files)) => files.push(entry.path()),
            None => runs.push((key, stem, vec![entry.path()])),
        }
    }
    runs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    for (_, _, files) in runs.into_iter().skip(keep.saturating_sub(1)) {
        for f in files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// `(time key, stem)` when `name` is a report of `event`: the stem is
/// `<stamp>-<event>-<12 hex>`, the stamp `yyyymmddThhmmss.mmmZ` (or the
/// second-precision `yyyymmddThhmmssZ` of older reports, keyed as `.000`).
fn run_stem(name: &str, event: &str) -> Option<(String, String)> {
    let (stamp, rest) = name.split_once('-')?;
    // Any file may sit in the folder (a checkout's own, named by the pull
    // request): its bytes are sliced below only once they are all ASCII.
    if !stamp.is_ascii() {
        return None;
    }
    let key = match stamp.len() {
        16 => format!("{}.000Z", &stamp[..15]),
        20 => stamp.to_string(),
        _ => return None,
    };
    let shaped = key.len() == 20
        && key.as_bytes()[8] == b'T'
        && key.as_bytes()[15] == b'.'
        && key.ends_with('Z')
        && key[..8].bytes().all(|b| b.is_ascii_digit())
        && key[9..15].bytes().all(|b| b.is_ascii_digit())
        && key[16..19].bytes().all(|b| b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let rest = rest.strip_prefix(event)?.strip_prefix('-')?;
    let id = rest.get(..12)?;
    if !id.chars().all(|c| c.is_ascii_hexdigit()) || !rest[12..].starts_with('.') {
        return None;
    }
    let stem_len = stamp.len() + 1 + event.len() + 1 + 12;
    Some((key, name[..stem_len].to_string()))
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
    fn long_events_are_shortened_with_a_hash() {
        let long = "e".repeat(5000);
        let f = file_event(&long);
        assert_eq!(f.len(), 80 + 1 + 12);
        assert_ne!(
            f,
            file_event(&format!("{long}x")),
            "different events, different names"
        );
        assert_eq!(file_event("push"), "push");
    }

    #[test]
    fn stamps_and_stems() {
        assert_eq!(
            file_stamp("2026-11-28T04:15:23.123Z"),
            "20261128T041523.123Z"
        );
        let name = "20261128T041523.123Z-push-0123456789ab.json";
        assert_eq!(
            run_stem(name, "push"),
            Some((
                "20261128T041523.123Z".into(),
                "20261128T041523.123Z-push-0123456789ab".into()
            ))
        );
        assert_eq!(
            run_stem("20261128T041523Z-push-0123456789ab.junit.xml", "push"),
            Some((
                "20261128T041523.000Z".into(),
                "20261128T041523Z-push-0123456789ab".into()
            )),
            "reports of older versions are still pruned"
        );
        assert_eq!(run_stem(name, "pull"), None);
        assert_eq!(run_stem("latest.json", "push"), None);
        assert_eq!(
            run_stem("20261128T041523.123Z-push-extra-0123456789ab.json", "push"),
            None
        );
        // A stamp's length with a character across the byte cut off.
        assert_eq!(
            run_stem("aaaaaaaaaaaaaa\u{e9}-push-0123456789ab.json", "push"),
            None
        );
        assert_eq!(
            run_stem("20261128T04152\u{e9}Z-push-0123456789ab.json", "push"),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn any_file_name_is_read_without_panicking(name in "\\PC{0,40}", event in "\\PC{0,6}") {
            let _ = run_stem(&name, &event);
            let _ = run_stem(&format!("{name}-{event}-0123456789ab.json"), &event);
        }
    }
}
