//! Queries read the views from a PostgreSQL streaming replica, and a writer still reads its own
//! writes: a mutation waits (a bounded while) for the replica to replay it, and reads come from
//! the primary until the replica has. A real standby: `pg_basebackup` of the test's own primary.
//!
//! One test in this binary pauses the standby's replay, so only one test here uses the standby.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_api::graphql::{AppState, build_schema};
use caseledger_cases::Role;
use caseledger_projections::Reads;
use common::{Service, as_actor};
use serde_json::{Value, json};

const FLAG: &str = "mutation { flagPractice(input: { odsCode: \"Z00031\", practiceName: \"Mill Surgery\", \
                    pcnCode: \"U10001\", place: \"Coventry\", listSize: 6000, visibleSlots: 0 }) { case { id } } }";
const NOTE: &str = "mutation($id: ID!) { addNote(input: { caseId: $id, text: \"rang the manager\" }) { revision } }";
const REVISION: &str = "query($id: ID!) { case(id: $id) { revision } }";

async fn ok(schema: &caseledger_api::graphql::AppSchema, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(as_actor(Role::Icb, "icb-assurance-1"));
    let response = serde_json::to_value(schema.execute(request).await).unwrap();
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

async fn revision(service: &Service, id: &str) -> i64 {
    ok(&service.schema, REVISION, json!({ "id": id })).await["case"]["revision"]
        .as_i64()
        .unwrap()
}

/// Whether the pool queries read from now is the standby.
async fn reads_the_replica(reads: &Reads) -> bool {
    sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(reads.pool())
        .await
        .unwrap()
}

async fn replay(replica: &sqlx::PgPool, paused: bool) {
    let call = if paused {
        "pg_wal_replay_pause"
    } else {
        "pg_wal_replay_resume"
    };
    sqlx::query(&format!("select {call}()")).execute(replica).await.unwrap();
    let wanted = if paused { "paused" } else { "not paused" };
    for _ in 0..1_000 {
        let state: String = sqlx::query_scalar("select pg_get_wal_replay_pause_state()")
            .fetch_one(replica)
            .await
            .unwrap();
        if state == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the standby's replay never became {wanted}");
}

#[tokio::test]
async fn queries_read_the_replica_and_a_writer_reads_its_own_writes() {
    let mut reads = None;
    let service = Service::start_replicated(|mut state| {
        reads = Some(state.reads.clone());
        state.read_your_writes = Duration::from_secs(2);
        state
    })
    .await;
    let reads = reads.unwrap();
    let replica = service.replica.clone().unwrap();
    // Another instance on the same primary, reading from it alone.
    let other = build_schema(AppState::new(service.store.clone()));

    // A write waits for the replica, so the reads after it come from the replica and see it.
    let flagged = ok(&service.schema, FLAG, json!({})).await;
    let id = flagged["flagPractice"]["case"]["id"].as_str().unwrap().to_string();
    assert!(
        reads_the_replica(&reads).await,
        "the replica replayed the write in time"
    );
    let opened = revision(&service, &id).await;

    // Queries are served by the replica: with its replay paused, another instance's note is
    // not seen here, though the primary's views have it.
    replay(&replica, true).await;
    ok(&other, NOTE, json!({ "id": id })).await;
    assert!(
        caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert_eq!(revision(&service, &id).await, opened, "read from the paused replica");

    // This instance's own write: the replica cannot catch up, so after the bounded wait the
    // answer and the reads after it come from the primary.
    let answered = ok(&service.schema, NOTE, json!({ "id": id })).await;
    assert_eq!(answered["addNote"]["revision"], opened + 2);
    assert!(!reads_the_replica(&reads).await, "reads fall back to the primary");
    assert_eq!(
        revision(&service, &id).await,
        opened + 2,
        "the writer reads its own write"
    );

    // Once the replica has replayed it, reads go back to the replica.
    replay(&replica, false).await;
    let mut back = false;
    for _ in 0..3_000 {
        if reads_the_replica(&reads).await {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(back, "reads return to the replica once it has caught up");
    assert_eq!(revision(&service, &id).await, opened + 2);
    service.stop().await;
}

#[tokio::test]
async fn a_replica_that_does_not_answer_is_not_read_from() {
    let db = caseledger_testsupport::fresh_db().await;
    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(200))
        .connect_lazy_with(
            sqlx::postgres::PgConnectOptions::new()
                .socket("/nonexistent-caseledger-replica")
                .username("postgres"),
        );
    let reads = Reads::with_replica(db.pool.clone(), nowhere);
    assert!(!reads_the_replica(&reads).await);
    let caught_up = reads.after_write(Duration::from_millis(300)).await.unwrap();
    assert!(!caught_up, "a replica that does not answer never catches up");
    let in_recovery: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(reads.pool())
        .await
        .unwrap();
    assert!(!in_recovery, "queries still read, from the primary");
}
