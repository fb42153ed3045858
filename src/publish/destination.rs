//! Where a run's result goes, behind one trait: GitHub (the sticky comment,
//! the review, the check run) and the webhook today; another code host is
//! one more implementation. Delivery is a loop over destinations; each
//! records its steps in the report's `publish` and says what failed.

use std::future::Future;
use std::pin::Pin;

use super::{GithubTarget, Published};
use crate::config::publish::WebhookSettings;
use crate::ledger::Ledger;
use crate::report::Report;
use crate::vocab::Action;

/// What one destination's delivery came to.
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// Each step that failed, as a sentence for stderr.
    pub failures: Vec<String>,
    /// Set when a failure fails the run (`required = true`): why.
    pub fails_run: Option<String>,
    /// The ledger as the destination left it (what it posted, where).
    pub ledger: Option<Ledger>,
}

impl Delivery {
    /// A code host's delivery: its failed steps, and whether they fail the
    /// run (`[publish.HOST] required = true`).
    fn of(published: &Published, required: bool, host: &str, ledger: Option<Ledger>) -> Self {
        let failures = published.failures();
        let fails_run = (!failures.is_empty() && required).then(|| {
            let name = if host == "gitlab" { "GitLab" } else { "GitHub" };
            format!("publishing to {name} failed and [publish.{host}] required = true")
        });
        Delivery {
            failures,
            fails_run,
            ledger,
        }
    }
}

pub(crate) trait Destination: Send + Sync {
    /// Deliver `report`, recording each step in `published`; `print` takes
    /// lines for stdout (GitHub's workflow commands).
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        published: &'a mut Published,
        print: &'a (dyn Fn(&str) + Sync),
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;

    /// The ledger this destination keeps for pull request `number` and
    /// `strategy`: `Ok(None)` when it keeps none or has none yet; `Err` with
    /// why when one is there but cannot be trusted.
    fn ledger<'a>(
        &'a self,
        _number: u64,
        _strategy: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Ledger>, String>> + Send + 'a>> {
        Box::pin(async { Ok(None) })
    }

    /// A run its strategy's filters skipped, on commit `head`: say so where
    /// a result is awaited (a required check). What was done, for stderr.
    fn skipped<'a>(
        &'a self,
        _head: Option<&'a str>,
        _why: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<String>> + Send + 'a>> {
        Box::pin(async { None })
    }
}

/// The pull request and commit on GitHub.
pub(crate) struct GitHub {
    pub target: GithubTarget,
    pub fail_on: Option<Action>,
}

impl Destination for GitHub {
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        published: &'a mut Published,
        print: &'a (dyn Fn(&str) + Sync),
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(async move {
            let (done, ledger) =
                super::github::publish(&self.target, report, self.fail_on, print).await;
            published.comment = done.comment;
            published.review = done.review;
            published.check = done.check;
            Delivery::of(published, self.target.settings.required, "github", ledger)
        })
    }

    fn ledger<'a>(
        &'a self,
        number: u64,
        strategy: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Ledger>, String>> + Send + 'a>> {
        Box::pin(async move {
            if !self.target.settings.comment {
                return Ok(None);
            }
            super::sticky::ledger(&self.target, number, strategy).await
        })
    }

    fn skipped<'a>(
        &'a self,
        head: Option<&'a str>,
        why: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<String>> + Send + 'a>> {
        Box::pin(async move {
            if !self.target.settings.check {
                return None;
            }
            let name = &self.target.check_name;
            let Some(sha) = head.or(self.target.sha.as_deref()) else {
                return Some(format!("no commit to post the check {name:?} on"));
            };
            let step = super::github::skipped_check(&self.target, sha, why).await;
            Some(match (step.failed(), &step.url, &step.detail) {
                (false, Some(url), _) => format!("check {name:?} posted as skipped: {url}"),
                (false, None, _) => format!("check {name:?} posted as skipped"),
                (true, _, detail) => format!(
                    "could not post the check {name:?} as skipped: {}",
                    detail.as_deref().unwrap_or("")
                ),
            })
        })
    }
}

/// The merge request and commit on GitLab.
pub(crate) struct GitLab {
    pub target: super::gitlab::GitlabTarget,
    pub fail_on: Option<Action>,
}

impl Destination for GitLab {
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        published: &'a mut Published,
        _print: &'a (dyn Fn(&str) + Sync),
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(async move {
            let done = super::gitlab::publish(&self.target, report, self.fail_on).await;
            // The discussions are the report's `review`, the sticky note its
            // `comment`, the commit status its `check`.
            published.review = Some(done.discussions);
            published.comment = Some(done.note);
            published.check = Some(done.status);
            Delivery::of(
                published,
                self.target.settings.required,
                "gitlab",
                done.ledger,
            )
        })
    }

    fn ledger<'a>(
        &'a self,
        number: u64,
        strategy: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Ledger>, String>> + Send + 'a>> {
        Box::pin(async move {
            if !self.target.settings.note {
                return Ok(None);
            }
            super::gitlab::ledger(&self.target, number, strategy).await
        })
    }
}

/// `[publish.webhook]`, with its URL (a secret) read from its variable.
pub(crate) struct Webhook {
    pub settings: WebhookSettings,
    pub url: String,
    /// The workflow run, linked in the message.
    pub run_url: Option<String>,
}

impl Destination for Webhook {
    fn deliver<'a>(
        &'a self,
        report: &'a Report,
        published: &'a mut Published,
        _print: &'a (dyn Fn(&str) + Sync),
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(async move {
            let step =
                super::webhook::post(&self.settings, &self.url, report, self.run_url.as_deref())
                    .await;
            let mut delivery = Delivery::default();
            if step.failed() {
                delivery.failures.push(format!(
                    "posting to the webhook in {} failed: {}",
                    self.settings.url_env,
                    step.detail.as_deref().unwrap_or("")
                ));
                if self.settings.required {
                    delivery.fails_run = Some(
                        "posting to the webhook failed and [publish.webhook] required = true"
                            .into(),
                    );
                }
            }
            published.webhook = Some(step);
            delivery
        })
    }
}
