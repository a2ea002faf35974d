//! Rules over a whole batch of items (an import or a publication): every row is checked, codes
//! are unique, and all errors are reported together with their row numbers.
//!
//! Owns `RowError` and `validate_batch`. Rows are numbered as the user sees them (the caller
//! says where numbering starts: 2 for a CSV with a header line, 1 for a JSON array).

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::codes::CodeWarning;
use crate::item::{Field, PowerItem};

/// One problem in one row of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The worksheet, for a row of an Excel workbook (none for CSV and JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Row number as the user sees it in the file.
    pub row: usize,
    /// The element, when the problem is about one (none for a malformed row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// The spreadsheet column of the cell (`C`), when the problem is in one cell of a sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    /// The error of a row outside any worksheet (CSV, JSON, a request body).
    pub fn new(row: usize, field: Option<Field>, message: impl Into<String>) -> RowError {
        RowError { sheet: None, row, field, column: None, message: message.into() }
    }

    /// The same error, in the 1-based spreadsheet column `index` (0: no column, unchanged).
    pub fn at_column(self, index: usize) -> RowError {
        if index == 0 || self.column.is_some() {
            return self;
        }
        RowError { column: Some(column_letter(index)), ..self }
    }

    /// The same error, naming the worksheet its row is on.
    pub fn in_sheet(self, sheet: &str) -> RowError {
        RowError { sheet: Some(sheet.to_string()), ..self }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sheet) = &self.sheet {
            write!(f, "工作表 “{sheet}” ")?;
        }
        write!(f, "第 {} 行", self.row)?;
        if let Some(field) = self.field {
            write!(f, " {field}")?;
        }
        if let Some(column) = &self.column {
            write!(f, "（{column} 列）")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The spreadsheet name of a 1-based column: 1 → `A`, 26 → `Z`, 27 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A warning about one row that was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowWarning {
    pub row: usize,
    #[serde(flatten)]
    pub warning: CodeWarning,
}

/// Checks every item of a batch, and that no code appears twice, numbering rows from
/// `first_row`. Returns the warnings, or every error.
pub fn validate_batch(items: &[PowerItem], first_row: usize) -> Result<Vec<RowWarning>, Vec<RowError>> {
    validate_numbered(items.iter().enumerate().map(|(i, item)| (first_row + i, item)))
}

/// Like [`validate_batch`], for a batch whose row numbers are not consecutive (an import that
/// skipped blank lines, or rows that could not be read): `rows[i]` is the row of `items[i]`.
pub fn validate_rows(items: &[PowerItem], rows: &[usize]) -> Result<Vec<RowWarning>, Vec<RowError>> {
    debug_assert_eq!(items.len(), rows.len(), "one row number per item");
    validate_numbered(rows.iter().copied().zip(items))
}

fn validate_numbered<'a>(
    numbered: impl IntoIterator<Item = (usize, &'a PowerItem)>,
) -> Result<Vec<RowWarning>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (row, item) in numbered {
        match item.validate() {
            Ok(ws) => warnings.extend(ws.into_iter().map(|warning| RowWarning { row, warning })),
            Err(es) => errors.extend(es.into_iter().map(|e| RowError::new(row, Some(e.field), e.message))),
        }
        let code = item.code.as_str();
        if code.trim().is_empty() {
            continue;
        }
        if let Some(first) = seen.get(code) {
            errors.push(RowError::new(
                row,
                Some(Field::Code),
                format!("事项编码 “{code}” 与第 {first} 行重复 / duplicate code, first on row {first}"),
            ));
        } else {
            seen.insert(code, row);
        }
    }
    errors.sort_by_key(|e| e.row);
    if errors.is_empty() { Ok(warnings) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::tests::food_licence;

    #[test]
    fn columns_are_named_as_spreadsheets_name_them() {
        let names: Vec<String> = [1, 2, 26, 27, 52, 53, 702, 703].into_iter().map(column_letter).collect();
        assert_eq!(names, ["A", "B", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]);
        assert_eq!(column_letter(0), "");
        let e = RowError::new(3, Some(Field::Name), "不能为空").at_column(2);
        assert_eq!(e.to_string(), "第 3 行 事项名称 (name)（B 列）: 不能为空");
        assert_eq!(e.clone().at_column(5).column.as_deref(), Some("B"), "the first column named stays");
        assert_eq!(RowError::new(3, None, "x").at_column(0).column, None);
    }

    #[test]
    fn duplicates_and_bad_rows_are_all_reported() {
        let good = food_licence();
        let mut other = food_licence();
        other.code = "CF00012000".into();
        other.category = crate::Category::Penalty;
        let mut bad = food_licence();
        bad.code = "QZ00001000".into();
        bad.category = crate::Category::Coercion;
        bad.implementing_body.clear();
        let errs = validate_batch(&[good.clone(), other, good, bad], 2).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].row, errs[0].field), (4, Some(Field::Code)));
        assert!(errs[0].message.contains("第 2 行"));
        assert_eq!((errs[1].row, errs[1].field), (5, Some(Field::ImplementingBody)));
    }

    #[test]
    fn legacy_codes_pass_with_warnings() {
        let mut item = food_licence();
        item.code = "510500-XK-0035".into();
        let warnings = validate_batch(&[item], 1).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].row, 1);
    }

    #[test]
    fn rows_with_gaps_keep_their_numbers() {
        let errs = validate_rows(&[food_licence(), food_licence()], &[2, 7]).unwrap_err();
        assert_eq!((errs[0].row, errs[0].field), (7, Some(Field::Code)));
        assert!(errs[0].message.contains("第 2 行"));
    }
}
