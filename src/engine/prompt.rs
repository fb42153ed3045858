//! Rendering what an agent is sent, shared part first: the event, payload and
//! the event's inputs are byte-identical for every agent of a run (so
//! provider prompt caches serve them once); the agent's role, instructions
//! and reply contract follow; the user message carries its knowledge, its own
//! inputs and, in a sequence, the earlier agents' results. Pure functions.

use std::fmt::Write as _;

use serde::Serialize;

use super::outcome::AgentOutcome;
use crate::config::Agent;

/// The payload is cut to this many bytes of pretty JSON, with a visible note.
pub(crate) const PAYLOAD_CAP: usize = 200 * 1024;

/// Earlier agents' comments are cut to this many characters in later prompts.
const EARLIER_COMMENTS_CAP: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Prompt {
    /// The system prompt as sent: the shared part, the role marker, the agent's part.
    pub system: String,
    pub user: String,
}

pub(crate) use crate::client::{after_shared, combined, ROLE_MARKER};

/// The part of the system prompt every agent of the run is sent, byte for byte.
/// `earlier`: the open findings of earlier reviews (`ledger::prompt`), or "".
pub(crate) fn shared(
    event: &str,
    payload_text: &str,
    earlier: &str,
    inputs: &str,
    unseen: &str,
) -> String {
    let mut s = String::from(
        "You are one reviewer on a panel of AI agents run by bsu. Everything before the line \"",
    );
    s.push_str(ROLE_MARKER);
    s.push_str("\" is what every reviewer on the panel is shown; your own role follows it.\n\n");
    let _ = writeln!(s, "Event: {event}\n");
    let _ = writeln!(s, "## Event payload\n\n```json\n{payload_text}\n```\n");
    s.push_str(earlier);
    if !inputs.is_empty() {
        s.push_str("## Inputs\n\n");
        s.push_str(inputs);
    }
    s.push_str(unseen);
    s
}

const REPLY_CONTRACT: &str = r#"## How to reply

Reply with exactly one JSON object and nothing else, in this shape:

{"decision": "approve" | "request_changes" | "block" | "comment",
 "score": <number from 0 (unacceptable) to 10 (exemplary)>,
 "comments": "<your assessment in a few sentences>",
 "findings": [{"severity": "critical" | "high" | "medium" | "low" | "info",
               "title": "<short title>", "detail": "<what and why, and the fix>",
               "file": "<path, if the finding is about a file>", "line": <first line, if known>,
               "end_line": <last line, when it spans several>,
               "quote": "<the exact line(s) of code it is about, copied from the change>",
               "suggestion": "<replacement for exactly the quoted lines, if you have one>"}],
 "actions": ["<actions you ask for, from the list below>"]}

"decision" is exactly one of its four words; action names go only in "actions".
Copy "quote" exactly as the code reads in the new version: bsu looks for it in the change
and puts your comment on the lines that read so; a finding whose quote is not in the change
is listed, not put on a line."#;

pub(crate) fn system(agent: &Agent) -> String {
    let mut s = String::new();
    let _ = write!(s, "You are {}", agent.name);
    if !agent.role.is_empty() {
        let _ = write!(s, ", acting as: {}", agent.role);
    }
    s.push_str(".\n");
    if !agent.description.is_empty() {
        let _ = writeln!(s, "Your job: {}", agent.description);
    }
    s.push('\n');
    s.push_str(agent.instructions.trim());
    s.push_str("\n\n");
    s.push_str(REPLY_CONTRACT);
    s.push_str("\n\nActions you may ask for: ");
    if agent.actions.is_empty() {
        s.push_str("none (leave \"actions\" empty).");
    } else {
        s.push_str(&agent.actions.join(", "));
        s.push('.');
    }
    s.push('\n');
    s
}

/// The payload as pretty JSON, cut at `PAYLOAD_CAP` bytes with a note saying
/// so; with `(bytes, sent)` when it was cut.
pub(crate) fn payload_text(payload: &serde_json::Value) -> (String, Option<(usize, usize)>) {
    let pretty = serde_json::to_string_pretty(payload).unwrap_or_else(|_| "{}".into());
    if pretty.len() <= PAYLOAD_CAP {
        return (pretty, None);
    }
    let mut cut = PAYLOAD_CAP;
    while !pretty.is_char_boundary(cut) {
        cut -= 1;
    }
    let text = format!(
        "{}\n[bsu: the payload was truncated to the first {} KB of {} KB; what follows is missing]",
        &pretty[..cut],
        PAYLOAD_CAP / 1024,
        pretty.len().div_ceil(1024)
    );
    (text, Some((pretty.len(), cut)))
}

/// A knowledge file as the prompt carries it.
#[derive(Debug, Clone)]
pub(crate) struct Knowledge<'a> {
    pub path: &'a str,
    pub text: &'a str,
}

/// The user message: `batch` is (this one, of how many) when there are several.
pub(crate) fn user(
    knowledge: &[Knowledge<'_>],
    own_inputs: &str,
    earlier: &[AgentOutcome],
    batch: Option<(usize, usize)>,
) -> String {
    let mut s = String::from("Review the event above");
    match batch {
        Some((i, n)) => {
            let _ = writeln!(
                s,
                ". This is batch {i} of {n}: the inputs are split across {n} calls, and this call \
                 shows part {i}. Judge what is shown here; the other parts are reviewed separately."
            );
        }
        None => s.push_str(".\n"),
    }
    if !own_inputs.is_empty() {
        s.push_str("\n## Your inputs\n\n");
        s.push_str(own_inputs);
    }
    for k in knowledge {
        let _ = writeln!(s, "\n## Reference: {}\n\n{}", k.path, k.text.trim_end());
    }
    if !earlier.is_empty() {
        s.push_str("\n## Results of the agents before you in this run\n");
        for a in earlier {
            let _ = write!(s, "\n### {} ({}): {}", a.name, a.id, a.status());
            match a.verdict() {
                Some(v) => {
                    let _ = write!(s, ", decision {}", v.decision);
                    if let Some(score) = v.score {
                        let _ = write!(s, ", score {score}");
                    }
                    s.push('\n');
                    if !v.comments.is_empty() {
                        let _ = writeln!(
                            s,
                            "{}",
                            crate::text::ellipsize(&v.comments, EARLIER_COMMENTS_CAP)
                        );
                    }
                    for f in &v.findings {
                        let _ = writeln!(s, "- [{}] {}", f.severity, f.title);
                    }
                }
                None => {
                    s.push('\n');
                    if let Some(reason) = a.reason() {
                        let _ = writeln!(s, "(no verdict: {reason})");
                    } else if let Some(out) = a.answer().map(|a| &a.output) {
                        let _ =
                            writeln!(s, "{}", crate::text::ellipsize(out, EARLIER_COMMENTS_CAP));
                    }
                }
            }
        }
    }
    s
}

pub(crate) use crate::client::request_hash as hash;
pub(crate) use crate::text::hex;

/// A rough token count (about four characters a token) for dry runs.
pub(crate) fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payloads_are_whole_and_large_ones_say_they_were_cut() {
        let small = serde_json::json!({"action": "opened"});
        assert_eq!(
            payload_text(&small),
            ("{\n  \"action\": \"opened\"\n}".to_string(), None)
        );
        let big = serde_json::json!({"diff": "é".repeat(300_000)});
        let (text, cut) = payload_text(&big);
        assert_eq!(
            cut,
            Some((600_016, PAYLOAD_CAP - 1)),
            "cut on a character boundary"
        );
        assert!(text.len() < PAYLOAD_CAP + 200);
        assert!(
            text.ends_with("what follows is missing]"),
            "{}",
            &text[text.len() - 120..]
        );
        assert!(text.contains("truncated to the first 200 KB of 586 KB"));
    }

    #[test]
    fn earlier_results_are_summarised() {
        use super::super::outcome::{AgentResult, Answer};
        let mut a = AgentOutcome::test(
            "architect",
            AgentResult::Succeeded(Answer::test(super::super::verdict::read(
                r#"{"decision": "request_changes", "score": 6, "comments": "Split the god module.",
                "findings": [{"severity": "high", "title": "God module"}]}"#,
            ))),
        );
        a.name = "Architect".into();
        let text = user(&[], "", &[a], None);
        assert!(text
            .contains("### Architect (architect): succeeded, decision request_changes, score 6"));
        assert!(text.contains("Split the god module."));
        assert!(text.contains("- [high] God module"));
    }
}
