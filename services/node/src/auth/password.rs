//! Passwords and random tokens: argon2id hashing (PHC strings, the crate's default parameters),
//! the password policy, and the session / API tokens with the SHA-256 the database keeps.
//!
//! Owns only these computations. Must not touch the store, the log or a request; hashing runs
//! on the blocking pool, a few at a time, so a burst of logins cannot stall the node.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes (hashing cost is bounded).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashings at once (each takes ~19 MiB and tens of milliseconds of one core).
static HASHING: Semaphore = Semaphore::const_new(2);

/// Why a password is refused, in the API's bilingual form.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "密码至少 {MIN_PASSWORD_CHARS} 个字符（现为 {chars} 个）/ the password must have at least {MIN_PASSWORD_CHARS} \
             characters ({chars} given)"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("密码过长 / the password is longer than {MAX_PASSWORD_BYTES} bytes"));
    }
    Ok(())
}

/// An argon2id PHC string of `password` with a fresh random salt.
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("无法计算密码散列 / cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `phc`. With `None` (an unknown login) a hash of a
/// random password is checked instead, so the answer takes about as long either way.
pub async fn verify(password: &str, phc: Option<String>) -> bool {
    let password = password.to_owned();
    let Ok(_permit) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        let phc = match phc {
            Some(p) => p,
            None => match decoy() {
                Some(d) => d.to_string(),
                None => return false,
            },
        };
        let Ok(parsed) = PasswordHash::new(&phc) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, made once per process, for unknown logins.
fn decoy() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY.get_or_init(|| random_hex().ok().and_then(|p| hash_now(&p).ok())).as_deref()
}

/// 32 random bytes from the OS, hex: a session or API token.
pub fn random_hex() -> anyhow::Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("系统随机数源不可用 / OS random failed: {e}"))?;
    Ok(hex::encode(raw))
}

/// SHA-256 (hex) of a token: what the database keeps instead of the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let phc = hash("正确的密码 correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("正确的密码 correct horse", Some(phc.clone())).await);
        assert!(!verify("正确的密码 correct hors", Some(phc)).await);
        assert!(!verify("anything at all", None).await, "an unknown login never verifies");
        assert!(!verify("anything at all", Some("not a phc string".into())).await);
    }

    #[test]
    fn the_policy_counts_characters() {
        assert!(check_policy("123456789").unwrap_err().contains("至少 10"));
        assert!(check_policy("1234567890").is_ok());
        assert!(check_policy("十个汉字的密码一二三").is_ok(), "characters, not bytes");
        assert!(check_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn tokens_are_random_and_only_their_digest_is_kept() {
        let (a, b) = (random_hex().unwrap(), random_hex().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), a);
    }
}
