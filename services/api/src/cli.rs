//! The subcommands. Reports are printed as JSON on standard output, so scripts can read them.
//!
//! The database is `DATABASE_URL`'s or, when that is unset, a cluster the service owns under
//! `CASELEDGER_DATA_DIR` (default `./.caseledger`), made and started from the installed server
//! binaries, kept across restarts, and stopped on exit by the process that started it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::{EventStore, MIGRATOR};
use caseledger_pgembed::{Cluster, StopMode};
use caseledger_projections::Projections;
use caseledger_projections::live::LiveFeed;
use clap::{Parser, Subcommand};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::auth::{Authenticator, dev_token};
use crate::graphql::{AppState, build_schema_with, sdl};
use crate::http::{HttpState, metrics_router, router};
use crate::settings::{DEV_SECRET_VAR, Settings};

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
    /// Runs the service in development mode on the demo data (the case study), loaded into an
    /// empty database, and prints the URL and a token for each party.
    Demo,
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
    /// Rebuilds a projection (or all) from zero into new tables and swaps them in; a running
    /// service keeps answering.
    Rebuild {
        /// `case_view` or `practice_view`; all when left out.
        name: Option<String>,
    },
    /// Prints a development token (needs CASELEDGER_DEV_JWT_SECRET).
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        sub: String,
        #[arg(long, default_value_t = 120)]
        minutes: u64,
        /// Valid for this many seconds instead of `--minutes`.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Prints the GraphQL schema (SDL), as schema/caseledger.graphql holds it.
    Schema,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Token {
            role,
            sub,
            minutes,
            seconds,
        } => {
            let secret = std::env::var(DEV_SECRET_VAR)
                .with_context(|| format!("set {DEV_SECRET_VAR} to sign development tokens"))?;
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            ShortText::parse(&sub).with_context(|| format!("sub {sub:?}"))?;
            let seconds = seconds.unwrap_or(minutes.saturating_mul(60));
            println!("{}", dev_token(&secret, role, &sub, seconds)?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", sdl());
            Ok(())
        }
        command => {
            // Configuration errors before anything starts.
            let settings = Settings::from_env()?;
            if matches!(command, Command::Serve) {
                settings.check_development_mode()?;
            }
            let database = Database::open().await?;
            let result = with_database(command, &database.pool, settings).await;
            database.close().await;
            result
        }
    }
}

async fn with_database(command: Command, pool: &PgPool, settings: Settings) -> anyhow::Result<()> {
    let commands = Commands::new(EventStore::new(pool.clone()));
    let now = chrono::Utc::now();
    match command {
        Command::Serve => serve(pool.clone(), settings).await,
        Command::Demo => demo(pool.clone(), &commands, settings).await,
        Command::Migrate => {
            println!("{}", serde_json::json!({ "migrated": MIGRATOR.iter().count() }));
            Ok(())
        }
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
                    report.error_count
                );
            }
            Ok(())
        }
        Command::Replay { dir, actor } => {
            let report = commands.replay_dir(&dir, &actor_named(&actor, Role::Icb)?, now).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Rebuild { name } => {
            let names: Vec<String> = match name {
                Some(name) => vec![name],
                None => caseledger_projections::NAMES.iter().map(|n| n.to_string()).collect(),
            };
            let mut rebuilt = Vec::new();
            for name in names {
                rebuilt.push(caseledger_projections::rebuild(commands.store(), &name).await?);
            }
            println!("{}", serde_json::to_string_pretty(&rebuilt)?);
            Ok(())
        }
        Command::Token { .. } | Command::Schema => Ok(()),
    }
}

/// The service's database, and the embedded cluster if this process started it.
struct Database {
    pool: PgPool,
    owned: Option<Cluster>,
}

impl Database {
    async fn open() -> anyhow::Result<Self> {
        let (options, owned) = match std::env::var("DATABASE_URL") {
            Ok(url) => (
                url.parse::<PgConnectOptions>()
                    .context("DATABASE_URL is not a PostgreSQL URL")?,
                None,
            ),
            Err(_) => {
                let dir = crate::settings::data_dir();
                let cluster = tokio::task::spawn_blocking(move || Cluster::open(&dir, true)).await??;
                let was_running = cluster.is_running();
                if !was_running {
                    let starting = cluster.clone();
                    tokio::task::spawn_blocking(move || starting.start()).await??;
                }
                tracing::info!(dir = %cluster.base_dir().display(), reused = was_running, "embedded PostgreSQL");
                let mut admin = cluster.connect_options("postgres").connect().await?;
                let exists: bool =
                    sqlx::query_scalar("select exists (select 1 from pg_database where datname = 'caseledger')")
                        .fetch_one(&mut admin)
                        .await?;
                if !exists {
                    sqlx::query("create database caseledger").execute(&mut admin).await?;
                }
                admin.close().await?;
                (cluster.connect_options("caseledger"), (!was_running).then_some(cluster))
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(options)
            .await
            .context("connecting to the database")?;
        MIGRATOR.run(&pool).await.context("applying migrations")?;
        Ok(Self { pool, owned })
    }

    async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.owned {
            match tokio::task::spawn_blocking(move || cluster.stop(StopMode::Fast)).await {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(error)) => tracing::error!(%error, "could not stop the embedded PostgreSQL"),
                Err(error) => tracing::error!(%error, "could not stop the embedded PostgreSQL"),
            }
        }
    }
}

/// The demo data: the case study, shipped inside the binary.
const DEMO_FILES: [(&str, &str); 11] = [
    ("practices.csv", include_str!("../demo/case-study/practices.csv")),
    (
        "interventions.jsonl",
        include_str!("../demo/case-study/interventions.jsonl"),
    ),
    (
        "dashboard-week-00.csv",
        include_str!("../demo/case-study/dashboard-week-00.csv"),
    ),
    (
        "dashboard-week-01.csv",
        include_str!("../demo/case-study/dashboard-week-01.csv"),
    ),
    (
        "dashboard-week-02.csv",
        include_str!("../demo/case-study/dashboard-week-02.csv"),
    ),
    (
        "dashboard-week-03.csv",
        include_str!("../demo/case-study/dashboard-week-03.csv"),
    ),
    (
        "dashboard-week-04.csv",
        include_str!("../demo/case-study/dashboard-week-04.csv"),
    ),
    (
        "dashboard-week-05.csv",
        include_str!("../demo/case-study/dashboard-week-05.csv"),
    ),
    (
        "dashboard-week-06.csv",
        include_str!("../demo/case-study/dashboard-week-06.csv"),
    ),
    (
        "dashboard-week-07.csv",
        include_str!("../demo/case-study/dashboard-week-07.csv"),
    ),
    (
        "dashboard-week-08.csv",
        include_str!("../demo/case-study/dashboard-week-08.csv"),
    ),
];

/// The demo: the case study loaded into an empty database, development tokens for each party.
async fn demo(pool: PgPool, commands: &Commands, mut settings: Settings) -> anyhow::Result<()> {
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await?;
    if events == 0 {
        let dir = std::env::temp_dir().join(format!("caseledger-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        for (name, text) in DEMO_FILES {
            std::fs::write(dir.join(name), text)?;
        }
        let report = commands
            .replay_dir(&dir, &actor_named("icb-assurance-1", Role::Icb)?, chrono::Utc::now())
            .await;
        std::fs::remove_dir_all(&dir).ok();
        let report = report?;
        eprintln!(
            "demo data loaded: {} extracts, {} interventions, {} cases",
            report.imports, report.commands, report.flagged
        );
    }
    // A random secret unless one was given: tokens from an earlier demo stop working.
    let secret = settings
        .dev_secret
        .get_or_insert_with(|| format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
        .clone();
    settings.check_development_mode()?;
    let listen = settings.listen.clone();
    println!("CaseLedger demo: http://{listen}/ (sign in as any party)");
    println!("GraphQL: http://{listen}/graphql   GraphiQL: http://{listen}/graphiql");
    println!("Tokens for `Authorization: Bearer <token>`, valid for 12 hours:");
    for (role, sub) in [
        (Role::Icb, "icb-assurance-1"),
        (Role::Lmc, "lmc-officer-1"),
        (Role::Dhu, "dhu-liaison-1"),
        (Role::Champion, "dc-amira"),
        (Role::Admin, "ops-1"),
    ] {
        println!(
            "  {:<9} {:<16} {}",
            role.as_str(),
            sub,
            dev_token(&secret, role, sub, 12 * 60 * 60)?
        );
    }
    serve(pool, settings).await
}

async fn serve(pool: PgPool, settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen.clone();
    // Before anything records a metric: what is recorded earlier is lost.
    crate::monitoring::prometheus();
    let store = EventStore::new(pool.clone());
    let projections = Projections::start(&store);
    let mut auth = Authenticator::new(settings.dev_secret.as_deref());
    let mut web_oidc = None;
    if let Some(oidc) = settings.oidc.clone() {
        tracing::info!(issuer = %oidc.issuer, "accepting RS256/ES256 tokens from the issuer");
        web_oidc = crate::web::oidc::WebOidc::from_env(&oidc).map_err(anyhow::Error::msg)?;
        if web_oidc.is_some() {
            tracing::info!("web sign-in with the issuer (authorisation code flow with PKCE)");
        }
        auth = auth.with_oidc(oidc);
    }
    if auth.development_mode() {
        tracing::warn!(
            "development mode: HS256 tokens signed with {DEV_SECRET_VAR} are accepted, GraphiQL at /graphiql"
        );
    }
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let live = LiveFeed::start(store.clone(), Some(stop.clone()));
    let schema = build_schema_with(
        AppState::with(store, live.clone(), settings.subscriptions),
        settings.limits,
    );
    let web = crate::web::WebState::new(
        schema.clone(),
        pool.clone(),
        live,
        auth.development_mode(),
        web_oidc,
        settings.session_idle,
    );
    if let Some(metrics_listen) = &settings.metrics_listen {
        let listener = tokio::net::TcpListener::bind(metrics_listen)
            .await
            .with_context(|| format!("listening for /metrics on {metrics_listen} (CASELEDGER_METRICS_LISTEN)"))?;
        tracing::info!(listen = %listener.local_addr()?, "serving /metrics");
        let mut stop = stop.clone();
        tokio::spawn(
            axum::serve(listener, metrics_router(pool.clone()))
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .into_future(),
        );
    }
    let app = router(HttpState {
        schema,
        auth,
        pool,
        web: Some(web),
    });
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(listen = %listener.local_addr()?, "serving");
    let mut stop = stop;
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stop| *stop).await;
            })
            .into_future(),
    );
    shutdown_signal().await;
    tracing::info!("shutting down: no new connections; finishing the requests in flight");
    let _ = stopping.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::error!(%error, "the HTTP server failed"),
        Ok(Err(error)) => tracing::error!(%error, "the HTTP server task failed"),
        Err(_) => tracing::warn!(
            seconds = SHUTDOWN_GRACE.as_secs(),
            "connections still open (subscriptions) after the grace period: closing them"
        ),
    }
    projections.stop().await;
    tracing::info!("stopped: projections committed and released their leases");
    Ok(())
}

/// How long a stopping service waits for open connections before it closes them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

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
