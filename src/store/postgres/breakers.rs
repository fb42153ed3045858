//! Breakers on the server: the pure state machine of `crate::breaker`, each
//! write one transaction holding a transaction-scoped advisory lock on the
//! breaker's name, so runners on different machines never lose an update
//! and a half-open breaker lets one probe through across the fleet (its
//! lease, in the row, frees it if that runner dies).

use tokio_postgres::{GenericClient, Row, Transaction};

use crate::breaker::{Breaker, Outcome, Settings, State, Transition};

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
pub(super) async fn lock(tx: &Transaction<'_>, name: &str) -> PgResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('bsu:breaker:' || $1, 0))",
        &[&name],
    )
    .await?;
    Ok(())
}

pub(super) async fn load(c: &impl GenericClient, name: &str) -> PgResult<Breaker> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM bsu_breakers WHERE name = $1"),
            &[&name],
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
            c.query(
                &format!("SELECT {COLUMNS}, name FROM bsu_breakers WHERE name = ANY($1)"),
                &[&names],
            )
            .await?
        }
        None => {
            c.query(
                &format!("SELECT {COLUMNS}, name FROM bsu_breakers ORDER BY name"),
                &[],
            )
            .await?
        }
    };
    let found: Vec<(String, Breaker)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(10), breaker(r)))
        .collect();
    Ok(match names {
        None => found,
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

pub(super) async fn save(
    tx: &Transaction<'_>,
    name: &str,
    b: &Breaker,
    now: i64,
    t: Option<&Transition>,
) -> PgResult<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO bsu_breakers (name, state, consecutive_failures, opened_at, retry_at,
             open_for_ms, calls, successes, failures, rejections, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state,
            consecutive_failures = excluded.consecutive_failures, opened_at = excluded.opened_at,
            retry_at = excluded.retry_at, open_for_ms = excluded.open_for_ms,
            calls = excluded.calls, successes = excluded.successes,
            failures = excluded.failures, rejections = excluded.rejections,
            last_error = excluded.last_error, updated_at = excluded.updated_at",
        &[
            &name,
            &b.state.as_str(),
            &i64::from(b.consecutive_failures),
            &b.opened_at,
            &b.retry_at,
            &b.open_for_ms,
            &n(b.calls),
            &n(b.successes),
            &n(b.failures),
            &n(b.rejections),
            &b.last_error,
            &now,
        ],
    )
    .await?;
    if let Some(t) = t {
        tx.execute(
            "INSERT INTO bsu_breaker_transitions (name, at, from_state, to_state, reason)
             VALUES ($1, $2, $3, $4, $5)",
            &[&name, &t.at, &t.from.as_str(), &t.to.as_str(), &t.reason],
        )
        .await?;
        tx.execute(
            "DELETE FROM bsu_breaker_transitions WHERE name = $1 AND id NOT IN
               (SELECT id FROM bsu_breaker_transitions WHERE name = $1 ORDER BY id DESC LIMIT $2)",
            &[&name, &HISTORY],
        )
        .await?;
    }
    Ok(())
}

/// Record `n` alike outcomes inside the caller's transaction (the lock is
/// taken here).
pub(super) async fn record_tx(
    tx: &Transaction<'_>,
    name: &str,
    now: i64,
    (outcome, n): (Outcome, u64),
    probe: bool,
    error: Option<&str>,
    s: &Settings,
) -> PgResult<Breaker> {
    lock(tx, name).await?;
    let mut b = load(tx, name).await?;
    let mut last = None;
    for _ in 0..n {
        if !probe {
            b.calls += 1;
        }
        last = b.record(now, outcome, probe, error, s).or(last);
    }
    save(tx, name, &b, now, last.as_ref()).await?;
    Ok(b)
}

pub(super) async fn transitions(
    c: &impl GenericClient,
    name: &str,
    limit: i64,
) -> PgResult<Vec<Transition>> {
    let rows = c
        .query(
            "SELECT at, from_state, to_state, reason FROM bsu_breaker_transitions
             WHERE name = $1 ORDER BY id DESC LIMIT $2",
            &[&name, &limit],
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

/// Close one breaker, every credential's of an endpoint, or all.
pub(super) async fn reset(
    c: &mut tokio_postgres::Client,
    name: Option<&str>,
    now: i64,
) -> PgResult<Vec<String>> {
    let tx = c.transaction().await?;
    let rows = match name {
        Some(n) => {
            tx.query(
                "SELECT name FROM bsu_breakers WHERE name = $1 OR starts_with(name, $1 || '#')
                 ORDER BY name",
                &[&n],
            )
            .await?
        }
        None => {
            tx.query("SELECT name FROM bsu_breakers ORDER BY name", &[])
                .await?
        }
    };
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for n in &names {
        lock(&tx, n).await?;
        let mut b = load(&tx, n).await?;
        let t = b.reset(now);
        save(&tx, n, &b, now, t.as_ref()).await?;
    }
    tx.commit().await?;
    Ok(names)
}
