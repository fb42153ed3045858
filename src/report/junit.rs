//! JUnit XML: one testcase per agent. A block or request_changes verdict is a
//! failure, an agent that did not succeed is an error, a skipped one is skipped.

use std::fmt::Write as _;

use super::Report;
use crate::engine::outcome::Status;
use crate::engine::verdict::VerdictDecision;

pub(crate) fn render(r: &Report) -> String {
    let mut failures = 0;
    let mut errors = 0;
    let mut skipped = 0;
    let mut cases = String::new();
    for a in &r.agents {
        let _ = write!(
            cases,
            "    <testcase classname=\"bsu.{}\" name=\"{}\" time=\"{:.3}\">",
            xml(&r.event),
            xml(&a.id),
            a.duration_ms as f64 / 1000.0
        );
        match a.status {
            Status::Succeeded => {
                if let Some(v) = a.verdict.as_ref().filter(|v| {
                    matches!(
                        v.decision,
                        VerdictDecision::Block | VerdictDecision::RequestChanges
                    )
                }) {
                    failures += 1;
                    let _ = write!(
                        cases,
                        "\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    ",
                        v.decision,
                        xml(&format!("{} decided {}", a.id, v.decision)),
                        xml(&v.comments)
                    );
                }
            }
            Status::Skipped | Status::DryRun => {
                skipped += 1;
                let why = a.reason.as_deref().unwrap_or("dry run: nothing was sent");
                let _ = write!(cases, "\n      <skipped message=\"{}\"/>\n    ", xml(why));
            }
            status => {
                errors += 1;
                let _ = write!(
                    cases,
                    "\n      <error type=\"{status}\" message=\"{}\"/>\n    ",
                    xml(a.reason.as_deref().unwrap_or(""))
                );
            }
        }
        cases.push_str("</testcase>\n");
    }
    let n = r.agents.len();
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
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
