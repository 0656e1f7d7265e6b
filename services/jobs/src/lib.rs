//! The service's work beyond a request, each piece a [`Job`] registered once (like the
//! projections): its name (its lease and its metrics' label), how often it runs, and one round of
//! its work. One runner gives every job the same lease (one instance at a time runs it), metrics,
//! and shutdown (a round in hand finishes before the database goes).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `caseledger_job_rounds_total` | job, outcome | rounds run (`ok`, `failed`), or `elsewhere` when another instance holds the lease |
//! | `caseledger_job_items_total` | job | what the rounds did (notifications recorded and sent, practices verified, erasures) |
//! | `caseledger_job_round_seconds` | job | how long a round took |
//! | `caseledger_job_last_success_seconds` | job | UNIX time of the last round that succeeded |

#[cfg(feature = "demo")]
pub mod demo;
pub mod notifications;
pub mod personal_data;
pub mod verification;

use std::time::{Duration, Instant};

use caseledger_eventstore::SubscriberLease;
use futures_util::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why a round failed (it is logged, counted, and tried again next time).
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// One kind of background work.
pub trait Job: Send + Sync + 'static {
    /// Its name: its lease (one instance at a time) and its metrics' label.
    fn name(&self) -> &'static str;

    /// How long between rounds.
    fn every(&self) -> Duration;

    /// One round: how many things it did.
    fn round(&self) -> BoxFuture<'_, Result<usize, JobError>>;
}

/// The jobs running in this process.
#[derive(Debug)]
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts a runner for each of `jobs`: every `job.every()`, a round under the job's lease.
    pub fn start(pool: PgPool, jobs: Vec<Box<dyn Job>>) -> Self {
        let (stop, stopping) = watch::channel(false);
        let tasks = jobs
            .into_iter()
            .map(|job| {
                let (pool, mut stopping) = (pool.clone(), stopping.clone());
                tokio::spawn(async move {
                    tracing::info!(job = job.name(), every = ?job.every(), "job registered");
                    loop {
                        if let Err(error) = run_round(&pool, job.as_ref()).await {
                            tracing::warn!(job = job.name(), %error, "job round failed");
                        }
                        tokio::select! {
                            _ = stopping.wait_for(|stop| *stop) => return,
                            () = tokio::time::sleep(job.every()) => {}
                        }
                    }
                })
            })
            .collect();
        Self { stop, tasks }
    }

    /// Stops every job: a round in hand finishes first (within `grace`; abandoned after).
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if tokio::time::timeout(grace, task).await.is_err() {
                tracing::warn!(
                    seconds = grace.as_secs(),
                    "a job round was still running after the grace period: abandoned"
                );
            }
        }
    }
}

/// One round of `job`, if this instance gets its lease: how many things it did (`None`: another
/// instance holds the lease).
pub async fn run_round(pool: &PgPool, job: &dyn Job) -> Result<Option<usize>, JobError> {
    let name = job.name();
    let Some(lease) = SubscriberLease::try_acquire(pool, name).await? else {
        metrics::counter!("caseledger_job_rounds_total", "job" => name, "outcome" => "elsewhere").increment(1);
        return Ok(None);
    };
    let started = Instant::now();
    let result = job.round().await;
    metrics::histogram!("caseledger_job_round_seconds", "job" => name).record(started.elapsed().as_secs_f64());
    let released = lease.release().await;
    match &result {
        Ok(items) => {
            metrics::counter!("caseledger_job_rounds_total", "job" => name, "outcome" => "ok").increment(1);
            metrics::counter!("caseledger_job_items_total", "job" => name).increment(*items as u64);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            metrics::gauge!("caseledger_job_last_success_seconds", "job" => name).set(now);
            if *items > 0 {
                tracing::info!(job = name, items, "job round");
            }
        }
        Err(_) => {
            metrics::counter!("caseledger_job_rounds_total", "job" => name, "outcome" => "failed").increment(1);
        }
    }
    released?;
    result.map(Some)
}
