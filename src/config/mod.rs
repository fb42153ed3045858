//! The project's configuration: `events.toml` and `agents/<id>.toml`, read,
//! validated in one pass, and settled into the types the rest of bsu uses.
//!
//! Everything here is synchronous and free of the network; it runs before any
//! async work starts. Environment overrides come in through `crate::env::Env`
//! so loading stays a function of (files, environment).

mod advice;
mod agents;
mod events;
mod file;
pub(crate) mod inputs;
mod load;
mod names;
mod paths;
mod providers;
pub(crate) mod publish;
mod settle;
pub(crate) mod state;
pub(crate) mod strategy;
#[cfg(test)]
mod tests;
pub(crate) mod triggers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use crate::problem::Problem;
pub(crate) use advice::{advice, assumed_windows};
pub(crate) use load::{in_project, inspect, load, load_read, peek_state, shown, EventsRead};
pub(crate) use paths::{knowledge_path, read_knowledge, KnowledgeError};
pub(crate) use strategy::{PayloadView, Strategy, StrategyMatch};

/// A project whose files all validated.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub root: PathBuf,
    pub defaults: Defaults,
    pub providers: BTreeMap<String, Provider>,
    pub cache: CacheSettings,
    pub reports: ReportSettings,
    /// Strategies in match order: exact names, globs longest first, `default`.
    pub strategies: Vec<Strategy>,
    pub agents: BTreeMap<String, Agent>,
    /// `[inputs.NAME]`, by name.
    pub inputs: BTreeMap<String, inputs::InputSpec>,
    /// `[publish.github]`.
    pub github: publish::GithubSettings,
    /// `[publish.gitlab]`.
    pub gitlab: publish::GitlabSettings,
    /// `[publish.webhook]`.
    pub webhook: Option<publish::WebhookSettings>,
    /// Prices: `[prices]`, `[budget] pricing_file`, the built-in table.
    pub prices: crate::prices::PriceBook,
    /// `[budget] max_cost_per_run`, USD.
    pub max_cost_per_run: Option<f64>,
    /// `[budget] max_cost_per_day` and `max_cost_per_month`, USD.
    pub max_cost_per_day: Option<f64>,
    pub max_cost_per_month: Option<f64>,
    /// `[triggers]` (once `[github]`): slash commands and `pull_request_target` safety.
    pub triggers: triggers::Triggers,
    /// `[secrets] redact`: more variables whose values are secrets.
    pub secret_vars: Vec<String>,
    /// `[state]`: SQLite in the state directory, or a PostgreSQL server.
    pub state: state::StateSettings,
    /// The raw text of events.toml and of each agent file, for `config_hash`.
    pub sources: Sources,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub events: String,
    pub agents: BTreeMap<String, String>,
}

/// What an event no strategy matches does.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Unmatched {
    /// Run the default strategy, saying so (and the nearest strategy).
    #[default]
    Default,
    /// Stop with exit 2 and the nearest strategy.
    Error,
}

/// What a run does when another run of the same project and event holds the lock.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    Serialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum IfRunning {
    /// Wait for it to finish (within the run's timeout), then run.
    Wait,
    /// Do nothing and exit 0.
    Skip,
    /// Run anyway, alongside it.
    #[default]
    Run,
}

#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    pub provider: String,
    pub execution: Execution,
    pub concurrency: u32,
    pub timeout: Duration,
    pub agent_timeout: Duration,
    pub if_running: IfRunning,
    pub unmatched: Unmatched,
    /// `[defaults] context_window` / `max_tokens`.
    pub context_window: Option<u32>,
    pub max_tokens: Option<u32>,
    /// `BSU_CONTEXT_WINDOW` / `BSU_MAX_TOKENS`: they win for every agent of
    /// an OpenAI-compatible provider (as `BSU_MODEL` does).
    pub env_context_window: Option<u32>,
    pub env_max_tokens: Option<u32>,
    /// `[defaults] prime_cache`.
    pub prime_cache: PrimeCache,
}

/// Whether a parallel run sends one agent first so the provider's prompt
/// cache holds the shared prefix when the others are sent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PrimeCache {
    /// When agents share a long prefix on a provider that caches prefixes.
    #[default]
    Auto,
    /// Send every agent at once.
    Off,
}

/// A model provider endpoint with every default and override applied.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub api_key_env: String,
    pub model: String,
    pub max_concurrency: u32,
    pub max_retries: u32,
    #[serde(with = "humantime_serde_str")]
    pub request_timeout: Duration,
    /// Context window of its models in tokens; `None`: built in per model.
    pub context_window: Option<u32>,
    /// Its agents' reply limit, unless an agent says.
    pub max_tokens: Option<u32>,
    pub breaker: BreakerSettings,
    /// Providers its agents fall back to, in order.
    pub fallback: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct BreakerSettings {
    pub failure_threshold: u32,
    #[serde(with = "humantime_serde_str")]
    pub reset_timeout: Duration,
    #[serde(with = "humantime_serde_str")]
    pub max_reset_timeout: Duration,
}

#[derive(Debug, Clone)]
pub(crate) struct CacheSettings {
    pub enabled: bool,
    pub ttl: Duration,
    pub max_bytes: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ReportSettings {
    /// Relative to the project, inside it and worked out by name (no `..`;
    /// checked for links when written: `project_file::folder`).
    pub dir: String,
    pub formats: Vec<ReportFormat>,
    pub keep: u32,
}

/// One agent, with its provider, model and timeout resolved.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Agent {
    pub id: String,
    pub name: String,
    pub description: String,
    pub role: String,
    pub instructions: String,
    pub provider: String,
    pub model: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    #[serde(with = "humantime_serde_str")]
    pub timeout: Duration,
    pub actions: Vec<String>,
    /// `None`: may run in every context.
    pub contexts: Option<Vec<String>>,
    /// `None`: may run under every profile.
    pub profiles: Option<Vec<Profile>>,
    /// Paths relative to the project root, as written.
    pub knowledge: Vec<String>,
    /// Inputs it reads besides its event's.
    pub inputs: Vec<String>,
    /// Most calls (batches) when its inputs do not fit one prompt; `None`: the default.
    pub max_batches: Option<u32>,
    /// Its model's context window in tokens; `None`: the provider's, else built in.
    pub context_window: Option<u32>,
    /// Providers tried in order when its own is unavailable (breaker open,
    /// quota exhausted, transient failures past the retries).
    pub fallback: Vec<String>,
    pub risk: Risk,
    pub approval: Approval,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Risk {
    pub level: RiskLevel,
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Approval {
    pub required: bool,
    pub approvers: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Execution {
    #[default]
    Parallel,
    Sequential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProviderKind {
    Openai,
    Anthropic,
}

/// What a provider of a kind uses unless events.toml says otherwise.
pub(crate) struct KindDefaults {
    pub base_url: &'static str,
    pub api_key_env: &'static str,
    pub model: &'static str,
}

impl ProviderKind {
    /// A kind's defaults. A new kind is an arm here, one in
    /// `client::protocol::for_kind`, and its protocol's file.
    pub(crate) fn defaults(self) -> KindDefaults {
        match self {
            ProviderKind::Openai => KindDefaults {
                base_url: "https://api.openai.com/v1",
                api_key_env: "OPENAI_API_KEY",
                model: "gpt-4o-mini",
            },
            ProviderKind::Anthropic => KindDefaults {
                base_url: "https://api.anthropic.com/v1",
                api_key_env: "ANTHROPIC_API_KEY",
                model: "claude-sonnet-4-5",
            },
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RiskLevel {
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Profile {
    Development,
    Staging,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReportFormat {
    Json,
    Md,
    Junit,
    Sarif,
    /// Every applicable suggestion as one `git apply`-able patch.
    Patch,
    /// GitLab's Code Quality report (CodeClimate issues).
    Codequality,
}

impl ReportFormat {
    pub(crate) const ALL: [ReportFormat; 6] = [
        ReportFormat::Json,
        ReportFormat::Md,
        ReportFormat::Junit,
        ReportFormat::Sarif,
        ReportFormat::Patch,
        ReportFormat::Codequality,
    ];
}

macro_rules! display_as_serde {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
                f.write_str(v.as_str().unwrap_or_default())
            }
        }
    )*};
}
display_as_serde!(Execution, ProviderKind, RiskLevel, Profile, ReportFormat);

/// Durations serialise as humantime text ("5m"), the way users write them.
mod humantime_serde_str {
    pub(crate) fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

/// Ids of agents and providers: `^[a-z0-9][a-z0-9-]*$`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// JSON Schemas of `events.toml` and of an agent file, for editors (taplo,
/// Even Better TOML): what the files may hold, straight from the types bsu reads them with.
pub(crate) fn file_schemas() -> (schemars::Schema, schemars::Schema) {
    (
        schemars::schema_for!(file::EventsFile),
        schemars::schema_for!(file::AgentFile),
    )
}
