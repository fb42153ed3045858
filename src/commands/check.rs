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
    let found = config::inspect(root, env);
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
