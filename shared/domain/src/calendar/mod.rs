//! The official Chinese working-day calendar (工作日历) and legal deadline counting.
//!
//! Owns the State Council General Office's yearly holiday arrangements (国务院办公厅关于某年部分节假日
//! 安排的通知): which days are off (放假调休) and which Saturdays and Sundays are worked (调休上班),
//! and the counting of time limits on top of them: "20 working days" (工作日) and "7 days" (自然日)
//! under 民法典 第二百零一条 (the start day is not counted) and 第二百零三条 (a period whose last
//! day is a holiday ends on the first working day after it).
//!
//! This module is pure: no clock, no I/O. The arrangements for 2015 to 2026 ship with the crate
//! (`data/calendar/YYYY.json`, compiled in with `include_str!`); a year without a published
//! arrangement is never guessed — every question about it answers
//! [`CalendarError::YearNotPublished`].
//!
//! Amending notices are folded into the year they amend, each as its own [`Holiday`] whose name
//! names the amending notice: 2015's Victory Day (国发明电〔2015〕1号, 3–5 September off, Sunday
//! 6 September worked), 2019's Labour Day change (1–4 May instead of 1 May), and 2020's Spring
//! Festival extension to 2 February, which also cancelled the make-up Saturday of 1 February.

mod days;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub use days::Calendar;

/// The unit of a time limit: working days (工作日) or calendar days (自然日).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DayUnit {
    /// 工作日: only days the calendar says are worked count.
    Working,
    /// 自然日 (日): every day counts; the last one moves off a holiday.
    Calendar,
}

impl DayUnit {
    /// Stable lowercase English key, as in JSON and config files.
    pub fn key(self) -> &'static str {
        match self {
            DayUnit::Working => "working",
            DayUnit::Calendar => "calendar",
        }
    }

    /// Chinese label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            DayUnit::Working => "工作日",
            DayUnit::Calendar => "自然日",
        }
    }
}

impl fmt::Display for DayUnit {
    /// The English key, like [`crate::Tier`]; [`DayUnit::label`] gives the Chinese.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The text was not a day unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知期限单位 “{0}”，应为 working/calendar 或 工作日/自然日/日 / unknown day unit")]
pub struct UnknownDayUnit(pub String);

impl FromStr for DayUnit {
    type Err = UnknownDayUnit;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "working" | "工作日" => Ok(DayUnit::Working),
            "calendar" | "自然日" | "日" => Ok(DayUnit::Calendar),
            other => Err(UnknownDayUnit(other.to_string())),
        }
    }
}

/// A time limit: a number of days in a unit, e.g. 20 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: u32,
    pub unit: DayUnit,
}

impl Default for Window {
    /// 20 working days, the general time limit for an administrative licence decision
    /// (行政许可法 第四十二条).
    fn default() -> Self {
        Window { days: 20, unit: DayUnit::Working }
    }
}

impl fmt::Display for Window {
    /// `20个工作日` or `7日`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            DayUnit::Working => write!(f, "{}个工作日", self.days),
            DayUnit::Calendar => write!(f, "{}日", self.days),
        }
    }
}

/// One break of an arrangement, inclusive at both ends, weekend days inside it included, e.g.
/// `国庆节、中秋节` 2025-10-01..=2025-10-08.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One year's arrangement as published by the State Council General Office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HolidayYear {
    pub year: i32,
    /// The notice's number, e.g. `国办发明电〔2024〕12号`.
    pub notice: String,
    /// Every break of the year (days off, weekend days inside a break included).
    pub holidays: Vec<Holiday>,
    /// Saturdays and Sundays worked (调休上班).
    pub workdays: Vec<NaiveDate>,
}

impl HolidayYear {
    /// Checks the arrangement on its own: a non-empty notice and names, `from <= to`, every date
    /// between 1 December of the year before and 31 January of the year after (a notice may
    /// reach into a neighbouring year, as the 2019 New Year break began on 2018-12-30), every
    /// make-up day a Saturday or Sunday, and no date both off and worked.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let invalid = |reason: String| CalendarError::Invalid { year: self.year, reason };
        let first = self.year.checked_sub(1).and_then(|before| NaiveDate::from_ymd_opt(before, 12, 1));
        let last = self.year.checked_add(1).and_then(|after| NaiveDate::from_ymd_opt(after, 1, 31));
        let (Some(first), Some(last)) = (first, last) else {
            return Err(invalid("年份超出可表示的日期范围".to_string()));
        };
        let outside = |d: NaiveDate| d < first || d > last;
        if self.notice.trim().is_empty() {
            return Err(invalid("缺少通知文号".to_string()));
        }
        for h in &self.holidays {
            if h.name.trim().is_empty() {
                return Err(invalid(format!("{} 起的假期缺少名称", h.from)));
            }
            if h.from > h.to {
                return Err(invalid(format!("“{}”的起始日 {} 晚于结束日 {}", h.name, h.from, h.to)));
            }
            if let Some(d) = [h.from, h.to].into_iter().find(|d| outside(*d)) {
                return Err(invalid(format!("“{}”的日期 {d} 不在 {first} 至 {last} 之内", h.name)));
            }
        }
        for &d in &self.workdays {
            if outside(d) {
                return Err(invalid(format!("调休上班日 {d} 不在 {first} 至 {last} 之内")));
            }
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err(invalid(format!("调休上班日 {d} 不是星期六或星期日")));
            }
            if let Some(h) = self.holidays.iter().find(|h| h.from <= d && d <= h.to) {
                return Err(invalid(format!("{d} 既在“{}”假期内又是调休上班日", h.name)));
            }
        }
        Ok(())
    }
}

/// Why a calendar question has no answer, or an arrangement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} 年的节假日安排尚未发布，无法计算 / no published holiday arrangement for {0}")]
    YearNotPublished(i32),
    #[error("期限天数必须至少为 1 / a window needs at least one day")]
    ZeroDays,
    #[error("{year} 年节假日安排有误：{reason} / invalid holiday arrangement")]
    Invalid { year: i32, reason: String },
}

impl CalendarError {
    /// Stable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::YearNotPublished(_) => "CALENDAR_YEAR_MISSING",
            CalendarError::ZeroDays => "ZERO_DAYS",
            CalendarError::Invalid { .. } => "BAD_CALENDAR",
        }
    }
}
