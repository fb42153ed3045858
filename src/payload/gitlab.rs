//! The payload of a GitLab CI job, built from the variables GitLab sets
//! (there is no event file): for a merge-request pipeline the merge
//! request's iid, title, description, labels, draft state, branches and
//! SHAs, in the shape of a GitHub `pull_request` payload, so the same
//! strategy file, filters and payload view work on both; the GitLab names
//! are kept beside it under `merge_request`.

use serde_json::{json, Value};

use crate::env::Env;

/// The payload of this GitLab CI job.
pub(crate) fn from_ci(env: &Env) -> Value {
    let get = |k: &str| env.get(k).map(str::to_string);
    let project = json!({
        "id": get("CI_PROJECT_ID"),
        "path_with_namespace": get("CI_PROJECT_PATH"),
        "web_url": get("CI_PROJECT_URL"),
    });
    let Some(iid) = get("CI_MERGE_REQUEST_IID").and_then(|n| n.parse::<u64>().ok()) else {
        return json!({
            "object_kind": get("CI_PIPELINE_SOURCE"),
            "ref": get("CI_COMMIT_REF_NAME"),
            "after": get("CI_COMMIT_SHA"),
            "before": get("CI_COMMIT_BEFORE_SHA").filter(|s| !s.chars().all(|c| c == '0')),
            "project": project,
            "repository": {"full_name": get("CI_PROJECT_PATH")},
        });
    };
    let labels: Vec<Value> = get("CI_MERGE_REQUEST_LABELS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| json!({"name": l}))
        .collect();
    let draft = get("CI_MERGE_REQUEST_DRAFT").is_some_and(|d| d == "true")
        || get("CI_MERGE_REQUEST_TITLE").is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("draft:") || t.starts_with("[draft]") || t.starts_with("(draft)")
        });
    // GitLab's own merge base: the diff the merge request shows.
    let base_sha = get("CI_MERGE_REQUEST_DIFF_BASE_SHA");
    let head_sha = get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
        .filter(|s| !s.is_empty())
        .or_else(|| get("CI_COMMIT_SHA"));
    let url = get("CI_MERGE_REQUEST_PROJECT_URL").map(|u| format!("{u}/-/merge_requests/{iid}"));
    let pull_request = json!({
        "number": iid,
        "title": get("CI_MERGE_REQUEST_TITLE"),
        "body": get("CI_MERGE_REQUEST_DESCRIPTION"),
        "user": {"login": get("GITLAB_USER_LOGIN")},
        "labels": labels,
        "draft": draft,
        "html_url": url,
        "base": {"ref": get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"), "sha": base_sha},
        "head": {"ref": get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), "sha": head_sha},
    });
    json!({
        "object_kind": "merge_request",
        "number": iid,
        "pull_request": pull_request,
        "merge_request": {
            "iid": iid,
            "project_id": get("CI_MERGE_REQUEST_PROJECT_ID").or_else(|| get("CI_PROJECT_ID")),
            "source_branch": get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
            "target_branch": get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
            "diff_base_sha": base_sha,
            "head_sha": head_sha,
        },
        "project": project,
        "repository": {"full_name": get("CI_PROJECT_PATH")},
    })
}
