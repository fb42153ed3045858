//! `bsu run` as the list of its stages (docs/ARCHITECTURE.md): resolve the
//! plan (`setup`) → gather the inputs (`gather`) → prepare, price and call
//! the agents (`calls`, through `breakers`) → build the report → deliver it
//! and write it (`deliver`) while the run is recorded → the exit code.

mod actions;
mod breakers;
mod calls;
mod deliver;
mod dismiss;
mod gather;
mod ledger;
mod setup;
mod signal;
mod spent;
mod state;
mod summary;
mod verify;
mod windows;

pub(crate) use state::{early, Early};

use actions::skipped;
use calls::{call_agents, Calls};
use gather::Gather;
use setup::Ready;
use spent::{settle_cost, Spent};

use std::path::Path;

use crate::cli::RunArgs;
use crate::client::recording;
use crate::engine;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::plan::RunPlan;
use crate::report::Report;
use crate::run_id;
use crate::store::runs::EndOfRun;

pub(super) fn run(
    root: &Path,
    state_dir: Option<&Path>,
    args: &RunArgs,
    env: &Env,
    out: &Output,
    early: Option<Early>,
) -> Result<ExitCode> {
    let ready = match setup::resolve(root, state_dir, args, env, out, early)? {
        Ok(ready) => ready,
        Err(code) => return Ok(code),
    };
    let runtime = runtime_for(&ready.plan)?;
    // The state's last holder, so that it is dropped off the runtime: a
    // server connection then ends cleanly where it is (`store::postgres`).
    let mut store = None;
    let code = runtime.block_on(stages(ready, args, env, out, &mut store));
    // Every task has been awaited: the idle blocking threads need not be
    // woken and joined before the process exits.
    runtime.shutdown_background();
    drop(store);
    code
}

/// Agents at most that a run serves from one thread.
const ONE_THREAD_AGENTS: usize = 2;

/// A runtime sized to the run: one thread for a run of one or two agents
/// (their calls are waits, not work), worker threads for a panel.
fn runtime_for(plan: &RunPlan) -> Result<tokio::runtime::Runtime> {
    let running = plan.agents.iter().filter(|a| a.skip.is_none()).count();
    let mut builder = if running <= ONE_THREAD_AGENTS {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))
}

/// The stages of a run, in order: gather → prepare, price and call (or stop)
/// → build the report → deliver and write it, recording the run meanwhile
/// → exit code.
async fn stages(
    ready: Ready,
    args: &RunArgs,
    env: &Env,
    out: &Output,
    keep: &mut Option<crate::store::Store>,
) -> Result<ExitCode> {
    let Reviewed {
        plan,
        destinations,
        store,
        warn,
        _lock,
        outcome,
        mut report,
        code,
        mut end,
        ..
    } = match review(ready, args, env, out).await? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    keep.clone_from(&store);
    // One write for the run's end (breakers' successes, spend, history),
    // made while the report is delivered: the history names the report
    // file the run is writing, and is mended if that file fails.
    report.redact(&plan.secrets);
    let own =
        crate::report::write::own_paths(&report, &plan.outputs.reports_dir, &plan.outputs.formats);
    end.run = Some(deliver::ended(&plan, &report, &outcome, own.first()));
    let ending = async {
        match &store {
            Some(db) => db.end_run(end).await,
            None => Ok(()),
        }
    };
    let ((written, failed), ended) = tokio::join!(
        deliver_all(&plan, &mut report, &destinations, code, out, args.json),
        ending
    );
    let first = written.as_ref().ok().and_then(|p| p.first());
    if let Some(db) = &store {
        let mended = match ended {
            Ok(()) if first != own.first() => {
                let run = Some(deliver::ended(&plan, &report, &outcome, first));
                db.end_run(EndOfRun {
                    run,
                    ..EndOfRun::default()
                })
                .await
            }
            other => other,
        };
        if let Err(e) = mended {
            warn(&format!(
                "could not record the run's end (its cost, breakers and history) in the state ({e})"
            ));
        }
    }
    let end = End {
        outcome: &outcome,
        report: &report,
        written: written.as_deref().unwrap_or(&[]),
        failed,
        code,
    };
    finish(out, &plan, args, end)
}

/// A run reviewed: its report built, not yet delivered or written.
pub(super) struct Reviewed {
    pub plan: std::sync::Arc<RunPlan>,
    pub destinations: Vec<Box<dyn crate::publish::Destination>>,
    pub store: Option<crate::store::Store>,
    pub warn: engine::gate::Warn,
    /// Held until the run is delivered and recorded (`--if-running`).
    pub _lock: Option<crate::lock::RunLock>,
    pub outcome: engine::outcome::RunOutcome,
    pub report: Report,
    pub code: ExitCode,
    /// The run's caller (breakers, cache, recordings), for `bsu eval`'s judge.
    pub caller: std::sync::Arc<engine::caller::Caller>,
    /// What the run's end writes to the state, in one transaction.
    pub end: EndOfRun,
}

/// A run up to its report: gather, call, reconcile, verify, price; or the
/// exit code of a run a filter skipped. `bsu eval` scores what this gives.
async fn review(
    ready: Ready,
    args: &RunArgs,
    env: &Env,
    out: &Output,
) -> Result<std::result::Result<Reviewed, ExitCode>> {
    let Ready {
        plan,
        overrides,
        destinations,
        state,
        warn,
        _lock,
    } = ready;
    // The run's deadline and its signal handlers start before gathering:
    // a hanging command or fetch cannot outlive either.
    let start = tokio::time::Instant::now();
    let mut shutdown = signal::Shutdown::install();
    let deadline = engine::deadline::after(start, plan.limits.timeout);
    let Found {
        store,
        no_state,
        prev,
        gathered,
    } = find(
        &plan,
        args,
        overrides,
        &destinations,
        state,
        out,
        (deadline, &mut shutdown),
    )
    .await?;
    if let Some(why) = gather::filtered(&plan, &gathered) {
        setup::tell_skipped(&plan, &destinations, out, &why).await;
        return skipped(out, env, Some(&plan.event), &why).map(Err);
    }
    // A model whose window nobody set: its server may say (vLLM, llama.cpp).
    let plan = windows::learn(plan, args.replay.is_some(), store.as_ref(), out).await;
    let watch = breakers::Watch::start(&plan, store.as_ref(), args.replay.is_some()).await;
    let caller = watch.caller(&plan, args, warn.clone())?;
    let run_id = run_id::new_run_id();
    let calls = Calls {
        start,
        shutdown: &mut shutdown,
        run_id: &run_id,
        store: store.as_ref(),
        prior: prev.as_ref().map(crate::ledger::prompt).unwrap_or_default(),
    };
    let (outcome, projected, reserved) = match gathered {
        Ok(gathered) => call_agents(&plan, gathered, caller.clone(), out, calls).await?,
        // Stopped while gathering: no agent was called; the report says why.
        Err(stop) => (engine::stopped(&plan, stop, start), Vec::new(), false),
    };
    let called = Called {
        run_id: &run_id,
        prev: prev.as_ref(),
        store: store.as_ref(),
        caller: &caller,
        spent: Spent {
            projected,
            reserved,
            replayed: args.replay.is_some(),
        },
    };
    let (outcome, mut report, code, end) = conclude(&plan, args, watch, outcome, called, out).await;
    report.state_unavailable = unavailable(no_state, store.as_ref());
    Ok(Ok(Reviewed {
        end,
        caller,
        _lock,
        plan,
        destinations,
        store,
        warn,
        outcome,
        report,
        code,
    }))
}

/// What a run found before its calls: its state (or why it has none), the
/// pull request's ledger, and its inputs (or why it stopped gathering).
struct Found {
    store: Option<crate::store::Store>,
    no_state: Option<String>,
    prev: Option<crate::ledger::Ledger>,
    gathered: std::result::Result<Vec<crate::inputs::Gathered>, engine::Stop>,
}

/// Settle the state while the ledger is fetched and the inputs gathered:
/// each waits for a state server's connection only where it needs it. A
/// server that refuses bsu stops the run (an error) before anything is sent.
async fn find(
    plan: &std::sync::Arc<RunPlan>,
    args: &RunArgs,
    overrides: std::collections::BTreeMap<String, String>,
    destinations: &[Box<dyn crate::publish::Destination>],
    state: state::Pending,
    out: &Output,
    (deadline, shutdown): (tokio::time::Instant, &mut signal::Shutdown),
) -> Result<Found> {
    let (mut later, settling) = state.settle();
    let gathering = async {
        // The pull request's ledger: what earlier pushes raised and left open.
        let prev = ledger::load(plan, destinations, &mut later, out).await;
        let request = Gather {
            base: args.base.clone(),
            head: args.head.clone(),
            overrides,
            reviewed: prev.as_ref().and_then(|l| l.head.clone()),
        };
        let gathered = gather::under_deadline(plan, request, later, deadline, shutdown).await;
        (prev, gathered)
    };
    let (settled, (prev, gathered)) = tokio::join!(settling, gathering);
    Ok(match settled? {
        Some((store, no_state)) => Found {
            store,
            no_state,
            prev,
            gathered: gathered?,
        },
        // Stopped while connecting: as if while gathering.
        None => Found {
            store: None,
            no_state: Some(STOPPED_CONNECTING.into()),
            prev,
            gathered: Err(engine::Stop::Interrupted),
        },
    })
}

/// Why a run stopped by a signal before its state server answered has no
/// state.
const STOPPED_CONNECTING: &str =
    "the run was stopped while the state server was being connected to";

/// Why the run went without its state: it could not be had at the start,
/// or it stopped answering (or stayed locked) during the run.
fn unavailable(at_start: Option<String>, store: Option<&crate::store::Store>) -> Option<String> {
    use crate::store::GaveUp;
    at_start.or_else(|| {
        let store = store?;
        match store.gave_up() {
            GaveUp::No => None,
            GaveUp::Locked => Some(format!(
                "the state database {} stayed locked by another process during the run, \
                 which wrote nothing more to it until its end",
                store.place
            )),
            GaveUp::Gone => Some(format!(
                "the state store {} stopped answering during the run",
                store.place
            )),
        }
    })
}

/// What the calls left for the last stage.
struct Called<'a> {
    run_id: &'a str,
    prev: Option<&'a crate::ledger::Ledger>,
    store: Option<&'a crate::store::Store>,
    caller: &'a engine::caller::Caller,
    spent: Spent,
}

/// After the calls: reconcile the ledger, run the verifier, decide the exit
/// code, and build the report with its breakers and cost.
async fn conclude(
    plan: &RunPlan,
    args: &RunArgs,
    watch: breakers::Watch,
    mut outcome: engine::outcome::RunOutcome,
    called: Called<'_>,
    out: &Output,
) -> (engine::outcome::RunOutcome, Report, ExitCode, EndOfRun) {
    let Called {
        run_id,
        prev,
        store,
        caller,
        spent,
    } = called;
    let after = ledger::After {
        run_id,
        store,
        replayed: args.replay.is_some(),
    };
    let next = ledger::reconcile(plan, prev, &mut outcome, &after, out).await;
    let verified = verify::verify(plan, caller, &mut outcome, out).await;
    let code = outcome.exit_code(plan.dry_run, plan.outputs.fail_on);
    let breakers = watch.finish(caller).await;
    let mut report = Report::new(plan, &outcome, run_id, breakers, code.into());
    report.replayed_from = args.replay.as_ref().map(|d| d.display().to_string());
    report.verifier = verified;
    report.ledger = next.map(|l| crate::report::LedgerJson {
        saved: ledger::saved(plan, &outcome),
        ..crate::report::LedgerJson::of(l)
    });
    let (cost, spend) = settle_cost(plan, run_id, &outcome, spent);
    report.cost = Some(cost);
    let end = EndOfRun {
        successes: caller.held_back(),
        cache: caller.lookups(),
        spend,
        run: None,
    };
    (outcome, report, code, end)
}

/// Publish, then write the report files: what was written, and what failed.
/// Model and server text may quote a secret: none reaches a publication or
/// a file. `report` comes redacted (the run's history record is made from
/// it first); publishing adds servers' words, so it is redacted again.
async fn deliver_all(
    plan: &RunPlan,
    report: &mut Report,
    destinations: &[Box<dyn crate::publish::Destination>],
    code: ExitCode,
    out: &Output,
    json: bool,
) -> (
    std::result::Result<Vec<std::path::PathBuf>, crate::report::write::WriteError>,
    Vec<String>,
) {
    let mut failed = deliver::publish(report, destinations, out, json).await;
    report.redact(&plan.secrets);
    let written = deliver::files(plan, report, code, &mut failed).await;
    (written, failed)
}

/// What the run came to, for its last words and exit code.
struct End<'a> {
    outcome: &'a engine::outcome::RunOutcome,
    report: &'a Report,
    written: &'a [std::path::PathBuf],
    failed: Vec<String>,
    code: ExitCode,
}

/// Print the summary (or the JSON report) and decide the exit code: 1 when
/// something could not be delivered or written, 2 when a replay lacked a
/// recording, else the outcome's.
fn finish(out: &Output, plan: &RunPlan, args: &RunArgs, end: End<'_>) -> Result<ExitCode> {
    let End {
        outcome,
        report,
        written,
        failed,
        code,
    } = end;
    summary::failures(out, outcome, plan);
    if let Some(dir) = &args.replay {
        out.note(&format!(
            "bsu: replayed from the recordings in {}: no model was called",
            dir.display()
        ));
    }
    if args.json {
        out.print(&report.to_json());
    } else if !out.quiet {
        summary::summary(out, outcome, written);
    }
    if !failed.is_empty() {
        for e in &failed {
            out.error(e);
        }
        return Ok(ExitCode::Failure);
    }
    if args.replay.is_some() {
        let missing: Vec<String> = outcome
            .agents
            .iter()
            .filter_map(|a| {
                let reason = a.reason()?;
                reason
                    .starts_with(recording::FAILED)
                    .then(|| format!("agent {}: {reason}", a.id))
            })
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "{}; record them with --record DIR against a real provider",
                missing.join("; ")
            )));
        }
    }
    if outcome.interrupted {
        out.error("interrupted; the partial report was written");
    }
    Ok(code)
}

pub(super) fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// One `bsu eval` case through the run path: resolved (on a blocking
/// thread: resolving may wait on a lock or block on a runtime of its own),
/// then reviewed. `Ok(Err(code))`: a filter skipped it.
pub(super) async fn review_case(
    root: std::path::PathBuf,
    state_dir: Option<std::path::PathBuf>,
    args: RunArgs,
    env: Env,
    out: Output,
) -> Result<std::result::Result<Reviewed, ExitCode>> {
    let (ready, args, env, out) = tokio::task::spawn_blocking(move || {
        let ready = setup::resolve(&root, state_dir.as_deref(), &args, &env, &out, None);
        (ready, args, env, out)
    })
    .await
    .map_err(|e| Error::Failed(format!("a case could not be set up: {e}")))?;
    match ready? {
        Ok(ready) => review(ready, &args, &env, &out).await,
        Err(code) => Ok(Err(code)),
    }
}
