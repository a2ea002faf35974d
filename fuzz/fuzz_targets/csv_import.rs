//! Arbitrary bytes as the CSV sheets a node imports: a list (`parse_items`, also as JSON), a
//! catalogue change sheet and a grant sheet. The first byte picks the reader. Never panics; an
//! accepted list has one row number per item; a list accepted as JSON holds only items a
//! spreadsheet carries unchanged (`sheet_faithful_errors` is empty); and written back as CSV, a
//! list of such items reads as the same items (`status_reason` has no column). A CSV cell may
//! hold what JSON may not (a `《` inside a law's name, say), so for CSV input the round trip is
//! asserted only when every item is faithful.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quanze_domain::import::{
    ImportFormat, items_to_csv, parse_catalogue_csv, parse_grant_sheet, parse_items, sheet_faithful_errors,
};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 4 {
        0 | 1 => {
            let format = if which % 4 == 0 { ImportFormat::Csv } else { ImportFormat::Json };
            if let Ok(batch) = parse_items(format, body) {
                assert_eq!(batch.items.len(), batch.rows.len());
                assert!(!batch.items.is_empty());
                let faithful = batch.items.iter().all(|item| sheet_faithful_errors(item).is_empty());
                if format == ImportFormat::Json {
                    assert!(faithful, "a JSON import accepted an item a sheet cannot carry");
                }
                let again = parse_items(ImportFormat::Csv, items_to_csv(&batch.items).as_bytes())
                    .expect("a list written as CSV reads back");
                if faithful {
                    let mut again = again.items;
                    for (back, item) in again.iter_mut().zip(&batch.items) {
                        back.status_reason.clone_from(&item.status_reason);
                    }
                    assert_eq!(again, batch.items, "CSV round trip");
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
