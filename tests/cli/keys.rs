//! Credentials end to end: a provider's key reaches no artefact, a key or a
//! base URL that would be sent wrongly is refused, and breakers are kept per
//! credential.

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::integrity::{one, pair};
use crate::support::TEST_KEY;

/// One server that echoes the key on success and on error; every artefact of
/// the run is searched for it.
#[test]
fn the_key_never_reaches_any_artefact() {
    let fake = Fake::start(|r| {
        let auth = r.header("authorization").unwrap_or("").to_string();
        match r.agent().as_str() {
            "a" => Reply::content(&format!(
                "{{\"decision\": \"approve\", \"comments\": \"you sent {auth}\", \
                 \"findings\": [{{\"severity\": \"low\", \"title\": \"{auth}\"}}]}}"
            ))
            .header("x-echo", &auth),
            _ => Reply::error(400, &format!("bad header {auth}")),
        }
    });
    let summary = tempfile::NamedTempFile::new().unwrap();
    let p = pair()
        .serve(&fake)
        .env("GITHUB_STEP_SUMMARY", summary.path().to_str().unwrap());
    let out = p
        .bsu()
        .args([
            "-vv",
            "run",
            "review",
            "--format",
            "json,md,junit,sarif",
            "--metrics-file",
            "metrics.prom",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("[redacted]"), "the echo was seen: {stdout}");
    let (_, status, _) = p.run(&["status", "--json"]);
    let mut all = format!("{stdout}{stderr}{status}");
    all.push_str(&p.all_text());
    all.push_str(&std::fs::read_to_string(summary.path()).unwrap());
    assert!(p.path().join(".state/state.db").exists());
    for start in 0..=TEST_KEY.len() - 12 {
        let piece = &TEST_KEY[start..start + 12];
        assert!(!all.contains(piece), "{piece:?} leaked");
    }
}

#[test]
fn a_key_with_stray_characters_is_a_configuration_error() {
    let fake = Fake::approving();
    for bad in [
        format!("{TEST_KEY}\r"),
        format!(" {TEST_KEY}"),
        format!("{TEST_KEY}\n"),
    ] {
        let p = one().serve(&fake).env("OPENAI_API_KEY", &bad);
        let (code, _, stderr) = p.run(&["run", "review"]);
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(stderr.contains("OPENAI_API_KEY holds"), "{stderr}");
        assert!(!stderr.contains(TEST_KEY), "{stderr}");
    }
    assert_eq!(fake.count(), 0);
}

#[test]
fn a_base_url_query_is_kept_after_the_path_and_never_shown() {
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = one()
        .serve(&fake)
        .env(
            "OPENAI_BASE_URL",
            &format!("{}?api-version=2099-01-01", fake.url),
        )
        .env("BSU_MAX_RETRIES", "0");
    let (code, stdout, stderr) = p.run(&["run", "review"]);
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(
        fake.requests()[0].path,
        "/v1/chat/completions?api-version=2099-01-01"
    );
    let (_, status, _) = p.run(&["status"]);
    let all = format!("{stdout}{stderr}{status}{}", p.all_text());
    assert!(!all.contains("2099-01-01"), "the query leaked");
}

#[test]
fn breakers_are_per_credential() {
    let fake = Fake::start(|r| {
        if r.header("authorization") == Some("Bearer sk-team-a-key") {
            Reply::json(
                429,
                json!({"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
            )
        } else {
            Reply::verdict("approve", 9)
        }
    });
    let p = one().serve(&fake);
    let team_a = p
        .bsu()
        .env("OPENAI_API_KEY", "sk-team-a-key")
        .args(["run", "review"])
        .output()
        .unwrap();
    assert_eq!(team_a.status.code(), Some(1));
    let team_b = p
        .bsu()
        .env("OPENAI_API_KEY", "sk-team-b-key")
        .args(["run", "review"])
        .output()
        .unwrap();
    assert_eq!(
        team_b.status.code(),
        Some(0),
        "another team's quota does not reject this one"
    );
    let (_, status) = p.json(&["status", "--json"]);
    let breakers = status["breakers"].as_array().unwrap();
    assert_eq!(breakers.len(), 2, "{status}");
    let names: Vec<&str> = breakers
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.contains("@127.0.0.1:") && n.contains('#')),
        "{names:?}"
    );
    assert!(!status.to_string().contains("team-a"));
    // The endpoint without a fingerprint names every credential's breaker.
    let endpoint = names[0].split('#').next().unwrap();
    let (code, stdout, stderr) = p.run(&["breaker", "reset", endpoint]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (_, status) = p.json(&["status", "--json"]);
    assert!(
        status["breakers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["state"] == "closed"),
        "{status}"
    );
}
