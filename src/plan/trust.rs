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

/// A project's identity in a state a fleet shares: its repository on the
/// code host and its folder inside the checkout (`github.com/o/r`,
/// `gitlab.example.com/g/p:services/api`). Every job of one repository then
/// meets the same budgets, locks and history wherever its runner checked it
/// out (GitLab's shell runners put concurrent jobs in different folders).
/// `None` outside GitHub Actions and GitLab CI, or for a project outside the
/// job's checkout.
pub(crate) fn shared_identity(root: &std::path::Path, env: &Env) -> Option<String> {
    let (host, repo, top) = match (
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_WORKSPACE"),
        env.get("CI_PROJECT_PATH"),
        env.get("CI_PROJECT_DIR"),
    ) {
        (Some(repo), Some(top), _, _) => {
            let host = env
                .get("GITHUB_SERVER_URL")
                .and_then(|u| u.split_once("://"))
                .map_or("github.com", |(_, h)| h.trim_end_matches('/'));
            (host, repo, top)
        }
        (_, _, Some(repo), Some(top)) => (env.get("CI_SERVER_HOST").unwrap_or("gitlab"), repo, top),
        _ => return None,
    };
    let root = root.canonicalize().ok()?;
    let top = std::path::Path::new(top).canonicalize().ok()?;
    let inside = root.strip_prefix(&top).ok()?.to_str()?.to_string();
    Some(if inside.is_empty() {
        format!("{host}/{repo}")
    } else {
        format!("{host}/{repo}:{inside}")
    })
}

/// The project's identity for its state: `shared_identity` on a state a
/// fleet shares (when there is one), else the canonical folder.
pub(crate) fn identity_for_state(root: &std::path::Path, env: &Env, shared: bool) -> String {
    shared
        .then(|| shared_identity(root, env))
        .flatten()
        .unwrap_or_else(|| project_identity(root))
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn a_shared_identity_is_the_repository_and_the_folder_inside_its_checkout() {
        let top = tempfile::tempdir().unwrap();
        let sub = top.path().join("services/api");
        std::fs::create_dir_all(&sub).unwrap();
        let ws = top.path().display().to_string();
        let gh = Env::from_pairs(&[
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_WORKSPACE", &ws),
            ("GITHUB_SERVER_URL", "https://ghe.example.com/"),
        ]);
        assert_eq!(
            shared_identity(top.path(), &gh).unwrap(),
            "ghe.example.com/o/r"
        );
        assert_eq!(
            shared_identity(&sub, &gh).unwrap(),
            "ghe.example.com/o/r:services/api"
        );
        let gl = Env::from_pairs(&[
            ("CI_PROJECT_PATH", "g/p"),
            ("CI_PROJECT_DIR", &ws),
            ("CI_SERVER_HOST", "gitlab.example.com"),
        ]);
        assert_eq!(
            shared_identity(&sub, &gl).unwrap(),
            "gitlab.example.com/g/p:services/api"
        );
        // Outside the checkout, or outside CI: the folder.
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(shared_identity(elsewhere.path(), &gh), None);
        assert_eq!(
            identity_for_state(elsewhere.path(), &gh, true),
            project_identity(elsewhere.path())
        );
        assert_eq!(identity_for_state(&sub, &gh, false), project_identity(&sub));
        assert_eq!(shared_identity(&sub, &Env::from_pairs(&[])), None);
    }
}
