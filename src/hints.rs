//! One line for each failure class saying what to change, from what the run
//! already knows: the failure's reason and the provider it went to. Hints go
//! to stderr; they never carry a key or a URL's query.

use crate::client::{FailureClass, Fault};
use crate::config::Provider;
use crate::engine::outcome::{AgentOutcome, AgentResult, Cause};

/// Host and path of `base_url`, never its query (which may hold secrets).
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path().trim_end_matches('/')
        ),
        Err(_) => "the configured base_url".into(),
    }
}

/// What to change so `agent` succeeds next time, if bsu can tell. It reads
/// what the failure was (its status, network fault, class, breaker), never
/// the wording of its message.
pub(crate) fn hint(agent: &AgentOutcome, provider: Option<&Provider>) -> Option<String> {
    let p = provider?;
    match &agent.result {
        AgentResult::Rejected { breaker, .. } => Some(format!(
            "the provider failed repeatedly before, so its breaker is open; it lets one call \
             through at the time above, or run `bsu breaker reset {breaker}` to try now"
        )),
        AgentResult::Failed {
            reason,
            class,
            cause,
            ..
        } => failed(p, reason, *class, *cause),
        _ => None,
    }
}

/// The hint for a failed call, by what it was: its status, its network fault, its class.
fn failed(p: &Provider, reason: &str, class: FailureClass, cause: Cause) -> Option<String> {
    let where_key = format!("the key in {} (provider {:?})", p.api_key_env, p.name);
    let url_var = if p.kind == crate::config::ProviderKind::Openai {
        "OPENAI_BASE_URL or base_url in events.toml"
    } else {
        "base_url in events.toml"
    };
    let unreachable = |why: &str| {
        Some(format!(
            "bsu tried {} ({url_var}): {why}",
            shown_url(&p.base_url)
        ))
    };
    match (cause.status, cause.fault) {
        (Some(401 | 403), _) => Some(format!(
            "the provider refused {where_key}: set {} to a valid key for {}",
            p.api_key_env,
            shown_url(&p.base_url)
        )),
        (Some(404), _) => {
            let path = reqwest::Url::parse(&p.base_url)
                .map(|u| u.path().trim_end_matches('/').to_string())
                .unwrap_or_default();
            let tip = if p.kind == crate::config::ProviderKind::Openai && !path.ends_with("/v1") {
                " OpenAI-compatible servers usually serve under /v1: try base_url = \"…/v1\"."
            } else {
                " Check the model name too: some servers answer 404 for an unknown model."
            };
            Some(format!(
                "{} has no chat endpoint at that path (set by {url_var}).{tip}",
                shown_url(&p.base_url)
            ))
        }
        (_, Fault::Refused) => unreachable(
            "nothing listens there: the host answers but the port looks wrong, so the \
             provider looks misconfigured rather than down",
        ),
        (_, Fault::NoSuchHost) => unreachable("the host name does not resolve: a typo in the URL?"),
        (_, Fault::Unreachable) => unreachable("the server could not be reached"),
        _ if class == FailureClass::Quota => Some(format!(
            "the provider says the account's quota is used up ({}); add credit, or use \
             another provider or key",
            crate::text::one_line(reason, 200)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_shown_without_their_query() {
        assert_eq!(
            super::shown_url("https://x.openai.azure.com/openai/v1?api-version=2024&key=s"),
            "https://x.openai.azure.com/openai/v1"
        );
        assert_eq!(
            super::shown_url("http://127.0.0.1:8080/v1/"),
            "http://127.0.0.1:8080/v1"
        );
    }
}
