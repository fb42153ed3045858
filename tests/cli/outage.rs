//! What a run does when its state server is wrong, slow or gone: a refused
//! login is exit 2 naming the variable; an unreachable server refuses a
//! budgeted run and lets any other go on without its state; a server lost
//! mid-run is an outage from then on; a connection still being made holds
//! up nothing but what needs the state; and a run makes one connection,
//! begun before its arguments are parsed when it can be, and ends it
//! cleanly however it ends.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::fake::{Fake, Reply};
use crate::fleet::{budgeted, calling, codes, one};
use crate::support::{on_postgres, shared_url};

#[test]
fn a_wrong_password_is_exit_2_naming_the_variable() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (db, _) = server.fresh();
    let fake = Fake::approving();
    // The run has an input, gathered while the login is refused: the
    // refusal still stops it before anything is sent.
    let p = on_server(
        &fake,
        &server.url_with(&db, "Wrong-Pa55word-xyz"),
        "[inputs.v]\nkind = \"command\"\nargv = [\"git\", \"--version\"]\n\
         [events.ping]\nagents = [\"a\"]\ninputs = [\"v\"]\n",
    );
    for args in [
        &["run", "ping"][..],
        &["status"][..],
        &["state", "migrate"][..],
    ] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("refused the login") && stderr.contains("BSU_STATE_URL"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("Wrong-Pa55word-xyz") && !stderr.contains("postgres://"),
            "{stderr}"
        );
        assert!(stdout.is_empty());
    }
    // No password at all where the server asks for one: the same, not a
    // server out of reach (which would let the run go on without it).
    let bare = server.url_with(&db, "x").replace(":x@", "@");
    let p = on_server(&fake, &bare, "[events.ping]\nagents = [\"a\"]\n");
    let (code, stdout, stderr) = p.run(&["run", "ping"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: the state server {} asks for a password and BSU_STATE_URL gives none; \
             write it as postgres://USER:PASSWORD@HOST/DATABASE\n",
            bare.split_once('@').unwrap().1
        )
    );
    assert_eq!(fake.count(), 0, "nothing sent");
}

/// A password in the URL's query is a secret as one after the user is: a
/// model that quotes it is redacted in everything the run keeps and
/// prints. libpq's key=value form, which the driver would also read, is
/// refused by every command alike (it was taken by `bsu status` and
/// `bsu state migrate`), never quoted.
#[test]
fn a_password_in_the_query_is_redacted_and_key_value_form_refused() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (db, _) = server.fresh();
    let password = crate::pg::PASSWORD;
    let fake = Fake::start(move |_| {
        Reply::content(&format!(
            "{{\"decision\": \"approve\", \"summary\": \"the state is at {password}\"}}"
        ))
    });
    let port = server
        .url_with(&db, password)
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(port, _)| port.to_string())
        .unwrap();
    let url = format!("postgres://127.0.0.1:{port}/{db}?user=postgres&password={password}");
    let p = on_server(&fake, &url, "[events.ping]\nagents = [\"a\"]\n");
    let (code, stdout, stderr) = p.run(&["run", "ping", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("the state is at [redacted]"), "{stdout}");
    for text in [&stdout, &stderr, &p.all_text()] {
        assert!(!text.contains(password), "{text}");
    }
    let kv = format!("host=127.0.0.1 port={port} user=postgres password={password} dbname={db}");
    let p = on_server(&fake, &kv, "[events.ping]\nagents = [\"a\"]\n");
    for args in [&["run", "ping"][..], &["status"], &["state", "migrate"]] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: BSU_STATE_URL: is not a PostgreSQL URL: write it as "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(password), "{stderr}");
    }
    assert_eq!(fake.count(), 1, "nothing sent with the refused URL");
}

#[test]
fn a_url_that_is_not_postgres_is_exit_2_naming_the_variable() {
    let fake = Fake::approving();
    let p = on_server(
        &fake,
        "mysql://bsu:Not-Pg-Pa55@db/bsu",
        "[events.ping]\nagents = [\"a\"]\n",
    );
    let (code, stdout, stderr) = p.run(&["run", "ping"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert_eq!(
        stderr,
        "error: BSU_STATE_URL: is not a PostgreSQL URL: write it as \
         postgres://USER:PASSWORD@HOST/DATABASE, or unset it to keep the state in SQLite in \
         the state directory\n\
         error: 1 configuration problem found; nothing was run (see `bsu check`)\n"
    );
    assert_eq!(fake.count(), 0, "nothing sent");
}

/// A server that accepts connections and never answers.
fn silent_server() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://bsu:Silent-Pa55@127.0.0.1:{}/bsu",
        l.local_addr().unwrap().port()
    );
    (l, url)
}

#[test]
fn an_unreachable_server_refuses_a_budgeted_run_and_lets_an_unbudgeted_one_go_on() {
    let (_listener, url) = silent_server();
    let fake = Fake::approving();
    let p = budgeted(&fake).env("BSU_STATE_URL", &url).file(
        "events.toml",
        "[state]\ntimeout = \"1s\"\n[budget]\nmax_cost_per_day = 0.03\n\
             [prices.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n[events.ping]\nagents = [\"a\"]\n",
    );
    let started = Instant::now();
    let (code, _, stderr) = p.run(&["run", "ping"]);
    assert_eq!(code, 75, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang on the database"
    );
    assert!(stderr.contains("did not answer within 1s"), "{stderr}");
    assert!(!stderr.contains("Silent-Pa55"), "{stderr}");
    assert_eq!(fake.count(), 0);

    let p = on_server(
        &fake,
        &url,
        "[state]\ntimeout = \"1s\"\n[events.ping]\nagents = [\"a\"]\n",
    );
    let (code, _, stderr) = p.run(&["run", "ping"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("running without shared state: breakers only in memory"),
        "{stderr}"
    );
    assert_eq!(fake.count(), 1);
    let r = p.latest();
    assert_unavailable(&r, "did not answer within 1s");
    assert!(!r.to_string().contains("Silent-Pa55"));
}

#[test]
fn a_server_lost_mid_run_is_an_outage_from_then_on() {
    if !on_postgres() {
        return;
    }
    let url = shared_url().unwrap();
    let db = url.rsplit_once('/').unwrap().1.to_string();
    let fake = Fake::start(|_| Reply::verdict("approve", 9).delay(Duration::from_millis(1500)));
    let p = one().serve(&fake);
    let child = calling(&p, &fake, &["run", "ping"]);
    // The server drops every connection of the run while its agent is out.
    crate::pg::server().unwrap().sql(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
        ),
    );
    let (code, stderr) = codes(vec![child]).remove(0);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.matches("this run goes on without it").count(),
        1,
        "one warning: {stderr}"
    );
    let r = p.latest();
    assert_unavailable(&r, "stopped answering during the run");
    assert_eq!(r["decision"]["action"], "approve");
}

/// A run of `one()` with a `command` input that makes `gathered/.git`,
/// against a server that takes the connection and says nothing for as long
/// as the test holds it: the run, the held connection (its SSLRequest read)
/// and the project.
fn held_run(
    fake: &Fake,
) -> (
    std::process::Child,
    std::net::TcpStream,
    crate::support::Project,
) {
    let (listener, url) = silent_server();
    let p = on_server(
        fake,
        &url,
        "[state]\ntimeout = \"60s\"\n[inputs.mark]\nkind = \"command\"\n\
         argv = [\"git\", \"init\", \"-q\", \"gathered\"]\n\
         [events.ping]\nagents = [\"a\"]\ninputs = [\"mark\"]\n",
    );
    let child = p
        .command()
        .args(["run", "ping"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    // PostgreSQL's SSLRequest, left unanswered.
    let mut asked = [0; 8];
    conn.read_exact(&mut asked).unwrap();
    let started = Instant::now();
    while !p.path().join("gathered/.git").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the inputs waited for the state server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, conn, p)
}

#[test]
fn the_inputs_are_gathered_while_the_state_server_is_connected_to() {
    let fake = Fake::approving();
    let (mut child, conn, _p) = held_run(&fake);
    // Still connecting: the connection is open and nothing was sent.
    conn.set_nonblocking(true).unwrap();
    let open = (&conn).read(&mut [0; 1]);
    assert!(
        matches!(&open, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{open:?}"
    );
    assert_eq!(fake.count(), 0, "nothing sent before the breakers are read");
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_the_state_server_is_connected_to_stops_the_run_at_once() {
    let fake = Fake::approving();
    let (child, _conn, p) = held_run(&fake);
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    // Not the connection's 60 s: the run stops as if while gathering.
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(fake.count(), 0);
    let r = p.latest();
    assert_eq!(r["interrupted"], true);
    assert_unavailable(&r, "stopped while the state server was being connected to");
}

/// The report says why the run went without its state.
fn assert_unavailable(r: &serde_json::Value, why: &str) {
    let said = r["state_unavailable"].as_str().unwrap_or_default();
    assert!(said.contains(why), "{r}");
}

#[test]
fn a_run_skipped_before_it_needs_its_state_still_closes_its_connection() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (db, url) = server.fresh();
    let fake = Fake::approving();
    let p = on_server(
        &fake,
        &url,
        "[events.ping]\nagents = [\"a\"]\n[events.ping.skip]\ndraft = true\n",
    )
    .file(
        "payload.json",
        r#"{"pull_request": {"number": 7, "draft": true}}"#,
    );
    let (code, _, stderr) = p.run(&["run", "ping", "--payload", "payload.json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("skip.draft"), "{stderr}");
    assert_eq!(fake.count(), 0);
    // The connection it had started was made and ended with a goodbye, not
    // cut mid-handshake when the process ended.
    assert_eq!(server.ended_sessions(&db), (1, 0));
}

#[test]
fn a_run_makes_one_connection_whether_or_not_it_began_before_parsing() {
    let Some(server) = crate::pg::server() else {
        return;
    };
    let (db, url) = server.fresh();
    let fake = Fake::approving();
    let p = on_server(&fake, &url, "[events.ping]\nagents = [\"a\"]\n");
    assert_eq!(p.run(&["state", "migrate"]).0, 0);
    let (migrated, _) = server.ended_sessions(&db);
    // Plain arguments: connected to before they are parsed, and that
    // connection used. `-C`: connected to once the project is known.
    let dir = p.path().display().to_string();
    for args in [
        vec!["run", "ping", "--no-cache"],
        vec!["run", "ping", "--no-cache", "-C", &dir],
    ] {
        let (code, _, stderr) = p.run(&args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    assert_eq!(fake.count(), 2);
    assert_eq!(server.ended_sessions(&db), (migrated + 2, 0));
    // Arguments that do not parse: the connection begun is ended cleanly.
    let (code, _, stderr) = p.run(&["run", "ping", "--no-such-flag"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(server.ended_sessions(&db), (migrated + 3, 0));
}

/// `one()` answered by `fake`, its state on the server at `url`, with
/// `events` as its events.toml.
fn on_server(fake: &Fake, url: &str, events: &str) -> crate::support::Project {
    one()
        .serve(fake)
        .env("BSU_STATE_URL", url)
        .file("events.toml", events)
}
