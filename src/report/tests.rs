use super::*;
use crate::engine::verdict::{Finding, Severity, VerdictDecision};

/// A fixed report with one agent of each interesting kind.
fn sample() -> Report {
    let agent = |id: &str, status: Status| AgentJson {
        id: id.into(),
        name: format!("Agent {id}"),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        status,
        decision: if status == Status::Succeeded {
            Action::Approve
        } else {
            Action::ManualReview
        },
        reason: None,
        attempts: 1,
        cached: false,
        duration_ms: 1234,
        prompt_hash: Some("ab".repeat(32)),
        usage: Usage {
            prompt_tokens: 100,
            completion_tokens: 20,
            total_tokens: 120,
            ..Usage::default()
        },
        verdict: None,
        ambiguity: None,
        disallowed_actions: vec![],
        cut_off: false,
        output: None,
        prompt: None,
        inputs: None,
        fallback: None,
    };
    let mut security = agent("security-agent", Status::Succeeded);
    security.verdict = Some(Verdict {
        decision: VerdictDecision::Block,
        score: Some(2.0),
        comments: "A key is committed.\n<b>Rotate</b> it | now.".into(),
        findings: vec![
            Finding {
                severity: Severity::Low,
                severity_label: Some("nit".into()),
                title: "Naming".into(),
                detail: "`k` is vague".into(),
                file: None,
                line: None,
                id: None,
                end_line: None,
                quote: None,
                anchor: None,
                suggestion: None,
                anchored: None,
                suggestion_diff: None,
                dropped: None,
                confidence: None,
            },
            Finding {
                severity: Severity::Critical,
                severity_label: None,
                title: "Leaked key".into(),
                detail: "An API key in config".into(),
                file: Some("config/app.toml".into()),
                line: Some(3),
                id: None,
                end_line: None,
                quote: None,
                anchor: None,
                suggestion: None,
                anchored: None,
                suggestion_diff: None,
                dropped: None,
                confidence: None,
            },
        ],
        actions: vec!["block_pr".into(), "merge".into()],
        resolved: Vec::new(),
    });
    security.disallowed_actions = vec!["merge".into()];
    security.decision = Action::Block;
    security.output = Some("{...}".into());
    let mut review = agent("code-review-agent", Status::Succeeded);
    review.verdict = Some(Verdict {
        decision: VerdictDecision::Approve,
        score: Some(8.0),
        comments: "Fine.".into(),
        findings: vec![],
        actions: vec![],
        resolved: Vec::new(),
    });
    review.cached = true;
    review.attempts = 0;
    let mut slow = agent("slow-agent", Status::TimedOut);
    slow.reason = Some("no reply within the agent timeout of 5m".into());
    let mut gated = agent("deploy-agent", Status::Skipped);
    gated.reason = Some("requires approval; pass --approve deploy-agent to run it".into());
    gated.attempts = 0;
    gated.usage = Usage::default();
    Report {
        schema_version: 1,
        bsu_version: "0.1.0".into(),
        config_hash: "cd".repeat(32),
        run_id: "0123456789ab".into(),
        event: "pull_request.opened".into(),
        strategy: "pull_request.*".into(),
        execution: Execution::Parallel,
        dry_run: false,
        interrupted: false,
        started_at: "2026-11-28T04:00:00.000Z".into(),
        finished_at: "2026-11-28T04:00:02.500Z".into(),
        duration_ms: 2500,
        decision: DecisionJson {
            action: Action::Block,
            reason: "security-agent (verdict block)".into(),
        },
        agents: vec![security, review, slow, gated],
        totals: Totals {
            calls: 2,
            retries: 0,
            cache_hits: 1,
            prompt_tokens: 300,
            completion_tokens: 60,
        },
        breakers: vec![BreakerJson {
            name: "openai@api.openai.com".into(),
            before: "closed".into(),
            after: "closed".into(),
        }],
        payload_cut: None,
        primed: None,
        shared_prompt: None,
        payload_view: Default::default(),
        inputs: vec![],
        subject: Subject::default(),
        publish: None,
        exit_code: 3,
        cost: None,
        replayed_from: None,
        state_unavailable: None,
        ledger: None,
        verifier: None,
    }
}

#[test]
fn hunk_ranges_are_the_new_side() {
    assert_eq!(
        hunk_ranges("@@ -1,3 +10,5 @@ fn x\n+a\n@@ -20 +30 @@\n@@ -5,2 +7,0 @@\n"),
        [[10, 14], [30, 30]]
    );
}

fn text(format: ReportFormat) -> String {
    String::from_utf8(render(&sample(), format)).unwrap()
}

#[test]
fn markdown() {
    insta::assert_snapshot!(text(ReportFormat::Md));
}

#[test]
fn junit() {
    insta::assert_snapshot!(text(ReportFormat::Junit));
}

#[test]
fn sarif() {
    insta::assert_snapshot!(text(ReportFormat::Sarif));
}

#[test]
fn metrics() {
    insta::assert_snapshot!(render_metrics(&sample(), 3));
}
