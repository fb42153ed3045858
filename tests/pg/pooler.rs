//! PgBouncer in front of the test cluster (`Server::pooler`), started on
//! first use and stopped with it by a watchdog of its own.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{free_port, give_to_postgres, installed, kept_folder, watchdog, Server, PASSWORD};

/// PgBouncer in front of the test cluster: session pooling, SCRAM logins
/// checked against the cluster's own secret, TLS offered when the cluster
/// has a certificate; every database of the cluster under the same name.
pub struct Pooler {
    pub port: u16,
    _watchdog: Mutex<std::process::Child>,
}

fn pgbouncer() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BSU_TEST_PGBOUNCER") {
        return Some(PathBuf::from(p));
    }
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .map(PathBuf::from)
        .into_iter()
        .find(|p| p.is_file())
}

impl Server {
    /// The pooler, started on first use; `None` when PgBouncer is not
    /// installed (never under CI).
    pub fn pooler(&'static self) -> Option<&'static Pooler> {
        static POOLER: OnceLock<Option<Pooler>> = OnceLock::new();
        POOLER.get_or_init(|| self.start_pooler()).as_ref()
    }

    fn start_pooler(&self) -> Option<Pooler> {
        let bin = installed(pgbouncer(), "PgBouncer", "pgbouncer")?;
        let dir = kept_folder("bsu-pgbouncer");
        let secret = self.sql(
            "postgres",
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'",
        );
        std::fs::write(
            dir.join("users.txt"),
            format!("\"postgres\" \"{secret}\"\n"),
        )
        .unwrap();
        let tls = match &self.ca {
            Some(_) => format!(
                "client_tls_sslmode = prefer\nclient_tls_cert_file = {}\nclient_tls_key_file = {}\n",
                self.base.join("server.crt").display(),
                self.base.join("server.key").display()
            ),
            None => String::new(),
        };
        let port = free_port();
        let ini = format!(
            "[databases]\n* = host={} port={}\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
             listen_port = {port}\nunix_socket_dir =\nauth_type = scram-sha-256\n\
             auth_file = {}\npool_mode = session\nmax_client_conn = 400\n\
             default_pool_size = 100\n{tls}",
            self.base.display(),
            self.port,
            dir.join("users.txt").display()
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini).unwrap();
        give_to_postgres(&dir);
        let script = r#"
"$1" "$2/pgbouncer.ini" >"$2/log" 2>&1 &
pid=$!
cat >/dev/null
kill -TERM "$pid"
wait "$pid"
rm -rf "$2"
"#;
        let child = watchdog(script, &[bin.as_os_str(), dir.as_os_str()]);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "PgBouncer did not start: {}",
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Pooler {
            port,
            _watchdog: Mutex::new(child),
        })
    }
}

impl Pooler {
    /// The URL of database `db` through the pooler.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }
}
