//! Cost: a projection before any request, a cap that refuses before any
//! request, actual cost from reported tokens (cached ones at their price),
//! unpriced models reported as such, and prices from config or LiteLLM files.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::support::Project;

fn pair(extra: &str) -> Project {
    Project::with_agents(
        &format!("{extra}\n[events.review]\nagents = [\"a\", \"b\"]\n"),
        &[],
    )
    .agent("a", "model = \"gpt-4o\"\nmax_tokens = 1000")
    .agent("b", "model = \"gpt-4o-mini\"\nmax_tokens = 500")
}

fn cached_reply() -> Reply {
    Reply::json(
        200,
        json!({"choices": [{"message": {"content": "{\"decision\": \"approve\"}"}}],
               "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
                         "prompt_tokens_details": {"cached_tokens": 600}}}),
    )
}

#[test]
fn a_cap_refuses_before_any_request_and_lists_agents_by_cost() {
    let fake = Fake::start(|_| cached_reply());
    let p = pair("").serve(&fake);
    let (code, _, stderr) = p.run(&["run", "review", "--max-cost", "0.001"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("over the cap of $0.0010 (--max-cost); nothing was sent"),
        "{stderr}"
    );
    let a = stderr.find("a $").expect(&stderr);
    let b = stderr.find("b $").expect(&stderr);
    assert!(a < b, "gpt-4o costs more than gpt-4o-mini: {stderr}");
    assert_eq!(fake.count(), 0);

    let capped = pair("[budget]\nmax_cost_per_run = 0.001").serve(&fake);
    let (code, _, stderr) = capped.run(&["run", "review"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("(budget.max_cost_per_run)"), "{stderr}");
    assert_eq!(fake.count(), 0);
}

#[test]
fn projected_and_actual_cost_with_cached_tokens() {
    let fake = Fake::start(|_| cached_reply());
    let p = pair("").serve(&fake);
    let (code, _, stderr) = p.run(&[
        "run",
        "review",
        "--max-cost",
        "5",
        "--metrics-file",
        "m.prom",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("projected cost: at most $"), "{stderr}");
    let metrics = p.read("m.prom");
    assert!(
        metrics.contains("bsu_run_cost_usd{event=\"review\",kind=\"actual\"}"),
        "{metrics}"
    );
    // Spend is recorded with or without a budget: bsu status shows it.
    let (_, status) = p.json(&["status", "--json"]);
    let models: Vec<&str> = status["spend"]["today"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["gpt-4o", "gpt-4o-mini"], "{}", status["spend"]);
    let cost = &p.latest()["cost"];
    let projected = cost["projected"].as_array().unwrap();
    assert_eq!(projected[0]["output_tokens"], 1000, "output at max_tokens");
    assert_eq!(projected[1]["output_tokens"], 500);
    assert!(cost["projected_usd"].as_f64().unwrap() > 0.0);
    // gpt-4o: 400 fresh × $2.50 + 600 cached × $1.25 + 100 out × $10.00, per million.
    let a = &cost["actual"][0];
    let want = (400.0 * 2.5 + 600.0 * 1.25 + 100.0 * 10.0) / 1e6;
    assert!((a["usd"].as_f64().unwrap() - want).abs() < 1e-12, "{a}");
    assert!(cost["cache_saved_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(
        p.latest()["agents"][0]["usage"]["cached_prompt_tokens"],
        600
    );
    assert!(cost["actual_usd"].as_f64().unwrap() <= cost["projected_usd"].as_f64().unwrap());
}

#[test]
fn unknown_models_are_unpriced_not_free_and_prices_can_be_set() {
    let fake = Fake::start(|_| cached_reply());
    let p = pair("").serve(&fake).env("BSU_MODEL", "my-local-llama");
    let (code, _, stderr) = p.run(&["run", "review"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("2 unpriced: a, b"), "{stderr}");
    let cost = &p.latest()["cost"];
    assert_eq!(cost["unpriced"], json!(["a", "b"]));
    assert_eq!(cost["projected"][0]["usd"], serde_json::Value::Null);

    // Under a cap or a budget an unpriced model could cost anything: refused, not free.
    let sent = prompts_sent(&fake);
    let (code, _, stderr) = p.run(&["run", "review", "--max-cost", "5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no price is known for a (my-local-llama), b (my-local-llama)")
            && stderr.contains("[prices.\"my-local-llama\"]"),
        "{stderr}"
    );
    let budgeted = pair("[budget]\nmax_cost_per_day = 5.0")
        .serve(&fake)
        .env("BSU_MODEL", "my-local-llama");
    let (code, _, stderr) = budgeted.run(&["run", "review"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("[budget] limits this run's cost"),
        "{stderr}"
    );
    assert_eq!(prompts_sent(&fake), sent, "nothing was sent");
    let free = pair(
        "[budget]\nmax_cost_per_day = 5.0\n[prices.\"my-local-llama\"]\ninput = 0\noutput = 0",
    )
    .serve(&fake)
    .env("BSU_MODEL", "my-local-llama");
    assert_eq!(
        free.run(&["run", "review", "--max-cost", "0.01"]).0,
        0,
        "priced at 0 on purpose"
    );

    // [prices] in events.toml, and LiteLLM's file format.
    let priced = pair("[prices.\"my-local-llama\"]\ninput = 1.0\noutput = 2.0")
        .serve(&fake)
        .env("BSU_MODEL", "my-local-llama");
    assert_eq!(priced.run(&["run", "review"]).0, 0);
    assert_eq!(priced.latest()["cost"]["unpriced"], json!([]));
    let litellm = pair("[budget]\npricing_file = \"prices.json\"")
        .serve(&fake)
        .env("BSU_MODEL", "my-local-llama")
        .file(
            "prices.json",
            r#"{"my-local-llama": {"input_cost_per_token": 1e-6, "output_cost_per_token": 3e-6}}"#,
        );
    assert_eq!(litellm.run(&["run", "review"]).0, 0);
    let a = &litellm.latest()["cost"]["actual"][0];
    assert!(
        (a["usd"].as_f64().unwrap() - (1000.0 + 300.0) / 1e6).abs() < 1e-12,
        "{a}"
    );
    let bad = pair("[budget]\npricing_file = \"../outside.json\"");
    let (code, stdout, _) = bad.run(&["check"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("pricing_file"), "{stdout}");
    let negative = pair("[prices.\"gpt-4o\"]\ninput = -1.0\noutput = 2.0");
    let (code, stdout, _) = negative.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("events.toml:1:1: [prices.\"gpt-4o\"]: prices are USD per million tokens"),
        "{stdout}"
    );
}

#[test]
fn a_dry_run_projects_too() {
    let p = pair("");
    let (code, _, stderr) = p.run(&["run", "review", "--dry-run", "--max-cost", "0.00001"]);
    assert_eq!(code, 2, "a cap refuses a dry run too: {stderr}");
    let (code, _, stderr) = p.run(&["run", "review", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("projected cost"), "{stderr}");
    assert!(p.latest()["cost"]["projected_usd"].as_f64().unwrap() > 0.0);
}

/// Eight processes at once against a daily budget that fits two projections:
/// two run, six are refused with 75 and send nothing, and spend stays under it.
#[test]
fn a_daily_budget_holds_across_concurrent_processes() {
    let fake =
        Fake::start(|_| Reply::verdict("approve", 9).delay(std::time::Duration::from_millis(800)));
    let p = Project::with_agents(
        "[budget]\nmax_cost_per_day = 0.025\n[events.review]\nagents = [\"a\"]\n",
        &[],
    )
    .agent("a", "model = \"gpt-4o\"\nmax_tokens = 1000")
    .serve(&fake);
    let children: Vec<_> = (0..8)
        .map(|_| {
            p.command()
                .args(["run", "review", "--no-cache"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    let mut refusals = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        codes.push(out.status.code().unwrap());
        if out.status.code() == Some(75) {
            refusals.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    let ran = codes.iter().filter(|c| **c == 0).count();
    assert_eq!(ran, 2, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 75).count(), 6, "{codes:?}");
    assert_eq!(fake.count(), 2, "refused runs send nothing");
    assert!(
        refusals[0].contains("the daily budget of $0.0250 would be exceeded"),
        "{}",
        refusals[0]
    );
    assert!(refusals[0].contains("It frees up at"), "{}", refusals[0]);
    let (_, status) = p.json(&["status", "--json"]);
    let today: f64 = status["spend"]["today"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["usd"].as_f64().unwrap())
        .sum();
    assert!(today > 0.0 && today <= 0.025, "{}", status["spend"]);
    assert_eq!(status["spend"]["today"][0]["model"], "gpt-4o");
}

fn with_backup(primary: &Fake, backup: &Fake) -> Project {
    let events = format!(
        "[providers.openai]\nkind = \"openai\"\nbase_url = \"{}\"\n\
         [providers.backup]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key_env = \"BACKUP_KEY\"\nmodel = \"backup-model\"\n\
         [events.review]\nagents = [\"a\"]\n",
        primary.url, backup.url
    );
    Project::with_agents(&events, &[])
        .agent("a", "fallback = [\"backup\"]")
        .env("OPENAI_API_KEY", crate::support::TEST_KEY)
        .env("BACKUP_KEY", "sk-backup-key")
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1")
}

#[test]
fn the_fallback_serves_when_the_primary_is_down_open_or_out_of_quota() {
    let primary = Fake::start(|_| Reply::error(503, "down"));
    let backup = Fake::start(|_| Reply::verdict("block", 2));
    let p = with_backup(&primary, &backup);
    let (code, _, stderr) = p.run(&["run", "review"]);
    assert_eq!(
        code, 3,
        "the fallback's block is read like any other: {stderr}"
    );
    let a = &p.latest()["agents"][0];
    assert_eq!(
        (a["provider"].as_str(), a["model"].as_str()),
        (Some("backup"), Some("backup-model"))
    );
    assert!(
        a["fallback"]["moves"][0]
            .as_str()
            .unwrap()
            .starts_with("openai: HTTP 503"),
        "{a}"
    );
    assert_eq!(
        backup.requests()[0].header("authorization"),
        Some("Bearer sk-backup-key")
    );

    // The primary's breaker is open now: nothing is sent to it, the backup serves.
    let sent = primary.count();
    let (code, _, _) = p.run(&["run", "review", "--no-cache"]);
    assert_eq!(code, 3);
    assert_eq!(primary.count(), sent);
    let moves = p.latest()["agents"][0]["fallback"]["moves"].to_string();
    assert!(moves.contains("circuit breaker"), "{moves}");

    // Quota on the primary.
    let quota = Fake::start(|_| {
        Reply::json(
            429,
            json!({"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        )
    });
    let p = with_backup(&quota, &backup);
    assert_eq!(p.run(&["run", "review"]).0, 3);
    assert_eq!(p.latest()["agents"][0]["provider"], "backup");
}

#[test]
fn a_fallback_is_projected_at_the_dearest_model_and_charged_at_the_one_that_served() {
    let primary = Fake::start(|_| Reply::error(503, "down"));
    let backup = Fake::start(|_| Reply::verdict("approve", 9));
    let events = format!(
        "[providers.openai]\nkind = \"openai\"\nbase_url = \"{}\"\n\
         [providers.backup]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key_env = \"BACKUP_KEY\"\nmodel = \"gpt-4o\"\n\
         [events.review]\nagents = [\"a\"]\n",
        primary.url, backup.url
    );
    let p = Project::with_agents(&events, &[])
        .agent(
            "a",
            "model = \"gpt-4o-mini\"\nmax_tokens = 1000\nfallback = [\"backup\"]",
        )
        .env("OPENAI_API_KEY", crate::support::TEST_KEY)
        .env("BACKUP_KEY", "sk-backup-key")
        .env("BSU_MAX_RETRIES", "0");
    let (code, _, stderr) = p.run(&["run", "review"]);
    assert_eq!(code, 0, "{stderr}");
    let cost = &p.latest()["cost"];
    // Either model may serve, so the cap sees the dearer one.
    assert_eq!(cost["projected"][0]["model"], "gpt-4o", "{cost}");
    assert_eq!(cost["projected"][0]["provider"], "backup");
    // The backup served: 100 prompt and 20 completion tokens of gpt-4o.
    let a = &cost["actual"][0];
    assert_eq!(
        (a["provider"].as_str(), a["model"].as_str()),
        (Some("backup"), Some("gpt-4o"))
    );
    let want = (100.0 * 2.5 + 20.0 * 10.0) / 1e6;
    assert!((a["usd"].as_f64().unwrap() - want).abs() < 1e-12, "{a}");

    // The run history keeps what each run cost.
    let (_, status) = p.json(&["status", "--json"]);
    let run = &status["runs"][0];
    assert_eq!(run["tokens"], 120, "{run}");
    assert!(
        (run["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12,
        "{run}"
    );
    assert_eq!(status["spend"]["today"][0]["provider"], "backup");
}

#[test]
fn an_unpriced_fallback_makes_the_agent_unpriced_unless_it_cannot_serve() {
    let primary = Fake::start(|_| Reply::verdict("approve", 9));
    let backup = Fake::start(|_| Reply::verdict("approve", 9));
    let events = format!(
        "[providers.openai]\nkind = \"openai\"\nbase_url = \"{}\"\n\
         [providers.backup]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key_env = \"BACKUP_KEY\"\nmodel = \"backup-model\"\n\
         [events.review]\nagents = [\"a\"]\n",
        primary.url, backup.url
    );
    let without_key = Project::with_agents(&events, &[])
        .agent("a", "model = \"gpt-4o-mini\"\nfallback = [\"backup\"]")
        .env("OPENAI_API_KEY", crate::support::TEST_KEY);
    // Without its key the backup cannot serve: the agent is priced at its own model.
    let (code, _, stderr) = without_key.run(&["run", "review", "--max-cost", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        without_key.latest()["cost"]["projected"][0]["model"],
        "gpt-4o-mini"
    );
    // With it, the backup may serve at an unknown price: refused under a cap.
    let with_key = without_key.env("BACKUP_KEY", "sk-backup-key");
    let sent = primary.count();
    let (code, _, stderr) = with_key.run(&["run", "review", "--max-cost", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("a (backup-model)"), "{stderr}");
    assert_eq!(primary.count(), sent);
    assert_eq!(backup.count(), 0);

    // A dry run reads no key, but tells by its variable whether the backup
    // could serve: without it, priced at the agent's own model; nothing was
    // spent, and that is 0, not -0.
    let dry = Project::with_agents(&events, &[])
        .agent("a", "model = \"gpt-4o-mini\"\nfallback = [\"backup\"]");
    let (code, r) = dry.json(&["run", "review", "--dry-run", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        r["cost"]["projected"][0]["model"], "gpt-4o-mini",
        "{}",
        r["cost"]
    );
    assert_eq!(r["cost"]["actual_usd"].to_string(), "0.0");
    let dry = dry.env("BACKUP_KEY", "sk-backup-key");
    let (_, r) = dry.json(&["run", "review", "--dry-run", "--json"]);
    assert_eq!(r["cost"]["projected"][0]["model"], "backup-model");
}

#[test]
fn an_agent_whose_whole_chain_failed_is_failed() {
    let primary = Fake::start(|_| Reply::error(503, "down"));
    let backup = Fake::start(|_| Reply::error(503, "also down"));
    let p = with_backup(&primary, &backup);
    let (code, _, _) = p.run(&["run", "review"]);
    assert_eq!(code, 75, "every failure was transient");
    let a = &p.latest()["agents"][0];
    assert_eq!(a["status"], "failed");
    assert_eq!(a["provider"], "backup");
    assert_eq!(a["fallback"]["moves"].as_array().unwrap().len(), 1);
    // A fallback naming no provider is a configuration error.
    let bad = with_backup(&primary, &backup).agent("a", "fallback = [\"nope\"]");
    let (code, stdout, _) = bad.run(&["check"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("nope"), "{stdout}");
}

/// A provider that allows 3 requests per 600 ms window and says so in its
/// headers: bsu waits for the window to reset instead of running into 429s.
#[test]
fn pacing_keeps_a_rate_limited_provider_under_its_limit() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let state = Arc::new(Mutex::new((Instant::now(), 0u32, 0u32))); // window start, used, 429s
    let st = state.clone();
    let fake = Fake::start(move |_| {
        let mut s = st.lock().unwrap();
        let window = Duration::from_millis(600);
        if s.0.elapsed() >= window {
            *s = (Instant::now(), 0, s.2);
        }
        let left_ms = window.saturating_sub(s.0.elapsed()).as_millis() + 1;
        if s.1 >= 3 {
            s.2 += 1;
            return Reply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
                .header("retry-after-ms", &left_ms.to_string());
        }
        s.1 += 1;
        Reply::verdict("approve", 9)
            .header("x-ratelimit-limit-requests", "3")
            .header("x-ratelimit-remaining-requests", &(3 - s.1).to_string())
            .header("x-ratelimit-reset-requests", &format!("{left_ms}ms"))
    });
    let ids = ["a", "b", "c", "d", "e", "f"];
    let p = Project::with_agents(
        "[providers.openai]\nkind = \"openai\"\nmax_concurrency = 1\n\
         [events.burst]\nagents = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]\n",
        &ids,
    )
    .serve(&fake);
    let (code, _, stderr) = p.run(&["run", "burst", "--no-cache"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.count(), 6);
    assert_eq!(state.lock().unwrap().2, 0, "no request ran into the limit");
}

/// Prompts sent: a server may also be asked its window (`/models`,
/// `/props`, `/api/show`), which sends no prompt.
fn prompts_sent(fake: &Fake) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .count()
}
