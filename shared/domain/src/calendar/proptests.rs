use std::sync::LazyLock;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;

static CAL: LazyLock<Calendar> = LazyLock::new(Calendar::builtin);

/// Any day from 2015-01-01 to 2026-10-31, so that a 40-day window stays inside 2026.
fn start() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let span = (last - first).num_days() as u64;
    (0..=span).prop_map(move |n| first + Days::new(n))
}

fn unit() -> impl Strategy<Value = DayUnit> {
    prop_oneof![Just(DayUnit::Working), Just(DayUnit::Calendar)]
}

proptest! {
    #[test]
    fn a_due_date_is_a_working_day_after_the_start(start in start(), days in 1u32..=40, unit in unit()) {
        let due = CAL.due_date(start, Window { days, unit }).unwrap();
        prop_assert!(due > start);
        prop_assert!(CAL.is_workday(due).unwrap());
        if unit == DayUnit::Calendar {
            prop_assert!(due >= start + Days::new(days.into()));
        }
    }

    #[test]
    fn due_dates_grow_with_the_window(start in start(), days in 1u32..40, unit in unit()) {
        let shorter = CAL.due_date(start, Window { days, unit }).unwrap();
        let longer = CAL.due_date(start, Window { days: days + 1, unit }).unwrap();
        match unit {
            DayUnit::Working => prop_assert!(longer > shorter),
            DayUnit::Calendar => prop_assert!(longer >= shorter),
        }
    }

    #[test]
    fn counting_back_gives_the_window(start in start(), days in 1u32..=40) {
        let due = CAL.due_date(start, Window { days, unit: DayUnit::Working }).unwrap();
        prop_assert_eq!(CAL.working_days_between(start, due).unwrap(), i64::from(days));
        prop_assert_eq!(CAL.working_days_between(due, start).unwrap(), -i64::from(days));
    }

    #[test]
    fn between_is_antisymmetric_and_additive(a in start(), b in start(), c in start()) {
        let ab = CAL.working_days_between(a, b).unwrap();
        prop_assert_eq!(CAL.working_days_between(b, a).unwrap(), -ab);
        let bc = CAL.working_days_between(b, c).unwrap();
        prop_assert_eq!(CAL.working_days_between(a, c).unwrap(), ab + bc);
    }

    #[test]
    fn next_workday_is_the_first_working_day_after(day in start()) {
        let next = CAL.next_workday(day).unwrap();
        prop_assert!(next > day);
        prop_assert!(CAL.is_workday(next).unwrap());
        prop_assert_eq!(CAL.working_days_between(day, next).unwrap(), 1);
        prop_assert_eq!(CAL.due_date(day, Window { days: 1, unit: DayUnit::Working }).unwrap(), next);
    }
}
