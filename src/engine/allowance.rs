//! Each agent's token allowance and packed inputs, computed once before any
//! call (docs/inputs.md, "Token allowance and batches"). Agents that read no inputs get
//! none, and no tokenizer is loaded for them.

use std::collections::{BTreeMap, HashMap};

use super::pack::{self, Allowance, Batch, Counter, PackSummary};
use super::prefix;
use super::prompt;
use crate::inputs::Gathered;
use crate::plan::RunPlan;
use crate::tokens;

/// One agent's batches and what they came to.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    /// Shared by the agents given the same allowance (a clone copies no text).
    pub batches: std::sync::Arc<[Batch]>,
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
    precount(plan, inputs, &mut counter);
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "counted input tokens"
    );
    let mut earlier = 0u64;
    let mut out = Vec::with_capacity(plan.agents.len());
    // Agents given the same allowance get the same batches: packed once.
    let mut same: HashMap<Given, Packed> = HashMap::new();
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
        let max_batches = agent.max_batches.unwrap_or(pack::DEFAULT_MAX_BATCHES);
        let packed = same
            .entry(Given {
                encoding: enc,
                room,
                window,
                reply,
                max_batches,
                own: own.clone(),
            })
            .or_insert_with(|| {
                let allowance = Allowance {
                    encoding: enc,
                    tokens: room,
                    max_batches,
                    shared: &plan.shared_inputs,
                    own: &own,
                };
                let (batches, mut summary) = pack::pack(inputs, &allowance, &mut counter);
                summary.window_tokens = window;
                summary.reply_tokens = reply;
                Packed {
                    batches: batches.into(),
                    summary,
                }
            });
        out.push(Some(packed.clone()));
        earlier += 1;
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "packed inputs");
    out
}

/// Count the items once per encoding in use, in parallel, before packing,
/// as far as the roomiest agent of the encoding could take them: per
/// encoding, the most tokens any agent's batches hold, and one prompt.
fn precount(plan: &RunPlan, inputs: &[Gathered], counter: &mut Counter) {
    let mut caps: BTreeMap<tokens::Encoding, (u64, u64)> = BTreeMap::new();
    for p in plan.agents.iter().filter(|p| p.skip.is_none()) {
        if plan.shared_inputs.is_empty() && p.agent.inputs.is_empty() {
            continue;
        }
        let batches = p
            .agent
            .max_batches
            .unwrap_or(pack::DEFAULT_MAX_BATCHES)
            .max(1);
        let window = window(plan, &p.agent);
        let most = window.saturating_mul(u64::from(batches));
        let cap = caps
            .entry(tokens::encoding_for(&p.agent.model))
            .or_insert((0, 0));
        *cap = (cap.0.max(most), cap.1.max(window));
    }
    for (enc, cap) in caps {
        counter.precount(enc, inputs, cap);
    }
}

/// What decides an agent's batches: agents given the same are packed once.
#[derive(PartialEq, Eq, Hash)]
struct Given {
    encoding: tokens::Encoding,
    room: u64,
    window: u64,
    reply: u64,
    max_batches: u32,
    own: Vec<String>,
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
    let window = window(plan, agent);
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
    let room = window
        .saturating_sub(reply)
        .saturating_sub(fixed)
        .saturating_sub(pack::OVERHEAD_TOKENS);
    (room, window, reply)
}

/// The agent's context window, in tokens.
fn window(plan: &RunPlan, agent: &crate::config::Agent) -> u64 {
    let window = agent
        .context_window
        .or_else(|| {
            plan.providers
                .get(&agent.provider)
                .and_then(|p| p.context_window)
        })
        .unwrap_or_else(|| tokens::context_window(&agent.model));
    u64::from(window)
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
    /// The shared part of its system prompt: one text for the agents given
    /// the same batches, not a copy each.
    pub head: std::sync::Arc<str>,
    /// The rest of its system prompt: the role marker and the agent's part.
    pub tail: String,
    /// The shared part without its inputs.
    pub head_without_inputs: String,
    /// Tokens of the inputs in the shared part, as the pack counted them.
    pub inputs_tokens: u64,
}

impl First {
    /// The system prompt as sent, in its two parts.
    fn parts(&self) -> [&str; 2] {
        [&self.head, &self.tail]
    }
}

/// Each agent's first prompt, for those that read inputs. The shared part
/// is made once for the agents given the same batches.
pub(crate) fn firsts(
    plan: &RunPlan,
    packs: &[Option<Packed>],
    payload_text: &str,
    earlier: &str,
) -> Vec<Option<First>> {
    let mut heads: HashMap<(*const Batch, String), std::sync::Arc<str>> = HashMap::new();
    plan.agents
        .iter()
        .zip(packs)
        .map(|(planned, pack)| {
            let pack = pack.as_ref()?;
            let unseen = pack::unseen_note(&pack.summary);
            let batch = pack.batches.first()?;
            let head = heads
                .entry((std::ptr::from_ref(batch), unseen.clone()))
                .or_insert_with(|| {
                    prompt::shared(&plan.event, payload_text, earlier, &batch.shared, &unseen)
                        .into()
                })
                .clone();
            Some(First {
                tail: prompt::after_shared(&head, &prompt::system(&planned.agent)),
                head,
                head_without_inputs: prompt::shared(
                    &plan.event,
                    payload_text,
                    earlier,
                    "",
                    &unseen,
                ),
                inputs_tokens: pack.summary.first_batch_shared_tokens,
            })
        })
        .collect()
}

/// For each agent, the longest prefix its first prompt shares with another
/// agent's. In lexicographic order that other is a neighbour, so the
/// prompts are sorted once and each compared with its two neighbours, not
/// with every other (eight agents' 370 KB prompts were 56 comparisons).
fn longest_shared(firsts: &[Option<First>]) -> Vec<usize> {
    let mut order: Vec<(usize, [&str; 2])> = firsts
        .iter()
        .enumerate()
        .filter_map(|(j, f)| Some((j, f.as_ref()?.parts())))
        .collect();
    order.sort_by(|a, b| prefix::compare_parts(a.1, b.1).1.then(a.0.cmp(&b.0)));
    let mut longest = vec![0; firsts.len()];
    for pair in order.windows(2) {
        let n = prefix::common_prefix_len_parts(pair[0].1, pair[1].1);
        longest[pair[0].0] = longest[pair[0].0].max(n);
        longest[pair[1].0] = longest[pair[1].0].max(n);
    }
    longest
}

/// For each agent, the tokens of the longest prefix its first prompt shares
/// with another agent's: what a provider's prompt cache can serve once. When
/// the whole shared part is common (the usual case) its inputs are not
/// counted again: their tokens come from the pack.
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
            let head_len = mine.head.len();
            Some(if longest >= head_len {
                count(enc, &mine.head_without_inputs)
                    + mine.inputs_tokens
                    + count(enc, &mine.tail[..longest - head_len])
            } else {
                count(enc, &mine.head[..longest])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{longest_shared, First};

    /// Comparing each prompt with its sorted neighbours finds what comparing
    /// it with every other does, wherever its shared part ends.
    #[test]
    fn the_longest_shared_prefix_is_a_neighbours() {
        let texts = [
            "abcdX",
            "abQ",
            "abcdY",
            "zzz",
            "abcdXtail",
            "abcdé",
            "abcdè",
            "ab",
        ];
        let firsts: Vec<Option<First>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let whole = format!("{}{}", "p".repeat(5000), t);
                // The shared part ends before, inside or after the common run.
                let cut = [0, 3, 4999, 5000, 5002, whole.len()][i % 6];
                let cut = (0..=cut)
                    .rev()
                    .find(|c| whole.is_char_boundary(*c))
                    .unwrap();
                Some(First {
                    head: whole[..cut].into(),
                    tail: whole[cut..].to_string(),
                    head_without_inputs: String::new(),
                    inputs_tokens: 0,
                })
            })
            .chain([None])
            .collect();
        let whole = |f: &First| format!("{}{}", f.head, f.tail);
        let brute: Vec<usize> = (0..firsts.len())
            .map(|i| {
                let Some(mine) = &firsts[i] else { return 0 };
                (0..firsts.len())
                    .filter(|j| *j != i)
                    .filter_map(|j| firsts[j].as_ref())
                    .map(|o| crate::engine::prefix::common_prefix_len(&whole(mine), &whole(o)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(longest_shared(&firsts), brute);
        assert_eq!(brute[0], 5005, "abcdX and abcdXtail share 5,005 bytes");
        assert_eq!(brute[5], 5004, "é and è share their first byte, not a char");
    }
}
