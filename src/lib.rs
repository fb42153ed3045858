//! bsu: one-shot LLM agent orchestration.
//!
//! Data flows one way: `cli` (arguments) → `commands` (one per subcommand) →
//! `config` (validated project) → the run engine → reports and state. Only
//! `run` is public: everything else is an implementation detail of the binary.

#[cfg(test)]
mod architecture;
mod bounds;
mod breaker;
mod cli;
mod client;
mod commands;
mod complete;
mod config;
mod cost;
mod engine;
mod env;
mod error;
mod evaluate;
mod filters;
mod fsio;
mod hints;
mod inputs;
mod ledger;
mod lock;
mod net;
mod output;
mod payload;
mod plan;
mod prices;
mod problem;
mod process;
mod progress;
mod project_file;
mod publish;
mod report;
mod run_id;
mod secrets;
mod store;
mod text;
mod tokens;
mod trigger;
mod vocab;

use clap::Parser;

/// Run bsu with these command-line arguments and return the process exit code.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // `COMPLETE=bash bsu` prints the shell's hook; the hook calls back here.
    let args: Vec<T> = args.into_iter().collect();
    if std::env::var_os("COMPLETE").is_some_and(|v| !v.is_empty() && v != "0") {
        use clap::CommandFactory;
        let argv: Vec<std::ffi::OsString> = args.iter().cloned().map(Into::into).collect();
        let cwd = std::env::current_dir().ok();
        match clap_complete::CompleteEnv::with_factory(cli::Cli::command)
            .try_complete(argv, cwd.as_deref())
        {
            Ok(true) => return 0,
            Ok(false) => {}
            Err(e) => {
                let _ = e.print();
                return 2;
            }
        }
    }
    let env = env::Env::from_process();
    // A run whose state is on a server starts connecting now, while clap
    // builds its parser and parses.
    let argv: Vec<std::ffi::OsString> = args.iter().cloned().map(Into::into).collect();
    let early = commands::connect_early(&argv, &env);
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version come through here too, with exit code 0.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let out = output::Output::new(cli.global.color, cli.global.quiet, cli.global.verbose, &env);
    init_logging(&out);
    match commands::dispatch(cli, &env, &out, early) {
        // A result that could not be written is not a success.
        Ok(error::ExitCode::Success) if out.stdout_error().is_some() => {
            let e = error::Error::Failed(out.stdout_error().unwrap_or_default());
            out.error(&e.to_string());
            e.exit_code().into()
        }
        Ok(code) => {
            if let Some(e) = out.stdout_error() {
                out.error(&e);
            }
            code.into()
        }
        Err(error::Error::Config(problems)) => {
            for p in &problems {
                out.error(&p.to_string().replace('\n', "\n    "));
            }
            out.error(&format!(
                "{} configuration problem{} found; nothing was run (see `bsu check`)",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            error::Error::Config(problems).exit_code().into()
        }
        Err(e) => {
            out.error(&e.to_string());
            e.exit_code().into()
        }
    }
}

/// Logs go to stderr: warnings by default, `-v` debug, `-vv` trace, none with `-q`.
fn init_logging(out: &output::Output) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    // A level per target, no pattern matching (and no regex machinery).
    let filter = match (out.quiet, out.verbose) {
        (true, _) => Targets::new().with_default(LevelFilter::OFF),
        (false, 0) => Targets::new().with_default(LevelFilter::WARN),
        (false, 1) => Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("bsu", LevelFilter::DEBUG),
        (false, _) => Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("bsu", LevelFilter::TRACE)
            .with_target("reqwest", LevelFilter::DEBUG),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(out.color_stderr)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
