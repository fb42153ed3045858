//! The call path: every model call an agent makes goes through `Caller::call`.
//!
//! This is where resilience lives as layers around `Client::send` — today a
//! single attempt; retries, the circuit breaker, the bulkhead and the response
//! cache wrap the same function without the engine changing shape.

use crate::client::{ApiKey, CallError, ChatReply, ChatRequest, Client};
use crate::config::Provider;

/// The result of one agent's call, with how it was obtained.
#[derive(Debug)]
pub(crate) struct Called {
    pub result: Result<ChatReply, CallError>,
    /// HTTP requests sent for it.
    pub attempts: u32,
    /// Served from the response cache.
    pub cached: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Caller {
    client: Client,
}

impl Caller {
    pub(crate) fn new(client: Client) -> Self {
        Caller { client }
    }

    /// Send `req` to `provider`. `_hash` identifies the request (the cache key).
    pub(crate) async fn call(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        _hash: &str,
    ) -> Called {
        let result = self.client.send(provider, key, req).await;
        Called {
            result,
            attempts: 1,
            cached: false,
        }
    }
}
