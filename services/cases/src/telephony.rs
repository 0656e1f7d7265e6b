//! Key telephony metrics a PCN reviews across its practices each month, for quality improvement
//! and the capacity and access improvement payment (NHS England's 2024 access recovery update):
//! inbound calls, average wait, abandonment rate, average call length and callbacks, from each
//! practice's cloud telephony. CSV: `month, ods_code, inbound_calls, average_wait_seconds,
//! abandonment_rate, average_call_seconds, callbacks`. Checked whole: every error with its line
//! and column, no rows if any. And the PCN's own notes of what it agreed at a month's review.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::CaseError;
use crate::extract::{Bounds, ImportError, Sheet, checked, finish, practice_code, whole_number};
use crate::values::{FreeText, OdsCode, PcnCode};

const REQUIRED_COLUMNS: [&str; 7] = [
    "month",
    "ods_code",
    "inbound_calls",
    "average_wait_seconds",
    "abandonment_rate",
    "average_call_seconds",
    "callbacks",
];

/// More calls (or callbacks) than this at one practice in a month is a typing error.
pub const MOST_CALLS: i64 = 10_000_000;
/// An average wait or call longer than a day is a typing error.
pub const LONGEST_SECONDS: i64 = 86_400;

/// Who reads practices' telephony (the lens's rule for `TelephonyMetricsReported` says the same, and
/// a test holds them together): those who support practices with it, not the LMC or the DHU.
pub const READERS: [crate::Role; 5] = [
    crate::Role::Icb,
    crate::Role::Champion,
    crate::Role::Practice,
    crate::Role::PcnClinicalDirector,
    crate::Role::Admin,
];

/// A practice's telephony in one calendar month (in `practice-<ODS>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelephonyMetricsReported {
    pub ods_code: OdsCode,
    /// The first day of the month.
    pub month: NaiveDate,
    pub inbound_calls: u32,
    pub average_wait_seconds: u32,
    /// The share of inbound calls abandoned before answer, in hundredths of a percent (0 to
    /// 10,000: 12.5% is 1,250), so that it is stored exactly.
    pub abandonment_basis_points: u32,
    pub average_call_seconds: u32,
    pub callbacks: u32,
}

impl TelephonyMetricsReported {
    pub const EVENT_TYPE: &'static str = "TelephonyMetricsReported";

    /// The abandonment rate as a percentage.
    pub fn abandonment_percent(&self) -> f64 {
        f64::from(self.abandonment_basis_points) / 100.0
    }
}

/// A PCN's clinical director records what the PCN agreed at its review of a month (in
/// `pcn-<U code>`); the words are the PCN's own, sealed under the note's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcnReviewNoted {
    pub note_id: Uuid,
    pub pcn_code: PcnCode,
    /// The first day of the month reviewed.
    pub month: NaiveDate,
    pub note: FreeText,
}

impl PcnReviewNoted {
    pub const EVENT_TYPE: &'static str = "PcnReviewNoted";
}

/// A PCN's review note's words were erased (UK GDPR: on request, or once the retention period
/// passed): its key is destroyed with this record, in `pcn-<U code>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcnReviewNoteErased {
    pub note_id: Uuid,
}

impl PcnReviewNoteErased {
    pub const EVENT_TYPE: &'static str = "PcnReviewNoteErased";
}

/// Whether `actor` may erase a note of `pcn_code`: the ICB (on request) and an admin (the
/// retention period) any PCN's; a clinical director only its own PCN's.
pub fn may_erase_pcn_note(actor: &crate::Actor, pcn_code: &PcnCode) -> Result<(), CaseError> {
    match actor.role {
        crate::Role::PcnClinicalDirector if actor.pcn() != Some(pcn_code) => {
            Err(CaseError::NotYourPcn(pcn_code.to_string()))
        }
        _ => Ok(()),
    }
}

/// A PCN's own stream: its review notes.
pub fn pcn_stream(pcn_code: &PcnCode) -> String {
    format!("pcn-{pcn_code}")
}

/// The note `actor` records of `pcn_code`'s review of `month`, on `today` (UK).
pub fn decide_pcn_note(
    actor: &crate::Actor,
    pcn_code: &PcnCode,
    note_id: Uuid,
    month: NaiveDate,
    note: FreeText,
    today: NaiveDate,
) -> Result<PcnReviewNoted, CaseError> {
    if actor.role != crate::Role::PcnClinicalDirector || actor.pcn() != Some(pcn_code) {
        return Err(CaseError::NotYourPcn(pcn_code.to_string()));
    }
    if month.day() != 1 {
        return Err(CaseError::InvalidPeriod {
            field: "month",
            message: format!("{month} is not the first day of a month"),
        });
    }
    if month > first_of_month(today) {
        return Err(CaseError::InvalidPeriod {
            field: "month",
            message: format!("the month of {month} has not begun"),
        });
    }
    let oldest = first_of_month(today)
        .checked_sub_months(Months::new(NOTED_MONTHS))
        .unwrap_or(month);
    if month < oldest {
        return Err(CaseError::InvalidPeriod {
            field: "month",
            message: format!("{month} is more than {NOTED_MONTHS} months ago: a review notes a recent month"),
        });
    }
    Ok(PcnReviewNoted {
        note_id,
        pcn_code: pcn_code.clone(),
        month,
        note,
    })
}

/// How far back a PCN may note a month's review (as far back as the review page reads).
pub const NOTED_MONTHS: u32 = 24;

/// The first day of `day`'s month.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// A month, `YYYY-MM` (or its first day, `YYYY-MM-01`), that has ended by the bounds' latest day:
/// a month's figures are whole.
fn month(value: &str, bounds: &Bounds) -> Result<NaiveDate, String> {
    let first = NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y-%m-%d"))
        .map_err(|_| format!("{value:?} is not a month (YYYY-MM)"))?;
    if first.day() != 1 {
        return Err(format!("{first} is not the first day of a month (YYYY-MM)"));
    }
    if first < first_of_month(bounds.earliest) {
        return Err(format!("{} is before {}", first.format("%Y-%m"), bounds.earliest));
    }
    match first.checked_add_months(Months::new(1)) {
        Some(next) if next <= bounds.latest => Ok(first),
        _ => Err(format!(
            "the month {} has not ended (today is {})",
            first.format("%Y-%m"),
            bounds.latest
        )),
    }
}

/// A percentage, `12.5` or `12.5%`, from 0 to 100 with at most two decimals, in hundredths of a
/// percent.
fn percent(value: &str) -> Result<u32, String> {
    let number = value.trim().trim_end_matches('%').trim();
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) || fraction.is_some_and(|f| f.len() > 2) || whole.len() > 3 {
        return Err(format!(
            "{value:?} is not a percentage (0 to 100, at most two decimals)"
        ));
    }
    let whole: u32 = whole.parse().map_err(|_| format!("{value:?} is not a percentage"))?;
    let hundredths: u32 = format!("{:0<2}", fraction.unwrap_or(""))
        .parse()
        .map_err(|_| format!("{value:?} is not a percentage"))?;
    let points = whole * 100 + hundredths;
    if points > 10_000 {
        return Err(format!("{value} is more than 100%"));
    }
    Ok(points)
}

/// A whole number from 0 to `most`.
fn count(value: &str, most: i64, what: &str) -> Result<u32, String> {
    whole_number(value).and_then(|n| {
        if (0..=most).contains(&n) {
            u32::try_from(n).map_err(|e| e.to_string())
        } else {
            Err(format!("{n} is not {what} (0 to {most})"))
        }
    })
}

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelephonyRow {
    pub line: u64,
    pub reported: TelephonyMetricsReported,
}

pub fn parse_telephony_metrics(csv: &str, bounds: &Bounds) -> Result<Vec<TelephonyRow>, Vec<ImportError>> {
    let sheet = Sheet::read(csv, &REQUIRED_COLUMNS, bounds.max_rows)?;
    let mut errors = sheet.unreadable.clone();
    let mut rows = Vec::new();
    let mut seen: HashMap<(OdsCode, NaiveDate), u64> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        let mut row_errors = Vec::new();
        let mut field = |column: &str, parsed: Result<u32, String>| checked(&mut row_errors, line, column, parsed);
        let inbound_calls = field(
            "inbound_calls",
            count(record.field("inbound_calls"), MOST_CALLS, "a count of calls"),
        );
        let average_wait_seconds = field(
            "average_wait_seconds",
            count(
                record.field("average_wait_seconds"),
                LONGEST_SECONDS,
                "a wait in seconds",
            ),
        );
        let abandonment_basis_points = field("abandonment_rate", percent(record.field("abandonment_rate")));
        let average_call_seconds = field(
            "average_call_seconds",
            count(
                record.field("average_call_seconds"),
                LONGEST_SECONDS,
                "a call's length in seconds",
            ),
        );
        let callbacks = field(
            "callbacks",
            count(record.field("callbacks"), MOST_CALLS, "a count of callbacks"),
        );
        let ods_code = checked(
            &mut row_errors,
            line,
            "ods_code",
            practice_code(record.field("ods_code")),
        );
        let month = checked(&mut row_errors, line, "month", month(record.field("month"), bounds));
        if let (Some(code), Some(month)) = (&ods_code, month)
            && let Some(first) = seen.insert((code.clone(), month), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("ods_code"),
                format!(
                    "{code} in {} appears again (first on line {first})",
                    month.format("%Y-%m")
                ),
            ));
        }
        match (
            ods_code,
            month,
            inbound_calls,
            average_wait_seconds,
            abandonment_basis_points,
            average_call_seconds,
            callbacks,
        ) {
            (
                Some(ods_code),
                Some(month),
                Some(inbound_calls),
                Some(average_wait_seconds),
                Some(abandonment_basis_points),
                Some(average_call_seconds),
                Some(callbacks),
            ) if row_errors.is_empty() => rows.push(TelephonyRow {
                line,
                reported: TelephonyMetricsReported {
                    ods_code,
                    month,
                    inbound_calls,
                    average_wait_seconds,
                    abandonment_basis_points,
                    average_call_seconds,
                    callbacks,
                },
            }),
            _ => {
                row_errors.sort_by_key(|e| e.column.clone());
                errors.extend(row_errors);
            }
        }
    }
    finish(rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(day: NaiveDate) -> Bounds {
        Bounds::until(day, 100)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_month_is_whole_once_it_has_ended() {
        let bounds = on(day(2026, 11, 25));
        assert_eq!(month("2026-10", &bounds), Ok(day(2026, 10, 1)));
        assert_eq!(month("2026-10-01", &bounds), Ok(day(2026, 10, 1)));
        assert!(month("2026-11", &bounds).is_err_and(|e| e.contains("has not ended")));
        assert!(month("2026-10-15", &bounds).is_err_and(|e| e.contains("first day")));
        assert!(month("Oct 2026", &bounds).is_err());
        assert!(month("2026-13", &bounds).is_err());
        // On the last day of a month, that month is not over; on the first of the next, it is.
        assert!(month("2026-11", &on(day(2026, 11, 30))).is_err());
        assert_eq!(month("2026-11", &on(day(2026, 12, 1))), Ok(day(2026, 11, 1)));
    }

    #[test]
    fn a_rate_is_a_percentage_kept_exactly() {
        assert_eq!(percent("12.5"), Ok(1250));
        assert_eq!(percent("12.5%"), Ok(1250));
        assert_eq!(percent("0"), Ok(0));
        assert_eq!(percent("100"), Ok(10_000));
        assert_eq!(percent("7.05"), Ok(705));
        for bad in ["", "-1", "100.01", "12.345", "1e2", "twelve", ".5", "5.", "1000"] {
            assert!(percent(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rows_are_checked_whole() {
        let today = on(day(2026, 11, 25));
        let good = "month,ods_code,inbound_calls,average_wait_seconds,abandonment_rate,average_call_seconds,callbacks\n\
                    2026-10,Z00011,4210,95,6.2,182,140\n\
                    2026-09,Z00011,3980,80,5%,175,120\n";
        let rows = parse_telephony_metrics(good, &today).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].reported.abandonment_basis_points, 620);
        assert_eq!(rows[1].reported.month, day(2026, 9, 1));
        let bad = "month,ods_code,inbound_calls,average_wait_seconds,abandonment_rate,average_call_seconds,callbacks\n\
                   2026-10,Z00011,4210,95,6.2,182,140\n\
                   2026-10,Z00011,4210,95,6.2,182,140\n\
                   2026-11,U10001,-3,90000,101,60,1\n";
        let errors = parse_telephony_metrics(bad, &today).unwrap_err();
        let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (3, Some("ods_code")),
                (4, Some("abandonment_rate")),
                (4, Some("average_wait_seconds")),
                (4, Some("inbound_calls")),
                (4, Some("month")),
                (4, Some("ods_code")),
            ]
        );
        let missing = "month,ods_code,inbound_calls\n2026-10,Z00011,4\n";
        assert!(parse_telephony_metrics(missing, &today).is_err());
    }

    #[test]
    fn a_pcn_notes_its_own_reviews_of_months_begun() {
        let pcn = PcnCode::parse("U10001").unwrap_or_else(|_| unreachable!());
        let other = PcnCode::parse("U10002").unwrap_or_else(|_| unreachable!());
        let director = crate::Actor::scoped(
            crate::values::ShortText::parse("cd-u10001").unwrap_or_else(|_| unreachable!()),
            crate::Role::PcnClinicalDirector,
            Some(crate::role::Scope::Pcn(pcn.clone())),
        );
        let note = || FreeText::parse("Agreed a callback queue at Mill").unwrap_or_else(|_| unreachable!());
        let today = day(2026, 11, 25);
        let id = Uuid::nil();
        assert!(decide_pcn_note(&director, &pcn, id, day(2026, 11, 1), note(), today).is_ok());
        assert!(matches!(
            decide_pcn_note(&director, &other, id, day(2026, 10, 1), note(), today),
            Err(CaseError::NotYourPcn(_))
        ));
        let refused = |month| match decide_pcn_note(&director, &pcn, id, month, note(), today) {
            Err(CaseError::InvalidPeriod { message, .. }) => message,
            other => format!("{other:?}"),
        };
        assert!(refused(day(2026, 12, 1)).contains("has not begun"));
        assert!(refused(day(2026, 10, 2)).contains("not the first day"));
        assert!(refused(day(1900, 1, 1)).contains("months ago"));
        assert!(decide_pcn_note(&director, &pcn, id, day(2024, 11, 1), note(), today).is_ok());
        let icb = crate::Actor::new(
            crate::values::ShortText::parse("icb-1").unwrap_or_else(|_| unreachable!()),
            crate::Role::Icb,
        );
        assert!(decide_pcn_note(&icb, &pcn, id, day(2026, 10, 1), note(), today).is_err());
        // Its notes' words are erased by the ICB or its own director, not another PCN's.
        assert!(may_erase_pcn_note(&icb, &pcn).is_ok());
        assert!(may_erase_pcn_note(&director, &pcn).is_ok());
        assert!(matches!(
            may_erase_pcn_note(&director, &other),
            Err(CaseError::NotYourPcn(_))
        ));
    }
}
