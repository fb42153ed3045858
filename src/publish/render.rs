//! What GitHub is shown, rendered from the report: the sticky comment, the
//! review (inline comments where a finding's line is in the diff, the rest
//! in its body), the check run's conclusion, summary and annotations.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::engine::verdict::{Anchor, Severity};
use crate::ledger::Ledger;
use crate::report::findings::{merged_findings, Merged};
pub(crate) use crate::report::markdown::inline;
use crate::report::markdown::{banner, code, quote, severity_icon, status_icon};
use crate::report::Report;
use crate::vocab::Action;

/// The hidden line the sticky comment is found by: one per strategy.
pub(crate) fn marker(strategy: &str) -> String {
    format!(
        "{}{} -->",
        crate::vocab::STICKY_MARKER,
        code(strategy).replace("--", "- -")
    )
}

pub(super) fn place(m: &Merged) -> String {
    let at = match (&m.file, m.line, m.end_line) {
        (Some(f), Some(l), Some(e)) => format!(" `{}:{l}-{e}`", code(f)),
        (Some(f), Some(l), None) => format!(" `{}:{l}`", code(f)),
        (Some(f), None, _) => format!(" `{}`", code(f)),
        _ => String::new(),
    };
    match &m.anchor {
        Some(Anchor::Moved { from }) if *from > 0 => format!("{at} (moved from line {from})"),
        Some(Anchor::Unanchored) => {
            format!("{at} (unanchored: the quoted code is not in the change)")
        }
        _ if m.dropped.is_some() => format!(
            "{at} (kept off the lines by the verifier: {})",
            crate::text::one_line(m.dropped.as_deref().unwrap_or(""), 200)
        ),
        _ => at,
    }
}

pub(super) const MAX_LISTED: usize = 50;

/// What the sticky comment shows besides the report.
#[derive(Debug)]
pub(crate) struct Extra<'a> {
    /// The workflow run, linked in the footer.
    pub run_url: Option<&'a str>,
    /// The ledger it carries, as publishing left it.
    pub ledger: Option<&'a Ledger>,
    /// Why bsu's earlier review asking for changes still stands.
    pub stale: Option<&'a str>,
    /// The ids of the findings the review put on the lines.
    pub inline: &'a std::collections::HashSet<String>,
}

impl Default for Extra<'_> {
    fn default() -> Self {
        static NONE: std::sync::OnceLock<std::collections::HashSet<String>> =
            std::sync::OnceLock::new();
        Extra {
            run_url: None,
            ledger: None,
            stale: None,
            inline: NONE.get_or_init(Default::default),
        }
    }
}

/// The sticky comment: the latest run, the pull request's findings by
/// state, and the ledger's hidden block.
pub(crate) fn comment(r: &Report, extra: &Extra<'_>) -> String {
    let mut s = marker(&r.strategy);
    s.push('\n');
    let (icon, word) = banner(r.decision.action);
    let _ = writeln!(s, "## {icon} bsu: {word} — `{}`\n", code(&r.event));
    let _ = writeln!(
        s,
        "**Decision: {}** — {}\n",
        r.decision.action,
        inline(&r.decision.reason)
    );
    s.push_str("| Agent | Status | Verdict |\n|---|---|---|\n");
    for a in &r.agents {
        let verdict = match (&a.verdict, &a.ambiguity) {
            (Some(v), None) => v.decision.to_string(),
            (Some(v), Some(_)) => format!("{} (ambiguous reply)", v.decision),
            (None, Some(_)) => "unreadable".into(),
            (None, None) => "—".into(),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} {} | {verdict} |",
            a.id,
            status_icon(a.status),
            a.status
        );
    }
    s.push('\n');
    if let Some(why) = extra.stale {
        let _ = writeln!(s, "> [!CAUTION]\n> {}\n", inline(why));
    }
    findings_list(&mut s, r, extra.inline);
    if let Some(l) = extra.ledger {
        ledger_section(&mut s, l, r);
    }
    unseen_warning(&mut s, r);
    agent_comments(&mut s, r);
    comment_footer(&mut s, r, extra.run_url);
    if let Some(l) = extra.ledger {
        s.push_str(&crate::ledger::block::write(l));
        s.push('\n');
    }
    s
}

/// The pull request's findings across pushes: counts by state, the open
/// ones from earlier pushes (they still count), and those fixed or
/// dismissed.
fn ledger_section(s: &mut String, l: &Ledger, r: &Report) {
    let head = l.head.as_deref();
    let c = crate::ledger::counts(l, head);
    if let Some(line) = crate::report::summary::saved_line(r) {
        let _ = writeln!(s, "{line}\n");
    }
    if c == crate::ledger::Counts::default() {
        return;
    }
    let _ = writeln!(
        s,
        "**Across pushes:** {} new · {} still open · {} fixed · {} dismissed · {} outdated\n",
        c.new, c.open, c.fixed, c.dismissed, c.outdated
    );
    // This run's findings are listed above; the rest are earlier ones.
    let now: std::collections::HashSet<String> = merged_findings(r)
        .into_iter()
        .filter_map(|m| m.id)
        .collect();
    let listed: Vec<&crate::ledger::Entry> = l
        .findings
        .iter()
        .filter(|e| !now.contains(&e.id))
        .take(MAX_LISTED)
        .collect();
    if listed.is_empty() {
        return;
    }
    s.push_str("<details><summary>Earlier findings</summary>\n\n");
    for e in listed {
        let place = match (&e.file, e.line) {
            (Some(f), Some(l)) => format!(" `{}:{l}`", code(f)),
            (Some(f), None) => format!(" `{}`", code(f)),
            _ => String::new(),
        };
        let why = e
            .why
            .as_deref()
            .map(|w| format!(" — {}", inline(w)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "- **{}** {}{place} {} · id `{}`{why}",
            e.state,
            e.severity,
            inline(&e.title),
            e.id
        );
    }
    s.push_str("\n</details>\n\n");
}

/// The findings merged across agents, strongest first, at most
/// `MAX_LISTED`: those the review put on the lines (`on_lines`, by id),
/// then the rest, each listed once, folded by severity (critical and high
/// open).
fn findings_list(s: &mut String, r: &Report, on_lines: &std::collections::HashSet<String>) {
    let findings = merged_findings(r);
    if findings.is_empty() {
        return;
    }
    let panel = r.agents.iter().filter(|a| a.verdict.is_some()).count();
    let _ = writeln!(s, "### Findings ({})\n", findings.len());
    let (lines, rest): (Vec<&Merged>, Vec<&Merged>) = findings
        .iter()
        .take(MAX_LISTED)
        .partition(|m| m.id.as_ref().is_some_and(|id| on_lines.contains(id)));
    if !lines.is_empty() {
        let _ = writeln!(s, "On the changed lines ({}):\n", lines.len());
        for m in &lines {
            finding_line(s, m, panel);
        }
        s.push('\n');
    }
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let group: Vec<&&Merged> = rest.iter().filter(|m| m.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let open = if severity >= Severity::High {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<details{open}><summary>{} {} {severity}</summary>\n",
            severity_icon(severity),
            group.len()
        );
        for m in group {
            finding_line(s, m, panel);
        }
        s.push_str("\n</details>\n\n");
    }
    if findings.len() > MAX_LISTED {
        let _ = writeln!(
            s,
            "… and {} more in the report\n",
            findings.len() - MAX_LISTED
        );
    }
}

/// One finding in the sticky comment's list.
fn finding_line(s: &mut String, m: &Merged, panel: usize) {
    let _ = writeln!(
        s,
        "- {} **{}**{} {} — {}{}{}",
        severity_icon(m.severity),
        inline(&m.label),
        place(m),
        inline(&m.title),
        m.agents
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", "),
        agreement(m, panel),
        id_note(m)
    );
}

/// What went unseen, per agent: why no agent could approve.
fn unseen_warning(s: &mut String, r: &Report) {
    let unseen: Vec<String> = r
        .agents
        .iter()
        .filter_map(|a| Some((a, a.inputs.as_ref()?)))
        .filter(|(_, p)| !p.unseen.is_empty())
        .map(|(a, p)| format!("`{}`: {}", a.id, inline(&p.unseen.join(", "))))
        .collect();
    if !unseen.is_empty() {
        s.push_str("> [!WARNING]\n> Not everything was seen, so no agent could approve it:\n");
        for u in unseen {
            let _ = writeln!(s, "> - {u}");
        }
        s.push('\n');
    }
}

/// Each agent's comments, folded.
fn agent_comments(s: &mut String, r: &Report) {
    let comments: Vec<String> = r
        .agents
        .iter()
        .filter_map(|a| {
            let v = a.verdict.as_ref()?;
            (!v.comments.trim().is_empty())
                .then(|| format!("**`{}`**\n\n{}\n", a.id, quote(&v.comments)))
        })
        .collect();
    if !comments.is_empty() {
        s.push_str("<details><summary>What each agent said</summary>\n\n");
        for c in comments {
            s.push_str(&c);
            s.push('\n');
        }
        s.push_str("</details>\n\n");
    }
}

fn comment_footer(s: &mut String, r: &Report, run_url: Option<&str>) {
    let mut footer = vec![format!("run `{}`", r.run_id)];
    if let Some(sha) = &r.subject.head_sha {
        footer.push(format!(
            "commit `{}`",
            code(&sha.chars().take(12).collect::<String>())
        ));
    }
    if let Some(url) = run_url {
        footer.push(format!("[workflow run]({url})"));
    }
    let _ = writeln!(
        s,
        "<sub>bsu {} · {}</sub>",
        r.bsu_version,
        footer.join(" · ")
    );
}

/// ` · 2 of 3 agents`, when more than one agent was asked.
pub(super) fn agreement(m: &Merged, panel: usize) -> String {
    if panel > 1 {
        format!(" · {} of {panel} agents", m.agents.len())
    } else {
        String::new()
    }
}

/// ` · id 0123abcdef`, for dismissing it with `/bsu dismiss`.
pub(super) fn id_note(m: &Merged) -> String {
    m.id.as_ref()
        .map(|id| format!(" · id `{id}`"))
        .unwrap_or_default()
}

/// `/bsu dismiss` applied to bsu's own sticky `body` (a GitHub comment or a
/// GitLab note, `what` names it): the new body, its ledger marking finding
/// `id` dismissed and a line saying who did it; `Ok(None)` when its ledger
/// (of `strategy`) has no such finding.
pub(crate) fn dismissed(
    body: &str,
    strategy: &str,
    (id, by, reason): (&str, &str, &str),
    what: &str,
) -> Result<Option<String>, String> {
    let mut ledger = match crate::ledger::block::read(body) {
        Ok(Some(l)) if l.strategy == strategy => l,
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("{what}: {e}; nothing was dismissed")),
    };
    if !crate::ledger::dismiss(&mut ledger, id, by, reason) {
        return Ok(None);
    }
    let start = body.find("<!-- bsu:ledger v").unwrap_or(body.len());
    let said = match reason {
        "" => format!("> `/bsu dismiss {id}` by @{by}\n"),
        r => format!("> `/bsu dismiss {id}` by @{by}: {}\n", inline(r)),
    };
    Ok(Some(format!(
        "{}{said}{}\n",
        &body[..start],
        crate::ledger::block::write(&ledger)
    )))
}

/// The check run's conclusion: `failure` exactly when the decision reaches
/// `--fail-on`; below it `success` only for approve, `neutral` for anything
/// that asks for changes or a person (a green check beside a red review
/// would contradict it).
pub(crate) fn conclusion(action: Action, fail_on: Option<Action>) -> &'static str {
    match fail_on {
        Some(level) if action >= level => "failure",
        _ if action == Action::Approve => "success",
        _ => "neutral",
    }
}

/// Check-run annotations: one per finding that names a file.
pub(crate) fn annotations(r: &Report) -> Vec<Value> {
    merged_findings(r)
        .into_iter()
        .filter_map(|m| {
            let file = m.file.clone()?;
            let line = m.line.unwrap_or(1);
            let level = match m.severity {
                Severity::Critical | Severity::High => "failure",
                Severity::Medium => "warning",
                Severity::Low | Severity::Info => "notice",
            };
            Some(json!({
                "path": file,
                "start_line": line,
                "end_line": line,
                "annotation_level": level,
                // GitHub's limits: a title of 255 characters, a message of 64 KB.
                "title": crate::text::one_line(&format!("[{}] {}", m.label, m.title), 254),
                "message": crate::text::ellipsize_bytes(&format!("{}\n\n(bsu: {})", m.detail.trim(), m.agents.join(", ")), 64_000),
            }))
        })
        .collect()
}

/// Annotations GitHub shows per level from one step's workflow commands.
const SHOWN_PER_LEVEL: usize = 10;

/// The same findings as workflow commands, for jobs without check-run
/// permission: at most ten per level (what GitHub shows), then one line
/// saying how many more are in the report.
pub(crate) fn workflow_commands(r: &Report) -> Vec<String> {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = Vec::new();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in merged_findings(r) {
        let Some(file) = m.file.as_ref() else {
            continue;
        };
        let kind = match m.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let n = counts.entry(kind).or_default();
        *n += 1;
        if *n > SHOWN_PER_LEVEL {
            continue;
        }
        let line = m.line.map(|l| format!(",line={l}")).unwrap_or_default();
        out.push(format!(
            "::{kind} file={}{line},title={}::{}",
            prop(file),
            prop(&crate::text::one_line(&m.title, 200)),
            esc(&crate::text::one_line(&m.detail, 2000))
        ));
    }
    for (kind, n) in counts {
        if n > SHOWN_PER_LEVEL {
            out.push(format!(
                "::{kind}::{} more {kind} findings are in the report (GitHub shows {SHOWN_PER_LEVEL} per level)",
                n - SHOWN_PER_LEVEL
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conclusions_follow_fail_on() {
        use Action::*;
        assert_eq!(conclusion(Block, Some(Block)), "failure");
        assert_eq!(conclusion(RequestChanges, Some(Block)), "neutral");
        assert_eq!(conclusion(ManualReview, Some(Block)), "neutral");
        assert_eq!(conclusion(ManualReview, Some(ManualReview)), "failure");
        assert_eq!(conclusion(Approve, Some(ManualReview)), "success");
        assert_eq!(conclusion(Block, None), "neutral");
        assert_eq!(conclusion(Approve, None), "success");
    }

    #[test]
    fn markers_cannot_be_closed_early() {
        assert_eq!(marker("a-->b"), "<!-- bsu:sticky strategy=a- ->b -->");
    }
}
