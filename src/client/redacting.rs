//! A transport that redacts every secret of the run from what it sends and
//! from everything that comes back (the reply and any error text), so no
//! cache entry, recording, report or publication downstream can hold one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::Transport;
use super::{ApiKey, CallError, ChatReply, ChatRequest};
use crate::config::Provider;
use crate::secrets::Secrets;

pub(crate) struct Redacting {
    pub inner: Arc<dyn Transport>,
    pub secrets: Arc<Secrets>,
}

impl Redacting {
    fn clean(&self, req: &ChatRequest) -> ChatRequest {
        let s = &self.secrets;
        ChatRequest {
            shared: s.redact(&req.shared),
            system: s.redact(&req.system),
            user: s.redact(&req.user),
            ..req.clone()
        }
    }
}

impl Transport for Redacting {
    fn send<'a>(
        &'a self,
        provider: &'a Provider,
        key: &'a ApiKey,
        req: &'a ChatRequest,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>> {
        Box::pin(async move {
            let clean = self.clean(req);
            let s = &self.secrets;
            match self.inner.send(provider, key, &clean, timeout).await {
                Ok(reply) => Ok(ChatReply {
                    content: s.redact(&reply.content),
                    ..reply
                }),
                Err(e) => Err(CallError {
                    message: s.redact(&e.message),
                    ..e
                }),
            }
        })
    }

    fn served_from_cache<'a>(
        &'a self,
        provider: &'a Provider,
        req: &'a ChatRequest,
        reply: &'a ChatReply,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let clean = self.clean(req);
            let reply = ChatReply {
                content: self.secrets.redact(&reply.content),
                ..reply.clone()
            };
            self.inner.served_from_cache(provider, &clean, &reply).await;
        })
    }
}
