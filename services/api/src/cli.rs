//! The subcommands. Reports are printed as JSON on standard output, so scripts can read them.

use std::path::PathBuf;

use anyhow::{Context, bail};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::{EventStore, MIGRATOR};
use caseledger_projections::Projections;
use clap::{Parser, Subcommand};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::auth::{Authenticator, dev_token};
use crate::graphql::{AppState, build_schema, sdl};
use crate::http::{HttpState, router};

pub const DEV_SECRET_VAR: &str = "CASELEDGER_DEV_JWT_SECRET";

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
    /// Runs the service: GraphQL at /graphql, the projections, /livez and /readyz.
    Serve,
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
    /// Prints a development token (needs CASELEDGER_DEV_JWT_SECRET).
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        sub: String,
        #[arg(long, default_value_t = 120)]
        minutes: u64,
    },
    /// Prints the GraphQL schema (SDL), as schema/caseledger.graphql holds it.
    Schema,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => serve().await,
        Command::Migrate => {
            connect().await?;
            println!("{}", serde_json::json!({ "migrated": MIGRATOR.iter().count() }));
            Ok(())
        }
        Command::Import { file, actor, role } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let csv = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let commands = Commands::new(EventStore::new(connect().await?));
            let report = commands
                .import_dashboard(&actor_named(&actor, role)?, &csv, chrono::Utc::now())
                .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.errors.is_empty() {
                bail!(
                    "{} rejected: {} error(s), nothing applied",
                    file.display(),
                    report.errors.len()
                );
            }
            Ok(())
        }
        Command::Replay { dir, actor } => {
            let commands = Commands::new(EventStore::new(connect().await?));
            let report = commands
                .replay_dir(&dir, &actor_named(&actor, Role::Icb)?, chrono::Utc::now())
                .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Token { role, sub, minutes } => {
            let secret = std::env::var(DEV_SECRET_VAR)
                .with_context(|| format!("set {DEV_SECRET_VAR} to sign development tokens"))?;
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            ShortText::parse(&sub).with_context(|| format!("sub {sub:?}"))?;
            println!("{}", dev_token(&secret, role, &sub, minutes)?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", sdl());
            Ok(())
        }
    }
}

/// Connects to `DATABASE_URL` and applies the migrations.
async fn connect() -> anyhow::Result<PgPool> {
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL to the PostgreSQL database to use")?;
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(&url)
        .await
        .context("connecting to DATABASE_URL")?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    Ok(pool)
}

async fn serve() -> anyhow::Result<()> {
    let listen = std::env::var("CASELEDGER_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let dev_secret = std::env::var(DEV_SECRET_VAR).ok().filter(|s| !s.is_empty());
    let pool = connect().await?;
    let store = EventStore::new(pool.clone());
    let projections = Projections::start(&store);
    let auth = Authenticator::new(dev_secret.as_deref());
    if auth.development_mode() {
        tracing::warn!(
            "development mode: HS256 tokens signed with {DEV_SECRET_VAR} are accepted, GraphiQL at /graphiql"
        );
    }
    let app = router(HttpState {
        schema: build_schema(AppState::new(store)),
        auth,
        pool,
    });
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(%listen, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    projections.stop().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminated => {}
    }
}

fn actor_named(id: &str, role: Role) -> anyhow::Result<Actor> {
    let id = ShortText::parse(id).with_context(|| format!("actor {id:?}"))?;
    Ok(Actor::new(id, role))
}
