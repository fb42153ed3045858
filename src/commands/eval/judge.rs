//! `bsu eval --judge AGENT`: the pairs matching by location leaves open (a
//! golden finding without a location, or text too unlike at the right
//! place) go to the judge agent in one request per case, through the case
//! run's caller (its breakers, cache and recordings), and it answers for
//! each pair whether the finding describes the golden issue. A reply that
//! cannot be read matches nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::AtomicU32;

use serde_json::Value;

use crate::client::ChatRequest;
use crate::evaluate::matching::{to_judge, Found, Judged, Rules};
use crate::evaluate::CaseRun;

/// Pairs asked at most per case.
const MAX_PAIRS: usize = 200;

/// What the judge said, and what asking it took (tokens, dollars).
type Answered = (Judged, (crate::vocab::Usage, Option<f64>));

/// The judge's answers for the open pairs of every side of `run`.
pub(super) async fn ask(
    reviewed: &super::super::run::Reviewed,
    run: &CaseRun,
    rules: Rules,
) -> Result<Answered, String> {
    let plan = &reviewed.plan;
    let nothing = || (Judged::new(), (Default::default(), Some(0.0)));
    let Some(judge) = plan.judge.as_ref() else {
        return Ok(nothing());
    };
    let pairs = open_pairs(run, rules);
    if pairs.is_empty() {
        return Ok(nothing());
    }
    let provider = plan
        .providers
        .get(&judge.provider)
        .ok_or_else(|| format!("agent {} names no known provider", judge.id))?;
    let key = plan
        .keys
        .get(&provider.name)
        .ok_or_else(|| format!("{} is not set, so no pair was judged", provider.api_key_env))?;
    let req = request(judge, run, &pairs);
    let hash = crate::client::request_hash(provider, &req);
    let deadline = tokio::time::Instant::now() + judge.timeout;
    let attempts = AtomicU32::new(0);
    let called = reviewed
        .caller
        .call(provider, key, &req, &hash, deadline, &attempts)
        .await;
    let reply = match called.result {
        Ok(reply) => reply,
        Err(crate::engine::caller::Failure::Call(c)) => return Err(c.message),
        Err(crate::engine::caller::Failure::Rejected { breaker, .. }) => {
            return Err(format!("circuit breaker {breaker} is open"))
        }
        Err(crate::engine::caller::Failure::Deadline { .. }) => {
            return Err("its deadline passed".into())
        }
    };
    let said = read(&reply.content);
    let judged = pairs
        .into_iter()
        .enumerate()
        .map(|(i, (g, f))| {
            (
                (g, f.key()),
                said.get(&format!("p{}", i + 1)) == Some(&true),
            )
        })
        .collect();
    let usd = plan
        .cost
        .prices
        .get(&judge.model)
        .map(|p| p.cost(&reply.usage));
    Ok((judged, (reply.usage, usd)))
}

/// Each open (golden, finding) pair of the panel's and every agent's side,
/// once, in a stable order.
fn open_pairs(run: &CaseRun, rules: Rules) -> Vec<(usize, Found)> {
    let mut sides = vec![run.panel()];
    sides.extend(run.agents().into_values());
    let mut out: BTreeMap<(usize, String), Found> = BTreeMap::new();
    for found in &sides {
        for (g, f) in to_judge(&run.case.golden, found, rules) {
            out.entry((g, found[f].key()))
                .or_insert_with(|| found[f].clone());
        }
    }
    out.into_iter()
        .take(MAX_PAIRS)
        .map(|((g, _), f)| (g, f))
        .collect()
}

fn place(file: Option<&str>, line: Option<u64>) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.to_string(),
        _ => "no location given".into(),
    }
}

fn request(judge: &crate::config::Agent, run: &CaseRun, pairs: &[(usize, Found)]) -> ChatRequest {
    let mut user = String::from(
        "Each pair below puts a known issue of a code change beside a finding a reviewer \
         raised on it. For each pair, say whether the finding describes the same issue (the \
         same defect, even in other words). Reply with one JSON object and nothing else: \
         {\"pairs\": [{\"id\": \"p1\", \"same\": true | false, \"reason\": \"<why>\"}]}.\n\n",
    );
    for (i, (g, f)) in pairs.iter().enumerate() {
        let golden = &run.case.golden[*g];
        let _ = writeln!(
            user,
            "## p{}\nKnown issue ({}, {}): {}\nFinding ({}, {}): {}\n{}\n",
            i + 1,
            golden.severity,
            place(golden.file.as_deref(), golden.line),
            crate::text::one_line(&golden.description, 1000),
            f.severity,
            place(f.file.as_deref(), f.line),
            crate::text::one_line(&f.title, 300),
            crate::text::one_line(&f.detail, 1000)
        );
    }
    ChatRequest {
        model: judge.model.clone(),
        shared: String::new(),
        system: format!(
            "You are {}, judging whether code review findings match known issues. {}",
            judge.name,
            judge.instructions.trim()
        ),
        user,
        temperature: judge.temperature,
        max_tokens: judge.max_tokens,
    }
}

/// The pair ids the judge answered, with its answer.
fn read(reply: &str) -> BTreeMap<String, bool> {
    let (Some(s), Some(e)) = (reply.find('{'), reply.rfind('}')) else {
        return BTreeMap::new();
    };
    let Some(v) = (s < e)
        .then(|| serde_json::from_str::<Value>(&reply[s..=e]).ok())
        .flatten()
    else {
        return BTreeMap::new();
    };
    v["pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?.to_string(), p["same"].as_bool()?)))
        .collect()
}
