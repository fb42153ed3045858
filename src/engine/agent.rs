//! One agent, start to finish: render its prompts (one per batch), call its
//! model through the call path within its deadline, and read every reply
//! into one result by the verdict rules.

use std::sync::atomic::AtomicU32;

use tokio::time::Instant;

use super::caller::{Called, Failure};
use super::outcome::{AgentOutcome, AgentResult, Answer, Cause, Route};
use super::pack::Batch;
use super::prompt::{self, Knowledge, Prompt};
use super::verdict::{self, Reading};
use super::{deadline, rfc3339_ms, Prepared, Shared};
use crate::client::{ChatRequest, FailureClass, Usage};
use crate::config::Agent;
use crate::plan::RunPlan;

/// Run agent `idx` of the plan, within its own timeout.
pub(super) async fn run_agent(
    shared: &Shared,
    idx: usize,
    earlier: &[AgentOutcome],
) -> AgentOutcome {
    let start = Instant::now();
    let agent = &shared.plan.agents[idx].agent;
    let mut out = AgentOutcome::of(
        agent,
        AgentResult::Skipped {
            reason: String::new(),
        },
    );
    out.pack = shared.prep.packs[idx].as_ref().map(|p| p.summary.clone());
    let (result, route) = attempt(shared, idx, earlier, start, &mut out.prompt_hash).await;
    out.result = result;
    if let Some(r) = route {
        out.provider = r.provider.clone();
        out.model = r.model.clone();
        out.route = Some(r);
    }
    out.duration = start.elapsed();
    out
}

pub(super) fn failed(reason: String) -> AgentResult {
    AgentResult::Failed {
        reason,
        class: FailureClass::Permanent,
        attempts: 0,
        usage: Usage::default(),
        cause: Cause::default(),
    }
}

/// A prompt with its shared part, which the request carries apart.
pub(super) struct Rendered {
    pub shared: String,
    pub prompt: Prompt,
}

/// Every prompt the agent is sent: one per batch, rendered as the iterator
/// is read (a dry run reads only the first: with a large change each batch
/// is a copy of hundreds of kilobytes).
pub(super) fn prompts<'a>(
    plan: &'a RunPlan,
    prep: &'a Prepared,
    idx: usize,
    knowledge: &'a [Knowledge<'a>],
    earlier: &'a [AgentOutcome],
) -> impl Iterator<Item = Rendered> + 'a {
    const ONE: &[Batch] = &[Batch::EMPTY];
    let agent = &plan.agents[idx].agent;
    let system = prompt::system(agent);
    let (batches, unseen): (&[Batch], String) = match &prep.packs[idx] {
        Some(p) => (&p.batches, super::pack::unseen_note(&p.summary)),
        None => (ONE, String::new()),
    };
    let n = batches.len();
    batches.iter().enumerate().map(move |(i, b)| {
        let head = prompt::shared(
            &plan.event,
            &prep.payload_text,
            &prep.earlier,
            &b.shared,
            &unseen,
        );
        Rendered {
            prompt: Prompt {
                system: prompt::combined(&head, &system),
                user: prompt::user(knowledge, &b.own, earlier, (n > 1).then_some((i + 1, n))),
            },
            shared: head,
        }
    })
}

async fn attempt(
    shared: &Shared,
    idx: usize,
    earlier: &[AgentOutcome],
    start: Instant,
    prompt_hash: &mut Option<String>,
) -> (AgentResult, Option<Route>) {
    let plan = &shared.plan;
    let agent = &plan.agents[idx].agent;
    let knowledge = match knowledge_of(shared, agent) {
        Ok(k) => k,
        Err(e) => return (failed(e.to_string()), None),
    };
    let system = prompt::system(agent);
    let request = |shared: String, user: &str, model: &str| ChatRequest {
        model: model.to_string(),
        shared,
        system: system.clone(),
        user: user.to_string(),
        temperature: agent.temperature,
        max_tokens: agent.max_tokens,
    };
    let Some(provider) = plan.providers.get(&agent.provider) else {
        return (
            failed(format!("provider {:?} is not configured", agent.provider)),
            None,
        );
    };
    let mut prompts = prompts(plan, &shared.prep, idx, &knowledge, earlier);
    if plan.dry_run {
        // The first prompt only: the report shows it and its hash.
        let first = prompts.next().expect("one prompt at least");
        let one = std::slice::from_ref(&first);
        let tokens = prompt_tokens(plan, &shared.prep, idx, one, &knowledge, earlier);
        let Rendered {
            shared: head,
            prompt,
        } = first;
        let sent = request(head, &prompt.user, &agent.model);
        *prompt_hash = Some(prompt::hash(provider, &sent));
        let dry = AgentResult::DryRun {
            prompt,
            estimate: Usage {
                prompt_tokens: tokens,
                total_tokens: tokens,
                ..Usage::default()
            },
        };
        return (dry, None);
    }
    let prompts: Vec<Rendered> = prompts.collect();
    let requests = |model: &str| -> Vec<ChatRequest> {
        prompts
            .iter()
            .map(|r| request(r.shared.clone(), &r.prompt.user, model))
            .collect()
    };
    let first = requests(&agent.model);
    *prompt_hash = first.first().map(|r| prompt::hash(provider, r));
    let deadline = deadline::for_agent(
        start,
        agent.timeout,
        shared.run_deadline,
        plan.limits.timeout,
    );
    through_chain(shared, agent, first, &requests, &deadline).await
}

/// A knowledge file the run could not load for the agent.
#[derive(Debug, thiserror::Error)]
#[error("knowledge file {path} could not be read: {why}")]
struct NotLoaded {
    path: String,
    why: String,
}

/// The agent's knowledge files as loaded, or the first that was not.
fn knowledge_of<'a>(shared: &'a Shared, agent: &'a Agent) -> Result<Vec<Knowledge<'a>>, NotLoaded> {
    let mut knowledge = Vec::new();
    for path in &agent.knowledge {
        match shared.prep.knowledge.get(path) {
            Some(Ok(text)) => knowledge.push(Knowledge { path, text }),
            other => {
                return Err(NotLoaded {
                    path: path.clone(),
                    why: other
                        .and_then(|r| r.as_ref().err())
                        .map_or_else(|| "not loaded".to_string(), ToString::to_string),
                });
            }
        }
    }
    Ok(knowledge)
}

/// Call the agent's provider, then its fallbacks in order, within `deadline`.
async fn through_chain(
    shared: &Shared,
    agent: &Agent,
    first: Vec<ChatRequest>,
    requests: &(dyn Fn(&str) -> Vec<ChatRequest> + Sync),
    deadline: &deadline::Deadline,
) -> (AgentResult, Option<Route>) {
    let plan = &shared.plan;
    // The agent's provider, then its fallbacks in order: the next is tried
    // when one is unavailable (breaker open, quota, transient failures that
    // outlasted the retries). A fallback's reply is read like any other.
    let chain: Vec<&str> = std::iter::once(agent.provider.as_str())
        .chain(agent.fallback.iter().map(String::as_str))
        .collect();
    let mut moves = Vec::new();
    let mut last = failed("no provider could be tried".into());
    for (n, name) in chain.iter().enumerate() {
        let Some(provider) = plan.providers.get(*name) else {
            moves.push(format!("{name}: not configured"));
            continue;
        };
        let Some(key) = plan.keys.get(*name) else {
            last = failed(format!("no API key for provider {name:?}"));
            moves.push(format!("{name}: no API key"));
            continue;
        };
        let model = if n == 0 {
            agent.model.clone()
        } else {
            provider.model.clone()
        };
        let reqs = if n == 0 {
            first.clone()
        } else {
            requests(&model)
        };
        let result = call_batches(shared, agent, provider, key, &reqs, deadline).await;
        let unavailable = match &result {
            AgentResult::Rejected { .. } => true,
            AgentResult::Failed { class, .. } => {
                matches!(class, FailureClass::Quota | FailureClass::Transient)
            }
            _ => false,
        };
        if unavailable && n + 1 < chain.len() {
            let why = match &result {
                AgentResult::Rejected { reason, .. } | AgentResult::Failed { reason, .. } => {
                    reason.clone()
                }
                _ => String::new(),
            };
            moves.push(format!("{name}: {}", crate::text::one_line(&why, 200)));
            last = result;
            continue;
        }
        return with_route(result, n, name, &model, moves);
    }
    with_route(last, 0, &agent.provider, &agent.model, moves)
}

/// A result, with where it was served when the chain moved past the agent's provider.
fn with_route(
    result: AgentResult,
    n: usize,
    provider: &str,
    model: &str,
    moves: Vec<String>,
) -> (AgentResult, Option<Route>) {
    if moves.is_empty() && n == 0 {
        return (result, None);
    }
    let route = Route {
        provider: provider.to_string(),
        model: model.to_string(),
        moves,
    };
    (result, Some(route))
}

/// Every batch of one provider's requests, in order; the first failure ends it.
async fn call_batches(
    shared: &Shared,
    agent: &Agent,
    provider: &crate::config::Provider,
    key: &crate::client::ApiKey,
    requests: &[ChatRequest],
    deadline: &deadline::Deadline,
) -> AgentResult {
    let hashes: Vec<String> = requests.iter().map(|r| prompt::hash(provider, r)).collect();
    let n = requests.len();
    let mut answers: Vec<Answer> = Vec::with_capacity(n);
    let mut attempts_before = 0;
    for (i, (request, hash)) in requests.iter().zip(&hashes).enumerate() {
        if n > 1 {
            shared.observer.batch(agent, i + 1, n);
        }
        let attempts = AtomicU32::new(0);
        let called = shared
            .caller
            .call(provider, key, request, hash, deadline.at, &attempts)
            .await;
        let reading = match &called.result {
            Ok(reply) => Some(read_reply(&reply.content).await),
            Err(_) => None,
        };
        match settle(called, reading, agent, deadline, attempts_before) {
            AgentResult::Succeeded(a) => {
                attempts_before = a.attempts;
                answers.push(a);
            }
            other => return other,
        }
    }
    AgentResult::Succeeded(merge(answers, agent))
}

/// The prompt tokens of a dry run. With inputs: the pack's count of them plus
/// each batch's other parts, counted with the model's encoding (the inputs are
/// never counted twice); without: the rough estimate, so no tokenizer loads.
pub(super) fn prompt_tokens(
    plan: &RunPlan,
    prep: &Prepared,
    idx: usize,
    prompts: &[Rendered],
    knowledge: &[Knowledge<'_>],
    earlier: &[AgentOutcome],
) -> u64 {
    let agent = &plan.agents[idx].agent;
    let Some(pack) = &prep.packs[idx] else {
        return prompts
            .iter()
            .map(|r| {
                prompt::estimate_tokens(&r.prompt.system) + prompt::estimate_tokens(&r.prompt.user)
            })
            .sum();
    };
    let enc = crate::tokens::encoding_for(&agent.model);
    let unseen = super::pack::unseen_note(&pack.summary);
    let head = prompt::shared(&plan.event, &prep.payload_text, &prep.earlier, "", &unseen);
    // The shared head is the same for every agent with the same budget: count
    // it once per run (the parts are counted apart; their sum is the prompt's
    // count to within a token at each seam).
    let fixed = counted(enc, &head)
        + crate::tokens::count(enc, &prompt::combined("", &prompt::system(agent)));
    let n = pack.batches.len();
    let user = crate::tokens::count(enc, &prompt::user(knowledge, "", earlier, None));
    // Each batch repeats the fixed parts; the batch note adds a sentence.
    let note = if n > 1 { 40 } else { 0 };
    (fixed + user + note) * n as u64 + pack.summary.input_tokens
}

/// `count(enc, text)`, remembered for the process: the shared head of a run
/// is the same text for most agents.
fn counted(enc: crate::tokens::Encoding, text: &str) -> u64 {
    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    use std::sync::{Mutex, OnceLock};
    type Key = (crate::tokens::Encoding, u64, usize);
    static MEMO: OnceLock<Mutex<HashMap<Key, u64>>> = OnceLock::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let key = (enc, h.finish(), text.len());
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(n) = memo.lock().ok().and_then(|m| m.get(&key).copied()) {
        return n;
    }
    let n = crate::tokens::count(enc, text);
    if let Ok(mut m) = memo.lock() {
        m.insert(key, n);
    }
    n
}

/// One answer from the answers to every batch: the verdict rules decide.
fn merge(mut answers: Vec<Answer>, agent: &Agent) -> Answer {
    if answers.len() == 1 {
        return answers.pop().expect("one");
    }
    let n = answers.len();
    let readings: Vec<Reading> = answers.iter().map(|a| a.reading.clone()).collect();
    let reading = verdict::merge(readings);
    let mut usage = Usage::default();
    for a in &answers {
        usage.prompt_tokens = usage.prompt_tokens.saturating_add(a.usage.prompt_tokens);
        usage.completion_tokens = usage
            .completion_tokens
            .saturating_add(a.usage.completion_tokens);
        usage.total_tokens = usage.total_tokens.saturating_add(a.usage.total_tokens);
    }
    let output = answers
        .iter()
        .enumerate()
        .map(|(i, a)| format!("--- batch {}/{n} ---\n{}", i + 1, a.output))
        .collect::<Vec<_>>()
        .join("\n");
    Answer {
        disallowed_actions: disallowed(&reading, agent),
        output,
        reading,
        usage,
        attempts: answers.last().map_or(0, |a| a.attempts),
        cached: answers.iter().all(|a| a.cached),
        cut_off: answers.iter().any(|a| a.cut_off),
    }
}

fn disallowed(reading: &Reading, agent: &Agent) -> Vec<String> {
    reading
        .verdict()
        .map(|v| {
            v.actions
                .iter()
                .filter(|a| !agent.actions.contains(a))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Replies at least this long are read off the runtime's threads.
const LONG_REPLY: usize = 256 * 1024;

/// A reply read for its verdicts; a long one on the blocking pool, so that
/// reading it (bounded, but a second or two for a pathological 10 MiB one)
/// holds up no other agent's calls or timers. A reading that panicked is
/// no verdict.
async fn read_reply(content: &str) -> Reading {
    if content.len() < LONG_REPLY {
        return verdict::read(content);
    }
    let owned = content.to_string();
    tokio::task::spawn_blocking(move || verdict::read(&owned))
        .await
        .unwrap_or_else(|e| {
            Reading::Unreadable(verdict::Ambiguity {
                decisions: Vec::new(),
                unreadable: vec![format!("the reply could not be read ({e})")],
            })
        })
}

/// How a call's result becomes the agent's: a reply is read (`reading`,
/// made by `read_reply`), a failure classified. `before` counts the
/// requests of earlier batches.
fn settle(
    called: Called,
    reading: Option<Reading>,
    agent: &Agent,
    deadline: &deadline::Deadline,
    before: u32,
) -> AgentResult {
    let attempts = before + called.attempts;
    match called.result {
        Ok(reply) if reply.content.trim().is_empty() => AgentResult::Failed {
            reason: "the model sent an empty reply".into(),
            class: FailureClass::Permanent,
            attempts,
            usage: reply.usage,
            cause: Cause::default(),
        },
        Ok(reply) => {
            let reading = reading.unwrap_or_else(|| verdict::read(&reply.content));
            AgentResult::Succeeded(Answer {
                disallowed_actions: disallowed(&reading, agent),
                output: reply.content,
                reading,
                usage: reply.usage,
                attempts,
                cached: called.cached,
                cut_off: reply.cut_off,
            })
        }
        Err(Failure::Rejected { breaker, retry_at }) if attempts == 0 => AgentResult::Rejected {
            reason: format!(
                "circuit breaker {breaker} is open; nothing was sent (next probe at {})",
                rfc3339_ms(retry_at)
            ),
            breaker,
        },
        Err(Failure::Rejected { breaker, .. }) => AgentResult::Failed {
            reason: format!(
                "circuit breaker {breaker} opened during its retries; stopped retrying"
            ),
            class: FailureClass::Transient,
            attempts,
            usage: Usage::default(),
            cause: Cause::default(),
        },
        Err(Failure::Deadline { last }) => AgentResult::TimedOut {
            reason: deadline.reason(last.as_ref()),
            attempts,
        },
        Err(Failure::Call(e)) => AgentResult::Failed {
            reason: e.message,
            class: e.class,
            attempts,
            usage: Usage::default(),
            cause: Cause {
                status: e.status,
                fault: e.fault,
            },
        },
    }
}
