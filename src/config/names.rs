//! Names in the configuration that name nothing: what the message says,
//! and the nearest name that does ("did you mean").

/// An event's agent `id` that is none of the `agents` ids.
pub(super) fn unknown_agent<'a>(
    event: &str,
    id: &str,
    agents: impl Iterator<Item = &'a String>,
) -> String {
    let mut msg = format!(
        "event {event:?} names agent {id:?}, which does not exist; create agents/{id}.toml"
    );
    match closest(id, agents) {
        Some(near) => msg.push_str(&format!(" or did you mean {near:?}?")),
        None => msg.push_str(" or fix the name"),
    }
    msg
}

/// A provider `name` that is none of the `providers` names.
pub(super) fn unknown_provider<'a>(
    name: &str,
    providers: impl Iterator<Item = &'a String>,
) -> String {
    format!(
        "provider {name:?} is not defined; add [providers.{name}] to events.toml or use one of: {}",
        list(providers)
    )
}

/// `items` joined by commas, or "(none)".
pub(super) fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.map(String::as_str).collect();
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

/// The candidate nearest to `word` by edit distance, when it is near enough
/// to be a likely typo.
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a String>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn closest_only_when_near() {
        let names = ["security-agent".to_string(), "runner".to_string()];
        assert_eq!(
            closest("secruity-agent", names.iter()),
            Some("security-agent")
        );
        assert_eq!(closest("architect", names.iter()), None);
    }
}
