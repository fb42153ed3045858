//! TLS to the state server, through rustls. `sslmode=require`, `verify-ca`
//! and `verify-full` (or a `sslrootcert`) verify the server's certificate
//! and name against the webpki roots and the given ones: stricter than
//! libpq's `require`, because a connection anyone can intercept protects a
//! password poorly. `prefer` (the default) and `allow` encrypt when the
//! server offers TLS without verifying it, as libpq does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::config::state::StateUrl;
use crate::store::StoreError;

/// The connector for a URL's TLS settings.
pub(super) fn connector(
    root_cert: Option<&std::path::Path>,
    verify: bool,
    url: &StateUrl,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    config(root_cert, verify, url).map(tokio_postgres_rustls::MakeRustlsConnect::new)
}

/// ring's key exchange groups, P-256 first. PostgreSQL up to 17 does ECDHE
/// on one curve only, `ssl_ecdh_curve`, prime256v1 unless set: a first key
/// share for X25519 (rustls's first choice) costs a HelloRetryRequest on
/// nearly every server, a round trip and a second key before the server's
/// certificate. X25519 is still offered, for servers that take only it.
fn kx_groups() -> Vec<&'static dyn rustls::crypto::SupportedKxGroup> {
    use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
    vec![SECP256R1, X25519, SECP384R1]
}

/// The application protocol offered in every handshake, as libpq 17 does:
/// PostgreSQL 17 and later refuse a direct TLS handshake
/// (`sslnegotiation=direct`) without it, and older servers ignore it.
const ALPN: &[u8] = b"postgresql";

/// The TLS client settings for a URL's TLS settings.
fn config(
    root_cert: Option<&std::path::Path>,
    verify: bool,
    url: &StateUrl,
) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(CryptoProvider {
        kx_groups: kx_groups(),
        ..rustls::crypto::ring::default_provider()
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unusable(format!("TLS: {e}")))?;
    let mut config = if verify {
        builder
            .with_root_certificates(roots(root_cert, url)?)
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(config)
}

/// The webpki roots, and `sslrootcert`'s certificates when given.
fn roots(
    root_cert: Option<&std::path::Path>,
    url: &StateUrl,
) -> Result<rustls::RootCertStore, StoreError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let Some(path) = root_cert else {
        return Ok(roots);
    };
    let refused = |what: String| {
        StoreError::Refused(format!(
            "{}: sslrootcert {} {what}",
            url.from,
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| refused(format!("could not be read as PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(refused("holds no PEM certificate".into()));
    }
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| refused(format!("holds a certificate rustls refuses ({e})")))?;
    }
    Ok(roots)
}

/// `prefer`: any certificate; the handshake's signatures still checked.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use crate::config::state::StateUrl;
    use crate::store::contract::pg;

    /// A TLS handshake with the test cluster as bsu makes it: PostgreSQL's
    /// SSLRequest, then rustls with `config`.
    fn handshake(verify: bool) -> rustls::HandshakeKind {
        let server = pg::server().unwrap();
        let url = StateUrl {
            url: String::new(),
            from: "BSU_STATE_URL".into(),
        };
        let config = super::config(server.ca.as_deref(), verify, &url).unwrap();
        let name = "localhost".try_into().unwrap();
        let mut tls = rustls::ClientConnection::new(config.into(), name).unwrap();
        let mut tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        // SSLRequest: length 8, code 80877103.
        tcp.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).unwrap();
        let mut yes = [0];
        tcp.read_exact(&mut yes).unwrap();
        assert_eq!(&yes, b"S", "the test cluster takes TLS");
        while tls.is_handshaking() {
            tls.complete_io(&mut tcp).unwrap();
        }
        tls.handshake_kind().unwrap()
    }

    #[test]
    fn a_handshake_with_postgresql_needs_no_retry() {
        // The test cluster keeps PostgreSQL's default curve, prime256v1.
        if pg::server().is_none_or(|s| s.ca.is_none()) {
            return;
        }
        for verify in [false, true] {
            assert_eq!(handshake(verify), rustls::HandshakeKind::Full);
        }
    }
}
