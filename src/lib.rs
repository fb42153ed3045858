//! bsu: one-shot LLM agent orchestration.
//!
//! Data flows one way: `cli` (arguments) → `commands` (one per subcommand) →
//! `config` (validated project) → the run engine → reports and state. Only
//! `run` is public: everything else is an implementation detail of the binary.

mod cli;
mod commands;
mod config;
mod env;
mod error;
mod output;

use clap::Parser;

/// Run bsu with these command-line arguments and return the process exit code.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version come through here too, with exit code 0.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let env = env::Env::from_process();
    let out = output::Output::new(cli.global.color, cli.global.quiet, cli.global.verbose, &env);
    match commands::dispatch(cli, &env, &out) {
        Ok(code) => code.into(),
        Err(error::Error::Config(problems)) => {
            for p in &problems {
                out.error(&p.to_string().replace('\n', "\n    "));
            }
            out.error(&format!(
                "{} configuration problem{} found; nothing was run (see `bsu check`)",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            error::ExitCode::Usage.into()
        }
        Err(e) => {
            out.error(&e.to_string());
            e.exit_code().into()
        }
    }
}
