use proptest::prelude::*;

use super::*;
use crate::category::Category;
use crate::codes::credit_check_char;
use crate::item::tests::food_licence;
use crate::item::{Citation, FlowStep, ItemStatus, TimeLimit};
use crate::sample::sample_list;

const HEADER: &str = "事项编码,事项名称,职权类别,设定依据,实施主体,法定办结时限,承诺办结时限";
const GOOD_ROW: &str =
    "XK00035000,食品经营许可,行政许可,《中华人民共和国食品安全法》第三十五条,泸县市场监督管理局,20,10";

fn csv(lines: &[&str]) -> Vec<u8> {
    lines.join("\n").into_bytes()
}

fn csv_errors(lines: &[&str]) -> Vec<RowError> {
    parse_items(ImportFormat::Csv, &csv(lines)).unwrap_err().errors
}

fn json_errors(text: &str) -> Vec<RowError> {
    parse_items(ImportFormat::Json, text.as_bytes()).unwrap_err().errors
}

/// A realistic set: the 泸县 sample plus items using every optional element shape.
fn realistic_items() -> Vec<PowerItem> {
    let mut items = sample_list("泸县");
    let mut food = food_licence();
    food.code = "XK00036000".into();
    food.implementing_body_code = Some(format!("11510521MB0000001{}", credit_check_char("11510521MB0000001").unwrap()));
    food.flow.push(FlowStep { step: "审查".into(), handler: String::new(), days: Some(3) });
    food.flow.push(FlowStep { step: "决定".into(), handler: "局长".into(), days: None });
    food.flow.push(FlowStep { step: "送达".into(), handler: String::new(), days: None });
    items.push(food);
    let mut cancelled = food_licence();
    cancelled.code = "510500-XK-0035".into();
    cancelled.status = ItemStatus::Cancelled;
    cancelled.time_limit = TimeLimit::default();
    cancelled.name = "=HYPERLINK(\"http://example.invalid\")".into();
    items.push(cancelled);
    items
}

#[test]
fn formats_come_from_file_names_and_names() {
    assert_eq!(ImportFormat::from_file_name("泸县权责清单.CSV"), Some(ImportFormat::Csv));
    assert_eq!(ImportFormat::from_file_name("/tmp/list.v2.json"), Some(ImportFormat::Json));
    assert_eq!(ImportFormat::from_file_name("list.xlsx"), Some(ImportFormat::Xlsx));
    assert_eq!(ImportFormat::from_file_name("旧清单.XLS"), Some(ImportFormat::Xls));
    assert_eq!(ImportFormat::from_file_name("list.xlsm"), None);
    assert_eq!(ImportFormat::from_file_name("dir.csv/list"), None);
    assert_eq!(ImportFormat::from_file_name("csv"), None);
    assert_eq!(" JSON ".parse::<ImportFormat>(), Ok(ImportFormat::Json));
    assert_eq!("csv".parse::<ImportFormat>().unwrap().to_string(), "csv");
    assert_eq!("XLSX".parse::<ImportFormat>().unwrap().key(), "xlsx");
    assert!(ImportFormat::Xls.is_workbook() && !ImportFormat::Csv.is_workbook());
    assert!("ods".parse::<ImportFormat>().unwrap_err().to_string().contains("xlsx"));
}

#[test]
fn a_good_csv_reads_with_rows_from_2() {
    let batch = parse_items(ImportFormat::Csv, &csv(&[HEADER, GOOD_ROW])).unwrap();
    assert_eq!((batch.first_row, batch.rows.clone()), (2, vec![2]));
    let item = &batch.items[0];
    assert_eq!(item.category, Category::Licensing);
    assert_eq!(item.basis, vec![Citation { law: "中华人民共和国食品安全法".into(), article: "第三十五条".into() }]);
    assert_eq!(item.time_limit, TimeLimit { legal_days: Some(20), promised_days: Some(10) });
    assert_eq!(item.status, ItemStatus::Active);
}

#[test]
fn csv_round_trip_keeps_a_realistic_list() {
    let items = realistic_items();
    let text = items_to_csv(&items);
    assert!(text.starts_with("\u{feff}事项编码,事项名称,职权类别,设定依据,实施主体,实施主体统一社会信用代码,责任事项"));
    assert!(text.contains(",\"'=HYPERLINK"), "formula cells are guarded");
    let batch = parse_items(ImportFormat::Csv, text.as_bytes()).unwrap();
    assert_eq!(batch.items, items);
    assert_eq!(batch.warnings.len(), 1, "the legacy code");
    assert_eq!(batch.warnings[0].row, 2 + items.len() - 1);
}

#[test]
fn xlsx_round_trip_keeps_a_realistic_list() {
    let items = realistic_items();
    let bytes = items_to_xlsx(&items).unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip");
    let batch = parse_items(ImportFormat::Xlsx, &bytes).unwrap();
    assert_eq!(batch.items, items);
    assert_eq!(batch.sheet.as_deref(), Some(ITEMS_SHEET));
    assert_eq!((batch.first_row, batch.rows.len()), (2, items.len()));
    assert_eq!(batch.warnings.len(), 1, "the legacy code");
    // The same bytes under the other workbook name read the same (told apart by content).
    assert_eq!(parse_items(ImportFormat::Xls, &bytes).unwrap().items, items);
}

#[test]
fn json_round_trip_and_the_items_object() {
    let items = realistic_items();
    let text = items_to_json(&items);
    assert_eq!(parse_items(ImportFormat::Json, text.as_bytes()).unwrap().items, items);
    let wrapped = format!("\u{feff}{{\"division\": \"510521\", \"items\": {text}}}");
    let batch = parse_items(ImportFormat::Json, wrapped.as_bytes()).unwrap();
    assert_eq!((batch.items.len(), batch.first_row), (items.len(), 1));
}

#[test]
fn header_variants_as_offices_write_them() {
    let lines = [
        "序号,权力编码,职权名称,权力类别,法律依据,实施机关,统一社会信用代码,法定时限（工作日）,承诺时限(工作日),流程,廉政风险点,状态,责任事项",
        "1,CF00012000,对无证经营的处罚,处罚,《中华人民共和国食品安全法》第一百二十二条,泸县市场监督管理局,,20个工作日,20工作日,立案->调查,以罚代刑,在用,\"立案责任\n调查责任；决定责任\"",
    ];
    let item = parse_items(ImportFormat::Csv, &csv(&lines)).unwrap().items.remove(0);
    assert_eq!((item.code.as_str(), item.category), ("CF00012000", Category::Penalty));
    assert_eq!(item.implementing_body_code, None);
    assert_eq!(item.time_limit, TimeLimit { legal_days: Some(20), promised_days: Some(20) });
    assert_eq!(item.flow.len(), 2);
    assert_eq!(item.responsibilities, ["立案责任", "调查责任", "决定责任"]);
    let english = ["code,name,category,basis,implementing_body", "QT00001000,其他事项,其他职权,《某条例》,泸县民政局"];
    assert_eq!(parse_items(ImportFormat::Csv, &csv(&english)).unwrap().items[0].category, Category::Other);
    let title = ["泸县市场监督管理局权责清单,,,,,,", HEADER, GOOD_ROW];
    let batch = parse_items(ImportFormat::Csv, &csv(&title)).unwrap();
    assert_eq!((batch.first_row, batch.rows.clone()), (3, vec![3]));
}

#[test]
fn invalid_utf8_is_reported_on_its_line() {
    let mut bytes = csv(&[HEADER, GOOD_ROW, ""]);
    bytes.extend_from_slice(b"XK00036000,\xe3\xf2\xcf\xd8,"); // GBK 泸县
    let errs = parse_items(ImportFormat::Csv, &bytes).unwrap_err().errors;
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].row, errs[0].field), (3, None));
    assert!(errs[0].message.contains("UTF-8") && errs[0].message.contains("CSV UTF-8"), "{}", errs[0].message);
    let errs = parse_items(ImportFormat::Json, b"\xff\xfe[]").unwrap_err().errors;
    assert_eq!(errs[0].row, 1);
}

#[test]
fn a_bom_is_stripped() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(csv(&[HEADER, GOOD_ROW]));
    assert_eq!(parse_items(ImportFormat::Csv, &bytes).unwrap().items.len(), 1);
}

#[test]
fn a_row_with_the_wrong_column_count_is_named() {
    let errs = csv_errors(&[HEADER, GOOD_ROW, "XK00036000,食品生产许可,行政许可"]);
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].row, errs[0].field), (3, None));
    assert_eq!(errs[0].message, "列数为 3，表头为 7 列 / row has 3 columns, header has 7");
}

#[test]
fn blank_lines_and_multi_line_cells_keep_spreadsheet_row_numbers() {
    // Row 2 is blank, row 3 has a cell over two lines, rows 4–5 are blank (one only commas).
    let text = format!(
        "{HEADER}\r\n\r\n{}\r\n\r\n,,,,,,\r\nXK00035000,x,许可,《法》,局,1,2",
        GOOD_ROW.replace("食品经营许可", "\"食品\r\n经营许可\"")
    );
    let errs = parse_items(ImportFormat::Csv, text.as_bytes()).unwrap_err().errors;
    let got: Vec<(usize, Option<Field>)> = errs.iter().map(|e| (e.row, e.field)).collect();
    assert_eq!(got, [(6, Some(Field::Code)), (6, Some(Field::PromisedDays))]);
    assert!(errs[0].message.contains("第 3 行"), "{}", errs[0].message);
    let lf = format!("\n{HEADER}\n\n{GOOD_ROW}\n");
    assert_eq!(parse_items(ImportFormat::Csv, lf.as_bytes()).unwrap().rows, [4]);
}

#[test]
fn unknown_headers_are_named_and_the_serial_column_ignored() {
    let errs = csv_errors(&[&format!("序号,{HEADER},备注,办理地点"), &format!("1,{GOOD_ROW},,")]);
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.message.as_str())).collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].0 == 1 && got[0].1.contains("备注") && got[0].1.contains("第 9 列"), "{got:?}");
    assert!(got[1].1.contains("办理地点"));
    assert!(parse_items(ImportFormat::Csv, &csv(&[&format!("序号,{HEADER}"), &format!("1,{GOOD_ROW}")])).is_ok());
}

#[test]
fn missing_and_repeated_headers_are_each_named() {
    let errs = csv_errors(&["事项名称,设定依据,名称", "a,b,c"]);
    let got: Vec<(usize, Option<Field>)> = errs.iter().map(|e| (e.row, e.field)).collect();
    assert_eq!(
        got,
        [
            (1, Some(Field::Code)),
            (1, Some(Field::Name)),
            (1, Some(Field::Category)),
            (1, Some(Field::ImplementingBody))
        ]
    );
    assert!(errs[0].message.contains("事项编码"));
    assert!(errs[1].message.contains("第 3 列"));
    assert!(errs[3].message.contains("实施主体"));
}

#[test]
fn an_unknown_category_names_row_and_field() {
    let errs = csv_errors(&[HEADER, GOOD_ROW, "XK00036000,食品生产许可,行政备案,《食品安全法》,泸县市场监督管理局,,"]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].row, errs[0].field), (3, Some(Field::Category)));
    assert!(errs[0].message.contains("行政备案"));
    let errs = csv_errors(&[HEADER, "XK00036000,食品生产许可, ,《食品安全法》,泸县市场监督管理局,,"]);
    assert!(errs[0].message.contains("职权类别不能为空"));
}

#[test]
fn bad_cells_and_rule_breaks_are_all_reported_sorted() {
    let errs = csv_errors(&[
        &format!("{HEADER},状态,办理流程"),
        "CF00012000,处罚,行政许可,《法》第一条,局,二十,,已撤销,（窗口）",
        "XK00035000,许可,许可,,局,10,15,,",
        &format!("{GOOD_ROW},,"),
    ]);
    let got: Vec<(usize, Option<Field>)> = errs.iter().map(|e| (e.row, e.field)).collect();
    assert_eq!(
        got,
        [
            (2, Some(Field::Code)),
            (2, Some(Field::LegalDays)),
            (2, Some(Field::Flow)),
            (2, Some(Field::Status)),
            (3, Some(Field::Basis)),
            (3, Some(Field::PromisedDays)),
            (4, Some(Field::Code)),
        ]
    );
    assert!(errs[0].message.contains("CF"), "letters mismatch: {}", errs[0].message);
    assert!(errs[1].message.contains("二十"));
    assert!(errs[3].message.contains("已撤销"));
    assert!(errs[6].message.contains("第 3 行"), "duplicate of row 3");
}

#[test]
fn a_value_in_a_column_without_header_is_refused() {
    let errs = csv_errors(&[&format!("{HEADER},"), &format!("{GOOD_ROW},备注")]);
    assert_eq!((errs[0].row, errs[0].field), (2, None));
    assert!(errs[0].message.contains("第 8 列"));
    assert!(parse_items(ImportFormat::Csv, &csv(&[&format!("{HEADER},"), &format!("{GOOD_ROW},")])).is_ok());
}

#[test]
fn empty_files_have_no_items() {
    for (format, text) in [
        (ImportFormat::Csv, ""),
        (ImportFormat::Csv, "\u{feff} \n\n"),
        (ImportFormat::Csv, HEADER),
        (ImportFormat::Json, "[]"),
        (ImportFormat::Json, "{\"items\": []}"),
        (ImportFormat::Json, ""),
    ] {
        let errs = parse_items(format, text.as_bytes()).unwrap_err().errors;
        assert_eq!(errs.len(), 1, "{text:?}");
        assert_eq!(errs[0].message, "文件中没有事项 / no items in file");
    }
}

#[test]
fn a_json_syntax_error_names_its_line() {
    let errs = json_errors("[\n  {\"code\": \"XK00035000\",}\n]");
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].row, errs[0].field), (2, None));
    assert!(errs[0].message.starts_with("JSON 格式错误（第 2 行第"), "{}", errs[0].message);
    assert!(errs[0].message.ends_with("/ malformed JSON"));
    let errs = json_errors("{\"list\": []}");
    assert!(errs[0].message.contains("items"));
}

#[test]
fn json_elements_that_do_not_read_are_named_by_index_and_field() {
    let good = serde_json::to_value(food_licence()).unwrap();
    let mut bad_category = good.clone();
    bad_category["category"] = "行政备案".into();
    bad_category["code"] = "XK00036000".into();
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("implementing_body");
    let mut bad_days = good.clone();
    bad_days["time_limit"]["promised_days"] = "十天".into();
    bad_days["code"] = "XK00037000".into();
    let text =
        serde_json::to_string(&[good.clone(), bad_category, missing, bad_days, "食品经营许可".into(), good]).unwrap();
    let errs = json_errors(&text);
    let got: Vec<(usize, Option<Field>)> = errs.iter().map(|e| (e.row, e.field)).collect();
    assert_eq!(
        got,
        [
            (2, Some(Field::Category)),
            (3, Some(Field::ImplementingBody)),
            (4, Some(Field::PromisedDays)),
            (5, None),
            (6, Some(Field::Code))
        ]
    );
    assert!(errs[0].message.contains("行政备案") && errs[0].message.ends_with("/ invalid item"));
    assert!(errs[4].message.contains("第 1 行"), "duplicate of the first element");
}

#[test]
fn import_errors_display_every_row() {
    let err = parse_items(ImportFormat::Csv, &csv(&[HEADER, GOOD_ROW, GOOD_ROW])).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("导入失败，共 1 处错误"), "{text}");
    assert!(text.contains("第 3 行 事项编码 (code)（A 列）"), "{text}");
}

#[test]
fn cell_errors_name_the_spreadsheet_column_of_their_element() {
    let bad = GOOD_ROW.replacen("20", "二十", 1);
    let err = parse_items(ImportFormat::Csv, &csv(&[HEADER, &bad])).unwrap_err();
    let e = &err.errors[0];
    let position = HEADER.split(',').position(|h| Some(h) == e.field.map(|f| f.label())).map(|i| i + 1);
    assert!(e.column.is_some(), "{e}");
    assert_eq!(e.column.clone(), position.map(crate::list::column_letter), "{e}");
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(json["column"], serde_json::json!(e.column), "the API sends the column");
}

fn text(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[=@+a-z0-9\\x{{4e00}}-\\x{{4e2f}}]{{1,{len}}}")).unwrap()
}

fn cjk(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[\\x{{4e00}}-\\x{{4e2f}}][a-z0-9\\x{{4e00}}-\\x{{4e2f}}]{{0,{len}}}"))
        .unwrap()
}

fn citation() -> impl Strategy<Value = Citation> {
    (cjk(8), proptest::option::of(1u32..300))
        .prop_map(|(law, n)| Citation { law, article: n.map(|n| format!("第{n}条")).unwrap_or_default() })
}

prop_compose! {
    fn arb_item(index: usize)(
        category in prop::sample::select(Category::ALL.to_vec()),
        sub in 0u32..1000,
        name in text(12),
        basis in prop::collection::vec(citation(), 1..3),
        body in text(10),
        credit in proptest::option::of("[0-9A-HJ-NP-RTUWXY]{17}"),
        lists in prop::collection::vec(prop::collection::vec(text(10), 0..3), 5),
        accountability_basis in prop::collection::vec(citation(), 0..3),
        days in proptest::option::of((1u32..60, proptest::option::of(0u32..60))),
        flow in prop::collection::vec((cjk(4), proptest::option::of(cjk(4)), proptest::option::of(0u32..9)), 0..4),
        status in prop::sample::select(vec![ItemStatus::Active, ItemStatus::Cancelled, ItemStatus::Delegated]),
    ) -> PowerItem {
        let (legal_days, promised_days) = match days {
            Some((legal, promised)) => (Some(legal), promised.map(|p| p.min(legal))),
            None => (None, None),
        };
        PowerItem {
            code: format!("{}{index:05}{sub:03}", category.letters()),
            name,
            category,
            basis,
            implementing_body: body,
            implementing_body_code: credit.map(|c| format!("{c}{}", credit_check_char(&c).unwrap())),
            responsibilities: lists[0].clone(),
            accountability: lists[1].clone(),
            accountability_basis,
            supervision: lists[2].clone(),
            remedies: lists[3].clone(),
            time_limit: TimeLimit { legal_days, promised_days },
            flow: flow
                .into_iter()
                .map(|(step, handler, days)| FlowStep { step, handler: handler.unwrap_or_default(), days })
                .collect(),
            risk_points: lists[4].clone(),
            status,
            status_reason: String::new(),
        }
    }
}

fn arb_items() -> impl Strategy<Value = Vec<PowerItem>> {
    (1usize..6).prop_flat_map(|n| (0..n).map(arb_item).collect::<Vec<_>>())
}

/// CSV-looking text: headers, separators, quotes and cells in any order.
fn csvish() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "事项编码",
        "事项名称",
        "职权类别",
        "设定依据",
        "实施主体",
        "序号",
        "法定时限（工作日）",
        "流程",
        ",",
        ",",
        "\n",
        "\r\n",
        "\r",
        "\"",
        "XK00035000",
        "行政许可",
        "《法》第一条",
        "（窗口，",
        "1个工作日）",
        "→",
        "->",
        "'=",
        " ",
        "状态",
        "；",
    ]);
    prop::collection::vec(parts, 0..60).prop_map(|parts| parts.concat())
}

fn jsonish() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "\"code\"",
        "\"XK00035000\"",
        "\"items\"",
        "\"category\"",
        "\"行政许可\"",
        "\"basis\"",
        "\"time_limit\"",
        "\"legal_days\"",
        "-1",
        "1e99",
        "null",
        "\"",
        "\n",
        "{\"law\":\"法\"}",
    ]);
    prop::collection::vec(parts, 0..60).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn csv_and_json_round_trip_generated_items(items in arb_items()) {
        let csv_batch = parse_items(ImportFormat::Csv, items_to_csv(&items).as_bytes());
        prop_assert_eq!(&csv_batch.map(|b| b.items), &Ok(items.clone()));
        let json_batch = parse_items(ImportFormat::Json, items_to_json(&items).as_bytes());
        prop_assert_eq!(json_batch.map(|b| b.items), Ok(items));
    }

    #[test]
    fn xlsx_round_trips_generated_items(items in arb_items()) {
        let bytes = items_to_xlsx(&items).unwrap();
        prop_assert_eq!(parse_items(ImportFormat::Xlsx, &bytes).map(|b| b.items), Ok(items));
    }

    #[test]
    fn workbook_import_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for format in [ImportFormat::Xlsx, ImportFormat::Xls] {
            let errors = parse_items(format, &bytes).unwrap_err().errors;
            prop_assert_eq!(errors.len(), 1);
            prop_assert_eq!(errors[0].row, 1);
        }
    }

    #[test]
    fn parse_items_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_items(ImportFormat::Csv, &bytes);
        let _ = parse_items(ImportFormat::Json, &bytes);
    }

    #[test]
    fn parse_items_never_panics_on_csv_or_json_like_text(csv in csvish(), json in jsonish()) {
        if let Err(e) = parse_items(ImportFormat::Csv, csv.as_bytes()) {
            prop_assert!(!e.errors.is_empty());
            prop_assert!(e.errors.windows(2).all(|w| w[0].row <= w[1].row));
        }
        if let Err(e) = parse_items(ImportFormat::Json, json.as_bytes()) {
            prop_assert!(!e.errors.is_empty());
        }
    }
}
