//! The ranges every duration and count from the command line, the
//! configuration and the environment must fall in, in one place, so no value
//! can overflow a deadline, a timestamp or an allocation. Values from servers
//! (`retry-after`) are bounded where they are read (`client::error`).

use std::time::Duration;

/// The shortest duration a setting may have.
pub(crate) const MIN_DURATION: Duration = Duration::from_millis(1);
/// The longest duration a setting may have: a year.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The most agent calls or requests in flight.
pub(crate) const MAX_CONCURRENCY: u32 = 1024;
/// The most retries of one call.
pub(crate) const MAX_RETRIES: u32 = 100;
/// The largest breaker failure threshold.
pub(crate) const MAX_FAILURE_THRESHOLD: u32 = 10_000;
/// The largest context window a model may be given, in tokens.
pub(crate) const MAX_CONTEXT_WINDOW: u32 = 10_000_000;
/// The most batches one agent may be called with.
pub(crate) const MAX_BATCHES: u32 = 100;
/// The largest event payload bsu reads.
pub(crate) const MAX_PAYLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// A value outside the bounds of the contract, and what the bounds are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OutOfBounds {
    #[error("invalid duration {text:?}: {why}; write e.g. \"90s\", \"5m\" or \"1h30m\"")]
    NotADuration { text: String, why: String },
    #[error("duration {0:?} is out of range; it must be from 1ms to 365days")]
    Duration(String),
    #[error("{n} is out of range; it must be from 1 to {max}")]
    Count { n: u32, max: u32 },
    #[error("must be a whole number from {min} to {max}")]
    WholeNumber { min: u32, max: u32 },
}

/// A humantime duration within `MIN_DURATION..=MAX_DURATION`, or why not.
pub(crate) fn duration(text: &str) -> Result<Duration, OutOfBounds> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| OutOfBounds::NotADuration {
        text: text.to_string(),
        why: e.to_string(),
    })?;
    if d < MIN_DURATION || d > MAX_DURATION {
        return Err(OutOfBounds::Duration(text.to_string()));
    }
    Ok(d)
}

/// `n` within `1..=max`, or why not.
pub(crate) fn count(n: u32, max: u32) -> Result<u32, OutOfBounds> {
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(OutOfBounds::Count { n, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1ms"), Ok(MIN_DURATION));
        assert_eq!(duration("365days"), Ok(MAX_DURATION));
        for bad in [
            "0s",
            "0",
            "366days",
            "10000years",
            "300000000000years",
            "soon",
            "",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert!(duration("0s")
            .unwrap_err()
            .to_string()
            .contains("from 1ms to 365days"));
        assert_eq!(count(8, MAX_CONCURRENCY), Ok(8));
        assert!(count(0, 5).is_err() && count(6, 5).is_err());
    }
}
