//! A fleet of runners sharing one PostgreSQL state (`BSU_STATE_URL`), each
//! with its own state directory, as CI jobs on separate machines are: one
//! probe across them, budgets never overspent together, a killed runner's
//! lock and reservation released, `--if-running skip` across runners, the
//! fleet's history and spend. What happens when the server is wrong or
//! gone: `outage.rs`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake::{Fake, Reply};
use crate::support::{on_pooler, on_postgres, shared_url, Project, TEST_KEY};

/// `p`'s bsu as a runner on its own machine: its own state directory.
fn runner(p: &Project, n: usize) -> Command {
    let mut c = p.command();
    c.env("BSU_STATE_DIR", p.path().join(format!(".runner-{n}")));
    c
}

fn spawn(p: &Project, n: usize, args: &[&str]) -> Child {
    runner(p, n)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub(crate) fn codes(children: Vec<Child>) -> Vec<(i32, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

fn status(p: &Project, n: usize) -> Value {
    let out = runner(p, n)
        .args(["status", "--json", "--runs", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A runner started on `args`, once its call has reached `fake`.
pub(crate) fn calling(p: &Project, fake: &Fake, args: &[&str]) -> Child {
    let child = spawn(p, 0, args);
    wait_for_a_call(fake);
    child
}

/// Until `fake` has been called once.
fn wait_for_a_call(fake: &Fake) {
    let started = Instant::now();
    while fake.count() == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no run called");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn one() -> Project {
    Project::with_agents("[events.ping]\nagents = [\"a\"]\n", &["a"])
}

#[test]
fn one_probe_across_runners_that_share_no_disk() {
    if !on_postgres() {
        return;
    }
    let fake = Fake::start(|_| Reply::error(503, "down"));
    let p = one()
        .serve(&fake)
        .env("BSU_MAX_RETRIES", "0")
        .env("BSU_BREAKER_FAILURE_THRESHOLD", "1")
        .env("BSU_BREAKER_RESET_TIMEOUT", "3s");
    assert_eq!(
        runner(&p, 0)
            .args(["run", "ping"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(75)
    );
    // Another runner sees the open breaker and sends nothing.
    assert_eq!(
        runner(&p, 1)
            .args(["run", "ping"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(75)
    );
    assert_eq!(fake.count(), 1, "the second runner sent nothing");
    fake.set_script(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1000)));
    // Long enough that a loaded machine starting the second runner late
    // does not reach the half-open state; then waited out.
    std::thread::sleep(Duration::from_millis(3200));
    let children: Vec<Child> = (2..10).map(|n| spawn(&p, n, &["run", "ping"])).collect();
    let got = codes(children);
    let codes: Vec<i32> = got.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        fake.count(),
        2,
        "exactly one probe across eight runners: {got:?}"
    );
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 75).count(), 7, "{codes:?}");
    assert_eq!(status(&p, 11)["breakers"][0]["state"], "closed");
}

/// A project whose one run is projected at about $0.021, with a daily
/// budget of $0.03: one run fits, two do not.
pub(crate) fn budgeted(fake: &Fake) -> Project {
    Project::with_agents(
        "[budget]\nmax_cost_per_day = 0.03\n\
         [prices.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n\
         [events.ping]\nagents = [\"a\"]\n",
        &[],
    )
    .agent("a", "model = \"gpt-4o\"\nmax_tokens = 2000")
    .serve(fake)
}

#[test]
fn sixteen_runners_never_overspend_a_daily_budget_together() {
    if !on_postgres() {
        return;
    }
    // Slow replies: every runner reserves while the others are still running.
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let p = budgeted(&fake);
    let children: Vec<Child> = (0..16).map(|n| spawn(&p, n, &["run", "ping"])).collect();
    let got = codes(children);
    let ran = got.iter().filter(|(c, _)| *c == 0).count();
    let refused: Vec<&String> = got
        .iter()
        .filter(|(c, _)| *c == 75)
        .map(|(_, e)| e)
        .collect();
    assert_eq!(ran, 1, "one run fits the day's budget: {got:?}");
    assert_eq!(refused.len(), 15, "{got:?}");
    assert!(refused.iter().all(|e| e.contains("daily")), "{refused:?}");
    assert_eq!(fake.count(), 1, "nothing sent by a refused run");
    // The fleet's spend, as every runner sees it.
    let s = status(&p, 20);
    let today = s["spend"]["today"].as_array().unwrap();
    assert_eq!(today.len(), 1, "{s}");
    assert!(today[0]["usd"].as_f64().unwrap() <= 0.03);
    assert!(s["spend"]["reservations"].as_array().unwrap().is_empty());
}

fn kill(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn a_killed_runners_lock_and_reservation_are_released() {
    if !on_postgres() {
        return;
    }
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_secs(30)));
    let p = budgeted(&fake);
    let mut first = calling(
        &p,
        &fake,
        &["run", "ping", "--if-running", "skip", "--timeout", "2s"],
    );
    // While it runs: another runner skips, and the budget is held.
    let out = runner(&p, 1)
        .args(["run", "ping", "--if-running", "skip"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped: another run of this event is in progress (pid "),
        "{stderr}"
    );
    assert!(stderr.contains("on another runner"), "{stderr}");
    let held = status(&p, 2)["spend"]["reservations"].clone();
    assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
    kill(&mut first);
    // The server dropped the dead runner's lock at once: the next run is not skipped.
    fake.set_script(|_| Reply::verdict("approve", 9));
    let out = runner(&p, 3)
        .args(["run", "ping", "--if-running", "skip"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Its reservation still holds until its lease (deadline + a margin) ends.
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("daily"), "{stderr}");
    let s = status(&p, 4);
    let r = &s["spend"]["reservations"][0];
    let lease = r["lease_until_ms"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        lease - now <= 2_000 + 60_000,
        "lease bounded by deadline + margin: {r}"
    );
    assert_eq!(r["expired"], false);
}

#[test]
fn if_running_wait_waits_for_the_other_runner() {
    if !on_postgres() {
        return;
    }
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let p = one().serve(&fake);
    let first = calling(
        &p,
        &fake,
        &["run", "ping", "--if-running", "skip", "--no-cache"],
    );
    let out = runner(&p, 1)
        .args(["run", "ping", "--if-running", "wait", "--no-cache"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(codes(vec![first])[0].0, 0);
    assert_eq!(
        fake.count(),
        2,
        "the second ran after the first, not skipped"
    );
    let runs = status(&p, 2)["runs"].as_array().unwrap().len();
    assert_eq!(runs, 2, "the fleet's history holds both runners' runs");
    // Each runner's state and lock connections, and status's, ended with a
    // goodbye: nothing for the server to log as a lost client.
    let url = shared_url().unwrap();
    let db = url.rsplit_once('/').unwrap().1;
    let (sessions, abandoned) = crate::pg::server().unwrap().ended_sessions(db);
    assert!(sessions >= 5, "{sessions}");
    assert_eq!(abandoned, 0);
}

#[test]
fn runners_behind_a_session_pooler_share_the_lock_and_the_history() {
    if !on_pooler() {
        return;
    }
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let p = one().serve(&fake);
    let args = ["run", "ping", "--if-running", "skip", "--no-cache"];
    let first = calling(&p, &fake, &args);
    let out = runner(&p, 1).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped: another run of this event is in progress (pid ")
            && stderr.contains("on another runner"),
        "{stderr}"
    );
    assert_eq!(codes(vec![first])[0].0, 0);
    // The pooler released the lock with the first runner's session: the
    // next run is not skipped.
    let out = runner(&p, 2).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fake.count(), 2);
    let runs = status(&p, 3)["runs"].as_array().unwrap().len();
    assert_eq!(runs, 2, "the fleet's history holds both runs");
    // A runner killed while it holds the lock: the pooler drops its session,
    // and with it the lock, at once.
    fake.set_script(|_| Reply::verdict("approve", 9).delay(Duration::from_secs(30)));
    let mut killed = spawn(&p, 4, &args);
    let started = Instant::now();
    while fake.count() < 3 {
        assert!(started.elapsed() < Duration::from_secs(20), "no run called");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&mut killed);
    fake.set_script(|_| Reply::verdict("approve", 9));
    let out = runner(&p, 5).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
    assert_eq!(fake.count(), 4);
}

#[test]
fn status_shows_the_server_and_never_its_url() {
    if !on_postgres() {
        return;
    }
    let url = shared_url().unwrap();
    let fake = Fake::approving();
    let p = one().serve(&fake);
    assert_eq!(
        runner(&p, 0)
            .args(["run", "ping"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let out = runner(&p, 1)
        .args(["status", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let place = url.rsplit_once('@').unwrap().1;
    assert!(
        text.starts_with(&format!(
            "State: PostgreSQL {place}, shared by every runner using it\n"
        )),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("postgres://") && !text.contains(crate::pg::PASSWORD));
    // The run's report and outputs never hold the URL or its password.
    for f in p.reports() {
        let body = p.read(&format!("reports/{f}"));
        assert!(
            !body.contains(crate::pg::PASSWORD) && !body.contains(TEST_KEY),
            "{f}"
        );
    }
    let (code, stdout, _) = p.run(&["state", "migrate"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        format!("postgres {place}: schema version 1, up to date\n")
    );
}

#[test]
fn two_checkouts_of_one_repository_are_one_project_on_the_server() {
    if !on_postgres() {
        return;
    }
    // Two runners check the same repository out at different paths (as
    // GitLab's shell runners do for concurrent jobs).
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let ci = |p: Project| {
        let ws = p.path().display().to_string();
        p.serve(&fake)
            .env("CI_PROJECT_PATH", "group/app")
            .env("CI_PROJECT_DIR", &ws)
            .env("CI_SERVER_HOST", "gitlab.example.com")
    };
    let (a, b) = (ci(one()), ci(one()));
    let first = calling(
        &a,
        &fake,
        &["run", "ping", "--if-running", "skip", "--no-cache"],
    );
    let out = runner(&b, 1)
        .args(["run", "ping", "--if-running", "skip", "--no-cache"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped: another run of this event"),
        "{stderr}"
    );
    assert_eq!(codes(vec![first])[0].0, 0);
    assert_eq!(fake.count(), 1, "the second checkout's run was skipped");
    // Its history is the project's: `bsu diff --last` from the other checkout sees it.
    assert_eq!(
        runner(&b, 2)
            .args(["run", "ping", "--no-cache"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let (code, _, stderr) = b.run(&["diff", "--last", "ping"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn state_migrate_on_a_fresh_server_says_what_it_found() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (_, url) = server.fresh();
    let p = one().env("BSU_STATE_URL", &url);
    let place = url.rsplit_once('@').unwrap().1;
    let (code, stdout, stderr) = p.run(&["state", "migrate"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!("postgres {place}: schema version 1 (was 0)\n")
    );
    let (code, v) = p.json(&["state", "migrate", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        v,
        serde_json::json!({"backend": "postgres", "location": place, "schema_version": 1, "was": 1})
    );
}

#[test]
fn a_server_on_the_runners_own_machine_is_reached_over_its_socket() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (db, _) = server.fresh();
    let fake = Fake::approving();
    // `?host=DIR`: the server's Unix socket in DIR, as libpq reads it.
    let p = one()
        .serve(&fake)
        .env("BSU_STATE_URL", &server.socket_url(&db));
    let (code, _, stderr) = p.run(&["run", "ping"]);
    assert_eq!(code, 0, "{stderr}");
    let s = status(&p, 1);
    assert_eq!(s["runs"].as_array().unwrap().len(), 1, "{s}");
    let (code, stdout, _) = p.run(&["status"]);
    assert_eq!(code, 0);
    let place = format!(":{}/{db}, shared by every runner", server.port);
    assert!(stdout.contains(&place), "{stdout}");
    assert_eq!(server.ended_sessions(&db).1, 0);
}
