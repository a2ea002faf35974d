//! Workbooks are built in memory with rust_xlsxwriter (no binary fixtures) and read back through
//! the import functions.

use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};
use rust_xlsxwriter::{Format, Workbook};

use super::*;
use crate::catalogue::CatalogueChange;
use crate::import::{
    ImportFormat, parse_catalogue_csv, parse_catalogue_workbook, parse_grant_csv, parse_grant_workbook, parse_items,
};
use crate::list::RowError;
use crate::sample_grants::{city_powers, grant_csv, grant_items};

/// A cell of a test worksheet.
#[derive(Clone, Copy)]
enum Cell<'a> {
    S(&'a str),
    N(f64),
    /// An Excel date serial number with a date format.
    D(f64),
}
use Cell::{D, N, S};

/// Rows of a test worksheet: `(0-based row index, cells from column A)`.
type Rows<'a> = Vec<(u32, Vec<Cell<'a>>)>;

/// A workbook of the given worksheets.
fn workbook(sheets: &[(&str, Rows)]) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, cells) in rows {
            for (c, cell) in (0u16..).zip(cells) {
                match *cell {
                    S("") => continue,
                    S(s) => sheet.write_string(*r, c, s).map(|_| ()),
                    N(x) => sheet.write_number(*r, c, x).map(|_| ()),
                    D(x) => sheet.write_number_with_format(*r, c, x, &date).map(|_| ()),
                }
                .unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// The same grid as a one-sheet workbook of text cells, rows from 1 (blank lines kept).
fn csv_as_workbook(sheet: &str, text: &str) -> Vec<u8> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rows = Vec::new();
    for (r, line) in (0u32..).zip(text.lines()) {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        if let Some(record) = reader.records().next() {
            rows.push((r, record.unwrap().iter().map(String::from).collect::<Vec<_>>()));
        }
    }
    let grid: Rows = rows.iter().map(|(r, cells)| (*r, cells.iter().map(|c| S(c.as_str())).collect())).collect();
    workbook(&[(sheet, grid)])
}

const HEADER: [&str; 7] = ["事项编码", "事项名称", "职权类别", "设定依据", "实施主体", "法定办结时限", "承诺办结时限"];
const BASIS: &str = "《中华人民共和国食品安全法》第三十五条";
const BODY: &str = "泸县市场监督管理局";

fn header() -> Vec<Cell<'static>> {
    HEADER.iter().map(|h| S(h)).collect()
}

/// A good row with the day counts typed as numbers, as Excel stores what offices type.
fn good<'a>(code: &'a str, name: &'a str) -> Vec<Cell<'a>> {
    vec![S(code), S(name), S("行政许可"), S(BASIS), S(BODY), N(20.0), N(10.0)]
}

fn where_(errors: &[RowError]) -> Vec<(Option<&str>, usize, Option<Field>)> {
    errors.iter().map(|e| (e.sheet.as_deref(), e.row, e.field)).collect()
}

#[test]
fn cells_read_as_a_person_sees_them() {
    let date = |serial| Data::DateTime(ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false));
    assert_eq!(cell_text(&Data::Float(20.0)), "20");
    assert_eq!(cell_text(&Data::Float(510_521_000_035.0)), "510521000035");
    assert_eq!(cell_text(&Data::Float(-3.0)), "-3");
    assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
    assert_eq!(cell_text(&Data::Int(7)), "7");
    assert_eq!(cell_text(&date(45352.0)), "2024-03-01");
    assert_eq!(cell_text(&date(45352.5)), "2024-03-01 12:00:00");
    assert_eq!(cell_text(&Data::DateTimeIso("2024-03-01T00:00:00".into())), "2024-03-01");
    assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
    assert_eq!(cell_text(&Data::Error(CellErrorType::NA)), "#N/A");
    assert_eq!(cell_text(&Data::Empty), "");
    assert_eq!(cell_text(&Data::String(" 受理 ".into())), " 受理 ");
}

#[test]
fn a_workbook_reads_numbers_and_dates_as_text_with_excel_row_numbers() {
    let bytes = workbook(&[(
        "清单",
        vec![(1, vec![S("编号"), S("日期"), S("代码")]), (3, vec![N(35.0), D(45352.0), N(510_521.0)])],
    )]);
    let book = records(&bytes).unwrap();
    assert_eq!(book.sheet, "清单");
    let got: Vec<(usize, Vec<&str>)> = book.records.iter().map(|(r, rec)| (*r, rec.iter().collect())).collect();
    assert_eq!(got, [(2, vec!["编号", "日期", "代码"]), (4, vec!["35", "2024-03-01", "510521"])]);
}

#[test]
fn number_typed_days_and_codes_import_as_text() {
    let mut head = vec![S("序号")];
    head.extend(header());
    let mut row = vec![N(1.0)];
    row.extend(good("XK00035000", "食品经营许可"));
    let bytes = workbook(&[("Sheet1", vec![(0, head), (1, row)])]);
    let batch = parse_items(ImportFormat::Xlsx, &bytes).unwrap();
    let item = &batch.items[0];
    assert_eq!((item.time_limit.legal_days, item.time_limit.promised_days), (Some(20), Some(10)));
    assert_eq!(item.code, "XK00035000");
    assert_eq!((batch.sheet.as_deref(), batch.rows.as_slice()), (Some("Sheet1"), &[2][..]));
}

#[test]
fn a_title_row_blank_rows_and_header_variants_keep_excel_rows() {
    let variants = ["权力编码", "*权力名称", "权力类别", "法律依据", "实施机关", "法定时限（工作日）", "承诺时限"];
    let bytes = workbook(&[(
        "泸县",
        vec![
            (0, vec![S("泸县市场监督管理局权责清单")]),
            (2, variants.iter().map(|h| S(h)).collect()),
            (3, good("XK00035000", "食品经营许可")),
            (5, good("XK00036000", "药品经营许可")),
        ],
    )]);
    let batch = parse_items(ImportFormat::Xlsx, &bytes).unwrap();
    assert_eq!((batch.first_row, batch.rows.as_slice()), (4, &[4, 6][..]));
    assert_eq!(batch.items[1].name, "药品经营许可");
}

#[test]
fn the_sheet_with_a_recognised_header_is_read() {
    let notes = vec![(0, vec![S("填表说明")]), (1, vec![S("1. 每行一个事项")])];
    let list = vec![(0, header()), (1, good("XK00035000", "食品经营许可"))];
    let bytes = workbook(&[("空白", vec![]), ("填表说明", notes), ("清单", list)]);
    let batch = parse_items(ImportFormat::Xlsx, &bytes).unwrap();
    assert_eq!((batch.sheet.as_deref(), batch.items.len()), (Some("清单"), 1));
    // No recognised header anywhere: the first non-empty sheet, refused on its header row.
    let bytes = workbook(&[("空白", vec![]), ("说明", vec![(0, vec![S("说明")]), (1, vec![S("备注"), S("x")])])]);
    let errors = parse_items(ImportFormat::Xlsx, &bytes).unwrap_err().errors;
    assert!(errors.iter().all(|e| e.sheet.as_deref() == Some("说明") && e.row == 2), "{errors:?}");
}

#[test]
fn bad_rows_are_named_by_sheet_row_and_field_and_nothing_is_read() {
    let mut bad_category = good("XK00036000", "药品经营许可");
    bad_category[2] = S("许可证");
    let mut bad_days = good("XK00037000", "医疗器械经营许可");
    bad_days[5] = S("二十");
    let bytes = workbook(&[(
        "清单",
        vec![
            (0, header()),
            (1, good("XK00035000", "食品经营许可")),
            (2, bad_category),
            (4, bad_days),
            (5, good("XK00035000", "食品经营许可（重复）")),
        ],
    )]);
    let errors = parse_items(ImportFormat::Xlsx, &bytes).unwrap_err().errors;
    assert_eq!(
        where_(&errors),
        [
            (Some("清单"), 3, Some(Field::Category)),
            (Some("清单"), 5, Some(Field::LegalDays)),
            (Some("清单"), 6, Some(Field::Code)),
        ]
    );
    assert!(errors[0].to_string().starts_with("工作表 “清单” 第 3 行 "), "{}", errors[0]);
    assert!(errors[2].message.contains("第 2 行"), "the duplicate names the first row");
}

#[test]
fn a_corrupt_or_empty_workbook_is_one_clean_error() {
    let valid = workbook(&[("清单", vec![(0, header()), (1, good("XK00035000", "食品经营许可"))])]);
    let truncated = valid[..valid.len() / 2].to_vec();
    for bytes in
        [b"".to_vec(), b"PK\x03\x04 not really a zip".to_vec(), "事项编码,事项名称".as_bytes().to_vec(), truncated]
    {
        for format in [ImportFormat::Xlsx, ImportFormat::Xls] {
            let errors = parse_items(format, &bytes).unwrap_err().errors;
            assert_eq!(where_(&errors), [(None, 1, None)]);
            assert!(errors[0].message.contains("无法读取 Excel 工作簿") && errors[0].message.contains(" / "));
        }
    }
    let empty = workbook(&[("Sheet1", vec![])]);
    let errors = parse_items(ImportFormat::Xlsx, &empty).unwrap_err().errors;
    assert_eq!(where_(&errors), [(Some("Sheet1"), 1, None)]);
    assert!(errors[0].message.contains("没有事项"));
}

#[test]
fn tables_write_text_cells_that_read_back_unchanged() {
    let rows = vec![vec!["00123".to_string(), "=1+1".to_string(), String::new()], vec!["2024-03-01".into()]];
    let bytes = table_to_xlsx("对标看板", &["编码", "公式", "空"], &rows).unwrap();
    let book = records(&bytes).unwrap();
    assert_eq!(book.sheet, "对标看板");
    let got: Vec<(usize, Vec<&str>)> = book.records.iter().map(|(r, rec)| (*r, rec.iter().collect())).collect();
    assert_eq!(got, [(1, vec!["编码", "公式", "空"]), (2, vec!["00123", "=1+1", ""]), (3, vec!["2024-03-01", "", ""])]);
    assert!(table_to_xlsx("bad/name", &["a"], &[]).is_err());
}

#[test]
fn display_width_counts_cjk_double_and_takes_the_widest_line() {
    assert_eq!(display_width("事项编码"), 8);
    assert_eq!(display_width("XK00035000"), 10);
    assert_eq!(display_width("受理（窗口）"), 12);
    assert_eq!(display_width("ab\n事项"), 4);
    assert_eq!(display_width(""), 0);
}

#[test]
fn grant_sheets_read_the_same_from_a_workbook() {
    let powers = city_powers(5);
    let text = grant_csv(&powers);
    let from_csv = parse_grant_csv(&text).unwrap();
    assert_eq!(
        from_csv.iter().map(|g| &g.code).collect::<Vec<_>>(),
        grant_items(&powers).iter().map(|g| &g.code).collect::<Vec<_>>()
    );
    assert_eq!(parse_grant_workbook(&csv_as_workbook("赋权目录", &text)).unwrap(), from_csv);
    let bad = csv_as_workbook("赋权目录", "事项编码,赋权部门,承接部门\nXK00035000,,盘山县市场监督管理局");
    let errors = parse_grant_workbook(&bad).unwrap_err().errors;
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].sheet.as_deref(), errors[0].row), (Some("赋权目录"), 2));
    assert_eq!(where_(&parse_grant_workbook(b"junk").unwrap_err().errors), [(None, 1, None)]);
}

#[test]
fn catalogue_sheets_read_the_same_from_a_workbook() {
    let text = "调整事项目录\n\n事项编码,事项名称,职权类别,设定依据,实施主体,调整方式,行使层级,调整理由,关联编码\n\
                XK00035000,食品经营许可,行政许可,《中华人民共和国行政许可法》第十二条,四川省市场监督管理局,新增,省,新设,\n\
                XK00036000,,,,,取消,,法律废止,";
    let from_csv: Vec<CatalogueChange> = parse_catalogue_csv(text.as_bytes()).unwrap();
    assert_eq!(from_csv.len(), 2);
    assert_eq!(parse_catalogue_workbook(&csv_as_workbook("目录调整", text)).unwrap(), from_csv);
    let bad = text.replace("取消,,法律废止", "作废,,法律废止");
    let errors = parse_catalogue_workbook(&csv_as_workbook("目录调整", &bad)).unwrap_err().errors;
    assert_eq!((errors[0].sheet.as_deref(), errors[0].row), (Some("目录调整"), 5));
}
