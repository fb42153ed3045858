//! The state server's URL: libpq's `postgres://` form, with the TLS
//! parameters bsu handles itself (`sslmode`, `sslrootcert`,
//! `sslnegotiation`) taken out before tokio-postgres reads the rest.
//! Nothing here prints the URL or its password: errors name where the URL
//! came from.

use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::{Host, SslMode, SslNegotiation};

use crate::config::state::StateUrl;

/// A parsed URL, and what is safe to show of it.
pub(crate) struct Parsed {
    pub config: tokio_postgres::Config,
    /// `sslrootcert`: more trusted roots (PEM), beside the webpki roots.
    pub root_cert: Option<PathBuf>,
    /// Verify the server's certificate: `require`, `verify-ca`,
    /// `verify-full`, or a `sslrootcert` given.
    pub verify: bool,
    /// `HOST:PORT/DATABASE`, never the user or password.
    pub place: String,
    /// `sslnegotiation=direct`: TLS from the first byte, without asking
    /// the server first (PostgreSQL 17 and later).
    pub direct: bool,
}

/// Percent-decoding, as URL query values are written.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The TLS parameters of a URL's query, which bsu reads itself (libpq's
/// names and meanings; tokio-postgres reads them otherwise or not at all).
struct Tls {
    ssl: Option<String>,
    root_cert: Option<PathBuf>,
    negotiation: Option<String>,
}

/// `url` without its TLS parameters, and those parameters.
fn take_tls(url: &str) -> (String, Tls) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut tls = Tls {
        ssl: None,
        root_cert: None,
        negotiation: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(k).as_str() {
            "sslmode" => tls.ssl = Some(decode(v)),
            "sslrootcert" => tls.root_cert = Some(PathBuf::from(decode(v))),
            "sslnegotiation" => tls.negotiation = Some(decode(v)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, tls)
}

/// Parse `url`; an error says what is wrong and where the URL came from.
pub(crate) fn parse(url: &StateUrl) -> Result<Parsed, String> {
    let (
        rest,
        Tls {
            ssl,
            root_cert,
            negotiation,
        },
    ) = take_tls(&url.url);
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
        format!(
            "{} is not a PostgreSQL URL bsu can use ({}); write it as \
             postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            url.from,
            scrub(&e.to_string(), &url.url)
        )
    })?;
    config.ssl_mode(match ssl.as_deref() {
        None | Some("prefer" | "allow") => SslMode::Prefer,
        Some("disable") => SslMode::Disable,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        Some(other) => {
            return Err(format!(
                "{}: sslmode={other:?} is not one of disable, allow, prefer, require, \
                 verify-ca, verify-full",
                url.from
            ))
        }
    });
    if config.get_hosts().is_empty() {
        return Err(format!(
            "{} names no host; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            url.from
        ));
    }
    if config.get_dbname().is_none() {
        return Err(format!(
            "{} names no database; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            url.from
        ));
    }
    let place = place(&config);
    let verify = root_cert.is_some()
        || matches!(
            ssl.as_deref(),
            Some("require" | "verify-ca" | "verify-full")
        );
    let socket = config
        .get_hosts()
        .iter()
        .any(|h| matches!(h, Host::Unix(_)));
    if socket && verify {
        return Err(format!(
            "{}: a Unix socket (host=DIR) has no TLS, so it cannot be verified; \
             leave out sslmode and sslrootcert for a socket, or name a TCP host",
            url.from
        ));
    }
    // As libpq: no TLS asked for over a socket, which the server would
    // refuse, after a round trip, to a process it has just started.
    let hosts = config.get_hosts();
    if !hosts.is_empty() && hosts.iter().all(|h| matches!(h, Host::Unix(_))) {
        config.ssl_mode(SslMode::Disable);
    }
    let direct = direct(negotiation.as_deref(), ssl.as_deref(), url)?;
    if direct {
        config.ssl_negotiation(SslNegotiation::Direct);
    }
    Ok(Parsed {
        config,
        root_cert,
        verify,
        place,
        direct,
    })
}

/// Whether `sslnegotiation` asks for TLS from the first byte. As libpq,
/// only with an `sslmode` that requires TLS: a direct handshake cannot fall
/// back to none.
fn direct(negotiation: Option<&str>, ssl: Option<&str>, url: &StateUrl) -> Result<bool, String> {
    match negotiation {
        None | Some("postgres") => Ok(false),
        Some("direct") if matches!(ssl, Some("require" | "verify-ca" | "verify-full")) => Ok(true),
        Some("direct") => Err(format!(
            "{}: sslnegotiation=direct needs sslmode=require, verify-ca or verify-full \
             (a direct TLS handshake cannot fall back to no TLS); add one, or leave out \
             sslnegotiation",
            url.from
        )),
        Some(other) => Err(format!(
            "{}: sslnegotiation={other:?} is not one of postgres, direct",
            url.from
        )),
    }
}

/// `HOST:PORT/DATABASE` (the first host).
fn place(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        // An IPv6 address in brackets, as in the URL: `[::1]:5432`.
        Some(Host::Tcp(h)) if h.contains(':') => format!("[{h}]"),
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "?".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("?");
    format!("{host}:{port}/{db}")
}

/// `text` without the URL or its password, should a driver message quote them.
fn scrub(text: &str, url: &str) -> String {
    let mut out = text.replace(url, "<url>");
    for pw in secrets(url).iter().filter(|pw| pw.len() >= 3) {
        out = out.replace(pw.as_str(), "<password>");
    }
    out
}

/// The password part of a URL's authority, as written, if any.
fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let pw = userinfo.split_once(':')?.1;
    (!pw.is_empty()).then(|| pw.to_string())
}

/// The secrets a URL holds: its password, as written and decoded, wherever
/// it is given (`USER:PASSWORD@`, `?password=`, or libpq's `key=value`
/// form, all of which the driver reads). Not the whole URL: redaction also
/// takes out every long stretch of a secret, and the host and database are
/// shown on purpose.
pub(crate) fn secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |pw: String| {
        if !pw.is_empty() && !out.contains(&pw) {
            out.push(pw);
        }
    };
    if let Some(pw) = password(url) {
        add(decode(&pw));
        add(pw);
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    for (k, v) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        if decode(k) == "password" {
            add(decode(v));
            add(v.to_string());
        }
    }
    // What the driver will send, however it was written.
    if let Ok(config) = tokio_postgres::Config::from_str(&take_tls(url).0) {
        if let Some(pw) = config.get_password() {
            add(String::from_utf8_lossy(pw).into_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> StateUrl {
        StateUrl {
            url: u.into(),
            from: "BSU_STATE_URL".into(),
        }
    }

    #[test]
    fn the_place_shows_host_port_and_database_only() {
        let p = parse(&url(
            "postgres://bsu:s3cr%40t@db.internal:6543/state?sslmode=require",
        ))
        .unwrap();
        assert_eq!(p.place, "db.internal:6543/state");
        assert_eq!(
            parse(&url("postgresql://bsu:pw@[::1]:5433/state"))
                .unwrap()
                .place,
            "[::1]:5433/state"
        );
        assert_eq!(p.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(p.config.get_password(), Some(&b"s3cr@t"[..]));
        assert_eq!(
            secrets("postgres://bsu:s3cr%40t@db/x"),
            ["s3cr@t", "s3cr%40t"]
        );
        // The driver reads a password from the query and from libpq's
        // key=value form too: it is a secret there as well.
        assert_eq!(
            secrets("postgres:///x?host=db&user=bsu&password=s3cr%40t"),
            ["s3cr@t", "s3cr%40t"]
        );
        assert_eq!(
            secrets("host=db user=bsu password='s3 cr@t' dbname=x"),
            ["s3 cr@t"]
        );
        assert!(secrets("postgres://bsu@db/x?sslmode=require").is_empty());
    }

    #[test]
    fn bad_urls_name_the_variable_never_the_url() {
        for bad in [
            "postgres://bsu:hunter22@db.internal:notaport/x",
            "postgres://bsu:hunter22@db.internal/x?sslmode=sometimes",
            "postgres://bsu:hunter22@db.internal/x?frobnicate=1",
            "postgres://bsu:hunter22@/x",
        ] {
            let e = parse(&url(bad))
                .err()
                .unwrap_or_else(|| panic!("{bad} parsed"));
            assert!(e.contains("BSU_STATE_URL"), "{e}");
            assert!(
                !e.contains("hunter22") && !e.contains("db.internal:notaport"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_unix_socket_is_a_host_with_no_tls() {
        let p = parse(&url(
            "postgres://bsu@/state?host=/var/run/postgresql&port=5433",
        ))
        .unwrap();
        assert_eq!(p.place, "/var/run/postgresql:5433/state");
        for tls in [
            "sslmode=require",
            "sslmode=verify-full",
            "sslrootcert=%2Fca.pem",
        ] {
            let e = parse(&url(&format!("postgres://bsu@/state?host=/run/pg&{tls}")))
                .err()
                .unwrap_or_else(|| panic!("{tls} parsed"));
            assert!(e.starts_with("BSU_STATE_URL: a Unix socket"), "{e}");
        }
    }

    #[test]
    fn direct_tls_is_asked_for_with_an_sslmode_that_requires_tls() {
        for (query, direct) in [
            ("sslmode=require&sslnegotiation=direct", true),
            ("sslnegotiation=direct&sslmode=verify-full", true),
            ("sslmode=require&sslnegotiation=postgres", false),
            ("sslmode=require", false),
        ] {
            let p = parse(&url(&format!("postgres://u:hunter22@h/d?{query}"))).unwrap();
            assert_eq!(p.direct, direct, "{query}");
            let asked = p.config.get_ssl_negotiation() == SslNegotiation::Direct;
            assert_eq!(asked, direct, "{query}");
        }
        for (query, says) in [
            ("sslnegotiation=direct", "needs sslmode=require"),
            (
                "sslnegotiation=direct&sslmode=prefer",
                "needs sslmode=require",
            ),
            (
                "sslnegotiation=direct&sslmode=disable",
                "needs sslmode=require",
            ),
            ("sslnegotiation=sometimes", "is not one of postgres, direct"),
        ] {
            let e = parse(&url(&format!("postgres://u:hunter22@h/d?{query}")))
                .err()
                .unwrap_or_else(|| panic!("{query} parsed"));
            assert!(e.starts_with("BSU_STATE_URL: sslnegotiation"), "{e}");
            assert!(e.contains(says) && !e.contains("hunter22"), "{e}");
        }
    }

    #[test]
    fn tls_root_certificates_are_taken_out_of_the_url() {
        let p = parse(&url(
            "postgresql://u@h/d?sslrootcert=%2Fetc%2Fca.pem&sslmode=verify-full&application_name=x",
        ))
        .unwrap();
        assert_eq!(p.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(p.config.get_application_name(), Some("x"));
    }
}
