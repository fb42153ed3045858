//! Run history: every run, dry or failed, with where its report went.

use rusqlite::{params, Connection};
use serde::Serialize;

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

/// What a run that has just ended leaves in the history. The store fills
/// in the rest: when it started (now less its duration), and its cost and
/// tokens, read back from the run's settled spend.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub run_id: String,
    pub event: String,
    pub strategy: String,
    pub project: String,
    pub decision: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub report: Option<String>,
    pub dry_run: bool,
    pub replayed: bool,
    pub head_sha: Option<String>,
}

impl Ended {
    /// A run of `push` in project `/p` that approved in 10 ms, for tests.
    #[cfg(test)]
    pub(crate) fn for_test(run_id: &str) -> Ended {
        Ended {
            run_id: run_id.into(),
            event: "push".into(),
            strategy: "push".into(),
            project: "/p".into(),
            decision: "approve".into(),
            started_at: "2026-12-06T00:00:00Z".into(),
            duration_ms: 10,
            report: None,
            dry_run: false,
            replayed: false,
            head_sha: None,
        }
    }

    /// The history row, started `duration_ms` before `now_ms`.
    pub(crate) fn record(self, now_ms: i64) -> RunRecord {
        RunRecord {
            run_id: self.run_id,
            event: self.event,
            decision: self.decision,
            started_at: self.started_at,
            started_ms: now_ms - i64::try_from(self.duration_ms).unwrap_or(0),
            duration_ms: self.duration_ms,
            report: self.report,
            cost_usd: None,
            tokens: 0,
            project: self.project,
            dry_run: self.dry_run,
            replayed: self.replayed,
            strategy: self.strategy,
            head_sha: self.head_sha,
        }
    }
}

#[cfg(test)]
pub(crate) fn record(conn: &mut Connection, r: &RunRecord) -> rusqlite::Result<()> {
    super::immediate(conn, |tx| record_tx(tx, r))
}

/// `record`, inside a transaction the caller holds.
pub(crate) fn record_tx(tx: &rusqlite::Transaction<'_>, r: &RunRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO runs (run_id, event, decision, started_at, started_ms, duration_ms, report, project, dry_run, strategy, head_sha, replayed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![r.run_id, r.event, r.decision, r.started_at, r.started_ms, r.duration_ms as i64, r.report, r.project, r.dry_run, r.strategy, r.head_sha, r.replayed],
    )?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn ended(run_id: &str, duration_ms: u64) -> Ended {
        Ended {
            duration_ms,
            head_sha: Some("abc".into()),
            ..Ended::for_test(run_id)
        }
    }

    #[test]
    fn an_ended_run_started_its_duration_ago() {
        let r = ended("r1", 1_500).record(10_000);
        assert_eq!((r.started_ms, r.cost_usd, r.tokens), (8_500, None, 0));
    }

    #[tokio::test]
    async fn ended_runs_are_listed_newest_first() {
        let s = Store::in_memory();
        s.record_run(ended("old", 0)).await.unwrap();
        s.record_run(ended("new", 0)).await.unwrap();
        let runs = s.with(|c| c.runs_recent(10)).unwrap();
        let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
        assert_eq!(runs[0].head_sha.as_deref(), Some("abc"));
    }
}

/// (project, run id, per-agent spend): a run's spend, replacing its reservation.
pub(crate) type Settle = (String, String, Vec<super::spend::Spent>);

/// What a run writes when it ends, in one transaction: the successes its
/// closed breakers held back, its cache lookups, what it spent (replacing
/// its reservation), and its history record.
#[derive(Debug, Default)]
pub(crate) struct EndOfRun {
    /// (breaker, successes, its settings).
    pub successes: Vec<(String, u64, crate::breaker::Settings)>,
    /// The response cache's hits and misses.
    pub cache: super::cache::Counts,
    /// What the run spent, when it is to settle.
    pub spend: Option<Settle>,
    /// The history record, when the run keeps one.
    pub run: Option<Ended>,
}

impl EndOfRun {
    pub(crate) fn is_empty(&self) -> bool {
        self.successes.is_empty()
            && self.cache.is_empty()
            && self.spend.is_none()
            && self.run.is_none()
    }
}
