//! What a run spent: its cost report (projected, actual, saved by the
//! cache) and the spend its end records.

use crate::engine;
use crate::plan::RunPlan;

/// What the run projected and reserved, for `settle_cost`.
pub(super) struct Spent {
    pub projected: Vec<crate::cost::AgentCost>,
    pub reserved: bool,
    pub replayed: bool,
}

/// The run's cost report, and what its end records of it: every run that
/// called a provider records what it spent (the history of `bsu status` and
/// of the budgets); a reservation becomes the actual cost.
pub(super) fn settle_cost(
    plan: &RunPlan,
    run_id: &str,
    outcome: &engine::outcome::RunOutcome,
    spent: Spent,
) -> (crate::cost::CostReport, Option<crate::store::runs::Settle>) {
    let costs = cost_report(outcome, spent.projected, &plan.cost.prices);
    let settle = (spent.reserved || (!plan.dry_run && !spent.replayed)).then(|| {
        (
            plan.project.clone(),
            run_id.to_string(),
            crate::cost::budget::spent_rows(&costs.actual),
        )
    });
    (costs, settle)
}

/// The projection and what the run actually cost.
fn cost_report(
    outcome: &engine::outcome::RunOutcome,
    projected: Vec<crate::cost::AgentCost>,
    prices: &crate::prices::PriceBook,
) -> crate::cost::CostReport {
    // Priced at the provider and model that served each agent (a fallback's
    // when the call moved down the chain).
    let used: Vec<_> = outcome
        .agents
        .iter()
        .filter(|a| a.status() != engine::outcome::Status::DryRun && a.usage().total_tokens > 0)
        .map(|a| {
            let (provider, model) = match &a.route {
                Some(r) => (r.provider.clone(), r.model.clone()),
                None => (a.provider.clone(), a.model.clone()),
            };
            (a.id.clone(), provider, model, a.usage())
        })
        .collect();
    let (actual, saved) = crate::cost::actual(&used, prices);
    let mut unpriced: Vec<String> = projected
        .iter()
        .filter(|c| c.usd.is_none())
        .map(|c| c.id.clone())
        .collect();
    unpriced.dedup();
    crate::cost::CostReport {
        projected_usd: crate::cost::total(&projected),
        projected,
        actual_usd: crate::cost::total(&actual),
        actual,
        unpriced,
        cache_saved_usd: saved,
    }
}
