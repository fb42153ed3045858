//! `bsu eval import FILE --diffs DIR --into DIR`: cases from the public
//! golden-comment format of the withmartian code-review-benchmark — a JSON
//! list of pull requests, each with its `url`, `pr_title` and `comments`
//! (`comment`, `severity`). The benchmark ships no diffs: each pull
//! request's is read from `--diffs` as `OWNER-REPO-NUMBER.patch`. Golden
//! comments carry no location, so only a judge can match them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cli::ImportArgs;
use crate::error::{Error, ExitCode, Result};
use crate::evaluate::case::{ExpectedDecision, Golden};
use crate::output::Output;
use crate::vocab::{Action, Severity};

#[derive(Deserialize)]
struct PullRequest {
    url: String,
    #[serde(default)]
    pr_title: String,
    #[serde(default)]
    comments: Vec<Comment>,
}

#[derive(Deserialize)]
struct Comment {
    comment: String,
    #[serde(default)]
    severity: String,
}

#[derive(Serialize)]
struct ExpectOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<ExpectedDecision>,
    finding: Vec<Golden>,
}

/// `OWNER-REPO-NUMBER` of a pull request's URL, or `None` when it is not one.
fn case_name(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))?;
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let [owner, repo, "pull", number] = parts.as_slice() else {
        return None;
    };
    number.parse::<u64>().ok()?;
    let name = format!("{owner}-{repo}-{number}");
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .then_some(name)
        .filter(|n| !n.starts_with('.'))
}

fn severity(word: &str) -> Severity {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "low" => Severity::Low,
        "info" | "informational" => Severity::Info,
        _ => Severity::Medium,
    }
}

pub(super) fn import(args: &ImportArgs, out: &Output) -> Result<ExitCode> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::Usage(format!("{shown}: cannot read it ({e})")))?;
    let prs: Vec<PullRequest> = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{shown}:{}:{}: not a golden-comment list ({e}); expected [{{\"url\", \"comments\": [{{\"comment\", \"severity\"}}]}}]",
            e.line(),
            e.column()
        ))
    })?;
    let (mut made, mut skipped) = (0, 0);
    for pr in &prs {
        match one(pr, args)? {
            Ok(name) => {
                made += 1;
                out.note(&format!("bsu: wrote case {name}"));
            }
            Err(why) => {
                skipped += 1;
                out.warn(&why);
            }
        }
    }
    out.print(&format!(
        "{made} cases written to {}, {skipped} skipped",
        args.into.display()
    ));
    Ok(if made == 0 {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// Write one pull request's case: `Ok(Ok(name))`, or `Ok(Err(why))` when it
/// is skipped (no usable URL, no diff, already there).
fn one(pr: &PullRequest, args: &ImportArgs) -> Result<std::result::Result<String, String>> {
    let Some(name) = case_name(&pr.url) else {
        return Ok(Err(format!(
            "{:?} is not a pull request URL; skipped",
            pr.url
        )));
    };
    let diff = args.diffs.join(format!("{name}.patch"));
    let Ok(patch) = std::fs::read_to_string(&diff) else {
        return Ok(Err(format!(
            "{name}: no diff at {} (the benchmark ships none: save the pull request's diff there); skipped",
            diff.display()
        )));
    };
    let dir = args.into.join(&name);
    if dir.exists() {
        return Ok(Err(format!(
            "{name}: {} is there already; skipped",
            dir.display()
        )));
    }
    let finding: Vec<Golden> = pr
        .comments
        .iter()
        .map(|c| Golden {
            description: c.comment.trim().to_string(),
            severity: severity(&c.severity),
            file: None,
            line: None,
            end_line: None,
        })
        .filter(|g| !g.description.is_empty())
        .collect();
    let blocks = finding.iter().any(|g| g.severity >= Severity::High);
    let expect = ExpectOut {
        decision: blocks.then_some(ExpectedDecision::Range {
            at_least: Some(Action::RequestChanges),
            at_most: None,
        }),
        finding,
    };
    let number = name.rsplit('-').next().and_then(|n| n.parse::<u64>().ok());
    let payload = serde_json::json!({
        "action": "opened",
        "number": number,
        "pull_request": {"number": number, "title": pr.pr_title, "html_url": pr.url},
    });
    let write = |p: &Path, text: &str| {
        std::fs::write(p, text)
            .map_err(|e| Error::Failed(format!("could not write {}: {e}", p.display())))
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Failed(format!("could not make {}: {e}", dir.display())))?;
    let toml = toml::to_string(&expect)
        .map_err(|e| Error::Failed(format!("could not write {name}'s expect.toml: {e}")))?;
    write(
        &dir.join("expect.toml"),
        &format!(
            "# From {} (withmartian code-review-benchmark golden comments)\n{toml}",
            pr.url
        ),
    )?;
    write(&dir.join("change.patch"), &patch)?;
    write(
        &dir.join("payload.json"),
        &serde_json::to_string_pretty(&payload).expect("plain data serialises"),
    )?;
    Ok(Ok(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_come_only_from_pull_request_urls() {
        assert_eq!(
            case_name("https://github.com/getsentry/sentry/pull/93824").as_deref(),
            Some("getsentry-sentry-93824")
        );
        assert_eq!(case_name("https://github.com/a/b/issues/1"), None);
        assert_eq!(case_name("https://github.com/../../pull/1"), None);
        assert_eq!(case_name("https://evil.example/a/b/pull/1"), None);
    }
}
