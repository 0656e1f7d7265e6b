//! The register from the files NHS England publishes: ODS's practices, list sizes and PCN
//! membership, in any order; a practice enters once its list size is known; the same files again
//! write nothing; a list size that raises the requirement reopens a COMPLIANT case; a closed
//! practice with an open case is put to the ICB; a bad file applies nothing.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::case::{Evidence, ReopenCause};
use caseledger_cases::ods::{Places, SubIcbCodes};
use caseledger_cases::values::SlotCount;
use caseledger_cases::{Action, CaseError, CaseStatus, Role};
use caseledger_commands::{CommandError, Commands, Sources};
use common::*;

/// An `epraccur.csv` row as ODS writes it (27 quoted columns, no header).
fn ods_row(code: &str, name: &str, commissioner: &str, setting: &str, closed: &str) -> String {
    let status = if closed.is_empty() { "A" } else { "C" };
    format!(
        "\"{code}\",\"{name}\",\"Y60\",\"QWU\",\"{name}\",\"REMEMBRANCE ROAD\",\"COVENTRY\",\"WEST MIDLANDS\",\"\",\"CV3 3DG\",\
         \"19740401\",\"{closed}\",\"{status}\",\"B\",\"{commissioner}\",\"20210401\",\"{closed}\",\"024 76302082\",\"\",\"\",\"\",\"0\",\"\",\
         \"{commissioner}\",\"\",\"{setting}\",\"\"\r\n"
    )
}

fn epraccur(closed_m86001: &str) -> String {
    [
        ods_row("M84001", "RED ROOFS SURGERY", "B2M3M", "4", ""),
        ods_row(
            "M86001",
            "WILLENHALL PRIMARY CARE CENTRE - 1",
            "B2M3M",
            "4",
            closed_m86001,
        ),
        ods_row("Y00417", "COMMUNITY MENTAL HEALTH", "B2M3M", "9", ""),
        ods_row("A81001", "THE DENSHAM SURGERY", "16C", "4", ""),
    ]
    .concat()
}

fn list_sizes(date: &str, m84001: u32, m86001: u32) -> String {
    format!(
        "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n\
         GP_PRAC_PAT_LIST,{date},GP,16C,E38000247,A81001,TS18 1HU,ALL,ALL,3747\n\
         GP_PRAC_PAT_LIST,{date},GP,B2M3M,E38000251,M84001,CV11 5TW,ALL,ALL,{m84001}\n\
         GP_PRAC_PAT_LIST,{date},GP,B2M3M,E38000251,M86001,CV3 3DG,ALL,ALL,{m86001}\n"
    )
}

const PCNS: &str = "\"M84001\",\"RED ROOFS SURGERY\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"U33098\",\"NUNEATON SOUTH PCN\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"20191001\",\"20220331\",\"TRUE\"\r\n\
\"M84001\",\"RED ROOFS SURGERY\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"U92562\",\"NUNEATON & BEDWORTH PCN\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"20220401\",\"\",\"TRUE\"\r\n\
\"M86001\",\"WILLENHALL PRIMARY CARE CENTRE - 1\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"U68252\",\"SOWE VALLEY PCN\",\"B2M3M\",\"NHS COVENTRY AND WARWICKSHIRE ICB - B2M3M\",\"20191001\",\"\",\"TRUE\"\r\n\
\"A81001\",\"THE DENSHAM SURGERY\",\"16C\",\"NHS NORTH EAST AND NORTH CUMBRIA ICB - 16C\",\"U89141\",\"STOCKTON PCN\",\"16C\",\"NHS NORTH EAST AND NORTH CUMBRIA ICB - 16C\",\"20191001\",\"\",\"TRUE\"\r\n";

fn coventry_and_warwickshire(commands: Commands) -> Commands {
    commands.with_sources(Sources {
        icb: SubIcbCodes::parse("B2M3M").unwrap(),
        places: Places::from_pairs([("U92562", "Warwickshire North"), ("U68252", "Coventry")]).unwrap(),
    })
}

async fn count(db: &caseledger_testsupport::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn register_row(db: &caseledger_testsupport::TestDb, ods: &str) -> (String, String, serde_json::Value) {
    sqlx::query_as("select pcn_code, place, entry from practice_register where ods_code = $1")
        .bind(ods)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_three_files_load_in_any_order_and_again_write_nothing() {
    let (commands, db) = commands().await;
    let commands = coventry_and_warwickshire(commands);
    let icb = actor(Role::Icb, "icb-1");

    // ODS first: the practices wait for their list sizes.
    let ods = commands.import_ods(&icb, &epraccur(""), now()).await.unwrap();
    assert!(ods.errors.is_empty(), "{:?}", ods.errors);
    assert_eq!(
        (ods.rows, ods.other_icbs, ods.passed_over, ods.registered),
        (2, 1, 1, 0)
    );
    assert_eq!(ods.awaiting_list_size, vec!["M84001", "M86001"]);

    let sizes = commands
        .import_list_sizes(&icb, &list_sizes("2026-03-01", 13_265, 6_316), now())
        .await
        .unwrap();
    assert_eq!((sizes.rows, sizes.other_icbs, sizes.registered), (2, 1, 2));
    assert_eq!(sizes.extract_date.unwrap().to_string(), "2026-03-01");
    let (pcn, place, entry) = register_row(&db, "M84001").await;
    assert_eq!(
        pcn,
        caseledger_cases::ods::NO_PCN,
        "in no PCN until the ePCN release comes"
    );
    assert_eq!(place, "B2M3M", "placed by its sub-ICB location until then");
    assert_eq!(entry["ods"]["telephone"], "024 76302082");
    assert_eq!(entry["list_size"], 13_265);
    assert_eq!(entry["list_size_date"], "2026-03-01");
    // The list size's business time is its extract date.
    let occurred: String = sqlx::query_scalar(
        "select metadata->>'occurred_at' from events where stream_id = 'practice-M84001' and event_type = 'PracticeRegistered'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(occurred.starts_with("2026-03-01T00:00:00"), "{occurred}");

    let pcns = commands.import_pcns(&icb, PCNS, now()).await.unwrap();
    assert!(pcns.errors.is_empty(), "{:?}", pcns.errors);
    assert_eq!((pcns.rows, pcns.other_icbs, pcns.changed), (3, 1, 2));
    let (pcn, place, entry) = register_row(&db, "M84001").await;
    assert_eq!((pcn.as_str(), place.as_str()), ("U92562", "Warwickshire North"));
    assert_eq!(entry["pcn_joined"], "2022-04-01");

    // The same three files again: nothing new.
    let events = count(&db, "select count(*) from events").await;
    for report in [
        commands.import_ods(&icb, &epraccur(""), now()).await.unwrap(),
        commands
            .import_list_sizes(&icb, &list_sizes("2026-03-01", 13_265, 6_316), now())
            .await
            .unwrap(),
        commands.import_pcns(&icb, PCNS, now()).await.unwrap(),
    ] {
        assert_eq!((report.registered, report.changed, report.unchanged), (0, 0, 2));
    }
    assert_eq!(count(&db, "select count(*) from events").await, events);

    // An older month's list sizes do not undo a newer one's.
    let older = commands
        .import_list_sizes(&icb, &list_sizes("01FEB2026", 99_000, 99_000), now())
        .await
        .unwrap();
    assert_eq!((older.older, older.changed), (2, 0));

    // The hand-built register gives the sites and keeps what ODS publishes.
    let sites = "ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site,branch_sites\n\
                 M84001,RED ROOFS SURGERY,U92562,NUNEATON & BEDWORTH PCN,Warwickshire North,13265,Red Roofs Surgery,Bulkington Surgery\n";
    let report = commands.import_register(&icb, sites, now()).await.unwrap();
    assert_eq!(report.changed, 1, "{:?}", report.errors);
    let (_, _, entry) = register_row(&db, "M84001").await;
    assert_eq!(entry["branch_sites"], serde_json::json!(["Bulkington Surgery"]));
    assert_eq!(entry["ods"]["postcode"], "CV3 3DG");
    let ods = commands.import_ods(&icb, &epraccur(""), now()).await.unwrap();
    assert_eq!(
        (ods.changed, ods.unchanged),
        (0, 2),
        "the sites stay through the next ODS file"
    );
}

#[tokio::test]
async fn a_list_size_that_raises_the_requirement_reopens_a_compliant_case() {
    let (commands, _db) = commands().await;
    let commands = coventry_and_warwickshire(commands);
    let icb_actor = actor(Role::Icb, "icb-1");
    commands.import_ods(&icb_actor, &epraccur(""), now()).await.unwrap();
    commands
        .import_list_sizes(&icb_actor, &list_sizes("2026-01-01", 13_265, 5_900), now())
        .await
        .unwrap();
    commands.import_pcns(&icb_actor, PCNS, now()).await.unwrap();
    let dashboard = |date: &str, visible: u32| {
        format!(
            "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
             {date},M86001,WILLENHALL PRIMARY CARE CENTRE - 1,U68252,Coventry,5900,{visible}\n"
        )
    };
    let flagged = commands
        .import_dashboard(&icb_actor, &dashboard("2026-01-05", 0), now())
        .await
        .unwrap();
    assert_eq!(flagged.flagged, 1, "{:?}", flagged.errors);
    let case_id: uuid::Uuid = sqlx::query_scalar("select case_id from practice_cases where ods_code = 'M86001'")
        .fetch_one(commands.store().pool())
        .await
        .unwrap();
    commands
        .import_dashboard(&icb_actor, &dashboard("2026-01-12", 1), now())
        .await
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-13T10:00:00Z")
        .unwrap()
        .to_utc();
    let comply = Action::ConfirmCompliance {
        visible_slots_per_day: SlotCount::new(1).unwrap(),
        evidence: Evidence::Dashboard,
    };
    commands.execute(case_id, &icb().at(at), comply, now()).await.unwrap();

    // 6,316 patients from March: two slots a day, and the case last saw one.
    let grown = commands
        .import_list_sizes(&icb_actor, &list_sizes("2026-03-01", 13_265, 6_316), now())
        .await
        .unwrap();
    assert_eq!(
        (grown.changed, grown.reopened),
        (2, 1),
        "both list sizes are of March now; one rose"
    );
    let (case, _) = caseledger_commands::load_case(commands.store(), case_id).await.unwrap();
    assert_eq!(case.status, Some(CaseStatus::Flagged));
    assert_eq!(case.reopen_cause, Some(ReopenCause::ListSizeRise));
    assert_eq!((case.list_size, case.required_slots), (6_316, 2));

    // The practice closes: its history stays, and its open case is put to the ICB.
    let closed = commands
        .import_ods(&icb_actor, &epraccur("20260320"), now())
        .await
        .unwrap();
    assert_eq!(closed.closed, vec!["M86001"]);
    assert_eq!(closed.closed_with_open_case, vec!["M86001"]);
    let (case, _) = caseledger_commands::load_case(commands.store(), case_id).await.unwrap();
    assert_eq!(case.status, Some(CaseStatus::Flagged), "never dropped");
    // A dashboard without it is not missing it.
    let report = commands
        .import_dashboard(
            &icb_actor,
            "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
             2026-03-23,M84001,RED ROOFS SURGERY,U92562,Warwickshire North,13265,4\n",
            now(),
        )
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    // Each later file says so again until the ICB decides.
    let again = commands
        .import_ods(&icb_actor, &epraccur("20260320"), now())
        .await
        .unwrap();
    assert!(again.closed.is_empty());
    assert_eq!(again.closed_with_open_case, vec!["M86001"]);
}

#[tokio::test]
async fn a_bad_file_applies_nothing_and_only_the_icb_and_admins_may_load_one() {
    let (commands, db) = commands().await;
    let unnamed = commands.clone();
    let commands = coventry_and_warwickshire(commands);
    let icb = actor(Role::Icb, "icb-1");
    let bad = epraccur("").replace("\"M86001\"", "\"M8600\"");
    let report = commands.import_ods(&icb, &bad, now()).await.unwrap();
    assert_eq!(report.error_count, 1);
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_deref()),
        (2, Some("organisation_code"))
    );
    assert_eq!(count(&db, "select count(*) from ods_practices").await, 0);

    commands.import_ods(&icb, &epraccur(""), now()).await.unwrap();
    let bad = list_sizes("2026-03-01", 13_265, 6_316).replace("6316", "six");
    let report = commands.import_list_sizes(&icb, &bad, now()).await.unwrap();
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_deref()),
        (4, Some("NUMBER_OF_PATIENTS"))
    );
    assert_eq!(count(&db, "select count(*) from events").await, 0, "nothing applied");
    assert_eq!(count(&db, "select count(*) from ods_list_sizes").await, 0);

    for role in [Role::Champion, Role::Dhu, Role::Lmc] {
        let err = commands
            .import_pcns(&actor(role, "someone"), PCNS, now())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommandError::Rejected(CaseError::Forbidden { .. })),
            "{role}: {err:?}"
        );
    }
    assert!(
        commands
            .import_pcns(&actor(Role::Admin, "ops-1"), PCNS, now())
            .await
            .unwrap()
            .errors
            .is_empty()
    );

    // A deployment that has not named its ICB says which setting to set.
    let report = unnamed.import_ods(&icb, &epraccur(""), now()).await.unwrap();
    assert!(report.errors[0].message.contains("CASELEDGER_SUB_ICB_CODES"));
}
