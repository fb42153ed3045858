//! What a run asks of the store around its calls: getting ready while
//! its models work (`warm`), writes put off until then (`defer`, `flush`),
//! and its end.

#[cfg(test)]
use std::sync::atomic::Ordering;

use super::{now_ms, runs, Backend, GaveUp, Store, StoreError};

/// A write a run puts off (`Store::defer`).
type Deferred = Box<dyn FnOnce(&mut dyn Backend) -> Result<(), StoreError> + Send>;

/// The writes put off, and who is making them: `flush` waits for a `warm`
/// that took them to finish, so none is left to a task the run's end may
/// not wait for.
#[derive(Default)]
pub(super) struct Deferreds {
    queue: std::sync::Mutex<Vec<Deferred>>,
    making: tokio::sync::Mutex<()>,
}

/// Make `deferred` on `c`, each best effort: one that fails does not stop
/// the others.
fn make(deferred: Vec<Deferred>, c: &mut dyn Backend) {
    for write in deferred {
        let _ = write(c);
    }
}

impl Store {
    /// Write a run's end in one transaction (`runs::EndOfRun`). Quiet
    /// (`Ok`) when the store has already given up this run.
    pub(crate) async fn end_run(&self, end: runs::EndOfRun) -> Result<(), StoreError> {
        if end.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let run = end.run.map(|e| e.record(now));
        let (successes, cache, spend) = (end.successes, end.cache, end.spend);
        let write = move |past_lock: bool| {
            let (successes, spend, run) = (successes.clone(), spend.clone(), run.clone());
            self.call_as(
                move |c| c.run_end(&successes, cache, spend.as_ref(), run.as_ref(), now),
                past_lock,
            )
        };
        match write(false).await {
            // A lock is let go: the run's end, whose spend the budgets
            // count, is worth one more wait. Nothing was written (the write
            // takes the lock first), so it is made whole or not at all.
            Err(StoreError::GivenUp | StoreError::Busy(_)) if self.gave_up() == GaveUp::Locked => {
                write(true).await
            }
            Err(StoreError::GivenUp) => Ok(()),
            other => other,
        }
    }

    /// Get ready for the run's end (`Backend::warm`) and make the writes
    /// put off until now (`defer`), best effort: the run does not wait for
    /// it (only store calls queued behind it do), and a server found gone
    /// is given up as by any call.
    pub(crate) async fn warm(&self, cache: bool) {
        #[cfg(test)]
        self.warms.fetch_add(1, Ordering::SeqCst);
        let _making = self.deferred.making.lock().await;
        let deferred = self.take_deferred();
        let _ = self
            .call(move |c| {
                let warmed = c.warm(cache);
                make(deferred, c);
                warmed
            })
            .await;
    }

    /// Put `write` off until the run's first request is out (`warm`, which
    /// the calls ask for then), so that nothing before the request waits
    /// for it; `flush` makes it at the latest. Best effort, as `warm`.
    pub(crate) fn defer(
        &self,
        write: impl FnOnce(&mut dyn Backend) -> Result<(), StoreError> + Send + 'static,
    ) {
        self.deferred
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(write));
    }

    /// Make the writes still put off (no request went out, or the run
    /// stopped before one did), once a `warm` making them has finished.
    pub(crate) async fn flush(&self) {
        let _making = self.deferred.making.lock().await;
        let deferred = self.take_deferred();
        if deferred.is_empty() {
            return;
        }
        let _ = self
            .call(move |c| {
                make(deferred, c);
                Ok(())
            })
            .await;
    }

    fn take_deferred(&self) -> Vec<Deferred> {
        std::mem::take(
            &mut *self
                .deferred
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// How many times `warm` was asked for.
    #[cfg(test)]
    pub(crate) fn warms(&self) -> usize {
        self.warms.load(Ordering::SeqCst)
    }

    /// Record a run that has just ended in the history. Quiet (`Ok`) when
    /// the store has already given up this run: it said so once.
    #[cfg(test)]
    pub(crate) async fn record_run(&self, ended: runs::Ended) -> Result<(), StoreError> {
        let record = ended.record(now_ms());
        match self.call(move |c| c.run_record(&record)).await {
            Err(StoreError::GivenUp) => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{GaveUp, Store, StoreError};

    #[tokio::test]
    async fn a_write_put_off_is_made_when_the_store_warms_or_at_the_latest_on_flush() {
        let store = Store::in_memory();
        let kept = |s: &Store| s.with(|c| c.token_counts_get("p", 10)).unwrap();
        store.defer(|c| c.token_counts_put("p", &[("o200k:aa".into(), 7)], 1, 10));
        assert!(kept(&store).is_empty(), "put off");
        store.warm(false).await;
        assert_eq!(kept(&store), [("o200k:aa".to_string(), 7)]);
        // No request went out: made by the flush, once.
        store.defer(|c| c.token_counts_put("p", &[("o200k:bb".into(), 9)], 2, 10));
        assert_eq!(kept(&store).len(), 1);
        store.flush().await;
        assert_eq!(kept(&store).len(), 2);
        store.flush().await;
        store.warm(false).await;
        assert_eq!(kept(&store).len(), 2);
    }

    /// After a write met another process's lock and the store gave up on
    /// the state for the run, writes are given up at once but reads go on
    /// (a writer does not block them): a cached reply is still used.
    #[tokio::test]
    async fn a_store_given_up_on_a_lock_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let reply = crate::client::ChatReply {
            pace: None,
            content: "cached".into(),
            usage: crate::client::Usage::default(),
            cut_off: false,
        };
        let s = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
        let now = crate::store::now_ms();
        s.with(|c| c.cache_put("k", &reply, now, 60_000, 1 << 30))
            .unwrap();
        let holder = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let put = |key: &'static str| {
            let r = reply.clone();
            move |c: &mut dyn crate::store::Backend| c.cache_put(key, &r, now, 60_000, 1 << 30)
        };
        let s = s.with_warn(std::sync::Arc::new(|_: &str| {}));
        assert!(matches!(s.call(put("k2")).await, Err(StoreError::Busy(_))));
        assert_eq!(s.gave_up(), GaveUp::Locked);
        assert!(matches!(s.call(put("k3")).await, Err(StoreError::GivenUp)));
        let keys = vec!["k".to_string(), "k2".to_string()];
        let got = s.read(move |c| c.cache_get_many(&keys, now)).await.unwrap();
        assert_eq!(got[0].as_ref().map(|r| r.content.as_str()), Some("cached"));
        assert!(got[1].is_none());
    }
}
