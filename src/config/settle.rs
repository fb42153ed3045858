//! From parsed files to a settled `Config`: defaults, environment overrides,
//! and every cross-file check (an event naming a missing agent, an agent
//! naming a missing provider, ambiguous globs, ...), each reported with the
//! line and column of the offending value.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::agents::{check_agent_inputs, check_agent_values, settle_agents};
use super::file::{AgentFile, EventsFile};
use super::load::shown;
use super::names::unknown_provider;
use super::providers::settle_providers;
use super::{
    CacheSettings, Config, Defaults, Problem, Provider, ReportFormat, ReportSettings, Sources,
};
use crate::env::Env;

/// An agent file that parsed, with what is needed to point into it.
#[derive(Debug)]
pub(super) struct ParsedAgent {
    pub file: AgentFile,
    pub text: String,
    pub display: String,
}

/// What `agents/` held: the files that parsed, by id, and the ids of those
/// that did not (each with a problem of its own: an event naming one is not
/// told that it does not exist).
#[derive(Debug, Default)]
pub(super) struct AgentsRead {
    pub parsed: BTreeMap<String, ParsedAgent>,
    pub broken: std::collections::BTreeSet<String>,
}

/// Where a problem was found, so checks can point at spans in it.
pub(super) struct Source<'a> {
    pub display: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub(super) fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> Problem {
        Problem::at(self.display, self.text, value.span(), message)
    }
}

pub(super) fn settle(
    root: &Path,
    events: Option<(EventsFile, String)>,
    agents: Option<AgentsRead>,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> Option<Config> {
    let (agents, broken) = match agents {
        Some(read) => (read.parsed, Some(read.broken)),
        None => (BTreeMap::new(), None),
    };
    let Some((file, events_text)) = events else {
        // Without events.toml there are no providers to check agents against,
        // but each agent's own values can still be checked.
        for parsed in agents.values() {
            check_agent_values(root, parsed, problems);
        }
        return None;
    };
    let events_display = shown(root, "events.toml");
    let src = Source {
        display: &events_display,
        text: &events_text,
    };

    let providers = settle_providers(&file, &src, env, problems);
    check_fallbacks(&file, &src, &providers, problems);
    let default_provider = default_provider(&file, &src, &providers, problems);
    let mut defaults = defaults(&file, default_provider.as_deref());
    env_limits(&mut defaults, env, problems);
    let settled_agents = settle_agents(root, &agents, &defaults, &providers, env, problems);

    let mut strategies =
        super::events::settle_strategies(&file, &src, &agents, broken.as_ref(), problems);
    let inputs = super::inputs::settle_inputs(&file.inputs, &src, problems);
    let (github, gitlab, webhook) = publishing(&file, &src, problems);
    strategies_noise(&mut strategies, &file, github.noise, &src, problems);
    let triggers = settle_triggers(&file, &src, problems);
    let (prices, max_cost_per_run) = settle_budget(root, &file, &src, problems);
    check_agent_inputs(&agents, &file, problems);

    let (cache, reports) = cache_and_reports(&file, &src, problems);
    // Settled before the check below, so its problems count.
    let secret_vars = settle_secrets(&file, &src, problems);
    let state = super::state::settle_state(file.state.as_ref(), &src, env, problems);
    if !problems.is_empty() {
        return None;
    }
    Some(Config {
        root: root.to_path_buf(),
        defaults,
        providers,
        cache,
        reports,
        strategies,
        agents: settled_agents,
        inputs,
        github,
        gitlab,
        webhook,
        prices,
        max_cost_per_run,
        max_cost_per_day: file.budget.as_ref().and_then(|b| b.max_cost_per_day),
        max_cost_per_month: file.budget.as_ref().and_then(|b| b.max_cost_per_month),
        triggers,
        secret_vars,
        state,
        sources: Sources {
            events: events_text,
            agents: agents
                .iter()
                .map(|(id, p)| (id.clone(), p.text.clone()))
                .collect(),
        },
    })
}

/// `BSU_CONTEXT_WINDOW` and `BSU_MAX_TOKENS`, over every agent's.
fn env_limits(defaults: &mut Defaults, env: &Env, problems: &mut Vec<Problem>) {
    defaults.env_context_window = super::providers::env_count(
        env,
        "BSU_CONTEXT_WINDOW",
        crate::bounds::MAX_CONTEXT_WINDOW,
        problems,
    );
    defaults.env_max_tokens =
        super::providers::env_count(env, "BSU_MAX_TOKENS", 10_000_000, problems);
}

/// `[publish]`: GitHub, GitLab and the webhook.
fn publishing(
    file: &EventsFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> (
    super::publish::GithubSettings,
    super::publish::GitlabSettings,
    Option<super::publish::WebhookSettings>,
) {
    let p = file.publish.as_ref();
    (
        super::publish::settle_publish(p, src, problems),
        super::publish::settle_gitlab(p, src, problems),
        super::publish::settle_webhook(p, src, problems),
    )
}

/// Each strategy's noise budget: its own keys over `[publish]`'s.
fn strategies_noise(
    strategies: &mut [super::Strategy],
    file: &EventsFile,
    base: super::publish::Noise,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) {
    for s in strategies {
        s.noise = strategy_noise(file, &s.name, base, src, problems);
    }
}

/// A strategy's noise budget: its own keys over `[publish]`'s.
fn strategy_noise(
    file: &EventsFile,
    name: &str,
    base: super::publish::Noise,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> super::publish::Noise {
    let Some(ev) = file
        .events
        .iter()
        .find(|(k, _)| k.get_ref() == name)
        .map(|(_, e)| e)
    else {
        return base;
    };
    let written = super::publish::NoiseWritten {
        min_severity: ev.inline_min_severity,
        max_inline: ev.max_inline_comments,
        min_agents: ev.min_agents,
        min_confidence: ev.min_confidence,
    };
    written.over(base, &format!("[events.{name:?}]"), src, problems)
}

/// `[triggers]`, or the same table under its old name `[github]` (not both:
/// which would win is not obvious, so neither does).
fn settle_triggers(
    file: &EventsFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> super::triggers::Triggers {
    match (&file.triggers, &file.github) {
        (Some(_), Some(old)) => {
            problems.push(src.at(
                old,
                "[github] is the old name of [triggers] and both are set; move these keys \
                 into [triggers] and delete [github]",
            ));
            super::triggers::settle(None)
        }
        (t, old) => super::triggers::settle(t.as_ref().or(old.as_ref().map(|o| o.get_ref()))),
    }
}

/// Each provider's `fallback` names another provider, never itself.
fn check_fallbacks(
    file: &EventsFile,
    src: &Source<'_>,
    providers: &BTreeMap<String, Provider>,
    problems: &mut Vec<Problem>,
) {
    for (name, pf) in file.providers.iter().flatten() {
        for f in pf.fallback.iter().flatten() {
            if f.get_ref() == name.get_ref() {
                problems.push(src.at(f, "a provider cannot fall back to itself"));
            } else if !providers.contains_key(f.get_ref()) {
                problems.push(src.at(f, unknown_provider(f.get_ref(), providers.keys())));
            }
        }
    }
}

/// Agents that name no provider use defaults.provider, else "openai", else
/// the only provider there is. Whether that is a problem is decided per agent.
fn default_provider(
    file: &EventsFile,
    src: &Source<'_>,
    providers: &BTreeMap<String, Provider>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match &file.defaults.provider {
        Some(p) => {
            if !providers.contains_key(p.get_ref()) {
                problems.push(src.at(p, unknown_provider(p.get_ref(), providers.keys())));
            }
            Some(p.get_ref().clone())
        }
        None if providers.contains_key("openai") => Some("openai".to_string()),
        None if providers.len() == 1 => providers.keys().next().cloned(),
        None => None,
    }
}

fn defaults(file: &EventsFile, default_provider: Option<&str>) -> Defaults {
    Defaults {
        provider: default_provider.unwrap_or_default().to_string(),
        execution: file.defaults.execution.unwrap_or_default(),
        concurrency: file.defaults.concurrency.map_or(8, |n| n.get()),
        timeout: file
            .defaults
            .timeout
            .map_or(Duration::from_secs(600), |d| d.0),
        agent_timeout: file
            .defaults
            .agent_timeout
            .map_or(Duration::from_secs(300), |d| d.0),
        if_running: file.defaults.if_running.unwrap_or_default(),
        unmatched: file.defaults.unmatched.unwrap_or_default(),
        context_window: file.defaults.context_window.map(|n| n.get()),
        max_tokens: file.defaults.max_tokens.map(|n| n.get()),
        env_context_window: None,
        env_max_tokens: None,
        prime_cache: file.defaults.prime_cache.unwrap_or_default(),
    }
}

fn cache_and_reports(
    file: &EventsFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> (CacheSettings, ReportSettings) {
    let cache = CacheSettings {
        enabled: file.cache.enabled.unwrap_or(true),
        ttl: file.cache.ttl.map_or(Duration::from_secs(86_400), |d| d.0),
        max_bytes: file.cache.max_bytes.unwrap_or(100 * 1024 * 1024),
    };
    let reports = ReportSettings {
        dir: match &file.reports.dir {
            None => "reports".into(),
            Some(dir) => {
                let d = dir.get_ref();
                // A pull request edits this file: its reports stay in the
                // project, and the path kept is worked out by name, so no
                // `link/..` is ever left for the file system to resolve.
                match crate::project_file::inside(Path::new(""), d) {
                    Ok(by_name) => by_name.to_string_lossy().into_owned(),
                    Err(crate::project_file::NotRead::Root) => ".".into(),
                    Err(why) => {
                        problems.push(src.at(
                            dir,
                            format!(
                                "[reports] dir {d:?} {why}; reports go to a folder inside the \
                             project (such as \"reports\"), or anywhere with --reports-dir / \
                             BSU_REPORTS_DIR"
                            ),
                        ));
                        d.clone()
                    }
                }
            }
        },
        formats: dedup(
            file.reports
                .formats
                .clone()
                .unwrap_or_else(|| vec![ReportFormat::Json, ReportFormat::Md]),
        ),
        keep: file.reports.keep.unwrap_or(0),
    };
    (cache, reports)
}

/// `[secrets] redact`: names of environment variables.
fn settle_secrets(file: &EventsFile, src: &Source<'_>, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut out = Vec::new();
    for name in file.secrets.iter().flat_map(|s| &s.redact) {
        let n = name.get_ref();
        let valid = n
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            out.push(n.clone());
        } else {
            problems.push(src.at(
                name,
                format!(
                    "[secrets] redact: {n:?} is not the name of an environment variable; \
                     write names like \"DEPLOY_TOKEN\", never the secret itself"
                ),
            ));
        }
    }
    out
}

/// `[prices]` and `[budget]`: prices must be finite and not negative, the cap
/// above zero, the pricing file a LiteLLM price file inside the project.
fn settle_budget(
    root: &Path,
    file: &EventsFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> (crate::prices::PriceBook, Option<f64>) {
    let ok = |x: f64| x.is_finite() && (0.0..=1e6).contains(&x);
    for (model, spanned) in &file.prices {
        let p = spanned.get_ref();
        let all = [Some(p.input), Some(p.output), p.cached_input, p.cache_write];
        if !all.into_iter().flatten().all(ok) {
            problems.push(src.at(
                spanned,
                format!("[prices.{model:?}]: prices are USD per million tokens, from 0 to 1000000; e.g. input = 0.15, output = 0.60"),
            ));
        }
    }
    let budget = file.budget.as_ref();
    let cap = budget.and_then(|b| b.max_cost_per_run);
    for (key, v) in [
        ("max_cost_per_run", cap),
        ("max_cost_per_day", budget.and_then(|b| b.max_cost_per_day)),
        (
            "max_cost_per_month",
            budget.and_then(|b| b.max_cost_per_month),
        ),
    ] {
        if let Some(c) = v {
            if !(c.is_finite() && c > 0.0) {
                problems.push(Problem::file(
                    src.display,
                    format!("[budget] {key} = {c} must be a positive number of USD"),
                ));
            }
        }
    }
    let mut from_file = BTreeMap::new();
    if let Some(pf) = budget.and_then(|b| b.pricing_file.as_ref()) {
        // Read by the reading rule, as knowledge is: checked, then opened
        // without following a link and read up to its cap.
        match super::read_knowledge(root, pf.get_ref())
            .map_err(|e| e.to_string())
            .and_then(|t| crate::prices::read_litellm(&t).map_err(|e| e.to_string()))
        {
            Ok(m) => from_file = m,
            Err(e) => problems.push(src.at(
                pf,
                format!(
                    "pricing_file {:?}: {}",
                    pf.get_ref(),
                    e.replace("knowledge file", "file")
                ),
            )),
        }
    }
    (
        crate::prices::PriceBook::new(
            file.prices
                .iter()
                .map(|(m, p)| (m.clone(), *p.get_ref()))
                .collect(),
            from_file,
        ),
        cap,
    )
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
