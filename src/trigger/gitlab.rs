//! Which event a GitLab CI job is (CONTRACT.md, "GitLab CI"), from
//! `CI_PIPELINE_SOURCE`: a merge-request pipeline is `merge_request.update`
//! (a run publishing to GitLab asks GitLab whether it is the first review,
//! `merge_request.open`: `publish::gitlab::refine`; the variables cannot
//! tell), `push` stays `push`, a pipeline
//! schedule runs the strategy its description names (else `BSU_EVENT`, else
//! `schedule`), and `web`, `api` and `trigger` run `BSU_EVENT` or `manual`.

use super::{checked_event, run, Trigger};
use crate::config::Config;
use crate::env::Env;
use crate::error::Result;

pub(super) fn resolve(env: &Env, config: &Config) -> Result<Trigger> {
    let named = env
        .get("BSU_EVENT")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| checked_event(e, "BSU_EVENT"))
        .transpose()?;
    let source = env.get("CI_PIPELINE_SOURCE").unwrap_or("");
    Ok(run(match (source, named) {
        (_, Some(event)) => event,
        ("merge_request_event", None) => "merge_request.update".into(),
        ("push", None) => "push".into(),
        ("schedule", None) => schedule(env, config),
        (_, None) => "manual".into(),
    }))
}

/// A pipeline schedule has no cron text in the job: its description binds
/// it to a strategy of that name, if there is one.
fn schedule(env: &Env, config: &Config) -> String {
    let description = env
        .get("CI_PIPELINE_SCHEDULE_DESCRIPTION")
        .map(str::trim)
        .unwrap_or("");
    match config.strategies.iter().find(|s| s.name == description) {
        Some(s) if !description.is_empty() => s.name.clone(),
        _ => "schedule".into(),
    }
}

/// A GitLab note webhook payload (given with `--payload`): the `/bsu`
/// command of a note on a merge request. Whether its author may give one
/// (Developer access or more) is asked of GitLab before anything runs
/// (`commands::run::setup`); here only the command is read.
pub(super) fn note_command(payload: &serde_json::Value) -> Result<Trigger> {
    let attrs = &payload["object_attributes"];
    let note = attrs["note"].as_str().unwrap_or("");
    if super::is_own(note) {
        return Ok(Trigger::Ignore(super::OWN.into()));
    }
    let Some(words) = super::slash_words(note) else {
        return Ok(Trigger::Ignore("the note holds no /bsu command".into()));
    };
    if attrs["noteable_type"] != "MergeRequest" {
        return Ok(Trigger::Ignore(
            "/bsu commands are honoured on merge requests only".into(),
        ));
    }
    let by = payload["user"]["username"].as_str();
    // GitLab's note hook names the merge request's author by id only; a
    // hook that names none could be the author's own: treated as such.
    let author_id = payload["merge_request"]["author_id"].as_u64();
    let author_is_commenter = author_id.is_none() || author_id == payload["user"]["id"].as_u64();
    let author = if author_is_commenter { by } else { None };
    let iid = payload["merge_request"]["iid"].as_u64();
    super::command(words, iid, (by, author))
}
