//! A loopback fake of the GitHub REST endpoints bsu publishes to: issue
//! comments (paginated, with their authors), reviews (422 for a line
//! outside the diff) and their dismissals (404 for an unknown review, 403
//! on a protected branch, 422 without a message), check runs (or 403 where
//! checks are not permitted), commit statuses, and scripted rate limits. Built on the model fake's server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::fake::{Fake, Reply, Request};

#[derive(Default)]
pub struct GhState {
    pub comments: Vec<(u64, String)>,
    pub reviews: Vec<Value>,
    pub check_runs: Vec<Value>,
    pub annotation_batches: Vec<usize>,
    pub statuses: Vec<Value>,
    /// Lines a review may comment on, per file.
    pub diff_lines: BTreeMap<String, Vec<u64>>,
    pub checks_forbidden: bool,
    /// Answer this many requests with a secondary rate limit first.
    pub rate_limited: usize,
    /// Answer this many check-run creations with a secondary rate limit.
    pub checks_rate_limited: usize,
    /// Who wrote each comment; comments without an entry are someone else's.
    pub authors: BTreeMap<u64, String>,
    /// The token's user, for `GET /user`; `None`: an installation token
    /// (GitHub answers 403, and comments are by github-actions[bot]).
    pub user_login: Option<String>,
    /// Head commits of pull requests, for `GET /repos/o/r/pulls/N`.
    pub pulls: BTreeMap<u64, String>,
    /// Reviews dismissed: (review id, the request's body).
    pub dismissals: Vec<(u64, Value)>,
    /// Answer dismissals with 403 (a protected branch).
    pub dismissals_forbidden: bool,
    /// The id of each review posted, in order.
    pub review_ids: Vec<u64>,
    /// A fork's read-only token: every write is refused (403).
    pub read_only: bool,
    /// GraphQL: review threads resolved, replies posted (thread, body), and
    /// comments minimized (with their classifier).
    pub resolved_threads: Vec<String>,
    pub thread_replies: Vec<(String, String)>,
    pub minimized: Vec<(String, String)>,
    /// Every write answered with a redirect here (307: sent again as it was).
    pub redirect_writes: Option<String>,
    next_id: u64,
}

fn secondary_limit() -> Reply {
    Reply::json(
        403,
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
    )
    .header("retry-after", "1")
}

pub struct GitHub {
    pub fake: Fake,
    pub state: Arc<Mutex<GhState>>,
}

impl GitHub {
    pub fn start() -> GitHub {
        let state = Arc::new(Mutex::new(GhState {
            next_id: 1000,
            ..GhState::default()
        }));
        let st = state.clone();
        let fake = Fake::start(move |r| answer(&mut st.lock().unwrap(), r));
        GitHub { fake, state }
    }

    /// `GITHUB_API_URL` for bsu (the fake serves from its root).
    pub fn api_url(&self) -> String {
        self.fake.url.trim_end_matches("/v1").to_string()
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut GhState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

fn answer(s: &mut GhState, r: &Request) -> Reply {
    if s.rate_limited > 0 {
        s.rate_limited -= 1;
        return secondary_limit();
    }
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    s.next_id += 1;
    let id = s.next_id;
    if let Some(to) = s.redirect_writes.as_ref().filter(|_| r.method != "GET") {
        return Reply::json(307, json!({})).header("location", &format!("{to}{path}"));
    }
    if s.read_only && r.method != "GET" {
        return Reply::json(
            403,
            json!({"message": "Resource not accessible by integration"}),
        );
    }
    match (r.method.as_str(), parts.as_slice()) {
        ("GET", ["repos", _, _, "issues", _, "comments"]) => {
            let list: Vec<Value> = s
                .comments
                .iter()
                .skip((page - 1) * 100)
                .take(100)
                .map(|(id, body)| {
                    let login = s.authors.get(id).map_or("someone-else", String::as_str);
                    json!({"id": id, "body": body, "user": {"login": login, "type": "User"}})
                })
                .collect();
            Reply::json(200, json!(list))
        }
        ("POST", ["repos", _, _, "issues", _, "comments"]) => {
            let body = r.body["body"].as_str().unwrap_or("").to_string();
            s.comments.push((id, body));
            let me = s.user_login.clone().unwrap_or("github-actions[bot]".into());
            s.authors.insert(id, me);
            Reply::json(
                201,
                json!({"id": id, "html_url": format!("https://github.test/c/{id}")}),
            )
        }
        ("PATCH", ["repos", _, _, "issues", "comments", cid]) => {
            let cid: u64 = cid.parse().unwrap_or(0);
            match s.comments.iter_mut().find(|(i, _)| *i == cid) {
                Some(c) => {
                    c.1 = r.body["body"].as_str().unwrap_or("").to_string();
                    Reply::json(
                        200,
                        json!({"id": cid, "html_url": format!("https://github.test/c/{cid}")}),
                    )
                }
                None => Reply::json(404, json!({"message": "Not Found"})),
            }
        }
        ("POST", ["repos", _, _, "pulls", _, "reviews"]) => {
            let comments = r.body["comments"].as_array().cloned().unwrap_or_default();
            let bad = comments.iter().any(|c| {
                let path = c["path"].as_str().unwrap_or("");
                let line = c["line"].as_u64().unwrap_or(0);
                !s.diff_lines.get(path).is_some_and(|ls| ls.contains(&line))
            });
            if bad {
                return Reply::json(
                    422,
                    json!({"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]}),
                );
            }
            s.reviews.push(r.body.clone());
            s.review_ids.push(id);
            Reply::json(
                200,
                json!({"id": id, "html_url": format!("https://github.test/r/{id}")}),
            )
        }
        ("PUT", ["repos", _, _, "pulls", _, "reviews", rid, "dismissals"]) => {
            let rid: u64 = rid.parse().unwrap_or(0);
            if !s.review_ids.contains(&rid) {
                return Reply::json(404, json!({"message": "Not Found"}));
            }
            if s.dismissals_forbidden {
                return Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                );
            }
            if r.body["message"].as_str().is_none_or(str::is_empty) {
                return Reply::json(422, json!({"message": "message is missing"}));
            }
            s.dismissals.push((rid, r.body.clone()));
            Reply::json(200, json!({"id": rid, "state": "DISMISSED"}))
        }
        ("POST", ["graphql"]) => graphql(s, &r.body),
        ("GET", ["user"]) => match &s.user_login {
            Some(login) => Reply::json(200, json!({"login": login, "type": "User"})),
            None => Reply::json(
                403,
                json!({"message": "Resource not accessible by integration"}),
            ),
        },
        ("GET", ["repos", _, _, "pulls", n]) => {
            match n.parse::<u64>().ok().and_then(|n| s.pulls.get(&n)) {
                Some(sha) => Reply::json(200, json!({"number": n, "head": {"sha": sha}})),
                None => Reply::json(404, json!({"message": "Not Found"})),
            }
        }
        ("POST", ["repos", _, _, "check-runs"]) => {
            if s.checks_rate_limited > 0 {
                s.checks_rate_limited -= 1;
                return secondary_limit();
            }
            if s.checks_forbidden {
                return Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                );
            }
            let n = r.body["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len);
            s.annotation_batches.push(n);
            s.check_runs.push(r.body.clone());
            Reply::json(
                201,
                json!({"id": id, "html_url": format!("https://github.test/k/{id}")}),
            )
        }
        ("PATCH", ["repos", _, _, "check-runs", _]) => {
            let n = r.body["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len);
            s.annotation_batches.push(n);
            Reply::json(200, json!({"id": id}))
        }
        ("POST", ["repos", _, _, "statuses", _]) => {
            s.statuses.push(r.body.clone());
            Reply::json(201, json!({"id": id}))
        }
        _ => Reply::json(404, json!({"message": "Not Found", "path": r.path})),
    }
}

/// GitHub's GraphQL API, as far as bsu uses it: a pull request's review
/// threads (one per inline comment of each review, first comment by the
/// token's identity — a bot's login without `[bot]`, as GraphQL gives it),
/// replying to and resolving a thread, and minimizing a comment.
fn graphql(s: &mut GhState, body: &Value) -> Reply {
    let query = body["query"].as_str().unwrap_or("");
    let vars = &body["variables"];
    let me = s
        .user_login
        .clone()
        .unwrap_or_else(|| "github-actions".into());
    let ok = |data: Value| Reply::json(200, json!({ "data": data }));
    if query.contains("reviewThreads") {
        let mut nodes = Vec::new();
        for (review, rid) in s.reviews.iter().zip(&s.review_ids) {
            for (j, c) in review["comments"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let id = format!("T{rid}_{j}");
                nodes.push(
                    json!({"id": id, "isResolved": s.resolved_threads.contains(&id),
                    "comments": {"nodes": [{"id": format!("C{rid}_{j}"), "body": c["body"],
                                            "author": {"login": me}}]}}),
                );
            }
        }
        return ok(json!({"repository": {"pullRequest": {"reviewThreads": {
            "nodes": nodes, "pageInfo": {"hasNextPage": false, "endCursor": null}}}}}));
    }
    let text = |k: &str| vars[k].as_str().unwrap_or("").to_string();
    if query.contains("addPullRequestReviewThreadReply") {
        s.thread_replies.push((text("thread"), text("body")));
        return ok(json!({"addPullRequestReviewThreadReply": {"comment": {"id": "R1"}}}));
    }
    if query.contains("resolveReviewThread") {
        s.resolved_threads.push(text("thread"));
        return ok(
            json!({"resolveReviewThread": {"thread": {"id": text("thread"), "isResolved": true}}}),
        );
    }
    if query.contains("minimizeComment") {
        let classifier = if query.contains("OUTDATED") {
            "OUTDATED"
        } else {
            "?"
        };
        s.minimized.push((text("comment"), classifier.into()));
        return ok(json!({"minimizeComment": {"minimizedComment": {"isMinimized": true}}}));
    }
    Reply::json(200, json!({"errors": [{"message": "unknown query"}]}))
}
