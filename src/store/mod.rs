//! What outlives a run (breakers, response cache, run history, spend), behind
//! one `Backend` trait: `state.db`, one SQLite database shared by every bsu
//! process using the state dir (`sqlite.rs`), or a PostgreSQL server shared
//! by a fleet of runners (`postgres/`, `[state] url`).
//!
//! Rules this module keeps on SQLite: a versioned schema (`PRAGMA
//! user_version`) with migrations; every read-modify-write is one short `BEGIN IMMEDIATE`
//! transaction, never held across an HTTP call; a `busy_timeout` bounds lock
//! waits; async callers go through `Store::call`, which runs the work on the
//! blocking pool, never on a runtime thread. A corrupt or newer-schema
//! database is moved aside and replaced: the breaker and cache are
//! optimisations and must never brick the CLI. (A server's newer schema is
//! refused instead: a fleet's state is not one runner's to replace.)

mod backend;
pub(crate) mod breakers;
pub(crate) mod cache;
mod connecting;
#[cfg(test)]
pub(crate) mod contract;
mod lifecycle;
mod migrations;
pub(crate) mod postgres;
pub(crate) mod runs;
pub(crate) mod snapshot;
pub(crate) mod spend;
mod sqlite;
mod tx;

use migrations::MIGRATIONS;
use sqlite::{migrate, move_aside, Broken};

pub(crate) use backend::Backend;
pub(crate) use connecting::Connecting;
pub(crate) use tx::{bump, counter, counter_opt, immediate, set_counter};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

/// How long a process waits for another's write lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

const FILE: &str = "state.db";

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why a call on the store gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// Another process held the database past `BUSY_TIMEOUT` earlier in this
    /// run: the run goes on without it, and says so once.
    #[error("skipped: the state database was locked earlier in this run")]
    GivenUp,
    /// Another process held the database past `BUSY_TIMEOUT`.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    /// The blocking task that held the connection failed.
    #[error("state task failed: {0}")]
    Task(String),
    /// No state directory was given and the platform has none.
    #[error("no home directory to keep state in; pass --state-dir DIR or set BSU_STATE_DIR")]
    NoStateDir,
    /// The database could not be opened (or made anew), and why.
    #[error("{0}")]
    Unusable(String),
    /// The state server refused bsu (a wrong password, no such database, a
    /// newer schema) or its URL is wrong: a mistake to fix, not an outage.
    #[error("{0}")]
    Refused(String),
    /// The state server could not be reached, or did not answer in time.
    #[error("{0}")]
    Unreachable(String),
    /// The state server answered with an error.
    #[error("state server: {0}")]
    Server(String),
}

impl StoreError {
    /// Does this error mean the state cannot be had right now (another
    /// process holds it, or the server is gone), so the run goes on without it?
    pub(crate) fn is_outage(&self) -> bool {
        matches!(self, StoreError::Busy(_) | StoreError::Unreachable(_))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Busy(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

/// What a state server's first round trip also reads, if the run asks
/// before it is sent: a connection begun before the run was planned sends
/// its first reads once it is made, by when the run usually knows what it
/// will read next. Now: a project's kept token counts, which a run with
/// inputs reads before it packs them (one round trip fewer).
#[derive(Clone, Default)]
pub(crate) struct Prefetch(Arc<std::sync::OnceLock<(String, usize)>>);

impl Prefetch {
    /// Ask for `project`'s token counts, at most `limit` (`token_counts_get`).
    pub(crate) fn token_counts(&self, project: String, limit: usize) {
        let _ = self.0.set((project, limit));
    }

    /// What was asked for by now.
    pub(crate) fn wanted(&self) -> Option<(String, usize)> {
        self.0.get().cloned()
    }
}

/// Where warnings go; shared by the store and the call path.
pub(crate) type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// Which kind of store, for `bsu status` and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

/// Whether, and why, a run has given up on its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum GaveUp {
    No = 0,
    /// Another process held `state.db`'s lock past `BUSY_TIMEOUT`: a lock
    /// that may be let go.
    Locked = 1,
    /// The state server could not be reached, or stopped answering.
    Gone = 2,
}

/// A handle to the state (`state.db`, or a server), cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    /// The backend (SQLite or PostgreSQL), one call at a time.
    backend: Arc<Mutex<Box<dyn Backend>>>,
    /// Where: the database file, or the server's `HOST:PORT/DATABASE`
    /// (never its user or password).
    pub place: String,
    pub kind: Kind,
    /// Set (to a `GaveUp`) when another process held the lock past
    /// `BUSY_TIMEOUT` or the server stopped answering: the rest of this run
    /// goes on without the state instead of waiting again.
    degraded: Arc<AtomicU8>,
    warn: Warn,
    /// Writes put off until the run's first request is out (`defer`).
    deferred: Arc<lifecycle::Deferreds>,
    /// How many times `warm` was asked for, for tests.
    #[cfg(test)]
    warms: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("place", &self.place).finish()
    }
}

/// The state directory: `--state-dir`/`BSU_STATE_DIR`, else the platform's.
pub(crate) fn state_dir(given: Option<&Path>) -> Result<PathBuf, StoreError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    let dirs = directories::ProjectDirs::from("", "", "bsu").ok_or(StoreError::NoStateDir)?;
    Ok(dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf())
}

impl Store {
    /// Open (creating if needed) `state.db` in `dir`. Problems that a fresh
    /// database fixes are fixed, with a warning through `warn`.
    pub(crate) fn open(dir: &Path, warn: &dyn Fn(&str)) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unusable(format!(
                "could not create the state directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE);
        match Self::open_at(&path, true) {
            Ok(store) => Ok(store),
            Err(Broken::Fixable(why)) => {
                let aside = move_aside(&path).map_err(|e| {
                    StoreError::Unusable(format!("the state database {} is unusable ({why}) and could not be moved aside: {e}", path.display()))
                })?;
                warn(&format!(
                    "the state database {} is unusable ({why}); moved it to {} and started a fresh one",
                    path.display(),
                    aside.display()
                ));
                Self::open_at(&path, true).map_err(|e| StoreError::Unusable(e.to_string()))
            }
            Err(e) => Err(StoreError::Unusable(e.to_string())),
        }
    }

    /// Open `state.db` in `dir` only if it exists (for read-only commands
    /// that must work with no state yet).
    pub(crate) fn open_existing(
        dir: &Path,
        warn: &dyn Fn(&str),
    ) -> Result<Option<Store>, StoreError> {
        if !dir.join(FILE).exists() {
            return Ok(None);
        }
        Self::open(dir, warn).map(Some)
    }

    fn open_at(path: &Path, create: bool) -> Result<Store, Broken> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(Broken::from)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(Broken::from)?;
        // WAL lets readers proceed while a writer commits. Switching needs the
        // write lock, so it is only asked for when the mode is not WAL yet;
        // if another process holds the lock right now it is simply left as is.
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(Broken::from)?;
        if !mode.eq_ignore_ascii_case("wal") {
            let _ = conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()));
        }
        let _ = conn.execute_batch("PRAGMA synchronous=NORMAL");
        // The WAL stays between runs: no checkpoint-and-delete when a run
        // closes the database (two fsyncs and two unlinks at every exit, and
        // two more creating it again before the next run's first request).
        // It is kept small: every process that opens the database first
        // reads what the WAL holds, so a checkpoint every 256 pages (1 MiB),
        // and past that a write truncates it (`trim_wal`).
        let _ =
            conn.execute_batch("PRAGMA wal_autocheckpoint=256; PRAGMA journal_size_limit=1048576");
        let _ = conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        );
        migrate(&mut conn)?;
        Ok(Store::over(
            Box::new(conn),
            path.display().to_string(),
            Kind::Sqlite,
        ))
    }

    /// Run `f` on the backend, here and now (for commands without a runtime).
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut backend = self
            .backend
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(backend.as_mut())
    }

    /// A fresh store in memory: the same schema and operations, no file.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Store {
        let mut conn = Connection::open_in_memory().expect("an in-memory database");
        migrate(&mut conn).expect("the schema");
        Store::over(Box::new(conn), ":memory:".into(), Kind::Sqlite)
    }

    /// Where this store's one "lock contention" warning goes (runs set it).
    pub(crate) fn with_warn(mut self, warn: Warn) -> Self {
        self.warn = warn;
        self
    }

    /// Whether this run has given up on the database (see `degraded`).
    /// Callers stay quiet about errors then: the store has said it once.
    pub(crate) fn degraded(&self) -> bool {
        self.gave_up() != GaveUp::No
    }

    /// Whether, and why, this run has given up on the state.
    pub(crate) fn gave_up(&self) -> GaveUp {
        match self.degraded.load(Ordering::SeqCst) {
            0 => GaveUp::No,
            1 => GaveUp::Locked,
            _ => GaveUp::Gone,
        }
    }

    /// Run `f` on the blocking pool, so SQLite never blocks a runtime thread.
    /// Lock contention past `BUSY_TIMEOUT` never hangs a run: the store
    /// warns once and fails every later call at once (but reads, `read`),
    /// and callers go on with what they last read.
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.degraded() {
            return Err(StoreError::GivenUp);
        }
        self.call_as(f, false).await
    }

    /// `call` for `f` that only reads: made even after the run has given up
    /// on a locked `state.db`, since a writer's lock does not block a reader
    /// (WAL). A response cache's reply is used, not paid for again, and
    /// whether it is does not hang on which call met the lock first.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.gave_up() == GaveUp::Gone {
            return Err(StoreError::GivenUp);
        }
        self.call_as(f, true).await
    }

    /// `call`, or with `past_lock`, made even when the run has given up on
    /// a locked `state.db` (for reads, and the end's one more try).
    async fn call_as<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, StoreError> + Send + 'static,
        past_lock: bool,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        // The flag is set while the connection is still held, so calls queued
        // behind one that timed out never wait again.
        tokio::task::spawn_blocking(move || {
            let mut backend = store
                .backend
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match store.gave_up() {
                GaveUp::No => {}
                GaveUp::Locked if past_lock => {}
                GaveUp::Locked | GaveUp::Gone => return Err(StoreError::GivenUp),
            }
            let result = f(backend.as_mut());
            if let Err(e) = &result {
                let why = match e {
                    StoreError::Busy(_) => GaveUp::Locked,
                    _ => GaveUp::Gone,
                };
                if e.is_outage()
                    && store
                        .degraded
                        .compare_exchange(0, why as u8, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                {
                    (store.warn)(&store.outage(e));
                }
            }
            result
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Task(e.to_string())))
    }
}

impl Store {
    /// What the one warning says when this run gives up on the state.
    fn outage(&self, e: &StoreError) -> String {
        match e {
            StoreError::Busy(_) => format!(
                "the state database {} stayed locked by another process for over {}s; this \
                 run goes on without writing to it (breakers work in memory, the cache is not \
                 updated) and tries once more to record its end (its cost and history)",
                self.place,
                BUSY_TIMEOUT.as_secs()
            ),
            other => format!(
                "{other}; this run goes on without it (breakers work in memory; cache and \
                 history are not updated)"
            ),
        }
    }

    /// Connect to the state server `url` (migrating its schema on first use).
    pub(crate) fn connect(
        url: &crate::config::state::StateUrl,
        timeout: Duration,
    ) -> Result<Store, StoreError> {
        // A migrating connection always gives a store; never a panic if not.
        Store::connect_as(url, timeout, true, &Prefetch::default())?
            .ok_or_else(|| StoreError::Task("the state server's schema was not migrated".into()))
    }

    /// Connect without writing anything: `None` when the server's schema
    /// needs migrating. For the connection a run starts before its project
    /// is validated; the run migrates (`connect`) only once it is. The
    /// first round trip also reads what `prefetch` asks for by then.
    pub(crate) fn connect_without_migrating(
        url: &crate::config::state::StateUrl,
        timeout: Duration,
        prefetch: &Prefetch,
    ) -> Result<Option<Store>, StoreError> {
        Store::connect_as(url, timeout, false, prefetch)
    }

    fn connect_as(
        url: &crate::config::state::StateUrl,
        timeout: Duration,
        migrate: bool,
        prefetch: &Prefetch,
    ) -> Result<Option<Store>, StoreError> {
        let Some(pg) = postgres::connect(url, timeout, "bsu", migrate, prefetch)? else {
            return Ok(None);
        };
        let place = pg.place().to_string();
        Ok(Some(Store::over(Box::new(pg), place, Kind::Postgres)))
    }

    fn over(backend: Box<dyn Backend>, place: String, kind: Kind) -> Store {
        Store {
            backend: Arc::new(Mutex::new(backend)),
            place,
            kind,
            degraded: Arc::new(AtomicU8::new(GaveUp::No as u8)),
            warn: Arc::new(|_: &str| {}),
            deferred: Arc::default(),
            #[cfg(test)]
            warms: Arc::default(),
        }
    }

    /// The state `[state]` names: the server, or SQLite in the state directory.
    pub(crate) fn open_state(
        state: &crate::config::state::StateSettings,
        dir: Option<&Path>,
        warn: &dyn Fn(&str),
    ) -> Result<Store, StoreError> {
        match &state.url {
            Some(url) => Store::connect(url, state.timeout),
            None => Store::open(&state_dir(dir)?, warn),
        }
    }

    /// As `open_state`, but SQLite only if `state.db` exists already (for
    /// read-only commands that must work with no state yet).
    pub(crate) fn open_state_existing(
        state: &crate::config::state::StateSettings,
        dir: Option<&Path>,
        warn: &dyn Fn(&str),
    ) -> Result<Option<Store>, StoreError> {
        match &state.url {
            Some(url) => Store::connect(url, state.timeout).map(Some),
            None => Store::open_existing(&state_dir(dir)?, warn),
        }
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
