//! [`Calendar`]: the published arrangements, the day-by-day answer, and deadline counting.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::{CalendarError, DayUnit, HolidayYear, Window};

/// The arrangements shipped in `data/calendar/`, one file per year.
const BUILTIN: [(i32, &str); 12] = [
    (2015, include_str!("../../data/calendar/2015.json")),
    (2016, include_str!("../../data/calendar/2016.json")),
    (2017, include_str!("../../data/calendar/2017.json")),
    (2018, include_str!("../../data/calendar/2018.json")),
    (2019, include_str!("../../data/calendar/2019.json")),
    (2020, include_str!("../../data/calendar/2020.json")),
    (2021, include_str!("../../data/calendar/2021.json")),
    (2022, include_str!("../../data/calendar/2022.json")),
    (2023, include_str!("../../data/calendar/2023.json")),
    (2024, include_str!("../../data/calendar/2024.json")),
    (2025, include_str!("../../data/calendar/2025.json")),
    (2026, include_str!("../../data/calendar/2026.json")),
];

/// The working-day calendar: the published arrangements by year, and the union of their days
/// off and make-up working days.
///
/// A date is answered only when its own year is published. It is then decided by every
/// published notice together, so a late-December day set by the next year's notice (2018-12-29
/// worked, 2018-12-31 off, both from the 2019 notice) is answered once that notice is in; until
/// then such a day is answered from its weekday.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, HolidayYear>,
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar of `years`, each validated. A year given twice keeps the later one (a corrected
    /// notice replaces the first).
    pub fn new(years: impl IntoIterator<Item = HolidayYear>) -> Result<Calendar, CalendarError> {
        let mut calendar = Calendar::default();
        for year in years {
            calendar.insert(year)?;
        }
        Ok(calendar)
    }

    /// The arrangements shipped with the crate, 2015 to 2026.
    pub fn builtin_years() -> Vec<HolidayYear> {
        BUILTIN
            .iter()
            .map(|(year, text)| {
                let parsed: HolidayYear = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("data/calendar/{year}.json does not parse: {e}"));
                assert_eq!(parsed.year, *year, "data/calendar/{year}.json is for another year");
                parsed
            })
            .collect()
    }

    /// The calendar of [`Calendar::builtin_years`].
    pub fn builtin() -> Calendar {
        Calendar::new(Calendar::builtin_years()).expect("the shipped holiday arrangements are valid")
    }

    /// Adds a year, replacing one already there. Refuses an invalid arrangement, and one that
    /// works a day another published notice gives off (or the reverse); the calendar is then
    /// unchanged.
    pub fn insert(&mut self, year: HolidayYear) -> Result<(), CalendarError> {
        year.validate()?;
        let y = year.year;
        let mut years = self.years.clone();
        years.insert(y, year);
        let (off, on) = day_sets(&years);
        if let Some(d) = off.intersection(&on).next() {
            let reason = format!("{d} 在一份通知中放假、在另一份通知中调休上班");
            return Err(CalendarError::Invalid { year: y, reason });
        }
        *self = Calendar { years, off, on };
        Ok(())
    }

    /// The published years, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The arrangement published for `y`.
    pub fn year(&self, y: i32) -> Option<&HolidayYear> {
        self.years.get(&y)
    }

    /// Whether `d` is a working day: a make-up day is, a day inside a break is not, otherwise
    /// Monday to Friday are. Errs unless the year of `d` is published.
    pub fn is_workday(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        if !self.years.contains_key(&d.year()) {
            return Err(CalendarError::YearNotPublished(d.year()));
        }
        if self.on.contains(&d) {
            return Ok(true);
        }
        if self.off.contains(&d) {
            return Ok(false);
        }
        Ok(!matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
    }

    /// The first working day strictly after `d`.
    pub fn next_workday(&self, d: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut day = d;
        loop {
            day = self.day_after(day)?;
            if self.is_workday(day)? {
                return Ok(day);
            }
        }
    }

    /// The last day of `window` counted from `start`, the start day not counted (民法典 第二百零一条).
    ///
    /// Working days: the `days`-th working day after `start`. Calendar days: `start + days`, or
    /// the next working day when that day is a holiday or rest day (第二百零三条). Errs with
    /// [`CalendarError::ZeroDays`] for an empty window, and with
    /// [`CalendarError::YearNotPublished`] when a day it has to examine lies in an unpublished year.
    pub fn due_date(&self, start: NaiveDate, window: Window) -> Result<NaiveDate, CalendarError> {
        if window.days == 0 {
            return Err(CalendarError::ZeroDays);
        }
        match window.unit {
            DayUnit::Working => {
                let mut day = start;
                for _ in 0..window.days {
                    day = self.next_workday(day)?;
                }
                Ok(day)
            }
            DayUnit::Calendar => {
                let end = start
                    .checked_add_days(Days::new(window.days.into()))
                    .ok_or_else(|| CalendarError::YearNotPublished(self.first_unpublished_after(start.year())))?;
                if self.is_workday(end)? { Ok(end) } else { self.next_workday(end) }
            }
        }
    }

    /// Working days in `(from, to]` when `to` is after `from`; minus the working days in
    /// `(to, from]` when it is before; 0 when they are equal. "3 working days late" is
    /// `working_days_between(due, today) == 3`; "5 left" is `working_days_between(today, due) == 5`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<i64, CalendarError> {
        let (low, high, sign) = if to >= from { (from, to, 1) } else { (to, from, -1) };
        let mut count = 0i64;
        let mut day = low;
        while day < high {
            day = self.day_after(day)?;
            if self.is_workday(day)? {
                count += 1;
            }
        }
        Ok(sign * count)
    }

    fn day_after(&self, d: NaiveDate) -> Result<NaiveDate, CalendarError> {
        d.succ_opt().ok_or_else(|| CalendarError::YearNotPublished(self.first_unpublished_after(d.year())))
    }

    /// The first year from `y` on without a published arrangement.
    fn first_unpublished_after(&self, y: i32) -> i32 {
        let mut year = y;
        while self.years.contains_key(&year) && year < i32::MAX {
            year += 1;
        }
        year
    }
}

/// Every day off and every make-up working day of `years`, all notices together.
fn day_sets(years: &BTreeMap<i32, HolidayYear>) -> (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>) {
    let mut off = BTreeSet::new();
    let mut on = BTreeSet::new();
    for year in years.values() {
        for h in &year.holidays {
            off.extend(h.from.iter_days().take_while(|d| *d <= h.to));
        }
        on.extend(year.workdays.iter().copied());
    }
    (off, on)
}
