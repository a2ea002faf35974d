use proptest::prelude::*;

use super::parse_catalogue_csv;
use crate::catalogue::CatalogueChange;
use crate::category::Category;
use crate::item::{Citation, Field, ItemPatch, ItemStatus, PowerItem, TimeLimit};
use crate::list::RowError;
use crate::tier::Tier;

const HEADER: &str =
    "事项编码,事项名称,职权类别,设定依据,实施主体,法定办结时限,承诺办结时限,调整方式,行使层级,调整理由,关联编码";
const BASIS: &str = "《中华人民共和国行政许可法》第十二条";
const BODY: &str = "四川省市场监督管理局";

/// A row of a whole new item (行政许可, 20/10 days) with the four extra cells.
fn full(code: &str, name: &str, kind: &str, tiers: &str, reason: &str, related: &str) -> String {
    format!("{code},{name},行政许可,{BASIS},{BODY},20,10,{kind},{tiers},{reason},{related}")
}

/// A row with only the code and the extra cells filled.
fn bare(code: &str, kind: &str, tiers: &str, reason: &str, related: &str) -> String {
    format!("{code},,,,,,,{kind},{tiers},{reason},{related}")
}

/// The item `full(code, name, …)` describes.
fn item(code: &str, name: &str) -> PowerItem {
    PowerItem {
        code: code.into(),
        name: name.into(),
        category: Category::Licensing,
        basis: vec![Citation { law: "中华人民共和国行政许可法".into(), article: "第十二条".into() }],
        implementing_body: BODY.into(),
        implementing_body_code: None,
        responsibilities: vec![],
        accountability: vec![],
        accountability_basis: vec![],
        supervision: vec![],
        remedies: vec![],
        time_limit: TimeLimit { legal_days: Some(20), promised_days: Some(10) },
        flow: vec![],
        risk_points: vec![],
        status: ItemStatus::Active,
        status_reason: String::new(),
    }
}

fn sheet<S: AsRef<str>>(rows: &[S]) -> Vec<u8> {
    let mut lines = vec![HEADER.to_string()];
    lines.extend(rows.iter().map(|r| r.as_ref().to_string()));
    lines.join("\n").into_bytes()
}

fn parse<S: AsRef<str>>(rows: &[S]) -> Vec<CatalogueChange> {
    parse_catalogue_csv(&sheet(rows)).unwrap_or_else(|e| panic!("{e}"))
}

fn errors<S: AsRef<str>>(rows: &[S]) -> Vec<RowError> {
    parse_catalogue_csv(&sheet(rows)).unwrap_err().errors
}

fn lines(errors: &[RowError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn an_add_row_is_a_new_item_with_its_tiers() {
    let changes = parse(&[full("XK00001000", "新许可", "新增", "市；县", "", "")]);
    assert_eq!(
        changes,
        [CatalogueChange::Add { item: item("XK00001000", "新许可"), tiers: vec![Tier::City, Tier::County] }]
    );
    let changes = parse(&[full("XK00001000", "新许可", "add", "\"province, city/乡镇、县\"", "", "")]);
    let CatalogueChange::Add { tiers, .. } = &changes[0] else { panic!("{changes:?}") };
    assert_eq!(tiers, &[Tier::Province, Tier::City, Tier::Township, Tier::County]);
}

#[test]
fn a_cancel_row_needs_only_the_code_and_the_reason() {
    let changes = parse(&[bare("XK00002000", "取消", "", "法律修订后不再保留", "")]);
    assert_eq!(changes, [CatalogueChange::Cancel { code: "XK00002000".into(), reason: "法律修订后不再保留".into() }]);
    // Other cells filled in for reference are not read.
    let changes = parse(&[full("XK00002000", "旧许可", "取消", "", "不再保留", "")]);
    assert_eq!(changes, [CatalogueChange::Cancel { code: "XK00002000".into(), reason: "不再保留".into() }]);
}

#[test]
fn a_delegate_row_gives_the_new_tiers() {
    let changes = parse(&[bare("XK00003000", "下放", "县", "就近办理", "")]);
    assert_eq!(
        changes,
        [CatalogueChange::Delegate {
            code: "XK00003000".into(), tiers: vec![Tier::County], reason: "就近办理".into()
        }]
    );
}

#[test]
fn an_adjust_row_with_only_the_name_patches_only_the_name() {
    let row = "XK00004000,食品经营许可（含小作坊）,,,,,,调整要素,,,";
    let changes = parse(&[row]);
    let patch = ItemPatch { name: Some("食品经营许可（含小作坊）".into()), ..ItemPatch::default() };
    assert_eq!(changes, [CatalogueChange::Adjust { code: "XK00004000".into(), patch }]);
}

#[test]
fn an_adjust_row_patches_every_filled_element_and_keeps_blank_limits() {
    let row = format!("XK00004000,,行政处罚,{BASIS},,,5个工作日,调整,,,");
    let changes = parse(&[row]);
    let patch = ItemPatch {
        category: Some(Category::Penalty),
        basis: Some(item("", "").basis),
        time_limit: Some(TimeLimit { legal_days: None, promised_days: Some(5) }),
        ..ItemPatch::default()
    };
    assert_eq!(changes, [CatalogueChange::Adjust { code: "XK00004000".into(), patch }]);
}

#[test]
fn an_adjust_row_without_any_element_is_refused() {
    let errs = errors(&[bare("XK00004000", "调整要素", "", "", "")]);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].row, 2);
    assert!(errs[0].message.starts_with("调整方式：调整要素须至少填写一个"), "{}", errs[0]);
}

#[test]
fn a_merge_row_is_the_new_item_with_the_merged_codes() {
    let row = full("XK00010000", "合并后的许可", "合并", "", "职责相近", "\"XK00005000, XK00006000\"");
    let changes = parse(&[row]);
    assert_eq!(
        changes,
        [CatalogueChange::Merge {
            codes: vec!["XK00005000".into(), "XK00006000".into()],
            into: item("XK00010000", "合并后的许可"),
            reason: "职责相近".into(),
        }]
    );
    let errs = errors(&[full("XK00010000", "合并后的许可", "合并", "", "职责相近", "XK00005000")]);
    assert!(errs[0].message.starts_with("关联编码：合并须列出至少两个"), "{}", errs[0]);
}

#[test]
fn split_rows_with_one_old_code_make_one_split() {
    let changes = parse(&[
        full("XK00011000", "许可甲", "拆分", "", "分类管理", "XK00007000"),
        full("XK00012000", "许可乙", "拆分", "", "分类管理", "XK00007000"),
    ]);
    assert_eq!(
        changes,
        [CatalogueChange::Split {
            code: "XK00007000".into(),
            into: vec![item("XK00011000", "许可甲"), item("XK00012000", "许可乙")],
            reason: "分类管理".into(),
        }]
    );
}

#[test]
fn a_split_needs_two_new_items_and_one_old_code() {
    let errs = errors(&[
        full("XK00011000", "许可甲", "拆分", "", "分类管理", "XK00007000"),
        full("XK00012000", "许可乙", "拆分", "", "分类管理", "XK00008000；XK00009000"),
    ]);
    assert_eq!(errs.iter().map(|e| e.row).collect::<Vec<_>>(), [2, 3, 3]);
    assert!(errs[0].message.contains("至少需要两个"), "{}", errs[0]);
    assert!(errs[1].message.contains("只关联一个原事项编码"), "{}", errs[1]);
}

#[test]
fn a_mixed_sheet_gives_every_change_in_order() {
    let changes = parse(&[
        full("XK00001000", "新许可", "新增", "市；县", "", ""),
        full("XK00011000", "许可甲", "拆分", "", "分类管理", "XK00007000"),
        bare("XK00002000", "取消", "", "不再保留", ""),
        full("XK00020000", "另一拆分甲", "split", "", "试点", "XK00008000"),
        bare("XK00003000", "下放", "县", "就近办理", ""),
        "XK00004000,新名称,,,,,,调整要素,,,".to_string(),
        full("XK00012000", "许可乙", "拆分", "", "分类管理", "XK00007000"),
        full("XK00010000", "合并后的许可", "合并", "", "职责相近", "XK00005000；XK00006000"),
        full("XK00021000", "另一拆分乙", "split", "", "试点；扩大", "XK00008000"),
        full("XK00013000", "许可丙", "拆分", "", "分类管理", "XK00007000"),
    ]);
    let expected = vec![
        CatalogueChange::Add { item: item("XK00001000", "新许可"), tiers: vec![Tier::City, Tier::County] },
        CatalogueChange::Split {
            code: "XK00007000".into(),
            into: vec![item("XK00011000", "许可甲"), item("XK00012000", "许可乙"), item("XK00013000", "许可丙")],
            reason: "分类管理".into(),
        },
        CatalogueChange::Cancel { code: "XK00002000".into(), reason: "不再保留".into() },
        CatalogueChange::Split {
            code: "XK00008000".into(),
            into: vec![item("XK00020000", "另一拆分甲"), item("XK00021000", "另一拆分乙")],
            reason: "试点；试点；扩大".into(),
        },
        CatalogueChange::Delegate {
            code: "XK00003000".into(), tiers: vec![Tier::County], reason: "就近办理".into()
        },
        CatalogueChange::Adjust {
            code: "XK00004000".into(),
            patch: ItemPatch { name: Some("新名称".into()), ..ItemPatch::default() },
        },
        CatalogueChange::Merge {
            codes: vec!["XK00005000".into(), "XK00006000".into()],
            into: item("XK00010000", "合并后的许可"),
            reason: "职责相近".into(),
        },
    ];
    assert_eq!(changes, expected);
}

#[test]
fn bom_title_row_blank_lines_and_crlf_keep_excel_row_numbers() {
    let text = format!(
        "\u{feff}泸州市权责清单目录调整表,,,,,,,,,,\r\n{HEADER}\r\n{}\r\n\r\n{}\r\n",
        full("XK00001000", "新许可", "新增", "市", "", ""),
        bare("XK00003000", "下放", "村", "就近办理", ""),
    );
    let errs = parse_catalogue_csv(text.as_bytes()).unwrap_err().errors;
    assert_eq!(lines(&errs).len(), 1);
    assert_eq!(errs[0].row, 5);
    assert!(lines(&errs)[0].starts_with("第 5 行（I 列）: 行使层级：未知层级 “村”"), "{}", errs[0]);
    assert!(lines(&errs)[0].ends_with("/ unknown tier"), "{}", errs[0]);

    let good = text.replace("村", "县");
    assert_eq!(parse_catalogue_csv(good.as_bytes()).unwrap().len(), 2);

    let blank_first = format!("\n\n{HEADER}\n{}", bare("XK00003000", "下放", "村", "就近办理", ""));
    assert_eq!(parse_catalogue_csv(blank_first.as_bytes()).unwrap_err().errors[0].row, 4);
}

#[test]
fn multi_line_cells_count_as_one_row() {
    let header = HEADER.replace("法定办结时限", "\"法定办结时限\n（工作日）\"");
    let text = format!(
        "{header}\n{}\n{}\n",
        bare("XK00002000", "取消", "", "\"不再保留\n（法律已废止）\"", ""),
        bare("XK00003000", "下放", "镇；村", "就近办理", ""),
    );
    let errs = parse_catalogue_csv(text.as_bytes()).unwrap_err().errors;
    assert_eq!(errs.iter().map(|e| e.row).collect::<Vec<_>>(), [3]);
    let good = text.replace("；村", "");
    let changes = parse_catalogue_csv(good.as_bytes()).unwrap();
    assert_eq!(
        changes[0],
        CatalogueChange::Cancel { code: "XK00002000".into(), reason: "不再保留\n（法律已废止）".into() }
    );
}

#[test]
fn every_bad_row_is_reported_at_once_with_row_and_column() {
    let errs = errors(&[
        full("XK00001000", "新许可", "新增", "市；村", "", ""),
        bare("XK00002000", "取消", "", "", ""),
        full("XK00003000", "许可", "变更", "", "", ""),
        String::new(),
        full("XK00001000", "", "新增", "", "", ""),
        bare("", "下放", "县", "就近办理", ""),
        full("XK00010000", "合并后的许可", "合并", "", "", "XK00005000；XK00006000"),
        "XK00004000,,,,,,二十,调整,,,".to_string(),
    ]);
    let got: Vec<(usize, Option<Field>, String)> =
        errs.iter().map(|e| (e.row, e.field, e.message.split(" / ").next().unwrap().to_string())).collect();
    let expected: Vec<(usize, Option<Field>, &str)> = vec![
        (2, None, "行使层级：未知层级 “村”，应为 province/city/county/township 或 省/市/县/乡镇"),
        (3, None, "调整理由：取消须填写调整理由"),
        (4, None, "调整方式：未知调整方式 “变更”，应为新增、取消、下放、调整要素、合并或拆分"),
        (6, Some(Field::Code), "事项编码 “XK00001000” 与第 2 行重复"),
        (6, Some(Field::Name), "事项名称不能为空"),
        (6, None, "行使层级：新增须填写行使层级"),
        (7, Some(Field::Code), "事项编码不能为空"),
        (8, None, "调整理由：合并须填写调整理由"),
        (9, Some(Field::PromisedDays), "“二十” 不是工作日数，应写作 20 或 20个工作日"),
    ];
    let expected: Vec<(usize, Option<Field>, String)> =
        expected.into_iter().map(|(r, f, m)| (r, f, m.to_string())).collect();
    assert_eq!(got, expected, "{:#?}", lines(&errs));
    assert!(errs.iter().all(|e| e.message.contains(" / ")), "{:#?}", lines(&errs));
}

#[test]
fn errors_within_a_row_follow_its_columns() {
    let errs = errors(&[full("", "", "新增", "村", "", "")]);
    let order: Vec<String> = errs.iter().map(|e| e.message.split('：').next().unwrap().to_string()).collect();
    assert_eq!(errs.iter().map(|e| e.field).collect::<Vec<_>>(), [Some(Field::Code), Some(Field::Name), None]);
    assert_eq!(order[2], "行使层级");
}

#[test]
fn an_item_that_fails_validation_reuses_the_item_messages() {
    let row = "XK00001000,新许可,行政许可,,,20,30,新增,市,,";
    let errs = errors(&[row]);
    let fields: Vec<Option<Field>> = errs.iter().map(|e| e.field).collect();
    assert_eq!(fields, [Some(Field::Basis), Some(Field::ImplementingBody), Some(Field::PromisedDays)]);
    assert!(errs[0].message.starts_with("设定依据不能为空"));
}

#[test]
fn header_problems_are_reported_on_the_header_row() {
    let no_kind = "事项编码,事项名称,职权类别,设定依据,实施主体,调整理由";
    let errs = parse_catalogue_csv(format!("{no_kind}\nXK00002000,,,,,不再保留").as_bytes()).unwrap_err().errors;
    assert_eq!(lines(&errs), ["第 1 行: 缺少必需的列 “调整方式” / missing required column kind"]);

    let no_tiers = "事项编码,事项名称,职权类别,设定依据,实施主体,调整方式,调整理由";
    let text = format!("{no_tiers}\nXK00002000,,,,,取消,不再保留\nXK00003000,,,,,下放,就近办理");
    let errs = parse_catalogue_csv(text.as_bytes()).unwrap_err().errors;
    assert_eq!(
        lines(&errs),
        ["第 1 行: 缺少列 “行使层级”，第 3 行（下放）需要 / missing column tiers, needed by row 3"]
    );

    let errs = parse_catalogue_csv(format!("{HEADER},备注,调整方式\n").as_bytes()).unwrap_err().errors;
    assert_eq!(errs.len(), 2, "{:#?}", lines(&errs));
    assert!(errs.iter().all(|e| e.row == 1));
    assert!(errs[0].message.contains("未知表头 “备注”"), "{}", errs[0]);
    assert!(errs[1].message.contains("第 13 列与第 8 列都是“调整方式”"), "{}", errs[1]);

    let errs = parse_catalogue_csv("调整方式,调整理由\n取消,不再保留".as_bytes()).unwrap_err().errors;
    assert!(errs.iter().any(|e| e.field == Some(Field::Code) && e.message.contains("缺少必需的列")));
}

#[test]
fn only_a_cancel_sheet_needs_no_tiers_or_related_columns() {
    let text = "事项编码,事项名称,职权类别,设定依据,实施主体,调整方式,调整理由\nXK00002000,,,,,取消,不再保留";
    assert_eq!(
        parse_catalogue_csv(text.as_bytes()).unwrap(),
        [CatalogueChange::Cancel { code: "XK00002000".into(), reason: "不再保留".into() }]
    );
}

#[test]
fn english_headers_kinds_and_marked_headers_are_accepted() {
    let text = format!(
        "code,name,category,basis,implementing_body,*调整方式（新增/取消等）, Tiers ,REASON,related\n\
         XK00001000,新许可,行政许可,{BASIS},{BODY},Add,city,,\n\
         XK00002000,,,,,CANCEL,,gone,"
    );
    let changes = parse_catalogue_csv(text.as_bytes()).unwrap();
    assert_eq!(changes.len(), 2);
    assert!(matches!(&changes[0], CatalogueChange::Add { tiers, .. } if tiers == &[Tier::City]));
    assert_eq!(changes[1], CatalogueChange::Cancel { code: "XK00002000".into(), reason: "gone".into() });
}

#[test]
fn empty_files_and_header_only_files_are_refused() {
    for text in ["", " \n\n", "\u{feff}"] {
        let errs = parse_catalogue_csv(text.as_bytes()).unwrap_err().errors;
        assert_eq!(lines(&errs), ["第 1 行: 文件中没有调整内容 / no changes in file"], "{text:?}");
    }
    let errs = parse_catalogue_csv(format!("{HEADER}\n\n,,,\n").as_bytes()).unwrap_err().errors;
    assert_eq!(lines(&errs), ["第 1 行: 文件中没有调整内容 / no changes in file"]);
    let errs = parse_catalogue_csv(&[0xff, 0xfe, 0x00]).unwrap_err().errors;
    assert!(errs[0].message.contains("UTF-8"));
}

#[test]
fn rows_with_the_wrong_number_of_cells_are_reported() {
    let errs = errors(&["XK00002000,取消,不再保留".to_string(), bare("XK00003000", "下放", "村", "就近办理", "")]);
    assert_eq!(errs.iter().map(|e| e.row).collect::<Vec<_>>(), [2, 3]);
    assert!(errs[0].message.contains("列数为 3"), "{}", errs[0]);
}

/// One well-formed row of a random sheet; splits name their group.
#[derive(Debug, Clone)]
enum Spec {
    Add,
    Cancel,
    Delegate,
    Adjust,
    Merge,
    Split(u8),
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        Just(Spec::Add),
        Just(Spec::Cancel),
        Just(Spec::Delegate),
        Just(Spec::Adjust),
        Just(Spec::Merge),
        (0u8..3).prop_map(Spec::Split),
    ]
}

/// Specs where every split group has at least two rows, shuffled so groups interleave.
fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(spec(), 1..25)
        .prop_map(|mut specs| {
            for g in 0..3u8 {
                let n = specs.iter().filter(|s| matches!(s, Spec::Split(x) if *x == g)).count();
                if n == 1 {
                    specs.push(Spec::Split(g));
                }
            }
            specs
        })
        .prop_shuffle()
}

proptest! {
    #[test]
    fn well_formed_sheets_give_one_change_per_row_and_per_split(
        specs in specs(),
        blank_after in prop::collection::vec(any::<bool>(), 25),
    ) {
        let mut rows = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let new = format!("XK{:05}000", 100 + i);
            let old = format!("XK{:05}000", 500 + i);
            rows.push(match s {
                Spec::Add => full(&new, "新许可", "新增", "市；县", "", ""),
                Spec::Cancel => bare(&old, "取消", "", "不再保留", ""),
                Spec::Delegate => bare(&old, "下放", "县/乡镇", "就近办理", ""),
                Spec::Adjust => format!("{old},新名称,,,,,,调整要素,,,"),
                Spec::Merge => full(&new, "合并", "合并", "", "职责相近", &format!("{old}、XK{:05}000", 800 + i)),
                Spec::Split(g) => full(&new, "拆分", "拆分", "", "分类", &format!("XK{:05}000", 900 + u32::from(*g))),
            });
            if blank_after[i % blank_after.len()] {
                rows.push(String::new());
            }
        }
        let changes = parse_catalogue_csv(&sheet(&rows)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut groups: Vec<u8> = Vec::new();
        let mut expected_kinds = Vec::new();
        for s in &specs {
            let kind = match s {
                Spec::Add => "add",
                Spec::Cancel => "cancel",
                Spec::Delegate => "delegate",
                Spec::Adjust => "adjust",
                Spec::Merge => "merge",
                Spec::Split(g) if groups.contains(g) => continue,
                Spec::Split(g) => {
                    groups.push(*g);
                    "split"
                }
            };
            expected_kinds.push(kind);
        }
        let non_split = specs.iter().filter(|s| !matches!(s, Spec::Split(_))).count();
        prop_assert_eq!(changes.len(), non_split + groups.len());
        prop_assert_eq!(changes.iter().map(CatalogueChange::kind).collect::<Vec<_>>(), expected_kinds);
        for change in &changes {
            if let CatalogueChange::Split { code, into, .. } = change {
                let g = u8::try_from(code[2..7].parse::<u32>().unwrap() - 900).unwrap();
                let n = specs.iter().filter(|s| matches!(s, Spec::Split(x) if *x == g)).count();
                prop_assert_eq!(into.len(), n);
            }
        }
    }
}
