//! Publishing a run where people look: on the pull request (a sticky comment,
//! a review with inline comments, a check run). Runs after the run decided and
//! before the report files are written, and reads only the report, so what it
//! shows is what the report holds, and what it did or failed to do is
//! recorded in the report. A publish failure never changes the decision.

mod client;
mod destination;
pub(crate) mod github;
pub(crate) mod gitlab;
mod inline;
mod render;
mod review;
pub(crate) mod sticky;
mod threads;
pub(crate) mod webhook;

use crate::client::ApiKey;
use crate::config::publish::GithubSettings;
use crate::env::Env;
use crate::error::{Error, Result};

/// The workflow run's page, inside GitHub Actions.
pub(crate) fn run_url(env: &Env) -> Option<String> {
    match (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repository), Some(id)) => Some(format!(
            "{}/{repository}/actions/runs/{id}",
            server.trim_end_matches('/')
        )),
        _ => None,
    }
}

impl GithubTarget {
    /// A client of GitHub's API as this target says: its URL, token,
    /// retries and deadline.
    pub(crate) fn api(&self) -> Result<client::Api, String> {
        client::Api::new(
            &self.api_url,
            self.token.clone(),
            self.settings.max_retries,
            self.settings.timeout,
        )
        .map_err(|e| format!("could not start the HTTP client: {e}"))
    }
}

/// Why publishing cannot be set up as asked (exit 2, nothing sent).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// The token or repository variables, named, are not set.
    #[error(
        "publishing to GitHub needs {0} (set inside GitHub Actions; give the job \
         `permissions: pull-requests: write, checks: write`)"
    )]
    Missing(String),
    #[error("{var} {why}")]
    BadToken { var: String, why: String },
    #[error("GITHUB_REPOSITORY {0:?} must be OWNER/NAME")]
    BadRepository(String),
    #[error("GITHUB_API_URL {0:?} is not a URL")]
    BadApiUrl(String),
    /// Publishing to GitLab cannot be set up: why.
    #[error("{0}")]
    GitLab(String),
    /// The named variable, meant to hold the webhook's URL, does not.
    #[error("{0} does not hold a URL")]
    NotAUrl(String),
    /// A replayed run would publish to the named destinations.
    #[error(
        "--replay answers from recordings anyone can edit, so a replayed run does not \
         publish to {0}; drop the publishing, or pass --publish-replayed to publish it anyway"
    )]
    Replayed(String),
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        Error::refused(crate::error::ExitCode::Usage, r)
    }
}

/// Where and as whom to publish, resolved from the environment before the run.
#[derive(Debug, Clone)]
pub(crate) struct GithubTarget {
    pub settings: GithubSettings,
    pub api_url: String,
    pub repository: String,
    pub token: ApiKey,
    /// Link to the workflow run, when inside GitHub Actions.
    pub run_url: Option<String>,
    /// `GITHUB_SHA`, the last resort for a check run's commit.
    pub sha: Option<String>,
    /// The check run's (and commit status's) name: the strategy's, stable
    /// across a pull request's actions.
    pub check_name: String,
}

/// Resolve the GitHub target: `Ok(None)` when publishing is off. Asked for on
/// the command line, a missing token or repository is a usage error; enabled
/// only in the configuration, publishing is skipped with a note instead.
pub(crate) fn github_target(
    settings: &GithubSettings,
    asked: bool,
    env: &Env,
    note: &dyn Fn(&str),
) -> Result<Option<GithubTarget>> {
    if !asked && !settings.enabled {
        return Ok(None);
    }
    let token = env.get(&settings.token_env);
    let repository = env.get("GITHUB_REPOSITORY");
    let (token, repository) = match (token, repository) {
        (Some(t), Some(r)) => (t, r),
        (t, r) => {
            let missing: Vec<&str> = [
                t.is_none().then_some(settings.token_env.as_str()),
                r.is_none().then_some("GITHUB_REPOSITORY"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let refusal = Refusal::Missing(missing.join(" and "));
            if asked {
                return Err(refusal.into());
            }
            note(&format!("bsu: not publishing: {refusal}"));
            return Ok(None);
        }
    };
    if let Err(why) = crate::client::secret::check_key(token) {
        return Err(Refusal::BadToken {
            var: settings.token_env.clone(),
            why: why.to_string(),
        }
        .into());
    }
    if repository.split('/').count() != 2 || repository.contains(char::is_whitespace) {
        return Err(Refusal::BadRepository(repository.to_string()).into());
    }
    let api_url = env
        .get("GITHUB_API_URL")
        .unwrap_or("https://api.github.com")
        .trim_end_matches('/')
        .to_string();
    if reqwest::Url::parse(&api_url).is_err() {
        return Err(Refusal::BadApiUrl(api_url).into());
    }
    let run_url = run_url(env);
    Ok(Some(GithubTarget {
        settings: settings.clone(),
        api_url,
        repository: repository.to_string(),
        token: ApiKey::new(token.to_string()),
        run_url,
        sha: env.get("GITHUB_SHA").map(str::to_string),
        check_name: "bsu".into(),
    }))
}

pub(crate) use crate::report::{Published, Step, StepStatus};
pub(crate) use destination::{Destination, GitHub, GitLab, Webhook};
