//! Expected failures and the exit code each one maps to.
//!
//! This is the one documented place where an outcome becomes a process exit
//! code (CONTRACT.md, "Exit codes"). Unexpected failures are not modelled here:
//! they are bugs and reach color-eyre.

use std::path::PathBuf;

use crate::problem::Problem;

/// Process exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitCode {
    /// The run finished below `--fail-on`, or a command succeeded.
    Success = 0,
    /// The run failed for a reason waiting will not fix, or bsu could not finish.
    Failure = 1,
    /// Usage or configuration error; nothing was sent.
    Usage = 2,
    /// The run finished and its decision reached `--fail-on`.
    DecisionReached = 3,
    /// No agent succeeded and every failure was transient: try again later.
    TempFail = 75,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

/// How a run ended, as far as its exit code is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunEnd {
    /// Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    pub dry_run: bool,
    /// Agents that sent (or tried to send) a request.
    pub attempted: usize,
    /// Of those, how many succeeded.
    pub succeeded: usize,
    /// Every failure among the attempted was transient (waiting may help).
    pub all_transient: bool,
    pub decision: crate::vocab::Action,
    /// `--fail-on`: `None` never exits 3.
    pub fail_on: Option<crate::vocab::Action>,
}

impl RunEnd {
    /// The contract's exit code for a run that ended this way.
    pub(crate) fn exit_code(&self) -> ExitCode {
        if self.interrupted {
            return ExitCode::Interrupted;
        }
        if self.dry_run {
            return ExitCode::Success;
        }
        if self.attempted > 0 && self.succeeded == 0 {
            return if self.all_transient {
                ExitCode::TempFail
            } else {
                ExitCode::Failure
            };
        }
        match self.fail_on {
            Some(level) if self.decision >= level => ExitCode::DecisionReached,
            _ => ExitCode::Success,
        }
    }
}

impl From<ExitCode> for u8 {
    fn from(code: ExitCode) -> u8 {
        code as u8
    }
}

/// A failure bsu expects and explains to the user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The project's configuration has problems; each names its file and line.
    #[error("{}", render_problems(.0))]
    Config(Vec<Problem>),

    /// The command line or environment asked for something that cannot be done.
    #[error("{0}")]
    Usage(String),

    /// A file or folder could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Something bsu needed to finish failed (e.g. a report could not be written).
    #[error("{0}")]
    Failed(String),

    /// Nothing was done, and waiting will help (another run held the lock too long).
    #[error("{0}")]
    TryLater(String),

    /// A stage refused to go on before anything was sent. The refusal is the
    /// stage's own type (`inputs::InputError`, `cost::Refusal`,
    /// `publish::Refusal`), kept as the source; the stage chose the code.
    #[error("{source}")]
    Refused {
        code: ExitCode,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::Usage(_) => ExitCode::Usage,
            Error::Io { .. } | Error::Failed(_) => ExitCode::Failure,
            Error::TryLater(_) => ExitCode::TempFail,
            Error::Refused { code, .. } => *code,
        }
    }

    /// A stage's typed refusal, ending the command with `code`.
    pub(crate) fn refused(
        code: ExitCode,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Refused {
            code,
            source: Box::new(source),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.to_string());
    }
    out
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
