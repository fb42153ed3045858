//! `bsu cache clear|prune` and `bsu breaker reset`, and what they share with
//! `bsu status` (`status.rs`): the state database as people and scripts see it. All of these work with no state yet.

use std::path::Path;

use crate::cli::{BreakerAction, CacheAction, StateAction};
use crate::config::state::StateSettings;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::store::{self, Store, StoreError};

/// Where the state is, as the command sees it: `BSU_STATE_URL`, else the
/// project's `[state]`, else SQLite in the state directory.
pub(super) struct Place<'a> {
    pub root: &'a Path,
    pub state_dir: Option<&'a Path>,
    pub env: &'a Env,
    /// `[state]` as the project and environment say, read once.
    pub settings: std::cell::OnceCell<std::result::Result<StateSettings, String>>,
}

impl Place<'_> {
    /// The project's `[state]` with `BSU_STATE_URL` over it; the variable
    /// alone where there is no project that loads.
    pub(super) fn settings(&self) -> Result<&StateSettings> {
        self.settings
            .get_or_init(|| match crate::config::load(self.root, self.env) {
                Ok(c) => Ok(c.state),
                Err(_) => StateSettings::from_env(self.env),
            })
            .as_ref()
            .map_err(|e| Error::Usage(e.clone()))
    }
}

pub(super) fn open(place: &Place<'_>, out: &Output) -> Result<Option<Store>> {
    let settings = place.settings()?;
    redact_url(settings, out);
    match Store::open_state_existing(settings, place.state_dir, &|w| out.warn(w)) {
        Ok(s) => Ok(s),
        Err(StoreError::NoStateDir) => Err(Error::Usage(StoreError::NoStateDir.to_string())),
        Err(e) => Err(db_error(e)),
    }
}

/// Nothing printed can carry the state URL or its password.
fn redact_url(settings: &StateSettings, out: &Output) {
    if let Some(url) = &settings.url {
        let mut s = crate::secrets::Secrets::default();
        for v in store::postgres::url::secrets(&url.url) {
            s.add_value(&v);
        }
        out.set_secrets(std::sync::Arc::new(s));
    }
}

pub(super) fn db_error(e: StoreError) -> Error {
    match e {
        StoreError::Refused(why) => Error::Usage(why),
        StoreError::Unreachable(why) => Error::Failed(why),
        e => Error::Failed(format!("state database: {e}")),
    }
}

/// `bsu state migrate`: bring the schema to this build's version.
pub(super) fn state(place: &Place<'_>, action: &StateAction, out: &Output) -> Result<ExitCode> {
    let StateAction::Migrate(flag) = action;
    let settings = place.settings()?;
    redact_url(settings, out);
    let s = Store::open_state(settings, place.state_dir, &|w| out.warn(w)).map_err(db_error)?;
    let (was, now) = s.with(|c| c.migrate()).map_err(db_error)?;
    if flag.json {
        let body = serde_json::json!({
            "backend": s.kind,
            "location": s.place,
            "schema_version": now,
            "was": was,
        });
        out.print(&serde_json::to_string_pretty(&body).expect("plain data"));
        return Ok(ExitCode::Success);
    }
    let kind = s.kind.as_str();
    if was == now {
        out.print(&format!(
            "{kind} {}: schema version {now}, up to date",
            s.place
        ));
    } else {
        out.print(&format!(
            "{kind} {}: schema version {now} (was {was})",
            s.place
        ));
    }
    Ok(ExitCode::Success)
}

pub(super) fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub(super) fn cache(place: &Place<'_>, action: &CacheAction, out: &Output) -> Result<ExitCode> {
    let removed = match open(place, out)? {
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

pub(super) fn breaker(place: &Place<'_>, action: &BreakerAction, out: &Output) -> Result<ExitCode> {
    let BreakerAction::Reset { name, json } = action;
    let store = open(place, out)?;
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
