//! The run's summary at a terminal: the agents' table, what each read, the
//! decision and why, the strongest findings, and a hint for each failure.

use crate::engine;
use crate::engine::outcome::RunOutcome;
use crate::output::{Output, Paint};

pub(super) fn summary(out: &Output, outcome: &RunOutcome, paths: &[std::path::PathBuf]) {
    let mut table = out.table();
    table.set_header(["agent", "status", "verdict", "time", "tokens"]);
    for a in &outcome.agents {
        let status = match a.status() {
            engine::outcome::Status::Succeeded if a.cached() => "succeeded (cached)".to_string(),
            s => s.to_string(),
        };
        let score = a
            .verdict()
            .and_then(|v| v.score)
            .map_or(String::new(), |s| format!(" {s}/10"));
        let verdict = match (a.verdict(), a.ambiguity()) {
            (Some(v), Some(_)) => format!("{}{score} (ambiguous)", v.decision),
            (Some(v), None) => format!("{}{score}", v.decision),
            (None, Some(_)) => "unreadable".into(),
            (None, None) => "-".into(),
        };
        table.add_row([
            a.id.clone(),
            status,
            verdict,
            format!("{:.1}s", a.duration.as_secs_f64()),
            if a.usage().total_tokens == 0 {
                "-".into()
            } else {
                a.usage().total_tokens.to_string()
            },
        ]);
    }
    out.print_table(table);
    inputs_table(out, outcome);
    use crate::vocab::Action;
    let paint = match outcome.decision.action {
        Action::Approve => Paint::Green,
        Action::ManualReview | Action::DryRun => Paint::Yellow,
        Action::RequestChanges | Action::Block => Paint::Red,
    };
    let word = outcome.decision.action.to_string().to_uppercase();
    out.print(&format!(
        "{} — {}",
        out.paint(&format!("Decision: {word}"), paint),
        crate::text::one_line(&outcome.decision.reason, 2_000)
    ));
    findings(out, outcome);
    for a in &outcome.agents {
        let not_approving = a.status() == engine::outcome::Status::Succeeded
            && outcome.decision.of(&a.id) != Action::Approve;
        if not_approving {
            let said = a
                .verdict()
                .map(|v| v.comments.as_str())
                .filter(|c| !c.trim().is_empty())
                .map(|c| crate::text::one_line(c, 160))
                .or_else(|| a.reason().map(|r| crate::text::one_line(&r, 160)))
                .unwrap_or_else(|| "no comment".into());
            out.print(&format!("  {}: {said}", a.id));
        }
    }
    for p in paths {
        out.print(&format!("Report: {}", p.display()));
    }
}

/// The strongest findings across agents: severity, agent, place, title; the rest counted.
fn findings(out: &Output, outcome: &RunOutcome) {
    let mut all: Vec<(&engine::verdict::Finding, &str)> = outcome
        .agents
        .iter()
        .filter_map(|a| Some((a.verdict()?, a.id.as_str())))
        .flat_map(|(v, id)| v.findings.iter().map(move |f| (f, id)))
        .collect();
    if all.is_empty() {
        return;
    }
    all.sort_by_key(|f| std::cmp::Reverse(f.0.severity));
    const SHOWN: usize = 5;
    out.print(&format!("Findings: {}", all.len()));
    for (f, id) in all.iter().take(SHOWN) {
        let place = match (&f.file, f.line) {
            (Some(file), Some(l)) => format!("{}:{l}", crate::text::one_line(file, 80)),
            (Some(file), None) => crate::text::one_line(file, 80),
            _ => "-".into(),
        };
        let sev = f.severity.to_string();
        let paint = match f.severity {
            engine::verdict::Severity::Critical | engine::verdict::Severity::High => Paint::Red,
            engine::verdict::Severity::Medium => Paint::Yellow,
            _ => Paint::Dim,
        };
        out.print(&format!(
            "  {} {id}  {place}  {}",
            out.paint(&format!("{sev:<8}"), paint),
            crate::text::one_line(&f.title, 120)
        ));
    }
    if all.len() > SHOWN {
        out.print(&format!("  … and {} more in the report", all.len() - SHOWN));
    }
}

/// After every run, on stderr: one line for each agent that did not succeed
/// (even with `-q`), and a hint saying what to change where bsu can tell.
pub(super) fn failures(out: &Output, outcome: &RunOutcome, plan: &crate::plan::RunPlan) {
    use engine::outcome::Status;
    for a in &outcome.agents {
        if matches!(
            a.status(),
            Status::Succeeded | Status::Skipped | Status::DryRun
        ) {
            continue;
        }
        if out.quiet {
            out.error(&format!(
                "agent {} {}: {}",
                a.id,
                a.status(),
                crate::text::one_line(&a.reason().unwrap_or_default(), 300)
            ));
        }
        if let Some(h) = crate::hints::hint(a, plan.providers.get(&a.provider)) {
            out.hint(&format!("{}: {h}", a.id));
        }
    }
}

/// What each agent was given of the run's inputs: batches, tokens, the
/// prefix its prompt shares with the others', and what it did not see.
pub(super) fn inputs_table(out: &Output, outcome: &RunOutcome) {
    if outcome.agents.iter().all(|a| a.pack.is_none()) {
        return;
    }
    let mut table = out.table();
    table.set_header([
        "agent",
        "inputs",
        "batches",
        "tokens / allowance",
        "shared prefix",
        "unseen",
    ]);
    for a in &outcome.agents {
        let Some(p) = &a.pack else { continue };
        table.add_row([
            a.id.clone(),
            p.inputs.join(", "),
            p.batches.to_string(),
            format!("{} / {}", p.input_tokens, p.budget_tokens),
            p.shared_prefix_tokens.to_string(),
            match p.unseen.len() {
                0 => "-".to_string(),
                n => format!("{n} part{}", if n == 1 { "" } else { "s" }),
            },
        ]);
    }
    out.print_table(table);
}
