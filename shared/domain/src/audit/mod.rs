//! Uniformity audit (四级四同、同级一致): the rules that compare lists with the catalogue, with
//! their peers, with grants and with the deadlines, as of one day.
//!
//! Owns the rule ids and names (`RuleId`), the facts an audit reads (`AuditInput`: nodes, item
//! versions, catalogue requirements, deviations, tasks, filings, grants, seals — each with the
//! entry that proves it), the findings it returns and the per-node score and rule matrix
//! (`AuditReport`). The evaluation itself is `evaluate.rs`.
//!
//! Knows nothing of storage or of the clock: the store reconstructs the facts as of the audited
//! day from the entries at or before it, and passes them here. Every rule reads only the facts
//! of one partition (an item code, one node's tasks and filings, or one seal), so an audit of a
//! partition gives exactly the findings a full audit gives for it: that is what lets a node keep
//! its results current entry by entry (`partition_of`, tested in `tests.rs`).

mod evaluate;
mod report;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calendar::Window;
use crate::category::Category;
use crate::division::DivisionCode;
use crate::item::{Citation, ItemStatus, PowerItem};
use crate::recon::Resolution;
use crate::tier::Tier;

pub use evaluate::evaluate;
pub use report::{AuditReport, NodeSummary, RuleSummary, Scope};

/// The audit rules. The id is stable (reports, CSV columns, the console's matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RuleId {
    /// A01 统一要素与目录不一致.
    #[serde(rename = "A01")]
    UniformMismatch,
    /// A02 目录事项逾期未列入清单.
    #[serde(rename = "A02")]
    CatalogueMissing,
    /// A03 清单之外无权力: an item with no catalogue counterpart and no local basis.
    #[serde(rename = "A03")]
    NoCounterpart,
    /// A04 上级已取消或下放，本级仍在行使.
    #[serde(rename = "A04")]
    WithdrawnStillActive,
    /// A05 同级清单不一致.
    #[serde(rename = "A05")]
    PeerDisagreement,
    /// A06 对标调整逾期.
    #[serde(rename = "A06")]
    ReconOverdue,
    /// A07 调整申请逾期提出.
    #[serde(rename = "A07")]
    FilingLate,
    /// A08 专用分章超出赋权范围或收回后仍在使用.
    #[serde(rename = "A08")]
    SealMisuse,
    /// A09 赋权事项未列入承接方清单.
    #[serde(rename = "A09")]
    GrantItemMissing,
    /// A10 必备要素缺失.
    #[serde(rename = "A10")]
    Incomplete,
}

impl RuleId {
    pub const ALL: [RuleId; 10] = [
        RuleId::UniformMismatch,
        RuleId::CatalogueMissing,
        RuleId::NoCounterpart,
        RuleId::WithdrawnStillActive,
        RuleId::PeerDisagreement,
        RuleId::ReconOverdue,
        RuleId::FilingLate,
        RuleId::SealMisuse,
        RuleId::GrantItemMissing,
        RuleId::Incomplete,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RuleId::UniformMismatch => "A01",
            RuleId::CatalogueMissing => "A02",
            RuleId::NoCounterpart => "A03",
            RuleId::WithdrawnStillActive => "A04",
            RuleId::PeerDisagreement => "A05",
            RuleId::ReconOverdue => "A06",
            RuleId::FilingLate => "A07",
            RuleId::SealMisuse => "A08",
            RuleId::GrantItemMissing => "A09",
            RuleId::Incomplete => "A10",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            RuleId::UniformMismatch => "uniform_mismatch",
            RuleId::CatalogueMissing => "catalogue_missing",
            RuleId::NoCounterpart => "no_counterpart",
            RuleId::WithdrawnStillActive => "withdrawn_still_active",
            RuleId::PeerDisagreement => "peer_disagreement",
            RuleId::ReconOverdue => "recon_overdue",
            RuleId::FilingLate => "filing_late",
            RuleId::SealMisuse => "seal_misuse",
            RuleId::GrantItemMissing => "grant_item_missing",
            RuleId::Incomplete => "incomplete",
        }
    }

    /// Short Chinese name (matrix column header).
    pub fn label(self) -> &'static str {
        match self {
            RuleId::UniformMismatch => "统一要素与目录不一致",
            RuleId::CatalogueMissing => "目录事项未列入清单",
            RuleId::NoCounterpart => "清单之外无权力",
            RuleId::WithdrawnStillActive => "已取消或下放仍在行使",
            RuleId::PeerDisagreement => "同级清单不一致",
            RuleId::ReconOverdue => "对标调整逾期",
            RuleId::FilingLate => "调整申请逾期提出",
            RuleId::SealMisuse => "专用分章违规使用",
            RuleId::GrantItemMissing => "赋权事项未列入清单",
            RuleId::Incomplete => "必备要素缺失",
        }
    }

    /// What the rule checks, in plain words (the report's legend).
    pub fn explain(self) -> &'static str {
        match self {
            RuleId::UniformMismatch => {
                "清单事项的名称、类别或设定依据与上级目录不同，且对标期限已过、未经备案说明差异。"
            }
            RuleId::CatalogueMissing => "上级目录要求本级行使的事项，对标期限已过仍不在清单中（且未说明不适用）。",
            RuleId::NoCounterpart => {
                "清单中在用的事项在上级目录中没有对应，也没有地方性法规、规章依据或备案的差异说明（清单之外无权力）。"
            }
            RuleId::WithdrawnStillActive => "上级目录已取消该事项或已下放给其他层级，对标期限已过本级仍在行使。",
            RuleId::PeerDisagreement => {
                "同一上级下同层级的清单对同一事项的名称、类别或依据不一致（同级基本一致）；列出多数形式。"
            }
            RuleId::ReconOverdue => "上级公布目录调整后，本级未在期限内完成对标调整，或完成时已逾期。",
            RuleId::FilingLate => "部门在触发情形发生后超过本级规定期限才提出调整申请。",
            RuleId::SealMisuse => "专用分章在收回之后启用，或所依据的赋权已全部收回而专用分章仍在使用。",
            RuleId::GrantItemMissing => "交接期限已过，赋权事项仍未列入承接方清单。",
            RuleId::Incomplete => "在用事项缺少设定依据、责任事项或追责情形。",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.id().eq_ignore_ascii_case(s) || r.key() == s)
    }
}

/// An entry that proves a fact: origin, seq and (filled in by the store) its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    pub origin: String,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl EntryRef {
    pub fn new(origin: impl Into<String>, seq: u64) -> EntryRef {
        EntryRef { origin: origin.into(), seq, hash: String::new() }
    }
}

/// A node as of the audited day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFact {
    pub division: DivisionCode,
    pub name: String,
}

/// Elements a list item must not leave empty (bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gaps(pub u8);

impl Gaps {
    pub const BASIS: u8 = 1;
    pub const RESPONSIBILITIES: u8 = 2;
    pub const ACCOUNTABILITY: u8 = 4;

    pub fn of(item: &PowerItem) -> Gaps {
        let mut g = 0;
        if item.basis.is_empty() {
            g |= Gaps::BASIS;
        }
        if item.responsibilities.iter().all(|r| r.trim().is_empty()) {
            g |= Gaps::RESPONSIBILITIES;
        }
        if item.accountability.iter().all(|r| r.trim().is_empty()) {
            g |= Gaps::ACCOUNTABILITY;
        }
        Gaps(g)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The missing elements' Chinese names.
    pub fn labels(self) -> Vec<&'static str> {
        [(Gaps::BASIS, "设定依据"), (Gaps::RESPONSIBILITIES, "责任事项"), (Gaps::ACCOUNTABILITY, "追责情形")]
            .into_iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, l)| l)
            .collect()
    }
}

/// One list item as of the audited day: the version of its latest entry at or before it,
/// reduced to what the rules compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFact {
    pub node: DivisionCode,
    pub code: String,
    pub name: String,
    pub category: Category,
    pub status: ItemStatus,
    /// `basis_fingerprint` of the item's basis.
    pub basis_fp: i64,
    /// `basis_text` of the item's basis (shown when it differs).
    pub basis: String,
    /// The basis cites a local regulation or rule (地方性法规、规章): see `is_local_basis`.
    pub local_basis: bool,
    pub gaps: Gaps,
    /// The grant batch (`origin#seq`) a granted item came from.
    pub grant: Option<String>,
    /// Day of the entry that wrote this version.
    pub since: NaiveDate,
    pub evidence: EntryRef,
}

impl ItemFact {
    /// The item is exercised: active, or received by a grant.
    pub fn in_force(&self) -> bool {
        matches!(self.status, ItemStatus::Active | ItemStatus::Granted)
    }
}

/// A publication of catalogue changes (the header; its requirements are `Requirement`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationFact {
    pub evidence: EntryRef,
    pub doc_no: String,
    pub published: NaiveDate,
    pub tiers: Vec<Tier>,
    pub window: Window,
    /// Day of the entry.
    pub day: NaiveDate,
}

/// What a publication requires of one code for some tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementFact {
    /// Index into `AuditInput::publications`.
    pub publication: usize,
    pub code: String,
    pub tiers: Vec<Tier>,
    pub expect: Expected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "lowercase")]
pub enum Expected {
    Present { name: String, category: Category, basis_fp: i64, basis: String },
    Absent { reason: String },
}

/// A node's recorded resolution of a publication's code (deviation or not applicable), or of
/// the whole publication (`code: None`, 整体不适用).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviationFact {
    pub node: DivisionCode,
    /// The publication entry.
    pub publication: EntryRef,
    pub code: Option<String>,
    pub resolution: Resolution,
    pub evidence: EntryRef,
}

/// The entry that closed a node's reconciliation task for a publication, at or before the
/// audited day. A task with no closing is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingFact {
    pub node: DivisionCode,
    /// Index into `AuditInput::publications`.
    pub publication: usize,
    pub day: NaiveDate,
    pub evidence: EntryRef,
}

/// An adjustment request as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingFact {
    pub node: DivisionCode,
    pub department: String,
    pub trigger_date: NaiveDate,
    pub filed_on: NaiveDate,
    pub window: Window,
    pub summary: String,
    pub evidence: EntryRef,
}

/// A grant batch as of the audited day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantFact {
    pub grant_ref: String,
    pub doc_no: String,
    pub grantor: DivisionCode,
    pub grantee: DivisionCode,
    pub handover_due: NaiveDate,
    /// Codes of the batch with the day each was revoked (whole batch or one by one), if it was
    /// by the audited day.
    pub items: Vec<(String, Option<NaiveDate>)>,
    pub evidence: EntryRef,
}

/// A special seal as of the audited day (steps recorded at or before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealFact {
    pub grantor: DivisionCode,
    pub id: String,
    pub name: String,
    pub holder: DivisionCode,
    pub activated: Option<(NaiveDate, EntryRef)>,
    pub recalled: Option<(NaiveDate, EntryRef)>,
    /// The batches of its scope, each with the day it was wholly revoked, if it was.
    pub scope: Vec<(String, Option<(NaiveDate, EntryRef)>)>,
    pub evidence: EntryRef,
}

/// Everything an audit reads, as of one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInput {
    /// Nodes known on the audited day (in scope or peers of a node in scope).
    pub nodes: Vec<NodeFact>,
    /// Nodes findings are reported for.
    pub scope: Vec<DivisionCode>,
    pub items: Vec<ItemFact>,
    pub publications: Vec<PublicationFact>,
    pub requirements: Vec<RequirementFact>,
    pub deviations: Vec<DeviationFact>,
    pub closings: Vec<ClosingFact>,
    pub filings: Vec<FilingFact>,
    pub grants: Vec<GrantFact>,
    pub seals: Vec<SealFact>,
}

/// An element that differs, with the reference value and the node's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// 名称 / 类别 / 设定依据 / …
    pub element: String,
    pub expected: String,
    pub actual: String,
}

/// One finding: which node breaks which rule for which item (or task, filing, seal), since when,
/// the values that differ and the entries that prove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub node: DivisionCode,
    pub rule: RuleId,
    /// The item code, or the subject (publication 文号, filing, seal id) for the other rules.
    pub subject: String,
    /// True when `subject` is an item code.
    pub is_item: bool,
    /// First day on which the finding holds given these facts (a deadline's next day, or the
    /// day of the version that broke the rule).
    pub from: NaiveDate,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    pub evidence: Vec<EntryRef>,
}

/// Which incremental partition a finding or a unit belongs to: item rules are decided per code,
/// tasks and filings per node, seals per seal.
pub fn partition_of(finding: &Finding) -> String {
    match finding.rule {
        RuleId::ReconOverdue | RuleId::FilingLate => node_partition(&finding.node),
        RuleId::SealMisuse => seal_partition(&finding.subject),
        _ => code_partition(&finding.subject),
    }
}

pub fn code_partition(code: &str) -> String {
    format!("code:{code}")
}

pub fn node_partition(node: &DivisionCode) -> String {
    format!("node:{node}")
}

/// `subject` of a seal finding is `grantor/id`.
pub fn seal_partition(subject: &str) -> String {
    format!("seal:{subject}")
}

/// What an audit checked per node, besides the findings: the items each node holds in force,
/// and the other units (tasks, filings, seals) by partition. A node's units are these plus the
/// items it should hold and does not (the subjects of its A02 and A09 findings); its failing
/// units are the distinct subjects of its findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    /// Items in force per node.
    pub held: BTreeMap<DivisionCode, u64>,
    /// (partition, node) → tasks, filings and seals checked.
    pub checked: BTreeMap<(String, DivisionCode), u64>,
}

/// Result of evaluating the rules over an input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub units: Units,
}

/// A stable fingerprint of an item's basis (legal citations, in order, trimmed): equal bases
/// have equal fingerprints; the audit compares fingerprints, not texts.
pub fn basis_fingerprint(basis: &[Citation]) -> i64 {
    let mut h = Sha256::new();
    for c in basis {
        h.update(c.law.trim().as_bytes());
        h.update([0x1f]);
        h.update(c.article.trim().as_bytes());
        h.update([0x1e]);
    }
    let d = h.finalize();
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The basis as one line, the way a list shows it: 《法》第x条；《条例》第y条.
pub fn basis_text(basis: &[Citation]) -> String {
    basis
        .iter()
        .map(|c| {
            let law = c.law.trim();
            let law = if law.starts_with('《') { law.to_string() } else { format!("《{law}》") };
            format!("{law}{}", c.article.trim())
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// True when a citation is a local regulation or rule (地方性法规、地方政府规章, made by a
/// province, a city with districts or an autonomous area): its title starts with a place name of
/// two to four characters ending in 省 or 市 (《四川省…条例》, 《泸州市…办法》), or names an
/// autonomous region, prefecture or county (《内蒙古自治区…》). National laws and State Council
/// regulations are not local (《中华人民共和国…》, 《国务院…》), nor titles such as 《城市市容和
/// 环境卫生管理条例》 or 《市场主体登记管理条例》, where 市 is not the end of a place name.
pub fn is_local_citation(c: &Citation) -> bool {
    let law = c.law.trim().trim_start_matches('《');
    if law.starts_with("中华人民共和国") || law.starts_with("国务院") || law.starts_with("全国") {
        return false;
    }
    let head: String = law.chars().take(12).collect();
    if ["自治区", "自治州", "自治县"].iter().any(|a| head.contains(a)) {
        return true;
    }
    law.chars().position(|ch| ch == '省' || ch == '市').is_some_and(|i| (2..=4).contains(&i))
}

/// True when any citation of `basis` is local.
pub fn is_local_basis(basis: &[Citation]) -> bool {
    basis.iter().any(is_local_citation)
}

/// What an op can change in the audit's cached results: the refresher recomputes these
/// partitions (expanding grants into their codes and seals) instead of everything.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Touch {
    /// Nodes, keys, the calendar or the catalogue changed: recompute everything.
    All,
    Code(String),
    Node(DivisionCode),
    /// A grant batch (`origin#seq`): its codes and the seals whose scope names it.
    Grant(String),
    /// A seal, `grantor/id`.
    Seal(String),
}

/// The partitions an op of `origin` touches.
pub fn touched(origin: &DivisionCode, op: &crate::ops::Op) -> Vec<Touch> {
    use crate::ops::Op;
    let seal = |id: &str| Touch::Seal(format!("{origin}/{id}"));
    match op {
        Op::ItemAdd { item, .. } => vec![Touch::Code(item.code.clone())],
        Op::ItemUpdate { code, .. } | Op::ItemCancel { code, .. } => vec![Touch::Code(code.clone())],
        Op::Enroll { .. }
        | Op::Revoke { .. }
        | Op::Resolve { .. }
        | Op::CalendarYear { .. }
        | Op::Publish { .. }
        | Op::ReconNotApplicable { .. } => vec![Touch::All],
        Op::ReconAdopt { codes, .. } | Op::ReconDeviate { codes, .. } => {
            let mut t = vec![Touch::Node(origin.clone())];
            t.extend(codes.iter().cloned().map(Touch::Code));
            t
        }
        Op::Policy { .. } | Op::GrantExtend { .. } => vec![],
        Op::RequestFile { .. } | Op::RequestSubmit { .. } | Op::RequestStep { .. } => vec![Touch::Node(origin.clone())],
        Op::GrantIssue { batch } => batch.items.iter().map(|i| Touch::Code(i.code.clone())).collect(),
        Op::GrantAccept { batch, .. } | Op::GrantRevoke { batch, .. } => vec![Touch::Grant(batch.to_string())],
        Op::SealCarve { seal: s } => vec![seal(&s.id)],
        Op::SealDeliver { seal: id, .. } | Op::SealRecall { seal: id, .. } | Op::SealArchive { seal: id, .. } => {
            vec![seal(id)]
        }
        Op::SealActivate { grantor, seal: id, .. } => vec![Touch::Seal(format!("{grantor}/{id}"))],
        Op::SealReplace { replaces, seal: s, .. } => {
            let mut t: Vec<Touch> = replaces.iter().map(|id| seal(id)).collect();
            t.push(seal(&s.id));
            t
        }
    }
}
