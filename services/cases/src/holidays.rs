//! England and Wales bank holidays, working days, and GP Connect's "core-hours day" (a working
//! day): one calendar for the deadlines of a case and for counting free slots.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, NaiveTime};

use crate::ukclock;

/// The bank holiday list shipped with the project (`bank-holidays-england-and-wales.txt`).
pub const ENGLAND_AND_WALES: &str = include_str!("../bank-holidays-england-and-wales.txt");

/// Core hours start (inclusive), UK local time.
pub const CORE_START: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => panic!("valid time"),
};
/// Core hours end (exclusive), UK local time: a slot starting at 18:30 is outside core hours.
pub const CORE_END: NaiveTime = match NaiveTime::from_hms_opt(18, 30, 0) {
    Some(t) => t,
    None => panic!("valid time"),
};

/// An error reading a bank holiday list.
#[derive(Debug, thiserror::Error)]
pub enum HolidayError {
    /// A line is neither blank, a comment, nor an ISO date.
    #[error("bank holiday list line {line}: {text:?} is not an ISO date (YYYY-MM-DD)")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The offending text (comment removed).
        text: String,
    },
    /// The file could not be read.
    #[error("cannot read bank holiday list {path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A set of bank holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankHolidays {
    dates: BTreeSet<NaiveDate>,
}

impl BankHolidays {
    /// The England and Wales list shipped with the crate.
    pub fn england_and_wales() -> Self {
        // The shipped file is checked by a unit test, so this parse cannot fail at run time;
        // fall back to an empty list rather than panicking if it ever did.
        Self::parse(ENGLAND_AND_WALES).unwrap_or_else(|_| Self { dates: BTreeSet::new() })
    }

    /// Parse a list: one ISO date per line, `#` starts a comment, blank lines ignored.
    pub fn parse(text: &str) -> Result<Self, HolidayError> {
        let mut dates = BTreeSet::new();
        for (index, raw) in text.lines().enumerate() {
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let date = NaiveDate::parse_from_str(content, "%Y-%m-%d").map_err(|_| HolidayError::Parse {
                line: index + 1,
                text: content.to_owned(),
            })?;
            dates.insert(date);
        }
        Ok(Self { dates })
    }

    /// Load an updated list from a file at run time.
    pub fn from_path(path: &Path) -> Result<Self, HolidayError> {
        let text = std::fs::read_to_string(path).map_err(|source| HolidayError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Whether `date` is a bank holiday.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.dates.contains(&date)
    }

    /// All dates in the list, ascending.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.dates.iter().copied()
    }

    /// A core-hours day: Monday to Friday and not a bank holiday.
    pub fn is_core_day(&self, date: NaiveDate) -> bool {
        ukclock::is_weekday(date) && !self.contains(date)
    }

    /// The core-hours days among `days` consecutive dates from `start`.
    pub fn core_days(&self, start: NaiveDate, days: u32) -> Vec<NaiveDate> {
        start
            .iter_days()
            .take(days as usize)
            .filter(|d| self.is_core_day(*d))
            .collect()
    }
}

impl Default for BankHolidays {
    fn default() -> Self {
        Self::england_and_wales()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shipped_list_parses_with_all_32_dates() {
        let h = BankHolidays::parse(ENGLAND_AND_WALES).unwrap();
        assert_eq!(h.dates().count(), 32);
        for date in [
            d(2025, 4, 18),
            d(2026, 8, 31),
            d(2027, 12, 27),
            d(2028, 1, 3),
            d(2028, 12, 26),
        ] {
            assert!(h.contains(date), "{date}");
        }
        assert!(
            !h.contains(d(2026, 12, 26)),
            "Boxing Day 2026 is a Saturday; the 28th is the holiday"
        );
        assert_eq!(BankHolidays::england_and_wales(), h);
    }

    #[test]
    fn core_days_skip_weekends_and_bank_holidays() {
        let h = BankHolidays::england_and_wales();
        // Thu 2025-04-17 .. Tue 2025-04-22: Good Friday, weekend, Easter Monday.
        assert_eq!(h.core_days(d(2025, 4, 17), 6), vec![d(2025, 4, 17), d(2025, 4, 22)]);
        assert!(!h.is_core_day(d(2025, 12, 25)));
        assert!(h.is_core_day(d(2025, 12, 24)));
    }

    #[test]
    fn parse_reports_bad_lines() {
        let err = BankHolidays::parse("# c\n2025-01-01\n2025-13-01 # bad\n").unwrap_err();
        match err {
            HolidayError::Parse { line, text } => {
                assert_eq!(line, 3);
                assert_eq!(text, "2025-13-01");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn from_path_loads_an_updated_list() {
        let dir = std::env::temp_dir().join(format!("gpc-bh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bh.txt");
        std::fs::write(&path, "2029-01-01\n").unwrap();
        let h = BankHolidays::from_path(&path).unwrap();
        assert!(h.contains(d(2029, 1, 1)));
        assert!(!h.contains(d(2025, 1, 1)));
        assert!(matches!(
            BankHolidays::from_path(&dir.join("missing")),
            Err(HolidayError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
