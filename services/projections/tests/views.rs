//! The read models after the case study, and the lens over a case's history for each role.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::path::PathBuf;
use std::time::Duration;

use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::{Direction, EventStore, ReadFrom};
use caseledger_projections::lens::lens;
use caseledger_projections::{Projections, wait_for_projections};

fn case_study() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/case-study")
}

async fn replayed() -> (EventStore, caseledger_testsupport::TestDb) {
    let db = caseledger_testsupport::fresh_db().await;
    let store = EventStore::new(db.pool.clone());
    let importer = Actor::new(ShortText::parse("icb-assurance-1").unwrap(), Role::Icb);
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-31T00:00:00Z")
        .unwrap()
        .to_utc();
    Commands::new(store.clone())
        .replay_dir(&case_study(), &importer, now)
        .await
        .unwrap();
    (store, db)
}

#[tokio::test]
async fn the_views_hold_every_case_and_practice_of_the_case_study() {
    let (store, db) = replayed().await;
    let projections = Projections::start(&store);
    assert!(
        wait_for_projections(&store, Duration::from_secs(30)).await.unwrap(),
        "caught up"
    );
    projections.stop().await;

    let statuses: Vec<(String, i64)> = sqlx::query_as("select status, count(*) from case_view group by status")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(statuses, vec![("COMPLIANT".to_string(), 28)]);
    let (practices, non_compliant): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where not compliant) from practice_view")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((practices, non_compliant), (119, 0));
    let assigned: i64 = sqlx::query_scalar("select count(*) from case_view where assigned_to like 'dc-%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(assigned, 28);
    let with_causes: i64 = sqlx::query_scalar("select count(*) from case_view where cardinality(root_causes) > 0")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(with_causes > 0);
}

#[tokio::test]
async fn each_role_sees_a_case_history_through_its_lens() {
    let (store, db) = replayed().await;
    let case_id: uuid::Uuid = sqlx::query_scalar("select case_id from practice_cases where ods_code = 'Z00124'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let history = store
        .read_stream(&format!("case-{case_id}"), Direction::Forwards, ReadFrom::Start, 100)
        .await
        .unwrap();
    let seen = |role| history.iter().filter_map(|e| lens(role, e)).collect::<Vec<_>>();

    let champion = seen(Role::Champion);
    let contact = champion.iter().find(|e| e.event_type == "PracticeContacted").unwrap();
    assert_eq!(contact.data["contact_name"], "Practice Manager 1");
    assert!(contact.data.get("summary").is_some());
    assert_eq!(contact.actor_id.as_deref(), Some("dc-amira"));

    let icb = seen(Role::Icb);
    let contact = icb.iter().find(|e| e.event_type == "PracticeContacted").unwrap();
    assert!(
        contact.data.get("contact_name").is_none(),
        "the ICB never sees contact names"
    );
    assert!(contact.data.get("summary").is_some());

    let lmc = seen(Role::Lmc);
    let contact = lmc.iter().find(|e| e.event_type == "PracticeContacted").unwrap();
    assert!(contact.data.get("contact_name").is_none() && contact.data.get("summary").is_none());
    assert_eq!(contact.actor_id, None, "the LMC does not see which champion");
    assert!(lmc.iter().all(|e| e.event_type != "NoteAdded"));
    let assigned = lmc.iter().find(|e| e.event_type == "CaseAssigned").unwrap();
    assert!(assigned.data.get("champion_id").is_none());

    let dhu = seen(Role::Dhu);
    let types: std::collections::BTreeSet<&str> = dhu.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        types.iter().all(|t| {
            [
                "PracticeFlagged",
                "SlotsRemapped",
                "GpConnectReEnabled",
                "DhuVisibilityConfirmed",
                "ComplianceConfirmed",
            ]
            .contains(t)
        }),
        "{types:?}"
    );
    assert!(
        dhu.iter()
            .all(|e| e.actor_role != Role::Champion || e.actor_id.is_none())
    );
}

async fn rows(pool: &sqlx::PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(&format!("select to_jsonb(t)::text from {table} t order by 1"))
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Every row of every projection's tables (but the figures' changes, numbered by commit).
async fn every_view(pool: &sqlx::PgPool) -> Vec<(&'static str, Vec<String>)> {
    let mut views = Vec::new();
    for projection in caseledger_projections::Projection::all() {
        for table in projection.tables() {
            if *table != "figures_changes" {
                views.push((*table, rows(pool, table).await));
            }
        }
    }
    views
}

#[tokio::test]
async fn a_rebuild_from_zero_gives_identical_rows_while_the_runners_keep_going() {
    let (store, db) = replayed().await;
    let projections = Projections::start(&store);
    assert!(wait_for_projections(&store, Duration::from_secs(30)).await.unwrap());
    let before = every_view(&db.pool).await;
    assert_eq!(rows(&db.pool, "case_view").await.len(), 28);

    let in_log: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    for name in caseledger_projections::NAMES {
        let rebuilt = caseledger_projections::rebuild(&store, name).await.unwrap();
        assert_eq!(rebuilt.events, in_log as u64, "every event replayed: {rebuilt:?}");
    }
    // Again in pages of 97 events: the log's reading ahead crosses many pages, and their edges
    // fall inside cases' histories and the projections' batches.
    for name in caseledger_projections::NAMES {
        let rebuilt = caseledger_projections::rebuild_in_pages(&store, name, 97)
            .await
            .unwrap();
        assert_eq!(rebuilt.events, in_log as u64, "every event replayed: {rebuilt:?}");
    }
    assert!(in_log > 97 * 5, "several pages: {in_log} events");
    // The runners were handed whole batches; the rebuild only the events each projection reads.
    let after = every_view(&db.pool).await;
    for ((table, before), (_, after)) in before.iter().zip(&after) {
        assert_eq!(before, after, "identical rows in {table}");
    }

    // The live runners carry on from the rebuilt tables' checkpoints.
    let commands = Commands::new(store.clone());
    let case_id: uuid::Uuid = sqlx::query_scalar("select case_id from case_view limit 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let icb =
        caseledger_commands::CommandContext::new(Actor::new(ShortText::parse("icb-assurance-1").unwrap(), Role::Icb));
    let close = caseledger_cases::Action::CloseCase {
        reason: caseledger_cases::case::CloseReason::Compliant,
    };
    commands
        .execute(case_id, &icb, close, caseledger_testsupport::now())
        .await
        .unwrap();
    assert!(wait_for_projections(&store, Duration::from_secs(30)).await.unwrap());
    let status: String = sqlx::query_scalar("select status from case_view where case_id = $1")
        .bind(case_id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "CLOSED");
    projections.stop().await;
    assert!(matches!(
        caseledger_projections::rebuild(&store, "nonsense").await,
        Err(caseledger_projections::RebuildError::Unknown(_))
    ));
}
