//! The OpenAI-compatible chat-completions wire format.

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use serde_json::json;

use super::protocol::Unreadable;
use super::stream::{Broken, Event};
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
    auth: HeaderValue,
    req: &ChatRequest,
    stream: bool,
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
    if stream {
        // The last chunk then carries the usage.
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
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

/// Chunks back into a completion: the first choice's content deltas joined
/// (no content at all reads as none, as unstreamed), the last finish
/// reason, the last usage. Ended by `data: [DONE]`, or for servers that
/// leave it out by the usage chunk, which comes last (its `choices` empty),
/// or by usage beside the finish reason: a stream cut after the finish
/// reason but before the usage would price the call at nothing, so it is
/// not a reply. Usage in a chunk that neither ends nor finishes (vLLM's
/// `continuous_usage_stats` puts it in every chunk) does not end it.
fn unstream(events: &[Event]) -> Result<Vec<u8>, Broken> {
    use serde_json::Value;
    let (mut content, mut finish, mut usage) = (None::<String>, Value::Null, Value::Null);
    let mut done = false;
    for e in events {
        if e.data == "[DONE]" {
            done = true;
            break;
        }
        let v: Value = serde_json::from_str(&e.data)
            .map_err(|err| Broken::Cut(format!("an event is not JSON ({err})")))?;
        if v.get("error").is_some() {
            return Err(Broken::Error(e.data.clone()));
        }
        let index = v.pointer("/choices/0/index").and_then(Value::as_u64);
        if index.is_some_and(|i| i != 0) {
            continue;
        }
        if let Some(text) = v
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            content.get_or_insert_with(String::new).push_str(text);
        }
        let finished = v
            .pointer("/choices/0/finish_reason")
            .filter(|f| !f.is_null());
        if let Some(f) = finished {
            finish = f.clone();
        }
        if v.get("usage").is_some_and(Value::is_object) {
            usage = v["usage"].clone();
            let last = v["choices"].as_array().is_none_or(Vec::is_empty);
            done = last || finished.is_some();
        }
    }
    if !done {
        return Err(Broken::Cut("it ended before its last chunk".into()));
    }
    let body = json!({
        "choices": [{"message": {"content": content}, "finish_reason": finish}],
        "usage": usage,
    });
    Ok(body.to_string().into_bytes())
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

    #[test]
    fn a_stream_reads_back_as_the_completion_it_streams() {
        use crate::client::stream::{events, Broken};
        let chunks = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"a\\\":\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"1}\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,",
            "\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
            "data: [DONE]\n\n"
        );
        let body = super::unstream(&events(chunks.as_bytes())).unwrap();
        let r = super::parse(&body).unwrap();
        assert_eq!(r.content, "{\"a\":1}");
        assert!(r.cut_off);
        assert_eq!(
            (
                r.usage.prompt_tokens,
                r.usage.completion_tokens,
                r.usage.cached_prompt_tokens
            ),
            (9, 3, 4)
        );
        // Cut before its end, or an error in the stream: not a reply.
        let cut = &chunks[..chunks
            .find("data: {\"choices\":[{\"index\":0,\"delta\":{},")
            .unwrap()];
        assert!(matches!(
            super::unstream(&events(cut.as_bytes())),
            Err(Broken::Cut(_))
        ));
        // Another choice's deltas are not this reply's; no content at all
        // is no content, as unstreamed.
        let other = "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"x\"}}]}\n\n";
        let finish =
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
        let done = "data: [DONE]\n\n";
        let whole = format!("{other}{finish}{done}");
        let body = super::unstream(&events(whole.as_bytes())).unwrap();
        assert!(
            super::parse(&body).is_err(),
            "{}",
            String::from_utf8_lossy(&body)
        );
        // Cut after the finish reason, before the usage: not a reply.
        assert!(matches!(
            super::unstream(&events(finish.as_bytes())),
            Err(Broken::Cut(_))
        ));
        // No [DONE], but the usage chunk, which comes last: a reply.
        let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n";
        let no_done = format!("{finish}{usage}");
        assert!(super::unstream(&events(no_done.as_bytes())).is_ok());
        // Usage in every chunk (vLLM's `continuous_usage_stats`): a stream
        // cut before its finish is not a reply; one whose finish chunk
        // carries usage is, with the last usage.
        let running = |content: &str, finish: &str, n: u32| {
            format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{content:?}}},\
                 \"finish_reason\":{finish}}}],\"usage\":{{\"prompt_tokens\":7,\
                 \"completion_tokens\":{n},\"total_tokens\":{}}}}}\n\n",
                7 + n
            )
        };
        let cut = format!(
            "{}{}",
            running("{\"a\"", "null", 1),
            running(":1", "null", 2)
        );
        assert!(matches!(
            super::unstream(&events(cut.as_bytes())),
            Err(Broken::Cut(_))
        ));
        let whole = format!("{cut}{}", running("}", "\"stop\"", 3));
        let r = super::parse(&super::unstream(&events(whole.as_bytes())).unwrap()).unwrap();
        assert_eq!(
            (r.content.as_str(), r.usage.completion_tokens),
            ("{\"a\":1}", 3)
        );
        let error = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
        assert!(matches!(
            super::unstream(&events(error.as_bytes())),
            Err(Broken::Error(_))
        ));
        assert!(matches!(
            super::unstream(&events(b"data: nope\n\n")),
            Err(Broken::Cut(_))
        ));
    }
}
