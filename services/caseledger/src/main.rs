//! `caseledger`: the CaseLedger service and command line.

use clap::Parser;

mod cli;
mod demo;
mod settings;
mod telemetry;

/// mimalloc, not glibc's malloc: pages, GraphQL answers and rebuilds allocate many small values
/// from several threads at once; with it `/icb` served 60% more pages a second at 16 clients on
/// the national data (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = telemetry::init(settings::Logging::from_env()?)?;
    let result = cli::run(cli::Cli::parse()).await;
    telemetry.shutdown().await;
    result
}
