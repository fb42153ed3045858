//! Whether a changed file is shown, left out on purpose, or unseen
//! (CONTRACT.md, "What counts as unseen"). A file is left out only by rules
//! the base branch controls: the base's `.gitattributes`, lockfile names, a
//! vendored folder that already existed, a generated file that says so, the
//! project's own `exclude` globs while the change leaves bsu's configuration
//! alone. An exclusion the change itself could have caused (its own
//! `.gitattributes`, one NUL byte in a script, a name that looks generated,
//! a new vendor folder) is not trusted: the file counts as unseen, so no
//! agent that was not shown it can approve.

use std::collections::HashSet;

use super::change::{touches_config, RawEntry};
use super::Git;
use crate::config::inputs::{DiffOptions, GENERATED, LOCKFILES, VENDORED};

/// What a file's content looked like, read by id or by the reading rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Probe {
    /// The first bytes (or all, when `complete`).
    Bytes {
        data: Vec<u8>,
        complete: bool,
    },
    Symlink(String),
    NotRead(String),
    /// Git had no object for it.
    Missing,
}

impl Probe {
    /// What `project_file::read_head` gave.
    pub(super) fn from_head((e, complete): (crate::project_file::Entry, bool)) -> Probe {
        match e {
            crate::project_file::Entry::File(data) => Probe::Bytes { data, complete },
            crate::project_file::Entry::Symlink(t) => Probe::Symlink(t),
            crate::project_file::Entry::NotRead(why) => Probe::NotRead(why.to_string()),
        }
    }
}

/// What becomes of one changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Shown: its patch, as text.
    Shown(String),
    /// Left out by a rule the base branch controls, and why.
    Excluded(String),
    /// Not shown, and not by a trusted rule: no agent can approve.
    Unseen(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    Lockfile,
    Vendored,
    Generated,
}

fn rule_of(glob: &str) -> Option<Rule> {
    if LOCKFILES.contains(&glob) {
        Some(Rule::Lockfile)
    } else if VENDORED.contains(&glob) {
        Some(Rule::Vendored)
    } else if GENERATED.contains(&glob) {
        Some(Rule::Generated)
    } else {
        None
    }
}

/// The default rule `path` falls under, if any (whether or not the input uses defaults).
pub(super) fn default_rule(path: &str) -> Option<Rule> {
    // Built once: a change may touch tens of thousands of files.
    static MATCHERS: std::sync::LazyLock<Vec<(Rule, crate::inputs::diff::Matcher)>> =
        std::sync::LazyLock::new(|| {
            [
                (Rule::Lockfile, LOCKFILES),
                (Rule::Vendored, VENDORED),
                (Rule::Generated, GENERATED),
            ]
            .into_iter()
            .map(|(rule, globs)| {
                let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
                (rule, crate::inputs::diff::Matcher::new(&globs))
            })
            .collect()
        });
    MATCHERS
        .iter()
        .find(|(_, m)| m.is_match(path))
        .map(|(rule, _)| *rule)
}

/// Extensions of files that are text whatever bytes they hold: one of these
/// with binary bytes is a text file carrying something, not a binary.
const TEXT_EXTENSIONS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "cmd",
    "py",
    "rb",
    "pl",
    "pm",
    "php",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "rs",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "java",
    "kt",
    "kts",
    "swift",
    "scala",
    "lua",
    "r",
    "sql",
    "yml",
    "yaml",
    "toml",
    "json",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "md",
    "txt",
    "cfg",
    "ini",
    "conf",
    "env",
    "mk",
    "cmake",
    "gradle",
    "tf",
    "nix",
    "dockerfile",
    "gitattributes",
    "gitignore",
    "lock",
    "vue",
    "svelte",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "dart",
    "groovy",
    "proto",
    "graphql",
    "svg",
];

fn text_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    match name.rsplit_once('.') {
        // No extension: scripts (bin/deploy), Makefile, Dockerfile.
        None => true,
        Some((_, ext)) => TEXT_EXTENSIONS.contains(&ext),
    }
}

/// UTF-8 without NUL; a character cut at the end of a partial read is fine.
pub(crate) fn is_text(data: &[u8]) -> bool {
    !data.contains(&0) && utf8_allowing_cut(data)
}

fn utf8_allowing_cut(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && data.len() - e.valid_up_to() < 4,
    }
}

/// Text apart from NUL bytes.
fn text_but_nul(data: &[u8]) -> bool {
    let without: Vec<u8> = data.iter().copied().filter(|b| *b != 0).collect();
    utf8_allowing_cut(&without)
}

/// Git wrote "Binary files … differ" for this file's patch.
pub(super) fn git_says_binary(section: &[u8]) -> bool {
    section
        .split(|b| *b == b'\n')
        .take(16)
        .any(|l| l.starts_with(b"Binary files ") || l == b"GIT binary patch")
}

/// A file that says it was generated, by the common conventions.
fn has_generated_marker(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    text.contains("@generated")
        || text
            .lines()
            .any(|l| l.contains("Code generated") && l.contains("DO NOT EDIT"))
}

/// Attributes the base branch sets.
#[derive(Debug, Default)]
pub(super) struct Attrs {
    /// `-diff` or `binary`.
    pub undiffable: HashSet<String>,
    /// `linguist-generated`.
    pub generated: HashSet<String>,
}

/// The base branch's attributes of the files that may need them (`git
/// check-attr --source`); none when git cannot tell (older than 2.40), so
/// nothing is excluded on the strength of an attribute then.
pub(super) async fn base_attributes(
    git: Git<'_>,
    base: &str,
    entries: &[RawEntry],
    texts: &[Option<Vec<u8>>],
) -> Attrs {
    let mut attrs = Attrs::default();
    if !super::change::has_attributes(base) {
        return attrs;
    }
    let mut input = Vec::new();
    for (e, t) in entries.iter().zip(texts) {
        let binary = t.as_deref().is_some_and(git_says_binary);
        if binary || default_rule(&e.name()).is_some() {
            input.extend_from_slice(&e.path);
            input.push(0);
        }
    }
    if input.is_empty() {
        return attrs;
    }
    let source = format!("--source={base}");
    let args = [
        "check-attr",
        "-z",
        "--stdin",
        &source,
        "diff",
        "linguist-generated",
    ];
    let Ok(out) = git.output_with(&args, input).await else {
        return attrs;
    };
    if !out.status.success() {
        return attrs;
    }
    let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    for t in fields.chunks_exact(3) {
        let path = String::from_utf8_lossy(t[0]).into_owned();
        match (t[1], t[2]) {
            (b"diff", b"unset") => {
                attrs.undiffable.insert(path);
            }
            (b"linguist-generated", b"set" | b"true") => {
                attrs.generated.insert(path);
            }
            _ => {}
        }
    }
    attrs
}

/// The rules of one input over one change.
pub(super) struct Rules<'a> {
    exclude: Vec<(String, crate::inputs::diff::Matcher)>,
    /// Every exclude glob at once: most files match none, and are told so in one look.
    any_exclude: crate::inputs::diff::Matcher,
    config_touched: bool,
    config_paths: &'a [String],
    attrs: &'a Attrs,
}

impl<'a> Rules<'a> {
    pub(super) fn new(
        opts: &DiffOptions,
        entries: &[RawEntry],
        config_paths: &'a [String],
        attrs: &'a Attrs,
    ) -> Self {
        Rules {
            any_exclude: crate::inputs::diff::Matcher::new(&opts.exclude),
            exclude: opts
                .exclude
                .iter()
                .map(|g| {
                    (
                        g.clone(),
                        crate::inputs::diff::Matcher::new(std::slice::from_ref(g)),
                    )
                })
                .collect(),
            config_touched: touches_config(entries, config_paths),
            config_paths,
            attrs,
        }
    }

    /// Files always shown whatever a glob says: what decides what is shown.
    fn always_shown(&self, name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or(name);
        base == ".gitattributes"
            || base == ".gitignore"
            || self.config_paths.iter().any(|c| match c.strip_suffix('*') {
                Some(dir) => name.starts_with(dir) && name.ends_with(".toml"),
                None => c == name,
            })
    }

    pub(super) fn fate(&self, e: &RawEntry, section: Option<&[u8]>, probe: Option<&Probe>) -> Fate {
        let name = e.name();
        let Some(section) = section else {
            return Fate::Unseen(
                "git listed it as changed, but no diff of it could be matched to its name".into(),
            );
        };
        if git_says_binary(section) {
            return self.binary(&name, probe);
        }
        if !self.always_shown(&name) {
            if let Some(f) = self.excluded(e, &name, probe) {
                return f;
            }
        }
        Fate::Shown(String::from_utf8_lossy(section).into_owned())
    }

    fn binary(&self, name: &str, probe: Option<&Probe>) -> Fate {
        if self.attrs.undiffable.contains(name) {
            return Fate::Excluded("binary by the base branch's .gitattributes".into());
        }
        match probe {
            Some(Probe::Bytes { data, .. }) if is_text(data) => Fate::Unseen(
                "git shows it as binary, but it is text: marked binary or -diff by a \
                 .gitattributes the base branch does not have"
                    .into(),
            ),
            Some(Probe::Bytes { data, .. }) if text_but_nul(data) || text_extension(name) => {
                Fate::Unseen("a text file holding NUL or other binary bytes; not shown".into())
            }
            Some(Probe::Bytes { .. }) => Fate::Excluded("binary".into()),
            Some(Probe::NotRead(why)) => Fate::Unseen(format!("not read: it {why}")),
            _ => Fate::Unseen("git shows it as binary and its content could not be checked".into()),
        }
    }

    fn excluded(&self, e: &RawEntry, name: &str, probe: Option<&Probe>) -> Option<Fate> {
        if !self.any_exclude.is_match(name) {
            return None;
        }
        let (glob, m) = self.exclude.iter().find(|(_, m)| m.is_match(name))?;
        Some(match rule_of(glob) {
            Some(Rule::Lockfile) => Fate::Excluded(format!("lockfile, excluded by rule {glob}")),
            Some(Rule::Vendored) => {
                let moved_in = e
                    .old_path
                    .as_deref()
                    .is_some_and(|o| !m.is_match(&String::from_utf8_lossy(o)));
                if e.status == b'A' || moved_in {
                    Fate::Unseen(format!(
                        "added under {} by this change: vendored code the base branch does not \
                         have is not excluded",
                        glob.trim_end_matches("/**")
                    ))
                } else {
                    Fate::Excluded(format!("vendored, excluded by rule {glob}"))
                }
            }
            Some(Rule::Generated) => {
                if self.attrs.generated.contains(name) {
                    Fate::Excluded("linguist-generated in the base branch's .gitattributes".into())
                } else if matches!(probe, Some(Probe::Bytes { data, .. }) if has_generated_marker(data))
                {
                    Fate::Excluded(format!("generated (it says so), excluded by rule {glob}"))
                } else {
                    Fate::Unseen(format!(
                        "named like generated code (rule {glob}) but it carries no generated \
                         marker and the base branch does not mark it linguist-generated"
                    ))
                }
            }
            None if self.config_touched => Fate::Unseen(format!(
                "excluded by rule {glob} of the configuration, which this change edits: not trusted"
            )),
            None => Fate::Excluded(format!("excluded by rule {glob}")),
        })
    }
}

/// What becomes of a file of a patch given with `--input` (which may come
/// from the pull request itself: `gh pr diff | bsu run --input diff=-`):
/// `None` to show it, else why it is left out or unseen. There is no base
/// branch to ask, so only what the patch itself proves is trusted.
pub(crate) fn given_patch_fate(
    path: &str,
    added: bool,
    binary: bool,
    section: &str,
    glob: Option<&str>,
    config_touched: bool,
) -> Option<Fate> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let always = base == ".gitattributes" || base == ".gitignore";
    if binary {
        return Some(if text_extension(path) {
            Fate::Unseen(
                "the given patch marks it binary, and a file of its kind is text: not shown".into(),
            )
        } else {
            Fate::Excluded("binary".into())
        });
    }
    let glob = glob.filter(|_| !always)?;
    Some(match rule_of(glob) {
        Some(Rule::Lockfile) => Fate::Excluded(format!("lockfile, excluded by rule {glob}")),
        Some(Rule::Vendored) if added => Fate::Unseen(format!(
            "added under {} by this change: vendored code the base branch does not have is not \
             excluded",
            glob.trim_end_matches("/**")
        )),
        Some(Rule::Vendored) => Fate::Excluded(format!("vendored, excluded by rule {glob}")),
        Some(Rule::Generated) if has_generated_marker(section.as_bytes()) => {
            Fate::Excluded(format!("generated (it says so), excluded by rule {glob}"))
        }
        Some(Rule::Generated) => Fate::Unseen(format!(
            "named like generated code (rule {glob}) but its change shows no generated marker"
        )),
        None if config_touched => Fate::Unseen(format!(
            "excluded by rule {glob} of the configuration, which this change edits: not trusted"
        )),
        None => Fate::Excluded(format!("excluded by rule {glob}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_told_apart() {
        assert!(is_text(b"echo hi\n"));
        assert!(!is_text(b"echo\0hi"));
        assert!(text_but_nul(b"echo\0hi"));
        assert!(!text_but_nul(b"\x89PNG\r\n\x1a\n\0\0\xff\xfe"));
        // A character cut by the probe's end is still text.
        assert!(is_text(&"é".as_bytes()[..1]));
        assert!(text_extension("deploy.sh") && text_extension("bin/deploy"));
        assert!(!text_extension("logo.png"));
        assert!(has_generated_marker(
            b"// Code generated by protoc. DO NOT EDIT.\n"
        ));
        assert!(has_generated_marker(b"/* @generated */"));
        assert!(!has_generated_marker(b"function x(){}"));
        assert_eq!(default_rule("a/b/yarn.lock"), Some(Rule::Lockfile));
        assert_eq!(default_rule("vendor/x/y.go"), Some(Rule::Vendored));
        assert_eq!(default_rule("util.generated.py"), Some(Rule::Generated));
        assert_eq!(default_rule("src/lib.rs"), None);
    }
}
