//! Parsing a dashboard extract (CSV: `report_date, ods_code, practice_name, pcn_code, place,
//! list_size, slots_visible_111`, optional `pcn_name`). Every row is checked and every error is
//! reported with its line and column; a file with any error yields no rows at all.

use std::collections::HashMap;

pub use crate::extract::ImportError;
use crate::extract::{Bounds, Sheet, checked, whole_number};
use crate::practice::{PracticeDetails, SlotsObserved};
use crate::values::{ListSize, OdsCode, PcnCode, ShortText, SlotCount, required_slots};
use chrono::NaiveDate;

const REQUIRED_COLUMNS: [&str; 7] = [
    "report_date",
    "ods_code",
    "practice_name",
    "pcn_code",
    "place",
    "list_size",
    "slots_visible_111",
];

/// One checked row of the extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardRow {
    pub line: u64,
    pub observation: SlotsObserved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub report_date: NaiveDate,
    pub rows: Vec<DashboardRow>,
}

/// Parses and checks a whole extract, its report date and size within `bounds`.
pub fn parse_dashboard(csv: &str, bounds: &Bounds) -> Result<Dashboard, Vec<ImportError>> {
    let sheet = Sheet::read(csv, &REQUIRED_COLUMNS, bounds.max_rows)?;
    let mut errors = sheet.unreadable.clone();
    let mut rows = Vec::new();
    let mut seen: HashMap<OdsCode, u64> = HashMap::new();
    let mut report_date: Option<NaiveDate> = None;
    for record in sheet.records() {
        let line = record.line;
        let field = |name: &str| record.field(name);
        let mut row_errors = Vec::new();

        let date = checked(&mut row_errors, line, "report_date", bounds.day(field("report_date")));
        let ods_code = checked(
            &mut row_errors,
            line,
            "ods_code",
            OdsCode::parse(field("ods_code")).map_err(|e| e.to_string()),
        );
        let name = checked(
            &mut row_errors,
            line,
            "practice_name",
            ShortText::parse(field("practice_name")).map_err(|e| e.to_string()),
        );
        let pcn_code = checked(
            &mut row_errors,
            line,
            "pcn_code",
            PcnCode::parse(field("pcn_code")).map_err(|e| e.to_string()),
        );
        let pcn_name = checked(
            &mut row_errors,
            line,
            "pcn_name",
            ShortText::parse_optional(Some(field("pcn_name"))).map_err(|e| e.to_string()),
        );
        let place = checked(
            &mut row_errors,
            line,
            "place",
            ShortText::parse(field("place")).map_err(|e| e.to_string()),
        );
        let list_size = checked(
            &mut row_errors,
            line,
            "list_size",
            whole_number(field("list_size")).and_then(|n| ListSize::new(n).map_err(|e| e.to_string())),
        );
        let visible = checked(
            &mut row_errors,
            line,
            "slots_visible_111",
            whole_number(field("slots_visible_111")).and_then(|n| SlotCount::new(n).map_err(|e| e.to_string())),
        );

        if let (Some(date), Some(first)) = (date, report_date)
            && date != first
        {
            row_errors.push(ImportError::new(
                line,
                Some("report_date"),
                format!("{date} differs from the file's {first}"),
            ));
        }
        report_date = report_date.or(date);
        if let Some(code) = &ods_code
            && let Some(first_line) = seen.insert(code.clone(), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("ods_code"),
                format!("{code} appears again (first on line {first_line})"),
            ));
        }

        match (date, ods_code, name, pcn_code, pcn_name, place, list_size, visible) {
            (
                Some(date),
                Some(ods_code),
                Some(name),
                Some(pcn_code),
                Some(pcn_name),
                Some(place),
                Some(list_size),
                Some(visible),
            ) if row_errors.is_empty() => {
                rows.push(DashboardRow {
                    line,
                    observation: SlotsObserved {
                        report_date: date,
                        visible_slots: visible,
                        list_size,
                        required_slots: required_slots(list_size),
                        practice: PracticeDetails {
                            ods_code,
                            name,
                            pcn_code,
                            pcn_name,
                            place,
                        },
                    },
                });
            }
            _ => errors.extend(row_errors),
        }
    }
    match report_date {
        _ if !errors.is_empty() => Err(errors),
        None => Err(vec![ImportError::new(2, None, "the file has no rows")]),
        Some(report_date) => Ok(Dashboard { report_date, rows }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n";

    fn today() -> Bounds {
        Bounds::until(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), 100)
    }

    #[test]
    fn a_good_extract_parses_every_row_with_its_requirement() {
        let csv = format!(
            "{HEADER}2026-01-05,Z00011,Arden Health Centre,U10001,Coventry,14646,6\n\
             2026-01-05,Z00012,Mill Health Centre,U10001,Coventry,5121,0\n"
        );
        let dashboard = parse_dashboard(&csv, &today()).unwrap();
        assert_eq!(dashboard.report_date, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        assert_eq!(dashboard.rows.len(), 2);
        assert_eq!(dashboard.rows[0].observation.required_slots, 4);
        assert!(dashboard.rows[0].observation.compliant());
        assert!(!dashboard.rows[1].observation.compliant());
        assert_eq!(dashboard.rows[1].line, 3);
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column_and_nothing_is_returned() {
        let csv = format!(
            "{HEADER}2026-01-05,Z00011,Arden,U10001,Coventry,14646,6\n\
             2026-01-05,NOT-A-CODE,Mill,U10001,Coventry,5121,0\n\
             2026-01-05,Z00013,Orchard,U10001,Coventry,0,-4\n\
             2026-01-05,Z00011,Arden again,U10001,Coventry,14646,6\n\
             2026-13-40,Z00014,Tower,X1,Coventry,12366,4\n"
        );
        let errors = parse_dashboard(&csv, &today()).unwrap_err();
        let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (3, Some("ods_code")),
                (4, Some("list_size")),
                (4, Some("slots_visible_111")),
                (5, Some("ods_code")),
                (6, Some("report_date")),
                (6, Some("pcn_code")),
            ]
        );
    }

    #[test]
    fn a_missing_column_a_future_date_and_mixed_dates_are_errors() {
        let errors = parse_dashboard("report_date,ods_code\n2026-01-05,Z00011\n", &today()).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.column.as_deref() == Some("list_size") && e.line == 1)
        );

        let future = format!("{HEADER}2026-03-02,Z00011,Arden,U10001,Coventry,14646,6\n");
        assert!(
            parse_dashboard(&future, &today()).unwrap_err()[0]
                .message
                .contains("future")
        );

        let mixed = format!(
            "{HEADER}2026-01-05,Z00011,Arden,U10001,Coventry,14646,6\n2026-01-12,Z00012,Mill,U10001,Coventry,5121,1\n"
        );
        assert_eq!(parse_dashboard(&mixed, &today()).unwrap_err()[0].line, 3);
        assert!(parse_dashboard(HEADER, &today()).is_err(), "a file without rows");
    }

    #[test]
    fn dates_before_2000_and_files_past_their_rows_are_refused_whole() {
        for year in ["1999-12-31", "1901-01-01", "1900-01-01", "0001-01-01"] {
            let old = format!("{HEADER}{year},Z00011,Arden,U10001,Coventry,14646,6\n");
            let errors = parse_dashboard(&old, &today()).unwrap_err();
            assert_eq!(errors[0].column.as_deref(), Some("report_date"), "{year}");
            assert!(
                errors[0].message.contains("check the year"),
                "{year}: {}",
                errors[0].message
            );
        }
        let row = "2026-01-05,Z00011,Arden,U10001,Coventry,14646,6\n";
        let too_many = format!("{HEADER}{}", row.repeat(101));
        let errors = parse_dashboard(&too_many, &today()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("more than 100 rows"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn the_optional_pcn_name_is_read_when_present() {
        let csv = "report_date,ods_code,practice_name,pcn_code,pcn_name,place,list_size,slots_visible_111\n\
                   2026-01-05,Z00011,Arden,U10001,Coventry South PCN 1,Coventry,14646,6\n";
        let dashboard = parse_dashboard(csv, &today()).unwrap();
        let pcn_name = dashboard.rows[0]
            .observation
            .practice
            .pcn_name
            .as_ref()
            .map(|n| n.as_str());
        assert_eq!(pcn_name, Some("Coventry South PCN 1"));
    }
}
