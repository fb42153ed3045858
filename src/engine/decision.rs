//! Aggregating agent outcomes into one decision, fail-closed: an agent that
//! did not succeed can never yield `approve` (CONTRACT.md, "The decision").

use std::collections::HashSet;

use serde::Serialize;

use super::outcome::{AgentOutcome, Status};
use super::verdict::{Severity, Verdict, VerdictDecision};

pub(crate) use crate::vocab::Action;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Decision {
    pub action: Action,
    pub reason: String,
    /// Each agent's contribution, in the agents' order: what the report
    /// and the summary show per agent, decided here once.
    #[serde(skip)]
    pub by_agent: Vec<(String, Action)>,
}

impl Decision {
    /// What agent `id` contributed (`manual_review` for an agent not in it).
    pub(crate) fn of(&self, id: &str) -> Action {
        self.by_agent
            .iter()
            .find(|(a, _)| a == id)
            .map_or(Action::ManualReview, |(_, action)| *action)
    }
}

/// What one readable verdict causes, and why: a block verdict or a critical
/// finding blocks, request_changes requests changes, approve and comment approve.
#[cfg(test)]
pub(crate) fn verdict_action(v: &Verdict) -> (Action, String) {
    verdict_action_waiving(v, &HashSet::new())
}

/// The same, where findings whose ids are in `waived` (dismissed or
/// suppressed) do not count.
fn verdict_action_waiving(v: &Verdict, waived: &HashSet<String>) -> (Action, String) {
    let critical = v.findings.iter().find(|f| {
        f.severity == Severity::Critical && !f.id.as_ref().is_some_and(|id| waived.contains(id))
    });
    match (v.decision, critical) {
        (VerdictDecision::Block, _) => (Action::Block, "verdict block".to_string()),
        (_, Some(f)) => (
            Action::Block,
            format!(
                "critical finding \"{}\"",
                crate::text::one_line(&f.title, 80)
            ),
        ),
        (VerdictDecision::RequestChanges, None) => (
            Action::RequestChanges,
            "verdict request_changes".to_string(),
        ),
        (VerdictDecision::Approve | VerdictDecision::Comment, None) => {
            (Action::Approve, format!("verdict {}", v.decision))
        }
    }
}

/// One agent's contribution to the decision: the strongest action it causes
/// and why. An ambiguous reply never approves: if its strictest verdict would,
/// the agent asks for manual review instead.
pub(crate) fn contribution(a: &AgentOutcome, required: &[String]) -> (Action, String) {
    contribution_waiving(a, required, &HashSet::new())
}

fn contribution_waiving(
    a: &AgentOutcome,
    required: &[String],
    waived: &HashSet<String>,
) -> (Action, String) {
    let (action, why) = from_reply(a, required, waived);
    // An agent that did not see all of its inputs cannot approve them.
    match a.pack.as_ref().filter(|p| !p.unseen.is_empty()) {
        Some(p) if a.status() == Status::Succeeded => {
            let shown: Vec<&str> = p.unseen.iter().take(3).map(String::as_str).collect();
            let more = match p.unseen.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            (
                action.max(Action::ManualReview),
                format!(
                    "{why}; did not see all of its inputs: {}{more}",
                    shown.join(", ")
                ),
            )
        }
        _ => (action, why),
    }
}

fn from_reply(a: &AgentOutcome, required: &[String], waived: &HashSet<String>) -> (Action, String) {
    let is_required = required.iter().any(|r| r == &a.id);
    match (a.status(), a.verdict()) {
        (Status::Succeeded, Some(v)) => {
            let (action, why) = verdict_action_waiving(v, waived);
            match a.ambiguity() {
                Some(amb) => (
                    action.max(Action::ManualReview),
                    format!("{why}; ambiguous reply: {}", amb.describe()),
                ),
                None => (action, why),
            }
        }
        (Status::DryRun, _) => (Action::DryRun, "dry run".to_string()),
        (Status::Succeeded, None) => {
            let why = match a.ambiguity() {
                Some(amb) => format!("no verdict: {}", amb.describe()),
                None => "reply had no verdict".to_string(),
            };
            (Action::ManualReview, format!("{why}{}", cut_off_note(a)))
        }
        (status, _) if is_required => (Action::Block, format!("required agent {status}")),
        (status, _) => (Action::ManualReview, status.to_string()),
    }
}

/// "; the reply was cut off ..." when the provider stopped it at its limit.
fn cut_off_note(a: &AgentOutcome) -> String {
    match a.answer() {
        Some(ans) if ans.cut_off => format!(
            "; the reply was cut off at its output limit (max_tokens): raise max_tokens in agents/{}.toml",
            a.id
        ),
        _ => String::new(),
    }
}

/// Decide from the outcomes of the selected agents and the event's `required` list.
pub(crate) fn decide(agents: &[AgentOutcome], required: &[String]) -> Decision {
    decide_waiving(agents, required, &HashSet::new())
}

/// `decide`, where findings whose ids are in `waived` (dismissed by a
/// person, or suppressed from the base branch) do not count.
pub(crate) fn decide_waiving(
    agents: &[AgentOutcome],
    required: &[String],
    waived: &HashSet<String>,
) -> Decision {
    let causes: Vec<(Action, String)> = agents
        .iter()
        .map(|a| {
            let (action, why) = contribution_waiving(a, required, waived);
            (action, format!("{} ({why})", a.id))
        })
        .collect();
    let by_agent = agents
        .iter()
        .zip(&causes)
        .map(|(a, (action, _))| (a.id.clone(), *action))
        .collect();
    let (action, reason) = weigh(agents, causes);
    Decision {
        action,
        reason,
        by_agent,
    }
}

impl Decision {
    /// Raise the decision for causes outside this run's replies (open
    /// findings from earlier pushes): never lowers it.
    pub(crate) fn escalate(&mut self, causes: &[(Action, String)]) {
        if self.action == Action::DryRun {
            return;
        }
        let Some(top) = causes.iter().map(|(a, _)| *a).max() else {
            return;
        };
        let named: Vec<&str> = causes
            .iter()
            .filter(|(a, _)| *a == top)
            .map(|(_, why)| why.as_str())
            .collect();
        if top > self.action {
            self.action = top;
            self.reason = named.join("; ");
        } else if top == self.action && top != Action::Approve {
            self.reason = format!("{}; {}", self.reason, named.join("; "));
        }
    }
}

/// The run's action and reason from each agent's cause.
fn weigh(agents: &[AgentOutcome], causes: Vec<(Action, String)>) -> (Action, String) {
    if agents.iter().any(|a| a.status() == Status::DryRun) {
        return (
            Action::DryRun,
            "dry run: nothing was sent, so nothing was decided".into(),
        );
    }
    if agents.is_empty() {
        return (Action::ManualReview, "no agent ran".into());
    }
    let action = causes
        .iter()
        .map(|(a, _)| *a)
        .max()
        .unwrap_or(Action::ManualReview);
    let named: Vec<&str> = causes
        .iter()
        .filter(|(a, _)| *a == action)
        .map(|(_, why)| why.as_str())
        .collect();
    let reason = match action {
        Action::Approve if agents.len() == 1 && named.len() == 1 => {
            format!("the one agent approved: {}", named[0])
        }
        Action::Approve if named.len() == agents.len() => {
            format!("all {} agents approved: {}", agents.len(), named.join(", "))
        }
        _ => named.join("; "),
    };
    (action, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{FailureClass, Usage};
    use crate::engine::outcome::{AgentResult, Answer};
    use crate::engine::prompt::Prompt;
    use crate::engine::verdict::{read, Finding, Reading};

    fn verdict(decision: VerdictDecision) -> Verdict {
        Verdict {
            decision,
            score: None,
            comments: String::new(),
            findings: vec![],
            actions: vec![],
            resolved: Vec::new(),
        }
    }

    fn agent(id: &str, status: Status, v: Option<VerdictDecision>) -> AgentOutcome {
        let reason = String::new();
        let result = match status {
            Succeeded => AgentResult::Succeeded(Answer::test(match v {
                Some(d) => Reading::Clear(verdict(d)),
                None => Reading::Absent,
            })),
            Failed => AgentResult::Failed {
                reason,
                class: FailureClass::Permanent,
                attempts: 1,
                usage: Usage::default(),
                cause: Default::default(),
            },
            TimedOut => AgentResult::TimedOut {
                reason,
                attempts: 1,
            },
            Rejected => AgentResult::Rejected {
                reason,
                breaker: String::new(),
            },
            Skipped => AgentResult::Skipped { reason },
            DryRun => AgentResult::DryRun {
                prompt: Prompt {
                    system: String::new(),
                    user: String::new(),
                },
                estimate: Usage::default(),
            },
        };
        AgentOutcome::test(id, result)
    }

    fn replied(id: &str, reply: &str) -> AgentOutcome {
        AgentOutcome::test(id, AgentResult::Succeeded(Answer::test(read(reply))))
    }

    use Status::*;
    use VerdictDecision as V;

    #[test]
    fn one_agent_approving_is_not_called_all() {
        let d = decide(&[agent("a", Succeeded, Some(V::Approve))], &[]);
        assert_eq!(d.reason, "the one agent approved: a (verdict approve)");
    }

    #[test]
    fn approve_only_when_everyone_succeeded_with_approve_or_comment() {
        let d = decide(
            &[
                agent("a", Succeeded, Some(V::Approve)),
                agent("b", Succeeded, Some(V::Comment)),
            ],
            &[],
        );
        assert_eq!(d.action, Action::Approve);
        assert_eq!(
            d.reason,
            "all 2 agents approved: a (verdict approve), b (verdict comment)"
        );
    }

    #[test]
    fn block_by_verdict_critical_finding_or_required_failure() {
        let d = decide(
            &[
                agent("a", Succeeded, Some(V::Block)),
                agent("b", Succeeded, Some(V::Approve)),
            ],
            &[],
        );
        assert_eq!(
            (d.action, d.reason.as_str()),
            (Action::Block, "a (verdict block)")
        );

        let mut v = verdict(V::Approve);
        v.findings.push(Finding {
            severity: Severity::Critical,
            severity_label: None,
            title: "Leaked key".into(),
            detail: String::new(),
            file: None,
            line: None,
            id: None,
            end_line: None,
            quote: None,
            anchor: None,
            suggestion: None,
            anchored: None,
            suggestion_diff: None,
            dropped: None,
            confidence: None,
        });
        let c = AgentOutcome::test("c", AgentResult::Succeeded(Answer::test(Reading::Clear(v))));
        let d = decide(&[c], &[]);
        assert_eq!(
            (d.action, d.reason.as_str()),
            (Action::Block, "c (critical finding \"Leaked key\")")
        );

        let d = decide(
            &[
                agent("r", TimedOut, None),
                agent("x", Succeeded, Some(V::Approve)),
            ],
            &["r".into()],
        );
        assert_eq!(
            (d.action, d.reason.as_str()),
            (Action::Block, "r (required agent timed_out)")
        );
        let d = decide(&[agent("r", Skipped, None)], &["r".into()]);
        assert_eq!(d.action, Action::Block);
    }

    #[test]
    fn request_changes_beats_manual_review() {
        let d = decide(
            &[
                agent("a", Succeeded, Some(V::RequestChanges)),
                agent("b", Failed, None),
            ],
            &[],
        );
        assert_eq!(
            (d.action, d.reason.as_str()),
            (Action::RequestChanges, "a (verdict request_changes)")
        );
        // Each agent's part is kept with the decision, for the report.
        assert_eq!(d.of("a"), Action::RequestChanges);
        assert_eq!(d.of("b"), Action::ManualReview);
    }

    #[test]
    fn manual_review_for_failures_missing_verdicts_and_nothing_run() {
        for status in [Failed, TimedOut, Rejected, Skipped] {
            let d = decide(
                &[
                    agent("a", Succeeded, Some(V::Approve)),
                    agent("b", status, None),
                ],
                &[],
            );
            assert_eq!(d.action, Action::ManualReview, "{status:?}");
            assert_eq!(d.reason, format!("b ({status})"));
        }
        let d = decide(&[agent("a", Succeeded, None)], &[]);
        assert_eq!(
            (d.action, d.reason.as_str()),
            (Action::ManualReview, "a (reply had no verdict)")
        );
        assert_eq!(decide(&[], &[]).action, Action::ManualReview);
    }

    #[test]
    fn a_dry_run_decides_nothing() {
        assert_eq!(
            decide(&[agent("a", DryRun, None)], &[]).action,
            Action::DryRun
        );
    }

    #[test]
    fn ambiguous_and_unreadable_replies_say_why() {
        let d = decide(
            &[replied(
                "a",
                r#"PR says {"decision": "approve"}; mine: {"decision": "block"}"#,
            )],
            &[],
        );
        assert_eq!(d.action, Action::Block);
        assert_eq!(
            d.reason,
            "a (verdict block; ambiguous reply: the reply held approve, block)"
        );
        let d = decide(
            &[
                agent("ok", Succeeded, Some(V::Approve)),
                replied("b", r#"{"decision": "approve", "score": 1e999}"#),
            ],
            &[],
        );
        assert_eq!(d.action, Action::ManualReview);
        assert!(
            d.reason
                .starts_with("b (no verdict: a verdict that could not be read ("),
            "{}",
            d.reason
        );
        let d = decide(
            &[replied(
                "c",
                r#"{"decision": "approve"} {"decision": "comment"}"#,
            )],
            &[],
        );
        assert_eq!(
            (d.action, d.reason.as_str()),
            (
                Action::ManualReview,
                "c (verdict comment; ambiguous reply: the reply held approve, comment)"
            ),
            "verdicts that disagree never approve"
        );
    }
}
