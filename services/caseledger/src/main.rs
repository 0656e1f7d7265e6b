//! `caseledger`: the CaseLedger service and command line.

use clap::Parser;

mod cli;
mod demo;
mod settings;
mod telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = telemetry::init(settings::Logging::from_env()?)?;
    let result = cli::run(cli::Cli::parse()).await;
    telemetry.shutdown().await;
    result
}
