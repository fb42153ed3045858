//! What `bsu status` shows, read at once (`Backend::snapshot`): a state
//! server answers it in one round trip, from one consistent snapshot,
//! rather than in one round trip per table and per breaker.

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

impl Snapshot {
    /// `transitions`, read for every breaker at once (`by_name`, in any
    /// order), as `breakers`' order has them: a breaker with none, none.
    pub(crate) fn with_transitions(mut self, by_name: Vec<(String, Transition)>) -> Snapshot {
        let mut all: std::collections::HashMap<String, Vec<Transition>> = Default::default();
        for (name, t) in by_name {
            all.entry(name).or_default().push(t);
        }
        self.transitions = self
            .breakers
            .iter()
            .map(|(name, _)| (name.clone(), all.remove(name).unwrap_or_default()))
            .collect();
        self
    }
}
