//! The response cache on the server: each entry written whole in one
//! statement, and the cache kept under its cap, oldest first, at a cost that
//! grows with what is evicted, not with what is cached. The bytes cached are
//! a counter (`cache_bytes`), kept by every put under the cache's
//! transaction-scoped advisory lock, and summed from the table only when it
//! is missing (a cache an older bsu kept, or after `clear` and `prune`).

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient};

use crate::store::cache::Stats;

use super::end::{self, Prepared};
use super::Sql;

type PgResult<T> = Result<T, tokio_postgres::Error>;

/// Entries evicted by one put at most: the oldest, through the index by
/// age. A reply that needs more room than they free leaves the cache over
/// its cap until later puts evict the rest.
const EVICTED_AT_MOST: i64 = 4096;

const LOCK: Sql = Sql {
    text: "SELECT pg_advisory_xact_lock(hashtextextended('bsu:cache', 0))",
    types: &[],
};

/// The bytes cached, from the table, when there is no counter (the sum
/// runs only for the row the WHERE lets through).
const COUNT: Sql = Sql {
    text: "INSERT INTO bsu_counters (name, value)
           SELECT 'cache_bytes', (SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM bsu_cache)
           WHERE NOT EXISTS (SELECT 1 FROM bsu_counters WHERE name = 'cache_bytes')
           ON CONFLICT (name) DO NOTHING",
    types: &[],
};

/// The entry, whole, and the counter moved by its size less the size of
/// the one it replaces.
const STORE: Sql = Sql {
    text: "WITH replaced AS (SELECT bytes FROM bsu_cache WHERE key = $1),
           stored AS (
              INSERT INTO bsu_cache (key, reply, bytes, created_at, expires_at)
              VALUES ($1, $2, $3, $4, $5)
              ON CONFLICT (key) DO UPDATE SET reply = excluded.reply,
                 bytes = excluded.bytes, created_at = excluded.created_at,
                 expires_at = excluded.expires_at
              RETURNING bytes)
           UPDATE bsu_counters
           SET value = value + (SELECT bytes FROM stored)
               - COALESCE((SELECT bytes FROM replaced), 0)
           WHERE name = 'cache_bytes'",
    types: &[Type::TEXT, Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
};

/// The oldest first, until the rest fits under the cap (`$1` kept).
const EVICT: Sql = Sql {
    text: "WITH over AS (SELECT value - $2 AS n FROM bsu_counters WHERE name = 'cache_bytes'),
           oldest AS (
              SELECT key, bytes, created_at FROM bsu_cache
              WHERE key <> $1 AND (SELECT n FROM over) > 0
              ORDER BY created_at, key LIMIT $3),
           freeing AS (
              SELECT key, SUM(bytes) OVER (ORDER BY created_at, key) - bytes AS before
              FROM oldest),
           gone AS (
              DELETE FROM bsu_cache
              WHERE key IN (SELECT key FROM freeing WHERE before < (SELECT n FROM over))
              RETURNING bytes)
           UPDATE bsu_counters SET value = value - (SELECT SUM(bytes) FROM gone)
           WHERE name = 'cache_bytes' AND EXISTS (SELECT 1 FROM gone)",
    types: &[Type::TEXT, Type::INT8, Type::INT8],
};

/// A put's statements, in `Prepared`'s order.
const PUT: [&Sql; 4] = [&LOCK, &COUNT, &STORE, &EVICT];

/// Prepare and plan a put's statements while the run waits on its models
/// (`Backend::warm`), as the end's are: a new server process otherwise
/// parses and plans them, and reads their catalogs, after the reply (about
/// 3 ms here, most of it the eviction's plan).
pub(super) async fn warm(c: &Client) -> Option<Prepared> {
    end::ready(c, PUT).await
}

/// Store `text` under `key`, then evict the oldest entries while the cache
/// is over `cap` bytes: one transaction in one round trip (`in_one_trip`),
/// through `prepared` when there is one. Whether `prepared` was found lost
/// (the put was then made again, unprepared).
pub(super) async fn put(
    c: &Client,
    prepared: Option<&Prepared>,
    key: &str,
    text: &str,
    times: (i64, i64),
    cap: i64,
) -> PgResult<bool> {
    end::unless_lost(prepared, async |p| {
        put_once(c, p, key, text, times, cap).await
    })
    .await
}

async fn put_once(
    c: &Client,
    prepared: Option<&Prepared>,
    key: &str,
    text: &str,
    (now, expires): (i64, i64),
    cap: i64,
) -> PgResult<()> {
    let at = |i: usize| prepared.map(|p| &p.0[i]);
    let bytes = i64::try_from(text.len()).unwrap_or(i64::MAX);
    let entry: [&(dyn ToSql + Sync); 5] = [&key, &text, &bytes, &now, &expires];
    let over: [&(dyn ToSql + Sync); 3] = [&key, &cap, &EVICTED_AT_MOST];
    let statements = async {
        let (locked, counted, stored, evicted) = tokio::join!(
            LOCK.execute(c, at(0), &[]),
            COUNT.execute(c, at(1), &[]),
            STORE.execute(c, at(2), &entry),
            EVICT.execute(c, at(3), &over),
        );
        locked?;
        counted?;
        stored?;
        evicted.map(drop)
    };
    super::in_one_trip(c, statements).await
}

/// Remove every entry, or those expired at `expired_at`: how many. The
/// counter goes with them, to be summed again by the next put.
pub(super) async fn remove(c: &Client, expired_at: Option<i64>) -> PgResult<u64> {
    let statements = async {
        let (recount, removed) = tokio::join!(
            c.execute_typed(
                "DELETE FROM bsu_counters WHERE name = 'cache_bytes'",
                params![]
            ),
            async {
                match expired_at {
                    None => c.execute_typed("DELETE FROM bsu_cache", params![]).await,
                    Some(now) => {
                        c.execute_typed(
                            "DELETE FROM bsu_cache WHERE expires_at <= $1",
                            params![now => INT8],
                        )
                        .await
                    }
                }
            },
        );
        recount?;
        removed
    };
    super::in_one_trip(c, statements).await
}

/// The cache's entries, bytes and expired entries, and the fleet's hits and
/// misses.
pub(super) async fn stats(c: &impl GenericClient, now: i64) -> PgResult<Stats> {
    let r = c
        .query_typed_one(
            "SELECT count(*), COALESCE(SUM(bytes), 0)::BIGINT,
                count(*) FILTER (WHERE expires_at <= $1),
                COALESCE((SELECT value FROM bsu_counters WHERE name = 'cache_hits'), 0),
                COALESCE((SELECT value FROM bsu_counters WHERE name = 'cache_misses'), 0)
             FROM bsu_cache",
            params![now => INT8],
        )
        .await?;
    let n = |i: usize| r.get::<_, i64>(i).max(0) as u64;
    Ok(Stats {
        entries: n(0),
        bytes: n(1),
        expired: n(2),
        hits: n(3),
        misses: n(4),
    })
}
