//! The cost policy's refusals, each its own variant: a projection over a
//! cap, an unpriced model under a limit (exit 2), a budget that is full or
//! cannot be checked (exit 75). Nothing was sent in any of them.

use super::AgentCost;
use crate::error::{Error, ExitCode};

#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// `limit` caps the run, but some models have no price: they could cost anything.
    #[error(
        "{limit} limits this run's cost, but no price is known for {}; nothing was sent. \
         Set one in events.toml, e.g. [prices.\"{}\"] input = 0.15, output = 0.60 \
         (USD per million tokens; 0 for a free local model), or a pricing_file",
        named(.unpriced), .unpriced.first().map_or("", |(_, m)| m.as_str())
    )]
    Unpriced {
        limit: String,
        /// `(agent, model)` of each unpriced agent.
        unpriced: Vec<(String, String)>,
    },
    /// The projection is over the cap set by `from`.
    #[error(
        "the run could cost up to ${projected:.4}, over the cap of ${cap:.4} ({from}); nothing \
         was sent. By projected cost: {}. Lower max_tokens, narrow the inputs, run fewer agents \
         (--agent), or raise the cap",
        by_cost(.agents)
    )]
    OverCap {
        projected: f64,
        cap: f64,
        from: String,
        /// The agents, dearest first.
        agents: Vec<AgentCost>,
    },
    /// A budget is set and the state database that records it is not usable.
    #[error(
        "[budget] limits the project's daily or monthly spend, and the state database that \
         records it cannot be used; nothing was sent"
    )]
    NoStore,
    /// The budget could not be checked in the state database.
    #[error("could not check the budget in the state database ({0}); nothing was sent")]
    Unchecked(String),
    /// The window's budget would be exceeded until `frees_at`.
    #[error(
        "the {which} budget of ${limit:.4} would be exceeded: ${spent:.4} is spent or reserved \
         and this run could cost up to ${projected:.4}; nothing was sent. It frees up at \
         {frees_at} (UTC)"
    )]
    Full {
        which: &'static str,
        limit: f64,
        spent: f64,
        projected: f64,
        frees_at: String,
    },
}

impl Refusal {
    /// When `limit` caps the run, the agents without a price refuse it.
    pub(crate) fn unpriced(costs: &[AgentCost], limit: &str) -> Option<Refusal> {
        let unpriced: Vec<(String, String)> = costs
            .iter()
            .filter(|c| c.usd.is_none())
            .map(|c| (c.id.clone(), c.model.clone()))
            .collect();
        (!unpriced.is_empty()).then(|| Refusal::Unpriced {
            limit: limit.to_string(),
            unpriced,
        })
    }

    /// A projection over `cap`, with the agents by projected cost.
    pub(crate) fn over_cap(costs: &[AgentCost], cap: f64, from: &str) -> Option<Refusal> {
        let projected = super::total(costs);
        if projected <= cap {
            return None;
        }
        let mut agents = costs.to_vec();
        agents.sort_by(|a, b| b.usd.unwrap_or(0.0).total_cmp(&a.usd.unwrap_or(0.0)));
        Some(Refusal::OverCap {
            projected,
            cap,
            from: from.to_string(),
            agents,
        })
    }

    fn exit_code(&self) -> ExitCode {
        match self {
            Refusal::Unpriced { .. } | Refusal::OverCap { .. } => ExitCode::Usage,
            Refusal::NoStore | Refusal::Unchecked(_) | Refusal::Full { .. } => ExitCode::TempFail,
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        Error::refused(r.exit_code(), r)
    }
}

fn named(unpriced: &[(String, String)]) -> String {
    let named: Vec<String> = unpriced
        .iter()
        .map(|(id, model)| format!("{id} ({model})"))
        .collect();
    named.join(", ")
}

fn by_cost(agents: &[AgentCost]) -> String {
    let list: Vec<String> = agents
        .iter()
        .map(|c| match c.usd {
            Some(u) => format!(
                "{} ${u:.4} ({} in + {} out tokens of {})",
                c.id, c.input_tokens, c.output_tokens, c.model
            ),
            None => format!("{} unpriced ({})", c.id, c.model),
        })
        .collect();
    list.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(id: &str, usd: Option<f64>) -> AgentCost {
        AgentCost {
            id: id.into(),
            provider: "p".into(),
            model: format!("m-{id}"),
            input_tokens: 10,
            output_tokens: 5,
            usd,
        }
    }

    #[test]
    fn refusals_name_what_to_change_and_their_exit_code() {
        let costs = [cost("a", Some(0.5)), cost("b", None), cost("c", Some(1.0))];
        let r = Refusal::unpriced(&costs, "--max-cost").unwrap();
        assert!(r.to_string().starts_with(
            "--max-cost limits this run's cost, but no price is known for b (m-b); nothing was sent. \
             Set one in events.toml, e.g. [prices.\"m-b\"]"
        ));
        assert_eq!(r.exit_code(), ExitCode::Usage);
        let r = Refusal::over_cap(&costs, 1.2, "--max-cost").unwrap();
        assert!(r.to_string().contains(
            "By projected cost: c $1.0000 (10 in + 5 out tokens of m-c); a $0.5000 (10 in + 5 out \
             tokens of m-a); b unpriced (m-b)."
        ));
        assert!(Refusal::over_cap(&costs, 1.5, "--max-cost").is_none());
        assert!(Refusal::unpriced(&costs[..1], "[budget]").is_none());
        assert_eq!(Refusal::NoStore.exit_code(), ExitCode::TempFail);
        assert_eq!(
            Error::from(Refusal::Unchecked("locked".into())).exit_code(),
            ExitCode::TempFail
        );
    }
}
