//! What a run costs: prices per model, the projection made before anything
//! is sent (and the cap that refuses a run over it), and the actual cost from
//! the tokens the providers report. Prices are USD per million tokens.
//! A model with no known price is reported as unpriced, never as free.

use serde::{Deserialize, Serialize};

pub(crate) mod budget;
pub(crate) mod refusal;

pub(crate) use refusal::Refusal;

pub(crate) use crate::prices::PriceBook;

use crate::client::Usage;
use crate::engine::Prepared;
use crate::plan::RunPlan;

/// One agent's cost. Projected: its prompts as counted, its output at most
/// `max_tokens` (else 4,096) per batch, priced at the dearest model of its
/// fallback chain. Actual: the provider and model that served it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct AgentCost {
    pub id: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `null`: no price is known for the model.
    pub usd: Option<f64>,
}

/// The run's projection, and what it actually cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CostReport {
    /// The most the run may cost, before it ran (output at `max_tokens`).
    pub projected_usd: f64,
    pub projected: Vec<AgentCost>,
    /// From the tokens the providers reported; cached prompt tokens at their price.
    pub actual_usd: f64,
    pub actual: Vec<AgentCost>,
    /// Agents whose model has no known price (counted as 0 in the totals above).
    pub unpriced: Vec<String>,
    /// What the provider's prompt cache saved, in USD.
    pub cache_saved_usd: f64,
}

/// Project every running agent's cost.
pub(crate) fn project(plan: &RunPlan, prep: &Prepared, prices: &PriceBook) -> Vec<AgentCost> {
    plan.agents
        .iter()
        .enumerate()
        .filter(|(_, p)| p.skip.is_none())
        .map(|(i, p)| {
            let (input, batches) = crate::engine::prompt_tokens(plan, prep, i);
            let per_batch = p
                .agent
                .max_tokens
                .map_or(crate::engine::pack::DEFAULT_REPLY_TOKENS, u64::from);
            let output = per_batch * u64::from(batches.max(1));
            let usage = Usage {
                prompt_tokens: input,
                completion_tokens: output,
                total_tokens: input + output,
                ..Usage::default()
            };
            // The agent's own model, then each fallback that can serve (one
            // without its key is passed over): any of them may, so the agent
            // is projected at the dearest, and at none when one has no price.
            let chain = std::iter::once((p.agent.provider.as_str(), p.agent.model.as_str())).chain(
                p.agent
                    .fallback
                    .iter()
                    .filter(|name| plan.servable.contains(*name))
                    .filter_map(|name| {
                        plan.providers
                            .get(name)
                            .map(|pr| (name.as_str(), pr.model.as_str()))
                    }),
            );
            let mut pick: Option<(&str, &str, Option<f64>)> = None;
            for (provider, model) in chain {
                let usd = prices.get(model).map(|pr| pr.cost(&usage));
                let dearer = match (pick, usd) {
                    (None, _) | (Some((_, _, Some(_))), None) => true,
                    (Some((_, _, Some(best))), Some(usd)) => usd > best,
                    (Some((_, _, None)), _) => false,
                };
                if dearer {
                    pick = Some((provider, model, usd));
                }
            }
            let (provider, model, usd) =
                pick.unwrap_or((p.agent.provider.as_str(), p.agent.model.as_str(), None));
            AgentCost {
                id: p.agent.id.clone(),
                provider: provider.to_string(),
                model: model.to_string(),
                input_tokens: input,
                output_tokens: output,
                usd,
            }
        })
        .collect()
}

/// The sum of the priced agents: 0 (never -0, which `Sum` starts from)
/// when none is.
pub(crate) fn total(costs: &[AgentCost]) -> f64 {
    costs.iter().filter_map(|c| c.usd).fold(0.0, |a, b| a + b)
}

/// "≤ $0.0123 for 3 agents (1 unpriced: a)" — the line a terminal sees.
pub(crate) fn line(costs: &[AgentCost]) -> String {
    let unpriced: Vec<&str> = costs
        .iter()
        .filter(|c| c.usd.is_none())
        .map(|c| c.id.as_str())
        .collect();
    let mut s = format!(
        "projected cost: at most ${:.4} for {} agent{}",
        total(costs),
        costs.len(),
        if costs.len() == 1 { "" } else { "s" }
    );
    if !unpriced.is_empty() {
        s.push_str(&format!(
            " ({} unpriced: {})",
            unpriced.len(),
            unpriced.join(", ")
        ));
    }
    s
}

/// The actual cost of each agent that called a model, and what caching saved.
pub(crate) fn actual(
    agents: &[(String, String, String, Usage)],
    prices: &PriceBook,
) -> (Vec<AgentCost>, f64) {
    let mut saved = 0.0;
    let costs = agents
        .iter()
        .map(|(id, provider, model, usage)| {
            let price = prices.get(model);
            if let Some(p) = &price {
                saved += p.cache_saving(usage);
            }
            AgentCost {
                id: id.clone(),
                provider: provider.clone(),
                model: model.clone(),
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
                usd: price.map(|p| p.cost(usage)),
            }
        })
        .collect();
    (costs, saved)
}
