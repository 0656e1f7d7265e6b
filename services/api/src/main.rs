//! `caseledger`: the CaseLedger command line. `migrate`, `import FILE.csv` and `replay DIR`
//! against the database in `DATABASE_URL`.

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    cli::run(cli::Cli::parse()).await
}
