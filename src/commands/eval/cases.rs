//! Running `bsu eval`'s cases: each through the run path (the same packing,
//! decision and cost accounting as `bsu run`), a bounded number at once,
//! nothing published, no run lock, no history. The case's change goes to
//! the strategy's `git_diff` input as a given patch; its payload (or `{}`,
//! never the CI's own event) as the payload.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::{EvalArgs, FailOn, ProfileArg, RunArgs};
use crate::config::inputs::InputSource;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::evaluate::case::{Case, Change};
use crate::evaluate::matching::{Judged, Rules};
use crate::evaluate::CaseRun;
use crate::output::Output;

/// What every case's run shares.
pub(super) struct Shared {
    pub root: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub env: Env,
    /// The cases' runs print nothing but warnings and errors.
    pub out: Output,
    pub agents: Vec<String>,
    pub event: Option<String>,
    pub record: Option<PathBuf>,
    pub replay: Option<PathBuf>,
    pub judge: Option<String>,
    pub rules: Rules,
    /// Where each case's payload and patch are written for its run.
    pub scratch: tempfile::TempDir,
    /// The project, read once for every case's plan.
    pub config: crate::config::Config,
}

impl Shared {
    pub(super) fn new(
        root: &Path,
        state_dir: Option<&Path>,
        args: &EvalArgs,
        env: &Env,
        out: &Output,
    ) -> Result<Shared> {
        Ok(Shared {
            root: root.to_path_buf(),
            state_dir: state_dir.map(Path::to_path_buf),
            env: env.clone(),
            out: out.quiet_clone(),
            agents: args.agents.clone(),
            event: args.event.clone(),
            record: args.record.clone(),
            replay: args.replay.clone(),
            judge: args.judge.clone(),
            rules: Rules {
                tolerance: args.tolerance,
                min_similarity: args.min_similarity,
            },
            scratch: tempfile::tempdir()
                .map_err(|e| Error::Failed(format!("could not make a scratch folder: {e}")))?,
            config: crate::config::load(root, env)?,
        })
    }

    /// The run arguments of one case.
    fn run_args(&self, event: &str, payload: &Path, input: Option<String>) -> RunArgs {
        RunArgs {
            event: Some(event.to_string()),
            payload: Some(payload.display().to_string()),
            base: None,
            head: None,
            inputs: input.into_iter().collect(),
            agents: self.agents.clone(),
            approve: Vec::new(),
            context: None,
            profile: ProfileArg::Development,
            strict: false,
            dry_run: false,
            execution: None,
            concurrency: None,
            timeout: None,
            no_cache: false,
            if_running: None,
            json: false,
            format: Vec::new(),
            reports_dir: None,
            fail_on: FailOn::Never,
            metrics_file: None,
            publish: Vec::new(),
            publish_replayed: false,
            max_cost: None,
            record: self.record.clone(),
            replay: self.replay.clone(),
            evaluating: true,
            judge: self.judge.clone(),
        }
    }
}

/// Run every case, at most `concurrency` at once; the runs in case order.
pub(super) async fn run_all(
    shared: Arc<Shared>,
    cases: Vec<Case>,
    concurrency: usize,
) -> Vec<CaseRun> {
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, case) in cases.into_iter().enumerate() {
        let (shared, gate) = (shared.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (i, run_one(&shared, case).await)
        });
    }
    let mut runs: Vec<(usize, CaseRun)> = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(run) = done {
            runs.push(run);
        }
    }
    runs.sort_by_key(|(i, _)| *i);
    runs.into_iter().map(|(_, r)| r).collect()
}

async fn run_one(shared: &Shared, case: Case) -> CaseRun {
    let event = shared
        .event
        .clone()
        .or_else(|| case.event.clone())
        .unwrap_or_else(|| "pull_request.opened".into());
    let failed = |case: Case, why: String| CaseRun {
        case,
        event: event.clone(),
        report: None,
        error: Some(why),
        judged: Judged::new(),
        judge_spent: Default::default(),
    };
    let args = match prepare(shared, &case, &event).await {
        Ok(a) => a,
        Err(why) => return failed(case, why),
    };
    let reviewed = super::super::run::review_case(
        shared.root.clone(),
        shared.state_dir.clone(),
        args,
        shared.env.clone(),
        shared.out.clone(),
    )
    .await;
    let mut reviewed = match reviewed {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return failed(case, "a filter of the strategy skipped it".into()),
        Err(e) => return failed(case, e.to_string()),
    };
    reviewed.report.redact(&reviewed.plan.secrets);
    let store = reviewed.store.clone();
    let mut run = CaseRun {
        case,
        event: event.clone(),
        report: None,
        error: None,
        judged: Judged::new(),
        judge_spent: Default::default(),
    };
    run.report = Some(reviewed.report.clone());
    if shared.judge.is_some() {
        let asked = super::judge::ask(&reviewed, &run, shared.rules).await;
        match asked {
            Ok((judged, spent)) => {
                run.judged = judged;
                run.judge_spent = spent;
            }
            Err(why) => run.error = Some(format!("judge: {why}")),
        }
    }
    // The case's end: what its breakers held back and its cache lookups,
    // the judge's calls included, and what it spent (no history record: an
    // eval case is not a run of the project).
    let mut end = std::mem::take(&mut reviewed.end);
    end.successes.extend(reviewed.caller.held_back());
    end.cache.add(reviewed.caller.lookups());
    if let Some(db) = store {
        let _ = db.end_run(end).await;
    }
    run
}

/// Write the case's payload and patch to the scratch folder and make its
/// run's arguments (the patch given to the strategy's `git_diff` input).
async fn prepare(
    shared: &Shared,
    case: &Case,
    event: &str,
) -> std::result::Result<RunArgs, String> {
    let dir = shared.scratch.path().join(&case.name);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("scratch folder: {e}"))?;
    let payload = dir.join("payload.json");
    tokio::fs::write(&payload, case.payload.as_deref().unwrap_or("{}"))
        .await
        .map_err(|e| format!("scratch payload: {e}"))?;
    let (input, secrets) = diff_input(shared, event, &payload)?;
    let Some(input) = input else {
        return Err(format!(
            "the strategy for {event} has no git_diff input to take the case's change"
        ));
    };
    let patch = match &case.change {
        Change::Patch(p) => p.clone(),
        Change::Git { repo, base, head } => {
            let repo = inside(&shared.root, repo)?;
            crate::inputs::git::diff_of(&repo, base, head, &secrets).await?
        }
    };
    let patch_file = dir.join("change.patch");
    tokio::fs::write(&patch_file, patch)
        .await
        .map_err(|e| format!("scratch patch: {e}"))?;
    let input = format!("{input}={}", patch_file.display());
    Ok(shared.run_args(event, &payload, Some(input)))
}

/// A case's repository, when it is inside the project (links followed): a
/// case cannot make bsu read, and send, a repository elsewhere on the machine.
fn inside(root: &Path, repo: &Path) -> std::result::Result<PathBuf, String> {
    let outside = || {
        format!(
            "[change] repo {} is not a folder inside the project; a case may only name a repository inside it",
            repo.display()
        )
    };
    let real = std::fs::canonicalize(repo).map_err(|_| outside())?;
    let root = std::fs::canonicalize(root).map_err(|_| outside())?;
    if real.starts_with(&root) && real.is_dir() {
        Ok(real)
    } else {
        Err(outside())
    }
}

/// The name of the `git_diff` input the strategy for `event` reads, and
/// the names of the run's secrets (removed from git's environment).
fn diff_input(
    shared: &Shared,
    event: &str,
    payload: &Path,
) -> std::result::Result<(Option<String>, Vec<String>), String> {
    let config = &shared.config;
    let mut args = shared.run_args(event, payload, None);
    // Only the strategy's inputs are wanted: no key is read for this.
    args.dry_run = true;
    args.record = None;
    args.replay = None;
    let plan = crate::plan::plan(
        config,
        &args,
        serde_json::json!({}),
        event.to_string(),
        &shared.env,
    )
    .map_err(|e| e.to_string())?;
    let name = plan
        .inputs
        .iter()
        .find(|i| matches!(i.source, InputSource::GitDiff(_)))
        .map(|i| i.name.clone());
    Ok((name, plan.secrets.names().to_vec()))
}
