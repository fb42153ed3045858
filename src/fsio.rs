//! Files written whole or not at all, and text read with a cap: the file
//! I/O every layer shares. A leaf (it uses only other leaves: `bounds`,
//! `run_id`).

use std::io::Read;
use std::path::Path;

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) async fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // One blocking task for the whole write (each `tokio::fs` call is one).
    let (path, bytes) = (path.to_path_buf(), bytes.to_vec());
    tokio::task::spawn_blocking(move || atomic_write_now(&path, &bytes))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// `atomic_write`, blocking: for a thread that writes several files.
pub(crate) fn atomic_write_now(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_beside(path);
    let result = write_new(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Make `link` name the same file as `target`, replacing what it named, in
/// one step (a hard link under a temporary name, renamed into place): no
/// second copy of the bytes. `Err` where the file system has no hard links.
pub(crate) fn atomic_link(target: &Path, link: &Path) -> std::io::Result<()> {
    let tmp = tmp_beside(link);
    let result = std::fs::hard_link(target, &tmp).and_then(|()| std::fs::rename(&tmp, link));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `bytes` in a file made at `tmp`: never one already there, nor through a
/// link someone put there (the name is unguessable too).
fn write_new(tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)?
        .write_all(bytes)
}

/// A fresh hidden name beside `path`.
fn tmp_beside(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        crate::run_id::random_hex(6)
    ))
}

/// Read at most `MAX_PAYLOAD_BYTES`; anything larger (`/dev/zero`, a runaway
/// file) is refused before it fills memory. `what` names the kind of text
/// in the message ("a payload").
pub(crate) fn read_capped(r: impl Read, source: &str, what: &str) -> std::io::Result<String> {
    let cap = crate::bounds::MAX_PAYLOAD_BYTES;
    let mut bytes = Vec::new();
    r.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::other(format!(
            "{source} is larger than {} MiB, the most {what} may be",
            cap >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::other(format!("{source} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_is_replaced_whole_and_never_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "KEEP").unwrap();
        // A link where the file goes is replaced, not followed.
        let path = dir.path().join("latest.json");
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        atomic_write_now(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        // A link where the temporary file goes is refused, not followed.
        let tmp = dir.path().join(".t.tmp");
        std::os::unix::fs::symlink(&outside, &tmp).unwrap();
        assert!(write_new(&tmp, b"x").is_err());
        assert_eq!(std::fs::read(&outside).unwrap(), b"KEEP");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(atomic_write(&path, b"again")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"again");
        // Nothing left behind but the two files and the link.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
