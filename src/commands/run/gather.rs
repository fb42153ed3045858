//! Gathering a run's inputs once, before any call, on a task of its own
//! that the run's deadline or a signal can abandon (aborting it kills the
//! process groups of git and of commands).

use super::state::Later;
use crate::config::inputs::{InputSource, InputSpec};
use crate::error::{Error, Result};
use crate::inputs;
use crate::plan::RunPlan;
use crate::store::Store;

/// Gather on a task of its own, raced against the run's deadline and the
/// signals: the deadline fires even mid-parse, and dropping the task's guard
/// aborts it, its children dying with their process groups. `Err` of the
/// inner result: what stopped the gathering.
pub(super) async fn under_deadline(
    plan: &std::sync::Arc<RunPlan>,
    request: Gather,
    state: Later,
    deadline: tokio::time::Instant,
    shutdown: &mut super::signal::Shutdown,
) -> Result<std::result::Result<Vec<inputs::Gathered>, crate::engine::Stop>> {
    let task = Aborting(tokio::spawn({
        let plan = plan.clone();
        async move { gather(&plan, &request, state).await }
    }));
    Ok(tokio::select! {
        g = tokio::time::timeout_at(deadline, task.join()) => match g {
            Ok(g) => Ok(g?),
            Err(_) => Err(crate::engine::Stop::Deadline),
        },
        () = shutdown.signalled() => Err(crate::engine::Stop::Interrupted),
    })
}

/// A task aborted when its guard is dropped.
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Aborting<Result<T>> {
    async fn join(mut self) -> Result<T> {
        (&mut self.0)
            .await
            .map_err(|e| Error::Failed(format!("gathering the inputs failed: {e}")))?
    }
}

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What `bsu run` asked of the inputs.
pub(super) struct Gather {
    pub base: Option<String>,
    pub head: Option<String>,
    pub overrides: std::collections::BTreeMap<String, String>,
    /// The head the pull request's ledger last reviewed.
    pub reviewed: Option<String>,
}

/// Gather the run's inputs once, before any call; an input that cannot be
/// gathered stops the run with exit 2 and nothing sent. The state is waited
/// for first only by `since = "last_run"`; otherwise the inputs are
/// gathered while a state server's connection is settled.
async fn gather(plan: &RunPlan, g: &Gather, mut state: Later) -> Result<Vec<inputs::Gathered>> {
    if plan.inputs.is_empty() {
        return Ok(Vec::new());
    }
    let since_last_run = plan.inputs.iter().any(|i| {
        matches!(
            i.source,
            InputSource::GitLog {
                since_last_run: true,
                ..
            }
        )
    });
    let last_run = match since_last_run {
        true => last_run(plan, state.get().await.as_ref()).await,
        false => None,
    };
    use std::io::IsTerminal;
    let ctx = inputs::Context {
        root: &plan.root,
        payload: &plan.payload,
        base: g.base.as_deref(),
        head: g.head.as_deref(),
        overrides: &g.overrides,
        last_run,
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        scrub: plan.secrets.names(),
        event: &plan.event,
        reviewed: g.reviewed.as_deref(),
    };
    let specs: Vec<&InputSpec> = plan.inputs.iter().collect();
    let started = std::time::Instant::now();
    let (gathered, older) = tokio::join!(inputs::gather(&specs, &ctx), counts(plan, &mut state));
    if let (true, Ok(items)) = (older, &gathered) {
        older_counts(plan, items, &mut state).await;
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "gathered inputs");
    gathered
}

/// The head of the strategy's last decided run, from the state.
async fn last_run(plan: &RunPlan, store: Option<&Store>) -> Option<inputs::LastRun> {
    let (project, strategy) = (plan.project.clone(), plan.strategy.clone());
    store?
        .read(move |c| c.run_last_decided(&project, &strategy))
        .await
        .ok()
        .flatten()
        .map(|head| inputs::LastRun { head })
}

/// Counts kept from earlier runs of this project, for the packing: text
/// counted before is not counted again. The newest `READ_COUNTS` are read
/// now; whether the project keeps older ones too. With none kept (a first
/// run), load the tokenizers the packing will need while the inputs are
/// gathered; with some, they load only if a text turns out new.
async fn counts(plan: &RunPlan, state: &mut Later) -> bool {
    let read = super::calls::READ_COUNTS;
    let kept = match state.get().await {
        Some(db) => {
            let project = plan.project.clone();
            db.read(move |c| c.token_counts_get(&project, read + 1))
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let (first, older) = (kept.is_empty(), kept.len() > read);
    crate::tokens::memo::load(kept);
    for enc in encodings(plan).into_iter().filter(|_| first) {
        crate::tokens::prewarm(enc);
    }
    older
}

/// The encodings of the agents that run.
fn encodings(plan: &RunPlan) -> Vec<crate::tokens::Encoding> {
    let mut encodings: Vec<crate::tokens::Encoding> = plan
        .agents
        .iter()
        .filter(|a| a.skip.is_none())
        .map(|a| crate::tokens::encoding_for(&a.agent.model))
        .collect();
    encodings.sort();
    encodings.dedup();
    encodings
}

/// The older counts kept of this run's own items, read by key: a project
/// that keeps more than the newest read before gathering (one round trip
/// on a server, through its primary key, however many it keeps).
async fn older_counts(plan: &RunPlan, items: &[inputs::Gathered], state: &mut Later) {
    let Some(db) = state.get().await else { return };
    let texts: Vec<String> = crate::engine::pack::rendered_items(items).collect();
    // Estimated counts are never kept.
    let encodings: Vec<_> = encodings(plan)
        .into_iter()
        .filter(|enc| *enc != crate::tokens::Encoding::Estimate)
        .collect();
    // Hashing megabytes of text is work: off the runtime's threads.
    let keys = tokio::task::spawn_blocking(move || {
        let mut keys: Vec<String> = encodings
            .into_iter()
            .flat_map(|enc| {
                texts
                    .iter()
                    .filter_map(move |t| crate::tokens::memo::key(enc, t))
                    .collect::<Vec<_>>()
            })
            .filter(|key| crate::tokens::memo::get(key).is_none())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    })
    .await
    .unwrap_or_default();
    if keys.is_empty() {
        return;
    }
    let project = plan.project.clone();
    let found = db
        .read(move |c| c.token_counts_of(&project, &keys))
        .await
        .unwrap_or_default();
    crate::tokens::memo::load(found);
}

/// Why the strategy's `when.paths` filter skips the run, given what was
/// gathered (nothing when gathering stopped).
pub(super) fn filtered(
    plan: &RunPlan,
    gathered: &std::result::Result<Vec<inputs::Gathered>, crate::engine::Stop>,
) -> Option<String> {
    let g = gathered.as_ref().ok()?;
    crate::filters::from_paths(&plan.filters.when, g)
}
