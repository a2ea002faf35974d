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

/// Renews the node's certificate without changing what children pinned.
///
/// A child pins its parent's certificate as its only trust anchor, and a trust anchor is the
/// certificate's subject name and public key, not its bytes: rustls (webpki) accepts any
/// certificate whose issuer is that subject and whose signature that key checks. So the renewal
/// keeps the key pair (`tls/key.pem`) and the subject (rcgen's default name, as at `init`) and
/// issues a new self-signed certificate (new serial, valid from today, the names given): every
/// child's pin, and every invite already printed, accepts it unchanged, and nothing has to be
/// announced in advance. A new key pair would need `quanze parent repin` on every child.
/// The new file replaces the old by rename; the running node reloads it (`server::watch_certificate`).
pub fn renew_keeping_key(cert_path: &Path, key_path: &Path, names: &[String]) -> anyhow::Result<Vec<u8>> {
    let key_pem = crate::secrets::read_secret(key_path)?;
    let key = rcgen::KeyPair::from_pem(&key_pem).context("tls/key.pem 不是有效的私钥 / invalid TLS key")?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).context("证书名称无效 / invalid names")?;
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| anyhow::anyhow!("系统随机数源不可用 / OS random failed: {e}"))?;
    serial[0] &= 0x7f;
    params.serial_number = Some(serial.to_vec().into());
    let today = chrono::Utc::now().date_naive();
    use chrono::Datelike;
    params.not_before = rcgen::date_time_ymd(today.year(), today.month() as u8, today.day() as u8);
    let cert = params.self_signed(&key).context("无法签发证书 / cannot issue the certificate")?;
    let tmp = cert_path.with_extension("pem.new");
    std::fs::write(&tmp, cert.pem()).with_context(|| format!("无法写入 {}", tmp.display()))?;
    std::fs::rename(&tmp, cert_path)?;
    Ok(cert.der().to_vec())
}
