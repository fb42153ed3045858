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

/// The unexpired reply for `key`, counting a hit or a miss.
pub(crate) fn get(
    conn: &mut Connection,
    key: &str,
    now: i64,
) -> rusqlite::Result<Option<ChatReply>> {
    immediate(conn, |tx| {
        let found: Option<String> = tx
            .query_row(
                "SELECT reply FROM cache WHERE key = ?1 AND expires_at > ?2",
                params![key, now],
                |r| r.get(0),
            )
            .optional()?;
        let reply = found.and_then(|text| parse(&text));
        bump(
            tx,
            if reply.is_some() {
                "cache_hits"
            } else {
                "cache_misses"
            },
            1,
        )?;
        Ok(reply)
    })
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

/// Count a hit that did not need the database (a reply shared in flight).
pub(crate) fn count_hit(conn: &mut Connection) -> rusqlite::Result<()> {
    immediate(conn, |tx| bump(tx, "cache_hits", 1))
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
        tx.execute(
            "INSERT INTO cache (key, reply, bytes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET reply = excluded.reply, bytes = excluded.bytes,
                created_at = excluded.created_at, expires_at = excluded.expires_at",
            params![key, text, bytes, now, now.saturating_add(ttl_ms)],
        )?;
        let total: i64 = tx.query_row("SELECT COALESCE(SUM(bytes), 0) FROM cache", [], |r| {
            r.get(0)
        })?;
        if total as u64 > max_bytes {
            // Walk from the oldest, dropping until the rest fits.
            let mut over = total - max_bytes as i64;
            let oldest: Vec<(String, i64)> = tx
                .prepare("SELECT key, bytes FROM cache ORDER BY created_at, key")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (k, b) in oldest {
                if over <= 0 {
                    break;
                }
                if k == key {
                    continue;
                }
                tx.execute("DELETE FROM cache WHERE key = ?1", [&k])?;
                over -= b;
            }
        }
        Ok(())
    })
}

/// Remove every entry; returns how many.
pub(crate) fn clear(conn: &mut Connection) -> rusqlite::Result<usize> {
    immediate(conn, |tx| tx.execute("DELETE FROM cache", []))
}

/// Remove expired entries; returns how many.
pub(crate) fn prune(conn: &mut Connection, now: i64) -> rusqlite::Result<usize> {
    immediate(conn, |tx| {
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
