//! `bsu status`: breakers, the response cache, recent runs and spend, built
//! once as the `--json` document; the text view is rendered from it.

mod runs;

use std::path::Path;
use std::time::Duration;

use comfy_table::{Cell, Color};
use serde::Serialize;

use super::state::{db_error, open, size};
use crate::breaker::{Breaker, State};
use crate::cli::StatusArgs;
use crate::config;
use crate::env::Env;
use crate::error::{ExitCode, Result};
use crate::output::{Output, Paint};
use crate::store::snapshot::{Ask, Snapshot};
use crate::store::{self, runs::RunRecord, Store};

/// `bsu status --json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct StatusJson {
    /// Where the state is; absent when there is none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<StateJson>,
    breakers: Vec<BreakerJson>,
    cache: CacheJson,
    runs: Vec<RunRecord>,
    /// What runs cost (actual, as providers reported), by provider and model.
    spend: SpendJson,
}

#[derive(Serialize, schemars::JsonSchema)]
struct StateJson {
    backend: store::Kind,
    /// The SQLite file, or the server's `HOST:PORT/DATABASE` (never its
    /// user or password).
    location: String,
}

#[derive(Serialize, schemars::JsonSchema, Default)]
struct SpendJson {
    /// Since 00:00 UTC today.
    today: Vec<SpendRow>,
    last_7_days: Vec<SpendRow>,
    last_30_days: Vec<SpendRow>,
    /// Budget reservations of runs that have not settled: running now, or
    /// dead before settling (`expired`: the lease ran out, no longer counted).
    reservations: Vec<store::spend::Reservation>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct SpendRow {
    provider: String,
    model: String,
    usd: f64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct BreakerJson {
    name: String,
    state: State,
    consecutive_failures: u32,
    /// RFC 3339, or null.
    opened_at: Option<String>,
    /// When the next probe may go, RFC 3339, or null when closed.
    retry_at: Option<String>,
    calls: u64,
    successes: u64,
    failures: u64,
    rejections: u64,
    last_error: Option<String>,
    /// For the text view: the breaker as stored.
    #[serde(skip)]
    raw: Breaker,
}

#[derive(Serialize, schemars::JsonSchema)]
struct CacheJson {
    entries: u64,
    bytes: u64,
    hits: u64,
    misses: u64,
    hit_rate: f64,
    expired: u64,
    ttl_seconds: u64,
    #[serde(skip)]
    ttl: Duration,
}

pub(super) fn status(
    place: &super::state::Place<'_>,
    args: &StatusArgs,
    out: &Output,
) -> Result<ExitCode> {
    let (root, env) = (place.root, place.env);
    let store = open(place, out)?;
    let now = store::now_ms();
    let ((today, _), _) = store::spend::day_and_month(now);
    let ask = Ask {
        now,
        runs: args.runs,
        spend_since: [today, now - 7 * 86_400_000, now - 30 * 86_400_000],
        // The last few transitions of each breaker tell how it got where
        // it is (text only).
        transitions: (!args.json).then_some(3),
    };
    let mut read = match &store {
        Some(s) => s.with(|c| c.snapshot(&ask)).map_err(db_error)?,
        None => Snapshot::default(),
    };
    let transitions = std::mem::take(&mut read.transitions);
    let status = build(store.as_ref(), read, root, env);
    if args.json {
        out.print(&serde_json::to_string_pretty(&status).expect("plain data"));
        return Ok(ExitCode::Success);
    }
    if let Some(s) = status
        .state
        .as_ref()
        .filter(|s| s.backend == store::Kind::Postgres)
    {
        out.print(&out.paint(
            &format!(
                "State: PostgreSQL {}, shared by every runner using it",
                s.location
            ),
            Paint::Dim,
        ));
    }
    spend_table(out, &status.spend);
    reservations_table(out, &status.spend.reservations);
    breakers_table(out, &status.breakers, &transitions, now);
    cache_table(out, &status.cache);
    runs_table(out, &status.runs, args.runs);
    Ok(ExitCode::Success)
}

/// The `--json` document, from what was read of the state (nothing
/// without one).
fn build(store: Option<&Store>, read: Snapshot, root: &Path, env: &Env) -> StatusJson {
    let Snapshot {
        breakers,
        cache: stats,
        runs,
        spend: [today, week, month],
        reservations,
        ..
    } = read;
    let rows = |rows: Vec<(String, String, f64)>| {
        rows.into_iter()
            .map(|(provider, model, usd)| SpendRow {
                provider,
                model,
                usd,
            })
            .collect()
    };
    // The TTL is the project's, when there is a project here; else the default.
    let ttl = config::load(root, env).map_or(Duration::from_secs(86_400), |c| c.cache.ttl);
    let lookups = stats.hits + stats.misses;
    let cache = CacheJson {
        entries: stats.entries,
        bytes: stats.bytes,
        hits: stats.hits,
        misses: stats.misses,
        hit_rate: if lookups == 0 {
            0.0
        } else {
            stats.hits as f64 / lookups as f64
        },
        expired: stats.expired,
        ttl_seconds: ttl.as_secs(),
        ttl,
    };
    StatusJson {
        state: store.map(|s| StateJson {
            backend: s.kind,
            location: s.place.clone(),
        }),
        breakers: breakers
            .into_iter()
            .map(|(name, b)| breaker_json(name, b))
            .collect(),
        cache,
        runs,
        spend: SpendJson {
            today: rows(today),
            last_7_days: rows(week),
            last_30_days: rows(month),
            reservations,
        },
    }
}

type Transitions = Vec<(String, Vec<crate::breaker::Transition>)>;

/// A breaker's calls and how they went, in one cell that wraps at its
/// spaces: four columns of counts left a breaker's name (an endpoint and a
/// fingerprint, 30 to 40 characters) a few letters a line in 80 columns,
/// and broke the headers' words.
fn calls(b: &BreakerJson) -> String {
    format!(
        "{} ({} ok, {} failed, {} rejected)",
        b.calls, b.successes, b.failures, b.rejections
    )
}

fn breakers_table(out: &Output, breakers: &[BreakerJson], transitions: &Transitions, now: i64) {
    let mut t = out.table();
    // Four columns, so that a breaker's name (what `bsu breaker reset`
    // takes) stays whole at 80 columns: the failures in a row go with the
    // state, and each last error, prose of any length, under the table.
    t.set_header(["breaker", "state", "calls", "next probe"]);
    for b in breakers {
        let colour = match b.state {
            State::Closed => Color::Green,
            State::Open => Color::Red,
            State::HalfOpen => Color::Yellow,
        };
        let state = match b.consecutive_failures {
            0 => b.state.to_string(),
            n => format!("{} ({n} failed in a row)", b.state),
        };
        t.add_row(vec![
            Cell::new(&b.name),
            Cell::new(state).fg(colour),
            Cell::new(calls(b)),
            Cell::new(next_probe(&b.raw, now)),
        ]);
    }
    out.print(&out.paint("Circuit breakers", Paint::Dim));
    if breakers.is_empty() {
        out.print("  none yet: a breaker appears with the first call to a provider");
        return;
    }
    out.print_table(t);
    for b in breakers {
        if let Some(e) = &b.last_error {
            out.print(&format!(
                "  {}: last error: {}",
                b.name,
                crate::text::one_line(e, 200)
            ));
        }
    }
    for (name, history) in transitions {
        for tr in history {
            out.print(&format!(
                "  {} {name}: {} → {} ({})",
                crate::engine::rfc3339_ms(tr.at),
                tr.from,
                tr.to,
                crate::text::one_line(&tr.reason, 200)
            ));
        }
    }
}

fn cache_table(out: &Output, cache: &CacheJson) {
    let mut t = out.table();
    t.set_header([
        "entries", "size", "hit rate", "hits", "misses", "expired", "ttl",
    ]);
    t.add_row([
        cache.entries.to_string(),
        size(cache.bytes),
        format!("{:.0}%", cache.hit_rate * 100.0),
        cache.hits.to_string(),
        cache.misses.to_string(),
        cache.expired.to_string(),
        humantime::format_duration(cache.ttl).to_string(),
    ]);
    out.print(&out.paint("Response cache", Paint::Dim));
    out.print_table(t);
}

fn runs_table(out: &Output, runs: &[RunRecord], last: usize) {
    let mut t = out.table();
    let avail = t.width().map_or(80, usize::from);
    let fitted = runs::fit(runs, avail);
    t.set_header(fitted.header);
    for row in fitted.rows {
        t.add_row(row);
    }
    out.print(&out.paint(&format!("Recent runs (last {last})"), Paint::Dim));
    if runs.is_empty() {
        out.print("  none yet");
    } else {
        out.print_table(t);
    }
    if let Some(below) = fitted.below {
        out.print(&below);
    }
}

fn breaker_json(name: String, b: Breaker) -> BreakerJson {
    BreakerJson {
        name,
        state: b.state,
        consecutive_failures: b.consecutive_failures,
        opened_at: b.opened_at.map(crate::engine::rfc3339_ms),
        retry_at: b
            .retry_at
            .filter(|_| b.state != State::Closed)
            .map(crate::engine::rfc3339_ms),
        calls: b.calls,
        successes: b.successes,
        failures: b.failures,
        rejections: b.rejections,
        last_error: b.last_error.clone(),
        raw: b,
    }
}

/// Spend today, in 7 days and in 30 days, by provider and model.
fn spend_table(out: &Output, spend: &SpendJson) {
    let mut keys: Vec<(String, String)> = spend
        .last_30_days
        .iter()
        .map(|r| (r.provider.clone(), r.model.clone()))
        .collect();
    keys.dedup();
    if keys.is_empty() {
        return;
    }
    let find = |rows: &[SpendRow], k: &(String, String)| {
        rows.iter()
            .find(|r| r.provider == k.0 && r.model == k.1)
            .map_or(0.0, |r| r.usd)
    };
    let mut t = out.table();
    t.set_header(["provider", "model", "today", "7 days", "30 days"]);
    for k in &keys {
        t.add_row([
            crate::text::one_line(&k.0, 40),
            crate::text::one_line(&k.1, 40),
            format!("${:.4}", find(&spend.today, k)),
            format!("${:.4}", find(&spend.last_7_days, k)),
            format!("${:.4}", find(&spend.last_30_days, k)),
        ]);
    }
    out.print(&out.paint("Spend (USD, as providers reported tokens)", Paint::Dim));
    out.print_table(t);
}

/// Reservations not settled; an expired lease no longer counts.
fn reservations_table(out: &Output, rows: &[store::spend::Reservation]) {
    if rows.is_empty() {
        return;
    }
    let mut t = out.table();
    t.set_header(["run", "reserved", "lease"]);
    for r in rows {
        let lease = match (r.expired, r.lease_until_ms) {
            (true, Some(_)) => "expired: no longer counted".to_string(),
            (true, None) => "none: no longer counted".to_string(),
            (false, Some(at)) => format!("held until {}", crate::engine::rfc3339_ms(at)),
            (false, None) => "-".to_string(),
        };
        t.add_row([r.run_id.clone(), format!("${:.4}", r.usd), lease]);
    }
    out.print(&out.paint("Budget reservations not settled", Paint::Dim));
    out.print_table(t);
}

/// "in 12s", "now", or "-" when closed.
fn next_probe(b: &Breaker, now: i64) -> String {
    match b.retry_at.filter(|_| b.state != State::Closed) {
        None => "-".into(),
        Some(at) if at <= now => "now".into(),
        Some(at) => format!(
            "in {}",
            humantime::format_duration(Duration::from_secs(((at - now) as u64).div_ceil(1000)))
        ),
    }
}
