//! Dashboard imports: rejected whole with every error, observations idempotent, new cases for
//! non-compliant practices, reopening on regression, and a national-sized file in one transaction:
//! all of an import or none of it, whatever stops it.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::case::{Evidence, ReopenCause};
use caseledger_cases::values::SlotCount;
use caseledger_cases::{Action, CaseError, CaseStatus, Role};
use caseledger_commands::CommandError;
use common::*;

const HEADER: &str = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n";

fn extract(date: &str, rows: &[(&str, u32, u32)]) -> String {
    let mut csv = HEADER.to_string();
    for (ods, list_size, visible) in rows {
        csv.push_str(&format!(
            "{date},{ods},Practice {ods},U10001,Coventry,{list_size},{visible}\n"
        ));
    }
    csv
}

async fn count(db: &caseledger_testsupport::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_file_with_any_bad_row_is_rejected_whole_with_every_error() {
    let (commands, db) = commands().await;
    let csv = format!(
        "{HEADER}2026-01-05,Z00011,Arden,U10001,Coventry,14646,6\n\
         2026-01-05,NOT-A-CODE,Mill,U10001,Coventry,5121,0\n\
         2026-01-05,Z00013,Orchard,U10001,Coventry,6921,-4\n"
    );
    let report = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
    assert_eq!(report.errors.len(), 2);
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_deref()),
        (3, Some("ods_code"))
    );
    assert_eq!(
        (report.errors[1].line, report.errors[1].column.as_deref()),
        (4, Some("slots_visible_111"))
    );
    assert_eq!(count(&db, "select count(*) from events").await, 0, "nothing applied");
}

#[tokio::test]
async fn an_import_observes_every_row_flags_the_non_compliant_and_a_re_import_is_a_no_op() {
    let (commands, db) = commands().await;
    let csv = extract(
        "2026-01-05",
        &[("Z00011", 14_646, 6), ("Z00012", 5_121, 0), ("Z00013", 6_921, 1)],
    );
    let report = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
    assert!(report.errors.is_empty());
    assert_eq!(
        (report.rows, report.observed, report.flagged, report.reopened),
        (3, 3, 2, 0)
    );
    let flagged_at: Vec<String> = sqlx::query_scalar(
        "select metadata->>'occurred_at' from events where event_type = 'PracticeFlagged' order by stream_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        flagged_at,
        vec!["2026-01-05T00:00:00.000Z"; 2],
        "dated the report date at midnight"
    );

    let again = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
    assert_eq!((again.observed, again.flagged, again.reopened), (0, 0, 0));
    assert_eq!(count(&db, "select count(*) from events").await, 5);

    // The same report date with other figures for one practice: refused whole, with the row
    // named, and nothing written (not the new practice's row either).
    let changed = extract(
        "2026-01-05",
        &[("Z00014", 3_000, 0), ("Z00011", 14_646, 6), ("Z00012", 5_121, 2)],
    );
    let refused = commands.import_dashboard(&icb().actor, &changed, now()).await.unwrap();
    assert_eq!(refused.error_count, 1);
    assert_eq!(refused.errors[0].line, 4);
    assert!(
        refused.errors[0]
            .message
            .contains("Z00012 already has figures for 2026-01-05"),
        "{:?}",
        refused.errors
    );
    assert_eq!(count(&db, "select count(*) from events").await, 5, "nothing applied");

    let next_week = extract(
        "2026-01-12",
        &[("Z00011", 14_646, 6), ("Z00012", 5_121, 0), ("Z00013", 6_921, 2)],
    );
    let report = commands
        .import_dashboard(&icb().actor, &next_week, now())
        .await
        .unwrap();
    assert_eq!(
        (report.observed, report.flagged),
        (3, 0),
        "open cases are not flagged again"
    );
}

#[tokio::test]
async fn a_regression_reopens_a_compliant_case_but_an_older_extract_does_not() {
    let (commands, _db) = commands().await;
    let week0 = extract("2026-01-05", &[("Z00012", 5_121, 0)]);
    commands.import_dashboard(&icb().actor, &week0, now()).await.unwrap();
    // The next week's extract is the evidence the ICB confirms on.
    let week1 = extract("2026-01-12", &[("Z00012", 5_121, 1)]);
    commands.import_dashboard(&icb().actor, &week1, now()).await.unwrap();
    let latest = caseledger_commands::load_case;
    let case_id: uuid::Uuid = sqlx::query_scalar("select case_id from practice_cases where ods_code = 'Z00012'")
        .fetch_one(commands.store().pool())
        .await
        .unwrap();
    let comply = Action::ConfirmCompliance {
        visible_slots_per_day: SlotCount::new(1).unwrap(),
        evidence: Evidence::Dashboard,
    };
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-20T10:00:00Z")
        .unwrap()
        .to_utc();
    commands.execute(case_id, &icb().at(at), comply, now()).await.unwrap();

    let older = extract("2026-01-19", &[("Z00012", 5_121, 0)]);
    let report = commands.import_dashboard(&icb().actor, &older, now()).await.unwrap();
    assert_eq!(
        (report.observed, report.reopened, report.flagged),
        (1, 0, 0),
        "an extract from before compliance"
    );
    assert_eq!(
        latest(commands.store(), case_id).await.unwrap().0.status,
        Some(CaseStatus::Compliant)
    );

    let regression = extract("2026-02-02", &[("Z00012", 5_121, 0)]);
    let report = commands
        .import_dashboard(&icb().actor, &regression, now())
        .await
        .unwrap();
    assert_eq!((report.reopened, report.flagged), (1, 0));
    let (case, _) = latest(commands.store(), case_id).await.unwrap();
    assert_eq!(case.status, Some(CaseStatus::Flagged));
    assert_eq!(case.visible_slots, Some(0));
    assert_eq!(case.reopen_cause, Some(ReopenCause::VisibilityDrop));
}

#[tokio::test]
async fn a_list_size_rise_reopens_a_compliant_practice_with_its_cause_and_requirement() {
    let (commands, _db) = commands().await;
    let flagged = extract("2026-01-05", &[("Z00012", 5_900, 0)]);
    commands.import_dashboard(&icb().actor, &flagged, now()).await.unwrap();
    let shown = extract("2026-01-12", &[("Z00012", 5_950, 1)]);
    commands.import_dashboard(&icb().actor, &shown, now()).await.unwrap();
    let case_id: uuid::Uuid = sqlx::query_scalar("select case_id from practice_cases where ods_code = 'Z00012'")
        .fetch_one(commands.store().pool())
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

    // 6,020 patients: two slots a day now, and the practice still offers the one.
    let grown = extract("2026-01-19", &[("Z00012", 6_020, 1)]);
    let report = commands.import_dashboard(&icb().actor, &grown, now()).await.unwrap();
    assert_eq!(report.reopened, 1);
    let (case, _) = caseledger_commands::load_case(commands.store(), case_id).await.unwrap();
    assert_eq!(case.status, Some(CaseStatus::Flagged));
    assert_eq!(case.reopen_cause, Some(ReopenCause::ListSizeRise));
    assert_eq!((case.list_size, case.required_slots), (6_020, 2));
}

#[tokio::test]
async fn only_the_icb_and_admins_may_import() {
    let (commands, _db) = commands().await;
    let csv = extract("2026-01-05", &[("Z00011", 14_646, 6)]);
    for role in [Role::Champion, Role::Dhu, Role::Lmc] {
        let err = commands
            .import_dashboard(&actor(role, "someone"), &csv, now())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommandError::Rejected(CaseError::Forbidden { .. })),
            "{role}: {err:?}"
        );
    }
    assert!(
        commands
            .import_dashboard(&actor(Role::Admin, "ops-1"), &csv, now())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_national_file_of_seven_thousand_practices_is_imported_in_one_transaction_with_its_cases() {
    let (commands, db) = commands().await;
    let rows: Vec<(String, u32, u32)> = (0..7_000u32)
        .map(|i| {
            let list_size = 2_000 + (i * 37) % 18_000;
            let required = (list_size / 3000).max(1);
            // One practice in fifty short of its requirement.
            let visible = if i % 50 == 0 { required - 1 } else { required + i % 3 };
            (format!("Z{:05}", 10_000 + i), list_size, visible)
        })
        .collect();
    let borrowed: Vec<(&str, u32, u32)> = rows.iter().map(|(o, l, v)| (o.as_str(), *l, *v)).collect();
    let csv = extract("2026-01-05", &borrowed);
    let report = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
    assert_eq!((report.rows, report.observed, report.flagged), (7_000, 7_000, 140));
    let transactions = count(&db, "select count(distinct tx_id::text) from events").await;
    assert_eq!(
        transactions, 1,
        "the observations and the cases they open, all of it or nothing"
    );
    assert_eq!(count(&db, "select count(*) from practice_cases").await, 140);

    let again = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
    assert_eq!((again.observed, again.flagged), (0, 0));
}

/// However early an import is cut off (the request timing out, the client going away), it has
/// written all of its events or none: never the first part.
#[tokio::test]
async fn an_import_cut_off_at_any_moment_leaves_all_of_it_or_nothing() {
    let (commands, db) = commands().await;
    let rows: Vec<(String, u32, u32)> = (0..1_500u32)
        .map(|i| (format!("Z{:05}", 20_000 + i), 6_000, if i % 10 == 0 { 0 } else { 2 }))
        .collect();
    let borrowed: Vec<(&str, u32, u32)> = rows.iter().map(|(o, l, v)| (o.as_str(), *l, *v)).collect();
    let csv = extract("2026-01-05", &borrowed);
    // 1,500 observations and 150 cases.
    let whole = 1_650;
    let mut cut_off = 0;
    for millis in (0..).map(|step| 1u64 << step).take_while(|millis| *millis < 60_000) {
        let attempt = tokio::time::timeout(
            std::time::Duration::from_millis(millis),
            commands.import_dashboard(&icb().actor, &csv, now()),
        )
        .await;
        let events = count(&db, "select count(*) from events").await;
        assert!(
            events == 0 || events == whole,
            "cut off after {millis} ms: {events} of {whole} events written"
        );
        if events == whole {
            assert!(attempt.is_ok() || cut_off > 0, "done");
            break;
        }
        cut_off += 1;
    }
    assert!(cut_off > 0, "the import was cut off at least once before it finished");
    assert_eq!(count(&db, "select count(*) from events").await, whole);
}

#[tokio::test]
async fn rows_dated_before_2000_refuse_the_file_and_write_nothing() {
    let (commands, db) = commands().await;
    for date in ["1999-12-31", "1901-01-01", "1900-01-01", "0001-01-01"] {
        let csv = extract(date, &[("Z00011", 14_646, 6), ("Z00012", 5_121, 0)]);
        let report = commands.import_dashboard(&icb().actor, &csv, now()).await.unwrap();
        assert_eq!(report.error_count, 2, "{date}: {:?}", report.errors);
        assert!(
            report.errors[0].message.contains("check the year"),
            "{:?}",
            report.errors
        );
    }
    assert_eq!(count(&db, "select count(*) from events").await, 0, "nothing applied");
}

#[tokio::test]
async fn a_file_past_the_row_limit_is_refused_whole_with_a_clear_error() {
    let (commands, db) = commands().await;
    let commands = commands.with_import_policy(caseledger_commands::ImportPolicy {
        max_practices: 50,
        ..Default::default()
    });
    let rows: Vec<(String, u32, u32)> = (0..51u32).map(|i| (format!("Z{:05}", 30_000 + i), 6_000, 0)).collect();
    let borrowed: Vec<(&str, u32, u32)> = rows.iter().map(|(o, l, v)| (o.as_str(), *l, *v)).collect();
    let report = commands
        .import_dashboard(&icb().actor, &extract("2026-01-05", &borrowed), now())
        .await
        .unwrap();
    assert_eq!(report.error_count, 1);
    assert!(
        report.errors[0].message.contains("more than 50 rows"),
        "{:?}",
        report.errors
    );
    assert_eq!(count(&db, "select count(*) from events").await, 0, "nothing applied");
}
