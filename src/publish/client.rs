//! A code host's REST API (GitHub's, or GitLab's v4): one request at a time
//! with the host's own retry budget.
//! Rate limits (`retry-after`, `x-ratelimit-remaining: 0` with
//! `x-ratelimit-reset`, secondary limits' 403/429) and transient failures
//! (connection errors, 5xx) are retried by the model calls' rules, never past
//! the publish deadline. The token is redacted from everything kept.

use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::ApiKey;

/// Which code host an `Api` speaks to: its headers and its name in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    GitHub,
    GitLab,
}

impl Host {
    fn name(self) -> &'static str {
        match self {
            Host::GitHub => "GitHub",
            Host::GitLab => "GitLab",
        }
    }
}

pub(crate) struct Api {
    host: Host,
    http: reqwest::Client,
    base: String,
    token: ApiKey,
    max_retries: u32,
    deadline: Instant,
    /// Who the token is, asked once per client (`github::identity`).
    pub(super) identity: tokio::sync::OnceCell<String>,
}

/// A failed request: the status when there was one, and a redacted message.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: Option<u16>,
    pub message: String,
    /// GitHub's rate limit (primary or secondary) outlasted the retries.
    pub rate_limited: bool,
}

impl ApiError {
    pub(crate) fn new(status: Option<u16>, message: String) -> Self {
        ApiError {
            status,
            message,
            rate_limited: false,
        }
    }
}

/// Text fields of a request body that people read on GitHub.
const PROSE_KEYS: &[&str] = &[
    "body",
    "summary",
    "text",
    "title",
    "message",
    "raw_details",
    "description",
];

/// Every prose field of `v` with its @-mentions made inert: model text must
/// not notify anyone (GitHub notifies on every new comment and review). On
/// GitLab its quick actions too: a line of a note that starts `/approve`,
/// `/merge` or `/label` is carried out with the token's rights.
fn defang(v: &mut Value, prose: bool, host: Host) {
    match v {
        Value::String(s) if prose => {
            *s = crate::text::defang_outside_fences(s);
            if host == Host::GitLab {
                *s = crate::text::inert_quick_actions(s);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| defang(x, prose, host)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                defang(
                    x,
                    PROSE_KEYS.contains(&k.as_str()) || (prose && !x.is_string()),
                    host,
                );
            }
        }
        _ => {}
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    /// Why a redirect was not followed (`net::refused`), when it was one.
    pub refused: Option<String>,
}

const MAX_BODY: usize = 8 * 1024 * 1024;

/// The path `send` takes for a GraphQL request.
pub(crate) const GRAPHQL: &str = "/graphql";

impl Api {
    pub(crate) fn new(
        base: &str,
        token: ApiKey,
        max_retries: u32,
        timeout: Duration,
    ) -> Result<Api, reqwest::Error> {
        let http = crate::net::client()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Api {
            host: Host::GitHub,
            http,
            base: base.to_string(),
            token,
            max_retries,
            deadline: crate::engine::deadline::after(Instant::now(), timeout),
            identity: tokio::sync::OnceCell::new(),
        })
    }

    /// The same client, for `host`.
    pub(crate) fn for_host(mut self, host: Host) -> Api {
        self.host = host;
        self
    }

    /// A GraphQL query or mutation: its `data`, or the first error GitHub
    /// names (GraphQL answers errors with HTTP 200).
    pub(crate) async fn graphql(&self, query: &str, variables: Value) -> Result<Value, ApiError> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let resp = self
            .send(reqwest::Method::POST, GRAPHQL, Some(&body))
            .await?;
        if let Some(e) = resp.body["errors"].as_array().and_then(|e| e.first()) {
            let message = e["message"].as_str().unwrap_or("an error");
            return Err(ApiError::new(
                Some(resp.status),
                self.token
                    .redact(&format!("GraphQL: {}", crate::text::one_line(message, 300))),
            ));
        }
        Ok(resp.body["data"].clone())
    }

    /// `method path` with an optional JSON body; retried as the rules say.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let body = body.map(|b| {
            let mut b = b.clone();
            defang(&mut b, false, self.host);
            b
        });
        let body = body.as_ref();
        let mut retry = 0u32;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ApiError::new(
                    None,
                    format!("{method} {path}: the publish deadline passed"),
                ));
            }
            let result = self.once(method.clone(), path, body, left).await;
            let (wait, error) = match result {
                Ok(r) if (200..300).contains(&r.status) => return Ok(r),
                Ok(r) => {
                    let message = describe(&method, path, &r);
                    let limited = rate_limited(&r);
                    let transient = r.status >= 500 || r.status == 408;
                    let error = ApiError {
                        status: Some(r.status),
                        message: self.token.redact(&message),
                        rate_limited: limited.is_some(),
                    };
                    match limited {
                        Some(wait) => (Some(wait), error),
                        None if transient => (None, error),
                        None => return Err(error),
                    }
                }
                Err(e) => (None, e),
            };
            if retry >= self.max_retries {
                return Err(error);
            }
            let delay = wait.unwrap_or_else(|| crate::engine::caller::backoff(retry, None, 0.5));
            if Instant::now()
                .checked_add(delay)
                .is_none_or(|t| t >= self.deadline)
            {
                return Err(ApiError {
                    message: format!(
                        "{} ({} asked to wait {}, past the publish deadline)",
                        error.message,
                        self.host.name(),
                        humantime::format_duration(Duration::from_secs(delay.as_secs()))
                    ),
                    ..error
                });
            }
            tracing::debug!(%path, retry = retry + 1, ?delay, host = self.host.name(), "retrying after: {}", error.message);
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    async fn once(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        left: Duration,
    ) -> Result<Response, ApiError> {
        let url = match path {
            // GitHub's GraphQL endpoint: `/graphql` beside the REST root
            // (`https://api.github.com/graphql`; on GitHub Enterprise Server
            // `https://HOST/api/graphql` beside `https://HOST/api/v3`).
            GRAPHQL => match self.base.strip_suffix("/api/v3") {
                Some(host) => format!("{host}/api/graphql"),
                None => format!("{}/graphql", self.base),
            },
            _ => format!("{}{path}", self.base),
        };
        let auth = crate::client::secret::bearer(&self.token).ok_or_else(|| {
            ApiError::new(
                None,
                format!(
                    "the {} token cannot be sent in an HTTP header",
                    self.host.name()
                ),
            )
        })?;
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(AUTHORIZATION, auth)
            .timeout(left.min(Duration::from_secs(60)));
        if self.host == Host::GitHub {
            req = req
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |e: reqwest::Error| ApiError {
            status: None,
            rate_limited: false,
            message: self
                .token
                .redact(&format!("{method} {path}: {}", e.without_url())),
        };
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(ApiError::new(
                    Some(status),
                    format!("{method} {path}: reply larger than 8 MiB"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        let refused = crate::net::refused(status, &headers, &url);
        Ok(Response {
            status,
            headers,
            body,
            refused,
        })
    }
}

/// How long GitHub asks to wait, when it says so: `retry-after`, or a spent
/// primary limit (`x-ratelimit-remaining: 0` until `x-ratelimit-reset`).
fn rate_limited(r: &Response) -> Option<Duration> {
    if !matches!(r.status, 403 | 429) {
        return None;
    }
    let mut h = HeaderMap::new();
    for name in ["retry-after", "retry-after-ms"] {
        if let Some(v) = r.headers.get(name) {
            h.insert(name, v.clone());
        }
    }
    if let Some(wait) = crate::client::error::retry_after(&h) {
        return Some(wait);
    }
    let get = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // GitLab: `RateLimit-Reset` (Unix seconds) on a 429.
    let spent = get("x-ratelimit-remaining") == Some("0")
        || (r.status == 429 && get("ratelimit-reset").is_some());
    if spent {
        let reset: u64 = get("x-ratelimit-reset")
            .or_else(|| get("ratelimit-reset"))?
            .parse()
            .ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        return Some(Duration::from_secs(
            reset.saturating_sub(now).min(24 * 3600),
        ));
    }
    // A secondary limit without a retry-after: GitHub asks for at least a minute.
    let text = r.body.to_string().to_ascii_lowercase();
    (r.status == 429 || text.contains("secondary rate limit")).then(|| Duration::from_secs(60))
}

fn describe(method: &reqwest::Method, path: &str, r: &Response) -> String {
    if let Some(why) = &r.refused {
        return format!("{method} {path}: {why}");
    }
    let message = r
        .body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::text::one_line(&r.body.to_string(), 300));
    format!(
        "{method} {path}: HTTP {}: {}",
        r.status,
        crate::text::one_line(&message, 300)
    )
}
