//! The call path as a unit, under tokio's paused clock: the HTTP send is a
//! scripted `Transport`, the breaker's clock is a number the test moves, and
//! every timing case runs in milliseconds of real time.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicI64;

use super::*;
use crate::breaker::State;
use crate::client::Usage;
use crate::config::{BreakerSettings, ProviderKind};

#[test]
fn backoff_doubles_to_a_cap_with_jitter_and_honours_retry_after() {
    let secs = |n, j| backoff(n, None, j).as_secs_f64();
    assert_eq!(secs(0, 1.0), 0.5);
    assert_eq!(secs(1, 1.0), 1.0);
    assert_eq!(secs(4, 1.0), 8.0);
    assert_eq!(secs(10, 1.0), 8.0);
    assert_eq!(secs(0, 0.0), 0.25);
    assert_eq!(
        backoff(0, Some(Duration::from_millis(1200)), 0.3),
        Duration::from_millis(1200)
    );
    assert_eq!(
        backoff(0, Some(Duration::from_secs(600)), 0.3),
        Duration::from_secs(60)
    );
}

fn provider(max_retries: u32, threshold: u32) -> Provider {
    Provider {
        name: "openai".into(),
        kind: ProviderKind::Openai,
        base_url: "https://api.openai.com/v1?api-version=2024-01-01".into(),
        api_key_env: "OPENAI_API_KEY".into(),
        model: "m".into(),
        max_concurrency: 4,
        max_retries,
        request_timeout: Duration::from_secs(120),
        context_window: None,
        max_tokens: None,
        fallback: vec![],
        breaker: BreakerSettings {
            failure_threshold: threshold,
            reset_timeout: Duration::from_secs(30),
            max_reset_timeout: Duration::from_secs(600),
        },
    }
}

#[test]
fn breaker_names_are_endpoint_and_key_fingerprint() {
    let mut p = provider(0, 1);
    let a = ApiKey::new("sk-team-a".into());
    let b = ApiKey::new("sk-team-b".into());
    let name = breaker_name(&p, &a);
    assert_eq!(name, format!("openai@api.openai.com#{}", a.fingerprint()));
    assert!(!name.contains("api-version"), "never the query: {name}");
    assert_ne!(name, breaker_name(&p, &b), "one breaker per credential");
    p.base_url = "http://127.0.0.1:8080/v1".into();
    assert!(breaker_name(&p, &a).starts_with("openai@127.0.0.1:8080#"));
}

enum Step {
    /// Never answers: the attempt ends at its timeout.
    Hang,
    Reply(Result<ChatReply, CallError>),
}

/// A scripted server: one step per request, then hangs.
struct Script {
    steps: Mutex<VecDeque<Step>>,
    sent: AtomicU32,
    timeouts: Mutex<Vec<Duration>>,
}

impl Script {
    fn new(steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Script {
            steps: Mutex::new(steps.into()),
            sent: AtomicU32::new(0),
            timeouts: Mutex::new(Vec::new()),
        })
    }
}

impl Transport for Script {
    fn send<'a>(
        &'a self,
        _: &'a Provider,
        _: &'a ApiKey,
        _: &'a ChatRequest,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<ChatReply, CallError>> + Send + 'a>> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.timeouts.lock().unwrap().push(timeout);
        let step = self.steps.lock().unwrap().pop_front().unwrap_or(Step::Hang);
        Box::pin(async move {
            match step {
                Step::Reply(r) => r,
                Step::Hang => {
                    tokio::time::sleep(timeout).await;
                    Err(err(
                        FailureClass::Transient,
                        "no complete reply in time",
                        None,
                    ))
                }
            }
        })
    }
}

fn err(class: FailureClass, message: &str, retry_after: Option<Duration>) -> CallError {
    CallError {
        class,
        status: None,
        fault: crate::client::Fault::None,
        message: message.into(),
        retry_after,
    }
}

fn ok() -> Step {
    Step::Reply(Ok(ChatReply {
        pace: None,
        content: "{\"decision\": \"approve\"}".into(),
        usage: Usage::default(),
        cut_off: false,
    }))
}

fn unavailable(retry_after: Option<Duration>) -> Step {
    Step::Reply(Err(err(FailureClass::Transient, "HTTP 503", retry_after)))
}

struct Rig {
    caller: Caller,
    provider: Provider,
    key: ApiKey,
    script: Arc<Script>,
    clock: Arc<AtomicI64>,
}

fn rig(provider: Provider, steps: Vec<Step>) -> Rig {
    let script = Script::new(steps);
    let key = ApiKey::new("sk-test".into());
    let clock = Arc::new(AtomicI64::new(1_000_000));
    let c = clock.clone();
    let caller = Caller::new(
        script.clone(),
        [(&provider, &key)],
        None,
        None,
        Arc::new(|_: &str| {}),
    )
    .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
    Rig {
        caller,
        provider,
        key,
        script,
        clock,
    }
}

impl Rig {
    async fn call(&self, hash: &str, within: Duration) -> (Called, Duration) {
        let start = Instant::now();
        let req = request();
        let attempts = AtomicU32::new(0);
        let called = self
            .caller
            .call(
                &self.provider,
                &self.key,
                &req,
                hash,
                start + within,
                &attempts,
            )
            .await;
        (called, start.elapsed())
    }

    fn breaker(&self) -> breaker::Breaker {
        self.caller.gate("openai").snapshot()
    }
}

/// `timeout = "90s"` under `request_timeout = "120s"`: the attempt gets 90 s,
/// is cut there, and the breaker counts it.
#[tokio::test(start_paused = true)]
async fn an_attempt_cut_by_the_agent_deadline_is_recorded() {
    let r = rig(provider(2, 5), vec![Step::Hang]);
    let (called, took) = r.call("a", Duration::from_secs(90)).await;
    assert!(
        matches!(&called.result, Err(Failure::Deadline { last: Some(_) })),
        "{:?}",
        called.result
    );
    assert_eq!(called.attempts, 1);
    assert_eq!(took, Duration::from_secs(90));
    assert_eq!(
        *r.script.timeouts.lock().unwrap(),
        [Duration::from_secs(90)],
        "the attempt's timeout is what was left of the agent's time"
    );
    let b = r.breaker();
    assert_eq!((b.failures, b.consecutive_failures), (1, 1));
}

/// A probe cancelled mid-flight must not leave later calls waiting for it.
#[tokio::test(start_paused = true)]
async fn a_cancelled_probe_releases_the_breaker_for_later_calls() {
    let r = rig(provider(0, 1), vec![unavailable(None), Step::Hang]);
    let (first, _) = r.call("a", Duration::from_secs(90)).await;
    assert!(matches!(first.result, Err(Failure::Call(_))));
    assert_eq!(r.breaker().state, State::Open);
    // The reset timeout passes: the next call is the probe, and it is cancelled.
    r.clock.fetch_add(31_000, Ordering::SeqCst);
    let cut = tokio::time::timeout(Duration::from_secs(1), r.call("b", Duration::from_secs(90)));
    assert!(cut.await.is_err(), "the probe hangs and is cancelled");
    assert_eq!(r.script.sent.load(Ordering::SeqCst), 2);
    // A later call is answered at once by the breaker, not after its whole timeout.
    let (third, took) = r.call("c", Duration::from_secs(90)).await;
    assert!(
        matches!(third.result, Err(Failure::Rejected { .. })),
        "{:?}",
        third.result
    );
    assert_eq!(took, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_the_deadline_stops_at_once() {
    let r = rig(
        provider(3, 5),
        vec![unavailable(Some(Duration::from_secs(3600)))],
    );
    let (called, took) = r.call("a", Duration::from_secs(90)).await;
    let Err(Failure::Call(e)) = &called.result else {
        panic!("{:?}", called.result)
    };
    assert!(
        e.message
            .contains("asked to wait 1h, past the agent's deadline"),
        "{}",
        e.message
    );
    assert_eq!((called.attempts, took), (1, Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_within_the_deadline_is_waited_out() {
    let r = rig(
        provider(3, 5),
        vec![unavailable(Some(Duration::from_secs(2))), ok()],
    );
    let (called, took) = r.call("a", Duration::from_secs(90)).await;
    assert!(called.result.is_ok());
    assert_eq!((called.attempts, took), (2, Duration::from_secs(2)));
}

#[tokio::test(start_paused = true)]
async fn a_breaker_that_opens_mid_retry_stops_the_retries() {
    let steps = (0..6)
        .map(|_| unavailable(Some(Duration::from_secs(1))))
        .collect();
    let r = rig(provider(5, 2), steps);
    let (called, _) = r.call("a", Duration::from_secs(600)).await;
    assert!(matches!(called.result, Err(Failure::Call(_))));
    assert_eq!(called.attempts, 2, "retries stop once the breaker opens");
    assert_eq!(r.breaker().state, State::Open);
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_bulkhead_never_outlasts_the_deadline() {
    let mut p = provider(0, 5);
    p.max_concurrency = 1;
    let r = rig(p, vec![Step::Hang, ok()]);
    let (a, b) = tokio::join!(
        r.call("a", Duration::from_secs(100)),
        r.call("b", Duration::from_secs(10)),
    );
    assert!(
        matches!(b.0.result, Err(Failure::Deadline { last: None })),
        "{:?}",
        b.0.result
    );
    assert_eq!((b.0.attempts, b.1), (0, Duration::from_secs(10)));
    assert!(matches!(a.0.result, Err(Failure::Deadline { .. })));
}

/// The call path against a store in memory: a reply is cached and served
/// again without a request, and the breaker's counts outlive the call.
#[tokio::test]
async fn replies_and_breakers_go_through_the_store_interface() {
    let store = Store::in_memory();
    let script = Script::new(vec![ok()]);
    let provider = provider(0, 5);
    let key = ApiKey::new("sk-test".into());
    let cache = CacheSettings {
        enabled: true,
        ttl: Duration::from_secs(60),
        max_bytes: 1 << 20,
    };
    let caller = Caller::new(
        script.clone(),
        [(&provider, &key)],
        Some(store.clone()),
        Some(cache),
        Arc::new(|_: &str| {}),
    );
    let req = request();
    let deadline = Instant::now() + Duration::from_secs(30);
    for expect_cached in [false, true] {
        let attempts = AtomicU32::new(0);
        let called = caller
            .call(&provider, &key, &req, "h", deadline, &attempts)
            .await;
        assert!(called.result.is_ok(), "{:?}", called.result);
        assert_eq!(called.cached, expect_cached);
    }
    // A closed breaker admitted on a read and held the success back: the
    // run's end writes it, once.
    assert!(store.with(|b| b.breakers()).unwrap().is_empty());
    caller.flush().await;
    let breakers = store.with(|b| b.breakers()).unwrap();
    assert_eq!(breakers.len(), 1);
    assert_eq!((breakers[0].1.calls, breakers[0].1.successes), (1, 1));
    // The lookups are held back for the run's end too: a miss, then a hit.
    let stats = store.with(|b| b.cache_stats(i64::MAX / 2)).unwrap();
    assert_eq!((stats.hits, stats.misses), (0, 0));
    let counted = caller.lookups();
    assert_eq!((counted.hits, counted.misses), (1, 1));
    assert!(caller.lookups().is_empty(), "taken once");
}

/// The state is asked to get ready for the run's end once, when the first
/// request goes out, and not before: a run with no request has no model
/// wait to hide it in.
#[tokio::test]
async fn the_state_gets_ready_for_the_end_once_at_the_first_request() {
    let store = Store::in_memory();
    let script = Script::new(vec![ok(), ok()]);
    let provider = provider(0, 5);
    let key = ApiKey::new("sk-test".into());
    let caller = Caller::new(
        script.clone(),
        [(&provider, &key)],
        Some(store.clone()),
        None,
        Arc::new(|_: &str| {}),
    );
    tokio::task::yield_now().await;
    assert_eq!(store.warms(), 0, "asked before any request");
    let req = request();
    let deadline = Instant::now() + Duration::from_secs(30);
    for hash in ["h1", "h2"] {
        let attempts = AtomicU32::new(0);
        let called = caller
            .call(&provider, &key, &req, hash, deadline, &attempts)
            .await;
        assert!(called.result.is_ok(), "{:?}", called.result);
    }
    // Each ask runs on a task of its own: let every one run.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(store.warms(), 1);
}

/// A request with nothing in it but a user message.
fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        shared: String::new(),
        system: String::new(),
        user: "u".into(),
        temperature: None,
        max_tokens: None,
    }
}
