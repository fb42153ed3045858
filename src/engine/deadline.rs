//! The deadline policy, in one place: an agent must finish within its own
//! `timeout` and within the run's; the earlier of the two wins and names
//! itself in the reason. The caller applies it to every wait and attempt;
//! the engine's run-level stop is only a backstop, `BACKSTOP` later, for
//! work that did not honour it.

use std::time::Duration;

use tokio::time::Instant;

use crate::client::CallError;

/// How long after the run's deadline the engine stops waiting for agents
/// that have not returned by themselves.
pub(crate) const BACKSTOP: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Agent(Duration),
    Run(Duration),
}

/// When one agent must be done, and which limit set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    pub at: Instant,
    which: Which,
}

/// `now + d`, or far in the future when that does not fit (bounded
/// settings make that unreachable; this keeps it from panicking regardless).
pub(crate) fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// The deadline of an agent started at `start`.
pub(crate) fn for_agent(
    start: Instant,
    agent_timeout: Duration,
    run_deadline: Instant,
    run_timeout: Duration,
) -> Deadline {
    let own = after(start, agent_timeout);
    if own <= run_deadline {
        Deadline {
            at: own,
            which: Which::Agent(agent_timeout),
        }
    } else {
        Deadline {
            at: run_deadline,
            which: Which::Run(run_timeout),
        }
    }
}

impl Deadline {
    /// Why an agent stopped at this deadline; `last` is the attempt it cut.
    pub(crate) fn reason(&self, last: Option<&CallError>) -> String {
        let limit = match self.which {
            Which::Agent(d) => format!(
                "no reply within the agent timeout of {}",
                humantime::format_duration(d)
            ),
            Which::Run(d) => format!(
                "the run's deadline of {} passed first",
                humantime::format_duration(d)
            ),
        };
        match last {
            Some(e) => format!("{limit} (last attempt: {})", e.message),
            None => limit,
        }
    }
}

/// The reason given to agents the run-level backstop stopped.
pub(crate) fn run_reason(run_timeout: Duration) -> String {
    format!(
        "the run's deadline of {} passed first",
        humantime::format_duration(run_timeout)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_earlier_limit_wins_and_names_itself() {
        let start = Instant::now();
        let run = start + Duration::from_secs(60);
        let d = for_agent(start, Duration::from_secs(90), run, Duration::from_secs(60));
        assert_eq!(d.at, run);
        assert_eq!(d.reason(None), "the run's deadline of 1m passed first");
        let d = for_agent(start, Duration::from_secs(30), run, Duration::from_secs(60));
        assert_eq!(d.at, start + Duration::from_secs(30));
        assert_eq!(d.reason(None), "no reply within the agent timeout of 30s");
        let huge = for_agent(start, Duration::MAX, run, Duration::from_secs(60));
        assert_eq!(
            huge.at, run,
            "an unrepresentable agent deadline does not panic"
        );
    }
}
