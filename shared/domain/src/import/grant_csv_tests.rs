use proptest::prelude::*;

use super::parse_grant_csv;
use crate::grants::{GrantItem, GrantKind};
use crate::item::Field;
use crate::list::RowError;
use crate::sample_grants::{city_powers, grant_csv, grant_items};

const HEADER: &str = "序号,事项编码,事项名称,赋权部门,承接部门,审批类别,需报省办结";
const CITY_MARKET: &str = "盘锦市市场监督管理局";
const COUNTY_MARKET: &str = "盘山县市场监督管理局";

fn row(serial: u32, code: &str, name: &str, grantee: &str, kind: &str, provincial: &str) -> String {
    format!("{serial},{code},{name},{CITY_MARKET},{grantee},{kind},{provincial}")
}

fn sheet<S: AsRef<str>>(rows: &[S]) -> String {
    let mut lines = vec![HEADER.to_string()];
    lines.extend(rows.iter().map(|r| r.as_ref().to_string()));
    lines.join("\n")
}

fn errors(text: &str) -> Vec<RowError> {
    parse_grant_csv(text).unwrap_err().errors
}

fn lines(errors: &[RowError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn grant(code: &str, kind: Option<GrantKind>, provincial: bool) -> GrantItem {
    GrantItem {
        code: code.into(),
        grantor_dept: CITY_MARKET.into(),
        grantee_dept: COUNTY_MARKET.into(),
        kind,
        provincial,
    }
}

#[test]
fn the_sample_batch_reads_back() {
    let items = city_powers(308);
    let parsed = parse_grant_csv(&grant_csv(&items)).unwrap_or_else(|e| panic!("{e}"));
    let expected = grant_items(&items);
    assert_eq!(parsed.len(), 308);
    for ((p, e), item) in parsed.iter().zip(&expected).zip(&items) {
        assert_eq!((&p.code, &p.grantor_dept, &p.grantee_dept), (&e.code, &e.grantor_dept, &e.grantee_dept));
        assert_eq!(p.provincial, e.provincial, "{}", p.code);
        assert_eq!(p.kind, GrantKind::default_for(item.category), "{}", p.code);
    }
    assert_eq!(parsed.iter().filter(|p| p.provincial).count(), 31);
}

#[test]
fn a_small_sheet_gives_its_items_in_order() {
    let text = sheet(&[
        row(1, "XK00001000", "食品经营许可", COUNTY_MARKET, "审批", "否"),
        row(2, "CF00002000", "对未取得食品经营许可从事食品经营活动的处罚", COUNTY_MARKET, "非审批", "是"),
        row(3, "JC00003000", "特种设备安全监督检查", COUNTY_MARKET, "", ""),
    ]);
    assert_eq!(
        parse_grant_csv(&text).unwrap(),
        [
            grant("XK00001000", Some(GrantKind::Approval), false),
            grant("CF00002000", Some(GrantKind::NonApproval), true),
            grant("JC00003000", None, false),
        ]
    );
}

#[test]
fn every_bad_row_is_reported_at_once_with_row_and_column() {
    let text = sheet(&[
        row(1, "XK00001000", "食品经营许可", "", "审批", "否"),
        row(2, "XK00002000", "食品生产许可", COUNTY_MARKET, "许可类", "否"),
        String::new(),
        row(3, "CF00003000", "对未取得食品经营许可从事食品经营活动的处罚", COUNTY_MARKET, "非审批", "待定"),
        row(4, "XK00001000", "食品经营许可", COUNTY_MARKET, "审批", "否"),
        row(5, "", "药品经营许可证核发（零售）", "  ", "未定", "是"),
    ]);
    let errs = errors(&text);
    let got: Vec<(usize, Option<Field>, &str)> =
        errs.iter().map(|e| (e.row, e.field, e.message.split(" / ").next().unwrap())).collect();
    let expected: Vec<(usize, Option<Field>, &str)> = vec![
        (2, None, "承接部门：承接部门不能为空"),
        (3, None, "审批类别：未知审批类别 “许可类”，应为审批或非审批"),
        (5, None, "需报省办结：“待定” 应为是或否"),
        (6, Some(Field::Code), "事项编码 “XK00001000” 与第 2 行重复"),
        (7, Some(Field::Code), "事项编码不能为空"),
        (7, None, "承接部门：承接部门不能为空"),
        (7, None, "审批类别：未知审批类别 “未定”，应为审批或非审批"),
    ];
    assert_eq!(got, expected, "{:#?}", lines(&errs));
    assert!(errs.iter().all(|e| e.message.contains(" / ")), "{:#?}", lines(&errs));
    assert_eq!(
        lines(&errs)[0],
        "第 2 行（E 列）: 承接部门：承接部门不能为空 / receiving department is required",
        "the column is named in Chinese first, and by its letter"
    );
    assert_eq!(
        lines(&errs)[3],
        "第 6 行 事项编码 (code)（B 列）: 事项编码 “XK00001000” 与第 2 行重复 / duplicate code, first on row 2"
    );
}

#[test]
fn a_duplicate_is_found_even_when_the_row_has_another_error() {
    let text = sheet(&[
        row(1, "XK00001000", "食品经营许可", COUNTY_MARKET, "审批", "否"),
        row(2, "XK00001000", "食品经营许可", COUNTY_MARKET, "审批", "可能"),
    ]);
    let errs = errors(&text);
    assert_eq!(errs.iter().map(|e| (e.row, e.field)).collect::<Vec<_>>(), [(3, Some(Field::Code)), (3, None)]);
}

#[test]
fn missing_columns_are_reported_once_on_the_header_row() {
    let text = "序号,事项编码,事项名称,赋权部门,审批类别\n1,XK00001000,食品经营许可,盘锦市市场监督管理局,审批";
    assert_eq!(lines(&errors(text)), ["第 1 行: 缺少必需的列 “承接部门” / missing required column grantee_dept"]);

    let errs = errors("事项名称,职权类别\n食品经营许可,行政许可");
    assert_eq!(errs.len(), 3, "{:#?}", lines(&errs));
    assert!(errs.iter().all(|e| e.row == 1));
    assert_eq!(errs[0].field, Some(Field::Code));
    assert!(errs[1].message.contains("“赋权部门”") && errs[2].message.contains("“承接部门”"));
}

#[test]
fn unknown_and_repeated_headers_are_refused() {
    let text = format!("{HEADER},说明,编码\n{},,", row(1, "XK00001000", "食品经营许可", COUNTY_MARKET, "", ""));
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{:#?}", lines(&errs));
    assert!(errs[0].message.starts_with("未知表头 “说明”（第 8 列）"), "{}", errs[0]);
    assert!(errs[1].message.starts_with("第 9 列 “编码” 与第 2 列都表示“事项编码”"), "{}", errs[1]);
}

#[test]
fn aliases_bom_spaces_title_rows_and_notes_are_accepted() {
    let text = "\u{feff}盘锦市赋予盘山县市级经济社会管理权限事项目录,,,,,,,\r\n\
                序号 , 基本编码 ,事项名称,职权类别, 市直部门 ,*县承接部门,类别（审批/非审批）,需报省审批（是/否）\r\n\
                1,XK00001000,食品经营许可,行政许可,盘锦市市场监督管理局,盘山县市场监督管理局,审批类,Y\r\n\
                \r\n\
                2,CF00002000,对未取得食品经营许可从事食品经营活动的处罚,行政处罚,盘锦市市场监督管理局,\
                盘山县市场监督管理局,non_approval,FALSE\r\n";
    assert_eq!(
        parse_grant_csv(text).unwrap(),
        [
            grant("XK00001000", Some(GrantKind::Approval), true),
            grant("CF00002000", Some(GrantKind::NonApproval), false)
        ]
    );
    let bad = text.replace("FALSE", "也许");
    assert_eq!(errors(&bad).iter().map(|e| e.row).collect::<Vec<_>>(), [5], "title, header, row, blank, row");

    for (header, kind) in [("事项类别", "非审批"), ("审批类别", "approval"), ("类别(审批/非审批)", "审批")]
    {
        let text =
            format!("编码,赋权单位,接权部门,{header},报省办结\nXK00001000,{CITY_MARKET},{COUNTY_MARKET},{kind},1");
        let items = parse_grant_csv(&text).unwrap_or_else(|e| panic!("{header}: {e}"));
        assert_eq!(items[0].kind, GrantKind::parse(kind), "{header}");
        assert!(items[0].provincial);
    }
    let english =
        format!("code,grantor_dept,GRANTEE_DEPT,kind,provincial\nXK00001000,{CITY_MARKET},{COUNTY_MARKET},,true");
    assert_eq!(parse_grant_csv(&english).unwrap(), [grant("XK00001000", None, true)]);
}

#[test]
fn category_columns_are_informational() {
    let text = format!(
        "事项编码,类别,职权类别,设定依据,备注,赋权部门,承接部门\n\
         XK00001000,其他,不是类别,,,{CITY_MARKET},{COUNTY_MARKET}"
    );
    assert_eq!(parse_grant_csv(&text).unwrap(), [grant("XK00001000", None, false)]);
}

#[test]
fn yes_and_no_are_read_as_offices_write_them() {
    for (cell, yes) in
        [("是", true), ("y", true), ("TRUE", true), ("1", true), ("否", false), ("N", false), ("0", false), ("", false)]
    {
        let text = sheet(&[row(1, "XK00001000", "食品经营许可", COUNTY_MARKET, "", cell)]);
        assert_eq!(parse_grant_csv(&text).unwrap()[0].provincial, yes, "{cell:?}");
    }
}

#[test]
fn empty_files_header_only_files_and_bad_rows_are_refused() {
    for text in ["", " \n\n", "\u{feff}"] {
        assert_eq!(lines(&errors(text)), ["第 1 行: 文件中没有赋权事项 / no granted items in file"], "{text:?}");
    }
    assert_eq!(
        lines(&errors(&format!("\n{HEADER}\n\n,,,\n"))),
        ["第 2 行: 文件中没有赋权事项 / no granted items in file"]
    );

    let errs = errors(&sheet(&["1,XK00001000,食品经营许可", "2,XK00002000,食品生产许可,盘锦市,盘山县,,,多余"]));
    assert_eq!(errs.iter().map(|e| e.row).collect::<Vec<_>>(), [2, 3]);
    assert!(errs[0].message.starts_with("列数为 3，表头为 7 列"), "{}", errs[0]);

    let errs = errors(&sheet(&[row(1, "XK 00001000", "食品经营许可", COUNTY_MARKET, "", "")]));
    assert_eq!((errs[0].row, errs[0].field), (2, Some(Field::Code)));
    assert!(errs[0].message.contains("空白字符"), "{}", errs[0]);

    let text = "事项编码,赋权部门,承接部门,\nXK00001000,盘锦市市场监督管理局,盘山县市场监督管理局,备注";
    assert!(errors(text)[0].message.starts_with("第 4 列没有表头"));
}

#[test]
fn multi_line_cells_count_as_one_row() {
    let text = sheet(&[
        row(1, "XK00001000", "\"食品经营许可\n（含小餐饮）\"", COUNTY_MARKET, "审批", "否"),
        row(2, "XK00002000", "食品生产许可", COUNTY_MARKET, "审批", "否否"),
    ]);
    assert_eq!(errors(&text).iter().map(|e| e.row).collect::<Vec<_>>(), [3]);
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_grant_csv(&text);
    }

    #[test]
    fn arbitrary_rows_under_a_good_header_never_panic(
        rows in prop::collection::vec("[,\"\r\n 是否审批非XK0-9盘山县\u{feff}]{0,40}", 0..8),
    ) {
        let text = format!("{HEADER}\n{}", rows.join("\n"));
        match parse_grant_csv(&text) {
            Ok(items) => prop_assert!(!items.is_empty()),
            Err(e) => prop_assert!(!e.errors.is_empty()),
        }
    }
}
