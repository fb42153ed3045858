//! `bsu run`: plan, execute, write reports, print the summary, exit by the contract.

use std::path::Path;
use std::sync::Arc;

use crate::cli::RunArgs;
use crate::client::Client;
use crate::config::{self, StrategyMatch};
use crate::engine::{self, caller::Caller, outcome::RunOutcome};
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::output::{Output, Paint};
use crate::plan::{self, RunPlan};
use crate::progress::Progress;
use crate::report::{self, write, Report};
use crate::{payload, run_id};

pub(super) fn run(root: &Path, args: &RunArgs, env: &Env, out: &Output) -> Result<ExitCode> {
    let config = config::load(root, env)?;
    let payload = payload::load(args.payload.as_deref(), env)?;
    let event = payload::event_name(args.event.as_deref(), &payload, env)?;
    let plan = Arc::new(plan::plan(&config, args, payload, event, env)?);
    if plan.matched == StrategyMatch::Default {
        out.note(&format!(
            "bsu: no strategy matches {:?}; using the default strategy",
            plan.event
        ));
    }
    let client = Client::new().map_err(Error::Failed)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(run_async(plan, client, out, args.json))
}

async fn run_async(
    plan: Arc<RunPlan>,
    client: Client,
    out: &Output,
    json: bool,
) -> Result<ExitCode> {
    let progress = Arc::new(Progress::new(out));
    let outcome = engine::execute(
        plan.clone(),
        Caller::new(client),
        progress,
        shutdown_signal(),
    )
    .await;
    let code = outcome.exit_code(plan.dry_run, plan.fail_on);
    let report = Report::new(&plan, &outcome, &run_id::new_run_id(), Vec::new());

    let written = write::write_reports(&report, &plan.reports_dir, &plan.formats, plan.keep).await;
    let mut failed: Vec<String> = Vec::new();
    if let Err(e) = &written {
        failed.push(e.clone());
    }
    if let Some(path) = &plan.step_summary {
        if let Err(e) = write::append(path, &report::markdown::render(&report)).await {
            failed.push(format!(
                "could not append to GITHUB_STEP_SUMMARY ({}): {e}",
                path.display()
            ));
        }
    }
    if let Some(path) = &plan.metrics_file {
        let text = report::render_metrics(&report, code.into());
        if let Err(e) = write::atomic_write(path, text.as_bytes()).await {
            failed.push(format!(
                "could not write metrics to {}: {e}",
                path.display()
            ));
        }
    }

    if json {
        out.print(&report.to_json());
    } else if !out.quiet {
        summary(out, &plan, &outcome, written.as_deref().unwrap_or(&[]));
    }
    if !failed.is_empty() {
        for e in &failed {
            out.error(e);
        }
        return Ok(ExitCode::Failure);
    }
    if outcome.interrupted {
        out.error("interrupted; the partial report was written");
    }
    Ok(code)
}

fn summary(out: &Output, plan: &RunPlan, outcome: &RunOutcome, paths: &[std::path::PathBuf]) {
    let mut table = out.table();
    table.set_header(["agent", "status", "verdict", "score", "time", "tokens"]);
    for a in &outcome.agents {
        let status = match a.status {
            engine::outcome::Status::Succeeded if a.cached => "succeeded (cached)".to_string(),
            s => s.to_string(),
        };
        table.add_row([
            a.id.clone(),
            status,
            a.verdict
                .as_ref()
                .map_or("-".into(), |v| v.decision.to_string()),
            a.verdict
                .as_ref()
                .and_then(|v| v.score)
                .map_or("-".into(), |s| format!("{s}")),
            format!("{:.1}s", a.duration.as_secs_f64()),
            if a.usage.total_tokens == 0 {
                "-".into()
            } else {
                a.usage.total_tokens.to_string()
            },
        ]);
    }
    out.print(&table.to_string());
    use crate::engine::decision::Action;
    let paint = match outcome.decision.action {
        Action::Approve => Paint::Green,
        Action::ManualReview => Paint::Yellow,
        Action::RequestChanges | Action::Block => Paint::Red,
    };
    let word = if plan.dry_run {
        "DRY RUN".to_string()
    } else {
        outcome.decision.action.to_string().to_uppercase()
    };
    out.print(&format!(
        "{} {}",
        out.paint(&format!("Decision: {word}"), paint),
        outcome.decision.reason
    ));
    for p in paths {
        out.print(&format!("Report: {}", p.display()));
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
