//! One provider endpoint's breaker as seen from this process: admissions and
//! outcomes go to the shared state database; while this process holds the
//! half-open probe, its other calls to the endpoint wait for the probe's
//! outcome instead of being rejected.
//!
//! An admitted attempt holds a `Ticket`. Recording its outcome consumes the
//! ticket; a ticket dropped unrecorded (the attempt was cancelled) releases
//! this process's probe on drop, so no later call waits on a probe that will
//! never report. The database's probe lease frees it for other processes.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::breaker::{Admission, Breaker, Outcome, Settings, State};
use crate::store::{self, Store};

pub(crate) use crate::store::Warn;

/// Unix milliseconds now; the real clock, or a test's.
pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub(crate) struct Gate {
    pub name: String,
    clock: Clock,
    settings: Settings,
    store: Option<Store>,
    /// Serialises this process's admissions so a probe is marked before anyone else looks.
    admit_lock: tokio::sync::Mutex<()>,
    probing: watch::Sender<bool>,
    /// The last state read; used when the database cannot be reached in time.
    last: Mutex<Breaker>,
    /// Successes through a closed breaker not yet written: they change
    /// nothing another process needs now, so they are written once, by
    /// `flush` at the end of the run, not once per call.
    pending: Mutex<u64>,
    warn: Warn,
}

impl Gate {
    pub(crate) fn new(name: String, settings: Settings, store: Option<Store>, warn: Warn) -> Self {
        Gate {
            name,
            clock: Arc::new(store::now_ms),
            settings,
            store,
            admit_lock: tokio::sync::Mutex::new(()),
            probing: watch::channel(false).0,
            last: Mutex::new(Breaker::new()),
            pending: Mutex::new(0),
            warn,
        }
    }

    /// The successes held back, taken: the run's end writes them with its
    /// spend and history, in one transaction (`store::Store::end_run`).
    pub(crate) fn held_back(&self) -> Option<(String, u64, Settings)> {
        let n = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        (n > 0 && self.store.is_some()).then(|| (self.name.clone(), n, self.settings))
    }

    /// Write the successes held back (one transaction), for a caller that
    /// ends with no run record.
    #[cfg(test)]
    pub(crate) async fn flush(&self) {
        let n = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let Some(store) = self.store.as_ref().filter(|_| n > 0) else {
            return;
        };
        let (name, s, now) = (self.name.clone(), self.settings, (self.clock)());
        match store
            .call(move |c| c.breaker_record(&name, now, Outcome::Success, n, false, None, &s))
            .await
        {
            Ok(b) => *self.last.lock().unwrap_or_else(|p| p.into_inner()) = b,
            Err(_) if store.degraded() => {}
            Err(e) => (self.warn)(&format!(
                "breaker {}: could not record {n} successes in the state database ({e})",
                self.name
            )),
        }
    }

    /// The state this process last saw.
    pub(crate) fn last_state(&self) -> State {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).state
    }

    #[cfg(test)]
    pub(crate) fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// The breaker as this process last saw it.
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> Breaker {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// May an attempt go now? Waits while this process's own probe is out.
    /// `Err(retry_at)`: the breaker is open and nothing may be sent.
    pub(crate) async fn admit(&self) -> Result<Ticket<'_>, i64> {
        loop {
            let guard = self.admit_lock.lock().await;
            if *self.probing.borrow() {
                let mut rx = self.probing.subscribe();
                drop(guard);
                let _ = rx.wait_for(|probing| !*probing).await;
                continue;
            }
            let admission = self.admit_shared().await;
            let probe = match admission {
                Admission::Allow => false,
                Admission::Probe => {
                    // No await between marking the probe and arming its guard.
                    self.probing.send_replace(true);
                    true
                }
                Admission::Reject { retry_at } => return Err(retry_at),
            };
            return Ok(Ticket {
                gate: self,
                probe,
                recorded: false,
            });
        }
    }

    async fn admit_shared(&self) -> Admission {
        let now = (self.clock)();
        if let Some(store) = &self.store {
            let (name, s) = (self.name.clone(), self.settings);
            match store.call(move |c| c.breaker_admit(&name, now, &s)).await {
                Ok((admission, b)) => {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = b;
                    return admission;
                }
                Err(_) if store.degraded() => {}
                Err(e) => (self.warn)(&format!(
                    "breaker {}: state database unavailable ({e}); going on with the last state read",
                    self.name
                )),
            }
        }
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(now, &self.settings)
            .0
    }

    /// Record how an admitted attempt ended.
    /// Returns whether the breaker is now open, so retries can stop at once.
    async fn record(&self, outcome: Outcome, probe: bool, error: Option<String>) -> bool {
        let now = (self.clock)();
        let mut saved = false;
        if self.store.is_some() && self.holds_back(outcome, probe) {
            *self.pending.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            last.record(now, outcome, probe, None, &self.settings);
            return false;
        }
        if let Some(store) = &self.store {
            let (name, s, err) = (self.name.clone(), self.settings, error.clone());
            match store
                .call(move |c| c.breaker_record(&name, now, outcome, 1, probe, err.as_deref(), &s))
                .await
            {
                Ok(b) => {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = b;
                    saved = true;
                }
                Err(_) if store.degraded() => {}
                Err(e) => (self.warn)(&format!(
                    "breaker {}: could not record an outcome in the state database ({e})",
                    self.name
                )),
            }
        }
        if !saved {
            self.last.lock().unwrap_or_else(|p| p.into_inner()).record(
                now,
                outcome,
                probe,
                error.as_deref(),
                &self.settings,
            );
        }
        self.last.lock().unwrap_or_else(|p| p.into_inner()).state == State::Open
    }
}

impl Gate {
    /// May this outcome wait for `flush`? A success that was not the probe,
    /// through a breaker this process last saw closed with no failures: it
    /// opens nothing and closes nothing.
    fn holds_back(&self, outcome: Outcome, probe: bool) -> bool {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        outcome == Outcome::Success
            && !probe
            && last.state == State::Closed
            && last.consecutive_failures == 0
    }
}

/// One admitted attempt. Record its outcome with `record`; dropped unrecorded,
/// it releases this process's probe.
pub(crate) struct Ticket<'a> {
    gate: &'a Gate,
    probe: bool,
    recorded: bool,
}

impl Ticket<'_> {
    /// Record how the attempt ended; true when the breaker is now open.
    pub(crate) async fn record(mut self, outcome: Outcome, error: Option<String>) -> bool {
        let open = self.gate.record(outcome, self.probe, error).await;
        self.recorded = true;
        self.release();
        open
    }

    fn release(&mut self) {
        if self.probe {
            self.probe = false;
            self.gate.probing.send_replace(false);
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            tracing::debug!(breaker = %self.gate.name, probe = self.probe, "attempt cancelled before its outcome was known");
        }
        self.release();
    }
}
