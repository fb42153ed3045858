//! Advice on a configuration that is valid but cannot do what it looks
//! meant to: `bsu check` prints it as warnings (the exit code stays 0).

use super::inputs::InputKind;
use super::Config;

/// Agents whose model's context window bsu does not know and nobody set:
/// the 32,768 tokens it assumes, said so (a local server's may be 2,048).
pub(crate) fn assumed_windows<'a>(agents: impl Iterator<Item = &'a super::Agent>) -> Vec<String> {
    agents
        .filter(|a| a.context_window.is_none() && !crate::tokens::knows_window(&a.model))
        .map(|a| {
            format!(
                "agent {}: the context window of model {:?} is assumed to be {} tokens; set \
                 context_window (in the agent, its provider or [defaults]) or \
                 BSU_CONTEXT_WINDOW if its server says otherwise",
                a.id,
                a.model,
                crate::tokens::context_window(&a.model)
            )
        })
        .collect()
}

/// One line per thing to fix, naming the strategy and the fix.
pub(crate) fn advice(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for s in &config.strategies {
        if !s.name.starts_with("pull_request") {
            continue;
        }
        let reads_diff = s
            .inputs
            .iter()
            .chain(
                s.agents
                    .iter()
                    .filter_map(|a| config.agents.get(a))
                    .flat_map(|a| a.inputs.iter()),
            )
            .filter_map(|name| config.inputs.get(name))
            .any(|i| matches!(i.kind(), InputKind::GitDiff | InputKind::ChangedFiles));
        if !reads_diff {
            out.push(format!(
                "strategy {:?} reviews pull requests but reads no diff input, so no finding can \
                 land on a changed line; declare [inputs.diff] kind = \"git_diff\" and add \
                 inputs = [\"diff\"] to it",
                s.name
            ));
        }
    }
    out
}
