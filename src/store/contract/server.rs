//! What only a server has: its schema shared by a fleet, its login, its
//! reachability, and its locks held across runners.

use std::time::Duration;

use super::pg;
use super::{spent, S};
use crate::config::state::StateUrl;
use crate::store::cache::Counts;
use crate::store::spend::Window;
use crate::store::{runs, Store, StoreError};

fn url(u: String) -> StateUrl {
    StateUrl {
        url: u,
        from: "BSU_STATE_URL".into(),
    }
}

#[test]
fn eight_runners_migrating_a_fresh_server_at_once_migrate_it_once() {
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let opened: Vec<_> = (0..8)
        .map(|_| {
            let u = url(u.clone());
            std::thread::spawn(move || Store::connect(&u, Duration::from_secs(10)).map(drop))
        })
        .collect();
    for t in opened {
        t.join().unwrap().expect("every runner connects");
    }
    assert_eq!(server.sql(&db, "SELECT version FROM bsu_schema"), "1");
    assert_eq!(server.sql(&db, "SELECT count(*) FROM bsu_schema"), "1");
}

#[test]
fn connecting_before_the_project_is_validated_writes_nothing() {
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let tables = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bsu%'";
    // A fresh server: nothing to use yet, and nothing made.
    let early = Store::connect_without_migrating(
        &url(u.clone()),
        Duration::from_secs(10),
        &Default::default(),
    );
    assert!(
        matches!(early, Ok(None)),
        "{:?}",
        early.map(|s| s.is_some())
    );
    assert_eq!(server.sql(&db, tables), "0");
    // Migrated (once the run is valid), the early connection is the run's.
    drop(connected(&u));
    let early = Store::connect_without_migrating(
        &url(u.clone()),
        Duration::from_secs(10),
        &Default::default(),
    );
    assert!(matches!(early, Ok(Some(_))));
    // A newer schema is refused either way.
    server.sql(&db, "UPDATE bsu_schema SET version = 99");
    let early =
        Store::connect_without_migrating(&url(u), Duration::from_secs(10), &Default::default());
    assert!(matches!(early, Err(StoreError::Refused(_))));
}

#[test]
fn a_newer_schema_on_the_server_is_refused_and_left_alone() {
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    drop(connected(&u));
    server.sql(&db, "UPDATE bsu_schema SET version = 99");
    let e = Store::connect(&url(u), Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, StoreError::Refused(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("schema version 99, newer than this bsu's 1"),
        "{text}"
    );
    assert_eq!(server.sql(&db, "SELECT version FROM bsu_schema"), "99");
}

#[test]
fn a_wrong_password_names_the_variable_and_never_the_url() {
    let Some(server) = pg::server() else { return };
    let (db, _) = server.fresh();
    let bad = server.url_with(&db, "not-the-Password-42");
    let e = Store::connect(&url(bad), Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, StoreError::Refused(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("BSU_STATE_URL") && text.contains("password"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-Password-42") && !text.contains("postgres://"),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}/{db}", server.port)),
        "{text}"
    );
}

#[test]
fn an_unreachable_server_is_an_outage_within_the_timeout() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let u = format!("postgres://bsu:hunter2hunter2@127.0.0.1:{port}/bsu");
    let e = Store::connect(&url(u), Duration::from_secs(2)).unwrap_err();
    assert!(e.is_outage(), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn tls_verifies_the_server_against_sslrootcert_and_refuses_an_unknown_authority() {
    let Some(server) = pg::server() else { return };
    let Some(ca) = &server.ca else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI tests TLS: openssl is needed"
        );
        return;
    };
    let (db, _) = server.fresh();
    let base = format!(
        "postgres://bsu_tls:{}@127.0.0.1:{}/{db}",
        pg::PASSWORD,
        server.port
    );
    // The role may only connect over TLS: connecting proves TLS was used.
    let trusted = format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display());
    let s = Store::connect(&url(trusted), Duration::from_secs(10)).expect("TLS with the CA");
    s.with(|c| c.cache_stats(0)).unwrap();
    // prefer (the default) encrypts without verifying, as libpq does.
    let s = Store::connect(&url(base.clone()), Duration::from_secs(10)).expect("TLS, unverified");
    s.with(|c| c.cache_stats(0)).unwrap();
    // With require and no CA, the certificate is not trusted: a mistake to fix (exit 2).
    let e = Store::connect(
        &url(format!("{base}?sslmode=require")),
        Duration::from_secs(10),
    )
    .unwrap_err();
    assert!(matches!(e, StoreError::Refused(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("over TLS") && text.contains("sslrootcert"),
        "{text}"
    );
    assert!(!text.contains(pg::PASSWORD), "{text}");
    // No TLS for a role the server only takes over TLS: refused by the server.
    let e = Store::connect(
        &url(format!("{base}?sslmode=disable")),
        Duration::from_secs(10),
    )
    .unwrap_err();
    assert!(matches!(e, StoreError::Refused(_)), "{e:?}");
}

#[test]
fn held_back_successes_wait_for_the_breakers_lock_like_every_other_write() {
    let Some(server) = pg::server() else { return };
    let (_, u) = server.fresh();
    let store = connected(&u);
    // Another runner in the middle of recording an outcome of breaker "x".
    let (rt, mut other) = another_runner(&u);
    let tx = rt.block_on(other.transaction()).unwrap();
    rt.block_on(tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('bsu:breaker:' || 'x', 0))",
        &[],
    ))
    .unwrap();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.with(|c| c.run_end(&[("x".into(), 2, S)], Counts::default(), None, None, 5))
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(!writer.is_finished(), "the successes waited for the lock");
    rt.block_on(tx.commit()).unwrap();
    writer.join().unwrap().unwrap();
    let (_, b) = &store.with(|c| c.breakers()).unwrap()[0];
    assert_eq!((b.calls, b.successes), (2, 2));
}

#[test]
fn the_run_end_planned_ahead_is_written_whole() {
    // `warm` has the server plan the run end's statements (EXPLAIN), as a
    // run does once its first request is out; the end written after it is
    // whole, on a database its connection has just migrated.
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let store = connected(&u);
    store.with(|c| c.warm(true)).unwrap();
    let record = runs::Ended {
        event: "ping".into(),
        strategy: "ping".into(),
        project: "p".into(),
        duration_ms: 2,
        ..runs::Ended::for_test("r1")
    }
    .record(3);
    store
        .with(|c| {
            c.run_end(
                &[("x".into(), 1, S)],
                Counts::default(),
                Some(&("p".into(), "r1".into(), vec![spent(0.5)])),
                Some(&record),
                3,
            )
        })
        .unwrap();
    let rows = server.sql(
        &db,
        "SELECT (SELECT count(*) FROM bsu_runs) || ',' || (SELECT count(*) FROM bsu_spend) \
         || ',' || (SELECT successes FROM bsu_breakers WHERE name = 'x')",
    );
    assert_eq!(rows.trim(), "1,1,1");
}

#[test]
fn a_reservation_waits_for_the_projects_lock_and_counts_what_was_reserved_meanwhile() {
    let Some(server) = pg::server() else { return };
    let (_, u) = server.fresh();
    let store = connected(&u);
    const DAY: Window = Window {
        limit_usd: 1.0,
        from_ms: 0,
        until_ms: 86_400_000,
    };
    // Another runner, in the middle of reserving 0.6 for the project.
    let (rt, mut other) = another_runner(&u);
    let tx = rt.block_on(other.transaction()).unwrap();
    rt.block_on(tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('bsu:spend:' || '/p', 0));
         INSERT INTO bsu_spend (run_id, project, at_ms, usd, provider, model, reserved,
             lease_until_ms)
         VALUES ('other', '/p', 10, 0.6, '', '', TRUE, 90000)",
    ))
    .unwrap();
    let reserving = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.with(|c| c.spend_reserve("/p", "mine", 0.6, (20, 90_000), &[DAY]))
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !reserving.is_finished(),
        "the reservation waited for the lock"
    );
    rt.block_on(tx.commit()).unwrap();
    // Its sums were read after the lock was its: the other's 0.6 counted,
    // and 0.6 more does not fit in 1.0.
    let refused = reserving.join().unwrap().unwrap().unwrap_err();
    assert_eq!(refused.spent_usd, 0.6);
}

#[test]
fn token_counts_an_older_bsu_kept_are_counted_once_from_the_table() {
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let store = connected(&u);
    // Kept by a bsu that counted nothing: no counter.
    server.sql(
        &db,
        "INSERT INTO bsu_token_counts (project, key, tokens, at_ms)
         SELECT '/p', 'old' || g, 1, g FROM generate_series(1, 4) g",
    );
    let counts = [("new".to_string(), 9)];
    store
        .with(|c| c.token_counts_put("/p", &counts, 10, 3))
        .unwrap();
    let rows = server.sql(
        &db,
        "SELECT string_agg(key, ',' ORDER BY key) || ' ' || (SELECT value FROM bsu_counters
         WHERE name = 'token_counts:/p') FROM bsu_token_counts WHERE project = '/p'",
    );
    assert_eq!(rows.trim(), "new,old3,old4 3");
}

#[test]
fn a_breaker_found_closed_under_its_lock_admits_and_lets_the_lock_go() {
    use crate::breaker::{Admission, Outcome, State};
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let connect = || connected(&u);
    let (mine, other) = (connect(), connect());
    mine.with(|c| {
        for now in [0, 1] {
            c.breaker_record("x", now, Outcome::Failure, 1, false, Some("503"), &S)?;
        }
        Ok(())
    })
    .unwrap();
    // Another runner closes it; this one last saw it open.
    other.with(|c| c.breaker_reset(Some("x"), 2)).unwrap();
    let (admission, b) = mine.with(|c| c.breaker_admit("x", 3, &S)).unwrap();
    assert_eq!((admission, b.state), (Admission::Allow, State::Closed));
    // Its transaction ended: the lock is free, and its next write is
    // everyone's at once, not held in a transaction left open.
    mine.with(|c| c.ledger_put("/p", "nightly", "{}", 4))
        .unwrap();
    let free = server.sql(
        &db,
        "SELECT pg_try_advisory_xact_lock(hashtextextended('bsu:breaker:' || 'x', 0))",
    );
    assert_eq!(free.trim(), "t");
    let seen = other.with(|c| c.ledger_get("/p", "nightly")).unwrap();
    assert_eq!(seen.as_deref(), Some("{}"));
}

#[test]
fn a_cache_an_older_bsu_kept_is_summed_once_and_kept_under_its_cap() {
    let Some(server) = pg::server() else { return };
    let (db, u) = server.fresh();
    let store = connected(&u);
    // Three 1,000-byte entries and no count of their bytes.
    server.sql(
        &db,
        "INSERT INTO bsu_cache (key, reply, bytes, created_at, expires_at)
         SELECT 'old' || g, '{}', 1000, g, 999999 FROM generate_series(1, 3) g",
    );
    let reply = crate::client::ChatReply {
        pace: None,
        content: "x".into(),
        usage: crate::client::Usage::default(),
        cut_off: false,
    };
    store
        .with(|c| c.cache_put("new", &reply, 10, 1_000, 2_500))
        .unwrap();
    let rows = server.sql(
        &db,
        "SELECT string_agg(key, ',' ORDER BY key) || ' ' || ((SELECT value FROM bsu_counters
         WHERE name = 'cache_bytes') = (SELECT SUM(bytes) FROM bsu_cache))::TEXT
         FROM bsu_cache",
    );
    // 3,000 bytes and the new entry's are over 2,500: the oldest went, and
    // the counter is the table's sum.
    assert_eq!(rows.trim(), "new,old2,old3 true");
}

/// A store on the server at `u`.
fn connected(u: &str) -> Store {
    Store::connect(&url(u.to_string()), Duration::from_secs(10)).unwrap()
}

/// Another runner's session on the server at `u`: its runtime and client.
fn another_runner(u: &str) -> (tokio::runtime::Runtime, tokio_postgres::Client) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (other, conn) = rt
        .block_on(tokio_postgres::connect(u, tokio_postgres::NoTls))
        .unwrap();
    rt.spawn(conn);
    (rt, other)
}
