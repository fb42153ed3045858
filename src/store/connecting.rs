//! A connection to a state server made on a thread of its own, while the
//! run goes on: the state's, from the moment `[state]` is read, and the
//! `--if-running` lock's, beside it.

use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Duration;

use super::StoreError;

/// A connection being made. Dropped unsettled (a run that ends before it
/// needs it: skipped, ignored, stopped by its configuration, or its state
/// found unreachable), it gives a connection nearly made up to
/// `UNUSED_WAIT` to be made and then closed cleanly, rather than cut
/// mid-handshake, which the server logs for every such run; one slower
/// than that is left to the process's exit.
pub(crate) struct Connecting<T: Send + 'static> {
    result: Receiver<Result<T, StoreError>>,
}

/// How long a run that ends without a connection waits for it.
const UNUSED_WAIT: Duration = Duration::from_millis(250);

impl<T: Send + 'static> Connecting<T> {
    /// Begin `connect` on a thread of its own. Given up on, what it made is
    /// dropped on that thread, closing cleanly.
    pub(crate) fn spawn(connect: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> Self {
        let (tx, result) = sync_channel(1);
        std::thread::spawn(move || {
            let _ = tx.send(connect());
        });
        // Linux may queue a new thread on its parent's CPU, to start when
        // the parent next waits: here (2 cores) up to a millisecond later,
        // once the arguments were parsed and the project read. Yield, so
        // that it starts connecting now; it soon waits on the server in turn.
        std::thread::yield_now();
        Connecting { result }
    }

    /// The connection, waiting for it.
    pub(crate) fn join(&self) -> Result<T, StoreError> {
        self.result
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Task("connecting failed".into())))
    }
}

impl<T: Send + 'static> Drop for Connecting<T> {
    fn drop(&mut self) {
        // Settled or taken: the thread has sent its one result, so this
        // returns at once.
        drop(self.result.recv_timeout(UNUSED_WAIT));
    }
}
