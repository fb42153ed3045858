//! Preparing the prompts, checking the cost against caps and budgets,
//! reserving it, and calling the agents: the run's middle stages, raced
//! against its deadline and signals.

use std::sync::Arc;

use super::signal;
use crate::config;
use crate::cost::budget;
use crate::engine;
use crate::engine::caller::Caller;
use crate::error::{Error, Result};
use crate::inputs;
use crate::output::Output;
use crate::plan::RunPlan;
use crate::progress::Progress;
use crate::store::Store;

/// What `call_agents` needs of the run besides the plan.
pub(super) struct Calls<'a> {
    pub start: tokio::time::Instant,
    pub shutdown: &'a mut signal::Shutdown,
    pub run_id: &'a str,
    pub store: Option<&'a Store>,
    /// The open findings of earlier reviews, for the shared prompt ("": none).
    pub prior: String,
}

/// The calls' outcome, the cost projected, and whether a budget
/// reservation was made.
type AgentsCalled = (
    engine::outcome::RunOutcome,
    Vec<crate::cost::AgentCost>,
    bool,
);

/// Prepare the prompts, check the cost against caps and budgets, reserve
/// it, and call the agents: the outcome, the projection, and whether a
/// budget reservation was made.
pub(super) async fn call_agents(
    plan: &Arc<RunPlan>,
    gathered: Vec<inputs::Gathered>,
    caller: Arc<Caller>,
    out: &Output,
    calls: Calls<'_>,
) -> Result<AgentsCalled> {
    let memo = CountMemo { store: calls.store };
    // Everything the agents will be sent, and what it may cost, before anything is sent.
    // Counting a huge change's tokens is work too: it stops at the deadline.
    let preparing = tokio::spawn({
        let plan = plan.clone();
        let prior = calls.prior.clone();
        async move { engine::prepare(&plan, gathered, prior).await }
    });
    let deadline = engine::deadline::after(calls.start, plan.limits.timeout);
    let prepared = tokio::select! {
        p = preparing => p.map_err(|e| Error::Failed(format!("preparing the prompts failed: {e}")))?,
        () = tokio::time::sleep_until(deadline) => return Ok((engine::stopped(plan, engine::Stop::Deadline, calls.start), Vec::new(), false)),
        () = calls.shutdown.signalled() => return Ok((engine::stopped(plan, engine::Stop::Interrupted, calls.start), Vec::new(), false)),
    };
    let projecting = std::time::Instant::now();
    let projected = crate::cost::project(plan, &prepared, &plan.cost.prices);
    tracing::debug!(
        us = projecting.elapsed().as_micros() as u64,
        agents = projected.len(),
        "projected the run's cost"
    );
    // Every count is made by now (preparing and projecting). They are
    // written while the models work, or at the latest once the calls end.
    memo.keep(plan);
    let store = calls.store;
    let called = check_and_call(plan, prepared, projected, caller, out, calls).await;
    if let Some(db) = store {
        db.flush().await;
    }
    called
}

/// Check the prepared run against caps and budgets, reserve its cost, and
/// call the agents.
async fn check_and_call(
    plan: &Arc<RunPlan>,
    prepared: engine::Prepared,
    projected: Vec<crate::cost::AgentCost>,
    caller: Arc<Caller>,
    out: &Output,
    calls: Calls<'_>,
) -> Result<AgentsCalled> {
    no_room(plan, &prepared)?;
    budget::check(plan, &projected)?;
    out.note(&format!("bsu: {}", crate::cost::line(&projected)));
    let reserved = budget::reserve(plan, calls.store, calls.run_id, &projected).await?;
    let listed: Vec<&config::Agent> = plan.agents.iter().map(|p| &p.agent).collect();
    let progress = Arc::new(Progress::new(out, &listed));
    let outcome = engine::execute(
        plan.clone(),
        prepared,
        caller,
        progress.clone(),
        calls.shutdown.signalled(),
        calls.start,
    )
    .await;
    // The live lines leave the screen; the summary replaces them.
    progress.finish();
    Ok((outcome, projected, reserved))
}

/// An agent whose context window leaves no token for the inputs it reads
/// would be sent empty batches: a configuration error, before anything is sent.
fn no_room(plan: &RunPlan, prepared: &engine::Prepared) -> Result<()> {
    for (p, pack) in plan.agents.iter().zip(&prepared.packs) {
        let Some(pack) = pack else { continue };
        if pack.summary.budget_tokens == 0 {
            return Err(inputs::InputError::NoRoom {
                agent: p.agent.id.clone(),
                window: pack.summary.window_tokens,
                reply: pack.summary.reply_tokens,
            }
            .into());
        }
    }
    Ok(())
}

/// Token counts kept in the state store between runs (CONTRACT.md, "State"),
/// loaded while the inputs are gathered (`gather`).
struct CountMemo<'a> {
    store: Option<&'a Store>,
}

/// Counts kept per project at most.
pub(super) const KEPT_COUNTS: usize = 20_000;

/// Counts a run reads before it gathers, newest first, and one more: when
/// it gets that one more, the project keeps older counts too, and the run
/// reads those of its own items by key once they are gathered (`gather`).
/// A project's newest counts are its last runs'; reading all 20,000 cost
/// 10 ms a run on SQLite and 17 on a server.
pub(super) const READ_COUNTS: usize = 2_000;

impl CountMemo<'_> {
    /// Keep what was counted (not in a dry run: it changes no state): put
    /// off until the run's first request is out (`Store::defer`), so that
    /// neither the request nor a budget's reservation waits for it.
    fn keep(self, plan: &RunPlan) {
        let learned = crate::tokens::memo::learned();
        let Some(db) = self.store.filter(|_| !plan.dry_run && !learned.is_empty()) else {
            return;
        };
        let project = plan.project.clone();
        let now = crate::store::now_ms();
        db.defer(move |c| c.token_counts_put(&project, &learned, now, KEPT_COUNTS));
    }
}
