//! What an OpenAI-compatible server says its context window is, for a model
//! bsu does not know: vLLM's `GET /v1/models` (`max_model_len` of the
//! model), else llama.cpp's `GET /props` (`default_generation_settings.n_ctx`,
//! beside `/v1`), else Ollama's `POST /api/show` (`num_ctx` among the
//! model's `parameters`; the model's trained length is not what the server
//! runs it with, so it is not used). Asked once per run and endpoint, briefly; a server that
//! says nothing leaves the window as configured or assumed.

use std::time::Duration;

use serde_json::Value;

use super::{ApiKey, Client};
use crate::config::Provider;

/// How long a server is given to say.
const ASK_FOR: Duration = Duration::from_secs(3);

impl Client {
    /// The context window `provider`'s server reports for `model`.
    pub(crate) async fn server_window(
        &self,
        provider: &Provider,
        key: &ApiKey,
        model: &str,
    ) -> Option<u32> {
        let base = provider.base_url.trim_end_matches('/');
        if let Some(models) = self.get_json(&format!("{base}/models"), key).await {
            if let Some(n) = vllm(&models, model) {
                return Some(n);
            }
        }
        let root = base.strip_suffix("/v1").unwrap_or(base);
        if let Some(n) = self
            .get_json(&format!("{root}/props"), key)
            .await
            .and_then(|p| llama_cpp(&p))
        {
            return Some(n);
        }
        let show = self
            .http
            .post(format!("{root}/api/show"))
            .json(&serde_json::json!({"model": model}))
            .timeout(ASK_FOR)
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())?
            .json::<Value>()
            .await
            .ok()?;
        ollama(&show)
    }

    async fn get_json(&self, url: &str, key: &ApiKey) -> Option<Value> {
        let mut req = self.http.get(url).timeout(ASK_FOR);
        if let Some(auth) = super::secret::bearer(key) {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let resp = req.send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let bytes = resp.bytes().await.ok()?;
        if bytes.len() > 4 << 20 {
            return None;
        }
        serde_json::from_slice(&bytes).ok()
    }
}

/// A sane window: at least 256 tokens, at most bsu's bound.
fn sane(n: u64) -> Option<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (256..=crate::bounds::MAX_CONTEXT_WINDOW).contains(n))
}

/// vLLM: `{"data": [{"id": MODEL, "max_model_len": N}]}`.
fn vllm(models: &Value, model: &str) -> Option<u32> {
    models["data"]
        .as_array()?
        .iter()
        .find(|m| m["id"].as_str() == Some(model))
        .and_then(|m| m["max_model_len"].as_u64())
        .and_then(sane)
}

/// llama.cpp: `{"default_generation_settings": {"n_ctx": N}}`.
fn llama_cpp(props: &Value) -> Option<u32> {
    props["default_generation_settings"]["n_ctx"]
        .as_u64()
        .and_then(sane)
}

/// Ollama: `{"parameters": "num_ctx 4096\nstop ..."}`.
fn ollama(show: &Value) -> Option<u32> {
    show["parameters"]
        .as_str()?
        .lines()
        .find_map(|l| l.trim().strip_prefix("num_ctx"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .and_then(sane)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_servers_shape_is_read_and_nonsense_is_not() {
        let m = json!({"data": [{"id": "other", "max_model_len": 9000}, {"id": "qwen", "max_model_len": 2048}]});
        assert_eq!(vllm(&m, "qwen"), Some(2048));
        assert_eq!(vllm(&m, "missing"), None);
        assert_eq!(
            llama_cpp(&json!({"default_generation_settings": {"n_ctx": 4096}})),
            Some(4096)
        );
        assert_eq!(
            llama_cpp(&json!({"default_generation_settings": {"n_ctx": 0}})),
            None
        );
        assert_eq!(llama_cpp(&json!({})), None);
        let show = json!({"parameters": "stop \"<|im_end|>\"\nnum_ctx                        8192",
                          "model_info": {"qwen2.context_length": 32768}});
        assert_eq!(
            ollama(&show),
            Some(8192),
            "the server's num_ctx, not the trained length"
        );
        assert_eq!(
            ollama(&json!({"model_info": {"qwen2.context_length": 32768}})),
            None
        );
    }
}
