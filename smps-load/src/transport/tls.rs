//! The TLS client configuration (rustls with the ring provider).

use std::sync::Arc;

/// Builds the TLS connector: webpki roots plus the extra trusted CAs; ALPN offers `h2`
/// (first) when `h2` is set, and `http/1.1` unless `h2_only` is set (gRPC needs HTTP/2).
pub(crate) fn tls_connector(
    extra_ca: &[tokio_rustls::rustls::pki_types::CertificateDer<'static>],
    h2: bool,
    h2_only: bool,
) -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_ca {
        roots
            .add(cert.clone())
            .map_err(|e| format!("certificate not usable as a trust anchor: {e}"))?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = match (h2, h2_only) {
        (_, true) => vec![b"h2".to_vec()],
        (true, false) => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        (false, false) => vec![b"http/1.1".to_vec()],
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
