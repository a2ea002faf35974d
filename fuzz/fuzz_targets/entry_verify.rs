//! Arbitrary bytes as a log entry of 510521, signed by the fixed key so that decoding is reached
//! (nobody forges Ed25519 by fuzzing): `verify_next` after no head and after a fixed head, and
//! `verify_chain` over the input cut in two. Never panics; bytes that verify re-canonicalise to
//! themselves, hash to the entry's hash, and fail once the signature is flipped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quanze_domain::DivisionCode;
use quanze_ledger::{ChainHead, Hash, NodeKey, UnverifiedEntry, VerifyError, to_canonical_vec, verify_chain, verify_next};

fn signed(key: &NodeKey, bytes: &[u8]) -> UnverifiedEntry {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(key.sign_statement(bytes), &mut sig).expect("a signature is 128 hex digits");
    UnverifiedEntry::new(bytes.to_vec(), sig)
}

fuzz_target!(|data: &[u8]| {
    let key = NodeKey::from_seed(&[7u8; 32]);
    let public = key.public();
    let origin = DivisionCode::parse("510521").unwrap();
    let head = ChainHead { seq: 1, hash: Hash::of(b"the entry before") };
    let mut verified = 0;
    for h in [None, Some(&head)] {
        let Ok(entry) = verify_next(&origin, &public, h, signed(&key, data)) else { continue };
        verified += 1;
        assert_eq!(entry.bytes(), data);
        assert_eq!(to_canonical_vec(entry.body()).unwrap(), data, "verified bytes are canonical");
        assert_eq!(entry.hash(), Hash::of(data));
        assert_eq!(entry.seq(), h.map_or(1, |h| h.seq + 1));
        assert!(!entry.ops().is_empty());
        let mut sig = *entry.sig();
        sig[0] ^= 1;
        let forged = verify_next(&origin, &public, h, UnverifiedEntry::new(data.to_vec(), sig));
        assert!(matches!(forged, Err(VerifyError::BadSignature)), "a flipped signature is refused");
    }
    assert!(verified <= 1, "one entry cannot follow both no head and a head");
    // A chain of two: the input cut at its first newline (or in the middle).
    let cut = data.iter().position(|b| *b == b'\n').unwrap_or(data.len() / 2);
    let (first, second) = (&data[..cut], &data[(cut + 1).min(data.len())..]);
    if let Ok(chain) = verify_chain(&origin, &public, [signed(&key, first), signed(&key, second)]) {
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1].body().prev, Some(chain[0].hash()));
    }
});
