//! The run's summary at a terminal: the agents' table, what each read, the
//! decision and why, the strongest findings, and a hint for each failure.

use crate::engine;
use crate::engine::outcome::RunOutcome;
use crate::output::{Output, Paint};

pub(super) fn summary(out: &Output, outcome: &RunOutcome, paths: &[std::path::PathBuf]) {
    let mut table = out.table();
    table.set_header(["agent", "status", "verdict", "score", "time", "tokens"]);
    for a in &outcome.agents {
        let status = match a.status() {
            engine::outcome::Status::Succeeded if a.cached() => "succeeded (cached)".to_string(),
            s => s.to_string(),
        };
        let verdict = match (a.verdict(), a.ambiguity()) {
            (Some(v), Some(_)) => format!("{} (ambiguous)", v.decision),
            (Some(v), None) => v.decision.to_string(),
            (None, Some(_)) => "unreadable".into(),
            (None, None) => "-".into(),
        };
        table.add_row([
            a.id.clone(),
            status,
            verdict,
            a.verdict()
                .and_then(|v| v.score)
                .map_or("-".into(), |s| format!("{s}")),
            format!("{:.1}s", a.duration.as_secs_f64()),
            if a.usage().total_tokens == 0 {
                "-".into()
            } else {
                a.usage().total_tokens.to_string()
            },
        ]);
    }
    out.print(&table.to_string());
    inputs_table(out, outcome);
    use crate::engine::decision::Action;
    let paint = match outcome.decision.action {
        Action::Approve => Paint::Green,
        Action::ManualReview | Action::DryRun => Paint::Yellow,
        Action::RequestChanges | Action::Block => Paint::Red,
    };
    let word = outcome.decision.action.to_string().to_uppercase();
    out.print(&format!(
        "{} {}",
        out.paint(&format!("Decision: {word}"), paint),
        crate::text::one_line(&outcome.decision.reason, 2_000)
    ));
    for p in paths {
        out.print(&format!("Report: {}", p.display()));
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
        "input tokens",
        "budget / batch",
        "shared prefix",
        "unseen",
    ]);
    for a in &outcome.agents {
        let Some(p) = &a.pack else { continue };
        table.add_row([
            a.id.clone(),
            p.inputs.join(", "),
            p.batches.to_string(),
            p.input_tokens.to_string(),
            p.budget_tokens.to_string(),
            p.shared_prefix_tokens.to_string(),
            match p.unseen.len() {
                0 => "-".to_string(),
                n => format!("{n} part{}", if n == 1 { "" } else { "s" }),
            },
        ]);
    }
    out.print(&table.to_string());
}
