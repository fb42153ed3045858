use super::*;
use crate::config::inputs::InputKind;
use crate::inputs::SourceInfo;

fn input(name: &str, kind: InputKind, items: Vec<(&str, String)>) -> Gathered {
    Gathered {
        name: name.into(),
        kind,
        source: SourceInfo::default(),
        items: items
            .into_iter()
            .map(|(p, t)| Item {
                path: p.into(),
                label: "modified".into(),
                text: t,
                rank: 0,
                hunks: None,
            })
            .collect(),
        excluded: vec![],
        unseen: vec![],
        exit_code: None,
    }
}

fn allowance<'a>(tokens: u64, max_batches: u32, shared: &'a [String]) -> Allowance<'a> {
    Allowance {
        encoding: Encoding::Estimate,
        tokens,
        max_batches,
        shared,
        own: &[],
    }
}

#[test]
fn everything_fits_in_one_batch() {
    let g = input(
        "diff",
        InputKind::GitDiff,
        vec![("a.rs", "+a\n".into()), ("b.rs", "+b\n".into())],
    );
    let names = ["diff".to_string()];
    let (batches, s) = pack(&[g], &allowance(10_000, 5, &names), &mut Counter::default());
    assert_eq!(batches.len(), 1);
    assert!(batches[0].shared.contains("### diff · a.rs (modified)"));
    assert!(batches[0].shared.find("a.rs") < batches[0].shared.find("b.rs"));
    assert!(s.unseen.is_empty() && s.clipped.is_empty());
}

#[test]
fn overflow_goes_to_batches_then_is_named() {
    let big = "+x\n".repeat(100); // ~100 tokens by the estimate
    let items = (0..6)
        .map(|i| (["f0", "f1", "f2", "f3", "f4", "f5"][i], big.clone()))
        .collect();
    let g = input("diff", InputKind::GitDiff, items);
    let names = ["diff".to_string()];
    let (batches, s) = pack(&[g], &allowance(250, 2, &names), &mut Counter::default());
    assert_eq!((batches.len(), s.batches), (2, 2));
    assert_eq!(
        s.unseen,
        [
            "diff:f4 (past max_batches = 2)",
            "diff:f5 (past max_batches = 2)"
        ]
    );
}

#[test]
fn an_oversized_file_is_clipped_to_its_hunks_then_head_and_tail() {
    let mut g = input(
        "changed",
        InputKind::ChangedFiles,
        vec![("big.rs", "line\n".repeat(3000))],
    );
    g.items[0].hunks = Some("@@ -1 +1 @@\n-a\n+b\n".into());
    let names = ["changed".to_string()];
    let (batches, s) = pack(
        &[g.clone()],
        &allowance(500, 5, &names),
        &mut Counter::default(),
    );
    assert!(
        batches[0].shared.contains(HUNKS_NOTE),
        "{}",
        batches[0].shared
    );
    assert!(s.unseen.is_empty(), "hunks are the change: seen");

    g.items[0].hunks = None;
    let (batches, s) = pack(&[g], &allowance(500, 5, &names), &mut Counter::default());
    assert!(batches[0]
        .shared
        .contains("lines cut here to fit the token budget"));
    assert_eq!(s.clipped.len(), 1);
    assert_eq!(s.unseen.len(), 1, "a head-and-tail clip was not seen whole");
    assert!(tokens::estimate(&batches[0].shared) <= 500 + 64);
}

#[test]
fn a_commands_unseen_parts_carry_over() {
    let mut g = input("lint", InputKind::Command, vec![("lint", "out".into())]);
    g.unseen.push("lint: `x` did not finish within 1s".into());
    let names = ["lint".to_string()];
    let (_, s) = pack(&[g], &allowance(1000, 1, &names), &mut Counter::default());
    assert_eq!(s.unseen, ["lint: `x` did not finish within 1s"]);
}

#[test]
fn counting_stops_at_the_cap_and_packing_is_the_same() {
    // 60 files of about 100 tokens, two inputs, batches of 250 tokens.
    let big = "+x\n".repeat(100);
    let names: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    let items: Vec<(&str, String)> = names.iter().map(|f| (f.as_str(), big.clone())).collect();
    let inputs = [
        input("diff", InputKind::GitDiff, items.clone()),
        input("more", InputKind::GitDiff, items),
    ];
    let shared = ["diff".to_string()];
    let own = ["more".to_string()];
    let allow = Allowance {
        own: &own,
        ..allowance(250, 3, &shared)
    };
    let mut whole = Counter::default();
    whole.precount(Encoding::Estimate, &inputs, (u64::MAX, u64::MAX));
    assert_eq!(whole.memo.len(), 60);
    // Capped at what three batches hold: a few items are counted, the
    // rest only if packing needs them, and the batches are the same.
    let mut capped = Counter::default();
    capped.precount(Encoding::Estimate, &inputs, (750, 250));
    assert!(
        (7..60).contains(&capped.memo.len()),
        "{}",
        capped.memo.len()
    );
    let a = pack(&inputs, &allow, &mut whole);
    let b = pack(&inputs, &allow, &mut capped);
    assert_eq!(a, b);
    assert_eq!(a.1.batches, 3);
    assert!(a.1.unseen.iter().any(|u| u.starts_with("more:")));
    // A huge first file counts one prompt's worth toward the cap: the
    // files after it are still counted up front.
    let mut huge = inputs.clone();
    huge[0].items[0].text = "+x\n".repeat(5_000);
    let mut after = Counter::default();
    after.precount(Encoding::Estimate, &huge, (750, 250));
    assert!(after.memo.len() >= 7, "{}", after.memo.len());
    // A cap of nothing counts nothing up front; packing counts what it needs.
    let mut none = Counter::default();
    none.precount(Encoding::Estimate, &inputs, (0, 250));
    assert!(none.memo.len() <= 1);
    assert_eq!(pack(&inputs, &allow, &mut none), a);
}
