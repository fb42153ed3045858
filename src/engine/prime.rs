//! Cache-aware fan-out (`prime_cache`, default `auto`). Providers serve a
//! cached prompt prefix only to requests sent after an earlier one with it
//! was processed, so a parallel run whose agents all go at once pays for
//! the shared prefix once per agent. When agents on one provider and model
//! share a long prefix (the event, payload and inputs), one of them — the
//! one with the fewest batches — goes first, streamed, and the rest are sent
//! as soon as its reply starts: the provider has read the prefix by then
//! (or when its reply is in, from a server that does not stream, or when it
//! failed). The wait is the price, about the time to a first token; the
//! report says how long it was.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{prompt, Shared};
use crate::config::ProviderKind;

/// A shared prefix shorter than this (bytes, about 1,024 tokens: the least
/// OpenAI and Anthropic cache) is not worth a wait.
pub(crate) const MIN_PREFIX_BYTES: usize = 4 * 1024;

/// What an agent does about priming.
pub(super) enum Role {
    /// Goes at once, and nobody waits for it.
    Free,
    /// Goes first; says when its reply starts, or at the latest when it is
    /// done (on drop of the guard, whatever happens).
    Primes(Primer),
    /// Waits for its group's primer.
    Waits(watch::Receiver<bool>),
}

/// Held by the primer's task: dropping it lets the group go, if the start
/// of its reply has not already.
pub(super) struct Primer(Arc<watch::Sender<bool>>);

impl Drop for Primer {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl Role {
    /// For the primer: what lets its group go when its reply starts.
    pub(super) fn started_hook(&self) -> Option<crate::client::stream::Hook> {
        let Role::Primes(Primer(tx)) = self else {
            return None;
        };
        let tx = tx.clone();
        Some(Arc::new(move || {
            tx.send_replace(true);
        }))
    }

    /// Wait for the primer, if this agent waits: how long it waited.
    pub(super) async fn wait(&mut self) -> Option<Duration> {
        let Role::Waits(rx) = self else { return None };
        let start = tokio::time::Instant::now();
        // A dropped sender also ends the wait: a primer that died never
        // holds the others back.
        let _ = rx.wait_for(|done| *done).await;
        Some(start.elapsed())
    }
}

/// Each running agent's role, by its index in the plan; `None` when
/// priming is off or nothing would gain from it.
pub(super) fn roles(shared: &Shared) -> Option<(Vec<Role>, usize)> {
    let plan = &shared.plan;
    if !plan.limits.prime_cache || plan.dry_run {
        return None;
    }
    let mut groups: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (idx, p) in plan.agents.iter().enumerate() {
        if p.skip.is_some() {
            continue;
        }
        let caches = plan
            .providers
            .get(&p.agent.provider)
            .is_some_and(|pr| matches!(pr.kind, ProviderKind::Openai | ProviderKind::Anthropic));
        let head = first_head(shared, idx);
        if caches && head.len() >= MIN_PREFIX_BYTES {
            let key = (p.agent.provider.clone(), p.agent.model.clone(), head);
            groups.entry(key).or_default().push(idx);
        }
    }
    let mut roles: Vec<Role> = plan.agents.iter().map(|_| Role::Free).collect();
    let mut primer_idx = None;
    for members in groups.values().filter(|m| m.len() > 1) {
        let first = *members
            .iter()
            .min_by_key(|i| (batches(shared, **i), **i))
            .expect("a group has members");
        let (tx, rx) = watch::channel(false);
        for &i in members {
            roles[i] = if i == first {
                Role::Free
            } else {
                Role::Waits(rx.clone())
            };
        }
        roles[first] = Role::Primes(Primer(Arc::new(tx)));
        primer_idx.get_or_insert(first);
    }
    primer_idx.map(|first| (roles, first))
}

fn batches(shared: &Shared, idx: usize) -> usize {
    shared.prep.packs[idx]
        .as_ref()
        .map_or(1, |p| p.batches.len())
}

/// The shared part of an agent's first prompt.
fn first_head(shared: &Shared, idx: usize) -> String {
    let plan = &shared.plan;
    let prep = &shared.prep;
    let (inputs, unseen) = match &prep.packs[idx] {
        Some(p) => (
            p.batches.first().map(|b| b.shared.as_str()).unwrap_or(""),
            super::pack::unseen_note(&p.summary),
        ),
        None => ("", String::new()),
    };
    prompt::shared(
        &plan.event,
        &prep.payload_text,
        &prep.earlier,
        inputs,
        &unseen,
    )
}
