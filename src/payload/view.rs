//! What of the payload goes into prompts. A webhook payload is 20–30 KB of
//! JSON, most of it `*_url` fields and nested account objects no reviewer
//! needs; the compact view keeps what a reviewer reads (number, title, body,
//! author, refs and SHAs, labels, draft, change counts). `payload = "full"`
//! on a strategy keeps the raw payload. The body and titles are still the
//! pull request's own, attacker-controlled text.

use serde_json::{json, Map, Value};

pub(crate) use crate::config::PayloadView as View;

/// The payload as `view` shows it.
pub(crate) fn view(payload: &Value, view: View) -> Value {
    if view == View::Full {
        return payload.clone();
    }
    let Some(p) = payload.as_object() else {
        return payload.clone();
    };
    if p.get("pull_request").is_some_and(Value::is_object) {
        return pull_request(p);
    }
    if p.get("comment").is_some_and(Value::is_object) {
        return comment(p);
    }
    if p.contains_key("before") && p.contains_key("after") && p.contains_key("ref") {
        return push(p);
    }
    payload.clone()
}

/// `keys` of `v` that are present and not null.
fn pick(v: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| {
            v.get(*k)
                .filter(|x| !x.is_null())
                .map(|x| ((*k).to_string(), x.clone()))
        })
        .collect()
}

fn login(v: &Value) -> Value {
    v.get("login").cloned().unwrap_or(Value::Null)
}

fn labels(v: &Value) -> Value {
    Value::Array(
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("name").cloned())
            .collect(),
    )
}

fn repository(p: &Map<String, Value>) -> Value {
    p.get("repository")
        .and_then(|r| r.get("full_name"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn pull_request(p: &Map<String, Value>) -> Value {
    let pr = &p["pull_request"];
    let mut out = pick(
        pr,
        &[
            "number",
            "title",
            "body",
            "state",
            "draft",
            "html_url",
            "commits",
            "additions",
            "deletions",
            "changed_files",
        ],
    );
    out.insert("author".into(), login(&pr["user"]));
    out.insert("labels".into(), labels(&pr["labels"]));
    for side in ["base", "head"] {
        out.insert(side.into(), Value::Object(pick(&pr[side], &["ref", "sha"])));
    }
    let mut top = pick(
        &Value::Object(p.clone()),
        &["action", "number", "before", "after"],
    );
    top.insert("pull_request".into(), Value::Object(out));
    top.insert("repository".into(), repository(p));
    if let Some(s) = p.get("sender") {
        top.insert("sender".into(), login(s));
    }
    Value::Object(top)
}

fn comment(p: &Map<String, Value>) -> Value {
    let issue = p.get("issue").cloned().unwrap_or(Value::Null);
    let c = &p["comment"];
    json!({
        "action": p.get("action"),
        "issue": {
            "number": issue.get("number"),
            "title": issue.get("title"),
            "body": issue.get("body"),
            "author": login(&issue["user"]),
            "labels": labels(&issue["labels"]),
            "pull_request": issue.get("pull_request").is_some_and(Value::is_object),
        },
        "comment": {"body": c.get("body"), "author": login(&c["user"]),
                    "author_association": c.get("author_association")},
        "repository": repository(p),
    })
}

fn push(p: &Map<String, Value>) -> Value {
    let commits: Vec<Value> = p
        .get("commits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(50)
        .map(|c| json!({"id": c.get("id"), "message": c.get("message"), "author": c["author"].get("name")}))
        .collect();
    let mut top = pick(
        &Value::Object(p.clone()),
        &[
            "ref", "before", "after", "created", "deleted", "forced", "compare",
        ],
    );
    top.insert("commits".into(), Value::Array(commits));
    top.insert("repository".into(), repository(p));
    if let Some(pusher) = p.get("pusher") {
        top.insert(
            "pusher".into(),
            pusher.get("name").cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_keeps_what_a_reviewer_reads() {
        let p = json!({"action": "opened", "number": 7,
            "pull_request": {"number": 7, "title": "T", "body": "B", "draft": false,
                "url": "https://api/x", "user": {"login": "dev", "avatar_url": "x"},
                "labels": [{"name": "bug", "color": "f00"}],
                "base": {"ref": "main", "sha": "a1", "repo": {}}, "head": {"ref": "f", "sha": "b2"}},
            "repository": {"full_name": "o/r", "hooks_url": "x"}, "sender": {"login": "dev"}});
        assert_eq!(
            view(&p, View::Compact),
            json!({"action": "opened", "number": 7, "pull_request": {"number": 7, "title": "T",
                "body": "B", "draft": false, "author": "dev", "labels": ["bug"],
                "base": {"ref": "main", "sha": "a1"}, "head": {"ref": "f", "sha": "b2"}},
                "repository": "o/r", "sender": "dev"})
        );
        assert_eq!(view(&p, View::Full), p);
        let other = json!({"schedule": "0 6 * * 1"});
        assert_eq!(view(&other, View::Compact), other);
    }
}
