//! `caseledger`: the CaseLedger service and command line.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = caseledger_api::telemetry::init()?;
    let result = caseledger_api::cli::run(caseledger_api::cli::Cli::parse()).await;
    telemetry.shutdown().await;
    result
}
