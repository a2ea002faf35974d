//! Grant batches from a spreadsheet (赋权事项目录): the CSV a city office keeps in Excel, one
//! granted item a row, into the `GrantItem`s of a batch.
//!
//! Owns `parse_grant_csv` (and `parse_grant_workbook`, the same sheet as .xlsx/.xls) and the
//! columns of a grant sheet: 事项编码, 赋权部门 and 承接部门 (required), 审批类别 and 需报省办结 (optional), each under the names offices give them.
//! 序号, 备注, 事项名称, 职权类别 and the other item columns are informational and ignored.
//! Whether the codes are in the grantor's list and the kinds fit their categories is
//! `grants::plan_issue`'s business, not this reader's.
//!
//! Pure: text in, items or every bad row out; no I/O. All-or-nothing like `parse_items`: rows are
//! numbered as a spreadsheet shows them (blank lines count, a cell spanning several lines does
//! not, a lone title row above the header is skipped).

use std::collections::BTreeMap;

use csv::StringRecord;

use super::cells::{Column, column_for};
use super::sheet::numbered_records;
use super::{BOM, ImportError, row_error, workbook};
use crate::codes::ItemCode;
use crate::grants::{GrantItem, GrantKind};
use crate::item::Field;
use crate::list::RowError;

/// Reads a grant sheet: one `GrantItem` a row, in order. Returns every problem of every row at
/// once, each with its spreadsheet row number and column, as `parse_items` does: the code column
/// as `Field::Code`, the other columns named at the start of the message (`承接部门：…`).
pub fn parse_grant_csv(text: &str) -> Result<Vec<GrantItem>, ImportError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let (records, read_error) = numbered_records(text);
    parse_records(records, read_error)
}

/// Reads a grant sheet kept as an Excel workbook (.xlsx or .xls): the first worksheet with a
/// recognised header, with the same rules as [`parse_grant_csv`]; every error names the
/// worksheet.
pub fn parse_grant_workbook(bytes: &[u8]) -> Result<Vec<GrantItem>, ImportError> {
    let book = workbook::records(bytes)?;
    parse_records(book.records, None).map_err(|e| e.in_sheet(&book.sheet))
}

/// The granted items of a sheet in `format`: a CSV (UTF-8, with or without BOM) or a workbook.
/// JSON is no sheet: a JSON batch carries its header fields and goes to the API as it is.
pub fn parse_grant_sheet(format: super::ImportFormat, bytes: &[u8]) -> Result<Vec<GrantItem>, ImportError> {
    match format {
        super::ImportFormat::Csv => {
            let text = super::decode(bytes).map_err(|e| ImportError { errors: vec![e] })?;
            parse_grant_csv(text)
        }
        super::ImportFormat::Json => Err(ImportError {
            errors: vec![row_error(
                1,
                None,
                "赋权事项表应为 .xlsx、.xls 或 .csv / a grant sheet is an .xlsx, .xls or .csv file",
            )],
        }),
        _ => parse_grant_workbook(bytes),
    }
}

fn parse_records(
    mut records: Vec<(usize, StringRecord)>,
    read_error: Option<RowError>,
) -> Result<Vec<GrantItem>, ImportError> {
    if records.len() > 1 && is_title(&records[0].1) {
        records.remove(0);
    }
    let mut records = records.into_iter();
    let Some((header_row, header)) = records.next() else {
        let error = read_error.unwrap_or_else(|| no_items(1));
        return Err(ImportError { errors: vec![error] });
    };
    let sheet = match Sheet::read(header_row, &header) {
        Ok(sheet) => sheet,
        Err(errors) => return Err(refuse(errors)),
    };
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut first_rows: BTreeMap<String, usize> = BTreeMap::new();
    for (row, record) in records {
        let Some(item) = sheet.row(row, &record, &mut errors) else { continue };
        if !item.code.is_empty() {
            match first_rows.get(&item.code) {
                Some(&first) => {
                    let message =
                        format!("事项编码 “{}” 与第 {first} 行重复 / duplicate code, first on row {first}", item.code);
                    errors.push((sheet.col(Col::Code), row_error(row, Some(Field::Code), message)));
                }
                None => {
                    first_rows.insert(item.code.clone(), row);
                }
            }
        }
        items.push(item);
    }
    errors.extend(read_error.map(|e| (0, e)));
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    if items.is_empty() {
        return Err(ImportError { errors: vec![no_items(header_row)] });
    }
    Ok(items)
}

/// The errors sorted by row, then column (0 for the whole row).
fn refuse(mut errors: Vec<(usize, RowError)>) -> ImportError {
    errors.sort_by_key(|(col, e)| (e.row, *col));
    ImportError { errors: errors.into_iter().map(|(col, e)| e.at_column(col)).collect() }
}

fn no_items(row: usize) -> RowError {
    row_error(row, None, "文件中没有赋权事项 / no granted items in file")
}

/// The columns of a grant sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Code,
    Grantor,
    Grantee,
    Kind,
    Provincial,
}

impl Col {
    const ALL: [Col; 5] = [Col::Code, Col::Grantor, Col::Grantee, Col::Kind, Col::Provincial];

    /// Canonical Chinese header, English key and the other headers offices write, in `ALL` order.
    const NAMES: [(&str, &str, &[&str]); 5] = [
        ("事项编码", "code", &["编码", "基本编码", "权力编码", "职权编码", "事项代码"]),
        ("赋权部门", "grantor_dept", &["市直部门", "赋权单位", "赋权机关", "市级部门", "grantor"]),
        ("承接部门", "grantee_dept", &["接权部门", "县承接部门", "承接单位", "接权单位", "grantee"]),
        ("审批类别", "kind", &["事项类别", "审批类型", "审批分类"]),
        ("需报省办结", "provincial", &["报省审批", "需报省审批", "报省办结", "需报省及省级以上部门办结"]),
    ];

    fn label(self) -> &'static str {
        Col::NAMES[self as usize].0
    }

    fn key(self) -> &'static str {
        Col::NAMES[self as usize].1
    }

    fn required(self) -> bool {
        matches!(self, Col::Code | Col::Grantor | Col::Grantee)
    }

    /// What the English part of a message calls the column.
    fn english(self) -> &'static str {
        match self {
            Col::Code => "code",
            Col::Grantor => "granting department",
            Col::Grantee => "receiving department",
            Col::Kind => "approval kind",
            Col::Provincial => "provincial completion",
        }
    }
}

/// What one header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Col(Col),
    /// 序号, 备注 or an item column (事项名称, 职权类别, 设定依据…): read past.
    Info,
    /// An empty header cell: the column must stay empty.
    Blank,
    Unknown,
}

impl Head {
    /// The meaning of a header as offices write it: spaces, a `*` mark or a trailing note in
    /// parentheses allowed (`需报省办结（是/否）`). `类别` means the approval kind only when its
    /// note says so (`类别（审批/非审批）`); alone it is the item's category.
    fn of(header: &str) -> Head {
        let h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
        let h = h.trim_matches(['*', '＊']);
        if h.is_empty() {
            return Head::Blank;
        }
        let (base, note) =
            match h.strip_suffix(['）', ')']).and_then(|inner| inner.rfind(['（', '(']).map(|i| (inner, i))) {
                Some((inner, open)) => (inner[..open].trim_matches(['*', '＊']), &inner[open..]),
                None => (h, ""),
            };
        if base == "类别" && note.contains("审批") {
            return Head::Col(Col::Kind);
        }
        let found = Col::ALL.into_iter().find(|&c| {
            let (label, key, aliases) = Col::NAMES[c as usize];
            base == label || aliases.contains(&base) || base.eq_ignore_ascii_case(key)
        });
        match found {
            Some(col) => Head::Col(col),
            None if base == "备注" => Head::Info,
            None => match column_for(header) {
                Some(Column::Field(_) | Column::Serial) => Head::Info,
                Some(Column::Blank) => Head::Blank,
                None => Head::Unknown,
            },
        }
    }
}

/// The header of a grant sheet.
struct Sheet {
    heads: Vec<Head>,
}

impl Sheet {
    /// The header's columns, or every header problem (unknown, repeated, missing), each with the
    /// column it is about (0 for a missing one).
    fn read(row: usize, header: &StringRecord) -> Result<Sheet, Vec<(usize, RowError)>> {
        let heads: Vec<Head> = header.iter().map(Head::of).collect();
        let mut errors = Vec::new();
        for (i, (head, cell)) in heads.iter().zip(header.iter()).enumerate() {
            let (n, h) = (i + 1, cell.trim());
            match *head {
                Head::Unknown => {
                    let message = format!("未知表头 “{h}”（第 {n} 列） / unknown header “{h}” (column {n})");
                    errors.push((n, row_error(row, None, message)));
                }
                Head::Col(col) => {
                    let first = heads.iter().position(|x| *x == *head).map_or(n, |p| p + 1);
                    if first < n {
                        let label = col.label();
                        let message = format!(
                            "第 {n} 列 “{h}” 与第 {first} 列都表示“{label}” / two columns for the same element"
                        );
                        errors.push((n, row_error(row, field(col), message)));
                    }
                }
                Head::Info | Head::Blank => {}
            }
        }
        for col in Col::ALL.into_iter().filter(|c| c.required() && !heads.contains(&Head::Col(*c))) {
            let (label, key) = (col.label(), col.key());
            let message = format!("缺少必需的列 “{label}” / missing required column {key}");
            errors.push((0, row_error(row, field(col), message)));
        }
        if errors.is_empty() { Ok(Sheet { heads }) } else { Err(errors) }
    }

    /// Sort key of an error about `col`: its 1-based column.
    fn col(&self, col: Col) -> usize {
        self.heads.iter().position(|h| *h == Head::Col(col)).map_or(0, |i| i + 1)
    }

    /// The item of one data row, with the problems of its cells added to `errors` (a bad cell is
    /// left blank, so a good code is still checked for duplicates); `None` when the row has the
    /// wrong number of cells.
    fn row(&self, row: usize, record: &StringRecord, errors: &mut Vec<(usize, RowError)>) -> Option<GrantItem> {
        if record.len() != self.heads.len() {
            let (x, y) = (record.len(), self.heads.len());
            let message = format!("列数为 {x}，表头为 {y} 列 / row has {x} columns, header has {y}");
            errors.push((0, row_error(row, None, message)));
            return None;
        }
        let mut item = GrantItem {
            code: String::new(),
            grantor_dept: String::new(),
            grantee_dept: String::new(),
            kind: None,
            provincial: false,
        };
        for (i, (head, cell)) in self.heads.iter().zip(record.iter()).enumerate() {
            let (n, t) = (i + 1, cell.trim());
            let mut bad = |col: Col, message: String| {
                let message = if col == Col::Code { message } else { format!("{}：{message}", col.label()) };
                errors.push((n, row_error(row, field(col), message)));
            };
            let col = match *head {
                Head::Col(col) => col,
                Head::Blank if !t.is_empty() => {
                    let message = format!("第 {n} 列没有表头，但本行有内容 / column {n} has no header");
                    errors.push((n, row_error(row, None, message)));
                    continue;
                }
                Head::Blank | Head::Info | Head::Unknown => continue,
            };
            if t.is_empty() && col.required() {
                let (label, english) = (col.label(), col.english());
                bad(col, format!("{label}不能为空 / {english} is required"));
                continue;
            }
            match col {
                Col::Code => match ItemCode::parse(t) {
                    Ok(_) => item.code = t.to_string(),
                    Err(e) => bad(col, e.to_string()),
                },
                Col::Grantor => item.grantor_dept = t.to_string(),
                Col::Grantee => item.grantee_dept = t.to_string(),
                Col::Kind if t.is_empty() => {}
                Col::Kind => match GrantKind::parse(t) {
                    Some(kind) => item.kind = Some(kind),
                    None => bad(
                        col,
                        format!(
                            "未知审批类别 “{t}”，应为审批或非审批 / unknown kind, expected approval or non_approval"
                        ),
                    ),
                },
                Col::Provincial => match yes_no(t) {
                    Some(yes) => item.provincial = yes,
                    None => bad(col, format!("“{t}” 应为是或否 / expected yes or no")),
                },
            }
        }
        Some(item)
    }
}

/// The element an error about `col` names: the code is an item field, the others are not.
fn field(col: Col) -> Option<Field> {
    (col == Col::Code).then_some(Field::Code)
}

/// 是/否 as offices write it; blank is 否.
fn yes_no(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" => Some(true),
        "否" | "n" | "no" | "false" | "0" | "" => Some(false),
        _ => None,
    }
}

/// A title row: one non-blank cell that is not a column of a grant sheet.
fn is_title(record: &StringRecord) -> bool {
    let mut cells = record.iter().filter(|c| !c.trim().is_empty());
    match (cells.next(), cells.next()) {
        (Some(only), None) => !matches!(Head::of(only), Head::Col(_)),
        _ => false,
    }
}

#[cfg(test)]
#[path = "grant_csv_tests.rs"]
mod tests;
