//! Settling `agents/<id>.toml`: each agent against its provider, with its
//! model, limits (the environment, the agent, its provider, `[defaults]`),
//! inputs and fallbacks checked, each problem at its line.

use std::collections::BTreeMap;
use std::path::Path;

use super::file::{AgentFile, EventsFile};
use super::names::{list, unknown_provider};
use super::settle::{ParsedAgent, Source};
use super::{Agent, Approval, Defaults, Problem, Provider, ProviderKind, Risk};
use crate::env::Env;

/// An agent's context window and reply limit, first found: the
/// environment (OpenAI-compatible providers), the agent, its provider, then
/// `[defaults]`; `None`: built in (the model's window, 4,096).
fn limits(a: &AgentFile, provider: &Provider, defaults: &Defaults) -> (Option<u32>, Option<u32>) {
    let openai_env = |v: Option<u32>| v.filter(|_| provider.kind == ProviderKind::Openai);
    (
        openai_env(defaults.env_context_window)
            .or(a.context_window.map(|n| n.get()))
            .or(provider.context_window)
            .or(defaults.context_window),
        openai_env(defaults.env_max_tokens)
            .or(a.max_tokens.map(|n| n.get()))
            .or(provider.max_tokens)
            .or(defaults.max_tokens),
    )
}

/// Each agent's `inputs` name inputs declared in events.toml.
pub(super) fn check_agent_inputs(
    agents: &BTreeMap<String, ParsedAgent>,
    file: &EventsFile,
    problems: &mut Vec<Problem>,
) {
    for parsed in agents.values() {
        let asrc = Source {
            display: &parsed.display,
            text: &parsed.text,
        };
        super::inputs::check_names(
            &parsed.file.inputs,
            &file.inputs,
            "this agent",
            &asrc,
            problems,
        );
    }
}

/// Every agent file, checked and settled against the providers.
pub(super) fn settle_agents(
    root: &Path,
    agents: &BTreeMap<String, ParsedAgent>,
    defaults: &Defaults,
    providers: &BTreeMap<String, Provider>,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Agent> {
    let mut settled = BTreeMap::new();
    for (id, parsed) in agents {
        check_agent_values(root, parsed, problems);
        // No provider named here, and none to default to.
        if parsed.file.provider.is_none() && defaults.provider.is_empty() {
            problems.push(Problem::file(
                &parsed.display,
                format!(
                    "names no provider, and events.toml has no defaults.provider and no provider \
                     named \"openai\"; set provider to one of: {}",
                    list(providers.keys())
                ),
            ));
            continue;
        }
        if let Some(agent) = settle_agent(id, parsed, defaults, providers, env, problems) {
            settled.insert(id.clone(), agent);
        }
    }
    settled
}

/// Checks of one agent file that need nothing from events.toml.
pub(super) fn check_agent_values(root: &Path, parsed: &ParsedAgent, problems: &mut Vec<Problem>) {
    let src = Source {
        display: &parsed.display,
        text: &parsed.text,
    };
    let a = &parsed.file;
    if let Some(t) = &a.temperature {
        if !(0.0..=2.0).contains(t.get_ref()) {
            problems.push(src.at(t, "temperature must be between 0 and 2"));
        }
    }
    for k in &a.knowledge {
        if let Err(why) = super::knowledge_path(root, k.get_ref()) {
            problems.push(src.at(k, why.to_string()));
        }
    }
    if a.instructions.trim().is_empty() {
        problems.push(Problem::file(
            &parsed.display,
            "instructions are empty; write the system prompt the agent should follow",
        ));
    }
}

fn settle_agent(
    id: &str,
    parsed: &ParsedAgent,
    defaults: &Defaults,
    providers: &BTreeMap<String, Provider>,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> Option<Agent> {
    let a = &parsed.file;
    let src = Source {
        display: &parsed.display,
        text: &parsed.text,
    };
    let provider_name = a
        .provider
        .as_ref()
        .map_or(defaults.provider.as_str(), |p| p.get_ref().as_str());
    let Some(provider) = providers.get(provider_name) else {
        if let Some(p) = &a.provider {
            problems.push(src.at(p, unknown_provider(p.get_ref(), providers.keys())));
        }
        // An unknown defaults.provider is reported once, at events.toml.
        return None;
    };
    // BSU_MODEL wins over an agent's own model for OpenAI-compatible
    // providers: it is how a user points every agent at the model a local or
    // alternative server offers.
    let limits = limits(a, provider, defaults);
    let model = match (env.get("BSU_MODEL"), provider.kind) {
        (Some(m), ProviderKind::Openai) => m.to_string(),
        _ => a.model.clone().unwrap_or_else(|| provider.model.clone()),
    };
    Some(Agent {
        id: id.to_string(),
        name: a.name.clone(),
        description: a.description.clone(),
        role: a.role.clone(),
        instructions: a.instructions.clone(),
        provider: provider_name.to_string(),
        model,
        temperature: a.temperature.as_ref().map(|t| *t.get_ref()),
        max_tokens: limits.1,
        timeout: a.timeout.map_or(defaults.agent_timeout, |d| d.0),
        actions: a.actions.clone(),
        contexts: a.contexts.clone(),
        profiles: a.profiles.clone(),
        knowledge: a.knowledge.iter().map(|k| k.get_ref().clone()).collect(),
        inputs: a.inputs.iter().map(|k| k.get_ref().clone()).collect(),
        max_batches: a.max_batches.map(|n| n.get()),
        context_window: limits.0,
        fallback: match &a.fallback {
            Some(list) => {
                for f in list {
                    if !providers.contains_key(f.get_ref()) {
                        problems.push(src.at(f, unknown_provider(f.get_ref(), providers.keys())));
                    } else if f.get_ref() == provider_name {
                        problems.push(src.at(f, "a fallback cannot be the agent's own provider"));
                    }
                }
                list.iter().map(|f| f.get_ref().clone()).collect()
            }
            None => provider.fallback.clone(),
        },
        risk: Risk {
            level: a.risk.level,
            rationale: a.risk.rationale.clone(),
        },
        approval: Approval {
            required: a.approval.required,
            approvers: a.approval.approvers.clone(),
        },
    })
}
