//! `bsu status`'s reads on the server: one read-only transaction at one
//! snapshot (`REPEATABLE READ`), every statement queued in one round trip,
//! each breaker's transitions in one statement for all of them.

use tokio_postgres::Client;

use super::{breakers, cache, runs, spend};
use crate::store::snapshot::{by_breaker, Ask, Snapshot};

pub(super) async fn read(c: &Client, ask: &Ask) -> Result<Snapshot, tokio_postgres::Error> {
    let transitions = async {
        match ask.transitions {
            Some(limit) => breakers::transitions_all(c, limit).await.map(Some),
            None => Ok(None),
        }
    };
    let [today, week, month] = ask.spend_since;
    // `biased`: polled, so queued, in this order (see `in_one_trip`).
    let (begun, all, transitions, stats, recent, today, week, month, reserved, committed) = tokio::join!(
        biased;
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        breakers::load_all(c, None),
        transitions,
        cache::stats(c, ask.now),
        runs::recent(c, ask.runs),
        spend::by_model(c, today),
        spend::by_model(c, week),
        spend::by_model(c, month),
        spend::reservations(c, ask.now),
        c.batch_execute("COMMIT")
    );
    begun?;
    let breakers = all?;
    let transitions = match transitions? {
        Some(by_name) => by_breaker(&breakers, by_name),
        None => Vec::new(),
    };
    let snapshot = Snapshot {
        breakers,
        transitions,
        cache: stats?,
        runs: recent?,
        spend: [today?, week?, month?],
        reservations: reserved?,
    };
    committed?;
    Ok(snapshot)
}
