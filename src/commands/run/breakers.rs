//! The breakers a run calls through: their states before the run and after,
//! for the report, and the caller that goes through them (the transport:
//! the real client, a recording or a replay, always redacting).

use std::sync::Arc;

use crate::breaker::State;
use crate::cli::RunArgs;
use crate::client::{recording, redacting::Redacting, ApiKey, Client, Transport};
use crate::config::Provider;
use crate::engine::caller::{breaker_name, Caller};
use crate::engine::gate::Warn;
use crate::error::{Error, Result};
use crate::plan::RunPlan;
use crate::report::BreakerJson;
use crate::store::Store;

/// The breakers of the providers a run calls, watched from before it.
pub(super) struct Watch {
    names: Vec<String>,
    /// The state that counts: none for a dry run or a replay, which are not
    /// a provider's doing.
    live: Option<Store>,
    before: Vec<(String, State)>,
}

/// Providers the run calls, with their keys; none in a dry run, which
/// consults no breaker and so reports none.
fn used(plan: &RunPlan) -> Vec<(&Provider, &ApiKey)> {
    plan.providers
        .values()
        .filter(|p| {
            plan.agents.iter().any(|a| {
                a.skip.is_none()
                    && (a.agent.provider == p.name || a.agent.fallback.contains(&p.name))
            })
        })
        .filter_map(|p| Some((p, plan.keys.get(&p.name)?)))
        .collect()
}

impl Watch {
    pub(super) async fn start(plan: &RunPlan, store: Option<&Store>, replay: bool) -> Watch {
        let live = store.cloned().filter(|_| !plan.dry_run && !replay);
        let names: Vec<String> = used(plan).iter().map(|(p, k)| breaker_name(p, k)).collect();
        let before = states(live.as_ref(), &names, false).await;
        Watch {
            names,
            live,
            before,
        }
    }

    /// Each breaker before and after the run, for the report.
    pub(super) async fn finish(self, caller: &Caller) -> Vec<BreakerJson> {
        let after = match &self.live {
            Some(_) => states(self.live.as_ref(), &self.names, true).await,
            // Without a database the only breakers are this process's own.
            None => {
                let seen = caller.breaker_states();
                self.names
                    .iter()
                    .map(|n| {
                        let state = seen
                            .iter()
                            .find(|(s, _)| s == n)
                            .map_or(State::Closed, |(_, st)| *st);
                        (n.clone(), state)
                    })
                    .collect()
            }
        };
        self.before
            .into_iter()
            .zip(after)
            .map(|((name, before), (_, after))| BreakerJson {
                name,
                before: before.to_string(),
                after: after.to_string(),
            })
            .collect()
    }

    /// The caller the agents go through: every reply and error is redacted
    /// before the cache, a recording or the report sees it.
    pub(super) fn caller(&self, plan: &RunPlan, args: &RunArgs, warn: Warn) -> Result<Arc<Caller>> {
        let redacting = |inner: Arc<dyn Transport>| -> Arc<dyn Transport> {
            Arc::new(Redacting {
                inner,
                secrets: plan.secrets.clone(),
            })
        };
        let client = || {
            Client::new()
                .map_err(|e| Error::Failed(format!("could not start the HTTP client: {e}")))
        };
        let transport: Arc<dyn Transport> = match (&args.replay, &args.record) {
            (Some(dir), _) => redacting(Arc::new(recording::Replayer { dir: dir.clone() })),
            (None, Some(dir)) => Arc::new(recording::Recorder {
                inner: redacting(Arc::new(client()?)),
                dir: dir.clone(),
            }),
            (None, None) => redacting(Arc::new(client()?)),
        };
        let cache = plan
            .limits
            .cache
            .clone()
            .filter(|_| !plan.dry_run && args.replay.is_none());
        Ok(Arc::new(Caller::new(
            transport,
            used(plan),
            self.live.clone(),
            cache,
            warn,
        )))
    }
}

/// Each breaker's state now (at the run's `end`); all closed when there is
/// no state to read.
async fn states(store: Option<&Store>, names: &[String], end: bool) -> Vec<(String, State)> {
    let closed = || names.iter().map(|n| (n.clone(), State::Closed)).collect();
    let Some(store) = store else { return closed() };
    let owned = names.to_vec();
    store
        .call(move |c| {
            if end {
                c.breaker_states_at_end(&owned)
            } else {
                c.breaker_states(&owned)
            }
        })
        .await
        .unwrap_or_else(|_| closed())
}
