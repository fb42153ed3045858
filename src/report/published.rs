//! What publishing did, as the report records it: the report owns these
//! wire types, and every destination fills them in.

use serde::Serialize;

/// What publishing did, for the report.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Published {
    /// `--publish github`: the sticky comment, the review, the check run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Step>,
    /// `[publish.webhook]`, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Step>,
}

/// What became of one publishing step.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepStatus {
    Created,
    Updated,
    #[default]
    Skipped,
    Failed,
}

/// One thing published, or why not.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Step {
    pub status: StepStatus,
    /// What it is on GitHub: a URL or an id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it was skipped or failed, or a detail of what was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Step {
    pub(crate) fn done(status: StepStatus, url: Option<String>, detail: Option<String>) -> Step {
        Step {
            status,
            url,
            detail,
        }
    }

    pub(crate) fn skipped(why: &str) -> Step {
        Step::done(StepStatus::Skipped, None, Some(why.into()))
    }

    pub(crate) fn failed(&self) -> bool {
        self.status == StepStatus::Failed
    }
}

impl Published {
    /// GitHub's failed steps (the comment, the review, the check), as sentences.
    /// One line for stderr: what each step that did something did, with
    /// its link ("the comment updated: https://…, the check created: …").
    pub(crate) fn done(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("comment", &self.comment),
            ("review", &self.review),
            ("check", &self.check),
            ("webhook", &self.webhook),
        ]
        .into_iter()
        .filter_map(|(what, s)| Some((what, s.as_ref()?)))
        .filter(|(_, s)| matches!(s.status, StepStatus::Created | StepStatus::Updated))
        .map(|(what, s)| {
            let verb = if s.status == StepStatus::Created {
                "created"
            } else {
                "updated"
            };
            match s.url.as_deref().filter(|u| u.starts_with("http")) {
                Some(url) => format!("the {what} {verb}: {url}"),
                None => format!("the {what} {verb}"),
            }
        })
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    pub(crate) fn failures(&self) -> Vec<String> {
        [
            ("comment", &self.comment),
            ("review", &self.review),
            ("check", &self.check),
        ]
        .into_iter()
        .filter_map(|(what, s)| Some((what, s.as_ref()?)))
        .filter(|(_, s)| s.failed())
        .map(|(what, s)| {
            format!(
                "publishing the {what} to GitHub failed: {}",
                s.detail.as_deref().unwrap_or("")
            )
        })
        .collect()
    }
}
