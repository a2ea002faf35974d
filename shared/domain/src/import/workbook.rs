//! Excel workbooks (.xlsx and .xls): a worksheet read into the numbered records the sheet
//! readers take, and items or any table written as a styled .xlsx.
//!
//! Owns the choice of worksheet, the conversion of each cell to the text a person sees in Excel
//! (whole numbers without `.0`, dates as YYYY-MM-DD) and the styling of written workbooks. It
//! must not know header or cell rules: those stay in `sheet`, `catalogue_csv` and `grant_csv`,
//! which get the same `(row, record)` pairs a CSV gives. Pure: bytes in, values or bytes out;
//! calamine reads from a `Cursor` and rust_xlsxwriter writes to a buffer, never to files.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use csv::StringRecord;
use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use super::cells::{Column, column_for};
use super::sheet::{escape_formula, is_title, row_cells};
use super::{FIELDS, ImportError, row_error};
use crate::item::{Field, PowerItem};

/// One worksheet of a workbook as numbered records: rows numbered as Excel shows them (1-based,
/// blank rows counted and left out), cells from column A on.
pub(super) struct Book {
    pub(super) sheet: String,
    pub(super) records: Vec<(usize, StringRecord)>,
}

/// The worksheet to import: the first whose header (below an optional title row) names an item
/// column such as 事项编码, else the first that is not empty.
pub(super) fn records(bytes: &[u8]) -> Result<Book, ImportError> {
    // calamine is not expected to panic on a corrupt file, but an upload must never take the
    // server down with it.
    let sheets = catch_unwind(AssertUnwindSafe(|| read_sheets(bytes)))
        .unwrap_or_else(|_| Err("internal reader error".to_string()))
        .map_err(|e| {
            let message = format!(
                "无法读取 Excel 工作簿（文件已损坏，或不是 .xlsx/.xls 文件）：{e} / unreadable Excel workbook: {e}"
            );
            ImportError { errors: vec![row_error(1, None, message)] }
        })?;
    let recognised = |book: &&Book| {
        let header = match book.records.as_slice() {
            [title, header, ..] if is_title(&title.1) => header,
            [header, ..] => header,
            [] => return false,
        };
        header.1.iter().any(|cell| matches!(column_for(cell), Some(Column::Field(_))))
    };
    let chosen = sheets
        .iter()
        .position(|b| recognised(&b))
        .or_else(|| sheets.iter().position(|b| !b.records.is_empty()))
        .unwrap_or(0);
    Ok(sheets.into_iter().nth(chosen).unwrap_or(Book { sheet: String::new(), records: Vec::new() }))
}

/// Every worksheet of the workbook, in order (.xlsx, .xls, also .xlsb and .ods: calamine tells
/// them apart by their bytes, not by the name the user gave the file).
fn read_sheets(bytes: &[u8]) -> Result<Vec<Book>, String> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut books = Vec::new();
    for sheet in workbook.sheet_names() {
        let range = workbook.worksheet_range(&sheet).map_err(|e| format!("{sheet}: {e}"))?;
        let mut records = Vec::new();
        if let Some((first_row, first_col)) = range.start() {
            let lead = usize::try_from(first_col).unwrap_or(0);
            for (i, cells) in range.rows().enumerate() {
                let texts: Vec<String> = cells.iter().map(cell_text).collect();
                if texts.iter().all(|t| t.trim().is_empty()) {
                    continue;
                }
                let row = usize::try_from(first_row).unwrap_or(0) + i + 1;
                let record: StringRecord =
                    std::iter::repeat_n("", lead).chain(texts.iter().map(String::as_str)).collect();
                records.push((row, record));
            }
        }
        books.push(Book { sheet, records });
    }
    Ok(books)
}

/// A cell as Excel shows it with its usual formats: `20` not `20.0`, `2024-03-01` for a date,
/// `TRUE`, `#N/A`; an empty cell empty. (Formula cells give the value Excel last computed.)
pub(super) fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => number_text(*x),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{day:02}")
            } else {
                format!("{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(d) => number_text(d.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).replacen('T', " ", 1),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// A number as Excel's General format shows it: whole numbers without a decimal point (codes,
/// day counts), others in their shortest exact form.
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        // Exact: a whole number below 2^53 converts without loss.
        (x as i64).to_string()
    } else {
        x.to_string()
    }
}

/// A workbook could not be written (a cell longer than Excel allows, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("无法生成 Excel 文件：{0} / cannot write the workbook: {0}")]
pub struct XlsxError(pub String);

impl From<rust_xlsxwriter::XlsxError> for XlsxError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        XlsxError(e.to_string())
    }
}

/// Name of the worksheet `items_to_xlsx` writes.
pub const ITEMS_SHEET: &str = "权责清单";

/// Writes items as an .xlsx workbook: one worksheet with the canonical Chinese headers in the
/// column order of `items_to_csv`; `parse_items(ImportFormat::Xlsx, …)` reads it back with the
/// same round-trip caveats as CSV. Every cell is text (codes keep their leading zeros), and
/// cells that would start a formula are guarded with `'` as in CSV.
pub fn items_to_xlsx(items: &[PowerItem]) -> Result<Vec<u8>, XlsxError> {
    let rows: Vec<Vec<String>> = items.iter().map(|item| row_cells(item).map(escape_formula).to_vec()).collect();
    table_to_xlsx(ITEMS_SHEET, &FIELDS.map(Field::label), &rows)
}

/// Widest column written, in Excel's character units.
const MAX_WIDTH: usize = 60;

/// Writes a table as an .xlsx workbook of one worksheet named `sheet_name` (at most 31
/// characters, none of `[]:*?/\`): a bold, frozen header row with an autofilter, columns as
/// wide as their content (CJK characters counting double, at most 60), every cell text.
/// Cells are written as given: guard peers' data with `escape_formula` first.
pub fn table_to_xlsx(sheet_name: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_num_format("@").set_bold().set_align(FormatAlign::Center);
    let col = |c: usize| u16::try_from(c).map_err(|_| XlsxError(format!("列数过多 / too many columns: {c}")));
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for (c, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col(c)?, *header, &bold)?;
    }
    let last_row = u32::try_from(rows.len()).map_err(|_| XlsxError("行数过多 / too many rows".into()))?;
    for (r, cells) in (1..=last_row).zip(rows) {
        for (c, cell) in cells.iter().enumerate() {
            if c >= widths.len() {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(display_width(cell));
            if !cell.is_empty() {
                sheet.write_string_with_format(r, col(c)?, cell, &text)?;
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        // Two characters of padding for the autofilter button; at least a few characters.
        let width = (width + 2).clamp(6, MAX_WIDTH);
        sheet.set_column_width(col(c)?, width as f64)?;
        sheet.set_column_format(col(c)?, &text)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if let Some(last_col) = widths.len().checked_sub(1) {
        sheet.autofilter(0, 0, last_row, col(last_col)?)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// Width of a cell's widest line in Excel character units: East Asian wide characters count 2.
pub(super) fn display_width(cell: &str) -> usize {
    let wide = |c: char| {
        matches!(c,
            '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}' | '\u{FF00}'..='\u{FF60}' | '\u{FFE0}'..='\u{FFE6}' | '\u{20000}'..='\u{3FFFD}')
    };
    cell.lines().map(|line| line.chars().map(|c| if wide(c) { 2 } else { 1 }).sum()).max().unwrap_or(0)
}

#[cfg(test)]
#[path = "workbook_tests.rs"]
mod tests;
