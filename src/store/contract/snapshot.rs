//! `bsu status`'s one read (`Backend::snapshot`): the same as its parts
//! read one by one, on both backends.

use super::{each, reply, spent, S};
use crate::breaker::{Outcome, State};
use crate::store::cache::Counts;
use crate::store::runs;
use crate::store::snapshot::Ask;
use crate::store::spend::Window;

#[test]
fn a_snapshot_reads_what_its_parts_read() {
    const DAY: Window = Window {
        limit_usd: 10.0,
        from_ms: 0,
        until_ms: 86_400_000,
    };
    each(|s| {
        s.with(|c| {
            // Three transitions of `a` (opened, probing, reset), one of `b`.
            c.breaker_record("a#k", 10, Outcome::Quota, 1, false, None, &S)?;
            c.breaker_admit("a#k", 10 + 3_600_000, &S)?;
            c.breaker_reset(Some("a"), 10 + 3_600_001)?;
            c.breaker_record("b#k", 20, Outcome::Quota, 1, false, None, &S)?;
            c.breaker_record("c#k", 30, Outcome::Success, 1, false, None, &S)?;
            c.cache_put("k", &reply("one"), 40, 1_000, 10_000)?;
            c.spend_reserve("/p", "held", 0.5, (50, 10_000), &[DAY])?
                .unwrap();
            c.spend_reserve("/p", "r", 0.5, (50, 10_000), &[DAY])?
                .unwrap();
            let record = runs::Ended::for_test("r").record(60);
            let settle = ("/p".to_string(), "r".to_string(), vec![spent(0.25)]);
            let counts = Counts { hits: 2, misses: 1 };
            c.run_end(&[], counts, Some(&settle), Some(&record), 60)?;

            let ask = Ask {
                now: 70,
                runs: 5,
                spend_since: [0, 55, 61],
                transitions: Some(2),
            };
            let got = c.snapshot(&ask)?;
            let names: Vec<&str> = got.breakers.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["a#k", "b#k", "c#k"]);
            assert_eq!(got.breakers[0].1.state, State::Closed);
            let newest: Vec<(&str, Vec<State>)> = got
                .transitions
                .iter()
                .map(|(n, ts)| (n.as_str(), ts.iter().map(|t| t.to).collect()))
                .collect();
            assert_eq!(
                newest,
                [
                    ("a#k", vec![State::Closed, State::HalfOpen]),
                    ("b#k", vec![State::Open]),
                    ("c#k", vec![]),
                ],
                "the newest two of each, newest first, in the breakers' order"
            );
            // The same, part by part.
            let mut transitions = Vec::new();
            for (name, _) in &got.breakers {
                transitions.push((name.clone(), c.breaker_transitions(name, 2)?));
            }
            let parts = (
                c.breakers()?,
                transitions,
                c.cache_stats(70)?,
                c.runs_recent(5)?,
                [
                    c.spend_by_model(0)?,
                    c.spend_by_model(55)?,
                    c.spend_by_model(61)?,
                ],
                c.spend_reservations(70)?,
            );
            let whole = (
                &got.breakers,
                &got.transitions,
                got.cache,
                &got.runs,
                &got.spend,
                &got.reservations,
            );
            assert_eq!(
                format!("{whole:?}"),
                format!(
                    "{:?}",
                    (&parts.0, &parts.1, parts.2, &parts.3, &parts.4, &parts.5)
                )
            );
            assert_eq!((got.cache.entries, got.cache.hits), (1, 2));
            assert_eq!((got.spend[1].len(), got.spend[2].len()), (1, 0));
            assert_eq!(got.reservations.len(), 1, "r settled; held still held");
            // Without transitions asked: none read.
            let bare = c.snapshot(&Ask {
                transitions: None,
                ..ask
            })?;
            assert!(bare.transitions.is_empty());
            Ok(())
        })
        .unwrap();
    });
}
