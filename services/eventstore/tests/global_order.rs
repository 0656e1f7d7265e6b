//! Gap-free global order: readers of `$all` never pass a transaction still in flight, and a live
//! subscriber sees every committed event exactly once whatever order transactions commit in.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseledger_eventstore::{ExpectedRevision, Filter, Position, RecordedEvent, append_with};
use common::{events, store, stream};
use proptest::prelude::*;

#[tokio::test]
async fn a_reader_of_all_does_not_pass_an_open_transaction_and_then_delivers_both_in_order() {
    let (store, db) = store().await;
    let (early, late) = (stream(), stream());
    let mut open = db.pool.begin().await.unwrap();
    append_with(&mut open, &early, ExpectedRevision::NoStream, &events(1))
        .await
        .unwrap();
    store
        .append(&late, ExpectedRevision::NoStream, &events(1))
        .await
        .unwrap();

    assert!(
        store.read_all(Position::START, 100).await.unwrap().is_empty(),
        "the later commit must wait"
    );
    assert!(
        store
            .read_category("case", Position::START, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let mut subscription = store.subscribe(Filter::All, Position::START).await.unwrap();
    assert!(subscription.poll().await.unwrap().is_none());

    open.commit().await.unwrap();
    // Read until both arrive: a wake-up notification in flight may briefly hold the later one back.
    let mut all = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while all.len() < 2 && tokio::time::Instant::now() < deadline {
        all = store.read_all(Position::START, 100).await.unwrap();
    }
    assert_eq!(
        all.iter().map(|e| e.stream_id.as_str()).collect::<Vec<_>>(),
        vec![early.as_str(), late.as_str()]
    );
    assert!(all[0].position < all[1].position);
    let delivered = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.len(), 2);
}

#[tokio::test]
async fn a_live_subscriber_is_woken_by_a_later_append() {
    let (store, _db) = store().await;
    let mut subscription = store
        .subscribe(Filter::Category("case".into()), Position::START)
        .await
        .unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            store
                .append("practice-Z00011", ExpectedRevision::Any, &events(1))
                .await
                .unwrap();
            store
                .append(&stream(), ExpectedRevision::Any, &events(2))
                .await
                .unwrap();
        })
    };
    let batch = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch())
        .await
        .unwrap()
        .unwrap();
    writer.await.unwrap();
    assert!(
        batch.iter().all(|e| e.stream_id.starts_with("case-")),
        "only the category's events"
    );
    assert!(!batch.is_empty());
}

#[derive(Debug, Clone)]
struct Writer {
    stream: usize,
    batch: usize,
    start_after_ms: u64,
    hold_open_ms: u64,
    rolls_back: bool,
}

fn writer() -> impl Strategy<Value = Writer> {
    (0..4usize, 1..4usize, 0..40u64, 0..40u64, proptest::bool::weighted(0.2)).prop_map(
        |(stream, batch, start_after_ms, hold_open_ms, rolls_back)| Writer {
            stream,
            batch,
            start_after_ms,
            hold_open_ms,
            rolls_back,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_live_subscriber_receives_every_committed_event_once_and_each_stream_in_order(
        writers in proptest::collection::vec(writer(), 4..24)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
        runtime.block_on(check_delivery(writers));
    }
}

async fn check_delivery(writers: Vec<Writer>) {
    let (store, db) = store().await;
    let streams: Vec<String> = (0..4).map(|_| stream()).collect();
    let delivered: Arc<Mutex<Vec<RecordedEvent>>> = Arc::default();
    let mut subscription = store
        .subscribe(Filter::All, Position::START)
        .await
        .unwrap()
        .with_page_size(7)
        .with_poll_interval(Duration::from_millis(200));
    let collector = {
        let delivered = delivered.clone();
        tokio::spawn(async move {
            loop {
                let batch = subscription.next_batch().await.unwrap();
                delivered.lock().unwrap().extend(batch);
            }
        })
    };

    let tasks: Vec<_> = writers
        .into_iter()
        .map(|w| {
            let (store, pool, stream) = (store.clone(), db.pool.clone(), streams[w.stream].clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(w.start_after_ms)).await;
                let batch = events(w.batch);
                let mut tx = pool.begin().await.unwrap();
                append_with(&mut tx, &stream, ExpectedRevision::Any, &batch)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(w.hold_open_ms)).await;
                if w.rolls_back {
                    tx.rollback().await.unwrap();
                    Vec::new()
                } else {
                    tx.commit().await.unwrap();
                    store.wake_subscribers();
                    batch.into_iter().map(|e| e.event_id).collect()
                }
            })
        })
        .collect();
    let mut committed = HashSet::new();
    for task in tasks {
        committed.extend(task.await.unwrap());
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while delivered.lock().unwrap().len() < committed.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A little longer, so a duplicate or a rolled-back event would have time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    collector.abort();

    let delivered = delivered.lock().unwrap().clone();
    let ids: Vec<_> = delivered.iter().map(|e| e.event_id).collect();
    let unique: HashSet<_> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no event delivered twice");
    assert_eq!(unique, committed, "exactly the committed events");
    assert!(
        delivered.windows(2).all(|w| w[0].position < w[1].position),
        "global order"
    );
    let mut last_revision: HashMap<&str, u64> = HashMap::new();
    for event in &delivered {
        if let Some(previous) = last_revision.insert(&event.stream_id, event.revision) {
            assert!(
                event.revision > previous,
                "stream {} out of order: {:?}",
                event.stream_id,
                delivered
                    .iter()
                    .filter(|e| e.stream_id == event.stream_id)
                    .map(|e| (e.revision, e.position))
                    .collect::<Vec<_>>()
            );
        }
    }
}
