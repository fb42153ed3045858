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

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, Width};

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

/// A value cell (no letters but a unit `s`) at most this wide is never
/// wrapped: numbers, `292 / 125585`, `0.4s`.
const SHORT_CELL: u16 = 16;

/// Per column: its widest line, and the least it can take without breaking
/// a word.
fn column_widths(table: &Table) -> (Vec<u16>, Vec<u16>) {
    let width = |text: &str| u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
    let longest_word = |text: &str| text.split_whitespace().map(width).max().unwrap_or(0);
    let (mut natural, mut least) = (Vec::new(), Vec::new());
    let mut widen = |i: usize, nat: u16, min: u16| {
        if natural.len() <= i {
            natural.resize(i + 1, 0);
            least.resize(i + 1, 0);
        }
        natural[i] = natural[i].max(nat);
        least[i] = least[i].max(min);
    };
    let header = table.header().into_iter().map(|h| (true, h));
    let rows = table.row_iter().map(|r| (false, r));
    for (is_header, row) in header.chain(rows) {
        for (i, cell) in row.cell_iter().enumerate() {
            let text = cell.content();
            let nat = text.lines().map(width).max().unwrap_or(0);
            let value = !text.contains(|c: char| c.is_alphabetic() && c != 's');
            let min = if !is_header && value && nat <= SHORT_CELL {
                nat
            } else {
                longest_word(&text)
            };
            widen(i, nat, min);
        }
    }
    (natural, least)
}

/// Content widths that fit `avail` columns of table, or `None` when the
/// table fits as it is. Each column starts at its least; the widest are
/// cut, a column at a time (down to 4), when even that is too wide; room left goes, a column at
/// a time, to those furthest from their natural width.
fn fit(natural: &[u16], mut widths: Vec<u16>, avail: u16) -> Option<Vec<u16>> {
    let frame = |w: &[u16]| w.iter().map(|c| u32::from(*c) + 3).sum::<u32>() + 1;
    let avail = u32::from(avail);
    if frame(natural) <= avail {
        return None;
    }
    // One column at a time, from the widest: the cut is shared out.
    while frame(&widths) > avail {
        let (i, w) = widths.iter().copied().enumerate().max_by_key(|(_, w)| *w)?;
        if w <= 4 {
            break;
        }
        widths[i] -= 1;
    }
    while frame(&widths) < avail {
        let Some(i) = (0..widths.len())
            .filter(|&i| natural[i] > widths[i])
            .max_by_key(|&i| natural[i] - widths[i])
        else {
            break;
        };
        widths[i] += 1;
    }
    Some(widths)
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

    /// This output without notes, warnings or live progress (errors still
    /// print): for work whose result is reported as a whole, like each case
    /// of `bsu eval`.
    pub(crate) fn quiet_clone(&self) -> Output {
        Output {
            quiet: true,
            stderr_is_terminal: false,
            ..self.clone()
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

    /// A table styled for stdout, fitting `COLUMNS`, else the terminal's
    /// width when it reports a usable one, else 80 columns: pseudo-terminals
    /// (`script`, some CI runners) report 0 columns, which would squeeze
    /// every cell to one letter.
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
        // Off a terminal (a pipe, a CI log) tables fit 80 columns, as they
        // do on a terminal that reports no usable width.
        if table.width().is_none_or(|w| w < 60) {
            table.set_width(80);
        }
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table
    }

    /// Print a table on stdout, fitting the width of `table()`. A table that
    /// fits is printed as it is; one that does not wraps its cells at spaces
    /// only: each column keeps at least its longest word (a short value
    /// cell, such as `292 / 125585`, counts as one word), and only when
    /// those cannot all fit is the longest word (an identifier) broken.
    pub(crate) fn print_table(&self, mut table: Table) {
        let avail = table.width().unwrap_or(80);
        let (natural, least) = column_widths(&table);
        if let Some(widths) = fit(&natural, least, avail) {
            for (i, w) in widths.into_iter().enumerate() {
                if let Some(column) = table.column_mut(i) {
                    // The width counts the cell's padding, one space each side.
                    column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(w + 2)));
                }
            }
        }
        self.print(&table.to_string());
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

#[cfg(test)]
mod tests {
    use super::fit;

    /// Frame width of content widths: padding 2 and a border per column, plus one.
    fn frame(w: &[u16]) -> u32 {
        w.iter().map(|c| u32::from(*c) + 3).sum::<u32>() + 1
    }

    #[test]
    fn a_table_that_fits_is_left_alone() {
        assert_eq!(fit(&[10, 20], vec![5, 5], 80), None);
    }

    #[test]
    fn columns_keep_their_longest_word_and_share_the_rest() {
        // Natural 30 + 60 is too wide; the second wraps, keeping its word of 12.
        let w = fit(&[30, 60], vec![30, 12], 80).unwrap();
        assert_eq!(frame(&w), 80);
        assert_eq!(w[0], 30, "the first fits whole");
        assert!(w[1] >= 12);
    }

    #[test]
    fn only_when_words_cannot_fit_are_the_longest_cut() {
        let w = fit(&[40, 40, 10], vec![40, 30, 10], 60).unwrap();
        assert_eq!(frame(&w), 60);
        assert_eq!(w[2], 10, "the short column is not cut");
        assert!(w[0] < 40 && w[1] < 30);
        // Never below 4, even when nothing fits.
        let w = fit(&[50, 50], vec![50, 50], 10).unwrap();
        assert_eq!(w, vec![4, 4]);
    }
}
