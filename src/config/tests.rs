//! Loading whole projects from a temporary folder, with environment overrides.

use std::path::Path;
use std::time::Duration;

use super::{inspect, is_valid_id, load, ProviderKind};
use crate::env::Env;

fn project(events: &str, agents: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.toml"), events).unwrap();
    std::fs::create_dir(dir.path().join("agents")).unwrap();
    for (id, extra) in agents {
        std::fs::write(
            dir.path().join(format!("agents/{id}.toml")),
            format!("name = \"{id}\"\ninstructions = \"Do it.\"\n{extra}\n"),
        )
        .unwrap();
    }
    dir
}

const TWO_PROVIDERS: &str = r#"
[providers.openai]
model = "gpt-4o"
[providers.claude]
kind = "anthropic"
[breaker]
failure_threshold = 3
[providers.claude.breaker]
reset_timeout = "1m"
[events.default]
agents = ["a", "b"]
"#;

fn load_with(dir: &Path, env: &[(&str, &str)]) -> super::Config {
    load(dir, &Env::from_pairs(env)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn builtin_openai_provider_when_providers_absent() {
    let dir = project("[events.default]\nagents = [\"a\"]\n", &[("a", "")]);
    let c = load_with(dir.path(), &[]);
    let p = &c.providers["openai"];
    assert_eq!(p.kind, ProviderKind::Openai);
    assert_eq!(p.base_url, "https://api.openai.com/v1");
    assert_eq!(p.api_key_env, "OPENAI_API_KEY");
    assert_eq!(p.model, "gpt-4o-mini");
    assert_eq!((p.max_concurrency, p.max_retries), (8, 2));
    assert_eq!(p.request_timeout, Duration::from_secs(120));
    assert_eq!(p.breaker.failure_threshold, 5);
    assert_eq!(c.agents["a"].model, "gpt-4o-mini");
    assert_eq!(c.agents["a"].timeout, Duration::from_secs(300));
}

#[test]
fn defaults_and_per_provider_breaker_overrides() {
    let dir = project(TWO_PROVIDERS, &[("a", ""), ("b", "provider = \"claude\"")]);
    let c = load_with(dir.path(), &[]);
    assert_eq!(c.providers["openai"].breaker.failure_threshold, 3);
    assert_eq!(
        c.providers["openai"].breaker.reset_timeout,
        Duration::from_secs(30)
    );
    let claude = &c.providers["claude"];
    assert_eq!(claude.api_key_env, "ANTHROPIC_API_KEY");
    assert_eq!(claude.base_url, "https://api.anthropic.com/v1");
    assert_eq!(claude.breaker.failure_threshold, 3);
    assert_eq!(claude.breaker.reset_timeout, Duration::from_secs(60));
    assert_eq!(c.agents["a"].model, "gpt-4o");
    assert_eq!(c.agents["b"].provider, "claude");
}

#[test]
fn environment_overrides() {
    let dir = project(
        TWO_PROVIDERS,
        &[("a", "model = \"gpt-4.1\""), ("b", "provider = \"claude\"")],
    );
    let c = load_with(
        dir.path(),
        &[
            ("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1/"),
            ("BSU_MODEL", "llama3"),
            ("BSU_MAX_RETRIES", "0"),
            ("BSU_BREAKER_FAILURE_THRESHOLD", "2"),
            ("BSU_BREAKER_RESET_TIMEOUT", "5s"),
        ],
    );
    let openai = &c.providers["openai"];
    assert_eq!(openai.base_url, "http://127.0.0.1:9999/v1");
    assert_eq!(openai.model, "llama3");
    assert_eq!(
        c.agents["a"].model, "llama3",
        "BSU_MODEL wins over the agent's model"
    );
    let claude = &c.providers["claude"];
    assert_eq!(
        claude.base_url, "https://api.anthropic.com/v1",
        "OPENAI_BASE_URL is for kind openai"
    );
    assert_eq!(c.agents["b"].model, "claude-sonnet-4-5");
    for p in c.providers.values() {
        assert_eq!(p.max_retries, 0);
        assert_eq!(p.breaker.failure_threshold, 2);
        assert_eq!(p.breaker.reset_timeout, Duration::from_secs(5));
    }
}

#[test]
fn empty_variables_count_as_unset() {
    let dir = project("[events.default]\nagents = [\"a\"]\n", &[("a", "")]);
    let c = load_with(dir.path(), &[("OPENAI_BASE_URL", ""), ("BSU_MODEL", "")]);
    assert_eq!(c.providers["openai"].base_url, "https://api.openai.com/v1");
    assert_eq!(c.providers["openai"].model, "gpt-4o-mini");
}

#[test]
fn bad_environment_values_are_problems_naming_the_variable() {
    let dir = project("[events.default]\nagents = [\"a\"]\n", &[("a", "")]);
    let found = inspect(
        dir.path(),
        &Env::from_pairs(&[
            ("OPENAI_BASE_URL", "not a url"),
            ("BSU_BREAKER_FAILURE_THRESHOLD", "0"),
            ("BSU_BREAKER_RESET_TIMEOUT", "soon"),
        ]),
    );
    let files: Vec<&str> = found.problems.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "$BSU_BREAKER_FAILURE_THRESHOLD",
            "$BSU_BREAKER_RESET_TIMEOUT",
            "$OPENAI_BASE_URL"
        ]
    );
    assert!(found.config.is_none());
}

#[test]
fn a_pasted_key_is_never_echoed() {
    let dir = project(
        "[providers.openai]\napi_key_env = \"sk-live-SECRET123\"\n[events.default]\nagents = [\"a\"]\n",
        &[("a", "")],
    );
    let found = inspect(dir.path(), &Env::default());
    assert_eq!(found.problems.len(), 1);
    let shown = found.problems[0].to_string();
    assert!(
        shown.contains("must name an environment variable"),
        "{shown}"
    );
    assert!(!shown.contains("SECRET123"), "{shown}");
}

#[test]
fn ids() {
    for ok in ["a", "security-agent", "0day", "a-b-c"] {
        assert!(is_valid_id(ok), "{ok}");
    }
    for bad in ["", "-a", "A", "a_b", "a.b", "ä", "a b"] {
        assert!(!is_valid_id(bad), "{bad}");
    }
}
