//! The command-line surface, and only that: clap types that mirror CONTRACT.md.
//!
//! Nothing here reads files or the environment beyond what clap does for the
//! flags the contract ties to a variable. `crate::plan` and the commands turn
//! these raw values into validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod eval;
pub use eval::{EvalArgs, EvalCommand, ImportArgs};

const EVAL_EXAMPLES: &str = "Examples:
  bsu eval evals --replay evals/recording
  bsu eval evals pull_request.opened --judge judge --record rec/
  bsu eval evals --baseline last.json --max-regression 0.05 --fail-under f1=0.4";

/// Run a panel of AI agents on an event, aggregate their verdicts into one
/// decision, and write JSON and Markdown reports.
#[derive(Debug, Parser)]
#[command(name = "bsu", version, about, propagate_version = true)]
#[command(
    after_help = "Docs: README.md and docs/CONTRACT.md. Exit codes: 0 ok, 1 run failed, \
2 usage or configuration error, 3 decision reached --fail-on, 75 try again later, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

const GLOBAL: &str = "Global options";

const RUN_EXAMPLES: &str = "Examples:
  bsu run pull_request.opened --dry-run --base main     render what the panel would be sent
  git diff main | bsu run review --input diff=-          review a diff from stdin
  bsu run --publish github                               inside GitHub Actions: the event comes from the trigger

Environment (besides the flags' own):
  OPENAI_API_KEY, ANTHROPIC_API_KEY   keys, read from the variable each provider's api_key_env names
  OPENAI_BASE_URL, BSU_MODEL          base URL and model of every kind = \"openai\" provider
  BSU_CONTEXT_WINDOW, BSU_MAX_TOKENS  context window and reply limit of their agents (local servers)
  BSU_MAX_RETRIES, BSU_BREAKER_FAILURE_THRESHOLD, BSU_BREAKER_RESET_TIMEOUT   every provider's retry and breaker settings
  GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
  CI=true (default context ci), NO_COLOR, COLUMNS";

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project directory holding events.toml and agents/ [default: current directory]
    #[arg(
        short = 'C',
        long = "dir",
        value_name = "DIR",
        env = "BSU_DIR",
        global = true,
        help_heading = GLOBAL
    )]
    pub dir: Option<PathBuf>,

    /// Where breaker state, the response cache and run history live
    /// [default: the platform state directory, e.g. ~/.local/state/bsu]
    #[arg(long, value_name = "DIR", env = "BSU_STATE_DIR", global = true, help_heading = GLOBAL)]
    pub state_dir: Option<PathBuf>,

    /// Say more on stderr (-v: debug, -vv: trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet", help_heading = GLOBAL)]
    pub verbose: u8,

    /// Print only errors (and their hints) on stderr
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// When to use colour (NO_COLOR in the environment means never, unless "always")
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true, help_heading = GLOBAL)]
    pub color: ColorChoice,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an event's agents, decide, and write reports
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Show circuit breakers, the response cache and recent runs
    #[command(
        after_help = "Examples:\n  bsu status\n  bsu status --json --runs 50\n  COLUMNS=80 bsu status"
    )]
    Status(StatusArgs),
    /// Validate events.toml and agents/, listing every problem
    #[command(after_help = "Examples:\n  bsu check\n  bsu -C path/to/project check --json")]
    Check(JsonFlag),
    /// List event strategies in the order they are matched
    #[command(after_help = "Examples:\n  bsu events\n  bsu events --json")]
    Events(JsonFlag),
    /// List agents
    #[command(after_help = "Examples:\n  bsu agents\n  bsu agents --context ci --json")]
    Agents(AgentsArgs),
    /// Manage the response cache
    #[command(after_help = "Examples:\n  bsu cache prune\n  bsu cache clear --json")]
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Manage circuit breakers
    #[command(
        after_help = "Examples:\n  bsu breaker reset openai@api.openai.com\n  bsu breaker reset --json"
    )]
    Breaker {
        #[command(subcommand)]
        action: BreakerAction,
    },
    /// Manage the state store (SQLite in the state directory, or a PostgreSQL server)
    #[command(
        after_help = "Examples:\n  bsu state migrate\n  BSU_STATE_URL=postgres://bsu@db.internal/bsu bsu state migrate --json"
    )]
    State {
        #[command(subcommand)]
        action: StateAction,
    },
    /// Write a starter events.toml and agents/ in the project directory
    #[command(after_help = "Examples:\n  bsu init\n  bsu -C new-project init --json")]
    Init(InitArgs),
    /// Render a run's JSON report again, in any format
    #[command(
        after_help = "Examples:\n  bsu report reports/latest.json\n  bsu report reports/latest.json --format junit > junit.xml"
    )]
    Report(ReportArgs),
    /// Show what changed between two runs: decision, agents, findings
    #[command(
        after_help = "Examples:\n  bsu diff old.json new.json\n  bsu diff --last scheduled.nightly --exit-code"
    )]
    Diff(DiffArgs),
    /// Measure the panel on labelled changes: precision, recall, decisions, cost
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(Box<EvalArgs>),
    /// Print shell completions to stdout
    #[command(
        after_help = "Examples:\n  bsu completions bash > ~/.local/share/bash-completion/completions/bsu\n  bsu completions zsh > ~/.zfunc/_bsu"
    )]
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// A lone `--json` flag.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON on stdout instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// Only agents allowed to run in this context (ci, cli, github, ...)
    #[arg(long, value_name = "C")]
    pub context: Option<String>,

    /// Print a JSON array of agents on stdout instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How many recent runs to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: usize,

    /// Print JSON on stdout instead of tables
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite files that already exist
    #[arg(long)]
    pub force: bool,

    /// Also write a CI pipeline that runs bsu: gitlab (.gitlab-ci.yml)
    #[arg(long, value_enum, value_name = "CI")]
    pub ci: Option<CiArg>,

    /// Print what was written as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A JSON report written by `bsu run`
    pub file: PathBuf,

    /// The format to print
    #[arg(long, value_enum, default_value_t = RenderFormat::Md)]
    pub format: RenderFormat,
}

/// What `bsu report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Json,
    Md,
    Junit,
    Sarif,
    Metrics,
    Patch,
    /// GitLab's Code Quality report
    Codequality,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older report (JSON)
    #[arg(required_unless_present = "last")]
    pub before: Option<PathBuf>,

    /// The newer report (JSON)
    #[arg(required_unless_present = "last")]
    pub after: Option<PathBuf>,

    /// Compare the two newest runs of EVENT in the run history instead
    #[arg(long, value_name = "EVENT", conflicts_with_all = ["before", "after"])]
    pub last: Option<String>,

    /// Print the differences as JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Exit 1 when the decision changed (like `git diff --exit-code`)
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Remove every cached response
    Clear(JsonFlag),
    /// Remove expired cached responses
    Prune(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Apply pending schema migrations (automatic on first use; this makes it a step of its own)
    Migrate(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum BreakerAction {
    /// Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them
    Reset {
        /// The breaker's name, as `bsu status` shows it
        name: Option<String>,

        /// Print the breakers closed as JSON on stdout
        #[arg(long)]
        json: bool,
    },
}

/// Headings `bsu run --help` groups its flags under.
const INPUTS: &str = "Inputs";
const SELECTION: &str = "Agent selection";
const EXECUTION: &str = "Execution";
const OUTPUT: &str = "Output";
const PUBLISHING: &str = "Publishing";
const COST: &str = "Cost";
const RECORDING: &str = "Recording";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The event to run, e.g. pull_request.opened. Inside GitHub Actions it may be
    /// left out: GITHUB_EVENT_NAME and the payload's "action" name it.
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(crate::complete::events))]
    pub event: Option<String>,

    /// Event payload as JSON, from a file or - for stdin [default: $GITHUB_EVENT_PATH, else {}]
    #[arg(long, value_name = "FILE|-", help_heading = INPUTS)]
    pub payload: Option<String>,

    /// Base of the change that diff inputs review [default: the payload's, else at a
    /// terminal the merge-base with the upstream branch]
    #[arg(long, value_name = "REV", help_heading = INPUTS)]
    pub base: Option<String>,

    /// Head of the change [default: the payload's; with --base alone, the working tree]
    #[arg(long, value_name = "REV", requires = "base", help_heading = INPUTS)]
    pub head: Option<String>,

    /// Supply or override input NAME with the text of FILE, or - for stdin (repeatable)
    #[arg(long = "input", value_name = "NAME=FILE|-", help_heading = INPUTS)]
    pub inputs: Vec<String>,

    /// Run only these of the event's agents (repeatable)
    #[arg(long = "agent", value_name = "ID", add = clap_complete::engine::ArgValueCandidates::new(crate::complete::agents), help_heading = SELECTION)]
    pub agents: Vec<String>,

    /// Let an agent that requires approval run (repeatable)
    #[arg(long = "approve", value_name = "ID", help_heading = SELECTION)]
    pub approve: Vec<String>,

    /// Run context agents are filtered by [default: ci when CI=true, else cli]
    #[arg(long, value_name = "C", help_heading = SELECTION)]
    pub context: Option<String>,

    /// Deployment profile agents are filtered by
    #[arg(long, value_enum, value_name = "P", env = "BSU_PROFILE", default_value_t = ProfileArg::Development, help_heading = SELECTION)]
    pub profile: ProfileArg,

    /// An event no strategy matches is an error, not a run of the default strategy
    #[arg(long, help_heading = SELECTION)]
    pub strict: bool,

    /// Render every prompt and estimate tokens; send nothing and change no state
    #[arg(long, help_heading = EXECUTION)]
    pub dry_run: bool,

    /// Run the agents in parallel or in sequence, whatever the event says
    #[arg(long, value_enum, value_name = "MODE", help_heading = EXECUTION)]
    pub execution: Option<ExecutionArg>,

    /// Most agent calls in flight at once
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = EXECUTION)]
    pub concurrency: Option<u32>,

    /// Deadline for the whole run, e.g. 90s or 10m
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = EXECUTION)]
    pub timeout: Option<std::time::Duration>,

    /// Neither read nor write the response cache
    #[arg(long, help_heading = EXECUTION)]
    pub no_cache: bool,

    /// When another run of this project and event is in progress: wait, skip, or run
    /// alongside it [default: defaults.if_running, else run]
    #[arg(long, value_enum, value_name = "WHAT", help_heading = EXECUTION)]
    pub if_running: Option<crate::config::IfRunning>,

    /// Print the report JSON on stdout instead of the human summary
    #[arg(long, help_heading = OUTPUT)]
    pub json: bool,

    /// Which reports to write, comma-separated: json, md, junit, sarif [default: reports.formats]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_enum, help_heading = OUTPUT)]
    pub format: Vec<FormatArg>,

    /// Where to write reports [default: reports.dir from events.toml]
    #[arg(long, value_name = "DIR", env = "BSU_REPORTS_DIR", help_heading = OUTPUT)]
    pub reports_dir: Option<PathBuf>,

    /// Exit 3 when the decision is at least this strong
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Block, help_heading = OUTPUT)]
    pub fail_on: FailOn,

    /// Write Prometheus text-format metrics of this run to FILE (node_exporter textfile)
    #[arg(long, value_name = "FILE", help_heading = OUTPUT)]
    pub metrics_file: Option<PathBuf>,

    /// Publish the decision: github (sticky comment, review, check run) [default: [publish.github] enabled]
    #[arg(long, value_enum, value_name = "WHERE", help_heading = PUBLISHING)]
    pub publish: Vec<PublishArg>,

    /// Let a replayed run publish (--publish, webhooks): a recording is a file
    /// anyone may edit, so a replay publishes nothing unless this is given
    #[arg(long, requires = "replay", help_heading = PUBLISHING)]
    pub publish_replayed: bool,

    /// Refuse the run (exit 2, nothing sent) when its projected cost is above USD
    /// [default: budget.max_cost_per_run]
    #[arg(long, value_name = "USD", value_parser = parse_usd, help_heading = COST)]
    pub max_cost: Option<f64>,

    /// Write every model exchange to DIR, one JSON file per request (never the key)
    #[arg(long, value_name = "DIR", conflicts_with = "replay", help_heading = RECORDING)]
    pub record: Option<PathBuf>,

    /// Answer every model request from recordings in DIR: no network, no API key
    #[arg(long, value_name = "DIR", conflicts_with = "dry_run", help_heading = RECORDING)]
    pub replay: Option<PathBuf>,

    /// Set by `bsu eval` for each case: nothing published, no run lock, no
    /// history record.
    #[arg(skip)]
    pub evaluating: bool,

    /// Set by `bsu eval --judge AGENT`: the agent its judge calls go to,
    /// through the run's caller.
    #[arg(skip)]
    pub judge: Option<String>,
}

/// The CI systems `bsu init --ci` writes a pipeline for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiArg {
    /// .gitlab-ci.yml: merge-request reviews and scheduled audits
    Gitlab,
}

/// Where a run can publish its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishArg {
    /// The pull request and commit on GitHub
    Github,
    /// The merge request and commit on GitLab (sticky note, commit status)
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutionArg {
    Parallel,
    Sequential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Md,
    Junit,
    Sarif,
    /// Every applicable suggestion as one patch (`git apply`)
    Patch,
    /// GitLab's Code Quality report (artifacts: reports: codequality)
    Codequality,
}

/// The decision level at which `bsu run` exits 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum FailOn {
    /// Exit 3 only on block
    Block,
    /// Exit 3 on request_changes or block
    RequestChanges,
    /// Exit 3 on anything but approve
    ManualReview,
    /// Never exit 3
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Development,
    Staging,
    Production,
}

/// A `--max-cost` that is no amount of USD, or out of range.
#[derive(Debug, thiserror::Error)]
enum BadUsd {
    #[error("{0:?} is not an amount of USD, e.g. 0.50")]
    NotANumber(String),
    #[error("{0:?} must be above 0 and at most 1000000")]
    OutOfRange(String),
}

fn parse_usd(s: &str) -> Result<f64, BadUsd> {
    let v: f64 = s
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| BadUsd::NotANumber(s.to_string()))?;
    if v.is_finite() && v > 0.0 && v <= 1e6 {
        Ok(v)
    } else {
        Err(BadUsd::OutOfRange(s.to_string()))
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, crate::bounds::OutOfBounds> {
    crate::bounds::duration(s)
}

#[cfg(test)]
mod tests;
