//! The Markdown report: a decision banner, a summary table, each agent's
//! comments and findings by severity, then errors and totals. Text from
//! models is escaped so it cannot break the tables or inject HTML.

use std::fmt::Write as _;

mod merged;

use super::{AgentJson, Report};
use crate::engine::outcome::Status;
use crate::engine::verdict::Severity;
use crate::vocab::Action;

pub(crate) fn render(r: &Report) -> String {
    let mut s = String::new();
    heading(&mut s, r);
    agents_table(&mut s, r);
    merged::section(&mut s, r);
    inputs_section(&mut s, r);
    for a in r.agents.iter().filter(|a| a.status == Status::Succeeded) {
        agent_section(&mut s, a);
    }
    prompts_section(&mut s, r);
    problems_section(&mut s, r);
    s.push_str(&super::summary::section(r));
    footer(&mut s, r);
    s
}

/// The title, what was reviewed, the decision, the notes and the run line.
fn heading(s: &mut String, r: &Report) {
    let (icon, word) = banner(r.decision.action);
    let _ = writeln!(s, "# {icon} {word} — `{}`\n", code(&r.event));
    if let Some(what) = reviewed(r) {
        let _ = writeln!(s, "Reviewed: {what}\n");
    }
    let _ = writeln!(
        s,
        "> **Decision: {}** — {}\n",
        r.decision.action,
        inline(&r.decision.reason)
    );
    if let Some(dir) = &r.replayed_from {
        let _ = writeln!(
            s,
            "> [!WARNING]\n> Replayed from the recordings in `{}`: no model was called, and this \
             is not a live review of the change.\n",
            code(dir)
        );
    }
    if r.dry_run {
        s.push_str("> [!NOTE]\n> Dry run: prompts were rendered and nothing was sent. Token counts are estimates.\n\n");
    }
    if r.interrupted {
        s.push_str("> [!WARNING]\n> The run was interrupted; this report is partial.\n\n");
    }
    if let Some(cut) = &r.payload_cut {
        let _ = writeln!(
            s,
            "> [!WARNING]\n> The payload was cut to fit the prompt: {} KB of {} KB were sent to {}.\n",
            cut.sent_bytes / 1024,
            cut.bytes.div_ceil(1024),
            cut.agents
                .iter()
                .map(|a| format!("`{}`", code(a)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let strategy = if r.strategy == r.event {
        String::new()
    } else {
        format!(" (strategy `{}`)", code(&r.strategy))
    };
    let _ = writeln!(
        s,
        "Run `{}`{strategy} · {} · {} agent{} · {} · started {}\n",
        r.run_id,
        r.execution,
        r.agents.len(),
        if r.agents.len() == 1 { "" } else { "s" },
        seconds(r.duration_ms),
        r.started_at
    );
}

fn agents_table(s: &mut String, r: &Report) {
    s.push_str("| Agent | Status | Verdict | Score | Time | Tokens |\n|---|---|---|---|---|---|\n");
    for a in &r.agents {
        let verdict = a
            .verdict
            .as_ref()
            .map_or("—".to_string(), |v| v.decision.to_string());
        let score = a
            .verdict
            .as_ref()
            .and_then(|v| v.score)
            .map_or("—".to_string(), |x| format!("{x}/10"));
        let _ = writeln!(
            s,
            "| {} (`{}`) | {} {}{} | {} | {} | {} | {} |",
            cell(&a.name),
            a.id,
            status_icon(a.status),
            a.status,
            if a.cached { " (cached)" } else { "" },
            verdict,
            score,
            seconds(a.duration_ms),
            a.usage.total_tokens
        );
    }
    s.push('\n');
}

/// A dry run's prompts, each folded.
fn prompts_section(s: &mut String, r: &Report) {
    if r.dry_run {
        s.push_str("## Prompts\n\n");
        if let Some(shared) = &r.shared_prompt {
            let _ = writeln!(
                s,
                "<details><summary>The part every agent is shown</summary>\n\n{}\n\n</details>\n",
                fenced(shared)
            );
        }
        for a in &r.agents {
            if let Some(p) = &a.prompt {
                let _ = writeln!(
                    s,
                    "<details><summary><code>{}</code> — about {} tokens</summary>\n",
                    a.id, a.usage.prompt_tokens
                );
                let _ = writeln!(s, "**System**\n\n{}\n", fenced(&p.system));
                let _ = writeln!(s, "**User**\n\n{}\n\n</details>\n", fenced(&p.user));
            }
        }
    }
}

fn problems_section(s: &mut String, r: &Report) {
    let problems: Vec<&AgentJson> = r
        .agents
        .iter()
        .filter(|a| !matches!(a.status, Status::Succeeded | Status::DryRun))
        .collect();
    if !problems.is_empty() {
        s.push_str("## Not run or failed\n\n");
        for a in problems {
            let _ = writeln!(
                s,
                "- `{}` — **{}**: {}",
                a.id,
                a.status,
                inline(a.reason.as_deref().unwrap_or("no reason recorded"))
            );
        }
        s.push('\n');
    }
}

fn footer(s: &mut String, r: &Report) {
    let t = &r.totals;
    let _ = writeln!(
        s,
        "---\n{} call{} · {} retr{} · {} cache hit{} · {} prompt + {} completion tokens · config `{}` · bsu {}",
        t.calls,
        if t.calls == 1 { "" } else { "s" },
        t.retries,
        if t.retries == 1 { "y" } else { "ies" },
        t.cache_hits,
        if t.cache_hits == 1 { "" } else { "s" },
        t.prompt_tokens,
        t.completion_tokens,
        &r.config_hash[..r.config_hash.len().min(12)],
        r.bsu_version
    );
}

/// Every finding of the run, merged across agents, strongest first.
/// The subject in one line: the pull request (number, title, link, commit),
/// the push, or nothing for other events.
fn reviewed(r: &Report) -> Option<String> {
    let sub = &r.subject;
    let short = |sha: &str| code(&sha.chars().take(12).collect::<String>());
    match sub.kind.as_str() {
        "pull_request" => {
            let mut t = match (sub.number, &sub.url) {
                (Some(n), Some(url))
                    if url.starts_with("https://") || url.starts_with("http://") =>
                {
                    format!("[pull request #{n}]({})", url.replace(['(', ')', ' '], ""))
                }
                (Some(n), _) => format!("pull request #{n}"),
                _ => "a pull request".into(),
            };
            if let Some(title) = &sub.title {
                let _ = write!(t, " “{}”", inline(title));
            }
            if let Some(head) = &sub.head_sha {
                let _ = write!(t, " at `{}`", short(head));
            }
            Some(t)
        }
        "push" => sub
            .head_sha
            .as_ref()
            .map(|h| format!("push to `{}`", short(h))),
        _ => None,
    }
}

/// What was reviewed: each input, what was left out on purpose, and what
/// each agent did not see.
fn inputs_section(s: &mut String, r: &Report) {
    if r.inputs.is_empty() {
        return;
    }
    s.push_str("## Inputs\n\n");
    for i in &r.inputs {
        let mut from = String::new();
        if let Some(b) = &i.source.base {
            let head = i.source.head.as_deref().unwrap_or("working tree");
            from = format!(" · `{}..{}`", short(b), short(head));
        }
        let _ = writeln!(
            s,
            "- `{}` ({}){from} · {} item{} · {} KB{}",
            code(&i.name),
            i.kind,
            i.included.len(),
            if i.included.len() == 1 { "" } else { "s" },
            i.bytes.div_ceil(1024),
            match i.exit_code {
                Some(c) => format!(" · exit code {c}"),
                None => String::new(),
            }
        );
        if !i.excluded.is_empty() {
            let _ = writeln!(
                s,
                "  - left out on purpose: {}",
                inline(&i.excluded.join(", "))
            );
        }
    }
    s.push('\n');
    let unseen: Vec<&AgentJson> = r
        .agents
        .iter()
        .filter(|a| a.inputs.as_ref().is_some_and(|p| !p.unseen.is_empty()))
        .collect();
    if !unseen.is_empty() {
        s.push_str(
            "> [!WARNING]\n> Not every agent saw the whole change; none of them can approve it:\n",
        );
        for a in unseen {
            let p = a.inputs.as_ref().expect("filtered");
            let _ = writeln!(
                s,
                "> - `{}` did not see {}",
                a.id,
                inline(&p.unseen.join(", "))
            );
        }
        s.push('\n');
    }
}

fn short(rev: &str) -> String {
    code(&rev.chars().take(12).collect::<String>())
}

fn agent_section(s: &mut String, a: &AgentJson) {
    let _ = writeln!(s, "## {} (`{}`)\n", inline(&a.name), a.id);
    if let Some(amb) = &a.ambiguity {
        let held: Vec<String> = amb.decisions.iter().map(ToString::to_string).collect();
        let _ =
            writeln!(
            s,
            "> [!WARNING]\n> Ambiguous reply: it held {} verdict{} ({}) and {} unreadable part{}; \
             the strictest was taken and it cannot approve.\n",
            held.len(),
            if held.len() == 1 { "" } else { "s" },
            if held.is_empty() { "none".to_string() } else { held.join(", ") },
            amb.unreadable.len(),
            if amb.unreadable.len() == 1 { "" } else { "s" },
        );
        for why in &amb.unreadable {
            let _ = writeln!(s, "- unreadable: {}", inline(why));
        }
        if !amb.unreadable.is_empty() {
            s.push('\n');
        }
    }
    let Some(v) = &a.verdict else {
        let _ = writeln!(
            s,
            "_The reply held no readable verdict; its text follows._\n\n{}\n",
            quote(a.output.as_deref().unwrap_or(""))
        );
        return;
    };
    let score = v
        .score
        .map_or(String::new(), |x| format!(" · score {x}/10"));
    let _ = writeln!(
        s,
        "**Verdict: {}**{score} · `{}` via {}\n",
        v.decision,
        code(&a.model),
        a.provider
    );
    if !v.comments.trim().is_empty() {
        let _ = writeln!(s, "{}\n", quote(&v.comments));
    }
    let mut findings: Vec<_> = v.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    if !findings.is_empty() {
        s.push_str("**Findings**\n\n");
        for f in findings {
            let place = match (&f.file, f.line) {
                (Some(file), Some(line)) => format!(" — `{}:{line}`", code(file)),
                (Some(file), None) => format!(" — `{}`", code(file)),
                _ => String::new(),
            };
            let _ = write!(
                s,
                "- {} **{}** {}{place}",
                severity_icon(f.severity),
                inline(&f.severity_text()),
                inline(&f.title)
            );
            if !f.detail.trim().is_empty() {
                let _ = write!(s, ": {}", inline(&f.detail));
            }
            s.push('\n');
        }
        s.push('\n');
    }
    if !a.disallowed_actions.is_empty() {
        let _ = writeln!(
            s,
            "⚠️ Asked for actions it is not allowed: {}\n",
            a.disallowed_actions
                .iter()
                .map(|x| format!("`{}`", code(x)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

pub(crate) fn banner(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::DryRun => ("📝", "Dry run"),
        Action::Approve => ("✅", "Approve"),
        Action::ManualReview => ("🟡", "Manual review"),
        Action::RequestChanges => ("🟠", "Request changes"),
        Action::Block => ("⛔", "Block"),
    }
}

pub(crate) fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "✅",
        Status::Failed => "❌",
        Status::TimedOut => "⏱️",
        Status::Rejected => "🚫",
        Status::Skipped => "⏭️",
        Status::DryRun => "📝",
    }
}

pub(crate) fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
        Severity::Info => "⚪",
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// HTML-escaped text on one line (no raw tags, no line breaks, no control
/// characters), cut at 2,000 characters.
pub(crate) fn inline(text: &str) -> String {
    html(&crate::text::one_line(text, 2_000))
}

/// Inline text that is also safe inside a table cell.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text for inside a backtick code span, on one line.
pub(crate) fn code(text: &str) -> String {
    crate::text::one_line(text, 300).replace('`', "'")
}

/// A block of model text, HTML-escaped, as a Markdown quote. Lone carriage
/// returns count as line breaks (CommonMark reads them so), control
/// characters go, and a line that would start a heading, list, table, quote,
/// fence or rule inside the quote is escaped, so nothing in it can
/// restructure the report or forge a `Decision:` line.
pub(crate) fn quote(text: &str) -> String {
    html(crate::text::clean_block(text).trim())
        .lines()
        .map(|l| format!("> {}", neutral(l.trim())).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line whose first character cannot open a Markdown block, with no
/// unescaped `|` (which could make it a table row).
fn neutral(line: &str) -> String {
    let escaped = line.replace('|', "\\|");
    let Some(first) = line.chars().next() else {
        return escaped;
    };
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && line[digits..].starts_with(['.', ')']) {
        // "1. item" → "1\. item": a backslash only escapes punctuation.
        return format!("{}\\{}", &line[..digits], &escaped[digits..]);
    }
    if matches!(
        first,
        '#' | '>' | '-' | '+' | '*' | '=' | '`' | '~' | '_' | '[' | '!' | '\\'
    ) {
        return format!("\\{escaped}");
    }
    escaped
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fenced block whose fence is longer than any backtick run inside it.
fn fenced(text: &str) -> String {
    let fence = crate::text::fence(text);
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_text_cannot_inject_html_or_break_tables() {
        assert_eq!(
            cell("a | b\n<script>x</script>"),
            "a \\| b &lt;script&gt;x&lt;/script&gt;"
        );
        assert_eq!(
            quote("# Heading\n<img src=x>"),
            "> \\# Heading\n> &lt;img src=x&gt;"
        );
        assert_eq!(
            quote("ok\r# Decision: approve\r\n| a | b |\n1. one\n\x1b[2Kx"),
            "> ok\n> \\# Decision: approve\n> \\| a \\| b \\|\n> 1\\. one\n> \\[2Kx"
        );
        assert_eq!(inline("a\r\n# b\x1b]0;x\x07"), "a # b ]0;x");
        assert_eq!(code("ev`\nname"), "ev' name");
        assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````");
    }
}
