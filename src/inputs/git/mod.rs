//! The `git` command line, run as argv (never through a shell), in a process
//! group of its own that is killed when the run's deadline passes or the run
//! is interrupted, with the run's secrets removed from its environment: which
//! commits a change spans, its files (`change`), and the log (`log`).
//! Revisions from a payload are used only when they look like commit ids.

mod change;
mod classify;
mod contents;
mod log;
mod quote;
mod range;

pub(crate) use change::diff_input;
pub(crate) use classify::{given_patch_fate, Fate};
pub(crate) use log::log_input;
pub(crate) use range::{resolve_range, scoped, Range};

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use crate::error::Result;
use crate::inputs::InputError;
use crate::process::{self, Group};

/// The object id of git's empty tree: the base of a branch's first push.
pub(super) const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// How bsu runs git in one project.
#[derive(Clone, Copy)]
pub(crate) struct Git<'a> {
    pub root: &'a Path,
    /// Variables removed from git's environment (the run's secrets).
    pub scrub: &'a [String],
}

impl Git<'_> {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("git");
        c.arg("-C")
            .arg(self.root)
            .args([
                "-c",
                "core.quotepath=off",
                "-c",
                "color.ui=false",
                // A server that stops answering fails the fetch instead of hanging it.
                "-c",
                "http.lowSpeedLimit=1000",
                "-c",
                "http.lowSpeedTime=20",
            ])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env_remove("GIT_EXTERNAL_DIFF")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        process::scrub(&mut c, self.scrub);
        c
    }

    /// Run git; its process group is killed if this future is dropped.
    pub(super) async fn output(&self, args: &[&str]) -> std::io::Result<std::process::Output> {
        let mut c = self.command(args);
        let (child, _group) = Group::spawn(&mut c)?;
        child.wait_with_output().await
    }

    /// Run git with `input` on stdin.
    pub(super) async fn output_with(
        &self,
        args: &[&str],
        input: Vec<u8>,
    ) -> std::io::Result<std::process::Output> {
        let mut c = self.command(args);
        c.stdin(Stdio::piped());
        let (mut child, _group) = Group::spawn(&mut c)?;
        let mut stdin = child.stdin.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
        // Written beside the read, so a full stdout pipe cannot deadlock us.
        let write = async move {
            let _ = stdin.write_all(&input).await;
            drop(stdin);
        };
        let (_, out) = tokio::join!(write, child.wait_with_output());
        out
    }

    /// Start git with stdin and stdout piped, to talk to it as it runs
    /// (`cat-file --batch`); its process group dies with the guard.
    pub(super) fn spawn_piped(
        &self,
        args: &[&str],
    ) -> std::io::Result<(tokio::process::Child, Group)> {
        let mut c = self.command(args);
        c.stdin(Stdio::piped()).stderr(Stdio::null());
        Group::spawn(&mut c)
    }

    /// Run git and return its stdout, or a usage error naming what failed.
    pub(super) async fn ok(&self, args: &[&str], what: &str) -> Result<Vec<u8>> {
        let out = self.output(args).await.map_err(|e| InputError::NoGit {
            what: what.to_string(),
            error: e.to_string(),
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(InputError::GitFailed {
                what: what.to_string(),
                command: args.first().copied().unwrap_or("").to_string(),
                stderr: crate::text::one_line(&err, 400),
            }
            .into());
        }
        Ok(out.stdout)
    }

    pub(super) async fn ok_text(&self, args: &[&str], what: &str) -> Result<String> {
        let out = self.ok(args, what).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    pub(super) async fn commit_exists(&self, rev: &str) -> bool {
        self.output(&["cat-file", "-e", &format!("{rev}^{{commit}}")])
            .await
            .is_ok_and(|o| o.status.success())
    }

    /// The repository's top folder, where the names git lists are rooted.
    pub(super) async fn toplevel(&self, what: &str) -> Result<std::path::PathBuf> {
        let top = self
            .ok_text(&["rev-parse", "--show-toplevel"], what)
            .await?;
        Ok(std::path::PathBuf::from(top.trim_end_matches(['\n', '\r'])))
    }
}

/// The text of `path` at commit `rev` (a hex id), read from git's objects,
/// never the working tree: `Ok(None)` when the commit has no such file.
/// At most `max` bytes; larger is an error.
pub(crate) async fn file_at(
    root: &Path,
    scrub: &[String],
    rev: &str,
    path: &str,
    max: usize,
) -> Result<Option<String>, String> {
    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{rev:?} is not a commit id"));
    }
    let git = Git { root, scrub };
    let spec = format!("{rev}:{path}");
    let out = git
        .output(&["cat-file", "-e", &spec])
        .await
        .map_err(|e| format!("could not run git ({e})"))?;
    if !out.status.success() {
        return Ok(None);
    }
    let out = git
        .output(&["cat-file", "blob", &spec])
        .await
        .map_err(|e| format!("could not run git ({e})"))?;
    if !out.status.success() {
        return Err(format!("git could not read {spec}"));
    }
    if out.stdout.len() > max {
        return Err(format!("{path} at {rev} is larger than {max} bytes"));
    }
    String::from_utf8(out.stdout)
        .map(Some)
        .map_err(|_| format!("{path} at {rev} is not UTF-8"))
}

/// A revision the user gave (a flag or the config): never an option.
pub(super) fn check_rev(rev: &str, from: &str) -> Result<()> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains(char::is_whitespace) {
        return Err(InputError::NotARevision {
            from: from.to_string(),
            rev: rev.to_string(),
        }
        .into());
    }
    Ok(())
}

/// `git diff BASE HEAD` in the repository at `root`: the patch an eval case
/// names by two commits. Revisions that look like options are refused.
pub(crate) async fn diff_of(
    root: &Path,
    base: &str,
    head: &str,
    scrub: &[String],
) -> std::result::Result<String, String> {
    for rev in [base, head] {
        if rev.is_empty() || rev.starts_with('-') {
            return Err(format!("{rev:?} is not a revision"));
        }
    }
    let git = Git { root, scrub };
    // A repository committed into a case (a bare one can be) brings its
    // own config: refuse implicit bare repositories, and run no helper.
    let out = git
        .output(&[
            "-c",
            "safe.bareRepository=explicit",
            "-c",
            "core.fsmonitor=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            base,
            head,
            "--",
        ])
        .await
        .map_err(|e| format!("could not run git ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "git diff {base} {head} failed: {}",
            crate::text::one_line(&String::from_utf8_lossy(&out.stderr), 300)
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| "the diff is not UTF-8 text".into())
}
