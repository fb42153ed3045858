//! The operations on what outlives a run, behind one trait: breakers, the
//! response cache, run history and spend. SQLite implements it on its
//! connection (`sqlite.rs`); a shared server is one more implementation.
//! Calls are blocking: `Store` runs them on the blocking pool, one at a time.

use crate::breaker::{Admission, Breaker, Outcome, Settings, State};
use crate::client::ChatReply;

use super::cache::Counts;
use super::runs::{RunRecord, Settle};
use super::snapshot::{Ask, Snapshot};
use super::spend::{Refused, Window};
use super::StoreError;
#[cfg(test)]
use {super::cache::Stats, super::spend::Reservation, crate::breaker::Transition};

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

pub(crate) trait Backend: Send {
    /// Admit a call through breaker `name` at `now`: a closed breaker on a
    /// read, else in one write transaction.
    fn breaker_admit(&mut self, name: &str, now: i64, s: &Settings)
        -> Result<(Admission, Breaker)>;
    /// Record how `count` calls through breaker `name` ended alike, in one
    /// transaction (a call that was not the probe is counted here).
    #[allow(clippy::too_many_arguments)]
    fn breaker_record(
        &mut self,
        name: &str,
        now: i64,
        outcome: Outcome,
        count: u64,
        probe: bool,
        error: Option<&str>,
        s: &Settings,
    ) -> Result<Breaker>;
    /// The state of each named breaker (closed when unknown).
    fn breaker_states(&mut self, names: &[String]) -> Result<Vec<(String, State)>>;
    /// As `breaker_states`, at a run's end, for its report: a server may
    /// answer from what this process last read or wrote, with no round trip.
    fn breaker_states_at_end(&mut self, names: &[String]) -> Result<Vec<(String, State)>> {
        self.breaker_states(names)
    }
    /// Every breaker, by name.
    fn breakers(&mut self) -> Result<Vec<(String, Breaker)>>;
    /// The newest `limit` transitions of breaker `name`, newest first.
    #[cfg(test)]
    fn breaker_transitions(&mut self, name: &str, limit: i64) -> Result<Vec<Transition>>;
    /// Close one breaker, every credential's of an endpoint, or all: the names closed.
    fn breaker_reset(&mut self, name: Option<&str>, now: i64) -> Result<Vec<String>>;

    /// A fresh reply stored under `key`, if there is one: a read, with no
    /// write before the request it may spare (the run's end counts it).
    fn cache_get(&mut self, key: &str, now: i64) -> Result<Option<ChatReply>>;
    /// `cache_get` of each of `keys`, in order; a server answers them in
    /// one round trip.
    fn cache_get_many(&mut self, keys: &[String], now: i64) -> Result<Vec<Option<ChatReply>>> {
        keys.iter().map(|k| self.cache_get(k, now)).collect()
    }
    /// Store `reply` under `key` for `ttl_ms`, keeping the cache under `max_bytes`.
    fn cache_put(
        &mut self,
        key: &str,
        reply: &ChatReply,
        now: i64,
        ttl_ms: i64,
        max_bytes: u64,
    ) -> Result<()>;
    /// Remove every entry: how many.
    fn cache_clear(&mut self) -> Result<usize>;
    /// Remove expired entries: how many.
    fn cache_prune(&mut self, now: i64) -> Result<usize>;
    #[cfg(test)]
    fn cache_stats(&mut self, now: i64) -> Result<Stats>;

    /// Everything `bsu status` shows, read in one read-only transaction,
    /// so that every table is seen as of one moment (a run ending halfway
    /// through is seen entirely or not at all).
    fn snapshot(&mut self, ask: &Ask) -> Result<Snapshot>;

    #[cfg(test)]
    fn run_record(&mut self, r: &RunRecord) -> Result<()>;
    /// A run's end in one write transaction: held-back breaker successes,
    /// its cache lookups counted, its spend settled, its history record.
    fn run_end(
        &mut self,
        successes: &[(String, u64, Settings)],
        cache: Counts,
        spend: Option<&Settle>,
        run: Option<&RunRecord>,
        now: i64,
    ) -> Result<()>;
    /// Get ready for the run's end, and with `cache` for storing replies,
    /// while the run waits on its models (a server prepares and plans those
    /// statements); nothing to do by default.
    fn warm(&mut self, _cache: bool) -> Result<()> {
        Ok(())
    }
    /// The `limit` most recent runs, newest first.
    fn runs_recent(&mut self, limit: usize) -> Result<Vec<RunRecord>>;
    /// The project's last decided run of `strategy`: `Some(head it reviewed)`.
    fn run_last_decided(&mut self, project: &str, strategy: &str)
        -> Result<Option<Option<String>>>;

    /// The finding ledger of a project's strategy with no pull request (a
    /// scheduled audit), as JSON.
    fn ledger_get(&mut self, project: &str, strategy: &str) -> Result<Option<String>>;
    fn ledger_put(&mut self, project: &str, strategy: &str, json: &str, now: i64) -> Result<()>;

    /// The context window a server reported for `model` since `since_ms`.
    fn window_get(&mut self, endpoint: &str, model: &str, since_ms: i64) -> Result<Option<u32>>;
    fn window_put(&mut self, endpoint: &str, model: &str, tokens: u32, now: i64) -> Result<()>;

    /// The token counts kept for `project` (`tokens::key` → tokens), newest
    /// first, at most `limit`.
    fn token_counts_get(&mut self, project: &str, limit: usize) -> Result<Vec<(String, u64)>>;
    /// The token counts kept for `project` under any of `keys`.
    fn token_counts_of(&mut self, project: &str, keys: &[String]) -> Result<Vec<(String, u64)>>;
    /// Keep `counts` for `project`, and only its newest `keep` counts.
    fn token_counts_put(
        &mut self,
        project: &str,
        counts: &[(String, u64)],
        now: i64,
        keep: usize,
    ) -> Result<()>;

    /// Check every window and reserve `usd` for `run_id` until the lease ends, atomically.
    fn spend_reserve(
        &mut self,
        project: &str,
        run_id: &str,
        usd: f64,
        at: (i64, i64),
        windows: &[Window],
    ) -> Result<std::result::Result<(), Refused>>;
    /// Reservations not settled, newest first.
    #[cfg(test)]
    fn spend_reservations(&mut self, now: i64) -> Result<Vec<Reservation>>;
    /// Spend since `from_ms` by provider and model, largest first.
    #[cfg(test)]
    fn spend_by_model(&mut self, from_ms: i64) -> Result<Vec<(String, String, f64)>>;

    /// Apply pending schema migrations: (version before, version now). On
    /// a server, "before" is what connecting found; SQLite, which migrates
    /// as it opens, reports its version twice.
    fn migrate(&mut self) -> Result<(i64, i64)>;

    /// The SQLite connection, for tests that look at the schema itself.
    #[cfg(test)]
    fn sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        None
    }
}
