//! Models' context windows end to end: a window with no room for the
//! inputs, a window assumed for an unknown model and set anywhere, and the
//! window a server says (vLLM, llama.cpp, Ollama's `num_ctx`).

use serde_json::{json, Value};

use crate::fake::{Fake, Reply};
use crate::support::Project;

/// A context window that leaves no token for the inputs after the reply and
/// the prompt is refused before anything is sent (no empty batches).
#[test]
fn a_window_with_no_room_for_the_inputs_is_refused() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
        &[],
    )
    .agent("a", "context_window = 2048\nmax_tokens = 1900")
    .file(
        "change.patch",
        "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .serve(&fake);
    p.expect(&["run", "review", "--input", "diff=change.patch"])
        .status(2)
        .stdout("")
        .stderr(
            "error: agent a: its context window of 2048 tokens leaves no room for its inputs after \
             its reply (max_tokens 1900) and the rest of its prompt; nothing was sent. Set a larger \
             context_window (agents/a.toml or its provider), or a smaller max_tokens\n",
        )
        .run();
    assert_eq!(fake.count(), 0);
    // `bsu check` says so too, at the agent's file.
    let (code, stdout, _) = p.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        stdout.starts_with(
            "error: agents/a.toml: its context window of 2048 tokens leaves no room for its \
             inputs after its reply (max_tokens 1900), 512 of overhead and its instructions (about "
        ),
        "{stdout}"
    );
}

/// A local model's window: assumed (and said so) unless set — by the agent,
/// its provider, `[defaults]`, or `BSU_CONTEXT_WINDOW` / `BSU_MAX_TOKENS`.
#[test]
fn an_unknown_models_window_is_said_assumed_and_can_be_set_anywhere() {
    let events = |defaults: &str| {
        format!(
            "[defaults]\n{defaults}\n[inputs.diff]\nkind = \"git_diff\"\n\
             [events.review]\nagents = [\"a\"]\ninputs = [\"diff\"]\n"
        )
    };
    let p = Project::with_agents(&events(""), &[])
        .agent("a", "model = \"qwen2.5-coder:0.5b\"")
        .file(
            "change.patch",
            "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n",
        );
    let args = [
        "run",
        "review",
        "--dry-run",
        "--json",
        "--input",
        "diff=change.patch",
    ];
    let assumed =
        "bsu: agent a: the context window of model \"qwen2.5-coder:0.5b\" is assumed to be \
                   32768 tokens; set context_window (in the agent, its provider or [defaults]) or \
                   BSU_CONTEXT_WINDOW if its server says otherwise";
    let (code, _, stderr) = p.run(&args);
    assert_eq!(code, 0);
    assert!(stderr.contains(assumed), "{stderr}");
    let out = p.bsu().args(["check", "-v"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("note: agent a: the context window of model"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Set in [defaults]: not assumed; BSU_MAX_TOKENS gives the reply's room back.
    let p = p.file("events.toml", &events("context_window = 8192"));
    let allowance = |p: &Project, env: &[(&str, &str)]| {
        let mut cmd = p.bsu();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("is assumed"));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        r["agents"][0]["inputs"]["budget_tokens"].as_u64().unwrap()
    };
    let with_default_reply = allowance(&p, &[]);
    let with_smaller_reply = allowance(&p, &[("BSU_MAX_TOKENS", "1000")]);
    assert_eq!(with_smaller_reply - with_default_reply, 4096 - 1000);
    let bigger = allowance(&p, &[("BSU_CONTEXT_WINDOW", "16384")]);
    assert_eq!(bigger - with_default_reply, 16384 - 8192);
    // A variable that is not a count is a configuration error naming it.
    let out = p
        .bsu()
        .args(args)
        .env("BSU_CONTEXT_WINDOW", "2k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("$BSU_CONTEXT_WINDOW"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A local server that says its window (vLLM's `/v1/models`) is believed:
/// 2,048 tokens leave no room after the default reply (refused, nothing
/// sent); with a smaller reply the allowance fits inside it.
#[test]
fn the_servers_own_window_is_used() {
    let fake = Fake::start(|r| {
        if r.path.ends_with("/models") {
            Reply::json(
                200,
                json!({"object": "list", "data": [{"id": "qwen", "max_model_len": 2048}]}),
            )
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = Project::with_agents(
        "[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [\"a\"]\ninputs = [\"diff\"]\n",
        &[],
    )
    .agent("a", "model = \"qwen\"")
    .file(
        "change.patch",
        "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .serve(&fake);
    let (code, _, stderr) = p.run(&["run", "review", "--input", "diff=change.patch"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("says model \"qwen\" has a context window of 2048 tokens"),
        "{stderr}"
    );
    assert!(
        stderr.contains("its context window of 2048 tokens leaves no room"),
        "{stderr}"
    );
    let calls = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .count();
    assert_eq!(calls, 0, "nothing sent");
    let p = p.env("BSU_MAX_TOKENS", "512");
    let (code, _, stderr) = p.run(&["run", "review", "--input", "diff=change.patch"]);
    assert_eq!(code, 0, "{stderr}");
    let allowance = p.latest()["agents"][0]["inputs"]["budget_tokens"]
        .as_u64()
        .unwrap();
    assert!(allowance > 0 && allowance < 2048 - 512, "{allowance}");
    // What the server said is kept in the state store: asked once, not per run.
    let asked = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/models"))
        .count();
    assert_eq!(asked, 1);
}

/// Ollama says the window it runs a model with as `num_ctx` among the
/// model's parameters (`POST /api/show`), and that is what is used.
#[test]
fn ollamas_num_ctx_is_the_window() {
    let fake = Fake::start(|r| {
        if r.path.ends_with("/api/show") {
            assert_eq!(r.body["model"], "llama3.1");
            Reply::json(
                200,
                json!({"parameters": "num_ctx 3000", "model_info": {"llama.context_length": 131072}}),
            )
        } else if r.method == "GET" {
            Reply::json(404, json!({"error": "not found"}))
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = Project::with_agents("[events.review]\nagents = [\"a\"]\n", &[])
        .agent("a", "model = \"llama3.1\"")
        .serve(&fake);
    let (code, _, stderr) = p.run(&["run", "review", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("says model \"llama3.1\" has a context window of 3000 tokens"),
        "{stderr}"
    );
    assert!(!stderr.contains("is assumed"), "{stderr}");
}
