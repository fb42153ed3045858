//! The run's redaction set (CONTRACT.md, "Secrets"): every secret the run
//! knows — provider keys, the GitHub token, the webhook URL and its path,
//! and the variables named in `[secrets] redact` — redacted from all text
//! before bsu keeps, prints, records, sends or publishes it; and the names of
//! their variables, removed from the environment of git and of commands.
//! A leaf: it imports nothing else of the crate.

/// What replaces a secret.
pub(crate) const MASK: &str = "[redacted]";
/// Values shorter than this are not redacted piecewise (too likely to be ordinary text).
const MIN_LEN: usize = 8;
/// A stretch of a secret this long is redacted too: servers echo parts of keys.
const WINDOW: usize = 12;

#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    names: Vec<String>,
    /// Longest first, so a value that contains another is replaced whole.
    values: Vec<String>,
    /// Every value and every `WINDOW`-character stretch of one, found in one
    /// pass (leftmost-longest: a whole value wins over its stretches); built
    /// on first use, after the set is complete.
    matcher: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl Secrets {
    /// Variable `name` is a secret: scrubbed from children, its value redacted.
    pub(crate) fn add_var(&mut self, name: &str, value: Option<&str>) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
        if let Some(v) = value {
            self.add_value(v);
        }
    }

    /// A secret value with no variable of its own (a URL's path, say).
    pub(crate) fn add_value(&mut self, value: &str) {
        let v = value.trim();
        if v.chars().count() < MIN_LEN || self.values.iter().any(|x| x == v) {
            return;
        }
        self.values.push(v.to_string());
        self.values.sort_by_key(|x| std::cmp::Reverse(x.len()));
        // The set changed: the automaton is built again on next use.
        self.matcher = std::sync::OnceLock::new();
    }

    /// A webhook URL: the whole URL, its path and its query are secrets.
    pub(crate) fn add_url(&mut self, url: &str) {
        self.add_value(url);
        if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
            if let Some(i) = rest.find(['/', '?']) {
                let path = &rest[i..];
                self.add_value(path);
                if let Some((p, q)) = path.split_once('?') {
                    self.add_value(p);
                    self.add_value(q);
                }
            }
        }
    }

    /// Names of the variables children must not inherit.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret, and any 12-character stretch of one, replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        match self.matcher.get_or_init(|| matcher(&self.values)) {
            Some(m) => {
                let mut out = String::with_capacity(text.len());
                m.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(MASK);
                    true
                });
                out
            }
            None => text.to_string(),
        }
    }

    /// Every string in `v`, redacted in place.
    pub(crate) fn redact_json(&self, v: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        match v {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.redact_json(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.redact_json(x)),
            _ => {}
        }
    }
}

/// An automaton over every value and each `WINDOW`-character stretch of it.
fn matcher(values: &[String]) -> Option<aho_corasick::AhoCorasick> {
    let mut patterns: Vec<String> = Vec::new();
    for v in values {
        patterns.push(v.clone());
        let chars: Vec<char> = v.chars().collect();
        if chars.len() > WINDOW {
            for start in 0..=chars.len() - WINDOW {
                patterns.push(chars[start..start + WINDOW].iter().collect());
            }
        }
    }
    if patterns.is_empty() {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&patterns)
        .ok()
}

/// `text` with `secret`, and every `WINDOW`-character stretch of it, replaced.
pub(crate) fn redact_value(secret: &str, text: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    let mut out = if text.contains(secret) {
        text.replace(secret, MASK)
    } else {
        text.to_string()
    };
    let chars: Vec<char> = secret.chars().collect();
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
    fn every_secret_and_its_pieces_are_redacted() {
        let mut s = Secrets::default();
        s.add_var("GITHUB_TOKEN", Some("ghs_0123456789abcdefghijKLMN"));
        s.add_var("UNSET", None);
        s.add_url("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX");
        s.add_value("short");
        assert_eq!(s.names(), ["GITHUB_TOKEN", "UNSET"]);
        let text = "token ghs_0123456789abcdefghijKLMN, half 0123456789abcd, \
                    hook /services/T000/B000/XXXXXXXXXXXXXXXX and short";
        let out = s.redact(text);
        assert!(!out.contains("ghs_0123"), "{out}");
        assert!(!out.contains("3456789abcd"), "{out}");
        assert!(!out.contains("XXXXXXXX"), "{out}");
        assert!(out.ends_with("and short"), "{out}");
        // A secret added after the set was used is redacted too.
        let mut s = s;
        s.add_value("later-SECRET-value");
        assert_eq!(s.redact("x later-SECRET-value y"), "x [redacted] y");
        let mut v = serde_json::json!({"a": ["x ghs_0123456789abcdefghijKLMN"], "n": 1});
        s.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["x [redacted]"], "n": 1}));
    }
}
