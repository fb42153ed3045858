//! The store's operations on the server (`Backend`), each one statement or
//! one short transaction; what needs serialising across the fleet takes a
//! transaction-scoped advisory lock (a breaker's name, a project's budget).

use super::end::{self, End};
use super::{breakers, Postgres};
use crate::breaker::{Admission, Breaker, Outcome, Settings, State};
use crate::client::ChatReply;
use crate::store::backend::{Backend, Result};
use crate::store::cache;
use crate::store::runs::{RunRecord, Settle};
use crate::store::snapshot::{Ask, Snapshot};
use crate::store::spend::{Refused, Window};
#[cfg(test)]
use {crate::breaker::Transition, crate::store::cache::Stats, crate::store::spend::Reservation};

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Backend for Postgres {
    fn breaker_admit(
        &mut self,
        name: &str,
        now: i64,
        s: &Settings,
    ) -> Result<(Admission, Breaker)> {
        // Closed when last read: admit with no round trip before the request.
        if let Some(b) = self.seen.get(name).filter(|b| b.state == State::Closed) {
            let mut b = b.clone();
            let (admission, _) = b.admit(now, s);
            return Ok((admission, b));
        }
        // Open or half-open when last seen: the probe decided under the
        // breaker's lock, on its row as it is now.
        let (admission, b) = self.run(async |c| {
            let (locked, mut b) = breakers::Locked::begin(c, name).await?;
            let (admission, t) = b.admit(now, s);
            if b.state == State::Closed && t.is_none() {
                // Closed by another runner since: admitted on the read, as
                // any closed breaker is (dropping `locked` rolls back).
                return Ok((admission, b));
            }
            locked.commit(name, &b, now, t.as_ref()).await?;
            Ok((admission, b))
        })?;
        self.seen.insert(name.to_string(), b.clone());
        Ok((admission, b))
    }

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
    ) -> Result<Breaker> {
        let b = self.run(async |c| {
            let (locked, mut b) = breakers::Locked::begin(c, name).await?;
            let t = b.record_stored(now, (outcome, count), probe, error, s);
            locked.commit(name, &b, now, t.as_ref()).await?;
            Ok(b)
        })?;
        self.seen.insert(name.to_string(), b.clone());
        Ok(b)
    }

    fn breaker_states(&mut self, names: &[String]) -> Result<Vec<(String, State)>> {
        if std::mem::take(&mut self.prefetched) {
            return self.breaker_states_at_end(names);
        }
        let all = self.run(async |c| breakers::load_all(c, Some(names)).await)?;
        let states = all.iter().map(|(n, b)| (n.clone(), b.state)).collect();
        self.seen.extend(all);
        Ok(states)
    }

    /// What this runner last read or wrote: a run's own outcomes are in
    /// `seen` (its held-back successes leave a closed breaker closed), and
    /// a report is not worth a round trip after the reply.
    fn breaker_states_at_end(&mut self, names: &[String]) -> Result<Vec<(String, State)>> {
        Ok(names
            .iter()
            .map(|n| {
                let state = self.seen.get(n).map_or(State::Closed, |b| b.state);
                (n.clone(), state)
            })
            .collect())
    }

    fn breakers(&mut self) -> Result<Vec<(String, Breaker)>> {
        self.run(async |c| breakers::load_all(c, None).await)
    }

    #[cfg(test)]
    fn breaker_transitions(&mut self, name: &str, limit: i64) -> Result<Vec<Transition>> {
        self.run(async |c| breakers::transitions(c, name, limit).await)
    }

    fn breaker_reset(&mut self, name: Option<&str>, now: i64) -> Result<Vec<String>> {
        self.seen.clear();
        self.prefetched = false;
        self.run(async |c| breakers::reset(c, name, now).await)
    }

    fn cache_get(&mut self, key: &str, now: i64) -> Result<Option<ChatReply>> {
        Ok(self
            .cache_get_many(&[key.to_string()], now)?
            .pop()
            .flatten())
    }

    fn cache_get_many(&mut self, keys: &[String], now: i64) -> Result<Vec<Option<ChatReply>>> {
        // A read: the run's end counts the lookups (`end::COUNT`). Counted
        // here, every lookup would be a commit before the request, waiting
        // on the server's disk and on each other's lock of the same row.
        let rows = self.run(async |c| {
            c.query_typed(
                "SELECT key, reply FROM bsu_cache WHERE key = ANY($1) AND expires_at > $2",
                params![keys => TEXT_ARRAY, now => INT8],
            )
            .await
        })?;
        let found: std::collections::HashMap<String, String> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(keys
            .iter()
            .map(|k| found.get(k).and_then(|t| cache::parse(t)))
            .collect())
    }

    fn cache_put(
        &mut self,
        key: &str,
        reply: &ChatReply,
        now: i64,
        ttl_ms: i64,
        max_bytes: u64,
    ) -> Result<()> {
        let Some(text) = cache::stored(reply, max_bytes) else {
            return Ok(());
        };
        let (cap, expires) = (big(max_bytes), now.saturating_add(ttl_ms));
        let prepared = self.prepared_put.clone();
        let lost = self.run(async |c| {
            super::cache::put(c, prepared.as_ref(), key, &text, (now, expires), cap).await
        })?;
        if lost {
            self.prepared_put = None;
        }
        Ok(())
    }

    fn cache_clear(&mut self) -> Result<usize> {
        self.run(async |c| super::cache::remove(c, None).await)
            .map(|n| n as usize)
    }

    fn cache_prune(&mut self, now: i64) -> Result<usize> {
        self.run(async |c| super::cache::remove(c, Some(now)).await)
            .map(|n| n as usize)
    }

    #[cfg(test)]
    fn cache_stats(&mut self, now: i64) -> Result<Stats> {
        self.run(async |c| super::cache::stats(c, now).await)
    }

    fn snapshot(&mut self, ask: &Ask) -> Result<Snapshot> {
        self.run(async |c| super::snapshot::read(c, ask).await)
    }

    #[cfg(test)]
    fn run_record(&mut self, r: &RunRecord) -> Result<()> {
        self.run_end(&[], cache::Counts::default(), None, Some(r), 0)
    }

    fn run_end(
        &mut self,
        successes: &[(String, u64, Settings)],
        counts: cache::Counts,
        spend: Option<&Settle>,
        run: Option<&RunRecord>,
        now: i64,
    ) -> Result<()> {
        // Rows in name order, so two runs' ends never deadlock.
        let mut successes: Vec<_> = successes.iter().collect();
        successes.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<&str> = successes.iter().map(|(n, _, _)| n.as_str()).collect();
        let successes_n: Vec<i64> = successes
            .iter()
            .map(|(_, n, _)| i64::try_from(*n).unwrap_or(i64::MAX))
            .collect();
        let end = End {
            successes: (&names, &successes_n),
            cache: counts,
            spend,
            run,
            now,
        };
        let prepared = self.prepared.clone();
        let lost = self.run(async |c| end::write(c, prepared.as_ref(), &end).await)?;
        if lost {
            self.prepared = None;
        }
        Ok(())
    }

    fn warm(&mut self, cache: bool) -> Result<()> {
        self.get_ready(cache)
    }

    fn runs_recent(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        self.run(async |c| super::runs::recent(c, limit).await)
    }

    fn run_last_decided(
        &mut self,
        project: &str,
        strategy: &str,
    ) -> Result<Option<Option<String>>> {
        self.run(async |c| super::runs::last_decided(c, project, strategy).await)
    }

    fn ledger_get(&mut self, project: &str, strategy: &str) -> Result<Option<String>> {
        self.run(async |c| {
            let row = c
                .query_typed_opt(
                    "SELECT json FROM bsu_ledgers WHERE project = $1 AND strategy = $2",
                    params![project => TEXT, strategy => TEXT],
                )
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn ledger_put(&mut self, project: &str, strategy: &str, json: &str, now: i64) -> Result<()> {
        self.run(async |c| {
            c.execute_typed(
                "INSERT INTO bsu_ledgers (project, strategy, json, updated_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (project, strategy) DO UPDATE SET json = $3, updated_ms = $4",
                params![project => TEXT, strategy => TEXT, json => TEXT, now => INT8],
            )
            .await
            .map(drop)
        })
    }

    fn window_get(&mut self, endpoint: &str, model: &str, since_ms: i64) -> Result<Option<u32>> {
        self.run(async |c| {
            let row = c
                .query_typed_opt(
                    "SELECT tokens FROM bsu_windows
                     WHERE endpoint = $1 AND model = $2 AND at_ms >= $3",
                    params![endpoint => TEXT, model => TEXT, since_ms => INT8],
                )
                .await?;
            Ok(row.and_then(|r| u32::try_from(r.get::<_, i64>(0)).ok()))
        })
    }

    fn window_put(&mut self, endpoint: &str, model: &str, tokens: u32, now: i64) -> Result<()> {
        self.run(async |c| {
            c.execute_typed(
                "INSERT INTO bsu_windows (endpoint, model, tokens, at_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (endpoint, model) DO UPDATE SET tokens = $3, at_ms = $4",
                params![endpoint => TEXT, model => TEXT, i64::from(tokens) => INT8, now => INT8],
            )
            .await
            .map(drop)
        })
    }

    fn token_counts_get(&mut self, project: &str, limit: usize) -> Result<Vec<(String, u64)>> {
        // Read in the connection's first round trip, if the run asked in time.
        if let Some(kept) = self.kept_counts.take() {
            if kept.project == project && kept.limit == limit {
                return Ok(kept.counts);
            }
        }
        self.run(async |c| super::runs::token_counts(c, project, limit).await)
    }

    fn token_counts_of(&mut self, project: &str, keys: &[String]) -> Result<Vec<(String, u64)>> {
        self.run(async |c| super::runs::token_counts_of(c, project, keys).await)
    }

    fn token_counts_put(
        &mut self,
        project: &str,
        counts: &[(String, u64)],
        now: i64,
        keep: usize,
    ) -> Result<()> {
        self.run(async |c| super::runs::keep_token_counts(c, project, counts, now, keep).await)
    }

    fn spend_reserve(
        &mut self,
        project: &str,
        run_id: &str,
        usd: f64,
        at: (i64, i64),
        windows: &[Window],
    ) -> Result<std::result::Result<(), Refused>> {
        self.run(async |c| super::spend::reserve(c, project, run_id, usd, at, windows).await)
    }

    #[cfg(test)]
    fn spend_reservations(&mut self, now: i64) -> Result<Vec<Reservation>> {
        self.run(async |c| super::spend::reservations(c, now).await)
    }

    fn migrate(&mut self) -> Result<(i64, i64)> {
        // Connecting migrated already: say what it found.
        let (_, now) = super::schema::migrate(self, true)?;
        Ok((self.found, now))
    }

    #[cfg(test)]
    fn spend_by_model(&mut self, from_ms: i64) -> Result<Vec<(String, String, f64)>> {
        self.run(async |c| super::spend::by_model(c, from_ms).await)
    }
}
