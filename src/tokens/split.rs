//! The encodings' pre-tokenizers: bpe-openai's patterns and look-ahead
//! rule, searched with a cache the caller owns (bpe-openai's own share one
//! pool, whose slow path each piece paid on every thread but the first).
//! Cutting a text into pieces needs no token tables, so it overlaps their
//! loading.

use std::sync::LazyLock;

use regex_automata::meta::{Cache, Regex};
use regex_automata::{Anchored, Input};

pub(crate) struct Split {
    pub regex: Regex,
    /// Per pattern: its last character is a look-ahead, not kept.
    lookahead: [bool; 3],
}

/// bpe-openai 0.3's `cl100k_base` patterns.
pub(crate) static CL100K: LazyLock<Split> = LazyLock::new(|| {
    Split::new([
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+$",
        "\\s+\\s",
        "\\s+",
    ])
});

/// bpe-openai 0.3's `o200k_base` patterns.
pub(crate) static O200K: LazyLock<Split> = LazyLock::new(|| {
    let first = [
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "\\p{N}{1,3}",
        " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
        "\\s*[\\r\\n]+",
        "\\s+$",
    ]
    .join("|");
    Split::new([&first, "\\s+\\s", "\\s+"])
});

impl Split {
    fn new(patterns: [&str; 3]) -> Split {
        Split {
            regex: Regex::new_many(&patterns).expect("the tokenizers' patterns compile"),
            lookahead: [false, true, false],
        }
    }

    /// The pieces of `text`, in order, as bpe-openai's `Splits` cuts them.
    pub fn pieces<'s, 'c, 't>(
        &'s self,
        cache: &'c mut Cache,
        text: &'t str,
    ) -> impl Iterator<Item = &'t str> + use<'s, 'c, 't> {
        let mut last = 0;
        std::iter::from_fn(move || {
            let input = Input::new(&text[last..]).anchored(Anchored::Yes);
            let m = self.regex.search_with(cache, &input)?;
            let start = last;
            let mut end = last + m.range().end;
            if self.lookahead[m.pattern().as_usize()] {
                let dropped = text[start..end].chars().next_back()?;
                end -= dropped.len_utf8();
            }
            if end == start {
                return None;
            }
            last = end;
            Some(&text[start..end])
        })
    }
}
