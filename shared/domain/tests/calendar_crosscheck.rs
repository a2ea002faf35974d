//! Cross-checks the shipped working-day calendar against an independent transcription.
//!
//! `tests/fixtures/calendar-independent.txt` was written from other public data sets (its header
//! names them), not from `data/calendar/`. For every date of 2015..=2026 the shipped calendar must
//! give the same answer, and each year's number of working days must match the fixture's count.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use quanze_domain::Calendar;

const FIXTURE: &str = include_str!("fixtures/calendar-independent.txt");

/// One year of the fixture: weekdays off, weekend days worked, and the year's working days.
#[derive(Debug)]
struct Expected {
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
    workdays: usize,
}

fn dates(year: i32, field: &str, label: &str) -> BTreeSet<NaiveDate> {
    let list = field.trim().strip_prefix(label).unwrap_or_else(|| panic!("{year}: expected “{label}” in {field:?}"));
    list.split_whitespace()
        .map(|md| {
            NaiveDate::parse_from_str(&format!("{year}-{md}"), "%Y-%m-%d")
                .unwrap_or_else(|e| panic!("{year}: bad date {md}: {e}"))
        })
        .collect()
}

fn fixture() -> BTreeMap<i32, Expected> {
    let mut years = BTreeMap::new();
    for line in FIXTURE.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(fields.len(), 4, "bad fixture line {line:?}");
        let year: i32 = fields[0].trim().parse().unwrap();
        let workdays = fields[3].trim().strip_prefix("workdays:").unwrap().trim().parse().unwrap();
        let expected = Expected { off: dates(year, fields[1], "off:"), on: dates(year, fields[2], "on:"), workdays };
        assert!(years.insert(year, expected).is_none(), "{year} twice in the fixture");
    }
    years
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

#[test]
fn the_fixture_names_its_source_and_covers_every_year() {
    assert!(FIXTURE.lines().next().unwrap().starts_with('#'));
    assert!(FIXTURE.contains("NateScarlet/holiday-cn"));
    let years = fixture();
    assert_eq!(years.keys().copied().collect::<Vec<_>>(), (2015..=2026).collect::<Vec<_>>());
    for (year, e) in &years {
        assert!(e.off.iter().all(|d| !is_weekend(*d)), "{year}: an “off” day on a weekend");
        assert!(e.on.iter().all(|d| is_weekend(*d)), "{year}: an “on” day on a weekday");
    }
}

#[test]
fn every_day_of_2015_to_2026_agrees_with_the_independent_source() {
    let calendar = Calendar::builtin();
    let mut mismatches = Vec::new();
    for (year, e) in fixture() {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let mut count = 0;
        for day in first.iter_days().take_while(|d| d.year() == year) {
            let expected = if is_weekend(day) { e.on.contains(&day) } else { !e.off.contains(&day) };
            let got = calendar.is_workday(day).unwrap();
            if got != expected {
                mismatches.push(format!("{day} ({}): ours {got}, independent {expected}", day.weekday()));
            }
            count += usize::from(got);
        }
        if count != e.workdays {
            mismatches.push(format!("{year}: ours {count} working days, independent {}", e.workdays));
        }
    }
    assert!(mismatches.is_empty(), "{} difference(s):\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn working_days_per_year_match_via_working_days_between() {
    let calendar = Calendar::builtin();
    for (year, e) in fixture() {
        // (Dec 31 of the year before, Dec 31 of the year] is exactly the year; the day before is
        // not examined, so 2014 need not be published.
        let from = NaiveDate::from_ymd_opt(year - 1, 12, 31).unwrap();
        let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
        let n = calendar.working_days_between(from, to).unwrap();
        assert_eq!(n, i64::try_from(e.workdays).unwrap(), "{year}");
    }
}
