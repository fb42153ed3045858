//! One model API's wire protocol behind one trait: where a request goes, how
//! the key travels, the request body, how a reply is read, and what its
//! rate-limit headers ask. OpenAI's chat completions (`openai.rs`) and
//! Anthropic's Messages (`anthropic.rs`) are its two implementations; a new
//! provider kind is one file implementing it and one arm in `for_kind`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::stream::{Broken, Event};
use super::{ChatReply, ChatRequest};
use crate::config::ProviderKind;

/// A successful reply bsu could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unreadable(pub String);

impl From<serde_json::Error> for Unreadable {
    fn from(e: serde_json::Error) -> Self {
        Unreadable(e.to_string())
    }
}

pub(crate) trait Protocol: Send + Sync {
    /// Appended to the provider's `base_url`: `chat/completions`, `messages`.
    fn path(&self) -> &'static str;

    /// The value of the header that carries `key` (`Bearer KEY`, or the key).
    fn auth_value(&self, key: &str) -> String;

    /// The request for `req` to `url`, the key's header value being `auth`;
    /// with `stream`, asking for the reply as server-sent events.
    fn request(
        &self,
        http: &reqwest::Client,
        url: reqwest::Url,
        auth: HeaderValue,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder;

    /// A successful reply's body, read.
    fn parse(&self, body: &[u8]) -> Result<ChatReply, Unreadable>;

    /// A streamed reply's events as the body the same request would have
    /// had unstreamed (for `parse`).
    fn unstream(&self, events: &[Event]) -> Result<Vec<u8>, Broken>;

    /// How long the reply's rate-limit headers ask further requests to wait.
    fn pace(&self, headers: &HeaderMap) -> Option<Duration> {
        super::ratelimit::pace(headers)
    }
}

/// The protocol a provider kind speaks.
pub(crate) fn for_kind(kind: ProviderKind) -> &'static dyn Protocol {
    match kind {
        ProviderKind::Openai => &super::openai::OpenAi,
        ProviderKind::Anthropic => &super::anthropic::Anthropic,
    }
}
