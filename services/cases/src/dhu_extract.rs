//! Parsing the DHU's own visibility extract (CSV: `ods_code, date, slots_visible`: the bookable
//! 111 slots the DHU could see at the practice in core hours that day). Checked whole: every
//! error with its line and column, no rows if any.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::extract::{Bounds, ImportError, Sheet, checked, finish, whole_number};
use crate::practice::DhuSlotsObserved;
use crate::values::{OdsCode, SlotCount};

const REQUIRED_COLUMNS: [&str; 3] = ["ods_code", "date", "slots_visible"];

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhuRow {
    pub line: u64,
    pub observation: DhuSlotsObserved,
}

pub fn parse_dhu_extract(csv: &str, bounds: &Bounds) -> Result<Vec<DhuRow>, Vec<ImportError>> {
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
            OdsCode::parse(record.field("ods_code")).map_err(|e| e.to_string()),
        );
        let date = checked(&mut row_errors, line, "date", bounds.day(record.field("date")));
        let visible = checked(
            &mut row_errors,
            line,
            "slots_visible",
            whole_number(record.field("slots_visible")).and_then(|n| SlotCount::new(n).map_err(|e| e.to_string())),
        );
        if let (Some(code), Some(date)) = (&ods_code, date)
            && let Some(first) = seen.insert((code.clone(), date), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("ods_code"),
                format!("{code} on {date} appears again (first on line {first})"),
            ));
        }
        match (ods_code, date, visible) {
            (Some(ods_code), Some(date), Some(visible_slots)) if row_errors.is_empty() => rows.push(DhuRow {
                line,
                observation: DhuSlotsObserved {
                    ods_code,
                    date,
                    visible_slots,
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
    fn rows_are_checked_whole() {
        let good = "ods_code,date,slots_visible\nZ00011,2026-02-02,3\nZ00012,2026-02-02,0\n";
        let rows = parse_dhu_extract(good, &today()).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].observation.visible_slots.get(), 3);
        let bad = "ods_code,date,slots_visible\nZ00011,2026-02-02,3\nZ00011,2026-02-02,4\nZ0001,2026-04-01,-1\n";
        let errors = parse_dhu_extract(bad, &today()).unwrap_err();
        let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (3, Some("ods_code")),
                (4, Some("ods_code")),
                (4, Some("date")),
                (4, Some("slots_visible"))
            ]
        );
    }
}
