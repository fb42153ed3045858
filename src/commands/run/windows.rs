//! Before packing: an agent whose model's window bsu does not know and
//! nobody set asks its OpenAI-compatible server (vLLM, llama.cpp), once per
//! endpoint and model, and uses what it says. A replay asks nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::client::{ApiKey, Client};
use crate::config::ProviderKind;
use crate::output::Output;
use crate::plan::RunPlan;
use crate::store::{self, Store};

/// What the server at `(endpoint, model)` said within `KEEP_MS`.
async fn remembered(store: Option<&Store>, at: &(String, String)) -> Option<u32> {
    let (endpoint, model) = at.clone();
    let since = store::now_ms() - KEEP_MS;
    store?
        .read(move |c| c.window_get(&endpoint, &model, since))
        .await
        .ok()?
}

async fn remember(store: Option<&Store>, at: &(String, String), tokens: u32) {
    let Some(db) = store else { return };
    let (endpoint, model) = at.clone();
    let _ = db
        .call(move |c| c.window_put(&endpoint, &model, tokens, store::now_ms()))
        .await;
}

/// The plan with the windows servers reported; a dry run then says which
/// windows are still assumed.
pub(super) async fn learn(
    plan: Arc<RunPlan>,
    replay: bool,
    store: Option<&Store>,
    out: &Output,
) -> Arc<RunPlan> {
    let plan = ask(plan, replay, store, out).await;
    if plan.dry_run {
        let agents = plan
            .agents
            .iter()
            .filter(|p| p.skip.is_none())
            .map(|p| &p.agent);
        for line in crate::config::assumed_windows(agents) {
            out.note(&format!("bsu: {line}"));
        }
    }
    plan
}

/// How long what a server said is kept in the state store.
const KEEP_MS: i64 = 24 * 3600 * 1000;

async fn ask(
    plan: Arc<RunPlan>,
    replay: bool,
    store: Option<&Store>,
    out: &Output,
) -> Arc<RunPlan> {
    let wanted: Vec<usize> = plan
        .agents
        .iter()
        .enumerate()
        .filter(|(_, p)| p.skip.is_none() && p.agent.context_window.is_none())
        .filter(|(_, p)| !crate::tokens::knows_window(&p.agent.model))
        // Only a server of one's own: OpenAI's API says no windows.
        .filter(|(_, p)| {
            plan.providers.get(&p.agent.provider).is_some_and(|pr| {
                pr.kind == ProviderKind::Openai
                    && !pr.base_url.starts_with("https://api.openai.com")
            })
        })
        .map(|(i, _)| i)
        .collect();
    if replay || wanted.is_empty() {
        return plan;
    }
    let Ok(client) = Client::new() else {
        return plan;
    };
    let mut said: BTreeMap<(String, String), Option<u32>> = BTreeMap::new();
    let mut next = (*plan).clone();
    for i in wanted {
        let agent = &plan.agents[i].agent;
        let Some(provider) = plan.providers.get(&agent.provider) else {
            continue;
        };
        let key = plan
            .keys
            .get(&provider.name)
            .cloned()
            .unwrap_or_else(|| ApiKey::new(String::new()));
        let at = (provider.base_url.clone(), agent.model.clone());
        let window = match said.get(&at) {
            Some(w) => *w,
            None => {
                let w = match remembered(store, &at).await {
                    Some(n) => Some(n),
                    None => {
                        let w = client.server_window(provider, &key, &agent.model).await;
                        if let Some(n) = w {
                            out.note(&format!(
                                "bsu: the server at {} says model {:?} has a context window of {n} tokens",
                                provider.base_url, agent.model
                            ));
                            remember(store, &at, n).await;
                        }
                        w
                    }
                };
                said.insert(at, w);
                w
            }
        };
        if let Some(n) = window {
            next.agents[i].agent.context_window = Some(n);
        }
    }
    Arc::new(next)
}
