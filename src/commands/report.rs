//! `bsu report` renders a run's JSON report again, byte for byte as the run
//! wrote it; `bsu diff` shows what changed between two runs.

use std::path::Path;

use serde::Serialize;

use super::state::{db_error, open};
use crate::cli::{DiffArgs, RenderFormat, ReportArgs};
use crate::config::ReportFormat;
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::report::{self, Report};

/// Reports this version reads.
const SCHEMA_VERSION: u32 = 1;

fn load(path: &Path) -> Result<Report> {
    let text = std::fs::File::open(path)
        .and_then(|f| crate::fsio::read_capped(f, &path.display().to_string(), "a report"))
        .map_err(|e| Error::Usage(format!("could not read the report {}: {e}", path.display())))?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("schema_version").and_then(serde_json::Value::as_u64));
    match version {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Error::Usage(format!(
                "{} has schema_version {v}; this bsu reads version {SCHEMA_VERSION}",
                path.display()
            )))
        }
        None => {
            return Err(Error::Usage(format!(
                "{} is not a bsu JSON report (no schema_version)",
                path.display()
            )))
        }
    }
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}:{}:{}: not a bsu report of schema_version {SCHEMA_VERSION} ({e})",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

pub(super) fn render(args: &ReportArgs, out: &Output) -> Result<ExitCode> {
    let r = load(&args.file)?;
    let text = match args.format {
        RenderFormat::Metrics => report::render_metrics(&r, r.exit_code),
        f => {
            let format = match f {
                RenderFormat::Json => ReportFormat::Json,
                RenderFormat::Md => ReportFormat::Md,
                RenderFormat::Junit => ReportFormat::Junit,
                RenderFormat::Patch => ReportFormat::Patch,
                RenderFormat::Codequality => ReportFormat::Codequality,
                _ => ReportFormat::Sarif,
            };
            String::from_utf8_lossy(&report::render(&r, format)).into_owned()
        }
    };
    out.print_raw(&text);
    Ok(ExitCode::Success)
}

#[derive(Debug, Serialize)]
struct Change<T> {
    before: T,
    after: T,
}

#[derive(Debug, Serialize)]
struct AgentChange {
    id: String,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone)]
struct FindingKey {
    agent: String,
    severity: String,
    file: Option<String>,
    line: Option<u64>,
    title: String,
}

#[derive(Debug, Serialize)]
struct Diff {
    before_run: String,
    after_run: String,
    decision: Change<String>,
    decision_changed: bool,
    agents: Vec<AgentChange>,
    added: Vec<FindingKey>,
    resolved: Vec<FindingKey>,
}

fn findings(r: &Report) -> Vec<FindingKey> {
    r.agents
        .iter()
        .filter_map(|a| Some((a, a.verdict.as_ref()?)))
        .flat_map(|(a, v)| {
            v.findings.iter().map(move |f| FindingKey {
                agent: a.id.clone(),
                severity: f.severity.to_string(),
                file: f.file.clone(),
                line: f.line,
                title: f.title.clone(),
            })
        })
        .collect()
}

fn agent_word(a: &report::AgentJson) -> String {
    a.verdict
        .as_ref()
        .map_or_else(|| a.status.to_string(), |v| v.decision.to_string())
}

fn compare(before: &Report, after: &Report) -> Diff {
    let mut agents = Vec::new();
    for a in &after.agents {
        let old = before.agents.iter().find(|b| b.id == a.id).map(agent_word);
        let new = Some(agent_word(a));
        if old != new {
            agents.push(AgentChange {
                id: a.id.clone(),
                before: old,
                after: new,
            });
        }
    }
    for b in &before.agents {
        if !after.agents.iter().any(|a| a.id == b.id) {
            agents.push(AgentChange {
                id: b.id.clone(),
                before: Some(agent_word(b)),
                after: None,
            });
        }
    }
    let (old, new) = (findings(before), findings(after));
    Diff {
        before_run: before.run_id.clone(),
        after_run: after.run_id.clone(),
        decision_changed: before.decision.action != after.decision.action,
        decision: Change {
            before: before.decision.action.to_string(),
            after: after.decision.action.to_string(),
        },
        agents,
        added: new.iter().filter(|f| !old.contains(f)).cloned().collect(),
        resolved: old.iter().filter(|f| !new.contains(f)).cloned().collect(),
    }
}

/// The two newest runs of `event` of this project with reports on disk,
/// from the history (another project sharing the state directory is not this one).
fn last_two(
    place: &super::state::Place<'_>,
    event: &str,
    out: &Output,
) -> Result<(String, String)> {
    let shared = place.settings()?.url.is_some();
    let project = crate::plan::identity_for_state(place.root, place.env, shared);
    let Some(db) = open(place, out)? else {
        return Err(Error::Usage(
            "no run history yet (the state directory is empty)".into(),
        ));
    };
    let runs = db.with(|c| c.runs_recent(1000)).map_err(db_error)?;
    let paths: Vec<String> = runs
        .into_iter()
        .filter(|r| r.event == event && !r.dry_run && r.project == project)
        .filter_map(|r| r.report)
        .filter(|p| Path::new(p).is_file())
        .take(2)
        .collect();
    match paths.as_slice() {
        [newer, older] => Ok((older.clone(), newer.clone())),
        _ => Err(Error::Usage(format!(
            "the history has {} run{} of {event:?} with a report on disk; `bsu diff --last` needs two",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" }
        ))),
    }
}

pub(super) fn diff(
    args: &DiffArgs,
    place: &super::state::Place<'_>,
    out: &Output,
) -> Result<ExitCode> {
    let (a, b) = match (&args.last, &args.before, &args.after) {
        (Some(event), _, _) => {
            let (a, b) = last_two(place, event, out)?;
            (a.into(), b.into())
        }
        (None, Some(a), Some(b)) => (a.clone(), b.clone()),
        _ => return Err(Error::Usage("give two reports, or --last EVENT".into())),
    };
    let d = compare(&load(&a)?, &load(&b)?);
    if args.json {
        out.print(&serde_json::to_string_pretty(&d).expect("plain data"));
    } else {
        human(out, &d);
    }
    Ok(if args.exit_code && d.decision_changed {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

fn human(out: &Output, d: &Diff) {
    let line = |f: &FindingKey| {
        let place = match (&f.file, f.line) {
            (Some(file), Some(l)) => format!("{file}:{l}"),
            (Some(file), None) => file.clone(),
            _ => "-".into(),
        };
        crate::text::one_line(
            &format!("{:<8} {}  {place}  {}", f.severity, f.agent, f.title),
            200,
        )
    };
    out.print(&format!("runs {} → {}", d.before_run, d.after_run));
    if d.decision_changed {
        out.print(&format!(
            "decision: {} → {}",
            d.decision.before, d.decision.after
        ));
    } else {
        out.print(&format!("decision: {} (unchanged)", d.decision.after));
    }
    if !d.agents.is_empty() {
        let mut t = out.table();
        t.set_header(["agent", "before", "after"]);
        for a in &d.agents {
            t.add_row([
                a.id.clone(),
                a.before.clone().unwrap_or_else(|| "-".into()),
                a.after.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.print_table(t);
    }
    for (title, list) in [("added", &d.added), ("resolved", &d.resolved)] {
        if !list.is_empty() {
            out.print(&format!("findings {title} ({}):", list.len()));
            for f in list.iter() {
                out.print(&format!("  {}", line(f)));
            }
        }
    }
}
