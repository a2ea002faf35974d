use chrono::{Datelike, NaiveDate};

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cal() -> Calendar {
    Calendar::builtin()
}

fn working(days: u32) -> Window {
    Window { days, unit: DayUnit::Working }
}

fn calendar_days(days: u32) -> Window {
    Window { days, unit: DayUnit::Calendar }
}

fn year(y: i32, holidays: Vec<Holiday>, workdays: Vec<NaiveDate>) -> HolidayYear {
    HolidayYear { year: y, notice: "测试通知".to_string(), holidays, workdays }
}

fn holiday(name: &str, from: NaiveDate, to: NaiveDate) -> Holiday {
    Holiday { name: name.to_string(), from, to }
}

fn invalid_reason(result: Result<(), CalendarError>) -> String {
    match result {
        Err(CalendarError::Invalid { reason, .. }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn builtin_covers_2015_to_2026_with_their_notices() {
    let c = cal();
    assert_eq!(c.years(), (2015..=2026).collect::<Vec<_>>());
    assert_eq!(c.year(2025).unwrap().notice, "国办发明电〔2024〕12号");
    assert_eq!(c.year(2026).unwrap().notice, "国办发明电〔2025〕7号");
    assert_eq!(c.year(2015).unwrap().notice, "国办发明电〔2014〕28号");
    assert!(c.year(2027).is_none());
    for y in Calendar::builtin_years() {
        y.validate().unwrap();
    }
}

#[test]
fn national_day_2025_and_its_make_up_days() {
    let c = cal();
    assert!(c.is_workday(d(2025, 9, 28)).unwrap(), "Sunday 2025-09-28 is worked");
    for day in 1..=8 {
        assert!(!c.is_workday(d(2025, 10, day)).unwrap(), "2025-10-{day:02} is off");
    }
    assert!(c.is_workday(d(2025, 10, 9)).unwrap());
    assert!(c.is_workday(d(2025, 10, 11)).unwrap(), "Saturday 2025-10-11 is worked");
    assert!(!c.is_workday(d(2025, 10, 12)).unwrap(), "an ordinary Sunday");
    assert!(c.is_workday(d(2024, 2, 4)).unwrap(), "Sunday 2024-02-04 is worked");
}

#[test]
fn the_2025_rule_change_gives_spring_festival_and_labour_day_a_day_more() {
    let c = cal();
    for day in [d(2025, 1, 28), d(2025, 2, 4), d(2025, 5, 1), d(2025, 5, 5)] {
        assert!(!c.is_workday(day).unwrap(), "{day} is off");
    }
    assert!(c.is_workday(d(2025, 1, 26)).unwrap());
    assert!(c.is_workday(d(2025, 2, 8)).unwrap());
    assert!(c.is_workday(d(2025, 4, 27)).unwrap());
}

#[test]
fn older_make_up_days_and_amending_notices() {
    let c = cal();
    // 2015: New Year make-up Sunday, Spring Festival make-up Saturday, Victory Day (国发明电〔2015〕1号).
    assert!(c.is_workday(d(2015, 1, 4)).unwrap());
    assert!(c.is_workday(d(2015, 2, 28)).unwrap());
    assert!(!c.is_workday(d(2015, 9, 3)).unwrap());
    assert!(!c.is_workday(d(2015, 9, 4)).unwrap());
    assert!(c.is_workday(d(2015, 9, 6)).unwrap());
    // 2019: the New Year break of the 2019 notice reaches back into 2018.
    assert!(c.is_workday(d(2018, 12, 29)).unwrap(), "Saturday 2018-12-29 is worked");
    assert!(!c.is_workday(d(2018, 12, 31)).unwrap(), "Monday 2018-12-31 is off");
    assert!(c.year(2018).unwrap().workdays.iter().all(|w| w.month() != 12));
    // 2019: Labour Day moved to 1–4 May, Sundays 28 April and 5 May worked.
    assert!(!c.is_workday(d(2019, 5, 2)).unwrap());
    assert!(c.is_workday(d(2019, 4, 28)).unwrap());
    assert!(c.is_workday(d(2019, 5, 5)).unwrap());
    // 2020: the extension to 2 February made the make-up Saturday 1 February a day off.
    assert!(c.is_workday(d(2020, 1, 19)).unwrap());
    assert!(!c.is_workday(d(2020, 1, 31)).unwrap());
    assert!(!c.is_workday(d(2020, 2, 1)).unwrap());
    assert!(c.is_workday(d(2020, 2, 3)).unwrap());
    let y2020 = c.year(2020).unwrap();
    assert!(y2020.holidays.iter().any(|h| h.name.starts_with("春节（延长") && h.to == d(2020, 2, 2)));
    assert!(!y2020.workdays.contains(&d(2020, 2, 1)));
    // 2023: the New Year break began on Saturday 2022-12-31.
    assert!(!c.is_workday(d(2023, 1, 2)).unwrap());
}

#[test]
fn unpublished_years_are_refused_not_guessed() {
    let c = cal();
    assert_eq!(c.is_workday(d(2027, 3, 1)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(c.is_workday(d(2014, 6, 3)), Err(CalendarError::YearNotPublished(2014)));
    assert_eq!(c.due_date(d(2027, 3, 1), working(1)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(c.due_date(d(2026, 12, 15), working(20)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(c.due_date(d(2026, 12, 20), calendar_days(15)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(c.next_workday(d(2026, 12, 31)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(c.working_days_between(d(2026, 12, 1), d(2027, 1, 5)), Err(CalendarError::YearNotPublished(2027)));
    assert_eq!(Calendar::default().is_workday(d(2025, 1, 2)), Err(CalendarError::YearNotPublished(2025)));
    assert_eq!(CalendarError::YearNotPublished(2027).code(), "CALENDAR_YEAR_MISSING");
    assert!(CalendarError::YearNotPublished(2027).to_string().starts_with("2027 年的节假日安排尚未发布"));
}

#[test]
fn twenty_working_days_from_the_make_up_sunday_before_national_day_2025() {
    // Start Sunday 2025-09-28 (not counted). 09-29, 09-30 are working days 1–2; 10-01..08 off;
    // 10-09 (3), 10-10 (4), Saturday 10-11 (5, make-up); 10-13..17 (6–10); 10-20..24 (11–15);
    // 10-27..31 (16–20).
    assert_eq!(cal().due_date(d(2025, 9, 28), working(20)), Ok(d(2025, 10, 31)));
    assert_eq!(cal().due_date(d(2025, 9, 28), working(3)), Ok(d(2025, 10, 9)));
    assert_eq!(cal().due_date(d(2025, 9, 28), Window::default()), Ok(d(2025, 10, 31)));
}

#[test]
fn the_start_day_is_not_counted() {
    let c = cal();
    // Monday 2025-03-03: one working day later is Tuesday, one calendar day later too.
    assert_eq!(c.due_date(d(2025, 3, 3), working(1)), Ok(d(2025, 3, 4)));
    assert_eq!(c.due_date(d(2025, 3, 3), calendar_days(1)), Ok(d(2025, 3, 4)));
    // Friday 2025-03-07: one working day later is Monday.
    assert_eq!(c.due_date(d(2025, 3, 7), working(1)), Ok(d(2025, 3, 10)));
    // A start on a holiday: the first working day after it.
    assert_eq!(c.due_date(d(2025, 10, 1), working(1)), Ok(d(2025, 10, 9)));
}

#[test]
fn a_calendar_window_ending_on_a_holiday_moves_to_the_next_working_day() {
    let c = cal();
    // 2025-09-24 + 7 = 2025-10-01, National Day: the period ends on 2025-10-09.
    assert_eq!(c.due_date(d(2025, 9, 24), calendar_days(7)), Ok(d(2025, 10, 9)));
    // Ending on an ordinary Saturday moves to Monday.
    assert_eq!(c.due_date(d(2025, 3, 1), calendar_days(7)), Ok(d(2025, 3, 10)));
    // Ending on a make-up Saturday stays there: it is a working day.
    assert_eq!(c.due_date(d(2025, 10, 4), calendar_days(7)), Ok(d(2025, 10, 11)));
    // Ending on a plain weekday stays.
    assert_eq!(c.due_date(d(2025, 3, 3), calendar_days(7)), Ok(d(2025, 3, 10)));
}

#[test]
fn an_empty_window_is_refused() {
    let c = cal();
    assert_eq!(c.due_date(d(2025, 3, 3), working(0)), Err(CalendarError::ZeroDays));
    assert_eq!(c.due_date(d(2025, 3, 3), calendar_days(0)), Err(CalendarError::ZeroDays));
    assert_eq!(c.due_date(d(2030, 3, 3), working(0)), Err(CalendarError::ZeroDays));
    assert_eq!(CalendarError::ZeroDays.code(), "ZERO_DAYS");
}

#[test]
fn working_days_between_signs_zero_and_holidays() {
    let c = cal();
    assert_eq!(c.working_days_between(d(2025, 3, 3), d(2025, 3, 3)), Ok(0));
    // Monday to Monday: Tue..Fri and Monday.
    assert_eq!(c.working_days_between(d(2025, 3, 3), d(2025, 3, 10)), Ok(5));
    assert_eq!(c.working_days_between(d(2025, 3, 10), d(2025, 3, 3)), Ok(-5));
    // Across National Day 2025: (09-26, 10-10] holds 09-28, 09-29, 09-30, 10-09, 10-10.
    assert_eq!(c.working_days_between(d(2025, 9, 26), d(2025, 10, 10)), Ok(5));
    assert_eq!(c.working_days_between(d(2025, 10, 10), d(2025, 9, 26)), Ok(-5));
    // Inside a break nothing is worked.
    assert_eq!(c.working_days_between(d(2025, 10, 1), d(2025, 10, 8)), Ok(0));
    // Three working days late: due Friday 2025-09-26, now Tuesday 2025-09-30.
    assert_eq!(c.working_days_between(d(2025, 9, 26), d(2025, 9, 30)), Ok(3));
    // Across a year end published by the next year's notice.
    assert_eq!(c.working_days_between(d(2018, 12, 28), d(2019, 1, 2)), Ok(2));
}

#[test]
fn next_workday_skips_breaks_and_takes_make_up_days() {
    let c = cal();
    assert_eq!(c.next_workday(d(2025, 9, 30)), Ok(d(2025, 10, 9)));
    assert_eq!(c.next_workday(d(2025, 9, 26)), Ok(d(2025, 9, 28)));
    assert_eq!(c.next_workday(d(2024, 2, 9)), Ok(d(2024, 2, 18)));
    assert_eq!(c.next_workday(d(2026, 2, 13)), Ok(d(2026, 2, 14)));
}

#[test]
fn validate_refuses_bad_arrangements() {
    let ok = year(2030, vec![holiday("国庆节", d(2030, 10, 1), d(2030, 10, 7))], vec![d(2030, 9, 29)]);
    ok.validate().unwrap();

    let wednesday = year(2030, vec![], vec![d(2030, 10, 9)]);
    assert!(invalid_reason(wednesday.validate()).contains("不是星期六或星期日"));

    let backwards = year(2030, vec![holiday("国庆节", d(2030, 10, 7), d(2030, 10, 1))], vec![]);
    assert!(invalid_reason(backwards.validate()).contains("晚于"));

    let both = year(2030, vec![holiday("国庆节", d(2030, 10, 1), d(2030, 10, 7))], vec![d(2030, 10, 5)]);
    assert!(invalid_reason(both.validate()).contains("既在"));

    let far = year(2030, vec![holiday("元旦", d(2032, 1, 1), d(2032, 1, 1))], vec![]);
    assert!(invalid_reason(far.validate()).contains("不在"));
    let far_workday = year(2030, vec![], vec![d(2028, 12, 30)]);
    assert!(invalid_reason(far_workday.validate()).contains("不在"));

    // The neighbouring December and January are fine (the 2019 New Year break).
    let reaching = year(2019, vec![holiday("元旦", d(2018, 12, 30), d(2019, 1, 1))], vec![d(2018, 12, 29)]);
    reaching.validate().unwrap();

    let mut no_notice = ok.clone();
    no_notice.notice = " ".to_string();
    assert!(invalid_reason(no_notice.validate()).contains("文号"));
    let mut no_name = ok.clone();
    no_name.holidays[0].name = String::new();
    assert!(invalid_reason(no_name.validate()).contains("名称"));

    let err = wednesday.validate().unwrap_err();
    assert_eq!(err.code(), "BAD_CALENDAR");
    assert!(err.to_string().starts_with("2030 年节假日安排有误："));

    // A year at either end of i32 is refused, not an overflow (the API takes any integer).
    for edge in [i32::MAX, i32::MIN, 262_143] {
        assert!(invalid_reason(year(edge, vec![], vec![]).validate()).contains("超出"), "{edge}");
    }
}

#[test]
fn new_validates_and_a_later_notice_replaces_an_earlier_one() {
    let first = year(2030, vec![holiday("国庆节", d(2030, 10, 1), d(2030, 10, 7))], vec![d(2030, 9, 29)]);
    let corrected = year(2030, vec![holiday("国庆节", d(2030, 10, 1), d(2030, 10, 8))], vec![d(2030, 10, 12)]);
    let c = Calendar::new([first, corrected.clone()]).unwrap();
    assert_eq!(c.years(), vec![2030]);
    assert_eq!(c.year(2030), Some(&corrected));
    assert!(!c.is_workday(d(2030, 9, 29)).unwrap(), "the first notice's make-up Sunday is gone");
    assert!(!c.is_workday(d(2030, 10, 8)).unwrap());
    assert!(c.is_workday(d(2030, 10, 12)).unwrap());

    let bad = year(2031, vec![], vec![d(2031, 10, 8)]);
    assert_eq!(Calendar::new([bad]).unwrap_err().code(), "BAD_CALENDAR");
}

#[test]
fn a_next_year_notice_decides_the_december_days_it_names() {
    let mut c = cal();
    // A 2027 notice reaching into December 2026 decides those days too.
    assert!(c.is_workday(d(2026, 12, 31)).unwrap());
    let new_year = year(2027, vec![holiday("元旦", d(2026, 12, 31), d(2027, 1, 1))], vec![]);
    c.insert(new_year).unwrap();
    assert!(!c.is_workday(d(2026, 12, 31)).unwrap(), "the 2027 notice decides 2026-12-31");
    assert_eq!(c.years().last(), Some(&2027));
}

#[test]
fn a_notice_contradicting_another_is_refused_and_the_calendar_kept() {
    // The 2030 notice works Saturday 2030-12-28; a 2031 notice giving it off is refused whole.
    let y2030 = year(2030, vec![holiday("元旦", d(2030, 12, 29), d(2031, 1, 1))], vec![d(2030, 12, 28)]);
    let mut c = Calendar::new([y2030]).unwrap();
    let before = c.clone();
    let y2031 = year(2031, vec![holiday("元旦", d(2030, 12, 28), d(2031, 1, 1))], vec![]);
    let err = c.insert(y2031.clone()).unwrap_err();
    assert!(matches!(&err, CalendarError::Invalid { year: 2031, reason } if reason.contains("2030-12-28")));
    assert_eq!(c, before);
    assert!(Calendar::new([before.year(2030).unwrap().clone(), y2031]).is_err());
}

#[test]
fn day_units_parse_and_windows_display() {
    for (text, unit) in [
        ("working", DayUnit::Working),
        ("工作日", DayUnit::Working),
        ("calendar", DayUnit::Calendar),
        ("自然日", DayUnit::Calendar),
        (" 日 ", DayUnit::Calendar),
    ] {
        assert_eq!(text.parse::<DayUnit>(), Ok(unit), "{text}");
    }
    assert_eq!("weeks".parse::<DayUnit>(), Err(UnknownDayUnit("weeks".to_string())));
    for unit in [DayUnit::Working, DayUnit::Calendar] {
        assert_eq!(unit.to_string().parse::<DayUnit>(), Ok(unit));
        assert_eq!(unit.label().parse::<DayUnit>(), Ok(unit));
    }
    assert_eq!(Window::default(), working(20));
    assert_eq!(Window::default().to_string(), "20个工作日");
    assert_eq!(calendar_days(7).to_string(), "7日");
}

#[test]
fn serde_shapes() {
    let w: Window = serde_json::from_str(r#"{"days":7,"unit":"calendar"}"#).unwrap();
    assert_eq!(w, calendar_days(7));
    assert_eq!(serde_json::to_string(&working(20)).unwrap(), r#"{"days":20,"unit":"working"}"#);
    assert!(serde_json::from_str::<Window>(r#"{"days":7,"unit":"calendar","x":1}"#).is_err());
    assert!(serde_json::from_str::<Window>(r#"{"days":7,"unit":"weeks"}"#).is_err());
    let y = cal().year(2025).unwrap().clone();
    let back: HolidayYear = serde_json::from_str(&serde_json::to_string(&y).unwrap()).unwrap();
    assert_eq!(back, y);
    let text = r#"{"year":2030,"notice":"n","holidays":[],"workdays":[],"source":"x"}"#;
    assert!(serde_json::from_str::<HolidayYear>(text).is_err());
}
