//! Run history: every run, dry or failed, with where its report went.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::immediate;

/// One run as `bsu status --json` lists it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct RunRecord {
    pub run_id: String,
    pub event: String,
    pub decision: String,
    pub started_at: String,
    pub duration_ms: u64,
    /// Path of the JSON (or first) report written; `null` if none was.
    pub report: Option<String>,
    /// What it actually cost (USD, priced models only); `null` when it sent
    /// nothing or its spend was not recorded.
    pub cost_usd: Option<f64>,
    /// Tokens the providers reported for it, prompt and completion.
    pub tokens: u64,
    #[serde(skip)]
    pub project: String,
    #[serde(skip)]
    pub started_ms: i64,
    #[serde(skip)]
    pub dry_run: bool,
    /// Answered from a recording (`--replay`), not by a provider.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    #[serde(skip)]
    pub strategy: String,
    /// The commit the run reviewed, when it read the repository.
    #[serde(skip)]
    pub head_sha: Option<String>,
}

pub(crate) fn record(conn: &mut Connection, r: &RunRecord) -> rusqlite::Result<()> {
    immediate(conn, |tx| {
        tx.execute(
            "INSERT OR REPLACE INTO runs (run_id, event, decision, started_at, started_ms, duration_ms, report, project, dry_run, strategy, head_sha, replayed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![r.run_id, r.event, r.decision, r.started_at, r.started_ms, r.duration_ms as i64, r.report, r.project, r.dry_run, r.strategy, r.head_sha, r.replayed],
        )?;
        Ok(())
    })
}

/// The `limit` most recent runs, newest first.
pub(crate) fn recent(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<RunRecord>> {
    conn.prepare(
        "SELECT run_id, event, decision, started_at, duration_ms, report, project, started_ms, dry_run, replayed, strategy, head_sha,
                (SELECT SUM(usd) FROM spend s WHERE s.run_id = runs.run_id AND s.reserved = 0),
                (SELECT SUM(input_tokens + output_tokens) FROM spend s WHERE s.run_id = runs.run_id AND s.reserved = 0)
         FROM runs ORDER BY started_ms DESC, rowid DESC LIMIT ?1",
    )?
    .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        let dry_run: bool = r.get(8)?;
        Ok(RunRecord {
            run_id: r.get(0)?,
            event: r.get(1)?,
            // Older versions recorded dry runs as manual_review; a dry run decides nothing.
            decision: if dry_run {
                "dry_run".to_string()
            } else {
                r.get(2)?
            },
            started_at: r.get(3)?,
            duration_ms: r.get::<_, i64>(4)? as u64,
            report: r.get(5)?,
            cost_usd: r.get(12)?,
            tokens: r.get::<_, Option<i64>>(13)?.unwrap_or(0).max(0) as u64,
            project: r.get(6)?,
            started_ms: r.get(7)?,
            dry_run,
            replayed: r.get(9)?,
            strategy: r.get(10)?,
            head_sha: r.get(11)?,
        })
    })?
    .collect()
}

/// The project's last run of `strategy` that reached a decision on verdicts
/// (approve, request_changes or block; not a dry run, not a replay, not
/// manual_review, which failed runs also get): `Some(head it reviewed)` when
/// there is one. What `since = "last_run"` starts from.
pub(crate) fn last_decided(
    conn: &Connection,
    project: &str,
    strategy: &str,
) -> rusqlite::Result<Option<Option<String>>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT head_sha FROM runs WHERE project = ?1 AND strategy = ?2 AND dry_run = 0
         AND replayed = 0 AND decision IN ('approve', 'request_changes', 'block')
         ORDER BY started_ms DESC, rowid DESC LIMIT 1",
        [project, strategy],
        |r| r.get(0),
    )
    .optional()
}
