//! Soft delete, tombstone, `max_count` and `max_age`.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_eventstore::{Direction, ExpectedRevision, ReadFrom, StoreError, StreamMetadata};
use common::{events, store, stream};

#[tokio::test]
async fn a_soft_deleted_stream_reads_as_absent_and_a_later_append_continues_its_revisions() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    store.delete_stream(&s, ExpectedRevision::Exact(2)).await.unwrap();
    let err = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::StreamNotFound { .. }), "{err:?}");

    let result = store.append(&s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    assert_eq!(result.revision, 4, "revisions continue after the last one");
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(
        read.iter().map(|e| e.revision).collect::<Vec<_>>(),
        vec![3, 4],
        "only the new events"
    );
}

#[tokio::test]
async fn deleting_with_a_stale_revision_is_a_wrong_expected_version() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    let err = store.delete_stream(&s, ExpectedRevision::Exact(1)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { actual: Some(2), .. }),
        "{err:?}"
    );
    assert_eq!(
        store
            .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn a_tombstoned_stream_refuses_every_later_append_and_read() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    store.tombstone_stream(&s, ExpectedRevision::Any).await.unwrap();
    for expected in [
        ExpectedRevision::Any,
        ExpectedRevision::NoStream,
        ExpectedRevision::Exact(1),
    ] {
        let err = store.append(&s, expected, &events(1)).await.unwrap_err();
        assert!(matches!(err, StoreError::StreamDeleted { .. }), "{expected:?}: {err:?}");
    }
    let err = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::StreamDeleted { .. }), "{err:?}");
}

#[tokio::test]
async fn max_count_limits_reads_to_the_latest_events() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(5)).await.unwrap();
    let metadata = StreamMetadata {
        max_count: Some(2),
        ..StreamMetadata::default()
    };
    store.set_stream_metadata(&s, &metadata).await.unwrap();
    assert_eq!(store.stream_metadata(&s).await.unwrap().max_count, Some(2));
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![3, 4]);
    let backwards = store
        .read_stream(&s, Direction::Backwards, ReadFrom::End, 10)
        .await
        .unwrap();
    assert_eq!(backwards.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![4, 3]);
}

#[tokio::test]
async fn max_age_hides_events_recorded_too_long_ago() {
    let (store, db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    // Age the first two events instead of waiting for them to age.
    sqlx::query("update events set recorded_at = now() - interval '2 hours' where stream_id = $1 and revision < 2")
        .bind(&s)
        .execute(&db.pool)
        .await
        .unwrap();
    let metadata = StreamMetadata {
        max_age: Some(Duration::from_secs(3600)),
        ..StreamMetadata::default()
    };
    store.set_stream_metadata(&s, &metadata).await.unwrap();
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![2]);
}
