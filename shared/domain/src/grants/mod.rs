//! Delegated powers (赋权): a city lets a county exercise city-level powers, in batches.
//!
//! Owns the shape of a grant batch and its pure rules: what a valid batch is (`GrantBatch::
//! check`), which items of the grantor's list it may carry (`plan_issue`), the handover deadline
//! (15 working days) and the training period (1–3 months, extendable), acceptance, revocation
//! and the status of a batch on a given day. Special seals (专用分章) and the validity question
//! are `seals.rs`. Knows nothing of storage, the clock or who is asking; the store loads what
//! these rules need and writes what they return.

mod seals;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, DayUnit, Window};
use crate::catalogue::PubRef;
use crate::category::Category;
use crate::division::DivisionCode;
use crate::item::{ItemStatus, PowerItem};

pub use seals::{Route, Seal, SealAction, SealState, SealStatus, Verdict, VerdictCode, parse_serial, verdict};

/// A grant batch is named by the entry that issued it, as a publication is: origin, seq, hash.
pub type GrantRef = PubRef;

/// The handover window: 工作方案下发后15个工作日内完成权力交接、送达专用分章.
pub const HANDOVER_WINDOW: Window = Window { days: 15, unit: DayUnit::Working };

/// The training and guidance period a batch may set (培训指导期 1—3 个月); longer only by an
/// extension entry.
pub const TRAINING_MONTHS: std::ops::RangeInclusive<u32> = 1..=3;

/// Months one extension entry may add (适度延长).
pub const EXTENSION_MONTHS: std::ops::RangeInclusive<u32> = 1..=6;

/// Approval (审批) or non-approval (非审批) powers: which special seal handles them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// 行政审批事项 (行政许可 and other approvals), sealed with a 行政审批专用章.
    Approval,
    /// The nine non-licensing categories, sealed with a 非审批类事项办理专用章.
    NonApproval,
}

impl GrantKind {
    pub fn key(self) -> &'static str {
        match self {
            GrantKind::Approval => "approval",
            GrantKind::NonApproval => "non_approval",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GrantKind::Approval => "审批",
            GrantKind::NonApproval => "非审批",
        }
    }

    /// Parses the key or the Chinese label as spreadsheets write it.
    pub fn parse(text: &str) -> Option<GrantKind> {
        match text.trim() {
            "approval" | "审批" | "审批类" | "行政审批" | "审批事项" => Some(GrantKind::Approval),
            "non_approval" | "非审批" | "非审批类" | "非审批类事项" => Some(GrantKind::NonApproval),
            _ => None,
        }
    }

    /// The kind an item of `category` has unless the grantor says otherwise; public services are
    /// not administrative powers and are never granted.
    pub fn default_for(category: Category) -> Option<GrantKind> {
        match category {
            Category::Licensing => Some(GrantKind::Approval),
            Category::PublicService => None,
            _ => Some(GrantKind::NonApproval),
        }
    }
}

/// One item of a batch as the grantor writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantItem {
    /// Code of the item in the grantor's list.
    pub code: String,
    /// 赋权部门, e.g. 盘锦市市场监督管理局.
    pub grantor_dept: String,
    /// 承接部门, e.g. 盘山县市场监督管理局.
    pub grantee_dept: String,
    /// Absent: licensing items are approval, the nine other power categories non-approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<GrantKind>,
    /// The matter is finished at a provincial (or higher) department (需报省及省级以上部门办结).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provincial: bool,
}

/// A grant batch (赋权批次): one document granting one grantee a set of the grantor's items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantBatch {
    /// 文号, e.g. 盘政发〔2016〕37号.
    pub doc_no: String,
    pub title: String,
    /// 印发日期: the handover window counts from it.
    pub issued: NaiveDate,
    /// The node that receives the powers.
    pub grantee: DivisionCode,
    /// 培训指导期, whole months (1–3).
    pub training_months: u32,
    pub items: Vec<GrantItem>,
}

/// One granted item as stored: the grantor's item at issue, with departments and kind resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedItem {
    pub code: String,
    pub name: String,
    pub category: Category,
    pub kind: GrantKind,
    pub grantor_dept: String,
    pub grantee_dept: String,
    pub provincial: bool,
    /// The grantor's item as it stood when granted (it enters the grantee's list on acceptance).
    pub item: PowerItem,
    /// Revoked by the grantor on this day (valid before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revoke_reason: String,
}

/// What the store keeps of a batch besides its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantHeader {
    pub grant_ref: GrantRef,
    pub doc_no: String,
    pub title: String,
    pub issued: NaiveDate,
    pub grantee: DivisionCode,
    pub training_months: u32,
    /// Months added by extension entries, in order, with their reasons.
    #[serde(default)]
    pub extensions: Vec<Extension>,
    pub handover_due: NaiveDate,
    pub items: u64,
    /// Departments of the grantee that receive the items.
    pub departments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revoke_reason: String,
    /// Items revoked one by one.
    #[serde(default)]
    pub items_revoked: u64,
}

/// One extension of the training period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub months: u32,
    pub reason: String,
}

/// Status of a batch on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    /// Issued, awaiting acceptance, handover not yet due.
    AwaitingHandover,
    /// Not accepted by the handover due date.
    HandoverOverdue,
    /// Accepted; in the training period.
    InTraining,
    /// Accepted; training over.
    InForce,
    /// Revoked as a whole.
    Revoked,
}

impl GrantStatus {
    pub fn key(self) -> &'static str {
        match self {
            GrantStatus::AwaitingHandover => "awaiting_handover",
            GrantStatus::HandoverOverdue => "handover_overdue",
            GrantStatus::InTraining => "in_training",
            GrantStatus::InForce => "in_force",
            GrantStatus::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GrantStatus::AwaitingHandover => "待交接",
            GrantStatus::HandoverOverdue => "交接逾期",
            GrantStatus::InTraining => "培训指导期",
            GrantStatus::InForce => "已承接",
            GrantStatus::Revoked => "已收回",
        }
    }
}

impl GrantHeader {
    /// Last day of the training period, extensions included.
    pub fn training_until(&self) -> NaiveDate {
        let months = self.training_months + self.extensions.iter().map(|e| e.months).sum::<u32>();
        self.issued.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
    }

    /// The batch's status on `day`.
    pub fn status_on(&self, day: NaiveDate) -> GrantStatus {
        if self.revoked_on.is_some_and(|r| r <= day) {
            return GrantStatus::Revoked;
        }
        match self.accepted_on {
            Some(a) if a <= day => {
                if day <= self.training_until() {
                    GrantStatus::InTraining
                } else {
                    GrantStatus::InForce
                }
            }
            _ if day > self.handover_due => GrantStatus::HandoverOverdue,
            _ => GrantStatus::AwaitingHandover,
        }
    }

    /// True when the handover happened after its due date (or has not happened and is late).
    pub fn handover_late(&self, day: NaiveDate) -> bool {
        match self.accepted_on {
            Some(a) => a > self.handover_due,
            None => self.revoked_on.is_none() && day > self.handover_due,
        }
    }
}

/// Why a grant op cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("赋权批次缺少{0} / the batch has no {0}")]
    MissingField(&'static str),
    #[error("赋权批次没有事项 / the batch grants no item")]
    EmptyBatch,
    #[error("一个条目只能签发一个赋权批次 / one grant batch per entry")]
    OneBatchPerEntry,
    #[error("培训指导期 {0} 个月不在 1—3 个月之内，更长须另行登记延长 / training period must be 1–3 months")]
    TrainingOutOfRange(u32),
    #[error("延长培训指导期 {0} 个月不在 1—6 个月之内 / an extension adds 1–6 months")]
    ExtensionOutOfRange(u32),
    #[error("事项 “{0}” 在批次中重复 / item listed twice")]
    DuplicateItem(String),
    #[error("事项 “{code}” 缺少{field} / item has no {field}")]
    ItemField { code: String, field: &'static str },
    #[error("事项 “{0}” 不在赋权方的清单中 / item not in the grantor's list")]
    UnknownItem(String),
    #[error("事项 “{code}” 状态为{status}，不能赋权 / only items in force are granted")]
    ItemNotActive { code: String, status: &'static str },
    #[error("事项 “{0}” 为公共服务，不属于可赋予的行政职权 / public services are not granted")]
    NotAPower(String),
    #[error("事项 “{code}” 属于行政许可，只能按审批类赋权 / a licensing item is an approval")]
    KindMismatch { code: String },
    #[error("未知的赋权批次 {0} / unknown grant batch")]
    UnknownBatch(String),
    #[error("赋权批次 {batch} 的承接方是 {grantee}，不是 {origin} / only the grantee accepts")]
    NotGrantee { batch: String, grantee: DivisionCode, origin: DivisionCode },
    #[error("赋权批次 {batch} 由 {grantor} 赋权，{origin} 不能处置 / only the grantor revokes or extends")]
    NotGrantor { batch: String, grantor: DivisionCode, origin: DivisionCode },
    #[error("赋权批次 {0} 已承接 / the batch was accepted already")]
    AlreadyAccepted(String),
    #[error("赋权批次 {0} 已收回 / the batch was revoked")]
    BatchRevoked(String),
    #[error(
        "承接部门与批次不符：缺少 {}，多出 {} / the receiving departments must be the batch's",
        list(.missing), list(.extra)
    )]
    DepartmentsMismatch { missing: Vec<String>, extra: Vec<String> },
    #[error("承接方清单中已有在用事项 {} / the grantee already exercises these items", list(.0))]
    CodeConflict(Vec<String>),
    #[error("事项 “{code}” 不在赋权批次 {batch} 中 / item not in the batch")]
    NotInBatch { batch: String, code: String },
    #[error("事项 “{0}” 已收回 / item revoked already")]
    ItemRevoked(String),
    #[error("收回赋权必须说明理由 / a revocation needs a reason")]
    MissingReason,
    #[error("日期 {date} 早于{what} {before} / date before {what}")]
    DateBefore { date: NaiveDate, what: &'static str, before: NaiveDate },
    #[error("日期 {date} 晚于登记当日 {today}，不能预先登记 / date after the day it is recorded")]
    DateInFuture { date: NaiveDate, today: NaiveDate },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Seal(#[from] seals::SealError),
}

fn list(v: &[String]) -> String {
    if v.is_empty() { "无".into() } else { v.join("、") }
}

impl GrantError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::MissingField(_)
            | GrantError::ItemField { .. }
            | GrantError::EmptyBatch
            | GrantError::OneBatchPerEntry => "BAD_GRANT",
            GrantError::TrainingOutOfRange(_) | GrantError::ExtensionOutOfRange(_) => "TRAINING_PERIOD",
            GrantError::DuplicateItem(_) => "DUPLICATE_CODE",
            GrantError::UnknownItem(_) => "ITEM_NOT_IN_GRANTOR_LIST",
            GrantError::ItemNotActive { .. } => "ITEM_NOT_ACTIVE",
            GrantError::NotAPower(_) | GrantError::KindMismatch { .. } => "GRANT_KIND",
            GrantError::UnknownBatch(_) => "UNKNOWN_GRANT",
            GrantError::NotGrantee { .. } => "NOT_GRANTEE",
            GrantError::NotGrantor { .. } => "NOT_GRANTOR",
            GrantError::AlreadyAccepted(_) => "ALREADY_ACCEPTED",
            GrantError::BatchRevoked(_) => "GRANT_REVOKED",
            GrantError::DepartmentsMismatch { .. } => "DEPARTMENTS_MISMATCH",
            GrantError::CodeConflict(_) => "CODE_CONFLICT",
            GrantError::NotInBatch { .. } => "NOT_IN_BATCH",
            GrantError::ItemRevoked(_) => "ITEM_REVOKED",
            GrantError::MissingReason => "MISSING_REASON",
            GrantError::DateBefore { .. } | GrantError::DateInFuture { .. } => "BAD_DATE",
            GrantError::Calendar(e) => e.code(),
            GrantError::Seal(e) => e.code(),
        }
    }

    /// True for errors about something that does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GrantError::UnknownBatch(_) | GrantError::Seal(seals::SealError::UnknownSeal(_)))
    }

    /// True for errors about the state something is in (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            GrantError::AlreadyAccepted(_)
                | GrantError::BatchRevoked(_)
                | GrantError::CodeConflict(_)
                | GrantError::ItemRevoked(_)
                | GrantError::DuplicateItem(_)
                | GrantError::Seal(
                    seals::SealError::Transition { .. }
                        | seals::SealError::ScopeRevoked(_)
                        | seals::SealError::DuplicateId(_)
                        | seals::SealError::DuplicateSerial { .. }
                )
        )
    }

    /// True for errors about who wrote the op (HTTP 403).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            GrantError::NotGrantee { .. }
                | GrantError::NotGrantor { .. }
                | GrantError::Seal(seals::SealError::NotHolder { .. })
        )
    }
}

pub use seals::SealError;

fn required(text: &str, field: &'static str) -> Result<(), GrantError> {
    if text.trim().is_empty() { Err(GrantError::MissingField(field)) } else { Ok(()) }
}

impl GrantBatch {
    /// Checks the batch on its own: document, training period, items listed once with both
    /// departments.
    pub fn check(&self) -> Result<(), GrantError> {
        required(&self.doc_no, "文号")?;
        required(&self.title, "标题")?;
        if !TRAINING_MONTHS.contains(&self.training_months) {
            return Err(GrantError::TrainingOutOfRange(self.training_months));
        }
        if self.items.is_empty() {
            return Err(GrantError::EmptyBatch);
        }
        let mut seen = BTreeSet::new();
        for i in &self.items {
            if i.code.trim().is_empty() {
                return Err(GrantError::MissingField("事项编码"));
            }
            if !seen.insert(i.code.trim()) {
                return Err(GrantError::DuplicateItem(i.code.trim().to_string()));
            }
            if i.grantor_dept.trim().is_empty() {
                return Err(GrantError::ItemField { code: i.code.clone(), field: "赋权部门" });
            }
            if i.grantee_dept.trim().is_empty() {
                return Err(GrantError::ItemField { code: i.code.clone(), field: "承接部门" });
            }
        }
        Ok(())
    }

    /// The grantee's receiving departments, each once, sorted.
    pub fn departments(&self) -> Vec<String> {
        self.items.iter().map(|i| i.grantee_dept.trim().to_string()).collect::<BTreeSet<_>>().into_iter().collect()
    }
}

/// Plans a batch against the grantor's list (`lookup` gives the grantor's item by code): every
/// item must be in force there, and be a power of the kind declared. Returns the items to store
/// and the handover due date.
pub fn plan_issue(
    batch: &GrantBatch,
    calendar: &Calendar,
    lookup: impl Fn(&str) -> Option<PowerItem>,
) -> Result<(Vec<GrantedItem>, NaiveDate), GrantError> {
    batch.check()?;
    let due = calendar.due_date(batch.issued, HANDOVER_WINDOW)?;
    let mut out = Vec::with_capacity(batch.items.len());
    for i in &batch.items {
        let code = i.code.trim();
        let item = lookup(code).ok_or_else(|| GrantError::UnknownItem(code.to_string()))?;
        if item.status != ItemStatus::Active {
            return Err(GrantError::ItemNotActive { code: code.to_string(), status: item.status.label() });
        }
        let default = GrantKind::default_for(item.category).ok_or_else(|| GrantError::NotAPower(code.to_string()))?;
        let kind = match i.kind {
            Some(GrantKind::NonApproval) if default == GrantKind::Approval => {
                return Err(GrantError::KindMismatch { code: code.to_string() });
            }
            Some(k) => k,
            None => default,
        };
        out.push(GrantedItem {
            code: code.to_string(),
            name: item.name.clone(),
            category: item.category,
            kind,
            grantor_dept: i.grantor_dept.trim().to_string(),
            grantee_dept: i.grantee_dept.trim().to_string(),
            provincial: i.provincial,
            item,
            revoked_on: None,
            revoke_reason: String::new(),
        });
    }
    Ok((out, due))
}

/// `date` may not be after the day the entry recording it was written, nor before `floor`.
pub fn check_date(date: NaiveDate, today: NaiveDate, floor: NaiveDate, what: &'static str) -> Result<(), GrantError> {
    if date > today {
        return Err(GrantError::DateInFuture { date, today });
    }
    if date < floor {
        return Err(GrantError::DateBefore { date, what, before: floor });
    }
    Ok(())
}

/// Checks an acceptance by `origin` on `date` (recorded on `today`) naming `departments`:
/// only facts of the grantee's own log and of the batch itself, so that every node reaches the
/// same answer whatever order the grantor's and the grantee's entries reach it in.
pub fn check_accept(
    header: &GrantHeader,
    origin: &DivisionCode,
    departments: &[String],
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), GrantError> {
    let batch = header.grant_ref.to_string();
    if &header.grantee != origin {
        return Err(GrantError::NotGrantee { batch, grantee: header.grantee.clone(), origin: origin.clone() });
    }
    // A revocation is the grantor's and may cross the acceptance in the post: it is not checked
    // here (the projection gives the same list in either order); `check_not_revoked` is for
    // writers who already know of it.
    if header.accepted_on.is_some() {
        return Err(GrantError::AlreadyAccepted(batch));
    }
    check_date(date, today, header.issued, "印发日期")?;
    let named: BTreeSet<String> = departments.iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
    let wanted: BTreeSet<String> = header.departments.iter().cloned().collect();
    if named != wanted {
        return Err(GrantError::DepartmentsMismatch {
            missing: wanted.difference(&named).cloned().collect(),
            extra: named.difference(&wanted).cloned().collect(),
        });
    }
    Ok(())
}

/// For a writer about to accept or seal under a batch: refuses when the batch is known to be
/// revoked. Not part of applying an entry, which must not depend on the grantor's concurrent
/// entries.
pub fn check_not_revoked(header: &GrantHeader) -> Result<(), GrantError> {
    match header.revoked_on {
        Some(_) => Err(GrantError::BatchRevoked(header.grant_ref.to_string())),
        None => Ok(()),
    }
}

/// Checks a revocation by `origin` of the whole batch (`codes` empty) or of `codes`, given the
/// batch's items by code; returns the codes it revokes.
pub fn check_revoke(
    header: &GrantHeader,
    items: &BTreeMap<String, GrantedItem>,
    origin: &DivisionCode,
    codes: &[String],
    reason: &str,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<String>, GrantError> {
    let batch = header.grant_ref.to_string();
    if &header.grant_ref.origin != origin {
        return Err(GrantError::NotGrantor { batch, grantor: header.grant_ref.origin.clone(), origin: origin.clone() });
    }
    if reason.trim().is_empty() {
        return Err(GrantError::MissingReason);
    }
    if header.revoked_on.is_some() {
        return Err(GrantError::BatchRevoked(batch));
    }
    check_date(date, today, header.issued, "印发日期")?;
    if codes.is_empty() {
        return Ok(items.values().filter(|i| i.revoked_on.is_none()).map(|i| i.code.clone()).collect());
    }
    let mut seen = BTreeSet::new();
    for code in codes {
        let code = code.trim();
        let item = items.get(code).ok_or_else(|| GrantError::NotInBatch { batch: batch.clone(), code: code.into() })?;
        if item.revoked_on.is_some() {
            return Err(GrantError::ItemRevoked(code.into()));
        }
        if !seen.insert(code.to_string()) {
            return Err(GrantError::DuplicateItem(code.into()));
        }
    }
    Ok(seen.into_iter().collect())
}

/// Checks an extension of the training period by `origin`.
pub fn check_extend(header: &GrantHeader, origin: &DivisionCode, ext: &Extension) -> Result<(), GrantError> {
    let batch = header.grant_ref.to_string();
    if &header.grant_ref.origin != origin {
        return Err(GrantError::NotGrantor { batch, grantor: header.grant_ref.origin.clone(), origin: origin.clone() });
    }
    if !EXTENSION_MONTHS.contains(&ext.months) {
        return Err(GrantError::ExtensionOutOfRange(ext.months));
    }
    if ext.reason.trim().is_empty() {
        return Err(GrantError::MissingReason);
    }
    if header.revoked_on.is_some() {
        return Err(GrantError::BatchRevoked(batch));
    }
    Ok(())
}

/// The item as it enters the grantee's list on acceptance: the grantor's elements, the
/// receiving department as implementing body, status granted with the provenance in words.
pub fn item_for_grantee(header: &GrantHeader, g: &GrantedItem) -> PowerItem {
    let mut item = g.item.clone();
    item.implementing_body = g.grantee_dept.clone();
    item.status = ItemStatus::Granted;
    item.status_reason = format!("{}（{}）赋权，赋权部门{}", header.doc_no, header.grant_ref.origin, g.grantor_dept);
    item
}

/// The item as it stands in the grantee's list once its grant was revoked: cancelled, with the
/// document, the day and the reason. The same whether the revocation reached the grantee's
/// list before or after the acceptance.
pub fn item_revoked_for_grantee(header: &GrantHeader, g: &GrantedItem) -> PowerItem {
    let mut item = item_for_grantee(header, g);
    item.status = ItemStatus::Cancelled;
    let on = g.revoked_on.map(|d| d.to_string()).unwrap_or_default();
    item.status_reason = format!("{} 赋权已于 {on} 收回：{}", header.doc_no, g.revoke_reason);
    item
}
