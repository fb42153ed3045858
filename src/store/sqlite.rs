//! The SQLite backend: the store's operations on one `rusqlite::Connection`
//! (the schema, migrations and opening are in `mod.rs`).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction};

use super::migrations::MIGRATIONS;
use super::{immediate, FILE, SCHEMA_VERSION};

use super::backend::{Backend, Result};
use super::runs::{RunRecord, Settle};
use super::snapshot::{self, Ask, Snapshot};
use super::spend::{Refused, Window};
use super::{breakers, cache, runs, spend};
use crate::breaker::{Admission, Breaker, Outcome, Settings, State};
use crate::client::ChatReply;
#[cfg(test)]
use {super::cache::Stats, super::spend::Reservation, crate::breaker::Transition};

impl Backend for Connection {
    fn breaker_admit(
        &mut self,
        name: &str,
        now: i64,
        s: &Settings,
    ) -> Result<(Admission, Breaker)> {
        Ok(breakers::admit(self, name, now, s)?)
    }

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
        Ok(breakers::record(
            self,
            name,
            now,
            (outcome, count),
            probe,
            error,
            s,
        )?)
    }

    fn breaker_states(&mut self, names: &[String]) -> Result<Vec<(String, State)>> {
        Ok(breakers::states(self, names)?)
    }

    fn breakers(&mut self) -> Result<Vec<(String, Breaker)>> {
        Ok(breakers::list(self)?)
    }

    #[cfg(test)]
    fn breaker_transitions(&mut self, name: &str, limit: i64) -> Result<Vec<Transition>> {
        Ok(breakers::transitions(self, name, limit)?)
    }

    fn breaker_reset(&mut self, name: Option<&str>, now: i64) -> Result<Vec<String>> {
        Ok(breakers::reset(self, name, now)?)
    }

    fn cache_get(&mut self, key: &str, now: i64) -> Result<Option<ChatReply>> {
        Ok(cache::get(self, key, now)?)
    }

    fn cache_put(
        &mut self,
        key: &str,
        reply: &ChatReply,
        now: i64,
        ttl_ms: i64,
        max_bytes: u64,
    ) -> Result<()> {
        Ok(cache::put(self, key, reply, now, ttl_ms, max_bytes)?)
    }

    fn cache_clear(&mut self) -> Result<usize> {
        Ok(cache::clear(self)?)
    }

    fn cache_prune(&mut self, now: i64) -> Result<usize> {
        Ok(cache::prune(self, now)?)
    }

    #[cfg(test)]
    fn cache_stats(&mut self, now: i64) -> Result<Stats> {
        Ok(cache::stats(self, now)?)
    }

    #[cfg(test)]
    fn run_record(&mut self, r: &RunRecord) -> Result<()> {
        Ok(runs::record(self, r)?)
    }

    fn run_end(
        &mut self,
        successes: &[(String, u64, Settings)],
        counts: cache::Counts,
        spend: Option<&Settle>,
        run: Option<&RunRecord>,
        now: i64,
    ) -> Result<()> {
        Ok(immediate(self, |tx| {
            for (name, n, s) in successes {
                breakers::record_tx(tx, name, now, (Outcome::Success, *n), false, None, s)?;
            }
            cache::count(tx, counts)?;
            if let Some((project, run_id, rows)) = spend {
                spend::settle_tx(tx, project, run_id, now, rows)?;
            }
            if let Some(r) = run {
                runs::record_tx(tx, r)?;
            }
            Ok(())
        })?)
    }

    fn runs_recent(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        Ok(runs::recent(self, limit)?)
    }

    fn run_last_decided(
        &mut self,
        project: &str,
        strategy: &str,
    ) -> Result<Option<Option<String>>> {
        Ok(runs::last_decided(self, project, strategy)?)
    }

    fn ledger_get(&mut self, project: &str, strategy: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .query_row(
                "SELECT json FROM ledgers WHERE project = ?1 AND strategy = ?2",
                rusqlite::params![project, strategy],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn ledger_put(&mut self, project: &str, strategy: &str, json: &str, now: i64) -> Result<()> {
        Ok(immediate(self, |tx| {
            tx.execute(
                "INSERT INTO ledgers (project, strategy, json, updated_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (project, strategy) DO UPDATE SET json = ?3, updated_ms = ?4",
                rusqlite::params![project, strategy, json, now],
            )?;
            Ok(())
        })?)
    }

    fn window_get(&mut self, endpoint: &str, model: &str, since_ms: i64) -> Result<Option<u32>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .query_row(
                "SELECT tokens FROM windows WHERE endpoint = ?1 AND model = ?2 AND at_ms >= ?3",
                rusqlite::params![endpoint, model, since_ms],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn window_put(&mut self, endpoint: &str, model: &str, tokens: u32, now: i64) -> Result<()> {
        Ok(immediate(self, |tx| {
            tx.execute(
                "INSERT INTO windows (endpoint, model, tokens, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (endpoint, model) DO UPDATE SET tokens = ?3, at_ms = ?4",
                rusqlite::params![endpoint, model, tokens, now],
            )?;
            Ok(())
        })?)
    }

    fn token_counts_get(&mut self, project: &str, limit: usize) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.prepare_cached(
            "SELECT key, tokens FROM token_counts WHERE project = ?1 ORDER BY at_ms DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(rusqlite::params![project, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn token_counts_of(&mut self, project: &str, keys: &[String]) -> Result<Vec<(String, u64)>> {
        let mut stmt =
            self.prepare_cached("SELECT tokens FROM token_counts WHERE project = ?1 AND key = ?2")?;
        let mut found = Vec::new();
        for key in keys {
            let row = stmt
                .query_row(rusqlite::params![project, key], |r| r.get::<_, i64>(0))
                .optional()?;
            if let Some(n) = row {
                found.push((key.clone(), n.max(0) as u64));
            }
        }
        Ok(found)
    }

    fn token_counts_put(
        &mut self,
        project: &str,
        counts: &[(String, u64)],
        now: i64,
        keep: usize,
    ) -> Result<()> {
        Ok(immediate(self, |tx| {
            keep_token_counts(tx, project, counts, now, keep)
        })?)
    }

    fn spend_reserve(
        &mut self,
        project: &str,
        run_id: &str,
        usd: f64,
        at: (i64, i64),
        windows: &[Window],
    ) -> Result<std::result::Result<(), Refused>> {
        Ok(spend::reserve(self, project, run_id, usd, at, windows)?)
    }

    #[cfg(test)]
    fn spend_reservations(&mut self, now: i64) -> Result<Vec<Reservation>> {
        Ok(spend::reservations(self, now)?)
    }

    #[cfg(test)]
    fn spend_by_model(&mut self, from_ms: i64) -> Result<Vec<(String, String, f64)>> {
        Ok(spend::by_model(self, from_ms)?)
    }

    fn snapshot(&mut self, ask: &Ask) -> Result<Snapshot> {
        Ok(snapshot::read(self, ask, || ())?)
    }

    fn migrate(&mut self) -> Result<(i64, i64)> {
        // Opening migrated already; say where it stands.
        let v: i64 = self.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok((v, v))
    }

    #[cfg(test)]
    fn sqlite(&mut self) -> Option<&mut Connection> {
        Some(self)
    }
}

/// Why a database could not be used.
#[derive(Debug)]
pub(super) enum Broken {
    /// Corrupt, not a database, or written by a newer bsu: replace it.
    Fixable(String),
    Other(String),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Fixable(s) | Broken::Other(s) => f.write_str(s),
        }
    }
}

impl From<rusqlite::Error> for Broken {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Broken::Fixable(e.to_string())
            }
            _ => Broken::Other(format!("state database: {e}")),
        }
    }
}

pub(super) fn migrate(conn: &mut Connection) -> std::result::Result<(), Broken> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(Broken::from)?;
    if version > SCHEMA_VERSION {
        return Err(Broken::Fixable(format!(
            "its schema version {version} is newer than this bsu's {SCHEMA_VERSION}"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        immediate(conn, |tx| {
            // Another process may have migrated while we waited for the lock.
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                return Ok(());
            }
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
        })
        .map_err(Broken::from)?;
    }
    // A file that is not a database can pass the reads above when empty-ish;
    // touching a table proves it is usable.
    conn.query_row("SELECT count(*) FROM counters", [], |_| Ok(()))
        .map_err(Broken::from)?;
    Ok(())
}

pub(super) fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    let aside = path.with_file_name(format!("{FILE}.broken-{stamp}-{}", std::process::id()));
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let side = path.with_file_name(format!("{FILE}{suffix}"));
        let _ = std::fs::remove_file(side);
    }
    Ok(aside)
}

/// Keep `counts` for `project`, and only its newest `keep`, at a cost that
/// grows with the counts kept now, not with the counts already kept: the
/// project's count is a counter (`token_counts:PROJECT`, counted once from
/// the table when it is missing), and only the oldest over `keep` are
/// deleted, through the table's index by age.
fn keep_token_counts(
    tx: &Transaction<'_>,
    project: &str,
    counts: &[(String, u64)],
    now: i64,
    keep: usize,
) -> rusqlite::Result<()> {
    use rusqlite::params;
    let name = format!("token_counts:{project}");
    let known: i64 = match super::counter_opt(tx, &name)? {
        Some(n) => n,
        None => tx.query_row(
            "SELECT count(*) FROM token_counts WHERE project = ?1",
            [project],
            |r| r.get(0),
        )?,
    };
    let mut added = 0i64;
    let mut insert = tx.prepare_cached(
        "INSERT INTO token_counts (project, key, tokens, at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project, key) DO NOTHING",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE token_counts SET tokens = ?3, at_ms = ?4 WHERE project = ?1 AND key = ?2",
    )?;
    for (key, tokens) in counts {
        let tokens = i64::try_from(*tokens).unwrap_or(i64::MAX);
        if insert.execute(params![project, key, tokens, now])? == 1 {
            added += 1;
        } else {
            update.execute(params![project, key, tokens, now])?;
        }
    }
    let over = (known + added).saturating_sub(i64::try_from(keep).unwrap_or(i64::MAX));
    let gone = if over > 0 {
        tx.execute(
            "DELETE FROM token_counts WHERE rowid IN
               (SELECT rowid FROM token_counts WHERE project = ?1 ORDER BY at_ms LIMIT ?2)",
            params![project, over],
        )? as i64
    } else {
        0
    };
    super::set_counter(tx, &name, known + added - gone)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::Store;

    #[test]
    fn the_wal_kept_between_runs_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let reply = ChatReply {
            pace: None,
            content: "x".repeat(8_000),
            usage: crate::client::Usage::default(),
            cut_off: false,
        };
        let wal =
            || std::fs::metadata(dir.path().join(format!("{FILE}-wal"))).map_or(0, |m| m.len());
        // A long-lived state directory: many runs, each opening it anew
        // and writing once at its end, as a run does.
        let mut largest = 0;
        for run in 0..200 {
            let s = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
            s.with(|c| c.cache_put(&format!("k{run}"), &reply, 0, 60_000, 1 << 30))
                .unwrap();
            largest = largest.max(wal());
        }
        // About 16 KB a run: 3.2 MB of writes, kept to the 1 MiB of the
        // autocheckpoint (and a run's writes past it).
        assert!(largest <= 5 << 18, "the WAL grew to {largest} bytes");
        // Another connection open throughout, reading between the writes
        // (as a concurrent process would): its shared index is never rebuilt.
        let reader = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
        for run in 200..300 {
            let s = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
            s.with(|c| c.cache_put(&format!("k{run}"), &reply, 0, 60_000, 1 << 30))
                .unwrap();
            reader.with(|c| c.cache_get("k0", 0)).unwrap();
            largest = largest.max(wal());
        }
        assert!(largest <= 5 << 18, "the WAL grew to {largest} bytes");
    }

    #[test]
    fn creates_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
        let v: i64 = s
            .with(|c| {
                let conn = c.sqlite().expect("sqlite");
                Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop(s);
        Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
    }

    #[test]
    fn a_corrupt_database_is_moved_aside_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            b"this is not a sqlite database, just text padding it out to a page or so",
        )
        .unwrap();
        let warnings = Mutex::new(Vec::new());
        let s = Store::open(dir.path(), &|w| {
            warnings.lock().unwrap().push(w.to_string())
        })
        .unwrap();
        let warnings = warnings.into_inner().unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("moved it to") && warnings[0].contains("state.db.broken-"),
            "{warnings:?}"
        );
        s.with(|c| {
            let conn = c.sqlite().expect("sqlite");
            Ok(conn.query_row("SELECT count(*) FROM runs", [], |_| Ok(()))?)
        })
        .unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("state.db.broken-")),
            "{names:?}"
        );
    }

    #[test]
    fn a_newer_schema_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join(FILE)).unwrap();
            c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 5))
                .unwrap();
        }
        let warned = Mutex::new(String::new());
        Store::open(dir.path(), &|w| *warned.lock().unwrap() = w.to_string()).unwrap();
        assert!(warned
            .into_inner()
            .unwrap()
            .contains("newer than this bsu's"));
    }
}
