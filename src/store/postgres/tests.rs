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
