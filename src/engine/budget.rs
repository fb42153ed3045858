//! Each agent's token budget and packed inputs, computed once before any
//! call (CONTRACT.md, "Budgets and batches"). Agents that read no inputs get
//! none, and no tokenizer is loaded for them.

use std::collections::HashMap;

use super::pack::{self, Batch, Budget, Counter, PackSummary};
use super::prompt;
use crate::inputs::Gathered;
use crate::plan::RunPlan;
use crate::tokens;

/// One agent's batches and what they came to.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    pub batches: Vec<Batch>,
    pub summary: PackSummary,
}

/// Pack every running agent that reads inputs; `None` for the others.
pub(crate) fn pack_all(
    plan: &RunPlan,
    inputs: &[Gathered],
    payload_text: &str,
    knowledge: &HashMap<String, Result<String, String>>,
) -> Vec<Option<Packed>> {
    let mut counter = Counter::default();
    let mut earlier = 0u64;
    let mut out = Vec::with_capacity(plan.agents.len());
    for planned in &plan.agents {
        let agent = &planned.agent;
        if planned.skip.is_some() {
            out.push(None);
            continue;
        }
        let own: Vec<String> = agent
            .inputs
            .iter()
            .filter(|n| !plan.shared_inputs.contains(n))
            .cloned()
            .collect();
        if plan.shared_inputs.is_empty() && own.is_empty() {
            out.push(None);
            earlier += 1;
            continue;
        }
        let enc = tokens::encoding_for(&agent.model);
        let window = agent
            .context_window
            .or_else(|| {
                plan.providers
                    .get(&agent.provider)
                    .and_then(|p| p.context_window)
            })
            .unwrap_or_else(|| tokens::context_window(&agent.model));
        let reply = agent
            .max_tokens
            .map_or(pack::DEFAULT_REPLY_TOKENS, u64::from);
        let knowledge_tokens: u64 = agent
            .knowledge
            .iter()
            .filter_map(|k| knowledge.get(k).and_then(|r| r.as_ref().ok()))
            .map(|t| tokens::count(enc, t))
            .sum();
        let fixed = tokens::count(enc, &prompt::shared(&plan.event, payload_text, "", ""))
            + tokens::count(enc, &prompt::system(agent))
            + knowledge_tokens
            + earlier_allowance(plan, earlier);
        let budget = Budget {
            encoding: enc,
            tokens: u64::from(window)
                .saturating_sub(reply)
                .saturating_sub(fixed)
                .saturating_sub(pack::OVERHEAD_TOKENS),
            max_batches: agent.max_batches.unwrap_or(pack::DEFAULT_MAX_BATCHES),
            shared: &plan.shared_inputs,
            own: &own,
        };
        let (batches, summary) = pack::pack(inputs, &budget, &mut counter);
        out.push(Some(Packed { batches, summary }));
        earlier += 1;
    }
    out
}

/// Room for the results of the agents before this one in a sequence.
fn earlier_allowance(plan: &RunPlan, earlier: u64) -> u64 {
    match plan.execution {
        crate::config::Execution::Sequential => earlier * pack::EARLIER_RESULT_TOKENS,
        crate::config::Execution::Parallel => 0,
    }
}

/// For each agent, the tokens of the longest prefix its first prompt shares
/// with another agent's: what a provider's prompt cache can serve once.
/// Each prefix is counted once per encoding, however many agents share it.
pub(crate) fn shared_prefixes(
    plan: &RunPlan,
    first_prompts: &[Option<String>],
) -> Vec<Option<u64>> {
    use std::hash::{Hash, Hasher};
    let mut memo: HashMap<(tokens::Encoding, u64), u64> = HashMap::new();
    first_prompts
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            let mine = mine.as_ref()?;
            let enc = tokens::encoding_for(&plan.agents[i].agent.model);
            let longest = first_prompts
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, other)| other.as_ref())
                .map(|other| pack::common_prefix_len(mine, other))
                .max()
                .unwrap_or(0);
            let prefix = &mine[..longest];
            let mut h = std::collections::hash_map::DefaultHasher::new();
            prefix.hash(&mut h);
            Some(
                *memo
                    .entry((enc, h.finish()))
                    .or_insert_with(|| tokens::count(enc, prefix)),
            )
        })
        .collect()
}
