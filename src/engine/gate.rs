//! One provider endpoint's breaker as seen from this process: admissions and
//! outcomes go to the shared state database; while this process holds the
//! half-open probe, its other calls to the endpoint wait for the probe's
//! outcome instead of being rejected.

use std::sync::Mutex;

use tokio::sync::watch;

use crate::breaker::{Admission, Breaker, Outcome, Settings, State};
use crate::store::{self, Store};

pub(crate) use crate::store::Warn;

pub(crate) struct Gate {
    pub name: String,
    settings: Settings,
    store: Option<Store>,
    /// Serialises this process's admissions so a probe is marked before anyone else looks.
    admit_lock: tokio::sync::Mutex<()>,
    probing: watch::Sender<bool>,
    /// The last state read; used when the database cannot be reached in time.
    last: Mutex<Breaker>,
    warn: Warn,
}

impl Gate {
    pub(crate) fn new(name: String, settings: Settings, store: Option<Store>, warn: Warn) -> Self {
        Gate {
            name,
            settings,
            store,
            admit_lock: tokio::sync::Mutex::new(()),
            probing: watch::channel(false).0,
            last: Mutex::new(Breaker::new()),
            warn,
        }
    }

    /// The state this process last saw.
    pub(crate) fn last_state(&self) -> State {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).state
    }

    /// May an attempt go now? Waits while this process's own probe is out.
    pub(crate) async fn admit(&self) -> Admission {
        loop {
            let guard = self.admit_lock.lock().await;
            if *self.probing.borrow() {
                let mut rx = self.probing.subscribe();
                drop(guard);
                let _ = rx.wait_for(|probing| !*probing).await;
                continue;
            }
            let admission = self.admit_shared().await;
            if admission == Admission::Probe {
                self.probing.send_replace(true);
            }
            return admission;
        }
    }

    async fn admit_shared(&self) -> Admission {
        let now = store::now_ms();
        if let Some(store) = &self.store {
            let (name, s) = (self.name.clone(), self.settings);
            match store.call(move |c| store::breakers::admit(c, &name, now, &s)).await {
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

    /// Record how an admitted attempt ended; releases this process's probe.
    /// Returns whether the breaker is now open, so retries can stop at once.
    pub(crate) async fn record(
        &self,
        outcome: Outcome,
        probe: bool,
        error: Option<String>,
    ) -> bool {
        let now = store::now_ms();
        let mut saved = false;
        if let Some(store) = &self.store {
            let (name, s, err) = (self.name.clone(), self.settings, error.clone());
            match store
                .call(move |c| {
                    store::breakers::record(c, &name, now, outcome, probe, err.as_deref(), &s)
                })
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
        if probe {
            self.probing.send_replace(false);
        }
        self.last.lock().unwrap_or_else(|p| p.into_inner()).state == State::Open
    }
}
