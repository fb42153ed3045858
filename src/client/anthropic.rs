//! The Anthropic Messages API wire format.

use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::json;

use super::protocol::Unreadable;
use super::stream::{Broken, Event};
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
        stream: bool,
    ) -> reqwest::RequestBuilder {
        request(http, url, auth, req, stream)
    }

    fn parse(&self, body: &[u8]) -> Result<ChatReply, Unreadable> {
        parse(body)
    }

    fn unstream(&self, events: &[Event]) -> Result<Vec<u8>, Broken> {
        unstream(events)
    }
}

fn request(
    http: &reqwest::Client,
    url: reqwest::Url,
    key: HeaderValue,
    req: &ChatRequest,
    stream: bool,
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
    if stream {
        body["stream"] = json!(true);
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

/// Events back into a message: the text deltas joined, the stop reason of
/// `message_delta`, the usage of `message_start` updated by
/// `message_delta`'s. Ended by `message_stop`.
fn unstream(events: &[Event]) -> Result<Vec<u8>, Broken> {
    use serde_json::Value;
    let (mut text, mut stop) = (String::new(), Value::Null);
    let mut usage = serde_json::Map::new();
    let mut done = false;
    for e in events {
        let v: Value = serde_json::from_str(&e.data)
            .map_err(|err| Broken::Cut(format!("an event is not JSON ({err})")))?;
        let mut add_usage = |u: Option<&Value>| {
            for (k, n) in u.and_then(Value::as_object).into_iter().flatten() {
                usage.insert(k.clone(), n.clone());
            }
        };
        match v["type"].as_str() {
            Some("message_start") => add_usage(v.pointer("/message/usage")),
            Some("content_block_delta")
                if v.pointer("/delta/type").and_then(Value::as_str) == Some("text_delta") =>
            {
                text.push_str(
                    v.pointer("/delta/text")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
            }
            Some("message_delta") => {
                if let Some(s) = v.pointer("/delta/stop_reason") {
                    stop = s.clone();
                }
                add_usage(v.get("usage"));
            }
            Some("message_stop") => {
                done = true;
                break;
            }
            Some("error") => return Err(Broken::Error(e.data.clone())),
            _ => {}
        }
    }
    if !done {
        return Err(Broken::Cut("it ended before message_stop".into()));
    }
    let body = json!({
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "usage": usage,
    });
    Ok(body.to_string().into_bytes())
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
        let built = super::request(&http, url, key, &req, false)
            .build()
            .unwrap();
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

    #[test]
    fn a_stream_reads_back_as_the_message_it_streams() {
        use crate::client::stream::{events, Broken};
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"content\":[],",
            "\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":300,\"cache_creation_input_tokens\":40,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"o\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"k\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":5}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        );
        let body = super::unstream(&events(stream.as_bytes())).unwrap();
        let r = super::parse(&body).unwrap();
        assert_eq!(r.content, "ok");
        assert!(r.cut_off);
        assert_eq!(r.usage.prompt_tokens, 350);
        assert_eq!(r.usage.cached_prompt_tokens, 300);
        assert_eq!(r.usage.cache_creation_tokens, 40);
        assert_eq!(r.usage.completion_tokens, 5);
        let cut = &stream[..stream.find("event: message_stop").unwrap()];
        assert!(matches!(
            super::unstream(&events(cut.as_bytes())),
            Err(Broken::Cut(_))
        ));
        let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        assert!(matches!(
            super::unstream(&events(error.as_bytes())),
            Err(Broken::Error(_))
        ));
    }
}
