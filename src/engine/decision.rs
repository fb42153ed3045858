//! Aggregating agent outcomes into one decision, fail-closed: an agent that
//! did not succeed can never yield `approve` (CONTRACT.md, "The decision").

use serde::Serialize;

use super::outcome::{AgentOutcome, Status};
use super::verdict::{Severity, VerdictDecision};

/// The run's decision, ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    Approve,
    ManualReview,
    RequestChanges,
    Block,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Approve => "approve",
            Action::ManualReview => "manual_review",
            Action::RequestChanges => "request_changes",
            Action::Block => "block",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Decision {
    pub action: Action,
    pub reason: String,
}

/// Decide from the outcomes of the selected agents and the event's `required` list.
pub(crate) fn decide(agents: &[AgentOutcome], required: &[String]) -> Decision {
    if agents.iter().any(|a| a.status == Status::DryRun) {
        return Decision {
            action: Action::ManualReview,
            reason: "dry run: nothing was sent, so nothing was decided".into(),
        };
    }
    if agents.is_empty() {
        return Decision {
            action: Action::ManualReview,
            reason: "no agent ran".into(),
        };
    }
    // Each agent's own contribution: the strongest action it causes and why.
    let mut causes: Vec<(Action, String)> = Vec::new();
    for a in agents {
        let is_required = required.iter().any(|r| r == &a.id);
        let (action, why) = match (&a.status, &a.verdict) {
            (Status::Succeeded, Some(v)) => {
                let critical = v.findings.iter().find(|f| f.severity == Severity::Critical);
                match (v.decision, critical) {
                    (VerdictDecision::Block, _) => (Action::Block, "verdict block".to_string()),
                    (_, Some(f)) => (Action::Block, format!("critical finding \"{}\"", f.title)),
                    (VerdictDecision::RequestChanges, None) => (
                        Action::RequestChanges,
                        "verdict request_changes".to_string(),
                    ),
                    (VerdictDecision::Approve | VerdictDecision::Comment, None) => {
                        (Action::Approve, format!("verdict {}", v.decision))
                    }
                }
            }
            (Status::Succeeded, None) => (Action::ManualReview, "reply had no verdict".to_string()),
            (status, _) if is_required => (Action::Block, format!("required agent {status}")),
            (status, _) => (Action::ManualReview, status.to_string()),
        };
        causes.push((action, format!("{} ({why})", a.id)));
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
        Action::Approve if named.len() == agents.len() => {
            format!("all {} agents approved: {}", agents.len(), named.join(", "))
        }
        _ => named.join("; "),
    };
    Decision { action, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::{Finding, Verdict};

    fn agent(id: &str, status: Status, verdict: Option<VerdictDecision>) -> AgentOutcome {
        let mut a = AgentOutcome::blank(id);
        a.status = status;
        a.verdict = verdict.map(|decision| Verdict {
            decision,
            score: None,
            comments: String::new(),
            findings: vec![],
            actions: vec![],
        });
        a
    }

    use Status::*;
    use VerdictDecision as V;

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

        let mut c = agent("c", Succeeded, Some(V::Approve));
        c.verdict.as_mut().unwrap().findings.push(Finding {
            severity: Severity::Critical,
            title: "Leaked key".into(),
            detail: String::new(),
            file: None,
            line: None,
        });
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
            Action::ManualReview
        );
    }
}
