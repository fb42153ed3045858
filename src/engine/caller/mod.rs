//! The call path: every model call an agent makes goes through `Caller::call`,
//! which wraps `Client::send` in layers, outermost first:
//!
//! 1. in-flight sharing — identical requests in one run share one call;
//! 2. the response cache — a fresh stored reply is returned without a call;
//! 3. retries — transient failures are retried with backoff or `retry-after`,
//!    never past the agent's deadline;
//! 4. the bulkhead — at most `max_concurrency` requests in flight per provider;
//! 5. the circuit breaker — every attempt is admitted and its outcome recorded.
//!
//! The agent's deadline is applied here, inside, not around the call: each
//! attempt gets the smaller of `request_timeout` and what is left of the
//! agent's time, so an attempt cut by the deadline is still recorded by the
//! breaker. Waits (bulkhead, another attempt's probe, backoff) never outlast
//! the deadline either. The HTTP send is behind `Transport`, so all of this
//! is tested under tokio's paused clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

use super::gate::{Gate, Warn};
use crate::breaker::{self, Outcome};
use crate::client::{ApiKey, CallError, ChatReply, ChatRequest, FailureClass};
use crate::config::{CacheSettings, Provider};
use crate::store::{self, Store};

pub(crate) use crate::client::Transport;

mod lookups;
use lookups::Lookups;

/// Why a call produced no reply.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The last attempt's error.
    Call(CallError),
    /// The breaker was open and no request was sent.
    Rejected { breaker: String, retry_at: i64 },
    /// The agent's deadline passed while waiting or during an attempt; `last`
    /// is the error of the attempt it cut, if it cut one.
    Deadline { last: Option<CallError> },
}

/// The result of one agent's call, with how it was obtained.
#[derive(Debug, Clone)]
pub(crate) struct Called {
    pub result: Result<ChatReply, Failure>,
    /// HTTP requests sent for it.
    pub attempts: u32,
    /// Served from the response cache, or shared with an identical call in flight.
    pub cached: bool,
}

type Shared = Arc<OnceCell<Called>>;

pub(crate) struct Caller {
    transport: Arc<dyn Transport>,
    store: Option<Store>,
    /// `None`: the cache is off for this run.
    cache: Option<CacheSettings>,
    gates: HashMap<String, Arc<Gate>>,
    bulkheads: HashMap<String, Arc<Semaphore>>,
    /// Per provider: no request before this instant (its rate-limit headers said a limit is spent).
    paced: Mutex<HashMap<String, Instant>>,
    in_flight: Mutex<HashMap<String, Shared>>,
    warn: Warn,
    /// The state has been told to get ready for the run's end (at the
    /// first request sent).
    warmed: AtomicBool,
    /// Cache lookups, made together and counted for the run's end.
    lookups: Arc<Lookups>,
}

/// `<provider>@<host[:port]>#<key fingerprint>`: one breaker per endpoint and
/// credential, so one team's exhausted quota does not reject another's runs.
/// The fingerprint is 8 hex digits of a SHA-256 of the key, never the key.
pub(crate) fn breaker_name(provider: &Provider, key: &ApiKey) -> String {
    format!("{}#{}", endpoint_name(provider), key.fingerprint())
}

/// What an attempt's result means to its breaker.
fn outcome_of(result: &Result<ChatReply, CallError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) => match e.class {
            FailureClass::Transient => Outcome::Failure,
            FailureClass::Quota => Outcome::Quota,
            FailureClass::Permanent => Outcome::NotCounted,
        },
    }
}

/// `<provider>@<host[:port]>`: never the path or query of the base URL.
fn endpoint_name(provider: &Provider) -> String {
    let host = reqwest::Url::parse(&provider.base_url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "invalid-url".into());
    format!("{}@{host}", provider.name)
}

impl Caller {
    pub(crate) fn new<'a>(
        transport: Arc<dyn Transport>,
        providers: impl IntoIterator<Item = (&'a Provider, &'a ApiKey)>,
        store: Option<Store>,
        cache: Option<CacheSettings>,
        warn: Warn,
    ) -> Self {
        let mut gates = HashMap::new();
        let mut bulkheads = HashMap::new();
        for (p, key) in providers {
            let settings = breaker::Settings {
                failure_threshold: p.breaker.failure_threshold,
                reset_timeout: p.breaker.reset_timeout,
                max_reset_timeout: p.breaker.max_reset_timeout,
                // A probe that outlives its own request timeout has died.
                probe_lease: p.request_timeout.saturating_add(Duration::from_secs(5)),
            };
            gates.insert(
                p.name.clone(),
                Arc::new(Gate::new(
                    breaker_name(p, key),
                    settings,
                    store.clone(),
                    warn.clone(),
                )),
            );
            bulkheads.insert(
                p.name.clone(),
                Arc::new(Semaphore::new(p.max_concurrency.max(1) as usize)),
            );
        }
        Caller {
            transport,
            store,
            cache,
            gates,
            bulkheads,
            paced: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            warn,
            warmed: AtomicBool::new(false),
            lookups: Arc::default(),
        }
    }

    /// At the run's first request: the state gets ready for the run's end
    /// (a server prepares its statements) on a task of its own, which runs
    /// once this request is on its way, while its model works.
    fn warm_the_state(&self) {
        if self.warmed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(store) = self.store.clone() {
            let cache = self.cache.is_some();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                store.warm(cache).await;
            });
        }
    }

    /// Use `clock` for every breaker's notion of now.
    #[cfg(test)]
    pub(crate) fn with_clock(mut self, clock: super::gate::Clock) -> Self {
        for gate in self.gates.values_mut() {
            Arc::get_mut(gate)
                .expect("gates are not shared before the first call")
                .set_clock(clock.clone());
        }
        self
    }

    #[cfg(test)]
    pub(crate) fn gate(&self, provider: &str) -> &Gate {
        &self.gates[provider]
    }

    /// Each breaker's name and the state this process last saw of it.
    /// What the breakers held back (successes), taken for the run's end.
    pub(crate) fn held_back(&self) -> Vec<(String, u64, breaker::Settings)> {
        let mut all: Vec<_> = self.gates.values().filter_map(|g| g.held_back()).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The cache's hits and misses so far, taken for the run's end.
    pub(crate) fn lookups(&self) -> store::cache::Counts {
        self.lookups.take_counts()
    }

    /// Write what the breakers held back (successes), one transaction each.
    #[cfg(test)]
    pub(crate) async fn flush(&self) {
        for gate in self.gates.values() {
            gate.flush().await;
        }
    }

    pub(crate) fn breaker_states(&self) -> Vec<(String, breaker::State)> {
        self.gates
            .values()
            .map(|g| (g.name.clone(), g.last_state()))
            .collect()
    }

    /// Get a reply for `req` from `provider`, by the layers above. `hash`
    /// identifies the request; `deadline` is the agent's; `attempts` counts
    /// requests as they are sent (so a timed-out agent still reports them).
    pub(crate) async fn call(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        hash: &str,
        deadline: Instant,
        attempts: &AtomicU32,
    ) -> Called {
        let cell = {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(hash.to_string()).or_default().clone()
        };
        let led = AtomicBool::new(false);
        let called = cell
            .get_or_init(|| async {
                led.store(true, Ordering::SeqCst);
                self.cached_or_fresh(provider, key, req, hash, deadline, attempts)
                    .await
            })
            .await
            .clone();
        if led.load(Ordering::SeqCst) {
            self.in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(hash);
            return called;
        }
        // Shared with the identical call that was in flight: no request of its own.
        if called.result.is_ok() && self.store.is_some() && self.cache.is_some() {
            self.lookups.count(true);
        }
        Called {
            attempts: 0,
            cached: called.result.is_ok(),
            ..called
        }
    }

    async fn cached_or_fresh(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        hash: &str,
        deadline: Instant,
        attempts: &AtomicU32,
    ) -> Called {
        let cache = self.cache.as_ref().zip(self.store.as_ref());
        if let Some((_, store)) = cache {
            match self.lookups.get(store, hash).await {
                Ok(Some(reply)) => {
                    self.lookups.count(true);
                    self.transport
                        .served_from_cache(provider, req, &reply)
                        .await;
                    return Called {
                        result: Ok(reply),
                        attempts: 0,
                        cached: true,
                    };
                }
                Ok(None) => self.lookups.count(false),
                Err(_) if store.degraded() => {}
                Err(e) => (self.warn)(&format!(
                    "response cache unavailable ({e}); calling the model"
                )),
            }
        }
        let result = self
            .with_retries(provider, key, req, deadline, attempts)
            .await;
        if let (Some((settings, store)), Ok(reply)) = (cache, &result) {
            if !reply.content.trim().is_empty() {
                let (k, r) = (hash.to_string(), reply.clone());
                let ttl = i64::try_from(settings.ttl.as_millis()).unwrap_or(i64::MAX);
                let max = settings.max_bytes;
                if let Err(e) = store
                    .call(move |c| c.cache_put(&k, &r, store::now_ms(), ttl, max))
                    .await
                {
                    if !store.degraded() {
                        (self.warn)(&format!(
                            "could not store the reply in the response cache ({e})"
                        ));
                    }
                }
            }
        }
        Called {
            result,
            attempts: attempts.load(Ordering::SeqCst),
            cached: false,
        }
    }

    /// Until when a spent rate limit holds `provider`'s requests, if it does now.
    fn paced_until(&self, provider: &Provider) -> Option<Instant> {
        self.paced
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&provider.name)
            .copied()
            .filter(|t| *t > Instant::now())
    }

    /// A reply whose rate-limit headers say the limit is spent holds the
    /// provider's later requests until it resets.
    fn note_pace(&self, provider: &Provider, result: &Result<ChatReply, CallError>) {
        let Some(wait) = result
            .as_ref()
            .ok()
            .and_then(|r| r.pace)
            .filter(|w| !w.is_zero())
        else {
            return;
        };
        let until = crate::engine::deadline::after(Instant::now(), wait);
        let mut paced = self.paced.lock().unwrap_or_else(|p| p.into_inner());
        let e = paced.entry(provider.name.clone()).or_insert(until);
        *e = (*e).max(until);
    }

    async fn with_retries(
        &self,
        provider: &Provider,
        key: &ApiKey,
        req: &ChatRequest,
        deadline: Instant,
        attempts: &AtomicU32,
    ) -> Result<ChatReply, Failure> {
        let gate = &self.gates[&provider.name];
        let bulkhead = &self.bulkheads[&provider.name];
        let mut retry = 0u32;
        let mut last: Option<CallError> = None;
        loop {
            let cut = || Failure::Deadline { last: last.clone() };
            // The semaphore is never closed; a permit is held only while a request is out.
            let Ok(permit) = tokio::time::timeout_at(deadline, bulkhead.acquire()).await else {
                return Err(cut());
            };
            // Pacing: a spent rate limit holds requests until it resets, within the deadline.
            if let Some(until) = self.paced_until(provider) {
                if until >= deadline {
                    return Err(cut());
                }
                tracing::debug!(provider = %provider.name, wait = ?(until - Instant::now()), "pacing: a rate limit is spent");
                tokio::time::sleep_until(until).await;
            }
            let ticket = match tokio::time::timeout_at(deadline, gate.admit()).await {
                Err(_) => return Err(cut()),
                Ok(Err(retry_at)) => {
                    return Err(Failure::Rejected {
                        breaker: gate.name.clone(),
                        retry_at,
                    })
                }
                Ok(Ok(ticket)) => ticket,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(cut());
            }
            attempts.fetch_add(1, Ordering::SeqCst);
            let timeout = provider.request_timeout.min(left);
            self.warm_the_state();
            let result = self.transport.send(provider, key, req, timeout).await;
            // Record a spent rate limit before the next request can take the permit.
            self.note_pace(provider, &result);
            drop(permit);
            let opened = ticket
                .record(
                    outcome_of(&result),
                    result.as_ref().err().map(|e| e.message.clone()),
                )
                .await;
            let error = match result {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            let delay = retry_delay(&error, retry, provider.max_retries, opened, deadline)?;
            tracing::debug!(provider = %provider.name, retry = retry + 1, ?delay, "retrying after: {}", error.message);
            last = Some(error);
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }
}

/// How long to wait before retrying a failed attempt (`retry` retries made
/// so far), or the failure to end with: a permanent error, the retries
/// spent, the breaker opened by this attempt, or no time left for the wait.
fn retry_delay(
    error: &CallError,
    retry: u32,
    max_retries: u32,
    opened: bool,
    deadline: Instant,
) -> Result<Duration, Failure> {
    let transient = error.class == FailureClass::Transient;
    if transient && Instant::now() >= deadline {
        return Err(Failure::Deadline {
            last: Some(error.clone()),
        });
    }
    // Every attempt counts towards the breaker: once it is open, stop.
    if !transient || retry >= max_retries || opened {
        return Err(Failure::Call(error.clone()));
    }
    let delay = backoff(retry, error.retry_after, jitter());
    // The server's own wait, uncapped, decides whether a retry fits.
    let wait = delay.max(error.retry_after.unwrap_or_default());
    if Instant::now()
        .checked_add(wait)
        .is_none_or(|t| t >= deadline)
    {
        let mut error = error.clone();
        if let Some(asked) = error.retry_after {
            error.message.push_str(&format!(
                " (the server asked to wait {}, past the agent's deadline)",
                humantime::format_duration(round_ms(asked))
            ));
        }
        return Err(Failure::Call(error));
    }
    Ok(delay)
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The wait before retry `n` (0-based): `retry-after` when the server sent
/// one (at most 60 s), else `min(0.5 s × 2^n, 8 s)` with equal jitter.
pub(crate) fn backoff(n: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    if let Some(d) = retry_after {
        return d.min(Duration::from_secs(60));
    }
    let base = (0.5 * 2f64.powi(n.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
}

fn jitter() -> f64 {
    let hex = crate::run_id::random_hex(8);
    u32::from_str_radix(&hex, 16).map_or(0.5, |n| f64::from(n) / f64::from(u32::MAX))
}

#[cfg(test)]
mod tests;
