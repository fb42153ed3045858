//! A run's end on the server: held-back breaker successes, the cache's
//! hits and misses, the settled spend and the history row, in one
//! pipelined transaction; and getting the server ready for it while the
//! run waits on its models (`warm`), so that after the last reply the
//! server only binds, plans and writes.

use std::future::Future as _;
use std::pin::pin;
use std::task::Poll;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Statement};

use super::{breakers, runs, spend, Sql};
use crate::store::cache::Counts;
use crate::store::runs::{RunRecord, Settle};

/// The statements of a run's end.
const AT_END: [&Sql; 4] = [&breakers::SUCCESSES, &COUNT, &spend::SETTLE, &runs::RECORD];

/// Add a run's cache hits and misses to the fleet's counters, after its
/// breakers' rows (the order every end locks rows in). A zero touches no
/// row, so a run that only hit never waits on another's misses.
const COUNT: Sql = Sql {
    text: "INSERT INTO bsu_counters (name, value)
           SELECT name, n FROM (VALUES ('cache_hits', $1::BIGINT), ('cache_misses', $2::BIGINT))
               AS v(name, n)
           WHERE n > 0
           ON CONFLICT (name) DO UPDATE SET value = bsu_counters.value + excluded.value",
    types: &[Type::INT8, Type::INT8],
};

/// Statements prepared on this connection (`warm`, `ready`), in the order
/// given: the end then sends only their parameters, and the server parses
/// nothing after the last reply.
#[derive(Clone)]
pub(super) struct Prepared(pub [Statement; 4]);

impl Sql {
    /// Execute with `values`: bound to `prepared` when there is one, else
    /// parsed with its types in the same round trip.
    pub(super) async fn execute(
        &self,
        c: &Client,
        prepared: Option<&Statement>,
        values: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        match prepared {
            Some(statement) => c.execute(statement, values).await,
            None => c.execute_typed(self.text, &self.with(values)).await,
        }
    }
}

/// What a run's end writes (`Backend::run_end`).
pub(super) struct End<'a> {
    /// (breaker name, successes), in name order, so two ends never deadlock.
    pub successes: (&'a [&'a str], &'a [i64]),
    pub cache: Counts,
    pub spend: Option<&'a Settle>,
    pub run: Option<&'a RunRecord>,
    pub now: i64,
}

/// Write `end` (`write_once`) through `prepared` (`unless_lost`).
pub(super) async fn write(
    c: &Client,
    prepared: Option<&Prepared>,
    end: &End<'_>,
) -> Result<bool, tokio_postgres::Error> {
    unless_lost(prepared, async |p| write_once(c, p, end).await).await
}

/// One transaction, `write`, through `prepared`; again, unprepared, if the
/// session has lost them (the first attempt rolled back). Whether it had.
pub(super) async fn unless_lost(
    prepared: Option<&Prepared>,
    write: impl AsyncFn(Option<&Prepared>) -> Result<(), tokio_postgres::Error>,
) -> Result<bool, tokio_postgres::Error> {
    match write(prepared).await {
        Err(e) if prepared.is_some() && lost_its_statements(&e) => write(None).await.map(|()| true),
        written => written.map(|()| false),
    }
}

/// Write `end` in one transaction, one round trip (`in_one_trip`): each
/// part one statement.
async fn write_once(
    c: &Client,
    prepared: Option<&Prepared>,
    end: &End<'_>,
) -> Result<(), tokio_postgres::Error> {
    // `AT_END[i]`, prepared or not.
    let at = |i: usize| prepared.map(|p| &p.0[i]);
    let (names, counts) = end.successes;
    let parts = async {
        let (succeeded, looked_up, settled, recorded) = tokio::join!(
            async {
                if names.is_empty() {
                    return Ok(());
                }
                breakers::count_successes(c, at(0), names, counts, end.now).await
            },
            async {
                if end.cache.is_empty() {
                    return Ok(());
                }
                let by = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
                let (hits, misses) = (by(end.cache.hits), by(end.cache.misses));
                COUNT.execute(c, at(1), &[&hits, &misses]).await.map(drop)
            },
            async {
                match end.spend {
                    Some((project, run_id, rows)) => {
                        spend::settle(c, at(2), project, run_id, end.now, rows).await
                    }
                    None => Ok(()),
                }
            },
            async {
                match end.run {
                    Some(r) => runs::record(c, at(3), r).await,
                    None => Ok(()),
                }
            },
        );
        succeeded?;
        looked_up?;
        settled?;
        recorded
    };
    super::in_one_trip(c, parts).await
}

/// A statement refused because the prepared statements are gone: the
/// session is not the one they were prepared on (a pooler in transaction
/// mode, which bsu does not support, or one that reset the session).
fn lost_its_statements(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
}

/// Get the server ready for the run's end, once the run's first request is
/// out (`Backend::warm`), so it is paid while the run waits on its models,
/// neither before the request nor after the reply: a new server process
/// has every catalog to read on its first use of a table. The end's
/// statements are prepared (one round trip), then planned (`EXPLAIN`,
/// which runs nothing). Nothing waits for the plans, so the connection is
/// held only while they are written: the driver drops answers nobody waits
/// for when it next reads. `None` when a statement could not be prepared
/// (the end then parses them as it goes).
pub(super) async fn warm(c: &Client) -> Option<Prepared> {
    ready(c, AT_END).await
}

/// Prepare `sqls` (one round trip) and queue their plans, as `warm` does
/// for the end's: `None` when one could not be prepared.
pub(super) async fn ready(c: &Client, sqls: [&Sql; 4]) -> Option<Prepared> {
    let prepare = |i: usize| c.prepare_typed(sqls[i].text, sqls[i].types);
    let (a, b, s, r) = tokio::join!(prepare(0), prepare(1), prepare(2), prepare(3));
    let prepared = Some(Prepared([a.ok()?, b.ok()?, s.ok()?, r.ok()?]));
    plan(c, sqls).await;
    prepared
}

/// Queue the `EXPLAIN` of each statement, and let the connection write them.
async fn plan(c: &Client, sqls: [&Sql; 4]) {
    let explained = sqls.map(|s| format!("EXPLAIN {}", s.text));
    let nulls: [Vec<(&(dyn ToSql + Sync), Type)>; 4] =
        sqls.map(|sql| sql.types.iter().map(|t| (&Null as _, t.clone())).collect());
    let plan = |i: usize| c.query_typed(&explained[i], &nulls[i]);
    let mut planned = pin!(async {
        let _ = tokio::join!(plan(0), plan(1), plan(2), plan(3));
    });
    // One poll queues the four; the yield lets the connection write them.
    std::future::poll_fn(|cx| {
        let _ = planned.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
    tokio::task::yield_now().await;
}

/// SQL NULL of any type: the parameters of a statement only planned.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}
