//! The jobs' runner: each job under its own lease (one instance at a time), rounds repeated, and
//! a round in hand finished before `stop` returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use caseledger_eventstore::SubscriberLease;
use caseledger_jobs::{Job, JobError, Jobs, run_round};
use futures_util::future::BoxFuture;

/// Counts its rounds; each takes `takes`.
#[derive(Debug, Clone)]
struct Counting {
    rounds: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    takes: Duration,
}

impl Job for Counting {
    fn name(&self) -> &'static str {
        "counting-test-job"
    }

    fn every(&self) -> Duration {
        Duration::from_millis(20)
    }

    fn round(&self) -> BoxFuture<'_, Result<usize, JobError>> {
        Box::pin(async move {
            self.rounds.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.takes).await;
            self.finished.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        })
    }
}

fn counting(takes: Duration) -> Counting {
    Counting {
        rounds: Arc::default(),
        finished: Arc::default(),
        takes,
    }
}

#[tokio::test]
async fn a_job_runs_only_where_its_lease_is_held() {
    let db = caseledger_testsupport::fresh_db().await;
    let job = counting(Duration::ZERO);
    let held = SubscriberLease::try_acquire(&db.pool, job.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        run_round(&db.pool, &job).await.unwrap(),
        None,
        "another instance holds the lease"
    );
    assert_eq!(job.rounds.load(Ordering::SeqCst), 0);
    held.release().await.unwrap();
    assert_eq!(run_round(&db.pool, &job).await.unwrap(), Some(1));
    assert_eq!(job.rounds.load(Ordering::SeqCst), 1);
    // The lease went back after the round: the next round gets it again.
    assert_eq!(run_round(&db.pool, &job).await.unwrap(), Some(1));
}

#[tokio::test]
async fn stopping_lets_the_round_in_hand_finish() {
    let db = caseledger_testsupport::fresh_db().await;
    let job = counting(Duration::from_millis(300));
    let jobs = Jobs::start(db.pool.clone(), vec![Box::new(job.clone())]);
    while job.rounds.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    jobs.stop(Duration::from_secs(10)).await;
    let started = job.rounds.load(Ordering::SeqCst);
    assert_eq!(
        job.finished.load(Ordering::SeqCst),
        started,
        "every round started finished"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(job.rounds.load(Ordering::SeqCst), started, "no round after stop");
}
