//! Canonical JSON (RFC 8785, JCS) for entry bodies: the one function that turns a value into
//! the bytes that are hashed and signed.
//!
//! The value is first turned into a `serde_json::Value`, then written with object members sorted
//! by their UTF-16 code units (RFC 8785 §3.2.3), strings escaped as ECMAScript does (which is
//! what serde_json writes: `\b \t \n \f \r`, other controls as lowercase `\u00xx`, nothing else),
//! and integers in plain decimal. Non-integer numbers, which entries never carry, are handed to
//! the reference canonicaliser (`serde_json_canonicalizer`, pinned) so they follow the ES6 number
//! rules exactly. A property test holds this writer byte-identical to that reference on arbitrary
//! JSON; it exists because the reference re-parses every object key to sort it, which made it the
//! largest cost of signing and verifying.
//!
//! Must not touch: keys, hashes or anything but bytes of one value.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// The RFC 8785 bytes of `value`.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, &value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => serde_json::to_writer(&mut *out, s)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) -> serde_json::Result<()> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    // serde_json's map iterates in UTF-8 byte order, which equals UTF-16 order unless a key
    // holds characters both above U+FFFF and in U+E000..U+FFFF; sort only when needed.
    if map.keys().any(|k| k.chars().any(|c| c > '\u{D7FF}')) {
        members.sort_by(|a, b| utf16_order(a.0, b.0));
    } else if !members.windows(2).all(|w| w[0].0 < w[1].0) {
        members.sort_by(|a, b| a.0.cmp(b.0));
    }
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

fn utf16_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(out: &mut Vec<u8>, n: &Number) -> serde_json::Result<()> {
    // JSON numbers are IEEE doubles (RFC 8785 §3.2.2.3): integers up to 2^53 print as plain
    // decimals; anything else takes the reference's double formatting.
    const EXACT: u64 = 1 << 53;
    if let Some(u) = n.as_u64().filter(|u| *u <= EXACT) {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        out.extend_from_slice(i.to_string().as_bytes());
    } else {
        serde_json_canonicalizer::to_writer(n, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::to_canonical_vec;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e300f64..1e300).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\/\\x7f\u{e000}-\u{ffff}\u{10000}-\u{10ffff}a-z]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    "[\\x00-\\x1f\"a-z\u{80}-\u{ff}\u{e000}-\u{ffff}\u{10000}-\u{10ffff}]{0,6}",
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Byte-identical to the reference canonicaliser on arbitrary JSON, including keys whose
        /// UTF-8 and UTF-16 orders differ, control characters and non-integer numbers.
        #[test]
        fn same_bytes_as_the_reference_canonicaliser(value in any_json()) {
            let ours = to_canonical_vec(&value).unwrap();
            let reference = serde_json_canonicalizer::to_vec(&value).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(reference).unwrap());
        }
    }

    #[test]
    fn utf16_order_differs_from_utf8_order_where_rfc_8785_says() {
        // In UTF-16 the emoji is the surrogate pair D83D DE00, which sorts before U+FB33; in
        // UTF-8 it sorts after. RFC 8785 §3.2.3 orders by UTF-16.
        let v: Value = serde_json::from_str(r#"{"\ufb33":1,"\ud83d\ude00":2,"\u20ac":3}"#).unwrap();
        let bytes = to_canonical_vec(&v).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "{\"\u{20ac}\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}");
        assert_eq!(to_canonical_vec(&v).unwrap(), serde_json_canonicalizer::to_vec(&v).unwrap());
    }
}
