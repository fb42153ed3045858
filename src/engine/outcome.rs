//! What happened to each agent and to the run: the engine's runtime types.
//! The report module turns these into the versioned wire format.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::decision::{Action, Decision};
use super::prompt::Prompt;
use super::verdict::Verdict;
use crate::client::{FailureClass, Usage};
use crate::config::Agent;
use crate::error::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Succeeded,
    Failed,
    TimedOut,
    /// The breaker was open and no request was sent.
    Rejected,
    Skipped,
    DryRun,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::TimedOut => "timed_out",
            Status::Rejected => "rejected",
            Status::Skipped => "skipped",
            Status::DryRun => "dry_run",
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AgentOutcome {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub model: String,
    pub status: Status,
    /// Why it was skipped, rejected or failed.
    pub reason: Option<String>,
    /// How it failed, for the exit code; `None` unless it failed.
    pub failure: Option<FailureClass>,
    pub attempts: u32,
    pub cached: bool,
    pub duration: Duration,
    pub prompt_hash: Option<String>,
    pub usage: Usage,
    pub verdict: Option<Verdict>,
    pub disallowed_actions: Vec<String>,
    pub output: Option<String>,
    /// The rendered prompt; dry runs only.
    pub prompt: Option<Prompt>,
}

impl AgentOutcome {
    pub(crate) fn blank(id: &str) -> Self {
        AgentOutcome {
            id: id.to_string(),
            name: String::new(),
            provider: String::new(),
            model: String::new(),
            status: Status::Skipped,
            reason: None,
            failure: None,
            attempts: 0,
            cached: false,
            duration: Duration::ZERO,
            prompt_hash: None,
            usage: Usage::default(),
            verdict: None,
            disallowed_actions: Vec::new(),
            output: None,
            prompt: None,
        }
    }

    pub(crate) fn of(agent: &Agent, status: Status, reason: Option<String>) -> Self {
        AgentOutcome {
            name: agent.name.clone(),
            provider: agent.provider.clone(),
            model: agent.model.clone(),
            status,
            reason,
            ..AgentOutcome::blank(&agent.id)
        }
    }

    /// Did this agent try to reach a model (as opposed to being skipped or dry-run)?
    fn attempted(&self) -> bool {
        matches!(
            self.status,
            Status::Succeeded | Status::Failed | Status::TimedOut | Status::Rejected
        )
    }

    /// Would waiting fix this agent's failure?
    fn transient(&self) -> bool {
        match self.status {
            Status::TimedOut | Status::Rejected => true,
            Status::Failed => self.failure == Some(FailureClass::Transient),
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RunOutcome {
    pub agents: Vec<AgentOutcome>,
    pub decision: Decision,
    pub interrupted: bool,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub duration: Duration,
}

impl RunOutcome {
    /// The exit code of CONTRACT.md: 130, then 1 / 75 when no agent
    /// succeeded, then 3 when the decision reached `fail_on` (`None`: never).
    pub(crate) fn exit_code(&self, dry_run: bool, fail_on: Option<Action>) -> ExitCode {
        if self.interrupted {
            return ExitCode::Interrupted;
        }
        if dry_run {
            return ExitCode::Success;
        }
        let attempted: Vec<&AgentOutcome> = self.agents.iter().filter(|a| a.attempted()).collect();
        let any_succeeded = attempted.iter().any(|a| a.status == Status::Succeeded);
        if !attempted.is_empty() && !any_succeeded {
            return if attempted.iter().all(|a| a.transient()) {
                ExitCode::TempFail
            } else {
                ExitCode::Failure
            };
        }
        match fail_on {
            Some(level) if self.decision.action >= level => ExitCode::DecisionReached,
            _ => ExitCode::Success,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(agents: Vec<AgentOutcome>, action: Action) -> RunOutcome {
        RunOutcome {
            agents,
            decision: Decision {
                action,
                reason: String::new(),
            },
            interrupted: false,
            started_at: SystemTime::UNIX_EPOCH,
            finished_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
        }
    }

    fn agent(status: Status, failure: Option<FailureClass>) -> AgentOutcome {
        AgentOutcome {
            status,
            failure,
            ..AgentOutcome::blank("a")
        }
    }

    #[test]
    fn exit_codes() {
        use FailureClass::*;
        use Status::*;
        let block = Some(Action::Block);
        let ok = run(vec![agent(Succeeded, None)], Action::Approve);
        assert_eq!(ok.exit_code(false, block), ExitCode::Success);
        let blocked = run(vec![agent(Succeeded, None)], Action::Block);
        assert_eq!(blocked.exit_code(false, block), ExitCode::DecisionReached);
        assert_eq!(blocked.exit_code(false, None), ExitCode::Success);
        let rc = run(vec![agent(Succeeded, None)], Action::RequestChanges);
        assert_eq!(rc.exit_code(false, block), ExitCode::Success);
        assert_eq!(
            rc.exit_code(false, Some(Action::RequestChanges)),
            ExitCode::DecisionReached
        );
        assert_eq!(
            rc.exit_code(false, Some(Action::ManualReview)),
            ExitCode::DecisionReached
        );

        let transient = run(
            vec![
                agent(Failed, Some(Transient)),
                agent(TimedOut, None),
                agent(Rejected, None),
            ],
            Action::Block,
        );
        assert_eq!(transient.exit_code(false, block), ExitCode::TempFail);
        let permanent = run(
            vec![
                agent(Failed, Some(Transient)),
                agent(Failed, Some(Permanent)),
            ],
            Action::Block,
        );
        assert_eq!(permanent.exit_code(false, block), ExitCode::Failure);
        let quota = run(vec![agent(Failed, Some(Quota))], Action::ManualReview);
        assert_eq!(quota.exit_code(false, None), ExitCode::Failure);

        let some_succeeded = run(
            vec![agent(Succeeded, None), agent(Failed, Some(Permanent))],
            Action::ManualReview,
        );
        assert_eq!(some_succeeded.exit_code(false, block), ExitCode::Success);
        let all_skipped = run(vec![agent(Skipped, None)], Action::ManualReview);
        assert_eq!(all_skipped.exit_code(false, block), ExitCode::Success);
        assert_eq!(
            all_skipped.exit_code(false, Some(Action::ManualReview)),
            ExitCode::DecisionReached
        );

        let mut interrupted = run(vec![agent(Succeeded, None)], Action::Block);
        interrupted.interrupted = true;
        assert_eq!(interrupted.exit_code(false, block), ExitCode::Interrupted);
        assert_eq!(
            run(vec![agent(DryRun, None)], Action::ManualReview).exit_code(true, block),
            ExitCode::Success
        );
    }
}
