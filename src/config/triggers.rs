//! What starts a run and what it may do: the `[triggers]` table (slash
//! commands, `pull_request_target` safety; `[github]` is its old name), a
//! strategy's schedule bindings, and its filters (`when` / `skip`).

use serde::{Deserialize, Serialize};

/// `[triggers]` (or its old name `[github]`) as written.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TriggersFile {
    /// `author_association` values whose `/bsu run` comments are honoured
    /// (default OWNER, MEMBER, COLLABORATOR).
    pub slash_command_associations: Option<Vec<String>>,
    /// Let `command` inputs and `fetch = true` run under
    /// `pull_request_target` (default false: the job has secrets and the
    /// code may come from a fork).
    pub allow_commands_on_pull_request_target: Option<bool>,
}

/// Who may start a run from a comment, and what may run on untrusted code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Triggers {
    /// `author_association` values whose `/bsu run` comments are honoured.
    pub slash_command_associations: Vec<String>,
    /// Run `command` inputs under `pull_request_target` (code from forks, with secrets).
    pub allow_commands_on_pull_request_target: bool,
}

impl Default for Triggers {
    fn default() -> Self {
        Triggers {
            slash_command_associations: vec![
                "OWNER".into(),
                "MEMBER".into(),
                "COLLABORATOR".into(),
            ],
            allow_commands_on_pull_request_target: false,
        }
    }
}

pub(super) fn settle(file: Option<&TriggersFile>) -> Triggers {
    let mut g = Triggers::default();
    if let Some(f) = file {
        if let Some(a) = &f.slash_command_associations {
            g.slash_command_associations =
                a.iter().map(|s| s.trim().to_ascii_uppercase()).collect();
        }
        g.allow_commands_on_pull_request_target =
            f.allow_commands_on_pull_request_target.unwrap_or(false);
    }
    g
}

/// A strategy's filters: `skip` says when not to run, `when` what must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filters {
    /// Skip: draft pull requests.
    #[serde(default)]
    pub draft: bool,
    /// Skip: pull requests opened by bots.
    #[serde(default)]
    pub bots: bool,
    /// Skip: any of these labels is on the pull request. When: one of them is.
    #[serde(default)]
    pub labels: Vec<String>,
    /// When: the pull request's base branch matches one of these globs.
    #[serde(default)]
    pub base_branches: Vec<String>,
    /// When: a changed file matches one of these globs (needs a diff input).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A cron expression as GitHub writes it: five fields.
pub(crate) fn is_cron(expr: &str) -> bool {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
        })
}
