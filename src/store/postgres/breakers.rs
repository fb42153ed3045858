//! Breakers on the server: the pure state machine of `crate::breaker`, each
//! write one transaction holding a transaction-scoped advisory lock on the
//! breaker's name, so runners on different machines never lose an update
//! and a half-open breaker lets one probe through across the fleet (its
//! lease, in the row, frees it if that runner dies).

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, Row, Statement};

use super::Sql;

use crate::breaker::{Breaker, State, Transition};

type PgResult<T> = Result<T, tokio_postgres::Error>;

/// How many transitions are kept per breaker.
const HISTORY: i64 = 50;

const COLUMNS: &str = "state, consecutive_failures, opened_at, retry_at, open_for_ms, calls, \
                       successes, failures, rejections, last_error";

fn breaker(r: &Row) -> Breaker {
    let n = |i: usize| r.get::<_, i64>(i).max(0) as u64;
    Breaker {
        state: State::parse(r.get(0)),
        consecutive_failures: u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX),
        opened_at: r.get(2),
        retry_at: r.get(3),
        open_for_ms: r.get(4),
        calls: n(5),
        successes: n(6),
        failures: n(7),
        rejections: n(8),
        last_error: r.get(9),
    }
}

/// Hold `name`'s lock until the transaction ends.
async fn lock(c: &impl GenericClient, name: &str) -> PgResult<()> {
    c.execute_typed(
        "SELECT pg_advisory_xact_lock(hashtextextended('bsu:breaker:' || $1, 0))",
        params![name => TEXT],
    )
    .await?;
    Ok(())
}

pub(super) async fn load(c: &impl GenericClient, name: &str) -> PgResult<Breaker> {
    let row = c
        .query_typed_opt(
            &format!("SELECT {COLUMNS} FROM bsu_breakers WHERE name = $1"),
            params![name => TEXT],
        )
        .await?;
    Ok(row.as_ref().map_or_else(Breaker::new, breaker))
}

/// Every breaker, or those named, by name (the unknown ones are closed).
pub(super) async fn load_all(
    c: &impl GenericClient,
    names: Option<&[String]>,
) -> PgResult<Vec<(String, Breaker)>> {
    let rows = match names {
        Some(names) => {
            c.query_typed(
                &format!("SELECT {COLUMNS}, name FROM bsu_breakers WHERE name = ANY($1)"),
                params![names => TEXT_ARRAY],
            )
            .await?
        }
        // Sorted here, not by the server: in a new server process, where a
        // run reads its breakers first, `ORDER BY` doubled the statement's
        // time (0.55 against 0.27 ms) for the catalogs its plan reads. And
        // by bytes, as SQLite sorts them, whatever the database's collation.
        None => {
            c.query_typed(
                &format!("SELECT {COLUMNS}, name FROM bsu_breakers"),
                params![],
            )
            .await?
        }
    };
    let mut found: Vec<(String, Breaker)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(10), breaker(r)))
        .collect();
    Ok(match names {
        None => {
            found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            found
        }
        Some(names) => names
            .iter()
            .map(|n| {
                let b = found
                    .iter()
                    .find(|(f, _)| f == n)
                    .map_or_else(Breaker::new, |(_, b)| b.clone());
                (n.clone(), b)
            })
            .collect(),
    })
}

/// Write `b` and its transition, if any (keeping the newest `HISTORY`),
/// the statements sent together.
async fn save(
    c: &impl GenericClient,
    name: &str,
    b: &Breaker,
    now: i64,
    t: Option<&Transition>,
) -> PgResult<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let row = params![
        name => TEXT,
        b.state.as_str() => TEXT,
        i64::from(b.consecutive_failures) => INT8,
        b.opened_at => INT8,
        b.retry_at => INT8,
        b.open_for_ms => INT8,
        n(b.calls) => INT8,
        n(b.successes) => INT8,
        n(b.failures) => INT8,
        n(b.rejections) => INT8,
        b.last_error => TEXT,
        now => INT8,
    ];
    let saved = c.execute_typed(
        "INSERT INTO bsu_breakers (name, state, consecutive_failures, opened_at, retry_at,
             open_for_ms, calls, successes, failures, rejections, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state,
            consecutive_failures = excluded.consecutive_failures, opened_at = excluded.opened_at,
            retry_at = excluded.retry_at, open_for_ms = excluded.open_for_ms,
            calls = excluded.calls, successes = excluded.successes,
            failures = excluded.failures, rejections = excluded.rejections,
            last_error = excluded.last_error, updated_at = excluded.updated_at",
        row,
    );
    let Some(t) = t else {
        return saved.await.map(drop);
    };
    let transition = params![
        name => TEXT,
        t.at => INT8,
        t.from.as_str() => TEXT,
        t.to.as_str() => TEXT,
        t.reason => TEXT,
    ];
    let kept = params![name => TEXT, HISTORY => INT8];
    let (saved, logged, trimmed) = tokio::join!(
        saved,
        c.execute_typed(
            "INSERT INTO bsu_breaker_transitions (name, at, from_state, to_state, reason)
             VALUES ($1, $2, $3, $4, $5)",
            transition,
        ),
        c.execute_typed(
            "DELETE FROM bsu_breaker_transitions WHERE name = $1 AND id NOT IN
               (SELECT id FROM bsu_breaker_transitions WHERE name = $1 ORDER BY id DESC LIMIT $2)",
            kept,
        ),
    );
    saved?;
    logged?;
    trimmed.map(drop)
}

/// A transaction on one breaker: begun, its lock taken and its row read in
/// one round trip (`begin`); its writes sent with COMMIT in one more
/// (`commit`). The lock is held across one round trip, not one per
/// statement, so runners recording the same endpoint's failures take turns
/// quickly. Dropped before `commit` (an error, a call given up, a breaker
/// found closed), it queues a ROLLBACK, which frees the lock.
pub(super) struct Locked<'a> {
    c: &'a Client,
    ended: bool,
}

impl<'a> Locked<'a> {
    pub(super) async fn begin(c: &'a Client, name: &str) -> PgResult<(Locked<'a>, Breaker)> {
        let open = Locked { c, ended: false };
        let (begun, locked, loaded) =
            tokio::join!(c.batch_execute("BEGIN"), lock(c, name), load(c, name));
        begun?;
        locked?;
        Ok((open, loaded?))
    }

    /// Write `b` (and `t`) and commit. COMMIT goes with the writes, so the
    /// transaction ends either way (rolled back after a failed write).
    pub(super) async fn commit(
        mut self,
        name: &str,
        b: &Breaker,
        now: i64,
        t: Option<&Transition>,
    ) -> PgResult<()> {
        let (saved, committed) = tokio::join!(
            save(self.c, name, b, now, t),
            self.c.batch_execute("COMMIT")
        );
        self.ended = true;
        saved?;
        committed
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.ended {
            // One poll sends it; the connection drops the answer.
            let mut rollback = std::pin::pin!(self.c.batch_execute("ROLLBACK"));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let _ = std::future::Future::poll(rollback.as_mut(), &mut cx);
        }
    }
}

/// Successes held back by closed breakers, counted at the run's end, each
/// row under its breaker's lock (taken in name order by the caller).
pub(super) const SUCCESSES: Sql = Sql {
    text:
        "INSERT INTO bsu_breakers (name, state, consecutive_failures, calls, successes, updated_at)
         SELECT name, 'closed', 0, n, n, $3 FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS u(name, n)
         CROSS JOIN LATERAL
             (SELECT pg_advisory_xact_lock(hashtextextended('bsu:breaker:' || name, 0))) AS l
         ON CONFLICT (name) DO UPDATE SET calls = bsu_breakers.calls + excluded.calls,
            successes = bsu_breakers.successes + excluded.successes, consecutive_failures = 0,
            updated_at = excluded.updated_at",
    types: &[Type::TEXT_ARRAY, Type::INT8_ARRAY, Type::INT8],
};

/// Successes through breakers that were closed when they were admitted and
/// changed nothing (no probe, no transition): what `Breaker::record` does
/// to such successes, as one statement over every breaker named (in the
/// order given). Each row takes its breaker's lock before it is written, as
/// `record_tx` does: otherwise a record that read the row before this
/// commits would write its old counts back over these.
pub(super) async fn count_successes(
    c: &Client,
    prepared: Option<&Statement>,
    names: &[&str],
    counts: &[i64],
    now: i64,
) -> PgResult<()> {
    let values: [&(dyn ToSql + Sync); 3] = [&names, &counts, &now];
    SUCCESSES.execute(c, prepared, &values).await?;
    Ok(())
}

#[cfg(test)]
pub(super) async fn transitions(
    c: &impl GenericClient,
    name: &str,
    limit: i64,
) -> PgResult<Vec<Transition>> {
    let rows = c
        .query_typed(
            "SELECT at, from_state, to_state, reason FROM bsu_breaker_transitions
             WHERE name = $1 ORDER BY id DESC LIMIT $2",
            params![name => TEXT, limit => INT8],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Transition {
            at: r.get(0),
            from: State::parse(r.get(1)),
            to: State::parse(r.get(2)),
            reason: r.get(3),
        })
        .collect())
}

/// The newest `limit` transitions of every breaker, newest first within
/// each: one statement.
pub(super) async fn transitions_all(
    c: &impl GenericClient,
    limit: i64,
) -> PgResult<Vec<(String, Transition)>> {
    let rows = c
        .query_typed(
            "SELECT name, at, from_state, to_state, reason FROM
               (SELECT *, row_number() OVER (PARTITION BY name ORDER BY id DESC) AS newest
                FROM bsu_breaker_transitions) AS t
             WHERE newest <= $1 ORDER BY name, id DESC",
            params![limit => INT8],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let t = Transition {
                at: r.get(1),
                from: State::parse(r.get(2)),
                to: State::parse(r.get(3)),
                reason: r.get(4),
            };
            (r.get(0), t)
        })
        .collect())
}

/// Close one breaker, every credential's of an endpoint, or all, in one
/// transaction of a fixed number of round trips however many there are:
/// the names; every lock (in the byte order of their names, as a run's end
/// takes them) and the rows; the writes; COMMIT.
pub(super) async fn reset(c: &mut Client, name: Option<&str>, now: i64) -> PgResult<Vec<String>> {
    let tx = c.transaction().await?;
    let rows = match name {
        Some(n) => {
            tx.query_typed(
                "SELECT name FROM bsu_breakers WHERE name = $1 OR starts_with(name, $1 || '#')",
                params![n => TEXT],
            )
            .await?
        }
        None => {
            tx.query_typed("SELECT name FROM bsu_breakers", params![])
                .await?
        }
    };
    let mut names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    names.sort_unstable();
    let each = params![&names => TEXT_ARRAY];
    let (locked, found) = tokio::join!(
        biased;
        tx.execute_typed(
            "SELECT pg_advisory_xact_lock(hashtextextended('bsu:breaker:' || n, 0))
             FROM UNNEST($1::TEXT[]) AS u(n)",
            each,
        ),
        load_all(&tx, Some(&names))
    );
    locked?;
    let reset: Vec<_> = found?
        .into_iter()
        .map(|(n, mut b)| {
            let t = b.reset(now);
            (n, b, t)
        })
        .collect();
    let saves = reset
        .iter()
        .map(|(n, b, t)| save(&tx, n, b, now, t.as_ref()))
        .collect();
    super::all_in_order(saves).await?;
    tx.commit().await?;
    Ok(names)
}
