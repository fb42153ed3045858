//! Small text helpers shared by every layer that shows text to people.

/// `s` cut to at most `max` characters, with `…` when something was cut.
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_by_characters() {
        assert_eq!(super::ellipsize("héllo", 5), "héllo");
        assert_eq!(super::ellipsize("héllo", 2), "hé…");
        assert_eq!(super::ellipsize("", 0), "");
    }
}
