//! Rate-limit headers, read so a run slows down before a provider's limit
//! rather than after it (OpenAI `x-ratelimit-remaining-*` / `-reset-*`,
//! Anthropic `anthropic-ratelimit-*-remaining` / `-reset`).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::error::{header, server_wait, MAX_RETRY_AFTER};

/// How long to hold further requests to this provider: the longest reset of
/// a limit this reply left at zero, at most 24 hours; `None` when none is spent.
pub(crate) fn pace(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| header(headers, n);
    let mut wait: Option<Duration> = None;
    let mut hold = |d: Option<Duration>| {
        if let Some(d) = d {
            wait = Some(wait.map_or(d, |w| w.max(d)));
        }
    };
    for dim in ["requests", "tokens"] {
        if get(&format!("x-ratelimit-remaining-{dim}")) == Some("0") {
            hold(get(&format!("x-ratelimit-reset-{dim}")).and_then(reset));
        }
    }
    for dim in ["requests", "tokens", "input-tokens", "output-tokens"] {
        if get(&format!("anthropic-ratelimit-{dim}-remaining")) == Some("0") {
            hold(get(&format!("anthropic-ratelimit-{dim}-reset")).and_then(until));
        }
    }
    wait
}

/// A reset as OpenAI-compatible servers send it: plain seconds (`20`,
/// `0.5`) or Go's duration format (`1.491s`, `250ms`, `6m0s`, `1h2m3s`),
/// at most 24 hours.
pub(crate) fn reset(text: &str) -> Option<Duration> {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(secs) => server_wait(secs),
        Err(_) => go_duration(text).and_then(server_wait),
    }
}

/// Go's duration format, in seconds.
fn go_duration(text: &str) -> Option<f64> {
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// An RFC 3339 instant, as a wait from now (zero when it has passed).
fn until(text: &str) -> Option<Duration> {
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn every_reset_format_parses() {
        assert_eq!(reset("1.491s"), Some(Duration::from_millis(1491)));
        assert_eq!(reset("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(reset("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(reset("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(reset("20"), Some(Duration::from_secs(20)), "plain seconds");
        assert_eq!(reset(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(reset("soon"), None);
        assert_eq!(reset(""), None);
        assert_eq!(reset("-1"), None);
        assert_eq!(reset("-1s"), None);
        assert_eq!(reset("1.2.3s"), None);
    }

    #[test]
    fn absurd_resets_hold_at_most_a_day() {
        for absurd in ["1e300", "99999999999999999999999h"] {
            assert_eq!(reset(absurd), Some(MAX_RETRY_AFTER), "{absurd}");
        }
        assert_eq!(reset("NaN"), None);
        assert_eq!(reset("inf"), None);
    }

    #[test]
    fn only_spent_limits_hold_requests() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("3"),
        );
        h.insert("x-ratelimit-reset-requests", HeaderValue::from_static("2s"));
        assert_eq!(pace(&h), None);
        h.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("0"),
        );
        h.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("1.5s"));
        assert_eq!(pace(&h), Some(Duration::from_millis(1500)));
        let mut a = HeaderMap::new();
        a.insert(
            "anthropic-ratelimit-requests-remaining",
            HeaderValue::from_static("0"),
        );
        a.insert(
            "anthropic-ratelimit-requests-reset",
            HeaderValue::from_static("2000-01-01T00:00:00Z"),
        );
        assert_eq!(
            pace(&a),
            Some(Duration::ZERO),
            "a reset in the past holds nothing"
        );
    }
}
