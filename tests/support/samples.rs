//! Realistic items of 泸县 (510521) as the API takes them, and small sample sheets (a valid one
//! and one with bad rows) for import tests.

use serde_json::{Value, json};

/// 食品经营许可 (行政许可), 泸县市场监督管理局.
pub fn food_licence() -> Value {
    json!({
        "code": "XK00035000",
        "name": "食品经营许可",
        "category": "行政许可",
        "basis": [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}],
        "implementing_body": "泸县市场监督管理局",
        "responsibilities": ["受理责任：公示依法应当提交的材料，一次性告知补正材料", "审查责任：对申请材料进行审查"],
        "remedies": ["行政复议：依法向泸县人民政府申请行政复议", "行政诉讼：依法向人民法院提起行政诉讼"],
        "time_limit": {"legal_days": 20, "promised_days": 10}
    })
}

/// 建筑工程施工许可 (行政许可), 泸县住房和城乡建设局.
pub fn construction_permit() -> Value {
    json!({
        "code": "XK00021000",
        "name": "建筑工程施工许可",
        "category": "行政许可",
        "basis": [{"law": "中华人民共和国建筑法", "article": "第七条"}],
        "implementing_body": "泸县住房和城乡建设局",
        "time_limit": {"legal_days": 7, "promised_days": 3}
    })
}

/// 对未取得食品经营许可从事食品经营活动的处罚 (行政处罚), 泸县市场监督管理局.
pub fn food_penalty() -> Value {
    json!({
        "code": "CF00148000",
        "name": "对未取得食品经营许可从事食品经营活动的处罚",
        "category": "行政处罚",
        "basis": [{"law": "中华人民共和国食品安全法", "article": "第一百二十二条"}],
        "implementing_body": "泸县市场监督管理局"
    })
}

/// A valid list of three items with the usual Chinese headers.
pub const VALID_CSV: &str = "\
事项编码,事项名称,职权类别,设定依据,实施主体,法定办结时限,承诺办结时限
XK00041000,公共场所卫生许可,行政许可,《公共场所卫生管理条例》第八条,泸县卫生健康局,20,15
JC00041000,安全生产监督检查,行政检查,《中华人民共和国安全生产法》第六十五条,泸县应急管理局,,
QR00007000,不动产首次登记,行政确认,《不动产登记暂行条例》第七条、《中华人民共和国民法典》第二百一十条,泸县自然资源和规划局,30,5
";

/// Codes of `VALID_CSV`.
pub const VALID_CSV_CODES: [&str; 3] = ["XK00041000", "JC00041000", "QR00007000"];

/// Row 2 is fine; row 3 has 4 cells under a 7-column header; row 4 names the unknown
/// category 行政备案.
pub const BAD_CSV: &str = "\
事项编码,事项名称,职权类别,设定依据,实施主体,法定办结时限,承诺办结时限
XK00041000,公共场所卫生许可,行政许可,《公共场所卫生管理条例》第八条,泸县卫生健康局,20,15
CF00148000,对未取得食品经营许可从事食品经营活动的处罚,行政处罚,《中华人民共和国食品安全法》第一百二十二条
JC00041000,安全生产监督检查,行政备案,《中华人民共和国安全生产法》第六十五条,泸县应急管理局,,
";
