//! Run history and kept token counts on the server.

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, Statement};

use super::Sql;

use crate::store::runs::RunRecord;

type PgResult<T> = Result<T, tokio_postgres::Error>;

/// A run's history row, written (or rewritten) whole.
pub(super) const RECORD: Sql = Sql {
    text: "INSERT INTO bsu_runs (run_id, event, decision, started_at, started_ms, duration_ms,
             report, project, dry_run, strategy, head_sha, replayed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (run_id) DO UPDATE SET event = excluded.event,
            decision = excluded.decision, started_at = excluded.started_at,
            started_ms = excluded.started_ms, duration_ms = excluded.duration_ms,
            report = excluded.report, project = excluded.project, dry_run = excluded.dry_run,
            strategy = excluded.strategy, head_sha = excluded.head_sha,
            replayed = excluded.replayed",
    types: &[
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::BOOL,
        Type::TEXT,
        Type::TEXT,
        Type::BOOL,
    ],
};

pub(super) async fn record(
    c: &Client,
    prepared: Option<&Statement>,
    r: &RunRecord,
) -> PgResult<()> {
    let duration = i64::try_from(r.duration_ms).unwrap_or(i64::MAX);
    let values: [&(dyn ToSql + Sync); 12] = [
        &r.run_id,
        &r.event,
        &r.decision,
        &r.started_at,
        &r.started_ms,
        &duration,
        &r.report,
        &r.project,
        &r.dry_run,
        &r.strategy,
        &r.head_sha,
        &r.replayed,
    ];
    RECORD.execute(c, prepared, &values).await?;
    Ok(())
}

/// The `limit` most recent runs of the fleet, newest first.
pub(super) async fn recent(c: &impl GenericClient, limit: usize) -> PgResult<Vec<RunRecord>> {
    let rows = c
        .query_typed(
            "SELECT run_id, event, decision, started_at, duration_ms, report, project, started_ms,
                dry_run, replayed, strategy, head_sha,
                (SELECT SUM(usd) FROM bsu_spend s WHERE s.run_id = r.run_id AND NOT s.reserved),
                (SELECT SUM(input_tokens + output_tokens)::BIGINT FROM bsu_spend s
                   WHERE s.run_id = r.run_id AND NOT s.reserved)
             FROM bsu_runs r ORDER BY started_ms DESC, seq DESC LIMIT $1",
            params![i64::try_from(limit).unwrap_or(i64::MAX) => INT8],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let dry_run: bool = r.get(8);
            RunRecord {
                run_id: r.get(0),
                event: r.get(1),
                decision: if dry_run {
                    "dry_run".to_string()
                } else {
                    r.get(2)
                },
                started_at: r.get(3),
                duration_ms: r.get::<_, i64>(4).max(0) as u64,
                report: r.get(5),
                cost_usd: r.get(12),
                tokens: r.get::<_, Option<i64>>(13).unwrap_or(0).max(0) as u64,
                project: r.get(6),
                started_ms: r.get(7),
                dry_run,
                replayed: r.get(9),
                strategy: r.get(10),
                head_sha: r.get(11),
            }
        })
        .collect())
}

/// As `store::runs::last_decided`, across the fleet.
pub(super) async fn last_decided(
    c: &impl GenericClient,
    project: &str,
    strategy: &str,
) -> PgResult<Option<Option<String>>> {
    let row = c
        .query_typed_opt(
            "SELECT head_sha FROM bsu_runs WHERE project = $1 AND strategy = $2 AND NOT dry_run
             AND NOT replayed AND decision IN ('approve', 'request_changes', 'block')
             ORDER BY started_ms DESC, seq DESC LIMIT 1",
            params![project => TEXT, strategy => TEXT],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub(super) async fn token_counts(
    c: &impl GenericClient,
    project: &str,
    limit: usize,
) -> PgResult<Vec<(String, u64)>> {
    let rows = c
        .query_typed(
            "SELECT key, tokens FROM bsu_token_counts WHERE project = $1
             ORDER BY at_ms DESC LIMIT $2",
            params![project => TEXT, i64::try_from(limit).unwrap_or(i64::MAX) => INT8],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
        .collect())
}

/// The counts kept for `project` under any of `keys`: one statement,
/// through the primary key.
pub(super) async fn token_counts_of(
    c: &impl GenericClient,
    project: &str,
    keys: &[String],
) -> PgResult<Vec<(String, u64)>> {
    let rows = c
        .query_typed(
            "SELECT key, tokens FROM bsu_token_counts WHERE project = $1 AND key = ANY($2)",
            params![project => TEXT, keys => TEXT_ARRAY],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
        .collect())
}

/// Keep `counts` for `project`, and only its newest `keep`, in one round
/// trip, at a cost that grows with the counts kept now, not with those
/// already kept: the project's count is a counter (`token_counts:PROJECT`,
/// counted once from the table when it is missing), and only the oldest
/// over `keep` are deleted, through the index by age. The counter's row is
/// locked from the second statement to the commit, so two runners of a
/// project take turns and each counts what the other added.
pub(super) async fn keep_token_counts(
    c: &Client,
    project: &str,
    counts: &[(String, u64)],
    now: i64,
    keep: usize,
) -> PgResult<()> {
    let mut unique: Vec<&(String, u64)> = counts.iter().collect();
    unique.sort_by(|a, b| a.0.cmp(&b.0));
    unique.dedup_by(|a, b| a.0 == b.0);
    let keys: Vec<&str> = unique.iter().map(|(k, _)| k.as_str()).collect();
    let tokens: Vec<i64> = unique
        .iter()
        .map(|(_, t)| i64::try_from(*t).unwrap_or(i64::MAX))
        .collect();
    let name = format!("token_counts:{project}");
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let first = params![name => TEXT, project => TEXT];
    let put = params![
        project => TEXT,
        keys => TEXT_ARRAY,
        tokens => INT8_ARRAY,
        now => INT8,
        name => TEXT,
    ];
    let prune = params![project => TEXT, keep => INT8, name => TEXT];
    let statements = async {
        let (counted, kept, pruned) = tokio::join!(
            // The count, from the table, the first time only (the subquery
            // runs only for the row the WHERE lets through).
            c.execute_typed(
                "INSERT INTO bsu_counters (name, value)
             SELECT $1, (SELECT count(*) FROM bsu_token_counts WHERE project = $2)
             WHERE NOT EXISTS (SELECT 1 FROM bsu_counters WHERE name = $1)
             ON CONFLICT (name) DO NOTHING",
                first,
            ),
            c.execute_typed(
                "WITH kept AS (
                INSERT INTO bsu_token_counts (project, key, tokens, at_ms)
                SELECT $1, k, t, $4 FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS u(k, t)
                ON CONFLICT (project, key) DO UPDATE
                    SET tokens = excluded.tokens, at_ms = excluded.at_ms
                RETURNING xmax = 0 AS added)
             UPDATE bsu_counters SET value = value + (SELECT count(*) FROM kept WHERE added)
             WHERE name = $5",
                put,
            ),
            c.execute_typed(
                "WITH gone AS (
                DELETE FROM bsu_token_counts WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM bsu_token_counts WHERE project = $1 ORDER BY at_ms
                    LIMIT GREATEST((SELECT value FROM bsu_counters WHERE name = $3) - $2, 0)))
                RETURNING 1)
             UPDATE bsu_counters SET value = value - (SELECT count(*) FROM gone)
             WHERE name = $3 AND EXISTS (SELECT 1 FROM gone)",
                prune,
            ),
        );
        counted?;
        kept?;
        pruned.map(drop)
    };
    super::in_one_trip(c, statements).await
}
