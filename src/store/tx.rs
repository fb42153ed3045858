//! SQLite's write transactions and persistent counters, shared by the
//! store's operations on `state.db`.

use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::BUSY_TIMEOUT;

/// One short write transaction that takes the write lock up front, so two
/// processes never both read a row and then race to update it.
pub(crate) fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    trim_wal(conn);
    Ok(out)
}

/// The WAL size past which a write cuts it back to nothing: the
/// autocheckpoint's (256 pages of 4 KiB).
const WAL_KEPT: u64 = 1 << 20;

/// Cut the WAL back to nothing once it outgrows `WAL_KEPT`. SQLite reuses
/// a WAL from its start only for a writer whose snapshot began with all of
/// it checkpointed; but a process that opens the database first (no other
/// connection) rebuilds the WAL's index from the whole file and counts none
/// of it as checkpointed. A process that writes once or twice, as a run
/// does, therefore never reused it: the WAL grew by every run's writes
/// (8.6 MB after 286 runs) and each run read all of it when opening, then
/// checkpointed it all at its end. The autocheckpoint of the commit that
/// crossed `WAL_KEPT` has just copied the WAL into the database, so this
/// only truncates it. Never waits: while another process reads, the next
/// write tries again.
fn trim_wal(conn: &Connection) {
    let Some(path) = conn.path().filter(|p| !p.is_empty()) else {
        return;
    };
    let outgrown = std::fs::metadata(format!("{path}-wal")).is_ok_and(|m| m.len() > WAL_KEPT);
    if outgrown {
        let _ = conn.busy_timeout(Duration::ZERO);
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.busy_timeout(BUSY_TIMEOUT);
    }
}

/// Add `by` to a persistent counter.
pub(crate) fn bump(tx: &Transaction<'_>, name: &str, by: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO counters(name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        rusqlite::params![name, by],
    )?;
    Ok(())
}

/// Set a persistent counter to `value`.
pub(crate) fn set_counter(tx: &Transaction<'_>, name: &str, value: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO counters (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        rusqlite::params![name, value],
    )?;
    Ok(())
}

/// A persistent counter, `None` when it was never written.
pub(crate) fn counter_opt(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
}

pub(crate) fn counter(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    Ok(counter_opt(conn, name)?.unwrap_or(0))
}
