//! The numbers of an eval: per case, per agent and for the panel — true and
//! false positives, false negatives, precision, recall, F1 (micro over
//! findings, macro over cases), severity-weighted recall, decision accuracy
//! with its confusion matrix and the false-block and missed-block rates,
//! tokens and cost, and what each agent adds to the panel.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::case::{Case, Golden};
use super::matching::{assign, Found, How, Judged, Rules};
use super::{CaseRun, EvalJson};
use crate::vocab::{Action, Severity};

/// Counts and what follows from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Figures {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// tp / (tp + fp); null with no findings.
    pub precision: Option<f64>,
    /// tp / (tp + fn); null with no golden findings.
    pub recall: Option<f64>,
    /// 2tp / (2tp + fp + fn); null with neither.
    pub f1: Option<f64>,
    /// Recall with each golden finding weighted by severity (critical 8,
    /// high 4, medium 2, low and info 1).
    pub weighted_recall: Option<f64>,
    /// Weights of the golden findings matched, and of all.
    #[serde(skip)]
    pub weights: (u64, u64),
}

fn weight(s: Severity) -> u64 {
    match s {
        Severity::Critical => 8,
        Severity::High => 4,
        Severity::Medium => 2,
        Severity::Low | Severity::Info => 1,
    }
}

/// Four decimals: the same on every machine, and readable.
pub(crate) fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Dollars to six decimals (a small model's review costs fractions of a cent).
pub(crate) fn cents(x: f64) -> f64 {
    (x * 1_000_000.0).round() / 1_000_000.0
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| round(a as f64 / b as f64))
}

impl Figures {
    fn of(tp: u64, fp: u64, fn_: u64, weights: (u64, u64)) -> Figures {
        Figures {
            tp,
            fp,
            fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            f1: ratio(2 * tp, 2 * tp + fp + fn_),
            weighted_recall: ratio(weights.0, weights.1),
            weights,
        }
    }

    fn add(&self, o: &Figures) -> Figures {
        let w = (self.weights.0 + o.weights.0, self.weights.1 + o.weights.1);
        Figures::of(self.tp + o.tp, self.fp + o.fp, self.fn_ + o.fn_, w)
    }
}

/// A golden finding matched, and by what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Matched {
    pub golden: String,
    pub finding: String,
    pub how: String,
    pub similarity: f64,
}

/// One side (an agent, or the panel) on one case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Side {
    #[serde(flatten)]
    pub figures: Figures,
    pub matched: Vec<Matched>,
    /// Golden findings no finding matched (false negatives).
    pub missed: Vec<String>,
    /// Findings that matched no golden finding (false positives), as `place title`.
    pub spurious: Vec<String>,
    /// Findings that fell into a known trap (`absent`).
    pub traps: Vec<String>,
}

fn shown(f: &Found) -> String {
    let place = match (&f.file, f.line) {
        (Some(file), Some(l)) => format!("{file}:{l} "),
        (Some(file), None) => format!("{file} "),
        _ => String::new(),
    };
    format!("{place}{}", crate::text::one_line(&f.title, 200))
}

fn golden_shown(g: &Golden) -> String {
    let place = match (&g.file, g.line) {
        (Some(file), Some(l)) => format!("{file}:{l} "),
        (Some(file), None) => format!("{file} "),
        _ => String::new(),
    };
    format!("{place}{}", crate::text::one_line(&g.description, 200))
}

/// Score one side's findings against a case.
pub(crate) fn side(case: &Case, found: &[Found], rules: Rules, judged: &Judged) -> Side {
    let pairs = assign(&case.golden, found, rules, judged);
    let tp = pairs.len() as u64;
    let fp = found.len() as u64 - tp;
    let fn_ = case.golden.len() as u64 - tp;
    let total: u64 = case.golden.iter().map(|g| weight(g.severity)).sum();
    let hit: u64 = pairs
        .iter()
        .map(|p| weight(case.golden[p.golden].severity))
        .sum();
    let traps = super::matching::traps(&case.absent, found, rules);
    Side {
        figures: Figures::of(tp, fp, fn_, (hit, total)),
        matched: pairs
            .iter()
            .map(|p| Matched {
                golden: golden_shown(&case.golden[p.golden]),
                finding: shown(&found[p.found]),
                how: match p.how {
                    How::Location => "location".into(),
                    How::Judge => "judge".into(),
                },
                similarity: round(p.similarity),
            })
            .collect(),
        missed: (0..case.golden.len())
            .filter(|i| !pairs.iter().any(|p| p.golden == *i))
            .map(|i| golden_shown(&case.golden[i]))
            .collect(),
        spurious: (0..found.len())
            .filter(|i| !pairs.iter().any(|p| p.found == *i))
            .map(|i| shown(&found[i]))
            .collect(),
        traps: traps.iter().map(|i| shown(&found[*i])).collect(),
    }
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CaseJson {
    pub name: String,
    pub event: String,
    /// The decision expected (`approve`, `>= request_changes`, ...); null: none.
    pub expected: Option<String>,
    pub decision: Option<Action>,
    /// Whether the decision is the one expected; null without an expectation.
    pub decision_correct: Option<bool>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// null: some model is unpriced.
    pub usd: Option<f64>,
    /// null for a replay (nothing was waited for).
    pub latency_ms: Option<u64>,
    /// Why the case could not be run or read, when it could not.
    pub error: Option<String>,
    pub panel: Side,
    pub agents: BTreeMap<String, Side>,
}

/// The decisions over every case with an expectation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Decisions {
    pub correct: u64,
    pub total: u64,
    pub accuracy: Option<f64>,
    /// Clean cases (expected below request_changes) that were asked to change.
    pub false_blocks: u64,
    pub clean_cases: u64,
    pub false_block_rate: Option<f64>,
    /// Cases that should block (at least request_changes) that did not.
    pub missed_blocks: u64,
    pub blocking_cases: u64,
    pub missed_block_rate: Option<f64>,
    /// Expected (as written) → actual decision → cases.
    pub confusion: BTreeMap<String, BTreeMap<String, u64>>,
}

/// An agent over every case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct AgentTotals {
    #[serde(flatten)]
    pub figures: Figures,
    /// The mean of the per-case F1 where it is defined.
    pub macro_f1: Option<f64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub usd: Option<f64>,
    /// The panel's recall minus its recall without this agent.
    pub recall_lost_without: Option<f64>,
    /// What the panel would have cost less without it.
    pub usd_saved_without: Option<f64>,
}

/// The panel over every case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct PanelTotals {
    #[serde(flatten)]
    pub figures: Figures,
    pub macro_f1: Option<f64>,
    pub decisions: Decisions,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub usd: Option<f64>,
    /// Known traps fallen into, over every case.
    pub traps: u64,
}

fn macro_f1<'a>(sides: impl Iterator<Item = &'a Side>) -> Option<f64> {
    let f: Vec<f64> = sides.filter_map(|s| s.figures.f1).collect();
    (!f.is_empty()).then(|| round(f.iter().sum::<f64>() / f.len() as f64))
}

fn add_usd(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? + b?)
}

pub(crate) fn decisions(cases: &[CaseRun], results: &[CaseJson]) -> Decisions {
    let mut d = Decisions::default();
    for (run, r) in cases.iter().zip(results) {
        let (Some(expected), Some(actual)) = (run.case.decision, r.decision) else {
            continue;
        };
        d.total += 1;
        d.correct += u64::from(expected.admits(actual));
        if expected.clean() {
            d.clean_cases += 1;
            d.false_blocks += u64::from(actual >= Action::RequestChanges);
        }
        if expected.should_block() {
            d.blocking_cases += 1;
            d.missed_blocks += u64::from(actual < Action::RequestChanges);
        }
        *d.confusion
            .entry(expected.label())
            .or_default()
            .entry(actual.to_string())
            .or_default() += 1;
    }
    d.accuracy = ratio(d.correct, d.total);
    d.false_block_rate = ratio(d.false_blocks, d.clean_cases);
    d.missed_block_rate = ratio(d.missed_blocks, d.blocking_cases);
    d
}

/// Totals of the panel and of each agent, with what each agent adds:
/// `without[agent]` is the panel's side on each case without that agent.
pub(crate) fn totals(
    runs: &[CaseRun],
    results: &[CaseJson],
    without: &BTreeMap<String, Vec<Side>>,
) -> (PanelTotals, BTreeMap<String, AgentTotals>) {
    let mut panel = PanelTotals {
        usd: Some(0.0),
        ..Default::default()
    };
    for r in results {
        panel.figures = panel.figures.add(&r.panel.figures);
        panel.prompt_tokens += r.prompt_tokens;
        panel.completion_tokens += r.completion_tokens;
        panel.usd = add_usd(panel.usd, r.usd);
        panel.traps += r.panel.traps.len() as u64;
    }
    panel.usd = panel.usd.map(cents);
    panel.macro_f1 = macro_f1(results.iter().map(|r| &r.panel));
    panel.decisions = decisions(runs, results);
    let mut agents: BTreeMap<String, AgentTotals> = BTreeMap::new();
    for (run, r) in runs.iter().zip(results) {
        for (id, s) in &r.agents {
            let t = agents.entry(id.clone()).or_insert_with(|| AgentTotals {
                usd: Some(0.0),
                ..Default::default()
            });
            t.figures = t.figures.add(&s.figures);
            let spent = run.agent_spend(id);
            t.prompt_tokens += spent.0;
            t.completion_tokens += spent.1;
            t.usd = add_usd(t.usd, spent.2);
        }
    }
    for (id, t) in agents.iter_mut() {
        t.macro_f1 = macro_f1(results.iter().filter_map(|r| r.agents.get(id)));
        let rest = without
            .get(id)
            .map(|sides| {
                sides
                    .iter()
                    .fold(Figures::default(), |acc, s| acc.add(&s.figures))
            })
            .unwrap_or_default();
        t.recall_lost_without = match (panel.figures.recall, rest.recall) {
            (Some(a), Some(b)) => Some(round(a - b)),
            _ => None,
        };
        t.usd = t.usd.map(cents);
        t.usd_saved_without = t.usd;
    }
    (panel, agents)
}

/// The result with its cases worst first: the lowest panel F1, then a
/// wrong decision, then the name.
pub(crate) fn worst_first(eval: &EvalJson) -> Vec<&CaseJson> {
    let mut v: Vec<&CaseJson> = eval.cases.iter().collect();
    v.sort_by(|a, b| {
        let f = |c: &CaseJson| c.panel.figures.f1.unwrap_or(1.0);
        f(a).total_cmp(&f(b))
            .then(
                a.decision_correct
                    .unwrap_or(true)
                    .cmp(&b.decision_correct.unwrap_or(true)),
            )
            .then(a.name.cmp(&b.name))
    });
    v
}
