//! The event payload (`--payload FILE|-`, else `$GITHUB_EVENT_PATH`, else
//! inside GitLab CI one built from its variables, else `{}`). Which event it is, is `crate::trigger`'s business.

pub(crate) mod gitlab;
pub(crate) mod view;

use std::path::Path;

use serde_json::Value;

use crate::env::Env;
use crate::error::{Error, Result};

/// Read the payload. Runs before the async runtime starts, so plain std I/O is fine.
pub(crate) fn load(arg: Option<&str>, env: &Env) -> Result<Value> {
    let (source, text) = match arg {
        Some("-") => {
            let text = read_capped(std::io::stdin().lock(), "stdin", "a payload")
                .map_err(|e| Error::Usage(format!("could not read the payload from stdin: {e}")))?;
            ("stdin".to_string(), text)
        }
        Some(path) => (path.to_string(), read(Path::new(path), "--payload")?),
        None => match env.get("GITHUB_EVENT_PATH") {
            Some(path) => (
                path.to_string(),
                read(Path::new(path), "GITHUB_EVENT_PATH")?,
            ),
            None if env.in_gitlab_ci() => return Ok(gitlab::from_ci(env)),
            None => return Ok(Value::Object(Default::default())),
        },
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{source}:{}:{}: the payload is not valid JSON ({e}); pass a JSON object with --payload FILE",
            e.line(),
            e.column()
        ))
    })
}

fn read(path: &Path, from: &str) -> Result<String> {
    std::fs::File::open(path)
        .and_then(|f| read_capped(f, &path.display().to_string(), "a payload"))
        .map_err(|e| {
            Error::Usage(format!(
                "could not read the payload {} (from {from}): {e}",
                path.display()
            ))
        })
}

pub(crate) use crate::fsio::read_capped;
