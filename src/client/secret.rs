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

    pub(crate) fn expose(&self) -> &str {
        &self.0
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

const WINDOW: usize = 12;
const MASK: &str = "[redacted]";

pub(crate) fn redact_key(key: &str, text: &str) -> String {
    if key.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(key, MASK);
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > WINDOW {
        for start in 0..=chars.len() - WINDOW {
            let piece: String = chars[start..start + WINDOW].iter().collect();
            if out.contains(&piece) {
                out = out.replace(&piece, MASK);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
