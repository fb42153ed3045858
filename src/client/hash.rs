//! The hash that names a request: the response cache's key and a
//! recording's name. SHA-256 of the request as JSON with every object's keys
//! in order (as a `serde_json::Value` prints them), written straight into the
//! hash: a panel's prompts are megabytes, and the hashes once copied each
//! twice (a value tree, then its text).
//!
//! A panel's agents share the large first part of their prompts (the
//! payload and the inputs): the hash's state after it is kept for the last
//! few such parts, compared whole before it is used, so each further agent
//! hashes only what is its own.

use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::ChatRequest;
use crate::config::{Provider, ProviderKind};

/// SHA-256 of the request as a recording names it: the provider's kind, the
/// model, the parameters and the messages, but not the endpoint, so a
/// recording replays whatever `base_url` (or `OPENAI_BASE_URL`) says.
pub(crate) fn recording_hash(provider: &Provider, req: &ChatRequest) -> String {
    digest(None, provider.kind, req)
}

/// SHA-256 of everything that decides the reply: endpoint, model, parameters
/// and messages. The response cache uses the same key.
pub(crate) fn request_hash(provider: &Provider, req: &ChatRequest) -> String {
    digest(Some(&provider.base_url), provider.kind, req)
}

/// `{"endpoint":…,"kind":…,"request":{"max_tokens":…,"model":…,"shared":…,
/// "system":…,"temperature":…,"user":…}}`, without `endpoint` for a recording.
fn digest(endpoint: Option<&str>, kind: ProviderKind, r: &ChatRequest) -> String {
    let head = Head {
        endpoint,
        kind,
        max_tokens: r.max_tokens,
        model: &r.model,
        shared: &r.shared,
    };
    let mut h = Hashing(kept_state(&head));
    h.0.update(b",\"system\":");
    json(&mut h, &r.system);
    h.0.update(b",\"temperature\":");
    json(&mut h, &r.temperature);
    h.0.update(b",\"user\":");
    json(&mut h, &r.user);
    h.0.update(b"}}");
    crate::text::hex(&h.0.finalize())
}

/// What the JSON holds up to the end of the shared part.
#[derive(Clone, Copy)]
struct Head<'a> {
    endpoint: Option<&'a str>,
    kind: ProviderKind,
    max_tokens: Option<u32>,
    model: &'a str,
    shared: &'a str,
}

impl Head<'_> {
    fn state(&self) -> Sha256 {
        let mut h = Hashing(Sha256::new());
        h.0.update(b"{");
        if let Some(e) = self.endpoint {
            h.0.update(b"\"endpoint\":");
            json(&mut h, e);
            h.0.update(b",");
        }
        h.0.update(b"\"kind\":");
        json(&mut h, &self.kind);
        h.0.update(b",\"request\":{\"max_tokens\":");
        json(&mut h, &self.max_tokens);
        h.0.update(b",\"model\":");
        json(&mut h, self.model);
        h.0.update(b",\"shared\":");
        json(&mut h, self.shared);
        h.0
    }
}

/// A shared part this long or longer is worth keeping the state after.
const WORTH_KEEPING: usize = 16 * 1024;
/// How many such states are kept (a panel's batches).
const KEPT: usize = 8;

struct Kept {
    endpoint: Option<String>,
    kind: ProviderKind,
    max_tokens: Option<u32>,
    model: String,
    shared: String,
    state: Sha256,
}

impl Kept {
    fn is(&self, h: &Head<'_>) -> bool {
        self.shared.len() == h.shared.len()
            && self.kind == h.kind
            && self.max_tokens == h.max_tokens
            && self.endpoint.as_deref() == h.endpoint
            && self.model == h.model
            && self.shared == h.shared
    }
}

static KEPT_STATES: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// The hash's state after `head`: kept from an earlier request whose head
/// is equal, byte for byte, or made (and kept when its shared part is long).
fn kept_state(head: &Head<'_>) -> Sha256 {
    if head.shared.len() < WORTH_KEEPING {
        return head.state();
    }
    let lock = || KEPT_STATES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = lock().iter().find(|k| k.is(head)) {
        return k.state.clone();
    }
    let state = head.state();
    let mut kept = lock();
    if kept.len() == KEPT {
        kept.remove(0);
    }
    kept.push(Kept {
        endpoint: head.endpoint.map(str::to_string),
        kind: head.kind,
        max_tokens: head.max_tokens,
        model: head.model.to_string(),
        shared: head.shared.to_string(),
        state: state.clone(),
    });
    state
}

fn json<T: serde::Serialize + ?Sized>(h: &mut Hashing, value: &T) {
    serde_json::to_writer(h, value).expect("plain data serialises");
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The hashes are the same bytes as the value tree they replaced printed:
    /// recordings and cached replies keep their names.
    #[test]
    fn the_hashes_keep_their_names() {
        let provider = Provider {
            name: "openai".into(),
            kind: ProviderKind::Openai,
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
        // Long shared parts are hashed from a kept state: equal ones, ones
        // differing in their last byte, and the same part after others.
        let long = "x\"\n".repeat(WORTH_KEEPING);
        let mut cases: Vec<(Option<f64>, Option<u32>, String, String)> = vec![
            (None, None, "plain".into(), "shared plain".into()),
            (
                Some(0.2),
                Some(1500),
                "quotes \" and \\ and\nnewlines\tand é ✓ \u{0}".into(),
                "shared quotes \" and \\ and\nnewlines\tand é ✓ \u{0}".into(),
            ),
            (Some(f64::NAN), Some(0), String::new(), String::new()),
            (
                Some(1e-7),
                None,
                "<script>".into(),
                "shared <script>".into(),
            ),
        ];
        for n in 0..(KEPT + 2) {
            // As long as `long`, its last byte different.
            let mut other = long[..long.len() - 1].to_string();
            other.push(char::from(b'a' + n as u8));
            cases.push((None, Some(9), format!("agent {n}"), long.clone()));
            cases.push((None, Some(9), format!("agent {n}"), other));
            cases.push((Some(0.5), None, format!("agent {n}"), long.clone()));
        }
        for (temperature, max_tokens, text, shared) in cases {
            let req = ChatRequest {
                model: "gpt-4o".into(),
                shared,
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
