//! The run's state: SQLite, opened at once; or a state server, connected to
//! on a thread of its own from the moment `[state]` is read, while the
//! project is read, the run planned and its inputs gathered. Connecting
//! (a server process, TLS, a password exchange, one round trip) is most of
//! what shared state costs a run; it is waited for only where the state is
//! first needed. A server that refuses bsu is an error (exit 2); one that
//! cannot be reached is not: the run goes on without its state and says so.

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::engine::gate::Warn;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::store::{self, Store};

/// A state server being connected to on a thread of its own: `None` when
/// its schema needs migrating, which waits until the run is known to be
/// valid.
pub(super) struct Connecting {
    thread: store::Connecting<Option<Store>>,
    /// What its first round trip also reads, if the run says so in time.
    prefetch: store::Prefetch,
}

impl Connecting {
    /// The connection, waiting for it.
    fn join(&self) -> std::result::Result<Option<Store>, store::StoreError> {
        self.thread.join()
    }

    /// A run with inputs reads its project's kept token counts before it
    /// packs them: ask for them in the connection's first round trip, if
    /// it has not been sent yet.
    pub(super) fn will_count(&self, project: &str) {
        self.prefetch
            .token_counts(project.to_string(), super::calls::READ_COUNTS + 1);
    }
}

/// Connect to the state server `state` names, if any, on a thread of its
/// own, writing nothing.
pub(super) fn connect(state: &config::state::StateSettings) -> Option<Connecting> {
    let (url, timeout) = (state.url.clone()?, state.timeout);
    let prefetch = store::Prefetch::default();
    let asked = prefetch.clone();
    let thread =
        store::Connecting::spawn(move || Store::connect_without_migrating(&url, timeout, &asked));
    Some(Connecting { thread, prefetch })
}

/// A server `[state]` names, as read ahead of the project, and the
/// connection begun to it.
pub(super) type Peeked = (Connecting, config::state::StateSettings);

/// Read `[state]` in `root`'s `events`, ahead of the rest of the project,
/// and, when it names a server, begin connecting to it.
pub(super) fn peek(root: &Path, env: &Env, events: &config::EventsRead) -> Option<Peeked> {
    let state = config::peek_state(root, env, events)?;
    Some((connect(&state)?, state))
}

/// `[state]` peeked at a run's first moment, before its arguments are
/// parsed (clap builds the parser of every command, most of a millisecond
/// a run on a server need not wait for): the project it was read in, and
/// the server it names, if any, being connected to.
pub(crate) struct Early {
    root: PathBuf,
    /// `events.toml`, read once: the project is settled from these bytes.
    events: config::EventsRead,
    peeked: Option<Peeked>,
}

impl Early {
    /// What was read and peeked, if it was done for `root` (`None` in the
    /// pair: no server there); `None` when it was done for another project.
    pub(super) fn for_root(self, root: &Path) -> Option<(config::EventsRead, Option<Peeked>)> {
        (self.root == root).then_some((self.events, self.peeked))
    }
}

/// Flags after which the project or the command may not be what `early`
/// guessed: the project directory, help, version.
const UNSURE_LONG: [&str; 3] = ["dir", "help", "version"];
const UNSURE_SHORT: [char; 3] = ['C', 'h', 'V'];

/// `Early`, for a plain run (`plain_run`). Nothing is read but `[state]`,
/// nothing written.
pub(crate) fn early(args: &[OsString], env: &Env) -> Option<Early> {
    let root = plain_run(args, env)?;
    let events = config::EventsRead::from(&root);
    let peeked = peek(&root, env, &events);
    Some(Early {
        root,
        events,
        peeked,
    })
}

/// The project directory of arguments that are plainly `bsu run ...`: the
/// one the environment names (`BSU_DIR`), or here. Arguments that might
/// name another project or not run at all (a `-C`/`--dir`, a help or
/// version flag, arguments not UTF-8) are left to clap: `None`.
fn plain_run(args: &[OsString], env: &Env) -> Option<PathBuf> {
    if args.get(1)?.to_str()? != "run" {
        return None;
    }
    let unsure = |arg: &OsString| {
        let Some(arg) = arg.to_str() else {
            return true;
        };
        match arg.strip_prefix("--") {
            Some(long) => {
                let name = long.split_once('=').map_or(long, |(name, _)| name);
                UNSURE_LONG.contains(&name)
            }
            None => arg
                .strip_prefix('-')
                .is_some_and(|short| short.contains(UNSURE_SHORT)),
        }
    };
    if args[2..].iter().any(unsure) {
        return None;
    }
    Some(PathBuf::from(env.get("BSU_DIR").unwrap_or(".")))
}

/// The store, or none and why not (for the report's `state_unavailable`).
pub(super) type Settled = (Option<Store>, Option<String>);

/// The run's state, settled or still being connected to.
pub(super) enum Pending {
    Settled(Settled),
    Connecting {
        connecting: Connecting,
        settings: config::state::StateSettings,
        dir: Option<PathBuf>,
        warn: Warn,
    },
}

impl Pending {
    /// SQLite opened now; a server's connection, if one is being made, left
    /// to finish while the run goes on.
    pub(super) fn start(
        connecting: Option<Connecting>,
        config: &Config,
        dir: Option<&Path>,
        warn: &Warn,
    ) -> Result<Pending> {
        Ok(match connecting {
            Some(connecting) => Pending::Connecting {
                connecting,
                settings: config.state.clone(),
                dir: dir.map(Path::to_path_buf),
                warn: warn.clone(),
            },
            None => Pending::Settled(settle(None, &config.state, dir, warn)?),
        })
    }

    /// The state, waiting here for the connection if need be.
    pub(super) fn settle_now(self) -> Result<Settled> {
        match self {
            Pending::Settled(s) => Ok(s),
            Pending::Connecting {
                connecting,
                settings,
                dir,
                warn,
            } => settle(Some(connecting), &settings, dir.as_deref(), &warn),
        }
    }

    /// The state, waited for off the runtime's threads, or `None` when
    /// Ctrl-C or SIGTERM came first (the run then stops as if while
    /// gathering: a connection bounded by `[state] timeout` is not waited
    /// out); and the same store for gathering (`Later`), sent as soon as it
    /// is settled.
    pub(super) fn settle(self) -> (Later, impl Future<Output = Result<Option<Settled>>>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let later = match &self {
            Pending::Settled((store, _)) => Later::Now(store.clone()),
            Pending::Connecting { .. } => Later::Coming(rx),
        };
        let settled = async move {
            let settled = match self {
                Pending::Settled(s) => Ok(Some(s)),
                connecting => {
                    let mut stop = super::signal::Shutdown::install();
                    let waiting = tokio::task::spawn_blocking(move || connecting.settle_now());
                    tokio::select! {
                        settled = waiting => settled
                            .unwrap_or_else(|e| {
                                Err(Error::Failed(format!("opening the state failed: {e}")))
                            })
                            .map(Some),
                        () = stop.signalled() => Ok(None),
                    }
                }
            };
            let store = settled.as_ref().ok().and_then(|s| s.as_ref()?.0.clone());
            let _ = tx.send(store);
            settled
        };
        (later, settled)
    }
}

/// The store as the stages before the calls get it: at once, or when the
/// connection being made is settled (`None`: the run has no state).
pub(super) enum Later {
    Now(Option<Store>),
    Coming(tokio::sync::oneshot::Receiver<Option<Store>>),
}

impl Later {
    /// Cancel-safe: dropped while waiting, it still waits for the same
    /// store (never reads as "no state").
    pub(super) async fn get(&mut self) -> Option<Store> {
        loop {
            match self {
                Later::Now(store) => return store.clone(),
                Later::Coming(rx) => *self = Later::Now(rx.await.ok().flatten()),
            }
        }
    }
}

/// The run's state, or why it has none (for the report). A server that
/// refuses bsu is an error (exit 2); one that cannot be reached is not.
fn settle(
    connecting: Option<Connecting>,
    state: &config::state::StateSettings,
    dir: Option<&Path>,
    warn: &Warn,
) -> Result<Settled> {
    let connected = connecting.map(|c| c.join());
    let opened = match connected {
        Some(Ok(Some(store))) => Ok(store),
        Some(Err(e)) => Err(e),
        // SQLite, or a server's schema to migrate now that the run is valid.
        Some(Ok(None)) | None => Store::open_state(state, dir, &**warn),
    };
    match opened {
        Ok(store) => Ok((Some(store.with_warn(warn.clone())), None)),
        Err(store::StoreError::Refused(why)) => Err(Error::Usage(why)),
        Err(e) => {
            let what = if state.url.is_some() {
                "shared state: breakers only in memory, no shared cache, locks or history"
            } else {
                "breaker state, response cache or history"
            };
            warn(&format!("{e}; running without {what}"));
            Ok((None, Some(e.to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{plain_run, Later};
    use crate::env::Env;
    use crate::store::Store;

    #[test]
    fn only_a_plain_run_is_connected_for_before_parsing() {
        let here = Env::from_pairs(&[]);
        let plain = |args: &str, env: &Env| {
            let args: Vec<_> = args.split(' ').map(std::ffi::OsString::from).collect();
            plain_run(&args, env).map(|p| p.display().to_string())
        };
        for args in [
            "bsu run ping",
            "bsu run ping --json -q --input diff=- --payload p.json",
            "bsu run ping -v --state-dir s --color never --no-cache",
            "bsu run ping --input cmd=-C",
        ] {
            assert_eq!(plain(args, &here).as_deref(), Some("."), "{args}");
        }
        let there = Env::from_pairs(&[("BSU_DIR", "/proj")]);
        assert_eq!(plain("bsu run ping", &there).as_deref(), Some("/proj"));
        let empty = Env::from_pairs(&[("BSU_DIR", "")]);
        assert_eq!(plain("bsu run ping", &empty).as_deref(), Some("."));
        for args in [
            "bsu",
            "bsu status",
            "bsu -C x run ping",
            "bsu --state-dir s run ping",
            "bsu run ping -C x",
            "bsu run ping -qC x",
            "bsu run ping -Cx",
            "bsu run ping --dir x",
            "bsu run ping --dir=x",
            "bsu run -h",
            "bsu run ping --help",
            "bsu run -V",
            "bsu run --version",
        ] {
            assert_eq!(plain(args, &here), None, "{args}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let odd = std::ffi::OsString::from_vec(vec![0xff]);
            let args = ["bsu".into(), "run".into(), "ping".into(), odd];
            assert_eq!(plain_run(&args, &here), None);
        }
    }

    /// A project of `events.toml` and one agent, `a`, and the
    /// environment and arguments of `bsu run ping` in it.
    fn ping_in(events: &str) -> (tempfile::TempDir, Env, [std::ffi::OsString; 3]) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("events.toml"), events).unwrap();
        std::fs::create_dir(dir.path().join("agents")).unwrap();
        std::fs::write(
            dir.path().join("agents/a.toml"),
            "name = \"A\"\ninstructions = \"Review.\"\n",
        )
        .unwrap();
        let env = Env::from_pairs(&[("BSU_DIR", dir.path().to_str().unwrap())]);
        let args = ["bsu", "run", "ping"].map(std::ffi::OsString::from);
        (dir, env, args)
    }

    #[test]
    fn a_plain_run_without_a_server_is_peeked_for_once() {
        let (dir, env, args) = ping_in("[events.ping]\nagents = []\n");
        // Looked and found no server: setup need not read `[state]` again.
        let early = super::early(&args, &env).expect("a plain run");
        assert!(matches!(early.for_root(dir.path()), Some((_, None))));
        // Looked in another project than the parsed run's: setup looks.
        let early = super::early(&args, &env).expect("a plain run");
        assert!(early.for_root(std::path::Path::new("elsewhere")).is_none());
    }

    #[test]
    fn a_plain_run_settles_its_project_from_the_events_toml_it_peeked_at() {
        let (dir, env, args) = ping_in("[events.ping]\nagents = [\"a\"]\n");
        let events = dir.path().join("events.toml");
        let early = super::early(&args, &env).expect("a plain run");
        // Changed between the peek and the load: the run uses one version.
        std::fs::write(&events, "[events.other]\nagents = [\"a\"]\n").unwrap();
        let (read, _) = early.for_root(dir.path()).expect("the same project");
        let config = crate::config::load_read(dir.path(), &env, read).unwrap();
        let names: Vec<&str> = config.strategies.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ping"]);
    }

    #[tokio::test]
    async fn a_later_store_waited_for_and_given_up_is_still_coming() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &|_| {}).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut later = Later::Coming(rx);
        // A wait given up (a gathering task aborted) is not "no state".
        let gave_up = tokio::time::timeout(Duration::from_millis(5), later.get()).await;
        assert!(gave_up.is_err());
        assert!(matches!(later, Later::Coming(_)));
        tx.send(Some(store)).unwrap();
        assert!(later.get().await.is_some());
        assert!(later.get().await.is_some(), "kept once settled");
    }
}
