//! Providers from `[providers]` (or the built-in `openai` one), with
//! `[breaker]` defaults and the environment overrides of CONTRACT.md applied.

use std::collections::BTreeMap;
use std::time::Duration;

use super::file::{BreakerFile, EventsFile};
use super::settle::Source;
use super::{is_valid_id, BreakerSettings, Problem, Provider, ProviderKind};
use crate::env::Env;

pub(super) fn settle_providers(
    file: &EventsFile,
    src: &Source<'_>,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Provider> {
    let global = breaker_settings(&BreakerSettings::default(), &file.breaker);
    let mut providers = BTreeMap::new();
    match &file.providers {
        None => {
            providers.insert(
                "openai".to_string(),
                builtin(ProviderKind::Openai, "openai", global),
            );
        }
        Some(map) => {
            for (name, pf) in map {
                if !is_valid_id(name.get_ref()) {
                    problems.push(src.at(
                        name,
                        format!(
                            "provider name {:?} is not a valid id: use lowercase letters, digits and '-'",
                            name.get_ref()
                        ),
                    ));
                    continue;
                }
                let kind = pf.kind.unwrap_or(ProviderKind::Openai);
                let mut p = builtin(kind, name.get_ref(), global);
                if let Some(url) = &pf.base_url {
                    match check_base_url(url.get_ref()) {
                        Ok(()) => p.base_url = url.get_ref().trim_end_matches('/').to_string(),
                        Err(why) => problems.push(src.at(url, why.to_string())),
                    }
                }
                if let Some(var) = &pf.api_key_env {
                    if is_env_name(var.get_ref()) {
                        p.api_key_env = var.get_ref().clone();
                    } else {
                        // Never echo the value: users sometimes paste the key itself here.
                        problems.push(src.at(
                            var,
                            "api_key_env must name an environment variable (like OPENAI_API_KEY), \
                             not hold the key itself; put the key in that variable",
                        ));
                    }
                }
                if let Some(model) = &pf.model {
                    p.model = model.clone();
                }
                if let Some(n) = pf.max_concurrency {
                    p.max_concurrency = n.get();
                }
                if let Some(n) = pf.max_retries {
                    p.max_retries = n.0;
                }
                if let Some(d) = pf.request_timeout {
                    p.request_timeout = d.0;
                }
                p.context_window = pf.context_window.map(|n| n.get());
                p.max_tokens = pf.max_tokens.map(|n| n.get());
                p.fallback = pf
                    .fallback
                    .iter()
                    .flatten()
                    .map(|f| f.get_ref().clone())
                    .collect();
                if let Some(b) = &pf.breaker {
                    p.breaker = breaker_settings(&global, b);
                }
                providers.insert(name.get_ref().clone(), p);
            }
        }
    }
    apply_env(&mut providers, env, problems);
    providers
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failure_threshold: 5,
            reset_timeout: Duration::from_secs(30),
            max_reset_timeout: Duration::from_secs(600),
        }
    }
}

fn breaker_settings(base: &BreakerSettings, file: &BreakerFile) -> BreakerSettings {
    BreakerSettings {
        failure_threshold: file
            .failure_threshold
            .map_or(base.failure_threshold, |n| n.get()),
        reset_timeout: file.reset_timeout.map_or(base.reset_timeout, |d| d.0),
        max_reset_timeout: file
            .max_reset_timeout
            .map_or(base.max_reset_timeout, |d| d.0),
    }
}

fn builtin(kind: ProviderKind, name: &str, breaker: BreakerSettings) -> Provider {
    let super::KindDefaults {
        base_url,
        api_key_env,
        model,
    } = kind.defaults();
    Provider {
        name: name.to_string(),
        kind,
        base_url: base_url.to_string(),
        api_key_env: api_key_env.to_string(),
        model: model.to_string(),
        max_concurrency: 8,
        max_retries: 2,
        request_timeout: Duration::from_secs(120),
        context_window: None,
        max_tokens: None,
        breaker,
        fallback: Vec::new(),
    }
}

/// The environment overrides of CONTRACT.md. An empty variable counts as unset.
fn apply_env(providers: &mut BTreeMap<String, Provider>, env: &Env, problems: &mut Vec<Problem>) {
    let env_problem = |var: &str, msg: String| Problem::file(format!("${var}"), msg);
    let base_url = env
        .get("OPENAI_BASE_URL")
        .and_then(|url| match check_base_url(url) {
            Ok(()) => Some(url.trim_end_matches('/').to_string()),
            Err(why) => {
                problems.push(env_problem("OPENAI_BASE_URL", why.to_string()));
                None
            }
        });
    let model = env.get("BSU_MODEL");
    let retries = parse_env(env, "BSU_MAX_RETRIES", problems, |v| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= crate::bounds::MAX_RETRIES)
            .ok_or(crate::bounds::OutOfBounds::WholeNumber {
                min: 0,
                max: crate::bounds::MAX_RETRIES,
            })
    });
    let threshold = parse_env(env, "BSU_BREAKER_FAILURE_THRESHOLD", problems, |v| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| crate::bounds::OutOfBounds::WholeNumber {
                min: 1,
                max: crate::bounds::MAX_FAILURE_THRESHOLD,
            })
            .and_then(|n| crate::bounds::count(n, crate::bounds::MAX_FAILURE_THRESHOLD))
    });
    let reset = parse_env(env, "BSU_BREAKER_RESET_TIMEOUT", problems, |v| {
        crate::bounds::duration(v)
    });
    for p in providers.values_mut() {
        if p.kind == ProviderKind::Openai {
            if let Some(url) = &base_url {
                p.base_url = url.clone();
            }
            if let Some(model) = model {
                p.model = model.to_string();
            }
        }
        if let Some(n) = retries {
            p.max_retries = n;
        }
        if let Some(n) = threshold {
            p.breaker.failure_threshold = n;
        }
        if let Some(d) = reset {
            p.breaker.reset_timeout = d;
        }
        p.breaker.max_reset_timeout = p.breaker.max_reset_timeout.max(p.breaker.reset_timeout);
    }
}

/// A whole number from the environment within `1..=max`, or a problem
/// naming the variable.
pub(super) fn env_count(
    env: &Env,
    var: &str,
    max: u32,
    problems: &mut Vec<Problem>,
) -> Option<u32> {
    parse_env(env, var, problems, |v| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or(crate::bounds::OutOfBounds::WholeNumber { min: 1, max })
    })
}

fn parse_env<T>(
    env: &Env,
    var: &str,
    problems: &mut Vec<Problem>,
    parse: impl FnOnce(&str) -> Result<T, crate::bounds::OutOfBounds>,
) -> Option<T> {
    let value = env.get(var)?;
    match parse(value) {
        Ok(v) => Some(v),
        Err(why) => {
            let why = why.to_string();
            let why = if why.contains(value) {
                why
            } else {
                format!("{value:?} {why}")
            };
            problems.push(Problem::file(
                format!("${var}"),
                format!("{why}; fix or unset {var}"),
            ));
            None
        }
    }
}

/// A base URL bsu can send to. A query (Azure's `?api-version=...`) is kept
/// after the path bsu appends; its values are never shown, here or anywhere.
/// Why a base URL cannot be used; `shown` never holds its query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BadBaseUrl {
    #[error("base_url {shown:?} must be an http:// or https:// URL with a host")]
    NotHttp { shown: String },
    #[error(
        "base_url {shown:?} holds a user name or password; put the key in the variable \
         api_key_env names instead"
    )]
    Credentials { shown: String },
    #[error("base_url {shown:?} has a #fragment, which is never sent; remove it")]
    Fragment { shown: String },
    #[error("base_url {shown:?} is not a URL ({why}); write e.g. \"https://api.openai.com/v1\"")]
    NotAUrl { shown: String, why: String },
}

fn check_base_url(url: &str) -> Result<(), BadBaseUrl> {
    let shown = url.split(['?', '#']).next().unwrap_or("");
    let shown = if shown.len() < url.len() {
        format!("{shown}?…")
    } else {
        shown.to_string()
    };
    match reqwest::Url::parse(url) {
        Ok(u) if !(matches!(u.scheme(), "http" | "https") && u.host().is_some()) => {
            Err(BadBaseUrl::NotHttp { shown })
        }
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            Err(BadBaseUrl::Credentials {
                shown: format!("{}://…@{}", u.scheme(), u.host_str().unwrap_or("")),
            })
        }
        Ok(u) if u.fragment().is_some() => Err(BadBaseUrl::Fragment { shown }),
        Ok(_) => Ok(()),
        Err(e) => Err(BadBaseUrl::NotAUrl {
            shown,
            why: e.to_string(),
        }),
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert!(is_env_name("OPENAI_API_KEY"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("sk-abc123"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name(""));
    }
}
