//! `/bsu dismiss ID [reason]`: a person marks a finding dismissed in the
//! pull request's ledger, so it is never raised again there and stops
//! counting toward the decision. No agent is called; the next run's
//! decision reflects it.

use crate::config::Config;
use crate::env::Env;
use crate::error::{Error, ExitCode, Result};
use crate::output::Output;
use crate::publish;

/// Dismiss `(number, id, by, reason)` in whichever strategy's ledger holds it.
pub(super) fn dismiss(
    config: &Config,
    (number, id, by, reason): (u64, &str, &str, &str),
    gitlab: bool,
    env: &Env,
    out: &Output,
) -> Result<ExitCode> {
    if gitlab {
        return dismiss_on_gitlab(config, (number, id, by, reason), env, out);
    }
    let Some(target) = publish::github_target(&config.github, true, env, &|m| out.note(m))? else {
        return Ok(ExitCode::Success);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        for s in &config.strategies {
            match publish::sticky::dismiss(&target, number, &s.name, (id, by, reason)).await {
                Ok(true) => {
                    out.note(&format!(
                        "bsu: finding {id} dismissed by {by} on pull request #{number} ({})",
                        s.name
                    ));
                    return Ok(ExitCode::Success);
                }
                Ok(false) => {}
                Err(why) => return Err(Error::Failed(why)),
            }
        }
        out.note(&format!(
            "bsu: /bsu dismiss: no finding {id} in bsu's comments on pull request #{number}; nothing dismissed"
        ));
        Ok(ExitCode::Success)
    })
}

/// The same on GitLab: the ledger of bsu's sticky note on merge request
/// `number` (its iid).
fn dismiss_on_gitlab(
    config: &Config,
    (number, id, by, reason): (u64, &str, &str, &str),
    env: &Env,
    out: &Output,
) -> Result<ExitCode> {
    let Some(target) = publish::gitlab::target(&config.gitlab, true, env, &|m| out.note(m))? else {
        return Ok(ExitCode::Success);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        for s in &config.strategies {
            match publish::gitlab::commands::dismiss(&target, number, &s.name, (id, by, reason))
                .await
            {
                Ok(true) => {
                    out.note(&format!(
                        "bsu: finding {id} dismissed by {by} on merge request !{number} ({})",
                        s.name
                    ));
                    return Ok(ExitCode::Success);
                }
                Ok(false) => {}
                Err(why) => return Err(Error::Failed(why)),
            }
        }
        out.note(&format!(
            "bsu: /bsu dismiss: no finding {id} in bsu's notes on merge request !{number}; nothing dismissed"
        ));
        Ok(ExitCode::Success)
    })
}
