//! CSV spreadsheets: reading rows into items (with spreadsheet row numbers) and writing items as
//! a spreadsheet Excel opens correctly. `read_records` holds the header and cell rules that
//! Excel workbooks (`workbook`) share. Pure: text in, values out; no I/O.

use csv::StringRecord;

use super::cells::{
    Column, REQUIRED, column_for, days_message, format_flow, join_multi, parse_days, parse_flow, split_multi,
};
use super::{BOM, FIELDS, Read, row_error};
use crate::category::Category;
use crate::item::{Citation, Field, ItemStatus, PowerItem, TimeLimit};
use crate::list::RowError;

/// Reads a CSV whose first non-blank row is the header (a lone title cell above it, as many
/// published lists have, is skipped). Rows are numbered as a spreadsheet shows them: blank
/// lines count, a cell spanning several lines does not.
pub(super) fn read(text: &str) -> Read {
    let (records, read_error) = numbered_records(text);
    read_records(records, read_error)
}

/// Reads numbered records (of a CSV, or of a worksheet as `workbook::records` gives them):
/// the header and cell rules every spreadsheet import shares. `read_error` is the problem that
/// stopped reading the file early, if any; it is reported after the rows read before it.
pub(super) fn read_records(mut records: Vec<(usize, StringRecord)>, read_error: Option<RowError>) -> Read {
    if records.len() > 1 && is_title(&records[0].1) {
        records.remove(0);
    }
    let mut records = records.into_iter();
    let Some((header_row, header)) = records.next() else {
        return Read { items: Vec::new(), first_row: 2, errors: read_error.into_iter().collect(), columns: Vec::new() };
    };
    let first_row = header_row + 1;
    let columns = match columns(header_row, &header) {
        Ok(columns) => columns,
        Err(errors) => return Read { items: Vec::new(), first_row, errors, columns: Vec::new() },
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (row, record) in records {
        if record.len() != columns.len() {
            let (x, y) = (record.len(), columns.len());
            errors.push(row_error(
                row,
                None,
                format!("列数为 {x}，表头为 {y} 列 / row has {x} columns, header has {y}"),
            ));
            continue;
        }
        items.push((row, build_item(row, &columns, &record, &mut errors)));
    }
    errors.extend(read_error);
    let columns = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Column::Field(f) => Some((*f, i + 1)),
            _ => None,
        })
        .collect();
    Read { items, first_row, errors, columns }
}

/// The non-blank records with their row numbers, and the error that stopped reading, if any.
pub(super) fn numbered_records(text: &str) -> (Vec<(usize, StringRecord)>, Option<RowError>) {
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = Vec::new();
    let mut row = 0;
    loop {
        let start = usize::try_from(reader.position().byte()).unwrap_or(bytes.len());
        let mut record = StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(false) => return (records, None),
            Ok(true) => {
                row += 1 + blank_lines(bytes, start);
                if record.iter().any(|cell| !cell.trim().is_empty()) {
                    records.push((row, record));
                }
            }
            Err(e) => {
                let message = format!("CSV 格式错误：{e} / malformed CSV");
                return (records, Some(row_error(row + 1, None, message)));
            }
        }
    }
}

/// How many empty lines the CSV reader skips from `start` before the next record. After a
/// record ended by `\r\n`, the reader stops between `\r` and `\n`; that `\n` is no blank line.
fn blank_lines(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if i > 0 && bytes.get(i - 1) == Some(&b'\r') && bytes.get(i) == Some(&b'\n') {
        i += 1;
    }
    let mut n = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'\r' | b'\n' => i += 1,
            _ => break,
        }
        n += 1;
    }
    n
}

/// A title row: one non-blank cell that is not a known header, e.g. `泸县市场监督管理局权责清单`.
pub(super) fn is_title(record: &StringRecord) -> bool {
    let mut cells = record.iter().filter(|c| !c.trim().is_empty());
    match (cells.next(), cells.next()) {
        (Some(only), None) => !matches!(column_for(only), Some(Column::Field(_))),
        _ => false,
    }
}

/// The meaning of each header cell, or every header problem (unknown, repeated, missing).
fn columns(row: usize, header: &StringRecord) -> Result<Vec<Column>, Vec<RowError>> {
    let mut columns = Vec::with_capacity(header.len());
    let mut errors = Vec::new();
    let mut seen: Vec<(Field, usize)> = Vec::new();
    for (i, cell) in header.iter().enumerate() {
        let (n, h) = (i + 1, cell.trim());
        match column_for(cell) {
            None => errors.push(
                row_error(row, None, format!("未知表头 “{h}”（第 {n} 列） / unknown header “{h}” (column {n})"))
                    .at_column(n),
            ),
            Some(Column::Field(field)) => {
                if let Some(&(_, first)) = seen.iter().find(|(f, _)| *f == field) {
                    let label = field.label();
                    errors.push(
                        row_error(
                            row,
                            Some(field),
                            format!(
                                "第 {n} 列 “{h}” 与第 {first} 列都表示“{label}” / two columns for the same element"
                            ),
                        )
                        .at_column(n),
                    );
                } else {
                    seen.push((field, n));
                }
                columns.push(Column::Field(field));
            }
            Some(column) => columns.push(column),
        }
    }
    for field in REQUIRED.into_iter().filter(|f| !seen.iter().any(|(s, _)| s == f)) {
        let (label, key) = (field.label(), field.key());
        errors.push(row_error(row, Some(field), format!("缺少必需的列 “{label}” / missing required column {key}")));
    }
    if errors.is_empty() { Ok(columns) } else { Err(errors) }
}

/// The item of one row. Cells that cannot be read are reported and left neutral (no days, no
/// flow, the category the code letters name) so the item rules still report the other cells.
fn build_item(row: usize, columns: &[Column], record: &StringRecord, errors: &mut Vec<RowError>) -> PowerItem {
    let mut item = PowerItem {
        code: String::new(),
        name: String::new(),
        category: Category::Other,
        basis: Vec::new(),
        implementing_body: String::new(),
        implementing_body_code: None,
        responsibilities: Vec::new(),
        accountability: Vec::new(),
        accountability_basis: Vec::new(),
        supervision: Vec::new(),
        remedies: Vec::new(),
        time_limit: TimeLimit::default(),
        flow: Vec::new(),
        risk_points: Vec::new(),
        status: ItemStatus::Active,
        status_reason: String::new(),
    };
    let mut category = None;
    for (i, (column, raw)) in columns.iter().zip(record.iter()).enumerate() {
        let cell = unescape_formula(raw);
        let t = cell.trim();
        let field = match *column {
            Column::Serial => continue,
            Column::Blank if t.is_empty() => continue,
            Column::Blank => {
                let n = i + 1;
                errors.push(
                    row_error(row, None, format!("第 {n} 列没有表头，但本行有内容 / column {n} has no header"))
                        .at_column(n),
                );
                continue;
            }
            Column::Field(field) => field,
        };
        let mut bad = |field, message: String| errors.push(row_error(row, Some(field), message).at_column(i + 1));
        match field {
            Field::Code => item.code = t.to_string(),
            Field::Name => item.name = t.to_string(),
            Field::Category if t.is_empty() => bad(field, "职权类别不能为空 / category is required".into()),
            Field::Category => match t.parse::<Category>() {
                Ok(c) => category = Some(c),
                Err(e) => bad(field, e.to_string()),
            },
            Field::Basis => item.basis = Citation::parse_many(cell),
            Field::ImplementingBody => item.implementing_body = t.to_string(),
            Field::ImplementingBodyCode => item.implementing_body_code = (!t.is_empty()).then(|| t.to_string()),
            Field::Responsibilities => item.responsibilities = split_multi(cell),
            Field::Accountability => item.accountability = split_multi(cell),
            Field::AccountabilityBasis => item.accountability_basis = Citation::parse_many(cell),
            Field::Supervision => item.supervision = split_multi(cell),
            Field::Remedies => item.remedies = split_multi(cell),
            Field::LegalDays | Field::PromisedDays => match parse_days(cell) {
                Ok(days) if field == Field::LegalDays => item.time_limit.legal_days = days,
                Ok(days) => item.time_limit.promised_days = days,
                Err(()) => bad(field, days_message(cell)),
            },
            Field::Flow => match parse_flow(cell) {
                Ok(flow) => item.flow = flow,
                Err(message) => bad(field, message),
            },
            Field::RiskPoints => item.risk_points = split_multi(cell),
            Field::Status => match ItemStatus::parse(cell) {
                Some(status) => item.status = status,
                None => bad(field, format!("未知状态 “{t}”，应为在用、已取消或已下放 / unknown status")),
            },
        }
    }
    item.category =
        category.unwrap_or_else(|| item.code.get(..2).and_then(Category::from_letters).unwrap_or(Category::Other));
    item
}

/// Characters that make a spreadsheet read a cell as a formula (tab and carriage return too, as
/// OWASP's CSV-injection advice lists them).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Written cells that would start a formula get a leading `'` (CSV injection guard: items come
/// from peers and end up in an official's Excel); reading removes it again. Cells already
/// starting with `'` before such a character get one more, so the round trip stays exact.
fn needs_guard(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// A cell as written to a spreadsheet: with a leading `'` when it would start a formula. Every
/// CSV the project writes from peers' data goes through this.
pub fn escape_formula(cell: String) -> String {
    if needs_guard(&cell) { format!("'{cell}") } else { cell }
}

fn unescape_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(cell) => rest,
        _ => cell,
    }
}

/// Writes items as a UTF-8 CSV with a byte-order mark (so Excel shows Chinese) and the
/// canonical Chinese headers; `parse_items(ImportFormat::Csv, …)` reads it back.
///
/// Multi-valued cells are joined with `；`, citations written `《法》第N条`, flow steps
/// `受理（政务服务窗口，1个工作日）→审查（…）`. The round trip is exact except: an element that
/// itself contains `；`, `;` or a line break comes back split in several; a flow step name with
/// `→`/`->` or ending in parentheses is read differently; text is trimmed; `status_reason` has
/// no column and comes back empty. New input that would not survive is refused where it enters
/// (`sheet_faithful_errors`), so these exceptions concern only entries signed before that rule.
pub fn items_to_csv(items: &[PowerItem]) -> String {
    let mut writer = csv::Writer::from_writer(BOM.as_bytes().to_vec());
    writer.write_record(FIELDS.map(Field::label)).expect("writing to memory cannot fail");
    for item in items {
        writer.write_record(row_cells(item).map(escape_formula)).expect("writing to memory cannot fail");
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

pub(super) fn row_cells(item: &PowerItem) -> [String; 16] {
    let days = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
    [
        item.code.clone(),
        item.name.clone(),
        item.category.label().to_string(),
        join_multi(&item.basis),
        item.implementing_body.clone(),
        item.implementing_body_code.clone().unwrap_or_default(),
        join_multi(&item.responsibilities),
        join_multi(&item.accountability),
        join_multi(&item.accountability_basis),
        join_multi(&item.supervision),
        join_multi(&item.remedies),
        days(item.time_limit.legal_days),
        days(item.time_limit.promised_days),
        format_flow(&item.flow),
        join_multi(&item.risk_points),
        item.status.label().to_string(),
    ]
}
