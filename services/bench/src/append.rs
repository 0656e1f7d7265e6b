//! The append benchmark: each writer appends batches to streams of its own, ten appends a stream,
//! the first with `NoStream` and the rest with `Exact`.

use std::time::{Duration, Instant};

use caseledger_eventstore::{EventMetadata, EventStore, ExpectedRevision, GroupCommitSettings, NewEvent};
use uuid::Uuid;

use crate::report::Run;
use crate::server::BenchServer;

const APPENDS_PER_STREAM: usize = 10;

pub async fn run(
    server: &BenchServer,
    writers: usize,
    batch: usize,
    seconds: u64,
    group: GroupCommitSettings,
) -> anyhow::Result<Run> {
    let pool_size = u32::try_from(writers + 2).unwrap_or(u32::MAX);
    let pool = server.fresh_database("bench_append", true, pool_size).await?;
    let store = EventStore::new(pool).with_group_commit(group);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { writer(store, batch, deadline).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut events = 0;
    for task in tasks {
        let (count, mut times) = task.await??;
        events += count;
        latencies.append(&mut times);
    }
    Ok(Run::new(
        "append",
        writers,
        batch,
        events,
        started.elapsed(),
        &mut latencies,
    ))
}

async fn writer(store: EventStore, batch: usize, deadline: Instant) -> anyhow::Result<(u64, Vec<Duration>)> {
    let data = serde_json::json!({
        "practice_ods": "M86001", "channel": "email", "by": "dc-17",
        "note": "Sent re-mapping instructions for the DHU provider code and GP Connect slot type; awaiting reply from practice manager."
    });
    let mut metadata = EventMetadata {
        correlation_id: Some(Uuid::new_v4()),
        ..EventMetadata::default()
    };
    metadata.custom.insert("actor".into(), "dc-17".into());
    metadata.custom.insert("role".into(), "digital_champion".into());
    let mut latencies = Vec::new();
    let mut appended = 0;
    while Instant::now() < deadline {
        let stream = format!("case-{}", Uuid::new_v4());
        let mut expected = ExpectedRevision::NoStream;
        for _ in 0..APPENDS_PER_STREAM {
            let events = (0..batch)
                .map(|_| NewEvent::new(Uuid::new_v4(), "PracticeContacted", &data, metadata.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let started = Instant::now();
            let result = store.append(&stream, expected, &events).await?;
            latencies.push(started.elapsed());
            appended += batch as u64;
            expected = ExpectedRevision::Exact(result.revision);
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    Ok((appended, latencies))
}
