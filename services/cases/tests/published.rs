//! The files NHS England publishes, read as they come: real rows of each vintage
//! (`tests/fixtures/nhs/SOURCES.md` says where each comes from).

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_cases::extract::text_of;
use caseledger_cases::ods::{
    NO_PCN, NotRegistered, Places, Published, SubIcbCodes, compose, parse_epraccur, parse_list_sizes, parse_pcn_members,
};
use caseledger_cases::practice::OdsStatus;
use caseledger_cases::values::OdsCode;
use chrono::NaiveDate;

const MAX: usize = 200_000;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/nhs/{name}", env!("CARGO_MANIFEST_DIR"));
    text_of(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn icb(codes: &str) -> SubIcbCodes {
    SubIcbCodes::parse(codes).unwrap()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn epraccur_of_every_vintage_gives_this_icbs_gp_practices_and_passes_over_the_rest() {
    // 2019: the CCGs that became Coventry and Warwickshire, one row each.
    let file = parse_epraccur(&fixture("epraccur-2019-12.csv"), &icb("05A,05R,05H"), MAX).unwrap();
    let codes: Vec<&str> = file.practices.iter().map(|p| p.ods_code.as_str()).collect();
    assert_eq!(codes, vec!["M86001", "M84002"]);
    assert_eq!(file.other_icbs, 3);
    let willenhall = &file.practices[0];
    assert_eq!(willenhall.name.as_str(), "WILLENHALL PRIMARY CARE CENTRE - 1");
    let address: Vec<&str> = willenhall.details.address.iter().map(|l| l.as_str()).collect();
    assert_eq!(
        address,
        vec![
            "WILLENHALL PRIM CRE CTR-1",
            "REMEMBRANCE ROAD",
            "COVENTRY",
            "WEST MIDLANDS"
        ]
    );
    assert_eq!(willenhall.details.postcode.as_ref().unwrap().as_str(), "CV3 3DG");
    assert_eq!(willenhall.details.telephone.as_ref().unwrap().as_str(), "024 76302082");
    assert_eq!(willenhall.details.opened, Some(day("1974-04-01")));
    assert_eq!(willenhall.details.status, OdsStatus::Active);
    assert_eq!(willenhall.line, 3);

    // 2025: B2M3M; a mental health unit (setting 9) under it is not a practice.
    let file = parse_epraccur(&fixture("epraccur-2025-04.csv"), &icb("B2M3M"), MAX).unwrap();
    assert_eq!(file.practices.len(), 1);
    assert_eq!(file.practices[0].ods_code.as_str(), "M84001");
    assert_eq!(file.not_gp_practices, 1);
    assert_eq!(file.other_icbs, 4, "other ICBs' rows, and ALD200 with no commissioner");

    // Another ICB's file: a closed practice, its close date and status kept.
    let file = parse_epraccur(&fixture("epraccur-2025-04.csv"), &icb("16C"), MAX).unwrap();
    let manor = file.practices.iter().find(|p| p.ods_code.as_str() == "A81043").unwrap();
    assert_eq!(manor.details.status, OdsStatus::Closed);
    assert_eq!(manor.details.closed, Some(day("2024-06-30")));
    assert_eq!(manor.details.closed_on(), Some(day("2024-06-30")));

    // Data Search and Export: statuses as words, settings as ODS roles.
    let file = parse_epraccur(&fixture("epraccur-dse-2026-03.csv"), &icb("16C,00K,02Y"), MAX).unwrap();
    let status: Vec<(&str, OdsStatus)> = file
        .practices
        .iter()
        .map(|p| (p.ods_code.as_str(), p.details.status))
        .collect();
    assert_eq!(
        status,
        vec![
            ("A81001", OdsStatus::Active),
            ("A81003", OdsStatus::Closed),
            ("A81065", OdsStatus::Dormant),
            ("B81042", OdsStatus::Active),
        ]
    );
}

#[test]
fn a_bad_epraccur_row_of_this_icb_is_named_by_line_and_column_and_nothing_is_taken() {
    let good = fixture("epraccur-2025-04.csv");
    let bad = good.replace(r#""M84001","RED ROOFS SURGERY""#, r#""M8400X","RED ROOFS SURGERY""#);
    let errors = parse_epraccur(&bad, &icb("B2M3M"), MAX).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].column.as_deref()),
        (3, Some("organisation_code"))
    );

    let bad = good.replace(r#""CV11 5TW","19740401""#, r#""CV11 5TW","1974-04-01""#);
    let errors = parse_epraccur(&bad, &icb("B2M3M"), MAX).unwrap_err();
    assert_eq!((errors[0].line, errors[0].column.as_deref()), (3, Some("open_date")));

    // A row cut short is named, wherever it is from.
    let short = format!("{good}\"M84999\",\"SHORT\"\n");
    let errors = parse_epraccur(&short, &icb("B2M3M"), MAX).unwrap_err();
    assert_eq!(errors[0].line, 7);
    assert!(errors[0].message.contains("27"), "{}", errors[0].message);

    // A file with nothing of this ICB says so, rather than registering nothing quietly.
    let errors = parse_epraccur(&good, &icb("X9X9X"), MAX).unwrap_err();
    assert!(errors[0].message.contains("X9X9X"), "{}", errors[0].message);
}

#[test]
fn list_sizes_of_both_headers_and_both_date_forms() {
    let old = parse_list_sizes(&fixture("gp-reg-pat-prac-all-2021-01.csv"), &icb("05A"), MAX).unwrap();
    assert_eq!(old.extract_date, day("2021-01-01"));
    let sizes: Vec<(&str, u32)> = old.rows.iter().map(|r| (r.ods_code.as_str(), r.patients)).collect();
    assert_eq!(sizes, vec![("M84004", 13873), ("M86001", 6316)]);
    assert_eq!(old.other_icbs, 4);

    let new = parse_list_sizes(&fixture("gp-reg-pat-prac-all-2026-04.csv"), &icb("B2M3M"), MAX).unwrap();
    assert_eq!(new.extract_date, day("2026-04-01"));
    let sizes: Vec<(&str, u32)> = new.rows.iter().map(|r| (r.ods_code.as_str(), r.patients)).collect();
    assert_eq!(sizes, vec![("M84001", 13265), ("M86034", 9842), ("M84034", 1034)]);
    assert_eq!(new.rows[0].line, 5);
}

#[test]
fn list_size_breakdowns_are_passed_over_and_one_file_is_one_month() {
    let header = "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n";
    let csv = format!(
        "{header}GP_PRAC_PAT_LIST,2026-04-01,GP,B2M3M,E38000251,M84001,CV11 5TW,ALL,ALL,13265\n\
         GP_PRAC_PAT_LIST,2026-04-01,GP,B2M3M,E38000251,M84001,CV11 5TW,FEMALE,ALL,6700\n\
         GP_PRAC_PAT_LIST,2026-04-01,GP,B2M3M,E38000251,M84001,CV11 5TW,ALL,0_4,600\n"
    );
    let sizes = parse_list_sizes(&csv, &icb("B2M3M"), MAX).unwrap();
    assert_eq!(sizes.rows.len(), 1);
    assert_eq!(sizes.breakdowns, 2);

    let csv = format!(
        "{header}GP_PRAC_PAT_LIST,2026-04-01,GP,B2M3M,E38000251,M84001,CV11 5TW,ALL,ALL,13265\n\
         GP_PRAC_PAT_LIST,01MAY2026,GP,B2M3M,E38000251,M86034,CV4 9PL,ALL,ALL,9842\n\
         GP_PRAC_PAT_LIST,2026-04-01,GP,B2M3M,E38000251,M84034,CV11 4SB,ALL,ALL,many\n"
    );
    let errors = parse_list_sizes(&csv, &icb("B2M3M"), MAX).unwrap_err();
    let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(found, vec![(3, Some("EXTRACT_DATE")), (4, Some("NUMBER_OF_PATIENTS"))]);

    let errors = parse_list_sizes(
        "PUBLICATION,EXTRACT_DATE,CODE,SEX,AGE,NUMBER_OF_PATIENTS\n",
        &icb("B2M3M"),
        MAX,
    )
    .unwrap_err();
    assert_eq!(errors[0].column.as_deref(), Some("SUB_ICB_LOCATION_CODE"));
}

#[test]
fn the_epcn_release_reads_as_ods_exports_it_and_as_the_workbooks_sheet() {
    let dse = parse_pcn_members(&fixture("epcncorepartnerdetails-dse-2026-03.csv"), &icb("B2M3M"), MAX).unwrap();
    let members: Vec<(&str, &str, Option<NaiveDate>)> = dse
        .members
        .iter()
        .map(|m| (m.ods_code.as_str(), m.pcn_code.as_str(), m.left))
        .collect();
    assert_eq!(
        members,
        vec![
            ("M86001", "U68252", None),
            ("M86002", "U33954", Some(day("2024-03-31"))),
            ("M86003", "U50320", Some(day("2019-12-31"))),
        ]
    );
    assert_eq!(dse.other_icbs, 3);
    assert_eq!(dse.members[0].pcn_name.as_str(), "SOWE VALLEY PCN");

    let sheet = parse_pcn_members(
        &fixture("epcn-core-partner-details-sheet-2023-01.csv"),
        &icb("B2M3M"),
        MAX,
    )
    .unwrap();
    let red_roofs: Vec<_> = sheet
        .members
        .iter()
        .filter(|m| m.ods_code.as_str() == "M84001")
        .collect();
    assert_eq!(red_roofs.len(), 2);
    // The membership that holds today is the later one.
    let now: Vec<&str> = red_roofs
        .iter()
        .filter(|m| m.holds_on(day("2026-12-06")))
        .map(|m| m.pcn_name.as_str())
        .collect();
    assert_eq!(now, vec!["NUNEATON & BEDWORTH PCN"]);
}

#[test]
fn a_bad_epcn_row_is_named_and_a_release_without_its_columns_is_refused() {
    let good = fixture("epcncorepartnerdetails-dse-2026-03.csv");
    let bad = good.replace(r#""U68252","SOWE VALLEY PCN""#, r#""68252","SOWE VALLEY PCN""#);
    let errors = parse_pcn_members(&bad, &icb("B2M3M"), MAX).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column.as_deref()), (4, Some("pcncode")));
    let errors = parse_pcn_members("PCN Code,PCN Name\nU68252,SOWE VALLEY PCN\n", &icb("B2M3M"), MAX).unwrap_err();
    assert!(errors.iter().all(|e| e.line == 1), "{errors:?}");
    assert!(errors.len() >= 2);
}

#[test]
fn an_entry_is_composed_from_all_three_files_and_waits_for_its_list_size() {
    let ods = parse_epraccur(&fixture("epraccur-2025-04.csv"), &icb("B2M3M"), MAX).unwrap();
    let red_roofs = &ods.practices[0];
    let pcns = parse_pcn_members(
        &fixture("epcn-core-partner-details-sheet-2023-01.csv"),
        &icb("B2M3M"),
        MAX,
    )
    .unwrap();
    let memberships: Vec<_> = pcns
        .members
        .iter()
        .filter(|m| m.ods_code == red_roofs.ods_code)
        .cloned()
        .collect();
    let places =
        Places::from_pairs([("U92562", "Warwickshire North"), ("B2M3M", "Coventry and Warwickshire")]).unwrap();
    let today = day("2026-12-06");
    let code = OdsCode::parse("M84001").unwrap();
    let mut published = Published {
        name: &red_roofs.name,
        details: &red_roofs.details,
        list_size: None,
        memberships: Some(&memberships),
    };
    assert_eq!(
        compose(&code, &published, &places, None, today),
        Err(NotRegistered::AwaitingListSize)
    );
    published.list_size = Some((13_265, day("2026-04-01")));
    let entry = compose(&code, &published, &places, None, today).unwrap();
    assert_eq!(entry.practice.pcn_code.as_str(), "U92562");
    assert_eq!(entry.practice.place.as_str(), "Warwickshire North");
    assert_eq!(entry.list_size.get(), 13_265);
    assert_eq!(entry.list_size_date, Some(day("2026-04-01")));
    assert_eq!(entry.pcn_joined, Some(day("2022-04-01")));
    assert_eq!(entry.main_site.as_str(), "RED ROOFS SURGERY");

    // In no PCN: counted as such, placed by its sub-ICB location.
    published.memberships = Some(&[]);
    let alone = compose(&code, &published, &places, None, today).unwrap();
    assert_eq!(alone.practice.pcn_code.as_str(), NO_PCN);
    assert_eq!(alone.practice.place.as_str(), "Coventry and Warwickshire");

    // The hand-built register's sites stay.
    let mut before = entry.clone();
    before.branch_sites = vec![caseledger_cases::values::ShortText::parse("Bulkington Surgery").unwrap()];
    published.memberships = Some(&memberships);
    let again = compose(&code, &published, &places, Some(&before), today).unwrap();
    assert_eq!(again, before);

    // A practice closed before the register knew it is not registered.
    let closed = parse_epraccur(&fixture("epraccur-2025-04.csv"), &icb("16C"), MAX).unwrap();
    let manor = closed
        .practices
        .iter()
        .find(|p| p.ods_code.as_str() == "A81043")
        .unwrap();
    let published = Published {
        name: &manor.name,
        details: &manor.details,
        list_size: Some((1, day("2026-04-01"))),
        memberships: None,
    };
    assert_eq!(
        compose(&manor.ods_code, &published, &places, None, today),
        Err(NotRegistered::ClosedBeforehand)
    );
}
