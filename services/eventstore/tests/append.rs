//! Appends: every expected-revision mode, idempotent retries, id conflicts, concurrent writers.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_eventstore::{Direction, EventMetadata, ExpectedRevision, NewEvent, ReadFrom, StoreError};
use common::{event, events, store, stream};
use uuid::Uuid;

#[tokio::test]
async fn no_stream_on_a_new_stream_writes_revisions_from_zero() {
    let (store, _db) = store().await;
    let s = stream();
    let result = store.append(&s, ExpectedRevision::NoStream, &events(3)).await.unwrap();
    assert_eq!(result.revision, 2);
    assert_eq!(result.positions.len(), 3);
    assert!(!result.duplicate);
    assert!(
        result.positions.windows(2).all(|w| w[0] < w[1]),
        "positions follow the events' order"
    );
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(read.iter().map(|e| e.position).collect::<Vec<_>>(), result.positions);
}

#[tokio::test]
async fn no_stream_on_an_existing_stream_is_a_wrong_expected_version() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    let err = store
        .append(&s, ExpectedRevision::NoStream, &events(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongExpectedVersion {
                expected: ExpectedRevision::NoStream,
                actual: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn stream_exists_needs_an_existing_stream() {
    let (store, _db) = store().await;
    let s = stream();
    let err = store
        .append(&s, ExpectedRevision::StreamExists, &events(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { actual: None, .. }),
        "{err:?}"
    );
    store.append(&s, ExpectedRevision::NoStream, &events(1)).await.unwrap();
    let result = store
        .append(&s, ExpectedRevision::StreamExists, &events(1))
        .await
        .unwrap();
    assert_eq!(result.revision, 1);
}

#[tokio::test]
async fn exact_appends_when_it_matches_and_reports_the_actual_revision_when_stale() {
    let (store, _db) = store().await;
    let s = stream();
    let err = store
        .append(&s, ExpectedRevision::Exact(0), &events(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { actual: None, .. }),
        "{err:?}"
    );
    store.append(&s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    let result = store.append(&s, ExpectedRevision::Exact(1), &events(1)).await.unwrap();
    assert_eq!(result.revision, 2);
    let err = store
        .append(&s, ExpectedRevision::Exact(1), &events(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongExpectedVersion {
                expected: ExpectedRevision::Exact(1),
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn any_appends_to_new_and_existing_streams() {
    let (store, _db) = store().await;
    let s = stream();
    assert_eq!(
        store
            .append(&s, ExpectedRevision::Any, &events(1))
            .await
            .unwrap()
            .revision,
        0
    );
    assert_eq!(
        store
            .append(&s, ExpectedRevision::Any, &events(2))
            .await
            .unwrap()
            .revision,
        2
    );
}

#[tokio::test]
async fn a_retry_of_the_same_events_returns_the_first_result_in_every_mode() {
    let (store, _db) = store().await;
    for mode in ["any", "no_stream", "stream_exists", "exact"] {
        let s = stream();
        let expected = match mode {
            "any" => ExpectedRevision::Any,
            "no_stream" => ExpectedRevision::NoStream,
            "stream_exists" => {
                store.append(&s, ExpectedRevision::NoStream, &events(1)).await.unwrap();
                ExpectedRevision::StreamExists
            }
            _ => {
                store.append(&s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
                ExpectedRevision::Exact(1)
            }
        };
        let batch = events(3);
        let first = store.append(&s, expected, &batch).await.unwrap();
        let retry = store.append(&s, expected, &batch).await.unwrap();
        assert!(retry.duplicate, "{mode}: the retry is recognised");
        assert_eq!(
            (retry.revision, &retry.positions),
            (first.revision, &first.positions),
            "{mode}"
        );
        let all = store
            .read_stream(&s, Direction::Forwards, ReadFrom::Start, 100)
            .await
            .unwrap();
        assert_eq!(
            all.len() as u64,
            first.revision + 1,
            "{mode}: nothing was written twice"
        );
    }
}

#[tokio::test]
async fn the_same_event_id_with_other_content_is_rejected() {
    let (store, _db) = store().await;
    let s = stream();
    let original = event("NoteAdded", serde_json::json!({ "text": "first" }));
    store
        .append(&s, ExpectedRevision::Any, std::slice::from_ref(&original))
        .await
        .unwrap();
    let altered = NewEvent::new(
        original.event_id,
        "NoteAdded",
        &serde_json::json!({ "text": "second" }),
        EventMetadata::default(),
    )
    .unwrap();
    let err = store.append(&s, ExpectedRevision::Any, &[altered]).await.unwrap_err();
    assert!(
        matches!(err, StoreError::EventIdConflict { event_id: Some(id) } if id == original.event_id),
        "{err:?}"
    );

    let elsewhere = store
        .append(&stream(), ExpectedRevision::Any, &[original])
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, StoreError::EventIdConflict { .. }),
        "the same event in another stream: {elsewhere:?}"
    );
    assert_eq!(
        store
            .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn metadata_is_kept_and_recorded_at_is_set_by_the_store() {
    let (store, _db) = store().await;
    let s = stream();
    let mut metadata = EventMetadata {
        correlation_id: Some(Uuid::now_v7()),
        causation_id: Some(Uuid::now_v7()),
        ..EventMetadata::default()
    };
    metadata.custom.insert("actor_role".into(), "champion".into());
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let new = NewEvent::new(
        Uuid::now_v7(),
        "PracticeContacted",
        &serde_json::json!({ "channel": "email" }),
        metadata.clone(),
    )
    .unwrap();
    store.append(&s, ExpectedRevision::NoStream, &[new]).await.unwrap();
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 1)
        .await
        .unwrap();
    assert_eq!(read[0].metadata, metadata);
    assert_eq!(read[0].data_as::<serde_json::Value>().unwrap()["channel"], "email");
    assert!(read[0].recorded_at > before);
}

#[tokio::test]
async fn bad_appends_are_refused_before_touching_the_database() {
    let (store, _db) = store().await;
    assert!(matches!(
        store.append(&stream(), ExpectedRevision::Any, &[]).await,
        Err(StoreError::EmptyAppend)
    ));
    assert!(matches!(
        store.append("$all", ExpectedRevision::Any, &events(1)).await,
        Err(StoreError::InvalidStreamName(_))
    ));
}

#[tokio::test]
async fn concurrent_writers_on_one_stream_win_each_revision_exactly_once() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(1)).await.unwrap();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (store, s) = (store.clone(), s.clone());
            tokio::spawn(async move {
                let (mut won, mut lost) = (Vec::new(), 0);
                for _ in 0..15 {
                    let last = store
                        .read_stream(&s, Direction::Backwards, ReadFrom::End, 1)
                        .await
                        .unwrap();
                    match store
                        .append(&s, ExpectedRevision::Exact(last[0].revision), &events(1))
                        .await
                    {
                        Ok(result) => won.push(result.revision),
                        Err(StoreError::WrongExpectedVersion { .. }) => lost += 1,
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
                (won, lost)
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut lost = 0;
    for writer in writers {
        let (w, l) = writer.await.unwrap();
        won.extend(w);
        lost += l;
    }
    won.sort_unstable();
    let expected: Vec<u64> = (1..=won.len() as u64).collect();
    assert_eq!(won, expected, "every revision won once, none skipped");
    assert_eq!(won.len() + lost, 8 * 15);
    assert!(lost > 0, "the writers did contend");
    let all = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 1000)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.revision).collect::<Vec<_>>(),
        (0..=won.len() as u64).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_append_after_another_write_in_its_transaction_is_refused() {
    let (_store, db) = store().await;
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("create temporary table scratch (n int)")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into scratch values (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = caseledger_eventstore::append_with(&mut tx, &stream(), ExpectedRevision::Any, &events(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFirstWrite), "{err:?}");
}

#[tokio::test]
async fn a_batch_appends_to_many_streams_in_one_transaction() {
    let (store, db) = store().await;
    let existing = stream();
    store
        .append(&existing, ExpectedRevision::NoStream, &events(2))
        .await
        .unwrap();
    let appends: Vec<caseledger_eventstore::StreamAppend> = (0..50)
        .map(|i| caseledger_eventstore::StreamAppend {
            stream: if i == 0 { existing.clone() } else { stream() },
            expected: if i == 0 {
                ExpectedRevision::Exact(1)
            } else {
                ExpectedRevision::NoStream
            },
            events: events(1),
        })
        .collect();
    let mut tx = db.pool.begin().await.unwrap();
    let results = caseledger_eventstore::append_batch(&mut tx, &appends).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(results[0].revision, 2);
    assert!(results[1..].iter().all(|r| r.revision == 0));
    let tx_ids: std::collections::HashSet<u64> = results.iter().map(|r| r.positions[0].tx_id).collect();
    assert_eq!(tx_ids.len(), 1, "one transaction");

    // The same batch again is a retry: every append answers with its first result.
    let mut tx = db.pool.begin().await.unwrap();
    let again = caseledger_eventstore::append_batch(&mut tx, &appends).await.unwrap();
    tx.commit().await.unwrap();
    assert!(again.iter().all(|r| r.duplicate));

    let found = store.find_event(appends[7].events[0].event_id).await.unwrap().unwrap();
    assert_eq!(found.stream_id, appends[7].stream);
    assert!(store.find_event(uuid::Uuid::now_v7()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_batch_after_another_write_in_its_transaction_is_refused() {
    let (_store, db) = store().await;
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("create temporary table scratch (n int)")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into scratch values (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let batch = [caseledger_eventstore::StreamAppend {
        stream: stream(),
        expected: ExpectedRevision::Any,
        events: events(1),
    }];
    let err = caseledger_eventstore::append_batch(&mut tx, &batch).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFirstWrite), "{err:?}");
}

/// `Exact` and `Any` appenders racing on one stream: every revision is won once and `$all`
/// delivers the stream's events in revision order (what any faster append path must keep).
#[tokio::test]
async fn exact_and_any_appends_racing_on_one_stream_keep_revision_and_global_order() {
    let (store, _db) = store().await;
    let s = stream();
    store.append(&s, ExpectedRevision::NoStream, &events(1)).await.unwrap();
    let writers: Vec<_> = (0..6)
        .map(|i| {
            let (store, s) = (store.clone(), s.clone());
            tokio::spawn(async move {
                let mut written = 0;
                for _ in 0..20 {
                    let expected = if i < 4 {
                        let last = store
                            .read_stream(&s, Direction::Backwards, ReadFrom::End, 1)
                            .await
                            .unwrap();
                        ExpectedRevision::Exact(last[0].revision)
                    } else {
                        ExpectedRevision::Any
                    };
                    match store.append(&s, expected, &events(2)).await {
                        Ok(_) => written += 2,
                        Err(StoreError::WrongExpectedVersion { .. }) => {}
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
                written
            })
        })
        .collect();
    let mut written = 1;
    for writer in writers {
        written += writer.await.unwrap();
    }
    let in_stream = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10_000)
        .await
        .unwrap();
    assert_eq!(in_stream.len(), written, "the stream holds what was acknowledged");
    // $all passes no transaction still running anywhere on the server (autovacuum's included):
    // read it until it has caught up with every acknowledged append.
    let mut all = Vec::new();
    let mut after = caseledger_eventstore::Position::START;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while all
        .iter()
        .filter(|e: &&caseledger_eventstore::RecordedEvent| e.stream_id == s)
        .count()
        < written
    {
        assert!(std::time::Instant::now() < deadline, "$all did not catch up");
        let page = store.read_all(after, 500).await.unwrap();
        match page.last() {
            Some(last) => after = last.position,
            None => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
        all.extend(page);
    }
    let revisions: Vec<u64> = all.iter().filter(|e| e.stream_id == s).map(|e| e.revision).collect();
    assert_eq!(
        revisions,
        (0..written as u64).collect::<Vec<_>>(),
        "each revision once, in $all in revision order"
    );
}

/// An append some of whose ids another stream holds is refused whole: none of it is written.
#[tokio::test]
async fn an_append_with_an_id_another_stream_holds_writes_nothing() {
    let (store, _db) = store().await;
    let (a, b) = (stream(), stream());
    let taken = events(1);
    store.append(&a, ExpectedRevision::NoStream, &taken).await.unwrap();
    let mut mixed = events(2);
    mixed.push(taken[0].clone());
    let err = store.append(&b, ExpectedRevision::NoStream, &mixed).await.unwrap_err();
    assert!(matches!(err, StoreError::EventIdConflict { .. }), "{err:?}");
    let read = store.read_stream(&b, Direction::Forwards, ReadFrom::Start, 10).await;
    assert!(
        matches!(read, Err(StoreError::StreamNotFound { .. })) || read.is_ok_and(|r| r.is_empty()),
        "nothing of the append was written"
    );
}

/// Appends that go straight to the database before appends queue, and the batching writers
/// (`DIRECT` and `WRITERS` in the store's group commit).
const HELD: i64 = 4 + 1;

/// Holds every direct append and the group-commit writer: each is given an append to a stream
/// whose lock another transaction holds, one after the other so that no writer takes two.
/// Whatever is appended next waits in the queue until the returned transaction ends.
async fn hold_the_writers(
    store: &caseledger_eventstore::EventStore,
) -> (
    sqlx::Transaction<'static, sqlx::Postgres>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let held = stream();
    let mut holder = store.pool().begin().await.unwrap();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(&held)
        .execute(&mut *holder)
        .await
        .unwrap();
    let mut blocked = Vec::new();
    for waiting in 1..=HELD {
        let (writer, held) = (store.clone(), held.clone());
        blocked.push(tokio::spawn(async move {
            writer.append(&held, ExpectedRevision::Any, &events(1)).await.unwrap();
        }));
        let mut tries = 0;
        loop {
            let waiters: i64 = sqlx::query_scalar(
                "select count(*) from pg_locks l join pg_database d on d.oid = l.database \
                  where d.datname = current_database() and l.locktype = 'advisory' and not l.granted",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            if waiters == waiting {
                break;
            }
            tries += 1;
            assert!(tries < 1_000, "the writer never reached the held stream's lock");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    (holder, blocked)
}

#[tokio::test]
async fn appends_that_arrive_together_share_one_commit_and_keep_their_own_outcomes() {
    let (store, _db) = store().await;
    let (stale_stream, current_stream, soft, dead) = (stream(), stream(), stream(), stream());
    for s in [&stale_stream, &current_stream, &soft, &dead] {
        store.append(s, ExpectedRevision::NoStream, &events(2)).await.unwrap();
    }
    store.delete_stream(&soft, ExpectedRevision::Exact(1)).await.unwrap();
    store.tombstone_stream(&dead, ExpectedRevision::Any).await.unwrap();
    let retried = stream();
    let first = events(2);
    let original = store
        .append(&retried, ExpectedRevision::NoStream, &first)
        .await
        .unwrap();

    let (holder, blocked) = hold_the_writers(&store).await;
    // Queued behind the held writers, each to a stream of its own: new streams, a stale writer,
    // a current one, a soft-deleted stream, a tombstoned one, a retry.
    let spawn = |s: &String, expected: ExpectedRevision, events: Vec<NewEvent>| {
        let (store, s) = (store.clone(), s.clone());
        tokio::spawn(async move { store.append(&s, expected, &events).await })
    };
    let fresh: Vec<String> = (0..20).map(|_| stream()).collect();
    let queued: Vec<_> = fresh
        .iter()
        .map(|s| spawn(s, ExpectedRevision::NoStream, events(2)))
        .collect();
    let stale = spawn(&stale_stream, ExpectedRevision::Exact(0), events(1));
    let current = spawn(&current_stream, ExpectedRevision::Exact(1), events(1));
    let revived = spawn(&soft, ExpectedRevision::NoStream, events(1));
    let deleted = spawn(&dead, ExpectedRevision::Any, events(1));
    let retry = spawn(&retried, ExpectedRevision::NoStream, first.clone());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    holder.commit().await.unwrap();
    for handle in blocked {
        handle.await.unwrap();
    }

    let mut commits = std::collections::BTreeSet::new();
    for handle in queued {
        let result = handle.await.unwrap().unwrap();
        assert_eq!(result.revision, 1);
        assert!(!result.duplicate);
        assert_eq!(result.positions.len(), 2);
        assert!(result.positions[0] < result.positions[1]);
        commits.extend(result.positions.iter().map(|p| p.tx_id));
    }
    assert_eq!(commits.len(), 1, "the queued appends were written in one transaction");
    let stale = stale.await.unwrap().unwrap_err();
    assert!(
        matches!(stale, StoreError::WrongExpectedVersion { actual: Some(1), .. }),
        "a stale writer is refused while the others commit: {stale:?}"
    );
    let current = current.await.unwrap().unwrap();
    assert_eq!(current.revision, 2);
    assert!(commits.contains(&current.positions[0].tx_id));
    let revived = revived.await.unwrap().unwrap();
    assert_eq!(
        revived.revision, 2,
        "a soft-deleted stream goes on from its last revision"
    );
    let deleted = deleted.await.unwrap().unwrap_err();
    assert!(matches!(deleted, StoreError::StreamDeleted { .. }), "{deleted:?}");
    let retry = retry.await.unwrap().unwrap();
    assert!(retry.duplicate);
    assert_eq!(
        retry.positions, original.positions,
        "a retry is answered with the first result"
    );

    for s in &fresh {
        let read = store
            .read_stream(s, Direction::Forwards, ReadFrom::Start, 10)
            .await
            .unwrap();
        assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![0, 1]);
    }
    for (s, count) in [(&stale_stream, 2), (&current_stream, 3)] {
        let read = store
            .read_stream(s, Direction::Forwards, ReadFrom::Start, 10)
            .await
            .unwrap();
        assert_eq!(read.len(), count, "{s}");
    }
    let read = store
        .read_stream(&soft, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(
        read.iter().map(|e| e.revision).collect::<Vec<_>>(),
        vec![2],
        "readable again"
    );
}

#[tokio::test]
async fn appends_to_one_stream_in_one_batch_are_applied_in_turn() {
    let (store, _db) = store().await;
    let s = stream();
    let (holder, blocked) = hold_the_writers(&store).await;
    let racing: Vec<_> = (0..3)
        .map(|_| {
            let (store, s) = (store.clone(), s.clone());
            tokio::spawn(async move { store.append(&s, ExpectedRevision::NoStream, &events(1)).await })
        })
        .collect();
    // Queued after them.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (store2, s2) = (store.clone(), s.clone());
    let after = tokio::spawn(async move { store2.append(&s2, ExpectedRevision::Any, &events(2)).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    holder.commit().await.unwrap();
    for handle in blocked {
        handle.await.unwrap();
    }
    let mut won = 0;
    for handle in racing {
        match handle.await.unwrap() {
            Ok(result) => {
                assert_eq!(result.revision, 0);
                won += 1;
            }
            Err(StoreError::WrongExpectedVersion { actual: Some(0), .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(won, 1, "one of the writers expecting no stream created it");
    assert_eq!(after.await.unwrap().unwrap().revision, 2);
    let read = store
        .read_stream(&s, Direction::Forwards, ReadFrom::Start, 10)
        .await
        .unwrap();
    assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[tokio::test]
async fn a_batch_that_fails_as_a_whole_appends_each_alone() {
    let (store, _db) = store().await;
    let taken = events(1);
    store
        .append(&stream(), ExpectedRevision::NoStream, &taken)
        .await
        .unwrap();

    let (holder, blocked) = hold_the_writers(&store).await;
    let mut queued = Vec::new();
    let fresh: Vec<String> = (0..5).map(|_| stream()).collect();
    for s in &fresh {
        let (store, s) = (store.clone(), s.clone());
        queued.push(tokio::spawn(async move {
            store.append(&s, ExpectedRevision::Any, &events(1)).await
        }));
    }
    // Some ids free and one taken: the append function raises, which aborts the batch.
    let mut mixed = events(2);
    mixed.push(taken[0].clone());
    let conflicted = stream();
    let (store2, c) = (store.clone(), conflicted.clone());
    let conflict = tokio::spawn(async move { store2.append(&c, ExpectedRevision::NoStream, &mixed).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    holder.commit().await.unwrap();
    for handle in blocked {
        handle.await.unwrap();
    }

    let err = conflict.await.unwrap().unwrap_err();
    assert!(matches!(err, StoreError::EventIdConflict { .. }), "{err:?}");
    for handle in queued {
        assert_eq!(
            handle.await.unwrap().unwrap().revision,
            0,
            "the others were written alone"
        );
    }
    let read = store
        .read_stream(&conflicted, Direction::Forwards, ReadFrom::Start, 10)
        .await;
    assert!(
        matches!(read, Err(StoreError::StreamNotFound { .. })) || read.is_ok_and(|r| r.is_empty()),
        "nothing of the conflicting append was written"
    );
}
