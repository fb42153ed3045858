//! The last stages of `bsu run`: deliver the report to its destinations,
//! write it (report files, the step summary, GITHUB_OUTPUT, metrics), and
//! record the run in the history. Each failure is collected, never lost:
//! the run ends with exit 1 naming them.

use std::path::PathBuf;

use super::actions::github_outputs;
use crate::engine::outcome::RunOutcome;
use crate::error::ExitCode;
use crate::output::Output;
use crate::plan::RunPlan;
use crate::publish::Destination;
use crate::report::{self, write, Report};
use crate::store::runs::Ended;

/// Deliver `report` to each destination in turn, each recording its steps in
/// the report; the failures that fail the run.
pub(super) async fn publish(
    report: &mut Report,
    destinations: &[Box<dyn Destination>],
    out: &Output,
    json: bool,
) -> Vec<String> {
    // Workflow commands go to stdout, unless stdout carries the JSON report.
    let print = |line: &str| {
        if json {
            crate::output::eprint_line(line);
        } else {
            out.print(line);
        }
    };
    let mut failed = Vec::new();
    for d in destinations {
        let mut published = report.publish.take().unwrap_or_default();
        let delivery = d.deliver(report, &mut published, &print).await;
        report.publish = Some(published);
        if let Some(l) = delivery.ledger {
            let saved = report.ledger.as_ref().and_then(|x| x.saved);
            report.ledger = Some(report::LedgerJson {
                saved,
                ..report::LedgerJson::of(l)
            });
        }
        for e in &delivery.failures {
            out.error(e);
        }
        failed.extend(delivery.fails_run);
    }
    if let Some(done) = report.publish.as_ref().and_then(|p| p.done()) {
        out.note(&format!("bsu: published: {done}"));
    }
    failed
}

/// Write the report files, the step summary, GITHUB_OUTPUT and metrics; the
/// report files written (or why not), each failure added to `failed`.
pub(super) async fn files(
    plan: &RunPlan,
    report: &Report,
    code: ExitCode,
    failed: &mut Vec<String>,
) -> Result<Vec<PathBuf>, write::WriteError> {
    let written = write::write_reports(
        report,
        &plan.outputs.reports_dir,
        &plan.outputs.formats,
        plan.outputs.keep,
    )
    .await;
    if let Err(e) = &written {
        failed.push(e.to_string());
    }
    if let Some(path) = &plan.outputs.step_summary {
        if let Err(e) = write::append(path, &report::markdown::render(report)).await {
            failed.push(format!(
                "could not append to GITHUB_STEP_SUMMARY ({}): {e}",
                path.display()
            ));
        }
    }
    if let Some(path) = &plan.outputs.github_output {
        if let Err(e) = github_outputs(path, report, written.as_deref().unwrap_or(&[])) {
            failed.push(format!(
                "could not write GITHUB_OUTPUT ({}): {e}",
                path.display()
            ));
        }
    }
    if let Some(path) = &plan.outputs.metrics_file {
        let text = report::render_metrics(report, code.into());
        if let Err(e) = write::atomic_write(path, text.as_bytes()).await {
            failed.push(format!(
                "could not write metrics to {}: {e}",
                path.display()
            ));
        }
    }
    written
}

/// Record the run in the history: what `bsu status` lists and what `since =
/// "last_run"` starts from.
pub(super) fn ended(
    plan: &RunPlan,
    report: &Report,
    outcome: &RunOutcome,
    written: Option<&PathBuf>,
) -> Ended {
    Ended {
        run_id: report.run_id.clone(),
        event: report.event.clone(),
        strategy: plan.strategy.clone(),
        project: plan.project.clone(),
        decision: report.decision.action.to_string(),
        started_at: report.started_at.clone(),
        duration_ms: report.duration_ms,
        report: written.map(|p| super::absolute(p)),
        dry_run: plan.dry_run,
        replayed: report.replayed_from.is_some(),
        head_sha: outcome.inputs.iter().find_map(|g| g.source.head.clone()),
    }
}
