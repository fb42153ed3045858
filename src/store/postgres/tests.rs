//! What a connection to the server promises, directly and through a pooler
//! in front of it (PgBouncer in session mode, as fleets reach managed
//! servers).

use std::time::Duration;

use crate::config::state::StateUrl;
use crate::store::contract::pg;

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
        let url = StateUrl {
            url,
            from: "BSU_STATE_URL".into(),
        };
        let timeout = Duration::from_millis(300 + i as u64);
        let mut pg = super::connect(&url, timeout, "bsu", true)
            .expect("connects")
            .expect("migrated");
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
    let url = StateUrl {
        url,
        from: "BSU_STATE_URL".into(),
    };
    let timeout = Duration::from_secs(5);
    let connect = || {
        let mut pg = super::connect(&url, timeout, "bsu", true)
            .expect("connects")
            .expect("migrated");
        // Answers still due when the store goes: the end's plans.
        pg.plan_the_end().unwrap();
        pg
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Off a runtime, as a run drops its store; on one, as a run drops its
    // `--if-running` lock.
    drop(connect());
    let held = super::lock_run(&url, timeout, "project", "event", None)
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
