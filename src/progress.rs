//! Progress on stderr while a run goes: live spinners (one line per agent)
//! when stderr is a terminal, one plain line per start and finish otherwise,
//! nothing with `--quiet`. Implements the engine's `Observer`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Agent;
use crate::engine::outcome::{AgentOutcome, Status};
use crate::engine::Observer;
use crate::output::{Output, Paint};

pub(crate) struct Progress {
    out: Output,
    live: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    pub(crate) fn new(out: &Output) -> Self {
        let live = (!out.quiet && out.stderr_is_terminal)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            out: out.clone(),
            live,
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, outcome: &AgentOutcome) -> String {
        let secs = format!("{:.1}s", outcome.duration.as_secs_f64());
        let reason = crate::text::one_line(&outcome.reason().unwrap_or_default(), 300);
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
                let cached = if outcome.cached() { " · cached" } else { "" };
                let batches = match outcome.pack.as_ref().map(|p| p.batches) {
                    Some(n) if n > 1 => format!(" · {n} batches"),
                    _ => String::new(),
                };
                let cached = format!("{batches}{cached}");
                format!(
                    "{} {verdict} · {secs}{cached}",
                    self.out.paint_err("✓", Paint::Green)
                )
            }
            Status::DryRun => format!(
                "{} dry run · ~{} prompt tokens",
                self.out.paint_err("·", Paint::Dim),
                outcome.usage().prompt_tokens
            ),
            Status::Skipped => format!("{} skipped: {reason}", self.out.paint_err("–", Paint::Dim)),
            status => format!(
                "{} {status} after {secs}: {reason}",
                self.out.paint_err("✗", Paint::Red)
            ),
        }
    }
}

impl Observer for Progress {
    fn started(&self, agent: &Agent) {
        if self.out.quiet {
            return;
        }
        let Some(multi) = &self.live else {
            crate::output::eprint_line(&format!(
                "bsu: {}: started ({}/{})",
                agent.id, agent.provider, agent.model
            ));
            return;
        };
        let bar = multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(agent.id.clone());
        bar.set_message(format!("{}/{} …", agent.provider, agent.model));
        bar.enable_steady_tick(Duration::from_millis(100));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(agent.id.clone(), bar);
        }
    }

    fn batch(&self, agent: &Agent, i: usize, n: usize) {
        if self.out.quiet {
            return;
        }
        let Some(_) = &self.live else {
            crate::output::eprint_line(&format!("bsu: {}: batch {i}/{n}", agent.id));
            return;
        };
        if let Some(bar) = self
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(&agent.id).cloned())
        {
            bar.set_message(format!(
                "{}/{} · batch {i}/{n} …",
                agent.provider, agent.model
            ));
        }
    }

    fn finished(&self, outcome: &AgentOutcome) {
        if self.out.quiet {
            return;
        }
        let line = self.line(outcome);
        let Some(multi) = &self.live else {
            crate::output::eprint_line(&format!("bsu: {}: {}", outcome.id, strip(&line)));
            return;
        };
        let bar = self
            .bars
            .lock()
            .ok()
            .and_then(|mut b| b.remove(&outcome.id));
        match bar {
            Some(bar) => {
                bar.set_style(
                    ProgressStyle::with_template("  {prefix:.bold} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.finish_with_message(line);
            }
            None => {
                let _ = multi.println(format!("  {} {line}", outcome.id));
            }
        }
    }
}

/// Plain log lines carry no colour codes even when colour is forced.
fn strip(line: &str) -> String {
    console::strip_ansi_codes(line).into_owned()
}
