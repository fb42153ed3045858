//! Spend and budgets on the server. A reservation is made in the same
//! transaction that sums the window's spend and live reservations, under a
//! transaction-scoped advisory lock on the project: runners on any number
//! of machines take turns, so together they never overspend.

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, Statement};

use super::Sql;

use crate::store::spend::{Refused, Reservation, Spent, Window};

type PgResult<T> = Result<T, tokio_postgres::Error>;

/// Every window's spend summed and, when the run fits in all of them, its
/// reservation written, in one statement: the first window it does not
/// fit in (1-based, in the order given) and what is spent there, or no row.
const RESERVE: &str = "WITH w AS (
        SELECT i, from_ms, limit_usd
        FROM UNNEST($3::BIGINT[], $4::DOUBLE PRECISION[]) WITH ORDINALITY AS w(from_ms, limit_usd, i)
    ), summed AS (
        SELECT i, limit_usd,
            (SELECT COALESCE(SUM(usd), 0)::DOUBLE PRECISION FROM bsu_spend
             WHERE project = $1 AND at_ms >= w.from_ms
               AND (NOT reserved OR lease_until_ms > $5)) AS spent
        FROM w
    ), over AS (
        SELECT i, spent FROM summed WHERE spent + $6 > limit_usd ORDER BY i LIMIT 1
    ), reserved AS (
        INSERT INTO bsu_spend (run_id, project, at_ms, usd, provider, model, reserved,
            lease_until_ms)
        SELECT $2, $1, $5, $6, '', '', TRUE, $7 WHERE NOT EXISTS (SELECT 1 FROM over)
    )
    SELECT i, spent FROM over";

/// Reserve `usd` for `run_id` if it fits in every window, in one round
/// trip: BEGIN, the project's lock, `RESERVE`, COMMIT, sent together. The
/// sums are read by a statement after the lock's, so they see every
/// reservation committed before this runner's turn; the lock is held for
/// the server's work only, not for round trips, so runners queue briefly.
pub(super) async fn reserve(
    c: &Client,
    project: &str,
    run_id: &str,
    usd: f64,
    (now_ms, lease_until_ms): (i64, i64),
    windows: &[Window],
) -> PgResult<Result<(), Refused>> {
    let from: Vec<i64> = windows.iter().map(|w| w.from_ms).collect();
    let limits: Vec<f64> = windows.iter().map(|w| w.limit_usd).collect();
    let lock = params![project => TEXT];
    let values = params![
        project => TEXT,
        run_id => TEXT,
        from => INT8_ARRAY,
        limits => FLOAT8_ARRAY,
        now_ms => INT8,
        usd => FLOAT8,
        lease_until_ms => INT8,
    ];
    let statements = async {
        let (locked, over) = tokio::join!(
            c.execute_typed(
                "SELECT pg_advisory_xact_lock(hashtextextended('bsu:spend:' || $1, 0))",
                lock
            ),
            c.query_typed(RESERVE, values),
        );
        locked?;
        over
    };
    let over = super::in_one_trip(c, statements).await?;
    // A row (a refusal) names one of `windows`, so there is one to name.
    let refused = over.first().and_then(|row| {
        let i = usize::try_from(row.get::<_, i64>(0) - 1).ok();
        let window = i.and_then(|i| windows.get(i)).or(windows.first())?;
        Some(Refused {
            window: *window,
            spent_usd: row.get(1),
        })
    });
    Ok(refused.map_or(Ok(()), Err))
}

/// A run's reservation replaced by what it spent, a row per agent.
pub(super) const SETTLE: Sql = Sql {
    text: "WITH reservation AS (DELETE FROM bsu_spend WHERE run_id = $1 AND reserved)
         INSERT INTO bsu_spend (run_id, project, at_ms, usd, provider, model, reserved, agent,
             input_tokens, output_tokens)
         SELECT $1, $2, $3, u, p, m, FALSE, a, i, o
         FROM UNNEST($4::DOUBLE PRECISION[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::BIGINT[],
                     $9::BIGINT[]) AS x(u, p, m, a, i, o)",
    types: &[
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::FLOAT8_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
    ],
};

/// Replace `run_id`'s reservation with what it cost, every agent's row,
/// in one statement (inside the caller's transaction).
pub(super) async fn settle(
    c: &Client,
    prepared: Option<&Statement>,
    project: &str,
    run_id: &str,
    now_ms: i64,
    actual: &[Spent],
) -> PgResult<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let usd: Vec<f64> = actual.iter().map(|s| s.usd).collect();
    let provider: Vec<&str> = actual.iter().map(|s| s.provider.as_str()).collect();
    let model: Vec<&str> = actual.iter().map(|s| s.model.as_str()).collect();
    let agent: Vec<&str> = actual.iter().map(|s| s.agent.as_str()).collect();
    let input: Vec<i64> = actual.iter().map(|s| n(s.input_tokens)).collect();
    let output: Vec<i64> = actual.iter().map(|s| n(s.output_tokens)).collect();
    let values: [&(dyn ToSql + Sync); 9] = [
        &run_id, &project, &now_ms, &usd, &provider, &model, &agent, &input, &output,
    ];
    SETTLE.execute(c, prepared, &values).await?;
    Ok(())
}

pub(super) async fn reservations(
    c: &impl GenericClient,
    now_ms: i64,
) -> PgResult<Vec<Reservation>> {
    let rows = c
        .query_typed(
            "SELECT run_id, project, usd, lease_until_ms FROM bsu_spend WHERE reserved
             ORDER BY at_ms DESC LIMIT 50",
            params![],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let lease: Option<i64> = r.get(3);
            Reservation {
                run_id: r.get(0),
                project: r.get(1),
                usd: r.get(2),
                lease_until_ms: lease,
                expired: lease.is_none_or(|l| l <= now_ms),
            }
        })
        .collect())
}

/// The fleet's spend since `from_ms` by provider and model, largest first.
pub(super) async fn by_model(
    c: &impl GenericClient,
    from_ms: i64,
) -> PgResult<Vec<(String, String, f64)>> {
    let rows = c
        .query_typed(
            "SELECT provider, model, SUM(usd) FROM bsu_spend WHERE NOT reserved AND at_ms >= $1
             GROUP BY provider, model ORDER BY SUM(usd) DESC",
            params![from_ms => INT8],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}
