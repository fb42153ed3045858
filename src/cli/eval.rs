//! `bsu eval`'s arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

const MATCHING: &str = "Matching";
const GATES: &str = "Gates";
const RECORDING: &str = "Recording";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,

    /// The folder of cases, one folder each with an expect.toml [default: evals]
    #[arg(value_name = "DIR")]
    pub cases: Option<PathBuf>,

    /// The event to run on every case [default: each case's `event`, else pull_request.opened]
    #[arg(value_name = "EVENT")]
    pub event: Option<String>,

    /// Run only these agents (repeatable)
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<String>,

    /// Cases run at once [default: 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: Option<u32>,

    /// Match findings to golden ones the location rules leave open by asking
    /// this agent, per candidate pair, whether they are the same issue (the
    /// only way to match golden findings without a location)
    #[arg(long, value_name = "AGENT", help_heading = MATCHING)]
    pub judge: Option<String>,

    /// Lines a finding may be off its golden finding's range and still match
    #[arg(long, value_name = "LINES", default_value_t = 3, help_heading = MATCHING)]
    pub tolerance: u64,

    /// The least text similarity (0 to 1) of a finding's title and detail to
    /// the golden description for a match by location
    #[arg(long, value_name = "S", default_value_t = 0.2, value_parser = parse_unit, help_heading = MATCHING)]
    pub min_similarity: f64,

    /// Print the result as JSON (the schema is schemas/eval.schema.json)
    #[arg(long)]
    pub json: bool,

    /// Also write the result as Markdown to FILE
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Also write the result as JSON to FILE (a later --baseline)
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Compare with an earlier eval's JSON and show the deltas
    #[arg(long, value_name = "FILE", help_heading = GATES)]
    pub baseline: Option<PathBuf>,

    /// Exit 3 when a panel figure is under its floor, e.g. f1=0.4,decision=0.8
    /// (precision, recall, f1, weighted_recall, decision)
    #[arg(long, value_name = "LIST", help_heading = GATES)]
    pub fail_under: Option<String>,

    /// Exit 3 when a panel figure fell more than this below --baseline's
    #[arg(long, value_name = "DROP", requires = "baseline", value_parser = parse_unit, help_heading = GATES)]
    pub max_regression: Option<f64>,

    /// Write every model exchange (agents and judge) to DIR
    #[arg(long, value_name = "DIR", conflicts_with = "replay", help_heading = RECORDING)]
    pub record: Option<PathBuf>,

    /// Answer every model request from recordings in DIR: no network, no API key
    #[arg(long, value_name = "DIR", help_heading = RECORDING)]
    pub replay: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Make cases from the withmartian code-review-benchmark's golden comments
    #[command(
        after_help = "Examples:\n  bsu eval import golden_comments/sentry.json --diffs diffs/ --into evals/"
    )]
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A golden-comment JSON file (a list of pull requests with `url` and `comments`)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The folder holding each pull request's diff as OWNER-REPO-NUMBER.patch
    /// (the benchmark does not ship them)
    #[arg(long, value_name = "DIR")]
    pub diffs: PathBuf,

    /// Where to write the cases
    #[arg(long, value_name = "DIR")]
    pub into: PathBuf,
}

fn parse_unit(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}
