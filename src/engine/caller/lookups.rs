//! Response-cache lookups made together, and counted: the lookups of agents
//! that start at once go to the state in one call (one round trip to a
//! state server) rather than one call each in turn, each of which had held
//! the next agent's request back by a round trip; their hits and misses
//! are held back for the run's end, as the breakers' successes are, so a
//! lookup writes nothing before a request.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::client::ChatReply;
use crate::store::cache::Counts;
use crate::store::{self, Store};

/// A lookup's answer: the fresh reply stored, if any; or why there is none
/// to be had (the state's error, as text).
pub(super) type Found = Result<Option<ChatReply>, String>;

/// The lookups waiting for the state, and whether a task is serving them.
#[derive(Default)]
pub(super) struct Lookups {
    queue: Mutex<Queue>,
    /// Hits and misses, for the run's end.
    counted: Mutex<Counts>,
    /// How many times the state was asked.
    #[cfg(test)]
    asked: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(String, oneshot::Sender<Found>)>,
    serving: bool,
}

impl Lookups {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a hit or a miss.
    pub(super) fn count(&self, hit: bool) {
        let mut counts = self.counted();
        if hit {
            counts.hits += 1;
        } else {
            counts.misses += 1;
        }
    }

    /// The hits and misses so far, taken.
    pub(super) fn take_counts(&self) -> Counts {
        std::mem::take(&mut *self.counted())
    }

    /// The fresh reply stored under `key`, looked up with every other
    /// lookup waiting when the state is next asked.
    pub(super) async fn get(self: &Arc<Self>, store: &Store, key: &str) -> Found {
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut q = self.queue();
            q.waiting.push((key.to_string(), tx));
            !std::mem::replace(&mut q.serving, true)
        };
        if lead {
            // A task of its own: an agent given up mid-lookup strands no other.
            let (lookups, store) = (self.clone(), store.clone());
            tokio::spawn(async move { lookups.serve(&store).await });
        }
        rx.await
            .unwrap_or_else(|_| Err("the cache lookup was given up".to_string()))
    }

    /// Ask the state for every lookup waiting, until none is.
    async fn serve(&self, store: &Store) {
        let mut serving = Serving {
            lookups: self,
            ended: false,
        };
        // The agents starting now queue theirs first.
        tokio::task::yield_now().await;
        loop {
            let batch = {
                let mut q = self.queue();
                let batch = std::mem::take(&mut q.waiting);
                // Under the same lock: a lookup queued after this leads.
                q.serving = !batch.is_empty();
                batch
            };
            if batch.is_empty() {
                serving.ended = true;
                return;
            }
            #[cfg(test)]
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let keys: Vec<String> = batch.iter().map(|(k, _)| k.clone()).collect();
            let found = store
                .read(move |c| c.cache_get_many(&keys, store::now_ms()))
                .await;
            match found {
                Ok(replies) => {
                    for ((_, tx), reply) in batch.into_iter().zip(replies) {
                        let _ = tx.send(Ok(reply));
                    }
                }
                Err(e) => {
                    for (_, tx) in batch {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            }
        }
    }
}

/// A serving task that ends otherwise than by finding no lookup waiting (a
/// panic, the runtime shutting down) still lets the next lookup lead, and
/// answers those waiting "given up" rather than leave them waiting.
struct Serving<'a> {
    lookups: &'a Lookups,
    ended: bool,
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut q = self.lookups.queue();
            q.serving = false;
            q.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    use super::Lookups;
    use crate::client::{ChatReply, Usage};
    use crate::store::Store;

    fn stored(keys: &[&str]) -> Store {
        let store = Store::in_memory();
        for k in keys {
            let reply = ChatReply {
                pace: None,
                content: format!("for {k}"),
                usage: Usage::default(),
                cut_off: false,
            };
            store
                .with(|c| c.cache_put(k, &reply, 0, i64::MAX / 4, 1 << 20))
                .unwrap();
        }
        store
    }

    fn content(found: super::Found) -> Option<String> {
        found.unwrap().map(|r| r.content)
    }

    #[tokio::test]
    async fn lookups_made_at_once_go_to_the_state_together() {
        let store = stored(&["a", "b"]);
        let lookups = Arc::new(Lookups::default());
        let (a, b, c) = tokio::join!(
            lookups.get(&store, "a"),
            lookups.get(&store, "b"),
            lookups.get(&store, "c")
        );
        assert_eq!(content(a).as_deref(), Some("for a"));
        assert_eq!(content(b).as_deref(), Some("for b"));
        assert_eq!(content(c), None);
        assert_eq!(
            lookups.asked.load(Ordering::SeqCst),
            1,
            "one call for three"
        );
        // Later, alone: a call of its own, served as well.
        assert_eq!(
            content(lookups.get(&store, "b").await).as_deref(),
            Some("for b")
        );
        assert_eq!(lookups.asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_lookup_given_up_strands_none_of_the_others() {
        let store = stored(&["a"]);
        let lookups = Arc::new(Lookups::default());
        // The first to ask is dropped before it is answered.
        let first = lookups.get(&store, "a");
        let second = lookups.get(&store, "a");
        let (second, ()) = tokio::join!(second, async {
            let mut first = std::pin::pin!(first);
            let _ = futures_poll_once(first.as_mut()).await;
        });
        assert_eq!(content(second).as_deref(), Some("for a"));
    }

    #[tokio::test]
    async fn a_failing_state_answers_every_waiting_lookup() {
        let store = stored(&[]);
        store
            .with(|c| Ok(c.sqlite().unwrap().execute_batch("DROP TABLE cache")?))
            .unwrap();
        let lookups = Arc::new(Lookups::default());
        let (a, b) = tokio::join!(lookups.get(&store, "a"), lookups.get(&store, "b"));
        assert!(a.is_err() && b.is_err(), "{a:?} {b:?}");
        // And the next lookup is served, not left waiting.
        assert!(lookups.get(&store, "c").await.is_err());
    }

    /// Poll `f` once, then drop it.
    async fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) {
        let mut f = Some(f);
        std::future::poll_fn(|cx| {
            let _ = f.take().map(|f| f.poll(cx));
            std::task::Poll::Ready(())
        })
        .await;
    }
}
