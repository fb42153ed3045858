//! A fake OpenAI-compatible (and Anthropic) server on 127.0.0.1 that records
//! every request and how many were in flight at once, and answers each one
//! from a script. It runs on its own thread and runtime, so tests can block
//! on the binary while it serves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// When the server had read it.
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The system prompt: OpenAI's first message, or Anthropic's blocks joined.
    pub fn system(&self) -> String {
        if let Some(s) = self.body["messages"][0]["content"].as_str() {
            return s.to_string();
        }
        match &self.body["system"] {
            Value::String(s) => s.clone(),
            Value::Array(blocks) => blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }

    /// The agent id, from the system prompt bsu renders ("You are Agent <id>"
    /// after the shared part).
    pub fn agent(&self) -> String {
        let system = self.system();
        system
            .split_once("\nYou are Agent ")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split([',', '.', ' ']).next())
            .unwrap_or("")
            .to_string()
    }

    /// The user message (OpenAI shape or Anthropic shape).
    pub fn user(&self) -> String {
        let messages = self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        messages
            .iter()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or("")
            .to_string()
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
    /// Streamed: when the first event goes (the time to a first token);
    /// the rest goes at `delay`.
    pub first_token: Duration,
    /// The reply is held (up to `delay`) only until the fake has seen this
    /// many requests.
    pub until_seen: Option<usize>,
    /// Answered whole even when a stream is asked for, as some servers do.
    pub whole: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
            delay: Duration::ZERO,
            first_token: Duration::ZERO,
            until_seen: None,
            whole: false,
        }
    }

    /// A chat completion whose content is `content`.
    pub fn content(content: &str) -> Self {
        Reply::json(
            200,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "fake",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
            }),
        )
    }

    /// A completion carrying a verdict.
    pub fn verdict(decision: &str, score: u32) -> Self {
        Reply::content(
            &json!({"decision": decision, "score": score, "comments": format!("decided {decision}"),
                    "findings": [], "actions": []})
            .to_string(),
        )
    }

    /// An Anthropic Messages reply.
    pub fn anthropic(content: &str) -> Self {
        Reply::json(
            200,
            json!({"id": "msg_1", "type": "message", "role": "assistant",
                   "content": [{"type": "text", "text": content}],
                   "usage": {"input_tokens": 50, "output_tokens": 10}}),
        )
    }

    pub fn error(status: u16, message: &str) -> Self {
        Reply::json(
            status,
            json!({"error": {"message": message, "type": "server_error", "code": null}}),
        )
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    pub fn first_token(mut self, d: Duration) -> Self {
        self.first_token = d;
        self
    }

    pub fn whole(mut self) -> Self {
        self.whole = true;
        self
    }

    pub fn until_seen(mut self, n: usize) -> Self {
        self.until_seen = Some(n);
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Script = Box<dyn Fn(&Request) -> Reply + Send + Sync>;

struct State {
    requests: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Streamed replies whose start has been sent.
    streams_started: AtomicUsize,
    script: Mutex<Arc<Script>>,
    /// Set by `Fake::caching`: the shared prefixes of requests answered so
    /// far, which later requests find in the "prompt cache".
    cache: Option<Mutex<std::collections::HashSet<String>>>,
}

pub struct Fake {
    pub url: String,
    state: Arc<State>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Fake {
    /// Start a server that answers every request with `script(request)`.
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            streams_started: AtomicUsize::new(0),
            script: Mutex::new(Arc::new(Box::new(script))),
            cache: None,
        });
        Fake::serve_state(state)
    }

    /// A server with a prompt cache as providers have one: a request's
    /// shared prefix (its system prompt up to bsu's role marker) is served
    /// from the cache only when an earlier request with it was answered
    /// already. Usage counts a token per 4 bytes, cached ones in OpenAI's
    /// `prompt_tokens_details.cached_tokens`.
    pub fn caching(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            streams_started: AtomicUsize::new(0),
            script: Mutex::new(Arc::new(Box::new(script))),
            cache: Some(Mutex::new(Default::default())),
        });
        Fake::serve_state(state)
    }

    fn serve_state(state: Arc<State>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            if let Ok((sock, _)) = accepted {
                                tokio::spawn(serve(sock, st.clone()));
                            }
                        }
                    }
                }
            });
        });
        Fake {
            url,
            state,
            _shutdown: tx,
        }
    }

    /// Every agent approves.
    pub fn approving() -> Self {
        Fake::start(|_| Reply::verdict("approve", 9))
    }

    /// Every agent approves but `odd`, which gets `reply`.
    pub fn all_approve_but(odd: &'static str, reply: Reply) -> Self {
        Fake::start(move |r| {
            if r.agent() == odd {
                reply.clone()
            } else {
                Reply::verdict("approve", 9)
            }
        })
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests answered as a stream, counted as each stream starts.
    pub fn streams_started(&self) -> usize {
        self.state.streams_started.load(Ordering::SeqCst)
    }

    pub fn set_script(&self, script: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        *self.state.script.lock().unwrap() = Arc::new(Box::new(script));
    }
}

async fn serve(mut sock: tokio::net::TcpStream, state: Arc<State>) {
    let Some(req) = read_request(&mut sock).await else {
        return;
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    state.requests.lock().unwrap().push(req.clone());
    let script = state.script.lock().unwrap().clone();
    let mut reply = script(&req);
    // bsu's shared part ends at its role marker's own line (the marker is
    // also quoted in the first sentence).
    let system = req.system();
    let prefix = system
        .rsplit_once("=== Your role ===")
        .map_or("", |(p, _)| p)
        .to_string();
    if let Some(cache) = &state.cache {
        let hit = cache.lock().unwrap().contains(&prefix);
        let prompt = (req.system().len() + req.user().len()) as u64 / 4;
        let cached = if hit { prefix.len() as u64 / 4 } else { 0 };
        if let Ok(mut body) = serde_json::from_str::<Value>(&reply.body) {
            if body["usage"].is_object() {
                body["usage"]["prompt_tokens"] = json!(prompt);
                body["usage"]["total_tokens"] = json!(prompt + 20);
                body["usage"]["prompt_tokens_details"] = json!({"cached_tokens": cached});
                reply.body = body.to_string();
            }
        }
    }
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if req.body["stream"] == true && reply.status == 200 && body.is_object() && !reply.whole {
        // Streamed: the start goes at once, when the prompt (and so its
        // prefix) has been read; the rest after the delay.
        let (start, rest) = streamed(&body, req.body["stream_options"]["include_usage"] == true);
        let mut head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
                .to_string();
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = sock.write_all(head.as_bytes()).await;
        tokio::time::sleep(reply.first_token).await;
        let _ = sock.write_all(start.as_bytes()).await;
        let _ = sock.flush().await;
        if let Some(cache) = &state.cache {
            cache.lock().unwrap().insert(prefix);
        }
        state.streams_started.fetch_add(1, Ordering::SeqCst);
        hold(
            &reply,
            &state,
            reply.delay.saturating_sub(reply.first_token),
        )
        .await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = sock.write_all(rest.as_bytes()).await;
        let _ = sock.shutdown().await;
        return;
    }
    hold(&reply, &state, reply.delay).await;
    if let Some(cache) = &state.cache {
        // Processed: the prefix is in the cache for later requests.
        cache.lock().unwrap().insert(prefix);
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(reply.body.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// Wait `d`, or less: until the fake has seen `until_seen` requests.
async fn hold(reply: &Reply, state: &State, d: Duration) {
    let end = tokio::time::Instant::now() + d;
    match reply.until_seen {
        None => tokio::time::sleep_until(end).await,
        Some(n) => {
            while state.requests.lock().unwrap().len() < n && tokio::time::Instant::now() < end {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// A reply body as the provider streams it (OpenAI's chat completion
/// chunks, or Anthropic's Messages events): the stream's first event, and
/// the rest, the text in two deltas.
fn streamed(body: &Value, include_usage: bool) -> (String, String) {
    let data = |v: Value| format!("data: {v}\n\n");
    let event = |name: &str, v: Value| format!("event: {name}\ndata: {v}\n\n");
    let halves = |text: &str| {
        let mid = (0..=text.len() / 2)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        (text[..mid].to_string(), text[mid..].to_string())
    };
    if body["type"] == "message" {
        let (a, b) = halves(body["content"][0]["text"].as_str().unwrap_or(""));
        let mut usage = body["usage"].clone();
        let output = usage["output_tokens"].take();
        usage["output_tokens"] = json!(1);
        let start = event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                   "role": "assistant", "content": [], "model": "fake", "stop_reason": null,
                   "usage": usage}}),
        );
        let mut rest = event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}),
        );
        rest.push_str(&event("ping", json!({"type": "ping"})));
        for part in [a, b] {
            rest.push_str(&event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": part}}),
            ));
        }
        rest.push_str(&event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ));
        let stop = body
            .get("stop_reason")
            .cloned()
            .unwrap_or(json!("end_turn"));
        rest.push_str(&event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop},
                   "usage": {"output_tokens": output}}),
        ));
        rest.push_str(&event("message_stop", json!({"type": "message_stop"})));
        return (start, rest);
    }
    let choice = &body["choices"][0];
    let (a, b) = halves(choice["message"]["content"].as_str().unwrap_or(""));
    let chunk = |delta: Value, finish: Value| {
        data(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "fake",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    let start = chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    let mut rest = chunk(json!({"content": a}), Value::Null);
    rest.push_str(&chunk(json!({"content": b}), Value::Null));
    rest.push_str(&chunk(json!({}), choice["finish_reason"].clone()));
    if include_usage {
        rest.push_str(&data(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                   "choices": [], "usage": body["usage"]}),
        ));
    }
    rest.push_str("data: [DONE]\n\n");
    (start, rest)
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let raw = String::from_utf8_lossy(&buf[header_end..]).into_owned();
    Some(Request {
        method,
        path,
        headers,
        body: serde_json::from_str(&raw).unwrap_or(Value::Null),
        at: std::time::Instant::now(),
    })
}
