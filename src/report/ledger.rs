//! The ledger as the JSON report carries it: the findings across pushes,
//! counted by state, and what an incremental review saved.

use serde::Serialize;

/// The ledger, with its findings counted by state.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct LedgerJson {
    pub counts: LedgerCounts,
    /// An incremental review: what it did not send again, against a full
    /// review of the same push (estimated: one token per 3 bytes of patch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<Saved>,
    #[serde(flatten)]
    pub ledger: crate::ledger::Ledger,
}

/// What an incremental review saved against a full one.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Saved {
    /// Files of the change not sent again (unchanged since the last review).
    pub files: u64,
    /// Input tokens not sent, over every agent that reads them (estimated).
    pub input_tokens: u64,
    /// Their price at each agent's model; `null` when a model is unpriced.
    pub usd: Option<f64>,
}

/// Findings by state: `new` are open and first seen on this run's head.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct LedgerCounts {
    pub new: usize,
    pub open: usize,
    pub fixed: usize,
    pub dismissed: usize,
    pub outdated: usize,
}

impl LedgerJson {
    pub(crate) fn of(ledger: crate::ledger::Ledger) -> LedgerJson {
        let c = crate::ledger::counts(&ledger, ledger.head.as_deref());
        LedgerJson {
            saved: None,
            counts: LedgerCounts {
                new: c.new,
                open: c.open,
                fixed: c.fixed,
                dismissed: c.dismissed,
                outdated: c.outdated,
            },
            ledger,
        }
    }
}

/// The verifier pass: who verified, what it cost, and how many findings it
/// kept on and off the lines.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct VerifierJson {
    pub agent: String,
    pub model: String,
    pub usage: crate::vocab::Usage,
    /// What the pass cost, at the verifier's model; `null` when unpriced.
    pub usd: Option<f64>,
    pub kept: usize,
    pub dropped: usize,
}

impl VerifierJson {
    pub(crate) fn of(
        v: &crate::config::Agent,
        (usage, usd): (crate::vocab::Usage, Option<f64>),
        kept: usize,
        dropped: usize,
    ) -> Self {
        VerifierJson {
            agent: v.id.clone(),
            model: v.model.clone(),
            usage,
            usd,
            kept,
            dropped,
        }
    }
}
