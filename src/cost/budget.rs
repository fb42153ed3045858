//! Daily and monthly budgets across processes: before anything is sent, the
//! run's projected cost is reserved in the state database in the same
//! transaction that checks what the project spent today and this month
//! (UTC); after the run the reservation becomes the actual cost.

use super::AgentCost;
use super::Refusal;
use crate::error::Result;
use crate::plan::RunPlan;
use crate::store::{self, spend, Store};

/// How long past the run's deadline a reservation is held when the run dies
/// before settling (SIGKILL): long enough for the engine's backstop and
/// slow bookkeeping, short enough not to block the day.
pub(crate) const LEASE_MARGIN_MS: i64 = 60_000;

/// The cost policy's refusals before anything is sent: a projection over
/// `--max-cost` / `budget.max_cost_per_run`, or an unpriced model under a cap
/// or a budget (it could cost anything). Exit 2.
pub(crate) fn check(plan: &RunPlan, projected: &[AgentCost]) -> Result<()> {
    if let Some((cap, from)) = &plan.cost.max_cost {
        if let Some(refusal) =
            Refusal::unpriced(projected, from).or_else(|| Refusal::over_cap(projected, *cap, from))
        {
            return Err(refusal.into());
        }
    }
    if !plan.dry_run && (plan.cost.per_day.is_some() || plan.cost.per_month.is_some()) {
        if let Some(refusal) = Refusal::unpriced(projected, "[budget]") {
            return Err(refusal.into());
        }
    }
    Ok(())
}

/// Reserve `projected` for `run_id`, or say when the budget frees up (exit 75).
pub(crate) async fn reserve(
    plan: &RunPlan,
    store: Option<&Store>,
    run_id: &str,
    projected: &[AgentCost],
) -> Result<bool> {
    if plan.dry_run || (plan.cost.per_day.is_none() && plan.cost.per_month.is_none()) {
        return Ok(false);
    }
    let Some(db) = store else {
        return Err(Refusal::NoStore.into());
    };
    let now = store::now_ms();
    let ((day0, day1), (month0, month1)) = spend::day_and_month(now);
    let mut windows = Vec::new();
    if let Some(l) = plan.cost.per_day {
        windows.push(spend::Window {
            limit_usd: l,
            from_ms: day0,
            until_ms: day1,
        });
    }
    if let Some(l) = plan.cost.per_month {
        windows.push(spend::Window {
            limit_usd: l,
            from_ms: month0,
            until_ms: month1,
        });
    }
    let usd = crate::cost::total(projected);
    let project = plan.project.clone();
    let id = run_id.to_string();
    // Held until the run settles, or, if it dies first, until its deadline
    // and the lease margin have passed.
    let lease = now
        .saturating_add(i64::try_from(plan.limits.timeout.as_millis()).unwrap_or(i64::MAX))
        .saturating_add(LEASE_MARGIN_MS);
    let result = db
        .call(move |c| c.spend_reserve(&project, &id, usd, (now, lease), &windows))
        .await
        .map_err(|e| Refusal::Unchecked(e.to_string()))?;
    match result {
        Ok(()) => Ok(true),
        Err(r) => {
            let which = if r.window.until_ms - r.window.from_ms <= 86_400_000 {
                "daily"
            } else {
                "monthly"
            };
            Err(Refusal::Full {
                which,
                limit: r.window.limit_usd,
                spent: r.spent_usd,
                projected: usd,
                frees_at: crate::engine::rfc3339_ms(r.window.until_ms),
            }
            .into())
        }
    }
}

/// What the run spent, per agent, as the state keeps it: the run's end
/// writes it in place of its reservation (`store::Store::end_run`).
pub(crate) fn spent_rows(actual: &[AgentCost]) -> Vec<spend::Spent> {
    actual
        .iter()
        .map(|c| spend::Spent {
            agent: c.id.clone(),
            provider: c.provider.clone(),
            model: c.model.clone(),
            input_tokens: c.input_tokens,
            output_tokens: c.output_tokens,
            usd: c.usd.unwrap_or(0.0),
        })
        .collect()
}
