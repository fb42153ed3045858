//! Token counts and context windows per model family.
//!
//! OpenAI's models are counted with their real encodings (`o200k_base` for
//! the GPT-4o, GPT-4.1, GPT-5 and o-series families, `cl100k_base` for GPT-4
//! and GPT-3.5), through the `bpe-openai` crate: GitHub's linear-time BPE,
//! which gives tiktoken's counts about twice as fast to load and to count.
//! Other models (Anthropic's, whose tokenizer is not public, and local
//! models) get a documented, deliberately high estimate: one token per 3
//! bytes, so budgets err towards fitting less.
//! Encodings are loaded on first use only: a run without inputs never loads one.

mod split;

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
    count_many(enc, &[text])[0]
}

/// Tokens of each of `texts` in `enc`, as `count` gives them, each text's
/// the sum of its pieces' exactly as `bpe_openai::Tokenizer::count` sums them
/// (neither encoding normalises its input). The texts are cut into pieces
/// first, which needs no token tables (so it overlaps their loading); each
/// distinct piece is then counted once for all the texts (code repeats its
/// names, keywords and indentation).
pub(crate) fn count_many(enc: Encoding, texts: &[&str]) -> Vec<u64> {
    type Lazy = std::sync::LazyLock<split::Split>;
    let (split, tokenizer): (&Lazy, fn() -> &'static bpe_openai::Tokenizer) = match enc {
        Encoding::O200kBase => (&split::O200K, bpe_openai::o200k_base),
        Encoding::Cl100kBase => (&split::CL100K, bpe_openai::cl100k_base),
        Encoding::Estimate => return texts.iter().map(|t| estimate(t)).collect(),
    };
    let mut keys: Vec<Option<String>> = texts.iter().map(|t| memo::key(enc, t)).collect();
    let mut counts: Vec<Option<u64>> = keys
        .iter()
        .map(|k| k.as_deref().and_then(memo::get))
        .collect();
    if counts.iter().all(Option::is_some) {
        // All kept from earlier runs: no pattern is built, no table loaded.
        return counts.into_iter().map(Option::unwrap_or_default).collect();
    }
    let split: &split::Split = split;
    let mut cache = split.regex.create_cache();
    let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let cut: Vec<(usize, Vec<u32>)> = (0..texts.len())
        .filter(|i| counts[*i].is_none())
        .map(|i| {
            let ids = split
                .pieces(&mut cache, texts[i])
                .map(|piece| {
                    *ids.entry(piece).or_insert_with(|| {
                        distinct.push(piece);
                        (distinct.len() - 1) as u32
                    })
                })
                .collect();
            (i, ids)
        })
        .collect();
    if !cut.is_empty() {
        let bpe = &tokenizer().bpe;
        let each: Vec<u64> = distinct
            .iter()
            .map(|piece| bpe.count(piece.as_bytes()) as u64)
            .collect();
        for (i, ids) in cut {
            let n = ids.iter().map(|id| each[*id as usize]).sum();
            counts[i] = Some(n);
            if let Some(key) = keys[i].take() {
                memo::learn(key, n);
            }
        }
    }
    counts.into_iter().map(Option::unwrap_or_default).collect()
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
    pub(crate) fn key(enc: Encoding, text: &str) -> Option<String> {
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

    pub(crate) fn get(key: &str) -> Option<u64> {
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
    let load = match enc {
        Encoding::O200kBase => bpe_openai::o200k_base,
        Encoding::Cl100kBase => bpe_openai::cl100k_base,
        Encoding::Estimate => return,
    };
    std::thread::spawn(load);
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Counting a text's pieces once each, across texts, gives what the
        /// tokenizer gives for each text whole.
        #[test]
        fn counting_pieces_once_counts_what_the_tokenizer_does(
            texts in proptest::collection::vec(
                "([a-z]{1,6}|[A-Z][a-z]{0,4}|[0-9]{1,5}| {1,5}|\\t|\\n|\\r\\n|[(){};.,'\"_/+-]|é|日本|🙂|'s|'LL|\u{a0}|\u{2003}|\u{301}){0,60}",
                1..6,
            )
        ) {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            for (enc, whole) in [
                (Encoding::O200kBase, bpe_openai::o200k_base()),
                (Encoding::Cl100kBase, bpe_openai::cl100k_base()),
            ] {
                let counted = count_many(enc, &refs);
                for (text, n) in refs.iter().zip(counted) {
                    proptest::prop_assert_eq!(n, whole.count(*text) as u64, "{:?}", text);
                }
            }
        }
    }
}
