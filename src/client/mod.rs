//! Model clients: one function, `Client::send`, that sends one chat request to
//! one provider and returns the reply or a classified, redacted failure.
//!
//! Retries, the circuit breaker, the bulkhead and the response cache wrap this
//! function from the outside (the engine's call path); nothing here knows of
//! them. One `reqwest::Client` is shared by every call of a process.

mod anthropic;
pub(crate) mod error;
mod hash;
mod openai;
mod protocol;
pub(crate) mod ratelimit;
pub(crate) mod recording;
pub(crate) mod redacting;
pub(crate) mod secret;
pub(crate) mod stream;
mod transport;
mod window;

use std::time::Duration;

use serde::Serialize;

pub(crate) use error::{CallError, FailureClass, Fault};
pub(crate) use secret::ApiKey;

use crate::config::Provider;

/// Replies larger than this are an error, not an out-of-memory.
const MAX_REPLY_BYTES: usize = 10 * 1024 * 1024;

/// What one agent asks of a model.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChatRequest {
    pub model: String,
    /// The part of the system prompt shared by every agent of the run (a
    /// prompt-cache prefix); empty when there is none.
    pub shared: String,
    /// The agent's own part of the system prompt.
    pub system: String,
    pub user: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

pub(crate) use crate::vocab::{count, Usage};
pub(crate) use hash::{recording_hash, request_hash};
pub(crate) use protocol::Protocol;
pub(crate) use transport::{after_shared, combined, marker_line, Transport, ROLE_MARKER};

#[derive(Debug, Clone)]
pub(crate) struct ChatReply {
    pub content: String,
    /// The provider stopped at `max_tokens` (OpenAI `finish_reason:
    /// "length"`, Anthropic `stop_reason: "max_tokens"`): the reply is cut off.
    pub cut_off: bool,
    pub usage: Usage,
    /// How long the provider's rate-limit headers ask further requests to wait.
    pub pace: Option<Duration>,
}

/// The process's one HTTP client, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
}

impl Client {
    pub(crate) fn new() -> Result<Self, reqwest::Error> {
        let http = crate::net::client()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Client { http })
    }

    /// Send `req` to `provider` once, within `timeout`. Every byte the
    /// server sent back that leaves this function, reply or error, has the
    /// key redacted: servers echo headers, and replies reach reports and the cache.
    pub(crate) async fn send(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        timeout: Duration,
    ) -> Result<ChatReply, CallError> {
        let started = std::time::Instant::now();
        let result = match self.send_inner(provider, key, req, timeout).await {
            Ok(mut reply) => {
                reply.content = key.redact(&reply.content);
                Ok(reply)
            }
            Err(mut e) => {
                e.message = key.redact(&e.message);
                Err(e)
            }
        };
        match &result {
            Ok(reply) => tracing::debug!(
                provider = %provider.name, model = %req.model, ms = started.elapsed().as_millis() as u64,
                tokens = reply.usage.total_tokens, "reply received"
            ),
            Err(e) => tracing::debug!(
                provider = %provider.name, model = %req.model, ms = started.elapsed().as_millis() as u64,
                status = ?e.status, class = ?e.class, retry_after = ?e.retry_after, "call failed: {}", e.message
            ),
        }
        result
    }

    async fn send_inner(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        timeout: Duration,
    ) -> Result<ChatReply, CallError> {
        let permanent = |message: String| CallError {
            fault: Fault::None,
            class: FailureClass::Permanent,
            status: None,
            message,
            retry_after: None,
        };
        let protocol = protocol::for_kind(provider.kind);
        let url = endpoint(&provider.base_url, protocol.path()).ok_or_else(|| {
            permanent(format!(
                "base_url of provider {:?} is not a valid URL",
                provider.name
            ))
        })?;
        let auth = secret::header_value(key, |k| protocol.auth_value(k)).ok_or_else(|| {
            permanent(format!(
                "the key in {} cannot be sent in an HTTP header",
                provider.api_key_env
            ))
        })?;
        let started = stream::hook();
        let sent = url.to_string();
        let builder = protocol.request(&self.http, url, auth, req, started.is_some());
        let response = builder
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| transport(e, timeout))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // A stream asked for and given (a server may answer whole anyway).
        let streamed = started.filter(|_| {
            (200..300).contains(&status)
                && headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.starts_with("text/event-stream"))
        });
        let body = read_capped(response, timeout, streamed.as_ref()).await?;
        let body = match streamed {
            Some(_) => unstreamed(protocol, &body, &provider.name)?,
            None => body,
        };
        if !(200..300).contains(&status) {
            let parsed = error::parse_error_body(&body);
            let request_id = ["x-request-id", "request-id"]
                .iter()
                .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()));
            return Err(CallError {
                fault: Fault::None,
                class: error::classify(status, parsed.code.as_deref(), parsed.kind.as_deref()),
                status: Some(status),
                message: crate::net::refused(status, &headers, &sent)
                    .unwrap_or_else(|| error::describe(status, &parsed, request_id)),
                retry_after: error::retry_after(&headers),
            });
        }
        protocol
            .parse(&body)
            .map(|mut r| {
                r.pace = protocol.pace(&headers);
                r
            })
            .map_err(|why| CallError {
                fault: Fault::None,
                class: FailureClass::Permanent,
                status: Some(status),
                message: format!("unreadable reply from {}: {why}", provider.name),
                retry_after: None,
            })
    }
}

/// A streamed reply's body as it would have come unstreamed, or the error
/// its stream ended with (transient: the call may be tried again).
fn unstreamed(protocol: &dyn Protocol, body: &[u8], provider: &str) -> Result<Vec<u8>, CallError> {
    let broken = |message: String| CallError {
        fault: Fault::None,
        class: FailureClass::Transient,
        status: None,
        message,
        retry_after: None,
    };
    protocol
        .unstream(&stream::events(body))
        .map_err(|why| match why {
            stream::Broken::Error(data) => {
                let parsed = error::parse_error_body(data.as_bytes());
                broken(format!(
                    "{provider} sent an error in the reply stream: {}: {}",
                    parsed.kind.as_deref().unwrap_or("error"),
                    crate::text::ellipsize(parsed.message.as_deref().unwrap_or(""), 500)
                ))
            }
            stream::Broken::Cut(why) => {
                broken(format!("the reply stream from {provider} broke off: {why}"))
            }
        })
}

/// The whole body, at most `MAX_REPLY_BYTES`; `started` called when its
/// first bytes are in.
async fn read_capped(
    mut response: reqwest::Response,
    timeout: Duration,
    started: Option<&stream::Hook>,
) -> Result<Vec<u8>, CallError> {
    let too_big = || CallError {
        fault: Fault::None,
        class: FailureClass::Permanent,
        status: None,
        message: format!(
            "reply larger than {} MiB; refusing to read it",
            MAX_REPLY_BYTES >> 20
        ),
        retry_after: None,
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(e, timeout))? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(too_big());
        }
        if body.is_empty() && !chunk.is_empty() {
            if let Some(hook) = started {
                hook();
            }
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `base` with `suffix` appended to its path, its query (Azure's
/// `?api-version=...`) kept after the path.
pub(crate) fn endpoint(base: &str, suffix: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(base).ok()?;
    let path = format!("{}/{suffix}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Some(url)
}

fn transport(e: reqwest::Error, timeout: Duration) -> CallError {
    // The URL may carry query values (an Azure api-version, a key); never show it.
    let e = e.without_url();
    let message = if e.is_timeout() {
        format!(
            "no complete reply within the request timeout of {}",
            humantime::format_duration(timeout)
        )
    } else if e.is_connect() {
        format!("could not connect: {}", root_cause(&e))
    } else {
        format!("network error: {}", root_cause(&e))
    };
    CallError {
        fault: fault_of(&e),
        class: FailureClass::Transient,
        status: None,
        message,
        retry_after: None,
    }
}

/// Why a connection failed, from the error's chain of causes: a refused
/// connection is an `io::Error` of its kind; a name that does not resolve
/// is told by the resolver's words, the only trace it leaves.
fn fault_of(e: &reqwest::Error) -> Fault {
    if !e.is_connect() {
        return Fault::None;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Fault::Refused;
            }
        }
        let text = err.to_string();
        if text.contains("dns error") || text.contains("failed to lookup") {
            return Fault::NoSuchHost;
        }
        cur = err.source();
    }
    Fault::Unreachable
}

/// The innermost error message (reqwest's own Display is just "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    let mut parts = vec![e.to_string()];
    while let Some(next) = cur.source() {
        parts.push(next.to_string());
        cur = next;
    }
    parts.dedup();
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_stream_is_a_transient_failure_saying_why() {
        let anthropic = protocol::for_kind(crate::config::ProviderKind::Anthropic);
        let error = b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let e = unstreamed(anthropic, error, "claude").unwrap_err();
        assert_eq!(e.class, FailureClass::Transient);
        assert_eq!(
            e.message,
            "claude sent an error in the reply stream: overloaded_error: Overloaded"
        );
        let openai = protocol::for_kind(crate::config::ProviderKind::Openai);
        let cut = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\"}}]}\n\n";
        let e = unstreamed(openai, cut, "openai").unwrap_err();
        assert_eq!(e.class, FailureClass::Transient);
        assert_eq!(
            e.message,
            "the reply stream from openai broke off: it ended before its last chunk"
        );
    }
}
