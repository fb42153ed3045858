//! Which strategy an event runs and which of its agents: typos, `--strict`,
//! `--agent`, `--approve` and governance.

use super::PlannedAgent;
use crate::cli::{ProfileArg, RunArgs};
use crate::config::{strategy, Agent, Config, Profile, StrategyMatch};
use crate::env::Env;
use crate::error::{Error, Result};

/// The strategy `event` runs, or why none may: no match and no default, or
/// a typo under `--strict` / `defaults.unmatched = "error"`.
pub(super) fn resolve_strategy<'c>(
    config: &'c Config,
    args: &RunArgs,
    event: &str,
    suggestion: Option<&str>,
) -> Result<(&'c crate::config::Strategy, StrategyMatch)> {
    let did_you_mean = suggestion
        .map(|s| format!("did you mean {s:?}? "))
        .unwrap_or_default();
    let (strategy, matched) = strategy::resolve(&config.strategies, event).ok_or_else(|| {
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
    Ok((strategy, matched))
}

/// The strategy's agents this run selects (`--agent`), each with why
/// governance skips it, if it does.
pub(super) fn select_agents(
    config: &Config,
    args: &RunArgs,
    strategy: &crate::config::Strategy,
    env: &Env,
) -> Result<Vec<PlannedAgent>> {
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
    Ok(strategy
        .agents
        .iter()
        .filter(|id| args.agents.is_empty() || args.agents.contains(id))
        .filter_map(|id| config.agents.get(id))
        .map(|agent| PlannedAgent {
            skip: governance(agent, &context, profile, &args.approve),
            agent: agent.clone(),
        })
        .collect())
}

/// The strategy closest to `event`, when one is close enough to be a typo of
/// it: an exact name, or a glob whose literal part is near the event's start
/// (`pull_requst` → `pull_request.*`).
pub(super) fn nearest(strategies: &[crate::config::Strategy], event: &str) -> Option<String> {
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
