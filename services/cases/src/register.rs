//! Parsing the ICB's practice register (CSV: `ods_code, practice_name, pcn_code, pcn_name,
//! place, list_size, main_site`, optional `branch_sites` as names separated by `;`). Checked
//! whole, as a dashboard is: every error with its line and column, no entries if any. A PCN
//! belongs to one place and has one name: rows that disagree about theirs are errors too.

use std::collections::HashMap;

use crate::extract::{ImportError, Sheet, checked, finish, whole_number};
use crate::practice::{PracticeDetails, PracticeRegistration};
use crate::values::{ListSize, OdsCode, PcnCode, ShortText};

const REQUIRED_COLUMNS: [&str; 7] = [
    "ods_code",
    "practice_name",
    "pcn_code",
    "pcn_name",
    "place",
    "list_size",
    "main_site",
];

/// One checked entry of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    pub line: u64,
    pub entry: PracticeRegistration,
}

/// Parses and checks a whole register of at most `max_rows` practices.
pub fn parse_register(csv: &str, max_rows: usize) -> Result<Vec<RegisterRow>, Vec<ImportError>> {
    let sheet = Sheet::read(csv, &REQUIRED_COLUMNS, max_rows)?;
    let mut errors = sheet.unreadable.clone();
    let mut rows = Vec::new();
    let mut seen: HashMap<OdsCode, u64> = HashMap::new();
    // PCN code → (line, its name, its place) as first given.
    let mut pcns: HashMap<PcnCode, (u64, ShortText, ShortText)> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        let mut row_errors = Vec::new();
        let text = |errors: &mut Vec<ImportError>, column: &str| {
            checked(
                errors,
                line,
                column,
                ShortText::parse(record.field(column)).map_err(|e| e.to_string()),
            )
        };
        let ods_code = checked(
            &mut row_errors,
            line,
            "ods_code",
            OdsCode::parse(record.field("ods_code")).map_err(|e| e.to_string()),
        );
        let name = text(&mut row_errors, "practice_name");
        let pcn_code = checked(
            &mut row_errors,
            line,
            "pcn_code",
            PcnCode::parse(record.field("pcn_code")).map_err(|e| e.to_string()),
        );
        let pcn_name = text(&mut row_errors, "pcn_name");
        let place = text(&mut row_errors, "place");
        let list_size = checked(
            &mut row_errors,
            line,
            "list_size",
            whole_number(record.field("list_size")).and_then(|n| ListSize::new(n).map_err(|e| e.to_string())),
        );
        let main_site = text(&mut row_errors, "main_site");
        let branch_sites = checked(
            &mut row_errors,
            line,
            "branch_sites",
            record
                .field("branch_sites")
                .split(';')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| ShortText::parse(name).map_err(|e| format!("{name:?}: {e}")))
                .collect::<Result<Vec<_>, _>>(),
        );
        if let Some(code) = &ods_code
            && let Some(first) = seen.insert(code.clone(), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("ods_code"),
                format!("{code} appears again (first on line {first})"),
            ));
        }
        if let (Some(pcn), Some(pcn_name), Some(place)) = (&pcn_code, &pcn_name, &place) {
            match pcns.get(pcn) {
                Some((first, _, first_place)) if first_place != place => row_errors.push(ImportError::new(
                    line,
                    Some("place"),
                    format!("{pcn} is in {first_place} on line {first}, not {place}: a PCN belongs to one place"),
                )),
                Some((first, first_name, _)) if first_name != pcn_name => row_errors.push(ImportError::new(
                    line,
                    Some("pcn_name"),
                    format!("{pcn} is named {first_name:?} on line {first}, not {pcn_name:?}"),
                )),
                Some(_) => {}
                None => {
                    pcns.insert(pcn.clone(), (line, pcn_name.clone(), place.clone()));
                }
            }
        }
        match (
            ods_code,
            name,
            pcn_code,
            pcn_name,
            place,
            list_size,
            main_site,
            branch_sites,
        ) {
            (
                Some(ods_code),
                Some(name),
                Some(pcn_code),
                Some(pcn_name),
                Some(place),
                Some(list_size),
                Some(main_site),
                Some(branch_sites),
            ) if row_errors.is_empty() => rows.push(RegisterRow {
                line,
                entry: PracticeRegistration {
                    practice: PracticeDetails {
                        ods_code,
                        name,
                        pcn_code,
                        pcn_name: Some(pcn_name),
                        place,
                    },
                    list_size,
                    main_site,
                    branch_sites,
                    ods: None,
                    list_size_date: None,
                    pcn_joined: None,
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

    const HEADER: &str = "ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site,branch_sites\n";

    #[test]
    fn a_good_register_parses_with_its_sites() {
        let csv = format!(
            "{HEADER}Z00011,Arden Health Centre,U10001,Coventry South PCN 1,Coventry,14646,Arden Health Centre,Arden Branch; Keresley Surgery\n\
             Z00012,Mill Health Centre,U10001,Coventry South PCN 1,Coventry,5121,Mill Health Centre,\n"
        );
        let rows = parse_register(&csv, crate::extract::MAX_PRACTICE_ROWS).unwrap();
        assert_eq!(rows.len(), 2);
        let sites: Vec<&str> = rows[0].entry.branch_sites.iter().map(|s| s.as_str()).collect();
        assert_eq!(sites, vec!["Arden Branch", "Keresley Surgery"]);
        assert!(rows[1].entry.branch_sites.is_empty());
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn every_bad_row_is_named_and_a_pcn_keeps_one_place_and_name() {
        let csv = format!(
            "{HEADER}Z00011,Arden,U10001,South PCN,Coventry,14646,Arden,\n\
             Z00012,Mill,U10001,South PCN,Rugby,5121,Mill,\n\
             Z00013,Orchard,U10001,Other name,Coventry,5121,Orchard,\n\
             Z00011,Arden again,U10001,South PCN,Coventry,14646,Arden,\n\
             NOT-A-CODE,Tower,U1,South PCN,Coventry,-1,,\n"
        );
        let errors = parse_register(&csv, crate::extract::MAX_PRACTICE_ROWS).unwrap_err();
        let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (3, Some("place")),
                (4, Some("pcn_name")),
                (5, Some("ods_code")),
                (6, Some("ods_code")),
                (6, Some("pcn_code")),
                (6, Some("list_size")),
                (6, Some("main_site")),
            ]
        );
        assert!(parse_register("ods_code\nZ00011\n", crate::extract::MAX_PRACTICE_ROWS).unwrap_err()[0].line == 1);
        assert!(
            parse_register(HEADER, crate::extract::MAX_PRACTICE_ROWS).is_err(),
            "a register without rows"
        );
    }
}
