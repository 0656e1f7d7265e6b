//! The case study, replayed from the project's copy of it: 119 practices, 28 cases, all 28
//! compliant by week 8, and the week-by-week count of non-compliant practices.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use caseledger_cases::case::{CaseEvent, decode_event};
use caseledger_cases::{CaseStatus, Role};
use caseledger_eventstore::Position;
use common::*;

fn case_study() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/case-study")
}

#[tokio::test]
async fn the_case_study_replays_to_every_case_compliant() {
    let (commands, _db) = commands().await;
    let report = commands
        .replay_dir(&case_study(), &actor(Role::Icb, "icb-assurance-1"), now())
        .await
        .unwrap();
    assert_eq!(report.registered, 119, "the register first");
    assert_eq!(report.imports, 9);
    assert_eq!(report.commands, 235);
    assert_eq!(report.flagged, 28);

    let store = commands.store();
    let practice_events = store.read_category("practice", Position::START, 10_000).await.unwrap();
    let practices: HashSet<&str> = practice_events.iter().map(|e| e.stream_id.as_str()).collect();
    assert_eq!(practices.len(), 119, "every practice observed");

    let mut non_compliant_by_week: BTreeMap<chrono::NaiveDate, usize> = BTreeMap::new();
    let mut registered = 0;
    for event in &practice_events {
        match decode_event(&event.event_type, event.data.get()).unwrap() {
            CaseEvent::SlotsObserved(observed) => {
                *non_compliant_by_week.entry(observed.report_date).or_default() += usize::from(!observed.compliant());
            }
            CaseEvent::PracticeRegistered(_) => registered += 1,
            _ => panic!("{}", event.event_type),
        }
    }
    assert_eq!(registered, 119);
    assert_eq!(
        non_compliant_by_week.values().copied().collect::<Vec<_>>(),
        vec![28, 25, 21, 16, 11, 7, 4, 1, 0]
    );

    let case_events = store.read_category("case", Position::START, 10_000).await.unwrap();
    let case_ids: HashSet<uuid::Uuid> = case_events
        .iter()
        .filter_map(|e| e.stream_id.strip_prefix("case-").and_then(|id| id.parse().ok()))
        .collect();
    assert_eq!(case_ids.len(), 28, "28 cases opened");
    let mut statuses = Vec::new();
    for id in case_ids {
        let (case, _) = caseledger_commands::load_case(store, id).await.unwrap();
        statuses.push(case.status);
    }
    assert!(
        statuses.iter().all(|s| *s == Some(CaseStatus::Compliant)),
        "all compliant, none open: {statuses:?}"
    );
    let open: i64 = sqlx::query_scalar("select count(*) from practice_cases where state = 'open'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(open, 0);

    // Replaying the extracts again changes nothing.
    let again = commands
        .import_dashboard(
            &actor(Role::Icb, "icb-assurance-1"),
            &std::fs::read_to_string(case_study().join("dashboard-week-03.csv")).unwrap(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!((again.observed, again.flagged, again.reopened), (0, 0, 0));
}
