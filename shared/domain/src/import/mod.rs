//! Import and export of whole lists as files (CSV spreadsheets and Excel workbooks as offices
//! keep them, and JSON).
//!
//! Owns `parse_items` (bytes of a file → items, or every bad row at once) and `items_to_csv` /
//! `items_to_xlsx` / `items_to_json` (items → file). It must not do I/O: it takes bytes and returns values;
//! reading the file, the upload or the clock is the caller's business. Item rules are not
//! re-implemented here: every batch goes through `list::validate_rows`.
//!
//! Import is all-or-nothing: if any row is bad, no item is returned, and the error lists every
//! problem with its row number as the user sees it (the spreadsheet row for CSV and workbooks,
//! whose errors also name the worksheet; the 1-based position in the array for JSON).

mod catalogue_csv;
mod cells;
mod faithful;
mod grant_csv;
mod json;
mod sheet;
#[cfg(test)]
mod tests;
mod workbook;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::item::{Field, PowerItem};
use crate::list::{RowError, RowWarning, validate_rows};

pub use catalogue_csv::{parse_catalogue_csv, parse_catalogue_workbook};
pub use faithful::sheet_faithful_errors;
pub use grant_csv::{parse_grant_csv, parse_grant_sheet, parse_grant_workbook};
pub use json::items_to_json;
pub use sheet::{escape_formula, items_to_csv};
pub use workbook::{ITEMS_SHEET, XlsxError, items_to_xlsx, table_to_xlsx};

/// The file formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportFormat {
    Csv,
    Json,
    /// Excel 2007 and later (.xlsx).
    Xlsx,
    /// Excel 97–2003 (.xls); import only.
    Xls,
}

impl ImportFormat {
    /// The format named by a file's extension (`.csv`, `.json`, `.xlsx`, `.xls`, any case), if any.
    pub fn from_file_name(name: &str) -> Option<ImportFormat> {
        let (_, ext) = name.rsplit_once('.')?;
        if ext.contains(['/', '\\']) {
            return None;
        }
        ext.parse().ok()
    }

    /// Lower-case name, as in file extensions and the `--format` option.
    pub fn key(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Json => "json",
            ImportFormat::Xlsx => "xlsx",
            ImportFormat::Xls => "xls",
        }
    }

    /// An Excel workbook (binary), as opposed to a text format.
    pub fn is_workbook(self) -> bool {
        matches!(self, ImportFormat::Xlsx | ImportFormat::Xls)
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The text names no import format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知文件格式 “{0}”，应为 csv、xlsx、xls 或 json / unknown format, expected csv, xlsx, xls or json")]
pub struct UnknownFormat(pub String);

impl FromStr for ImportFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ImportFormat::Csv),
            "json" => Ok(ImportFormat::Json),
            "xlsx" => Ok(ImportFormat::Xlsx),
            "xls" => Ok(ImportFormat::Xls),
            _ => Err(UnknownFormat(s.trim().to_string())),
        }
    }
}

/// The items of a file that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedBatch {
    pub items: Vec<PowerItem>,
    /// The worksheet the items were read from, for a workbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Row number where data starts: 2 for a CSV with its header on row 1, 1 for JSON.
    pub first_row: usize,
    /// Row number of each item (`rows[i]` is the row of `items[i]`); consecutive from
    /// `first_row` unless the file had blank lines.
    pub rows: Vec<usize>,
    /// Warnings about accepted rows (e.g. a province's legacy code shape).
    pub warnings: Vec<RowWarning>,
}

/// Why a file was refused: every bad row, sorted by row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(f, "导入失败，共 {n} 处错误，未导入任何事项 / import refused, {n} errors, nothing imported")?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

impl ImportError {
    /// The same errors, each naming the worksheet its row is on.
    fn in_sheet(self, sheet: &str) -> ImportError {
        ImportError { errors: self.errors.into_iter().map(|e| e.in_sheet(sheet)).collect() }
    }
}

/// Reads the items of a file. All-or-nothing: returns every item with the warnings, or every
/// problem of every row (unreadable cells, wrong column counts, item rules, duplicate codes).
/// A workbook (.xlsx or .xls, told apart by content) is read from its first worksheet with a
/// recognised header, by the same rules as a CSV.
pub fn parse_items(format: ImportFormat, bytes: &[u8]) -> Result<ParsedBatch, ImportError> {
    if format.is_workbook() {
        let book = workbook::records(bytes)?;
        let read = sheet::read_records(book.records, None);
        return check(read)
            .map(|batch| ParsedBatch { sheet: Some(book.sheet.clone()), ..batch })
            .map_err(|e| e.in_sheet(&book.sheet));
    }
    let text = decode(bytes).map_err(|e| ImportError { errors: vec![e] })?;
    if text.trim().is_empty() {
        return Err(ImportError { errors: vec![no_items(1)] });
    }
    check(match format {
        ImportFormat::Json => json::read(text),
        _ => sheet::read(text),
    })
}

/// The batch of what a reader read, once every item passed the item rules; else every error.
fn check(read: Read) -> Result<ParsedBatch, ImportError> {
    let mut errors = read.errors;
    if read.items.is_empty() && errors.is_empty() {
        errors.push(no_items(read.first_row.saturating_sub(1).max(1)));
    }
    let (rows, items): (Vec<usize>, Vec<PowerItem>) = read.items.into_iter().unzip();
    let warnings = match validate_rows(&items, &rows) {
        Ok(warnings) => warnings,
        Err(es) => {
            errors.extend(es);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.row, e.field.map_or(0, |f| 1 + field_order(f))));
        let errors = errors
            .into_iter()
            .map(|e| {
                let column = e.field.and_then(|f| read.columns.iter().find(|(g, _)| *g == f)).map_or(0, |(_, i)| *i);
                e.at_column(column)
            })
            .collect();
        return Err(ImportError { errors });
    }
    Ok(ParsedBatch { items, sheet: None, first_row: read.first_row, rows, warnings })
}

/// What a format reader returns: items with their rows (including rows that had cell errors,
/// with neutral placeholders, so item rules and duplicates are still checked), and errors.
struct Read {
    items: Vec<(usize, PowerItem)>,
    first_row: usize,
    errors: Vec<RowError>,
    /// The 1-based spreadsheet column of each element (empty for JSON).
    columns: Vec<(Field, usize)>,
}

/// Every field, in the canonical column order of exported spreadsheets.
const FIELDS: [Field; 16] = [
    Field::Code,
    Field::Name,
    Field::Category,
    Field::Basis,
    Field::ImplementingBody,
    Field::ImplementingBodyCode,
    Field::Responsibilities,
    Field::Accountability,
    Field::AccountabilityBasis,
    Field::Supervision,
    Field::Remedies,
    Field::LegalDays,
    Field::PromisedDays,
    Field::Flow,
    Field::RiskPoints,
    Field::Status,
];

fn field_order(field: Field) -> usize {
    FIELDS.iter().position(|&f| f == field).unwrap_or(FIELDS.len())
}

fn row_error(row: usize, field: Option<Field>, message: impl Into<String>) -> RowError {
    RowError::new(row, field, message)
}

fn no_items(row: usize) -> RowError {
    row_error(row, None, "文件中没有事项 / no items in file")
}

const BOM: &str = "\u{feff}";

/// The text of a file: UTF-8 without its byte-order mark, or an error on the line of the first
/// invalid byte.
pub(super) fn decode(bytes: &[u8]) -> Result<&str, RowError> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        row_error(
            line,
            None,
            "文件不是 UTF-8 编码（可能是 GBK/GB18030），请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后重试 \
             / file is not UTF-8; in Excel use Save As \"CSV UTF-8 (Comma delimited)\"",
        )
    })
}
