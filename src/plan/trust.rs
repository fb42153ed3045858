//! The run's trust rules as the plan applies them: what is refused when the
//! checked-out code is untrusted, the redaction set, and the project's identity.

use super::RunPlan;
use crate::config::Config;
use crate::env::Env;
use crate::error::Result;
use crate::inputs::InputError;

/// Refuse what would run or fetch the head's code when it is untrusted
/// (`trigger::untrusted_head`): `command` inputs and `fetch = true`.
pub(crate) fn refuse_untrusted(plan: &RunPlan, why: &str) -> Result<()> {
    use crate::config::inputs::InputSource;
    for i in &plan.inputs {
        let what = match &i.source {
            InputSource::Command { .. } => "runs a command",
            InputSource::GitDiff(o) | InputSource::ChangedFiles(o) if o.fetch => {
                "fetches commits from the remote (fetch = true)"
            }
            _ => continue,
        };
        return Err(InputError::Untrusted {
            input: i.name.clone(),
            what,
            why: why.to_string(),
        }
        .into());
    }
    Ok(())
}

/// The run's redaction set: every provider's key, the GitHub and GitLab
/// tokens (and GitLab's job token), the
/// webhook URL and the variables of `[secrets] redact`.
pub(crate) fn secrets(config: &Config, env: &Env) -> crate::secrets::Secrets {
    let mut s = crate::secrets::Secrets::default();
    for p in config.providers.values() {
        s.add_var(&p.api_key_env, env.get(&p.api_key_env));
    }
    for name in [
        config.github.token_env.as_str(),
        "GITHUB_TOKEN",
        "GH_TOKEN",
        config.gitlab.token_env.as_str(),
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
    ] {
        s.add_var(name, env.get(name));
    }
    if let Some(w) = &config.webhook {
        s.add_var(&w.url_env, None);
        if let Some(url) = env.get(&w.url_env) {
            s.add_url(url);
        }
    }
    // The state server's URL holds its password.
    s.add_var(crate::config::state::URL_VAR, None);
    if let Some(url) = &config.state.url {
        for v in crate::store::postgres::url::secrets(&url.url) {
            s.add_value(&v);
        }
    }
    for name in &config.secret_vars {
        s.add_var(name, env.get(name));
    }
    s
}

/// What identifies a project whatever spelling of its folder ran bsu
/// (`-C p/`, a symlink, `..`): the canonical folder.
pub(crate) fn project_identity(root: &std::path::Path) -> String {
    root.canonicalize()
        .or_else(|_| std::path::absolute(root))
        .unwrap_or_else(|_| root.to_path_buf())
        .display()
        .to_string()
}
