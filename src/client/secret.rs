//! API keys: read from the environment only when a run needs them, never
//! printed, and scrubbed from any text that leaves bsu (errors, reports).

use std::fmt;

/// An API key. `Debug` and `Display` never show it.
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    pub(crate) fn new(key: String) -> Self {
        ApiKey(key)
    }

    /// 8 hex digits of a SHA-256 of the key: tells credentials apart in
    /// breaker names without revealing anything usable of the key.
    pub(crate) fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("bsu-breaker\0{}", self.0).as_bytes());
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `text` with every occurrence of the key, and of any 12-character
    /// stretch of it (servers sometimes echo part of a key), replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        redact_key(&self.0, text)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// A key that cannot be sent: which character, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("holds {what} {place}")]
pub(crate) struct BadKey {
    what: String,
    place: String,
}

/// Why `key` cannot be used as it is, if it cannot: keys are printable ASCII
/// with no spaces; a stray `\r` or newline from a copied file is the usual case.
pub(crate) fn check_key(key: &str) -> Result<(), BadKey> {
    let bad = key.char_indices().find(|(_, c)| !c.is_ascii_graphic());
    match bad {
        None => Ok(()),
        Some((i, c)) => {
            let what = match c {
                '\r' => "a carriage return".to_string(),
                '\n' => "a newline".to_string(),
                ' ' | '\t' => "whitespace".to_string(),
                c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
                c => format!(
                    "a character that is not printable ASCII (U+{:04X})",
                    c as u32
                ),
            };
            let place = if i == 0 {
                "at its start".to_string()
            } else if i + c.len_utf8() == key.len() {
                "at its end".to_string()
            } else {
                format!("at character {}", key[..i].chars().count() + 1)
            };
            Err(BadKey { what, place })
        }
    }
}

/// The header value that carries `key` as `render` writes it (a protocol's
/// `Bearer KEY`, or the key), marked sensitive; `None` when the key cannot be
/// a header value (the plan refuses such keys first).
pub(crate) fn header_value(
    key: &ApiKey,
    render: impl Fn(&str) -> String,
) -> Option<reqwest::header::HeaderValue> {
    check_key(&key.0).ok()?;
    let text = render(&key.0);
    let mut value = reqwest::header::HeaderValue::from_str(&text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `Authorization: Bearer <key>`, marked sensitive.
pub(crate) fn bearer(key: &ApiKey) -> Option<reqwest::header::HeaderValue> {
    header_value(key, |k| format!("Bearer {k}"))
}

/// `text` with `key`, and any 12-character stretch of it, redacted: the
/// redaction set's rule (`crate::secrets`) for one key.
pub(crate) fn redact_key(key: &str, text: &str) -> String {
    crate::secrets::redact_value(key, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_stray_characters_are_refused() {
        assert_eq!(check_key("sk-abc"), Ok(()));
        assert_eq!(
            check_key("sk-abc\r").unwrap_err().to_string(),
            "holds a carriage return at its end"
        );
        assert_eq!(
            check_key(" sk").unwrap_err().to_string(),
            "holds whitespace at its start"
        );
        assert_eq!(
            check_key("sk\u{7}x").unwrap_err().to_string(),
            "holds a control character (U+0007) at character 3"
        );
        assert!(check_key("sk-é").is_err());
        let k = ApiKey::new("sk-abc".into());
        assert_eq!(k.fingerprint().len(), 8);
        assert!(!k.fingerprint().contains("abc"));
        assert_ne!(k.fingerprint(), ApiKey::new("sk-abd".into()).fingerprint());
    }

    #[test]
    fn debug_hides_the_key() {
        let k = ApiKey::new("sk-test-abcdefghijklmnop".into());
        assert_eq!(format!("{k:?}"), "ApiKey([redacted])");
    }

    #[test]
    fn whole_and_partial_echoes_are_redacted() {
        let key = "sk-proj-0123456789abcdefghij";
        let text = format!("bad key {key}; partial sk-proj-01234567…; tail 456789abcdefghij");
        let out = redact_key(key, &text);
        assert!(!out.contains(key), "{out}");
        assert!(!out.contains("456789abcdef"), "{out}");
        assert!(!out.contains("sk-proj-0123"), "{out}");
        assert!(out.contains("bad key [redacted]"), "{out}");
        assert_eq!(redact_key("", "keep"), "keep");
    }
}
