//! `gpconnect-fake`: run the fake GP Connect provider from a scenario file.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use caseledger_gpconnect::fake::{FakeTls, Scenario, serve_fake};
use clap::Parser;

/// A fake GP Connect provider (Search for free slots) over mutual TLS.
#[derive(Debug, Parser)]
#[command(name = "gpconnect-fake", version)]
struct Args {
    /// Scenario JSON file.
    #[arg(long)]
    scenario: PathBuf,
    /// Server certificate chain (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// Server private key (PEM).
    #[arg(long)]
    key: PathBuf,
    /// CA certificate(s) that client certificates must chain to (PEM).
    #[arg(long = "client-ca")]
    client_ca: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let run = async {
        let scenario = Scenario::from_path(&args.scenario)?;
        let tls = FakeTls::from_pem_files(&args.cert, &args.key, &args.client_ca)?;
        let server = serve_fake(scenario, tls, args.listen).await?;
        println!("gpconnect-fake listening on https://{}", server.local_addr());
        println!("endpoint template: {}", server.endpoint_template());
        tokio::signal::ctrl_c().await?;
        server.shutdown().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gpconnect-fake: {e}");
            ExitCode::FAILURE
        }
    }
}
