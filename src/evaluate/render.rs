//! An eval for people: the terminal summary (a table of the panel and each
//! agent, the decisions, the worst cases) and the Markdown report (the same,
//! with every case worst first and its missed and spurious findings quoted).

use std::fmt::Write as _;

use super::score::{worst_first, CaseJson, Figures};
use super::EvalJson;
use crate::report::markdown::{code, inline};

/// `0.4167`, or `—` when it could not be computed.
pub(crate) fn num(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.4}"))
}

/// Dollars for people: four decimals (the JSON has six).
fn usd(x: Option<f64>) -> String {
    x.map_or("unpriced".into(), |v| format!("${v:.4}"))
}

fn signed(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:+.4}"))
}

fn signed_usd(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| {
        let sign = if v < 0.0 { "-" } else { "+" };
        format!("{sign}${:.4}", v.abs())
    })
}

/// The rows of the summary table: each agent, then the panel.
pub(crate) fn rows(e: &EvalJson) -> Vec<[String; 8]> {
    let row = |name: &str, f: &Figures, cost: Option<f64>| {
        [
            name.to_string(),
            f.tp.to_string(),
            f.fp.to_string(),
            f.fn_.to_string(),
            num(f.precision),
            num(f.recall),
            num(f.f1),
            usd(cost),
        ]
    };
    let mut out: Vec<[String; 8]> = e
        .agents
        .iter()
        .map(|(id, t)| row(id, &t.figures, t.usd))
        .collect();
    out.push(row("panel", &e.panel.figures, e.panel.usd));
    out
}

/// Short headers, so a table with a long agent id still fits 80 columns.
pub(crate) const HEADER: [&str; 8] = ["Agent", "TP", "FP", "FN", "Prec.", "Recall", "F1", "Cost"];

/// The lines under the table: decisions, rates, what each agent adds,
/// baseline deltas, the worst cases.
pub(crate) fn lines(e: &EvalJson) -> Vec<String> {
    let p = &e.panel;
    let d = &p.decisions;
    let mut out = vec![
        format!(
            "Decisions: {}/{} as expected ({}) · false blocks {}/{} · missed blocks {}/{}",
            d.correct,
            d.total,
            num(d.accuracy),
            d.false_blocks,
            d.clean_cases,
            d.missed_blocks,
            d.blocking_cases
        ),
        format!(
            "Panel: macro F1 {} · weighted recall {} · traps hit {}",
            num(p.macro_f1),
            num(p.figures.weighted_recall),
            p.traps,
        ),
        format!(
            "Tokens: {} prompt + {} completion",
            p.prompt_tokens, p.completion_tokens
        ),
    ];
    for (id, t) in &e.agents {
        out.push(format!(
            "Without {id}: recall {} lower, {} saved",
            num(t.recall_lost_without),
            usd(t.usd_saved_without)
        ));
    }
    if let (Some(j), Some(name)) = (&e.judge_spent, &e.judge) {
        out.push(format!(
            "Judge {}: {} prompt + {} completion tokens, {}",
            crate::text::one_line(name, 40),
            j.prompt_tokens,
            j.completion_tokens,
            usd(j.usd)
        ));
    }
    if let Some(b) = &e.baseline {
        out.push(format!("Against {}:", b.file));
        out.push(format!(
            "  precision {} · recall {} · F1 {}",
            signed(b.precision),
            signed(b.recall),
            signed(b.f1)
        ));
        out.push(format!(
            "  weighted recall {} · decisions {} · cost {}",
            signed(b.weighted_recall),
            signed(b.decision),
            signed_usd(b.usd)
        ));
    }
    out.push("Worst cases:".into());
    for c in worst_first(e).into_iter().take(3) {
        out.push(format!("  {}", case_line(c)));
    }
    out
}

fn case_line(c: &CaseJson) -> String {
    let decision = c
        .decision
        .map_or("no decision".to_string(), |a| a.to_string());
    let expected = match (&c.expected, c.decision_correct) {
        (Some(x), Some(false)) => format!(", expected {x}"),
        _ => String::new(),
    };
    let error = c
        .error
        .as_deref()
        .map(|e| format!(" — {}", crate::text::one_line(e, 120)))
        .unwrap_or_default();
    format!(
        "{}: F1 {}, {} missed, {} spurious; {decision}{expected}{error}",
        crate::text::one_line(&c.name, 60),
        num(c.panel.figures.f1),
        c.panel.missed.len(),
        c.panel.spurious.len()
    )
}

/// The Markdown report.
pub(crate) fn markdown(e: &EvalJson) -> String {
    let mut s = String::from("# bsu eval\n\n");
    let _ = writeln!(
        s,
        "{} cases{} · matching within ±{} lines, similarity ≥ {}{}\n",
        e.cases.len(),
        if e.replayed { ", replayed" } else { "" },
        e.tolerance,
        e.min_similarity,
        e.judge
            .as_deref()
            .map(|j| format!(", judge `{}`", code(j)))
            .unwrap_or_default()
    );
    s.push_str("| Agent | TP | FP | FN | Precision | Recall | F1 | Cost (USD) |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows(e) {
        let _ = writeln!(s, "| `{}` | {} |", code(&r[0]), r[1..].join(" | "));
    }
    s.push('\n');
    for l in lines(e)
        .iter()
        .take_while(|l| l.as_str() != "Worst cases:")
        .filter(|l| !l.ends_with(':'))
    {
        let _ = writeln!(s, "- {}", inline(l.trim_start()));
    }
    s.push_str("\n## Decisions\n\n| Expected | Actual | Cases |\n|---|---|---:|\n");
    for (expected, row) in &e.panel.decisions.confusion {
        for (actual, n) in row {
            let _ = writeln!(s, "| {} | {} | {n} |", inline(expected), inline(actual));
        }
    }
    s.push_str("\n## Cases, worst first\n\n");
    for c in worst_first(e) {
        let _ = writeln!(s, "### `{}`\n\n{}\n", code(&c.name), inline(&case_line(c)));
        for (what, list) in [
            ("Missed", &c.panel.missed),
            ("Spurious", &c.panel.spurious),
            ("Trap", &c.panel.traps),
        ] {
            for item in list {
                let _ = writeln!(s, "- **{what}**: {}", inline(item));
            }
        }
        for m in &c.panel.matched {
            let _ = writeln!(
                s,
                "- **Matched** ({}, similarity {:.2}): {} ← {}",
                m.how,
                m.similarity,
                inline(&m.golden),
                inline(&m.finding)
            );
        }
        s.push('\n');
    }
    s
}
