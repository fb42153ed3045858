//! The state database's schema, one migration per version: version N is
//! the first N applied, in order, never edited once released.

/// Each entry moves the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE breakers (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER,
    retry_at INTEGER,
    open_for_ms INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    rejections INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE breaker_transitions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX breaker_transitions_by_name ON breaker_transitions(name, id);
CREATE TABLE cache (
    key TEXT PRIMARY KEY,
    reply TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX cache_by_created ON cache(created_at);
CREATE INDEX cache_by_expiry ON cache(expires_at);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    decision TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    report TEXT,
    project TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_start ON runs(started_ms);
"#,
    r#"
CREATE TABLE spend (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    project TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    usd REAL NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX spend_by_project ON spend(project, at_ms);
"#,
    r#"
ALTER TABLE spend ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE spend ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE spend ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
ALTER TABLE runs ADD COLUMN strategy TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN head_sha TEXT;
ALTER TABLE runs ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_project ON runs(project, strategy, started_ms);
ALTER TABLE spend ADD COLUMN lease_until_ms INTEGER;
"#,
    r#"
CREATE TABLE ledgers (
    project TEXT NOT NULL,
    strategy TEXT NOT NULL,
    json TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (project, strategy)
);
"#,
    r#"
CREATE TABLE windows (
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (endpoint, model)
);
"#,
    r#"
CREATE TABLE token_counts (
    project TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);
CREATE INDEX token_counts_by_age ON token_counts(project, at_ms);
"#,
];
