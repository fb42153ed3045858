//! One module per subcommand. Each takes the parsed arguments, the
//! environment snapshot and the output context, and returns an exit code or
//! a typed error; none of them prints outside `Output`.

mod check;
mod completions;
mod eval;
mod init;
mod list;
#[cfg(test)]
mod reference;
mod report;
mod run;
mod schemas;
pub(crate) mod state;
mod status;

use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::env::Env;
use crate::error::{ExitCode, Result};
use crate::output::Output;

pub(crate) use run::{early as connect_early, Early};

/// Run the command `cli` parsed; `early`, a run's state server connected to
/// before parsing (`connect_early`).
pub(crate) fn dispatch(
    cli: Cli,
    env: &Env,
    out: &Output,
    early: Option<Early>,
) -> Result<ExitCode> {
    let root = cli.global.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let place = state::Place {
        root: &root,
        state_dir: cli.global.state_dir.as_deref(),
        env,
        settings: std::cell::OnceCell::new(),
    };
    match cli.command {
        Command::Check(args) => check::check(&root, env, out, args.json),
        Command::Events(args) => list::events(&root, env, out, args.json),
        Command::Agents(args) => list::agents(&root, env, out, args.context.as_deref(), args.json),
        Command::Completions { shell } => completions::print(shell, out),
        Command::Eval(args) => eval::eval(&root, cli.global.state_dir.as_deref(), &args, env, out),
        Command::Init(args) => init::init(&root, out, &args),
        Command::Report(args) => report::render(&args, out),
        Command::Diff(args) => report::diff(&args, &place, out),
        Command::Run(args) => {
            let state_dir = cli.global.state_dir.as_deref();
            run::run(&root, state_dir, &args, env, out, early)
        }
        Command::Status(args) => status::status(&place, &args, out),
        Command::Cache { action } => state::cache(&place, &action, out),
        Command::Breaker { action } => state::breaker(&place, &action, out),
        Command::State { action } => state::state(&place, &action, out),
    }
}
