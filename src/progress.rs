//! Progress on stderr while a run goes, as the engine's `Observer`.
//!
//! At a terminal: a header (`done/total` and the elapsed time), then one line
//! per agent: queued agents dim, running ones with a spinner and their own
//! elapsed time (and `batch i/n`), finished ones marked by what they decided
//! (a block is never a green tick). When the run ends, `finish` clears every
//! live line, so the summary table replaces them and no spinner is left behind
//! (Ctrl-C included). Off a terminal: one plain line per start and finish.
//! Nothing with `--quiet`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Agent;
use crate::engine::decision::contribution;
use crate::engine::outcome::{AgentOutcome, Status};
use crate::engine::Observer;
use crate::output::{Output, Paint};
use crate::vocab::Action;

struct Live {
    multi: MultiProgress,
    header: ProgressBar,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

pub(crate) struct Progress {
    out: Output,
    live: Option<Live>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// How a finished agent is marked: by what it contributes to the decision,
/// not by whether its call succeeded.
pub(crate) fn mark(outcome: &AgentOutcome) -> (&'static str, Paint) {
    match outcome.status() {
        Status::Skipped | Status::DryRun => ("·", Paint::Dim),
        Status::Succeeded => match contribution(outcome, &[]).0 {
            Action::Approve | Action::DryRun => ("✓", Paint::Green),
            Action::ManualReview => ("?", Paint::Yellow),
            Action::RequestChanges => ("✗", Paint::Red),
            Action::Block => ("⛔", Paint::Red),
        },
        _ => ("✗", Paint::Red),
    }
}

impl Progress {
    /// `agents`: every agent the run will report, in order, for the queued lines.
    pub(crate) fn new(out: &Output, agents: &[&Agent]) -> Self {
        let live = (!out.quiet && out.stderr_is_terminal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let header = multi.add(ProgressBar::new(agents.len() as u64));
            header.set_style(style("{prefix:.bold} {pos}/{len} agents done · {elapsed}"));
            header.set_prefix("bsu");
            header.enable_steady_tick(Duration::from_millis(200));
            let mut bars = HashMap::new();
            for a in agents {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style("  {prefix:.dim} {msg:.dim}"));
                bar.set_prefix(a.id.clone());
                bar.set_message("queued");
                bars.insert(a.id.clone(), bar);
            }
            Live {
                multi,
                header,
                bars: Mutex::new(bars),
            }
        });
        Progress {
            out: out.clone(),
            live,
        }
    }

    /// Take every live line off the screen: the summary replaces them.
    pub(crate) fn finish(&self) {
        if let Some(live) = &self.live {
            if let Ok(mut bars) = live.bars.lock() {
                for (_, bar) in bars.drain() {
                    bar.finish_and_clear();
                }
            }
            live.header.finish_and_clear();
            let _ = live.multi.clear();
        }
    }

    fn line(&self, outcome: &AgentOutcome) -> String {
        let secs = format!("{:.1}s", outcome.duration.as_secs_f64());
        let reason = crate::text::one_line(&outcome.reason().unwrap_or_default(), 300);
        let (symbol, paint) = mark(outcome);
        let symbol = self.out.paint_err(symbol, paint);
        match outcome.status() {
            Status::Succeeded => {
                let ambiguous = if outcome.ambiguity().is_some() {
                    " (ambiguous reply)"
                } else {
                    ""
                };
                let verdict = match outcome.verdict() {
                    Some(v) => {
                        let score = v.score.map_or(String::new(), |s| format!(" · {s}/10"));
                        format!("{}{ambiguous}{score}", v.decision)
                    }
                    None if outcome.ambiguity().is_some() => "unreadable verdict".into(),
                    None => "no verdict".into(),
                };
                let verdict = self.out.paint_err(&verdict, paint);
                let batches = match outcome.pack.as_ref().map(|p| p.batches) {
                    Some(n) if n > 1 => format!(" · {n} batches"),
                    _ => String::new(),
                };
                let cached = if outcome.cached() { " · cached" } else { "" };
                format!("{symbol} {verdict} · {secs}{batches}{cached}")
            }
            Status::DryRun => format!(
                "{symbol} dry run · ~{} prompt tokens",
                outcome.usage().prompt_tokens
            ),
            Status::Skipped => format!("{symbol} skipped: {reason}"),
            status => format!("{symbol} {status} after {secs}: {reason}"),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Observer for Progress {
    fn started(&self, agent: &Agent) {
        if self.out.quiet {
            return;
        }
        let Some(live) = &self.live else {
            crate::output::eprint_line(&format!(
                "bsu: {}: started ({}/{})",
                agent.id, agent.provider, agent.model
            ));
            return;
        };
        if let Some(bar) = live
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(&agent.id).cloned())
        {
            bar.set_style(style("{spinner} {prefix:.bold} {msg} {elapsed:.dim}"));
            bar.set_message(format!("{}/{}", agent.provider, agent.model));
            bar.reset_elapsed();
            bar.enable_steady_tick(Duration::from_millis(100));
        }
    }

    fn batch(&self, agent: &Agent, i: usize, n: usize) {
        if self.out.quiet {
            return;
        }
        let Some(live) = &self.live else {
            crate::output::eprint_line(&format!("bsu: {}: batch {i}/{n}", agent.id));
            return;
        };
        if let Some(bar) = live
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(&agent.id).cloned())
        {
            bar.set_message(format!(
                "{}/{} · batch {i}/{n}",
                agent.provider, agent.model
            ));
        }
    }

    fn finished(&self, outcome: &AgentOutcome) {
        if self.out.quiet {
            return;
        }
        let line = self.line(outcome);
        let Some(live) = &self.live else {
            crate::output::eprint_line(&format!("bsu: {}: {}", outcome.id, strip(&line)));
            return;
        };
        live.header.inc(1);
        match live
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(&outcome.id).cloned())
        {
            Some(bar) => {
                bar.disable_steady_tick();
                bar.set_style(style("  {prefix:.bold} {msg}"));
                bar.set_message(line);
                bar.tick();
            }
            None => {
                let _ = live.multi.println(format!("  {} {line}", outcome.id));
            }
        }
    }
}

/// Plain log lines carry no colour codes even when colour is forced.
fn strip(line: &str) -> String {
    console::strip_ansi_codes(line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::outcome::{AgentResult, Answer};
    use crate::engine::verdict::read;

    fn replied(text: &str) -> AgentOutcome {
        AgentOutcome::test("a", AgentResult::Succeeded(Answer::test(read(text))))
    }

    #[test]
    fn a_block_is_never_a_green_tick() {
        let (s, p) = mark(&replied(r#"{"decision": "block"}"#));
        assert_eq!(s, "⛔");
        assert!(matches!(p, Paint::Red));
        let (s, _) = mark(&replied(
            r#"{"decision": "approve", "findings": [{"severity": "critical", "title": "x"}]}"#,
        ));
        assert_eq!(s, "⛔", "a critical finding blocks");
        assert!(matches!(
            mark(&replied(r#"{"decision": "request_changes"}"#)).1,
            Paint::Red
        ));
        assert!(matches!(mark(&replied("no verdict")).1, Paint::Yellow));
        assert_eq!(mark(&replied(r#"{"decision": "approve"}"#)).0, "✓");
    }
}
