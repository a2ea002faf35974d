//! Ledger tests: golden vectors pin the canonical bytes and hashes; properties show that any
//! flipped byte, gap, duplicate or wrong `prev` is refused.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use quanze_domain::{Category, Citation, DivisionCode, ItemPatch, Op, PowerItem, TimeLimit};

use crate::*;

fn origin() -> DivisionCode {
    DivisionCode::parse("510521").unwrap()
}

fn key() -> NodeKey {
    NodeKey::from_seed(&[7u8; 32])
}

fn item(code: &str, name: &str) -> PowerItem {
    PowerItem {
        code: code.into(),
        name: name.into(),
        category: Category::Licensing,
        basis: vec![Citation { law: "中华人民共和国食品安全法".into(), article: "第三十五条".into() }],
        implementing_body: "泸县市场监督管理局".into(),
        implementing_body_code: None,
        responsibilities: vec![],
        accountability: vec![],
        accountability_basis: vec![],
        supervision: vec![],
        remedies: vec!["行政复议".into()],
        time_limit: TimeLimit { legal_days: Some(20), promised_days: Some(10) },
        flow: vec![],
        risk_points: vec![],
        status: Default::default(),
        status_reason: String::new(),
    }
}

fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_763_856_000 + secs, 0).unwrap()
}

/// A chain of `n` entries by the fixed key.
fn chain(n: usize) -> Vec<VerifiedEntry> {
    let mut out: Vec<VerifiedEntry> = Vec::new();
    for i in 0..n {
        let head = out.last().map(VerifiedEntry::head);
        let op = Op::add(item(&format!("XK{:05}000", i + 1), "食品经营许可"));
        out.push(sign_entry(&key(), &origin(), head.as_ref(), at(i as i64), vec![op]).unwrap());
    }
    out
}

fn unverified(e: &VerifiedEntry) -> UnverifiedEntry {
    UnverifiedEntry::new(e.bytes().to_vec(), *e.sig())
}

const GOLDEN_BYTES: &str = r#"{"at":"2025-11-23T00:00:00.000Z","op":[{"item":{"basis":[{"article":"第三十五条","law":"中华人民共和国食品安全法"}],"category":"licensing","code":"XK00001000","implementing_body":"泸县市场监督管理局","name":"食品经营许可","remedies":["行政复议"],"status":"active","time_limit":{"legal_days":20,"promised_days":10}},"type":"item.add"}],"origin":"510521","seq":1,"v":1}"#;
const GOLDEN_HASH: &str = "9b2dd8dddd1241cbfba8902ad96f252e1a9df5ad28640731da771a299574cbd9";
const GOLDEN_SIG: &str = "809398f12d32120abd0a85a92a0ee563533747173f47e2dae3a4ded390a9ba3570eabf49b8bee881fdee82287c2c46ff0aae1b43ad22363047303990e8d1740e";
const GOLDEN_PUBLIC: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";

#[test]
fn golden_vector_pins_bytes_hash_and_signature() {
    let e = &chain(1)[0];
    let text = std::str::from_utf8(e.bytes()).unwrap();
    assert_eq!(text, GOLDEN_BYTES);
    assert_eq!(e.hash().to_hex(), GOLDEN_HASH);
    assert_eq!(hex::encode(e.sig()), GOLDEN_SIG);
    assert_eq!(key().public().to_hex(), GOLDEN_PUBLIC);
}

#[test]
fn golden_vector_verifies_from_its_stored_form() {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(GOLDEN_SIG, &mut sig).unwrap();
    let public: PublicKey = GOLDEN_PUBLIC.parse().unwrap();
    let e = verify_next(&origin(), &public, None, UnverifiedEntry::new(GOLDEN_BYTES.as_bytes().to_vec(), sig)).unwrap();
    assert_eq!(e.hash().to_hex(), GOLDEN_HASH);
    assert_eq!(e.ops().len(), 1);
}

/// RFC 8785 §3.2.2 / appendix examples, as the canonicaliser must write them.
#[test]
fn canonicaliser_passes_rfc_8785_vectors() {
    let input = r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#;
    let value: serde_json::Value = serde_json::from_str(input).unwrap();
    let out = serde_json_canonicalizer::to_string(&value).unwrap();
    assert_eq!(
        out,
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
    );
    let sorted: serde_json::Value = serde_json::from_str(r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
        &serde_json_canonicalizer::to_string(&sorted).unwrap(),
    )
    .unwrap()
    .values()
    .map(|v| v.as_str().unwrap().to_string())
    .collect();
    assert_eq!(keys.len(), 7);
    let canonical = serde_json_canonicalizer::to_string(&sorted).unwrap();
    let order = ["Carriage Return", "One", "Control", "Latin Small", "Euro Sign", "Emoji", "Hebrew"];
    let positions: Vec<usize> = order.iter().map(|k| canonical.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{canonical}");
}

#[test]
fn a_chain_verifies_and_heads_link() {
    let entries = chain(5);
    let verified = verify_chain(&origin(), &key().public(), entries.iter().map(unverified)).unwrap();
    assert_eq!(verified, entries);
    assert_eq!(verified[4].body().prev, Some(verified[3].hash()));
}

#[test]
fn a_gap_is_refused() {
    let entries = chain(3);
    let err = verify_chain(&origin(), &key().public(), [unverified(&entries[0]), unverified(&entries[2])]).unwrap_err();
    assert_eq!(err, (2, VerifyError::Gap { expected: 2, found: 3 }));
}

#[test]
fn a_duplicate_seq_is_refused() {
    let entries = chain(2);
    let err = verify_next(&origin(), &key().public(), Some(&entries[1].head()), unverified(&entries[1])).unwrap_err();
    assert_eq!(err, VerifyError::Duplicate { found: 2, head: 2 });
}

#[test]
fn a_wrong_prev_is_refused() {
    let entries = chain(2);
    let forged_head = ChainHead { seq: 1, hash: Hash::of(b"another history") };
    let err = verify_next(&origin(), &key().public(), Some(&forged_head), unverified(&entries[1])).unwrap_err();
    assert_eq!(err, VerifyError::WrongPrev { seq: 2 });
}

#[test]
fn another_key_or_origin_is_refused() {
    let e = &chain(1)[0];
    let other = NodeKey::from_seed(&[8u8; 32]).public();
    assert_eq!(verify_next(&origin(), &other, None, unverified(e)).unwrap_err(), VerifyError::BadSignature);
    let city = DivisionCode::parse("510500").unwrap();
    assert!(matches!(verify_next(&city, &key().public(), None, unverified(e)), Err(VerifyError::WrongOrigin { .. })));
}

#[test]
fn non_canonical_bytes_are_refused_even_when_signed() {
    let e = &chain(1)[0];
    let pretty = serde_json::to_vec_pretty(e.body()).unwrap();
    let sig = {
        // Signed by the right key: the refusal is about the byte form, not the signature.
        let k = key();
        k.sign(&pretty).to_bytes()
    };
    assert_eq!(
        verify_next(&origin(), &key().public(), None, UnverifiedEntry::new(pretty, sig)).unwrap_err(),
        VerifyError::NotCanonical
    );
}

#[test]
fn an_entry_without_ops_cannot_be_signed() {
    assert!(matches!(sign_entry(&key(), &origin(), None, at(0), vec![]), Err(LedgerError::NoOps)));
}

#[test]
fn wire_form_round_trips_the_exact_bytes() {
    let e = &chain(1)[0];
    let wire = e.to_wire();
    let json = serde_json::to_string(&wire).unwrap();
    let back: SignedEntryWire = serde_json::from_str(&json).unwrap();
    let v = verify_next(&origin(), &key().public(), None, back.into_unverified().unwrap()).unwrap();
    assert_eq!(&v, e);
}

#[test]
fn batches_keep_their_order() {
    let ops = vec![
        Op::add(item("XK00035000", "食品经营许可")),
        Op::update("XK00035000", ItemPatch { name: Some("食品经营许可（延续）".into()), ..Default::default() }),
        Op::cancel("XK00035000", "上级决定取消"),
    ];
    let e = sign_entry(&key(), &origin(), None, at(0), ops.clone()).unwrap();
    let v = verify_next(&origin(), &key().public(), None, unverified(&e)).unwrap();
    assert_eq!(v.ops(), ops.as_slice());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn flipping_any_byte_of_body_or_signature_fails(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let e = &chain(1)[0];
        let mut bytes = e.bytes().to_vec();
        let mut sig = *e.sig();
        let total = bytes.len() + sig.len();
        let i = pos.index(total);
        if i < bytes.len() { bytes[i] ^= 1 << bit } else { sig[i - bytes.len()] ^= 1 << bit }
        prop_assert!(verify_next(&origin(), &key().public(), None, UnverifiedEntry::new(bytes, sig)).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_verify_or_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), sig in prop::collection::vec(any::<u8>(), 64)) {
        let sig: [u8; 64] = sig.try_into().unwrap();
        prop_assert!(verify_next(&origin(), &key().public(), None, UnverifiedEntry::new(bytes, sig)).is_err());
    }

    #[test]
    fn dropping_or_swapping_entries_breaks_the_chain(n in 2usize..8, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let entries = chain(n);
        let (i, j) = (a.index(n), b.index(n));
        let mut list: Vec<UnverifiedEntry> = entries.iter().map(unverified).collect();
        if i == j {
            list.remove(i);
            if i == n - 1 { return Ok(()); } // dropping the last entry leaves a valid shorter chain
        } else {
            list.swap(i, j);
        }
        prop_assert!(verify_chain(&origin(), &key().public(), list).is_err());
    }
}

/// A real-sized entry (the whole sample county list, every element filled) has the same bytes
/// under the fast writer and the reference canonicaliser.
#[test]
fn sample_list_entry_matches_the_reference_canonicaliser() {
    let ops: Vec<Op> = quanze_domain::sample::sample_list("泸县").into_iter().map(Op::add).collect();
    let e = sign_entry(&key(), &origin(), None, at(0), ops).unwrap();
    let body: EntryBody = serde_json::from_slice(e.bytes()).unwrap();
    assert_eq!(e.bytes(), serde_json_canonicalizer::to_vec(&body).unwrap().as_slice());
}
