//! A realistic grant of city powers to a county (赋权), modelled on 盘政发〔2016〕37号, in which
//! 盘锦市 (211100) let 盘山县 (211122) exercise 308 city-level items through 29 county
//! departments: the department pairs, the city's items (any number of them, deterministically),
//! the batch items and the batch as the spreadsheet a city office keeps, for demos, trials, tests
//! and benchmarks.
//!
//! Owns the sample departments, the item vocabulary and the CSV text of a batch. It must not do
//! I/O, and must not decide grant rules: what a valid batch is and which kind an item has belong
//! to `grants`; reading the spreadsheet back belongs to `import::parse_grant_csv`.
//!
//! Citations are to the laws and regulations as best known; basic codes have the national shape
//! and the right category letters, but their numbers are illustrative, not the national
//! catalogue's. Credit codes of the departments are left empty rather than invented.

use crate::category::Category::{
    self, Adjudication, Coercion, Confirmation, Inspection, Levy, Licensing, Other, Payment, Penalty, Reward,
};
use crate::grants::{GrantItem, GrantKind};

mod matters;

use crate::item::{Citation, FlowStep, ItemStatus, PowerItem, TimeLimit};
use matters::{MATTERS, Matter};

/// The granting city departments of 盘锦市 and the receiving departments of 盘山县, in the order
/// of the document.
pub const DEPARTMENTS: [(&str, &str); 29] = [
    ("盘锦市经济和信息化委员会", "盘山县经济和信息化局"),
    ("盘锦市教育局", "盘山县教育局"),
    ("盘锦市科学技术局", "盘山县科学技术局"),
    ("盘锦市民族和宗教事务委员会", "盘山县民族宗教事务局"),
    ("盘锦市公安局", "盘山县公安局"),
    ("盘锦市公安消防支队", "盘山县公安消防大队"),
    ("盘锦市民政局", "盘山县民政局"),
    ("盘锦市司法局", "盘山县司法局"),
    ("盘锦市财政局", "盘山县财政局"),
    ("盘锦市人力资源和社会保障局", "盘山县人力资源和社会保障局"),
    ("盘锦市国土资源局", "盘山县国土资源局"),
    ("盘锦市环境保护局", "盘山县环境保护局"),
    ("盘锦市住房和城乡建设委员会", "盘山县住房和城乡建设局"),
    ("盘锦市交通运输局", "盘山县交通局"),
    ("盘锦市农村经济委员会", "盘山县农村经济局"),
    ("盘锦市动物卫生监督管理局", "盘山县动物卫生监督管理局"),
    ("盘锦市水利局", "盘山县水利局"),
    ("盘锦市商务局", "盘山县商务局"),
    ("盘锦市文化广电新闻出版局", "盘山县文化广电体育局"),
    ("盘锦市卫生和计划生育委员会", "盘山县卫生和计划生育局"),
    ("盘锦市人民政府金融工作办公室", "盘山县人民政府金融工作办公室"),
    ("盘锦市物价局", "盘山县物价办公室"),
    ("盘锦市市场监督管理局", "盘山县市场监督管理局"),
    ("盘锦市安全生产监督管理局", "盘山县安全生产监督管理局"),
    ("盘锦市旅游局", "盘山县旅游局"),
    ("盘锦市人民防空办公室", "盘山县人民防空办公室"),
    ("盘锦市农业机械化管理局", "盘山县农机总站"),
    ("盘锦市地震局", "盘山县地震办公室"),
    ("盘锦市残疾人联合会", "盘山县残疾人联合会"),
];

/// The granting city and the receiving county, as department names begin.
const CITY: &str = "盘锦市";
const COUNTY: &str = "盘山县";

const OTHER_DUTY: &str = "其他法律法规规章文件规定应履行的责任";
const OTHER_CASE: &str = "其他违反法律法规规章文件规定的行为";
const SANCTIONS: &str = "《中华人民共和国公职人员政务处分法》第三十九条";

/// What every item of one category shares: responsibilities, accountability cases and their
/// basis, the handling flow (step, handler) and the integrity risks.
struct Duties {
    duties: &'static [&'static str],
    cases: &'static [&'static str],
    case_law: &'static [&'static str],
    flow: &'static [(&'static str, &'static str)],
    risks: &'static [&'static str],
}

const LICENSING: Duties = Duties {
    duties: &[
        "受理责任：公示依法应当提交的材料，一次性告知补正材料，依法受理或者不予受理（不予受理的应当告知理由）",
        "审查责任：对申请材料进行审查，提出审查意见，需要现场核查的组织现场核查",
        "决定责任：作出准予或者不予行政许可的决定，不予许可的书面说明理由并告知申请人享有的救济权利",
        "送达责任：准予许可的制发许可证件并送达，依法公开许可结果",
        "事后监管责任：对被许可人从事行政许可事项的活动进行监督检查",
        OTHER_DUTY,
    ],
    cases: &[
        "对符合法定条件的行政许可申请不予受理的",
        "对不符合法定条件的申请人准予行政许可或者超越法定职权作出准予行政许可决定的",
        "对符合法定条件的申请人不予行政许可或者不在法定期限内作出准予行政许可决定的",
        "违反法定程序实施行政许可的",
        "办理行政许可、实施监督检查，索取或者收受他人财物或者谋取其他利益的",
        OTHER_CASE,
    ],
    case_law: &["《中华人民共和国行政许可法》第七十二条、第七十三条、第七十四条", SANCTIONS],
    flow: &[("受理", "政务服务中心窗口"), ("审查", "业务科室"), ("决定", "分管领导"), ("送达", "政务服务中心窗口")],
    risks: &["未一次性告知申请人需要补正的材料", "对不符合条件的申请人准予许可", "擅自增设许可条件"],
};

const PENALTY: Duties = Duties {
    duties: &[
        "立案责任：对发现的涉嫌违法行为进行初步核查，符合立案条件的予以立案",
        "调查责任：执法人员不少于两人，出示执法证件，全面、客观、公正地调查取证",
        "审查责任：对案件违法事实、证据、程序、法律适用、处罚种类和幅度进行法制审核",
        "告知责任：作出处罚决定前告知当事人拟作出处罚的内容及事实、理由、依据和陈述、申辩、要求听证的权利",
        "决定责任：依法作出行政处罚决定，制作行政处罚决定书",
        "送达责任：依照法定方式将行政处罚决定书送达当事人",
        "执行责任：监督当事人履行处罚决定，逾期不履行的依法申请人民法院强制执行",
        OTHER_DUTY,
    ],
    cases: &[
        "没有法定的行政处罚依据实施处罚的",
        "擅自改变行政处罚种类、幅度的",
        "违反法定的行政处罚程序的",
        "对应当予以制止和处罚的违法行为不予制止、处罚的",
        "应当依法移交司法机关追究刑事责任的案件不移交，以行政处罚代替刑事处罚的",
        "截留、私分或者变相私分罚款、没收的违法所得或者财物的",
        OTHER_CASE,
    ],
    case_law: &["《中华人民共和国行政处罚法》第七十六条、第七十九条、第八十二条、第八十三条", SANCTIONS],
    flow: &[
        ("立案", "执法科室"),
        ("调查取证", "执法科室"),
        ("法制审核", "法规科"),
        ("告知", "执法科室"),
        ("决定", "局负责人"),
        ("送达", "执法科室"),
        ("执行", "执法科室"),
    ],
    risks: &["选择性执法", "随意行使自由裁量权", "以罚代刑"],
};

const COERCION: Duties = Duties {
    duties: &[
        "审批责任：实施前向行政机关负责人报告并经批准，情况紧急当场实施的在二十四小时内补办批准手续",
        "实施责任：由两名以上执法人员实施，出示执法证件，通知当事人到场，告知理由、依据和救济途径，制作现场笔录",
        "决定责任：制作并当场交付查封、扣押决定书和清单",
        "保管责任：妥善保管查封、扣押的场所、设施或者财物，不得使用或者损毁",
        "处理责任：在法定期限内查清事实，依法作出没收、销毁或者解除查封、扣押的决定",
        OTHER_DUTY,
    ],
    cases: &[
        "没有法律、法规依据实施行政强制的",
        "改变行政强制对象、条件、方式的",
        "违反法定程序实施行政强制的",
        "扩大查封、扣押范围的",
        "使用或者损毁查封、扣押场所、设施或者财物的",
        "在查封、扣押法定期间不作出处理决定或者未依法及时解除查封、扣押的",
        OTHER_CASE,
    ],
    case_law: &["《中华人民共和国行政强制法》第六十一条、第六十二条、第六十四条", SANCTIONS],
    flow: &[
        ("报告审批", "局负责人"),
        ("实施", "执法科室"),
        ("送达决定书和清单", "执法科室"),
        ("作出处理决定", "局负责人"),
    ],
    risks: &["超范围查封、扣押", "使用或者损毁查封、扣押的财物"],
};

const LEVY: Duties = Duties {
    duties: &[
        "公示责任：公示征收依据、对象、范围和标准",
        "核定责任：按照规定的标准核定应缴金额，送达缴费通知",
        "收缴责任：使用财政部门统一监制的票据，所收款项全额缴入国库",
        "催缴责任：对逾期未缴纳的单位和个人依法催缴",
        OTHER_DUTY,
    ],
    cases: &[
        "擅自设立征收项目或者提高征收标准的",
        "擅自减免或者缓征的",
        "不使用规定票据收费的",
        "截留、挪用、私分征收款项的",
        OTHER_CASE,
    ],
    case_law: &["《财政违法行为处罚处分条例》第四条", SANCTIONS],
    flow: &[("核定", "业务科室"), ("通知缴费", "业务科室"), ("收缴入库", "财务科")],
    risks: &["擅自减免或者提高征收标准", "收费不开具票据"],
};

const PAYMENT: Duties = Duties {
    duties: &[
        "受理责任：公示申请条件和所需材料，一次性告知需要补正的材料",
        "审核责任：核查申请人情况，提出审核意见并依法公示",
        "决定责任：作出给付或者不予给付的决定，不予给付的书面说明理由",
        "给付责任：按规定标准通过社会化发放方式足额、及时发放",
        "事后监管责任：定期核查给付对象情况，及时办理调整或者停发",
        OTHER_DUTY,
    ],
    cases: &[
        "对符合条件的申请不予受理或者不予给付的",
        "对不符合条件的申请予以给付的",
        "不按照规定标准和时限发放的",
        "截留、挤占、挪用、私分给付资金的",
        OTHER_CASE,
    ],
    case_law: &["《财政违法行为处罚处分条例》第六条", SANCTIONS],
    flow: &[("受理", "政务服务中心窗口"), ("审核公示", "业务科室"), ("决定", "分管领导"), ("发放", "财务科")],
    risks: &["优亲厚友", "违规发放资金"],
};

const INSPECTION: Duties = Duties {
    duties: &[
        "检查责任：按照年度监督检查计划和“双随机、一公开”要求实施检查，执法人员不少于两人并出示执法证件",
        "处置责任：对发现的违法行为责令改正，依法应当给予行政处罚的立案查处",
        "移送责任：对不属于本部门职权的违法行为移送有关部门，涉嫌犯罪的移送司法机关",
        "公开责任：依法公开监督检查结果",
        OTHER_DUTY,
    ],
    cases: &[
        "未按照监督检查计划实施检查的",
        "发现违法行为不依法予以处理的",
        "在监督检查中妨碍被检查单位正常生产经营活动的",
        "在监督检查中索取或者收受他人财物或者谋取其他利益的",
        OTHER_CASE,
    ],
    case_law: &[SANCTIONS],
    flow: &[("制定检查计划", "业务科室"), ("现场检查", "执法科室"), ("处置", "执法科室"), ("公开结果", "办公室")],
    risks: &["检查走过场", "发现问题不督促整改"],
};

const CONFIRMATION: Duties = Duties {
    duties: &[
        "受理责任：公示确认条件、程序和所需材料，一次性告知需要补正的材料",
        "审核责任：对申请材料进行审核，需要实地核查的进行实地核查",
        "确认责任：作出确认或者不予确认的决定，不予确认的书面说明理由",
        "送达责任：制发确认文书并送达，依法公开确认结果",
        OTHER_DUTY,
    ],
    cases: &[
        "对符合条件的申请不予受理或者不予确认的",
        "对不符合条件的申请予以确认的",
        "不在法定期限内作出确认的",
        "泄露在工作中知悉的个人信息、商业秘密的",
        OTHER_CASE,
    ],
    case_law: &[SANCTIONS],
    flow: &[("受理", "政务服务中心窗口"), ("审核", "业务科室"), ("确认", "分管领导"), ("送达", "政务服务中心窗口")],
    risks: &["弄虚作假确认", "违规泄露信息"],
};

const REWARD: Duties = Duties {
    duties: &[
        "受理责任：受理申报或者推荐，一次性告知需要补充的材料",
        "审核责任：调查核实事迹，组织评审，提出奖励建议并向社会公示",
        "决定责任：依法作出奖励决定，颁发证书和奖金",
        OTHER_DUTY,
    ],
    cases: &["在奖励工作中弄虚作假的", "对符合条件的申报不予受理或者不予奖励的", "截留、挪用奖励资金的", OTHER_CASE],
    case_law: &[SANCTIONS],
    flow: &[("申报受理", "业务科室"), ("评审", "评审委员会"), ("公示", "办公室"), ("决定", "局党组")],
    risks: &["弄虚作假骗取奖励"],
};

const ADJUDICATION: Duties = Duties {
    duties: &[
        "受理责任：审查当事人的申请，符合条件的予以受理",
        "调查责任：查阅有关材料，进行实地勘验，听取当事人陈述",
        "调解责任：组织当事人调解，达成协议的制作调解书",
        "裁决责任：调解不成的依法作出裁决或者处理决定",
        "送达责任：依法送达裁决书，告知当事人申请行政复议或者提起行政诉讼的权利",
        OTHER_DUTY,
    ],
    cases: &[
        "对符合条件的申请不予受理的",
        "在调查、调解和裁决中徇私舞弊、玩忽职守的",
        "违反法定程序作出裁决的",
        OTHER_CASE,
    ],
    case_law: &[SANCTIONS],
    flow: &[("受理", "业务科室"), ("调查", "业务科室"), ("调解", "业务科室"), ("裁决", "局负责人")],
    risks: &["偏袒一方当事人"],
};

const OTHER: Duties = Duties {
    duties: &[
        "受理责任：公示需要提交的材料，一次性告知需要补正的材料",
        "审查责任：对提交的材料进行审查",
        "办理责任：依法办理并告知结果",
        "监管责任：对办理事项的后续活动进行监督检查",
        OTHER_DUTY,
    ],
    cases: &[
        "对符合条件的申请不予办理的",
        "对不符合条件的申请予以办理的",
        "在办理中索取或者收受他人财物的",
        OTHER_CASE,
    ],
    case_law: &[SANCTIONS],
    flow: &[("受理", "政务服务中心窗口"), ("审查", "业务科室"), ("办结", "业务科室")],
    risks: &["对材料不全的申请违规办理"],
};

fn duties(category: Category) -> &'static Duties {
    match category {
        Licensing => &LICENSING,
        Penalty => &PENALTY,
        Coercion => &COERCION,
        Levy => &LEVY,
        Payment => &PAYMENT,
        Inspection => &INSPECTION,
        Confirmation => &CONFIRMATION,
        Reward => &REWARD,
        Adjudication => &ADJUDICATION,
        Other | Category::PublicService => &OTHER,
    }
}

/// Every matter with its department index, taken in turns from each department so that any
/// prefix of the list spreads over the departments.
fn vocabulary() -> Vec<(usize, &'static Matter)> {
    let most = MATTERS.iter().map(|m| m.len()).max().unwrap_or(0);
    (0..most).flat_map(|j| MATTERS.iter().enumerate().filter_map(move |(d, m)| m.get(j).map(|m| (d, m)))).collect()
}

/// Main item numbers run 00001–99999, then the sub number counts the rounds.
const MAINS: usize = 99_999;

/// `n` distinct items of 盘锦市's list, the same on every call: the vocabulary in turns over
/// the departments, each with its department as implementing body. Beyond the vocabulary the
/// matters repeat, renumbered `…（第N项）`; codes stay distinct for any `n` up to 99 million.
pub fn city_powers(n: usize) -> Vec<PowerItem> {
    let vocabulary = vocabulary();
    (0..n)
        .map(|i| {
            let (d, matter) = vocabulary[i % vocabulary.len()];
            let mut item = power(DEPARTMENTS[d].0, matter);
            item.code = code(item.category, i);
            if i >= vocabulary.len() {
                item.name = format!("{}（第{}项）", item.name, i + 1);
            }
            item
        })
        .collect()
}

/// The basic code of the `i`th item: category letters, main number, sub number.
fn code(category: Category, i: usize) -> String {
    format!("{}{:05}{:03}", category.letters(), i % MAINS + 1, i / MAINS)
}

/// One item of `department`'s (code left for the caller).
fn power(department: &str, &(name, category, basis, legal_days): &Matter) -> PowerItem {
    let d = duties(category);
    let texts = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cites = |xs: &[&str]| xs.iter().flat_map(|s| Citation::parse_many(s)).collect::<Vec<_>>();
    PowerItem {
        code: String::new(),
        name: name.into(),
        category,
        basis: Citation::parse_many(basis),
        implementing_body: department.into(),
        implementing_body_code: None,
        responsibilities: texts(d.duties),
        accountability: texts(d.cases),
        accountability_basis: cites(d.case_law),
        supervision: vec![
            format!("{CITY}纪委监委派驻纪检监察组监督"),
            format!("{CITY}人民政府行政执法监督"),
            "社会监督：投诉电话 0427-12345".into(),
        ],
        remedies: vec![
            format!("行政复议：依法向{CITY}人民政府申请行政复议"),
            "行政诉讼：依法向人民法院提起行政诉讼".into(),
        ],
        time_limit: TimeLimit { legal_days, promised_days: legal_days.map(|d| d.div_ceil(2)) },
        flow: d
            .flow
            .iter()
            .map(|&(step, handler)| FlowStep { step: step.into(), handler: handler.into(), days: None })
            .collect(),
        risk_points: texts(d.risks),
        status: ItemStatus::Active,
        status_reason: String::new(),
    }
}

/// The county department that receives the powers of city department `grantor`: its
/// counterpart in `DEPARTMENTS`, or for a department not listed the same name under 盘山县.
fn counterpart(grantor: &str) -> String {
    let grantor = grantor.trim();
    match DEPARTMENTS.iter().find(|(city, _)| *city == grantor) {
        Some((_, county)) => (*county).to_string(),
        None => format!("{COUNTY}{}", grantor.strip_prefix(CITY).unwrap_or(grantor)),
    }
}

/// Whether the `i`th item of a batch must be finished at a provincial department: every tenth.
fn provincial(i: usize) -> bool {
    i % 10 == 3
}

/// The batch items granting `items` to 盘山县: each from its implementing body to that
/// department's county counterpart, kind left to be derived from the category, and every tenth
/// item (index 3, 13, 23, …) to be finished at a provincial department.
pub fn grant_items(items: &[PowerItem]) -> Vec<GrantItem> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| GrantItem {
            code: item.code.clone(),
            grantor_dept: item.implementing_body.clone(),
            grantee_dept: counterpart(&item.implementing_body),
            kind: None,
            provincial: provincial(i),
        })
        .collect()
}

/// The batch granting `items` as a CSV spreadsheet with a byte-order mark (so Excel shows
/// Chinese), headed `序号,事项编码,事项名称,职权类别,赋权部门,承接部门,审批类别,需报省办结`;
/// 审批类别 is the kind derived from the category, 需报省办结 是 or 否.
/// `import::parse_grant_csv` reads it back.
pub fn grant_csv(items: &[PowerItem]) -> String {
    const HEADER: [&str; 8] =
        ["序号", "事项编码", "事项名称", "职权类别", "赋权部门", "承接部门", "审批类别", "需报省办结"];
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(HEADER).expect("writing to memory cannot fail");
    for (i, (item, grant)) in items.iter().zip(grant_items(items)).enumerate() {
        let kind = GrantKind::default_for(item.category).map_or("", GrantKind::label);
        let provincial = if grant.provincial { "是" } else { "否" };
        let serial = (i + 1).to_string();
        let row = [
            serial.as_str(),
            &grant.code,
            &item.name,
            item.category.label(),
            &grant.grantor_dept,
            &grant.grantee_dept,
            kind,
            provincial,
        ];
        writer.write_record(row).expect("writing to memory cannot fail");
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::NaiveDate;

    use super::*;
    use crate::division::DivisionCode;
    use crate::grants::GrantBatch;

    #[test]
    fn every_item_is_valid_without_warnings() {
        let items = city_powers(400);
        assert_eq!(items.len(), 400);
        for item in &items {
            assert_eq!(item.validate(), Ok(vec![]), "{} {}", item.code, item.name);
        }
        assert!(crate::list::validate_batch(&items, 2).unwrap().is_empty());
    }

    #[test]
    fn codes_and_names_are_distinct_and_the_list_is_deterministic() {
        let items = city_powers(10_000);
        assert_eq!(items.iter().map(|i| &i.code).collect::<BTreeSet<_>>().len(), 10_000);
        assert_eq!(items.iter().map(|i| &i.name).collect::<BTreeSet<_>>().len(), 10_000);
        assert_eq!(items[..308], city_powers(308)[..]);
        assert_eq!(items[9_999].code, format!("{}10000000", items[9_999].category.letters()));
        assert!(items[9_999].name.ends_with("（第10000项）"), "{}", items[9_999].name);
        assert!(city_powers(0).is_empty());
        assert_eq!(code(Penalty, MAINS - 1), "CF99999000");
        assert_eq!(code(Licensing, MAINS), "XK00001001");
    }

    #[test]
    fn the_vocabulary_is_realistic() {
        let vocabulary = vocabulary();
        assert!(MATTERS.iter().all(|m| m.len() >= 4));
        let names: BTreeSet<&str> = vocabulary.iter().map(|(_, m)| m.0).collect();
        assert_eq!(names.len(), vocabulary.len(), "each matter once");
        let licensing = vocabulary.iter().filter(|(_, m)| m.1 == Licensing).count();
        let share = licensing as f64 / vocabulary.len() as f64;
        assert!((0.35..=0.45).contains(&share), "licensing share {share}");
        let categories: BTreeSet<Category> = vocabulary.iter().map(|(_, m)| m.1).collect();
        assert_eq!(categories.len(), 10, "every power category, no public service");
        assert!(!categories.contains(&Category::PublicService));
        let items = city_powers(vocabulary.len());
        assert!(items.iter().all(|i| !i.name.contains("（第")));
        assert!(items.iter().all(|i| i.category != Licensing || i.time_limit.legal_days.is_some()));
    }

    #[test]
    fn the_308_items_spread_over_every_department() {
        let items = city_powers(308);
        let bodies: BTreeSet<&str> = items.iter().map(|i| i.implementing_body.as_str()).collect();
        let city: BTreeSet<&str> = DEPARTMENTS.iter().map(|d| d.0).collect();
        assert_eq!(bodies, city);
        let county: BTreeSet<&str> = DEPARTMENTS.iter().map(|d| d.1).collect();
        assert_eq!(county.len(), 29);
        assert!(DEPARTMENTS.iter().all(|(c, k)| c.starts_with(CITY) && k.starts_with(COUNTY)));
    }

    #[test]
    fn grant_items_pair_each_department_with_its_counterpart() {
        let items = city_powers(308);
        let grants = grant_items(&items);
        assert_eq!(grants.len(), 308);
        for (i, (item, grant)) in items.iter().zip(&grants).enumerate() {
            assert_eq!(grant.code, item.code);
            assert_eq!(grant.grantor_dept, item.implementing_body);
            let pair = DEPARTMENTS.iter().find(|d| d.0 == grant.grantor_dept).unwrap();
            assert_eq!(grant.grantee_dept, pair.1);
            assert_eq!(grant.kind, None);
            assert_eq!(grant.provincial, i % 10 == 3);
        }
        assert_eq!(grants.iter().filter(|g| g.provincial).count(), 31);
        assert_eq!(counterpart("盘锦市城市管理综合行政执法局"), "盘山县城市管理综合行政执法局");

        let batch = GrantBatch {
            doc_no: "盘政发〔2016〕37号".into(),
            title: "盘锦市人民政府关于向盘山县赋予市级经济社会管理权限的决定".into(),
            issued: NaiveDate::from_ymd_opt(2016, 9, 30).unwrap(),
            grantee: DivisionCode::parse("211122").unwrap(),
            training_months: 3,
            items: grants,
        };
        assert_eq!(batch.check(), Ok(()));
        assert_eq!(batch.departments().len(), 29);
    }

    #[test]
    fn the_spreadsheet_has_the_header_and_one_row_per_item() {
        let items = city_powers(12);
        let text = grant_csv(&items);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("\u{feff}序号,事项编码,事项名称,职权类别,赋权部门,承接部门,审批类别,需报省办结"));
        let first = lines.next().unwrap();
        assert_eq!(
            first,
            format!(
                "1,{},固定资产投资项目节能审查,行政许可,盘锦市经济和信息化委员会,盘山县经济和信息化局,审批,否",
                items[0].code
            )
        );
        let fourth = lines.nth(2).unwrap();
        assert!(fourth.starts_with("4,") && fourth.ends_with(",是"), "{fourth}");
        assert_eq!(text.lines().count(), 13);
        assert!(text.lines().skip(1).all(|l| l.contains(",审批,") || l.contains(",非审批,")));
    }
}
