//! `caseledger-bench`: the event store's append and `$all` catch-up speed, and the raw-PostgreSQL
//! baseline (`bench/*.sql` through pgbench) on the same server, so results can be given as ratios.

mod append;
mod baseline;
mod commands;
mod history;
mod hostile;
mod import;
mod national;
mod process;
mod read_all;
mod replica;
mod report;
mod server;
mod service;

/// The service's allocator (see `caseledger`'s main), for what this process times itself: the
/// rebuilds and the store's appends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

use crate::report::Run;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks of the CaseLedger event store")]
struct Cli {
    /// Print one JSON object per run instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writers append to their own new streams (NoStream, then Exact) for a while.
    Append {
        #[arg(long, default_value_t = 1)]
        writers: usize,
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Group commit: appends that go straight to the database before appends queue (the
        /// store's default unless given).
        #[arg(long)]
        direct: Option<usize>,
        /// Group commit: batches written at once (the store's default unless given).
        #[arg(long)]
        batchers: Option<usize>,
    },
    /// Loads N events, then times a full `$all` catch-up in pages of 1,000.
    ReadAll {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Times one dashboard import: 119 rows (the case study's first week) or a generated file.
    Import {
        #[arg(long, default_value_t = 119)]
        practices: usize,
    },
    /// The service at size: rebuilds, query latency at 16 clients, projection lag.
    Service {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The service at size with and without a streaming replica for its reads (its own primary
    /// and standby): a read and a write read back, 16 clients each.
    Replica {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// GraphQL mutations over HTTP from N clients against `caseledger serve`; each answer waits
    /// for the views to show its own write. `--kind note` (`addNote`: personal text, sealed) or
    /// `assign` (`assignCase`: nothing personal), one event each.
    Commands {
        #[arg(long, default_value_t = 1)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value = "note")]
        kind: String,
    },
    /// `case.history` of a 50-event case (half of them with personal fields), in process: read,
    /// opened and put through the lens, with personal fields stored in plaintext (no vault) and
    /// sealed (with one), for N iterations each.
    History {
        #[arg(long, default_value_t = 2_000)]
        iterations: usize,
    },
    /// The read side at national size (6,300 practices, 3 years of weekly extracts, 30,000
    /// case episodes) under 20 events/s of writes: each question for S seconds at 16 clients,
    /// then the raw-PostgreSQL baseline of the same session.
    National {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// What hostile documents cost: each shape answered in process, then the ICB's summary over
    /// HTTP alone and with 8 clients sending fragment doubling.
    Hostile {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The baseline's one-insert append from this process through sqlx (N writers): the client's
    /// share of the gap between the store and pgbench.
    ClientBaseline {
        #[arg(long, default_value_t = 1)]
        writers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The raw-PostgreSQL baseline: the project's copy of the shared pgbench scripts.
    Baseline {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Everything BENCHMARKS.md reports, each beside its baseline, on one server.
    Suite {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Metrics recorded as `caseledger serve` records them, so their cost is in every figure.
    caseledger_api::monitoring::prometheus();
    let server = server::BenchServer::start()?;
    let runs: Vec<Run> = match cli.command {
        Command::Append {
            writers,
            batch,
            seconds,
            direct,
            batchers,
        } => {
            let defaults = caseledger_eventstore::GroupCommitSettings::default();
            let group = caseledger_eventstore::GroupCommitSettings {
                direct: direct.unwrap_or(defaults.direct),
                writers: batchers.unwrap_or(defaults.writers),
            };
            vec![append::run(&server, writers, batch, seconds, group).await?]
        }
        Command::ReadAll { events } => vec![read_all::run(&server, events).await?],
        Command::Import { practices } => vec![import::run(&server, practices).await?],
        Command::Service { seconds } => service::run(&server, seconds).await?,
        Command::Replica { seconds } => replica::run(seconds).await?,
        Command::Baseline { seconds, events } => baseline::run_all(&server, seconds, events)?,
        Command::ClientBaseline { writers, seconds } => vec![baseline::client_append(&server, writers, seconds).await?],
        Command::Suite { seconds, events } => suite(&server, seconds, events).await?,
        Command::Commands { clients, seconds, kind } => {
            let mut lines = commands::run(&server, clients, seconds, &kind).await?;
            // The store under it, as many writers, on the same server right after: the ratio.
            let store = append::run(&server, clients, 1, seconds, Default::default()).await?;
            let commands_per_sec = lines
                .first()
                .and_then(|line| line["commands_per_sec"].as_f64())
                .unwrap_or_default();
            lines.push(serde_json::json!({
                "what": "store_append",
                "writers": clients,
                "appends_per_sec": store.events_per_sec,
                "p50_ms": store.p50_ms,
                "p99_ms": store.p99_ms,
                "commands_per_append": commands_per_sec / store.events_per_sec.max(f64::MIN_POSITIVE),
            }));
            return report::print_lines(&lines, cli.json);
        }
        Command::Hostile { seconds } => {
            return report::print_lines(&hostile::run(&server, seconds).await?, cli.json);
        }
        Command::History { iterations } => {
            return report::print_lines(&history::run(&server, iterations).await?, cli.json);
        }
        Command::National { seconds } => {
            let mut lines = national::run(&server, seconds).await?;
            // The baseline of the same session: the store's ceilings on this machine.
            for (what, run) in [
                ("baseline_append_16_clients", baseline::append(&server, 16, 1, seconds)?),
                ("baseline_read_all", baseline::read_all(&server, seconds, 1_000_000)?),
            ] {
                lines.push(serde_json::json!({ "what": what, "per_sec": run.events_per_sec, "p50_ms": run.p50_ms }));
            }
            return report::print_lines(&lines, cli.json);
        }
    };
    report::print(&runs, cli.json);
    Ok(())
}

/// The configurations, each run right after its baseline so both see the same machine.
async fn suite(server: &server::BenchServer, seconds: u64, events: usize) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    for (writers, batch) in [(1, 1), (4, 1), (16, 1), (4, 10)] {
        runs.push(baseline::append(server, writers, batch, seconds)?);
        if batch == 1 {
            runs.push(baseline::client_append(server, writers, seconds).await?);
        }
        runs.push(append::run(server, writers, batch, seconds, Default::default()).await?);
    }
    runs.push(baseline::read_all(server, seconds, events)?);
    runs.push(read_all::run(server, events).await?);
    runs.push(import::run(server, 119).await?);
    runs.push(import::run(server, 7_000).await?);
    Ok(runs)
}
