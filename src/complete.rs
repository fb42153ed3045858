//! Dynamic completion: `bsu run <TAB>` offers the project's events and
//! `--agent <TAB>` its agent ids, read from the project at completion time
//! (clap_complete's dynamic engine, enabled by `COMPLETE=$SHELL`). Anything
//! that goes wrong while reading the project just offers nothing.

use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;

fn project() -> PathBuf {
    std::env::var_os("BSU_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn config() -> Option<crate::config::Config> {
    crate::config::load(&project(), &crate::env::Env::from_process()).ok()
}

/// Event names: every exact strategy (globs are patterns, not names).
pub(crate) fn events() -> Vec<CompletionCandidate> {
    config()
        .map(|c| {
            c.strategies
                .iter()
                .filter(|s| !s.name.contains('*'))
                .map(|s| {
                    let mut cand = CompletionCandidate::new(s.name.clone());
                    if let Some(d) = &s.description {
                        cand = cand.help(Some(d.clone().into()));
                    }
                    cand
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Agent ids.
pub(crate) fn agents() -> Vec<CompletionCandidate> {
    config()
        .map(|c| {
            c.agents
                .values()
                .map(|a| CompletionCandidate::new(a.id.clone()).help(Some(a.name.clone().into())))
                .collect()
        })
        .unwrap_or_default()
}
