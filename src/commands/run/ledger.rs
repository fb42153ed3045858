//! The run's finding ledger, around the agents' calls: read from the pull
//! request before gathering (never trusted when it does not parse or is not
//! bsu's own), shown to the agents, reconciled with what they said and
//! with the base branch's suppressions, and folded into the decision —
//! which covers the whole pull request, not only this push.

use std::collections::{HashMap, HashSet};

use super::state::Later;
use crate::engine::outcome::{AgentOutcome, RunOutcome};
use crate::engine::verdict::consensus::{Met, Words};
use crate::engine::verdict::Finding;
use crate::inputs::Gathered;
use crate::ledger::suppress::{self, Suppressions};
use crate::ledger::{self, anchor, Ledger, Seen, State};
use crate::output::Output;
use crate::plan::RunPlan;
use crate::publish::Destination;
use crate::store::Store;

/// The pull request's number, when the event names one.
pub(super) fn number(plan: &RunPlan) -> Option<u64> {
    let p = &plan.payload;
    p["pull_request"]["number"]
        .as_u64()
        .or_else(|| {
            p["issue"]["pull_request"]
                .is_object()
                .then(|| p["issue"]["number"].as_u64())?
        })
        .or_else(|| {
            p["pull_request"]
                .is_object()
                .then(|| p["number"].as_u64())?
        })
}

/// A scheduled audit: no pull request, and an event that is a schedule
/// (GitHub's `schedule` payload, or a name beginning with `schedule`). Its
/// ledger lives in the state store, keyed by project and strategy.
fn audit(plan: &RunPlan) -> bool {
    number(plan).is_none()
        && (plan.payload.get("schedule").is_some() || plan.event.starts_with("schedule"))
}

/// The ledger of the pull request, from the first destination that keeps
/// one, or of a scheduled audit, from the state store. One that cannot be
/// trusted is ignored with a warning: the run then reviews as if for the
/// first time, which is never more permissive.
pub(super) async fn load(
    plan: &RunPlan,
    destinations: &[Box<dyn Destination>],
    state: &mut Later,
    out: &Output,
) -> Option<Ledger> {
    if audit(plan) && !plan.dry_run {
        let db = state.get().await?;
        let (project, strategy) = (plan.project.clone(), plan.strategy.clone());
        let json = db
            .read(move |c| c.ledger_get(&project, &strategy))
            .await
            .ok()??;
        return match serde_json::from_str::<Ledger>(&json) {
            Ok(l) if l.version == ledger::VERSION => Some(l),
            _ => {
                out.warn("the audit's ledger in the state database does not parse; it is ignored");
                None
            }
        };
    }
    let number = number(plan)?;
    for d in destinations {
        match d.ledger(number, &plan.strategy).await {
            Ok(Some(l)) => return Some(l),
            Ok(None) => {}
            Err(why) => out.warn(&format!(
                "{why}; the earlier findings it lists are ignored, not trusted"
            )),
        }
    }
    None
}

/// What the run's ledger stage needs of it besides the plan.
pub(super) struct After<'a> {
    pub run_id: &'a str,
    pub store: Option<&'a Store>,
    pub replayed: bool,
}

/// After the calls: read the base's suppressions, reconcile the ledger and
/// fold it into the decision, and keep an audit's ledger for its next run.
pub(super) async fn reconcile(
    plan: &RunPlan,
    prev: Option<&Ledger>,
    outcome: &mut RunOutcome,
    after: &After<'_>,
    out: &Output,
) -> Option<Ledger> {
    let suppressions = suppressions(plan, &outcome.inputs, out).await;
    let next = settle(plan, after.run_id, prev, outcome, &suppressions);
    save(plan, after.store, next.as_ref(), after.replayed).await;
    next
}

/// What an incremental review did not send again, over every agent that
/// reads the input, priced at each agent's model: estimated by bsu's
/// documented estimate, one token per 3 bytes of patch (the text was not
/// counted; code often has more tokens, so this errs low).
pub(super) fn saved(plan: &RunPlan, outcome: &RunOutcome) -> Option<crate::report::Saved> {
    let left: Vec<(&str, crate::inputs::NotResent)> = outcome
        .inputs
        .iter()
        .filter_map(|g| Some((g.name.as_str(), g.source.not_resent?)))
        .filter(|(_, n)| n.files > 0)
        .collect();
    if left.is_empty() {
        return None;
    }
    let (mut tokens, mut usd) = (0u64, Some(0.0));
    for p in plan.agents.iter().filter(|p| p.skip.is_none()) {
        let reads = |name: &str| {
            plan.shared_inputs.iter().any(|i| i == name) || p.agent.inputs.iter().any(|i| i == name)
        };
        let t: u64 = left
            .iter()
            .filter(|(name, _)| reads(name))
            .map(|(_, n)| n.bytes.div_ceil(3))
            .sum();
        tokens += t;
        usd = match (usd, plan.cost.prices.get(&p.agent.model)) {
            (Some(u), Some(price)) => Some(u + t as f64 * price.input / 1e6),
            _ => None,
        };
    }
    Some(crate::report::Saved {
        files: left.iter().map(|(_, n)| n.files).max().unwrap_or(0),
        input_tokens: tokens,
        usd,
    })
}

/// Keep a scheduled audit's ledger in the state store for its next run.
async fn save(plan: &RunPlan, store: Option<&Store>, next: Option<&Ledger>, replayed: bool) {
    let (Some(db), Some(l)) = (store, next) else {
        return;
    };
    if !audit(plan) || replayed {
        return;
    }
    // Titles are model text and may quote a secret the run holds: the
    // state database keeps none (the report is redacted later, this is not).
    let mut value = serde_json::to_value(l).expect("plain data serialises");
    plan.secrets.redact_json(&mut value);
    let json = value.to_string();
    let (project, strategy) = (plan.project.clone(), plan.strategy.clone());
    let _ = db
        .call(move |c| c.ledger_put(&project, &strategy, &json, crate::store::now_ms()))
        .await;
}

/// The base branch's `.bsu/suppressions.toml`, when the run reviewed a
/// range with a base commit. A file that cannot be read suppresses
/// nothing, and says so.
async fn suppressions(plan: &RunPlan, gathered: &[Gathered], out: &Output) -> Suppressions {
    let Some(base) = gathered.iter().find_map(|g| g.source.base.clone()) else {
        return Suppressions::default();
    };
    let scrub = plan.secrets.names();
    let text =
        match crate::inputs::file_at(&plan.root, scrub, &base, suppress::PATH, 256 << 10).await {
            Ok(Some(t)) => t,
            Ok(None) => return Suppressions::default(),
            Err(why) => {
                out.warn(&format!("{}: {why}; nothing is suppressed", suppress::PATH));
                return Suppressions::default();
            }
        };
    let today = humantime::format_rfc3339(std::time::SystemTime::now()).to_string();
    match Suppressions::parse(&text, &today[..10]) {
        Ok(s) => s,
        Err(why) => {
            out.warn(&format!(
                "{} on the base branch: {why}; nothing is suppressed",
                suppress::PATH
            ));
            Suppressions::default()
        }
    }
}

/// Give every finding its id, reconcile the ledger, and fold it into the
/// decision: dismissed and suppressed findings stop counting, open ones
/// from earlier pushes keep counting. `None` for a dry run.
fn settle(
    plan: &RunPlan,
    run_id: &str,
    prev: Option<&Ledger>,
    outcome: &mut RunOutcome,
    suppressions: &Suppressions,
) -> Option<Ledger> {
    if plan.dry_run {
        return None;
    }
    let lines = anchor::Lines::new(&outcome.inputs);
    let seen = identify(plan, &mut outcome.agents, &lines);
    let shown: HashSet<&str> = prev
        .map(|l| {
            l.findings
                .iter()
                .filter(|e| e.state == State::Open)
                .map(|e| e.id.as_str())
                .collect()
        })
        .unwrap_or_default();
    // Only ids an agent was shown as open, from agents whose reply was read.
    let resolved: Vec<String> = outcome
        .agents
        .iter()
        .filter_map(|a| a.verdict())
        .flat_map(|v| v.resolved.iter())
        .filter(|id| shown.contains(id.as_str()))
        .cloned()
        .collect();
    let still = |e: &ledger::Entry| match (&e.file, &e.anchor) {
        (Some(f), Some(a)) => lines.still_there(f, a),
        _ => None,
    };
    // The commit reviewed; a run that reviewed none (an audit of files or
    // commands) is its own point in the ledger's history.
    let head = outcome
        .inputs
        .iter()
        .find_map(|g| g.source.head.clone())
        .or_else(|| Some(format!("run {run_id}")));
    let suppressed =
        |id: &str, file: Option<&str>, title: &str| suppressions.matches(id, file, title);
    let facts = ledger::Facts {
        strategy: &plan.strategy,
        head: head.as_deref(),
        resolved: &resolved,
        still_there: &still,
        suppressed: &suppressed,
    };
    let next = ledger::reconcile(prev, &seen, &facts);
    fold(plan, outcome, &next, &seen);
    Some(next)
}

/// Each finding's id, set on the verdicts (so every report shows it), and
/// the run's findings once each.
fn identify(plan: &RunPlan, agents: &mut [AgentOutcome], lines: &anchor::Lines<'_>) -> Vec<Seen> {
    let mut seen: Vec<Seen> = Vec::new();
    // Where each id is in `seen`.
    let mut listed: HashMap<String, usize> = HashMap::new();
    // The first finding of each id so far: one the panel agrees with (the
    // report merges them the same way) takes its id, so the ledger counts
    // it once.
    let mut met = Met::default();
    let mut ids: Vec<String> = Vec::new();
    for a in agents.iter_mut() {
        let Some(v) = a.verdict_mut() else { continue };
        for f in &mut v.findings {
            place(f, lines);
            let anchor = match (&f.file, f.line) {
                (Some(file), Some(line)) => lines.at(file, line),
                _ => None,
            };
            let words = Words::of(&f.title);
            let id = match met.first(f.place(), &words) {
                Some(i) => ids[i].clone(),
                None => {
                    let id = ledger::finding_id(
                        &plan.strategy,
                        f.file.as_deref(),
                        &f.title,
                        anchor.as_deref(),
                    );
                    f.id = Some(id.clone());
                    met.meet(f.place(), words);
                    ids.push(id.clone());
                    id
                }
            };
            f.id = Some(id.clone());
            match listed.get(&id) {
                Some(&i) => seen[i].severity = seen[i].severity.max(f.severity),
                None => {
                    listed.insert(id.clone(), seen.len());
                    seen.push(Seen {
                        id,
                        severity: f.severity,
                        title: f.title.clone(),
                        file: f.file.clone(),
                        line: f.line,
                        anchor,
                    });
                }
            }
        }
    }
    seen
}

/// Check a finding's quote against the change: verified where it says,
/// moved to where the quoted code is, or unanchored (never inline) when it
/// is nowhere in what was shown; a line without a quote stays unverified.
fn place(f: &mut Finding, lines: &anchor::Lines<'_>) {
    use crate::engine::verdict::Anchor;
    let Some(file) = f.file.clone() else { return };
    f.anchor = match (&f.quote, f.line) {
        (Some(q), line) => match lines.locate(&file, q, line) {
            Some((start, end)) => {
                let verified = line == Some(start);
                f.line = Some(start);
                f.end_line = (end > start).then_some(end);
                f.anchored = lines
                    .around(&file, (start, end), 3)
                    .map(|(before, lines, after)| crate::engine::verdict::Anchored {
                        before,
                        lines,
                        after,
                    });
                Some(match line {
                    _ if verified => Anchor::Verified,
                    Some(from) => Anchor::Moved { from },
                    // No line given: the quote placed it.
                    None => Anchor::Verified,
                })
            }
            None => Some(Anchor::Unanchored),
        },
        (None, Some(_)) => Some(Anchor::Unverified),
        (None, None) => None,
    };
    f.suggestion_diff = crate::report::patch::one(f);
}

/// The decision again, with dismissed and suppressed findings waived, then
/// raised for the open findings of earlier pushes.
fn fold(plan: &RunPlan, outcome: &mut RunOutcome, ledger: &Ledger, seen: &[Seen]) {
    let waived: HashSet<String> = ledger
        .findings
        .iter()
        .filter(|e| e.state == State::Dismissed)
        .map(|e| e.id.clone())
        .collect();
    if !waived.is_empty() {
        outcome.decision =
            crate::engine::decision::decide_waiving(&outcome.agents, &plan.required, &waived);
    }
    let causes: Vec<(crate::vocab::Action, String)> = ledger::carried(ledger, seen)
        .into_iter()
        .filter_map(|e| {
            let action = ledger::action_of(e)?;
            let since = e
                .first_seen
                .as_deref()
                .map(|h| format!(", open since {}", h.chars().take(12).collect::<String>()))
                .unwrap_or_default();
            Some((
                action,
                format!(
                    "earlier finding {} ({} \"{}\"{since})",
                    e.id,
                    e.severity,
                    crate::text::one_line(&e.title, 80)
                ),
            ))
        })
        .collect();
    outcome.decision.escalate(&causes);
}
