//! Prices per model: `[prices."MODEL"]` in events.toml, else `pricing_file`
//! (LiteLLM's `model_prices_and_context_window.json` format), else a small
//! built-in table. The built-in figures are list prices as published in
//! November 2026, approximate: set your own for what you pay.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vocab::Usage;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Price {
    pub input: f64,
    pub output: f64,
    /// Prompt tokens served from the provider's cache; default: `input`.
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Anthropic's cache writes; default: `input`.
    #[serde(default)]
    pub cache_write: Option<f64>,
}

impl Price {
    /// The cost of `u`: cached prompt tokens and cache writes at their prices.
    pub(crate) fn cost(&self, u: &Usage) -> f64 {
        let cached = u.cached_prompt_tokens.min(u.prompt_tokens);
        let written = u.cache_creation_tokens.min(u.prompt_tokens - cached);
        let fresh = u.prompt_tokens - cached - written;
        (fresh as f64 * self.input
            + cached as f64 * self.cached_input.unwrap_or(self.input)
            + written as f64 * self.cache_write.unwrap_or(self.input)
            + u.completion_tokens as f64 * self.output)
            / 1e6
    }

    /// What serving the cached prompt tokens from the cache saved.
    pub(crate) fn cache_saving(&self, u: &Usage) -> f64 {
        let cached = u.cached_prompt_tokens.min(u.prompt_tokens) as f64;
        (cached * (self.input - self.cached_input.unwrap_or(self.input))).max(0.0) / 1e6
    }
}

/// (model prefix, input, output, cached input, cache write), USD per million tokens.
const BUILT_IN: &[(&str, f64, f64, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60, 0.075, 0.15),
    ("gpt-4o", 2.50, 10.00, 1.25, 2.50),
    ("gpt-4.1-nano", 0.10, 0.40, 0.025, 0.10),
    ("gpt-4.1-mini", 0.40, 1.60, 0.10, 0.40),
    ("gpt-4.1", 2.00, 8.00, 0.50, 2.00),
    ("gpt-5-nano", 0.05, 0.40, 0.005, 0.05),
    ("gpt-5-mini", 0.25, 2.00, 0.025, 0.25),
    ("gpt-5", 1.25, 10.00, 0.125, 1.25),
    ("o4-mini", 1.10, 4.40, 0.275, 1.10),
    ("o3-mini", 1.10, 4.40, 0.55, 1.10),
    ("o3", 2.00, 8.00, 0.50, 2.00),
    ("claude-haiku-4", 1.00, 5.00, 0.10, 1.25),
    ("claude-3-5-haiku", 0.80, 4.00, 0.08, 1.00),
    ("claude-sonnet-4", 3.00, 15.00, 0.30, 3.75),
    ("claude-3-7-sonnet", 3.00, 15.00, 0.30, 3.75),
    ("claude-opus-4", 15.00, 75.00, 1.50, 18.75),
];

/// Prices by model: the configuration's, the pricing file's, the built-in table's.
#[derive(Debug, Clone, Default)]
pub(crate) struct PriceBook {
    configured: BTreeMap<String, Price>,
    file: BTreeMap<String, Price>,
}

impl PriceBook {
    pub(crate) fn new(configured: BTreeMap<String, Price>, file: BTreeMap<String, Price>) -> Self {
        PriceBook { configured, file }
    }

    /// The price of `model`: exact names first, then the longest known
    /// prefix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`), in each source in turn.
    pub(crate) fn get(&self, model: &str) -> Option<Price> {
        let m = model.rsplit('/').next().unwrap_or(model);
        let longest = |map: &BTreeMap<String, Price>| {
            map.get(model).or_else(|| map.get(m)).copied().or_else(|| {
                map.iter()
                    .filter(|(k, _)| m.starts_with(k.as_str()))
                    .max_by_key(|(k, _)| k.len())
                    .map(|(_, p)| *p)
            })
        };
        longest(&self.configured)
            .or_else(|| longest(&self.file))
            .or_else(|| {
                BUILT_IN
                    .iter()
                    .filter(|(k, ..)| m.starts_with(k))
                    .max_by_key(|(k, ..)| k.len())
                    .map(|&(_, input, output, cached, write)| Price {
                        input,
                        output,
                        cached_input: Some(cached),
                        cache_write: Some(write),
                    })
            })
    }
}

/// A price file bsu could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadPriceFile {
    #[error("not JSON ({0})")]
    NotJson(String),
    #[error("not a JSON object of models")]
    NotModels,
}

/// Read LiteLLM's `model_prices_and_context_window.json`: per-token costs
/// (`input_cost_per_token`, `output_cost_per_token`,
/// `cache_read_input_token_cost`, `cache_creation_input_token_cost`).
pub(crate) fn read_litellm(text: &str) -> Result<BTreeMap<String, Price>, BadPriceFile> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| BadPriceFile::NotJson(e.to_string()))?;
    let obj = v.as_object().ok_or(BadPriceFile::NotModels)?;
    let per_million = |m: &serde_json::Value, k: &str| {
        m.get(k)
            .and_then(serde_json::Value::as_f64)
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(|x| x * 1e6)
    };
    Ok(obj
        .iter()
        .filter_map(|(name, m)| {
            Some((
                name.clone(),
                Price {
                    input: per_million(m, "input_cost_per_token")?,
                    output: per_million(m, "output_cost_per_token")?,
                    cached_input: per_million(m, "cache_read_input_token_cost"),
                    cache_write: per_million(m, "cache_creation_input_token_cost"),
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_by_exact_name_then_longest_prefix() {
        let book = PriceBook::default();
        assert_eq!(book.get("gpt-4o-mini-2024-07-18").unwrap().input, 0.15);
        assert_eq!(book.get("gpt-4o").unwrap().input, 2.50);
        assert_eq!(book.get("claude-sonnet-4-5").unwrap().output, 15.00);
        assert!(
            book.get("llama3.1").is_none(),
            "unknown models are unpriced, not free"
        );
    }

    #[test]
    fn cached_tokens_cost_less_and_the_saving_is_counted() {
        let p = Price {
            input: 2.0,
            output: 8.0,
            cached_input: Some(0.5),
            cache_write: Some(2.5),
        };
        let u = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 100_000,
            total_tokens: 1_100_000,
            cached_prompt_tokens: 400_000,
            cache_creation_tokens: 0,
        };
        assert!((p.cost(&u) - (0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0)).abs() < 1e-9);
        assert!((p.cache_saving(&u) - 0.4 * 1.5).abs() < 1e-9);
    }

    #[test]
    fn litellm_files_are_read_per_token() {
        let book = read_litellm(
            r#"{"my-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 1e-7},
                "sample_spec": {"max_tokens": "x"}}"#,
        )
        .unwrap();
        let p = book["my-model"];
        assert!((p.input - 1.0).abs() < 1e-9 && (p.output - 2.0).abs() < 1e-9);
        assert_eq!(book.len(), 1, "entries without prices are skipped");
    }
}
