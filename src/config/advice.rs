//! Advice on a configuration that is valid but cannot do what it looks
//! meant to: `bsu check` prints it as warnings (the exit code stays 0).

use super::inputs::InputKind;
use super::Config;

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
