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
    // (folder in the project, file name, text)
    let mut files = vec![
        ("", "events.toml", EVENTS),
        ("agents", "reviewer.toml", REVIEWER),
        (".bsu", "events.schema.json", events_schema.as_str()),
        (".bsu", "agent.schema.json", agent_schema.as_str()),
    ];
    // The files people edit come first: only they are refused when present.
    let mine = match args.ci {
        Some(crate::cli::CiArg::Gitlab) => {
            files.insert(2, ("", ".gitlab-ci.yml", GITLAB_CI));
            3
        }
        None => 2,
    };
    let shown = |dir: &str, name: &str| root.join(dir).join(name).display().to_string();
    check_folders(root, &files)?;
    if !force {
        // A link counts as there, dangling or not: it is never written through.
        let existing: Vec<String> = files
            .iter()
            .take(mine)
            .filter(|(dir, name, _)| std::fs::symlink_metadata(root.join(dir).join(name)).is_ok())
            .map(|(dir, name, _)| shown(dir, name))
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
    for (dir, name, text) in &files {
        // Each written whole under a temporary name and renamed into place:
        // a link where the file goes is replaced, never followed.
        let folder = crate::project_file::folder(root, dir, true)
            .map_err(|why| Error::Usage(format!("{}: {why}; not written", shown(dir, ""))))?;
        let path = folder.join(name);
        crate::fsio::atomic_write_now(&path, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
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

/// Every folder the files go in, by the project-file rule, before anything
/// is written: a clone can hold a link where `.bsu` or `agents` goes, and
/// init must not write through it out of the project.
fn check_folders(root: &Path, files: &[(&str, &str, &str)]) -> Result<()> {
    for (dir, _, _) in files {
        crate::project_file::folder(root, dir, false).map_err(|why| {
            Error::Usage(format!(
                "{}: {why}; nothing was written",
                root.join(dir).display()
            ))
        })?;
    }
    Ok(())
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
