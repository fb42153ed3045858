//! `bsu init`: a starter project (events.toml and one agent) that checks clean.

use std::path::Path;

use crate::error::{Error, ExitCode, Result};
use crate::output::Output;

const EVENTS: &str = include_str!("starter/events.toml");
const REVIEWER: &str = include_str!("starter/reviewer.toml");

pub(super) fn init(root: &Path, out: &Output, force: bool, json: bool) -> Result<ExitCode> {
    let schemas = super::schemas::all();
    let schema = |name: &str| {
        schemas
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let (events_schema, agent_schema) = (schema("events.schema.json"), schema("agent.schema.json"));
    // The schemas go with the project, so `#:schema` lines work offline and
    // always match this bsu.
    let files = [
        (root.join("events.toml"), EVENTS),
        (root.join("agents").join("reviewer.toml"), REVIEWER),
        (
            root.join(".bsu").join("events.schema.json"),
            events_schema.as_str(),
        ),
        (
            root.join(".bsu").join("agent.schema.json"),
            agent_schema.as_str(),
        ),
    ];
    if !force {
        let existing: Vec<String> = files
            .iter()
            .take(2)
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Error::Usage(format!(
                "{} already exist{}; nothing was written (pass --force to overwrite)",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            )));
        }
    }
    let mut written = Vec::new();
    for (path, text) in &files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
        out.note(&format!("wrote {}", path.display()));
        written.push(path.display().to_string());
    }
    if json {
        let body = serde_json::json!({"written": written});
        out.print(&serde_json::to_string_pretty(&body).expect("plain data"));
    }
    out.note("next: `bsu check`, then `bsu run pull_request.opened --dry-run`");
    Ok(ExitCode::Success)
}
