//! Command handling against a real PostgreSQL: optimistic concurrency, idempotency by command
//! id, metadata, one open case per practice, and contract review in its own stream.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::case::case_stream;
use caseledger_cases::values::FreeText;
use caseledger_cases::{Action, CaseError, CaseStatus};
use caseledger_commands::CommandError;
use caseledger_eventstore::{Direction, ReadFrom};
use common::*;
use uuid::Uuid;

#[tokio::test]
async fn a_command_is_appended_with_its_actor_time_and_correlation() {
    let (commands, _db) = commands().await;
    let mut context = icb().at(now() - chrono::Duration::days(3)).with_command_id("flag-1");
    let correlation = Uuid::now_v7();
    let causation = Uuid::now_v7();
    context.correlation_id = Some(correlation);
    context.causation_id = Some(causation);
    let outcome = commands.flag_practice(&context, flag("Z00012"), now()).await.unwrap();
    assert_eq!((outcome.revision, outcome.case.status), (0, Some(CaseStatus::Flagged)));
    assert_eq!(outcome.case.required_slots, 2);

    let events = commands
        .store()
        .read_stream(&case_stream(outcome.case_id), Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    let metadata = &events[0].metadata;
    assert_eq!(metadata.correlation_id, Some(correlation));
    assert_eq!(metadata.causation_id, Some(causation));
    assert_eq!(metadata.custom["actor_id"], "icb-assurance-1");
    assert_eq!(metadata.custom["actor_role"], "icb");
    assert_eq!(metadata.custom["command_id"], "flag-1");
    assert_eq!(metadata.custom["occurred_at"], "2026-03-28T12:00:00.000Z");
    assert_eq!(events[0].data_as::<serde_json::Value>().unwrap()["schema_version"], 2);
}

#[tokio::test]
async fn concurrent_commands_without_an_expected_revision_both_land() {
    let (commands, _db) = commands().await;
    let case = commands.flag_practice(&icb(), flag("Z00012"), now()).await.unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let commands = commands.clone();
            tokio::spawn(async move {
                commands
                    .execute(case.case_id, &icb(), note(&format!("note {i}")), now())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let (state, history) = caseledger_commands::load_case(commands.store(), case.case_id)
        .await
        .unwrap();
    assert_eq!(history.len(), 7, "the flag and six notes, none lost");
    assert_eq!(state.revision(), Some(6));
}

#[tokio::test]
async fn a_stale_expected_revision_is_a_conflict_with_both_revisions() {
    let (commands, _db) = commands().await;
    let case = commands.flag_practice(&icb(), flag("Z00012"), now()).await.unwrap();
    commands
        .execute(case.case_id, &icb().expecting(0), note("first"), now())
        .await
        .unwrap();
    let err = commands
        .execute(case.case_id, &icb().expecting(0), note("second"), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::Conflict {
                expected: Some(0),
                actual: Some(1)
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_repeated_command_id_writes_nothing_and_returns_the_first_result() {
    let (commands, _db) = commands().await;
    let case = commands.flag_practice(&icb(), flag("Z00012"), now()).await.unwrap();
    let id = case.case_id;
    let close = || Action::CloseCase {
        reason: caseledger_cases::case::CloseReason::Withdrawn,
    };
    let first = commands
        .execute(id, &icb().with_command_id("c-1"), close(), now())
        .await
        .unwrap();
    commands.execute(id, &icb(), note("later"), now()).await.unwrap();
    // Deciding again would now be refused (the case is CLOSED): the repeat returns the first result.
    let repeat = commands
        .execute(id, &icb().with_command_id("c-1"), close(), now())
        .await
        .unwrap();
    assert!(repeat.duplicate);
    assert_eq!(repeat.revision, first.revision);
    let (_, history) = caseledger_commands::load_case(commands.store(), id).await.unwrap();
    assert_eq!(history.len(), 3);

    let flag_again = commands
        .flag_practice(&icb().with_command_id("flag-x"), flag("Z00013"), now())
        .await
        .unwrap();
    let repeat = commands
        .flag_practice(&icb().with_command_id("flag-x"), flag("Z00013"), now())
        .await
        .unwrap();
    assert_eq!(repeat.case_id, flag_again.case_id, "the same case, not a second one");
    assert!(repeat.duplicate);
}

#[tokio::test]
async fn two_concurrent_flags_of_one_practice_make_one_case() {
    let (commands, db) = commands().await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let commands = commands.clone();
            tokio::spawn(async move { commands.flag_practice(&icb(), flag("Z00012"), now()).await })
        })
        .collect();
    let mut opened = Vec::new();
    let mut refused_for = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => opened.push(outcome.case_id),
            Err(CommandError::PracticeHasOpenCase { case_id, .. }) => refused_for.push(case_id),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((opened.len(), refused_for.len()), (1, 3));
    assert!(
        refused_for.iter().all(|id| *id == opened[0]),
        "each refusal names the open case"
    );
    let streams: i64 = sqlx::query_scalar("select count(distinct stream_id) from events where stream_id like 'case-%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(streams, 1, "the losers' first events were rolled back");

    // Once that case is closed, the practice may be flagged again.
    let close = Action::CloseCase {
        reason: caseledger_cases::case::CloseReason::Withdrawn,
    };
    commands.execute(opened[0], &icb(), close, now()).await.unwrap();
    assert!(commands.flag_practice(&icb(), flag("Z00012"), now()).await.is_ok());
}

#[tokio::test]
async fn escalation_goes_to_the_contract_stream_and_leaves_the_case_as_it_was() {
    let (commands, _db) = commands().await;
    let case = commands.flag_practice(&icb(), flag("Z00012"), now()).await.unwrap();
    let escalate = Action::EscalateToContractReview {
        reason: FreeText::parse("no engagement").unwrap(),
    };
    let outcome = commands.execute(case.case_id, &icb(), escalate, now()).await.unwrap();
    assert_eq!(outcome.revision, 0, "the case stream did not move");
    let contract = commands
        .store()
        .read_stream(
            &format!("contract-{}", case.case_id),
            Direction::Forwards,
            ReadFrom::Start,
            10,
        )
        .await
        .unwrap();
    assert_eq!(contract[0].event_type, "EscalatedToContractReview");
}

#[tokio::test]
async fn refusals_come_back_typed_and_write_nothing() {
    let (commands, _db) = commands().await;
    let case = commands.flag_practice(&icb(), flag("Z00012"), now()).await.unwrap();
    let future = icb().at(now() + chrono::Duration::hours(1));
    let err = commands
        .execute(case.case_id, &future, note("from the future"), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Rejected(CaseError::OccurredInFuture { .. })),
        "{err:?}"
    );
    let err = commands
        .execute(case.case_id, &icb(), contact(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Rejected(CaseError::Forbidden { .. })),
        "{err:?}"
    );
    let err = commands
        .execute(Uuid::now_v7(), &champion("dc-amira"), contact(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Rejected(CaseError::CaseNotFound)),
        "{err:?}"
    );
    let (_, history) = caseledger_commands::load_case(commands.store(), case.case_id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
}
