//! The layering rule of docs/ARCHITECTURE.md, checked: every `crate::` path
//! in the crate's own code (comments and tests left out) must point to a
//! module in a lower layer than the one it is written in.

use std::collections::BTreeMap;
use std::path::Path;

/// The layer of each module, from the table of docs/ARCHITECTURE.md
/// (rows `| N | `a`, `b` | ... |`).
fn layers(doc: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(n), Some(mods)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        for m in mods.split(',') {
            let m = m.trim().trim_matches('`');
            if !m.is_empty() {
                out.insert(m.to_string(), n);
            }
        }
    }
    out
}

/// The module a file under `src/` belongs to: its first path component.
fn module_of(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or(rel);
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments and without its `mod tests`.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Modules `code` names with `crate::` paths.
fn targets(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `$crate::` in macros and `crate::{...}` groups are not module names here.
        let before = rest[..i].chars().last();
        if !name.is_empty() && before != Some('$') && before.is_none_or(|c| !c.is_alphanumeric()) {
            out.push(name);
        }
        rest = after;
    }
    out
}

/// Every import of `files` (path under `src/`, text) that breaks `layers`,
/// and every module without a layer, as sentences.
fn violations(files: &[(String, String)], layers: &BTreeMap<String, u32>) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        let from = module_of(rel);
        // The crate root, this test, and test files sit outside the layers.
        if ["lib", "main", "architecture"].contains(&from.as_str()) || rel.ends_with("/tests.rs") {
            continue;
        }
        let Some(&lf) = layers.get(&from) else {
            out.push(format!(
                "{rel}: module `{from}` has no layer in docs/ARCHITECTURE.md"
            ));
            continue;
        };
        for to in targets(&code(text)) {
            if to == from || to == "run" {
                continue;
            }
            match layers.get(&to) {
                Some(&lt) if lt < lf => {}
                Some(&lt) => out.push(format!(
                    "{rel}: `{from}` (layer {lf}) imports `crate::{to}` (layer {lt}); imports point down"
                )),
                None => out.push(format!(
                    "{rel}: imports `crate::{to}`, which has no layer in docs/ARCHITECTURE.md"
                )),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap_or_default()));
        }
    }
}

#[test]
fn imports_point_down() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(repo.join("docs/ARCHITECTURE.md")).unwrap();
    let layers = layers(&doc);
    assert!(
        layers.len() > 20,
        "the layer table was not found: {layers:?}"
    );
    let mut files = Vec::new();
    sources(&repo.join("src"), &repo.join("src"), &mut files);
    let broken = violations(&files, &layers);
    assert!(
        broken.is_empty(),
        "imports that break docs/ARCHITECTURE.md:\n{}",
        broken.join("\n")
    );
}

#[test]
fn an_import_that_points_up_fails() {
    let layers =
        layers("| 0 | `text` | leaves |\n| 1 | `config` | |\n| 2 | `engine`, `report` | |");
    let files = vec![
        (
            "text.rs".to_string(),
            "use crate::config::X; // crate::engine".to_string(),
        ),
        (
            "config/mod.rs".to_string(),
            "use crate::text::hex;".to_string(),
        ),
        (
            "engine/a.rs".to_string(),
            "fn f() { crate::report::x(); }".to_string(),
        ),
        ("odd.rs".to_string(), String::new()),
    ];
    assert_eq!(
        violations(&files, &layers),
        [
            "engine/a.rs: `engine` (layer 2) imports `crate::report` (layer 2); imports point down",
            "odd.rs: module `odd` has no layer in docs/ARCHITECTURE.md",
            "text.rs: `text` (layer 0) imports `crate::config` (layer 1); imports point down",
        ]
    );
}
