//! Arbitrary bytes as the CSV sheets a node imports: a list (`parse_items`, also as JSON), a
//! catalogue change sheet and a grant sheet. The first byte picks the reader. Never panics; an
//! accepted list has one row number per item, and written back as CSV it reads as the same
//! items — for items whose texts a sheet cell can carry as they are. A cell holds several
//! elements separated by `；`, `;` or a line break and trims them, and a basis is written
//! `《law》article`; an element that itself holds a separator, `《`/`》` or outer spaces (which
//! only JSON or the API can give it) is not written losslessly to a sheet, so the round trip
//! is not asserted for such items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quanze_domain::PowerItem;
use quanze_domain::import::{ImportFormat, items_to_csv, parse_catalogue_csv, parse_grant_sheet, parse_items};
use serde_json::Value;

/// Whether every text of `item` survives a sheet cell unchanged.
fn sheet_safe(item: &PowerItem) -> bool {
    fn texts_ok(value: &Value) -> bool {
        match value {
            Value::String(s) => {
                s.trim() == s
                    && !s.is_empty()
                    && !s.chars().any(|c| c.is_control() || matches!(c, '；' | ';' | '《' | '》'))
            }
            Value::Array(items) => items.iter().all(texts_ok),
            Value::Object(fields) => fields.values().all(texts_ok),
            _ => true,
        }
    }
    let mut value = serde_json::to_value(item).expect("an item serialises");
    // An empty reason or article is written as nothing and read back as nothing.
    if let Value::Object(fields) = &mut value {
        fields.retain(|_, v| v != "");
        if let Some(Value::Array(basis)) = fields.get_mut("basis") {
            for citation in basis.iter_mut() {
                if let Value::Object(c) = citation {
                    c.retain(|_, v| v != "");
                }
            }
        }
    }
    texts_ok(&value)
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 4 {
        0 | 1 => {
            let format = if which % 4 == 0 { ImportFormat::Csv } else { ImportFormat::Json };
            if let Ok(batch) = parse_items(format, body) {
                assert_eq!(batch.items.len(), batch.rows.len());
                assert!(!batch.items.is_empty());
                let again = parse_items(ImportFormat::Csv, items_to_csv(&batch.items).as_bytes())
                    .expect("a list written as CSV reads back");
                if batch.items.iter().all(sheet_safe) {
                    assert_eq!(again.items, batch.items, "CSV round trip");
                } else {
                    assert_eq!(again.items.len(), batch.items.len(), "CSV round trip keeps every item");
                }
            }
        }
        2 => {
            let _ = parse_catalogue_csv(body);
        }
        _ => {
            let _ = parse_grant_sheet(ImportFormat::Csv, body);
        }
    }
});
