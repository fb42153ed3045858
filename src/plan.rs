//! From the command line and the configuration to a validated run plan: the
//! strategy, the agents selected and why any are skipped, limits, report
//! settings and the keys the run needs. Everything that can make a run exit
//! 2 is decided here, before anything is sent.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{ExecutionArg, FailOn, FormatArg, ProfileArg, RunArgs};
use crate::client::ApiKey;
use crate::config::inputs::InputSpec;
use crate::config::{
    strategy, Agent, CacheSettings, Config, Execution, Profile, Provider, ReportFormat,
    StrategyMatch,
};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::text::hex;
use crate::vocab::Action;

/// One agent of the event, to run or to report as skipped.
#[derive(Debug, Clone)]
pub(crate) struct PlannedAgent {
    pub agent: Agent,
    /// `Some(reason)`: governance filtered it out; it is reported as skipped.
    pub skip: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    pub root: PathBuf,
    pub event: String,
    pub strategy: String,
    pub matched: StrategyMatch,
    pub execution: Execution,
    pub concurrency: usize,
    pub timeout: Duration,
    pub stop_on_failure: bool,
    pub required: Vec<String>,
    pub agents: Vec<PlannedAgent>,
    pub payload: Value,
    pub dry_run: bool,
    /// `None`: the response cache is off for this run.
    pub cache: Option<CacheSettings>,
    /// `None`: never exit 3.
    pub fail_on: Option<Action>,
    pub formats: Vec<ReportFormat>,
    pub reports_dir: PathBuf,
    pub keep: u32,
    pub metrics_file: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub providers: BTreeMap<String, Provider>,
    /// Keys of the providers the run calls; empty in a dry run.
    pub keys: BTreeMap<String, ApiKey>,
    pub config_hash: String,
    /// The event's inputs: the shared part of every agent's prompt.
    pub shared_inputs: Vec<String>,
    /// Every input the running agents read, shared ones first.
    pub inputs: Vec<InputSpec>,
    /// The strategy's filters.
    pub when: crate::config::github::Filters,
    pub skip: crate::config::github::Filters,
    /// `GITHUB_OUTPUT`, inside GitHub Actions.
    pub github_output: Option<PathBuf>,
    /// A strategy the event name is probably a typo of, when it fell to the default.
    pub suggestion: Option<String>,
    pub prices: crate::prices::PriceBook,
    /// The cap on the projected cost, USD, and where it comes from.
    pub max_cost: Option<(f64, String)>,
    /// `[budget] max_cost_per_day` and `max_cost_per_month`, USD.
    pub per_day: Option<f64>,
    pub per_month: Option<f64>,
    /// Every secret the run knows (CONTRACT.md, "Secrets").
    pub secrets: std::sync::Arc<crate::secrets::Secrets>,
    /// The project's identity for budgets, locks and history: its canonical folder.
    pub project: String,
}

pub(crate) fn plan(
    config: &Config,
    args: &RunArgs,
    payload: Value,
    event: String,
    env: &Env,
) -> Result<RunPlan> {
    let suggestion = nearest(&config.strategies, &event);
    let did_you_mean = suggestion
        .as_ref()
        .map(|s| format!("did you mean {s:?}? "))
        .unwrap_or_default();
    let (strategy, matched) = strategy::resolve(&config.strategies, &event).ok_or_else(|| {
        Error::Usage(format!(
            "no strategy matches event {event:?} and events.toml has no [events.default]; \
             {did_you_mean}pick an event from `bsu events`, or add [events.default]"
        ))
    })?;
    let strict = args.strict || config.defaults.unmatched == crate::config::Unmatched::Error;
    if matched == StrategyMatch::Default && strict && event != "default" {
        return Err(Error::Usage(format!(
            "no strategy matches event {event:?}; {did_you_mean}(`bsu events` lists them; \
             {} keeps a typo from running the default strategy)",
            if args.strict {
                "--strict"
            } else {
                "defaults.unmatched = \"error\""
            }
        )));
    }

    for id in &args.agents {
        if !strategy.agents.contains(id) {
            return Err(Error::Usage(format!(
                "--agent {id}: strategy {:?} does not run {id:?}; it runs {}",
                strategy.name,
                strategy.agents.join(", ")
            )));
        }
    }
    for id in &args.approve {
        if !config.agents.contains_key(id) {
            return Err(Error::Usage(format!(
                "--approve {id}: there is no agent {id:?} (see `bsu agents`)"
            )));
        }
    }
    let context = args.context.clone().unwrap_or_else(|| {
        if env.flag("CI") {
            "ci".into()
        } else {
            "cli".into()
        }
    });
    let profile = match args.profile {
        ProfileArg::Development => Profile::Development,
        ProfileArg::Staging => Profile::Staging,
        ProfileArg::Production => Profile::Production,
    };

    let agents: Vec<PlannedAgent> = strategy
        .agents
        .iter()
        .filter(|id| args.agents.is_empty() || args.agents.contains(id))
        .filter_map(|id| config.agents.get(id))
        .map(|agent| PlannedAgent {
            skip: governance(agent, &context, profile, &args.approve),
            agent: agent.clone(),
        })
        .collect();

    let providers: BTreeMap<String, Provider> = agents
        .iter()
        .flat_map(|p| std::iter::once(&p.agent.provider).chain(&p.agent.fallback))
        .filter_map(|name| config.providers.get(name))
        .map(|p| (p.name.clone(), p.clone()))
        .collect();
    let keys = if args.dry_run {
        BTreeMap::new()
    } else if args.replay.is_some() {
        // A replay sends nothing: no key is read, a placeholder stands in.
        providers
            .keys()
            .map(|p| (p.clone(), ApiKey::new("replay".into())))
            .collect()
    } else {
        keys(&agents, &providers, env)?
    };

    let formats = if args.format.is_empty() {
        config.reports.formats.clone()
    } else {
        let mut f: Vec<ReportFormat> = Vec::new();
        for arg in &args.format {
            let format = match arg {
                FormatArg::Json => ReportFormat::Json,
                FormatArg::Md => ReportFormat::Md,
                FormatArg::Junit => ReportFormat::Junit,
                FormatArg::Sarif => ReportFormat::Sarif,
            };
            if !f.contains(&format) {
                f.push(format);
            }
        }
        f
    };

    let mut needed: Vec<String> = strategy.inputs.clone();
    for a in agents.iter().filter(|a| a.skip.is_none()) {
        for i in &a.agent.inputs {
            if !needed.contains(i) {
                needed.push(i.clone());
            }
        }
    }
    let inputs: Vec<InputSpec> = needed
        .iter()
        .filter_map(|n| config.inputs.get(n).cloned())
        .collect();

    Ok(RunPlan {
        secrets: std::sync::Arc::new(secrets(config, env)),
        project: project_identity(&config.root),
        prices: config.prices.clone(),
        per_day: config.max_cost_per_day,
        per_month: config.max_cost_per_month,
        max_cost: match (args.max_cost, config.max_cost_per_run) {
            (Some(c), _) => Some((c, "--max-cost".into())),
            (None, Some(c)) => Some((c, "budget.max_cost_per_run".into())),
            (None, None) => None,
        },
        suggestion: suggestion.filter(|_| matched == StrategyMatch::Default),
        when: strategy.when.clone(),
        skip: strategy.skip.clone(),
        github_output: env.get("GITHUB_OUTPUT").map(PathBuf::from),
        shared_inputs: strategy.inputs.clone(),
        inputs,
        root: config.root.clone(),
        event,
        strategy: strategy.name.clone(),
        matched,
        execution: match args.execution {
            Some(ExecutionArg::Parallel) => Execution::Parallel,
            Some(ExecutionArg::Sequential) => Execution::Sequential,
            None => strategy.execution.unwrap_or(config.defaults.execution),
        },
        concurrency: args.concurrency.unwrap_or(config.defaults.concurrency) as usize,
        timeout: args.timeout.unwrap_or(config.defaults.timeout),
        stop_on_failure: strategy.stop_on_failure,
        required: strategy
            .required
            .iter()
            .filter(|r| agents.iter().any(|a| &a.agent.id == *r))
            .cloned()
            .collect(),
        config_hash: config_hash(config, &agents),
        agents,
        payload,
        dry_run: args.dry_run,
        cache: (config.cache.enabled && !args.no_cache).then(|| config.cache.clone()),
        fail_on: match args.fail_on {
            FailOn::Block => Some(Action::Block),
            FailOn::RequestChanges => Some(Action::RequestChanges),
            FailOn::ManualReview => Some(Action::ManualReview),
            FailOn::Never => None,
        },
        formats,
        reports_dir: args
            .reports_dir
            .clone()
            .unwrap_or_else(|| crate::config::in_project(&config.root, &config.reports.dir)),
        keep: config.reports.keep,
        metrics_file: args.metrics_file.clone(),
        step_summary: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        providers,
        keys,
    })
}

/// Refuse what would run or fetch the head's code when it is untrusted
/// (`trigger::untrusted_head`): `command` inputs and `fetch = true`.
pub(crate) fn refuse_untrusted(plan: &RunPlan, why: &str) -> Result<()> {
    use crate::config::inputs::InputSource;
    for i in &plan.inputs {
        let what = match &i.source {
            InputSource::Command { .. } => "runs a command",
            InputSource::GitDiff(o) | InputSource::ChangedFiles(o) if o.fetch => {
                "fetches commits from the remote (fetch = true)"
            }
            _ => continue,
        };
        return Err(Error::Usage(format!(
            "input {:?} {what}, and {why}. bsu refuses to run or fetch the pull request's code \
             here; set [github] allow_commands_on_pull_request_target = true only if the workflow \
             checks out trusted code",
            i.name
        )));
    }
    Ok(())
}

/// The run's redaction set: every provider's key, the GitHub token, the
/// webhook URL and the variables of `[secrets] redact`.
pub(crate) fn secrets(config: &Config, env: &Env) -> crate::secrets::Secrets {
    let mut s = crate::secrets::Secrets::default();
    for p in config.providers.values() {
        s.add_var(&p.api_key_env, env.get(&p.api_key_env));
    }
    for name in [config.github.token_env.as_str(), "GITHUB_TOKEN", "GH_TOKEN"] {
        s.add_var(name, env.get(name));
    }
    if let Some(w) = &config.webhook {
        s.add_var(&w.url_env, None);
        if let Some(url) = env.get(&w.url_env) {
            s.add_url(url);
        }
    }
    for name in &config.secret_vars {
        s.add_var(name, env.get(name));
    }
    s
}

/// What identifies a project whatever spelling of its folder ran bsu
/// (`-C p/`, a symlink, `..`): the canonical folder.
pub(crate) fn project_identity(root: &std::path::Path) -> String {
    root.canonicalize()
        .or_else(|_| std::path::absolute(root))
        .unwrap_or_else(|_| root.to_path_buf())
        .display()
        .to_string()
}

/// The strategy closest to `event`, when one is close enough to be a typo of
/// it: an exact name, or a glob whose literal part is near the event's start
/// (`pull_requst` → `pull_request.*`).
fn nearest(strategies: &[crate::config::Strategy], event: &str) -> Option<String> {
    strategies
        .iter()
        .filter(|s| s.name != "default")
        .filter_map(|s| {
            let target = match s.name.split_once('*') {
                Some((prefix, _)) if !prefix.is_empty() => {
                    let cut: String = event.chars().take(prefix.chars().count()).collect();
                    // The event may stop short of the prefix's last separator.
                    let d = strsim::levenshtein(prefix, &cut).min(strsim::levenshtein(
                        prefix.trim_end_matches(['.', '_', '-']),
                        event,
                    ));
                    // A glob's literal part equal to the event still did not match it.
                    (d, prefix.len(), true)
                }
                Some(_) => return None,
                None => (strsim::levenshtein(&s.name, event), s.name.len(), false),
            };
            Some((target.0, target.1, target.2, &s.name))
        })
        .filter(|(d, len, glob, _)| (*d > 0 || *glob) && *d <= (len / 4).max(2))
        .min_by_key(|(d, _, _, _)| *d)
        .map(|(_, _, _, name)| name.clone())
}

/// Why governance keeps `agent` from running here, if it does.
fn governance(
    agent: &Agent,
    context: &str,
    profile: Profile,
    approved: &[String],
) -> Option<String> {
    if let Some(contexts) = &agent.contexts {
        if !contexts.iter().any(|c| c == context) {
            return Some(format!(
                "context {context:?} is not one it may run in ({})",
                contexts.join(", ")
            ));
        }
    }
    if let Some(profiles) = &agent.profiles {
        if !profiles.contains(&profile) {
            let list: Vec<String> = profiles.iter().map(ToString::to_string).collect();
            return Some(format!(
                "profile {profile} is not one it may run under ({})",
                list.join(", ")
            ));
        }
    }
    if agent.approval.required && !approved.contains(&agent.id) {
        let who = if agent.approval.approvers.is_empty() {
            String::new()
        } else {
            format!(" by {}", agent.approval.approvers.join(" or "))
        };
        return Some(format!(
            "requires approval{who}; pass --approve {} to run it",
            agent.id
        ));
    }
    None
}

/// Each provider's key, read now, so a missing one stops the run before anything is sent.
fn keys(
    agents: &[PlannedAgent],
    providers: &BTreeMap<String, Provider>,
    env: &Env,
) -> Result<BTreeMap<String, ApiKey>> {
    let mut keys = BTreeMap::new();
    for provider in providers.values() {
        let users: Vec<&str> = agents
            .iter()
            .filter(|a| a.skip.is_none() && a.agent.provider == provider.name)
            .map(|a| a.agent.id.as_str())
            .collect();
        let fallback_only = users.is_empty()
            && agents
                .iter()
                .any(|a| a.skip.is_none() && a.agent.fallback.contains(&provider.name));
        if fallback_only {
            // A fallback without its key is passed over in the chain, not an error.
            if let Some(key) = env.get(&provider.api_key_env) {
                if crate::client::secret::check_key(key).is_ok() {
                    keys.insert(provider.name.clone(), ApiKey::new(key.to_string()));
                }
            }
            continue;
        }
        if users.is_empty() {
            continue;
        }
        match env.get(&provider.api_key_env) {
            Some(key) => {
                if let Err(why) = crate::client::secret::check_key(key) {
                    return Err(Error::Usage(format!(
                        "{} {why}; provider {:?} needs a clean key for {}. Set it again without \
                         the stray character (e.g. a Windows line ending copied from a file)",
                        provider.api_key_env,
                        provider.name,
                        users.join(", ")
                    )));
                }
                keys.insert(provider.name.clone(), ApiKey::new(key.to_string()));
            }
            None => {
                return Err(Error::Usage(format!(
                    "{} is not set; provider {:?} needs it for {}. Export it, or add --dry-run to \
                     render the prompts without sending anything",
                    provider.api_key_env,
                    provider.name,
                    users.join(", ")
                )))
            }
        }
    }
    Ok(keys)
}

/// SHA-256 of events.toml and of the files of the agents this run selected.
fn config_hash(config: &Config, agents: &[PlannedAgent]) -> String {
    let mut h = Sha256::new();
    h.update(config.sources.events.as_bytes());
    let mut ids: Vec<&str> = agents.iter().map(|a| a.agent.id.as_str()).collect();
    ids.sort_unstable();
    for id in ids {
        h.update(b"\0");
        h.update(id.as_bytes());
        h.update(b"\0");
        h.update(
            config
                .sources
                .agents
                .get(id)
                .map_or(&b""[..], |t| t.as_bytes()),
        );
    }
    hex(&h.finalize())
}
