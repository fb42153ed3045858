//! `[publish]` in events.toml: the noise budget, and where and how a run's
//! decision is published besides the reports (CONTRACT.md, "Publishing to GitHub").

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::file::HumanDuration;
use super::settle::Source;
use super::Problem;

/// A review's state on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ReviewState {
    Comment,
    RequestChanges,
    Approve,
}

impl ReviewState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReviewState::Comment => "COMMENT",
            ReviewState::RequestChanges => "REQUEST_CHANGES",
            ReviewState::Approve => "APPROVE",
        }
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PublishFile {
    pub github: Option<GithubFile>,
    pub gitlab: Option<GitlabFile>,
    pub webhook: Option<WebhookFile>,
    /// Inline comments only for findings at least this severe (default
    /// `medium`); the rest are listed once in the sticky comment.
    pub inline_min_severity: Option<crate::vocab::Severity>,
    /// Inline comments per push at most (default 10), strongest and
    /// best-agreed first.
    pub max_inline_comments: Option<u32>,
    /// Inline comments only for findings this many agents raised (default 1).
    pub min_agents: Option<u32>,
    /// Inline comments only for findings with at least this `confidence`
    /// (0 to 1), when agents give one.
    pub min_confidence: Option<f64>,
}

/// `[publish.gitlab]` as written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GitlabFile {
    /// Publish on every run, without `--publish gitlab`.
    pub enabled: Option<bool>,
    /// The sticky note on the merge request.
    pub note: Option<bool>,
    /// The commit status on the head commit.
    pub status: Option<bool>,
    /// Inline discussions on changed lines.
    pub discussions: Option<bool>,
    pub max_retries: Option<u32>,
    pub timeout: Option<HumanDuration>,
    /// A publish failure fails the run (exit 1).
    pub required: Option<bool>,
    /// The variable holding the token (default `GITLAB_TOKEN`).
    #[schemars(with = "Option<String>")]
    pub token_env: Option<Spanned<String>>,
}

/// How a run publishes to GitLab.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct GitlabSettings {
    pub enabled: bool,
    pub note: bool,
    pub status: bool,
    pub discussions: bool,
    pub max_retries: u32,
    #[serde(with = "super::humantime_serde_str")]
    pub timeout: Duration,
    pub required: bool,
    pub token_env: String,
}

impl Default for GitlabSettings {
    fn default() -> Self {
        GitlabSettings {
            enabled: false,
            note: true,
            status: true,
            discussions: true,
            max_retries: 3,
            timeout: Duration::from_secs(120),
            required: false,
            token_env: "GITLAB_TOKEN".into(),
        }
    }
}

/// `[publish.gitlab]`, settled.
pub(super) fn settle_gitlab(
    file: Option<&PublishFile>,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> GitlabSettings {
    let mut s = GitlabSettings::default();
    let Some(g) = file.and_then(|f| f.gitlab.as_ref()) else {
        return s;
    };
    s.enabled = g.enabled.unwrap_or(false);
    s.note = g.note.unwrap_or(true);
    s.status = g.status.unwrap_or(true);
    s.discussions = g.discussions.unwrap_or(true);
    s.required = g.required.unwrap_or(false);
    if let Some(n) = g.max_retries {
        s.max_retries = retries(n, "[publish.gitlab]", src, problems);
    }
    if let Some(d) = g.timeout {
        s.timeout = d.0;
    }
    if let Some(var) = &g.token_env {
        if variable_name(var.get_ref()) {
            s.token_env = var.get_ref().clone();
        } else {
            problems.push(src.at(
                var,
                "token_env must name an environment variable (like GITLAB_TOKEN), not hold the token",
            ));
        }
    }
    s
}

/// A code host's `max_retries`, checked (at most `bounds::MAX_RETRIES`).
fn retries(n: u32, table: &str, src: &Source<'_>, problems: &mut Vec<Problem>) -> u32 {
    if n > crate::bounds::MAX_RETRIES {
        problems.push(Problem::file(
            src.display,
            format!("{table} max_retries = {n} is out of range; it must be from 0 to 100"),
        ));
    }
    n.min(crate::bounds::MAX_RETRIES)
}

/// Is `name` the name of an environment variable?
fn variable_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `[publish.webhook]` as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookFile {
    /// The variable holding the URL (webhook URLs are secrets: never in the file).
    #[schemars(with = "String")]
    pub url_env: Spanned<String>,
    pub format: Option<WebhookFormat>,
    /// Post only for these decisions; absent: every decision.
    pub on: Option<Vec<crate::vocab::Action>>,
    pub required: Option<bool>,
}

/// What a webhook receives.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WebhookFormat {
    /// Slack-compatible `text` and `blocks`.
    #[default]
    Slack,
    /// The JSON report itself.
    Report,
}

/// `[publish.webhook]`, settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WebhookSettings {
    pub url_env: String,
    pub format: WebhookFormat,
    pub on: Option<Vec<crate::vocab::Action>>,
    pub required: bool,
}

pub(super) fn settle_webhook(
    file: Option<&PublishFile>,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> Option<WebhookSettings> {
    let w = file.and_then(|f| f.webhook.as_ref())?;
    let name = w.url_env.get_ref();
    let ok = variable_name(name);
    if !ok {
        problems.push(src.at(
            &w.url_env,
            "url_env must name an environment variable (like BSU_WEBHOOK_URL), not hold the URL: \
             webhook URLs are secrets",
        ));
        return None;
    }
    Some(WebhookSettings {
        url_env: name.clone(),
        format: w.format.unwrap_or_default(),
        on: w.on.clone(),
        required: w.required.unwrap_or(false),
    })
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GithubFile {
    /// Publish on every run, without `--publish github`.
    pub enabled: Option<bool>,
    pub comment: Option<bool>,
    pub review: Option<bool>,
    pub check: Option<bool>,
    pub max_retries: Option<u32>,
    pub timeout: Option<HumanDuration>,
    /// A publish failure fails the run (exit 1).
    pub required: Option<bool>,
    #[schemars(with = "Option<String>")]
    pub token_env: Option<Spanned<String>>,
    #[serde(default)]
    pub review_states: ReviewStatesFile,
    /// Inline comments only for findings at least this severe (default
    /// `medium`); the rest are listed in the review's body.
    pub inline_min_severity: Option<crate::vocab::Severity>,
    /// Inline comments per push at most (default 10), strongest and
    /// best-agreed first.
    pub max_inline_comments: Option<u32>,
    /// Inline comments only for findings this many agents raised (default 1).
    pub min_agents: Option<u32>,
    /// Inline comments only for findings with at least this `confidence`
    /// (0 to 1), when agents give one.
    pub min_confidence: Option<f64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewStatesFile {
    pub approve: Option<ReviewState>,
    pub manual_review: Option<ReviewState>,
    pub request_changes: Option<ReviewState>,
    pub block: Option<ReviewState>,
}

/// How a run publishes to GitHub.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct GithubSettings {
    pub enabled: bool,
    pub comment: bool,
    pub review: bool,
    pub check: bool,
    pub max_retries: u32,
    #[serde(with = "super::humantime_serde_str")]
    pub timeout: Duration,
    pub required: bool,
    pub token_env: String,
    pub review_states: ReviewStates,
    pub noise: Noise,
}

/// What goes inline (the noise budget). None of it changes the decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Noise {
    pub min_severity: crate::vocab::Severity,
    pub max_inline: u32,
    pub min_agents: u32,
    pub min_confidence: Option<f64>,
}

impl Default for Noise {
    fn default() -> Self {
        Noise {
            min_severity: crate::vocab::Severity::Medium,
            max_inline: 10,
            min_agents: 1,
            min_confidence: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct ReviewStates {
    pub approve: ReviewState,
    pub manual_review: ReviewState,
    pub request_changes: ReviewState,
    pub block: ReviewState,
}

impl Default for GithubSettings {
    fn default() -> Self {
        GithubSettings {
            enabled: false,
            comment: true,
            review: true,
            check: true,
            max_retries: 3,
            timeout: Duration::from_secs(120),
            required: false,
            token_env: "GITHUB_TOKEN".into(),
            // By default bsu never approves a pull request on GitHub.
            review_states: ReviewStates {
                approve: ReviewState::Comment,
                manual_review: ReviewState::Comment,
                request_changes: ReviewState::RequestChanges,
                block: ReviewState::RequestChanges,
            },
            noise: Noise::default(),
        }
    }
}

pub(super) fn settle_publish(
    file: Option<&PublishFile>,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> GithubSettings {
    let mut s = GithubSettings::default();
    if let Some(f) = file {
        let written = NoiseWritten {
            min_severity: f.inline_min_severity,
            max_inline: f.max_inline_comments,
            min_agents: f.min_agents,
            min_confidence: f.min_confidence,
        };
        s.noise = written.over(s.noise, "[publish]", src, problems);
    }
    let Some(g) = file.and_then(|f| f.github.as_ref()) else {
        return s;
    };
    s.enabled = g.enabled.unwrap_or(false);
    s.comment = g.comment.unwrap_or(true);
    s.review = g.review.unwrap_or(true);
    s.check = g.check.unwrap_or(true);
    s.required = g.required.unwrap_or(false);
    if let Some(n) = g.max_retries {
        s.max_retries = retries(n, "[publish.github]", src, problems);
    }
    if let Some(d) = g.timeout {
        s.timeout = d.0;
    }
    if let Some(var) = &g.token_env {
        let name = var.get_ref();
        let ok = variable_name(name);
        if ok {
            s.token_env = name.clone();
        } else {
            problems.push(src.at(
                var,
                "token_env must name an environment variable (like GITHUB_TOKEN), not hold the token",
            ));
        }
    }
    let r = &g.review_states;
    s.review_states = ReviewStates {
        approve: r.approve.unwrap_or(s.review_states.approve),
        manual_review: r.manual_review.unwrap_or(s.review_states.manual_review),
        request_changes: r.request_changes.unwrap_or(s.review_states.request_changes),
        block: r.block.unwrap_or(s.review_states.block),
    };
    s.noise = noise(g, s.noise, src, problems);
    s
}

/// `[publish.github]`'s noise keys (the older place for them) over
/// `[publish]`'s, each number checked.
fn noise(g: &GithubFile, base: Noise, src: &Source<'_>, problems: &mut Vec<Problem>) -> Noise {
    let written = NoiseWritten {
        min_severity: g.inline_min_severity,
        max_inline: g.max_inline_comments,
        min_agents: g.min_agents,
        min_confidence: g.min_confidence,
    };
    written.over(base, "[publish.github]", src, problems)
}

/// The four keys of a noise budget as a table wrote them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct NoiseWritten {
    pub min_severity: Option<crate::vocab::Severity>,
    pub max_inline: Option<u32>,
    pub min_agents: Option<u32>,
    pub min_confidence: Option<f64>,
}

impl NoiseWritten {
    /// `base` with what is written here over it, each number checked
    /// (`table` names where, for the problem).
    pub(super) fn over(
        self,
        base: Noise,
        table: &str,
        src: &Source<'_>,
        problems: &mut Vec<Problem>,
    ) -> Noise {
        let mut n = base;
        let mut bad = |what: String| problems.push(Problem::file(src.display, what));
        if let Some(s) = self.min_severity {
            n.min_severity = s;
        }
        match self.max_inline {
            Some(m) if m > 100 => bad(format!(
                "{table} max_inline_comments = {m} is out of range; it must be from 0 to 100"
            )),
            Some(m) => n.max_inline = m,
            None => {}
        }
        match self.min_agents {
            Some(0) => bad(format!(
                "{table} min_agents = 0 is out of range; it must be 1 or more"
            )),
            Some(m) => n.min_agents = m,
            None => {}
        }
        match self.min_confidence {
            Some(c) if !(0.0..=1.0).contains(&c) => bad(format!(
                "{table} min_confidence = {c} is out of range; it must be from 0 to 1"
            )),
            Some(c) => n.min_confidence = Some(c),
            None => {}
        }
        n
    }
}
