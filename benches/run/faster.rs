//! The figures of "faster and cheaper": one prompt against curl sending the
//! same request, the fsyncs before the first request, 1,024 agents at
//! concurrency 256, a re-run's packing, and cache-aware fan-out's saving.

use std::process::Command;
use std::time::{Duration, Instant};

use super::fake::{Fake, Reply};
use super::{agent_ids, Bench, KEY};

/// One agent, one prompt, `latency` at the server: (bsu's median, curl's
/// median, bsu's peak RSS KiB, fsyncs before bsu's first request).
pub fn one_prompt(latency: Duration) -> (Duration, Duration, u64, Option<usize>) {
    let server = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));
    let bench = Bench::new("[events.ping]\nagents = [\"a\"]\n", &["a"])
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY);
    let args = ["run", "ping", "--no-cache", "-q"];
    // A first run makes the state; its request is the one curl sends.
    assert_eq!(bench.run(&args), 0);
    let sent = server.requests().pop().expect("one request");
    let body = bench.dir.path().join("body.json");
    std::fs::write(&body, sent.body.to_string()).unwrap();
    let url = format!("{}/chat/completions", server.url);
    let curl = || {
        let t = Instant::now();
        let ok = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-X", "POST", &url])
            .args(["-H", "content-type: application/json"])
            .args(["-H", &format!("authorization: Bearer {KEY}")])
            .arg("--data-binary")
            .arg(format!("@{}", body.display()))
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| t.elapsed())
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        let (code, took) = bench.timed(&args);
        assert_eq!(code, 0);
        ours.push(took);
        if let Some(t) = curl() {
            theirs.push(t);
        }
    }
    ours.sort();
    theirs.sort();
    let curl_median = theirs.get(theirs.len() / 2).copied().unwrap_or_default();
    (
        ours[ours.len() / 2],
        curl_median,
        bench.peak_rss(&args),
        fsyncs_before_request(&bench, &args),
    )
}

/// fsync and fdatasync calls before the first `connect` to the server, by
/// `strace` (when the machine has it).
fn fsyncs_before_request(bench: &Bench, args: &[&str]) -> Option<usize> {
    let log = bench.dir.path().join(".strace");
    let mut c = bench.under("strace");
    c.args(["-f", "-e", "trace=fsync,fdatasync,connect", "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_bsu"))
        .args(args);
    c.output().ok().filter(|o| o.status.success())?;
    let text = std::fs::read_to_string(&log).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| !(l.contains("connect(") && l.contains("127.0.0.1")))
        .collect();
    Some(
        lines
            .iter()
            .filter(|l| l.contains("fsync(") || l.contains("fdatasync("))
            .count(),
    )
}

/// 1,024 agents at concurrency 256 and 200 ms latency: (wall, most in
/// flight, CPU milliseconds per agent).
pub fn wide_panel(latency: Duration) -> (Duration, usize, f64) {
    let n = 1024;
    let server = Fake::start(move |_| Reply::verdict("approve", 9).delay(latency));
    let (ids, list) = agent_ids(n);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = Bench::new(
        &format!(
            "[defaults]\nconcurrency = 256\n[providers.openai]\nkind = \"openai\"\nmax_concurrency = 256\n\
             [events.review]\nagents = [{list}]\n"
        ),
        &refs,
    )
    .env("OPENAI_BASE_URL", &server.url)
    .env("OPENAI_API_KEY", KEY);
    let args = ["run", "review", "--no-cache", "-q"];
    let (code, wall) = bench.timed(&args);
    assert_eq!(code, 0);
    let cpu = cpu_seconds(&bench, &args).unwrap_or(f64::NAN);
    (wall, server.max_in_flight(), cpu * 1000.0 / n as f64)
}

/// User and system CPU seconds of one run, by GNU time.
fn cpu_seconds(bench: &Bench, args: &[&str]) -> Option<f64> {
    let out_file = bench.dir.path().join(".cpu");
    let mut c = bench.under("/usr/bin/time");
    c.args(["-f", "%U %S", "-o"])
        .arg(&out_file)
        .arg(env!("CARGO_BIN_EXE_bsu"))
        .args(args);
    c.output().ok()?;
    let text = std::fs::read_to_string(&out_file).ok()?;
    let line = text.lines().last()?;
    let mut parts = line.split_whitespace().map(|p| p.parse::<f64>().ok());
    Some(parts.next()?? + parts.next()??)
}

/// An 8-agent review against a server with a provider-like prompt cache,
/// gpt-4o's prices: (wall, USD, uncached prompt tokens) with `prime_cache`
/// as given. A streamed reply starts a quarter of the latency in (the time
/// to a first token) and ends at the latency.
pub fn fan_out_cost(latency: Duration, prime: &str) -> (Duration, f64, u64) {
    let server = Fake::caching(move |_| {
        Reply::verdict("approve", 9)
            .delay(latency)
            .first_token(latency / 4)
    });
    let agents = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let list = agents.map(|a| format!("\"{a}\"")).join(", ");
    let bench = Bench::new(
        &format!(
            "[defaults]\nprime_cache = \"{prime}\"\n[providers.openai]\nkind = \"openai\"\nmodel = \"gpt-4o\"\n\
             [inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [{list}]\ninputs = [\"diff\"]\n"
        ),
        &agents,
    )
    .env("OPENAI_BASE_URL", &server.url)
    .env("OPENAI_API_KEY", KEY);
    std::fs::write(
        bench.dir.path().join("change.patch"),
        super::big_patch(40, 120 * 1024),
    )
    .unwrap();
    let t = Instant::now();
    let out = bench
        .cmd(&[
            "run",
            "review",
            "--no-cache",
            "--json",
            "--input",
            "diff=change.patch",
        ])
        .output()
        .unwrap();
    let wall = t.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let usd = report["cost"]["actual_usd"].as_f64().unwrap_or(f64::NAN);
    let uncached = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["usage"]["prompt_tokens"].as_u64().unwrap_or(0)
                - a["usage"]["cached_prompt_tokens"].as_u64().unwrap_or(0)
        })
        .sum();
    (wall, usd, uncached)
}
