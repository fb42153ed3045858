//! Breakers persisted around the pure state machine in `crate::breaker`.
//! A closed breaker admits on a read, with no write (the call is counted
//! when its outcome is recorded); only an open or half-open breaker's
//! admission — a probe, a rejection — writes. Every write is one short
//! `BEGIN IMMEDIATE` transaction, so concurrent processes never lose an
//! update.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::immediate;
use crate::breaker::{Admission, Breaker, Outcome, Settings, State, Transition};

/// How many transitions are kept per breaker.
const HISTORY: i64 = 50;

fn load(tx: &Connection, name: &str) -> rusqlite::Result<Breaker> {
    Ok(tx
        .prepare_cached(
            "SELECT state, consecutive_failures, opened_at, retry_at, open_for_ms, calls, successes,
                    failures, rejections, last_error
             FROM breakers WHERE name = ?1",
        )?
        .query_row(
            [name],
            |r| {
                Ok(Breaker {
                    state: State::parse(&r.get::<_, String>(0)?),
                    consecutive_failures: r.get(1)?,
                    opened_at: r.get(2)?,
                    retry_at: r.get(3)?,
                    open_for_ms: r.get(4)?,
                    calls: r.get::<_, i64>(5)? as u64,
                    successes: r.get::<_, i64>(6)? as u64,
                    failures: r.get::<_, i64>(7)? as u64,
                    rejections: r.get::<_, i64>(8)? as u64,
                    last_error: r.get(9)?,
                })
            },
        )
        .optional()?
        .unwrap_or_else(Breaker::new))
}

fn save(
    tx: &Transaction<'_>,
    name: &str,
    b: &Breaker,
    now: i64,
    t: Option<&Transition>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO breakers (name, state, consecutive_failures, opened_at, retry_at, open_for_ms,
                               calls, successes, failures, rejections, last_error, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(name) DO UPDATE SET state = excluded.state,
            consecutive_failures = excluded.consecutive_failures, opened_at = excluded.opened_at,
            retry_at = excluded.retry_at, open_for_ms = excluded.open_for_ms, calls = excluded.calls,
            successes = excluded.successes, failures = excluded.failures,
            rejections = excluded.rejections, last_error = excluded.last_error,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
            name,
            b.state.as_str(),
            b.consecutive_failures,
            b.opened_at,
            b.retry_at,
            b.open_for_ms,
            b.calls as i64,
            b.successes as i64,
            b.failures as i64,
            b.rejections as i64,
            b.last_error,
            now
        ],
    )?;
    if let Some(t) = t {
        tx.execute(
            "INSERT INTO breaker_transitions (name, at, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, t.at, t.from.as_str(), t.to.as_str(), t.reason],
        )?;
        tx.execute(
            "DELETE FROM breaker_transitions WHERE name = ?1 AND id NOT IN
               (SELECT id FROM breaker_transitions WHERE name = ?1 ORDER BY id DESC LIMIT ?2)",
            params![name, HISTORY],
        )?;
    }
    Ok(())
}

/// May an attempt go to `name` now? A closed breaker says yes on a read.
pub(crate) fn admit(
    conn: &mut Connection,
    name: &str,
    now: i64,
    s: &Settings,
) -> rusqlite::Result<(Admission, Breaker)> {
    let mut seen = load(conn, name)?;
    if seen.state == State::Closed {
        let (admission, _) = seen.admit(now, s);
        return Ok((admission, seen));
    }
    immediate(conn, |tx| {
        let mut b = load(tx, name)?;
        let (admission, t) = b.admit(now, s);
        save(tx, name, &b, now, t.as_ref())?;
        Ok((admission, b))
    })
}

/// Record how admitted attempts ended, `n` of them alike, in one
/// transaction. A call that was not the probe was admitted by a closed
/// breaker without a write: it is counted here.
pub(crate) fn record(
    conn: &mut Connection,
    name: &str,
    now: i64,
    (outcome, n): (Outcome, u64),
    probe: bool,
    error: Option<&str>,
    s: &Settings,
) -> rusqlite::Result<Breaker> {
    immediate(conn, |tx| {
        record_tx(tx, name, now, (outcome, n), probe, error, s)
    })
}

/// `record`, inside a transaction the caller holds.
pub(crate) fn record_tx(
    tx: &Transaction<'_>,
    name: &str,
    now: i64,
    (outcome, n): (Outcome, u64),
    probe: bool,
    error: Option<&str>,
    s: &Settings,
) -> rusqlite::Result<Breaker> {
    let mut b = load(tx, name)?;
    let last = b.record_stored(now, (outcome, n), probe, error, s);
    save(tx, name, &b, now, last.as_ref())?;
    Ok(b)
}

/// The current state of each named breaker (closed when never seen).
pub(crate) fn states(
    conn: &Connection,
    names: &[String],
) -> rusqlite::Result<Vec<(String, State)>> {
    names
        .iter()
        .map(|n| Ok((n.clone(), load(conn, n)?.state)))
        .collect()
}

/// Every breaker, by name.
pub(crate) fn list(conn: &Connection) -> rusqlite::Result<Vec<(String, Breaker)>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM breakers ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|n| Ok((n.clone(), load(conn, &n)?)))
        .collect()
}

/// The latest transitions of a breaker, newest first.
pub(crate) fn transitions(
    conn: &Connection,
    name: &str,
    limit: i64,
) -> rusqlite::Result<Vec<Transition>> {
    conn.prepare(
        "SELECT at, from_state, to_state, reason FROM breaker_transitions
         WHERE name = ?1 ORDER BY id DESC LIMIT ?2",
    )?
    .query_map(params![name, limit], |r| {
        Ok(Transition {
            at: r.get(0)?,
            from: State::parse(&r.get::<_, String>(1)?),
            to: State::parse(&r.get::<_, String>(2)?),
            reason: r.get(3)?,
        })
    })?
    .collect()
}

/// Close one breaker (or all with `None`); returns the names that exist.
pub(crate) fn reset(
    conn: &mut Connection,
    name: Option<&str>,
    now: i64,
) -> rusqlite::Result<Vec<String>> {
    immediate(conn, |tx| {
        let names: Vec<String> = match name {
            // A name without its `#fingerprint` names every credential's breaker of that endpoint.
            Some(n) => tx
                .prepare(
                    "SELECT name FROM breakers WHERE name = ?1
                     OR substr(name, 1, length(?1) + 1) = ?1 || '#' ORDER BY name",
                )?
                .query_map([n], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
            None => tx
                .prepare("SELECT name FROM breakers ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        for n in &names {
            let mut b = load(tx, n)?;
            let t = b.reset(now);
            save(tx, n, &b, now, t.as_ref())?;
        }
        Ok(names)
    })
}
