//! `bsu completions SHELL`, and the tests that keep `completions/` and the
//! man pages in `man/` in step with the CLI definition.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{ExitCode, Result};
use crate::output::Output;

pub(super) fn print(shell: Shell, out: &Output) -> Result<ExitCode> {
    out.print(&String::from_utf8_lossy(&generate(shell)));
    Ok(ExitCode::Success)
}

fn generate(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "bsu", &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap_complete::Generator;

    /// The committed completions must match the CLI. Regenerate them with
    /// `BSU_UPDATE_COMPLETIONS=1 cargo test completions`.
    #[test]
    fn committed_completions_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        let update = std::env::var_os("BSU_UPDATE_COMPLETIONS").is_some_and(|v| v == "1");
        let mut stale = Vec::new();
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let path = dir.join(shell.file_name("bsu"));
            let fresh = generate(shell);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &fresh).unwrap();
            } else if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale completions: {stale:?}; run `BSU_UPDATE_COMPLETIONS=1 cargo test completions`"
        );
    }

    /// `man/bsu.1` and one page per subcommand (`bsu-run.1`, ...), from the
    /// CLI definition with clap_mangen. Regenerate them with
    /// `BSU_UPDATE_MAN=1 cargo test man_pages`.
    #[test]
    fn committed_man_pages_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
        let update = std::env::var_os("BSU_UPDATE_MAN").is_some_and(|v| v == "1");
        let cmd = Cli::command();
        let mut pages: Vec<(String, Vec<u8>)> = Vec::new();
        let mut render = |name: String, c: clap::Command| {
            let mut buf = Vec::new();
            clap_mangen::Man::new(c).render(&mut buf).unwrap();
            pages.push((format!("{name}.1"), buf));
        };
        render("bsu".into(), cmd.clone());
        for sub in cmd.get_subcommands() {
            let name: &'static str = Box::leak(format!("bsu-{}", sub.get_name()).into_boxed_str());
            let version: &'static str = env!("CARGO_PKG_VERSION");
            render(name.to_string(), sub.clone().name(name).version(version));
        }
        let mut stale = Vec::new();
        for (file, fresh) in &pages {
            let path = dir.join(file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, fresh).unwrap();
            } else if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale man pages: {stale:?}; run `BSU_UPDATE_MAN=1 cargo test man_pages`"
        );
    }

    #[test]
    fn every_command_has_examples_and_global_options_under_their_heading() {
        let mut cmd = Cli::command();
        cmd.build();
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            let name = sub.get_name().to_string();
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains("Examples:\n  bsu"),
                "bsu {name} --help has no examples"
            );
            assert!(
                help.contains("Global options:"),
                "bsu {name} --help: {help}"
            );
        }
    }
}
