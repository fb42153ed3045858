//! What happened to each agent and to the run: the engine's runtime types.
//! The report module turns these into the versioned wire format.
//!
//! An agent's result is one enum variant per status, carrying exactly the data
//! that status has: a timed-out agent has no verdict, a skipped one no
//! attempts, a dry-run one a prompt and nothing else.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::decision::{Action, Decision};
use super::pack::PackSummary;
use super::prompt::Prompt;
use super::verdict::{Ambiguity, Reading, Verdict};
use crate::client::{FailureClass, Usage};
use crate::config::Agent;
use crate::error::ExitCode;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
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

/// A reply that came back, read.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The reply text, redacted.
    pub output: String,
    pub reading: Reading,
    pub usage: Usage,
    /// HTTP requests sent for it (0 when served from the cache).
    pub attempts: u32,
    /// Served from the response cache, or shared with an identical call in flight.
    pub cached: bool,
    /// Actions it asked for that its `actions` list lacks.
    pub disallowed_actions: Vec<String>,
    /// The provider stopped a reply at `max_tokens`.
    pub cut_off: bool,
}

/// What a failed call was, as types: the HTTP status it got, or why it got none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cause {
    pub status: Option<u16>,
    pub fault: crate::client::Fault,
}

/// How one agent ended.
#[derive(Debug, Clone)]
pub(crate) enum AgentResult {
    Succeeded(Answer),
    /// A reply or request that failed; `class` decides the exit code.
    Failed {
        reason: String,
        class: FailureClass,
        attempts: u32,
        usage: Usage,
        /// What the failure was, for hints: the HTTP status, or the network fault.
        cause: Cause,
    },
    /// Stopped by Ctrl-C or SIGTERM before it finished.
    Interrupted {
        attempts: u32,
    },
    /// The agent's or the run's deadline passed first.
    TimedOut {
        reason: String,
        attempts: u32,
    },
    /// The breaker was open and nothing was sent.
    Rejected {
        reason: String,
        /// The breaker's name, as `bsu breaker reset` takes it.
        breaker: String,
    },
    Skipped {
        reason: String,
    },
    DryRun {
        prompt: Prompt,
        estimate: Usage,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct AgentOutcome {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub model: String,
    pub duration: Duration,
    pub prompt_hash: Option<String>,
    /// What its inputs came to; `None` when it reads none.
    pub pack: Option<PackSummary>,
    /// Set when the call moved down its fallback chain.
    pub route: Option<Route>,
    pub result: AgentResult,
}

/// Where an agent was served when its own provider was unavailable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Route {
    /// The provider and model that served it (or failed last).
    pub provider: String,
    pub model: String,
    /// Each provider passed over, with why: `openai: circuit breaker ... is open`.
    pub moves: Vec<String>,
}

impl AgentOutcome {
    pub(crate) fn of(agent: &Agent, result: AgentResult) -> Self {
        AgentOutcome {
            id: agent.id.clone(),
            name: agent.name.clone(),
            provider: agent.provider.clone(),
            model: agent.model.clone(),
            duration: Duration::ZERO,
            prompt_hash: None,
            pack: None,
            route: None,
            result,
        }
    }

    pub(crate) fn status(&self) -> Status {
        match &self.result {
            AgentResult::Succeeded(_) => Status::Succeeded,
            AgentResult::Failed { .. } | AgentResult::Interrupted { .. } => Status::Failed,
            AgentResult::TimedOut { .. } => Status::TimedOut,
            AgentResult::Rejected { .. } => Status::Rejected,
            AgentResult::Skipped { .. } => Status::Skipped,
            AgentResult::DryRun { .. } => Status::DryRun,
        }
    }

    /// Why it did not succeed, or why its reply holds no verdict.
    pub(crate) fn reason(&self) -> Option<String> {
        match &self.result {
            AgentResult::Succeeded(a) => match &a.reading {
                Reading::Unreadable(amb) => Some(format!("no verdict: {}", amb.describe())),
                _ => None,
            },
            AgentResult::Failed { reason, .. }
            | AgentResult::TimedOut { reason, .. }
            | AgentResult::Rejected { reason, .. }
            | AgentResult::Skipped { reason } => Some(reason.clone()),
            AgentResult::Interrupted { .. } => Some("interrupted before it finished".into()),
            AgentResult::DryRun { .. } => None,
        }
    }

    /// A dry run's prompt: what the agent would have been sent first.
    pub(crate) fn dry_prompt(&self) -> Option<&Prompt> {
        match &self.result {
            AgentResult::DryRun { prompt, .. } => Some(prompt),
            _ => None,
        }
    }

    pub(crate) fn answer(&self) -> Option<&Answer> {
        match &self.result {
            AgentResult::Succeeded(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn verdict(&self) -> Option<&Verdict> {
        self.answer().and_then(|a| a.reading.verdict())
    }

    pub(crate) fn verdict_mut(&mut self) -> Option<&mut Verdict> {
        match &mut self.result {
            AgentResult::Succeeded(a) => a.reading.verdict_mut(),
            _ => None,
        }
    }

    /// How its reply was read, when it succeeded.
    pub(crate) fn reading_mut(&mut self) -> Option<&mut Reading> {
        match &mut self.result {
            AgentResult::Succeeded(a) => Some(&mut a.reading),
            _ => None,
        }
    }

    /// What made the reply ambiguous or unreadable, if anything did.
    pub(crate) fn ambiguity(&self) -> Option<&Ambiguity> {
        match &self.answer()?.reading {
            Reading::Ambiguous(_, a) | Reading::Unreadable(a) => Some(a),
            Reading::Clear(_) | Reading::Absent => None,
        }
    }

    pub(crate) fn attempts(&self) -> u32 {
        match &self.result {
            AgentResult::Succeeded(a) => a.attempts,
            AgentResult::Failed { attempts, .. }
            | AgentResult::Interrupted { attempts }
            | AgentResult::TimedOut { attempts, .. } => *attempts,
            _ => 0,
        }
    }

    pub(crate) fn cached(&self) -> bool {
        self.answer().is_some_and(|a| a.cached)
    }

    /// Tokens as the provider reported them; in a dry run, the estimate.
    pub(crate) fn usage(&self) -> Usage {
        match &self.result {
            AgentResult::Succeeded(a) => a.usage,
            AgentResult::Failed { usage, .. } => *usage,
            AgentResult::DryRun { estimate, .. } => *estimate,
            _ => Usage::default(),
        }
    }

    /// Did this agent try to reach a model (as opposed to being skipped or dry-run)?
    fn attempted(&self) -> bool {
        matches!(
            self.status(),
            Status::Succeeded | Status::Failed | Status::TimedOut | Status::Rejected
        )
    }

    /// Would waiting fix this agent's failure?
    fn transient(&self) -> bool {
        match &self.result {
            AgentResult::TimedOut { .. } | AgentResult::Rejected { .. } => true,
            AgentResult::Failed { class, .. } => *class == FailureClass::Transient,
            _ => false,
        }
    }
}

#[cfg(test)]
impl AgentOutcome {
    pub(crate) fn test(id: &str, result: AgentResult) -> Self {
        AgentOutcome {
            id: id.into(),
            name: format!("Agent {id}"),
            provider: "openai".into(),
            model: "m".into(),
            duration: Duration::ZERO,
            prompt_hash: None,
            pack: None,
            route: None,
            result,
        }
    }
}

#[cfg(test)]
impl Answer {
    pub(crate) fn test(reading: Reading) -> Self {
        Answer {
            output: String::new(),
            reading,
            usage: Usage::default(),
            attempts: 1,
            cached: false,
            disallowed_actions: Vec::new(),
            cut_off: false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RunOutcome {
    pub agents: Vec<AgentOutcome>,
    /// `(bytes, sent)`: the payload was cut from `bytes` to `sent` bytes for the prompt.
    pub payload_cut: Option<(usize, usize)>,
    /// The run's inputs as gathered.
    pub inputs: Vec<crate::inputs::Gathered>,
    pub decision: Decision,
    pub interrupted: bool,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub duration: Duration,
    /// Cache-aware fan-out: the agent sent first, and the longest any other
    /// waited for it.
    pub primed: Option<(String, Duration)>,
}

impl RunOutcome {
    /// The exit code of CONTRACT.md: 130, then 1 / 75 when no agent
    /// succeeded, then 3 when the decision reached `fail_on` (`None`: never).
    /// The exit code (mapped in `crate::error`, the one place that does).
    pub(crate) fn exit_code(&self, dry_run: bool, fail_on: Option<Action>) -> ExitCode {
        let attempted: Vec<&AgentOutcome> = self.agents.iter().filter(|a| a.attempted()).collect();
        crate::error::RunEnd {
            interrupted: self.interrupted,
            dry_run,
            attempted: attempted.len(),
            succeeded: attempted
                .iter()
                .filter(|a| a.status() == Status::Succeeded)
                .count(),
            all_transient: attempted.iter().all(|a| a.transient()),
            decision: self.decision.action,
            fail_on,
        }
        .exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(agents: Vec<AgentOutcome>, action: Action) -> RunOutcome {
        RunOutcome {
            agents,
            payload_cut: None,
            inputs: vec![],
            decision: Decision {
                action,
                reason: String::new(),
                by_agent: vec![],
            },
            interrupted: false,
            started_at: SystemTime::UNIX_EPOCH,
            finished_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            primed: None,
        }
    }

    fn agent(status: Status, failure: Option<FailureClass>) -> AgentOutcome {
        let reason = String::new();
        let result = match status {
            Status::Succeeded => AgentResult::Succeeded(Answer::test(Reading::Absent)),
            Status::Failed => AgentResult::Failed {
                reason,
                class: failure.unwrap(),
                attempts: 1,
                usage: Usage::default(),
                cause: Default::default(),
            },
            Status::TimedOut => AgentResult::TimedOut {
                reason,
                attempts: 1,
            },
            Status::Rejected => AgentResult::Rejected {
                reason,
                breaker: String::new(),
            },
            Status::Skipped => AgentResult::Skipped { reason },
            Status::DryRun => AgentResult::DryRun {
                prompt: Prompt {
                    system: String::new(),
                    user: String::new(),
                },
                estimate: Usage::default(),
            },
        };
        AgentOutcome::test("a", result)
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
