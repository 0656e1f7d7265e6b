//! Reads: a stream forwards and backwards, `$all` and a category in pages.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_eventstore::{Direction, ExpectedRevision, Position, ReadFrom, StoreError};
use common::{events, store, stream};

#[tokio::test]
async fn a_stream_reads_forwards_and_backwards_from_a_revision_with_a_limit() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(10)).await.unwrap();
    let revisions =
        |events: Vec<caseledger_eventstore::RecordedEvent>| events.iter().map(|e| e.revision).collect::<Vec<_>>();
    let forwards = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Revision(3), 4)
        .await
        .unwrap();
    assert_eq!(revisions(forwards), vec![3, 4, 5, 6]);
    let backwards = store
        .read_stream(&s, Direction::Backwards, ReadFrom::Revision(3), 10)
        .await
        .unwrap();
    assert_eq!(revisions(backwards), vec![3, 2, 1, 0]);
    let last_two = store
        .read_stream(&s, Direction::Backwards, ReadFrom::End, 2)
        .await
        .unwrap();
    assert_eq!(revisions(last_two), vec![9, 8]);
    assert!(
        store
            .read_stream(&s, Direction::Forwards, ReadFrom::End, 2)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn reading_a_stream_that_never_existed_is_not_found() {
    let (store, _db) = store().await;
    let err = store
        .read_stream(&stream(), Direction::Forwards, ReadFrom::Start, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::StreamNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn all_and_a_category_read_in_pages_in_global_order() {
    let (store, _db) = store().await;
    let (a, b) = (stream(), stream());
    let practice = "practice-Z00011".to_string();
    store.append(&a, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    store
        .append(&practice, ExpectedRevision::NoStream, &events(2))
        .await
        .unwrap();
    store.append(&b, ExpectedRevision::NoStream, &events(3)).await.unwrap();

    let mut seen = Vec::new();
    let mut position = Position::START;
    // An empty page can also mean "held back behind a transaction in flight" (the wake-up
    // notifications are transactions too), so read until everything has arrived.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 8 && tokio::time::Instant::now() < deadline {
        let page = store.read_all(position, 3).await.unwrap();
        assert!(page.len() <= 3);
        match page.last() {
            Some(last) => position = last.position,
            None => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
        seen.extend(page);
    }
    assert_eq!(seen.len(), 8);
    assert!(
        seen.windows(2).all(|w| w[0].position < w[1].position),
        "strictly increasing global order"
    );
    let streams: Vec<&str> = seen.iter().map(|e| e.stream_id.as_str()).collect();
    assert_eq!(
        streams,
        [&a, &a, &a, &practice, &practice, &b, &b, &b].map(String::as_str)
    );

    let cases = store.read_category("case", Position::START, 100).await.unwrap();
    // All eight were readable above, so nothing of these is held back any more.
    assert_eq!(cases.len(), 6);
    assert!(cases.iter().all(|e| e.stream_id.starts_with("case-")));
    let after_first = store.read_category("case", cases[2].position, 100).await.unwrap();
    assert_eq!(
        after_first.iter().map(|e| &e.stream_id).collect::<Vec<_>>(),
        vec![&b, &b, &b]
    );
}

#[tokio::test]
async fn many_streams_read_in_one_call_each_in_revision_order_honouring_deletes() {
    let (store, _db) = store().await;
    let (a, b, deleted, absent) = (stream(), stream(), stream(), stream());
    store.append(&a, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    store.append(&b, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    store.append(&a, ExpectedRevision::Exact(2), &events(1)).await.unwrap();
    store
        .append(&deleted, ExpectedRevision::NoStream, &events(2))
        .await
        .unwrap();
    store.delete_stream(&deleted, ExpectedRevision::Any).await.unwrap();

    let read = store
        .read_streams(&[a.clone(), b.clone(), deleted.clone(), absent])
        .await
        .unwrap();
    let of = |name: &str| {
        read.iter()
            .filter(|e| e.stream_id == name)
            .map(|e| e.revision)
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&a), vec![0, 1, 2, 3]);
    assert_eq!(of(&b), vec![0, 1]);
    assert!(of(&deleted).is_empty(), "a soft-deleted stream reads as absent");
    assert_eq!(read.len(), 6);
}
