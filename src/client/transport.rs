//! How a request reaches a provider: the `Transport` seam (the real client,
//! a recorder, a replayer, the redacting wrapper; tests' fakes), and how the
//! shared and agent parts of a system prompt are joined.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{ApiKey, CallError, ChatReply, ChatRequest, Client};
use crate::config::Provider;

/// Where the shared part of the system prompt ends and the agent's begins.
pub(crate) const ROLE_MARKER: &str = "=== Your role ===";

/// The system prompt as one text: `shared`, the marker, the agent's part.
pub(crate) fn combined(shared: &str, system: &str) -> String {
    let mut text = String::with_capacity(shared.len() + system.len() + 32);
    text.push_str(shared);
    text.push_str(&after_shared(shared, system));
    text
}

/// What `combined` puts after `shared`: the marker and the agent's part.
pub(crate) fn after_shared(shared: &str, system: &str) -> String {
    if shared.is_empty() {
        // A request of bsu's own (the verifier's): no panel part to mark.
        return system.to_string();
    }
    format!("{}{system}", marker_line())
}

/// The line between a system prompt's shared part and the agent's, with
/// the newlines around it.
pub(crate) fn marker_line() -> String {
    format!("\n{ROLE_MARKER}\n\n")
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
