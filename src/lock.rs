//! One run at a time per project and event (`--if-running`): an advisory
//! lock on a file in the state dir, held for the whole run. The operating
//! system drops it when its process ends however it ends, so the lock of a
//! killed run is simply taken over.

use std::fs::{OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A held lock; released on drop (a file's here; a server's session lock
/// in the state store).
pub(crate) struct RunLock {
    _held: Box<dyn Send + Sync>,
}

impl RunLock {
    /// A lock held as long as `guard` lives.
    pub(crate) fn holding(guard: impl Send + Sync + 'static) -> RunLock {
        RunLock {
            _held: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for RunLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunLock")
    }
}

/// Why no lock was taken.
#[derive(Debug)]
pub(crate) enum Busy {
    /// Another run holds it (its note, e.g. "pid 123 since ...").
    Held(String),
    /// Waited until `deadline` and it was still held.
    TimedOut(String),
}

fn path(state_dir: &Path, project: &Path, event: &str) -> std::path::PathBuf {
    let mut h = Sha256::new();
    h.update(project.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(event.as_bytes());
    let hex = crate::text::hex(&h.finalize());
    state_dir.join("locks").join(format!("{}.lock", &hex[..16]))
}

fn holder(file: &Path) -> String {
    std::fs::read_to_string(file)
        .ok()
        .map(|s| crate::text::one_line(&s, 200))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "another bsu process".into())
}

/// Take the lock of `project` and `event`: at once (`wait = None`), or
/// waiting up to `wait`.
pub(crate) fn acquire(
    state_dir: &Path,
    project: &Path,
    event: &str,
    wait: Option<Duration>,
) -> std::io::Result<Result<RunLock, Busy>> {
    let file_path = path(state_dir, project, event);
    if let Some(dir) = file_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&file_path)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                let mut f = &file;
                let _ = f.set_len(0);
                let _ = writeln!(
                    f,
                    "pid {} since {} ({event})",
                    std::process::id(),
                    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                );
                return Ok(Ok(RunLock::holding(file)));
            }
            Err(TryLockError::WouldBlock) => {
                let who = holder(&file_path);
                match wait {
                    None => return Ok(Err(Busy::Held(who))),
                    Some(limit) if started.elapsed() >= limit => {
                        return Ok(Err(Busy::TimedOut(who)))
                    }
                    Some(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let project = Path::new("/p");
        let first = acquire(dir.path(), project, "e", None).unwrap().unwrap();
        assert!(matches!(
            acquire(dir.path(), project, "e", None).unwrap(),
            Err(Busy::Held(_))
        ));
        assert!(
            acquire(dir.path(), project, "other", None).unwrap().is_ok(),
            "per event"
        );
        assert!(matches!(
            acquire(dir.path(), project, "e", Some(Duration::from_millis(150))).unwrap(),
            Err(Busy::TimedOut(_))
        ));
        drop(first);
        assert!(acquire(dir.path(), project, "e", None).unwrap().is_ok());
    }
}
