//! Arbitrary bytes (and, from the seed corpus, bytes mutated from real small workbooks the
//! project wrote) as the .xlsx/.xls files a node imports: a list, a catalogue change sheet and a
//! grant sheet, each read from the same bytes. Never panics; an accepted list has one row
//! number per item and names its worksheet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quanze_domain::import::{ImportFormat, parse_catalogue_workbook, parse_grant_workbook, parse_items};

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = parse_items(ImportFormat::Xlsx, data) {
        assert_eq!(batch.items.len(), batch.rows.len());
        assert!(batch.sheet.is_some(), "a workbook's items name their worksheet");
    }
    let _ = parse_items(ImportFormat::Xls, data);
    let _ = parse_catalogue_workbook(data);
    let _ = parse_grant_workbook(data);
});
