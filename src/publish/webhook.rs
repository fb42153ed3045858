//! `[publish.webhook]`: the run's summary posted as JSON to a URL read from
//! an environment variable (Slack-compatible `text` and `blocks`, or the
//! report itself), for cron jobs that report somewhere people read. The URL
//! is a secret: it is never printed, logged or written.

use std::time::Duration;

use serde_json::json;

use super::{Step, StepStatus};
use crate::config::publish::{WebhookFormat, WebhookSettings};
use crate::report::Report;

const ATTEMPTS: u32 = 3;

/// The message: one line of decision, one per agent that did not approve.
/// Everything in it is escaped for Slack: the reason quotes model text.
pub(crate) fn slack_text(r: &Report, run_url: Option<&str>) -> String {
    crate::text::slack_escape(&slack_text_raw(r, run_url))
}

fn slack_text_raw(r: &Report, run_url: Option<&str>) -> String {
    let mut s = format!(
        "bsu {}: *{}* — {}",
        crate::text::one_line(&r.event, 200),
        r.decision.action,
        crate::text::one_line(&r.decision.reason, 500)
    );
    for a in &r.agents {
        if a.decision != crate::vocab::Action::Approve {
            s.push_str(&format!("\n• {}: {} ({})", a.id, a.decision, a.status));
        }
    }
    changes(&mut s, r);
    for url in [r.subject.url.as_deref(), run_url].into_iter().flatten() {
        s.push_str(&format!("\n{}", crate::text::one_line(url, 300)));
    }
    s
}

/// What changed since the last run, from the ledger: each finding raised,
/// fixed or closed on this run's head (at most ten), and a count of the rest.
fn changes(s: &mut String, r: &Report) {
    let Some(l) = &r.ledger else { return };
    let (now, rest) = crate::ledger::changed_on(&l.ledger, l.ledger.head.as_deref());
    if now.is_empty() && rest == 0 {
        return;
    }
    for e in now.iter().take(10) {
        let what = match e.state {
            crate::ledger::State::Open => "new",
            crate::ledger::State::Fixed => "fixed",
            crate::ledger::State::Dismissed => "dismissed",
            crate::ledger::State::Outdated => "outdated",
        };
        let place = e
            .file
            .as_deref()
            .map(|f| format!(" {}", crate::text::one_line(f, 120)))
            .unwrap_or_default();
        s.push_str(&format!(
            "\n{what}: [{}]{place} {} ({})",
            e.severity,
            crate::text::one_line(&e.title, 120),
            e.id
        ));
    }
    if now.len() > 10 {
        s.push_str(&format!("\n… and {} more changed", now.len() - 10));
    }
    s.push_str(&format!(
        "\n{} changed · {} unchanged ({} still open)",
        now.len(),
        rest,
        l.counts.open
    ));
}

pub(crate) async fn post(
    settings: &WebhookSettings,
    url: &str,
    r: &Report,
    run_url: Option<&str>,
) -> Step {
    if let Some(on) = &settings.on {
        if !on.contains(&r.decision.action) {
            return Step::skipped(&format!(
                "decision {} is not in [publish.webhook] on",
                r.decision.action
            ));
        }
    }
    let body = match settings.format {
        WebhookFormat::Slack => {
            let text = slack_text(r, run_url);
            json!({"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]})
        }
        WebhookFormat::Report => serde_json::to_value(r).unwrap_or_default(),
    };
    let http = match crate::net::client()
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(h) => h,
        Err(e) => return Step::done(StepStatus::Failed, None, Some(e.to_string())),
    };
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        match http.post(url).json(&body).send().await {
            Ok(resp) if resp.status().is_success() => {
                return Step::done(
                    StepStatus::Created,
                    None,
                    Some(format!("HTTP {}", resp.status().as_u16())),
                );
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                last = crate::net::refused(status, resp.headers(), url)
                    .unwrap_or_else(|| format!("HTTP {status}"));
                if !(status == 429 || status >= 500) {
                    break;
                }
            }
            // Never the URL: it carries the webhook's secret.
            Err(e) => last = format!("could not post: {}", e.without_url()),
        }
        if attempt + 1 < ATTEMPTS {
            tokio::time::sleep(crate::engine::caller::backoff(attempt, None, 0.5)).await;
        }
    }
    Step::done(StepStatus::Failed, None, Some(last))
}
