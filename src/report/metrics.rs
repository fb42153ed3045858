//! Prometheus text-format metrics of one run, for node_exporter's textfile
//! collector (`--metrics-file`).

use std::fmt::Write as _;

use super::Report;
use crate::engine::outcome::Status;
use crate::vocab::Action;

/// One gauge: its name, help text and rows (extra labels, value).
struct Gauge {
    name: &'static str,
    help: &'static str,
    rows: Vec<(String, String)>,
}

fn gauge(name: &'static str, help: &'static str, rows: Vec<(String, String)>) -> Gauge {
    Gauge { name, help, rows }
}

pub(crate) fn render(r: &Report, exit_code: u8) -> String {
    let ev = label(&r.event);
    let mut s = String::new();
    for m in run_gauges(r, exit_code).into_iter().chain(work_gauges(r)) {
        let name = m.name;
        let _ = writeln!(s, "# HELP {name} {}\n# TYPE {name} gauge", m.help);
        for (labels, value) in m.rows {
            let _ = writeln!(s, "{name}{{event=\"{ev}\"{labels}}} {value}");
        }
    }
    s
}

/// When the run finished, how long it took, whether it was replayed, how it ended.
fn run_gauges(r: &Report, exit_code: u8) -> Vec<Gauge> {
    let mut out = Vec::new();
    let finished = humantime::parse_rfc3339(&r.finished_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    out.push(gauge(
        "bsu_run_last_timestamp_seconds",
        "When the last run finished (Unix time).",
        vec![(String::new(), format!("{finished:.3}"))],
    ));
    out.push(gauge(
        "bsu_run_duration_seconds",
        "Wall time of the last run.",
        vec![(
            String::new(),
            format!("{:.3}", r.duration_ms as f64 / 1000.0),
        )],
    ));
    out.push(gauge(
        "bsu_run_replayed",
        "1 when the last run was answered from recordings (--replay), not by models.",
        vec![(
            String::new(),
            u8::from(r.replayed_from.is_some()).to_string(),
        )],
    ));
    out.push(gauge(
        "bsu_run_exit_code",
        "Exit code of the last run.",
        vec![(String::new(), exit_code.to_string())],
    ));
    out.push(gauge(
        "bsu_run_decision",
        "Decision of the last run (1 for the decision taken).",
        [
            Action::DryRun,
            Action::Approve,
            Action::ManualReview,
            Action::RequestChanges,
            Action::Block,
        ]
        .iter()
        .map(|a| {
            (
                format!(",decision=\"{a}\""),
                u8::from(*a == r.decision.action).to_string(),
            )
        })
        .collect(),
    ));
    out
}

/// What the run's agents did and used.
fn work_gauges(r: &Report) -> Vec<Gauge> {
    let mut out = Vec::new();
    let statuses = [
        Status::Succeeded,
        Status::Failed,
        Status::TimedOut,
        Status::Rejected,
        Status::Skipped,
        Status::DryRun,
    ];
    out.push(gauge(
        "bsu_run_agents",
        "Agents of the last run by status.",
        statuses
            .iter()
            .map(|st| {
                (
                    format!(",status=\"{st}\""),
                    r.agents
                        .iter()
                        .filter(|a| a.status == *st)
                        .count()
                        .to_string(),
                )
            })
            .collect(),
    ));
    let t = &r.totals;
    out.push(gauge(
        "bsu_run_calls",
        "Model requests sent by the last run.",
        vec![(String::new(), t.calls.to_string())],
    ));
    out.push(gauge(
        "bsu_run_retries",
        "Retries in the last run.",
        vec![(String::new(), t.retries.to_string())],
    ));
    out.push(gauge(
        "bsu_run_cache_hits",
        "Replies served from the response cache in the last run.",
        vec![(String::new(), t.cache_hits.to_string())],
    ));
    out.push(gauge(
        "bsu_run_tokens",
        "Tokens used by the last run.",
        vec![
            (",kind=\"prompt\"".into(), t.prompt_tokens.to_string()),
            (
                ",kind=\"completion\"".into(),
                t.completion_tokens.to_string(),
            ),
        ],
    ));
    if let Some(cost) = &r.cost {
        out.push(gauge(
            "bsu_run_cost_usd",
            "Cost of the last run in USD: the projection before it ran, and the actual cost.",
            vec![
                (
                    ",kind=\"projected\"".into(),
                    format!("{}", cost.projected_usd),
                ),
                (",kind=\"actual\"".into(), format!("{}", cost.actual_usd)),
            ],
        ));
    }
    out
}

/// A label value on one line (no control characters), escaped.
fn label(v: &str) -> String {
    crate::text::one_line(v, 500)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
