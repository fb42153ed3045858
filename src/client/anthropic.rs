//! The Anthropic Messages API wire format.

use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::json;

use super::protocol::Unreadable;
use super::{ChatReply, ChatRequest, Usage};

/// The Messages API requires `max_tokens`; this is used when the agent sets none.
const DEFAULT_MAX_TOKENS: u32 = 2048;

/// Anthropic's Messages API.
pub(super) struct Anthropic;

impl super::Protocol for Anthropic {
    fn path(&self) -> &'static str {
        "messages"
    }

    fn auth_value(&self, key: &str) -> String {
        key.to_string()
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
    key: HeaderValue,
    req: &ChatRequest,
) -> reqwest::RequestBuilder {
    let mut body = json!({
        "model": req.model,
        // The shared part is its own block, marked as a prompt-cache breakpoint.
        "system": [
            {"type": "text", "text": req.shared, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": format!("{}\n\n{}", super::ROLE_MARKER, req.system)},
        ],
        "messages": [{"role": "user", "content": req.user}],
        "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
    });
    if req.shared.is_empty() {
        // A request of bsu's own (the verifier's): one system block, since
        // Anthropic refuses an empty text block.
        body["system"] = json!([{"type": "text", "text": req.system}]);
    }
    if let Some(t) = req.temperature {
        // Anthropic takes 0..=1; agent files allow 0..=2 (OpenAI's range).
        body["temperature"] = json!(t.min(1.0));
    }
    http.post(url)
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", key)
        .json(&body)
}

#[derive(Deserialize)]
struct Messages {
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: AnthropicUsage,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize, Default)]
struct AnthropicUsage {
    #[serde(default, deserialize_with = "super::count")]
    input_tokens: u64,
    #[serde(default, deserialize_with = "super::count")]
    output_tokens: u64,
    #[serde(default, deserialize_with = "super::count")]
    cache_read_input_tokens: u64,
    #[serde(default, deserialize_with = "super::count")]
    cache_creation_input_tokens: u64,
}

fn parse(body: &[u8]) -> Result<ChatReply, Unreadable> {
    let m: Messages = serde_json::from_slice(body)?;
    let content: String = m
        .content
        .iter()
        .filter(|b| b.kind == "text")
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join("");
    Ok(ChatReply {
        pace: None,
        cut_off: m.stop_reason.as_deref() == Some("max_tokens"),
        content,
        // Anthropic's input_tokens leave out what was read from or written to
        // the cache; bsu's prompt_tokens count every prompt token.
        usage: {
            let u = &m.usage;
            let prompt = u
                .input_tokens
                .saturating_add(u.cache_read_input_tokens)
                .saturating_add(u.cache_creation_input_tokens);
            Usage {
                prompt_tokens: prompt,
                completion_tokens: u.output_tokens,
                total_tokens: prompt.saturating_add(u.output_tokens),
                cached_prompt_tokens: u.cache_read_input_tokens,
                cache_creation_tokens: u.cache_creation_input_tokens,
            }
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_request_without_a_shared_part_sends_no_empty_block() {
        let req = crate::client::ChatRequest {
            model: "claude".into(),
            shared: String::new(),
            system: "verify".into(),
            user: "u".into(),
            temperature: None,
            max_tokens: None,
        };
        let http = reqwest::Client::new();
        let url = reqwest::Url::parse("http://127.0.0.1:9/v1/messages").unwrap();
        let key = reqwest::header::HeaderValue::from_static("k");
        let built = super::request(&http, url, key, &req).build().unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(built.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body["system"],
            serde_json::json!([{"type": "text", "text": "verify"}])
        );
    }

    #[test]
    fn cache_reads_and_writes_are_counted_as_prompt_tokens() {
        let r = super::parse(
            br#"{"content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 10, "output_tokens": 5,
                          "cache_read_input_tokens": 300, "cache_creation_input_tokens": 40}}"#,
        )
        .unwrap();
        assert_eq!(r.usage.prompt_tokens, 350);
        assert_eq!(r.usage.cached_prompt_tokens, 300);
        assert_eq!(r.usage.cache_creation_tokens, 40);
        assert_eq!(r.usage.total_tokens, 355);
        assert!(!r.cut_off);
        let cut = br#"{"content": [{"type": "text", "text": "{"}], "stop_reason": "max_tokens"}"#;
        assert!(super::parse(cut).unwrap().cut_off);
    }
}
