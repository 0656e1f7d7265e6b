//! The 111 provider's weekly extract of calls to NHS 111 in core hours by registered practice
//! (NHS England shares these with PCN clinical directors, so that practices divert only in
//! exceptional circumstances). CSV: `week_start, ods_code, calls`; a week starts on a Monday.
//! Checked whole: every error with its line and column, no rows if any.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::extract::{Bounds, ImportError, Sheet, checked, finish, practice_code, whole_number};
use crate::values::OdsCode;

const REQUIRED_COLUMNS: [&str; 3] = ["week_start", "ods_code", "calls"];

/// More calls than this from one practice in a week is a typing error.
pub const MOST_CALLS: i64 = 1_000_000;

/// A practice's calls to 111 in core hours in one week (in `practice-<ODS>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreHoursCallsReported {
    pub ods_code: OdsCode,
    /// The Monday the week starts.
    pub week_start: NaiveDate,
    pub calls: u32,
}

impl CoreHoursCallsReported {
    pub const EVENT_TYPE: &'static str = "CoreHoursCallsReported";
}

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallsRow {
    pub line: u64,
    pub reported: CoreHoursCallsReported,
}

pub fn parse_core_hours_calls(csv: &str, bounds: &Bounds) -> Result<Vec<CallsRow>, Vec<ImportError>> {
    let sheet = Sheet::read(csv, &REQUIRED_COLUMNS, bounds.max_rows)?;
    let mut errors = sheet.unreadable.clone();
    let mut rows = Vec::new();
    let mut seen: HashMap<(OdsCode, NaiveDate), u64> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        let mut row_errors = Vec::new();
        let ods_code = checked(
            &mut row_errors,
            line,
            "ods_code",
            practice_code(record.field("ods_code")),
        );
        let week_start = checked(
            &mut row_errors,
            line,
            "week_start",
            bounds.day(record.field("week_start")).and_then(|day| {
                if day.weekday() == Weekday::Mon {
                    Ok(day)
                } else {
                    Err(format!("{day} is a {}: a week starts on a Monday", day.weekday()))
                }
            }),
        );
        let calls = checked(
            &mut row_errors,
            line,
            "calls",
            whole_number(record.field("calls")).and_then(|n| {
                if (0..=MOST_CALLS).contains(&n) {
                    u32::try_from(n).map_err(|e| e.to_string())
                } else {
                    Err(format!("{n} is not a count of calls (0 to {MOST_CALLS})"))
                }
            }),
        );
        if let (Some(code), Some(week)) = (&ods_code, week_start)
            && let Some(first) = seen.insert((code.clone(), week), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("ods_code"),
                format!("{code} in the week of {week} appears again (first on line {first})"),
            ));
        }
        match (ods_code, week_start, calls) {
            (Some(ods_code), Some(week_start), Some(calls)) if row_errors.is_empty() => rows.push(CallsRow {
                line,
                reported: CoreHoursCallsReported {
                    ods_code,
                    week_start,
                    calls,
                },
            }),
            _ => errors.extend(row_errors),
        }
    }
    finish(rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Bounds {
        Bounds::until(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(), 100)
    }

    #[test]
    fn weeks_start_on_mondays_and_rows_are_checked_whole() {
        let good = "week_start,ods_code,calls\n2026-02-02,Z00011,37\n2026-02-02,Z00012,0\n";
        let rows = parse_core_hours_calls(good, &today()).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].reported.calls, 37);
        let bad = "week_start,ods_code,calls\n\
                   2026-02-03,Z00011,3\n\
                   2026-02-02,Z00011,3\n\
                   2026-02-02,Z00011,4\n\
                   2026-02-02,U10001,-1\n\
                   2026-04-06,Z00013,many\n";
        let errors = parse_core_hours_calls(bad, &today()).unwrap_err();
        let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (2, Some("week_start")),
                (4, Some("ods_code")),
                (5, Some("ods_code")),
                (5, Some("calls")),
                (6, Some("week_start")),
                (6, Some("calls")),
            ]
        );
        assert!(
            errors[0].message.contains("a week starts on a Monday"),
            "{}",
            errors[0].message
        );
    }
}
