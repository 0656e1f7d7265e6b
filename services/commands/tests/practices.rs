//! The practice register and the DHU's own extract: a register checked whole, recorded once per
//! practice and again only where it changed; dashboards checked against it once it exists (an
//! unknown practice, PCN or place is an error naming the row) and told which registered practices
//! they lack; the DHU's extract recorded once per practice and day.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::{CaseError, Role};
use caseledger_commands::CommandError;
use common::*;

const REGISTER: &str = "ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site,branch_sites\n";
const DASHBOARD: &str = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n";

fn register(rows: &[(&str, &str, &str, &str)]) -> String {
    let mut csv = REGISTER.to_string();
    for (ods, pcn, place, branches) in rows {
        csv.push_str(&format!(
            "{ods},Practice {ods},{pcn},PCN {pcn},{place},6000,Practice {ods},{branches}\n"
        ));
    }
    csv
}

async fn count(db: &caseledger_testsupport::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_register_is_recorded_once_and_again_only_where_it_changed() {
    let (commands, db) = commands().await;
    let icb = actor(Role::Icb, "icb-1");
    let first = register(&[
        ("Z00011", "U10001", "Coventry", "Keresley Branch"),
        ("Z00012", "U10001", "Coventry", ""),
        ("Z00013", "U10002", "Rugby", ""),
    ]);
    let report = commands.import_register(&icb, &first, now()).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        (report.rows, report.registered, report.changed, report.unchanged),
        (3, 3, 0, 0)
    );

    let again = commands.import_register(&icb, &first, now()).await.unwrap();
    assert_eq!(
        (again.registered, again.changed, again.unchanged),
        (0, 0, 3),
        "the same register writes nothing"
    );

    // Z00012 gains a branch site; Z00014 is new.
    let second = register(&[
        ("Z00011", "U10001", "Coventry", "Keresley Branch"),
        ("Z00012", "U10001", "Coventry", "Mill Lane Branch"),
        ("Z00013", "U10002", "Rugby", ""),
        ("Z00014", "U10002", "Rugby", ""),
    ]);
    let changed = commands.import_register(&icb, &second, now()).await.unwrap();
    assert_eq!((changed.registered, changed.changed, changed.unchanged), (1, 1, 2));
    assert_eq!(
        count(
            &db,
            "select count(*) from events where event_type = 'PracticeRegistered'"
        )
        .await,
        4
    );
    let change: serde_json::Value = sqlx::query_scalar(
        "select data from events where event_type = 'PracticeDetailsChanged' and stream_id = 'practice-Z00012'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(change["branch_sites"], serde_json::json!(["Mill Lane Branch"]));

    // A bad file: every error with its line and column, nothing applied.
    let before = count(&db, "select count(*) from events").await;
    let bad = format!(
        "{REGISTER}Z00015,Practice,U10002,PCN U10002,Rugby,6000,Main,\nZ0001,Practice,U10003,PCN,Rugby,0,Main,\n"
    );
    let refused = commands.import_register(&icb, &bad, now()).await.unwrap();
    let found: Vec<(u64, Option<&str>)> = refused.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(found, vec![(3, Some("ods_code")), (3, Some("list_size"))]);
    // A PCN the register has in Rugby cannot gain a practice in Coventry.
    let moved = format!("{REGISTER}Z00015,Practice,U10002,PCN U10002,Coventry,6000,Main,\n");
    let refused = commands.import_register(&icb, &moved, now()).await.unwrap();
    assert_eq!(
        (refused.errors[0].line, refused.errors[0].column.as_deref()),
        (2, Some("place"))
    );
    assert!(refused.errors[0].message.contains("Rugby"), "{:?}", refused.errors);
    assert_eq!(
        count(&db, "select count(*) from events").await,
        before,
        "nothing applied"
    );

    // Only the ICB and admins keep the register.
    let champion = actor(Role::Champion, "dc-1");
    assert!(matches!(
        commands.import_register(&champion, &first, now()).await,
        Err(CommandError::Rejected(CaseError::Forbidden { .. }))
    ));
}

#[tokio::test]
async fn once_a_register_exists_dashboards_are_checked_against_it_and_told_who_is_missing() {
    let (commands, db) = commands().await;
    let icb = actor(Role::Icb, "icb-1");
    // Before any register, a dashboard describes its practices itself.
    let free = format!("{DASHBOARD}2026-01-05,Z00099,Somewhere,U19999,Anywhere,6000,2\n");
    assert!(
        commands
            .import_dashboard(&icb, &free, now())
            .await
            .unwrap()
            .errors
            .is_empty()
    );

    let registered = register(&[
        ("Z00011", "U10001", "Coventry", ""),
        ("Z00012", "U10001", "Coventry", ""),
        ("Z00013", "U10002", "Rugby", ""),
    ]);
    commands.import_register(&icb, &registered, now()).await.unwrap();
    let before = count(&db, "select count(*) from events").await;
    let wrong = format!(
        "{DASHBOARD}2026-01-12,Z00011,Practice Z00011,U10001,Coventry,6000,2\n\
         2026-01-12,Z00012,Practice Z00012,U10002,Coventry,6000,2\n\
         2026-01-12,Z00013,Practice Z00013,U10002,Rugbey,6000,2\n\
         2026-01-12,Z00077,Practice Z00077,U10002,Rugby,6000,2\n"
    );
    let refused = commands.import_dashboard(&icb, &wrong, now()).await.unwrap();
    let found: Vec<(u64, Option<&str>)> = refused.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(
        found,
        vec![(3, Some("pcn_code")), (4, Some("place")), (5, Some("ods_code"))]
    );
    assert!(refused.errors[1].message.contains("Rugby"), "{:?}", refused.errors);
    assert_eq!(
        count(&db, "select count(*) from events").await,
        before,
        "nothing applied"
    );

    // A good extract that lacks Z00013: imported, and Z00013 reported as having no data.
    let partial = format!(
        "{DASHBOARD}2026-01-12,Z00011,Practice Z00011,U10001,Coventry,6000,2\n\
         2026-01-12,Z00012,Practice Z00012,U10001,Coventry,6000,0\n"
    );
    let report = commands.import_dashboard(&icb, &partial, now()).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.observed, report.flagged), (2, 1));
    assert_eq!(
        (report.missing.clone(), report.missing_count),
        (vec!["Z00013".to_string()], 1)
    );
}

#[tokio::test]
async fn the_dhus_extract_is_recorded_once_per_practice_and_day() {
    let (commands, db) = commands().await;
    let dhu = actor(Role::Dhu, "dhu-1");
    let csv = "ods_code,date,slots_visible\nZ00011,2026-01-12,3\nZ00012,2026-01-12,0\n";
    let report = commands.import_dhu_extract(&dhu, csv, now()).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.rows, report.observed), (2, 2));
    let again = commands.import_dhu_extract(&dhu, csv, now()).await.unwrap();
    assert_eq!(again.observed, 0, "a re-import writes nothing");
    let changed = "ods_code,date,slots_visible\nZ00011,2026-01-12,4\n";
    let refused = commands.import_dhu_extract(&dhu, changed, now()).await.unwrap();
    assert_eq!(refused.errors[0].column.as_deref(), Some("slots_visible"));
    assert_eq!(
        count(&db, "select count(*) from events where event_type = 'DhuSlotsObserved'").await,
        2
    );

    // With a register, an unknown practice is refused.
    commands
        .import_register(
            &actor(Role::Icb, "icb-1"),
            &register(&[("Z00011", "U10001", "Coventry", "")]),
            now(),
        )
        .await
        .unwrap();
    let unknown = "ods_code,date,slots_visible\nZ00011,2026-01-19,3\nZ00012,2026-01-19,1\n";
    let refused = commands.import_dhu_extract(&dhu, unknown, now()).await.unwrap();
    assert_eq!(
        (refused.errors[0].line, refused.errors[0].column.as_deref()),
        (3, Some("ods_code"))
    );
    // Only the DHU (and admins) send it.
    assert!(
        commands
            .import_dhu_extract(&actor(Role::Icb, "icb-1"), csv, now())
            .await
            .is_err()
    );
}
