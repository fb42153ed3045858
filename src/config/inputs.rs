//! `[inputs.NAME]` in events.toml: what agents read besides the payload —
//! the diff, the changed files, other files, the git log, command output.
//! Parsed here into `InputSpec`s; `crate::inputs` gathers them at run time.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::file::HumanDuration;
use super::settle::Source;
use super::Problem;

/// Input names are ids, like agent ids.
pub(crate) fn is_valid_name(name: &str) -> bool {
    super::is_valid_id(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InputKind {
    GitDiff,
    ChangedFiles,
    Files,
    GitLog,
    Command,
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InputKind::GitDiff => "git_diff",
            InputKind::ChangedFiles => "changed_files",
            InputKind::Files => "files",
            InputKind::GitLog => "git_log",
            InputKind::Command => "command",
        })
    }
}

/// `[inputs.NAME]` as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InputFile {
    #[schemars(with = "InputKind")]
    pub kind: Spanned<InputKind>,
    pub description: Option<String>,
    // git_diff, changed_files
    pub exclude: Option<Vec<String>>,
    pub default_excludes: Option<bool>,
    pub context_lines: Option<u32>,
    pub include_untracked: Option<bool>,
    pub fetch: Option<bool>,
    pub order: Option<Vec<String>>,
    /// `incremental`: on a pull request with a ledger, only the commits
    /// since the head last reviewed; `full`: the whole pull request;
    /// `auto` (default): incremental for `pull_request.synchronize`.
    pub scope: Option<Scope>,
    // files
    pub globs: Option<Vec<String>>,
    // git_log
    pub range: Option<String>,
    pub since: Option<String>,
    pub max_commits: Option<u32>,
    // command
    pub argv: Option<Vec<String>>,
    pub timeout: Option<HumanDuration>,
    pub max_bytes: Option<u64>,
}

/// What a diff-based input reviews of a pull request reviewed before.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Scope {
    /// Incremental for `pull_request.synchronize`, full otherwise.
    #[default]
    Auto,
    /// The commits since the head the ledger last reviewed, when it is an
    /// ancestor of the new head (else the whole pull request, saying why).
    Incremental,
    /// Always the whole pull request.
    Full,
}

/// How a diff-based input reads the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DiffOptions {
    /// Globs (gitignore syntax) of files left out on purpose, defaults included.
    pub exclude: Vec<String>,
    pub context_lines: u32,
    pub include_untracked: bool,
    /// Fetch a missing base or head commit from `origin`.
    pub fetch: bool,
    /// Globs giving packing priority; files matching the first come first.
    /// Empty: source, then tests, then docs.
    pub order: Vec<String>,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum InputSource {
    GitDiff(DiffOptions),
    ChangedFiles(DiffOptions),
    Files {
        globs: Vec<String>,
    },
    GitLog {
        range: Option<String>,
        since_last_run: bool,
        max_commits: u32,
    },
    Command {
        argv: Vec<String>,
        #[serde(with = "super::humantime_serde_str")]
        timeout: Duration,
        max_bytes: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct InputSpec {
    pub name: String,
    pub description: Option<String>,
    pub source: InputSource,
}

impl InputSpec {
    pub(crate) fn kind(&self) -> InputKind {
        match self.source {
            InputSource::GitDiff(_) => InputKind::GitDiff,
            InputSource::ChangedFiles(_) => InputKind::ChangedFiles,
            InputSource::Files { .. } => InputKind::Files,
            InputSource::GitLog { .. } => InputKind::GitLog,
            InputSource::Command { .. } => InputKind::Command,
        }
    }
}

/// Lockfiles: left out of diffs by default, and named in the prompt.
pub(crate) const LOCKFILES: &[&str] = &[
    "*.lock",
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "poetry.lock",
    "uv.lock",
];
/// Vendored code: left out by default when the base branch already has it.
pub(crate) const VENDORED: &[&str] = &["vendor/**", "third_party/**", "node_modules/**"];
/// Generated code: left out by default when it says it was generated.
pub(crate) const GENERATED: &[&str] = &[
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.pb.go",
    "*_pb2.py",
    "*.generated.*",
];

/// Files left out of diffs unless `default_excludes = false` (lockfiles,
/// vendored and generated code), each only by the rules of
/// `inputs::git::classify`. Binary files are left out when git and their
/// content agree, and listed.
pub(crate) fn default_excludes() -> impl Iterator<Item = &'static str> {
    LOCKFILES.iter().chain(VENDORED).chain(GENERATED).copied()
}

pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_COMMAND_MAX_BYTES: u64 = 1024 * 1024;
const MAX_COMMAND_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Settle every `[inputs.NAME]`, reporting each problem.
pub(super) fn settle_inputs(
    files: &BTreeMap<Spanned<String>, InputFile>,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, InputSpec> {
    let mut out = BTreeMap::new();
    for (name, f) in files {
        if !is_valid_name(name.get_ref()) {
            problems.push(src.at(
                name,
                format!(
                    "input name {:?} must match ^[a-z0-9][a-z0-9-]*$",
                    name.get_ref()
                ),
            ));
            continue;
        }
        if let Some(spec) = settle_one(name.get_ref(), f, src, problems) {
            out.insert(name.get_ref().clone(), spec);
        }
    }
    out
}

fn settle_one(
    name: &str,
    f: &InputFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> Option<InputSpec> {
    let kind = *f.kind.get_ref();
    let before = problems.len();
    keys_of_other_kinds(name, f, src, problems);
    check_globs(name, f, src, problems);
    if f.context_lines.is_some_and(|n| n > 1000) {
        problems.push(src.at(
            &f.kind,
            format!("input {name:?}: context_lines must be from 0 to 1000"),
        ));
    }
    let source = match kind {
        InputKind::GitDiff => InputSource::GitDiff(diff_options(f)),
        InputKind::ChangedFiles => InputSource::ChangedFiles(diff_options(f)),
        InputKind::Files => files_source(name, f, src, problems),
        InputKind::GitLog => git_log_source(name, f, src, problems),
        InputKind::Command => command_source(name, f, src, problems),
    };
    (problems.len() == before).then(|| InputSpec {
        name: name.to_string(),
        description: f.description.clone(),
        source,
    })
}

/// Keys that belong to another kind are mistakes, not silently ignored.
fn keys_of_other_kinds(name: &str, f: &InputFile, src: &Source<'_>, problems: &mut Vec<Problem>) {
    let kind = *f.kind.get_ref();
    let set: [(&str, bool, &[InputKind]); 14] = {
        use InputKind::*;
        [
            ("exclude", f.exclude.is_some(), &[GitDiff, ChangedFiles]),
            (
                "default_excludes",
                f.default_excludes.is_some(),
                &[GitDiff, ChangedFiles],
            ),
            ("context_lines", f.context_lines.is_some(), &[GitDiff]),
            (
                "include_untracked",
                f.include_untracked.is_some(),
                &[GitDiff, ChangedFiles],
            ),
            ("fetch", f.fetch.is_some(), &[GitDiff, ChangedFiles, GitLog]),
            ("order", f.order.is_some(), &[GitDiff, ChangedFiles, Files]),
            ("scope", f.scope.is_some(), &[GitDiff, ChangedFiles]),
            ("globs", f.globs.is_some(), &[Files]),
            ("range", f.range.is_some(), &[GitLog]),
            ("since", f.since.is_some(), &[GitLog]),
            ("max_commits", f.max_commits.is_some(), &[GitLog]),
            ("argv", f.argv.is_some(), &[Command]),
            ("timeout", f.timeout.is_some(), &[Command]),
            ("max_bytes", f.max_bytes.is_some(), &[Command]),
        ]
    };
    for (key, present, kinds) in set {
        if present && !kinds.contains(&kind) {
            let fits: Vec<String> = kinds.iter().map(ToString::to_string).collect();
            problems.push(src.at(
                &f.kind,
                format!(
                    "input {name:?} of kind {kind} cannot have `{key}` (it belongs to {}); remove it",
                    fits.join(", ")
                ),
            ));
        }
    }
}

/// How a diff-based input reads the change: the default excludes (unless
/// turned off) and the input's own.
fn diff_options(f: &InputFile) -> DiffOptions {
    let mut exclude: Vec<String> = if f.default_excludes.unwrap_or(true) {
        default_excludes().map(str::to_string).collect()
    } else {
        Vec::new()
    };
    exclude.extend(f.exclude.clone().unwrap_or_default());
    DiffOptions {
        exclude,
        context_lines: f.context_lines.unwrap_or(3),
        include_untracked: f.include_untracked.unwrap_or(false),
        fetch: f.fetch.unwrap_or(false),
        order: f.order.clone().unwrap_or_default(),
        scope: f.scope.unwrap_or_default(),
    }
}

fn check_globs(name: &str, f: &InputFile, src: &Source<'_>, problems: &mut Vec<Problem>) {
    for globs in [&f.exclude, &f.order, &f.globs].into_iter().flatten() {
        for g in globs {
            let pattern = g.strip_prefix('!').unwrap_or(g);
            if let Err(e) = globset::Glob::new(pattern) {
                problems.push(src.at(
                    &f.kind,
                    format!("input {name:?}: glob {g:?} is not valid ({e})"),
                ));
            }
        }
    }
}

fn files_source(
    name: &str,
    f: &InputFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> InputSource {
    let globs = f.globs.clone().unwrap_or_default();
    if globs.is_empty() {
        problems.push(src.at(
            &f.kind,
            format!("input {name:?} of kind files needs globs = [\"docs/**/*.md\", ...]"),
        ));
    }
    InputSource::Files { globs }
}

fn git_log_source(
    name: &str,
    f: &InputFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> InputSource {
    let since_last_run = match f.since.as_deref() {
        None => false,
        Some("last_run") => true,
        Some(other) => {
            problems.push(src.at(
                &f.kind,
                format!(
                    "input {name:?}: since = {other:?} is not understood; the one value \
                     is \"last_run\" (use range = \"A..B\" for a commit range)"
                ),
            ));
            false
        }
    };
    let max_commits = f.max_commits.unwrap_or(200);
    if !(1..=100_000).contains(&max_commits) {
        problems.push(src.at(
            &f.kind,
            format!("input {name:?}: max_commits must be from 1 to 100000"),
        ));
    }
    if let Some(r) = &f.range {
        if r.starts_with('-') || r.trim().is_empty() {
            problems.push(src.at(
                &f.kind,
                format!("input {name:?}: range {r:?} must be a revision range like \"v1.0..HEAD\""),
            ));
        }
    }
    InputSource::GitLog {
        range: f.range.clone(),
        since_last_run,
        max_commits,
    }
}

fn command_source(
    name: &str,
    f: &InputFile,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> InputSource {
    let argv = f.argv.clone().unwrap_or_default();
    if argv.is_empty() || argv[0].trim().is_empty() {
        problems.push(src.at(
            &f.kind,
            format!(
                "input {name:?} of kind command needs argv = [\"program\", \"arg\", ...] \
                 (run without a shell)"
            ),
        ));
    }
    let max_bytes = f.max_bytes.unwrap_or(DEFAULT_COMMAND_MAX_BYTES);
    if !(1..=MAX_COMMAND_MAX_BYTES).contains(&max_bytes) {
        problems.push(src.at(
            &f.kind,
            format!("input {name:?}: max_bytes must be from 1 to {MAX_COMMAND_MAX_BYTES}"),
        ));
    }
    InputSource::Command {
        argv,
        timeout: f.timeout.map_or(DEFAULT_COMMAND_TIMEOUT, |d| d.0),
        max_bytes,
    }
}

/// Problems with `names` (an event's or agent's `inputs`) against the declared inputs.
pub(super) fn check_names(
    names: &[Spanned<String>],
    declared: &BTreeMap<Spanned<String>, InputFile>,
    whose: &str,
    src: &Source<'_>,
    problems: &mut Vec<Problem>,
) {
    let known: Vec<&str> = declared.keys().map(|k| k.get_ref().as_str()).collect();
    let mut seen = Vec::new();
    for n in names {
        let name = n.get_ref().as_str();
        if seen.contains(&name) {
            problems.push(src.at(n, format!("{whose} lists input {name:?} twice; remove one")));
        } else if !known.contains(&name) {
            let hint = if known.is_empty() {
                format!("declare it as [inputs.{name}] in events.toml")
            } else {
                format!(
                    "declare it as [inputs.{name}] in events.toml, or use one of: {}",
                    known.join(", ")
                )
            };
            problems.push(src.at(
                n,
                format!("{whose} uses input {name:?}, which is not declared; {hint}"),
            ));
        }
        seen.push(name);
    }
}
