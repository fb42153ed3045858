//! The files exactly as users write them: serde types with `deny_unknown_fields`.
//!
//! These types carry spans (`toml::Spanned`) wherever a later cross-file check
//! needs to point at a line. They hold no defaults and no environment
//! overrides: `super::settle` turns them into the settled `Config`.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::{Execution, Profile, ProviderKind, ReportFormat, RiskLevel};

/// `events.toml`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsFile {
    #[serde(default)]
    pub defaults: DefaultsFile,
    #[schemars(with = "Option<BTreeMap<String, ProviderFile>>")]
    pub providers: Option<BTreeMap<Spanned<String>, ProviderFile>>,
    #[serde(default)]
    pub breaker: BreakerFile,
    #[serde(default)]
    pub cache: CacheFile,
    #[serde(default)]
    pub reports: ReportsFile,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, EventFile>")]
    pub events: BTreeMap<Spanned<String>, EventFile>,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, super::inputs::InputFile>")]
    pub inputs: BTreeMap<Spanned<String>, super::inputs::InputFile>,
    pub publish: Option<super::publish::PublishFile>,
    /// `[triggers]`: who may run bsu from a comment, and what may run under
    /// `pull_request_target`.
    pub triggers: Option<super::triggers::TriggersFile>,
    /// The old name of `[triggers]`, still read (not both).
    #[schemars(with = "Option<super::triggers::TriggersFile>")]
    pub github: Option<Spanned<super::triggers::TriggersFile>>,
    /// `[prices."MODEL"]`: USD per million tokens.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, crate::prices::Price>")]
    pub prices: BTreeMap<String, Spanned<crate::prices::Price>>,
    pub budget: Option<BudgetFile>,
    /// `[secrets]`: more variables whose values are secrets.
    pub secrets: Option<SecretsFile>,
    /// `[state]`: keep the state on a PostgreSQL server instead of SQLite.
    pub state: Option<super::state::StateFile>,
}

/// `[secrets]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SecretsFile {
    /// Variables whose values bsu redacts from everything it keeps, prints,
    /// records, sends or publishes, and removes from the environment of git
    /// and `command` inputs (provider keys, the GitHub token and the webhook
    /// URL are always in the set).
    #[schemars(with = "Vec<String>")]
    #[serde(default)]
    pub redact: Vec<Spanned<String>>,
}

/// `[budget]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BudgetFile {
    /// Refuse a run whose projected cost (output at max_tokens) is above this, in USD.
    pub max_cost_per_run: Option<f64>,
    /// The project's spend per UTC day, across every process sharing the state dir, USD.
    pub max_cost_per_day: Option<f64>,
    /// The project's spend per UTC calendar month, USD.
    pub max_cost_per_month: Option<f64>,
    /// LiteLLM's model_prices_and_context_window.json, relative to the project.
    #[schemars(with = "Option<String>")]
    pub pricing_file: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultsFile {
    #[schemars(with = "Option<String>")]
    pub provider: Option<Spanned<String>>,
    pub execution: Option<Execution>,
    pub concurrency: Option<Bounded<{ crate::bounds::MAX_CONCURRENCY }>>,
    pub timeout: Option<HumanDuration>,
    pub agent_timeout: Option<HumanDuration>,
    pub if_running: Option<super::IfRunning>,
    pub unmatched: Option<super::Unmatched>,
    /// Every agent's context window in tokens, unless it or its provider says.
    pub context_window: Option<Bounded<{ crate::bounds::MAX_CONTEXT_WINDOW }>>,
    /// Every agent's reply limit in tokens, unless it or its provider says.
    pub max_tokens: Option<NonZeroU32>,
    /// `auto` (default): a parallel run whose agents share a long prompt
    /// prefix sends one first, so the provider's cache serves the rest;
    /// `off`: all at once.
    pub prime_cache: Option<super::PrimeCache>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFile {
    pub kind: Option<ProviderKind>,
    #[schemars(with = "Option<String>")]
    pub base_url: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    pub model: Option<String>,
    pub max_concurrency: Option<Bounded<{ crate::bounds::MAX_CONCURRENCY }>>,
    pub max_retries: Option<Retries>,
    pub request_timeout: Option<HumanDuration>,
    pub context_window: Option<Bounded<{ crate::bounds::MAX_CONTEXT_WINDOW }>>,
    /// Its agents' reply limit in tokens, unless an agent says.
    pub max_tokens: Option<NonZeroU32>,
    pub breaker: Option<BreakerFile>,
    /// Providers to try, in order, when this one is unavailable.
    #[schemars(with = "Option<Vec<String>>")]
    pub fallback: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakerFile {
    pub failure_threshold: Option<Bounded<{ crate::bounds::MAX_FAILURE_THRESHOLD }>>,
    pub reset_timeout: Option<HumanDuration>,
    pub max_reset_timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CacheFile {
    pub enabled: Option<bool>,
    pub ttl: Option<HumanDuration>,
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportsFile {
    /// The reports folder, relative to the project: real folders all the way
    /// down, never a symlink (`--reports-dir` puts reports anywhere).
    #[schemars(with = "Option<String>")]
    pub dir: Option<Spanned<String>>,
    pub formats: Option<Vec<ReportFormat>>,
    pub keep: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EventFile {
    pub description: Option<String>,
    #[schemars(with = "Vec<String>")]
    pub agents: Spanned<Vec<Spanned<String>>>,
    pub execution: Option<Execution>,
    /// This strategy's `prime_cache`, over `[defaults]`'s.
    pub prime_cache: Option<super::PrimeCache>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub required: Vec<Spanned<String>>,
    #[serde(default)]
    pub stop_on_failure: bool,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub inputs: Vec<Spanned<String>>,
    /// Cron expressions (as in the workflow's `on.schedule`) this strategy answers.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub schedule: Vec<Spanned<String>>,
    #[serde(default)]
    pub when: super::triggers::Filters,
    #[serde(default)]
    pub skip: super::triggers::Filters,
    /// The name of the check run this strategy posts (default `bsu / NAME`):
    /// the same for every action of a pull request, so it can be required.
    pub check_name: Option<String>,
    /// An agent that checks each candidate inline finding after the panel
    /// and may keep it off the lines (never off the decision).
    #[schemars(with = "Option<String>")]
    pub verify: Option<Spanned<String>>,
    /// This strategy's noise budget, over `[publish]`'s.
    pub inline_min_severity: Option<crate::vocab::Severity>,
    pub max_inline_comments: Option<u32>,
    pub min_agents: Option<u32>,
    pub min_confidence: Option<f64>,
    /// What of the payload its prompts carry: `compact` (default) or `full`.
    pub payload: Option<super::strategy::PayloadView>,
}

/// `agents/<id>.toml`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub role: String,
    pub instructions: String,
    #[schemars(with = "Option<String>")]
    pub provider: Option<Spanned<String>>,
    pub model: Option<String>,
    #[schemars(with = "Option<f64>")]
    pub temperature: Option<Spanned<f64>>,
    pub max_tokens: Option<NonZeroU32>,
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub actions: Vec<String>,
    pub contexts: Option<Vec<String>>,
    pub profiles: Option<Vec<Profile>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub knowledge: Vec<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub inputs: Vec<Spanned<String>>,
    pub max_batches: Option<Bounded<{ crate::bounds::MAX_BATCHES }>>,
    pub context_window: Option<Bounded<{ crate::bounds::MAX_CONTEXT_WINDOW }>>,
    /// Providers to try, in order, when its own is unavailable (wins over the provider's).
    #[schemars(with = "Option<Vec<String>>")]
    pub fallback: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub risk: RiskFile,
    #[serde(default)]
    pub approval: ApprovalFile,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskFile {
    #[serde(default)]
    pub level: RiskLevel,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalFile {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub approvers: Vec<String>,
}

/// A humantime duration ("90s", "5m", "1h30m") within `bounds`. Parsing it during
/// deserialisation lets the toml crate point at the offending value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::bounds::duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

/// A whole number from 1 to `MAX`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounded<const MAX: u32>(u32);

impl<const MAX: u32> Bounded<MAX> {
    pub(super) fn get(self) -> u32 {
        self.0
    }
}

impl<'de, const MAX: u32> Deserialize<'de> for Bounded<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        u32::try_from(n)
            .map_err(|_| format!("{n} is out of range; it must be from 1 to {MAX}"))
            .and_then(|n| crate::bounds::count(n, MAX).map_err(|e| e.to_string()))
            .map(Bounded)
            .map_err(serde::de::Error::custom)
    }
}

/// A retry count from 0 to `bounds::MAX_RETRIES`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retries(pub u32);

impl<'de> Deserialize<'de> for Retries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        let max = crate::bounds::MAX_RETRIES;
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .map(Retries)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("{n} is out of range; it must be from 0 to {max}"))
            })
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration from 1ms to 365days, as humantime writes it: \"90s\", \"5m\", \"1h30m\"",
            "pattern": "^\\s*[0-9]+\\s*[a-zA-Z]+(\\s*[0-9]+\\s*[a-zA-Z]+)*\\s*$"
        })
    }
}

impl<const MAX: u32> schemars::JsonSchema for Bounded<MAX> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Count1To{MAX}").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer", "minimum": 1, "maximum": MAX})
    }
}

impl schemars::JsonSchema for Retries {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Retries".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer", "minimum": 0, "maximum": crate::bounds::MAX_RETRIES})
    }
}
