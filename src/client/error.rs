//! Failed calls: how each failure is classified (CONTRACT.md, "Failures and
//! the breaker") and how provider error bodies become one readable message.

use std::time::Duration;

/// What kind of failure a call ended in; decides retries, the breaker and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// Connection errors, timeouts, 408, 409, 429, 5xx: may go away by waiting.
    Transient,
    /// 402, or 429 with code `insufficient_quota`: waiting will not help.
    Quota,
    /// Any other 4xx, or a reply bsu cannot read: the request or the key is wrong.
    Permanent,
}

/// What kept a request from getting an HTTP answer, when something did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Fault {
    /// It got an answer (or failed for another reason: read the status).
    #[default]
    None,
    /// The host answered, but nothing listens on the port.
    Refused,
    /// The host name does not resolve.
    NoSuchHost,
    /// The server could not be reached otherwise.
    Unreachable,
}

/// One failed attempt.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    pub class: FailureClass,
    pub status: Option<u16>,
    /// Why no HTTP answer came, when none did.
    pub fault: Fault,
    /// Readable and already redacted.
    pub message: String,
    /// From `retry-after-ms` or `retry-after`, when the server sent one.
    pub retry_after: Option<Duration>,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Classify an HTTP status and the provider's error code/type.
pub(crate) fn classify(status: u16, code: Option<&str>, kind: Option<&str>) -> FailureClass {
    let quota = |s: Option<&str>| s.is_some_and(|s| s == "insufficient_quota");
    match status {
        402 => FailureClass::Quota,
        429 if quota(code) || quota(kind) => FailureClass::Quota,
        408 | 409 | 429 => FailureClass::Transient,
        500..=599 => FailureClass::Transient,
        _ => FailureClass::Permanent,
    }
}

/// The parts of an error body that OpenAI-compatible servers and Anthropic send.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub kind: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Read an error body of any of the shapes seen in the wild:
/// OpenAI `{"error": {"message", "type", "code"}}`, Anthropic
/// `{"type": "error", "error": {"type", "message"}}`, `{"error": "text"}`,
/// `{"message": "text"}`, an HTML page, or plain text.
pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let s = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let err = v.get("error").unwrap_or(&v);
        if let Some(msg) = err.as_str() {
            return ErrorBody {
                message: Some(msg.to_string()),
                ..ErrorBody::default()
            };
        }
        return ErrorBody {
            kind: err.get("type").and_then(s),
            code: err.get("code").and_then(s),
            message: err
                .get("message")
                .and_then(s)
                .or_else(|| v.get("message").and_then(s))
                .or_else(|| v.get("detail").and_then(s)),
        };
    }
    if trimmed.is_empty() {
        return ErrorBody::default();
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("<!doctype") || lower.starts_with("<html") {
        let title = lower
            .find("<title>")
            .and_then(|i| {
                let rest = &trimmed[i + 7..];
                rest.find('<').map(|j| rest[..j].trim().to_string())
            })
            .filter(|t| !t.is_empty());
        return ErrorBody {
            message: Some(match title {
                Some(t) => format!("the server answered with an HTML page ({t})"),
                None => "the server answered with an HTML page".into(),
            }),
            ..ErrorBody::default()
        };
    }
    ErrorBody {
        message: Some(crate::text::ellipsize(trimmed, 300)),
        ..ErrorBody::default()
    }
}

/// "HTTP 429 rate_limit_error (code rate_limit_exceeded): Slow down [request id req_1]"
pub(crate) fn describe(status: u16, body: &ErrorBody, request_id: Option<&str>) -> String {
    let mut out = format!("HTTP {status}");
    if let Some(kind) = &body.kind {
        out.push(' ');
        out.push_str(kind);
    }
    if let Some(code) = body
        .code
        .as_ref()
        .filter(|c| Some(*c) != body.kind.as_ref())
    {
        out.push_str(&format!(" (code {code})"));
    }
    match &body.message {
        Some(m) => {
            out.push_str(": ");
            out.push_str(&crate::text::ellipsize(m, 500));
        }
        None => {
            if let Some(reason) = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
            {
                out.push_str(&format!(": {reason}"));
            }
        }
    }
    if let Some(id) = request_id {
        out.push_str(&format!(" [request id {id}]"));
    }
    out
}

/// The longest wait a server can ask for; anything longer (`1e300`) is read as this.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A header's value as trimmed text; `None` when absent or not visible ASCII.
pub(crate) fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A wait a server asked for, in seconds: at most `MAX_RETRY_AFTER`;
/// negative and non-finite values are no wait at all (`None`).
pub(crate) fn server_wait(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| {
        Duration::try_from_secs_f64(secs)
            .unwrap_or(MAX_RETRY_AFTER)
            .min(MAX_RETRY_AFTER)
    })
}

/// `retry-after-ms`, then `retry-after` (seconds or an HTTP date), at most
/// `MAX_RETRY_AFTER`. Negative, non-numeric and non-finite values are ignored.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| header(headers, name);
    let secs = server_wait;
    if let Some(wait) = get("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| secs(ms / 1000.0))
    {
        return Some(wait);
    }
    let value = get("retry-after")?;
    if let Ok(n) = value.parse::<f64>() {
        return secs(n);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use FailureClass::*;
        let cases: &[(u16, Option<&str>, FailureClass)] = &[
            (408, None, Transient),
            (409, None, Transient),
            (429, Some("rate_limit_exceeded"), Transient),
            (429, Some("insufficient_quota"), Quota),
            (402, None, Quota),
            (500, None, Transient),
            (503, None, Transient),
            (599, None, Transient),
            (400, None, Permanent),
            (401, Some("invalid_api_key"), Permanent),
            (403, None, Permanent),
            (404, None, Permanent),
            (422, None, Permanent),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(*status, *code, None), *want, "{status} {code:?}");
        }
        assert_eq!(classify(429, None, Some("insufficient_quota")), Quota);
    }

    /// From whole error bodies to a class, as the client does it.
    #[test]
    fn classification_from_bodies() {
        use FailureClass::*;
        let cases: &[(u16, &[u8], FailureClass)] = &[
            (429, br#"{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}"#, Quota),
            (429, br#"{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}"#, Transient),
            (401, br#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}"#, Permanent),
            (529, br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#, Transient),
            (400, br#"{"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}"#, Permanent),
            (402, br#"{"error": "payment required"}"#, Quota),
            (503, br#"{"error": "model is loading"}"#, Transient),
            (502, b"<html><head><title>502 Bad Gateway</title></head></html>", Transient),
            (404, b"<!DOCTYPE html><html><title>Not Found</title></html>", Permanent),
        ];
        for (status, body, want) in cases {
            let b = parse_error_body(body);
            let got = classify(*status, b.code.as_deref(), b.kind.as_deref());
            assert_eq!(got, *want, "{status} {}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn error_bodies_of_every_shape() {
        let openai = br#"{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#;
        assert_eq!(
            parse_error_body(openai),
            ErrorBody {
                kind: Some("insufficient_quota".into()),
                code: Some("insufficient_quota".into()),
                message: Some("You exceeded your current quota".into()),
            }
        );
        let anthropic =
            br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let b = parse_error_body(anthropic);
        assert_eq!(
            (b.kind.as_deref(), b.message.as_deref()),
            (Some("overloaded_error"), Some("Overloaded"))
        );
        let string = br#"{"error": "model not found"}"#;
        assert_eq!(
            parse_error_body(string).message.as_deref(),
            Some("model not found")
        );
        let html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        assert_eq!(
            parse_error_body(html).message.as_deref(),
            Some("the server answered with an HTML page (502 Bad Gateway)")
        );
        assert_eq!(
            parse_error_body(b"upstream connect error")
                .message
                .as_deref(),
            Some("upstream connect error")
        );
        assert_eq!(parse_error_body(b""), ErrorBody::default());
    }

    #[test]
    fn one_readable_message() {
        let b = parse_error_body(br#"{"error": {"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"}}"#);
        assert_eq!(
            describe(429, &b, Some("req_1")),
            "HTTP 429 requests (code rate_limit_exceeded): Slow down [request id req_1]"
        );
        assert_eq!(
            describe(503, &ErrorBody::default(), None),
            "HTTP 503: Service Unavailable"
        );
    }

    #[test]
    fn retry_after_headers() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)), "ms wins");
        let mut h = HeaderMap::new();
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let got = retry_after(&h).unwrap();
        assert!(
            got > Duration::from_secs(27) && got <= Duration::from_secs(30),
            "{got:?}"
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("whenever"));
        assert_eq!(retry_after(&h), None);
        for (name, value) in [
            ("retry-after", "1e300"),
            ("retry-after-ms", "1e300"),
            ("retry-after", "18446744073709551616"),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER), "{name}: {value}");
        }
        for value in ["-1", "NaN", "inf", "-inf"] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), None, "{value}");
        }
    }
}
