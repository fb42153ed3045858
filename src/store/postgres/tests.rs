//! What a connection to the server promises, directly and through a pooler
//! in front of it (PgBouncer in session mode, as fleets reach managed
//! servers).

use std::time::Duration;

use crate::config::state::StateUrl;
use crate::store::contract::pg;

/// `url` as `BSU_STATE_URL` gives it.
fn state_url(url: String) -> StateUrl {
    StateUrl {
        url,
        from: "BSU_STATE_URL".into(),
    }
}

/// A connection to `url`, its schema migrated.
fn connected(url: &StateUrl, timeout: Duration) -> super::Postgres {
    super::connect(url, timeout, "bsu", true, &Default::default())
        .expect("connects")
        .expect("migrated")
}

/// The session's bounds in milliseconds, as the server applies them.
fn bounds(pg: &mut super::Postgres) -> Vec<String> {
    pg.run(async |c| {
        let rows = c
            .query(
                "SELECT setting FROM pg_settings WHERE name IN ('statement_timeout', \
                 'lock_timeout', 'idle_in_transaction_session_timeout') ORDER BY name DESC",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    })
    .unwrap()
}

#[test]
fn every_session_is_bounded_by_the_timeout_even_through_a_pooler() {
    let Some(server) = pg::server() else { return };
    let (db, direct) = server.fresh();
    let mut urls = vec![direct];
    urls.extend(server.pooler().map(|p| p.url(&db)));
    for (i, url) in urls.into_iter().enumerate() {
        let timeout = Duration::from_millis(300 + i as u64);
        let mut pg = connected(&state_url(url), timeout);
        let ms = timeout.as_millis();
        let idle = 4 * ms;
        // By name, descending: statement, lock, idle in transaction.
        assert_eq!(bounds(&mut pg), [ms, ms, idle].map(|v| v.to_string()));
        // A statement past the bound is stopped by the server.
        let slow = pg.run(async |c| c.batch_execute("SELECT pg_sleep(5)").await);
        let e = slow.expect_err("stopped").to_string();
        assert!(e.contains("statement timeout"), "{e}");
    }
}

#[test]
fn a_dropped_connection_says_goodbye_on_or_off_a_runtime() {
    let Some(server) = pg::server() else { return };
    let (db, url) = server.fresh();
    let url = state_url(url);
    let timeout = Duration::from_secs(5);
    let connect = || {
        let mut pg = connected(&url, timeout);
        // Answers still due when the store goes: the end's plans.
        pg.get_ready(true).unwrap();
        pg
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Off a runtime, as a run drops its store; on one, as a run drops its
    // `--if-running` lock.
    drop(connect());
    let connecting = super::lock_connect(&url, timeout, "event");
    let held = super::lock_run(connecting, timeout, "project", "event", None)
        .unwrap()
        .expect("free");
    let pg = connect();
    runtime.block_on(async move {
        drop(pg);
        drop(held);
    });
    // Each ended with a Terminate, not a reset the server logs.
    assert_eq!(server.ended_sessions(&db), (3, 0));
}

/// End run `id`: a success through breaker "b", a cache hit and two
/// misses, one agent's spend, the history row.
fn end(pg: &mut super::Postgres, id: &str) -> Result<(), crate::store::StoreError> {
    use crate::breaker::Settings;
    use crate::store::backend::Backend;
    use crate::store::{runs, spend};
    let settings = Settings {
        failure_threshold: 2,
        reset_timeout: Duration::from_secs(1),
        max_reset_timeout: Duration::from_secs(8),
        probe_lease: Duration::from_millis(500),
    };
    let spent = spend::Spent {
        agent: "a".into(),
        provider: "p".into(),
        model: "m".into(),
        input_tokens: 10,
        output_tokens: 2,
        usd: 0.5,
    };
    let run = runs::Ended {
        duration_ms: 0,
        ..runs::Ended::for_test(id)
    }
    .record(5);
    let settle = ("/p".to_string(), id.to_string(), vec![spent]);
    let counts = crate::store::cache::Counts { hits: 1, misses: 2 };
    pg.run_end(
        &[("b".into(), 1, settings)],
        counts,
        Some(&settle),
        Some(&run),
        5,
    )
}

#[test]
fn the_end_and_cache_puts_are_prepared_while_the_models_work_and_written_even_if_that_is_lost() {
    use crate::store::backend::Backend;
    let Some(server) = pg::server() else { return };
    let mut pg = connected(&state_url(server.fresh().1), Duration::from_secs(5));
    let prepared = |pg: &mut super::Postgres| -> i64 {
        pg.run(async |c| {
            let sql = "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql";
            Ok(c.query_typed(sql, &[]).await?[0].get(0))
        })
        .unwrap()
    };
    pg.get_ready(true).unwrap();
    assert_eq!(
        prepared(&mut pg),
        8,
        "the end's four statements, a cache put's four"
    );
    end(&mut pg, "one").unwrap();
    assert!(pg.prepared.is_some(), "kept for the next end");
    let reply = |text: &str| crate::client::ChatReply {
        pace: None,
        content: text.into(),
        usage: crate::client::Usage::default(),
        cut_off: false,
    };
    pg.cache_put("k1", &reply("one"), 5, 1_000, 1 << 20)
        .unwrap();
    assert!(pg.prepared_put.is_some(), "kept for the next put");
    // A session that lost them (a pooler in transaction mode, a reset):
    // the end is written all the same, unprepared.
    pg.get_ready(true).unwrap();
    pg.run(async |c| c.batch_execute("DEALLOCATE ALL").await)
        .unwrap();
    end(&mut pg, "two").unwrap();
    assert!(pg.prepared.is_none(), "not tried again");
    pg.cache_put("k2", &reply("two"), 6, 1_000, 1 << 20)
        .unwrap();
    assert!(pg.prepared_put.is_none(), "not tried again");
    assert_eq!(pg.cache_get("k2", 7).unwrap().unwrap().content, "two");
    assert_eq!(pg.cache_stats(7).unwrap().entries, 2);
    let ids: Vec<String> = pg
        .runs_recent(10)
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(ids, ["two", "one"]);
    let b = pg.breakers().unwrap();
    assert_eq!((b[0].0.as_str(), b[0].1.successes), ("b", 2));
    let spent: f64 = pg
        .run(async |c| {
            let sql = "SELECT sum(usd) FROM bsu_spend WHERE NOT reserved";
            Ok(c.query_typed(sql, &[]).await?[0].get(0))
        })
        .unwrap();
    assert!((spent - 1.0).abs() < 1e-9, "{spent}");
    let st = pg.cache_stats(0).unwrap();
    assert_eq!((st.hits, st.misses), (2, 4), "each end's lookups counted");
}

/// A run with inputs asks for its project's token counts before the
/// connection's first round trip is sent: they come with the first reads,
/// and the run's read of them makes no round trip of its own. Once only,
/// and only for what was asked.
#[test]
fn token_counts_asked_for_in_time_come_with_the_first_reads() {
    use crate::store::backend::Backend;
    let Some(server) = pg::server() else { return };
    let url = state_url(server.fresh().1);
    let timeout = Duration::from_secs(10);
    let counts = vec![("o200k:aa".to_string(), 7), ("o200k:bb".to_string(), 9)];
    // The second the newer: the newest one is `bb`.
    let mut writer = connected(&url, timeout);
    for (at, count) in counts.iter().enumerate() {
        writer
            .token_counts_put("p", std::slice::from_ref(count), at as i64, 100)
            .unwrap();
    }
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort();
        v
    };
    let prefetch = crate::store::Prefetch::default();
    prefetch.token_counts("p".into(), 100);
    let mut pg = super::connect(&url, timeout, "bsu", false, &prefetch)
        .unwrap()
        .expect("a current schema");
    let trips = pg.trips;
    assert_eq!(sorted(pg.token_counts_get("p", 100).unwrap()), counts);
    assert_eq!(pg.trips, trips, "read with the first reads");
    assert_eq!(sorted(pg.token_counts_get("p", 100).unwrap()), counts);
    assert_eq!(pg.trips, trips + 1, "once: then from the server");
    // Asked for another project (or limit) than the run reads: the run's
    // read goes to the server.
    let other = crate::store::Prefetch::default();
    other.token_counts("q".into(), 100);
    let mut pg = super::connect(&url, timeout, "bsu", false, &other)
        .unwrap()
        .unwrap();
    let trips = pg.trips;
    assert_eq!(
        sorted(pg.token_counts_get("p", 1).unwrap()),
        [counts[1].clone()]
    );
    assert_eq!(pg.trips, trips + 1);
    // Not asked for: nothing read ahead.
    let mut pg = super::connect(&url, timeout, "bsu", false, &Default::default())
        .unwrap()
        .unwrap();
    assert!(pg.kept_counts.is_none());
    let trips = pg.trips;
    assert_eq!(sorted(pg.token_counts_get("p", 100).unwrap()), counts);
    assert_eq!(pg.trips, trips + 1);
}

/// The first bytes bsu sends to a listener that answers an SSLRequest with
/// `answer` (if any) and then reads the next flight; and what connecting
/// then said.
fn first_bytes(query: &str, answer: Option<u8>) -> (Vec<u8>, Vec<u8>, super::StoreError) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut first = vec![0; 8];
        tcp.read_exact(&mut first).unwrap();
        let mut next = vec![0; 4096];
        let n = match answer {
            Some(a) => {
                tcp.write_all(&[a]).unwrap();
                tcp.read(&mut next).unwrap()
            }
            None => tcp.read(&mut next).unwrap(),
        };
        next.truncate(n);
        (first, next)
    });
    let url = state_url(format!("postgres://bsu:pw@localhost:{port}/state?{query}"));
    let err = match super::open(&url, Duration::from_secs(5), "bsu") {
        Err(e) => e,
        Ok(_) => panic!("a listener that hangs up is no server"),
    };
    let (first, next) = server.join().unwrap();
    (first, next, err)
}

#[test]
fn direct_tls_starts_with_the_handshake_and_offers_postgresql_by_alpn() {
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];
    // ALPN's protocol list: one name, ten bytes long.
    let offers = |hello: &[u8]| hello.windows(11).any(|w| w == b"\x0apostgresql");
    // PostgreSQL's negotiation: the SSLRequest, then the handshake.
    let (first, hello, _) = first_bytes("sslmode=require", Some(b'S'));
    assert_eq!(first, SSL_REQUEST);
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    assert!(offers(&hello), "ALPN offered either way");
    // Direct: the handshake from the first byte.
    let (first, rest, err) = first_bytes("sslmode=verify-full&sslnegotiation=direct", None);
    let hello = [first, rest].concat();
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    assert!(offers(&hello));
    // A server that hangs up on it (as one before 17 does): a refusal that
    // says what to change, not an outage to run without.
    let super::StoreError::Refused(why) = err else {
        panic!("{err:?}")
    };
    assert!(
        why.contains("sslnegotiation=direct needs PostgreSQL 17"),
        "{why}"
    );
    assert!(
        why.contains("BSU_STATE_URL") && !why.contains("pw@"),
        "{why}"
    );
}

#[cfg(unix)]
#[test]
fn a_socket_is_spoken_to_without_asking_for_tls_first() {
    use std::io::Read;
    // A server on a socket refuses TLS; asking costs a round trip with the
    // process it has just started. libpq does not ask; neither does bsu.
    let dir = tempfile::tempdir().unwrap();
    let listener =
        std::os::unix::net::UnixListener::bind(dir.path().join(".s.PGSQL.5999")).unwrap();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut first = [0; 8];
        socket.read_exact(&mut first).unwrap();
        first
    });
    let url = state_url(format!(
        "postgres://bsu@/state?host={}&port=5999",
        dir.path().display()
    ));
    assert!(super::open(&url, Duration::from_secs(5), "bsu").is_err());
    let first = server.join().unwrap();
    // The startup message: its length, then protocol 3.0.
    assert_eq!(first[4..], [0, 3, 0, 0], "{first:?}");
}
