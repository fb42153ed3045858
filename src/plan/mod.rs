//! From the command line and the configuration to a validated run plan: the
//! strategy, the agents selected and why any are skipped, limits, report
//! settings and the keys the run needs. Everything that can make a run exit
//! 2 is decided here, before anything is sent.

mod select;
mod trust;

use select::{nearest, resolve_strategy, select_agents};
pub(crate) use trust::{identity_for_state, refuse_untrusted, secrets};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{ExecutionArg, FailOn, FormatArg, RunArgs};
use crate::client::ApiKey;
use crate::config::inputs::InputSpec;
use crate::config::{
    Agent, CacheSettings, Config, Execution, Provider, ReportFormat, StrategyMatch,
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

/// One run's plan, in parts a test can build apart: what runs, its limits,
/// where its results go, its cost policy and its filters.
#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    pub root: PathBuf,
    /// The project's identity for budgets, locks and history: its canonical folder.
    pub project: String,
    pub event: String,
    pub strategy: String,
    /// The check run's name, stable across a pull request's actions.
    pub check_name: String,
    /// What of the payload the prompts carry.
    pub payload_view: crate::config::PayloadView,
    /// The strategy's verifier agent (`verify`), with its provider among
    /// `providers` and its key among `keys`.
    pub verifier: Option<Agent>,
    /// `bsu eval --judge`'s agent, read like the verifier.
    pub judge: Option<Agent>,
    /// The strategy's noise budget (what goes inline).
    pub noise: crate::config::publish::Noise,
    pub matched: StrategyMatch,
    /// A strategy the event name is probably a typo of, when it fell to the default.
    pub suggestion: Option<String>,
    pub required: Vec<String>,
    pub agents: Vec<PlannedAgent>,
    pub payload: Value,
    pub dry_run: bool,
    pub providers: BTreeMap<String, Provider>,
    /// Keys of the providers the run calls; empty in a dry run.
    pub keys: BTreeMap<String, ApiKey>,
    /// Providers that could serve a call: those with a key (in a dry run,
    /// whose key variable is set; its value is not read into the plan).
    pub servable: std::collections::BTreeSet<String>,
    pub config_hash: String,
    /// The event's inputs: the shared part of every agent's prompt.
    pub shared_inputs: Vec<String>,
    /// Every input the running agents read, shared ones first.
    pub inputs: Vec<InputSpec>,
    /// Every secret the run knows (CONTRACT.md, "Secrets").
    pub secrets: std::sync::Arc<crate::secrets::Secrets>,
    pub limits: Limits,
    pub outputs: Outputs,
    pub cost: CostPolicy,
    pub filters: Triggers,
}

/// How the agents are run, and within what.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub execution: Execution,
    pub concurrency: usize,
    pub timeout: Duration,
    pub stop_on_failure: bool,
    /// Send one agent first when the others share its prompt prefix.
    pub prime_cache: bool,
    /// `None`: the response cache is off for this run.
    pub cache: Option<CacheSettings>,
}

/// Where the report files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportsDir {
    /// `[reports] dir`, which the change itself can edit: a folder of the
    /// project, written only through real folders (`project_file::folder`).
    Project { root: PathBuf, rel: String },
    /// `--reports-dir` / `BSU_REPORTS_DIR`: the caller's, used as given.
    Given(PathBuf),
}

impl ReportsDir {
    /// The folder the reports go to (the project's, `rel` having no `..`,
    /// is the folder `project_file::folder` checks).
    pub(crate) fn path(&self) -> PathBuf {
        match self {
            ReportsDir::Project { root, rel } => crate::config::in_project(root, Path::new(rel)),
            ReportsDir::Given(p) => p.clone(),
        }
    }

    /// Refuse a project folder that is a symlink or lies behind one, before
    /// anything is sent (written again by the same rule).
    fn check(&self) -> Result<()> {
        match self {
            ReportsDir::Project { root, rel } => crate::project_file::folder(root, rel, false)
                .map(drop)
                .map_err(|why| Error::Usage(refused(&self.path(), &why))),
            ReportsDir::Given(_) => Ok(()),
        }
    }
}

/// Why the project's reports folder is not written into, and what to do.
pub(crate) fn refused(shown: &Path, why: &crate::project_file::NotRead) -> String {
    use crate::project_file::NotRead;
    let fix = match why {
        NotRead::Symlink | NotRead::BehindSymlink(_) => "remove the link",
        NotRead::NotFolder | NotRead::BelowFile => "move the file away",
        _ => "fix [reports] dir",
    };
    // The names are the pull request's: on one line, so none can forge a
    // line of the log (a CI workflow command).
    crate::text::one_line(
        &format!(
            "the reports folder {} {why}: bsu writes reports only into real folders inside \
             the project; {fix}, or give --reports-dir DIR",
            shown.display()
        ),
        4096,
    )
}

/// Where a run's results go, and when it fails the job.
#[derive(Debug, Clone)]
pub(crate) struct Outputs {
    /// `None`: never exit 3.
    pub fail_on: Option<Action>,
    pub formats: Vec<ReportFormat>,
    pub reports_dir: ReportsDir,
    pub keep: u32,
    pub metrics_file: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`, inside GitHub Actions.
    pub github_output: Option<PathBuf>,
}

/// What the run may cost.
#[derive(Debug, Clone)]
pub(crate) struct CostPolicy {
    pub prices: crate::prices::PriceBook,
    /// The cap on the projected cost, USD, and where it comes from.
    pub max_cost: Option<(f64, String)>,
    /// `[budget] max_cost_per_day` and `max_cost_per_month`, USD.
    pub per_day: Option<f64>,
    pub per_month: Option<f64>,
}

/// The strategy's filters: run only `when` they hold, `skip` when they do.
#[derive(Debug, Clone)]
pub(crate) struct Triggers {
    pub when: crate::config::triggers::Filters,
    pub skip: crate::config::triggers::Filters,
}

pub(crate) fn plan(
    config: &Config,
    args: &RunArgs,
    payload: Value,
    event: String,
    env: &Env,
) -> Result<RunPlan> {
    let suggestion = nearest(&config.strategies, &event);
    let (strategy, matched) = resolve_strategy(config, args, &event, suggestion.as_deref())?;
    let agents = select_agents(config, args, strategy, env)?;
    let verifier = strategy
        .verify
        .as_ref()
        .and_then(|id| config.agents.get(id))
        .cloned();
    let judge = judge(config, args)?;
    let providers: BTreeMap<String, Provider> = agents
        .iter()
        .flat_map(|p| std::iter::once(&p.agent.provider).chain(&p.agent.fallback))
        .chain(verifier.as_ref().map(|v| &v.provider))
        .chain(judge.as_ref().map(|v| &v.provider))
        .filter_map(|name| config.providers.get(name))
        .map(|p| (p.name.clone(), p.clone()))
        .collect();
    let (mut keys, servable) = keys_and_servable(args, &agents, &providers, env)?;
    for extra in [&verifier, &judge] {
        if let Some(p) = extra.as_ref().and_then(|v| providers.get(&v.provider)) {
            verifier_key(&mut keys, p, args, env);
        }
    }
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
    let outputs = outputs(config, args, env);
    outputs.reports_dir.check()?;
    Ok(RunPlan {
        secrets: std::sync::Arc::new(secrets(config, env)),
        project: identity_for_state(&config.root, env, config.state.url.is_some()),
        suggestion: suggestion.filter(|_| matched == StrategyMatch::Default),
        shared_inputs: strategy.inputs.clone(),
        inputs,
        root: config.root.clone(),
        event,
        strategy: strategy.name.clone(),
        check_name: strategy.check_name.clone(),
        payload_view: strategy.payload,
        verifier,
        judge,
        noise: strategy.noise,
        matched,
        required: strategy
            .required
            .iter()
            .filter(|r| agents.iter().any(|a| &a.agent.id == *r))
            .cloned()
            .collect(),
        config_hash: config_hash(config, &agents),
        servable,
        agents,
        payload,
        dry_run: args.dry_run,
        providers,
        keys,
        limits: limits(config, args, strategy),
        outputs,
        cost: cost_policy(config, args),
        filters: Triggers {
            when: strategy.when.clone(),
            skip: strategy.skip.clone(),
        },
    })
}

fn limits(config: &Config, args: &RunArgs, strategy: &crate::config::Strategy) -> Limits {
    Limits {
        execution: match args.execution {
            Some(ExecutionArg::Parallel) => Execution::Parallel,
            Some(ExecutionArg::Sequential) => Execution::Sequential,
            None => strategy.execution.unwrap_or(config.defaults.execution),
        },
        concurrency: args.concurrency.unwrap_or(config.defaults.concurrency) as usize,
        timeout: args.timeout.unwrap_or(config.defaults.timeout),
        stop_on_failure: strategy.stop_on_failure,
        prime_cache: strategy.prime_cache.unwrap_or(config.defaults.prime_cache)
            == crate::config::PrimeCache::Auto,
        cache: (config.cache.enabled && !args.no_cache).then(|| config.cache.clone()),
    }
}

fn outputs(config: &Config, args: &RunArgs, env: &Env) -> Outputs {
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
                FormatArg::Patch => ReportFormat::Patch,
                FormatArg::Codequality => ReportFormat::Codequality,
            };
            if !f.contains(&format) {
                f.push(format);
            }
        }
        f
    };
    Outputs {
        fail_on: match args.fail_on {
            FailOn::Block => Some(Action::Block),
            FailOn::RequestChanges => Some(Action::RequestChanges),
            FailOn::ManualReview => Some(Action::ManualReview),
            FailOn::Never => None,
        },
        formats,
        reports_dir: match &args.reports_dir {
            Some(dir) => ReportsDir::Given(dir.clone()),
            None => ReportsDir::Project {
                root: config.root.clone(),
                rel: config.reports.dir.clone(),
            },
        },
        keep: config.reports.keep,
        metrics_file: args.metrics_file.clone(),
        step_summary: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        github_output: env.get("GITHUB_OUTPUT").map(PathBuf::from),
    }
}

/// A replay sends nothing and spends nothing: no cap or budget applies to it
/// (the example's replay works whatever model `BSU_MODEL` names).
fn cost_policy(config: &Config, args: &RunArgs) -> CostPolicy {
    if args.replay.is_some() {
        return CostPolicy {
            prices: config.prices.clone(),
            max_cost: None,
            per_day: None,
            per_month: None,
        };
    }
    CostPolicy {
        prices: config.prices.clone(),
        max_cost: match (args.max_cost, config.max_cost_per_run) {
            (Some(c), _) => Some((c, "--max-cost".into())),
            (None, Some(c)) => Some((c, "budget.max_cost_per_run".into())),
            (None, None) => None,
        },
        per_day: config.max_cost_per_day,
        per_month: config.max_cost_per_month,
    }
}

/// The keys the run sends with (none in a dry run, placeholders in a
/// replay), and the providers that could serve a call: those with a key,
/// or in a dry run, whose key variable is set (its value is not read).
fn keys_and_servable(
    args: &RunArgs,
    agents: &[PlannedAgent],
    providers: &BTreeMap<String, Provider>,
    env: &Env,
) -> Result<(BTreeMap<String, ApiKey>, std::collections::BTreeSet<String>)> {
    let keys = if args.dry_run {
        BTreeMap::new()
    } else if args.replay.is_some() {
        // A replay sends nothing: no key is read, a placeholder stands in.
        providers
            .keys()
            .map(|p| (p.clone(), ApiKey::new("replay".into())))
            .collect()
    } else {
        keys(agents, providers, env)?
    };
    let servable = providers
        .values()
        .filter(|p| {
            keys.contains_key(&p.name)
                || (args.dry_run
                    && env
                        .get(&p.api_key_env)
                        .is_some_and(|k| !k.trim().is_empty()))
        })
        .map(|p| p.name.clone())
        .collect();
    Ok((keys, servable))
}

/// `bsu eval --judge`'s agent: any agent of the project.
fn judge(config: &Config, args: &RunArgs) -> Result<Option<Agent>> {
    let Some(id) = &args.judge else {
        return Ok(None);
    };
    config.agents.get(id).cloned().map(Some).ok_or_else(|| {
        Error::Usage(format!(
            "--judge {id:?}: no such agent; the judge is one of agents/*.toml (`bsu agents` lists them)"
        ))
    })
}

/// The verifier's key is read like a fallback's: without it, no verifying.
fn verifier_key(keys: &mut BTreeMap<String, ApiKey>, p: &Provider, args: &RunArgs, env: &Env) {
    if args.dry_run || keys.contains_key(&p.name) {
        return;
    }
    if let Some(key) = env.get(&p.api_key_env) {
        if crate::client::secret::check_key(key).is_ok() {
            keys.insert(p.name.clone(), ApiKey::new(key.to_string()));
        }
    }
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
