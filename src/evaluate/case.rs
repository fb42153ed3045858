//! Eval cases: `DIR/<case>/` with `expect.toml`, the change (`change.patch`,
//! or `[change] repo`, `base` and `head`) and an optional `payload.json`.
//! Read by the project-file rule (regular files, no symlinks), checked with
//! every problem named at its file and line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::problem::Problem;
use crate::project_file::{self, Entry};
use crate::vocab::{Action, Severity};

/// Files of a case read at most (a patch larger than this is refused).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// `expect.toml` as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    /// The event to run this case as (default: `bsu eval`'s EVENT, else
    /// `pull_request.opened`).
    pub event: Option<String>,
    /// The decision expected: one (`"approve"`) or a range
    /// (`{ at_least = "request_changes" }`, `{ at_most = "manual_review" }`).
    #[schemars(with = "Option<ExpectedDecision>")]
    pub decision: Option<Spanned<ExpectedDecision>>,
    /// The change as two commits of a repository, instead of change.patch.
    pub change: Option<ChangeFile>,
    /// The golden findings: what a good review finds.
    #[serde(default)]
    #[schemars(with = "Vec<Golden>")]
    pub finding: Vec<Spanned<Golden>>,
    /// Known false-positive traps: what a good review does not say.
    #[serde(default)]
    #[schemars(with = "Vec<Golden>")]
    pub absent: Vec<Spanned<Golden>>,
}

/// The decision a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum ExpectedDecision {
    Exactly(Action),
    Range {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_least: Option<Action>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_most: Option<Action>,
    },
}

impl ExpectedDecision {
    pub(crate) fn admits(self, a: Action) -> bool {
        match self {
            ExpectedDecision::Exactly(x) => x == a,
            ExpectedDecision::Range { at_least, at_most } => {
                at_least.is_none_or(|l| a >= l) && at_most.is_none_or(|m| a <= m)
            }
        }
    }

    /// Must the panel ask for changes (or block)?
    pub(crate) fn should_block(self) -> bool {
        match self {
            ExpectedDecision::Exactly(x) => x >= Action::RequestChanges,
            ExpectedDecision::Range { at_least, .. } => {
                at_least.is_some_and(|l| l >= Action::RequestChanges)
            }
        }
    }

    /// Must it not (a clean change)?
    pub(crate) fn clean(self) -> bool {
        match self {
            ExpectedDecision::Exactly(x) => x < Action::RequestChanges,
            ExpectedDecision::Range { at_most, .. } => {
                at_most.is_some_and(|m| m < Action::RequestChanges)
            }
        }
    }

    /// `approve`, `≥ request_changes`, `≤ manual_review`, `comment..block`.
    pub(crate) fn label(self) -> String {
        match self {
            ExpectedDecision::Exactly(x) => x.to_string(),
            ExpectedDecision::Range {
                at_least: Some(l),
                at_most: Some(m),
            } => format!("{l}..{m}"),
            ExpectedDecision::Range {
                at_least: Some(l), ..
            } => format!(">= {l}"),
            ExpectedDecision::Range {
                at_most: Some(m), ..
            } => format!("<= {m}"),
            ExpectedDecision::Range { .. } => "any".into(),
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeFile {
    /// The repository, relative to the case's folder (or absolute).
    pub repo: PathBuf,
    pub base: String,
    pub head: String,
}

/// A golden finding (or a trap): what it is, how severe, and where when known.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Golden {
    pub description: String,
    #[serde(default = "medium")]
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u64>,
}

fn medium() -> Severity {
    Severity::Medium
}

/// Where a case's change comes from.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// The text of change.patch.
    Patch(String),
    /// Two commits of a repository, diffed when the case runs.
    Git {
        repo: PathBuf,
        base: String,
        head: String,
    },
}

/// A case, read and checked.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub name: String,
    pub event: Option<String>,
    pub decision: Option<ExpectedDecision>,
    pub change: Change,
    /// payload.json's text, when there is one.
    pub payload: Option<String>,
    pub golden: Vec<Golden>,
    pub absent: Vec<Golden>,
}

/// The project's own folder of cases, `evals/`, by the project-file rule:
/// `Ok(None)` when there is none (or `evals` is not a folder); a problem
/// when it is a link or lies behind one, since the pull request can put
/// one there to have cases read from elsewhere on the machine.
pub(crate) fn project_cases(root: &Path, shown: &str) -> Result<Option<PathBuf>, Problem> {
    use project_file::NotRead;
    match project_file::folder(root, "evals", false) {
        Ok(dir) if dir.is_dir() => Ok(Some(dir)),
        Err(why @ (NotRead::Symlink | NotRead::BehindSymlink(_))) => Err(Problem::file(
            shown,
            format!("{why}; bsu reads the project's cases only from a real folder"),
        )),
        _ => Ok(None),
    }
}

/// Every case under `dir` (each folder holding an expect.toml), by name,
/// or every problem found; problems name files under `shown`.
pub(crate) fn load(dir: &Path, shown: &str) -> Result<Vec<Case>, Vec<Problem>> {
    let shown = shown.to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![Problem::file(
            &shown,
            format!("cannot read the folder of cases ({e}); make one with a folder per case"),
        )]
    })?;
    // A folder holding an expect.toml is a case; one reached through a
    // link is refused by name, not passed over (the pull request can edit
    // the cases, and a case left out changes what is measured).
    let mut linked = Vec::new();
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| dir.join(e.file_name()).join("expect.toml").exists())
        .filter(|e| match e.file_type() {
            Ok(t) if t.is_symlink() => {
                linked.push(e.file_name().to_string_lossy().into_owned());
                false
            }
            Ok(t) => t.is_dir(),
            Err(_) => false,
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    linked.sort();
    let mut problems: Vec<Problem> = linked
        .into_iter()
        .map(|n| {
            Problem::file(
                format!("{shown}/{n}"),
                "is a symlink; bsu reads a case only from a real folder of the cases \
                 (symlinks are never followed): copy the case in instead",
            )
        })
        .collect();
    if names.is_empty() && problems.is_empty() {
        return Err(vec![Problem::file(
            &shown,
            "no cases: a case is a folder holding an expect.toml (docs/eval.md)",
        )]);
    }
    let mut cases = Vec::new();
    for name in names {
        match load_case(&dir.join(&name), &name, &shown) {
            Ok(c) => cases.push(c),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems)
    }
}

/// A file of the case, as text; `Ok(None)` when it is not there.
fn read(dir: &Path, rel: &str, shown: &str) -> Result<Option<String>, Problem> {
    match project_file::read(dir, rel, MAX_FILE) {
        Entry::File(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Problem::file(shown, "is not UTF-8 text")),
        Entry::Symlink(_) => Err(Problem::file(
            shown,
            "is a symbolic link; a case's files must be regular files",
        )),
        Entry::NotRead(project_file::NotRead::Missing) => Ok(None),
        Entry::NotRead(why) => Err(Problem::file(shown, format!("the file {why}"))),
    }
}

fn load_case(dir: &Path, name: &str, root: &str) -> Result<Case, Vec<Problem>> {
    let at = |f: &str| format!("{root}/{name}/{f}");
    let expect_at = at("expect.toml");
    let text = read(dir, "expect.toml", &expect_at)
        .map_err(|p| vec![p])?
        .unwrap_or_default();
    let file: ExpectFile = toml::from_str(&text).map_err(|e| {
        vec![match e.span() {
            Some(span) => Problem::at(&expect_at, &text, span, e.message()),
            None => Problem::file(&expect_at, e.message()),
        }]
    })?;
    let mut problems = Vec::new();
    for g in file.finding.iter().chain(&file.absent) {
        check_golden(g, &expect_at, &text, &mut problems);
    }
    if let Some(d) = &file.decision {
        if let ExpectedDecision::Range {
            at_least: Some(l),
            at_most: Some(m),
        } = d.get_ref()
        {
            if l > m {
                problems.push(Problem::at(
                    &expect_at,
                    &text,
                    d.span(),
                    format!("at_least = {l:?} is above at_most = {m:?}; no decision is both"),
                ));
            }
        }
    }
    let patch = read(dir, "change.patch", &at("change.patch")).map_err(|p| vec![p])?;
    let change = change(dir, patch, file.change, &expect_at, &mut problems);
    let payload = read(dir, "payload.json", &at("payload.json")).map_err(|p| vec![p])?;
    if let Some(p) = &payload {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(p) {
            problems.push(Problem {
                file: at("payload.json"),
                line: Some(e.line()),
                column: Some(e.column()),
                message: format!("is not JSON: {e}"),
            });
        }
    }
    match change {
        Some(change) if problems.is_empty() => Ok(Case {
            name: name.to_string(),
            event: file.event,
            decision: file.decision.map(|d| d.into_inner()),
            change,
            payload,
            golden: file.finding.into_iter().map(Spanned::into_inner).collect(),
            absent: file.absent.into_iter().map(Spanned::into_inner).collect(),
        }),
        _ => Err(problems),
    }
}

/// The case's change: its patch, or two commits of a repository (relative
/// to the case folder) — exactly one of them.
fn change(
    dir: &Path,
    patch: Option<String>,
    git: Option<ChangeFile>,
    expect_at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Change> {
    match (patch, git) {
        (Some(p), None) => Some(Change::Patch(p)),
        (None, Some(c)) => Some(Change::Git {
            repo: if c.repo.is_absolute() {
                c.repo
            } else {
                dir.join(c.repo)
            },
            base: c.base,
            head: c.head,
        }),
        (Some(_), Some(_)) => {
            problems.push(Problem::file(
                expect_at,
                "both change.patch and [change] are given; keep one",
            ));
            None
        }
        (None, None) => {
            problems.push(Problem::file(
                expect_at,
                "no change: add change.patch beside it, or [change] repo, base and head",
            ));
            None
        }
    }
}

fn check_golden(g: &Spanned<Golden>, file: &str, text: &str, problems: &mut Vec<Problem>) {
    let v = g.get_ref();
    let mut bad = |m: String| problems.push(Problem::at(file, text, g.span(), m));
    if v.description.trim().is_empty() {
        bad("description is empty; say what the issue is".into());
    }
    if v.line.is_some() && v.file.is_none() {
        bad("line without file; name the file too".into());
    }
    if v.line == Some(0) {
        bad("line = 0; lines count from 1".into());
    }
    match (v.line, v.end_line) {
        (None, Some(_)) => bad("end_line without line; give line too".into()),
        (Some(l), Some(e)) if e < l => bad(format!("end_line = {e} is before line = {l}")),
        _ => {}
    }
}
