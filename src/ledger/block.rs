//! The ledger's hidden block in the sticky comment: one HTML comment line,
//! `<!-- bsu:ledger v1 {json} -->`, versioned and size-capped. Every `-` in
//! the JSON is written `\u002d`, so no title (the pull request's text) can
//! close the comment early; the JSON holds no other `-`.

use super::{Ledger, State, VERSION};

const OPEN: &str = "<!-- bsu:ledger v";
const CLOSE: &str = " -->";

/// The block at most, in bytes: GitHub takes 65,536 characters per comment
/// and the visible part needs its room.
pub(crate) const MAX_BYTES: usize = 24_000;

/// The ledger as one hidden line, closed findings dropped (oldest first),
/// then anchors, until it fits `MAX_BYTES`.
pub(crate) fn write(ledger: &Ledger) -> String {
    let mut l = ledger.clone();
    loop {
        let json = serde_json::to_string(&l).expect("plain data serialises");
        let line = format!("{OPEN}{VERSION} {}{CLOSE}", json.replace('-', "\\u002d"));
        if line.len() <= MAX_BYTES {
            return line;
        }
        if let Some(i) = l.findings.iter().position(|e| e.state != State::Open) {
            l.findings.remove(i);
        } else if l.findings.iter().any(|e| e.anchor.is_some()) {
            for e in &mut l.findings {
                e.anchor = None;
            }
        } else if l.findings.pop().is_none() {
            return line;
        }
    }
}

/// Why a block was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unread {
    #[error("its ledger is of version {0}, which this bsu does not read")]
    Version(String),
    #[error("its ledger does not parse ({0})")]
    Malformed(String),
}

/// The ledger in a comment's body: `Ok(None)` when it holds no block.
pub(crate) fn read(body: &str) -> Result<Option<Ledger>, Unread> {
    let Some(start) = body.find(OPEN) else {
        return Ok(None);
    };
    let rest = &body[start + OPEN.len()..];
    let (version, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if version != VERSION.to_string() {
        return Err(Unread::Version(crate::text::one_line(version, 20)));
    }
    let end = rest
        .find(CLOSE)
        .ok_or_else(|| Unread::Malformed("it is not closed".into()))?;
    let ledger: Ledger = serde_json::from_str(rest[..end].trim())
        .map_err(|e| Unread::Malformed(crate::text::one_line(&e.to_string(), 120)))?;
    if ledger.version != VERSION {
        return Err(Unread::Version(ledger.version.to_string()));
    }
    Ok(Some(ledger))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Entry, State};
    use crate::vocab::Severity;

    fn entry(id: &str, title: &str, state: State) -> Entry {
        Entry {
            id: id.into(),
            severity: Severity::High,
            title: title.into(),
            file: Some("src/a.rs".into()),
            line: Some(3),
            anchor: Some("let x = a - b; // -->".into()),
            first_seen: Some("abc".into()),
            last_seen: Some("abc".into()),
            state,
            why: None,
            review: None,
            changed: None,
            closed: false,
            discussion: None,
        }
    }

    #[test]
    fn a_block_round_trips_and_no_title_can_close_it() {
        let l = Ledger {
            version: VERSION,
            strategy: "pull_request.*".into(),
            head: Some("abc".into()),
            review: None,
            findings: vec![entry("0123456789", "evil --> <!-- title", State::Open)],
        };
        let line = write(&l);
        assert_eq!(line.matches("-->").count(), 1, "{line}");
        assert!(line.ends_with(" -->"));
        let body = format!("<!-- bsu:sticky strategy=x -->\nhello\n{line}\n");
        assert_eq!(read(&body), Ok(Some(l)));
        assert_eq!(read("no block"), Ok(None));
    }

    #[test]
    fn other_versions_and_garbage_are_not_read() {
        assert!(matches!(
            read("<!-- bsu:ledger v9 {} -->"),
            Err(Unread::Version(_))
        ));
        assert!(matches!(
            read("<!-- bsu:ledger v1 {\"version\": 1, -->"),
            Err(Unread::Malformed(_))
        ));
        assert!(matches!(
            read("<!-- bsu:ledger v1 {\"version\": 1"),
            Err(Unread::Malformed(_))
        ));
    }

    #[test]
    fn a_ledger_too_big_drops_closed_findings_first() {
        let mut l = Ledger {
            version: VERSION,
            strategy: "s".into(),
            ..Ledger::default()
        };
        for i in 0..400 {
            let state = if i % 2 == 0 {
                State::Fixed
            } else {
                State::Open
            };
            l.findings
                .push(entry(&format!("{i:010}"), &"long title ".repeat(8), state));
        }
        let line = write(&l);
        assert!(line.len() <= MAX_BYTES);
        let back = read(&line).unwrap().unwrap();
        assert!(back.findings.iter().all(|e| e.state == State::Open));
        assert!(!back.findings.is_empty());
    }
}
