//! `caseledger`: the CaseLedger service and command line.

use clap::Parser;

mod cli;
mod demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = caseledger_api::telemetry::init()?;
    let result = cli::run(cli::Cli::parse()).await;
    telemetry.shutdown().await;
    result
}
