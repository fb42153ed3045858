//! Breakers across many names, on both backends.

use super::{each, S};
use crate::breaker::{Outcome, State};

#[test]
fn a_reset_of_many_breakers_closes_each_and_logs_it_once() {
    each(|s| {
        s.with(|c| {
            // Written out of order; two left closed (one never failed).
            let names: Vec<String> = (0..12).rev().map(|i| format!("ep{i:02}#k")).collect();
            for (i, name) in names.iter().enumerate() {
                let failures = if i % 4 == 0 { 0 } else { 1 };
                for _ in 0..failures {
                    c.breaker_record(name, 5, Outcome::Quota, 1, false, None, &S)?;
                }
                c.breaker_record(name, 6, Outcome::Success, 1, false, None, &S)?;
            }
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(c.breaker_reset(None, 50)?, sorted);
            for (name, b) in c.breakers()? {
                assert_eq!(b.state, State::Closed, "{name}");
                assert_eq!(b.calls, b.successes + b.failures, "{name}: counts kept");
                let resets = c.breaker_transitions(&name, 50)?;
                let by_hand = resets.iter().filter(|t| t.reason == "reset by hand");
                // Opened by quota (and not yet closed): reset once; closed: untouched.
                assert_eq!(by_hand.count(), usize::from(b.failures > 0), "{name}");
            }
            Ok(())
        })
        .unwrap();
    });
}
