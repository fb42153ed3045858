//! `/bsu` commands in merge-request notes (a GitLab note webhook given with
//! `--payload`): who may give them, asked of GitLab (Developer access or
//! more: GitLab's payload carries no access level), and `/bsu dismiss`,
//! which marks a finding dismissed in the ledger of bsu's sticky note.

use reqwest::Method;
use serde_json::json;

use super::{find_note, GitlabTarget};
use crate::publish::render;

/// GitLab's Developer access level: the least that may give a command.
const DEVELOPER: u64 = 30;

/// Why user `user_id` may not give a `/bsu` command, or `None` when they may.
pub(crate) async fn may_command(target: &GitlabTarget, user_id: u64) -> Option<String> {
    let api = match target.api() {
        Ok(a) => a,
        Err(why) => return Some(why),
    };
    // bsu's own notes quote model text, which can spell a command: a note
    // by the token's own user is never one, whatever its access.
    match super::me(&api).await {
        Ok(me) if me.id == Some(user_id) => {
            return Some(
                "the note is bsu's own (its token's user): a command in it is model text, \
                 not a person's"
                    .into(),
            )
        }
        Ok(_) => {}
        Err(e) => {
            return Some(format!(
                "could not ask GitLab who bsu's token is ({})",
                e.message
            ))
        }
    }
    let path = format!("/projects/{}/members/all/{user_id}", target.project);
    match api.send(Method::GET, &path, None).await {
        Ok(resp) => match resp.body["access_level"].as_u64() {
            Some(level) if level >= DEVELOPER => None,
            level => Some(format!(
                "the note's author has access level {}; /bsu commands are honoured from \
                 Developer (30) up",
                level.map_or("none".to_string(), |l| l.to_string())
            )),
        },
        Err(e) if e.status == Some(404) => {
            Some("the note's author is not a member of the project".into())
        }
        Err(e) => Some(format!(
            "could not ask GitLab for the note's author's access level ({})",
            e.message
        )),
    }
}

/// `/bsu dismiss`: mark finding `id` dismissed in the ledger of `strategy`'s
/// sticky note on merge request `iid`. `Ok(false)`: no such finding there.
pub(crate) async fn dismiss(
    target: &GitlabTarget,
    iid: u64,
    strategy: &str,
    (id, by, reason): (&str, &str, &str),
) -> Result<bool, String> {
    let api = target.api()?;
    let read =
        |e: super::ApiError| format!("could not read the merge request's notes ({})", e.message);
    let Some((note, body)) = find_note(&api, target, iid, strategy)
        .await
        .map_err(read)?
        .0
    else {
        return Ok(false);
    };
    let Some(new_body) = render::dismissed(&body, strategy, (id, by, reason), "the sticky note")?
    else {
        return Ok(false);
    };
    api.send(
        Method::PUT,
        &format!("{}/notes/{note}", target.mr(iid)),
        Some(&json!({"body": new_body})),
    )
    .await
    .map_err(|e| format!("could not update the sticky note ({})", e.message))?;
    Ok(true)
}
