//! What agents read besides the payload, gathered once per run before any
//! model call: the diff, the changed files, other files, the git log and
//! command output (CONTRACT.md, "Inputs"). The engine never shells out; it
//! receives these as plain data and packs them per agent (`engine::pack`).

mod command;
pub(crate) mod diff;
mod error;
mod files;
pub(crate) mod git;

pub(crate) use git::file_at;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::inputs::{InputKind, InputSource, InputSpec};
pub(crate) use error::InputError;

use crate::error::Result;

/// One piece an input is made of: a file of a diff, a file's text, or the
/// whole output of a command or log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// The file's path, or the input's name for a single-piece input.
    pub path: String,
    /// What it is: "modified", "added", "renamed from old.rs", "exit code 1", ...
    pub label: String,
    pub text: String,
    /// Packing priority: lower goes first.
    pub rank: u32,
    /// For a changed file's full text: its hunks, which a clip falls back to.
    pub hunks: Option<String>,
}

/// Where an input came from, for the report.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
pub(crate) struct SourceInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// `None` with a base: the working tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// How base and head were chosen: "flags", "payload", "merge-base with origin/main", "--input".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub globs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// An incremental review: the files of the change not sent again
    /// (unchanged since the head last reviewed), and their patches' bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_resent: Option<NotResent>,
}

/// What an incremental review left out of the whole change.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub(crate) struct NotResent {
    pub files: u64,
    pub bytes: u64,
}

/// One input, gathered.
#[derive(Debug, Clone)]
pub(crate) struct Gathered {
    pub name: String,
    pub kind: InputKind,
    pub source: SourceInfo,
    pub items: Vec<Item>,
    /// Left out on purpose (configuration, binary files), with why.
    pub excluded: Vec<String>,
    /// What could not be gathered whole (a command that timed out, output
    /// cut at its cap): an agent given this input has not seen all of it.
    pub unseen: Vec<String>,
    pub exit_code: Option<i32>,
}

impl Gathered {
    pub(crate) fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.text.len() as u64).sum()
    }

    /// Every secret of the run taken out of what was gathered.
    pub(crate) fn redact(&mut self, secrets: &crate::secrets::Secrets) {
        if secrets.is_empty() {
            return;
        }
        for i in &mut self.items {
            i.text = secrets.redact(&i.text);
            i.path = secrets.redact(&i.path);
            i.label = secrets.redact(&i.label);
            if let Some(h) = &mut i.hunks {
                *h = secrets.redact(h);
            }
        }
        for s in self.excluded.iter_mut().chain(self.unseen.iter_mut()) {
            *s = secrets.redact(s);
        }
    }

    /// SHA-256 of every item, in order, as gathered.
    pub(crate) fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for i in &self.items {
            h.update(i.path.as_bytes());
            h.update(b"\0");
            h.update(i.text.as_bytes());
            h.update(b"\0");
        }
        crate::text::hex(&h.finalize())
    }
}

/// What gathering needs to know of the run.
pub(crate) struct Context<'a> {
    pub root: &'a Path,
    pub payload: &'a Value,
    /// `--base` / `--head`.
    pub base: Option<&'a str>,
    pub head: Option<&'a str>,
    /// `--input NAME=FILE|-`, read.
    pub overrides: &'a BTreeMap<String, String>,
    /// The event's last decided run, for `since = "last_run"`; `None`: there was none.
    pub last_run: Option<LastRun>,
    /// stdin and stderr are terminals: a diff may default to the working tree.
    pub interactive: bool,
    /// Variables removed from the environment of git and commands: the run's secrets.
    pub scrub: &'a [String],
    /// The event, and the head commit the pull request's ledger last
    /// reviewed: where an incremental review starts.
    pub event: &'a str,
    pub reviewed: Option<&'a str>,
}

impl Context<'_> {
    pub(crate) fn git(&self) -> git::Git<'_> {
        git::Git {
            root: self.root,
            scrub: self.scrub,
        }
    }
}

/// What `since = "last_run"` starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LastRun {
    /// The commit the run reviewed, when it recorded one.
    pub head: Option<String>,
}

/// Gather `specs` in order. An input that cannot be gathered at all (no
/// base to diff against, a missing commit, not a git repository) is an
/// error: nothing is sent. A command that fails is not: its output is the input.
pub(crate) async fn gather(specs: &[&InputSpec], ctx: &Context<'_>) -> Result<Vec<Gathered>> {
    let mut out = Vec::new();
    let mut range_cache: Option<git::Range> = None;
    for spec in specs {
        if let Some(text) = ctx.overrides.get(&spec.name) {
            out.push(overridden(spec, text));
            continue;
        }
        let g = match &spec.source {
            InputSource::GitDiff(opts) | InputSource::ChangedFiles(opts) => {
                let full = match &range_cache {
                    Some(r) => r.clone(),
                    None => {
                        let r = git::resolve_range(ctx, &spec.name, opts.fetch).await?;
                        range_cache = Some(r.clone());
                        r
                    }
                };
                let range = git::scoped(ctx, full, opts.scope).await;
                git::diff_input(ctx.git(), spec, opts, &range).await?
            }
            InputSource::Files { globs } => files::gather(ctx.root, &spec.name, globs)?,
            InputSource::GitLog {
                range,
                since_last_run,
                max_commits,
            } => {
                git::log_input(
                    ctx,
                    spec,
                    range.as_deref(),
                    *since_last_run,
                    *max_commits,
                    range_cache.as_ref(),
                )
                .await?
            }
            InputSource::Command {
                argv,
                timeout,
                max_bytes,
            } => command::run(ctx, &spec.name, argv, *timeout, *max_bytes).await,
        };
        out.push(g);
    }
    Ok(out)
}

/// `--input NAME=...`: the given text replaces what the input would gather;
/// a diff is split per file like one from git.
fn overridden(spec: &InputSpec, text: &str) -> Gathered {
    let source = SourceInfo {
        resolved_by: Some("--input".into()),
        ..SourceInfo::default()
    };
    let (items, excluded, unseen) = match &spec.source {
        InputSource::GitDiff(opts) => {
            let p = diff::items_from_patch(text, opts, &spec.name);
            (p.items, p.excluded, p.unseen)
        }
        _ => (
            vec![Item {
                path: spec.name.clone(),
                label: "given with --input".into(),
                text: text.to_string(),
                rank: 0,
                hunks: None,
            }],
            Vec::new(),
            Vec::new(),
        ),
    };
    Gathered {
        name: spec.name.clone(),
        kind: spec.kind(),
        source,
        items,
        excluded,
        unseen,
        exit_code: None,
    }
}

/// Read `--input NAME=FILE|-` values (at most 64 MiB each); `known` are the declared inputs.
pub(crate) fn read_overrides(
    args: &[String],
    known: &BTreeMap<String, InputSpec>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stdin_used = false;
    for arg in args {
        let Some((name, from)) = arg.split_once('=') else {
            return Err(InputError::BadOverride(arg.clone()).into());
        };
        if !known.contains_key(name) {
            return Err(InputError::Undeclared {
                name: name.to_string(),
                declared: known.keys().cloned().collect(),
            }
            .into());
        }
        let text = if from == "-" {
            if stdin_used {
                return Err(InputError::StdinTwice.into());
            }
            stdin_used = true;
            crate::fsio::read_capped(std::io::stdin().lock(), "stdin", "an --input value")
        } else {
            std::fs::File::open(PathBuf::from(from))
                .and_then(|f| crate::fsio::read_capped(f, from, "an --input value"))
        }
        .map_err(|e| InputError::OverrideUnreadable {
            name: name.to_string(),
            from: from.to_string(),
            error: e.to_string(),
        })?;
        out.insert(name.to_string(), text);
    }
    Ok(out)
}
