//! Token counts and context windows per model family.
//!
//! OpenAI's models are counted with their real encodings (`o200k_base` for
//! the GPT-4o, GPT-4.1, GPT-5 and o-series families, `cl100k_base` for GPT-4
//! and GPT-3.5), through the `bpe-openai` crate: GitHub's linear-time BPE,
//! which gives tiktoken's counts about twice as fast to load and to count. Other models (Anthropic's, whose
//! tokenizer is not public, and local models) get a documented, deliberately
//! high estimate: one token per 3 bytes, so budgets err towards fitting less.
//! Encodings are loaded on first use only: a run without inputs never loads one.

/// How a model's text is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Encoding {
    O200kBase,
    Cl100kBase,
    /// `ceil(bytes / 3)`.
    Estimate,
}

/// The encoding of `model`, by its name.
pub(crate) fn encoding_for(model: &str) -> Encoding {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m); // "openai/gpt-4o" on routers
    let starts = |p: &[&str]| p.iter().any(|x| m.starts_with(x));
    if starts(&[
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
        "chatgpt-4o",
        "gpt-oss",
    ]) {
        Encoding::O200kBase
    } else if starts(&["gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada"]) {
        Encoding::Cl100kBase
    } else {
        Encoding::Estimate
    }
}

/// Tokens of `text` in `enc`: from the counts `memo::load` was given when
/// it holds this text's, else counted (and remembered for `memo::learned`).
pub(crate) fn count(enc: Encoding, text: &str) -> u64 {
    if enc == Encoding::Estimate {
        return estimate(text);
    }
    let Some(key) = memo::key(enc, text) else {
        return count_now(enc, text);
    };
    if let Some(n) = memo::get(&key) {
        return n;
    }
    let n = count_now(enc, text);
    memo::learn(key, n);
    n
}

fn count_now(enc: Encoding, text: &str) -> u64 {
    match enc {
        Encoding::O200kBase => bpe_openai::o200k_base().count(text) as u64,
        Encoding::Cl100kBase => bpe_openai::cl100k_base().count(text) as u64,
        Encoding::Estimate => estimate(text),
    }
}

/// Counts kept between runs (in the state store, by the content's hash), so
/// a run on the same commits counts nothing again and never loads an
/// encoding's tables. Off until `load` is called.
pub(crate) mod memo {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::Encoding;

    /// Every text counted while the memo is on is looked up first, so a run
    /// that finds all its counts never loads the tables.
    struct Memo {
        known: HashMap<String, u64>,
        learned: Vec<(String, u64)>,
    }

    static MEMO: Mutex<Option<Memo>> = Mutex::new(None);

    /// Turn the memo on with the counts kept from earlier runs (added to
    /// what it holds, when it is on already).
    pub(crate) fn load(known: impl IntoIterator<Item = (String, u64)>) {
        let mut memo = MEMO.lock().unwrap_or_else(|p| p.into_inner());
        let m = memo.get_or_insert_with(|| Memo {
            known: HashMap::new(),
            learned: Vec::new(),
        });
        m.known.extend(known);
    }

    /// The counts made since `load`, to keep.
    pub(crate) fn learned() -> Vec<(String, u64)> {
        MEMO.lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .map(|m| std::mem::take(&mut m.learned))
            .unwrap_or_default()
    }

    /// The key of `text` in `enc` (`None` while the memo is off): the
    /// encoding and 32 hex digits of the text's SHA-256.
    pub(super) fn key(enc: Encoding, text: &str) -> Option<String> {
        if MEMO.lock().unwrap_or_else(|p| p.into_inner()).is_none() {
            return None;
        }
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let name = match enc {
            Encoding::O200kBase => "o200k",
            Encoding::Cl100kBase => "cl100k",
            Encoding::Estimate => "est",
        };
        Some(format!("{name}:{hex}"))
    }

    pub(super) fn get(key: &str) -> Option<u64> {
        MEMO.lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()?
            .known
            .get(key)
            .copied()
    }

    pub(super) fn learn(key: String, n: u64) {
        if let Some(m) = MEMO.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            m.known.insert(key.clone(), n);
            m.learned.push((key, n));
        }
    }
}

/// Load `enc` on another thread now, so it is ready when counting starts
/// (loading takes tens of milliseconds; gathering inputs overlaps it).
pub(crate) fn prewarm(enc: Encoding) {
    if enc != Encoding::Estimate {
        std::thread::spawn(move || count_now(enc, ""));
    }
}

/// The documented estimate: one token per 3 bytes, rounded up.
pub(crate) fn estimate(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}

/// The context window bsu assumes for `model` when the configuration sets
/// none: the published figure for the common OpenAI and Anthropic families,
/// else 32,768 tokens (small on purpose: set `context_window` for others).
/// Whether `context_window` knows `model`, or assumes 32,768 for it.
pub(crate) fn knows_window(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    ["gpt-", "o1", "o3", "o4", "chatgpt-4o", "claude"]
        .iter()
        .any(|p| m.starts_with(p))
}

pub(crate) fn context_window(model: &str) -> u32 {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    let starts = |p: &str| m.starts_with(p);
    if starts("gpt-4.1") {
        1_047_576
    } else if starts("gpt-5") {
        400_000
    } else if starts("o1-mini") {
        128_000
    } else if starts("o1") || starts("o3") || starts("o4") {
        200_000
    } else if starts("gpt-4o")
        || starts("chatgpt-4o")
        || starts("gpt-4-turbo")
        || starts("gpt-4.5")
        || starts("gpt-oss")
    {
        128_000
    } else if starts("gpt-4-32k") {
        32_768
    } else if starts("gpt-4") {
        8_192
    } else if starts("gpt-3.5") {
        16_385
    } else if starts("claude") {
        200_000
    } else {
        32_768
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(encoding_for("gpt-4o-mini"), Encoding::O200kBase);
        assert_eq!(encoding_for("GPT-4.1"), Encoding::O200kBase);
        assert_eq!(encoding_for("o3-mini"), Encoding::O200kBase);
        assert_eq!(encoding_for("gpt-4-turbo"), Encoding::Cl100kBase);
        assert_eq!(encoding_for("openai/gpt-4o"), Encoding::O200kBase);
        assert_eq!(encoding_for("claude-sonnet-4-5"), Encoding::Estimate);
        assert_eq!(encoding_for("llama3.1"), Encoding::Estimate);
        assert_eq!(context_window("gpt-4o-mini"), 128_000);
        assert_eq!(context_window("claude-sonnet-4-5"), 200_000);
        assert_eq!(context_window("gpt-4.1-mini"), 1_047_576);
        assert_eq!(context_window("mystery"), 32_768);
    }

    #[test]
    fn counts_are_real_for_openai_and_high_for_the_estimate() {
        assert_eq!(count(Encoding::O200kBase, "hello world"), 2);
        assert_eq!(count(Encoding::Cl100kBase, "hello world"), 2);
        assert_eq!(count(Encoding::Estimate, "hello world"), 4);
        assert_eq!(count(Encoding::O200kBase, ""), 0);
    }
}
