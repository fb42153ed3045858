//! The one place that looks at the terminal: colour, TTY-ness, quiet and
//! verbose are resolved here once and passed down as `Output`.
//!
//! stdout carries results (tables, JSON, report paths); stderr carries
//! progress, warnings and errors. A closed stdout (`bsu run | head`) stops
//! the printing, not the deciding: the exit code stays the contract's, so a
//! blocked pull request is never merged under `pipefail` because a reader
//! left early. Any other write error on stdout (a full disk, `/dev/full`) is
//! remembered and turns a successful exit into 1. Writes to stderr never
//! panic, even when stderr is closed.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use comfy_table::{presets, ContentArrangement, Table};

use crate::cli::ColorChoice;
use crate::env::Env;

#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub color_stdout: bool,
    pub color_stderr: bool,
    /// Draw live progress (spinners) on stderr.
    pub stderr_is_terminal: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// `COLUMNS`, when set: the width tables fit, terminal or not.
    pub columns: Option<u16>,
    stdout: Arc<Mutex<StdoutState>>,
    /// Redacted from every line printed (by this output and every clone of
    /// it, the one printing errors at exit too), once a run knows its secrets.
    secrets: Arc<std::sync::RwLock<Option<Arc<crate::secrets::Secrets>>>>,
}

#[derive(Debug, Default)]
enum StdoutState {
    #[default]
    Open,
    /// The reader went away; nothing more is printed.
    Closed,
    /// A write failed for another reason; bsu must not exit 0.
    Failed(String),
}

impl Output {
    pub(crate) fn new(choice: ColorChoice, quiet: bool, verbose: u8, env: &Env) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = env.get("NO_COLOR").is_some() || env.get("TERM") == Some("dumb");
        let (color_stdout, color_stderr) = match choice {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (stdout_tty && !no_color, stderr_tty && !no_color),
        };
        console::set_colors_enabled(color_stdout);
        console::set_colors_enabled_stderr(color_stderr);
        Output {
            color_stdout,
            color_stderr,
            stderr_is_terminal: stderr_tty,
            quiet,
            verbose,
            columns: env
                .get("COLUMNS")
                .and_then(|c| c.trim().parse::<u16>().ok())
                .filter(|c| *c >= 20),
            stdout: Arc::default(),
            secrets: Arc::default(),
        }
    }

    /// From now on, redact `secrets` from every line this output and its
    /// clones print.
    pub(crate) fn set_secrets(&self, secrets: Arc<crate::secrets::Secrets>) {
        *self.secrets.write().unwrap_or_else(|p| p.into_inner()) = Some(secrets);
    }

    fn clean<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match &*self.secrets.read().unwrap_or_else(|p| p.into_inner()) {
            Some(s) if !s.is_empty() => std::borrow::Cow::Owned(s.redact(text)),
            _ => std::borrow::Cow::Borrowed(text),
        }
    }

    /// The first stdout write error that was not a closed pipe, if any.
    pub(crate) fn stdout_error(&self) -> Option<String> {
        match &*self.stdout.lock().unwrap_or_else(|p| p.into_inner()) {
            StdoutState::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// Write a result line to stdout.
    pub(crate) fn print(&self, text: &str) {
        let text = &*self.clean(text);
        let mut state = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*state, StdoutState::Open) {
            return;
        }
        let mut out = std::io::stdout().lock();
        let res = out
            .write_all(text.as_bytes())
            .and_then(|()| {
                if text.ends_with('\n') {
                    Ok(())
                } else {
                    out.write_all(b"\n")
                }
            })
            .and_then(|()| out.flush());
        if let Err(e) = res {
            *state = if e.kind() == std::io::ErrorKind::BrokenPipe {
                // The reader has gone: nothing more to say, and not a failure.
                StdoutState::Closed
            } else {
                StdoutState::Failed(format!("could not write to stdout: {e}"))
            };
        }
    }

    /// Write `text` to stdout exactly as it is (no newline added).
    pub(crate) fn print_raw(&self, text: &str) {
        let text = &*self.clean(text);
        let mut state = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*state, StdoutState::Open) {
            return;
        }
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            *state = if e.kind() == std::io::ErrorKind::BrokenPipe {
                StdoutState::Closed
            } else {
                StdoutState::Failed(format!("could not write to stdout: {e}"))
            };
        }
    }

    /// A message for people on stderr, unless `--quiet`.
    pub(crate) fn note(&self, text: &str) {
        if !self.quiet {
            eprint_line(&self.clean(text));
        }
    }

    /// A warning on stderr, unless `--quiet`.
    pub(crate) fn warn(&self, text: &str) {
        let text = &*self.clean(text);
        if !self.quiet {
            eprint_line(&format!(
                "{} {text}",
                self.paint_err("warning:", Paint::Yellow)
            ));
        }
    }

    /// A hint on stderr: what to change. Shown with `-q` too, since it goes with an error.
    pub(crate) fn hint(&self, text: &str) {
        eprint_line(&format!(
            "{} {text}",
            self.paint_err("hint:", Paint::Yellow)
        ));
    }

    /// An error on stderr, always.
    pub(crate) fn error(&self, text: &str) {
        let text = &*self.clean(text);
        eprint_line(&format!("{} {text}", self.paint_err("error:", Paint::Red)));
    }

    /// A table styled for stdout. It wraps to the terminal only when the
    /// terminal reports a usable width: pseudo-terminals (`script`, some CI
    /// runners) report 0 columns, which would squeeze every cell to one letter.
    pub(crate) fn table(&self) -> Table {
        let mut table = Table::new();
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        if self.color_stdout {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        if let Some(w) = self.columns {
            table.set_width(w);
            table.set_content_arrangement(ContentArrangement::Dynamic);
            return table;
        }
        let arrangement = match table.width() {
            Some(w) if w >= 60 => ContentArrangement::Dynamic,
            _ => ContentArrangement::Disabled,
        };
        table.set_content_arrangement(arrangement);
        table
    }

    /// The width output should fit: `COLUMNS`, else the terminal's, else none.
    pub(crate) fn width(&self) -> Option<u16> {
        self.columns.or_else(|| {
            let t = Table::new();
            t.width().filter(|w| *w >= 20)
        })
    }

    pub(crate) fn paint(&self, text: &str, paint: Paint) -> String {
        paint.apply(text, self.color_stdout)
    }

    pub(crate) fn paint_err(&self, text: &str, paint: Paint) -> String {
        paint.apply(text, self.color_stderr)
    }
}

/// One line to stderr; a closed or failing stderr is ignored, never a panic.
pub(crate) fn eprint_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(text.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Paint {
    Red,
    Yellow,
    Green,
    Dim,
}

impl Paint {
    fn apply(self, text: &str, enabled: bool) -> String {
        if !enabled {
            return text.to_string();
        }
        let style = console::Style::new().force_styling(true);
        let style = match self {
            Paint::Red => style.red().bold(),
            Paint::Yellow => style.yellow(),
            Paint::Green => style.green().bold(),
            Paint::Dim => style.dim(),
        };
        style.apply_to(text).to_string()
    }
}
