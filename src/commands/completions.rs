//! `bsu completions SHELL`, and the test that keeps `completions/` in step
//! with the CLI definition.

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
}
