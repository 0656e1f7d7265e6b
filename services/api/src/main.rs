//! `caseledger`: the CaseLedger service and command line.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    caseledger_api::cli::run(caseledger_api::cli::Cli::parse()).await
}
