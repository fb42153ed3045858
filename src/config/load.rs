//! Reading the project's files from disk and handing them to `settle`.
//!
//! Every file is read and parsed even when an earlier one failed, so `bsu
//! check` lists every problem in one pass.

use std::path::{Path, PathBuf};

use super::file::{AgentFile, EventsFile};
use super::settle::{settle, AgentsRead, ParsedAgent};
use super::{is_valid_id, Config, Problem};
use crate::env::Env;
use crate::error::Error;

/// What `bsu check` reports: the problems, how much was found, and the
/// settled configuration when there were no problems.
#[derive(Debug)]
pub(crate) struct Inspection {
    pub config: Option<Config>,
    pub problems: Vec<Problem>,
    pub events: usize,
    pub agents: usize,
}

/// `events.toml` as read from disk once: its text, `None` when it is
/// missing, or why it could not be read. A run reads it ahead of the rest
/// (`peek_state`) and settles the project from the same bytes.
pub(crate) struct EventsRead(Result<Option<String>, Problem>);

impl EventsRead {
    /// Read `root`'s `events.toml`.
    pub(crate) fn from(root: &Path) -> EventsRead {
        EventsRead(read_text(root, "events.toml", &shown(root, "events.toml")))
    }
}

/// Load the project at `root`, or fail with every problem found.
pub(crate) fn load(root: &Path, env: &Env) -> Result<Config, Error> {
    load_read(root, env, EventsRead::from(root))
}

/// `load`, with `events.toml` already read.
pub(crate) fn load_read(root: &Path, env: &Env, events: EventsRead) -> Result<Config, Error> {
    let inspection = inspect_read(root, env, events);
    match inspection.config {
        Some(config) if inspection.problems.is_empty() => Ok(config),
        _ => Err(Error::Config(inspection.problems)),
    }
}

/// The project's `[state]` alone, read ahead of `load` so a state server
/// can be connected to while the rest is read: `None` when the state is
/// not on a server or anything in `events.toml` is amiss (`load` then
/// reports it, and the run connects after it).
pub(crate) fn peek_state(
    root: &Path,
    env: &Env,
    events: &EventsRead,
) -> Option<super::state::StateSettings> {
    #[derive(serde::Deserialize)]
    struct Peek {
        state: Option<super::state::StateFile>,
    }
    let display = shown(root, "events.toml");
    let text = events.0.as_ref().ok()?.as_deref()?;
    // Most projects keep their state in SQLite: no second parse for them.
    if env.get(super::state::URL_VAR).is_none_or(str::is_empty) && !text.contains("state") {
        return None;
    }
    let peek: Peek = toml::from_str(text).ok()?;
    let src = super::settle::Source {
        display: &display,
        text,
    };
    let mut problems = Vec::new();
    let state = super::state::settle_state(peek.state.as_ref(), &src, env, &mut problems);
    (problems.is_empty() && state.url.is_some()).then_some(state)
}

/// Read, parse and validate everything, collecting every problem.
pub(crate) fn inspect(root: &Path, env: &Env) -> Inspection {
    inspect_read(root, env, EventsRead::from(root))
}

/// `inspect`, with `events.toml` already read.
fn inspect_read(root: &Path, env: &Env, events: EventsRead) -> Inspection {
    let mut problems = Vec::new();
    let events_name = shown(root, "events.toml");

    let events = match events.0 {
        Ok(Some(text)) => match toml::from_str::<EventsFile>(&text) {
            Ok(parsed) => Some((parsed, text)),
            Err(e) => {
                problems.push(toml_problem(&events_name, &text, &e));
                None
            }
        },
        Ok(None) => {
            let looked = std::path::absolute(root.join("events.toml"))
                .unwrap_or_else(|_| root.join("events.toml"));
            problems.push(Problem::file(
                events_name.clone(),
                format!(
                    "not found (looked for {}); run `bsu init` to create a starter project here, \
                     or pass -C DIR to point at one",
                    looked.display()
                ),
            ));
            None
        }
        Err(p) => {
            problems.push(p);
            None
        }
    };

    let agents_dir = root.join("agents");
    let agents = read_agents(root, &agents_dir, &mut problems);
    let agent_count = agents.as_ref().map_or(0, |a| a.parsed.len());
    let event_count = events.as_ref().map_or(0, |(e, _)| e.events.len());

    let config = settle(root, events, agents, env, &mut problems);
    // events.toml first, then agents/ in name order, each top to bottom.
    problems.sort_by(|a, b| {
        let key = |p: &Problem| {
            (
                !p.file.ends_with("events.toml"),
                p.file.clone(),
                p.line,
                p.column,
            )
        };
        key(a).cmp(&key(b))
    });
    Inspection {
        config: if problems.is_empty() { config } else { None },
        problems,
        events: event_count,
        agents: agent_count,
    }
}

/// `None` when `agents/` does not exist (a problem is recorded).
fn read_agents(root: &Path, dir: &Path, problems: &mut Vec<Problem>) -> Option<AgentsRead> {
    let dir_name = format!("{}/", shown(root, "agents"));
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(Problem::file(
                dir_name,
                "folder not found; create it with one <id>.toml per agent, or run `bsu init`",
            ));
            return None;
        }
        Err(e) => {
            problems.push(Problem::file(dir_name, format!("cannot be read: {e}")));
            return None;
        }
    };
    let mut agents = AgentsRead::default();
    for path in agent_files(entries) {
        let file_name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let display = shown(root, &format!("agents/{file_name}"));
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !is_valid_id(&stem) {
            problems.push(Problem::file(
                display,
                format!(
                    "{stem:?} is not a valid agent id: use lowercase letters, digits and '-', \
                     starting with a letter or digit (e.g. rename it to agents/{}.toml)",
                    suggest_id(&stem)
                ),
            ));
            continue;
        }
        let text = match read_text(root, &format!("agents/{file_name}"), &display) {
            Ok(Some(text)) => text,
            Ok(None) => continue, // vanished between listing and reading
            Err(p) => {
                problems.push(p);
                agents.broken.insert(stem);
                continue;
            }
        };
        match toml::from_str::<AgentFile>(&text) {
            Ok(file) => {
                agents.parsed.insert(
                    stem,
                    ParsedAgent {
                        file,
                        text,
                        display,
                    },
                );
            }
            Err(e) => {
                problems.push(toml_problem(&display, &text, &e));
                agents.broken.insert(stem);
            }
        }
    }
    Some(agents)
}

/// The `.toml` entries of `agents/`, sorted, whatever each is: the reading
/// rule refuses a link, a pipe or a folder by name rather than passing over
/// it. Hidden names are skipped, as cargo skips them finding targets:
/// editors' lock and backup files (Emacs's `.#a.toml`, a dangling link).
fn agent_files(entries: std::fs::ReadDir) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p
                    .file_name()
                    .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
        })
        .collect();
    paths.sort();
    paths
}

/// Configuration files larger than this are refused, not parsed.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Project file `rel`'s text, read by the reading rule (`project_file`):
/// `Ok(None)` when it does not exist; a problem when it is a symlink, not a
/// regular file inside the project, larger than `MAX_CONFIG_BYTES`,
/// unreadable or not UTF-8. A configuration file is the pull request's to
/// change: a link to `/proc/self/environ` or a secrets file must not be
/// read, or quoted back in a parse error.
fn read_text(root: &Path, rel: &str, display: &str) -> Result<Option<String>, Problem> {
    use crate::project_file::{Entry, NotRead};
    let bytes = match crate::project_file::read(root, rel, MAX_CONFIG_BYTES) {
        Entry::File(bytes) => bytes,
        Entry::NotRead(NotRead::Missing) => return Ok(None),
        Entry::Symlink(_) => {
            return Err(Problem::file(
                display,
                "is a symlink; bsu reads configuration only from regular files inside the \
                 project (symlinks are never followed): copy the file in instead"
                    .to_string(),
            ))
        }
        Entry::NotRead(why) => {
            return Err(Problem::file(
                display,
                format!(
                    "{why}; bsu reads configuration only from regular files inside the project"
                ),
            ))
        }
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let (line, column) = crate::problem::line_col(
            &String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]),
            usize::MAX,
        );
        Problem {
            file: display.to_string(),
            line: Some(line),
            column: Some(column),
            message: "is not UTF-8 text; save it as UTF-8".into(),
        }
    })
}

fn toml_problem(display: &str, text: &str, e: &toml::de::Error) -> Problem {
    let message = e.to_string().trim_end().to_string();
    match e.span() {
        Some(span) => Problem::at(display, text, span, message),
        None => Problem::file(display, message),
    }
}

/// `rel` inside the project, without a leading `./` when the project is `.`.
pub(crate) fn in_project(root: &Path, rel: &Path) -> PathBuf {
    if rel.is_absolute() || root.as_os_str().is_empty() || root == Path::new(".") {
        rel.to_path_buf()
    } else {
        root.join(rel)
    }
}

/// How a project file is named in messages: relative to the current directory
/// when the project is `.`, else under the directory the user gave.
pub(crate) fn shown(root: &Path, rel: &str) -> String {
    if root.as_os_str().is_empty() || root == Path::new(".") {
        rel.to_string()
    } else {
        root.join(rel).display().to_string()
    }
}

fn suggest_id(stem: &str) -> String {
    let mut id: String = stem
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    while id.starts_with('-') {
        id.remove(0);
    }
    if id.is_empty() {
        "my-agent".into()
    } else {
        id
    }
}
