//! JUnit XML: one testcase per agent, by what that agent alone would decide,
//! and one `decision` testcase for the run. An agent whose verdict blocks,
//! requests changes, is ambiguous or unreadable is a failure; an agent that
//! did not succeed is an error; a skipped or dry-run one is skipped. The
//! `decision` testcase fails exactly when the run's decision is not
//! `approve`, so the totals are never greener than the decision.

use std::fmt::Write as _;

use super::{AgentJson, Report};
use crate::engine::outcome::Status;
use crate::vocab::Action;

pub(crate) fn render(r: &Report) -> String {
    let mut counts = Counts::default();
    let mut cases = String::new();
    let class = format!("bsu.{}", xml(&r.event));
    for a in &r.agents {
        let _ = write!(
            cases,
            "    <testcase classname=\"{class}\" name=\"{}\" time=\"{:.3}\">",
            xml(&a.id),
            a.duration_ms as f64 / 1000.0
        );
        cases.push_str(&agent_body(a, &mut counts));
        cases.push_str("</testcase>\n");
    }
    let _ = write!(
        cases,
        "    <testcase classname=\"{class}\" name=\"decision\" time=\"{:.3}\">",
        r.duration_ms as f64 / 1000.0
    );
    let reason = xml(&r.decision.reason);
    match r.decision.action {
        Action::Approve => {}
        Action::DryRun => {
            counts.skipped += 1;
            let _ = write!(cases, "\n      <skipped message=\"{reason}\"/>\n    ");
        }
        action => {
            counts.failures += 1;
            let _ = write!(
                cases,
                "\n      <failure type=\"{action}\" message=\"decision {action}: {reason}\"/>\n    "
            );
        }
    }
    cases.push_str("</testcase>\n");
    let n = r.agents.len() + 1;
    let Counts {
        failures,
        errors,
        skipped,
    } = counts;
    let secs = r.duration_ms as f64 / 1000.0;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"bsu\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{secs:.3}\">\n  \
         <testsuite name=\"bsu.{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{secs:.3}\" timestamp=\"{}\">\n    \
         <properties>\n      <property name=\"decision\" value=\"{}\"/>\n      <property name=\"run_id\" value=\"{}\"/>\n    </properties>\n\
         {cases}  </testsuite>\n</testsuites>\n",
        xml(&r.event),
        xml(&r.started_at),
        r.decision.action,
        xml(&r.run_id),
    )
}

#[derive(Default)]
struct Counts {
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn agent_body(a: &AgentJson, counts: &mut Counts) -> String {
    let reason = a.reason.as_deref().unwrap_or("");
    match (a.status, a.decision) {
        (Status::Skipped | Status::DryRun, _) => {
            counts.skipped += 1;
            let why = a.reason.as_deref().unwrap_or("dry run: nothing was sent");
            format!("\n      <skipped message=\"{}\"/>\n    ", xml(why))
        }
        (Status::Succeeded, Action::Approve) => String::new(),
        (Status::Succeeded, action) => {
            counts.failures += 1;
            let what = match (&a.verdict, &a.ambiguity) {
                (Some(v), None) => format!("{} decided {}", a.id, v.decision),
                (Some(v), Some(_)) => format!("{} gave an ambiguous reply ({})", a.id, v.decision),
                (None, Some(_)) => format!("{} sent a verdict that could not be read", a.id),
                (None, None) => format!("{} sent no verdict", a.id),
            };
            let body = a.verdict.as_ref().map_or(reason, |v| v.comments.as_str());
            format!(
                "\n      <failure type=\"{action}\" message=\"{}\">{}</failure>\n    ",
                xml(&what),
                xml(body)
            )
        }
        (status, _) => {
            counts.errors += 1;
            format!(
                "\n      <error type=\"{status}\" message=\"{}\"/>\n    ",
                xml(reason)
            )
        }
    }
}

/// Escape for XML text and attributes, dropping characters XML 1.0 forbids.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}
