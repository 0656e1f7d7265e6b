//! The `$all` catch-up benchmark: N events loaded in bulk (10,000 per transaction), then read from
//! the start in pages of 1,000 through the store's reader.

use std::time::Instant;

use caseledger_eventstore::{EventStore, Position};

use crate::report::Run;
use crate::server::BenchServer;

const PAGE: usize = 1000;
const LOAD_CHUNK: usize = 10_000;

pub async fn run(server: &BenchServer, events: usize) -> anyhow::Result<Run> {
    let pool = server.fresh_database("bench_read_all", true, 4).await?;
    load(&pool, events).await?;
    let store = EventStore::new(pool);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut position = Position::START;
    let mut read = 0u64;
    loop {
        let page_started = Instant::now();
        let page = store.read_all(position, PAGE).await?;
        latencies.push(page_started.elapsed());
        let Some(last) = page.last() else { break };
        position = last.position;
        read += page.len() as u64;
    }
    anyhow::ensure!(read == events as u64, "read {read} of {events} events");
    Ok(Run::new("read-all", 1, PAGE, read, started.elapsed(), &mut latencies))
}

/// Event rows shaped like the baseline's: ten events a stream, one small JSON body.
async fn load(pool: &sqlx::PgPool, events: usize) -> anyhow::Result<()> {
    for start in (0..events).step_by(LOAD_CHUNK) {
        let end = (start + LOAD_CHUNK).min(events);
        sqlx::query(
            "insert into events (stream_id, revision, event_id, event_type, data, metadata)
             select 'case-' || (g / 10), g % 10, gen_random_uuid(), 'PracticeContacted', '{\"note\":\"x\"}', '{}'
               from generate_series($1::bigint, $2::bigint - 1) g",
        )
        .bind(start as i64)
        .bind(end as i64)
        .execute(pool)
        .await?;
    }
    sqlx::query("vacuum analyze events").execute(pool).await?;
    Ok(())
}
