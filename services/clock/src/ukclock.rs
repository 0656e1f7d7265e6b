//! UK civil time (Europe/London) without a time-zone database.
//!
//! Why a rule and not `chrono-tz`: GP Connect only needs the UK offset, and the UK rule has been
//! fixed since 1996 (Summer Time Order 2002, EU-harmonised and kept after 2020): British Summer
//! Time (UTC+01:00) runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
//! Sunday of October; the rest of the year is GMT (UTC+00:00). This module is about 60 lines
//! and is unit-tested against the published change dates for 2024–2028; the whole tz database
//! would add a large generated crate for one zone. The rule is valid from 1996 onwards; should
//! Parliament change it, this module must be updated.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};

const GMT: FixedOffset = match FixedOffset::east_opt(0) {
    Some(o) => o,
    None => panic!("0 is a valid offset"),
};
const BST: FixedOffset = match FixedOffset::east_opt(3600) {
    Some(o) => o,
    None => panic!("3600 is a valid offset"),
};

/// The last Sunday of `month` in `year` (month is 3 or 10 here, both have 31 days).
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last.weekday().num_days_from_sunday();
    Some(last - Duration::days(i64::from(back)))
}

/// The UTC instants at which BST starts and ends in `year`.
fn bst_bounds(year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let one_am = NaiveTime::from_hms_opt(1, 0, 0)?;
    let start = last_sunday(year, 3)?.and_time(one_am).and_utc();
    let end = last_sunday(year, 10)?.and_time(one_am).and_utc();
    Some((start, end))
}

/// Whether British Summer Time is in force at this instant.
pub fn is_bst(instant: DateTime<Utc>) -> bool {
    match bst_bounds(instant.year()) {
        Some((start, end)) => instant >= start && instant < end,
        None => false,
    }
}

/// The UK offset (+00:00 or +01:00) in force at a UTC instant.
pub fn offset_at(instant: DateTime<Utc>) -> FixedOffset {
    if is_bst(instant) { BST } else { GMT }
}

/// An instant expressed in UK local time, with its offset.
pub fn to_uk(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&offset_at(instant))
}

/// The offset for a UK *local* wall-clock time.
///
/// Ambiguous times (01:00–01:59 on the last Sunday of October) resolve to the first occurrence
/// (BST); times that do not exist (01:00–01:59 on the last Sunday of March) resolve to GMT.
pub fn offset_for_local(local: NaiveDateTime) -> FixedOffset {
    let as_if_bst = local - Duration::hours(1);
    if is_bst(as_if_bst.and_utc()) { BST } else { GMT }
}

/// A UK local wall-clock time as a zoned instant.
pub fn from_local(local: NaiveDateTime) -> DateTime<FixedOffset> {
    let off = offset_for_local(local);
    match off.from_local_datetime(&local).single() {
        Some(dt) => dt,
        // A fixed offset maps every local time to exactly one instant; keep a total fallback.
        None => local.and_utc().fixed_offset(),
    }
}

/// `yyyy-mm-ddThh:mm:ss+hh:mm` for a UK local wall-clock time, the form GP Connect uses.
pub fn format_local(local: NaiveDateTime) -> String {
    from_local(local).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Whether `date` is Monday to Friday.
pub fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn change_dates_match_published_calendar() {
        // Published BST start/end dates (GOV.UK "When do the clocks change?").
        let expected = [
            (2024, d(2024, 3, 31), d(2024, 10, 27)),
            (2025, d(2025, 3, 30), d(2025, 10, 26)),
            (2026, d(2026, 3, 29), d(2026, 10, 25)),
            (2027, d(2027, 3, 28), d(2027, 10, 31)),
            (2028, d(2028, 3, 26), d(2028, 10, 29)),
        ];
        for (year, start, end) in expected {
            let (s, e) = bst_bounds(year).unwrap();
            assert_eq!(s.date_naive(), start, "{year} start");
            assert_eq!(e.date_naive(), end, "{year} end");
        }
    }

    #[test]
    fn offsets_around_the_march_change() {
        let before = d(2025, 3, 30).and_hms_opt(0, 59, 59).unwrap().and_utc();
        let after = d(2025, 3, 30).and_hms_opt(1, 0, 0).unwrap().and_utc();
        assert_eq!(offset_at(before).local_minus_utc(), 0);
        assert_eq!(offset_at(after).local_minus_utc(), 3600);
        assert_eq!(to_uk(after).format("%H:%M%:z").to_string(), "02:00+01:00");
    }

    #[test]
    fn offsets_around_the_october_change() {
        let before = d(2025, 10, 26).and_hms_opt(0, 59, 59).unwrap().and_utc();
        let after = d(2025, 10, 26).and_hms_opt(1, 0, 0).unwrap().and_utc();
        assert_eq!(offset_at(before).local_minus_utc(), 3600);
        assert_eq!(offset_at(after).local_minus_utc(), 0);
    }

    #[test]
    fn local_times_format_with_the_right_offset() {
        assert_eq!(
            format_local(d(2025, 1, 15).and_hms_opt(9, 0, 0).unwrap()),
            "2025-01-15T09:00:00+00:00"
        );
        assert_eq!(
            format_local(d(2025, 7, 15).and_hms_opt(9, 0, 0).unwrap()),
            "2025-07-15T09:00:00+01:00"
        );
        // Midnight on the change days is before the change.
        assert_eq!(
            format_local(d(2025, 3, 30).and_hms_opt(0, 0, 0).unwrap()),
            "2025-03-30T00:00:00+00:00"
        );
        assert_eq!(
            format_local(d(2025, 3, 30).and_hms_opt(23, 59, 59).unwrap()),
            "2025-03-30T23:59:59+01:00"
        );
        assert_eq!(
            format_local(d(2025, 10, 26).and_hms_opt(0, 0, 0).unwrap()),
            "2025-10-26T00:00:00+01:00"
        );
        assert_eq!(
            format_local(d(2025, 10, 26).and_hms_opt(23, 59, 59).unwrap()),
            "2025-10-26T23:59:59+00:00"
        );
        // Ambiguous 01:30 in October resolves to BST.
        assert_eq!(
            format_local(d(2025, 10, 26).and_hms_opt(1, 30, 0).unwrap()),
            "2025-10-26T01:30:00+01:00"
        );
    }

    #[test]
    fn weekdays() {
        assert!(is_weekday(d(2025, 3, 28)));
        assert!(!is_weekday(d(2025, 3, 29)));
        assert!(!is_weekday(d(2025, 3, 30)));
    }
}
