//! What `bsu status` shows, read at once (`Backend::snapshot`) from one
//! consistent snapshot: SQLite's read here, in one read transaction; a
//! state server's in `postgres::snapshot`, in one round trip rather than
//! one per table and per breaker.

use rusqlite::Connection;

use crate::breaker::{Breaker, Transition};

use super::cache::Stats;
use super::runs::RunRecord;
use super::spend::Reservation;

/// What to read.
pub(crate) struct Ask {
    pub now: i64,
    /// How many recent runs.
    pub runs: usize,
    /// Spend by provider and model since each of these (ms).
    pub spend_since: [i64; 3],
    /// The newest this many transitions of each breaker, if wanted.
    pub transitions: Option<i64>,
}

/// What was read.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Every breaker, by name.
    pub breakers: Vec<(String, Breaker)>,
    /// Each breaker's newest transitions, newest first, in `breakers`'
    /// order; empty unless asked.
    pub transitions: Vec<(String, Vec<Transition>)>,
    pub cache: Stats,
    /// The most recent runs, newest first.
    pub runs: Vec<RunRecord>,
    /// Spend by provider and model since each of `Ask::spend_since`.
    pub spend: [Vec<(String, String, f64)>; 3],
    pub reservations: Vec<Reservation>,
}

/// Transitions read for every breaker at once (`by_name`, in any order),
/// in `breakers`' order, as `Snapshot::transitions` has them: a breaker
/// with none, none.
pub(crate) fn by_breaker(
    breakers: &[(String, Breaker)],
    by_name: Vec<(String, Transition)>,
) -> Vec<(String, Vec<Transition>)> {
    let mut all: std::collections::HashMap<String, Vec<Transition>> = Default::default();
    for (name, t) in by_name {
        all.entry(name).or_default().push(t);
    }
    breakers
        .iter()
        .map(|(name, _)| (name.clone(), all.remove(name).unwrap_or_default()))
        .collect()
}

/// `ask` read from SQLite in one read transaction: in WAL mode it sees the
/// database as of its first read, whatever other processes commit while it
/// reads. Dropped unfinished, the transaction is rolled back. `between` is
/// called once the breakers are read (a test commits there).
pub(super) fn read(
    conn: &Connection,
    ask: &Ask,
    between: impl FnOnce(),
) -> rusqlite::Result<Snapshot> {
    let tx = conn.unchecked_transaction()?;
    let breakers = super::breakers::list(&tx)?;
    between();
    let transitions = match ask.transitions {
        Some(limit) => breakers
            .iter()
            .map(|(name, _)| {
                Ok((
                    name.clone(),
                    super::breakers::transitions(&tx, name, limit)?,
                ))
            })
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    let [today, week, month] = ask.spend_since;
    let snapshot = Snapshot {
        breakers,
        transitions,
        cache: super::cache::stats(&tx, ask.now)?,
        runs: super::runs::recent(&tx, ask.runs)?,
        spend: [
            super::spend::by_model(&tx, today)?,
            super::spend::by_model(&tx, week)?,
            super::spend::by_model(&tx, month)?,
        ],
        reservations: super::spend::reservations(&tx, ask.now)?,
    };
    tx.commit()?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::{read, Ask};
    use crate::store::runs::{Ended, RunRecord};
    use crate::store::Store;

    fn run(id: &str) -> RunRecord {
        Ended::for_test(id).record(1_000)
    }

    #[test]
    fn status_reads_sqlite_as_of_one_moment() {
        let dir = tempfile::tempdir().unwrap();
        let reader = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
        let writer = Store::open(dir.path(), &|w| panic!("{w}")).unwrap();
        writer.with(|c| c.run_record(&run("r1"))).unwrap();
        let ask = Ask {
            now: 2_000,
            runs: 10,
            spend_since: [0; 3],
            transitions: Some(5),
        };
        // Another process commits a run after the breakers are read.
        let seen = reader
            .with(|c| {
                let conn = c.sqlite().expect("sqlite");
                Ok(read(conn, &ask, || {
                    writer.with(|w| w.run_record(&run("r2"))).unwrap()
                })?)
            })
            .unwrap();
        let ids: Vec<_> = seen.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r1"], "the run committed while reading is not seen");
        // Read again, it is.
        let again = reader.with(|c| c.snapshot(&ask)).unwrap();
        assert_eq!(again.runs.len(), 2);
    }
}
