//! The OpenAI-compatible chat-completions wire format.

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use serde_json::json;

use super::protocol::Unreadable;
use super::{ChatReply, ChatRequest, Usage};

/// OpenAI's chat completions, and every server compatible with them.
pub(super) struct OpenAi;

impl super::Protocol for OpenAi {
    fn path(&self) -> &'static str {
        "chat/completions"
    }

    fn auth_value(&self, key: &str) -> String {
        format!("Bearer {key}")
    }

    fn request(
        &self,
        http: &reqwest::Client,
        url: reqwest::Url,
        auth: HeaderValue,
        req: &ChatRequest,
    ) -> reqwest::RequestBuilder {
        request(http, url, auth, req)
    }

    fn parse(&self, body: &[u8]) -> Result<ChatReply, Unreadable> {
        parse(body)
    }
}

fn request(
    http: &reqwest::Client,
    url: reqwest::Url,
    auth: HeaderValue,
    req: &ChatRequest,
) -> reqwest::RequestBuilder {
    let mut body = json!({
        "model": req.model,
        "messages": [
            {"role": "system", "content": super::combined(&req.shared, &req.system)},
            {"role": "user", "content": req.user},
        ],
        "response_format": {"type": "json_object"},
    });
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = req.max_tokens {
        body["max_tokens"] = json!(n);
    }
    // Requests sharing a prefix say so, so OpenAI routes them to the same
    // prompt cache (servers that do not know the field ignore it).
    if !req.shared.is_empty() {
        body["prompt_cache_key"] = json!(cache_key(&req.shared));
    }
    http.post(url).header(AUTHORIZATION, auth).json(&body)
}

/// `bsu-` and 16 hex digits of the shared prefix's SHA-256: the same for
/// every agent of a run that is shown the same prefix, nothing of its text.
pub(crate) fn cache_key(shared: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(shared.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("bsu-{hex}")
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

fn parse(body: &[u8]) -> Result<ChatReply, Unreadable> {
    let raw: serde_json::Value = serde_json::from_slice(body)?;
    let cached = raw
        .pointer("/usage/prompt_tokens_details/cached_tokens")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let cut_off = raw
        .pointer("/choices/0/finish_reason")
        .and_then(serde_json::Value::as_str)
        == Some("length");
    let c: Completion = serde_json::from_value(raw)?;
    let content = c
        .choices
        .into_iter()
        .next()
        .and_then(|ch| ch.message.content)
        .ok_or_else(|| Unreadable("the reply has no choices[0].message.content".into()))?;
    let mut usage = c.usage.unwrap_or_default();
    usage.cached_prompt_tokens = cached.min(usage.prompt_tokens);
    if usage.total_tokens == 0 {
        usage.total_tokens = usage.prompt_tokens.saturating_add(usage.completion_tokens);
    }
    Ok(ChatReply {
        content,
        cut_off,
        usage,
        pace: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn absurd_usage_numbers_are_read_not_refused() {
        let body = br#"{"choices": [{"message": {"content": "x"}}],
            "usage": {"prompt_tokens": -5, "completion_tokens": 1e300, "total_tokens": "12"}}"#;
        let r = super::parse(body).unwrap();
        assert_eq!(r.usage.prompt_tokens, 0);
        assert_eq!(r.usage.completion_tokens, u64::MAX);
        assert_eq!(r.usage.total_tokens, 12);
        assert!(!r.cut_off);
        let cut = br#"{"choices": [{"message": {"content": "{"}, "finish_reason": "length"}]}"#;
        assert!(super::parse(cut).unwrap().cut_off);
    }
}
