//! Why an input cannot be gathered or supplied: each refusal its own
//! variant, ending the run with exit 2 before anything is sent.

use std::path::PathBuf;

use crate::error::{Error, ExitCode};

#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error(
        "input {input}: {} is not inside a git repository; run bsu in the repository, or \
         supply the input with --input {input}=FILE",
        .root.display()
    )]
    NotARepository { input: String, root: PathBuf },
    #[error("{what}: could not run git ({error}); install git, or supply the input with --input")]
    NoGit { what: String, error: String },
    #[error("{what}: git {command} failed: {stderr}")]
    GitFailed {
        what: String,
        command: String,
        /// git's message, on one line.
        stderr: String,
    },
    #[error("{what}: {why}")]
    Unreadable { what: String, why: String },
    #[error(
        "input {input}: the {which} commit {rev} is not in this clone (a shallow checkout?). \
         In GitHub Actions set `fetch-depth: 0` on actions/checkout; in GitLab CI set \
         `GIT_DEPTH: 0` in the job's variables; or run `git fetch --no-tags origin {rev}`; or set `fetch = true` on [inputs.{input}] to let \
         bsu fetch it"
    )]
    CommitMissing {
        input: String,
        which: &'static str,
        rev: String,
    },
    #[error("{from} {rev:?} is not a revision; give a commit, branch or tag")]
    NotARevision { from: String, rev: String },
    #[error("--head needs --base")]
    HeadWithoutBase,
    #[error(
        "input {0}: nothing says what changed. Pass --base REV (and --head REV; without \
         --head the working tree is compared), run with a pull_request or push payload, or run \
         at a terminal to review the working tree"
    )]
    NothingSaysWhatChanged(String),
    #[error(
        "input {0}: no upstream or default branch to compare the working tree with; pass --base REV"
    )]
    NoUpstream(String),
    #[error("input {input}: glob {glob:?} is not valid ({why})")]
    BadGlob {
        input: String,
        glob: String,
        why: String,
    },
    #[error("--input {0:?}: write NAME=FILE or NAME=- (e.g. --input diff=changes.patch)")]
    BadOverride(String),
    #[error(
        "--input {name}: no input {name:?} is declared in events.toml{}",
        declared_list(.declared)
    )]
    Undeclared { name: String, declared: Vec<String> },
    /// The input would run or fetch the pull request's code where it must not.
    #[error(
        "input {input:?} {what}, and {why}. bsu refuses to run or fetch the pull request's code \
         here; set [triggers] allow_commands_on_pull_request_target = true only if the workflow \
         checks out trusted code"
    )]
    Untrusted {
        input: String,
        what: &'static str,
        why: String,
    },
    /// An agent's context window leaves no token for its inputs.
    #[error(
        "agent {agent}: its context window of {window} tokens leaves no room for its inputs \
         after its reply (max_tokens {reply}) and the rest of its prompt; nothing was sent. \
         Set a larger context_window (agents/{agent}.toml or its provider), or a smaller \
         max_tokens"
    )]
    NoRoom {
        agent: String,
        window: u64,
        reply: u64,
    },
    #[error("--input: only one input can be read from stdin")]
    StdinTwice,
    #[error("--input {name}: could not read {from}: {error}")]
    OverrideUnreadable {
        name: String,
        from: String,
        error: String,
    },
}

fn declared_list(declared: &[String]) -> String {
    if declared.is_empty() {
        " (declare one as [inputs.NAME])".to_string()
    } else {
        format!("; declared: {}", declared.join(", "))
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::refused(ExitCode::Usage, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_refusals_are_usage_errors_that_say_what_to_do() {
        let e = Error::from(InputError::Undeclared {
            name: "dif".into(),
            declared: vec!["diff".into(), "log".into()],
        });
        assert_eq!(e.exit_code(), ExitCode::Usage);
        assert_eq!(
            e.to_string(),
            "--input dif: no input \"dif\" is declared in events.toml; declared: diff, log"
        );
        let e = InputError::Undeclared {
            name: "x".into(),
            declared: vec![],
        };
        assert!(e.to_string().ends_with(" (declare one as [inputs.NAME])"));
        let e = InputError::NotARevision {
            from: "--base".into(),
            rev: "--output=x".into(),
        };
        assert_eq!(
            e.to_string(),
            "--base \"--output=x\" is not a revision; give a commit, branch or tag"
        );
    }
}
