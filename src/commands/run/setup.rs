//! The first stage of `bsu run`: everything decided before the runtime
//! starts. The project, the payload and the event; the plan; the trust
//! checks; the inputs given on the command line; where results go; the
//! state; the run lock. Nothing is sent here.

use std::path::Path;
use std::sync::Arc;

use super::actions::{self, lock_run, skipped, Locked};
use super::state::{connect, peek, Early, Pending};
use crate::cli::RunArgs;
use crate::config::{self, Config, StrategyMatch};
use crate::engine::gate::Warn;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::lock::RunLock;
use crate::output::Output;
use crate::plan::{self, RunPlan};
use crate::trigger::Trigger;
use crate::{filters, inputs, payload, publish, store, trigger};

/// A run the strategy's filters skip on its payload alone: the destinations
/// told, then the skip's exit.
fn skip_on_payload(
    plan: &RunPlan,
    destinations: &[Box<dyn publish::Destination>],
    out: &Output,
    env: &Env,
    why: &str,
) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(tell_skipped(plan, destinations, out, why));
    skipped(out, env, Some(&plan.event), why)
}

/// One run at a time per project and event, when asked (`--if-running`):
/// the state (settled first on a server) and the lock held, or why the run
/// is skipped. On a server the lock is taken only once the state is known
/// to answer; its connection is made while the state's is (not after), and
/// used once that one answers.
fn lock(
    plan: &RunPlan,
    config: &Config,
    args: &RunArgs,
    state_dir: Option<&Path>,
    mut state: Pending,
    out: &Output,
) -> Result<(Pending, std::result::Result<Option<RunLock>, String>)> {
    let locking = !plan.dry_run && !args.evaluating && actions::locks(config, args);
    let mut early = None;
    if let (true, Some(url)) = (locking, &config.state.url) {
        early = Some(store::postgres::lock_connect(
            url,
            config.state.timeout,
            &plan.event,
        ));
        state = Pending::Settled(state.settle_now()?);
    }
    let have_state = matches!(&state, Pending::Settled((Some(_), _)));
    let locked = match locking
        .then(|| lock_run(plan, config, args, state_dir, (have_state, early), out))
        .transpose()?
        .flatten()
    {
        Some(Locked::Skip(why)) => Err(why),
        Some(Locked::Held(l)) => Ok(Some(l)),
        None => Ok(None),
    };
    Ok((state, locked))
}

/// A run ready to gather its inputs.
pub(super) struct Ready {
    pub plan: Arc<RunPlan>,
    /// `--input NAME=...`, read.
    pub overrides: std::collections::BTreeMap<String, String>,
    pub destinations: Vec<Box<dyn publish::Destination>>,
    /// The run's state: opened, or a server still being connected to.
    pub state: Pending,
    pub warn: Warn,
    /// Held for the whole run (`--if-running`), released on drop.
    pub _lock: Option<RunLock>,
}

/// Resolve the run, or the exit code of a run that has nothing to do.
pub(super) fn resolve(
    root: &Path,
    state_dir: Option<&Path>,
    args: &RunArgs,
    env: &Env,
    out: &Output,
    early: Option<Early>,
) -> Result<std::result::Result<Ready, ExitCode>> {
    // A state server is connected to while the project is read and the run
    // planned: its connection (a server process, TLS, a password exchange)
    // is most of what shared state costs a run. `[state]` is read first for
    // that (before the arguments were parsed, when they were plain,
    // `state::early`); the connection is kept only if the whole project
    // agrees.
    let (events, early) = match early.and_then(|early| early.for_root(root)) {
        Some(read) => read,
        None => {
            let events = config::EventsRead::from(root);
            let peeked = peek(root, env, &events);
            (events, peeked)
        }
    };
    let config = config::load_read(root, env, events)?;
    let connecting = match early {
        Some((thread, peeked)) if peeked == config.state => Some(thread),
        _ => connect(&config.state),
    };
    let mut payload = payload::load(args.payload.as_deref(), env)?;
    let event = match event_of(&config, &mut payload, args, env, out)? {
        Ok(event) => event,
        Err(code) => return Ok(Err(code)),
    };
    let untrusted = trigger::untrusted_head(&payload, env);
    let plan = Arc::new(plan::plan(&config, args, payload, event, env)?);
    if let Some(c) = connecting.as_ref().filter(|_| !plan.inputs.is_empty()) {
        c.will_count(&plan.project);
    }
    // From here on nothing printed, errors at exit included, can carry a
    // secret the run holds.
    out.set_secrets(plan.secrets.clone());
    if let Some(why) = &untrusted {
        if !config.triggers.allow_commands_on_pull_request_target {
            plan::refuse_untrusted(&plan, why)?;
        }
    }
    let overrides = given_inputs(args, &config)?;
    let destinations = destinations(&plan, &config, args, env, out)?;
    if let Some(why) = filters::from_payload(&plan.filters.when, &plan.filters.skip, &plan.payload)
    {
        return skip_on_payload(&plan, &destinations, out, env, &why).map(Err);
    }
    note_default_strategy(&plan, out);
    note_ignored_range(&plan, args, out);
    let warn: Warn = {
        let out = out.clone();
        Arc::new(move |m: &str| out.warn(m))
    };
    // State is an optimisation: if it cannot be opened the run goes on
    // without it (a budgeted run is refused later: its budget is unchecked).
    // A server that refuses bsu is a mistake to fix, not an outage. A
    // server's connection is waited for where the run first needs it.
    let state = Pending::start(connecting, &config, state_dir, &warn)?;
    let (state, lock) = match lock(&plan, &config, args, state_dir, state, out)? {
        (_, Err(why)) => return skipped(out, env, Some(&plan.event), &why).map(Err),
        (state, Ok(lock)) => (state, lock),
    };
    Ok(Ok(Ready {
        plan,
        overrides,
        destinations,
        state,
        warn,
        _lock: lock,
    }))
}

/// The event to run, from the command line, the CI's trigger or a comment
/// command; or the exit code of a trigger that runs nothing (ignored, or a
/// `/bsu dismiss`, done here).
fn event_of(
    config: &Config,
    payload: &mut serde_json::Value,
    args: &RunArgs,
    env: &Env,
    out: &Output,
) -> Result<std::result::Result<String, ExitCode>> {
    let trigger = trigger::resolve(args.event.as_deref(), payload, env, config)?;
    // A GitLab note's command: its author's access is GitLab's to say.
    let gitlab_note = args.event.is_none() && payload["object_kind"] == "note";
    if gitlab_note && !matches!(trigger, Trigger::Ignore(_)) {
        if let Some(why) = gitlab_author_refused(payload, config, env)? {
            return skipped(out, env, None, &why).map(Err);
        }
    }
    let event = match trigger {
        Trigger::Run { event } => event,
        Trigger::Ignore(why) => return skipped(out, env, None, &why).map(Err),
        Trigger::Dismiss {
            number,
            id,
            reason,
            by,
        } => {
            let asked = (number, id.as_str(), by.as_str(), reason.as_str());
            return super::dismiss::dismiss(config, asked, gitlab_note, env, out).map(Err);
        }
    };
    gitlab_first_review(event, payload, config, args, env).map(Ok)
}

/// Why the author of a GitLab note may not give a `/bsu` command (fail
/// closed: without a token to ask GitLab, nobody may). When they may, the
/// payload becomes the merge request's (`publish::gitlab::note_payload`).
fn gitlab_author_refused(
    payload: &mut serde_json::Value,
    config: &Config,
    env: &Env,
) -> Result<Option<String>> {
    let Some(user) = payload["user"]["id"].as_u64() else {
        return Ok(Some("the note names no author".into()));
    };
    let Some(target) = publish::gitlab::target(&config.gitlab, false, env, &|_| {})
        .ok()
        .flatten()
        .or_else(|| {
            let mut s = config.gitlab.clone();
            s.enabled = true;
            publish::gitlab::target(&s, false, env, &|_| {})
                .ok()
                .flatten()
        })
    else {
        return Ok(Some(format!(
            "/bsu commands from GitLab need {} to ask GitLab for the author's access level",
            config.gitlab.token_env
        )));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        if let Some(why) = publish::gitlab::commands::may_command(&target, user).await {
            return Ok(Some(why));
        }
        if let Some(iid) = payload["merge_request"]["iid"].as_u64() {
            publish::gitlab::note_payload(&target, iid, payload).await;
        }
        Ok(None)
    })
}

/// A merge-request pipeline that publishes to GitLab asks GitLab about the
/// merge request before it is planned (`publish::gitlab::refine`): its
/// payload from the source, and `merge_request.open` for a first review.
/// Only for the event bsu chose itself (not one named by argument or
/// `BSU_EVENT`), and only when it may publish (a replay asks nothing).
fn gitlab_first_review(
    event: String,
    payload: &mut serde_json::Value,
    config: &Config,
    args: &RunArgs,
    env: &Env,
) -> Result<String> {
    let chosen = args.event.is_none() && env.get("BSU_EVENT").is_none_or(|e| e.trim().is_empty());
    let iid = payload["merge_request"]["iid"].as_u64();
    let asked = args.publish.contains(&crate::cli::PublishArg::Gitlab);
    let (Some(iid), true) = (
        iid,
        chosen && event == "merge_request.update" && !args.dry_run,
    ) else {
        return Ok(event);
    };
    if args.replay.is_some() && !args.publish_replayed {
        return Ok(event);
    }
    let Some(target) = publish::gitlab::target(&config.gitlab, asked, env, &|_| {})? else {
        return Ok(event);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    let refined = runtime.block_on(publish::gitlab::refine(&target, iid, payload));
    Ok(refined.map_or(event, str::to_string))
}

/// `--base`/`--head` given to a strategy with no input that reads them.
fn note_ignored_range(plan: &RunPlan, args: &RunArgs, out: &Output) {
    use crate::config::inputs::InputSource;
    if args.base.is_none() && args.head.is_none() {
        return;
    }
    let reads = plan.inputs.iter().any(|i| {
        matches!(
            i.source,
            InputSource::GitDiff(_) | InputSource::ChangedFiles(_) | InputSource::GitLog { .. }
        )
    });
    if !reads {
        out.warn(&format!(
            "--base/--head are ignored: strategy {:?} has no git_diff, changed_files or git_log \
             input to read them",
            plan.strategy
        ));
    }
}

/// Tell each destination that a filter skipped the run (GitHub posts its
/// check as skipped, so a required check does not wait for ever).
pub(super) async fn tell_skipped(
    plan: &RunPlan,
    destinations: &[Box<dyn publish::Destination>],
    out: &Output,
    why: &str,
) {
    let head = plan.payload["pull_request"]["head"]["sha"].as_str();
    for d in destinations {
        if let Some(said) = d.skipped(head, why).await {
            out.note(&format!("bsu: {said}"));
        }
    }
}

/// `--input NAME=FILE|-` read, and the folders of `--record` and `--replay` checked.
fn given_inputs(
    args: &RunArgs,
    config: &Config,
) -> Result<std::collections::BTreeMap<String, String>> {
    if args.payload.as_deref() == Some("-") && args.inputs.iter().any(|i| i.ends_with("=-")) {
        return Err(Error::Usage(
            "--payload - and --input NAME=- both want stdin; give one of them a file".into(),
        ));
    }
    let overrides = inputs::read_overrides(&args.inputs, &config.inputs)?;
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Usage(format!(
                "--record {}: cannot create it ({e})",
                dir.display()
            ))
        })?;
    }
    if let Some(dir) = &args.replay {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--replay {}: no such folder of recordings (make one with --record)",
                dir.display()
            )));
        }
    }
    Ok(overrides)
}

/// Where the result goes: GitHub and the webhook, each when asked or
/// configured and usable; none for a dry run, and none for a replay unless
/// `--publish-replayed`.
fn destinations(
    plan: &RunPlan,
    config: &Config,
    args: &RunArgs,
    env: &Env,
    out: &Output,
) -> Result<Vec<Box<dyn publish::Destination>>> {
    let mut all: Vec<(&str, Box<dyn publish::Destination>)> = Vec::new();
    if plan.dry_run || args.evaluating {
        return Ok(Vec::new());
    }
    let asked = args.publish.contains(&crate::cli::PublishArg::Github);
    if let Some(mut target) = publish::github_target(&config.github, asked, env, &|m| out.note(m))?
    {
        target.check_name = plan.check_name.clone();
        target.settings.noise = plan.noise;
        all.push((
            "GitHub",
            Box::new(publish::GitHub {
                target,
                fail_on: plan.outputs.fail_on,
            }),
        ));
    }
    let asked = args.publish.contains(&crate::cli::PublishArg::Gitlab);
    if let Some(mut target) = publish::gitlab::target(&config.gitlab, asked, env, &|m| out.note(m))?
    {
        target.status_name = plan.check_name.clone();
        target.noise = plan.noise;
        all.push((
            "GitLab",
            Box::new(publish::GitLab {
                target,
                fail_on: plan.outputs.fail_on,
            }),
        ));
    }
    if let Some(w) = &config.webhook {
        match env.get(&w.url_env) {
            Some(url) if reqwest::Url::parse(url).is_ok() => all.push((
                "the webhook",
                Box::new(publish::Webhook {
                    settings: w.clone(),
                    url: url.to_string(),
                    run_url: publish::run_url(env),
                }),
            )),
            Some(_) => return Err(publish::Refusal::NotAUrl(w.url_env.clone()).into()),
            None => out.note(&format!(
                "bsu: not posting to the webhook: {} is not set",
                w.url_env
            )),
        }
    }
    if args.replay.is_some() && !args.publish_replayed && !all.is_empty() {
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        return Err(publish::Refusal::Replayed(names.join(" or ")).into());
    }
    Ok(all.into_iter().map(|(_, d)| d).collect())
}

fn note_default_strategy(plan: &RunPlan, out: &Output) {
    if plan.matched != StrategyMatch::Default {
        return;
    }
    let hint = plan
        .suggestion
        .as_ref()
        .map(|s| {
            format!(
                " (did you mean {s:?}? `--strict` or defaults.unmatched = \"error\" stops typos)"
            )
        })
        .unwrap_or_default();
    out.note(&format!(
        "bsu: no strategy matches {:?}; using the default strategy{hint}",
        plan.event
    ));
}
