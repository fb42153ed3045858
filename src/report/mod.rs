//! Reports: the versioned JSON wire format (CONTRACT.md, "Reports") built from
//! the engine's outcome, pure renderers for each format, and `write`, the one
//! place that touches report files.

mod build;
mod codequality;
pub(crate) mod findings;
mod junit;
mod ledger;
pub(crate) mod markdown;
mod metrics;
pub(crate) mod patch;
mod published;
mod sarif;
pub(crate) mod summary;
pub(crate) mod write;

use serde::Serialize;

use crate::client::Usage;
use crate::config::{Execution, ReportFormat};
use crate::engine::outcome::{RunOutcome, Status};
use crate::engine::prompt::Prompt;
use crate::engine::verdict::{Ambiguity, Verdict};
use crate::plan::RunPlan;
use crate::vocab::Action;

pub(crate) use ledger::{LedgerJson, Saved, VerifierJson};
pub(crate) use metrics::render as render_metrics;
pub(crate) use published::{Published, Step, StepStatus};

/// The JSON report, `schema_version` 1.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Report {
    pub schema_version: u32,
    pub bsu_version: String,
    /// SHA-256 of events.toml and of the files of the agents this run selected.
    pub config_hash: String,
    pub run_id: String,
    pub event: String,
    /// The strategy the event resolved to (`default` when none matched).
    pub strategy: String,
    pub execution: Execution,
    pub dry_run: bool,
    /// Ctrl-C or SIGTERM stopped the run; agents still running are `failed`.
    pub interrupted: bool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub decision: DecisionJson,
    /// In the strategy's order.
    pub agents: Vec<AgentJson>,
    pub totals: Totals,
    pub breakers: Vec<BreakerJson>,
    /// Set when the payload was too large for the prompt and was cut.
    pub payload_cut: Option<PayloadCut>,
    /// A dry run's shared prompt part, once: an agent's `prompt.system` that
    /// begins with the role marker line follows it (the full system prompt is
    /// this, a newline, and that text); one that does not is whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_prompt: Option<String>,
    /// Cache-aware fan-out: the agent sent first so the provider's prompt
    /// cache held the shared prefix for the rest, and what that wait cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primed: Option<Primed>,
    /// Which view of the payload the prompts carried (`compact`: the fields
    /// a reviewer reads; `full`: as it came).
    #[serde(default)]
    pub payload_view: crate::config::PayloadView,
    /// What the run's inputs gathered; empty when it has none.
    pub inputs: Vec<InputJson>,
    /// What was reviewed, from the payload.
    pub subject: Subject,
    /// What publishing did (`--publish github`); `null` when nothing was published.
    pub publish: Option<Published>,
    /// The exit code the contract gives this run's outcome (before any
    /// failure to write reports or publish).
    pub exit_code: u8,
    /// What the run was projected to cost before it ran, and what it cost.
    pub cost: Option<crate::cost::CostReport>,
    /// The folder of recordings that answered this run (`--replay`): no
    /// model was called. Absent for a live run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_from: Option<String>,
    /// The finding ledger after this run (docs/CONTRACT.md, "The finding
    /// ledger"); absent for a dry run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerJson>,
    /// The verifier pass (`verify` on the strategy), when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<VerifierJson>,
    /// Why the run went on without its state store (a state server it could
    /// not reach, a database another process held): breakers only in memory,
    /// no shared cache, no history kept. Absent when it had its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_unavailable: Option<String>,
}

/// What a run reviewed, as the payload says: a pull request, a push, a schedule.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Subject {
    /// "pull_request", "push" or "other".
    pub kind: String,
    pub repository: Option<String>,
    pub number: Option<u64>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
}

impl Subject {
    pub(crate) fn from_payload(p: &serde_json::Value) -> Subject {
        let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
        let repository = s(p.pointer("/repository/full_name"));
        if let Some(pr) = p.get("pull_request") {
            return Subject {
                kind: "pull_request".into(),
                repository,
                number: pr
                    .get("number")
                    .and_then(serde_json::Value::as_u64)
                    .or_else(|| p.get("number").and_then(serde_json::Value::as_u64)),
                title: s(pr.get("title")).map(|t| crate::text::one_line(&t, 300)),
                url: s(pr.get("html_url")),
                base_sha: s(pr.pointer("/base/sha")),
                head_sha: s(pr.pointer("/head/sha")),
            };
        }
        if let Some(issue) = p.get("issue").filter(|i| i.get("pull_request").is_some()) {
            return Subject {
                kind: "pull_request".into(),
                repository,
                number: issue.get("number").and_then(serde_json::Value::as_u64),
                title: s(issue.get("title")).map(|t| crate::text::one_line(&t, 300)),
                url: s(issue.get("html_url")),
                ..Subject::default()
            };
        }
        if p.get("after").is_some() {
            return Subject {
                kind: "push".into(),
                repository,
                base_sha: s(p.get("before")),
                head_sha: s(p.get("after")),
                url: s(p.get("compare")),
                ..Subject::default()
            };
        }
        Subject {
            kind: "other".into(),
            repository,
            ..Subject::default()
        }
    }
}

/// One input as gathered, before any agent's budget.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct InputJson {
    pub name: String,
    pub kind: crate::config::inputs::InputKind,
    pub source: crate::inputs::SourceInfo,
    pub bytes: u64,
    /// Files (or the one piece) gathered, each `path (label)`.
    pub included: Vec<String>,
    /// Left out on purpose: by configuration, or binary.
    pub excluded: Vec<String>,
    /// Not gathered whole (a command that failed to start, timed out or was cut).
    pub unseen: Vec<String>,
    pub exit_code: Option<i32>,
    /// SHA-256 of what was gathered.
    pub sha256: String,
    /// For a diff: each file's changed line ranges on the new side, `[first, last]`
    /// (where a review may comment).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub diff_lines: std::collections::BTreeMap<String, Vec<[u64; 2]>>,
}

/// New-side line ranges of each hunk of a unified diff (`@@ -a,b +c,d @@`).
pub(crate) fn hunk_ranges(diff: &str) -> Vec<[u64; 2]> {
    diff.lines()
        .filter_map(|l| l.strip_prefix("@@ "))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('+')))
        .filter_map(|w| {
            let w = &w[1..];
            let (start, len) = match w.split_once(',') {
                Some((s, n)) => (s.parse::<u64>().ok()?, n.parse::<u64>().ok()?),
                None => (w.parse::<u64>().ok()?, 1),
            };
            (len > 0).then(|| [start, start + len - 1])
        })
        .collect()
}

/// The agent sent first (`prime_cache`), and the longest another waited.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Primed {
    pub agent: String,
    /// The latency priming added: how long the last agent sent waited.
    pub waited_ms: u64,
}

/// The payload was cut to fit the prompt: how much, and who saw the cut text.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct PayloadCut {
    /// Bytes of the payload as pretty JSON.
    pub bytes: u64,
    /// Bytes of it that the prompt carried.
    pub sent_bytes: u64,
    /// Agents whose prompt carried the cut payload.
    pub agents: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct DecisionJson {
    pub action: Action,
    /// One line naming the agents that caused the decision.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct AgentJson {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub model: String,
    pub status: Status,
    /// What this agent alone would have the run decide (the strongest action it causes).
    pub decision: Action,
    /// Why it was skipped, rejected or failed; `null` otherwise.
    pub reason: Option<String>,
    /// HTTP requests sent for it (0 when served from cache or not run).
    pub attempts: u32,
    pub cached: bool,
    pub duration_ms: u64,
    /// SHA-256 of the request (endpoint, model, parameters, messages); `null` if none was built.
    pub prompt_hash: Option<String>,
    /// As the provider reported it; in a dry run, an estimate of the prompt.
    pub usage: Usage,
    /// `null` when the reply held no readable verdict, or there was no reply.
    /// When the reply held several, the strictest, with every finding.
    pub verdict: Option<Verdict>,
    /// Set when the reply held verdicts that disagree or verdict-like text
    /// that could not be read: the decisions it held and why parts were refused.
    pub ambiguity: Option<Ambiguity>,
    /// Actions the agent asked for that its `actions` list lacks.
    pub disallowed_actions: Vec<String>,
    /// The provider stopped its reply at the output limit (`max_tokens`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_off: bool,
    /// The raw reply text; `null` when there was none.
    pub output: Option<String>,
    /// The rendered prompt; present in dry runs only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
    /// What it was given of the run's inputs; `null` when it reads none.
    pub inputs: Option<crate::engine::pack::PackSummary>,
    /// Set when its own provider was unavailable and the fallback chain served
    /// it (`provider` and `model` above are then the ones that served).
    #[serde(default)]
    pub fallback: Option<crate::engine::outcome::Route>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Totals {
    pub calls: u64,
    pub retries: u64,
    pub cache_hits: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct BreakerJson {
    pub name: String,
    pub before: String,
    pub after: String,
}

impl Report {
    pub(crate) fn new(
        plan: &RunPlan,
        outcome: &RunOutcome,
        run_id: &str,
        breakers: Vec<BreakerJson>,
        exit_code: u8,
    ) -> Self {
        let totals = Totals::of(&outcome.agents);
        let payload_cut = outcome.payload_cut.map(|(bytes, sent)| PayloadCut {
            bytes: bytes as u64,
            sent_bytes: sent as u64,
            agents: outcome
                .agents
                .iter()
                .filter(|a| a.prompt_hash.is_some())
                .map(|a| a.id.clone())
                .collect(),
        });
        // A dry run's shared prompt part is kept once, not once per agent (it
        // is most of each prompt: the payload and the inputs).
        let head = build::shared_head(&outcome.agents);
        let agents: Vec<AgentJson> = outcome
            .agents
            .iter()
            .map(|a| AgentJson::of(a, outcome.decision.of(&a.id), head))
            .collect();
        let shared_prompt = head.map(str::to_string);
        Report {
            schema_version: 1,
            bsu_version: env!("CARGO_PKG_VERSION").to_string(),
            config_hash: plan.config_hash.clone(),
            run_id: run_id.to_string(),
            event: plan.event.clone(),
            strategy: plan.strategy.clone(),
            execution: plan.limits.execution,
            dry_run: plan.dry_run,
            interrupted: outcome.interrupted,
            started_at: humantime::format_rfc3339_millis(outcome.started_at).to_string(),
            finished_at: humantime::format_rfc3339_millis(outcome.finished_at).to_string(),
            duration_ms: millis(outcome.duration),
            decision: DecisionJson {
                action: outcome.decision.action,
                reason: outcome.decision.reason.clone(),
            },
            agents,
            shared_prompt,
            totals,
            breakers,
            payload_cut,
            primed: outcome.primed.as_ref().map(|(agent, waited)| Primed {
                agent: agent.clone(),
                waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            }),
            payload_view: plan.payload_view,
            inputs: outcome.inputs.iter().map(InputJson::of).collect(),
            subject: Subject::from_payload(&plan.payload),
            publish: None,
            exit_code,
            cost: None,
            replayed_from: None,
            ledger: None,
            verifier: None,
            state_unavailable: None,
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report is plain data")
    }

    /// Every secret of the run taken out of every string of the report: what
    /// every format, publication, summary and output is made from.
    pub(crate) fn redact(&mut self, secrets: &crate::secrets::Secrets) {
        if secrets.is_empty() {
            return;
        }
        let Ok(mut value) = serde_json::to_value(&*self) else {
            return;
        };
        secrets.redact_json(&mut value);
        if let Ok(clean) = serde_json::from_value(value) {
            *self = clean;
        }
    }
}

/// Render `report` in `format`: pure, report → bytes.
pub(crate) fn render(report: &Report, format: ReportFormat) -> Vec<u8> {
    match format {
        ReportFormat::Json => {
            let mut s = report.to_json();
            s.push('\n');
            s.into_bytes()
        }
        ReportFormat::Md => markdown::render(report).into_bytes(),
        ReportFormat::Junit => junit::render(report).into_bytes(),
        ReportFormat::Sarif => sarif::render(report).into_bytes(),
        ReportFormat::Patch => patch::render(report).into_bytes(),
        ReportFormat::Codequality => codequality::render(report).into_bytes(),
    }
}

/// File extension of each format.
pub(crate) fn extension(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::Json => "json",
        ReportFormat::Md => "md",
        ReportFormat::Junit => "junit.xml",
        ReportFormat::Sarif => "sarif",
        ReportFormat::Patch => "patch",
        ReportFormat::Codequality => "codequality.json",
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
