//! Paths from configuration that bsu reads: they must stay inside the project.
//! A knowledge file goes into prompts and reports, so one that resolves
//! (symlinks followed) outside the project, to `/proc/self/environ` or a
//! secrets file, would send it to a model and write it to disk.

use std::path::{Path, PathBuf};

/// Knowledge files larger than this are refused rather than read into every prompt.
pub(crate) const MAX_KNOWLEDGE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a knowledge file cannot be used. Each says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KnowledgeError {
    #[error(
        "knowledge file {rel:?} resolves to {resolved}, outside the project folder {root}; \
         knowledge files must live inside the project"
    )]
    Outside {
        rel: String,
        resolved: String,
        root: String,
    },
    #[error("knowledge file {rel:?} does not exist{looked}; create it or remove it from the list")]
    Missing { rel: String, looked: String },
    #[error(
        "knowledge file {0:?} is a symlink; knowledge files must be regular files inside the \
         project folder (symlinks are never followed): copy the file in instead"
    )]
    Symlink(String),
    #[error("knowledge file {rel:?} is not a regular file ({path})")]
    NotAFile { rel: String, path: String },
    #[error(
        "knowledge file {rel:?} is {mib} MiB; the most a knowledge file may hold is {max} MiB"
    )]
    TooLarge { rel: String, mib: u64, max: u64 },
    #[error(
        "knowledge file {rel:?} {why}; knowledge files must be regular files inside the \
         project folder"
    )]
    NotRead {
        rel: String,
        why: crate::project_file::NotRead,
    },
    #[error("knowledge file {0:?} is not UTF-8 text")]
    NotText(String),
}

/// The path of knowledge file `rel` of the project at `root`, or why it
/// cannot be used: it must be a regular file inside the project, reached
/// without following a symlink (the reading rule, `crate::project_file`).
pub(crate) fn knowledge_path(root: &Path, rel: &str) -> Result<PathBuf, KnowledgeError> {
    let full = crate::project_file::inside(root, rel).map_err(|_| KnowledgeError::Outside {
        rel: rel.to_string(),
        resolved: lexical(&std::path::absolute(root).unwrap_or_default().join(rel))
            .display()
            .to_string(),
        root: root.display().to_string(),
    })?;
    let meta = match std::fs::symlink_metadata(&full) {
        Ok(m) => m,
        Err(_) => {
            let looked = super::shown(root, rel);
            let looked = if looked == rel {
                String::new()
            } else {
                format!(" (looked for {looked})")
            };
            return Err(KnowledgeError::Missing {
                rel: rel.to_string(),
                looked,
            });
        }
    };
    if meta.file_type().is_symlink() {
        return Err(KnowledgeError::Symlink(rel.to_string()));
    }
    if !meta.is_file() {
        return Err(KnowledgeError::NotAFile {
            rel: rel.to_string(),
            path: full.display().to_string(),
        });
    }
    if meta.len() > MAX_KNOWLEDGE_BYTES {
        return Err(KnowledgeError::TooLarge {
            rel: rel.to_string(),
            mib: meta.len() >> 20,
            max: MAX_KNOWLEDGE_BYTES >> 20,
        });
    }
    // Folders on the way must be real folders too.
    match crate::project_file::read(root, rel, 0) {
        crate::project_file::Entry::NotRead(
            why @ crate::project_file::NotRead::BehindSymlink(_),
        ) => Err(KnowledgeError::NotRead {
            rel: rel.to_string(),
            why,
        }),
        _ => Ok(full),
    }
}

/// `p` with `.` and `..` worked out by name, for messages.
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Read knowledge file `rel` by the reading rule.
pub(crate) fn read_knowledge(root: &Path, rel: &str) -> Result<String, KnowledgeError> {
    knowledge_path(root, rel)?;
    match crate::project_file::read(root, rel, MAX_KNOWLEDGE_BYTES) {
        crate::project_file::Entry::File(bytes) => {
            String::from_utf8(bytes).map_err(|_| KnowledgeError::NotText(rel.to_string()))
        }
        crate::project_file::Entry::Symlink(_) => Err(KnowledgeError::Symlink(rel.to_string())),
        crate::project_file::Entry::NotRead(why) => Err(KnowledgeError::NotRead {
            rel: rel.to_string(),
            why,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_project_are_knowledge() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("knowledge")).unwrap();
        std::fs::write(root.join("knowledge/ok.md"), "x").unwrap();
        std::fs::write(dir.path().join("secret.env"), "KEY=1").unwrap();
        assert!(knowledge_path(&root, "knowledge/ok.md").is_ok());
        assert!(knowledge_path(&root, "knowledge/../knowledge/ok.md").is_ok());
        let e = knowledge_path(&root, "../secret.env")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the project folder"), "{e}");
        assert!(e.contains("secret.env"), "{e}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.env"), root.join("link.md"))
                .unwrap();
            let e = knowledge_path(&root, "link.md").unwrap_err().to_string();
            assert!(e.contains("is a symlink"), "{e}");
            std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
            let e = knowledge_path(&root, "up/secret.env")
                .unwrap_err()
                .to_string();
            assert!(e.contains("symlink"), "{e}");
            assert!(read_knowledge(&root, "up/secret.env").is_err());
            std::os::unix::fs::symlink("/proc/self/environ", root.join("env.md")).unwrap();
            assert!(knowledge_path(&root, "env.md").is_err());
            assert!(knowledge_path(&root, "../../../../../../proc/self/environ").is_err());
        }
        assert!(knowledge_path(&root, "/etc/passwd").is_err());
        assert!(knowledge_path(&root, "knowledge")
            .unwrap_err()
            .to_string()
            .contains("not a regular file"));
        assert_eq!(read_knowledge(&root, "knowledge/ok.md").unwrap(), "x");
        assert!(knowledge_path(&root, "missing.md")
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
    }
}
