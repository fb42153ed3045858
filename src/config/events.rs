//! Settling `[events.NAME]`: each event's strategy, checked (agents, required
//! agents, schedules, filter globs, inputs), and globs that would tie.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::file::EventsFile;
use super::names::unknown_agent;
use super::settle::{ParsedAgent, Source};
use super::strategy::{globs_overlap, match_order, Pattern, Strategy};
use super::Problem;

pub(super) fn settle_strategies(
    file: &EventsFile,
    src: &Source<'_>,
    agents: &BTreeMap<String, ParsedAgent>,
    broken: Option<&BTreeSet<String>>,
    problems: &mut Vec<Problem>,
) -> Vec<Strategy> {
    if file.events.is_empty() {
        problems.push(Problem::file(
            src.display,
            "defines no events; add at least [events.default] with agents = [\"<agent id>\"]",
        ));
    }
    let mut strategies = Vec::new();
    for (name, ev) in &file.events {
        let event = name.get_ref();
        if event.trim().is_empty() {
            problems.push(src.at(name, "an event name cannot be empty"));
            continue;
        }
        check_event(name, ev, file, src, (agents, broken), problems);
        if let Some(v) = &ev.verify {
            if unknown(v.get_ref(), agents, broken) {
                problems.push(src.at(v, unknown_agent(event, v.get_ref(), agents.keys())));
            }
        }
        let mut required: Vec<String> = ev.required.iter().map(|r| r.get_ref().clone()).collect();
        required.dedup();
        strategies.push(Strategy {
            name: event.clone(),
            pattern: Pattern::parse(event),
            description: ev.description.clone(),
            agents: ev
                .agents
                .get_ref()
                .iter()
                .map(|a| a.get_ref().clone())
                .collect(),
            execution: ev.execution,
            prime_cache: ev.prime_cache,
            required,
            stop_on_failure: ev.stop_on_failure,
            inputs: ev.inputs.iter().map(|i| i.get_ref().clone()).collect(),
            schedule: ev
                .schedule
                .iter()
                .map(|c| c.get_ref().trim().to_string())
                .collect(),
            when: ev.when.clone(),
            skip: ev.skip.clone(),
            check_name: ev
                .check_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map_or_else(
                    || format!("bsu / {event}"),
                    |n| crate::text::one_line(n, 100),
                ),
            payload: ev.payload.unwrap_or_default(),
            verify: ev.verify.as_ref().map(|v| v.get_ref().clone()),
            noise: Default::default(),
        });
    }

    check_glob_overlaps(file, src, problems);
    strategies.sort_by(match_order);
    strategies
}

/// One `[events.NAME]`'s problems: no agents, a repeated or unknown agent, a
/// required agent it does not run, a bad cron entry or filter glob, unknown inputs.
/// Is `id` no agent of `agents/`? Never when `agents/` was not found (said
/// once, not for every name), nor for a file that did not parse (its own
/// problem says why).
fn unknown(
    id: &str,
    agents: &BTreeMap<String, ParsedAgent>,
    broken: Option<&BTreeSet<String>>,
) -> bool {
    broken.is_some_and(|broken| !agents.contains_key(id) && !broken.contains(id))
}

fn check_event(
    name: &Spanned<String>,
    ev: &super::file::EventFile,
    file: &EventsFile,
    src: &Source<'_>,
    (agents, broken): (&BTreeMap<String, ParsedAgent>, Option<&BTreeSet<String>>),
    problems: &mut Vec<Problem>,
) {
    let event = name.get_ref();
    if ev.agents.get_ref().is_empty() {
        problems.push(src.at(
            &ev.agents,
            format!("event {event:?} runs no agents; list at least one agent id"),
        ));
    }
    let mut seen = BTreeSet::new();
    for agent in ev.agents.get_ref() {
        let id = agent.get_ref();
        if !seen.insert(id.as_str()) {
            problems.push(src.at(
                agent,
                format!("event {event:?} lists agent {id:?} twice; remove one"),
            ));
        } else if unknown(id, agents, broken) {
            problems.push(src.at(agent, unknown_agent(event, id, agents.keys())));
        }
    }
    for req in &ev.required {
        if !seen.contains(req.get_ref().as_str()) {
            problems.push(src.at(
                req,
                format!(
                    "required agent {:?} is not one of the agents event {event:?} runs; \
                     add it to agents or remove it from required",
                    req.get_ref()
                ),
            ));
        }
    }
    for cron in &ev.schedule {
        if !super::triggers::is_cron(cron.get_ref()) {
            problems.push(src.at(
                cron,
                format!(
                    "schedule {:?} is not a cron expression of five fields, as in the \
                     workflow's `on.schedule` (e.g. \"0 6 * * 1\")",
                    cron.get_ref()
                ),
            ));
        }
    }
    for g in ev.when.paths.iter().chain(&ev.when.base_branches) {
        if globset::Glob::new(g).is_err() {
            problems.push(src.at(
                name,
                format!("event {event:?}: filter glob {g:?} is not valid"),
            ));
        }
    }
    super::inputs::check_names(
        &ev.inputs,
        &file.inputs,
        &format!("event {event:?}"),
        src,
        problems,
    );
}

/// Two globs of one length that can match the same name would make the
/// winner depend on ordering, so they are rejected.
fn check_glob_overlaps(file: &EventsFile, src: &Source<'_>, problems: &mut Vec<Problem>) {
    let globs: Vec<&Spanned<String>> = file
        .events
        .keys()
        .filter(|k| matches!(Pattern::parse(k.get_ref()), Pattern::Glob(_)))
        .collect();
    for (i, a) in globs.iter().enumerate() {
        for b in &globs[i + 1..] {
            let (x, y) = (a.get_ref(), b.get_ref());
            if x.chars().count() == y.chars().count() && globs_overlap(x, y) {
                problems.push(src.at(
                    b,
                    format!(
                        "globs {x:?} and {y:?} are the same length and can match the same event, \
                         so neither takes precedence; make one longer or more specific, or add an \
                         exact event for the names both match"
                    ),
                ));
            }
        }
    }
}
