//! A snapshot of the environment variables bsu reads, taken once at start.
//!
//! Passing this down (instead of calling `std::env::var` deep inside) keeps
//! configuration loading a pure function of files + this map, which is what
//! lets the tests exercise every override without touching the process env.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Is this a GitLab CI job (`GITLAB_CI=true`)?
    pub(crate) fn in_gitlab_ci(&self) -> bool {
        self.get("GITLAB_CI") == Some("true")
    }

    /// Every variable of the process whose name and value are valid UTF-8.
    pub(crate) fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Env { vars }
    }

    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Env {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The value of `name`; a variable set to the empty string counts as unset,
    /// as CI systems often export empty variables for absent secrets.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// True when `name` is set to a true-ish value (`true`, `1`, `yes`).
    pub(crate) fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(str::to_ascii_lowercase).as_deref(),
            Some("true" | "1" | "yes")
        )
    }
}
