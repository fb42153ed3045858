//! Ctrl-C and SIGTERM, listened for from the start of a run (before its
//! inputs are gathered) to its end: a signal during gathering ends the run
//! with a partial report and exit 130, like one during the calls.

/// Installed handlers for SIGINT and SIGTERM.
pub(super) struct Shutdown {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    /// Install the handlers now: a signal from here on is caught, not fatal.
    pub(super) fn install() -> Shutdown {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Shutdown {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Shutdown {}
    }

    /// Resolves on the next Ctrl-C or SIGTERM.
    pub(super) async fn signalled(&mut self) {
        #[cfg(unix)]
        {
            async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = next(&mut self.int) => {}
                () = next(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
