//! The node's clock: the time entries are signed with and the day tasks are judged on.
//!
//! Owns one thing: an offset from the system clock. `--now` / `QUANZE_NOW` starts the clock at
//! a given instant (it then runs at the normal rate), so a test or a rehearsal can put a node on
//! any day without sleeping and without touching the machine's clock. Days are China Standard
//! Time (UTC+8), as the legal windows are.

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};

static PROCESS_CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();

/// Sets the clock of every node this process opens (from `--now`), once, at start.
pub fn set_process_clock(clock: Clock) {
    let _ = PROCESS_CLOCK.set(clock);
}

/// The clock set by `set_process_clock`, else the system clock.
pub fn process_clock() -> Clock {
    PROCESS_CLOCK.get().copied().unwrap_or_default()
}

/// System time shifted by a fixed offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset: TimeDelta,
}

fn east8() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock { offset: start - Utc::now() }
    }

    /// Parses `--now`: an RFC 3339 instant, or a day (`2025-10-09`, taken as 09:00 China time).
    pub fn parse(text: &str) -> anyhow::Result<Clock> {
        let t = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(t) {
            return Ok(Clock::starting_at(at.with_timezone(&Utc)));
        }
        let day: NaiveDate = t.parse().with_context(|| {
            format!("--now “{t}” 不是日期或 RFC 3339 时间 / expected 2025-10-09 or 2025-10-09T09:00:00+08:00")
        })?;
        let Some(at) = day.and_hms_opt(9, 0, 0).and_then(|t| t.and_local_timezone(east8()).single()) else {
            bail!("--now “{t}” 无效 / invalid day");
        };
        Ok(Clock::starting_at(at.with_timezone(&Utc)))
    }

    /// `Clock::parse` of `text`, or the system clock.
    pub fn from_arg(text: Option<&str>) -> anyhow::Result<Clock> {
        text.filter(|t| !t.trim().is_empty()).map_or(Ok(Clock::system()), Clock::parse)
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// Today in China Standard Time.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&east8()).date_naive()
    }

    /// True when the clock is shifted (shown in status and logs).
    pub fn is_shifted(&self) -> bool {
        self.offset != TimeDelta::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_the_clock_at_nine_in_china() {
        let c = Clock::parse("2025-10-09").unwrap();
        assert_eq!(c.today(), "2025-10-09".parse::<NaiveDate>().unwrap());
        assert!(c.is_shifted());
        let late = Clock::parse("2025-10-09T23:30:00+08:00").unwrap();
        assert_eq!(late.today(), "2025-10-09".parse::<NaiveDate>().unwrap());
        assert!(Clock::parse("next tuesday").is_err());
        assert!(!Clock::from_arg(None).unwrap().is_shifted());
    }
}
