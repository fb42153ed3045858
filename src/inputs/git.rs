//! The `git` command line, run as argv (never through a shell): which
//! commits a change spans, its diff, the new text of its files, and the log.
//! Revisions from a payload are used only when they look like commit ids.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::diff;
use super::{Context, Gathered, Item, SourceInfo};
use crate::config::inputs::{DiffOptions, InputSource, InputSpec};
use crate::error::{Error, Result};

/// The object id of git's empty tree: the base of a branch's first push.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// Which commits a change spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Range {
    pub base: String,
    /// `None`: the working tree (staged and unstaged changes).
    pub head: Option<String>,
    pub resolved_by: String,
}

fn git(root: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotepath=off", "-c", "color.ui=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .output()
}

/// Run git and return its stdout, or a usage error naming what failed.
fn git_ok(root: &Path, args: &[&str], what: &str) -> Result<String> {
    let out = git(root, args).map_err(|e| {
        Error::Usage(format!(
            "{what}: could not run git ({e}); install git, or supply the input with --input"
        ))
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "{what}: git {} failed: {}",
            args.first().copied().unwrap_or(""),
            crate::text::one_line(&err, 400)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A revision the user gave (a flag or the config): never an option.
fn check_rev(rev: &str, from: &str) -> Result<()> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains(char::is_whitespace) {
        return Err(Error::Usage(format!(
            "{from} {rev:?} is not a revision; give a commit, branch or tag"
        )));
    }
    Ok(())
}

/// A commit id from a payload: hex only, so payload text never reaches git as anything else.
fn payload_sha(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    (s.len() >= 7 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.to_string())
}

fn commit_exists(root: &Path, rev: &str) -> bool {
    git(root, &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok_and(|o| o.status.success())
}

/// Make sure `rev` is a commit here, fetching it from origin when allowed.
fn ensure(root: &Path, rev: &str, which: &str, input: &str, fetch: bool) -> Result<String> {
    if rev == EMPTY_TREE {
        return Ok(rev.to_string());
    }
    if !commit_exists(root, rev) && fetch {
        let _ = git(root, &["fetch", "--no-tags", "--quiet", "origin", rev]);
    }
    if !commit_exists(root, rev) {
        return Err(Error::Usage(format!(
            "input {input}: the {which} commit {rev} is not in this clone (a shallow checkout?). \
             In GitHub Actions set `fetch-depth: 0` on actions/checkout, or run \
             `git fetch --no-tags origin {rev}`; or set `fetch = true` on [inputs.{input}] to let \
             bsu fetch it"
        )));
    }
    let sha = git_ok(
        root,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
        "rev-parse",
    )?;
    Ok(sha.trim().to_string())
}

/// Base and head of the change: `--base`/`--head`, else the payload
/// (`pull_request.base.sha`/`head.sha`, a push's `before`/`after`), else at
/// a terminal the working tree against the merge-base with the upstream or
/// default branch.
pub(crate) fn resolve_range(ctx: &Context<'_>, input: &str, fetch: bool) -> Result<Range> {
    let root = ctx.root;
    git_ok(root, &["rev-parse", "--git-dir"], &format!("input {input}")).map_err(|_| {
        Error::Usage(format!(
            "input {input}: {} is not inside a git repository; run bsu in the repository, or \
             supply the input with --input {input}=FILE",
            root.display()
        ))
    })?;
    if let Some(base) = ctx.base {
        check_rev(base, "--base")?;
        let base = ensure(root, base, "base", input, fetch)?;
        let head = match ctx.head {
            Some(h) => {
                check_rev(h, "--head")?;
                Some(ensure(root, h, "head", input, fetch)?)
            }
            None => None,
        };
        return Ok(Range {
            base,
            head,
            resolved_by: "flags".into(),
        });
    }
    if ctx.head.is_some() {
        return Err(Error::Usage("--head needs --base".into()));
    }
    let p = ctx.payload;
    let pr = p.get("pull_request");
    let pr_shas = pr.map(|pr| {
        (
            payload_sha(pr.pointer("/base/sha")),
            payload_sha(pr.pointer("/head/sha")),
        )
    });
    if let Some((Some(base), Some(head))) = pr_shas {
        let base = ensure(root, &base, "base", input, fetch)?;
        let head = ensure(root, &head, "head", input, fetch)?;
        // Review what the pull request adds: from the merge-base, as GitHub shows it.
        let mb = git(root, &["merge-base", &base, &head])
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or(base);
        return Ok(Range {
            base: mb,
            head: Some(head),
            resolved_by: "payload (pull_request)".into(),
        });
    }
    if let (Some(before), Some(after)) = (payload_sha(p.get("before")), payload_sha(p.get("after")))
    {
        let head = ensure(root, &after, "head", input, fetch)?;
        let base = if before.bytes().all(|b| b == b'0') {
            // A new branch: its first commit against its parent, or the empty tree.
            let parent = format!("{head}^");
            if commit_exists(root, &parent) {
                ensure(root, &parent, "base", input, false)?
            } else {
                EMPTY_TREE.to_string()
            }
        } else {
            ensure(root, &before, "base", input, fetch)?
        };
        return Ok(Range {
            base,
            head: Some(head),
            resolved_by: "payload (push)".into(),
        });
    }
    if !ctx.interactive {
        return Err(Error::Usage(format!(
            "input {input}: nothing says what changed. Pass --base REV (and --head REV; without \
             --head the working tree is compared), run with a pull_request or push payload, or run \
             at a terminal to review the working tree"
        )));
    }
    let upstream = ["@{upstream}", "refs/remotes/origin/HEAD", "origin/main", "origin/master", "main", "master"]
        .into_iter()
        .find(|r| commit_exists(root, r))
        .ok_or_else(|| Error::Usage(format!(
            "input {input}: no upstream or default branch to compare the working tree with; pass --base REV"
        )))?;
    let mb = git_ok(
        root,
        &["merge-base", "HEAD", upstream],
        &format!("input {input}"),
    )?;
    Ok(Range {
        base: mb.trim().to_string(),
        head: None,
        resolved_by: format!("working tree against the merge-base with {upstream}"),
    })
}

fn source(range: &Range) -> SourceInfo {
    SourceInfo {
        base: Some(range.base.clone()),
        head: range.head.clone(),
        resolved_by: Some(range.resolved_by.clone()),
        ..SourceInfo::default()
    }
}

/// A `git_diff` or `changed_files` input over `range`.
pub(crate) fn diff_input(
    root: &Path,
    spec: &InputSpec,
    opts: &DiffOptions,
    range: &Range,
) -> Result<Gathered> {
    let what = format!("input {}", spec.name);
    let unified = format!("--unified={}", opts.context_lines);
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        &unified,
        &range.base,
    ];
    if let Some(h) = &range.head {
        args.push(h);
    }
    let mut patch = git_ok(root, &args, &what)?;
    if range.head.is_none() && opts.include_untracked {
        patch.push_str(&untracked_patch(root, &what)?);
    }
    let (mut items, excluded) = diff::items_from_patch(&patch, opts);
    if matches!(spec.source, InputSource::ChangedFiles(_)) {
        items = changed_files(root, items, range, &what)?;
    }
    Ok(Gathered {
        name: spec.name.clone(),
        kind: spec.kind(),
        source: source(range),
        items,
        excluded,
        unseen: Vec::new(),
        exit_code: None,
    })
}

/// Untracked files as additions, in git's own diff format.
fn untracked_patch(root: &Path, what: &str) -> Result<String> {
    let list = git_ok(
        root,
        &["ls-files", "--others", "--exclude-standard", "-z"],
        what,
    )?;
    let mut out = String::new();
    for path in list.split('\0').filter(|p| !p.is_empty()) {
        let Ok(bytes) = std::fs::read(root.join(path)) else {
            continue;
        };
        if bytes.contains(&0) || std::str::from_utf8(&bytes).is_err() {
            out.push_str(&format!(
                "diff --git a/{path} b/{path}\nnew file mode 100644\nBinary files /dev/null and b/{path} differ\n"
            ));
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{} @@\n",
            lines.len()
        ));
        for l in lines {
            out.push('+');
            out.push_str(l);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The new text of each changed file (deleted files keep their diff), with
/// the file's hunks kept for clipping.
fn changed_files(root: &Path, items: Vec<Item>, range: &Range, what: &str) -> Result<Vec<Item>> {
    let wanted: Vec<&Item> = items.iter().filter(|i| i.label != "deleted").collect();
    let texts: Vec<Option<String>> = match &range.head {
        None => wanted
            .iter()
            .map(|i| {
                std::fs::read(root.join(&i.path))
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            })
            .collect(),
        Some(head) => cat_files(root, head, &wanted, what)?,
    };
    let mut texts = texts.into_iter();
    Ok(items
        .into_iter()
        .map(|i| {
            if i.label == "deleted" {
                return i;
            }
            match texts.next().flatten() {
                Some(text) => Item {
                    hunks: Some(i.text),
                    text,
                    ..i
                },
                None => i,
            }
        })
        .collect())
}

/// `git cat-file --batch`: many blobs in one process.
fn cat_files(root: &Path, head: &str, items: &[&Item], what: &str) -> Result<Vec<Option<String>>> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Usage(format!("{what}: could not run git ({e})")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let request: String = items
        .iter()
        .map(|i| format!("{head}:{}\n", i.path))
        .collect();
    // Write from another thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(request.as_bytes());
    });
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Usage(format!("{what}: git cat-file failed ({e})")))?;
    let _ = writer.join();
    let bytes = out.stdout;
    let mut texts = Vec::new();
    let mut pos = 0;
    for _ in items {
        let Some(nl) = bytes[pos..].iter().position(|b| *b == b'\n') else {
            texts.push(None);
            continue;
        };
        let header = String::from_utf8_lossy(&bytes[pos..pos + nl]).into_owned();
        pos += nl + 1;
        let mut parts = header.split(' ');
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        match (kind, size.and_then(|s| s.parse::<usize>().ok())) {
            (Some("blob"), Some(n)) if pos + n <= bytes.len() => {
                let blob = &bytes[pos..pos + n];
                pos += n + 1;
                texts.push(std::str::from_utf8(blob).ok().map(str::to_string));
            }
            _ => texts.push(None), // "<rev> missing"
        }
    }
    Ok(texts)
}

/// A `git_log` input.
pub(crate) fn log_input(
    ctx: &Context<'_>,
    spec: &InputSpec,
    range: Option<&str>,
    since_last_run: bool,
    max_commits: u32,
    diff_range: Option<&Range>,
) -> Result<Gathered> {
    let what = format!("input {}", spec.name);
    git_ok(ctx.root, &["rev-parse", "--git-dir"], &what).map_err(|_| {
        Error::Usage(format!(
            "{what}: {} is not inside a git repository",
            ctx.root.display()
        ))
    })?;
    let range = match (range, diff_range) {
        (Some(r), _) => {
            check_rev(r, "range")?;
            r.to_string()
        }
        (None, Some(d)) => match &d.head {
            Some(h) => format!("{}..{h}", d.base),
            None => format!("{}..HEAD", d.base),
        },
        (None, None) => "HEAD".to_string(),
    };
    let max = format!("--max-count={max_commits}");
    // git dates are whole seconds: round up, so the run's own second is not read again.
    let since = ctx
        .last_run_ms
        .filter(|_| since_last_run)
        .map(|ms| format!("--since=@{}", (ms + 999) / 1000));
    let mut args = vec![
        "log",
        "--no-color",
        "--date=iso-strict",
        "--format=commit %H%nAuthor: %an <%ae>%nDate: %ad%n%n%w(0,4,4)%B",
        &max,
    ];
    if let Some(s) = &since {
        args.push(s);
    }
    args.push(&range);
    args.push("--");
    let text = git_ok(ctx.root, &args, &what)?;
    let label = match (&since, since_last_run) {
        (Some(_), _) => "commits since the event's last successful run".to_string(),
        (None, true) => "no earlier successful run: the newest commits".to_string(),
        _ => format!("commits in {range}"),
    };
    Ok(Gathered {
        name: spec.name.clone(),
        kind: spec.kind(),
        source: SourceInfo {
            range: Some(range),
            ..SourceInfo::default()
        },
        items: vec![Item {
            path: spec.name.clone(),
            label,
            text,
            rank: 0,
            hunks: None,
        }],
        excluded: Vec::new(),
        unseen: Vec::new(),
        exit_code: None,
    })
}
