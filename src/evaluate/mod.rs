//! `bsu eval`'s pure part: cases (`case`), matching findings to golden ones
//! (`matching`), the numbers (`score`) and how they are shown (`render`).
//! Running the cases is the command's; everything here is computed from
//! the cases and their runs' reports, so a replayed eval gives the same
//! bytes every time.

pub(crate) mod case;
pub(crate) mod matching;
pub(crate) mod render;
pub(crate) mod score;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::Report;
use case::Case;
use matching::{Found, Judged, Rules};
use score::{AgentTotals, CaseJson, PanelTotals, Side};

/// The version of the eval JSON; a reader refuses another.
pub(crate) const VERSION: u32 = 1;

/// A case and what running it gave.
#[derive(Debug)]
pub(crate) struct CaseRun {
    pub case: Case,
    pub event: String,
    /// The run's report; `None` when the case could not be run.
    pub report: Option<Report>,
    pub error: Option<String>,
    /// The judge's answers for this case.
    pub judged: Judged,
    /// What asking the judge took: tokens, and dollars (`None`: unpriced).
    pub judge_spent: (crate::vocab::Usage, Option<f64>),
}

impl CaseRun {
    /// The panel's findings: merged across agents, each once.
    pub(crate) fn panel(&self) -> Vec<Found> {
        let Some(r) = &self.report else {
            return Vec::new();
        };
        crate::report::findings::merged_findings(r)
            .into_iter()
            .map(|m| Found {
                severity: m.severity,
                title: m.title,
                detail: m.detail,
                file: m.file,
                line: m.line,
                end_line: m.end_line,
                agents: m.agents,
            })
            .collect()
    }

    /// Each agent's own findings, by id.
    pub(crate) fn agents(&self) -> BTreeMap<String, Vec<Found>> {
        let Some(r) = &self.report else {
            return BTreeMap::new();
        };
        r.agents
            .iter()
            .map(|a| {
                let found = a
                    .verdict
                    .iter()
                    .flat_map(|v| &v.findings)
                    .map(|f| Found {
                        severity: f.severity,
                        title: f.title.clone(),
                        detail: f.detail.clone(),
                        file: f.file.clone(),
                        line: f.line,
                        end_line: f.end_line,
                        agents: vec![a.id.clone()],
                    })
                    .collect();
                (a.id.clone(), found)
            })
            .collect()
    }

    /// An agent's prompt and completion tokens and cost on this case.
    pub(crate) fn agent_spend(&self, id: &str) -> (u64, u64, Option<f64>) {
        let Some(r) = &self.report else {
            return (0, 0, Some(0.0));
        };
        let usage = r
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.usage)
            .unwrap_or_default();
        let usd = match &r.cost {
            Some(c) => c
                .actual
                .iter()
                .filter(|a| a.id == id)
                .try_fold(0.0, |acc, a| Some(acc + a.usd?)),
            None => Some(0.0),
        };
        (usage.prompt_tokens, usage.completion_tokens, usd)
    }
}

/// An eval's result: the JSON `bsu eval --json` prints (schemas/eval.schema.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct EvalJson {
    pub bsu_eval: u32,
    pub bsu_version: String,
    /// Answered from recordings: no model was called.
    pub replayed: bool,
    pub judge: Option<String>,
    pub tolerance: u64,
    pub min_similarity: f64,
    pub panel: PanelTotals,
    pub agents: BTreeMap<String, AgentTotals>,
    pub cases: Vec<CaseJson>,
    /// What the judge's calls took over every case (not the panel's cost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_spent: Option<JudgeSpent>,
    /// Compared with `--baseline`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Deltas>,
}

/// The judge's tokens and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct JudgeSpent {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// null: its model is unpriced.
    pub usd: Option<f64>,
}

/// This eval's panel figures minus the baseline's (null where either is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Deltas {
    pub file: String,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub weighted_recall: Option<f64>,
    pub decision: Option<f64>,
    pub usd: Option<f64>,
}

/// Score every case run.
pub(crate) fn evaluate(
    runs: &[CaseRun],
    rules: Rules,
    judge: Option<&str>,
    replayed: bool,
) -> EvalJson {
    let mut results = Vec::new();
    let mut without: BTreeMap<String, Vec<Side>> = BTreeMap::new();
    for run in runs {
        let panel = run.panel();
        let agents = run.agents();
        for id in agents.keys() {
            let rest: Vec<Found> = panel
                .iter()
                .filter(|f| f.agents.iter().any(|a| a != id))
                .cloned()
                .collect();
            without.entry(id.clone()).or_default().push(score::side(
                &run.case,
                &rest,
                rules,
                &run.judged,
            ));
        }
        results.push(case_json(run, &panel, &agents, rules, replayed));
    }
    let (panel, agents) = score::totals(runs, &results, &without);
    let judge_spent = judge.map(|_| {
        let mut j = JudgeSpent {
            prompt_tokens: 0,
            completion_tokens: 0,
            usd: Some(0.0),
        };
        for r in runs {
            j.prompt_tokens += r.judge_spent.0.prompt_tokens;
            j.completion_tokens += r.judge_spent.0.completion_tokens;
            j.usd = j.usd.zip(r.judge_spent.1).map(|(a, b)| a + b);
        }
        j.usd = j.usd.map(score::cents);
        j
    });
    EvalJson {
        bsu_eval: VERSION,
        bsu_version: env!("CARGO_PKG_VERSION").to_string(),
        replayed,
        judge: judge.map(str::to_string),
        tolerance: rules.tolerance,
        min_similarity: rules.min_similarity,
        panel,
        agents,
        cases: results,
        judge_spent,
        baseline: None,
    }
}

fn case_json(
    run: &CaseRun,
    panel: &[Found],
    agents: &BTreeMap<String, Vec<Found>>,
    rules: Rules,
    replayed: bool,
) -> CaseJson {
    let r = run.report.as_ref();
    let decision = r.map(|r| r.decision.action);
    let (mut prompt, mut completion, mut usd) = (0, 0, Some(0.0));
    for id in agents.keys() {
        let (p, c, u) = run.agent_spend(id);
        prompt += p;
        completion += c;
        usd = usd.zip(u).map(|(a, b)| a + b);
    }
    if let Some(v) = r.and_then(|r| r.verifier.as_ref()) {
        prompt += v.usage.prompt_tokens;
        completion += v.usage.completion_tokens;
        usd = usd.zip(v.usd).map(|(a, b)| a + b);
    }
    CaseJson {
        name: run.case.name.clone(),
        event: run.event.clone(),
        expected: run.case.decision.map(|d| d.label()),
        decision,
        decision_correct: run.case.decision.zip(decision).map(|(e, a)| e.admits(a)),
        prompt_tokens: prompt,
        completion_tokens: completion,
        usd: usd.map(score::cents),
        latency_ms: r.filter(|_| !replayed).map(|r| r.duration_ms),
        error: run.error.clone(),
        panel: score::side(&run.case, panel, rules, &run.judged),
        agents: agents
            .iter()
            .map(|(id, f)| (id.clone(), score::side(&run.case, f, rules, &run.judged)))
            .collect(),
    }
}

/// The deltas of `now` against `base`.
pub(crate) fn compare(now: &EvalJson, base: &EvalJson, file: &str) -> Deltas {
    let d = |a: Option<f64>, b: Option<f64>| Some(score::round(a? - b?));
    let (n, b) = (&now.panel, &base.panel);
    Deltas {
        file: file.to_string(),
        precision: d(n.figures.precision, b.figures.precision),
        recall: d(n.figures.recall, b.figures.recall),
        f1: d(n.figures.f1, b.figures.f1),
        weighted_recall: d(n.figures.weighted_recall, b.figures.weighted_recall),
        decision: d(n.decisions.accuracy, b.decisions.accuracy),
        usd: n.usd.zip(b.usd).map(|(a, b)| score::cents(a - b)),
    }
}

/// The panel figures a gate can name.
pub(crate) const GATED: [&str; 5] = ["precision", "recall", "f1", "weighted_recall", "decision"];

fn figure(e: &EvalJson, name: &str) -> Option<f64> {
    let p = &e.panel;
    match name {
        "precision" => p.figures.precision,
        "recall" => p.figures.recall,
        "f1" => p.figures.f1,
        "weighted_recall" => p.figures.weighted_recall,
        _ => p.decisions.accuracy,
    }
}

/// `--fail-under f1=0.4,decision=0.8` read: each name one of `GATED`, each
/// floor from 0 to 1.
pub(crate) fn parse_floors(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("--fail-under {part:?}: write NAME=FLOOR, like f1=0.4"))?;
        let name = name.trim();
        if !GATED.contains(&name) {
            return Err(format!(
                "--fail-under: {name:?} is not a figure; use one of {}",
                GATED.join(", ")
            ));
        }
        match value.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => out.push((name.to_string(), v)),
            _ => {
                return Err(format!(
                    "--fail-under {name}={value}: the floor must be a number from 0 to 1"
                ))
            }
        }
    }
    if out.is_empty() {
        return Err("--fail-under is empty; write NAME=FLOOR, like f1=0.4".into());
    }
    Ok(out)
}

/// Why the eval fails its gates, one line each (empty: it passes). A figure
/// that could not be computed fails a floor: a gate never passes unseen.
pub(crate) fn gates(e: &EvalJson, floors: &[(String, f64)], max_drop: Option<f64>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, floor) in floors {
        match figure(e, name) {
            Some(v) if v >= *floor => {}
            Some(v) => out.push(format!("panel {name} {v:.4} is under {floor}")),
            None => out.push(format!(
                "panel {name} could not be computed (no case gives it), so it is not above {floor}"
            )),
        }
    }
    if let (Some(max), Some(d)) = (max_drop, &e.baseline) {
        for (name, delta) in [
            ("precision", d.precision),
            ("recall", d.recall),
            ("f1", d.f1),
            ("weighted_recall", d.weighted_recall),
            ("decision", d.decision),
        ] {
            if let Some(x) = delta.filter(|x| *x < -max - 1e-9) {
                out.push(format!(
                    "panel {name} fell {:.4} below the baseline (at most {max} allowed)",
                    -x
                ));
            }
        }
    }
    out
}
