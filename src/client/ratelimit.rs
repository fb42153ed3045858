//! Rate-limit headers, read so a run slows down before a provider's limit
//! rather than after it (OpenAI `x-ratelimit-remaining-*` / `-reset-*`,
//! Anthropic `anthropic-ratelimit-*-remaining` / `-reset`).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// How long to hold further requests to this provider: the longest reset of
/// a limit this reply left at zero, at most 24 hours; `None` when none is spent.
pub(crate) fn pace(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let mut wait: Option<Duration> = None;
    let mut hold = |d: Option<Duration>| {
        if let Some(d) = d {
            wait = Some(wait.map_or(d, |w| w.max(d)));
        }
    };
    for dim in ["requests", "tokens"] {
        if get(&format!("x-ratelimit-remaining-{dim}")) == Some("0") {
            hold(get(&format!("x-ratelimit-reset-{dim}")).and_then(go_duration));
        }
    }
    for dim in ["requests", "tokens", "input-tokens", "output-tokens"] {
        if get(&format!("anthropic-ratelimit-{dim}-remaining")) == Some("0") {
            hold(get(&format!("anthropic-ratelimit-{dim}-reset")).and_then(until));
        }
    }
    wait.map(|w| w.min(crate::client::error::MAX_RETRY_AFTER))
}

/// Go's duration format as OpenAI sends it: `1.491s`, `250ms`, `6m0s`, `1h2m3s`.
pub(crate) fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = text.trim();
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
    (total.is_finite() && total >= 0.0).then(|| Duration::try_from_secs_f64(total).ok())?
}

/// An RFC 3339 instant, as a wait from now (zero when it has passed).
fn until(text: &str) -> Option<Duration> {
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn every_reset_format_parses() {
        assert_eq!(go_duration("1.491s"), Some(Duration::from_millis(1491)));
        assert_eq!(go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(go_duration("soon"), None);
        assert_eq!(go_duration(""), None);
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
