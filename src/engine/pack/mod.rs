//! Packing inputs into each agent's token allowance (docs/inputs.md, "Token allowance
//! and batches"): items go in a stable priority order; an item too large for a
//! whole prompt is clipped to its hunks, then to a head and tail with a
//! visible marker; what does not fit one prompt goes to the next batch, up to
//! `max_batches`; everything left out is named, never silently dropped.
//!
//! Pure: gathered inputs and numbers in, rendered batches and a summary out.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::inputs::{Gathered, Item};
use crate::tokens::{self, Encoding};

/// Default most batches per agent.
pub(crate) const DEFAULT_MAX_BATCHES: u32 = 5;
/// Room kept for the reply when the agent sets no `max_tokens`.
pub(crate) const DEFAULT_REPLY_TOKENS: u64 = 4096;
/// Room kept per earlier agent whose result a sequential run passes on.
pub(crate) const EARLIER_RESULT_TOKENS: u64 = 1200;
/// Room kept for headings, batch notes and the list of what was left out.
pub(crate) const OVERHEAD_TOKENS: u64 = 512;
/// The list of what was left out, as the prompt shows it, is cut at this many names.
const UNSEEN_SHOWN: usize = 200;

/// What one agent is allowed: its inputs and the numbers that bound them.
#[derive(Debug, Clone)]
pub(crate) struct Allowance<'a> {
    pub encoding: Encoding,
    /// Tokens the inputs of one prompt may take.
    pub tokens: u64,
    pub max_batches: u32,
    /// The event's inputs: rendered into the shared part of the prompt.
    pub shared: &'a [String],
    /// The agent's own inputs: rendered after its instructions.
    pub own: &'a [String],
}

/// One batch: the inputs sections of one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    /// Rendered items of the event's inputs (part of the shared prefix).
    pub shared: String,
    /// Rendered items of the agent's own inputs.
    pub own: String,
}

impl Batch {
    /// A batch with no inputs: the one prompt of an agent that reads none.
    pub(crate) const EMPTY: Batch = Batch {
        shared: String::new(),
        own: String::new(),
    };
}

/// What an agent was given, for the report and the decision.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub(crate) struct PackSummary {
    /// Input names it reads.
    pub inputs: Vec<String>,
    pub batches: u32,
    /// Items shown only in part (cut to head and tail): `input:path (why)`.
    pub clipped: Vec<String>,
    /// What it did not see: `input:path (why)`. Not empty means it cannot approve.
    pub unseen: Vec<String>,
    /// Files the change touches that were left out by a rule the base branch
    /// controls (lockfiles, binaries, ...): `input:path (why)`. Named in the prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// Tokens of its inputs across batches, as its model counts them.
    pub input_tokens: u64,
    /// Tokens one prompt's inputs may take: its token allowance (the field's name
    /// is older than the word).
    pub budget_tokens: u64,
    /// Tokens of the longest prefix of its first prompt that another agent's
    /// first prompt shares (what a provider's prompt cache can serve once).
    pub shared_prefix_tokens: u64,
    /// Tokens of the event's inputs in its first batch.
    #[serde(skip)]
    pub first_batch_shared_tokens: u64,
    /// The context window and the reply it was packed for.
    #[serde(skip)]
    pub window_tokens: u64,
    #[serde(skip)]
    pub reply_tokens: u64,
}

/// Token counts of items, memoised per encoding (each item is counted once
/// per encoding however many agents read it).
#[derive(Default)]
pub(crate) struct Counter {
    memo: HashMap<(Encoding, usize, usize), u64>,
    /// Each item as the prompt shows it, rendered once for every agent.
    texts: HashMap<(usize, usize), String>,
}

/// Bytes a token takes at most on average in code and prose, for sizing a
/// round of counting (a round too small only means one more).
const BYTES_PER_TOKEN: u64 = 4;

impl Counter {
    /// Count the items of `inputs` in `enc`, in order, on every core, until
    /// `cap` tokens are counted: no agent packs more than its batches hold
    /// (`cap`, the most any agent of the encoding may), so the items after
    /// are left out for every agent and need no count. An item counts at
    /// most `one` (the largest window) toward it, since a bigger one is
    /// clipped to fit a prompt. Counting goes in rounds of about the tokens
    /// still wanted; anything `pack` needs that was not counted here it
    /// counts itself.
    pub(crate) fn precount(&mut self, enc: Encoding, inputs: &[Gathered], (cap, one): (u64, u64)) {
        let order: Vec<(usize, usize)> = inputs
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| (0..g.items.len()).map(move |ii| (gi, ii)))
            .collect();
        let (mut next, mut counted) = (0, 0u64);
        while next < order.len() && counted <= cap {
            let want = (cap - counted).saturating_mul(BYTES_PER_TOKEN).max(1);
            let (start, mut bytes) = (next, 0u64);
            while next < order.len() && bytes < want {
                let (gi, ii) = order[next];
                let g = &inputs[gi];
                let text = self
                    .texts
                    .entry((gi, ii))
                    .or_insert_with(|| render(g, &g.items[ii], None));
                bytes += text.len() as u64;
                next += 1;
            }
            self.count_all(enc, &order[start..next]);
            counted += order[start..next]
                .iter()
                .map(|&(gi, ii)| {
                    self.memo
                        .get(&(enc, gi, ii))
                        .map_or(0, |t| (*t).min(one.max(1)))
                })
                .sum::<u64>();
        }
    }

    /// Count the rendered `items` not counted yet, at once, on every core.
    fn count_all(&mut self, enc: Encoding, items: &[(usize, usize)]) {
        let todo: Vec<(usize, usize, &str)> = items
            .iter()
            .filter(|(gi, ii)| !self.memo.contains_key(&(enc, *gi, *ii)))
            .filter_map(|&(gi, ii)| Some((gi, ii, self.texts.get(&(gi, ii))?.as_str())))
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = todo.len().div_ceil(threads).max(1);
        let counted: Vec<(usize, usize, u64)> = std::thread::scope(|s| {
            let handles: Vec<_> = todo
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let texts: Vec<&str> = part.iter().map(|(_, _, text)| *text).collect();
                        part.iter()
                            .zip(tokens::count_many(enc, &texts))
                            .map(|((gi, ii, _), n)| (*gi, *ii, n))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (gi, ii, t) in counted {
            self.memo.insert((enc, gi, ii), t);
        }
    }

    fn count(&mut self, enc: Encoding, key: (usize, usize), text: &str) -> u64 {
        *self
            .memo
            .entry((enc, key.0, key.1))
            .or_insert_with(|| tokens::count(enc, text))
    }
}

/// Pack the named inputs for one agent.
pub(crate) fn pack(
    inputs: &[Gathered],
    allowance: &Allowance<'_>,
    counter: &mut Counter,
) -> (Vec<Batch>, PackSummary) {
    let mut summary = PackSummary {
        inputs: allowance
            .shared
            .iter()
            .chain(allowance.own)
            .cloned()
            .collect(),
        budget_tokens: allowance.tokens,
        ..PackSummary::default()
    };
    let mut batches: Vec<Batch> = vec![Batch::default()];
    let mut used = 0u64;
    let max_batches = allowance.max_batches.max(1) as usize;
    let mut full = false;
    for (shared, names) in [(true, allowance.shared), (false, allowance.own)] {
        for name in names {
            let Some((gi, g)) = inputs.iter().enumerate().find(|(_, g)| &g.name == name) else {
                continue;
            };
            summary.unseen.extend(g.unseen.iter().cloned());
            summary
                .excluded
                .extend(g.excluded.iter().map(|e| format!("{}:{e}", g.name)));
            for (ii, item) in g.items.iter().enumerate() {
                let id = format!("{}:{}", g.name, item.path);
                if full {
                    summary
                        .unseen
                        .push(format!("{id} (past max_batches = {max_batches})"));
                    continue;
                }
                let mut rendered = match counter.texts.get(&(gi, ii)) {
                    Some(text) => text.clone(),
                    None => render(g, item, None),
                };
                let mut t = counter.count(allowance.encoding, (gi, ii), &rendered)
                    + tokens::estimate(&header(g, item, None));
                if t > allowance.tokens {
                    // Too big for any prompt: its hunks, then a head and tail.
                    let (text, note, seen) = clip(item, allowance);
                    if !seen {
                        summary.clipped.push(format!("{id} ({note})"));
                        summary.unseen.push(format!("{id} ({note})"));
                    }
                    rendered = render(g, item, Some((&text, &note)));
                    t = tokens::count(allowance.encoding, &rendered);
                }
                if used + t > allowance.tokens && used > 0 {
                    if batches.len() == max_batches {
                        full = true;
                        summary
                            .unseen
                            .push(format!("{id} (past max_batches = {max_batches})"));
                        continue;
                    }
                    batches.push(Batch::default());
                    used = 0;
                }
                let b = batches.last_mut().expect("one batch at least");
                if shared { &mut b.shared } else { &mut b.own }.push_str(&rendered);
                used += t;
                summary.input_tokens += t;
                if shared && batches.len() == 1 {
                    summary.first_batch_shared_tokens += t;
                }
            }
        }
    }
    summary.batches = batches.len() as u32;
    (batches, summary)
}

fn header(g: &Gathered, item: &Item, note: Option<&str>) -> String {
    let mut h = format!("### {} · {} ({}", g.name, item.path, item.label);
    if let Some(n) = note {
        let _ = write!(h, "; {n}");
    }
    h.push_str(")\n");
    h
}

/// Every item of `inputs` as the prompt shows it whole: the texts packing
/// counts first (`Counter::precount`).
pub(crate) fn rendered_items(inputs: &[Gathered]) -> impl Iterator<Item = String> + '_ {
    inputs
        .iter()
        .flat_map(|g| g.items.iter().map(move |item| render(g, item, None)))
}

/// An item as the prompt shows it: a heading and a fenced block.
fn render(g: &Gathered, item: &Item, clipped: Option<(&str, &str)>) -> String {
    let (text, note) = match clipped {
        Some((t, n)) => (t, Some(n)),
        None => (item.text.as_str(), None),
    };
    let lang = match g.kind {
        crate::config::inputs::InputKind::GitDiff => "diff",
        _ if clipped.is_some() && item.hunks.is_some() && note == Some(HUNKS_NOTE) => "diff",
        _ => "text",
    };
    let fence = crate::text::fence(text);
    format!(
        "{}{fence}{lang}\n{}\n{fence}\n\n",
        header(g, item, note),
        text.trim_end()
    )
}

const HUNKS_NOTE: &str = "too large in full: only its changed hunks are shown";

/// An item cut to fit one prompt: its hunks when it has them and they fit
/// (the change itself, so still seen), else a head and a tail around a
/// marker (not seen whole). Returns (text, note, seen).
fn clip(item: &Item, allowance: &Allowance<'_>) -> (String, String, bool) {
    let room = allowance.tokens.saturating_sub(64);
    if let Some(h) = &item.hunks {
        if tokens::count(allowance.encoding, h) <= room {
            return (h.clone(), HUNKS_NOTE.to_string(), true);
        }
    }
    let source = item.hunks.as_deref().unwrap_or(&item.text);
    let cut = head_and_tail(source, allowance.encoding, room);
    (
        cut,
        "too large: the middle is cut out and was not shown".to_string(),
        false,
    )
}

/// The first and last parts of `text` that together fit `room` tokens, at
/// line boundaries, with a marker naming how many lines were cut.
pub(crate) fn head_and_tail(text: &str, enc: Encoding, room: u64) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let total = tokens::count(enc, text).max(1);
    // Start from the share of lines the allowance allows and shrink until it fits.
    let mut keep = ((lines.len() as u64 * room) / total) as usize;
    loop {
        let head = keep.div_ceil(2);
        let tail = keep / 2;
        let cut = lines.len().saturating_sub(head + tail);
        let out = format!(
            "{}\n[bsu: {cut} lines cut here to fit the token budget; they were not shown]\n{}",
            lines[..head.min(lines.len())].join("\n"),
            lines[lines.len() - tail.min(lines.len())..].join("\n")
        );
        if keep == 0 || tokens::count(enc, &out) <= room {
            return out;
        }
        keep = keep * 9 / 10;
    }
}

/// What an agent was not shown, as its prompt says it: every file the
/// change touches that the prompt does not show, left out on purpose or not.
pub(crate) fn unseen_note(summary: &PackSummary) -> String {
    let mut s = String::new();
    if !summary.unseen.is_empty() {
        s.push_str(
            "## Not shown to you\n\nThese parts of the inputs were not shown to you (token budget, \
             batch limit, a command that did not finish, or an exclusion the change itself could \
             have caused). Do not approve what you have not seen:\n",
        );
        list(&mut s, &summary.unseen);
    }
    if !summary.excluded.is_empty() {
        s.push_str(
            "## Changed but not shown\n\nThe change also touches these files, left out by rules \
             the base branch controls:\n",
        );
        list(&mut s, &summary.excluded);
    }
    s
}

fn list(s: &mut String, items: &[String]) {
    for u in items.iter().take(UNSEEN_SHOWN) {
        let _ = writeln!(s, "- {u}");
    }
    if items.len() > UNSEEN_SHOWN {
        let _ = writeln!(s, "- and {} more", items.len() - UNSEEN_SHOWN);
    }
    s.push('\n');
}

#[cfg(test)]
mod tests;
