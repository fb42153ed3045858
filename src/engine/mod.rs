//! The run engine: fan an event's agents out (bounded parallel, or in
//! sequence with earlier results passed on), enforce agent and run deadlines,
//! stop cleanly on Ctrl-C/SIGTERM, and decide.
//!
//! The engine does no terminal output (it reports progress to an `Observer`)
//! and no file output (the report module writes what it returns).

pub(crate) mod caller;
pub(crate) mod deadline;
pub(crate) mod decision;
pub(crate) mod gate;
pub(crate) mod outcome;
pub(crate) mod prompt;
pub(crate) mod verdict;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{ChatRequest, FailureClass, Usage};
use crate::config::{Agent, Execution};
use crate::plan::RunPlan;
use caller::{Caller, Failure};
use outcome::{AgentOutcome, AgentResult, Answer, RunOutcome, Status};
use prompt::{Knowledge, Prompt};

/// Told when each agent starts and finishes; the progress display implements it.
pub(crate) trait Observer: Send + Sync {
    fn started(&self, agent: &Agent);
    fn finished(&self, outcome: &AgentOutcome);
}

/// Why the engine stopped waiting for agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Finished,
    Deadline,
    Interrupted,
}

struct Shared {
    plan: Arc<RunPlan>,
    /// When the whole run must end.
    run_deadline: Instant,
    caller: Arc<Caller>,
    payload_text: String,
    /// Each knowledge file read once per run, shared by every agent naming it.
    knowledge: HashMap<String, Result<String, String>>,
    observer: Arc<dyn Observer>,
}

/// Run the plan to the end, the run deadline, or `cancel` (Ctrl-C).
pub(crate) async fn execute(
    plan: Arc<RunPlan>,
    caller: Arc<Caller>,
    observer: Arc<dyn Observer>,
    cancel: impl Future<Output = ()>,
) -> RunOutcome {
    let started_at = SystemTime::now();
    let start = Instant::now();
    let knowledge = load_knowledge(&plan).await;
    let (payload_text, payload_cut) = prompt::payload_text(&plan.payload);
    let shared = Arc::new(Shared {
        run_deadline: deadline::after(start, plan.timeout),
        payload_text,
        plan: plan.clone(),
        caller,
        knowledge,
        observer: observer.clone(),
    });

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

    let timeout = plan.timeout;
    // Agents honour the run's deadline themselves; this stop is the backstop.
    let deadline = deadline::after(shared.run_deadline, deadline::BACKSTOP);
    let stop = async move {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => End::Deadline,
            () = cancel => End::Interrupted,
        }
    };
    tokio::pin!(stop);
    let end = match plan.execution {
        Execution::Parallel => parallel(&shared, &mut outcomes, stop.as_mut()).await,
        Execution::Sequential => sequential(&shared, &mut outcomes, stop.as_mut()).await,
    };

    let agents: Vec<AgentOutcome> = outcomes
        .into_iter()
        .zip(&plan.agents)
        .map(|(o, p)| {
            o.unwrap_or_else(|| {
                let result = match end {
                    End::Deadline => AgentResult::TimedOut {
                        reason: deadline::run_reason(timeout),
                        attempts: 0,
                    },
                    End::Interrupted => AgentResult::Interrupted { attempts: 0 },
                    End::Finished => {
                        failed("its task ended without a result (a bug in bsu)".into())
                    }
                };
                let mut o = AgentOutcome::of(&p.agent, result);
                o.duration = start.elapsed();
                observer.finished(&o);
                o
            })
        })
        .collect();
    let decision = decision::decide(&agents, &plan.required);
    RunOutcome {
        agents,
        payload_cut,
        decision,
        interrupted: end == End::Interrupted,
        started_at,
        finished_at: SystemTime::now(),
        duration: start.elapsed(),
    }
}

async fn parallel(
    shared: &Arc<Shared>,
    outcomes: &mut [Option<AgentOutcome>],
    mut stop: Pin<&mut impl Future<Output = End>>,
) -> End {
    let permits = Arc::new(Semaphore::new(shared.plan.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (idx, planned) in shared.plan.agents.iter().enumerate() {
        if planned.skip.is_some() {
            continue;
        }
        let shared = shared.clone();
        let permits = permits.clone();
        set.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = permits.acquire_owned().await.ok();
            let agent = &shared.plan.agents[idx].agent;
            shared.observer.started(agent);
            let outcome = run_agent(&shared, agent, &[]).await;
            shared.observer.finished(&outcome);
            (idx, outcome)
        });
    }
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => return End::Finished,
                Some(Ok((idx, outcome))) => outcomes[idx] = Some(outcome),
                // A task that panicked leaves its slot empty; it is reported as failed.
                Some(Err(_)) => {}
            },
            end = &mut stop => {
                set.abort_all();
                return end;
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
            outcome = run_agent(shared, agent, &earlier) => {
                shared.observer.finished(&outcome);
                halted = shared.plan.stop_on_failure
                    && !matches!(outcome.status(), Status::Succeeded | Status::DryRun);
                outcomes[idx] = Some(outcome);
            }
            end = &mut stop => return end,
        }
    }
    End::Finished
}

/// One agent, start to finish, within its own timeout.
async fn run_agent(shared: &Shared, agent: &Agent, earlier: &[AgentOutcome]) -> AgentOutcome {
    let start = Instant::now();
    let mut out = AgentOutcome::of(
        agent,
        AgentResult::Skipped {
            reason: String::new(),
        },
    );
    out.result = attempt(shared, agent, earlier, start, &mut out.prompt_hash).await;
    out.duration = start.elapsed();
    out
}

fn failed(reason: String) -> AgentResult {
    AgentResult::Failed {
        reason,
        class: FailureClass::Permanent,
        attempts: 0,
        usage: Usage::default(),
    }
}

async fn attempt(
    shared: &Shared,
    agent: &Agent,
    earlier: &[AgentOutcome],
    start: Instant,
    prompt_hash: &mut Option<String>,
) -> AgentResult {
    let plan = &shared.plan;
    let mut knowledge = Vec::new();
    for path in &agent.knowledge {
        match shared.knowledge.get(path) {
            Some(Ok(text)) => knowledge.push(Knowledge { path, text }),
            other => {
                let why = other
                    .and_then(|r| r.as_ref().err())
                    .map_or("not loaded", String::as_str);
                return failed(format!("knowledge file {path} could not be read: {why}"));
            }
        }
    }
    let prompt = Prompt {
        system: prompt::system(agent),
        user: prompt::user(&plan.event, &shared.payload_text, &knowledge, earlier),
    };
    let Some(provider) = plan.providers.get(&agent.provider) else {
        return failed(format!("provider {:?} is not configured", agent.provider));
    };
    let request = ChatRequest {
        model: agent.model.clone(),
        system: prompt.system.clone(),
        user: prompt.user.clone(),
        temperature: agent.temperature,
        max_tokens: agent.max_tokens,
    };
    let hash = prompt::hash(provider, &request);
    *prompt_hash = Some(hash.clone());

    if plan.dry_run {
        let tokens =
            prompt::estimate_tokens(&prompt.system) + prompt::estimate_tokens(&prompt.user);
        return AgentResult::DryRun {
            prompt,
            estimate: Usage {
                prompt_tokens: tokens,
                completion_tokens: 0,
                total_tokens: tokens,
            },
        };
    }
    let Some(key) = plan.keys.get(&agent.provider) else {
        return failed(format!("no API key for provider {:?}", agent.provider));
    };
    let deadline = deadline::for_agent(start, agent.timeout, shared.run_deadline, plan.timeout);
    let attempts = AtomicU32::new(0);
    let called = shared
        .caller
        .call(provider, key, &request, &hash, deadline.at, &attempts)
        .await;
    settle(called, agent, &deadline)
}

/// How a call's result becomes the agent's: a reply is read, a failure classified.
fn settle(called: caller::Called, agent: &Agent, deadline: &deadline::Deadline) -> AgentResult {
    let attempts = called.attempts;
    match called.result {
        Ok(reply) if reply.content.trim().is_empty() => AgentResult::Failed {
            reason: "the model sent an empty reply".into(),
            class: FailureClass::Permanent,
            attempts,
            usage: reply.usage,
        },
        Ok(reply) => {
            let reading = verdict::read(&reply.content);
            let disallowed_actions = reading
                .verdict()
                .map(|v| {
                    v.actions
                        .iter()
                        .filter(|a| !agent.actions.contains(a))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            AgentResult::Succeeded(Answer {
                output: reply.content,
                reading,
                usage: reply.usage,
                attempts,
                cached: called.cached,
                disallowed_actions,
            })
        }
        Err(Failure::Rejected { breaker, retry_at }) if attempts == 0 => AgentResult::Rejected {
            reason: format!(
                "circuit breaker {breaker} is open; nothing was sent (next probe at {})",
                rfc3339_ms(retry_at)
            ),
        },
        Err(Failure::Rejected { breaker, .. }) => AgentResult::Failed {
            reason: format!(
                "circuit breaker {breaker} opened during its retries; stopped retrying"
            ),
            class: FailureClass::Transient,
            attempts,
            usage: Usage::default(),
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
        },
    }
}

/// Read every knowledge file the running agents name, each once, concurrently.
async fn load_knowledge(plan: &RunPlan) -> HashMap<String, Result<String, String>> {
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
        // read now, and must still resolve inside the project.
        let full = crate::config::knowledge_path(&plan.root, &path);
        set.spawn(async move {
            let text = match full {
                Ok(full) => tokio::fs::read_to_string(&full)
                    .await
                    .map_err(|e| e.to_string()),
                Err(why) => Err(why),
            };
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
