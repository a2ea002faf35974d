//! Local adjustment requests (调整申请): when a department must apply after a trigger event,
//! and whether an application came late.
//!
//! Owns the six triggers of an adjustment, the filing record a node writes to its log, the
//! node's policy (its application window) and the lateness rule. The roles of a node's people
//! are `roles.rs`; the approval workflow that follows a filing is `workflow.rs`. No clock, no
//! storage.

pub mod roles;
pub mod workflow;
#[cfg(test)]
mod workflow_tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, Window};

/// What made an adjustment necessary (the six triggers of an adjustment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// (一) a law, regulation or rule creates a power.
    NewPower,
    /// (二) the upper-level or own government cancels or adjusts a power.
    GovernmentDecision,
    /// (三) the legal basis lapses, is repealed or amended.
    BasisChanged,
    /// (四) a restructuring of bodies or functions.
    Restructuring,
    /// (五) the information of the power changes.
    InformationChanged,
    /// (六) other.
    Other,
}

impl Trigger {
    pub const ALL: [Trigger; 6] = [
        Trigger::NewPower,
        Trigger::GovernmentDecision,
        Trigger::BasisChanged,
        Trigger::Restructuring,
        Trigger::InformationChanged,
        Trigger::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Trigger::NewPower => "new_power",
            Trigger::GovernmentDecision => "government_decision",
            Trigger::BasisChanged => "basis_changed",
            Trigger::Restructuring => "restructuring",
            Trigger::InformationChanged => "information_changed",
            Trigger::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Trigger::NewPower => "法律法规规章新设行政权力",
            Trigger::GovernmentDecision => "上级或本级政府决定取消调整",
            Trigger::BasisChanged => "设定依据失效、废止或更改",
            Trigger::Restructuring => "机构、职能变动",
            Trigger::InformationChanged => "行政权力信息内容变更",
            Trigger::Other => "其他情形",
        }
    }
}

impl std::str::FromStr for Trigger {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Trigger::ALL.into_iter().find(|t| t.key() == s || t.label() == s).ok_or_else(|| {
            let keys: Vec<&str> = Trigger::ALL.iter().map(|t| t.key()).collect();
            format!("未知的调整情形 “{s}”，应为 {} / unknown trigger", keys.join("、"))
        })
    }
}

/// A department's application to adjust the list, as filed (the date of filing is the entry's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Filing {
    /// The applying department.
    pub department: String,
    pub trigger: Trigger,
    /// The day the change happened (变更之日).
    pub trigger_date: NaiveDate,
    pub summary: String,
    /// Item codes concerned, if known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
}

/// Why a filing cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("调整申请缺少{0} / the filing needs {0}")]
    Missing(&'static str),
    #[error("变更日期 {trigger} 晚于申请日期 {filed} / trigger after filing")]
    TriggerAfterFiling { trigger: NaiveDate, filed: NaiveDate },
}

impl Filing {
    /// Checks the filing made on `filed`.
    pub fn validate(&self, filed: NaiveDate) -> Result<(), FilingError> {
        if self.department.trim().is_empty() {
            return Err(FilingError::Missing("申请部门 (department)"));
        }
        if self.summary.trim().is_empty() {
            return Err(FilingError::Missing("调整内容 (summary)"));
        }
        if self.trigger_date > filed {
            return Err(FilingError::TriggerAfterFiling { trigger: self.trigger_date, filed });
        }
        Ok(())
    }
}

/// Deadline for a filing triggered on `trigger_date`, and how many working days late a filing
/// on `filed` is (0 when on time).
pub fn filing_deadline(
    calendar: &Calendar,
    window: Window,
    trigger_date: NaiveDate,
    filed: NaiveDate,
) -> Result<(NaiveDate, i64), CalendarError> {
    let due = calendar.due_date(trigger_date, window)?;
    let late = if filed > due { calendar.working_days_between(due, filed)?.max(1) } else { 0 };
    Ok((due, late))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn triggers_parse_from_keys_and_labels() {
        for t in Trigger::ALL {
            assert_eq!(t.key().parse::<Trigger>().unwrap(), t);
            assert_eq!(t.label().parse::<Trigger>().unwrap(), t);
        }
        assert!("whim".parse::<Trigger>().unwrap_err().contains("new_power"));
    }

    #[test]
    fn a_filing_needs_department_summary_and_a_past_trigger() {
        let f = Filing {
            department: "区市场监管局".into(),
            trigger: Trigger::BasisChanged,
            trigger_date: day("2025-03-03"),
            summary: "依据修改".into(),
            codes: vec![],
        };
        assert!(f.validate(day("2025-03-10")).is_ok());
        assert!(matches!(f.validate(day("2025-03-01")), Err(FilingError::TriggerAfterFiling { .. })));
        let blank = Filing { department: " ".into(), ..f };
        assert_eq!(blank.validate(day("2025-03-10")), Err(FilingError::Missing("申请部门 (department)")));
    }

    #[test]
    fn lateness_follows_the_node_window() {
        let cal = Calendar::builtin();
        let working = Window::default();
        // 20 working days after 2025-09-22 (Mon), counting the make-up Sunday 09-28 and Saturday
        // 10-11 and skipping the 10-01..08 break.
        let (due, late) = filing_deadline(&cal, working, day("2025-09-22"), day("2025-10-24")).unwrap();
        assert_eq!((due, late), (day("2025-10-24"), 0));
        let (_, late) = filing_deadline(&cal, working, day("2025-09-22"), day("2025-10-28")).unwrap();
        assert_eq!(late, 2);
        let seven = Window { days: 7, unit: crate::calendar::DayUnit::Calendar };
        let (due, late) = filing_deadline(&cal, seven, day("2025-03-03"), day("2025-03-12")).unwrap();
        assert_eq!(due, day("2025-03-10"));
        assert_eq!(late, 2);
    }
}
