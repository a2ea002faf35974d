//! Power items (行政职权事项) and their elements, with the validation rules of one item.
//!
//! Owns the shape of an item (every element of DESIGN.md §2) and `validate`, which reports every
//! bad field at once. Rules that need the rest of a list (unique codes) live in `list.rs`;
//! parsing of codes in `codes.rs`. No I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::codes::{CodeWarning, ItemCode};

/// One legal citation: the law (or regulation, rule, normative document) and the article.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Citation {
    /// Title without book-title marks, e.g. `中华人民共和国食品安全法`.
    pub law: String,
    /// Article, e.g. `第三十五条`; empty when the whole instrument is cited.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub article: String,
}

impl Citation {
    /// Parses `《中华人民共和国食品安全法》第三十五条` (marks optional for the law alone).
    pub fn parse(text: &str) -> Option<Citation> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Some(rest) = t.strip_prefix('《')
            && let Some(end) = rest.find('》')
        {
            let law = rest[..end].trim().to_string();
            let article = rest[end + '》'.len_utf8()..].trim().to_string();
            if law.is_empty() {
                return None;
            }
            return Some(Citation { law, article });
        }
        Some(Citation { law: t.to_string(), article: String::new() })
    }

    /// Parses a cell holding several citations separated by newlines, `；`, `;` or `、《`.
    pub fn parse_many(text: &str) -> Vec<Citation> {
        let normalised = text.replace("、《", "\n《").replace("，《", "\n《").replace(",《", "\n《");
        normalised.split(['\n', '；', ';']).filter_map(Citation::parse).collect()
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "《{}》{}", self.law, self.article)
    }
}

/// Time limits in working days (办理时限): the legal limit and the node's promised limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_days: Option<u32>,
}

impl TimeLimit {
    fn is_empty(&self) -> bool {
        self.legal_days.is_none() && self.promised_days.is_none()
    }
}

/// One step of the handling flow (流程图).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowStep {
    /// What happens, e.g. `受理`, `审查`, `决定`.
    pub step: String,
    /// Who handles it, e.g. `政务服务窗口`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub handler: String,
    /// Working days allowed for the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

/// Whether an item is exercised by this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    #[default]
    Active,
    Cancelled,
    Delegated,
    /// Exercised by this node on a grant (赋权) from an ancestor; the grantor adjusts or revokes it.
    Granted,
}

impl ItemStatus {
    pub fn key(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Cancelled => "cancelled",
            ItemStatus::Delegated => "delegated",
            ItemStatus::Granted => "granted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Active => "在用",
            ItemStatus::Cancelled => "已取消",
            ItemStatus::Delegated => "已下放",
            ItemStatus::Granted => "赋权承接",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        match s.trim() {
            "active" | "在用" | "有效" | "" => Some(ItemStatus::Active),
            "cancelled" | "已取消" | "取消" => Some(ItemStatus::Cancelled),
            "delegated" | "已下放" | "下放" => Some(ItemStatus::Delegated),
            "granted" | "赋权承接" | "赋权" => Some(ItemStatus::Granted),
            _ => None,
        }
    }
}

/// One item of a power list or catalogue, with every element of DESIGN.md §2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PowerItem {
    /// 事项编码: basic code (`XK00123000`), implementation code, or a province's legacy code.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// 职权类别.
    pub category: Category,
    /// 设定依据: at least one citation.
    pub basis: Vec<Citation>,
    /// 实施主体: the implementing department, e.g. `泸县市场监督管理局`.
    pub implementing_body: String,
    /// 实施主体统一社会信用代码 (GB 32100), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementing_body_code: Option<String>,
    /// 责任事项.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsibilities: Vec<String>,
    /// 追责情形.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accountability: Vec<String>,
    /// 追责依据.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accountability_basis: Vec<Citation>,
    /// 监督方式.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervision: Vec<String>,
    /// 救济途径.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<String>,
    /// 办理时限 (working days).
    #[serde(default, skip_serializing_if = "TimeLimit::is_empty")]
    pub time_limit: TimeLimit,
    /// 流程图 steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flow: Vec<FlowStep>,
    /// 廉政风险点.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_points: Vec<String>,
    /// 状态.
    #[serde(default)]
    pub status: ItemStatus,
    /// Why the status last changed (cancellation or delegation reason).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_reason: String,
}

/// The element of an item a validation message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Code,
    Name,
    Category,
    Basis,
    ImplementingBody,
    ImplementingBodyCode,
    Responsibilities,
    Accountability,
    AccountabilityBasis,
    Supervision,
    Remedies,
    LegalDays,
    PromisedDays,
    Flow,
    RiskPoints,
    Status,
}

impl Field {
    /// Chinese column label, as in spreadsheets.
    pub fn label(self) -> &'static str {
        match self {
            Field::Code => "事项编码",
            Field::Name => "事项名称",
            Field::Category => "职权类别",
            Field::Basis => "设定依据",
            Field::ImplementingBody => "实施主体",
            Field::ImplementingBodyCode => "实施主体统一社会信用代码",
            Field::Responsibilities => "责任事项",
            Field::Accountability => "追责情形",
            Field::AccountabilityBasis => "追责依据",
            Field::Supervision => "监督方式",
            Field::Remedies => "救济途径",
            Field::LegalDays => "法定办结时限",
            Field::PromisedDays => "承诺办结时限",
            Field::Flow => "办理流程",
            Field::RiskPoints => "风险点",
            Field::Status => "状态",
        }
    }

    /// English key, as in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Field::Code => "code",
            Field::Name => "name",
            Field::Category => "category",
            Field::Basis => "basis",
            Field::ImplementingBody => "implementing_body",
            Field::ImplementingBodyCode => "implementing_body_code",
            Field::Responsibilities => "responsibilities",
            Field::Accountability => "accountability",
            Field::AccountabilityBasis => "accountability_basis",
            Field::Supervision => "supervision",
            Field::Remedies => "remedies",
            Field::LegalDays => "legal_days",
            Field::PromisedDays => "promised_days",
            Field::Flow => "flow",
            Field::RiskPoints => "risk_points",
            Field::Status => "status",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label(), self.key())
    }
}

/// A field that breaks a rule, with a bilingual message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        FieldError { field, message: message.into() }
    }
}

/// The longest text accepted in one element, in characters. Real elements are far shorter; this
/// bounds what one peer can make every node store.
pub const MAX_TEXT_CHARS: usize = 4000;

impl PowerItem {
    /// Checks the rules of one item. Returns warnings (e.g. a legacy code shape) when it passes,
    /// or every field error at once.
    pub fn validate(&self) -> Result<Vec<CodeWarning>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let blank = |s: &str| s.trim().is_empty();

        if blank(&self.code) {
            errors.push(FieldError::new(Field::Code, "事项编码不能为空 / code is required"));
        } else {
            match ItemCode::parse(&self.code) {
                Ok(code) => match code.check_category(self.category) {
                    Ok(Some(w)) => warnings.push(w),
                    Ok(None) => {}
                    Err(e) => errors.push(FieldError::new(Field::Code, e.to_string())),
                },
                Err(e) => errors.push(FieldError::new(Field::Code, e.to_string())),
            }
        }
        if blank(&self.name) {
            errors.push(FieldError::new(Field::Name, "事项名称不能为空 / name is required"));
        }
        if self.basis.is_empty() || self.basis.iter().all(|c| blank(&c.law)) {
            errors.push(FieldError::new(Field::Basis, "设定依据不能为空 / at least one legal basis is required"));
        }
        if blank(&self.implementing_body) {
            errors.push(FieldError::new(Field::ImplementingBody, "实施主体不能为空 / implementing body is required"));
        }
        if let Some(uscc) = &self.implementing_body_code
            && let Err(e) = crate::codes::validate_credit_code(uscc)
        {
            errors.push(FieldError::new(Field::ImplementingBodyCode, e.to_string()));
        }
        if let (Some(legal), Some(promised)) = (self.time_limit.legal_days, self.time_limit.promised_days)
            && promised > legal
        {
            errors.push(FieldError::new(
                Field::PromisedDays,
                format!(
                    "承诺时限 {promised} 个工作日超过法定时限 {legal} 个工作日 / promised limit exceeds legal limit"
                ),
            ));
        }
        if self.time_limit.legal_days == Some(0) {
            errors.push(FieldError::new(Field::LegalDays, "法定时限不能为 0 / legal limit must be positive"));
        }
        self.check_lengths(&mut errors);
        if errors.is_empty() { Ok(warnings) } else { Err(errors) }
    }

    fn check_lengths(&self, errors: &mut Vec<FieldError>) {
        let lists: [(Field, Vec<&str>); 9] = [
            (Field::Code, vec![&self.code]),
            (Field::Name, vec![&self.name]),
            (Field::ImplementingBody, vec![&self.implementing_body]),
            (Field::Basis, self.basis.iter().flat_map(|c| [c.law.as_str(), c.article.as_str()]).collect()),
            (Field::Responsibilities, self.responsibilities.iter().map(String::as_str).collect()),
            (Field::Accountability, self.accountability.iter().map(String::as_str).collect()),
            (Field::Supervision, self.supervision.iter().map(String::as_str).collect()),
            (Field::Remedies, self.remedies.iter().map(String::as_str).collect()),
            (Field::RiskPoints, self.risk_points.iter().map(String::as_str).collect()),
        ];
        for (field, texts) in lists {
            if texts.iter().any(|s| s.chars().count() > MAX_TEXT_CHARS) {
                errors.push(FieldError::new(
                    field,
                    format!("内容超过 {MAX_TEXT_CHARS} 字 / text longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
        }
    }
}

/// A change to some elements of an item (调整要素). Absent fields stay as they are; the code
/// never changes (a new code is a new item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Vec<Citation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementing_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementing_body_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsibilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountability: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountability_basis: Option<Vec<Citation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervision: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<TimeLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Vec<FlowStep>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_points: Option<Vec<String>>,
}

impl ItemPatch {
    pub fn is_empty(&self) -> bool {
        self == &ItemPatch::default()
    }

    /// The item with this patch applied (not yet validated).
    pub fn apply_to(&self, item: &PowerItem) -> PowerItem {
        let mut out = item.clone();
        macro_rules! take {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { out.$f = v.clone(); } )* };
        }
        take!(
            name,
            category,
            basis,
            implementing_body,
            responsibilities,
            accountability,
            accountability_basis,
            supervision,
            remedies,
            flow,
            risk_points
        );
        // Each limit is its own element: naming only the promised limit keeps the legal one.
        if let Some(tl) = &self.time_limit {
            out.time_limit.legal_days = tl.legal_days.or(out.time_limit.legal_days);
            out.time_limit.promised_days = tl.promised_days.or(out.time_limit.promised_days);
        }
        if let Some(code) = &self.implementing_body_code {
            out.implementing_body_code = if code.trim().is_empty() { None } else { Some(code.clone()) };
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 食品经营许可, as provincial lists publish it.
    pub fn food_licence() -> PowerItem {
        PowerItem {
            code: "XK00035000".into(),
            name: "食品经营许可".into(),
            category: Category::Licensing,
            basis: vec![Citation {
                law: "中华人民共和国食品安全法".into(), article: "第三十五条".into()
            }],
            implementing_body: "泸县市场监督管理局".into(),
            implementing_body_code: None,
            responsibilities: vec!["受理责任：公示申请条件、法定期限和需要提交的材料".into()],
            accountability: vec!["对符合法定条件的申请不予受理的".into()],
            accountability_basis: vec![Citation {
                law: "中华人民共和国行政许可法".into(),
                article: "第七十二条".into(),
            }],
            supervision: vec!["县纪委监委派驻纪检组监督".into()],
            remedies: vec!["行政复议".into(), "行政诉讼".into()],
            time_limit: TimeLimit { legal_days: Some(20), promised_days: Some(10) },
            flow: vec![FlowStep { step: "受理".into(), handler: "政务服务窗口".into(), days: Some(1) }],
            risk_points: vec![],
            status: ItemStatus::Active,
            status_reason: String::new(),
        }
    }

    #[test]
    fn a_complete_item_passes() {
        assert_eq!(food_licence().validate(), Ok(vec![]));
    }

    #[test]
    fn every_missing_required_element_is_reported_at_once() {
        let mut item = food_licence();
        item.code = " ".into();
        item.name = String::new();
        item.basis.clear();
        item.implementing_body = String::new();
        let errs = item.validate().unwrap_err();
        let fields: Vec<Field> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![Field::Code, Field::Name, Field::Basis, Field::ImplementingBody]);
    }

    #[test]
    fn promised_limit_over_legal_limit_is_refused() {
        let mut item = food_licence();
        item.time_limit = TimeLimit { legal_days: Some(20), promised_days: Some(25) };
        let errs = item.validate().unwrap_err();
        assert_eq!(errs[0].field, Field::PromisedDays);
        assert!(errs[0].message.contains("25"));
    }

    #[test]
    fn citations_parse_from_spreadsheet_cells() {
        let cs = Citation::parse_many("《中华人民共和国食品安全法》第三十五条；《食品经营许可管理办法》第二条");
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].law, "中华人民共和国食品安全法");
        assert_eq!(cs[0].article, "第三十五条");
        assert_eq!(cs[1].to_string(), "《食品经营许可管理办法》第二条");
        assert_eq!(Citation::parse_many("《行政许可法》第十二条、《食品安全法》第三十五条").len(), 2);
        assert!(Citation::parse_many(" \n ").is_empty());
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let item = food_licence();
        let patch =
            ItemPatch { implementing_body: Some("泸州市市场监督管理局".into()), ..Default::default() };
        let out = patch.apply_to(&item);
        assert_eq!(out.implementing_body, "泸州市市场监督管理局");
        assert_eq!(out.name, item.name);
        assert!(ItemPatch::default().is_empty());
        let only_promised = ItemPatch {
            time_limit: Some(TimeLimit { legal_days: None, promised_days: Some(5) }),
            ..Default::default()
        };
        let out = only_promised.apply_to(&item);
        assert_eq!(out.time_limit, TimeLimit { legal_days: Some(20), promised_days: Some(5) });
    }

    #[test]
    fn json_round_trip_keeps_every_element() {
        let item = food_licence();
        let json = serde_json::to_string(&item).unwrap();
        let back: PowerItem = serde_json::from_str(&json).unwrap();
        assert_eq!(back, item);
    }
}
