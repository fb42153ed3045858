use super::*;

fn seen(title: &str, severity: Severity, anchor: &str) -> Seen {
    Seen {
        id: finding_id("s", Some("a.rs"), title, Some(anchor)),
        severity,
        title: title.into(),
        file: Some("a.rs".into()),
        line: Some(3),
        anchor: Some(anchor.into()),
    }
}

fn facts<'a>(
    head: &'a str,
    resolved: &'a [String],
    still: &'a dyn Fn(&Entry) -> Option<bool>,
    suppressed: &'a Suppressed<'a>,
) -> Facts<'a> {
    Facts {
        strategy: "s",
        head: Some(head),
        resolved,
        still_there: still,
        suppressed,
    }
}

fn none(_: &str, _: Option<&str>, _: &str) -> Option<String> {
    None
}

#[test]
fn ids_follow_the_text_not_the_line_number_or_spelling() {
    let a = finding_id("s", Some("a.rs"), "SQL injection!", Some("q(x)"));
    assert_eq!(a.len(), 10);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        a,
        finding_id("s", Some("a.rs"), "sql   injection", Some("q(x)"))
    );
    assert_ne!(
        a,
        finding_id("s", Some("a.rs"), "sql injection", Some("q(y)"))
    );
    assert_ne!(
        a,
        finding_id("t", Some("a.rs"), "sql injection", Some("q(x)"))
    );
    assert_ne!(
        a,
        finding_id("s", Some("b.rs"), "sql injection", Some("q(x)"))
    );
}

#[test]
fn a_blocker_on_an_untouched_file_stays_open_until_resolved() {
    let blocker = seen("Secret in code", Severity::Critical, "key = 1");
    let still = |_: &Entry| None;
    let first = reconcile(
        None,
        std::slice::from_ref(&blocker),
        &facts("h1", &[], &still, &none),
    );
    assert_eq!(first.findings[0].state, State::Open);
    assert_eq!(first.head.as_deref(), Some("h1"));

    // Next push: not raised again (its file was not touched), not resolved.
    let second = reconcile(Some(&first), &[], &facts("h2", &[], &still, &none));
    let kept = carried(&second, &[]);
    assert_eq!(kept.len(), 1);
    assert_eq!(action_of(kept[0]), Some(Action::Block));
    assert_eq!(second.findings[0].first_seen.as_deref(), Some("h1"));

    // An agent marks it resolved: fixed, no longer counted.
    let resolved = vec![blocker.id.clone()];
    let third = reconcile(Some(&second), &[], &facts("h3", &resolved, &still, &none));
    assert_eq!(third.findings[0].state, State::Fixed);
    assert!(carried(&third, &[]).is_empty());

    // Raised again later: open again.
    let fourth = reconcile(Some(&third), &[blocker], &facts("h4", &[], &still, &none));
    assert_eq!(fourth.findings[0].state, State::Open);
}

#[test]
fn gone_lines_outdate_and_dismissals_and_suppressions_stick() {
    let f = seen("Off by one", Severity::High, "for i in 0..=n");
    let there = |_: &Entry| Some(true);
    let gone = |_: &Entry| Some(false);
    let mut l = reconcile(
        None,
        std::slice::from_ref(&f),
        &facts("h1", &[], &there, &none),
    );
    assert!(dismiss(&mut l, &f.id, "maint", "fine here"));
    assert!(!dismiss(&mut l, "0000000000", "maint", ""));
    // Dismissed stays dismissed even when raised again.
    let l2 = reconcile(
        Some(&l),
        std::slice::from_ref(&f),
        &facts("h2", &[], &there, &none),
    );
    assert_eq!(l2.findings[0].state, State::Dismissed);
    assert_eq!(
        l2.findings[0].why.as_deref(),
        Some("dismissed by maint: fine here")
    );

    let l = reconcile(
        None,
        std::slice::from_ref(&f),
        &facts("h1", &[], &there, &none),
    );
    let l = reconcile(Some(&l), &[], &facts("h2", &[], &gone, &none));
    assert_eq!(l.findings[0].state, State::Outdated);

    let sup = |_: &str, file: Option<&str>, _: &str| {
        (file == Some("a.rs")).then(|| "suppressed: generated".to_string())
    };
    let l = reconcile(None, &[f], &facts("h1", &[], &there, &sup));
    assert_eq!(l.findings[0].state, State::Dismissed);
    assert_eq!(counts(&l, Some("h1")).dismissed, 1);
}

#[test]
fn the_ledger_is_capped_without_dropping_open_findings() {
    let still = |_: &Entry| None;
    let many: Vec<Seen> = (0..MAX_ENTRIES + 20)
        .map(|i| seen(&format!("finding {i}"), Severity::Low, "x"))
        .collect();
    let mut l = reconcile(None, &many, &facts("h1", &[], &still, &none));
    assert_eq!(l.findings.len(), MAX_ENTRIES);
    l.findings[0].state = State::Fixed;
    l.findings.push(l.findings[1].clone());
    l.findings.last_mut().unwrap().id = "ffffffffff".into();
    cap(&mut l.findings);
    assert_eq!(l.findings.len(), MAX_ENTRIES);
    assert!(l.findings.iter().all(|e| e.state == State::Open));
}

proptest::proptest! {
    /// A comment's body, a suppression file and a dismissal come from the
    /// pull request's people: whatever they hold, the readers answer.
    #[test]
    fn what_anyone_writes_never_panics_the_ledgers_readers(
        body in "\\PC{0,200}",
        lead in "(<!-- bsu:ledger v1 |<!-- bsu:ledger v|@@ -1 \\+|)",
    ) {
        let text = format!("{lead}{body}");
        let _ = block::read(&text);
        let _ = anchor::hunk_new_side(&text);
        let _ = anchor::normal(&text);
        let _ = suppress::Suppressions::parse(&text, "2026-12-07");
        let rule = format!("[[suppress]]\nid = {body:?}\npath = {body:?}\nuntil = {body:?}\n");
        let _ = suppress::Suppressions::parse(&rule, "2026-12-07");
        let none = |_: &str, _: Option<&str>, _: &str| None;
        let mut l = reconcile(None, &[], &facts("h", &[], &|_| None, &none));
        let _ = dismiss(&mut l, &body, &body, &body);
        let _ = finding_id(&body, Some(&body), &body, Some(&body));
    }
}
