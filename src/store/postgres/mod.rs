//! The PostgreSQL backend: the same operations as SQLite's, on a server a
//! fleet of runners shares (`[state] url` / `BSU_STATE_URL`).
//!
//! The `Backend` trait is blocking (the store runs it on the blocking pool,
//! one call at a time), so this backend owns a current-thread tokio runtime
//! that drives one tokio-postgres connection while a call blocks on it. A
//! second connection, opened only for `--if-running`, holds the run's
//! session advisory lock (`lock.rs`): the server drops it when that
//! connection ends, however the runner ends.
//!
//! Every call is bounded: connecting by `[state] timeout`, each statement
//! by the same `statement_timeout` on the server and a little more on this
//! side, so a slow or vanished server fails a call instead of hanging a run.

/// Parameters with their types: a statement then costs one round trip
/// (no prepare, no close), which is most of its time on a fast network.
macro_rules! params {
    ($($v:expr => $t:ident),* $(,)?) => {
        &[$((&$v as &(dyn tokio_postgres::types::ToSql + Sync), tokio_postgres::types::Type::$t)),*]
    };
}

mod breakers;
mod cache;
mod end;
mod lock;
mod ops;
mod runs;
mod schema;
mod snapshot;
mod spend;
mod tls;
pub(crate) mod url;

pub(crate) use lock::{acquire as lock_run, connect as lock_connect, Connecting as LockConnecting};

use std::collections::HashMap;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use super::StoreError;
use crate::breaker::Breaker;
use crate::config::state::StateUrl;

/// A current-thread runtime and the connection it drives. Dropped (after
/// the connection's client), it lets the connection end as the protocol
/// asks: the answers still due read, a Terminate message, TLS's
/// close_notify. Cut off instead, the server logs a lost client for every
/// run ("could not receive data from client", PgBouncer's "client
/// unexpected eof") and counts it in `sessions_abandoned`. The goodbye is
/// bounded by `CLOSING`; a store may be dropped on a runtime's thread,
/// where no runtime can be entered, so it is said from a thread of its own
/// there.
pub(super) struct Rt {
    rt: Option<tokio::runtime::Runtime>,
    driver: Option<tokio::task::JoinHandle<()>>,
}

/// How long a dropped connection may take to end cleanly: it waits only
/// for answers already due and a write to its socket.
const CLOSING: Duration = Duration::from_millis(50);

impl Rt {
    fn new() -> Result<Rt, StoreError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Rt {
                rt: Some(rt),
                driver: None,
            })
            .map_err(|e| StoreError::Unusable(format!("could not start the state client: {e}")))
    }

    fn get(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("the runtime lives until drop")
    }

    /// Drive `connection` until it ends (its client dropped, then `drop`).
    fn drive<S, T>(&mut self, connection: tokio_postgres::Connection<S, T>)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        self.driver = Some(self.get().spawn(async move {
            let _ = connection.await;
        }));
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        let Some(rt) = self.rt.take() else { return };
        if let Some(driver) = self.driver.take() {
            let close = || {
                rt.block_on(async {
                    let _ = tokio::time::timeout(CLOSING, driver).await;
                });
            };
            match tokio::runtime::Handle::try_current() {
                Err(_) => close(),
                Ok(_) => std::thread::scope(|s| {
                    let _ = s.spawn(close).join();
                }),
            }
        }
        rt.shutdown_background();
    }
}

/// One connection to the state server.
pub(crate) struct Postgres {
    // Field order: the client before the runtime that drives it.
    client: Client,
    /// The end's statements, once `warm` has prepared them.
    prepared: Option<end::Prepared>,
    /// A cache put's, likewise, when the run has the cache on.
    prepared_put: Option<end::Prepared>,
    rt: Rt,
    timeout: Duration,
    /// The breakers read at the run's start and after each write: a closed
    /// one admits from here, with no round trip before the request.
    seen: HashMap<String, Breaker>,
    /// `seen` holds every breaker, read when connecting: the run's first
    /// look at its breakers needs no round trip (used once).
    prefetched: bool,
    /// `HOST:PORT/DATABASE`, for messages.
    place: String,
    /// The schema version found when connecting, before migrating.
    found: i64,
    /// A project's token counts read in the first round trip (`Prefetch`),
    /// for the run's one `token_counts_get`.
    kept_counts: Option<KeptCounts>,
    /// Round trips made (`run`), for tests.
    #[cfg(test)]
    trips: usize,
}

/// Token counts read ahead: `token_counts_get(project, limit)`'s answer.
struct KeptCounts {
    project: String,
    limit: usize,
    counts: Vec<(String, u64)>,
}

/// How long this side waits for an answer beyond the server's own
/// `statement_timeout`, so the server's clearer error comes first.
const SLACK: Duration = Duration::from_secs(1);

/// A statement and its parameters' types, for the statements a run's end
/// sends (`end::warm` has the server prepare and plan them while the run
/// waits on a model).
pub(super) struct Sql {
    pub text: &'static str,
    pub types: &'static [Type],
}

impl Sql {
    /// `values` with their types, for `execute_typed`.
    pub(super) fn with<'a>(
        &self,
        values: &[&'a (dyn ToSql + Sync)],
    ) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
        debug_assert_eq!(values.len(), self.types.len());
        values
            .iter()
            .zip(self.types)
            .map(|(v, t)| (*v, t.clone()))
            .collect()
    }
}

/// Connect with `url`: the TLS and timeouts set, the schema migrated; or,
/// without `migrate`, `None` for a schema that needs migrating (nothing is
/// written then: a connection made before the project is validated must
/// not change the server).
pub(crate) fn connect(
    url: &StateUrl,
    timeout: Duration,
    app: &str,
    migrate: bool,
    prefetch: &crate::store::Prefetch,
) -> Result<Option<Postgres>, StoreError> {
    let (rt, client, place) = open(url, timeout, app)?;
    let mut pg = Postgres {
        client,
        prepared: None,
        prepared_put: None,
        rt,
        timeout,
        seen: HashMap::new(),
        prefetched: false,
        place,
        found: 0,
        kept_counts: None,
        #[cfg(test)]
        trips: 0,
    };
    // The session's bounds, the schema's version, every breaker and what
    // the run asked for by now, in one round trip while the run is still
    // being planned. On a schema to migrate first (the reads then failed
    // or are stale), the breakers are read again after, and the rest when
    // the run asks.
    let wanted = prefetch.wanted();
    let (found, all, counts) = pg.run(async |c| {
        let c = &*c;
        let counts = async {
            match &wanted {
                Some((project, limit)) => Some(runs::token_counts(c, project, *limit).await),
                None => None,
            }
        };
        let (bound, found, all, counts) = tokio::join!(
            bound(c, timeout),
            schema::version(c),
            breakers::load_all(c, None),
            counts
        );
        bound?;
        Ok((found?, all, counts))
    })?;
    pg.found = found;
    if let (Some((project, limit)), Some(Ok(counts))) = (wanted, counts) {
        if found == schema::CURRENT {
            pg.kept_counts = Some(KeptCounts {
                project,
                limit,
                counts,
            });
        }
    }
    let all = match all {
        Ok(all) if found == schema::CURRENT => all,
        _ if !migrate && found <= schema::CURRENT => return Ok(None),
        _ => {
            schema::migrate_from(&mut pg, found, false)?;
            pg.run(async |c| breakers::load_all(c, None).await)?
        }
    };
    pg.seen = all.into_iter().collect();
    pg.prefetched = true;
    Ok(Some(pg))
}

impl Postgres {
    /// Get ready for the run's end (`end::warm`) and, with `cache`, for the
    /// replies it will store (`cache::warm`), on this connection.
    pub(super) fn get_ready(&mut self, cache: bool) -> Result<(), StoreError> {
        let (prepared, put) = self.run(async |c| {
            let c = &*c;
            let put = async {
                if cache {
                    cache::warm(c).await
                } else {
                    None
                }
            };
            Ok(tokio::join!(end::warm(c), put))
        })?;
        self.prepared = prepared;
        self.prepared_put = put;
        Ok(())
    }

    /// `HOST:PORT/DATABASE`.
    pub(crate) fn place(&self) -> &str {
        &self.place
    }
}

/// Bound the session's statements by `timeout` on the server: the first
/// statement of a new connection, sent in its first round trip. Not the
/// `options` startup parameter: a pooler in front of the server
/// (PgBouncer) refuses or drops it, and would leave the server unbounded.
/// A session-mode pooler resets these when the connection is returned.
async fn bound(c: &Client, timeout: Duration) -> Result<(), tokio_postgres::Error> {
    let ms = timeout.as_millis();
    c.batch_execute(&format!(
        "SET statement_timeout = {ms}; SET lock_timeout = {ms}; \
         SET idle_in_transaction_session_timeout = {}",
        ms.saturating_mul(4)
    ))
    .await
}

/// A connection (and the runtime driving it), to be `bound` first.
fn open(url: &StateUrl, timeout: Duration, app: &str) -> Result<(Rt, Client, String), StoreError> {
    let parsed = url::parse(url).map_err(StoreError::Refused)?;
    let mut config = parsed.config;
    config.connect_timeout(timeout).application_name(app);
    let tls = tls::connector(parsed.root_cert.as_deref(), parsed.verify, url)?;
    let mut rt = Rt::new()?;
    let (place, direct) = (parsed.place, parsed.direct);
    let connected = rt
        .get()
        .block_on(async { tokio::time::timeout(timeout + SLACK, config.connect(tls)).await });
    let (client, connection) = match connected {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(connect_error(&e, url, &place, direct)),
        Err(_) => {
            return Err(StoreError::Unreachable(format!(
                "the state server {place} did not answer within {}",
                humantime::format_duration(timeout)
            )))
        }
    };
    rt.drive(connection);
    Ok((rt, client, place))
}

/// Every future of `all` to completion, polled in the order given, so each
/// queues its statements in that order (all in one round trip); the first
/// error.
pub(super) async fn all_in_order<F>(all: Vec<F>) -> Result<(), tokio_postgres::Error>
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    let mut all: Vec<Option<std::pin::Pin<Box<F>>>> =
        all.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut failed = None;
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut all {
            let Some(f) = slot else { continue };
            match f.as_mut().poll(cx) {
                std::task::Poll::Ready(r) => {
                    if let Err(e) = r {
                        failed.get_or_insert(e);
                    }
                    *slot = None;
                }
                std::task::Poll::Pending => pending = true,
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    failed.map_or(Ok(()), Err)
}

/// `body` as one transaction in one round trip: BEGIN, the statements
/// `body` sends when first polled, and COMMIT, queued together in that
/// order. A failed statement aborts the transaction and COMMIT then rolls
/// it back; the first error is returned.
pub(super) async fn in_one_trip<T>(
    c: &Client,
    body: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, tokio_postgres::Error> {
    // `biased`: polled in this order, so queued in it (each statement is
    // sent when its future is first polled).
    let (begun, out, committed) =
        tokio::join!(biased; c.batch_execute("BEGIN"), body, c.batch_execute("COMMIT"));
    begun?;
    let out = out?;
    committed?;
    Ok(out)
}

/// A failed connection in the user's terms: a refused login or a missing
/// database is a configuration mistake; anything else is the server not
/// being reachable now.
fn connect_error(
    e: &tokio_postgres::Error,
    url: &StateUrl,
    place: &str,
    direct: bool,
) -> StoreError {
    let said = e.as_db_error().map(|d| d.message().to_string());
    // A certificate bsu does not trust, or no TLS where the URL requires
    // it, will not go away by waiting: it is the URL's to fix.
    let text = plain(e);
    if text.starts_with("error performing TLS handshake") && direct {
        // A server before 17 reads the handshake as a malformed startup
        // packet and hangs up.
        return StoreError::Refused(format!(
            "the state server {place} did not take a direct TLS handshake ({text}); \
             sslnegotiation=direct needs PostgreSQL 17 or later: leave it out of {} \
             for an older server or a pooler that does not support it",
            url.from
        ));
    }
    if text.starts_with("error performing TLS handshake") {
        return StoreError::Refused(format!(
            "the state server {place} could not be reached over TLS ({text}); if it uses a \
             private certificate authority, give its certificate as sslrootcert=PATH in {}",
            url.from
        ));
    }
    // Said by the driver, not the server: the login cannot go on as the
    // URL sets it (a password the server asks for and the URL lacks, a
    // method or channel binding it does not offer, a server that could not
    // prove it knows the password). Waiting will not change it.
    if text == "invalid configuration: password missing" {
        return StoreError::Refused(format!(
            "the state server {place} asks for a password and {} gives none; \
             write it as postgres://USER:PASSWORD@HOST/DATABASE",
            url.from
        ));
    }
    if text.starts_with("invalid configuration") || text.starts_with("authentication error") {
        return StoreError::Refused(format!(
            "could not log in to the state server {place} ({text}); \
             check the user, password and settings in {}",
            url.from
        ));
    }
    match e.code() {
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            StoreError::Refused(format!(
                "the state server {place} refused the login ({}); check the user and password in {}",
                said.unwrap_or_default(),
                url.from
            ))
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => StoreError::Refused(format!(
            "the state server {place} has no such database ({}); create it or fix the database in {}",
            said.unwrap_or_default(),
            url.from
        )),
        _ => StoreError::Unreachable(format!(
            "could not reach the state server {place}: {}",
            plain(e)
        )),
    }
}

/// A driver error with its cause, on one line.
fn plain(e: &tokio_postgres::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

impl Postgres {
    /// Run `f` on the connection, bounded by the timeout.
    fn run<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut Client) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        let limit = self.timeout + SLACK;
        #[cfg(test)]
        {
            self.trips += 1;
        }
        let Postgres { client, rt, .. } = self;
        match rt
            .get()
            .block_on(async { tokio::time::timeout(limit, f(client)).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(call_error(&e)),
            Err(_) => Err(StoreError::Unreachable(format!(
                "the state server did not answer within {}",
                humantime::format_duration(limit)
            ))),
        }
    }
}

/// A failed call: the connection gone or a timeout is the server being
/// unreachable (the run goes on without it); anything else is an error.
fn call_error(e: &tokio_postgres::Error) -> StoreError {
    use std::error::Error as _;
    let io = e
        .source()
        .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
    let unreachable = e.is_closed()
        || io
        || matches!(e.code(), Some(c) if *c == SqlState::QUERY_CANCELED
            || *c == SqlState::LOCK_NOT_AVAILABLE
            || *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW);
    if unreachable {
        StoreError::Unreachable(format!("the state server: {}", plain(e)))
    } else {
        StoreError::Server(plain(e))
    }
}

#[cfg(test)]
mod tests;
