//! A realistic county power list (权责清单), as a county such as 泸县 publishes it: twelve
//! complete items across all eleven categories, for demos, `quanze import` trials and tests.
//!
//! Owns the sample items and their CSV text. It must not do I/O: the copy for users in
//! `deploy/samples/luxian-list.csv` is kept in sync by a test, not written from here.
//!
//! Citations are to the laws in force as best known; basic codes have the national shape and
//! the right category letters, but the 5-digit main numbers are illustrative, not the national
//! catalogue's. Credit codes of the departments are left empty rather than invented.

use crate::category::Category;
use crate::import::items_to_csv;
use crate::item::{Citation, FlowStep, ItemStatus, PowerItem, TimeLimit};

const OTHER_DUTY: &str = "其他法律法规规章文件规定应履行的责任";
const OTHER_CASE: &str = "其他违反法律法规规章文件规定的行为";
const SANCTIONS: &str = "《中华人民共和国公职人员政务处分法》第三十九条";

const LICENSING_DUTIES: &[&str] = &[
    "受理责任：公示依法应当提交的材料，一次性告知补正材料，依法受理或者不予受理（不予受理的应当告知理由）",
    "审查责任：对申请材料进行审查，提出审查意见，需要现场核查的组织现场核查",
    "决定责任：作出准予或者不予行政许可的决定，不予许可的书面说明理由并告知申请人享有的救济权利",
    "送达责任：准予许可的制发许可证件并送达，依法公开许可结果",
    "事后监管责任：对被许可人从事行政许可事项的活动进行监督检查",
    OTHER_DUTY,
];
const LICENSING_CASES: &[&str] = &[
    "对符合法定条件的行政许可申请不予受理的",
    "对不符合法定条件的申请人准予行政许可或者超越法定职权作出准予行政许可决定的",
    "对符合法定条件的申请人不予行政许可或者不在法定期限内作出准予行政许可决定的",
    "违反法定程序实施行政许可的",
    "不依法履行监督职责或者监督不力，造成严重后果的",
    "办理行政许可、实施监督检查，索取或者收受他人财物或者谋取其他利益的",
    OTHER_CASE,
];
const LICENSING_LAW: &str = "《中华人民共和国行政许可法》第七十二条、第七十三条、第七十四条、第七十七条";
const LICENSING_FLOW: &[(&str, &str, Option<u32>)] = &[
    ("受理", "政务服务窗口", Some(1)),
    ("审查", "行政审批股", Some(1)),
    ("决定", "分管局领导", Some(1)),
    ("送达", "政务服务窗口", Some(1)),
];

const PENALTY_DUTIES: &[&str] = &[
    "立案责任：对发现的涉嫌违法行为进行初步核查，符合立案条件的予以立案",
    "调查责任：执法人员不少于两人，出示执法证件，全面、客观、公正地调查取证",
    "审查责任：对案件违法事实、证据、程序、法律适用、处罚种类和幅度进行法制审核",
    "告知责任：作出处罚决定前告知当事人拟作出处罚的内容及事实、理由、依据和陈述、申辩、要求听证的权利",
    "决定责任：依法作出行政处罚决定，制作行政处罚决定书",
    "送达责任：依照法定方式将行政处罚决定书送达当事人",
    "执行责任：监督当事人履行处罚决定，逾期不履行的依法申请人民法院强制执行",
    OTHER_DUTY,
];
const PENALTY_CASES: &[&str] = &[
    "没有法定的行政处罚依据实施处罚的",
    "擅自改变行政处罚种类、幅度的",
    "违反法定的行政处罚程序的",
    "执法人员未取得执法证件实施行政处罚的",
    "对应当予以制止和处罚的违法行为不予制止、处罚的",
    "应当依法移交司法机关追究刑事责任的案件不移交，以行政处罚代替刑事处罚的",
    "截留、私分或者变相私分罚款、没收的违法所得或者财物的",
    OTHER_CASE,
];
const PENALTY_LAW: &str = "《中华人民共和国行政处罚法》第七十六条、第七十九条、第八十二条、第八十三条";

const COERCION_DUTIES: &[&str] = &[
    "审批责任：实施前向行政机关负责人报告并经批准，情况紧急当场实施的在二十四小时内补办批准手续",
    "实施责任：由两名以上执法人员实施，出示执法证件，通知当事人到场，告知理由、依据和救济途径，听取陈述和申辩，制作现场笔录",
    "决定责任：制作并当场交付查封、扣押决定书和清单",
    "保管责任：妥善保管查封、扣押的场所、设施或者财物，不得使用或者损毁",
    "处理责任：在法定期限内查清事实，依法作出没收、销毁或者解除查封、扣押的决定",
    OTHER_DUTY,
];
const COERCION_CASES: &[&str] = &[
    "没有法律、法规依据实施行政强制的",
    "改变行政强制对象、条件、方式的",
    "违反法定程序实施行政强制的",
    "扩大查封、扣押范围的",
    "使用或者损毁查封、扣押场所、设施或者财物的",
    "在查封、扣押法定期间不作出处理决定或者未依法及时解除查封、扣押的",
    "利用职务上的便利，将查封、扣押的场所、设施或者财物据为己有的",
    OTHER_CASE,
];

/// One sample item; supervision and remedies are the county's usual ones.
struct Spec {
    code: &'static str,
    name: &'static str,
    category: Category,
    basis: &'static [&'static str],
    department: &'static str,
    duties: &'static [&'static str],
    cases: &'static [&'static str],
    case_law: &'static [&'static str],
    days: (Option<u32>, Option<u32>),
    flow: &'static [(&'static str, &'static str, Option<u32>)],
    risks: &'static [&'static str],
}

const SPECS: [Spec; 12] = [
    Spec {
        code: "XK00035000",
        name: "食品经营许可",
        category: Category::Licensing,
        basis: &["《中华人民共和国食品安全法》第三十五条", "《食品经营许可和备案管理办法》"],
        department: "市场监督管理局",
        duties: LICENSING_DUTIES,
        cases: LICENSING_CASES,
        case_law: &[LICENSING_LAW, "《中华人民共和国食品安全法》第一百四十四条", SANCTIONS],
        days: (Some(10), Some(5)),
        flow: LICENSING_FLOW,
        risks: &["未一次性告知申请人需要补正的材料", "对不符合条件的申请人准予许可", "现场核查流于形式"],
    },
    Spec {
        code: "XK00021000",
        name: "建筑工程施工许可",
        category: Category::Licensing,
        basis: &["《中华人民共和国建筑法》第七条、第八条", "《建筑工程施工许可管理办法》第二条"],
        department: "住房和城乡建设局",
        duties: LICENSING_DUTIES,
        cases: LICENSING_CASES,
        case_law: &[LICENSING_LAW, "《中华人民共和国建筑法》第七十九条", SANCTIONS],
        days: (Some(7), Some(3)),
        flow: &[
            ("受理", "政务服务窗口", Some(1)),
            ("审查", "建筑管理股", Some(1)),
            ("决定并发证", "分管局领导", Some(1)),
        ],
        risks: &["对不具备施工条件的工程颁发施工许可证", "擅自增设许可条件"],
    },
    Spec {
        code: "CF00148000",
        name: "对未取得食品经营许可从事食品经营活动的处罚",
        category: Category::Penalty,
        basis: &["《中华人民共和国食品安全法》第一百二十二条"],
        department: "市场监督管理局",
        duties: PENALTY_DUTIES,
        cases: PENALTY_CASES,
        case_law: &[PENALTY_LAW, "《中华人民共和国食品安全法》第一百四十五条", SANCTIONS],
        days: (None, None),
        flow: &[
            ("立案", "执法大队", None),
            ("调查取证", "执法大队", None),
            ("法制审核", "法规股", None),
            ("告知", "执法大队", None),
            ("决定", "局负责人", None),
            ("送达", "执法大队", None),
            ("执行", "执法大队", None),
        ],
        risks: &["选择性执法", "随意行使自由裁量权", "以罚代刑"],
    },
    Spec {
        code: "QZ00012000",
        name: "对不符合食品安全标准的食品及违法生产经营场所的查封、扣押",
        category: Category::Coercion,
        basis: &["《中华人民共和国食品安全法》第一百一十条", "《中华人民共和国行政强制法》第九条"],
        department: "市场监督管理局",
        duties: COERCION_DUTIES,
        cases: COERCION_CASES,
        case_law: &["《中华人民共和国行政强制法》第六十一条、第六十二条、第六十四条", SANCTIONS],
        days: (None, None),
        flow: &[
            ("报告审批", "局负责人", None),
            ("实施查封扣押", "执法大队", None),
            ("送达决定书和清单", "执法大队", None),
            ("作出处理决定", "局负责人", None),
        ],
        risks: &["超范围查封、扣押", "使用或者损毁查封、扣押的财物"],
    },
    Spec {
        code: "ZS00003000",
        name: "城镇垃圾处理费征收",
        category: Category::Levy,
        basis: &["《中华人民共和国固体废物污染环境防治法》第五十八条", "《城市生活垃圾管理办法》"],
        department: "综合行政执法局",
        duties: &[
            "公示责任：公示征收依据、对象、范围和标准",
            "核定责任：按照规定的收费标准核定应缴金额，送达缴费通知",
            "收缴责任：使用财政部门统一监制的票据收费，所收费用全额缴入国库",
            "催缴责任：对逾期未缴纳的单位和个人依法催缴",
            OTHER_DUTY,
        ],
        cases: &[
            "擅自设立收费项目或者提高收费标准的",
            "不使用规定票据收费的",
            "截留、挪用、私分垃圾处理费的",
            OTHER_CASE,
        ],
        case_law: &["《财政违法行为处罚处分条例》", SANCTIONS],
        days: (None, None),
        flow: &[("核定", "环境卫生管理所", None), ("通知缴费", "环境卫生管理所", None), ("收缴入库", "财务股", None)],
        risks: &["擅自减免或者提高收费标准", "收费不开具票据"],
    },
    Spec {
        code: "JF00001000",
        name: "最低生活保障金给付",
        category: Category::Payment,
        basis: &["《社会救助暂行办法》第九条、第十一条", "《最低生活保障审核确认办法》"],
        department: "民政局",
        duties: &[
            "受理责任：公示申请条件和所需材料，由乡镇人民政府（街道办事处）受理申请",
            "审核责任：组织家庭经济状况调查和民主评议，提出审核意见并公示",
            "确认责任：作出确认或者不予确认的决定，不予确认的书面说明理由",
            "给付责任：按月通过社会化发放方式足额发放最低生活保障金",
            "事后监管责任：定期核查保障对象家庭状况，及时办理增发、减发或者停发",
            OTHER_DUTY,
        ],
        cases: &[
            "对符合申请条件的救助申请不予受理的",
            "对符合救助条件的救助申请不予批准的",
            "对不符合救助条件的救助申请予以批准的",
            "泄露在工作中知悉的公民个人信息，造成后果的",
            "不按照规定发放社会救助资金、物资的",
            "截留、挤占、挪用、私分社会救助资金、物资的",
            OTHER_CASE,
        ],
        case_law: &["《社会救助暂行办法》第六十六条、第六十七条", SANCTIONS],
        days: (Some(30), Some(20)),
        flow: &[
            ("申请受理", "乡镇人民政府", Some(1)),
            ("家庭经济状况调查", "乡镇人民政府", Some(10)),
            ("审核公示", "乡镇人民政府", Some(5)),
            ("确认", "社会救助股", Some(4)),
        ],
        risks: &["优亲厚友", "人情保、关系保", "违规发放保障金"],
    },
    Spec {
        code: "JC00041000",
        name: "安全生产监督检查",
        category: Category::Inspection,
        basis: &["《中华人民共和国安全生产法》第六十五条"],
        department: "应急管理局",
        duties: &[
            "检查责任：按照年度监督检查计划实施检查，执法人员不少于两人并出示执法证件",
            "处置责任：对发现的违法行为当场纠正或者责令限期改正，对重大事故隐患依法责令停产停业整顿",
            "移送责任：对应当给予行政处罚的立案查处，涉嫌犯罪的移送司法机关",
            "公开责任：依法公开监督检查结果",
            OTHER_DUTY,
        ],
        cases: &[
            "未按照年度监督检查计划实施检查的",
            "发现安全生产违法行为或者重大事故隐患不依法予以处理的",
            "对不符合法定安全生产条件的事项予以批准或者验收通过的",
            "在监督检查中索取或者收受他人财物或者谋取其他利益的",
            OTHER_CASE,
        ],
        case_law: &[
            "《中华人民共和国安全生产法》第九十条",
            "《安全生产监管监察职责和行政执法责任追究的规定》",
            SANCTIONS,
        ],
        days: (None, None),
        flow: &[
            ("制定检查计划", "安全生产执法大队", None),
            ("现场检查", "安全生产执法大队", None),
            ("隐患处置", "安全生产执法大队", None),
            ("复查", "安全生产执法大队", None),
        ],
        risks: &["检查走过场", "发现隐患不督促整改"],
    },
    Spec {
        code: "QR00007000",
        name: "不动产首次登记",
        category: Category::Confirmation,
        basis: &["《中华人民共和国民法典》第二百一十条", "《不动产登记暂行条例》第七条、第二十条"],
        department: "自然资源和规划局",
        duties: &[
            "受理责任：公示登记条件、程序和需要提交的材料，当场受理或者一次性告知需要补正的材料",
            "审核责任：查验申请材料，需要实地查看的进行实地查看，核实登记事项",
            "登簿责任：将登记事项记载于不动产登记簿",
            "发证责任：核发不动产权属证书或者不动产登记证明",
            OTHER_DUTY,
        ],
        cases: &[
            "对符合登记条件的申请不予受理或者不予登记的",
            "进行虚假登记，损毁、伪造不动产登记簿，擅自修改登记事项的",
            "不在法定期限内办结登记的",
            "泄露不动产登记资料、登记信息的",
            OTHER_CASE,
        ],
        case_law: &["《不动产登记暂行条例》第二十九条、第三十条", "《中华人民共和国民法典》第二百二十二条", SANCTIONS],
        days: (Some(30), Some(5)),
        flow: &[
            ("受理", "不动产登记中心窗口", Some(1)),
            ("审核", "登记审核岗", Some(2)),
            ("登簿", "登簿岗", Some(1)),
            ("缮证发证", "发证窗口", Some(1)),
        ],
        risks: &["虚假登记", "违规查询、泄露登记信息"],
    },
    Spec {
        code: "JL00002000",
        name: "见义勇为人员奖励",
        category: Category::Reward,
        basis: &["《见义勇为人员奖励和保障办法》", "《四川省保护和奖励见义勇为条例》"],
        department: "公安局",
        duties: &[
            "受理责任：受理见义勇为行为的申报或者举荐，一次性告知需要补充的材料",
            "审核责任：调查核实见义勇为事迹，提出奖励建议并向社会公示",
            "决定责任：依法作出奖励决定，颁发证书和奖金",
            OTHER_DUTY,
        ],
        cases: &[
            "在见义勇为确认和奖励工作中弄虚作假的",
            "对符合条件的申报不予受理或者不予奖励的",
            "截留、挪用见义勇为奖励资金的",
            OTHER_CASE,
        ],
        case_law: &[SANCTIONS],
        days: (None, None),
        flow: &[
            ("申报受理", "治安管理大队", None),
            ("调查核实", "治安管理大队", None),
            ("公示", "治安管理大队", None),
            ("决定", "局党委", None),
        ],
        risks: &["弄虚作假骗取奖励"],
    },
    Spec {
        code: "CJ00001000",
        name: "林木林地权属争议裁决",
        category: Category::Adjudication,
        basis: &["《中华人民共和国森林法》第二十二条", "《林木林地权属争议处理办法》"],
        department: "林业局",
        duties: &[
            "受理责任：审查当事人的权属争议处理申请，符合条件的予以受理",
            "调查责任：查阅权属证明材料，进行实地勘验，听取当事人陈述",
            "调解责任：组织当事人调解，达成协议的制作调解书",
            "裁决责任：调解不成的依法提出处理意见，报请县级人民政府作出处理决定",
            "送达责任：依法送达处理决定书，告知当事人申请行政复议或者提起行政诉讼的权利",
            OTHER_DUTY,
        ],
        cases: &[
            "对符合条件的争议处理申请不予受理的",
            "在调查、调解和裁决中徇私舞弊、玩忽职守的",
            "违反法定程序作出处理决定的",
            OTHER_CASE,
        ],
        case_law: &["《中华人民共和国森林法》第六十六条", SANCTIONS],
        days: (None, None),
        flow: &[
            ("受理", "林政资源股", None),
            ("调查勘验", "林政资源股", None),
            ("调解", "林政资源股", None),
            ("裁决", "县人民政府", None),
        ],
        risks: &["偏袒一方当事人"],
    },
    Spec {
        code: "QT00015000",
        name: "建设工程竣工验收备案",
        category: Category::Other,
        basis: &["《建设工程质量管理条例》第四十九条", "《房屋建筑和市政基础设施工程竣工验收备案管理办法》第四条"],
        department: "住房和城乡建设局",
        duties: &[
            "受理责任：公示备案需要提交的文件，一次性告知需要补正的材料",
            "审查责任：验证备案文件是否齐全，在竣工验收备案表上签署文件收讫",
            "监管责任：发现竣工验收中有违反工程质量管理规定行为的，责令停止使用并重新组织竣工验收",
            OTHER_DUTY,
        ],
        cases: &[
            "对符合条件的备案不予办理的",
            "对备案文件不齐全的工程予以备案的",
            "在备案工作中索取或者收受他人财物的",
            OTHER_CASE,
        ],
        case_law: &["《建设工程质量管理条例》第七十六条", SANCTIONS],
        days: (None, Some(1)),
        flow: &[("受理", "政务服务窗口", None), ("验证文件", "质量安全股", None), ("备案", "质量安全股", Some(1))],
        risks: &["对资料不全的工程违规备案"],
    },
    Spec {
        code: "GG00023000",
        name: "城乡居民基本养老保险参保登记",
        category: Category::PublicService,
        basis: &[
            "《中华人民共和国社会保险法》第二十条、第二十二条",
            "《国务院关于建立统一的城乡居民基本养老保险制度的意见》",
        ],
        department: "人力资源和社会保障局",
        duties: &[
            "受理责任：公示参保条件和所需材料，受理参保登记申请",
            "审核责任：核对参保人员身份信息和参保状态",
            "办理责任：录入信息系统，办理参保登记并告知缴费档次和缴费方式",
            OTHER_DUTY,
        ],
        cases: &["对符合条件的参保申请不予办理的", "泄露参保人员个人信息的", OTHER_CASE],
        case_law: &["《中华人民共和国社会保险法》第八十九条、第九十二条", SANCTIONS],
        days: (None, Some(1)),
        flow: &[("受理", "社保经办窗口", None), ("审核", "社保经办窗口", None), ("办结", "社保经办窗口", Some(1))],
        risks: &["违规为不符合条件人员办理参保"],
    },
];

impl Spec {
    fn item(&self, prefix: &str) -> PowerItem {
        let texts = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cites = |xs: &[&str]| xs.iter().flat_map(|s| Citation::parse_many(s)).collect::<Vec<_>>();
        PowerItem {
            code: self.code.into(),
            name: self.name.into(),
            category: self.category,
            basis: cites(self.basis),
            implementing_body: format!("{prefix}{}", self.department),
            implementing_body_code: None,
            responsibilities: texts(self.duties),
            accountability: texts(self.cases),
            accountability_basis: cites(self.case_law),
            supervision: vec![
                format!("{prefix}纪委监委派驻纪检监察组监督"),
                format!("{prefix}人民政府行政执法监督"),
                "社会监督：投诉电话 0830-12345".into(),
            ],
            remedies: vec![
                format!("行政复议：依法向{prefix}人民政府申请行政复议"),
                "行政诉讼：依法向人民法院提起行政诉讼".into(),
            ],
            time_limit: TimeLimit { legal_days: self.days.0, promised_days: self.days.1 },
            flow: self
                .flow
                .iter()
                .map(|&(step, handler, days)| FlowStep { step: step.into(), handler: handler.into(), days })
                .collect(),
            risk_points: texts(self.risks),
            status: ItemStatus::Active,
            status_reason: String::new(),
        }
    }
}

/// The sample list, with implementing bodies named `{county_body_prefix}市场监督管理局` etc.
pub fn sample_list(county_body_prefix: &str) -> Vec<PowerItem> {
    SPECS.iter().map(|spec| spec.item(county_body_prefix)).collect()
}

/// The sample list of 泸县 as a CSV spreadsheet (the content of `deploy/samples/luxian-list.csv`).
pub fn sample_csv() -> String {
    items_to_csv(&sample_list("泸县"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{ImportFormat, parse_items};

    const SAMPLE_FILE: &str = include_str!("../../../deploy/samples/luxian-list.csv");

    #[test]
    fn every_sample_item_is_valid_without_warnings() {
        for item in sample_list("泸县") {
            assert_eq!(item.validate(), Ok(vec![]), "{}", item.name);
        }
        assert!(crate::list::validate_batch(&sample_list("泸县"), 2).unwrap().is_empty());
    }

    #[test]
    fn the_sample_covers_every_category() {
        let items = sample_list("泸县");
        for c in Category::ALL {
            assert!(items.iter().any(|i| i.category == c), "{c}");
        }
        assert!(items.iter().all(|i| i.implementing_body.starts_with("泸县")));
        assert!(sample_list("合江县").iter().all(|i| i.implementing_body.starts_with("合江县")));
    }

    #[test]
    fn the_sample_csv_reads_back_as_the_sample() {
        let batch = parse_items(ImportFormat::Csv, sample_csv().as_bytes()).unwrap();
        assert_eq!(batch.items, sample_list("泸县"));
        assert!(batch.warnings.is_empty());
    }

    #[test]
    fn the_deployed_sample_file_is_in_sync() {
        if std::env::var_os("QUANZE_WRITE_SAMPLES").is_some() {
            // Test-only file output (the crate itself does no I/O).
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/samples/luxian-list.csv");
            std::fs::write(path, sample_csv()).unwrap();
            return;
        }
        assert!(
            SAMPLE_FILE == sample_csv(),
            "deploy/samples/luxian-list.csv is out of date; regenerate it with \
             `QUANZE_WRITE_SAMPLES=1 cargo test -p quanze-domain sample`"
        );
    }
}
