//! `bsu check`: every configuration problem, one per line, and a summary.

use std::path::Path;

use serde::Serialize;

use crate::config::{self, Problem};
use crate::env::Env;
use crate::error::{ExitCode, Result};
use crate::output::{Output, Paint};

/// The `--json` shape of CONTRACT.md / issue "Foundation".
#[derive(Serialize)]
struct CheckJson<'a> {
    ok: bool,
    problems: &'a [Problem],
    /// Valid, but not doing what it looks meant to (the exit code stays 0).
    warnings: &'a [String],
    events: usize,
    agents: usize,
}

pub(super) fn check(root: &Path, env: &Env, out: &Output, json: bool) -> Result<ExitCode> {
    let mut found = config::inspect(root, env);
    if let Some(c) = &found.config {
        let agents_dir = config::shown(root, "agents");
        found.problems.extend(
            no_room(c)
                .into_iter()
                .map(|(id, why)| Problem::file(format!("{agents_dir}/{id}.toml"), why)),
        );
    }
    // The eval cases, when the project has them.
    let shown = config::shown(root, "evals");
    match crate::evaluate::case::project_cases(root, &shown) {
        Ok(Some(evals)) => {
            if let Err(problems) = crate::evaluate::case::load(&evals, &shown) {
                found.problems.extend(problems);
            }
        }
        Ok(None) => {}
        Err(problem) => found.problems.push(problem),
    }
    let ok = found.problems.is_empty();
    let warnings = found
        .config
        .as_ref()
        .map(config::advice)
        .unwrap_or_default();
    if json {
        let body = CheckJson {
            ok,
            problems: &found.problems,
            warnings: &warnings,
            events: found.events,
            agents: found.agents,
        };
        out.print(&serde_json::to_string_pretty(&body).expect("plain data serialises"));
    } else {
        for p in &found.problems {
            out.print(&format!(
                "{} {}",
                out.paint("error:", Paint::Red),
                indent_rest(&p.to_string())
            ));
        }
        if out.verbose > 0 {
            if let Some(c) = &found.config {
                for line in config::assumed_windows(c.agents.values()) {
                    out.note(&format!("note: {line}"));
                }
            }
        }
        for w in &warnings {
            out.print(&format!(
                "{} {}: {w}",
                out.paint("warning:", Paint::Yellow),
                config::shown(root, "events.toml")
            ));
        }
        let n = found.problems.len();
        let summary = format!(
            "{}: {} event{} · {}: {} agent{} · {} problem{}",
            config::shown(root, "events.toml"),
            found.events,
            plural(found.events),
            format_args!("{}/", config::shown(root, "agents")),
            found.agents,
            plural(found.agents),
            n,
            plural(n),
        );
        let paint = if ok { Paint::Green } else { Paint::Red };
        out.print(&out.paint(&summary, paint));
    }
    Ok(if ok {
        ExitCode::Success
    } else {
        ExitCode::Usage
    })
}

/// Agents that read inputs but whose context window leaves no room for
/// them after the reply, the overhead and their own instructions (the run
/// refuses them too, exactly; this is the same sum with the prompt
/// estimated): `(agent id, message)`.
fn no_room(c: &config::Config) -> Vec<(String, String)> {
    use crate::engine::pack::{DEFAULT_REPLY_TOKENS, OVERHEAD_TOKENS};
    let reads: std::collections::BTreeSet<&str> = c
        .strategies
        .iter()
        .filter(|s| !s.inputs.is_empty())
        .flat_map(|s| s.agents.iter().map(String::as_str))
        .chain(
            c.agents
                .values()
                .filter(|a| !a.inputs.is_empty())
                .map(|a| a.id.as_str()),
        )
        .collect();
    let mut out = Vec::new();
    for a in reads.iter().filter_map(|id| c.agents.get(*id)) {
        let window = a
            .context_window
            .or_else(|| c.providers.get(&a.provider).and_then(|p| p.context_window))
            .unwrap_or_else(|| crate::tokens::context_window(&a.model));
        let reply = a.max_tokens.map_or(DEFAULT_REPLY_TOKENS, u64::from);
        let prompt = crate::tokens::estimate(&crate::engine::prompt::system(a));
        if u64::from(window) <= reply + OVERHEAD_TOKENS + prompt {
            out.push((
                a.id.clone(),
                format!(
                    "its context window of {window} tokens leaves no room for its inputs after \
                     its reply (max_tokens {reply}), {OVERHEAD_TOKENS} of overhead and its \
                     instructions (about {prompt}); set a larger context_window or a smaller \
                     max_tokens"
                ),
            ));
        }
    }
    out
}

/// Multi-line messages (the toml crate's snippets) indented under their first line.
fn indent_rest(text: &str) -> String {
    text.trim_end().replace('\n', "\n    ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
