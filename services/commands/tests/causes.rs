//! Where one event causes another, the second names the first (`causation_id`): a dashboard row
//! and the case it flags, a report and the case opened from it. And a DHU report on a code nothing
//! knows is refused up front, naming the code.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::Role;
use caseledger_cases::case::RootCause;
use caseledger_cases::values::OdsCode;
use caseledger_commands::{CommandContext, CommandError, Reported};
use common::*;

async fn event(
    db: &caseledger_testsupport::TestDb,
    stream: &str,
    event_type: &str,
) -> (uuid::Uuid, Option<uuid::Uuid>) {
    let (id, causation): (uuid::Uuid, Option<String>) = sqlx::query_as(
        "select event_id, metadata->>'causation_id' from events where stream_id like $1 and event_type = $2",
    )
    .bind(stream)
    .bind(event_type)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    (id, causation.map(|c| c.parse().unwrap()))
}

#[tokio::test]
async fn a_flag_names_the_row_that_caused_it_and_a_reports_case_names_the_report() {
    let (commands, db) = commands().await;
    let extract = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
                   2026-01-05,Z00011,Arden,U10001,Coventry,6000,0\n\
                   2026-01-05,Z00012,Mill,U10001,Coventry,6000,2\n";
    commands.import_dashboard(&icb().actor, extract, now()).await.unwrap();
    let (row, _) = event(&db, "practice-Z00011", "SlotsObserved").await;
    let (_, flag_cause) = event(&db, "case-%", "PracticeFlagged").await;
    assert_eq!(flag_cause, Some(row), "the flag names the row");

    // A report on a practice with no case, opened as a case by the ICB.
    let dhu = CommandContext::new(actor(Role::Dhu, "dhu-liaison-1"));
    let mill = OdsCode::parse("Z00012").unwrap();
    let Reported::Filed(filed) = commands
        .report_visibility(&dhu, &mill, RootCause::SlotTypeNotExternal, None, now())
        .await
        .unwrap()
    else {
        panic!("filed for triage");
    };
    let (report_event, _) = event(&db, "practice-Z00012", "DhuReportFiled").await;
    let opened = commands
        .open_case_from_report(&icb(), &mill, filed.report_id, now())
        .await
        .unwrap();
    let cause: Option<String> = sqlx::query_scalar(
        "select metadata->>'causation_id' from events where stream_id = $1 and event_type = 'PracticeFlagged'",
    )
    .bind(format!("case-{}", opened.case_id))
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(cause, Some(report_event.to_string()), "the case names the report");
}

#[tokio::test]
async fn a_dhu_report_on_a_code_nothing_knows_is_refused_naming_it() {
    let (commands, db) = commands().await;
    let dhu = CommandContext::new(actor(Role::Dhu, "dhu-liaison-1"));
    let unknown = OdsCode::parse("Y99999").unwrap();
    let err = commands
        .report_visibility(&dhu, &unknown, RootCause::Other, None, now())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommandError::NoSuchPractice { ods_code } if ods_code == "Y99999"),
        "{err:?}"
    );
    assert!(err.to_string().contains("Y99999"));
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(events, 0, "nothing recorded");
    // A practice the register knows is reported on, with or without a dashboard row.
    commands
        .import_register(
            &icb().actor,
            "ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site\n\
             Y99999,Known,U10001,PCN,Coventry,6000,Known\n",
            now(),
        )
        .await
        .unwrap();
    assert!(
        commands
            .report_visibility(&dhu, &unknown, RootCause::Other, None, now())
            .await
            .is_ok()
    );
}
