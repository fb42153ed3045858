//! `bsu run`: plan, execute, write reports, print the summary, exit by the contract.

mod actions;
mod budget;
mod calls;
mod gather;
mod signal;
mod summary;

use actions::{github_outputs, lock_run, skipped, Locked};
use calls::{call_agents, Calls};
use gather::{gather, Aborting, Gather};

use std::path::Path;
use std::sync::Arc;

use crate::breaker::State;
use crate::cli::RunArgs;
use crate::client::{recording, ApiKey, Client};
use crate::config::{self, Provider, StrategyMatch};
use crate::engine;
use crate::engine::caller::{breaker_name, Caller};
use crate::engine::gate::Warn;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::plan::{self, RunPlan};
use crate::report::{self, write, BreakerJson, Report};
use crate::store::{self, runs::RunRecord, Store};
use crate::trigger::Trigger;
use crate::{filters, inputs, payload, publish, run_id, trigger};

pub(super) fn run(
    root: &Path,
    state_dir: Option<&Path>,
    args: &RunArgs,
    env: &Env,
    out: &Output,
) -> Result<ExitCode> {
    let config = config::load(root, env)?;
    let payload = payload::load(args.payload.as_deref(), env)?;
    let event = match trigger::resolve(args.event.as_deref(), &payload, env, &config)? {
        Trigger::Run { event } => event,
        Trigger::Ignore(why) => return skipped(out, env, None, &why),
    };
    let untrusted = trigger::untrusted_head(&payload, env);
    let plan = Arc::new(plan::plan(&config, args, payload, event, env)?);
    // From here on nothing printed, errors at exit included, can carry a
    // secret the run holds.
    out.set_secrets(plan.secrets.clone());
    if let Some(why) = &untrusted {
        if !config.actions.allow_commands_on_pull_request_target {
            plan::refuse_untrusted(&plan, why)?;
        }
    }
    if let Some(why) = filters::from_payload(&plan.when, &plan.skip, &plan.payload) {
        return skipped(out, env, Some(&plan.event), &why);
    }
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
    let github = if plan.dry_run {
        None
    } else {
        publish::github_target(
            &config.github,
            args.publish.contains(&crate::cli::PublishArg::Github),
            env,
            &|m| out.note(m),
        )?
    };
    if plan.matched == StrategyMatch::Default {
        let hint = plan
            .suggestion
            .as_ref()
            .map(|s| format!(" (did you mean {s:?}? `--strict` or defaults.unmatched = \"error\" stops typos)"))
            .unwrap_or_default();
        out.note(&format!(
            "bsu: no strategy matches {:?}; using the default strategy{hint}",
            plan.event
        ));
    }
    let client = Client::new().map_err(Error::Failed)?;
    let warn: Warn = {
        let out = out.clone();
        Arc::new(move |m: &str| out.warn(m))
    };
    // State is an optimisation: if it cannot be opened the run goes on without it.
    let store = match store::state_dir(state_dir).and_then(|dir| Store::open(&dir, &*warn)) {
        Ok(store) => Some(store.with_warn(warn.clone())),
        Err(e) => {
            warn(&format!(
                "{e}; running without breaker state, response cache or history"
            ));
            None
        }
    };
    let webhook = match (&config.webhook, plan.dry_run) {
        (Some(w), false) => match env.get(&w.url_env) {
            Some(url) if reqwest::Url::parse(url).is_ok() => Some((w.clone(), url.to_string())),
            Some(_) => return Err(Error::Usage(format!("{} does not hold a URL", w.url_env))),
            None => {
                out.note(&format!(
                    "bsu: not posting to the webhook: {} is not set",
                    w.url_env
                ));
                None
            }
        },
        _ => None,
    };
    if args.replay.is_some() && !args.publish_replayed {
        let targets: Vec<&str> = [
            github.as_ref().map(|_| "GitHub"),
            webhook.as_ref().map(|_| "the webhook"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !targets.is_empty() {
            return Err(Error::Usage(format!(
                "--replay answers from recordings anyone can edit, so a replayed run does not \
                 publish to {}; drop the publishing, or pass --publish-replayed to publish it anyway",
                targets.join(" or ")
            )));
        }
    }
    // One run at a time per project and event, when asked.
    let _lock = if plan.dry_run {
        None
    } else {
        lock_run(&plan, &config, args, state_dir, out)?
    };
    let _lock = match _lock {
        Some(Locked::Skip(why)) => return skipped(out, env, Some(&plan.event), &why),
        Some(Locked::Held(l)) => Some(l),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    let request = Gather {
        base: args.base.clone(),
        head: args.head.clone(),
        overrides,
    };
    runtime.block_on(async {
        // The run's deadline and its signal handlers start before gathering:
        // a hanging command or fetch cannot outlive either.
        let start = tokio::time::Instant::now();
        let mut shutdown = signal::Shutdown::install();
        let deadline = engine::deadline::after(start, plan.timeout);
        // On a task of its own, so the deadline fires even mid-parse; dropping
        // the guard aborts it, and its children die with their process groups.
        let task = Aborting(tokio::spawn({
            let (plan, store) = (plan.clone(), store.clone());
            async move { gather(&plan, &request, store.as_ref()).await }
        }));
        let gathered = tokio::select! {
            g = tokio::time::timeout_at(deadline, task.join()) => match g {
                Ok(g) => Ok(g?),
                Err(_) => Err(engine::Stop::Deadline),
            },
            () = shutdown.signalled() => Err(engine::Stop::Interrupted),
        };
        if let Ok(g) = &gathered {
            if let Some(why) = filters::from_paths(&plan.when, g) {
                return skipped(out, env, Some(&plan.event), &why);
            }
        }
        let run = Run {
            start,
            shutdown,
            json: args.json,
            record: args.record.clone(),
            replay: args.replay.clone(),
            gathered,
            github,
            webhook,
        };
        run_async(plan, client, store, warn, out, run).await
    })
}

/// What the run carries besides the plan.
struct Run {
    /// When the run's deadline started: before gathering.
    start: tokio::time::Instant,
    shutdown: signal::Shutdown,
    json: bool,
    /// `--record DIR` / `--replay DIR`.
    record: Option<std::path::PathBuf>,
    replay: Option<std::path::PathBuf>,
    /// The inputs, or what stopped their gathering.
    gathered: std::result::Result<Vec<inputs::Gathered>, engine::Stop>,
    github: Option<publish::GithubTarget>,
    /// `[publish.webhook]` and its URL.
    webhook: Option<(config::publish::WebhookSettings, String)>,
}

async fn run_async(
    plan: Arc<RunPlan>,
    client: Client,
    store: Option<Store>,
    warn: Warn,
    out: &Output,
    run: Run,
) -> Result<ExitCode> {
    let Run {
        start,
        mut shutdown,
        json,
        record,
        replay,
        gathered,
        github,
        webhook,
    } = run;
    // A dry run records itself in the history and touches nothing else.
    let live = store.clone().filter(|_| !plan.dry_run);
    // Providers this run calls, with their keys; none in a dry run, which
    // consults no breaker and so reports none.
    let used: Vec<(&Provider, &ApiKey)> = plan
        .providers
        .values()
        .filter(|p| {
            plan.agents.iter().any(|a| {
                a.skip.is_none()
                    && (a.agent.provider == p.name || a.agent.fallback.contains(&p.name))
            })
        })
        .filter_map(|p| Some((p, plan.keys.get(&p.name)?)))
        .collect();
    let names: Vec<String> = used.iter().map(|(p, k)| breaker_name(p, k)).collect();
    // A replay touches no breaker and no cache: it is not a provider's doing.
    let live = live.filter(|_| replay.is_none());
    let before = breaker_states(live.as_ref(), &names).await;
    let cache = plan
        .cache
        .clone()
        .filter(|_| !plan.dry_run && replay.is_none());
    // Every reply and error is redacted before the cache, a recording or the
    // report sees it.
    let redacting =
        |inner: Arc<dyn engine::caller::Transport>| -> Arc<dyn engine::caller::Transport> {
            Arc::new(crate::client::redacting::Redacting {
                inner,
                secrets: plan.secrets.clone(),
            })
        };
    let transport: Arc<dyn engine::caller::Transport> = match (&replay, &record) {
        (Some(dir), _) => redacting(Arc::new(recording::Replayer { dir: dir.clone() })),
        (None, Some(dir)) => Arc::new(recording::Recorder {
            inner: redacting(Arc::new(client)),
            dir: dir.clone(),
        }),
        (None, None) => redacting(Arc::new(client)),
    };
    let caller = Arc::new(Caller::new(
        transport,
        used.iter().copied(),
        live.clone(),
        cache,
        warn.clone(),
    ));

    let run_id = run_id::new_run_id();
    let (outcome, projected, reserved) = match gathered {
        Ok(gathered) => {
            let calls = Calls {
                start,
                shutdown: &mut shutdown,
                run_id: &run_id,
                store: store.as_ref(),
            };
            call_agents(&plan, gathered, caller.clone(), out, calls).await?
        }
        // Stopped while gathering: no agent was called; the report says why.
        Err(stop) => (engine::stopped(&plan, stop, start), Vec::new(), false),
    };
    let code = outcome.exit_code(plan.dry_run, plan.fail_on);
    let after = match &live {
        Some(_) => breaker_states(live.as_ref(), &names).await,
        // Without a database the only breakers are this process's own.
        None => {
            let seen = caller.breaker_states();
            names
                .iter()
                .map(|n| {
                    let state = seen
                        .iter()
                        .find(|(s, _)| s == n)
                        .map_or(State::Closed, |(_, st)| *st);
                    (n.clone(), state)
                })
                .collect()
        }
    };
    let breakers = before
        .into_iter()
        .zip(after)
        .map(|((name, before), (_, after))| BreakerJson {
            name,
            before: before.to_string(),
            after: after.to_string(),
        })
        .collect();
    let mut report = Report::new(&plan, &outcome, &run_id, breakers, code.into());
    report.replayed_from = replay.as_ref().map(|d| d.display().to_string());
    let costs = cost_report(&outcome, projected, &plan.prices);
    // Every run that called a provider records what it spent (the history of
    // `bsu status` and of the budgets); a reservation becomes the actual cost.
    if reserved || (!plan.dry_run && replay.is_none()) {
        budget::settle(&plan, store.as_ref(), &run_id, &costs.actual).await;
    }
    report.cost = Some(costs);
    // Model and server text may quote a secret: none reaches a publication or a file.
    report.redact(&plan.secrets);
    let mut failed: Vec<String> = Vec::new();
    // Delivery is a loop over destinations, each recording its steps in the report.
    let mut destinations: Vec<Box<dyn publish::Destination>> = Vec::new();
    if let Some(target) = github {
        destinations.push(Box::new(publish::GitHub {
            target,
            fail_on: plan.fail_on,
        }));
    }
    if let Some((settings, url)) = webhook {
        destinations.push(Box::new(publish::Webhook { settings, url }));
    }
    // Workflow commands go to stdout, unless stdout carries the JSON report.
    let print = |line: &str| {
        if json {
            crate::output::eprint_line(line);
        } else {
            out.print(line);
        }
    };
    for d in &destinations {
        let mut published = report.publish.take().unwrap_or_default();
        let delivery = d.deliver(&report, &mut published, &print).await;
        report.publish = Some(published);
        for e in &delivery.failures {
            out.error(e);
        }
        failed.extend(delivery.fails_run);
    }

    // Publishing added servers' words: redact again before anything is written.
    report.redact(&plan.secrets);
    let written = write::write_reports(&report, &plan.reports_dir, &plan.formats, plan.keep).await;
    if let Err(e) = &written {
        failed.push(e.clone());
    }
    if let Some(path) = &plan.step_summary {
        if let Err(e) = write::append(path, &report::markdown::render(&report)).await {
            failed.push(format!(
                "could not append to GITHUB_STEP_SUMMARY ({}): {e}",
                path.display()
            ));
        }
    }
    if let Some(path) = &plan.github_output {
        if let Err(e) = github_outputs(path, &report, written.as_deref().unwrap_or(&[])) {
            failed.push(format!(
                "could not write GITHUB_OUTPUT ({}): {e}",
                path.display()
            ));
        }
    }
    if let Some(path) = &plan.metrics_file {
        let text = report::render_metrics(&report, code.into());
        if let Err(e) = write::atomic_write(path, text.as_bytes()).await {
            failed.push(format!(
                "could not write metrics to {}: {e}",
                path.display()
            ));
        }
    }

    if let Some(db) = &store {
        let record = RunRecord {
            run_id: report.run_id.clone(),
            event: report.event.clone(),
            decision: report.decision.action.to_string(),
            started_at: report.started_at.clone(),
            started_ms: store::now_ms() - i64::try_from(report.duration_ms).unwrap_or(0),
            duration_ms: report.duration_ms,
            report: written
                .as_ref()
                .ok()
                .and_then(|p| p.first())
                .map(|p| absolute(p)),
            // Read back from the run's spend, settled above.
            cost_usd: None,
            tokens: 0,
            project: plan.project.clone(),
            dry_run: plan.dry_run,
            replayed: replay.is_some(),
            strategy: plan.strategy.clone(),
            head_sha: outcome.inputs.iter().find_map(|g| g.source.head.clone()),
        };
        if let Err(e) = db.call(move |c| store::runs::record(c, &record)).await {
            if !db.degraded() {
                warn(&format!("could not record the run in the history ({e})"));
            }
        }
    }

    summary::failures(out, &outcome, &plan);
    if let Some(dir) = &replay {
        out.note(&format!(
            "bsu: replayed from the recordings in {}: no model was called",
            dir.display()
        ));
    }
    if json {
        out.print(&report.to_json());
    } else if !out.quiet {
        summary::summary(out, &outcome, written.as_deref().unwrap_or(&[]));
    }
    if !failed.is_empty() {
        for e in &failed {
            out.error(e);
        }
        return Ok(ExitCode::Failure);
    }
    if replay.is_some() {
        let missing: Vec<String> = outcome
            .agents
            .iter()
            .filter_map(|a| {
                let reason = a.reason()?;
                reason
                    .starts_with(recording::FAILED)
                    .then(|| format!("agent {}: {reason}", a.id))
            })
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "{}; record them with --record DIR against a real provider",
                missing.join("; ")
            )));
        }
    }
    if outcome.interrupted {
        out.error("interrupted; the partial report was written");
    }
    Ok(code)
}

/// The projection and what the run actually cost.
fn cost_report(
    outcome: &engine::outcome::RunOutcome,
    projected: Vec<crate::cost::AgentCost>,
    prices: &crate::prices::PriceBook,
) -> crate::cost::CostReport {
    // Priced at the provider and model that served each agent (a fallback's
    // when the call moved down the chain).
    let used: Vec<_> = outcome
        .agents
        .iter()
        .filter(|a| a.status() != engine::outcome::Status::DryRun && a.usage().total_tokens > 0)
        .map(|a| {
            let (provider, model) = match &a.route {
                Some(r) => (r.provider.clone(), r.model.clone()),
                None => (a.provider.clone(), a.model.clone()),
            };
            (a.id.clone(), provider, model, a.usage())
        })
        .collect();
    let (actual, saved) = crate::cost::actual(&used, prices);
    let mut unpriced: Vec<String> = projected
        .iter()
        .filter(|c| c.usd.is_none())
        .map(|c| c.id.clone())
        .collect();
    unpriced.dedup();
    crate::cost::CostReport {
        projected_usd: crate::cost::total(&projected),
        projected,
        actual_usd: crate::cost::total(&actual),
        actual,
        unpriced,
        cache_saved_usd: saved,
    }
}

/// Each breaker's state now; all closed when there is no state to read.
async fn breaker_states(store: Option<&Store>, names: &[String]) -> Vec<(String, State)> {
    let closed = || names.iter().map(|n| (n.clone(), State::Closed)).collect();
    let Some(store) = store else { return closed() };
    let owned = names.to_vec();
    store
        .call(move |c| store::breakers::states(c, &owned))
        .await
        .unwrap_or_else(|_| closed())
}

pub(super) fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}
