//! `bsu cache clear|prune` and `bsu breaker reset`, and what they share with
//! `bsu status` (`status.rs`): the state database as people and scripts see it. All of these work with no state yet.

use std::path::Path;

use crate::cli::{BreakerAction, CacheAction};
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::store::{self, Store};

pub(super) fn open(state_dir: Option<&Path>, out: &Output) -> Result<Option<Store>> {
    let dir = store::state_dir(state_dir).map_err(|e| Error::Usage(e.to_string()))?;
    Store::open_existing(&dir, &|w| out.warn(w)).map_err(|e| Error::Failed(e.to_string()))
}

pub(super) fn db_error(e: store::StoreError) -> Error {
    Error::Failed(format!("state database: {e}"))
}

pub(super) fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub(super) fn cache(
    state_dir: Option<&Path>,
    action: &CacheAction,
    out: &Output,
) -> Result<ExitCode> {
    let removed = match open(state_dir, out)? {
        None => 0,
        Some(s) => match action {
            CacheAction::Clear(_) => s.with(|c| c.cache_clear()),
            CacheAction::Prune(_) => s.with(|c| c.cache_prune(store::now_ms())),
        }
        .map_err(db_error)?,
    };
    let (what, verb, json) = match action {
        CacheAction::Clear(j) => ("cached", "clear", j.json),
        CacheAction::Prune(j) => ("expired", "prune", j.json),
    };
    if json {
        let body = serde_json::json!({"action": verb, "removed": removed});
        out.print(&serde_json::to_string_pretty(&body).expect("plain data"));
        return Ok(ExitCode::Success);
    }
    out.print(&format!(
        "removed {removed} {what} response{}",
        if removed == 1 { "" } else { "s" }
    ));
    Ok(ExitCode::Success)
}

pub(super) fn breaker(
    state_dir: Option<&Path>,
    action: &BreakerAction,
    out: &Output,
) -> Result<ExitCode> {
    let BreakerAction::Reset { name, json } = action;
    let store = open(state_dir, out)?;
    let reset = match &store {
        None => Vec::new(),
        Some(s) => s
            .with(|c| c.breaker_reset(name.as_deref(), store::now_ms()))
            .map_err(db_error)?,
    };
    if let Some(name) = name {
        if reset.is_empty() {
            let known = match &store {
                Some(s) => s.with(|c| c.breakers()).map_err(db_error)?,
                None => Vec::new(),
            };
            let known: Vec<String> = known.into_iter().map(|(n, _)| n).collect();
            return Err(Error::Usage(format!(
                "no breaker named {name:?}; known: {} (see `bsu status`)",
                if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    if *json {
        let body = serde_json::json!({"reset": reset});
        out.print(&serde_json::to_string_pretty(&body).expect("plain data"));
        return Ok(ExitCode::Success);
    }
    for n in &reset {
        out.print(&format!("closed {n}"));
    }
    if reset.is_empty() {
        out.print("no breakers to reset");
    }
    Ok(ExitCode::Success)
}
