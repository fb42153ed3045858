//! Paths from configuration that bsu reads: they must stay inside the project.
//! A knowledge file goes into prompts and reports, so one that resolves
//! (symlinks followed) outside the project, to `/proc/self/environ` or a
//! secrets file, would send it to a model and write it to disk.

use std::path::{Path, PathBuf};

/// Knowledge files larger than this are refused rather than read into every prompt.
pub(crate) const MAX_KNOWLEDGE_BYTES: u64 = 16 * 1024 * 1024;

/// The canonical path of knowledge file `rel` of the project at `root`, or
/// why it cannot be used.
pub(crate) fn knowledge_path(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if Path::new(rel).is_absolute() {
        return Err(format!(
            "knowledge file {rel:?} must be a path relative to the project folder"
        ));
    }
    let joined = root.join(rel);
    let resolved = match joined.canonicalize() {
        Ok(p) => p,
        Err(_) => {
            let looked = super::shown(root, rel);
            let looked = if looked == rel {
                String::new()
            } else {
                format!(" (looked for {looked})")
            };
            return Err(format!(
                "knowledge file {rel:?} does not exist{looked}; create it or remove it from the list"
            ));
        }
    };
    let project = root
        .canonicalize()
        .map_err(|e| format!("the project folder cannot be resolved: {e}"))?;
    if !resolved.starts_with(&project) {
        return Err(format!(
            "knowledge file {rel:?} resolves to {}, outside the project folder {}; knowledge \
             files must live inside the project (symlinks are followed)",
            resolved.display(),
            project.display()
        ));
    }
    let meta = std::fs::metadata(&resolved)
        .map_err(|e| format!("knowledge file {rel:?} cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "knowledge file {rel:?} resolves to {}, which is not a regular file",
            resolved.display()
        ));
    }
    if meta.len() > MAX_KNOWLEDGE_BYTES {
        return Err(format!(
            "knowledge file {rel:?} is {} MiB; the most a knowledge file may hold is {} MiB",
            meta.len() >> 20,
            MAX_KNOWLEDGE_BYTES >> 20
        ));
    }
    Ok(resolved)
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
        let e = knowledge_path(&root, "../secret.env").unwrap_err();
        assert!(e.contains("outside the project folder"), "{e}");
        assert!(e.contains("secret.env"), "{e}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.env"), root.join("link.md"))
                .unwrap();
            let e = knowledge_path(&root, "link.md").unwrap_err();
            assert!(e.contains("outside the project folder"), "{e}");
            std::os::unix::fs::symlink("/proc/self/environ", root.join("env.md")).unwrap();
            assert!(knowledge_path(&root, "env.md").is_err());
            assert!(knowledge_path(&root, "../../../../../../proc/self/environ").is_err());
        }
        assert!(knowledge_path(&root, "/etc/passwd").is_err());
        assert!(knowledge_path(&root, "knowledge")
            .unwrap_err()
            .contains("not a regular file"));
        assert!(knowledge_path(&root, "missing.md")
            .unwrap_err()
            .contains("does not exist"));
    }
}
