//! Each agent's token allowance and packed inputs, computed once before any
//! call (docs/inputs.md, "Token allowance and batches"). Agents that read no inputs get
//! none, and no tokenizer is loaded for them.

use std::collections::HashMap;

use super::pack::{self, Allowance, Batch, Counter, PackSummary};
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
    prior: &str,
    knowledge: &HashMap<String, Result<String, crate::config::KnowledgeError>>,
) -> Vec<Option<Packed>> {
    let started = std::time::Instant::now();
    let mut counter = Counter::default();
    // Count every item once per encoding in use, in parallel, before packing.
    let mut encodings: Vec<tokens::Encoding> = plan
        .agents
        .iter()
        .filter(|p| p.skip.is_none())
        .filter(|p| !plan.shared_inputs.is_empty() || !p.agent.inputs.is_empty())
        .map(|p| tokens::encoding_for(&p.agent.model))
        .collect();
    encodings.sort();
    encodings.dedup();
    for enc in encodings {
        counter.precount(enc, inputs);
    }
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "counted input tokens"
    );
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
        let (room, window, reply) = room(plan, agent, (payload_text, prior), knowledge, earlier);
        let allowance = Allowance {
            encoding: enc,
            tokens: room,
            max_batches: agent.max_batches.unwrap_or(pack::DEFAULT_MAX_BATCHES),
            shared: &plan.shared_inputs,
            own: &own,
        };
        let (batches, mut summary) = pack::pack(inputs, &allowance, &mut counter);
        summary.window_tokens = window;
        summary.reply_tokens = reply;
        out.push(Some(Packed { batches, summary }));
        earlier += 1;
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "packed inputs");
    out
}

/// The tokens left for `agent`'s inputs: its context window less its reply,
/// the prompt around the inputs (event, payload, system prompt, knowledge),
/// the results of the `earlier` agents of a sequence, and the overhead.
/// `prior`: the open findings of earlier reviews, as the shared prompt shows them.
fn room(
    plan: &RunPlan,
    agent: &crate::config::Agent,
    (payload_text, prior): (&str, &str),
    knowledge: &HashMap<String, Result<String, crate::config::KnowledgeError>>,
    earlier: u64,
) -> (u64, u64, u64) {
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
    let fixed = tokens::count(
        enc,
        &prompt::shared(&plan.event, payload_text, prior, "", ""),
    ) + tokens::count(enc, &prompt::system(agent))
        + knowledge_tokens
        + earlier_allowance(plan, earlier);
    let room = u64::from(window)
        .saturating_sub(reply)
        .saturating_sub(fixed)
        .saturating_sub(pack::OVERHEAD_TOKENS);
    (room, u64::from(window), reply)
}

/// Room for the results of the agents before this one in a sequence.
fn earlier_allowance(plan: &RunPlan, earlier: u64) -> u64 {
    match plan.limits.execution {
        crate::config::Execution::Sequential => earlier * pack::EARLIER_RESULT_TOKENS,
        crate::config::Execution::Parallel => 0,
    }
}

/// An agent's first prompt, for measuring what it shares with the others'.
pub(crate) struct First {
    /// The system prompt as sent.
    pub system: String,
    /// Bytes of it that are the shared part.
    pub head_len: usize,
    /// The shared part without its inputs.
    pub head_without_inputs: String,
    /// Tokens of the inputs in the shared part, as the pack counted them.
    pub inputs_tokens: u64,
}

/// For each agent, the tokens of the longest prefix its first prompt shares
/// with another agent's: what a provider's prompt cache can serve once. When
/// the whole shared part is common (the usual case) its inputs are not
/// counted again: their tokens come from the pack.
/// For each agent, the longest prefix its first prompt shares with another
/// agent's. In lexicographic order that other is a neighbour, so the
/// prompts are sorted once and each compared with its two neighbours, not
/// with every other (eight agents' 370 KB prompts were 56 comparisons).
fn longest_shared(firsts: &[Option<First>]) -> Vec<usize> {
    let mut order: Vec<(usize, &str)> = firsts
        .iter()
        .enumerate()
        .filter_map(|(j, f)| Some((j, f.as_ref()?.system.as_str())))
        .collect();
    order.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    let mut longest = vec![0; firsts.len()];
    for pair in order.windows(2) {
        let n = pack::common_prefix_len(pair[0].1, pair[1].1);
        longest[pair[0].0] = longest[pair[0].0].max(n);
        longest[pair[1].0] = longest[pair[1].0].max(n);
    }
    longest
}

pub(crate) fn shared_prefixes(plan: &RunPlan, firsts: &[Option<First>]) -> Vec<Option<u64>> {
    use std::hash::{Hash, Hasher};
    let mut memo: HashMap<(tokens::Encoding, u64), u64> = HashMap::new();
    let mut count = |enc: tokens::Encoding, text: &str| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        *memo
            .entry((enc, h.finish()))
            .or_insert_with(|| tokens::count(enc, text))
    };
    let longest = longest_shared(firsts);
    firsts
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            let mine = mine.as_ref()?;
            let enc = tokens::encoding_for(&plan.agents[i].agent.model);
            let longest = longest[i];
            Some(if longest >= mine.head_len {
                count(enc, &mine.head_without_inputs)
                    + mine.inputs_tokens
                    + count(enc, &mine.system[mine.head_len..longest])
            } else {
                count(enc, &mine.system[..longest])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{longest_shared, First};

    /// Comparing each prompt with its sorted neighbours finds what comparing
    /// it with every other does.
    #[test]
    fn the_longest_shared_prefix_is_a_neighbours() {
        let texts = ["abcdX", "abQ", "abcdY", "zzz", "abcdXtail"];
        let firsts: Vec<Option<First>> = texts
            .iter()
            .map(|t| {
                Some(First {
                    system: format!("{}{}", "p".repeat(5000), t),
                    head_len: 0,
                    head_without_inputs: String::new(),
                    inputs_tokens: 0,
                })
            })
            .chain([None])
            .collect();
        let brute: Vec<usize> = (0..firsts.len())
            .map(|i| {
                let Some(mine) = &firsts[i] else { return 0 };
                (0..firsts.len())
                    .filter(|j| *j != i)
                    .filter_map(|j| firsts[j].as_ref())
                    .map(|o| crate::engine::pack::common_prefix_len(&mine.system, &o.system))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(longest_shared(&firsts), brute);
        assert_eq!(brute[0], 5005, "abcdX and abcdXtail share 5,005 bytes");
    }
}
