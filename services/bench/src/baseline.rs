//! The raw-PostgreSQL baseline: `bench/*.sql` (a copy of the shared scripts) through pgbench, on
//! the same server as the store's own runs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::report::Run;
use crate::server::BenchServer;

const DATABASE: &str = "bench_baseline";

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench").join(name)
}

pub fn run_all(server: &BenchServer, seconds: u64, events: usize) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    for (writers, batch) in [(1, 1), (4, 1), (16, 1), (4, 10)] {
        runs.push(append(server, writers, batch, seconds)?);
    }
    runs.push(read_all(server, seconds, events)?);
    Ok(runs)
}

/// `append1.sql` (one event a transaction) or `append10.sql` (ten), with `writers` clients.
pub fn append(server: &BenchServer, writers: usize, batch: usize, seconds: u64) -> anyhow::Result<Run> {
    let file = match batch {
        1 => "append1.sql",
        10 => "append10.sql",
        _ => bail!("the baseline has scripts for batches of 1 and 10 only"),
    };
    reset_schema(server)?;
    let tps = pgbench(server, writers, 2, seconds, file)?;
    Ok(baseline_run(
        "baseline-append",
        writers,
        batch,
        tps * batch as f64,
        seconds,
    ))
}

/// The same insert as `append1.sql`, into the same table, from this process through sqlx (one
/// insert a transaction, each writer its own new streams): the payloads built and bound per row in
/// Rust, as the store's client does. Beside pgbench's figure it splits the client's cost (Rust,
/// sqlx, the pool, sharing the two cores) from the server's; beside the store's append it leaves
/// what the append itself costs.
pub async fn client_append(server: &BenchServer, writers: usize, seconds: u64) -> anyhow::Result<Run> {
    reset_schema(server)?;
    let pool_size = u32::try_from(writers + 1).unwrap_or(u32::MAX);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(pool_size)
        .connect(&server.url(DATABASE))
        .await
        .context("connecting to the baseline database")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { client_writer(pool, deadline).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut events = 0;
    for task in tasks {
        let (count, mut times) = task.await??;
        events += count;
        latencies.append(&mut times);
    }
    pool.close().await;
    Ok(Run::new(
        "baseline-client-append",
        writers,
        1,
        events,
        started.elapsed(),
        &mut latencies,
    ))
}

async fn client_writer(pool: sqlx::PgPool, deadline: std::time::Instant) -> anyhow::Result<(u64, Vec<Duration>)> {
    let mut latencies = Vec::new();
    let mut inserted = 0;
    while std::time::Instant::now() < deadline {
        // Built per row, as an append builds its events: the same document as `append1.sql`.
        let data = serde_json::json!({
            "practice_ods": "M86001", "channel": "email", "by": "dc-17",
            "note": "Sent re-mapping instructions for the DHU provider code and GP Connect slot type; awaiting reply from practice manager."
        });
        let metadata = serde_json::json!({
            "correlation_id": uuid::Uuid::new_v4(), "actor": "dc-17", "role": "digital_champion"
        });
        let started = std::time::Instant::now();
        sqlx::query(
            "INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
             VALUES ($1, 0, $2, 'PracticeContacted', $3, $4)",
        )
        .bind(format!("case-{}", uuid::Uuid::new_v4()))
        .bind(uuid::Uuid::new_v4())
        .bind(sqlx::types::Json(&data))
        .bind(sqlx::types::Json(&metadata))
        .execute(&pool)
        .await?;
        latencies.push(started.elapsed());
        inserted += 1;
    }
    Ok((inserted, latencies))
}

/// `readall.sql`: pages of 1,000 from a random position over 1,000,000 rows.
pub fn read_all(server: &BenchServer, seconds: u64, events: usize) -> anyhow::Result<Run> {
    reset_schema(server)?;
    let load = format!(
        "insert into events (stream_id, stream_version, event_id, event_type, data, metadata)
         select 'case-' || (g / 10), g % 10, gen_random_uuid(), 'PracticeContacted', '{{\"note\":\"x\"}}', '{{}}'
           from generate_series(0, {}) g",
        events.saturating_sub(1)
    );
    psql(server, &["-c", &load, "-c", "vacuum analyze events"])?;
    let tps = pgbench(server, 1, 1, seconds, "readall.sql")?;
    Ok(baseline_run("baseline-read-all", 1, 1000, tps * 1000.0, seconds))
}

fn baseline_run(mode: &str, writers: usize, batch: usize, events_per_sec: f64, seconds: u64) -> Run {
    let mut run = Run::new(mode, writers, batch, 0, Duration::from_secs(seconds), &mut []);
    run.events = (events_per_sec * seconds as f64) as u64;
    run.events_per_sec = events_per_sec;
    run
}

fn reset_schema(server: &BenchServer) -> anyhow::Result<()> {
    let admin = server.url("postgres");
    let _ = Command::new("psql")
        .args([
            "-q",
            &admin,
            "-c",
            &format!("drop database if exists {DATABASE} with (force)"),
        ])
        .output();
    psql_at(&admin, &["-c", &format!("create database {DATABASE}")])?;
    psql(server, &["-f", &script("schema.sql").display().to_string()])
}

fn psql(server: &BenchServer, args: &[&str]) -> anyhow::Result<()> {
    psql_at(&server.url(DATABASE), args)
}

fn psql_at(url: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url])
        .args(args)
        .output()
        .context("running psql")?;
    if !output.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Transactions per second that pgbench reports.
fn pgbench(server: &BenchServer, clients: usize, threads: usize, seconds: u64, file: &str) -> anyhow::Result<f64> {
    let output = Command::new(server.pgbench())
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            &threads.to_string(),
        ])
        .args(["-T", &seconds.to_string(), "-f", &script(file).display().to_string()])
        .arg(server.url(DATABASE))
        .output()
        .context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("pgbench failed: {}{}", stdout, String::from_utf8_lossy(&output.stderr));
    }
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no tps in pgbench's output: {stdout}"))
}
