//! The words every layer shares: what a run decides, how severe a finding
//! is, and the token counts a provider reports. A leaf: it imports
//! nothing else of the crate, so the lowest module may name a decision.

use serde::Serialize;

/// How bsu's sticky comment (GitHub) or note (GitLab) begins: the hidden
/// line it is found by, one per strategy (`STICKY_MARKER` + the strategy +
/// ` -->`). Here so that the trigger, which must never take bsu's own
/// comment for a person's command, reads the same words the publisher writes.
pub(crate) const STICKY_MARKER: &str = "<!-- bsu:sticky strategy=";

/// A finding's severity, ordered from weakest to strongest so findings sort
/// by it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// The run's decision, ordered from weakest to strongest. `DryRun` is not a
/// decision at all: a dry run sends nothing, so it decides nothing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    DryRun,
    Approve,
    ManualReview,
    RequestChanges,
    Block,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::DryRun => "dry_run",
            Action::Approve => "approve",
            Action::ManualReview => "manual_review",
            Action::RequestChanges => "request_changes",
            Action::Block => "block",
        })
    }
}

/// Token counts as the provider reported them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub(crate) struct Usage {
    #[serde(default, deserialize_with = "count")]
    pub prompt_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub completion_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub total_tokens: u64,
    /// Prompt tokens served from the provider's prompt cache (OpenAI
    /// `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`).
    #[serde(default, deserialize_with = "count")]
    pub cached_prompt_tokens: u64,
    /// Prompt tokens written to the cache (Anthropic `cache_creation_input_tokens`).
    #[serde(default, deserialize_with = "count")]
    pub cache_creation_tokens: u64,
}

/// A token count as a server may send it: a negative, fractional, string or
/// absurd number is read as the nearest count (or 0), never a failed reply.
pub(crate) fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    let n = match &v {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(clamp)),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok().map(clamp),
        _ => None,
    };
    Ok(n.unwrap_or(0))
}

fn clamp(f: f64) -> u64 {
    if f.is_finite() && f > 0.0 {
        // `as` saturates at u64::MAX.
        f as u64
    } else {
        0
    }
}
