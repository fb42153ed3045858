//! `bsu eval DIR [EVENT]`: run the strategy on every case through the run
//! path, match each agent's and the panel's findings to the golden ones,
//! and report precision, recall, decisions and cost (src/evaluate); gate CI
//! on them with `--fail-under` and `--max-regression` (exit 3).

mod cases;
mod import;
mod judge;

use std::path::Path;
use std::sync::Arc;

use crate::cli::{EvalArgs, EvalCommand};
use crate::client::recording;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::evaluate::{self, case, render, EvalJson};
use crate::output::Output;

/// Cases run at once unless `--concurrency` says.
const CONCURRENCY: usize = 4;

pub(super) fn eval(
    root: &Path,
    state_dir: Option<&Path>,
    args: &EvalArgs,
    env: &Env,
    out: &Output,
) -> Result<ExitCode> {
    if let Some(EvalCommand::Import(a)) = &args.command {
        return import::import(a, out);
    }
    let dir = match &args.cases {
        Some(dir) => dir.clone(),
        None => case::project_cases(root, "evals")
            .map_err(|p| Error::Config(vec![p]))?
            .unwrap_or_else(|| root.join("evals")),
    };
    let cases = case::load(&dir, &dir.display().to_string()).map_err(Error::Config)?;
    let floors = args
        .fail_under
        .as_deref()
        .map(evaluate::parse_floors)
        .transpose()
        .map_err(Error::Usage)?
        .unwrap_or_default();
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    if let Some(d) = args.replay.as_ref().filter(|d| !d.is_dir()) {
        return Err(Error::Usage(format!(
            "--replay {}: no such folder of recordings (make one with --record)",
            d.display()
        )));
    }
    let shared = Arc::new(cases::Shared::new(root, state_dir, args, env, out)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    let concurrency = args.concurrency.map_or(CONCURRENCY, |n| n as usize);
    let runs = runtime.block_on(cases::run_all(shared.clone(), cases, concurrency));
    if args.replay.is_some() {
        not_replayable(&runs)?;
    }
    let mut result = evaluate::evaluate(
        &runs,
        shared.rules,
        args.judge.as_deref(),
        args.replay.is_some(),
    );
    if let Some((file, base)) = &baseline {
        result.baseline = Some(evaluate::compare(&result, base, file));
    }
    write_files(args, &result)?;
    show(out, args, &result);
    let failed = evaluate::gates(&result, &floors, args.max_regression);
    for why in &failed {
        out.error(&format!("eval gate: {why}"));
    }
    // A case that could not be run measured nothing: the eval is not good.
    let broken: Vec<&evaluate::CaseRun> = runs.iter().filter(|r| r.error.is_some()).collect();
    for run in &broken {
        out.error(&format!(
            "case {}: {}",
            run.case.name,
            run.error.as_deref().unwrap_or_default()
        ));
    }
    Ok(if !broken.is_empty() {
        ExitCode::Failure
    } else if failed.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::DecisionReached
    })
}

/// A replay that lacked a recording measured nothing: exit 2, naming each.
fn not_replayable(runs: &[evaluate::CaseRun]) -> Result<()> {
    let mut missing = Vec::new();
    for run in runs {
        for a in run.report.iter().flat_map(|r| &r.agents) {
            if let Some(reason) = a
                .reason
                .as_deref()
                .filter(|r| r.starts_with(recording::FAILED))
            {
                missing.push(format!("case {} agent {}: {reason}", run.case.name, a.id));
            }
        }
        if let Some(e) = run
            .error
            .as_deref()
            .filter(|e| e.contains(recording::FAILED))
        {
            missing.push(format!("case {}: {e}", run.case.name));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{}; record them with --record DIR against a real provider",
        missing.join("; ")
    )))
}

fn read_baseline(path: &Path) -> Result<(String, EvalJson)> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("--baseline {shown}: cannot read it ({e})")))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("--baseline {shown}: not JSON ({e})")))?;
    if v["bsu_eval"].as_u64() != Some(u64::from(evaluate::VERSION)) {
        return Err(Error::Usage(format!(
            "--baseline {shown}: not the JSON of `bsu eval` version {} (write one with --output)",
            evaluate::VERSION
        )));
    }
    let e =
        serde_json::from_value(v).map_err(|e| Error::Usage(format!("--baseline {shown}: {e}")))?;
    Ok((shown, e))
}

fn write_files(args: &EvalArgs, result: &EvalJson) -> Result<()> {
    let json = to_json(result);
    for (path, text) in [
        (&args.output, &json),
        (&args.markdown, &render::markdown(result)),
    ] {
        if let Some(p) = path {
            std::fs::write(p, text)
                .map_err(|e| Error::Failed(format!("could not write {}: {e}", p.display())))?;
        }
    }
    Ok(())
}

fn to_json(result: &EvalJson) -> String {
    let mut s = serde_json::to_string_pretty(result).expect("plain data serialises");
    s.push('\n');
    s
}

fn show(out: &Output, args: &EvalArgs, result: &EvalJson) {
    if args.json {
        out.print(to_json(result).trim_end());
        return;
    }
    let mut table = out.table();
    table.set_header(render::HEADER);
    for row in render::rows(result) {
        table.add_row(row);
    }
    out.print_table(table);
    for line in render::lines(result) {
        out.print(&line);
    }
}
