//! Catalogue changes from a spreadsheet (目录调整表): the CSV an editorial office keeps in Excel,
//! one change a row, into the `CatalogueChange`s of a publication.
//!
//! Owns `parse_catalogue_csv` (and `parse_catalogue_workbook`, the same sheet kept as
//! .xlsx/.xls) and the four columns only a change sheet has: 调整方式 (kind), 行使层级 (tiers),
//! 调整理由 (reason) and 关联编码 (related). Everything else is reused, not re-implemented: the
//! item columns, row numbering, title rows and the BOM are read by the import sheet reader
//! (`sheet::read_records`, which sees the four extra columns as ignored 序号 columns), and new
//! items are checked by `list::validate_rows`. Whether the changes fit the catalogue (codes
//! exist, delegation goes down) is `catalogue::plan`'s business.
//!
//! Pure: bytes in, changes or every bad row out; no I/O. All-or-nothing like `parse_items`.

use std::collections::BTreeMap;

use csv::StringRecord;

use super::cells::{Column, column_for};
use super::sheet::{is_title, numbered_records};
use super::{ImportError, decode, row_error, sheet, workbook};
use crate::catalogue::CatalogueChange;
use crate::item::{Field, ItemPatch, PowerItem, TimeLimit};
use crate::list::{RowError, validate_rows};
use crate::tier::Tier;

/// Reads a catalogue change sheet: one change a row, in order (a split, whose rows share a
/// 关联编码, takes the place of its first row). Returns every problem of every row at once,
/// each with its spreadsheet row number and column, as `parse_items` does.
pub fn parse_catalogue_csv(bytes: &[u8]) -> Result<Vec<CatalogueChange>, ImportError> {
    let text = decode(bytes).map_err(|e| refuse(vec![(0, e)]))?;
    let (records, read_error) = numbered_records(text);
    parse_records(records, read_error)
}

/// Reads a catalogue change sheet kept as an Excel workbook (.xlsx or .xls): the first
/// worksheet with a recognised header, with the same rules as [`parse_catalogue_csv`]; every
/// error names the worksheet.
pub fn parse_catalogue_workbook(bytes: &[u8]) -> Result<Vec<CatalogueChange>, ImportError> {
    let book = workbook::records(bytes)?;
    parse_records(book.records, None).map_err(|e| e.in_sheet(&book.sheet))
}

fn parse_records(
    records: Vec<(usize, StringRecord)>,
    read_error: Option<RowError>,
) -> Result<Vec<CatalogueChange>, ImportError> {
    let header_at = usize::from(records.len() > 1 && is_title(&records[0].1));
    let Some((_, header)) = records.get(header_at) else {
        return Err(refuse(vec![(0, read_error.unwrap_or_else(|| no_changes(1)))]));
    };
    let columns: Vec<Col> = header.iter().map(Col::for_header).collect();
    // The header's extra columns renamed 序号, which the item reader ignores.
    let mut renamed = records.clone();
    renamed[header_at].1 =
        header.iter().zip(&columns).map(|(c, col)| if let Col::Extra(_) = col { "序号" } else { c }).collect();
    let read = sheet::read_records(renamed, read_error);
    let sheet = Sheet { header_row: read.first_row - 1, columns };
    let mut errors = sheet.header_errors();
    let data: Vec<&StringRecord> =
        records[header_at + 1..].iter().map(|r| &r.1).filter(|c| c.len() == sheet.columns.len()).collect();
    if !errors.is_empty() || data.len() != read.items.len() {
        // Cell errors mean nothing before the rows' kinds are known; malformed rows still do.
        let kept = read.errors.into_iter().filter(|e| e.field.is_none() || e.row <= sheet.header_row);
        errors.extend(kept.map(|e| (sheet.col_of(&e), e)));
        if errors.is_empty() {
            errors.push((0, row_error(sheet.header_row, None, "无法读取表头 / unreadable header")));
        }
        return Err(refuse(errors));
    }
    if data.is_empty() && read.errors.is_empty() {
        return Err(refuse(vec![(0, no_changes(sheet.header_row.max(1)))]));
    }
    let rows: Vec<Row> =
        read.items.into_iter().zip(data).map(|((row, item), cells)| Row { row, item, cells }).collect();
    let mut builder = Builder::default();
    for row in &rows {
        builder.row(&sheet, row);
    }
    let kinds: BTreeMap<usize, (Option<Kind>, &StringRecord)> =
        rows.iter().zip(&builder.kinds).map(|(r, &k)| (r.row, (k, r.cells))).collect();
    let cell_errors = read.errors.into_iter().filter(|e| match (e.field, kinds.get(&e.row)) {
        (Some(field), Some(&(kind, cells))) => match kind {
            Some(kind) if kind.full_item() => true,
            Some(Kind::Adjust) => {
                sheet.index(Col::Item(Some(field))).and_then(|i| cells.get(i)).is_some_and(|c| !c.trim().is_empty())
            }
            _ => false,
        },
        _ => true,
    });
    errors.extend(cell_errors.map(|e| (sheet.col_of(&e), e)));
    builder.finish(&sheet, errors)
}

/// The columns only a change sheet has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    Kind,
    Tiers,
    Reason,
    Related,
}

impl Extra {
    const ALL: [Extra; 4] = [Extra::Kind, Extra::Tiers, Extra::Reason, Extra::Related];
    /// Chinese header and English key of each, in `ALL` order.
    const NAMES: [(&str, &str); 4] =
        [("调整方式", "kind"), ("行使层级", "tiers"), ("调整理由", "reason"), ("关联编码", "related")];

    fn label(self) -> &'static str {
        Extra::NAMES[self as usize].0
    }

    fn key(self) -> &'static str {
        Extra::NAMES[self as usize].1
    }

    /// The extra column a header names, written as offices write headers: spaces, a `*` mark or
    /// a trailing note in parentheses (`调整方式（新增/取消…）`) allowed.
    fn for_header(header: &str) -> Option<Extra> {
        let h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
        let h = h.trim_matches(['*', '＊']);
        let h = match h.strip_suffix(['）', ')']).and_then(|inner| inner.rfind(['（', '(']).map(|i| &inner[..i])) {
            Some(stripped) => stripped.trim_matches(['*', '＊']),
            None => h,
        };
        Extra::ALL.into_iter().find(|e| h == e.label() || h.eq_ignore_ascii_case(e.key()))
    }
}

/// What one header cell names: an extra column, or whatever the item sheet reader makes of it
/// (the field, if it is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Extra(Extra),
    Item(Option<Field>),
}

impl Col {
    fn for_header(header: &str) -> Col {
        match Extra::for_header(header) {
            Some(extra) => Col::Extra(extra),
            None => match column_for(header) {
                Some(Column::Field(field)) => Col::Item(Some(field)),
                _ => Col::Item(None),
            },
        }
    }
}

/// 调整方式.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Cancel,
    Delegate,
    Adjust,
    Merge,
    Split,
}

impl Kind {
    /// Each kind with the names a 调整方式 cell may give it; the first is its label.
    const NAMES: [(Kind, &[&str]); 6] = [
        (Kind::Add, &["新增", "add"]),
        (Kind::Cancel, &["取消", "cancel"]),
        (Kind::Delegate, &["下放", "delegate"]),
        (Kind::Adjust, &["调整要素", "调整", "adjust"]),
        (Kind::Merge, &["合并", "merge"]),
        (Kind::Split, &["拆分", "split"]),
    ];

    fn parse(cell: &str) -> Option<Kind> {
        let name = cell.trim().to_ascii_lowercase();
        Kind::NAMES.iter().find(|(_, names)| names.contains(&name.as_str())).map(|&(kind, _)| kind)
    }

    fn label(self) -> &'static str {
        Kind::NAMES[self as usize].1[0]
    }

    /// Whether a row of this kind must fill `extra`.
    fn needs(self, extra: Extra) -> bool {
        match extra {
            Extra::Kind => true,
            Extra::Tiers => matches!(self, Kind::Add | Kind::Delegate),
            Extra::Reason => matches!(self, Kind::Cancel | Kind::Delegate | Kind::Merge | Kind::Split),
            Extra::Related => matches!(self, Kind::Merge | Kind::Split),
        }
    }

    /// Whether the row is a whole new item (checked like an import row).
    fn full_item(self) -> bool {
        matches!(self, Kind::Add | Kind::Merge | Kind::Split)
    }
}

/// The header of a change sheet.
struct Sheet {
    header_row: usize,
    columns: Vec<Col>,
}

impl Sheet {
    fn index(&self, col: Col) -> Option<usize> {
        self.columns.iter().position(|&c| c == col)
    }

    /// The cell of an extra column, trimmed; `None` when the sheet has no such column.
    fn cell<'a>(&self, cells: &'a StringRecord, extra: Extra) -> Option<&'a str> {
        self.index(Col::Extra(extra)).and_then(|i| cells.get(i)).map(str::trim)
    }

    /// Sort key of an error within its row: its column, 1-based (0 for the whole row).
    fn col_of(&self, e: &RowError) -> usize {
        e.field.and_then(|f| self.index(Col::Item(Some(f)))).map_or(0, |i| i + 1)
    }

    fn extra_col(&self, extra: Extra) -> usize {
        self.index(Col::Extra(extra)).map_or(0, |i| i + 1)
    }

    /// Extra columns named twice, or no 调整方式 column. (The item reader checks item columns.)
    fn header_errors(&self) -> Vec<(usize, RowError)> {
        let mut errors = Vec::new();
        for extra in Extra::ALL {
            let mut at = self.columns.iter().enumerate().filter(|(_, c)| **c == Col::Extra(extra)).map(|(i, _)| i + 1);
            let first = at.next();
            for n in at {
                let (label, first) = (extra.label(), first.unwrap_or(0));
                let message = format!("第 {n} 列与第 {first} 列都是“{label}” / two columns for the same element");
                errors.push((n, row_error(self.header_row, None, message)));
            }
            if first.is_none() && extra == Extra::Kind {
                let message = "缺少必需的列 “调整方式” / missing required column kind";
                errors.push((0, row_error(self.header_row, None, message)));
            }
        }
        errors
    }
}

/// One data row: its number, the item the sheet reader made of it, and its cells.
struct Row<'a> {
    row: usize,
    item: PowerItem,
    cells: &'a StringRecord,
}

#[derive(Default)]
struct Builder {
    /// The kind of each row (`None` when it could not be read), in row order.
    kinds: Vec<Option<Kind>>,
    /// The changes in row order; a split stands at its first row and gathers the later ones.
    changes: Vec<CatalogueChange>,
    /// The old code of each split, its first row and its number of rows.
    splits: Vec<(String, usize, usize)>,
    /// New items with their rows, for `validate_rows`.
    new_items: Vec<(usize, PowerItem)>,
    /// Extra columns the header lacks, with the first row that needs each.
    missing: Vec<(Extra, usize, Kind)>,
    errors: Vec<(usize, RowError)>,
}

impl Builder {
    fn row(&mut self, sheet: &Sheet, row: &Row) {
        let n = row.row;
        let kind_cell = sheet.cell(row.cells, Extra::Kind).unwrap_or("");
        let Some(kind) = Kind::parse(kind_cell) else {
            let message = if kind_cell.is_empty() {
                "不能为空，应为新增、取消、下放、调整要素、合并或拆分 / kind is required".to_string()
            } else {
                format!("未知调整方式 “{kind_cell}”，应为新增、取消、下放、调整要素、合并或拆分 / unknown kind")
            };
            self.extra_error(sheet, n, Extra::Kind, message);
            self.kinds.push(None);
            return;
        };
        self.kinds.push(Some(kind));
        let mut values = [""; 4];
        for (extra, value) in Extra::ALL.into_iter().zip(&mut values).filter(|(e, _)| kind.needs(*e)) {
            match sheet.cell(row.cells, extra) {
                None => {
                    if !self.missing.iter().any(|(e, _, _)| *e == extra) {
                        self.missing.push((extra, n, kind));
                    }
                }
                Some("") => {
                    let (label, key, kl) = (extra.label(), extra.key(), kind.label());
                    self.extra_error(sheet, n, extra, format!("{kl}须填写{label} / {key} is required"));
                }
                Some(cell) => *value = cell,
            }
        }
        let [_, tiers_cell, reason, related] = values;
        let code = row.item.code.clone();
        if !kind.full_item() && code.trim().is_empty() {
            let col = sheet.col_of(&row_error(n, Some(Field::Code), ""));
            self.errors.push((col, row_error(n, Some(Field::Code), "事项编码不能为空 / code is required")));
        }
        let tiers = if kind.needs(Extra::Tiers) { self.tiers(sheet, n, tiers_cell) } else { Vec::new() };
        let reason = reason.to_string();
        if kind.full_item() {
            self.new_items.push((n, row.item.clone()));
        }
        let change = match kind {
            Kind::Add => CatalogueChange::Add { item: row.item.clone(), tiers },
            Kind::Cancel => CatalogueChange::Cancel { code, reason },
            Kind::Delegate => CatalogueChange::Delegate { code, tiers, reason },
            Kind::Adjust => CatalogueChange::Adjust { code, patch: self.patch(sheet, row) },
            Kind::Merge => {
                let codes = self.related(sheet, n, related);
                if !related.is_empty() && codes.len() < 2 {
                    let message = "合并须列出至少两个被合并的事项编码 / a merge needs at least two codes";
                    self.extra_error(sheet, n, Extra::Related, message.to_string());
                }
                CatalogueChange::Merge { codes, into: row.item.clone(), reason }
            }
            Kind::Split => {
                let codes = self.related(sheet, n, related);
                if !related.is_empty() && codes.len() != 1 {
                    let message = "拆分须关联且只关联一个原事项编码 / a split names exactly one old code";
                    self.extra_error(sheet, n, Extra::Related, message.to_string());
                }
                let Some(old) = codes.into_iter().next() else { return };
                let group = self.changes.iter_mut().find_map(|c| match c {
                    CatalogueChange::Split { code, into, reason } if *code == old => Some((into, reason)),
                    _ => None,
                });
                if let Some((into, reasons)) = group {
                    into.push(row.item.clone());
                    if !reasons.contains(&reason) {
                        reasons.push('；');
                        reasons.push_str(&reason);
                    }
                    self.splits.iter_mut().filter(|s| s.0 == old).for_each(|s| s.2 += 1);
                    return;
                }
                self.splits.push((old.clone(), n, 1));
                CatalogueChange::Split { code: old, into: vec![row.item.clone()], reason }
            }
        };
        self.changes.push(change);
    }

    /// The tiers of a 行使层级 cell, each bad name reported.
    fn tiers(&mut self, sheet: &Sheet, row: usize, cell: &str) -> Vec<Tier> {
        let (mut tiers, mut bad) = (Vec::new(), false);
        for name in split_list(cell) {
            match name.parse::<Tier>() {
                Ok(tier) if !tiers.contains(&tier) => tiers.push(tier),
                Ok(_) => {}
                Err(e) => {
                    self.extra_error(sheet, row, Extra::Tiers, e.to_string());
                    bad = true;
                }
            }
        }
        if tiers.is_empty() && !bad && !cell.is_empty() {
            self.extra_error(sheet, row, Extra::Tiers, format!("“{cell}” 中没有层级 / no tier given"));
        }
        tiers
    }

    /// The codes of a 关联编码 cell; a code named twice is reported.
    fn related(&mut self, sheet: &Sheet, row: usize, cell: &str) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        for code in split_list(cell) {
            if codes.iter().any(|c| c == code) {
                self.extra_error(sheet, row, Extra::Related, format!("编码 “{code}” 重复 / code listed twice"));
            } else {
                codes.push(code.to_string());
            }
        }
        codes
    }

    /// The elements an adjust row fills in; blank cells stay as they are.
    fn patch(&mut self, sheet: &Sheet, row: &Row) -> ItemPatch {
        let (item, mut patch) = (&row.item, ItemPatch::default());
        let mut limit: Option<TimeLimit> = None;
        let mut status = false;
        for (col, cell) in sheet.columns.iter().zip(row.cells.iter()) {
            let Col::Item(Some(field)) = *col else { continue };
            if cell.trim().is_empty() {
                continue;
            }
            match field {
                Field::Code => {}
                Field::Name => patch.name = Some(item.name.clone()),
                Field::Category => patch.category = Some(item.category),
                Field::Basis => patch.basis = Some(item.basis.clone()),
                Field::ImplementingBody => patch.implementing_body = Some(item.implementing_body.clone()),
                Field::ImplementingBodyCode => patch.implementing_body_code = item.implementing_body_code.clone(),
                Field::Responsibilities => patch.responsibilities = Some(item.responsibilities.clone()),
                Field::Accountability => patch.accountability = Some(item.accountability.clone()),
                Field::AccountabilityBasis => patch.accountability_basis = Some(item.accountability_basis.clone()),
                Field::Supervision => patch.supervision = Some(item.supervision.clone()),
                Field::Remedies => patch.remedies = Some(item.remedies.clone()),
                Field::LegalDays => limit.get_or_insert_default().legal_days = item.time_limit.legal_days,
                Field::PromisedDays => limit.get_or_insert_default().promised_days = item.time_limit.promised_days,
                Field::Flow => patch.flow = Some(item.flow.clone()),
                Field::RiskPoints => patch.risk_points = Some(item.risk_points.clone()),
                Field::Status => {
                    status = true;
                    let message = "状态不能通过调整要素修改，请用取消或下放 / status is not an element to adjust";
                    let col = sheet.col_of(&row_error(row.row, Some(field), ""));
                    self.errors.push((col, row_error(row.row, Some(field), message)));
                }
            }
        }
        patch.time_limit = limit;
        if patch.is_empty() && !status {
            let message = "调整要素须至少填写一个要调整的要素 / an adjustment must fill in at least one element";
            self.extra_error(sheet, row.row, Extra::Kind, message.to_string());
        }
        patch
    }

    fn extra_error(&mut self, sheet: &Sheet, row: usize, extra: Extra, message: String) {
        let message = format!("{}：{message}", extra.label());
        self.errors.push((sheet.extra_col(extra), row_error(row, None, message)));
    }

    /// Checks what needs every row (missing columns, new items, split sizes) and assembles the
    /// changes, or returns every error.
    fn finish(
        mut self,
        sheet: &Sheet,
        mut errors: Vec<(usize, RowError)>,
    ) -> Result<Vec<CatalogueChange>, ImportError> {
        for &(extra, row, kind) in &self.missing {
            let (label, key, kl) = (extra.label(), extra.key(), kind.label());
            let message =
                format!("缺少列 “{label}”，第 {row} 行（{kl}）需要 / missing column {key}, needed by row {row}");
            errors.push((0, row_error(sheet.header_row, None, message)));
        }
        let lone: Vec<(usize, String)> =
            self.splits.iter().filter(|s| s.2 < 2).map(|(code, row, _)| (*row, code.clone())).collect();
        for (row, code) in lone {
            let message =
                format!("拆分 “{code}” 只有本行一个新事项，至少需要两个 / a split needs at least two new items");
            self.extra_error(sheet, row, Extra::Related, message);
        }
        let (rows, items): (Vec<usize>, Vec<PowerItem>) = self.new_items.into_iter().unzip();
        if let Err(es) = validate_rows(&items, &rows) {
            errors.extend(es.into_iter().map(|e| (sheet.col_of(&e), e)));
        }
        errors.append(&mut self.errors);
        if !errors.is_empty() {
            return Err(refuse(errors));
        }
        Ok(self.changes)
    }
}

/// The names of a list cell: separated by `；` `;` `、` `,` `，` `/` or line breaks, trimmed.
fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(['；', ';', '、', ',', '，', '/', '\n', '\r']).map(str::trim).filter(|s| !s.is_empty())
}

fn no_changes(row: usize) -> RowError {
    row_error(row, None, "文件中没有调整内容 / no changes in file")
}

/// The error of a refused sheet: every problem, by row, then by column.
fn refuse(mut errors: Vec<(usize, RowError)>) -> ImportError {
    errors.sort_by_key(|(col, e)| (e.row, *col));
    ImportError { errors: errors.into_iter().map(|(col, e)| e.at_column(col)).collect() }
}

#[cfg(test)]
#[path = "catalogue_csv_tests.rs"]
mod tests;
