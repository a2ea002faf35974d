//! Reconciliation (对标调整): one node's list against one publication's requirements.
//!
//! Owns the pure rules: what the list must change (`propose`), whether an adoption really made
//! the list match (`check`), how a local item keeps its local elements (`with_local`), and the
//! status of a task on a given day (`assess`). Knows nothing of storage or of who asked; dates
//! come in as arguments (no clock).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, Window};
use crate::catalogue::{Expect, Requirement};
use crate::item::{Field, ItemPatch, ItemStatus, PowerItem, TimeLimit};
use crate::tier::Tier;

/// How a node closed (part of) a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Adopted,
    Deviated,
    NotApplicable,
}

impl Resolution {
    pub fn key(self) -> &'static str {
        match self {
            Resolution::Adopted => "adopted",
            Resolution::Deviated => "deviated",
            Resolution::NotApplicable => "not_applicable",
        }
    }
}

/// Status of a reconciliation task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Adopted,
    Deviated,
    NotApplicable,
    Overdue,
}

impl TaskStatus {
    pub fn key(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Adopted => "adopted",
            TaskStatus::Deviated => "deviated",
            TaskStatus::NotApplicable => "not_applicable",
            TaskStatus::Overdue => "overdue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Open => "待对标",
            TaskStatus::Adopted => "已对标",
            TaskStatus::Deviated => "有差异（已说明）",
            TaskStatus::NotApplicable => "不适用",
            TaskStatus::Overdue => "已逾期",
        }
    }
}

/// Why a reconciliation op cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconError {
    #[error("未知的公布 {0} / unknown publication")]
    UnknownPublication(String),
    #[error("公布 {publication} 不要求 {tier} 级节点对标 / the publication does not apply to this node")]
    NotAffected { publication: String, tier: Tier },
    #[error("对标任务 {0} 已办结 / the task is closed")]
    TaskClosed(String),
    #[error("事项 “{0}” 不在该公布对本级的要求中 / the code is not in the publication")]
    NotInPublication(String),
    #[error("事项 “{0}” 已对标或已说明差异 / the code is already resolved")]
    AlreadyResolved(String),
    #[error("说明差异或不适用必须写明理由 / a reason is required")]
    MissingReason,
    #[error("说明差异必须写明法律依据 / a legal basis is required")]
    MissingBasis,
    #[error("事项 “{code}” 与目录不一致：{detail} / the list does not match the catalogue")]
    Mismatch { code: String, detail: String },
}

impl ReconError {
    pub fn code(&self) -> &'static str {
        match self {
            ReconError::UnknownPublication(_) => "UNKNOWN_PUBLICATION",
            ReconError::NotAffected { .. } => "NOT_AFFECTED",
            ReconError::TaskClosed(_) => "TASK_CLOSED",
            ReconError::NotInPublication(_) => "NOT_IN_PUBLICATION",
            ReconError::AlreadyResolved(_) => "ALREADY_RESOLVED",
            ReconError::MissingReason => "MISSING_REASON",
            ReconError::MissingBasis => "MISSING_BASIS",
            ReconError::Mismatch { .. } => "ADOPT_MISMATCH",
        }
    }
}

/// The requirements of a publication on a list of `tier`, one per code.
pub fn requirements_for(requirements: &[Requirement], tier: Tier) -> Vec<&Requirement> {
    requirements.iter().filter(|r| r.tiers.contains(&tier)).collect()
}

/// What the list must do for one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant, reason = "one per requirement, short-lived")]
pub enum Action {
    /// Already as required.
    None,
    /// Add the catalogue item (local elements may be edited before adopting).
    Add { item: PowerItem },
    /// Bring the uniform elements in line; local elements stay.
    Update { patch: ItemPatch },
    /// Cancel the item, with the reason; `delegated`: it goes to a lower level (已下放).
    Cancel {
        reason: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        delegated: bool,
    },
    /// The list holds the code as cancelled while the catalogue has it active: the item cannot
    /// be re-added under the same code by an adoption; deviate, or ask for a new code.
    Blocked { reason: String },
}

/// The change a list needs for `req`, given its item with that code (if any).
pub fn propose(req: &Requirement, current: Option<&PowerItem>) -> Action {
    match (&req.expect, current) {
        (Expect::Present { item }, None) => Action::Add { item: item.clone() },
        (Expect::Present { .. }, Some(cur)) if cur.status != ItemStatus::Active => Action::Blocked {
            reason: format!(
                "清单中该事项状态为“{}”，目录要求在用 / the list holds it as not active",
                cur.status.label()
            ),
        },
        (Expect::Present { item }, Some(cur)) => {
            let patch = uniform_patch(item, cur);
            if patch.is_empty() { Action::None } else { Action::Update { patch } }
        }
        (Expect::Absent { reason, delegated }, Some(cur)) if cur.status == ItemStatus::Active => {
            Action::Cancel { reason: reason.clone(), delegated: *delegated }
        }
        (Expect::Absent { .. }, _) => Action::None,
    }
}

/// The patch that gives `cur` the uniform elements of catalogue item `cat`.
fn uniform_patch(cat: &PowerItem, cur: &PowerItem) -> ItemPatch {
    let mut patch = ItemPatch::default();
    if cur.name != cat.name {
        patch.name = Some(cat.name.clone());
    }
    if cur.category != cat.category {
        patch.category = Some(cat.category);
    }
    if cur.basis != cat.basis {
        patch.basis = Some(cat.basis.clone());
    }
    if let Some(legal) = cat.time_limit.legal_days {
        let promised = cur.time_limit.promised_days.filter(|p| *p > legal).map(|_| legal);
        if cur.time_limit.legal_days != Some(legal) || promised.is_some() {
            patch.time_limit = Some(TimeLimit { legal_days: Some(legal), promised_days: promised });
        }
    }
    patch
}

/// `local` with the uniform elements of `cat`: what a node adopts when it edits local elements
/// (implementing body, contacts, a shorter promised limit, …) of a catalogue item.
pub fn with_local(cat: &PowerItem, local: &PowerItem) -> PowerItem {
    let mut out = local.clone();
    out.code = cat.code.clone();
    out.name = cat.name.clone();
    out.category = cat.category;
    out.basis = cat.basis.clone();
    if let Some(legal) = cat.time_limit.legal_days {
        out.time_limit.legal_days = Some(legal);
        out.time_limit.promised_days = out.time_limit.promised_days.map(|p| p.min(legal));
    }
    out.status = ItemStatus::Active;
    out.status_reason.clear();
    out
}

/// Checks that the list meets `req` (after the adopting entry's item ops were applied).
pub fn check(req: &Requirement, current: Option<&PowerItem>) -> Result<(), ReconError> {
    let mismatch = |detail: String| ReconError::Mismatch { code: req.code.clone(), detail };
    match (&req.expect, current) {
        (Expect::Present { .. }, None) => Err(mismatch("清单中没有该事项 / missing from the list".into())),
        (Expect::Present { .. }, Some(cur)) if cur.status != ItemStatus::Active => {
            Err(mismatch(format!("清单中该事项状态为“{}” / not active", cur.status.label())))
        }
        (Expect::Present { item }, Some(cur)) => {
            let patch = uniform_patch(item, cur);
            let fields: Vec<Field> = [
                (patch.name.is_some(), Field::Name),
                (patch.category.is_some(), Field::Category),
                (patch.basis.is_some(), Field::Basis),
                (patch.time_limit.is_some(), Field::LegalDays),
            ]
            .into_iter()
            .filter_map(|(differs, f)| differs.then_some(f))
            .collect();
            if fields.is_empty() {
                Ok(())
            } else {
                let names: Vec<&str> = fields.iter().map(|f| f.label()).collect();
                Err(mismatch(format!("{}与目录不同 / uniform elements differ", names.join("、"))))
            }
        }
        (Expect::Absent { .. }, Some(cur)) if cur.status == ItemStatus::Active => {
            Err(mismatch("目录已取消或下放，清单中仍在用 / still active in the list".into()))
        }
        (Expect::Absent { .. }, _) => Ok(()),
    }
}

/// What a node has done about one task so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Codes the publication requires of this node's tier.
    pub required: usize,
    /// Resolution of each code resolved so far.
    pub resolved: BTreeMap<String, Resolution>,
    /// The whole task was declared not applicable.
    pub not_applicable: bool,
    /// The node wrote at least one reconciliation op for the task.
    pub acted: bool,
}

/// How and when a task was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    pub status: TaskStatus,
    /// Day of the entry that closed the task (China time).
    pub on: NaiveDate,
}

impl Progress {
    /// True once nothing is left to do.
    pub fn is_closed(&self) -> bool {
        self.not_applicable || (self.acted && self.resolved.len() >= self.required)
    }

    /// The closed status, if closed.
    pub fn closed_status(&self) -> Option<TaskStatus> {
        if self.not_applicable {
            return Some(TaskStatus::NotApplicable);
        }
        if !self.is_closed() {
            return None;
        }
        if self.resolved.values().any(|r| *r == Resolution::Deviated) {
            Some(TaskStatus::Deviated)
        } else if self.required > 0 && self.resolved.values().all(|r| *r == Resolution::NotApplicable) {
            Some(TaskStatus::NotApplicable)
        } else {
            Some(TaskStatus::Adopted)
        }
    }
}

/// A task's standing on a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub due: NaiveDate,
    pub status: TaskStatus,
    /// Working days from `today` to the due date, while open (0 on the due date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// Working days past the due date, while overdue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
    /// Working days the closing came after the due date (0 when on time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_days: Option<i64>,
}

/// Due date and status on `today` of a task of a publication published on `published` with
/// `window`, closed or not. A day late by the calendar but with no working day in between
/// (closed on the Saturday after a Friday due date) counts as one working day late.
pub fn assess(
    calendar: &Calendar,
    published: NaiveDate,
    window: Window,
    closing: Option<Closing>,
    today: NaiveDate,
) -> Result<Assessment, CalendarError> {
    let due = calendar.due_date(published, window)?;
    if let Some(Closing { status, on }) = closing {
        let late = if on > due { calendar.working_days_between(due, on)?.max(1) } else { 0 };
        return Ok(Assessment { due, status, days_left: None, days_overdue: None, late_days: Some(late) });
    }
    if today > due {
        let overdue = calendar.working_days_between(due, today)?.max(1);
        return Ok(Assessment {
            due,
            status: TaskStatus::Overdue,
            days_left: None,
            days_overdue: Some(overdue),
            late_days: None,
        });
    }
    let left = calendar.working_days_between(today, due)?;
    Ok(Assessment { due, status: TaskStatus::Open, days_left: Some(left), days_overdue: None, late_days: None })
}

/// The day (China Standard Time, UTC+8) of an entry timestamp (RFC 3339).
pub fn china_day(at: &str) -> Option<NaiveDate> {
    let east8 = FixedOffset::east_opt(8 * 3600)?;
    DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&east8).date_naive())
}

#[cfg(test)]
#[path = "recon_tests.rs"]
mod tests;
