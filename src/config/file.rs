//! The files exactly as users write them: serde types with `deny_unknown_fields`.
//!
//! These types carry spans (`toml::Spanned`) wherever a later cross-file check
//! needs to point at a line. They hold no defaults and no environment
//! overrides: `super::settle` turns them into the settled `Config`.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::{Execution, Profile, ProviderKind, ReportFormat, RiskLevel};

/// `events.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsFile {
    #[serde(default)]
    pub defaults: DefaultsFile,
    pub providers: Option<BTreeMap<Spanned<String>, ProviderFile>>,
    #[serde(default)]
    pub breaker: BreakerFile,
    #[serde(default)]
    pub cache: CacheFile,
    #[serde(default)]
    pub reports: ReportsFile,
    #[serde(default)]
    pub events: BTreeMap<Spanned<String>, EventFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultsFile {
    pub provider: Option<Spanned<String>>,
    pub execution: Option<Execution>,
    pub concurrency: Option<NonZeroU32>,
    pub timeout: Option<HumanDuration>,
    pub agent_timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFile {
    pub kind: Option<ProviderKind>,
    pub base_url: Option<Spanned<String>>,
    pub api_key_env: Option<Spanned<String>>,
    pub model: Option<String>,
    pub max_concurrency: Option<NonZeroU32>,
    pub max_retries: Option<u32>,
    pub request_timeout: Option<HumanDuration>,
    pub breaker: Option<BreakerFile>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakerFile {
    pub failure_threshold: Option<NonZeroU32>,
    pub reset_timeout: Option<HumanDuration>,
    pub max_reset_timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CacheFile {
    pub enabled: Option<bool>,
    pub ttl: Option<HumanDuration>,
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportsFile {
    pub dir: Option<PathBuf>,
    pub formats: Option<Vec<ReportFormat>>,
    pub keep: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventFile {
    pub description: Option<String>,
    pub agents: Spanned<Vec<Spanned<String>>>,
    pub execution: Option<Execution>,
    #[serde(default)]
    pub required: Vec<Spanned<String>>,
    #[serde(default)]
    pub stop_on_failure: bool,
}

/// `agents/<id>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub role: String,
    pub instructions: String,
    pub provider: Option<Spanned<String>>,
    pub model: Option<String>,
    pub temperature: Option<Spanned<f64>>,
    pub max_tokens: Option<NonZeroU32>,
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub actions: Vec<String>,
    pub contexts: Option<Vec<String>>,
    pub profiles: Option<Vec<Profile>>,
    #[serde(default)]
    pub knowledge: Vec<Spanned<String>>,
    #[serde(default)]
    pub risk: RiskFile,
    #[serde(default)]
    pub approval: ApprovalFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskFile {
    #[serde(default)]
    pub level: RiskLevel,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalFile {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub approvers: Vec<String>,
}

/// A positive humantime duration ("90s", "5m", "1h30m"). Parsing it during
/// deserialisation lets the toml crate point at the offending value.
#[derive(Debug, Clone, Copy)]
pub(super) struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?}: {e}; write e.g. \"90s\", \"5m\" or \"1h30m\""
            ))
        })?;
        if parsed.is_zero() {
            return Err(serde::de::Error::custom(format!(
                "duration {text:?} must be longer than zero"
            )));
        }
        Ok(HumanDuration(parsed))
    }
}
