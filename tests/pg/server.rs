//! A throwaway PostgreSQL cluster for the tests: initdb in a temporary
//! folder, a server on a free loopback port, one fresh database per test.
//! Started once per test binary on first use and torn down when the binary
//! exits: a watchdog reads the server's stdin pipe, which closes with the
//! test process however it ends, then stops the server and removes the
//! folder. As root, the cluster runs as the `postgres` user (initdb refuses
//! root). Without PostgreSQL installed the PostgreSQL tests say so and pass,
//! except under CI (`CI` set), where they fail: CI must run them.
//!
//! In front of it, on first use, a PgBouncer in session mode (`pooler`), as
//! a fleet would reach a managed server.
//!
//! Shared by the unit tests (`src/store/contract.rs`) and the end-to-end tests.

#![allow(dead_code)]

#[path = "pooler.rs"]
pub mod pooler;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The superuser's password on the test cluster.
pub const PASSWORD: &str = "bsu-test-pg-Pa55word";

pub struct Server {
    pub port: u16,
    /// The certificate authority of the server's TLS certificate, when
    /// `openssl` could make one; the server then also takes TLS.
    pub ca: Option<PathBuf>,
    bin: PathBuf,
    /// The cluster's folder: its socket, and its TLS key and certificate.
    base: PathBuf,
    /// The watchdog, its stdin held open: it stops the server when that
    /// closes, with this process.
    _watchdog: Mutex<Child>,
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BSU_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `dir` and all in it owned by the `postgres` user when running as root
/// (the server and the pooler refuse to run as root).
fn give_to_postgres(dir: &Path) {
    if is_root() {
        let out = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "chown: {out:?}");
    }
}

/// `program args`, as the postgres user when this is root.
fn as_pg(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `found`, or `None` with a note when `package` is not installed (a
/// failure under CI, which must run its tests).
fn installed(found: Option<PathBuf>, name: &str, package: &str) -> Option<PathBuf> {
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the {name} tests: install the {package} package (.ci/run does)"
        );
        eprintln!("{name} is not installed: skipping the {name} tests");
    }
    found
}

/// A temporary folder the watchdog removes, not this process.
fn kept_folder(prefix: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap()
        .keep()
}

/// `script` run by `sh` with `args` (as the postgres user when this is
/// root), its stdin held open by the returned child: it reads stdin to its
/// end, which comes when this process ends, however it ends.
fn watchdog(script: &str, args: &[&std::ffi::OsStr]) -> Child {
    as_pg(Path::new("/bin/sh"))
        .args(["-c", script, "sh"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn start() -> Option<Server> {
    let bin = installed(bin_dir(), "PostgreSQL", "postgresql")?;
    let base = kept_folder("bsu-pg");
    let data = base.join("data");
    let pwfile = base.join("pw");
    std::fs::write(&pwfile, PASSWORD).unwrap();
    give_to_postgres(&base);
    let out = as_pg(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--auth-local=trust",
        ])
        .args(["--auth-host=scram-sha-256", "--pwfile"])
        .arg(&pwfile)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ca = tls(&base, &data);
    let port = free_port();
    // The watchdog: the server runs until stdin closes, then it is stopped
    // and the folder removed.
    let script = r#"
"$1/postgres" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
  -c shared_buffers=32MB >"$2/log" 2>&1 &
pid=$!
cat >/dev/null
kill -INT "$pid"
wait "$pid"
rm -rf "$2"
"#;
    let port_arg = port.to_string();
    let child = watchdog(
        script,
        &[bin.as_os_str(), base.as_os_str(), port_arg.as_ref()],
    );
    let server = Server {
        port,
        ca,
        bin,
        base: base.clone(),
        _watchdog: Mutex::new(child),
    };
    let started = Instant::now();
    loop {
        let ready = Command::new(server.bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ready {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the test PostgreSQL did not start: {}",
            std::fs::read_to_string(base.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    if server.ca.is_some() {
        server.sql(
            "postgres",
            &format!("CREATE ROLE bsu_tls LOGIN SUPERUSER PASSWORD '{PASSWORD}'"),
        );
    }
    Some(server)
}

/// A certificate authority and a server certificate for 127.0.0.1 and
/// localhost (`openssl`), and the cluster set to take TLS with it. Role
/// `bsu_tls` may connect over TLS only.
fn tls(base: &Path, data: &Path) -> Option<PathBuf> {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(base)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    std::fs::write(
        base.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .ok()?;
    let made = openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3",
                "-subj",
                "/CN=bsu test CA",
            ],
        ]
        .concat(),
    ) && openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    ) && openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "3",
        "-extfile",
        "san.ext",
    ]);
    if !made {
        return None;
    }
    if is_root() {
        let _ = Command::new("chown")
            .args(["postgres:postgres", "server.key", "server.crt"])
            .current_dir(base)
            .status();
    }
    let _ = Command::new("chmod")
        .args(["600", "server.key"])
        .current_dir(base)
        .status();
    let conf = format!(
        "\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
        base.join("server.crt").display(),
        base.join("server.key").display()
    );
    let mut text = std::fs::read_to_string(data.join("postgresql.conf")).ok()?;
    text.push_str(&conf);
    std::fs::write(data.join("postgresql.conf"), text).ok()?;
    let hba = std::fs::read_to_string(data.join("pg_hba.conf")).ok()?;
    let hba = format!(
        "hostnossl all bsu_tls 127.0.0.1/32 reject\nhostssl all bsu_tls 127.0.0.1/32 scram-sha-256\n{hba}"
    );
    std::fs::write(data.join("pg_hba.conf"), hba).ok()?;
    Some(base.join("ca.pem"))
}

/// The test cluster, started on first use; `None` when PostgreSQL is not
/// installed (never under CI).
pub fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER.get_or_init(start).as_ref()
}

impl Server {
    /// libpq's time to open a connection to `url`, in ms: `pgbench -C`'s
    /// average connection time over `secs` seconds of connections made one
    /// after another, each for one `SELECT 1`. The reference client's floor
    /// under anything a client does on that server; `None` when pgbench
    /// fails.
    pub fn libpq_connect(&self, url: &str, secs: u32) -> Option<f64> {
        let script = tempfile::NamedTempFile::new().ok()?;
        std::fs::write(script.path(), "SELECT 1;\n").ok()?;
        let out = Command::new(self.bin.join("pgbench"))
            .args(["-n", "-C", "-T", &secs.to_string(), "-f"])
            .arg(script.path())
            .arg(url)
            .env_remove("PGPASSWORD")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.strip_prefix("average connection time = "))
            .and_then(|l| l.trim_end_matches(" ms").trim().parse().ok())
    }

    /// Run SQL as the superuser.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", db, "-c", sql])
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Everything database `db` holds, as text (`pg_dump --data-only`).
    pub fn dump(&self, db: &str) -> String {
        let out = Command::new(self.bin.join("pg_dump"))
            .args([
                "--data-only",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
            ])
            .args(["-U", "postgres", db])
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_dump: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The URL of database `db` with `password`.
    pub fn url_with(&self, db: &str, password: &str) -> String {
        format!(
            "postgres://postgres:{password}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// The URL of database `db` over the server's Unix socket, as a runner
    /// reaches a server on its own machine: no TLS, and the cluster's
    /// `local` rule (trust, as Debian's peer) asks no password.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@/{db}?host={}&port={}",
            self.base.display(),
            self.port
        )
    }

    /// Once no session is open on database `db`: how many the server has
    /// seen end there, and how many of those lost their client without a
    /// goodbye (`sessions_abandoned`: a reset, or an end of file with no
    /// Terminate message, which the server also logs).
    pub fn ended_sessions(&self, db: &str) -> (u64, u64) {
        let started = Instant::now();
        loop {
            let row = self.sql(
                "postgres",
                &format!(
                    "SELECT numbackends, sessions, sessions_abandoned FROM pg_stat_database \
                     WHERE datname = '{db}'"
                ),
            );
            let n: Vec<u64> = row.split('|').map(|v| v.parse().unwrap()).collect();
            if n[0] == 0 {
                return (n[1], n[2]);
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{db}: {row}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A new, empty database: its name and URL.
    pub fn fresh(&self) -> (String, String) {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.sql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE template0"),
        );
        let url = self.url_with(&name, PASSWORD);
        (name, url)
    }
}
