//! `bsu events` and `bsu agents`: the configuration as tables or JSON.

use std::path::Path;

use serde::Serialize;

use crate::config::strategy::Pattern;
use crate::config::{self, Agent, Execution, StrategyMatch};
use crate::env::Env;
use crate::error::{ExitCode, Result};
use crate::output::{Output, Paint};

/// One strategy as `bsu events --json` prints it.
#[derive(Serialize)]
struct EventJson<'a> {
    name: &'a str,
    #[serde(rename = "match")]
    matches: StrategyMatch,
    description: Option<&'a str>,
    agents: &'a [String],
    /// The effective mode: the event's own, else `defaults.execution`.
    execution: Execution,
    required: &'a [String],
    stop_on_failure: bool,
}

pub(super) fn events(root: &Path, env: &Env, out: &Output, json: bool) -> Result<ExitCode> {
    let config = config::load(root, env)?;
    let rows: Vec<EventJson<'_>> = config
        .strategies
        .iter()
        .map(|s| EventJson {
            name: &s.name,
            matches: match s.pattern {
                Pattern::Exact(_) => StrategyMatch::Exact,
                Pattern::Glob(_) => StrategyMatch::Glob,
                Pattern::Default => StrategyMatch::Default,
            },
            description: s.description.as_deref(),
            agents: &s.agents,
            execution: s.execution.unwrap_or(config.defaults.execution),
            required: &s.required,
            stop_on_failure: s.stop_on_failure,
        })
        .collect();
    if json {
        out.print(&serde_json::to_string_pretty(&rows).expect("plain data serialises"));
        return Ok(ExitCode::Success);
    }
    let mut table = out.table();
    // The description goes under the event's name and required agents are
    // marked in the list: three columns fit 80 without breaking names.
    table.set_header(["event", "execution", "agents"]);
    for r in &rows {
        let mut execution = r.execution.to_string();
        if r.stop_on_failure {
            execution.push_str(" (stop on failure)");
        }
        let event = match r.description {
            Some(d) if !d.is_empty() => format!("{}\n{d}", r.name),
            _ => r.name.to_string(),
        };
        let agents: Vec<String> = r
            .agents
            .iter()
            .map(|a| match r.required.contains(a) {
                true => format!("{a} (required)"),
                false => a.clone(),
            })
            .collect();
        table.add_row([event, execution, agents.join("\n")]);
    }
    out.print_table(table);
    Ok(ExitCode::Success)
}

pub(super) fn agents(
    root: &Path,
    env: &Env,
    out: &Output,
    context: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let config = config::load(root, env)?;
    let agents: Vec<&Agent> = config
        .agents
        .values()
        .filter(|a| match (context, &a.contexts) {
            (Some(c), Some(allowed)) => allowed.iter().any(|x| x == c),
            _ => true,
        })
        .collect();
    if json {
        out.print(&serde_json::to_string_pretty(&agents).expect("plain data serialises"));
        return Ok(ExitCode::Success);
    }
    let mut table = out.table();
    // The name goes under the id: one column fewer keeps the table within
    // 80 columns without breaking ids.
    table.set_header(["agent", "provider/model", "risk", "approval", "contexts"]);
    for a in &agents {
        let approval = if a.approval.required {
            match a.approval.approvers.as_slice() {
                [] => "required".to_string(),
                who => format!("required ({})", who.join(", ")),
            }
        } else {
            "-".to_string()
        };
        table.add_row([
            format!("{}\n{}", a.id, a.name),
            format!("{}/{}", a.provider, a.model),
            a.risk.level.to_string(),
            approval,
            a.contexts
                .as_ref()
                .map_or_else(|| "any".to_string(), |c| c.join(", ")),
        ]);
    }
    out.print_table(table);
    if agents.is_empty() {
        if let Some(c) = context {
            out.note(&out.paint_err(&format!("no agent may run in context {c:?}"), Paint::Dim));
        }
    }
    Ok(ExitCode::Success)
}
