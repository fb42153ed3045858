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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unusable(format!("TLS: {e}")))?;
    let config = if verify {
        builder
            .with_root_certificates(roots(root_cert, url)?)
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth()
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
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
