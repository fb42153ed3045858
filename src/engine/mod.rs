//! The run engine: fan an event's agents out (bounded parallel, or in
//! sequence with earlier results passed on), enforce agent and run deadlines,
//! stop cleanly on Ctrl-C/SIGTERM, and decide.
//!
//! The engine does no terminal output (it reports progress to an `Observer`)
//! and no file output (the report module writes what it returns).

mod agent;
pub(crate) mod allowance;
pub(crate) mod caller;
pub(crate) mod deadline;
pub(crate) mod decision;
pub(crate) mod gate;
pub(crate) mod outcome;
pub(crate) mod pack;
mod prefix;
mod prime;
pub(crate) mod prompt;
pub(crate) mod verdict;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{Agent, Execution};
use crate::inputs::Gathered;
use crate::plan::RunPlan;
use caller::Caller;
use outcome::{AgentOutcome, AgentResult, RunOutcome, Status};

/// Told when each agent starts and finishes; the progress display implements it.
pub(crate) trait Observer: Send + Sync {
    fn started(&self, agent: &Agent);
    /// An agent whose inputs span several calls starts call `i` of `n`.
    fn batch(&self, _agent: &Agent, _i: usize, _n: usize) {}
    fn finished(&self, outcome: &AgentOutcome);
}

/// Why the engine stopped waiting for agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Finished,
    Deadline,
    Interrupted,
}

/// What a run's agents are sent, worked out before anything is: knowledge
/// files, the payload as the prompt carries it, the inputs packed per agent.
/// The cost projection reads it; `execute` runs it.
pub(crate) struct Prepared {
    /// Each knowledge file read once per run, shared by every agent naming it.
    pub knowledge: HashMap<String, Result<String, crate::config::KnowledgeError>>,
    pub payload_text: String,
    pub payload_cut: Option<(usize, usize)>,
    /// The open findings of earlier reviews, for the shared prompt ("": none).
    pub earlier: String,
    /// Each agent's packed inputs, by its index in the plan.
    pub packs: Vec<Option<allowance::Packed>>,
    pub inputs: Vec<Gathered>,
}

/// Read, pack and measure everything the run will send; sends nothing.
pub(crate) async fn prepare(
    plan: &RunPlan,
    mut inputs: Vec<Gathered>,
    earlier: String,
) -> Prepared {
    // No secret the run holds reaches a prompt, whatever file or command output carried it.
    let secrets = &plan.secrets;
    for g in &mut inputs {
        g.redact(secrets);
    }
    let mut knowledge = load_knowledge(plan).await;
    for text in knowledge.values_mut().flat_map(|k| k.as_mut().ok()) {
        *text = secrets.redact(text);
    }
    let shown = crate::payload::view::view(&plan.payload, plan.payload_view);
    let (payload_text, payload_cut) = prompt::payload_text(&shown);
    let payload_text = secrets.redact(&payload_text);
    let earlier = secrets.redact(&earlier);
    let mut prep = Prepared {
        packs: allowance::pack_all(plan, &inputs, &payload_text, &earlier, &knowledge),
        earlier,
        knowledge,
        payload_text,
        payload_cut,
        inputs,
    };
    // What each agent's first prompt shares with the others' (prompt caching).
    let firsts = allowance::firsts(plan, &prep.packs, &prep.payload_text, &prep.earlier);
    let prefixes = allowance::shared_prefixes(plan, &firsts);
    for (p, tokens) in prep.packs.iter_mut().zip(prefixes) {
        if let (Some(p), Some(t)) = (p, tokens) {
            p.summary.shared_prefix_tokens = t;
        }
    }
    prep
}

/// The prompt tokens agent `idx` will send in all its batches (earlier
/// results of a sequence not included): counted with its model's encoding
/// when it reads inputs, else the rough estimate.
pub(crate) fn prompt_tokens(plan: &RunPlan, prep: &Prepared, idx: usize) -> (u64, u32) {
    let agent = &plan.agents[idx].agent;
    let knowledge: Vec<prompt::Knowledge<'_>> = agent
        .knowledge
        .iter()
        .filter_map(|k| {
            let text = prep.knowledge.get(k)?.as_ref().ok()?;
            Some(prompt::Knowledge { path: k, text })
        })
        .collect();
    // With inputs, the pack's counts and the prompt's other parts are enough:
    // the full prompts (the inputs copied into each) are not rendered.
    let prompts = match &prep.packs[idx] {
        Some(_) => Vec::new(),
        None => agent::prompts(plan, prep, idx, &knowledge, &[]).collect(),
    };
    let batches = prep.packs[idx]
        .as_ref()
        .map_or(prompts.len(), |p| p.batches.len()) as u32;
    (
        agent::prompt_tokens(plan, prep, idx, &prompts, &knowledge, &[]),
        batches,
    )
}

struct Shared {
    plan: Arc<RunPlan>,
    prep: Prepared,
    /// When the whole run must end.
    run_deadline: Instant,
    caller: Arc<Caller>,
    observer: Arc<dyn Observer>,
}

/// What stopped a run before any agent was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The run's deadline passed while its inputs were gathered or counted.
    Deadline,
    /// Ctrl-C or SIGTERM while its inputs were gathered or counted.
    Interrupted,
}

/// The outcome of a run stopped while gathering: every agent that would
/// have run timed out or was interrupted, and nothing was sent.
pub(crate) fn stopped(plan: &RunPlan, stop: Stop, start: Instant) -> RunOutcome {
    let now = SystemTime::now();
    let duration = start.elapsed();
    let agents: Vec<AgentOutcome> = plan
        .agents
        .iter()
        .map(|p| {
            let result = match (&p.skip, stop) {
                (Some(reason), _) => AgentResult::Skipped {
                    reason: reason.clone(),
                },
                (None, Stop::Deadline) => AgentResult::TimedOut {
                    reason: format!(
                        "{} while the run's inputs were being gathered and counted; nothing was sent",
                        deadline::run_reason(plan.limits.timeout)
                    ),
                    attempts: 0,
                },
                (None, Stop::Interrupted) => AgentResult::Interrupted { attempts: 0 },
            };
            AgentOutcome::of(&p.agent, result)
        })
        .collect();
    RunOutcome {
        decision: decision::decide(&agents, &plan.required),
        agents,
        payload_cut: None,
        inputs: Vec::new(),
        interrupted: stop == Stop::Interrupted,
        started_at: now.checked_sub(duration).unwrap_or(now),
        finished_at: now,
        duration,
        primed: None,
    }
}

/// Run the plan to the end, the run deadline (counted from `start`, when
/// the run began gathering), or `cancel` (Ctrl-C).
pub(crate) async fn execute(
    plan: Arc<RunPlan>,
    prep: Prepared,
    caller: Arc<Caller>,
    observer: Arc<dyn Observer>,
    cancel: impl Future<Output = ()>,
    start: Instant,
) -> RunOutcome {
    let started_at = SystemTime::now();
    let shared = Shared {
        run_deadline: deadline::after(start, plan.limits.timeout),
        prep,
        plan: plan.clone(),
        caller,
        observer: observer.clone(),
    };
    let shared = Arc::new(shared);

    let mut outcomes: Vec<Option<AgentOutcome>> = plan
        .agents
        .iter()
        .map(|p| {
            p.skip.as_ref().map(|reason| {
                let o = AgentOutcome::of(
                    &p.agent,
                    AgentResult::Skipped {
                        reason: reason.clone(),
                    },
                );
                observer.finished(&o);
                o
            })
        })
        .collect();

    // Agents honour the run's deadline themselves; this stop is the backstop.
    let deadline = deadline::after(shared.run_deadline, deadline::BACKSTOP);
    let stop = async move {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => End::Deadline,
            () = cancel => End::Interrupted,
        }
    };
    tokio::pin!(stop);
    let (end, primed) = match plan.limits.execution {
        Execution::Parallel => parallel(&shared, &mut outcomes, stop.as_mut()).await,
        Execution::Sequential => (
            sequential(&shared, &mut outcomes, stop.as_mut()).await,
            None,
        ),
    };

    let mut agents = unfinished(outcomes, &plan, end, start, observer.as_ref());
    verdict::cap_panel(
        agents
            .iter_mut()
            .filter_map(AgentOutcome::reading_mut)
            .collect(),
    );
    let decision = decision::decide(&agents, &plan.required);
    // Aborted agent tasks may still hold `shared` for a moment: copy, never unwrap.
    RunOutcome {
        agents,
        payload_cut: shared.prep.payload_cut,
        inputs: shared.prep.inputs.clone(),
        decision,
        interrupted: end == End::Interrupted,
        started_at,
        finished_at: SystemTime::now(),
        duration: start.elapsed(),
        primed,
    }
}

/// Every agent's outcome: those that ended as they were, the rest as the
/// run's end left them (timed out at the deadline, or interrupted).
fn unfinished(
    outcomes: Vec<Option<AgentOutcome>>,
    plan: &RunPlan,
    end: End,
    start: Instant,
    observer: &dyn Observer,
) -> Vec<AgentOutcome> {
    outcomes
        .into_iter()
        .zip(&plan.agents)
        .map(|(o, p)| {
            o.unwrap_or_else(|| {
                let result = match end {
                    End::Deadline => AgentResult::TimedOut {
                        reason: deadline::run_reason(plan.limits.timeout),
                        attempts: 0,
                    },
                    End::Interrupted => AgentResult::Interrupted { attempts: 0 },
                    End::Finished => {
                        agent::failed("its task ended without a result (a bug in bsu)".into())
                    }
                };
                let mut o = AgentOutcome::of(&p.agent, result);
                o.duration = start.elapsed();
                observer.finished(&o);
                o
            })
        })
        .collect()
}

/// Every agent at once, within the concurrency; with cache-aware fan-out,
/// one agent of each group sharing a prefix first (`prime`). Returns how
/// the run ended, and the primer with the longest wait it caused.
async fn parallel(
    shared: &Arc<Shared>,
    outcomes: &mut [Option<AgentOutcome>],
    mut stop: Pin<&mut impl Future<Output = End>>,
) -> (End, Option<(String, std::time::Duration)>) {
    let permits = Arc::new(Semaphore::new(shared.plan.limits.concurrency.max(1)));
    let (mut roles, primer) = match prime::roles(shared) {
        Some((roles, first)) => (roles, Some(first)),
        None => (Vec::new(), None),
    };
    let mut set = JoinSet::new();
    for (idx, planned) in shared.plan.agents.iter().enumerate() {
        if planned.skip.is_some() {
            continue;
        }
        let shared = shared.clone();
        let permits = permits.clone();
        let mut role = if roles.is_empty() {
            prime::Role::Free
        } else {
            std::mem::replace(&mut roles[idx], prime::Role::Free)
        };
        set.spawn(async move {
            // Waiting for the primer holds no permit.
            let waited = role.wait().await;
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = permits.acquire_owned().await.ok();
            let agent = &shared.plan.agents[idx].agent;
            shared.observer.started(agent);
            let run = agent::run_agent(&shared, idx, &[]);
            // The primer's calls are streamed: its group goes as its reply starts.
            let outcome = match role.started_hook() {
                Some(hook) => crate::client::stream::when_started(hook, run).await,
                None => run.await,
            };
            shared.observer.finished(&outcome);
            // A primer's guard lets its group go as its task ends.
            drop(role);
            (idx, outcome, waited)
        });
    }
    let mut longest: Option<std::time::Duration> = None;
    let primed = |longest: Option<std::time::Duration>| {
        let first = primer?;
        Some((shared.plan.agents[first].agent.id.clone(), longest?))
    };
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => return (End::Finished, primed(longest)),
                Some(Ok((idx, outcome, waited))) => {
                    outcomes[idx] = Some(outcome);
                    longest = longest.max(waited);
                }
                // A task that panicked leaves its slot empty; it is reported as failed.
                Some(Err(_)) => {}
            },
            end = &mut stop => {
                set.abort_all();
                return (end, primed(longest));
            }
        }
    }
}

async fn sequential(
    shared: &Arc<Shared>,
    outcomes: &mut [Option<AgentOutcome>],
    mut stop: Pin<&mut impl Future<Output = End>>,
) -> End {
    let mut halted = false;
    for idx in 0..outcomes.len() {
        if outcomes[idx].is_some() {
            continue; // skipped by governance
        }
        let agent = &shared.plan.agents[idx].agent;
        if halted {
            let o = AgentOutcome::of(
                agent,
                AgentResult::Skipped {
                    reason: "not run: an earlier agent did not succeed and the event sets \
                             stop_on_failure"
                        .into(),
                },
            );
            shared.observer.finished(&o);
            outcomes[idx] = Some(o);
            continue;
        }
        let earlier: Vec<AgentOutcome> = outcomes[..idx]
            .iter()
            .flatten()
            .filter(|o| o.status() != Status::Skipped)
            .cloned()
            .collect();
        shared.observer.started(agent);
        tokio::select! {
            outcome = agent::run_agent(shared, idx, &earlier) => {
                shared.observer.finished(&outcome);
                halted = shared.plan.limits.stop_on_failure
                    && !matches!(outcome.status(), Status::Succeeded | Status::DryRun);
                outcomes[idx] = Some(outcome);
            }
            end = &mut stop => return end,
        }
    }
    End::Finished
}

/// Read every knowledge file the running agents name, each once, concurrently.
async fn load_knowledge(
    plan: &RunPlan,
) -> HashMap<String, Result<String, crate::config::KnowledgeError>> {
    let mut paths: Vec<String> = plan
        .agents
        .iter()
        .filter(|p| p.skip.is_none())
        .flat_map(|p| p.agent.knowledge.iter().cloned())
        .collect();
    paths.sort();
    paths.dedup();
    let mut set = JoinSet::new();
    for path in paths {
        // Checked again here, not only by the configuration: the file is
        // read now, by the reading rule.
        let root = plan.root.clone();
        set.spawn_blocking(move || {
            let text = crate::config::read_knowledge(&root, &path);
            (path, text)
        });
    }
    let mut out = HashMap::new();
    while let Some(Ok((path, text))) = set.join_next().await {
        out.insert(path, text);
    }
    out
}

/// Unix milliseconds as RFC 3339 (UTC, seconds).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
