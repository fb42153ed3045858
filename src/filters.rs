//! A strategy's filters (`when` / `skip`): whether a pull request is one the
//! strategy should review at all. A filtered run sends nothing and exits 0.

use globset::Glob;
use serde_json::Value;

use crate::config::triggers::Filters;
use crate::inputs::Gathered;

fn labels(payload: &Value) -> Vec<String> {
    payload
        .pointer("/pull_request/labels")
        .and_then(Value::as_array)
        .map(|ls| {
            ls.iter()
                .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn glob_match(globs: &[String], text: &str) -> bool {
    globs
        .iter()
        .filter_map(|g| Glob::new(g).ok())
        .any(|g| g.compile_matcher().is_match(text))
}

/// Why the run is filtered out by what the payload says, if it is.
pub(crate) fn from_payload(when: &Filters, skip: &Filters, payload: &Value) -> Option<String> {
    let pr = payload.get("pull_request")?;
    if skip.draft && pr.get("draft").and_then(Value::as_bool) == Some(true) {
        return Some("the pull request is a draft (skip.draft)".into());
    }
    if skip.bots {
        let login = pr
            .pointer("/user/login")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = pr
            .pointer("/user/type")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind == "Bot" || login.ends_with("[bot]") {
            return Some(format!(
                "the pull request was opened by the bot {login} (skip.bots)"
            ));
        }
    }
    let have = labels(payload);
    if let Some(l) = skip.labels.iter().find(|l| have.contains(l)) {
        return Some(format!(
            "the pull request has the label {l:?} (skip.labels)"
        ));
    }
    if !when.labels.is_empty() && !when.labels.iter().any(|l| have.contains(l)) {
        return Some(format!(
            "the pull request has none of the labels {} (when.labels)",
            when.labels.join(", ")
        ));
    }
    if !when.base_branches.is_empty() {
        let base = pr
            .pointer("/base/ref")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !glob_match(&when.base_branches, base) {
            return Some(format!(
                "the base branch {base:?} matches none of {} (when.base_branches)",
                when.base_branches.join(", ")
            ));
        }
    }
    None
}

/// Why the run is filtered out by the files it changes, if it is: no file of
/// its diff inputs matches `when.paths`. Without a diff, the filter cannot
/// say, and the run goes on (failing closed means reviewing).
pub(crate) fn from_paths(when: &Filters, inputs: &[Gathered]) -> Option<String> {
    if when.paths.is_empty() {
        return None;
    }
    let diffs: Vec<&Gathered> = inputs
        .iter()
        .filter(|g| {
            matches!(
                g.kind,
                crate::config::inputs::InputKind::GitDiff
                    | crate::config::inputs::InputKind::ChangedFiles
            )
        })
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let changed = diffs
        .iter()
        .flat_map(|g| {
            g.items.iter().map(|i| i.path.clone()).chain(
                g.excluded
                    .iter()
                    .map(|e| e.split(" (").next().unwrap_or(e).to_string()),
            )
        })
        .any(|p| glob_match(&when.paths, &p));
    (!changed).then(|| {
        format!(
            "no changed file matches {} (when.paths)",
            when.paths.join(", ")
        )
    })
}
