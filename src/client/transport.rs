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
    let canonical = serde_json::json!({
        "kind": provider.kind,
        "request": req,
    });
    crate::text::hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

/// SHA-256 of everything that decides the reply: endpoint, model, parameters
/// and messages. The response cache uses the same key.
pub(crate) fn request_hash(provider: &Provider, req: &ChatRequest) -> String {
    // `req` serialises its shared part, agent part and user message.
    let canonical = serde_json::json!({
        "kind": provider.kind,
        "endpoint": provider.base_url,
        "request": req,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    crate::text::hex(&digest)
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
