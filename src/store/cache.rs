//! The response cache: replies keyed by the SHA-256 of what was sent, with a
//! TTL and a size cap (oldest evicted first), and persistent hit/miss counters.

use rusqlite::{params, Connection, OptionalExtension};

use super::{bump, counter, immediate};
use crate::client::{ChatReply, Usage};

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    content: String,
    usage: Usage,
}

/// The unexpired reply for `key`: a read, counting nothing (the run's end
/// counts its lookups, `count`), so a lookup before a request takes no
/// write lock.
pub(crate) fn get(conn: &Connection, key: &str, now: i64) -> rusqlite::Result<Option<ChatReply>> {
    let found: Option<String> = conn
        .query_row(
            "SELECT reply FROM cache WHERE key = ?1 AND expires_at > ?2",
            params![key, now],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.and_then(|text| parse(&text)))
}

/// A run's cache lookups, counted as it goes and written at its end
/// (`Backend::run_end`), with its other counts, in one transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Replies served from the cache, or shared with an identical call in flight.
    pub hits: u64,
    /// Lookups that found nothing fresh.
    pub misses: u64,
}

impl Counts {
    pub(crate) fn is_empty(self) -> bool {
        self.hits == 0 && self.misses == 0
    }

    pub(crate) fn add(&mut self, more: Counts) {
        self.hits = self.hits.saturating_add(more.hits);
        self.misses = self.misses.saturating_add(more.misses);
    }
}

/// Add a run's lookups to the persistent counters.
pub(crate) fn count(tx: &rusqlite::Transaction<'_>, counts: Counts) -> rusqlite::Result<()> {
    let by = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    for (name, n) in [("cache_hits", counts.hits), ("cache_misses", counts.misses)] {
        if n > 0 {
            bump(tx, name, by(n))?;
        }
    }
    Ok(())
}

/// A stored reply read back (`None` when it is not one).
pub(crate) fn parse(text: &str) -> Option<ChatReply> {
    serde_json::from_str::<Stored>(text)
        .ok()
        .map(|s| ChatReply {
            pace: None,
            content: s.content,
            usage: s.usage,
            cut_off: false,
        })
}

/// A reply as the cache stores it, or `None` when it alone is over `max_bytes`.
pub(crate) fn stored(reply: &ChatReply, max_bytes: u64) -> Option<String> {
    let text = serde_json::to_string(&Stored {
        content: reply.content.clone(),
        usage: reply.usage,
    })
    .unwrap_or_default();
    (text.len() as u64 <= max_bytes).then_some(text)
}

/// Store a reply, then evict the oldest entries while the total is over `max_bytes`.
pub(crate) fn put(
    conn: &mut Connection,
    key: &str,
    reply: &ChatReply,
    now: i64,
    ttl_ms: i64,
    max_bytes: u64,
) -> rusqlite::Result<()> {
    // One that would evict everything and still not fit is not kept.
    let Some(text) = stored(reply, max_bytes) else {
        return Ok(());
    };
    let bytes = text.len() as i64;
    immediate(conn, |tx| {
        let before = total_bytes(tx)?;
        let replaced: i64 = tx
            .query_row("SELECT bytes FROM cache WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO cache (key, reply, bytes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET reply = excluded.reply, bytes = excluded.bytes,
                created_at = excluded.created_at, expires_at = excluded.expires_at",
            params![key, text, bytes, now, now.saturating_add(ttl_ms)],
        )?;
        let mut total = before - replaced + bytes;
        if total as u64 > max_bytes {
            // Walk from the oldest (the index by age), dropping until the
            // rest fits: as many rows as are dropped, not the whole cache.
            let mut oldest = tx
                .prepare("SELECT key, bytes FROM cache WHERE key <> ?1 ORDER BY created_at, key")?;
            let mut rows = oldest.query([key])?;
            let mut gone = Vec::new();
            while total as u64 > max_bytes {
                let Some(row) = rows.next()? else { break };
                gone.push(row.get::<_, String>(0)?);
                total -= row.get::<_, i64>(1)?;
            }
            drop(rows);
            for k in gone {
                tx.execute("DELETE FROM cache WHERE key = ?1", [&k])?;
            }
        }
        super::set_counter(tx, "cache_bytes", total)
    })
}

/// The bytes the cache holds, as its counter keeps them (`cache_bytes`):
/// summed from the table, which reads every reply stored, only when there
/// is no counter yet (a cache an older bsu kept) or it was dropped
/// (`clear`, `prune`).
fn total_bytes(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<i64> {
    match super::counter_opt(tx, "cache_bytes")? {
        Some(n) => Ok(n),
        None => tx.query_row("SELECT COALESCE(SUM(bytes), 0) FROM cache", [], |r| {
            r.get(0)
        }),
    }
}

/// Entries removed other than by `put`: the next `put` sums the cache again.
const RECOUNT: &str = "DELETE FROM counters WHERE name = 'cache_bytes'";

/// Remove every entry; returns how many.
pub(crate) fn clear(conn: &mut Connection) -> rusqlite::Result<usize> {
    immediate(conn, |tx| {
        tx.execute(RECOUNT, [])?;
        tx.execute("DELETE FROM cache", [])
    })
}

/// Remove expired entries; returns how many.
pub(crate) fn prune(conn: &mut Connection, now: i64) -> rusqlite::Result<usize> {
    immediate(conn, |tx| {
        tx.execute(RECOUNT, [])?;
        tx.execute("DELETE FROM cache WHERE expires_at <= ?1", [now])
    })
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stats {
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

pub(crate) fn stats(conn: &Connection, now: i64) -> rusqlite::Result<Stats> {
    let (entries, bytes): (i64, i64) = conn.query_row(
        "SELECT count(*), COALESCE(SUM(bytes), 0) FROM cache",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let expired: i64 = conn.query_row(
        "SELECT count(*) FROM cache WHERE expires_at <= ?1",
        [now],
        |r| r.get(0),
    )?;
    Ok(Stats {
        entries: entries as u64,
        bytes: bytes as u64,
        hits: counter(conn, "cache_hits")? as u64,
        misses: counter(conn, "cache_misses")? as u64,
        expired: expired as u64,
    })
}
