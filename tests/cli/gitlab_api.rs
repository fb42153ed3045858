//! A loopback fake of the GitLab REST API v4 endpoints bsu publishes to:
//! `GET /user`, merge-request notes (paginated, with their authors; create
//! and edit), commit statuses, and scripted rate limits (429 with
//! `Retry-After`) and server errors. Built on the model fake's server.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::fake::{Fake, Reply, Request};

#[derive(Default)]
pub struct GlState {
    /// Notes of merge requests: (id, author's username, body).
    pub notes: Vec<(u64, String, String)>,
    /// Commit statuses posted: (sha, body).
    pub statuses: Vec<(String, Value)>,
    /// The token's own user.
    pub username: String,
    /// Answer this many requests with 429 first, then this many with 502.
    pub rate_limited: usize,
    pub bad_gateway: usize,
    /// The `PRIVATE-TOKEN` or bearer token each request carried.
    pub tokens: Vec<String>,
    /// Discussions started: (id, body, position); and those resolved.
    pub discussions: Vec<(String, String, Value)>,
    pub resolved: Vec<String>,
    /// The merge request's `diff_refs` (base, head), when not the made-up ones.
    pub diff_refs: Option<(String, String)>,
    /// Members' access levels, by user id (others: 404).
    pub members: std::collections::BTreeMap<u64, u64>,
    /// The new lines a position may name, per file (others: 400).
    pub diff_lines: std::collections::BTreeMap<String, Vec<u64>>,
    next_id: u64,
}

pub struct GitLab {
    pub fake: Fake,
    pub state: Arc<Mutex<GlState>>,
}

impl GitLab {
    pub fn start() -> GitLab {
        let state = Arc::new(Mutex::new(GlState {
            next_id: 500,
            username: "project_42_bot".into(),
            ..GlState::default()
        }));
        let st = state.clone();
        let fake = Fake::start(move |r| answer(&mut st.lock().unwrap(), r));
        GitLab { fake, state }
    }

    /// `CI_API_V4_URL` for bsu.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.fake.url.trim_end_matches("/v1"))
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut GlState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

fn answer(s: &mut GlState, r: &Request) -> Reply {
    let token = r
        .header("authorization")
        .map(|a| a.trim_start_matches("Bearer ").to_string())
        .or_else(|| r.header("private-token").map(str::to_string))
        .unwrap_or_default();
    s.tokens.push(token);
    if s.rate_limited > 0 {
        s.rate_limited -= 1;
        return Reply::json(429, json!({"message": "429 Too Many Requests"}))
            .header("retry-after", "1");
    }
    if s.bad_gateway > 0 {
        s.bad_gateway -= 1;
        return Reply::json(502, json!({"message": "502 Bad Gateway"}));
    }
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let parts: Vec<&str> = path.trim_start_matches("/api/v4/").split('/').collect();
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    s.next_id += 1;
    let id = s.next_id;
    match (r.method.as_str(), parts.as_slice()) {
        ("GET", ["projects", _, "members", "all", uid]) => {
            match s.members.get(&uid.parse::<u64>().unwrap_or(0)) {
                Some(level) => Reply::json(200, json!({"id": uid, "access_level": level})),
                None => Reply::json(404, json!({"message": "404 Not found"})),
            }
        }
        ("GET", ["user"]) => Reply::json(200, json!({"id": 1, "username": s.username})),
        ("GET", ["projects", _, "merge_requests", _, "notes"]) => {
            let list: Vec<Value> = s
                .notes
                .iter()
                .skip((page - 1) * 100)
                .take(100)
                .map(|(id, author, body)| json!({"id": id, "body": body, "author": {"username": author}}))
                .collect();
            Reply::json(200, json!(list))
        }
        ("POST", ["projects", _, "merge_requests", _, "notes"]) => {
            let body = r.body["body"].as_str().unwrap_or("").to_string();
            let me = s.username.clone();
            s.notes.push((id, me, body));
            Reply::json(201, json!({"id": id}))
        }
        ("PUT", ["projects", _, "merge_requests", _, "notes", nid]) => {
            let nid: u64 = nid.parse().unwrap_or(0);
            let me = s.username.clone();
            match s.notes.iter_mut().find(|(i, a, _)| *i == nid && *a == me) {
                Some(n) => {
                    n.2 = r.body["body"].as_str().unwrap_or("").to_string();
                    Reply::json(200, json!({"id": nid}))
                }
                None => Reply::json(403, json!({"message": "403 Forbidden"})),
            }
        }
        ("GET", ["projects", _, "merge_requests", iid]) => {
            let (base, head) = s
                .diff_refs
                .clone()
                .unwrap_or(("b".repeat(40), "h".repeat(40)));
            Reply::json(
                200,
                json!({"iid": iid.parse::<u64>().unwrap_or(0), "author": {"username": "alice"},
                       "title": "Faster checkout", "source_branch": "fast", "target_branch": "main",
                       "web_url": "https://gitlab.test/group/shop/-/merge_requests/7",
                       "description": "The whole description, from the API.", "labels": ["backend"], "draft": false,
                       "diff_refs": {"base_sha": base, "start_sha": "s".repeat(40), "head_sha": head}}),
            )
        }
        ("POST", ["projects", _, "merge_requests", _, "discussions"]) => {
            let pos = r.body["position"].clone();
            let path = pos["new_path"].as_str().unwrap_or("");
            let line = pos["new_line"].as_u64().unwrap_or(0);
            if !s.diff_lines.get(path).is_some_and(|l| l.contains(&line)) {
                return Reply::json(
                    400,
                    json!({"message": "400 Bad request - Note {:line_code=>[\"can't be blank\"]}"}),
                );
            }
            let did = format!("{id:040x}");
            let body = r.body["body"].as_str().unwrap_or("").to_string();
            s.discussions.push((did.clone(), body, pos));
            Reply::json(201, json!({"id": did, "notes": [{"id": id}]}))
        }
        ("PUT", ["projects", _, "merge_requests", _, "discussions", did]) => {
            if query.contains("resolved=true") {
                s.resolved.push(did.to_string());
            }
            Reply::json(200, json!({"id": did, "resolved": true}))
        }
        ("POST", ["projects", _, "statuses", sha]) => {
            let description = r.body["description"].as_str().unwrap_or("");
            if description.chars().count() > 255 {
                return Reply::json(400, json!({"message": {"description": ["is too long"]}}));
            }
            s.statuses.push((sha.to_string(), r.body.clone()));
            Reply::json(201, json!({"id": id, "status": r.body["state"]}))
        }
        _ => Reply::json(404, json!({"message": "404 Not Found"})),
    }
}
