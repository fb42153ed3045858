//! `bsu init`: a starter project (events.toml and one agent) that checks clean.

use std::path::Path;

use crate::error::{Error, ExitCode, Result};
use crate::output::Output;

const EVENTS: &str = include_str!("starter/events.toml");
const REVIEWER: &str = include_str!("starter/reviewer.toml");
/// docs/gitlab-ci.md shows the same file (a test keeps them one).
pub(crate) const GITLAB_CI: &str = include_str!("starter/gitlab-ci.yml");

pub(super) fn init(root: &Path, out: &Output, args: &crate::cli::InitArgs) -> Result<ExitCode> {
    let (force, json) = (args.force, args.json);
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
    let mut files = vec![
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
    // The files people edit come first: only they are refused when present.
    let mine = match args.ci {
        Some(crate::cli::CiArg::Gitlab) => {
            files.insert(2, (root.join(".gitlab-ci.yml"), GITLAB_CI));
            3
        }
        None => 2,
    };
    if !force {
        let existing: Vec<String> = files
            .iter()
            .take(mine)
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

#[cfg(test)]
mod tests {
    /// docs/gitlab-ci.md shows exactly the pipeline `bsu init --ci gitlab`
    /// writes (and .ci/lint-gitlab-ci checks both against GitLab's schema).
    #[test]
    fn the_docs_show_the_pipeline_init_writes() {
        let doc = include_str!("../../docs/gitlab-ci.md");
        let start = doc
            .find("```yaml\n# .gitlab-ci.yml\n")
            .expect("the pipeline")
            + 8;
        let end = start + doc[start..].find("```").expect("its end");
        assert_eq!(&doc[start..end], super::GITLAB_CI);
    }
}
