//! The server's schema, one migration per version, never edited once
//! released. Tables are prefixed `bsu_` so a database shared with other
//! software stays readable. Migrations run once, under a session advisory
//! lock, each in its own transaction; a schema newer than this build's is
//! refused (never replaced: a fleet's state is not this runner's to drop).

use tokio_postgres::error::SqlState;

use super::{Postgres, StoreError};

/// The advisory lock migrations take (`"bsu-migrate"` as a number).
const MIGRATE_LOCK: i64 = 0x6273_752d_6d69_6772;

pub(super) const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE bsu_breakers (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    opened_at BIGINT,
    retry_at BIGINT,
    open_for_ms BIGINT NOT NULL DEFAULT 0,
    calls BIGINT NOT NULL DEFAULT 0,
    successes BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    rejections BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);
CREATE TABLE bsu_breaker_transitions (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    at BIGINT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX bsu_breaker_transitions_by_name ON bsu_breaker_transitions (name, id);
CREATE TABLE bsu_cache (
    key TEXT PRIMARY KEY,
    reply TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX bsu_cache_by_created ON bsu_cache (created_at);
CREATE INDEX bsu_cache_by_expiry ON bsu_cache (expires_at);
CREATE TABLE bsu_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE bsu_runs (
    seq BIGSERIAL NOT NULL,
    run_id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    decision TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    report TEXT,
    project TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    strategy TEXT NOT NULL DEFAULT '',
    head_sha TEXT,
    replayed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX bsu_runs_by_start ON bsu_runs (started_ms);
CREATE INDEX bsu_runs_by_project ON bsu_runs (project, strategy, started_ms);
CREATE TABLE bsu_spend (
    id BIGSERIAL PRIMARY KEY,
    run_id TEXT NOT NULL,
    project TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    usd DOUBLE PRECISION NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    reserved BOOLEAN NOT NULL DEFAULT FALSE,
    agent TEXT NOT NULL DEFAULT '',
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    lease_until_ms BIGINT
);
CREATE INDEX bsu_spend_by_project ON bsu_spend (project, at_ms);
CREATE INDEX bsu_spend_by_run ON bsu_spend (run_id);
CREATE TABLE bsu_ledgers (
    project TEXT NOT NULL,
    strategy TEXT NOT NULL,
    json TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (project, strategy)
);
CREATE TABLE bsu_windows (
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (endpoint, model)
);
CREATE TABLE bsu_token_counts (
    project TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (project, key)
);
CREATE INDEX bsu_token_counts_by_age ON bsu_token_counts (project, at_ms);
"#];

pub(super) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The version the server's schema is at: 0 when bsu has never run there.
pub(super) async fn version(c: &tokio_postgres::Client) -> Result<i64, tokio_postgres::Error> {
    match c
        .query_typed_opt("SELECT version FROM bsu_schema", params![])
        .await
    {
        Ok(row) => Ok(row.map_or(0, |r| r.get::<_, i64>(0))),
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(0),
        Err(e) => Err(e),
    }
}

fn newer(place: &str, v: i64) -> StoreError {
    StoreError::Refused(format!(
        "the state server {place} holds schema version {v}, newer than this bsu's {CURRENT}: \
         a newer bsu shares it; upgrade this one (bsu never rewrites a newer schema)"
    ))
}

/// Bring the schema to this build's version, once across the fleet:
/// (version found, version now). Without `always`, a schema already current
/// costs one read and no lock.
pub(super) fn migrate(pg: &mut Postgres, always: bool) -> Result<(i64, i64), StoreError> {
    let found = pg.run(async |c| version(c).await)?;
    migrate_from(pg, found, always)
}

/// As `migrate`, the version already read (`found`).
pub(super) fn migrate_from(
    pg: &mut Postgres,
    found: i64,
    always: bool,
) -> Result<(i64, i64), StoreError> {
    let place = pg.place.clone();
    let place = place.as_str();
    if found > CURRENT {
        return Err(newer(place, found));
    }
    if found == CURRENT && !always {
        return Ok((found, found));
    }
    let outcome = pg.run(async |c| {
        c.execute_typed("SELECT pg_advisory_lock($1)", params![MIGRATE_LOCK => INT8])
            .await?;
        let result = apply(c).await;
        let unlocked = c
            .execute_typed(
                "SELECT pg_advisory_unlock($1)",
                params![MIGRATE_LOCK => INT8],
            )
            .await;
        let found = result?;
        unlocked?;
        Ok(found)
    })?;
    if outcome > CURRENT {
        return Err(newer(place, outcome));
    }
    Ok((outcome, CURRENT))
}

/// Under the lock: read the version again (another runner may have
/// migrated while this one waited), then apply each pending migration with
/// its version bump in one transaction. The version found.
async fn apply(c: &mut tokio_postgres::Client) -> Result<i64, tokio_postgres::Error> {
    c.batch_execute("CREATE TABLE IF NOT EXISTS bsu_schema (version BIGINT NOT NULL)")
        .await?;
    let v = version(c).await?;
    if v > CURRENT {
        return Ok(v);
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = c.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute_typed("DELETE FROM bsu_schema", params![])
            .await?;
        tx.execute_typed(
            "INSERT INTO bsu_schema (version) VALUES ($1)",
            params![(i as i64 + 1) => INT8],
        )
        .await?;
        tx.commit().await?;
    }
    Ok(v)
}
