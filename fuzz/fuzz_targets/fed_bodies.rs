//! The bodies a parent parses from children and operators (`POST /api/v1/fed/push`, `enroll`,
//! `resolve`, `invites`), run through what happens before the store: JSON into the wire shapes,
//! the batch cap, signatures as 128 hex digits, the claimed position, keys and division codes,
//! and every pushed entry through `verify_next` with the fixed key of the child 510521 after no
//! head. The first byte picks the body. Never panics; an entry that verifies is the child's own
//! and sits where it claims.
//!
//! The node's request structs live in the node crate (which this crate does not build: its
//! database and TLS stacks would take most of a short run to compile), so the shapes below
//! repeat theirs field for field from the same domain and ledger types — keep them in step with
//! `services/node/src/federation/wire.rs` and `services/node/src/api/fed.rs`.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use quanze_domain::{DivisionCode, Tier};
use quanze_ledger::{NodeKey, PublicKey, SignedEntryWire, verify_next};
use serde::Deserialize;

/// The node's `MAX_BATCH_ENTRIES`.
const MAX_BATCH_ENTRIES: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    from: DivisionCode,
    entries: Vec<SignedEntryWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollRequest {
    token: String,
    public_key: String,
    #[serde(default)]
    #[allow(dead_code)]
    recover: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    division: String,
    #[serde(default)]
    key: Option<String>,
    #[allow(dead_code)]
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct InviteRequest {
    division: String,
    tier: String,
    name: String,
    #[serde(default)]
    ttl_hours: Option<u32>,
    #[serde(default)]
    url: Option<String>,
}

fn push(body: &[u8]) {
    let Ok(req) = serde_json::from_slice::<PushRequest>(body) else { return };
    if req.entries.len() > MAX_BATCH_ENTRIES {
        return;
    }
    let _ = req.from.parent();
    let child = DivisionCode::parse("510521").unwrap();
    let key = NodeKey::from_seed(&[7u8; 32]).public();
    for wire in req.entries {
        let Some(entry) = wire.into_unverified() else { continue };
        let claimed = entry.claimed_position();
        if let Ok(verified) = verify_next(&child, &key, None, entry) {
            assert_eq!(verified.origin(), &child);
            assert_eq!(verified.seq(), 1);
            let (origin, seq) = claimed.expect("a verified entry has a position");
            assert_eq!((&origin, seq), (&child, 1));
        }
    }
}

fn enroll(body: &[u8]) {
    let Ok(req) = serde_json::from_slice::<EnrollRequest>(body) else { return };
    let _ = req.token.trim().len();
    if let Ok(key) = PublicKey::from_str(&req.public_key) {
        assert_eq!(PublicKey::from_str(&key.to_hex()).unwrap(), key, "a key reads back from its hex");
    }
}

fn resolve(body: &[u8]) {
    let Ok(req) = serde_json::from_slice::<ResolveRequest>(body) else { return };
    if let Ok(division) = DivisionCode::parse(&req.division) {
        let _ = (division.tier(), division.parent());
    }
    if let Some(key) = req.key {
        let _ = PublicKey::from_str(&key);
    }
}

fn invite(body: &[u8]) {
    let Ok(req) = serde_json::from_slice::<InviteRequest>(body) else { return };
    let (Ok(division), Ok(tier)) = (DivisionCode::parse(&req.division), Tier::from_str(&req.tier)) else { return };
    if division.check_tier(tier).is_ok() {
        assert_eq!(division.tier(), tier);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 4 {
        0 => push(body),
        1 => enroll(body),
        2 => resolve(body),
        _ => invite(body),
    }
});
