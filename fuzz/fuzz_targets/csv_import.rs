//! Arbitrary bytes as the CSV sheets a node imports: a list (`parse_items`, also as JSON), a
//! catalogue change sheet and a grant sheet. The first byte picks the reader. Never panics; an
//! accepted list has one row number per item, and written back as CSV it reads as the same items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quanze_domain::import::{ImportFormat, items_to_csv, parse_catalogue_csv, parse_grant_sheet, parse_items};

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
                assert_eq!(again.items, batch.items, "CSV round trip");
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
