//! `--record DIR` and `--replay DIR`: every model exchange as one readable
//! JSON file per request, named by the request's hash without its endpoint
//! (`recording_hash`), so a run can be replayed with no network and no key,
//! wherever the provider's `base_url` points. Keys are never
//! recorded: requests carry none, and replies are redacted before they get here.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Transport;
use super::{ApiKey, CallError, ChatReply, ChatRequest, FailureClass, Fault, Usage};
use crate::config::Provider;

/// Written as the first words of a replay's missing-recording failure.
pub(crate) const MISSING: &str = "bsu replay: no recording for request";
/// The first words of every replay failure: a missing, unreadable or mismatched recording.
pub(crate) const FAILED: &str = "bsu replay:";

#[derive(Debug, Serialize, Deserialize)]
struct Recording {
    bsu_recording: u32,
    hash: String,
    provider: String,
    model: String,
    /// What was asked, for people reading the recording; a replay matches by `hash` alone.
    #[serde(default)]
    request: serde_json::Value,
    reply: Reply,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    content: String,
    usage: Usage,
}

fn file(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{hash}.json"))
}

/// A transport (the real client, redacting), writing each successful exchange to `dir`.
pub(crate) struct Recorder {
    pub inner: std::sync::Arc<dyn Transport>,
    pub dir: PathBuf,
}

impl Transport for Recorder {
    fn send<'a>(
        &'a self,
        provider: &'a Provider,
        key: &'a ApiKey,
        req: &'a ChatRequest,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>> {
        Box::pin(async move {
            let result = self.inner.send(provider, key, req, timeout).await;
            if let Ok(reply) = &result {
                self.write(provider, req, reply).await;
            }
            result
        })
    }

    fn served_from_cache<'a>(
        &'a self,
        provider: &'a Provider,
        req: &'a ChatRequest,
        reply: &'a ChatReply,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(self.write(provider, req, reply))
    }
}

impl Recorder {
    async fn write(&self, provider: &Provider, req: &ChatRequest, reply: &ChatReply) {
        let hash = super::recording_hash(provider, req);
        let rec = Recording {
            bsu_recording: 1,
            hash: hash.clone(),
            provider: provider.name.clone(),
            model: req.model.clone(),
            request: serde_json::to_value(req).unwrap_or_default(),
            reply: Reply {
                content: reply.content.clone(),
                usage: reply.usage,
            },
        };
        let text = serde_json::to_string_pretty(&rec).unwrap_or_default();
        if let Err(e) = crate::fsio::atomic_write(&file(&self.dir, &hash), text.as_bytes()).await {
            tracing::warn!("could not record the reply in {}: {e}", self.dir.display());
        }
    }
}

/// Serves recorded replies; never touches the network.
pub(crate) struct Replayer {
    pub dir: PathBuf,
}

impl Transport for Replayer {
    fn send<'a>(
        &'a self,
        provider: &'a Provider,
        _: &'a ApiKey,
        req: &'a ChatRequest,
        _: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>> {
        Box::pin(async move {
            let hash = super::recording_hash(provider, req);
            let path = file(&self.dir, &hash);
            let missing = || CallError {
                fault: Fault::None,
                class: FailureClass::Permanent,
                status: None,
                message: format!("{MISSING} {hash} in {}", self.dir.display()),
                retry_after: None,
            };
            let text = tokio::fs::read_to_string(&path)
                .await
                .map_err(|_| missing())?;
            let rec: Recording = serde_json::from_str(&text).map_err(|e| CallError {
                message: format!("bsu replay: {} is not a recording ({e})", path.display()),
                ..missing()
            })?;
            // A recording answers only the request it was made for: the hash it
            // names (of the whole request) and its provider and model must be this one's.
            let mismatch = if rec.hash != hash {
                Some(format!("it names request {}", rec.hash))
            } else if rec.provider != provider.name || rec.model != req.model {
                Some(format!("it was made with {}/{}", rec.provider, rec.model))
            } else {
                None
            };
            if let Some(why) = mismatch {
                return Err(CallError {
                    message: format!(
                        "bsu replay: {} does not answer request {hash} ({why}); record it again",
                        path.display()
                    ),
                    ..missing()
                });
            }
            Ok(ChatReply {
                pace: None,
                content: rec.reply.content,
                usage: rec.reply.usage,
                cut_off: false,
            })
        })
    }
}
