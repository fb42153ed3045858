//! Child processes that cannot outlive what started them. Each runs in a
//! process group of its own; the `Group` guard kills the whole group (the
//! child and everything it started) when it is dropped: on a timeout, a
//! signal, an error, or a future cancelled mid-way. A leaf module.

/// Kills the process group it names when dropped.
#[derive(Debug)]
pub(crate) struct Group {
    #[cfg_attr(not(unix), allow(dead_code))]
    pgid: Option<u32>,
}

impl Group {
    /// Spawn `cmd` as the leader of a new process group, killed on drop.
    pub(crate) fn spawn(
        cmd: &mut tokio::process::Command,
    ) -> std::io::Result<(tokio::process::Child, Group)> {
        #[cfg(unix)]
        cmd.process_group(0);
        cmd.kill_on_drop(true);
        let child = cmd.spawn()?;
        let pgid = child.id();
        Ok((child, Group { pgid }))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .pgid
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // The group may be gone already; nothing to do then.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Remove every variable named in `names` from what `cmd` inherits.
pub(crate) fn scrub(cmd: &mut tokio::process::Command, names: &[String]) {
    for n in names {
        cmd.env_remove(n);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_guard_kills_the_children_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", &script]);
        let (_child, group) = Group::spawn(&mut cmd).unwrap();
        let mut pid = String::new();
        for _ in 0..200 {
            pid = std::fs::read_to_string(&pidfile).unwrap_or_default();
            if pid.ends_with('\n') {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let pid = pid.trim().to_string();
        assert!(!pid.is_empty());
        let alive = || std::path::Path::new(&format!("/proc/{pid}")).exists();
        assert!(alive());
        drop(group);
        let mut gone = false;
        for _ in 0..200 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie (state Z) is dead; it waits only for its parent to reap it.
            if !alive() || stat.split(' ').nth(2) == Some("Z") {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(gone, "the grandchild {pid} outlived the guard");
    }
}
