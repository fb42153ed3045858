//! `[state]`: where what outlives a run is kept. Without a URL, SQLite in the
//! state directory; with `url` (or `BSU_STATE_URL`), a PostgreSQL server a
//! fleet of runners shares. The URL can hold a password, so it is a secret:
//! the run redacts it, and nothing here ever prints it.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::file::HumanDuration;
use super::settle::Source;
use crate::env::Env;
use crate::problem::Problem;

/// The variable that names the state server; it wins over `[state] url`.
pub(crate) const URL_VAR: &str = "BSU_STATE_URL";

/// How long connecting, and each statement, may take by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest `[state] timeout`: a state store slower than this is down,
/// and a run must never wait on it longer.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// `[state]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StateFile {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]`: keep
    /// the state on this PostgreSQL server. A URL with a password belongs in
    /// `BSU_STATE_URL` (a CI secret), not in a committed file.
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    /// How long connecting, and each statement, may take ("5s" by default).
    pub timeout: Option<HumanDuration>,
}

/// The state server's URL and where it was given (for errors, which name
/// the place and never the URL).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StateUrl {
    pub url: String,
    /// `BSU_STATE_URL`, or `events.toml [state] url`.
    pub from: String,
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateUrl(<from {}>)", self.from)
    }
}

/// `[state]` settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateSettings {
    pub url: Option<StateUrl>,
    pub timeout: Duration,
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            url: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl StateSettings {
    /// Only the environment (for commands whose project does not load): an
    /// error, as loading gives, for a `BSU_STATE_URL` that is not a
    /// PostgreSQL URL.
    pub(crate) fn from_env(env: &Env) -> Result<StateSettings, String> {
        match env_url(env) {
            Some(u) if !is_server_url(&u.url) => Err(format!("{URL_VAR}: {NOT_A_URL}")),
            url => Ok(StateSettings {
                url,
                ..StateSettings::default()
            }),
        }
    }
}

/// What is wrong with a `BSU_STATE_URL` that is not a PostgreSQL URL.
const NOT_A_URL: &str = "is not a PostgreSQL URL: write it as \
                         postgres://USER:PASSWORD@HOST/DATABASE, or unset it to keep the \
                         state in SQLite in the state directory";

fn env_url(env: &Env) -> Option<StateUrl> {
    env.get(URL_VAR)
        .filter(|u| !u.is_empty())
        .map(|u| StateUrl {
            url: u.to_string(),
            from: URL_VAR.to_string(),
        })
}

/// Is this a URL bsu can keep state at? (The scheme only; the server says the rest.)
pub(crate) fn is_server_url(url: &str) -> bool {
    let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

pub(super) fn settle_state(
    file: Option<&StateFile>,
    src: &Source<'_>,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> StateSettings {
    let timeout = file
        .and_then(|f| f.timeout.as_ref())
        .map_or(DEFAULT_TIMEOUT, |t| t.0);
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        problems.push(Problem::file(
            src.display,
            "[state] timeout must be above zero and at most 1m, such as \"5s\"",
        ));
    }
    let from_file = file.and_then(|f| f.url.as_ref()).and_then(|u| {
        if is_server_url(u.get_ref()) {
            Some(StateUrl {
                url: u.get_ref().clone(),
                from: format!("{} [state] url", src.display),
            })
        } else {
            problems.push(src.at(
                u,
                "[state] url must be a PostgreSQL URL (postgres://USER@HOST/DATABASE); \
                 leave it out to keep the state in SQLite in the state directory",
            ));
            None
        }
    });
    if let Some(u) = env_url(env) {
        if !is_server_url(&u.url) {
            problems.push(Problem::file(URL_VAR, NOT_A_URL));
            return StateSettings { url: None, timeout };
        }
        return StateSettings {
            url: Some(u),
            timeout,
        };
    }
    StateSettings {
        url: from_file,
        timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settle(toml: &str, env: &[(&str, &str)]) -> (StateSettings, Vec<Problem>) {
        let file: StateFile = toml::from_str(toml).unwrap();
        let env = Env::from_pairs(env);
        let src = Source {
            display: "events.toml",
            text: toml,
        };
        let mut problems = Vec::new();
        let s = settle_state(Some(&file), &src, &env, &mut problems);
        (s, problems)
    }

    #[test]
    fn the_variable_wins_and_the_file_says_where_its_url_came_from() {
        let (s, p) = settle("url = \"postgres://u@h/d\"\ntimeout = \"2s\"", &[]);
        assert!(p.is_empty());
        let url = s.url.unwrap();
        assert_eq!(
            (url.from.as_str(), s.timeout),
            ("events.toml [state] url", Duration::from_secs(2))
        );
        let (s, _) = settle(
            "url = \"postgres://u@h/d\"",
            &[(URL_VAR, "postgresql://v:pw@h/e")],
        );
        assert_eq!(s.url.unwrap().from, URL_VAR);
        assert_eq!(
            format!(
                "{:?}",
                settle("", &[(URL_VAR, "postgres://v:pw@h/e")]).0.url
            ),
            "Some(StateUrl(<from BSU_STATE_URL>))"
        );
    }

    #[test]
    fn bad_urls_and_timeouts_are_located_and_never_quoted() {
        let (_, p) = settle("url = \"mysql://root:hunter22@db/x\"", &[]);
        assert_eq!(p[0].line, Some(1));
        assert!(!p[0].message.contains("hunter22"), "{}", p[0].message);
        let (_, p) = settle("", &[(URL_VAR, "redis://:hunter22@db")]);
        assert_eq!(p[0].file, URL_VAR);
        assert!(!p[0].message.contains("hunter22"));
        for t in ["61s", "1h"] {
            let (_, p) = settle(&format!("timeout = \"{t}\""), &[]);
            assert!(p[0].message.contains("at most 1m"), "{t}");
        }
    }

    #[test]
    fn the_state_is_read_ahead_as_loading_settles_it_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("agents")).unwrap();
        std::fs::write(
            dir.path().join("agents/a.toml"),
            "name = \"A\"\ninstructions = \"Review.\"\n",
        )
        .unwrap();
        let write = |t: &str| std::fs::write(dir.path().join("events.toml"), t).unwrap();
        let (none, var) = (
            Env::from_pairs(&[]),
            Env::from_pairs(&[(URL_VAR, "postgres://v:pw@h/e")]),
        );
        let peek = |env: &Env| {
            let events = crate::config::EventsRead::from(dir.path());
            crate::config::peek_state(dir.path(), env, &events)
        };
        let load = |env: &Env| crate::config::load(dir.path(), env).unwrap().state;
        let events = "[events.ping]\nagents = [\"a\"]\n";
        write(events);
        assert_eq!(peek(&none), None, "SQLite: nothing to connect to");
        assert_eq!(peek(&var), Some(load(&var)));
        write(&format!(
            "[state]\nurl = \"postgres://u@h/d\"\ntimeout = \"2s\"\n{events}"
        ));
        assert_eq!(peek(&none), Some(load(&none)));
        assert_eq!(peek(&var), Some(load(&var)));
        assert_eq!(load(&var).timeout, Duration::from_secs(2));
        // Anything amiss: no connection ahead; loading says what.
        write(&format!("[state]\ntimeout = \"2h\"\n{events}"));
        assert_eq!(peek(&var), None);
        write("[state\n");
        assert_eq!(peek(&var), None);
    }
}
