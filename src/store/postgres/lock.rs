//! `--if-running` across the fleet: a session-level advisory lock keyed by
//! the project's identity and the event, held on a connection of its own
//! for the whole run. The guard closes that connection on drop; a runner
//! that dies drops its connection, and the server releases the lock.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::{bound, open, Rt};
use crate::config::state::StateUrl;
use crate::lock::{Busy, RunLock};
use crate::store::StoreError;

/// The held lock: its connection and the runtime driving it.
struct Held {
    _client: Client,
    _rt: Rt,
}

fn key(project: &str, event: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(b"bsu:run:");
    h.update(project.as_bytes());
    h.update(b"\0");
    h.update(event.as_bytes());
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("eight bytes"))
}

/// What `pg_stat_activity` shows for the holder: bsu's pid and start, or
/// the event name kept to safe characters.
fn app_name(event: &str) -> String {
    let safe: String = event
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(24)
        .collect();
    format!(
        "bsu pid {} since {} ({safe})",
        std::process::id(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    )
}

/// The lock's connection, being made from when the run knows it will lock,
/// while the run's state connection is made too: the two handshakes overlap
/// rather than follow each other.
pub(crate) type Connecting = crate::store::Connecting<Opened>;

/// A connection made for the lock, and the runtime driving it.
pub(crate) struct Opened(Rt, Client);

/// Begin connecting for the lock of a run of `event`.
pub(crate) fn connect(url: &StateUrl, timeout: Duration, event: &str) -> Connecting {
    let (url, app) = (url.clone(), app_name(event));
    Connecting::spawn(move || open(&url, timeout, &app).map(|(rt, client, _)| Opened(rt, client)))
}

/// Take the lock of `project` and `event` on the server, on the connection
/// `connecting` makes: at once, or waiting up to `wait`.
pub(crate) fn acquire(
    connecting: Connecting,
    timeout: Duration,
    project: &str,
    event: &str,
    wait: Option<Duration>,
) -> Result<Result<RunLock, Busy>, StoreError> {
    let Opened(rt, client) = connecting.join()?;
    let key = key(project, event);
    let started = Instant::now();
    let mut unbound = true;
    loop {
        let got = rt.get().block_on(async {
            tokio::time::timeout(timeout, async {
                let bind = async {
                    match std::mem::take(&mut unbound) {
                        true => bound(&client, timeout).await,
                        false => Ok(()),
                    }
                };
                let params = params![key => INT8];
                let try_lock = client.query_typed_one("SELECT pg_try_advisory_lock($1)", params);
                // In one round trip: the session's bounds first.
                let (bound, row) = tokio::join!(bind, try_lock);
                bound?;
                let row = row?;
                if row.get::<_, bool>(0) {
                    return Ok(None);
                }
                holder(&client, key).await.map(Some)
            })
            .await
        });
        let busy = match got {
            Ok(Ok(None)) => {
                return Ok(Ok(RunLock::holding(Held {
                    _client: client,
                    _rt: rt,
                })))
            }
            Ok(Ok(Some(who))) => who,
            Ok(Err(e)) => return Err(super::call_error(&e)),
            Err(_) => {
                return Err(StoreError::Unreachable(
                    "the state server did not answer the lock request in time".into(),
                ))
            }
        };
        match wait {
            None => return Ok(Err(Busy::Held(busy))),
            Some(limit) if started.elapsed() >= limit => return Ok(Err(Busy::TimedOut(busy))),
            Some(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Who holds lock `key`, as the server sees it.
async fn holder(client: &Client, key: i64) -> Result<String, tokio_postgres::Error> {
    let row = client
        .query_typed_opt(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.classid::BIGINT = (($1::BIGINT >> 32) & 4294967295)
               AND l.objid::BIGINT = ($1::BIGINT & 4294967295)
             LIMIT 1",
            params![key => INT8],
        )
        .await?;
    Ok(shown(row.and_then(|r| r.get::<_, Option<String>>(0))))
}

/// The holder's session name as this runner tells it: bsu's own, printable
/// (anyone with a login on the server can name a session so), or a general
/// word.
fn shown(name: Option<String>) -> String {
    name.filter(|n| n.starts_with("bsu pid "))
        .map(|n| {
            let n: String = n[4..]
                .chars()
                .filter(|c| c.is_ascii_graphic() || *c == ' ')
                .collect();
            format!("{n}, on another runner")
        })
        .unwrap_or_else(|| "a bsu run on another runner".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_holder_is_named_printably_or_not_at_all() {
        let named = |n: &str| super::shown(Some(n.into()));
        assert_eq!(
            named("bsu pid 7 since 2026-12-06T00:00:00Z (ping)"),
            "pid 7 since 2026-12-06T00:00:00Z (ping), on another runner"
        );
        assert_eq!(
            named("bsu pid 7\x1b]0;owned\x07 (ping)"),
            "pid 7]0;owned (ping), on another runner"
        );
        assert_eq!(named("psql"), "a bsu run on another runner");
        assert_eq!(super::shown(None), "a bsu run on another runner");
    }
}
