//! The subcommands. Each prints what it did as JSON on standard output, so scripts can read it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::{EventStore, MIGRATOR};
use clap::{Parser, Subcommand};
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Parser)]
#[command(
    name = "caseledger",
    about = "CaseLedger: NHS 111 slot cases, event-sourced",
    version
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies the database migrations.
    Migrate,
    /// Imports one dashboard extract (CSV); a file with any bad row is rejected whole.
    Import {
        file: PathBuf,
        /// Who imports, as the events will record it.
        #[arg(long, default_value = "icb-dashboard-import")]
        actor: String,
        /// `icb` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Replays a folder shaped like the case study: weekly extracts and interventions.jsonl.
    Replay {
        dir: PathBuf,
        /// Who imports the extracts.
        #[arg(long, default_value = "icb-dashboard-import")]
        actor: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL to the PostgreSQL database to use")?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await
        .context("connecting to DATABASE_URL")?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    let commands = Commands::new(EventStore::new(pool));
    let now = chrono::Utc::now();
    match cli.command {
        Command::Migrate => println!("{}", serde_json::json!({ "migrated": MIGRATOR.iter().count() })),
        Command::Import { file, actor, role } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let csv = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = commands
                .import_dashboard(&actor_named(&actor, role)?, &csv, now)
                .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.errors.is_empty() {
                bail!(
                    "{} rejected: {} error(s), nothing applied",
                    file.display(),
                    report.errors.len()
                );
            }
        }
        Command::Replay { dir, actor } => {
            let report = commands.replay_dir(&dir, &actor_named(&actor, Role::Icb)?, now).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

fn actor_named(id: &str, role: Role) -> anyhow::Result<Actor> {
    let id = ShortText::parse(id).with_context(|| format!("actor {id:?}"))?;
    Ok(Actor::new(id, role))
}
