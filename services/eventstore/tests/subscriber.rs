//! Named subscribers: checkpoints committed with the subscriber's writes, one runner per name,
//! takeover when a runner dies.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_eventstore::{
    EventHandler, EventStore, ExpectedRevision, Filter, HandlerError, Position, RecordedEvent, StoreError,
    SubscriberLease, SubscriberOptions, load_checkpoint, run_subscriber, save_checkpoint,
};
use common::{events, store, stream};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

/// Records which runner applied each event, and how often.
struct Recorder {
    runner: &'static str,
    delay: Duration,
}

impl EventHandler for Recorder {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        tokio::time::sleep(self.delay).await;
        sqlx::query(
            "insert into applied (event_id, runner, times) values ($1, $2, 1)
                 on conflict (event_id) do update set times = applied.times + 1",
        )
        .bind(event.event_id)
        .bind(self.runner)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

async fn prepare(pool: &PgPool) {
    sqlx::query("create table applied (event_id uuid primary key, runner text not null, times int not null)")
        .execute(pool)
        .await
        .unwrap();
}

fn options() -> SubscriberOptions {
    let mut options = SubscriberOptions::new("recorder", Filter::Category("case".into()));
    options.batch_size = 10;
    options.lease_retry = Duration::from_millis(100);
    options.poll_interval = Duration::from_millis(100);
    options
}

fn spawn(
    store: &EventStore,
    handler: Recorder,
) -> (
    watch::Sender<bool>,
    tokio::task::JoinHandle<Result<(), caseledger_eventstore::SubscriberError>>,
) {
    let (stop, shutdown) = watch::channel(false);
    let store = store.clone();
    let task = tokio::spawn(async move { run_subscriber(&store, &options(), &handler, shutdown).await });
    (stop, task)
}

async fn wait_for_applied(pool: &PgPool, n: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let count: i64 = sqlx::query_scalar("select count(*) from applied")
            .fetch_one(pool)
            .await
            .unwrap();
        if count >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {count} of {n} events applied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn assert_each_applied_once(pool: &PgPool, n: i64) {
    let (count, max): (i64, Option<i32>) = sqlx::query_as("select count(*), max(times) from applied")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(count, n, "every event applied");
    assert_eq!(max, Some(1), "no event applied twice");
}

async fn append_cases(store: &EventStore, n: usize) {
    for _ in 0..n / 5 {
        store
            .append(&stream(), ExpectedRevision::NoStream, &events(5))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_subscriber_resumes_from_its_checkpoint_after_a_restart() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    append_cases(&store, 50).await;
    store
        .append("practice-Z00011", ExpectedRevision::Any, &events(3))
        .await
        .unwrap();

    let (stop, task) = spawn(
        &store,
        Recorder {
            runner: "first",
            delay: Duration::ZERO,
        },
    );
    wait_for_applied(&db.pool, 50).await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();

    append_cases(&store, 30).await;
    let (stop, task) = spawn(
        &store,
        Recorder {
            runner: "second",
            delay: Duration::ZERO,
        },
    );
    wait_for_applied(&db.pool, 80).await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();

    assert_each_applied_once(&db.pool, 80).await;
    let second: i64 = sqlx::query_scalar("select count(*) from applied where runner = 'second'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        second, 30,
        "the restarted runner only applied what came after the checkpoint"
    );
}

#[tokio::test]
async fn a_runner_killed_mid_batch_loses_nothing_and_repeats_nothing() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    append_cases(&store, 60).await;
    let (_stop, task) = spawn(
        &store,
        Recorder {
            runner: "killed",
            delay: Duration::from_millis(5),
        },
    );
    wait_for_applied(&db.pool, 15).await;
    task.abort();
    let _ = task.await;

    let (stop, task) = spawn(
        &store,
        Recorder {
            runner: "successor",
            delay: Duration::ZERO,
        },
    );
    wait_for_applied(&db.pool, 60).await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    assert_each_applied_once(&db.pool, 60).await;
}

#[tokio::test]
async fn one_runner_holds_a_name_and_another_takes_over_when_it_dies() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    append_cases(&store, 10).await;
    let (_stop_a, runner_a) = spawn(
        &store,
        Recorder {
            runner: "a",
            delay: Duration::ZERO,
        },
    );
    wait_for_applied(&db.pool, 10).await;
    let (stop_b, runner_b) = spawn(
        &store,
        Recorder {
            runner: "b",
            delay: Duration::ZERO,
        },
    );

    append_cases(&store, 10).await;
    wait_for_applied(&db.pool, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by_b: i64 = sqlx::query_scalar("select count(*) from applied where runner = 'b'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(by_b, 0, "the second runner waits while the first holds the lease");

    runner_a.abort();
    let _ = runner_a.await;
    append_cases(&store, 10).await;
    wait_for_applied(&db.pool, 30).await;
    let by_b: i64 = sqlx::query_scalar("select count(*) from applied where runner = 'b'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(by_b, 10, "the second runner took over after the first died");
    stop_b.send(true).unwrap();
    runner_b.await.unwrap().unwrap();
    assert_each_applied_once(&db.pool, 30).await;
}

#[tokio::test]
async fn a_lease_is_exclusive_until_released() {
    let (_store, db) = store().await;
    let lease = SubscriberLease::try_acquire(&db.pool, "projection")
        .await
        .unwrap()
        .expect("free");
    assert!(
        SubscriberLease::try_acquire(&db.pool, "projection")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SubscriberLease::try_acquire(&db.pool, "another")
            .await
            .unwrap()
            .is_some()
    );
    lease.release().await.unwrap();
    assert!(
        SubscriberLease::try_acquire(&db.pool, "projection")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn saving_a_checkpoint_from_a_stale_position_is_refused() {
    let (_store, db) = store().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let first = Position { tx_id: 10, position: 5 };
    let second = Position { tx_id: 11, position: 6 };
    save_checkpoint(&mut conn, "projection", None, first).await.unwrap();
    save_checkpoint(&mut conn, "projection", Some(first), second)
        .await
        .unwrap();
    assert_eq!(load_checkpoint(&mut conn, "projection").await.unwrap(), Some(second));
    let err = save_checkpoint(
        &mut conn,
        "projection",
        Some(first),
        Position { tx_id: 12, position: 7 },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::CheckpointMoved { .. }), "{err:?}");
    let err = save_checkpoint(&mut conn, "projection", None, first).await.unwrap_err();
    assert!(matches!(err, StoreError::CheckpointMoved { .. }), "{err:?}");
}

/// Applies every event but those of type `Poison`, which it rejects while `poisoned` is true, and
/// `Panic`, on which it panics while `poisoned` is true.
struct Fussy {
    poisoned: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl EventHandler for Fussy {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        if event.event_type == "Poison" && self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("this handler cannot read Poison".into());
        }
        if event.event_type == "Panic" && self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("this handler cannot bear Panic");
        }
        sqlx::query("insert into applied (event_id, runner, times) values ($1, 'fussy', 1)")
            .bind(event.event_id)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn an_event_the_handler_rejects_is_parked_and_the_subscriber_goes_on() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    let s = stream();
    let mut batch = events(2);
    batch.push(common::event("Poison", serde_json::json!({})));
    batch.extend(events(2));
    batch.push(common::event("Panic", serde_json::json!({})));
    let poison_id = batch[2].event_id;
    let panic_id = batch[5].event_id;
    store.append(&s, ExpectedRevision::NoStream, &batch).await.unwrap();

    let poisoned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let handler = Fussy {
        poisoned: poisoned.clone(),
    };
    let (stop, shutdown) = watch::channel(false);
    let runner = {
        let store = store.clone();
        tokio::spawn(async move {
            let handler = handler;
            run_subscriber(&store, &options(), &handler, shutdown).await
        })
    };
    wait_for_applied(&db.pool, 4).await;
    // The four good events are applied, and the checkpoint is past all five.
    let mut conn = db.pool.acquire().await.unwrap();
    let head = store.head().await.unwrap().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while load_checkpoint(&mut conn, "recorder").await.unwrap() != Some(head) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the checkpoint passed the parked event"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    runner.await.unwrap().unwrap();

    let parked = store.parked_events(Some("recorder"), 10).await.unwrap();
    assert_eq!(parked.len(), 2);
    let poison = parked.iter().find(|p| p.event_id == poison_id).unwrap();
    assert_eq!(poison.attempts, caseledger_eventstore::ATTEMPTS);
    assert!(poison.error.contains("cannot read Poison"), "{poison:?}");
    // A handler that panics on an event does not take the subscriber down: the event is parked.
    let panicked = parked.iter().find(|p| p.event_id == panic_id).unwrap();
    assert!(
        panicked.error.contains("panicked: this handler cannot bear Panic"),
        "{panicked:?}"
    );
    assert_eq!(
        store.unresolved_parked().await.unwrap(),
        vec![("recorder".to_string(), 2)]
    );
    store.skip_parked("recorder", panic_id).await.unwrap();
    assert_eq!(
        store.unresolved_parked().await.unwrap(),
        vec![("recorder".to_string(), 1)]
    );

    // Retried while the cause is still there: still parked, one more attempt.
    let still = Fussy {
        poisoned: poisoned.clone(),
    };
    assert!(store.retry_parked("recorder", poison_id, &still).await.is_err());
    // The cause fixed: the retry applies it and resolves it.
    poisoned.store(false, std::sync::atomic::Ordering::SeqCst);
    store.retry_parked("recorder", poison_id, &still).await.unwrap();
    let applied: i64 = sqlx::query_scalar("select count(*) from applied")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(applied, 5);
    let parked = store.parked_events(Some("recorder"), 10).await.unwrap();
    let poison = parked.iter().find(|p| p.event_id == poison_id).unwrap();
    assert_eq!(poison.resolution.as_deref(), Some("retried"));
    let panicked = parked.iter().find(|p| p.event_id == panic_id).unwrap();
    assert_eq!(panicked.resolution.as_deref(), Some("skipped"));
    assert!(store.unresolved_parked().await.unwrap().is_empty());
    assert!(
        store.skip_parked("recorder", poison_id).await.is_err(),
        "already resolved"
    );
}

/// Applies only `wanted` events, and counts every batch it is handed.
struct Choosy {
    wanted: &'static str,
    batches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl EventHandler for Choosy {
    fn reads(&self, event_type: &str) -> bool {
        event_type == self.wanted
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        self.batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for event in events.iter().filter(|e| self.reads(&e.event_type)) {
            sqlx::query("insert into applied (event_id, runner, times) values ($1, 'choosy', 1)")
                .bind(event.event_id)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn batches_with_nothing_a_handler_reads_only_move_its_checkpoint() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    // 25 events it does not read, then one it does among others.
    append_cases(&store, 25).await;
    let batches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = Choosy {
        wanted: "CaseClosed",
        batches: batches.clone(),
    };
    let mut options = SubscriberOptions::new("choosy", Filter::All);
    options.batch_size = 10;
    options.durable_commits = false;
    let (stop, shutdown) = watch::channel(false);
    let task = {
        let store = store.clone();
        tokio::spawn(async move { run_subscriber(&store, &options, &handler, shutdown).await })
    };
    let head = store.head().await.unwrap().unwrap();
    assert!(
        store
            .progress()
            .wait_for(&["choosy"], head, Duration::from_secs(30))
            .await
            .unwrap(),
        "it passed the events it does not read"
    );
    assert_eq!(
        batches.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no batch handed to it"
    );
    wait_for_checkpoint(&db.pool, "choosy", head).await;

    let mut mixed = events(2);
    mixed.push(common::event(
        "CaseClosed",
        serde_json::json!({ "reason": "COMPLIANT" }),
    ));
    store
        .append(&stream(), ExpectedRevision::NoStream, &mixed)
        .await
        .unwrap();
    wait_for_applied(&db.pool, 1).await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        batches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the batch it reads handed over"
    );
    let head = store.head().await.unwrap().unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(
        load_checkpoint(&mut conn, "choosy").await.unwrap(),
        Some(head),
        "saved with the batch it handled"
    );
}

/// Until `subscriber`'s saved checkpoint is `at` (it saves what it passed once idle).
async fn wait_for_checkpoint(pool: &PgPool, subscriber: &str, at: Position) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut conn = pool.acquire().await.unwrap();
    while load_checkpoint(&mut conn, subscriber).await.unwrap() != Some(at) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{subscriber}'s checkpoint not saved"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_batch_it_reads_right_after_ones_it_passed_saves_the_checkpoint_past_both() {
    let (store, db) = store().await;
    prepare(&db.pool).await;
    let batches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = Choosy {
        wanted: "CaseClosed",
        batches: batches.clone(),
    };
    let mut options = SubscriberOptions::new("choosy", Filter::All);
    options.durable_commits = false;
    let (stop, shutdown) = watch::channel(false);
    let task = {
        let store = store.clone();
        tokio::spawn(async move { run_subscriber(&store, &options, &handler, shutdown).await })
    };
    append_cases(&store, 10).await;
    let passed = store.head().await.unwrap().unwrap();
    assert!(
        store
            .progress()
            .wait_for(&["choosy"], passed, Duration::from_secs(30))
            .await
            .unwrap()
    );
    // At once, before its idle save: the next batch carries the checkpoint past both.
    store
        .append(
            &stream(),
            ExpectedRevision::NoStream,
            &[common::event(
                "CaseClosed",
                serde_json::json!({ "reason": "COMPLIANT" }),
            )],
        )
        .await
        .unwrap();
    wait_for_applied(&db.pool, 1).await;
    let head = store.head().await.unwrap().unwrap();
    wait_for_checkpoint(&db.pool, "choosy", head).await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    assert_each_applied_once(&db.pool, 1).await;
}
