//! bsu under a hostile environment: a closed or unwritable stdout, numbers
//! out of range, absurd headers, huge names and payloads, a hanging
//! provider, and report pruning that must never lose the run's own report.

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::integrity::one;
use crate::support::Project;

fn blocking() -> Fake {
    Fake::start(|_| Reply::verdict("block", 1))
}

#[test]
fn a_closed_stdout_keeps_the_exit_code() {
    let fake = blocking();
    let p = one().serve(&fake);
    for args in [&["run", "review", "--json"][..], &["run", "review"][..]] {
        let mut child = p
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // `| head -0`: the reader is gone
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(3), "{args:?}: {stderr}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_stdout_that_cannot_be_written_is_an_error() {
    let fake = Fake::approving();
    let p = one().serve(&fake);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = p
        .command()
        .args(["run", "review", "--json"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not write to stdout"), "{stderr}");
}

#[test]
fn out_of_range_numbers_are_usage_errors_naming_the_range() {
    let p = one();
    let (code, _, stderr) = p.run(&["run", "review", "--timeout", "0s"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("from 1ms to 365days"), "{stderr}");
    let (code, _, _) = p.run(&["run", "review", "--timeout", "300000000000years"]);
    assert_eq!(code, 2);

    for (setting, want) in [
        (
            "[breaker]\nreset_timeout = \"10000years\"",
            "from 1ms to 365days",
        ),
        (
            "[providers.openai]\nkind = \"openai\"\nrequest_timeout = \"300000000000years\"",
            "from 1ms to 365days",
        ),
        (
            "[providers.openai]\nkind = \"openai\"\nmax_retries = 1000",
            "from 0 to 100",
        ),
        ("[defaults]\nconcurrency = 100000", "from 1 to 1024"),
        ("[defaults]\ntimeout = \"0s\"", "from 1ms to 365days"),
    ] {
        let p = Project::with_agents(
            &format!("{setting}\n[events.review]\nagents = [\"a\"]\n"),
            &["a"],
        );
        let (code, stdout, stderr) = p.run(&["check"]);
        let all = format!("{stdout}{stderr}");
        assert_eq!(code, 2, "{setting}: {all}");
        assert!(
            all.contains("events.toml:") && all.contains(want),
            "{setting}: {all}"
        );
    }
    let p = one().env("BSU_BREAKER_RESET_TIMEOUT", "10000years");
    let (code, stdout, stderr) = p.run(&["check"]);
    assert_eq!(code, 2);
    assert!(
        format!("{stdout}{stderr}").contains("$BSU_BREAKER_RESET_TIMEOUT"),
        "{stderr}"
    );
}

#[test]
fn absurd_retry_after_headers_do_not_crash() {
    for header in ["retry-after", "retry-after-ms"] {
        let fake = Fake::start(move |_| Reply::error(429, "slow down").header(header, "1e300"));
        let p = one().serve(&fake);
        let (code, _, stderr) = p.run(&["run", "review"]);
        assert_eq!(code, 75, "{header}: {stderr}");
        let r = p.latest();
        assert!(
            r["agents"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("past the agent's deadline"),
            "{}",
            r["agents"][0]
        );
        assert_eq!(fake.count(), 1);
    }
}

#[test]
fn long_event_names_and_huge_payloads() {
    let fake = Fake::approving();
    let p = Project::with_agents("[events.default]\nagents = [\"a\"]\n", &["a"]).serve(&fake);
    let long = "e".repeat(400);
    let (code, _, stderr) = p.run(&["run", &long]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(p.latest()["event"], long);
    assert!(p.reports().iter().any(|n| n.contains('~') && n.len() < 255));

    #[cfg(unix)]
    {
        let sent = fake.count();
        let (code, _, stderr) = p.run(&["run", "x", "--payload", "/dev/zero"]);
        assert_eq!(code, 2);
        assert!(stderr.contains("larger than 64 MiB"), "{stderr}");
        assert_eq!(fake.count(), sent);
    }

    // A payload too large for the prompt is cut, and the report says so.
    let big = json!({"body": "x".repeat(300_000)}).to_string();
    let p = p.file("big.json", &big);
    assert_eq!(p.run(&["run", "x", "--payload", "big.json"]).0, 0);
    let cut = &p.latest()["payload_cut"];
    assert_eq!(cut["agents"], json!(["a"]), "{cut}");
    assert!(cut["bytes"].as_u64().unwrap() > cut["sent_bytes"].as_u64().unwrap());
    assert!(p.read("reports/latest.md").contains("payload was cut"));
}

/// `timeout = "1s"` under `request_timeout = "120s"`: the hanging attempt is
/// cut by the agent deadline and the breaker counts it, so the next run is
/// rejected at once instead of waiting again.
#[test]
fn a_hanging_provider_is_counted_by_the_breaker() {
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_secs(30)));
    let p = Project::with_agents(
        "[breaker]\nfailure_threshold = 1\nreset_timeout = \"1h\"\n[events.review]\nagents = [\"a\"]\n",
        &[],
    )
    .agent("a", "timeout = \"1s\"")
    .serve(&fake);
    let (code, _, stderr) = p.run(&["run", "review"]);
    assert_eq!(code, 75, "{stderr}");
    let a = &p.latest()["agents"][0];
    assert_eq!(a["status"], "timed_out");
    assert_eq!(a["attempts"], 1);
    let (_, status) = p.json(&["status", "--json"]);
    assert_eq!(status["breakers"][0]["state"], "open", "{status}");
    assert_eq!(status["breakers"][0]["failures"], 1);
    let (code, _, _) = p.run(&["run", "review"]);
    assert_eq!(code, 75);
    assert_eq!(p.latest()["agents"][0]["status"], "rejected");
    assert_eq!(fake.count(), 1);
}

#[test]
fn keep_never_deletes_the_report_of_the_run_that_just_finished() {
    let fake = Fake::approving();
    let p = Project::with_agents(
        "[reports]\nkeep = 3\n[events.a]\nagents = [\"x\"]\n",
        &["x"],
    )
    .serve(&fake);
    for i in 0..10 {
        let (code, stdout, _) = p.run(&["run", "a"]);
        assert_eq!(code, 0);
        for line in stdout.lines().filter_map(|l| l.strip_prefix("Report: ")) {
            assert!(
                p.path().join(line).exists(),
                "run {i}: its own {line} is gone"
            );
        }
    }
    let json = p
        .reports()
        .iter()
        .filter(|n| n.ends_with(".json") && !n.starts_with("latest"))
        .count();
    assert_eq!(json, 3);
}

#[test]
fn latest_of_a_format_this_run_did_not_write_is_removed() {
    let fake = Fake::approving();
    let p = one().serve(&fake);
    assert_eq!(p.run(&["run", "review", "--format", "json,junit"]).0, 0);
    assert!(p.reports().contains(&"latest.junit.xml".to_string()));
    assert_eq!(p.run(&["run", "review", "--format", "json"]).0, 0);
    assert!(
        !p.reports().contains(&"latest.junit.xml".to_string()),
        "{:?}",
        p.reports()
    );
}
