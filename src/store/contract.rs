//! The store's contract, tested on both backends: every test here runs on
//! SQLite (in memory) and on a real PostgreSQL server (a fresh database on
//! the test cluster), through the one `Backend` interface.

use std::time::Duration;

#[path = "../../tests/pg/server.rs"]
pub(crate) mod pg;

use super::cache::Counts;
use super::spend::{Refused, Spent, Window};
use super::{runs, Store};
use crate::breaker::{Admission, Outcome, Settings, State};
use crate::client::{ChatReply, Usage};
use crate::config::state::StateUrl;

/// A store on a fresh database of the test cluster, if there is one.
pub(crate) fn postgres() -> Option<(Store, String)> {
    let server = pg::server()?;
    let (_, url) = server.fresh();
    let store = Store::connect(
        &StateUrl {
            url: url.clone(),
            from: "BSU_STATE_URL".into(),
        },
        Duration::from_secs(10),
    )
    .expect("the test cluster");
    Some((store, url))
}

/// Run `test` on SQLite, then on PostgreSQL.
fn each(test: impl Fn(&Store)) {
    test(&Store::in_memory());
    if let Some((store, _)) = postgres() {
        test(&store);
    }
}

fn reply(text: &str) -> ChatReply {
    ChatReply {
        pace: None,
        content: text.into(),
        usage: Usage::default(),
        cut_off: false,
    }
}

const S: Settings = Settings {
    failure_threshold: 2,
    reset_timeout: Duration::from_millis(1_000),
    max_reset_timeout: Duration::from_millis(8_000),
    probe_lease: Duration::from_millis(500),
};

#[test]
fn cache_hits_misses_expiry_and_eviction() {
    each(|s| {
        s.with(|c| {
            assert!(c.cache_get("k1", 0)?.is_none());
            c.cache_put("k1", &reply("one"), 0, 1_000, 10_000)?;
            assert_eq!(c.cache_get("k1", 500)?.unwrap().content, "one");
            assert!(c.cache_get("k1", 1_000)?.is_none(), "expired at the TTL");
            // A lookup writes nothing: a run's end counts its lookups.
            let st = c.cache_stats(1_000)?;
            assert_eq!((st.entries, st.hits, st.misses, st.expired), (1, 0, 0, 1));
            let counts = |hits, misses| Counts { hits, misses };
            c.run_end(&[], counts(1, 2), None, None, 1_000)?;
            c.run_end(&[], counts(0, 1), None, None, 1_000)?;
            let st = c.cache_stats(1_000)?;
            assert_eq!((st.hits, st.misses), (1, 3));
            assert_eq!(c.cache_prune(1_000)?, 1);
            // A cap that holds two entries of this size, not three.
            c.cache_put("a", &reply("aaaa"), 10, 1_000, 10_000)?;
            let one = c.cache_stats(10)?.bytes;
            let cap = one * 2 + one / 2;
            c.cache_put("b", &reply("bbbb"), 20, 1_000, cap)?;
            c.cache_put("c", &reply("cccc"), 30, 1_000, cap)?;
            assert!(c.cache_get("a", 40)?.is_none(), "oldest evicted first");
            assert!(c.cache_get("b", 40)?.is_some() && c.cache_get("c", 40)?.is_some());
            // Several at once, in the order asked, a key twice included.
            let keys = ["c", "a", "b", "c"].map(String::from);
            let many: Vec<Option<String>> = c
                .cache_get_many(&keys, 40)?
                .into_iter()
                .map(|r| r.map(|r| r.content))
                .collect();
            let want = [Some("cccc"), None, Some("bbbb"), Some("cccc")];
            assert_eq!(many, want.map(|w| w.map(String::from)));
            c.run_end(&[], counts(3, 0), None, None, 40)?;
            assert_eq!(c.cache_stats(40)?.hits, 4);
            // One reply over the cap alone is not kept.
            c.cache_put("huge", &reply(&"x".repeat(100)), 50, 1_000, 50)?;
            assert!(c.cache_get("huge", 60)?.is_none());
            assert_eq!(c.cache_clear()?, 2);
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn the_cache_keeps_its_size_as_entries_are_replaced_expired_and_cleared() {
    each(|s| {
        s.with(|c| {
            let one = {
                c.cache_put("probe", &reply("aaaa"), 0, 1_000, 10_000)?;
                let bytes = c.cache_stats(0)?.bytes;
                c.cache_clear()?;
                bytes
            };
            // Room for two entries of this size, not three.
            let cap = one * 2 + one / 2;
            let put = |c: &mut dyn super::backend::Backend, key: &str, at: i64, ttl: i64| {
                c.cache_put(key, &reply("aaaa"), at, ttl, cap)
            };
            let keys = |c: &mut dyn super::backend::Backend| -> super::backend::Result<u64> {
                Ok(c.cache_stats(0)?.entries)
            };
            // Replaced in place: counted once, so b still fits beside a.
            put(c, "a", 1, 1_000)?;
            put(c, "a", 2, 1_000)?;
            put(c, "b", 3, 1_000)?;
            assert_eq!(keys(c)?, 2);
            assert!(c.cache_get("a", 4)?.is_some(), "nothing evicted");
            // Over the cap: the oldest goes.
            put(c, "c", 5, 1_000)?;
            assert!(c.cache_get("a", 6)?.is_none() && c.cache_get("b", 6)?.is_some());
            // d, to expire soon, evicts b.
            put(c, "d", 7, 1)?;
            assert!(c.cache_get("b", 8)?.is_none());
            // Pruned: d's room is free again, so e fits beside c.
            assert_eq!(c.cache_prune(100)?, 1);
            put(c, "e", 101, 1_000)?;
            assert!(c.cache_get("c", 102)?.is_some() && c.cache_get("e", 102)?.is_some());
            // Cleared: all the room is free.
            assert_eq!(c.cache_clear()?, 2);
            put(c, "f", 103, 1_000)?;
            put(c, "g", 104, 1_000)?;
            assert_eq!(keys(c)?, 2);
            // A cache an older bsu kept, with no count of its bytes: summed
            // once, so the next entry evicts the oldest.
            if let Some(db) = c.sqlite() {
                db.execute_batch("DELETE FROM counters WHERE name = 'cache_bytes'")?;
                put(c, "h", 105, 1_000)?;
                assert!(c.cache_get("f", 106)?.is_none() && c.cache_get("h", 106)?.is_some());
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn a_breaker_opens_lets_one_leased_probe_through_and_closes() {
    each(|s| {
        s.with(|c| {
            assert_eq!(
                c.breaker_states(&["x".into()])?,
                [("x".to_string(), State::Closed)]
            );
            assert_eq!(c.breaker_admit("x", 0, &S)?.0, Admission::Allow);
            for _ in 0..2 {
                c.breaker_record("x", 10, Outcome::Failure, 1, false, Some("503"), &S)?;
            }
            assert_eq!(c.breaker_states(&["x".into()])?[0].1, State::Open);
            let reject = Admission::Reject { retry_at: 1_010 };
            assert_eq!(c.breaker_admit("x", 20, &S)?.0, reject);
            assert_eq!(c.breaker_admit("x", 1_010, &S)?.0, Admission::Probe);
            // One probe at a time: the lease holds the others off...
            let held = Admission::Reject { retry_at: 1_510 };
            assert_eq!(c.breaker_admit("x", 1_020, &S)?.0, held);
            // ...until it runs out (the prober died).
            assert_eq!(c.breaker_admit("x", 1_600, &S)?.0, Admission::Probe);
            let b = c.breaker_record("x", 1_610, Outcome::Success, 1, true, None, &S)?;
            assert_eq!((b.state, b.retry_at), (State::Closed, None));
            let t = c.breaker_transitions("x", 10)?;
            let path: Vec<_> = t.iter().map(|t| (t.from, t.to)).collect();
            assert_eq!(
                path,
                [
                    (State::HalfOpen, State::Closed),
                    (State::HalfOpen, State::HalfOpen),
                    (State::Open, State::HalfOpen),
                    (State::Closed, State::Open),
                ]
            );
            let (_, b) = &c.breakers()?[0];
            // Two calls through it closed, and two probes.
            assert_eq!((b.calls, b.failures, b.successes), (4, 2, 1));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn a_reset_closes_every_credential_of_an_endpoint() {
    each(|s| {
        s.with(|c| {
            for name in ["epx#k3", "ep#k2", "ep#k1"] {
                c.breaker_record(name, 5, Outcome::Quota, 1, false, None, &S)?;
            }
            // Listed by name, whatever the order they were written in.
            let names: Vec<String> = c.breakers()?.into_iter().map(|(n, _)| n).collect();
            assert_eq!(names, ["ep#k1", "ep#k2", "epx#k3"]);
            assert_eq!(c.breaker_reset(Some("ep"), 10)?, ["ep#k1", "ep#k2"]);
            let states = c.breaker_states(&["ep#k1".into(), "epx#k3".into()])?;
            assert_eq!((states[0].1, states[1].1), (State::Closed, State::Open));
            assert_eq!(c.breaker_reset(None, 20)?.len(), 3);
            Ok(())
        })
        .unwrap();
    });
}

fn spent(usd: f64) -> Spent {
    Spent {
        agent: "a".into(),
        provider: "openai".into(),
        model: "gpt-4o".into(),
        input_tokens: 100,
        output_tokens: 20,
        usd,
    }
}

#[test]
fn budgets_reserve_settle_and_expire() {
    const DAY: Window = Window {
        limit_usd: 1.0,
        from_ms: 0,
        until_ms: 86_400_000,
    };
    each(|s| {
        s.with(|c| {
            assert_eq!(
                c.spend_reserve("/p", "r1", 0.6, (100, 10_000), &[DAY])?,
                Ok(())
            );
            let refused = c.spend_reserve("/p", "r2", 0.6, (200, 10_000), &[DAY])?;
            assert_eq!(refused.unwrap_err().spent_usd, 0.6);
            // Another project's budget is its own.
            assert_eq!(
                c.spend_reserve("/q", "q1", 0.6, (200, 10_000), &[DAY])?,
                Ok(())
            );
            // r1's lease ran out (its run died): it no longer counts.
            assert_eq!(
                c.spend_reserve("/p", "r3", 0.6, (20_000, 90_000), &[DAY])?,
                Ok(())
            );
            let settle = (
                "/p".to_string(),
                "r3".to_string(),
                vec![spent(0.1), spent(0.1)],
            );
            let record = runs::Ended {
                duration_ms: 100,
                head_sha: Some("abc".into()),
                ..runs::Ended::for_test("r3")
            }
            .record(20_100);
            let none = Counts::default();
            c.run_end(
                &[("ok".into(), 3, S)],
                none,
                Some(&settle),
                Some(&record),
                20_100,
            )?;
            let r = &c.runs_recent(5)?[0];
            assert_eq!((r.cost_usd, r.tokens), (Some(0.2), 240));
            assert_eq!(c.run_last_decided("/p", "push")?, Some(Some("abc".into())));
            assert_eq!(c.run_last_decided("/p", "other")?, None);
            let by = c.spend_by_model(0)?;
            assert_eq!(by.len(), 1);
            assert!((by[0].2 - 0.2).abs() < 1e-9 && by[0].0 == "openai");
            let held = c.spend_reservations(20_100)?;
            let ids: Vec<(&str, bool)> = held
                .iter()
                .map(|r| (r.run_id.as_str(), r.expired))
                .collect();
            assert_eq!(ids.len(), 2);
            assert!(ids.contains(&("r1", true)) && ids.contains(&("q1", true)));
            assert_eq!(
                c.breakers()?[0].1.successes,
                3,
                "held-back successes written"
            );
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn ledgers_windows_and_token_counts_round_trip() {
    each(|s| {
        s.with(|c| {
            assert_eq!(c.ledger_get("/p", "nightly")?, None);
            c.ledger_put("/p", "nightly", "{\"a\":1}", 1)?;
            c.ledger_put("/p", "nightly", "{\"a\":2}", 2)?;
            assert_eq!(c.ledger_get("/p", "nightly")?.as_deref(), Some("{\"a\":2}"));
            c.window_put("vllm", "m", 32_768, 100)?;
            assert_eq!(c.window_get("vllm", "m", 50)?, Some(32_768));
            assert_eq!(c.window_get("vllm", "m", 150)?, None, "too old");
            let counts: Vec<(String, u64)> = (0..5).map(|i| (format!("k{i}"), i)).collect();
            c.token_counts_put("/p", &counts[..3], 1, 10)?;
            c.token_counts_put("/p", &counts[2..], 2, 4)?;
            let mut kept = c.token_counts_get("/p", 100)?;
            kept.sort();
            assert_eq!(kept.len(), 4, "only the newest kept: {kept:?}");
            assert!(kept.contains(&("k4".into(), 4)));
            assert!(c.token_counts_get("/q", 100)?.is_empty());
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn token_counts_keep_the_newest_and_delete_only_the_oldest_over_the_limit() {
    each(|s| {
        s.with(|c| {
            let put = |c: &mut dyn super::backend::Backend, keys: &[&str], at| {
                let counts: Vec<(String, u64)> = keys.iter().map(|k| (k.to_string(), 7)).collect();
                c.token_counts_put("/p", &counts, at, 3)
            };
            let kept =
                |c: &mut dyn super::backend::Backend| -> super::backend::Result<Vec<String>> {
                    let mut keys: Vec<String> = c
                        .token_counts_get("/p", 100)?
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect();
                    keys.sort();
                    Ok(keys)
                };
            for (at, key) in [(1, "k0"), (2, "k1"), (3, "k2")] {
                put(c, &[key], at)?;
            }
            // Counted again: newer, not one more.
            put(c, &["k0"], 4)?;
            assert_eq!(kept(c)?, ["k0", "k1", "k2"]);
            put(c, &["k3"], 5)?;
            assert_eq!(kept(c)?, ["k0", "k2", "k3"], "the oldest, k1, went");
            put(c, &["k4", "k5", "k4"], 6)?;
            assert_eq!(kept(c)?, ["k3", "k4", "k5"]);
            // An older bsu kept counts without counting them: the first
            // keep counts them from the table.
            if let Some(db) = c.sqlite() {
                db.execute_batch(
                    "DELETE FROM counters WHERE name = 'token_counts:/p';
                     INSERT INTO token_counts (project, key, tokens, at_ms)
                     VALUES ('/p', 'old', 1, 0)",
                )?;
                put(c, &["k6"], 7)?;
                assert_eq!(kept(c)?, ["k4", "k5", "k6"]);
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn runs_are_listed_newest_first_even_when_they_start_together() {
    each(|s| {
        s.with(|c| {
            for id in ["old", "new"] {
                let r = runs::Ended {
                    duration_ms: 0,
                    report: Some(format!("reports/{id}.json")),
                    dry_run: id == "old",
                    ..runs::Ended::for_test(id)
                }
                .record(5);
                c.run_record(&r)?;
            }
            let got = c.runs_recent(10)?;
            let ids: Vec<(&str, &str)> = got
                .iter()
                .map(|r| (r.run_id.as_str(), r.decision.as_str()))
                .collect();
            assert_eq!(ids, [("new", "approve"), ("old", "dry_run")]);
            assert_eq!(got[0].report.as_deref(), Some("reports/new.json"));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn migrating_again_changes_nothing() {
    each(|s| {
        // `was` is what opening found (a fresh server: 0; SQLite migrates
        // as it opens); migrating again leaves the version where it is.
        let (was, now) = s.with(|c| c.migrate()).unwrap();
        assert!(now >= 1 && was <= now);
        let (again_was, again) = s.with(|c| c.migrate()).unwrap();
        assert_eq!((again_was, again), (was, now));
        if s.kind == super::Kind::Sqlite {
            assert_eq!(was, now);
        }
    });
}

#[test]
fn a_run_ends_seeing_its_own_breaker_outcomes() {
    each(|s| {
        s.with(|c| {
            let names = ["x".to_string(), "y".to_string()];
            for now in [0, 1] {
                c.breaker_record("x", now, Outcome::Failure, 1, false, Some("503"), &S)?;
            }
            let states = c.breaker_states_at_end(&names)?;
            assert_eq!(
                states,
                vec![("x".into(), State::Open), ("y".into(), State::Closed)]
            );
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn a_refusal_names_the_first_window_the_run_does_not_fit_and_reserves_nothing() {
    let window = |limit_usd, from_ms| Window {
        limit_usd,
        from_ms,
        until_ms: 1_000_000,
    };
    // A month since 0 with 2.0 left, a day since 500 with 1.0.
    let (month, day) = (window(2.0, 0), window(1.0, 500));
    each(|s| {
        s.with(|c| {
            assert_eq!(
                c.spend_reserve("/p", "r1", 0.5, (100, 9_000), &[month, day])?,
                Ok(())
            );
            // Outside the day, inside the month.
            assert_eq!(
                c.spend_reserve("/p", "r2", 0.9, (600, 9_000), &[month, day])?,
                Ok(())
            );
            // 0.9 spent in the day: 0.2 more does not fit it; the month has room.
            let refused = c.spend_reserve("/p", "r3", 0.2, (700, 9_000), &[month, day])?;
            assert_eq!(
                refused,
                Err(Refused {
                    window: day,
                    spent_usd: 0.9
                })
            );
            // Over both: the first named.
            let refused = c.spend_reserve("/p", "r4", 1.0, (700, 9_000), &[month, day])?;
            assert_eq!(refused.unwrap_err().window, month);
            let held: Vec<String> = c
                .spend_reservations(700)?
                .into_iter()
                .map(|r| r.run_id)
                .collect();
            assert_eq!(held.len(), 2, "refusals reserve nothing: {held:?}");
            Ok(())
        })
        .unwrap();
    });
}

mod breakers;
mod counts;
mod server;
mod snapshot;
