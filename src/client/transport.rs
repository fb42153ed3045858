//! How a request reaches a provider: the `Transport` seam (the real client,
//! a recorder, a replayer, the redacting wrapper; tests' fakes), the hash
//! that names a request (the response cache's key and a recording's name),
//! and how the shared and agent parts of a system prompt are joined.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ApiKey, CallError, ChatReply, ChatRequest, Client};
use crate::config::Provider;

/// Where the shared part of the system prompt ends and the agent's begins.
pub(crate) const ROLE_MARKER: &str = "=== Your role ===";

/// The system prompt as one text: `shared`, the marker, the agent's part.
pub(crate) fn combined(shared: &str, system: &str) -> String {
    if shared.is_empty() {
        // A request of bsu's own (the verifier's): no panel part to mark.
        return system.to_string();
    }
    format!("{shared}\n{ROLE_MARKER}\n\n{system}")
}

/// SHA-256 of the request as a recording names it: the provider's kind, the
/// model, the parameters and the messages, but not the endpoint, so a
/// recording replays whatever `base_url` (or `OPENAI_BASE_URL`) says.
pub(crate) fn recording_hash(provider: &Provider, req: &ChatRequest) -> String {
    digest(&Canonical {
        endpoint: None,
        kind: provider.kind,
        request: Sorted::of(req),
    })
}

/// SHA-256 of everything that decides the reply: endpoint, model, parameters
/// and messages. The response cache uses the same key.
pub(crate) fn request_hash(provider: &Provider, req: &ChatRequest) -> String {
    digest(&Canonical {
        endpoint: Some(&provider.base_url),
        kind: provider.kind,
        request: Sorted::of(req),
    })
}

/// The request as the hashes name it: JSON with every object's keys in
/// order (as a `serde_json::Value` prints them), written straight into the
/// hash: a panel's prompts are megabytes, and the hashes once copied each
/// twice (a value tree, then its text).
#[derive(serde::Serialize)]
struct Canonical<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a str>,
    kind: crate::config::ProviderKind,
    request: Sorted<'a>,
}

#[derive(serde::Serialize)]
struct Sorted<'a> {
    max_tokens: Option<u32>,
    model: &'a str,
    shared: &'a str,
    system: &'a str,
    temperature: Option<f64>,
    user: &'a str,
}

impl<'a> Sorted<'a> {
    fn of(r: &'a ChatRequest) -> Self {
        Sorted {
            max_tokens: r.max_tokens,
            model: &r.model,
            shared: &r.shared,
            system: &r.system,
            temperature: r.temperature,
            user: &r.user,
        }
    }
}

struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn digest(c: &Canonical<'_>) -> String {
    let mut h = Hashing(Sha256::new());
    serde_json::to_writer(&mut h, c).expect("plain data serialises");
    crate::text::hex(&h.0.finalize())
}

/// Sends one request once, within `timeout`. `Client` is the real one.
pub(crate) trait Transport: Send + Sync {
    fn send<'a>(
        &'a self,
        provider: &'a Provider,
        key: &'a ApiKey,
        req: &'a ChatRequest,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>>;

    /// A reply the response cache served for `req`, with no request sent: a
    /// recorder keeps it too, so the recording can replay the whole run.
    fn served_from_cache<'a>(
        &'a self,
        _provider: &'a Provider,
        _req: &'a ChatRequest,
        _reply: &'a ChatReply,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async {})
    }
}

impl Transport for Client {
    fn send<'a>(
        &'a self,
        provider: &'a Provider,
        key: &'a ApiKey,
        req: &'a ChatRequest,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>> {
        Box::pin(Client::send(self, provider, key, req, timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hashes are the same bytes as the value tree they replaced printed:
    /// recordings and cached replies keep their names.
    #[test]
    fn the_hashes_keep_their_names() {
        let provider = Provider {
            name: "openai".into(),
            kind: crate::config::ProviderKind::Openai,
            base_url: "https://api.openai.com/v1?q=\"x\"".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            model: "m".into(),
            max_concurrency: 4,
            max_retries: 0,
            request_timeout: Duration::from_secs(120),
            context_window: None,
            max_tokens: None,
            fallback: vec![],
            breaker: crate::config::BreakerSettings {
                failure_threshold: 5,
                reset_timeout: Duration::from_secs(30),
                max_reset_timeout: Duration::from_secs(600),
            },
        };
        for (temperature, max_tokens, text) in [
            (None, None, "plain"),
            (
                Some(0.2),
                Some(1500),
                "quotes \" and \\ and\nnewlines\tand é ✓ \u{0}",
            ),
            (Some(f64::NAN), Some(0), ""),
            (Some(1e-7), None, "<script>"),
        ] {
            let req = ChatRequest {
                model: "gpt-4o".into(),
                shared: format!("shared {text}"),
                system: format!("system {text}"),
                user: format!("user {text}"),
                temperature,
                max_tokens,
            };
            let old_request = serde_json::json!({
                "kind": provider.kind, "endpoint": provider.base_url, "request": req,
            });
            let old_recording = serde_json::json!({"kind": provider.kind, "request": req});
            let hex = |s: String| crate::text::hex(&Sha256::digest(s.as_bytes()));
            assert_eq!(request_hash(&provider, &req), hex(old_request.to_string()));
            assert_eq!(
                recording_hash(&provider, &req),
                hex(old_recording.to_string())
            );
        }
    }
}
