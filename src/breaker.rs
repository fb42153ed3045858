//! The circuit breaker as a pure state machine: closed → open → half_open.
//!
//! Every function takes `now` (Unix milliseconds) as an argument, so every
//! transition is unit-tested without sleeps or sockets. Persistence (one
//! SQLite row per breaker, shared by every bsu process) wraps it from outside
//! in `store::breakers`; nothing here does I/O.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }

    pub(crate) fn parse(s: &str) -> State {
        match s {
            "open" => State::Open,
            "half_open" => State::HalfOpen,
            _ => State::Closed,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a breaker behaves (from `[breaker]` / `[providers.X.breaker]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub failure_threshold: u32,
    pub reset_timeout: Duration,
    pub max_reset_timeout: Duration,
    /// How long a probe may hold the half-open lease before another may try.
    pub probe_lease: Duration,
}

/// One breaker's whole persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breaker {
    pub state: State,
    pub consecutive_failures: u32,
    pub opened_at: Option<i64>,
    /// When the next probe may go (open), or when the probe's lease ends (half-open).
    pub retry_at: Option<i64>,
    /// How long the breaker stays open this time; doubles after each failed probe.
    pub open_for_ms: i64,
    pub calls: u64,
    pub successes: u64,
    pub failures: u64,
    pub rejections: u64,
    pub last_error: Option<String>,
}

/// What the breaker says about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed: go ahead.
    Allow,
    /// The single probe after the reset timeout; its outcome decides the state.
    Probe,
    /// Open (or another probe holds the lease): send nothing.
    Reject { retry_at: i64 },
}

/// How an attempt ended, in the breaker's terms (CONTRACT.md, "Failures and the breaker").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// Connection error, timeout, 408, 409, 429, 5xx.
    Failure,
    /// Quota exhausted: opens the breaker at once.
    Quota,
    /// Another 4xx: the provider answered, so it is up; not counted as a failure.
    NotCounted,
}

/// A change of state, for the history kept with the breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    pub from: State,
    pub to: State,
    pub at: i64,
    pub reason: String,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Breaker {
    pub(crate) fn new() -> Self {
        Breaker {
            state: State::Closed,
            consecutive_failures: 0,
            opened_at: None,
            retry_at: None,
            open_for_ms: 0,
            calls: 0,
            successes: 0,
            failures: 0,
            rejections: 0,
            last_error: None,
        }
    }

    /// May an attempt go now? Counts it as a call or a rejection.
    pub(crate) fn admit(&mut self, now: i64, s: &Settings) -> (Admission, Option<Transition>) {
        match self.state {
            State::Closed => {
                self.calls += 1;
                (Admission::Allow, None)
            }
            State::Open | State::HalfOpen => {
                let due = self.retry_at.unwrap_or(0);
                if now >= due {
                    // Open and due, or half-open whose probe's lease ran out
                    // (a probe that was killed must not wedge the breaker).
                    let from = self.state;
                    self.state = State::HalfOpen;
                    self.retry_at = Some(now.saturating_add(ms(s.probe_lease)));
                    self.calls += 1;
                    let t = Transition {
                        from,
                        to: State::HalfOpen,
                        at: now,
                        reason: if from == State::Open {
                            "reset timeout passed; letting one probe through".into()
                        } else {
                            "the previous probe's lease expired; letting another through".into()
                        },
                    };
                    (Admission::Probe, Some(t))
                } else {
                    self.rejections += 1;
                    (Admission::Reject { retry_at: due }, None)
                }
            }
        }
    }

    /// Record `n` alike outcomes as the state store does: a call that was not
    /// the probe was admitted by a closed breaker without a write, so it is
    /// counted here. The last transition, if any.
    pub(crate) fn record_stored(
        &mut self,
        now: i64,
        (outcome, n): (Outcome, u64),
        probe: bool,
        error: Option<&str>,
        s: &Settings,
    ) -> Option<Transition> {
        let mut last = None;
        for _ in 0..n {
            if !probe {
                self.calls += 1;
            }
            last = self.record(now, outcome, probe, error, s).or(last);
        }
        last
    }

    /// Record how an admitted attempt ended. `probe` says whether it was the probe.
    pub(crate) fn record(
        &mut self,
        now: i64,
        outcome: Outcome,
        probe: bool,
        error: Option<&str>,
        s: &Settings,
    ) -> Option<Transition> {
        if let Some(e) = error {
            self.last_error = Some(e.to_string());
        }
        match outcome {
            Outcome::Success | Outcome::NotCounted => {
                if outcome == Outcome::Success {
                    self.successes += 1;
                    self.consecutive_failures = 0;
                }
                if self.state == State::HalfOpen && probe {
                    return Some(self.close(now, "the probe succeeded"));
                }
                None
            }
            Outcome::Failure | Outcome::Quota => {
                self.failures += 1;
                self.consecutive_failures += 1;
                match self.state {
                    State::HalfOpen if probe => {
                        let doubled = (self.open_for_ms.max(ms(s.reset_timeout))).saturating_mul(2);
                        let open_for =
                            doubled.min(ms(s.max_reset_timeout).max(ms(s.reset_timeout)));
                        Some(self.open(now, open_for, "the probe failed"))
                    }
                    State::Closed if outcome == Outcome::Quota => {
                        Some(self.open(now, ms(s.reset_timeout), "quota exhausted"))
                    }
                    State::Closed if self.consecutive_failures >= s.failure_threshold => {
                        Some(self.open(
                            now,
                            ms(s.reset_timeout),
                            &format!("{} consecutive failures", self.consecutive_failures),
                        ))
                    }
                    // Open already, or a straggler of a half-open breaker: counted only.
                    _ => None,
                }
            }
        }
    }

    /// Close it by hand (`bsu breaker reset`).
    pub(crate) fn reset(&mut self, now: i64) -> Option<Transition> {
        if self.state == State::Closed && self.consecutive_failures == 0 {
            return None;
        }
        Some(self.close(now, "reset by hand"))
    }

    fn open(&mut self, now: i64, open_for: i64, reason: &str) -> Transition {
        let from = self.state;
        self.state = State::Open;
        self.opened_at = Some(now);
        self.open_for_ms = open_for;
        self.retry_at = Some(now.saturating_add(open_for));
        Transition {
            from,
            to: State::Open,
            at: now,
            reason: format!(
                "{reason}; next probe in {}",
                humantime::format_duration(Duration::from_millis(open_for as u64))
            ),
        }
    }

    fn close(&mut self, now: i64, reason: &str) -> Transition {
        let from = self.state;
        self.state = State::Closed;
        self.consecutive_failures = 0;
        self.opened_at = None;
        self.retry_at = None;
        self.open_for_ms = 0;
        Transition {
            from,
            to: State::Closed,
            at: now,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Settings = Settings {
        failure_threshold: 3,
        reset_timeout: Duration::from_secs(30),
        max_reset_timeout: Duration::from_secs(100),
        probe_lease: Duration::from_secs(10),
    };

    fn fail(b: &mut Breaker, now: i64) -> Option<Transition> {
        let (a, _) = b.admit(now, &S);
        assert_ne!(a, Admission::Reject { retry_at: 0 });
        b.record(
            now,
            Outcome::Failure,
            a == Admission::Probe,
            Some("HTTP 503"),
            &S,
        )
    }

    #[test]
    fn closed_stays_closed_below_the_threshold_and_success_resets_the_count() {
        let mut b = Breaker::new();
        assert!(fail(&mut b, 0).is_none());
        assert!(fail(&mut b, 1).is_none());
        assert_eq!(b.consecutive_failures, 2);
        let (a, _) = b.admit(2, &S);
        assert_eq!(a, Admission::Allow);
        b.record(2, Outcome::Success, false, None, &S);
        assert_eq!((b.state, b.consecutive_failures), (State::Closed, 0));
        assert_eq!((b.calls, b.successes, b.failures), (3, 1, 2));
        assert_eq!(b.last_error.as_deref(), Some("HTTP 503"));
    }

    #[test]
    fn opens_at_the_threshold_and_rejects_until_the_reset_timeout() {
        let mut b = Breaker::new();
        fail(&mut b, 0);
        fail(&mut b, 1);
        let t = fail(&mut b, 2).expect("opens on the third consecutive failure");
        assert_eq!((t.from, t.to), (State::Closed, State::Open));
        assert_eq!((b.opened_at, b.retry_at), (Some(2), Some(30_002)));
        assert_eq!(
            b.admit(30_001, &S).0,
            Admission::Reject { retry_at: 30_002 }
        );
        assert_eq!(b.rejections, 1);
    }

    #[test]
    fn not_counted_failures_neither_open_nor_reset() {
        let mut b = Breaker::new();
        fail(&mut b, 0);
        fail(&mut b, 1);
        b.admit(2, &S);
        assert!(b
            .record(2, Outcome::NotCounted, false, Some("HTTP 400"), &S)
            .is_none());
        assert_eq!(
            (b.state, b.consecutive_failures, b.failures),
            (State::Closed, 2, 2)
        );
    }

    #[test]
    fn quota_opens_at_once() {
        let mut b = Breaker::new();
        b.admit(0, &S);
        let t = b
            .record(0, Outcome::Quota, false, Some("insufficient_quota"), &S)
            .unwrap();
        assert_eq!(t.to, State::Open);
        assert_eq!(b.retry_at, Some(30_000));
    }

    #[test]
    fn one_probe_after_the_timeout_and_success_closes() {
        let mut b = Breaker::new();
        (0..3).for_each(|i| {
            fail(&mut b, i);
        });
        let (a, t) = b.admit(30_002, &S);
        assert_eq!(a, Admission::Probe);
        assert_eq!(t.unwrap().to, State::HalfOpen);
        assert_eq!(b.retry_at, Some(40_002), "the probe holds a lease");
        // Everyone else is rejected while the probe is out.
        assert_eq!(
            b.admit(30_003, &S).0,
            Admission::Reject { retry_at: 40_002 }
        );
        let t = b.record(30_500, Outcome::Success, true, None, &S).unwrap();
        assert_eq!((t.from, t.to), (State::HalfOpen, State::Closed));
        assert_eq!(
            (b.state, b.retry_at, b.opened_at, b.consecutive_failures),
            (State::Closed, None, None, 0)
        );
    }

    #[test]
    fn a_failed_probe_reopens_with_the_open_time_doubled_up_to_the_max() {
        let mut b = Breaker::new();
        (0..3).for_each(|i| {
            fail(&mut b, i);
        });
        let mut now = 30_002;
        let mut expected = [60_000, 100_000, 100_000].into_iter();
        for _ in 0..3 {
            assert_eq!(b.admit(now, &S).0, Admission::Probe);
            let t = b.record(now, Outcome::Failure, true, None, &S).unwrap();
            assert_eq!((t.from, t.to), (State::HalfOpen, State::Open));
            let want = expected.next().unwrap();
            assert_eq!(b.open_for_ms, want);
            assert_eq!(b.retry_at, Some(now + want));
            now += want;
        }
        // Success resets the doubling.
        b.admit(now, &S);
        b.record(now, Outcome::Success, true, None, &S);
        (0..3).for_each(|i| {
            fail(&mut b, now + i);
        });
        assert_eq!(b.open_for_ms, 30_000);
    }

    #[test]
    fn an_expired_probe_lease_lets_another_probe_through() {
        let mut b = Breaker::new();
        (0..3).for_each(|i| {
            fail(&mut b, i);
        });
        assert_eq!(b.admit(30_002, &S).0, Admission::Probe);
        // The prober died: nothing recorded. Before the lease ends: rejected.
        assert!(matches!(b.admit(40_001, &S).0, Admission::Reject { .. }));
        let (a, t) = b.admit(40_002, &S);
        assert_eq!(a, Admission::Probe);
        assert_eq!(
            (t.as_ref().unwrap().from, t.unwrap().to),
            (State::HalfOpen, State::HalfOpen)
        );
    }

    #[test]
    fn a_straggler_failing_while_half_open_does_not_reopen() {
        let mut b = Breaker::new();
        (0..3).for_each(|i| {
            fail(&mut b, i);
        });
        b.admit(30_002, &S);
        assert!(b
            .record(30_003, Outcome::Failure, false, None, &S)
            .is_none());
        assert_eq!(b.state, State::HalfOpen);
    }

    #[test]
    fn reset_closes_by_hand() {
        let mut b = Breaker::new();
        assert!(b.reset(0).is_none());
        (0..3).for_each(|i| {
            fail(&mut b, i);
        });
        let t = b.reset(5).unwrap();
        assert_eq!((t.from, t.to), (State::Open, State::Closed));
        assert_eq!(b.admit(6, &S).0, Admission::Allow);
    }
}
