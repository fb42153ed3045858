//! The verifier pass (`verify = "agent-id"` on a strategy): after the
//! panel, one agent is shown each candidate inline finding with its quoted
//! code and answers keep or drop, with a reason. A dropped finding stays in
//! the report, marked, and is not put on a line; the decision never changes,
//! and a critical finding is never shown to it. Its call goes through the
//! run's caller (breakers, cache, recording) and its tokens and cost are in
//! the report.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::AtomicU32;

use serde_json::Value;

use crate::client::{ChatRequest, Usage};
use crate::engine::caller::Caller;
use crate::engine::outcome::RunOutcome;
use crate::engine::verdict::{Anchor, Severity};
use crate::output::Output;
use crate::plan::RunPlan;
use crate::report::VerifierJson;

/// Verify the run's candidate inline findings; `None` when there is no
/// verifier, nothing to verify, or the run sent nothing.
pub(super) async fn verify(
    plan: &RunPlan,
    caller: &Caller,
    outcome: &mut RunOutcome,
    out: &Output,
) -> Option<VerifierJson> {
    let v = plan.verifier.as_ref().filter(|_| !plan.dry_run)?;
    let candidates = candidates(outcome);
    if candidates.is_empty() {
        return None;
    }
    let provider = plan.providers.get(&v.provider)?;
    let Some(key) = plan.keys.get(&provider.name) else {
        out.warn(&format!(
            "verifier {}: {} is not set, so no finding was verified",
            v.id, provider.api_key_env
        ));
        return None;
    };
    let req = request(v, &candidates);
    let hash = crate::client::request_hash(provider, &req);
    let deadline = tokio::time::Instant::now() + v.timeout;
    let attempts = AtomicU32::new(0);
    let called = caller
        .call(provider, key, &req, &hash, deadline, &attempts)
        .await;
    let (usage, verdicts) = match called.result {
        Ok(reply) => (reply.usage, read(&reply.content)),
        Err(e) => {
            let why = match e {
                crate::engine::caller::Failure::Call(c) => c.message,
                crate::engine::caller::Failure::Rejected { breaker, .. } => {
                    format!("circuit breaker {breaker} is open")
                }
                crate::engine::caller::Failure::Deadline { .. } => "its deadline passed".into(),
            };
            out.warn(&format!("verifier {}: {why}; no finding was dropped", v.id));
            return Some(VerifierJson::of(v, (Usage::default(), None), 0, 0));
        }
    };
    let mut dropped = 0;
    for a in &mut outcome.agents {
        let Some(verdict) = a.verdict_mut() else {
            continue;
        };
        for f in &mut verdict.findings {
            let id = f.id.clone().unwrap_or_default();
            if let Some(why) = verdicts
                .get(&id)
                .filter(|_| candidates.iter().any(|c| c.0 == id))
            {
                f.dropped = Some(crate::text::one_line(why, 300));
            }
        }
    }
    for id in verdicts.keys() {
        dropped += usize::from(candidates.iter().any(|c| &c.0 == id));
    }
    let usd = plan.cost.prices.get(&v.model).map(|p| p.cost(&usage));
    Some(VerifierJson::of(
        v,
        (usage, usd),
        candidates.len() - dropped,
        dropped,
    ))
}

/// `(id, place, title, detail, quote)` of each finding that could go inline:
/// located, not unanchored, not critical, once per id.
fn candidates(outcome: &RunOutcome) -> Vec<(String, String, String, String, String)> {
    let mut out: Vec<(String, String, String, String, String)> = Vec::new();
    for f in outcome
        .agents
        .iter()
        .filter_map(|a| a.verdict())
        .flat_map(|v| &v.findings)
    {
        let (Some(id), Some(file), Some(line)) = (&f.id, &f.file, f.line) else {
            continue;
        };
        if f.severity == Severity::Critical
            || f.anchor == Some(Anchor::Unanchored)
            || out.iter().any(|c| &c.0 == id)
        {
            continue;
        }
        let code = f
            .anchored
            .as_ref()
            .map(|a| a.lines.join("\n"))
            .or_else(|| f.quote.clone())
            .unwrap_or_default();
        out.push((
            id.clone(),
            format!("{file}:{line}"),
            f.title.clone(),
            f.detail.clone(),
            code,
        ));
    }
    out
}

fn request(
    v: &crate::config::Agent,
    candidates: &[(String, String, String, String, String)],
) -> ChatRequest {
    let mut user = String::from(
        "Each finding below was raised by a reviewer on a change. For each, decide whether it \
         is correct and worth a comment on that line. Reply with one JSON object and nothing \
         else: {\"verdicts\": [{\"id\": \"<id>\", \"keep\": true | false, \"reason\": \"<why>\"}]}.\n\n",
    );
    for (id, place, title, detail, code) in candidates {
        let _ = writeln!(
            user,
            "## {id} at {place}\n{}\n{}\n```\n{code}\n```\n",
            crate::text::one_line(title, 200),
            crate::text::one_line(detail, 1000)
        );
    }
    ChatRequest {
        model: v.model.clone(),
        shared: String::new(),
        system: format!(
            "You are {}, verifying review findings before they are posted on code. {}",
            v.name,
            v.instructions.trim()
        ),
        user,
        temperature: v.temperature,
        max_tokens: v.max_tokens,
    }
}

/// The ids the verifier dropped, with why. Anything unreadable drops nothing.
fn read(reply: &str) -> HashMap<String, String> {
    let start = reply.find('{');
    let end = reply.rfind('}');
    let Some(v) = start
        .zip(end)
        .filter(|(s, e)| s < e)
        .and_then(|(s, e)| serde_json::from_str::<Value>(&reply[s..=e]).ok())
    else {
        return HashMap::new();
    };
    v["verdicts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["keep"].as_bool() == Some(false))
        .filter_map(|x| {
            Some((
                x["id"].as_str()?.to_string(),
                x["reason"]
                    .as_str()
                    .unwrap_or("no reason given")
                    .to_string(),
            ))
        })
        .collect()
}
