//! Publishing to a GitLab merge request (`--publish gitlab`): inline
//! discussions (`discussions`), the sticky note (one per merge request and
//! strategy, found by its marker among the notes the token's own user
//! wrote, edited in place, carrying the ledger) and the commit status on the head commit (failed exactly when the
//! decision reaches `--fail-on`). API v4 at `CI_API_V4_URL`; the token from
//! `GITLAB_TOKEN` (or `token_env`): a project or group access token with the
//! `api` scope.

pub(crate) mod commands;
mod discussions;

use reqwest::Method;
use serde_json::json;

use super::client::{Api, ApiError, Host};
use super::{render, Step, StepStatus};
use crate::client::ApiKey;
use crate::config::publish::GitlabSettings;
use crate::ledger::{block, Ledger};
use crate::report::Report;
use crate::vocab::Action;

/// Pages of notes read at most when looking for the sticky one.
const MAX_PAGES: u32 = 50;

/// GitLab's limit on a commit status's description.
const MAX_DESCRIPTION: usize = 255;

/// Where and how a run publishes on GitLab.
#[derive(Debug, Clone)]
pub(crate) struct GitlabTarget {
    pub settings: GitlabSettings,
    /// `CI_API_V4_URL`.
    pub api_url: String,
    /// The project, URL-encoded path or numeric id.
    pub project: String,
    pub token: ApiKey,
    /// `CI_JOB_URL`, linked from the note and the status.
    pub job_url: Option<String>,
    /// The status's name (the strategy's check name).
    pub status_name: String,
    /// What goes on the lines (the strategy's noise budget).
    pub noise: crate::config::publish::Noise,
}

impl GitlabTarget {
    fn api(&self) -> Result<Api, String> {
        Api::new(
            &self.api_url,
            self.token.clone(),
            self.settings.max_retries,
            self.settings.timeout,
        )
        .map(|a| a.for_host(Host::GitLab))
        .map_err(|e| format!("could not start the HTTP client: {e}"))
    }

    fn mr(&self, iid: u64) -> String {
        format!("/projects/{}/merge_requests/{iid}", self.project)
    }
}

/// The merge request a report is about: its iid (GitLab's payload, or the
/// pull-request shape bsu builds in GitLab CI).
fn iid(r: &Report) -> Option<u64> {
    r.subject.number
}

/// The commit the run reviewed: a commit id (hex), never other text from a
/// payload, since it goes into a URL's path.
fn head(r: &Report) -> Option<String> {
    r.inputs
        .iter()
        .find_map(|i| i.source.head.clone())
        .or_else(|| r.subject.head_sha.clone())
        .filter(|s| is_hex_id(s))
}

/// Only hex digits, 7 to 64 of them: a commit or discussion id that is safe
/// in a URL's path.
pub(super) fn is_hex_id(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn failed(e: &ApiError) -> Step {
    Step::done(StepStatus::Failed, None, Some(e.message.clone()))
}

/// The token's own user: only its notes are bsu's.
pub(super) struct Me {
    pub id: Option<u64>,
    pub login: String,
}

/// Who the token is (`GET /user`).
pub(super) async fn me(api: &Api) -> Result<Me, ApiError> {
    let user = api.send(Method::GET, "/user", None).await?.body;
    Ok(Me {
        id: user["id"].as_u64(),
        login: user["username"].as_str().unwrap_or_default().to_string(),
    })
}

/// bsu's own sticky note of `strategy`, with its body; and the login of
/// anyone else whose note carries the marker (never adopted).
async fn find_note(
    api: &Api,
    target: &GitlabTarget,
    iid: u64,
    strategy: &str,
) -> Result<(Option<(u64, String)>, Option<String>), ApiError> {
    let marker = render::marker(strategy);
    let me = me(api).await?.login;
    let mut foreign = None;
    for page in 1..=MAX_PAGES {
        let path = format!(
            "{}/notes?per_page=100&page={page}&sort=asc&order_by=created_at",
            target.mr(iid)
        );
        let notes = api.send(Method::GET, &path, None).await?.body;
        let list = notes.as_array().cloned().unwrap_or_default();
        for n in &list {
            let (Some(body), author) = (n["body"].as_str(), n["author"]["username"].as_str())
            else {
                continue;
            };
            if !body.starts_with(&marker) {
                continue;
            }
            match (
                author == Some(me.as_str()) && !me.is_empty(),
                n["id"].as_u64(),
            ) {
                (true, Some(id)) => return Ok((Some((id, body.to_string())), foreign)),
                _ => foreign = foreign.or(author.map(|a| crate::text::one_line(a, 60))),
            }
        }
        if list.len() < 100 {
            break;
        }
    }
    Ok((None, foreign))
}

/// The ledger in bsu's sticky note on merge request `iid`.
pub(crate) async fn ledger(
    target: &GitlabTarget,
    iid: u64,
    strategy: &str,
) -> Result<Option<Ledger>, String> {
    let api = target.api()?;
    let (own, foreign) = find_note(&api, target, iid, strategy)
        .await
        .map_err(|e| format!("could not read the merge request's notes ({})", e.message))?;
    let Some((_, body)) = own else {
        return match foreign {
            Some(who) => Err(format!(
                "a note by {who} carries bsu's marker but is not bsu's own"
            )),
            None => Ok(None),
        };
    };
    match block::read(&body) {
        Ok(Some(l)) if l.strategy == strategy => Ok(Some(l)),
        Ok(Some(_)) => Err("the sticky note's ledger names another strategy".into()),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("the sticky note: {e}")),
    }
}

/// What publishing to GitLab did: each step, and the ledger as it left it.
pub(crate) struct Done {
    pub discussions: Step,
    pub note: Step,
    pub status: Step,
    pub ledger: Option<Ledger>,
}

/// Publish `r`: the inline discussions first (what they post goes into the
/// ledger the note carries), then the sticky note, then the commit status.
pub(crate) async fn publish(target: &GitlabTarget, r: &Report, fail_on: Option<Action>) -> Done {
    let mut ledger = r.ledger.as_ref().map(|l| l.ledger.clone());
    let api = match target.api() {
        Ok(a) => a,
        Err(why) => {
            let step = Step::done(StepStatus::Failed, None, Some(why));
            return Done {
                discussions: step.clone(),
                note: step.clone(),
                status: step,
                ledger,
            };
        }
    };
    let mut on_lines = std::collections::HashSet::new();
    let discussions = match (target.settings.discussions, iid(r)) {
        (false, _) => Step::skipped("turned off ([publish.gitlab] discussions = false)"),
        (true, None) => Step::skipped("the payload names no merge request"),
        (true, Some(iid)) => {
            match discussions::discuss(&api, target, iid, r, ledger.as_mut()).await {
                Ok(said) => {
                    on_lines = said.on_lines;
                    Step::done(
                        StepStatus::Created,
                        None,
                        Some(format!(
                            "{} discussions started, {} kept in the note (GitLab refused the position), {} resolved",
                            said.posted, said.refused, said.resolved
                        )),
                    )
                }
                Err(e) => failed(&e),
            }
        }
    };
    let note = match (target.settings.note, iid(r)) {
        (false, _) => Step::skipped("turned off ([publish.gitlab] note = false)"),
        (true, None) => Step::skipped("the payload names no merge request"),
        (true, Some(iid)) => note(&api, target, iid, r, (ledger.as_ref(), &on_lines)).await,
    };
    let status = match (target.settings.status, head(r)) {
        (false, _) => Step::skipped("turned off ([publish.gitlab] status = false)"),
        (true, None) => Step::skipped("no commit to post the status on"),
        (true, Some(sha)) => status(&api, target, &sha, r, fail_on).await,
    };
    Done {
        discussions,
        note,
        status,
        ledger,
    }
}

async fn note(
    api: &Api,
    target: &GitlabTarget,
    iid: u64,
    r: &Report,
    (ledger, on_lines): (Option<&Ledger>, &std::collections::HashSet<String>),
) -> Step {
    let extra = render::Extra {
        run_url: target.job_url.as_deref(),
        ledger,
        stale: None,
        inline: on_lines,
    };
    let body = json!({"body": render::comment(r, &extra)});
    let found = match find_note(api, target, iid, &r.strategy).await {
        Ok((own, _)) => own.map(|(id, _)| id),
        Err(e) => return failed(&e),
    };
    let (method, path, status) = match found {
        Some(id) => (
            Method::PUT,
            format!("{}/notes/{id}", target.mr(iid)),
            StepStatus::Updated,
        ),
        None => (
            Method::POST,
            format!("{}/notes", target.mr(iid)),
            StepStatus::Created,
        ),
    };
    match api.send(method, &path, Some(&body)).await {
        Ok(resp) => {
            let id = resp.body["id"].as_u64();
            let url = r
                .subject
                .url
                .as_deref()
                .zip(id)
                .map(|(u, id)| format!("{u}#note_{id}"));
            Step::done(status, url, None)
        }
        Err(e) => failed(&e),
    }
}

/// The commit status: `failed` exactly when the decision reaches
/// `--fail-on`, else `success`, named by the strategy's check name.
async fn status(
    api: &Api,
    target: &GitlabTarget,
    sha: &str,
    r: &Report,
    fail_on: Option<Action>,
) -> Step {
    let reached = fail_on.is_some_and(|f| r.decision.action >= f);
    let state = if reached { "failed" } else { "success" };
    let description = crate::text::ellipsize(
        &format!(
            "bsu: {} — {}",
            r.decision.action,
            crate::text::one_line(&r.decision.reason, 400)
        ),
        MAX_DESCRIPTION,
    );
    let mut body = json!({
        "state": state,
        "name": target.status_name,
        "description": description,
    });
    if let Some(url) = &target.job_url {
        body["target_url"] = json!(url);
    }
    let path = format!("/projects/{}/statuses/{sha}", target.project);
    match api.send(Method::POST, &path, Some(&body)).await {
        Ok(_) => Step::done(
            StepStatus::Created,
            target.job_url.clone(),
            Some(format!("{state} on {}", &sha[..sha.len().min(12)])),
        ),
        Err(e) => failed(&e),
    }
}

/// Where `--publish gitlab` (or `[publish.gitlab] enabled`) publishes, from
/// the job's variables; `None` when not asked. Asked for and impossible is
/// refused (exit 2, nothing sent), saying what is missing.
pub(crate) fn target(
    settings: &GitlabSettings,
    asked: bool,
    env: &crate::env::Env,
    note: &dyn Fn(&str),
) -> crate::error::Result<Option<GitlabTarget>> {
    use super::Refusal;
    if !asked && !settings.enabled {
        return Ok(None);
    }
    let token = env
        .get(&settings.token_env)
        .filter(|t| !t.trim().is_empty());
    let api_url = env.get("CI_API_V4_URL").map(|u| u.trim_end_matches('/'));
    let project = env
        .get("CI_MERGE_REQUEST_PROJECT_ID")
        .or_else(|| env.get("CI_PROJECT_ID"))
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let (token, api_url, project) = match (token, api_url, project) {
        (Some(t), Some(u), Some(p)) => (t, u, p),
        (t, u, p) => {
            let mut missing = Vec::new();
            if t.is_none() {
                missing.push(format!(
                    "{}: a project or group access token with the api scope, as a masked \
                     CI/CD variable (CI_JOB_TOKEN cannot write notes)",
                    settings.token_env
                ));
            }
            if u.is_none() {
                missing.push("CI_API_V4_URL (set inside GitLab CI)".into());
            }
            if p.is_none() {
                missing.push("CI_PROJECT_ID (set inside GitLab CI)".into());
            }
            let refusal = Refusal::GitLab(format!(
                "publishing to GitLab needs {}",
                missing.join("; and ")
            ));
            if asked {
                return Err(refusal.into());
            }
            note(&format!("bsu: not publishing: {refusal}"));
            return Ok(None);
        }
    };
    if let Err(why) = crate::client::secret::check_key(token) {
        return Err(Refusal::BadToken {
            var: settings.token_env.clone(),
            why: why.to_string(),
        }
        .into());
    }
    if reqwest::Url::parse(api_url).is_err() {
        return Err(Refusal::GitLab(format!("CI_API_V4_URL {api_url:?} is not a URL")).into());
    }
    Ok(Some(GitlabTarget {
        settings: settings.clone(),
        api_url: api_url.to_string(),
        project: project.to_string(),
        token: ApiKey::new(token.to_string()),
        job_url: env.get("CI_JOB_URL").map(str::to_string),
        status_name: String::new(),
        noise: Default::default(),
    }))
}

/// A merge-request pipeline publishing to GitLab, before it is planned: the
/// merge request as GitLab has it (`GET .../merge_requests/:iid`: its
/// author, whole description, labels and draft state replace what the job's
/// variables said), and whether bsu has reviewed it before (its own sticky
/// note is there): `merge_request.open` when not, else `merge_request.update`.
/// `None` when it cannot ask (then the variables' payload and event stand).
pub(crate) async fn refine(
    target: &GitlabTarget,
    iid: u64,
    payload: &mut serde_json::Value,
) -> Option<&'static str> {
    let api = target.api().ok()?;
    let mr = api
        .send(Method::GET, &target.mr(iid), None)
        .await
        .ok()?
        .body;
    merge_request_fields(&mr, &mut payload["pull_request"]);
    let me = me(&api)
        .await
        .ok()
        .map(|m| m.login)
        .filter(|m| !m.is_empty())?;
    let mut reviewed = false;
    for page in 1..=MAX_PAGES {
        let path = format!("{}/notes?per_page=100&page={page}", target.mr(iid));
        let notes = api.send(Method::GET, &path, None).await.ok()?.body;
        let list = notes.as_array().cloned().unwrap_or_default();
        reviewed |= list.iter().any(|n| {
            n["author"]["username"].as_str() == Some(me.as_str())
                && n["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with(crate::vocab::STICKY_MARKER))
        });
        if reviewed || list.len() < 100 {
            break;
        }
    }
    Some(if reviewed {
        "merge_request.update"
    } else {
        "merge_request.open"
    })
}

/// A note's `/bsu run` on merge request `iid`: the merge request as GitLab
/// has it, in a pull request's shape (its `diff_refs` give the range), so
/// the run reviews it as a merge-request pipeline would. `false` when
/// GitLab could not be asked.
pub(crate) async fn note_payload(
    target: &GitlabTarget,
    iid: u64,
    payload: &mut serde_json::Value,
) -> bool {
    let Ok(api) = target.api() else { return false };
    let Ok(resp) = api.send(Method::GET, &target.mr(iid), None).await else {
        return false;
    };
    let mr = resp.body;
    let hex = |v: &serde_json::Value| v.as_str().filter(|s| is_hex_id(s)).map(str::to_string);
    let mut pr = json!({
        "number": iid,
        "title": mr["title"],
        "html_url": mr["web_url"],
        "base": {"ref": mr["target_branch"], "sha": hex(&mr["diff_refs"]["base_sha"])},
        "head": {"ref": mr["source_branch"], "sha": hex(&mr["diff_refs"]["head_sha"])},
    });
    merge_request_fields(&mr, &mut pr);
    payload["number"] = json!(iid);
    payload["pull_request"] = pr;
    true
}

/// The fields of a merge request GitLab's API has that its CI variables
/// lack or cut: author, whole description, labels, draft state.
fn merge_request_fields(mr: &serde_json::Value, pr: &mut serde_json::Value) {
    if let Some(author) = mr["author"]["username"].as_str() {
        pr["user"] = json!({"login": author});
    }
    if let Some(description) = mr["description"].as_str() {
        pr["body"] = json!(description);
    }
    if let Some(labels) = mr["labels"].as_array() {
        pr["labels"] = json!(labels
            .iter()
            .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()))
            .map(|l| json!({"name": l}))
            .collect::<Vec<_>>());
    }
    if let Some(draft) = mr["draft"].as_bool().or(mr["work_in_progress"].as_bool()) {
        pr["draft"] = json!(draft);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_hex_ids_go_into_paths() {
        assert!(super::is_hex_id(&"a".repeat(40)));
        for bad in ["../../users", "abc", "deadbeef/../x", "", "g123456789"] {
            assert!(!super::is_hex_id(bad), "{bad}");
        }
    }
}
