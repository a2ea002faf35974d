//! The one-time invite: everything a child needs to trust and reach its parent, in one line.
//!
//! `qz1.` + base64url(JSON). It carries the parent's URL, division and certificate (DER) with the
//! certificate's SHA-256 fingerprint (checked on decode, so a damaged paste is caught), the root
//! of trust (division + public key), the division, tier and name the child is invited as, the
//! token and its expiry. The token is a bearer secret for one enrolment; the parent stores only
//! its hash.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use quanze_domain::{DivisionCode, Tier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const PREFIX: &str = "qz1.";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub parent_url: String,
    pub parent_division: DivisionCode,
    /// SHA-256 of the parent's certificate (DER), hex.
    pub parent_cert_sha256: String,
    /// The parent's certificate, DER, base64url.
    pub parent_cert: String,
    pub root_division: DivisionCode,
    pub root_key: String,
    pub division: DivisionCode,
    pub tier: Tier,
    pub name: String,
    pub token: String,
    pub expires_at: String,
}

/// SHA-256 of a token, as the parent stores it.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// SHA-256 fingerprint of a certificate (DER), hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The DER bytes of the first certificate in a PEM text.
pub fn pem_to_der(pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let cert = CertificateDer::from_pem_slice(pem).context("证书格式错误 / invalid certificate PEM")?;
    Ok(cert.as_ref().to_vec())
}

/// PEM text of a DER certificate.
pub fn der_to_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

impl Invite {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Decodes and checks an invite: shape, certificate fingerprint, division/tier agreement and
    /// expiry (against `now`).
    pub fn decode(text: &str, now: DateTime<Utc>) -> anyhow::Result<Invite> {
        let body = text.trim().strip_prefix(PREFIX).context("邀请码应以 qz1. 开头 / an invite starts with qz1.")?;
        let json = URL_SAFE_NO_PAD.decode(body).context("邀请码不完整或有误 / invite is damaged (base64)")?;
        let invite: Invite = serde_json::from_slice(&json).context("邀请码内容有误 / invite is damaged (content)")?;
        if fingerprint(&invite.cert_der()?) != invite.parent_cert_sha256 {
            bail!("邀请码中的证书与指纹不符 / invite certificate does not match its fingerprint");
        }
        invite.division.check_tier(invite.tier)?;
        if invite.division.parent().as_ref() != Some(&invite.parent_division) {
            bail!(
                "邀请码中 {} 不是 {} 的下级 / invited division is not below the parent",
                invite.division,
                invite.parent_division
            );
        }
        let expires = DateTime::parse_from_rfc3339(&invite.expires_at).context("邀请码有效期格式错误")?;
        if expires < now {
            bail!(
                "邀请码已于 {} 过期，请上级重新生成 / invite expired: ask the parent for a new one",
                invite.expires_at
            );
        }
        invite.root_key.parse::<quanze_ledger::PublicKey>().context("邀请码中的根公钥无效 / invalid root key")?;
        Ok(invite)
    }

    pub fn cert_der(&self) -> anyhow::Result<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(&self.parent_cert).context("邀请码中的证书已损坏 / damaged certificate in invite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Invite {
        let der = b"not really a certificate".to_vec();
        Invite {
            parent_url: "https://127.0.0.1:7443".into(),
            parent_division: DivisionCode::parse("510500").unwrap(),
            parent_cert_sha256: fingerprint(&der),
            parent_cert: URL_SAFE_NO_PAD.encode(&der),
            root_division: DivisionCode::parse("510000").unwrap(),
            root_key: quanze_ledger::NodeKey::from_seed(&[1; 32]).public().to_hex(),
            division: DivisionCode::parse("510521").unwrap(),
            tier: Tier::County,
            name: "泸县".into(),
            token: "t0k3n".into(),
            expires_at: "2030-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn an_invite_round_trips_as_one_line() {
        let text = sample().encode();
        assert!(!text.contains(char::is_whitespace));
        assert_eq!(Invite::decode(&text, Utc::now()).unwrap(), sample());
    }

    #[test]
    fn damaged_expired_or_mismatched_invites_are_refused() {
        let text = sample().encode();
        assert!(Invite::decode(&text[..text.len() - 5], Utc::now()).is_err());
        assert!(Invite::decode(&text.replace("qz1.", "qz2."), Utc::now()).is_err());
        let late = DateTime::parse_from_rfc3339("2031-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert!(Invite::decode(&text, late).unwrap_err().to_string().contains("过期"));
        let mut wrong = sample();
        wrong.parent_cert_sha256 = fingerprint(b"other");
        assert!(Invite::decode(&wrong.encode(), Utc::now()).unwrap_err().to_string().contains("指纹"));
        let mut not_child = sample();
        not_child.division = DivisionCode::parse("510621").unwrap();
        assert!(Invite::decode(&not_child.encode(), Utc::now()).is_err());
    }
}
