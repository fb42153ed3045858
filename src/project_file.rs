//! The one rule for reading a file of the project (CONTRACT.md, "Reading
//! rule"): a path is read only when it is a regular file that lies inside the
//! project, reached without following any symlink. A symlink is shown as what
//! git shows for it (its target text), never followed; anything else (a FIFO,
//! a device, a directory, a path through a symlinked folder, one that leaves
//! the root) is not read, and the caller names it as unseen.
//!
//! Every input kind (`git_diff`, `changed_files`, `files`) and knowledge
//! files read through here. Its writing counterpart, `folder`, gives the
//! project's reports folder: real folders all the way down, made where
//! missing, never a link. A leaf: it imports nothing else of the crate.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// What reading a project path gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A regular file inside the project, its bytes.
    File(Vec<u8>),
    /// A symlink, not followed: its target as text.
    Symlink(String),
    /// Not read, and why.
    NotRead(NotRead),
}

/// Why a project path was not read; each reads after "the file ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotRead {
    #[error("leaves the project folder")]
    Leaves,
    #[error("is not a path relative to the project folder")]
    Absolute,
    #[error("names the project folder itself")]
    Root,
    #[error("lies behind the symlink {0} (symlinks are not followed)")]
    BehindSymlink(String),
    #[error("lies below something that is not a folder")]
    BelowFile,
    #[error("does not exist")]
    Missing,
    #[error("cannot be read ({0})")]
    Unreadable(String),
    #[error("is {0}, not a regular file")]
    Special(&'static str),
    #[error("is larger than {0} bytes")]
    TooLarge(u64),
    #[error("changed while it was being read")]
    Changed,
    #[error("is a symlink (symlinks are not followed)")]
    Symlink,
    #[error("is not a folder")]
    NotFolder,
}

/// `rel` joined to `root` with `.` and `..` worked out by name alone, or why
/// the path is not one of the project's (absolute, or leaving the root).
pub(crate) fn inside(root: &Path, rel: &str) -> Result<PathBuf, NotRead> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(NotRead::Leaves);
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(NotRead::Absolute),
        }
    }
    if parts.is_empty() {
        return Err(NotRead::Root);
    }
    let mut out = root.to_path_buf();
    out.extend(parts);
    Ok(out)
}

/// Check every folder between `root` and `full` without following links:
/// each must be a real folder. `Ok(())` when the last part may be looked at.
fn folders_are_real(root: &Path, full: &Path) -> Result<(), NotRead> {
    let rest = full.strip_prefix(root).map_err(|_| NotRead::Leaves)?;
    let mut at = root.to_path_buf();
    let parts: Vec<Component<'_>> = rest.components().collect();
    for c in &parts[..parts.len().saturating_sub(1)] {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let shown = at.strip_prefix(root).unwrap_or(&at).display().to_string();
                return Err(NotRead::BehindSymlink(shown));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(NotRead::BelowFile),
            Err(e) => return Err(NotRead::Unreadable(e.kind().to_string())),
        }
    }
    Ok(())
}

/// Project folder `rel` for writing into, by the same rule as reading:
/// inside the project by name, and every part from the root down a real
/// folder, none a symlink (`rel` naming the root gives the root). With
/// `make`, missing folders are created, each without following a link;
/// without, a missing folder ends the check (nothing below it exists).
pub(crate) fn folder(root: &Path, rel: &str, make: bool) -> Result<PathBuf, NotRead> {
    let full = match inside(root, rel) {
        Ok(full) => full,
        Err(NotRead::Root) => return Ok(root.to_path_buf()),
        Err(why) => return Err(why),
    };
    let rest = full.strip_prefix(root).map_err(|_| NotRead::Leaves)?;
    let parts: Vec<Component<'_>> = rest.components().collect();
    let mut at = root.to_path_buf();
    for (i, c) in parts.iter().enumerate() {
        at.push(c);
        let last = i + 1 == parts.len();
        let meta = match std::fs::symlink_metadata(&at) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !make => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&at) {
                    Ok(()) => continue,
                    // Made meanwhile by someone else: looked at below.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(NotRead::Unreadable(e.to_string())),
                }
                std::fs::symlink_metadata(&at).map_err(|e| NotRead::Unreadable(e.to_string()))?
            }
            Err(e) => return Err(NotRead::Unreadable(e.to_string())),
            Ok(m) => m,
        };
        if meta.file_type().is_symlink() {
            if last {
                return Err(NotRead::Symlink);
            }
            let shown = at.strip_prefix(root).unwrap_or(&at).display().to_string();
            return Err(NotRead::BehindSymlink(shown));
        }
        if !meta.is_dir() {
            return Err(if last {
                NotRead::NotFolder
            } else {
                NotRead::BelowFile
            });
        }
    }
    Ok(full)
}

/// What kind of thing `m` is, for a sentence: "a FIFO", "a folder", ...
fn kind_of(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Read project path `rel` by the rule, at most `max` bytes of it (a larger
/// file is not read, and says so).
pub(crate) fn read(root: &Path, rel: &str, max: u64) -> Entry {
    match read_checked(root, rel, max, false) {
        Ok((e, _)) => e,
        Err(why) => Entry::NotRead(why),
    }
}

/// Read at most the first `keep` bytes of project path `rel` by the rule;
/// `true` with it when that was the whole file.
pub(crate) fn read_head(root: &Path, rel: &str, keep: u64) -> (Entry, bool) {
    match read_checked(root, rel, keep, true) {
        Ok(read) => read,
        Err(why) => (Entry::NotRead(why), true),
    }
}

/// Read by the rule; a file over `max` is refused, or with `head` cut to it.
fn read_checked(root: &Path, rel: &str, max: u64, head: bool) -> Result<(Entry, bool), NotRead> {
    let full = inside(root, rel)?;
    folders_are_real(root, &full)?;
    let unreadable = |e: std::io::Error| NotRead::Unreadable(e.to_string());
    let meta = std::fs::symlink_metadata(&full).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => NotRead::Missing,
        k => NotRead::Unreadable(k.to_string()),
    })?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&full).map_err(unreadable)?;
        return Ok((Entry::Symlink(target.to_string_lossy().into_owned()), true));
    }
    if !meta.is_file() {
        return Err(NotRead::Special(kind_of(&meta)));
    }
    if meta.len() > max && !head {
        return Err(NotRead::TooLarge(max));
    }
    let file = std::fs::File::open(&full).map_err(unreadable)?;
    // The file opened must be the one looked at: a swap for a link between
    // the look and the open is refused.
    let opened = file.metadata().map_err(unreadable)?;
    if !opened.is_file() || !same_file(&meta, &opened) {
        return Err(NotRead::Changed);
    }
    // Room for what is read, never for what the file claims: a head of a
    // sparse terabyte must not ask for a terabyte.
    let room = meta.len().min(max.saturating_add(1));
    let mut bytes = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let complete = bytes.len() as u64 <= max;
    if !complete && !head {
        return Err(NotRead::TooLarge(max));
    }
    bytes.truncate(max as usize);
    Ok((Entry::File(bytes), complete))
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}").unwrap();
        std::fs::write(dir.path().join("secret"), "KEY=1").unwrap();
        assert_eq!(
            read(&root, "src/a.rs", 100),
            Entry::File(b"fn a() {}".to_vec())
        );
        assert_eq!(
            read(&root, "src/../src/a.rs", 100),
            Entry::File(b"fn a() {}".to_vec())
        );
        assert!(read(&root, "../secret", 100) == Entry::NotRead(NotRead::Leaves));
        assert!(matches!(read(&root, "/etc/passwd", 100), Entry::NotRead(_)));
        // A head is cut to its size, and says whether it was the whole file.
        assert_eq!(
            read_head(&root, "src/a.rs", 4),
            (Entry::File(b"fn a".to_vec()), false)
        );
        assert_eq!(
            read_head(&root, "src/a.rs", 100),
            (Entry::File(b"fn a() {}".to_vec()), true)
        );
        // A file far larger than memory (sparse): its head is read, and no
        // more is asked for.
        let huge = std::fs::File::create(root.join("huge.log")).unwrap();
        huge.set_len(1 << 40).unwrap();
        assert_eq!(
            read_head(&root, "huge.log", 4),
            (Entry::File(vec![0; 4]), false)
        );
        assert!(read(&root, "huge.log", 4) == Entry::NotRead(NotRead::TooLarge(4)));
        assert!(read(&root, "src", 100) == Entry::NotRead(NotRead::Special("a folder")));
        assert!(read(&root, "src/a.rs", 3) == Entry::NotRead(NotRead::TooLarge(3)));
        assert!(read(&root, "nope", 3) == Entry::NotRead(NotRead::Missing));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/proc/self/environ", root.join("env.txt")).unwrap();
            assert_eq!(
                read(&root, "env.txt", 100),
                Entry::Symlink("/proc/self/environ".into())
            );
            std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
            assert!(
                read(&root, "up/secret", 100)
                    == Entry::NotRead(NotRead::BehindSymlink("up".into()))
            );
            let fifo = root.join("pipe");
            let ok = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                assert!(read(&root, "pipe", 100) == Entry::NotRead(NotRead::Special("a FIFO")));
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_is_written_into_only_when_real_all_the_way_down() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        // Made where missing, each part a real folder.
        assert_eq!(
            folder(&root, "out/reports", true),
            Ok(root.join("out/reports"))
        );
        assert!(root.join("out/reports").is_dir());
        assert_eq!(folder(&root, ".", true), Ok(root.clone()));
        // Checked without making: a missing folder is fine, nothing is made.
        assert_eq!(folder(&root, "later/r", false), Ok(root.join("later/r")));
        assert!(!root.join("later").exists());
        // A link, as the folder or above it, is refused and nothing is made
        // through it.
        std::os::unix::fs::symlink(&outside, root.join("reports")).unwrap();
        assert_eq!(folder(&root, "reports", true), Err(NotRead::Symlink));
        assert_eq!(
            folder(&root, "reports/deeper", true),
            Err(NotRead::BehindSymlink("reports".into()))
        );
        assert_eq!(
            folder(&root, "reports/deeper", false),
            Err(NotRead::BehindSymlink("reports".into()))
        );
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
        // Out of the project by name, or below a file.
        assert_eq!(folder(&root, "../outside", true), Err(NotRead::Leaves));
        assert_eq!(folder(&root, "/tmp", true), Err(NotRead::Absolute));
        std::fs::write(root.join("file"), "x").unwrap();
        assert_eq!(folder(&root, "file", true), Err(NotRead::NotFolder));
        assert_eq!(folder(&root, "file/r", true), Err(NotRead::BelowFile));
    }
}
