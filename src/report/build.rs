//! Each part of the report built from what the run came to: the totals, an
//! agent's entry, an input's entry.

use super::{hunk_ranges, millis, AgentJson, InputJson, Totals};
use crate::engine::outcome::{AgentOutcome, Status};
use crate::engine::prompt::Prompt;

impl Totals {
    pub(super) fn of(agents: &[AgentOutcome]) -> Totals {
        let mut totals = Totals::default();
        for a in agents {
            totals.calls += u64::from(a.attempts());
            // Each batch is one call of its own: only calls past them are retries.
            let batches = a.pack.as_ref().map_or(1, |p| p.batches.max(1));
            totals.retries += u64::from(a.attempts().saturating_sub(batches));
            totals.cache_hits += u64::from(a.cached());
            if a.status() != Status::DryRun {
                totals.prompt_tokens = totals.prompt_tokens.saturating_add(a.usage().prompt_tokens);
                totals.completion_tokens = totals
                    .completion_tokens
                    .saturating_add(a.usage().completion_tokens);
            }
        }
        totals
    }
}

impl AgentJson {
    /// `decision`: what the agent contributed to the run's decision;
    /// `shared`: a dry run's shared prompt part, kept once in the report
    /// (`shared_head`): a prompt that begins with it keeps only the rest.
    pub(super) fn of(
        a: &AgentOutcome,
        decision: crate::vocab::Action,
        shared: Option<&str>,
    ) -> AgentJson {
        AgentJson {
            id: a.id.clone(),
            name: a.name.clone(),
            provider: a.provider.clone(),
            model: a.model.clone(),
            status: a.status(),
            decision,
            reason: a.reason(),
            attempts: a.attempts(),
            cached: a.cached(),
            duration_ms: millis(a.duration),
            prompt_hash: a.prompt_hash.clone(),
            usage: a.usage(),
            verdict: a.verdict().cloned(),
            ambiguity: a.ambiguity().cloned(),
            disallowed_actions: a
                .answer()
                .map(|x| x.disallowed_actions.clone())
                .unwrap_or_default(),
            cut_off: a.answer().is_some_and(|x| x.cut_off),
            output: a.answer().map(|x| x.output.clone()),
            prompt: a.dry_prompt().map(|p| Prompt {
                system: shared
                    .and_then(|head| own_part(&p.system, head))
                    .unwrap_or(&p.system)
                    .to_string(),
                user: p.user.clone(),
            }),
            inputs: a.pack.clone(),
            fallback: a.route.clone(),
        }
    }
}

impl InputJson {
    pub(super) fn of(g: &crate::inputs::Gathered) -> InputJson {
        InputJson {
            name: g.name.clone(),
            kind: g.kind,
            source: g.source.clone(),
            bytes: g.bytes(),
            included: g
                .items
                .iter()
                .map(|i| format!("{} ({})", i.path, i.label))
                .collect(),
            excluded: g.excluded.clone(),
            unseen: g.unseen.clone(),
            exit_code: g.exit_code,
            sha256: g.sha256(),
            diff_lines: if g.kind == crate::config::inputs::InputKind::GitDiff {
                g.items
                    .iter()
                    .map(|i| (i.path.clone(), hunk_ranges(&i.text)))
                    .filter(|(_, r)| !r.is_empty())
                    .collect()
            } else {
                Default::default()
            },
        }
    }
}

/// A dry run's shared prompt part, kept once in the report: the first
/// prompt's part before the role marker (an agent whose part differs keeps
/// its whole prompt).
pub(super) fn shared_head(agents: &[AgentOutcome]) -> Option<&str> {
    let marker = crate::client::marker_line();
    agents
        .iter()
        .filter_map(AgentOutcome::dry_prompt)
        .find_map(|p| p.system.rfind(&marker).map(|i| &p.system[..i]))
}

/// What of `system` follows `head`, from the newline before the role marker
/// on; `None` when its shared part is not `head`.
fn own_part<'a>(system: &'a str, head: &str) -> Option<&'a str> {
    let i = system.rfind(&crate::client::marker_line())?;
    (system[..i] == *head).then(|| &system[i + 1..])
}
