//! What `bsu run` does for GitHub Actions and cron around a run: the
//! `--if-running` lock, runs that have nothing to do, and `GITHUB_OUTPUT`.

use std::path::Path;

use crate::cli::RunArgs;
use crate::config::{self, IfRunning};
use crate::engine;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::lock;
use crate::output::Output;
use crate::plan::RunPlan;
use crate::report::{self, Report};
use crate::store;

pub(super) enum Locked {
    Held(lock::RunLock),
    Skip(String),
}

/// Whether the run takes a lock (`--if-running` or
/// `defaults.if_running` other than `run`).
pub(super) fn locks(config: &config::Config, args: &RunArgs) -> bool {
    args.if_running.unwrap_or(config.defaults.if_running) != IfRunning::Run
}

/// Take the run's lock as `--if-running` (or `defaults.if_running`) says;
/// on a state server, on the connection `early` began for it, if any.
pub(super) fn lock_run(
    plan: &RunPlan,
    config: &config::Config,
    args: &RunArgs,
    state_dir: Option<&Path>,
    (have_state, early): (bool, Option<store::postgres::LockConnecting>),
    out: &Output,
) -> Result<Option<Locked>> {
    let mode = args.if_running.unwrap_or(config.defaults.if_running);
    if mode == IfRunning::Run {
        return Ok(None);
    }
    let wait = (mode == IfRunning::Wait).then_some(plan.limits.timeout);
    if let Some(url) = &config.state.url {
        if mode == IfRunning::Wait {
            note_waiting(plan, out);
        }
        // On a server the lock is the fleet's: a session advisory lock.
        let taken = if have_state {
            let timeout = config.state.timeout;
            let connecting =
                early.unwrap_or_else(|| store::postgres::lock_connect(url, timeout, &plan.event));
            store::postgres::lock_run(connecting, timeout, &plan.project, &plan.event, wait)
        } else {
            Err(store::StoreError::Unreachable(
                "the state server is unreachable".into(),
            ))
        };
        return match taken {
            Ok(taken) => busy(plan, taken),
            Err(e) => {
                out.warn(&format!(
                    "could not take the run lock on the state server ({e}); running without it"
                ));
                Ok(None)
            }
        };
    }
    let dir = match store::state_dir(state_dir) {
        Ok(d) => d,
        Err(e) => {
            out.warn(&format!("{e}; running without the --if-running lock"));
            return Ok(None);
        }
    };
    // The project's identity, not the spelling of its folder.
    let project = std::path::PathBuf::from(&plan.project);
    if mode == IfRunning::Wait {
        note_waiting(plan, out);
    }
    match lock::acquire(&dir, &project, &plan.event, wait) {
        Ok(taken) => busy(plan, taken),
        Err(e) => {
            out.warn(&format!(
                "could not take the run lock ({e}); running without it"
            ));
            Ok(None)
        }
    }
}

fn note_waiting(plan: &RunPlan, out: &Output) {
    out.note(&format!(
        "bsu: waiting for any other run of {:?} to finish",
        plan.event
    ));
}

/// The lock taken, or why not: skip, or try later.
fn busy(
    plan: &RunPlan,
    taken: std::result::Result<lock::RunLock, lock::Busy>,
) -> Result<Option<Locked>> {
    match taken {
        Ok(l) => Ok(Some(Locked::Held(l))),
        Err(lock::Busy::Held(who)) => Ok(Some(Locked::Skip(format!(
            "another run of this event is in progress ({who}); --if-running skip"
        )))),
        Err(lock::Busy::TimedOut(who)) => Err(Error::TryLater(format!(
            "another run of {:?} ({who}) did not finish within {}; try again later",
            plan.event,
            humantime::format_duration(plan.limits.timeout)
        ))),
    }
}

/// A run that has nothing to do: it sends nothing, exits 0, and says why on
/// stderr, in the step summary and in `GITHUB_OUTPUT`.
pub(super) fn skipped(out: &Output, env: &Env, event: Option<&str>, why: &str) -> Result<ExitCode> {
    let what = event.map_or("bsu".to_string(), |e| format!("bsu {e}"));
    out.note(&format!("{what}: skipped: {why}"));
    if let Some(path) = env.get("GITHUB_STEP_SUMMARY") {
        let _ = append_line(
            Path::new(path),
            &format!("**{what}: skipped** — {}\n", report::markdown::inline(why)),
        );
    }
    if let Some(path) = env.get("GITHUB_OUTPUT") {
        let _ = append_line(
            Path::new(path),
            &format!(
                "decision=skipped\nskipped-reason={}",
                crate::text::one_line(why, 500)
            ),
        );
    }
    Ok(ExitCode::Success)
}

fn append_line(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{text}")
}

/// `GITHUB_OUTPUT`: what later steps of the job read.
pub(super) fn github_outputs(
    path: &Path,
    report: &Report,
    written: &[std::path::PathBuf],
) -> std::io::Result<()> {
    let findings: usize = report
        .agents
        .iter()
        .filter_map(|a| a.verdict.as_ref())
        .map(|v| v.findings.len())
        .sum();
    let failed = report
        .agents
        .iter()
        .filter(|a| {
            !matches!(
                a.status,
                engine::outcome::Status::Succeeded | engine::outcome::Status::DryRun
            )
        })
        .count();
    let report_path = written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .or(written.first())
        .map(|p| super::absolute(p))
        .unwrap_or_default();
    append_line(
        path,
        &format!(
            "decision={}\nreport={}\nrun-id={}\nagents={}\nfailed-agents={failed}\nfindings={findings}",
            report.decision.action,
            crate::text::one_line(&report_path, 4096),
            report.run_id,
            report.agents.len()
        ),
    )
}
