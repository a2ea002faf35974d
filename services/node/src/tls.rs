//! TLS material: the node's self-signed certificate (made at init with rcgen) and the rustls
//! configurations for serving and for clients that pin that certificate.
//! Verification is never turned off; clients trust exactly the pinned certificate.

use std::path::Path;

use anyhow::Context;

use crate::secrets::write_secret;

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Call first in `main` and in
/// tests; calling it twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Makes a self-signed certificate for `names` (host names and IP addresses) and writes the
/// certificate and its private key (mode 0600).
pub fn make_self_signed(cert_path: &Path, key_path: &Path, names: &[String]) -> anyhow::Result<()> {
    let certified =
        rcgen::generate_simple_self_signed(names.to_vec()).context("无法生成证书 / cannot make certificate")?;
    if let Some(dir) = cert_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(cert_path, certified.cert.pem()).with_context(|| format!("无法写入 {}", cert_path.display()))?;
    write_secret(key_path, &certified.signing_key.serialize_pem())
}

/// An HTTPS client that trusts only the certificate in `cert_pem`.
pub fn pinned_client(cert_pem: &[u8]) -> anyhow::Result<reqwest::Client> {
    pinned_client_builder(cert_pem)?.build().context("无法创建 HTTPS 客户端 / cannot build HTTPS client")
}

/// The builder of `pinned_client`, for callers that tune the connection (e.g. HTTP/1.1 only).
pub fn pinned_client_builder(cert_pem: &[u8]) -> anyhow::Result<reqwest::ClientBuilder> {
    install_crypto_provider();
    let cert = reqwest::Certificate::from_pem(cert_pem).context("证书格式错误 / invalid certificate PEM")?;
    Ok(reqwest::Client::builder().tls_certs_only([cert]).https_only(true).timeout(std::time::Duration::from_secs(120)))
}
