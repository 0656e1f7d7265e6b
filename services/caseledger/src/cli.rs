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

use crate::settings::{DEV_SECRET_VAR, Settings};
use caseledger_api::auth::{Authenticator, dev_token_for};
use caseledger_api::graphql::{AppState, build_schema_with, sdl};
use caseledger_api::http::{HttpState, metrics_router, router};
use caseledger_jobs::verification::{SharedVerifier, SlotVerifier, Verifications};

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
    /// empty database, and prints the URL and a token for each party. The story is work in
    /// progress, moved to this week: cases in every stage, some late; `--full` loads all of it.
    Demo {
        /// The whole story, to its end (every case compliant).
        #[arg(long)]
        full: bool,
    },
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
    /// Imports the practice register (CSV: ods_code, practice_name, pcn_code, pcn_name, place,
    /// list_size, main_site, branch_sites); a file with any bad row is rejected whole.
    ImportPractices {
        file: PathBuf,
        #[arg(long, default_value = "icb-practice-register")]
        actor: String,
        /// `icb` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Imports ODS's GP practices file, `epraccur.csv`, as published: this ICB's practices
    /// (CASELEDGER_SUB_ICB_CODES) with their addresses, telephones, open and close dates.
    ImportOds {
        file: PathBuf,
        #[arg(long, default_value = "icb-ods-import")]
        actor: String,
        /// `icb` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Imports "Patients Registered at a GP Practice" (`gp-reg-pat-prac-all.csv`) as published:
    /// each practice's list size, dated its extract date.
    ImportListSizes {
        file: PathBuf,
        #[arg(long, default_value = "icb-ods-import")]
        actor: String,
        /// `icb` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Imports ODS's ePCN release: PCNs and their member practices, with join and left dates.
    ImportPcns {
        file: PathBuf,
        #[arg(long, default_value = "icb-ods-import")]
        actor: String,
        /// `icb` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Imports the DHU's own visibility extract (CSV: ods_code, date, slots_visible).
    ImportDhu {
        file: PathBuf,
        #[arg(long, default_value = "dhu-extract")]
        actor: String,
        /// `dhu` or `admin`.
        #[arg(long, default_value = "dhu")]
        role: String,
    },
    /// Imports the 111 provider's weekly core-hours calls by practice (CSV: week_start, ods_code,
    /// calls; a week starts on a Monday).
    ImportCoreHoursCalls {
        file: PathBuf,
        #[arg(long, default_value = "dhu-extract")]
        actor: String,
        /// `dhu`, `icb` or `admin`.
        #[arg(long, default_value = "dhu")]
        role: String,
    },
    /// Imports practices' months of telephony (CSV: month, ods_code, inbound_calls,
    /// average_wait_seconds, abandonment_rate, average_call_seconds, callbacks; a month once it
    /// has ended). A PCN's clinical director uploads their own practices' on the review page.
    ImportTelephonyMetrics {
        file: PathBuf,
        #[arg(long, default_value = "icb-telephony-import")]
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
        /// `case_view`, `practice_view`, `dhu_report_view` or `figures`; all when left out.
        name: Option<String>,
    },
    /// Events a projection set aside after failing on them: list them, retry one (once its cause
    /// is mended) or skip it for good.
    Parked {
        #[command(subcommand)]
        action: ParkedAction,
    },
    /// Prints a development token (needs CASELEDGER_DEV_JWT_SECRET).
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        sub: String,
        /// For `practice`, the practice's ODS code; for `pcn_clinical_director`, the PCN's code.
        #[arg(long)]
        org: Option<String>,
        #[arg(long, default_value_t = 120)]
        minutes: u64,
        /// Valid for this many seconds instead of `--minutes`.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Prints the GraphQL schema (SDL), as schema/caseledger.graphql holds it.
    Schema,
    /// Asks a practice's system through GP Connect, as the 111 provider would, for its free slots
    /// over the next 14 days; records and prints what it found (needs CASELEDGER_GPCONNECT_*).
    Verify {
        ods_code: String,
        #[arg(long, default_value = "icb-gpconnect-cli")]
        actor: String,
        /// `icb`, `dhu`, `champion` or `admin`.
        #[arg(long, default_value = "icb")]
        role: String,
    },
    /// Runs a fake GP Connect provider (free-slot search) from a scenario file, over TLS that
    /// requires a client certificate: to try the verifier against.
    GpconnectFake {
        #[arg(long)]
        scenario: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        client_ca: PathBuf,
        #[arg(long, default_value = "127.0.0.1:9443")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
enum ParkedAction {
    /// Lists parked events, unresolved first, newest first.
    List {
        /// Only this projection's.
        #[arg(long)]
        projection: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Hands a parked event to its projection again; resolved if it now succeeds.
    Retry { projection: String, event_id: uuid::Uuid },
    /// Leaves a parked event out of its projection for good.
    Skip { projection: String, event_id: uuid::Uuid },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Token {
            role,
            sub,
            org,
            minutes,
            seconds,
        } => {
            let secret = Settings::from_env()?
                .dev_secret
                .with_context(|| format!("set {DEV_SECRET_VAR} to sign development tokens"))?;
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            ShortText::parse(&sub).with_context(|| format!("sub {sub:?}"))?;
            let seconds = seconds.unwrap_or(minutes.saturating_mul(60));
            // A scoped role needs its organisation, checked here rather than refused on first use.
            let scope = caseledger_cases::role::Scope::for_role(role, org.as_deref().unwrap_or_default())
                .with_context(|| format!("--org for the {role} role"))?;
            let org = scope.as_ref().map(|scope| scope.code().to_string());
            println!("{}", dev_token_for(&secret, role, &sub, org.as_deref(), seconds)?);
            Ok(())
        }
        Command::Schema => {
            print!("{}", sdl());
            Ok(())
        }
        Command::GpconnectFake {
            scenario,
            cert,
            key,
            client_ca,
            listen,
        } => {
            use caseledger_gpconnect::fake::{FakeTls, Scenario, serve_fake};
            let scenario = Scenario::from_path(&scenario)?;
            let tls = FakeTls::from_pem_files(&cert, &key, &client_ca)?;
            let fake = serve_fake(scenario, tls, listen).await?;
            println!("GP Connect fake provider: {}", fake.endpoint_template());
            shutdown_signal().await;
            fake.shutdown().await;
            Ok(())
        }
        command => {
            // Configuration errors before anything starts.
            let settings = Settings::from_env()?;
            if matches!(command, Command::Serve) {
                settings.check_development_mode()?;
            }
            if let Some(start) = settings.clock_start {
                // The demo is development mode whatever its secret; every other command must be.
                if settings.dev_secret.is_none() && !matches!(command, Command::Demo { .. }) {
                    settings.check_development_mode()?;
                }
                caseledger_clock::start_at(start)?;
                tracing::info!(now = %start, "business time starts at {}", crate::settings::CLOCK_START_VAR);
            }
            let database = Database::open(&settings).await?;
            let result = match open_store(&command, &database, &settings).await {
                Ok(store) => with_database(command, store, settings).await,
                Err(error) => Err(error),
            };
            database.close().await;
            result
        }
    }
}

/// The event store, with the vault that seals and opens personal data. The commands that write
/// events need the key-encryption key; the others use it when they have it.
/// On this machine's own database (the embedded default, or the demo) a missing KEK is made and
/// kept in the data directory; elsewhere it must be configured.
async fn open_store(command: &Command, database: &Database, settings: &Settings) -> anyhow::Result<EventStore> {
    let store = EventStore::new(database.pool.clone());
    let local = (database.embedded || matches!(command, Command::Demo { .. })).then(|| settings.data_dir.clone());
    // Every command that writes events: none may write personal data in plaintext.
    let writes = !matches!(
        command,
        Command::Migrate | Command::Rebuild { .. } | Command::Parked { .. }
    );
    if !writes && settings.kek.is_none() && local.is_none() {
        return Ok(store);
    }
    let kek = caseledger_jobs::personal_data::key_encryption_key(
        settings.kek.as_ref().map(|secret| secret.0.as_str()),
        local.as_deref(),
    )?;
    Ok(store.with_vault(caseledger_jobs::personal_data::vault(&database.pool, kek).await?))
}

/// The deployment's working-day calendar: `CASELEDGER_BANK_HOLIDAYS_FILE`, else the shipped list.
fn calendar(settings: &Settings) -> anyhow::Result<caseledger_cases::holidays::BankHolidays> {
    Ok(match &settings.bank_holidays {
        Some(path) => {
            caseledger_cases::holidays::BankHolidays::from_path(path).context("CASELEDGER_BANK_HOLIDAYS_FILE")?
        }
        None => caseledger_cases::holidays::BankHolidays::england_and_wales(),
    })
}

async fn with_database(command: Command, store: EventStore, settings: Settings) -> anyhow::Result<()> {
    let commands = Commands::new(store.clone())
        .with_import_policy(settings.imports)
        .with_sources(settings.sources.clone())
        .with_review_policy(
            settings
                .diversion_review
                .policy(std::sync::Arc::new(calendar(&settings)?)),
        );
    let now = caseledger_clock::now();
    match command {
        Command::Serve => {
            let verifier = configured_verifier(&settings)?;
            serve(store, settings, verifier).await
        }
        Command::Demo { full } => demo(store, &commands, settings, full).await,
        Command::Migrate => {
            println!("{}", serde_json::json!({ "migrated": MIGRATOR.iter().count() }));
            Ok(())
        }
        Command::Import { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_dashboard(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportPractices { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_register(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportOds { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_ods(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportListSizes { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_list_sizes(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportPcns { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_pcns(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportDhu { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_dhu_extract(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportCoreHoursCalls { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_core_hours_calls(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
        }
        Command::ImportTelephonyMetrics { file, actor, role } => {
            let (actor, csv) = import_input(&file, &actor, &role)?;
            let report = commands.import_telephony_metrics(&actor, &csv, now).await?;
            imported(&file, &report, report.error_count)
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
        Command::Parked { action } => {
            let store = commands.store();
            match action {
                ParkedAction::List { projection, limit } => {
                    let parked = caseledger_projections::parked::list(store, projection.as_deref(), limit).await?;
                    println!("{}", serde_json::to_string_pretty(&parked)?);
                }
                ParkedAction::Retry { projection, event_id } => {
                    caseledger_projections::parked::retry(store, &projection, event_id).await?;
                    println!(
                        "{}",
                        serde_json::json!({ "retried": event_id, "projection": projection })
                    );
                }
                ParkedAction::Skip { projection, event_id } => {
                    caseledger_projections::parked::skip(store, &projection, event_id).await?;
                    println!(
                        "{}",
                        serde_json::json!({ "skipped": event_id, "projection": projection })
                    );
                }
            }
            Ok(())
        }
        Command::Verify { ods_code, actor, role } => {
            let verifier = configured_verifier(&settings)?
                .context("GP Connect is not configured: set CASELEDGER_GPCONNECT_* (see the README)")?;
            let ods = caseledger_cases::values::OdsCode::parse(&ods_code).with_context(|| format!("{ods_code:?}"))?;
            let actor = actor_named(
                &actor,
                Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?,
            )?;
            // The register is read from the views: bring them up to what the store holds first,
            // so a practice imported a moment ago (`import-practices`) is there.
            let projections = Projections::start(commands.store());
            let caught_up =
                caseledger_projections::wait_for_projections(commands.store(), std::time::Duration::from_secs(120))
                    .await;
            let verifications = Verifications {
                verifier,
                commands: commands.clone(),
            };
            let found = match caught_up {
                Ok(true) => {
                    verifications
                        .verify(
                            &actor,
                            &ods,
                            None,
                            None,
                            caseledger_jobs::verification::Priority::Person,
                        )
                        .await
                }
                Ok(false) => {
                    projections.stop().await;
                    bail!("the views did not catch up with the store within 120 s: try again");
                }
                Err(error) => {
                    projections.stop().await;
                    return Err(error.into());
                }
            };
            projections.stop().await;
            let (found, _) = found?;
            println!("{}", serde_json::to_string_pretty(&found)?);
            Ok(())
        }
        Command::Token { .. } | Command::Schema | Command::GpconnectFake { .. } => Ok(()),
    }
}

/// An import's actor (`actor` in `role`) and its file's text.
fn import_input(file: &std::path::Path, actor: &str, role: &str) -> anyhow::Result<(caseledger_cases::Actor, String)> {
    let role = Role::parse(role).with_context(|| format!("unknown role {role:?}"))?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok((actor_named(actor, role)?, caseledger_cases::extract::text_of(bytes)))
}

/// Prints an import's report; fails when it refused the file.
fn imported(file: &std::path::Path, report: &impl serde::Serialize, errors: usize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(report)?);
    if errors > 0 {
        bail!("{} rejected: {errors} error(s), nothing applied", file.display());
    }
    Ok(())
}

/// The service's database, and the embedded cluster if this process started it.
struct Database {
    pool: PgPool,
    owned: Option<Cluster>,
    /// The embedded default on this machine, not `DATABASE_URL`'s.
    embedded: bool,
}

/// The service's sessions: without PostgreSQL's JIT compiler. A query whose estimated cost passes
/// `jit_above_cost` (a practice list with a per-row subquery, say) spent 17 ms compiling to run
/// in 2 ms; every query here is short, so compiling never pays back.
fn session(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("jit", "off")])
}

impl Database {
    async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let (options, owned) = match &settings.database_url {
            Some(url) => (
                url.0
                    .parse::<PgConnectOptions>()
                    .context("DATABASE_URL is not a PostgreSQL URL")?,
                None,
            ),
            None => {
                let dir = settings.data_dir.clone();
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
            .connect_with(session(options))
            .await
            .context("connecting to the database")?;
        MIGRATOR.run(&pool).await.context("applying migrations")?;
        let embedded = settings.database_url.is_none();
        Ok(Self { pool, owned, embedded })
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
const DEMO_FILES: [(&str, &str); 14] = [
    // The register as a real ICB loads it: NHS England's files (ODS-shaped, of the case study's
    // practices), then the sites from the hand-built register.
    ("epraccur.csv", include_str!("../demo/nhs/epraccur.csv")),
    (
        "gp-reg-pat-prac-all.csv",
        include_str!("../demo/nhs/gp-reg-pat-prac-all.csv"),
    ),
    (
        "epcncorepartnerdetails.csv",
        include_str!("../demo/nhs/epcncorepartnerdetails.csv"),
    ),
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
/// The demo's ICB as NHS England's files name it (Coventry and Warwickshire's sub-ICB location)
/// and its places by PCN, unless the deployment names its own.
const DEMO_SUB_ICB_CODES: &str = "B2M3M";
/// The demo ICB's name on its reports (the data are synthetic).
const DEMO_ICB_NAME: &str = "Demo ICB (synthetic data)";
const DEMO_PLACES: &str = include_str!("../demo/nhs/places.csv");

async fn demo(store: EventStore, commands: &Commands, mut settings: Settings, full: bool) -> anyhow::Result<()> {
    if settings.sources.icb.is_empty() {
        settings.sources = caseledger_commands::Sources {
            icb: caseledger_cases::ods::SubIcbCodes::parse(DEMO_SUB_ICB_CODES).map_err(anyhow::Error::msg)?,
            places: caseledger_cases::ods::Places::parse(DEMO_PLACES)
                .map_err(|errors| anyhow::anyhow!("the demo's places: {errors:?}"))?,
        };
    }
    if settings.icb_name.is_none() {
        settings.icb_name = Some(DEMO_ICB_NAME.to_string());
    }
    let commands = &commands.clone().with_sources(settings.sources.clone());
    if commands.store().head().await?.is_none() {
        let dir = std::env::temp_dir().join(format!("caseledger-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let now = caseledger_clock::now();
        let files: Vec<(String, String)> = if full {
            DEMO_FILES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
        } else {
            crate::demo::in_progress(&DEMO_FILES, now)
        };
        for (name, text) in &files {
            std::fs::write(dir.join(name), text)?;
        }
        let report = commands
            .replay_dir(&dir, &actor_named("icb-assurance-1", Role::Icb)?, now)
            .await;
        std::fs::remove_dir_all(&dir).ok();
        let report = report?;
        if !full {
            crate::demo::this_week(commands, now)
                .await
                .context("recording the demo's work of this week")?;
        }
        eprintln!(
            "demo data loaded: {} extracts, {} interventions, {} cases",
            report.imports, report.commands, report.flagged
        );
    }
    // The demo's people, as an admin would have added them ahead of their first sign-in.
    for (role, id) in caseledger_web::DEMO_USERS {
        let name = caseledger_web::DEMO_NAMES
            .iter()
            .find(|(demo, _)| *demo == id)
            .map(|(_, name)| name.to_string());
        let person = caseledger_commands::people::Changes {
            name,
            ..Default::default()
        };
        match caseledger_commands::people::add(store.pool(), id, role, &person, "demo").await {
            Ok(_) | Err(caseledger_commands::people::PeopleError::Exists { .. }) => {}
            Err(error) => return Err(error).context("adding the demo's people"),
        }
    }
    // A random secret unless one was given: tokens from an earlier demo stop working.
    let secret = settings
        .dev_secret
        .get_or_insert_with(|| format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
        .clone();
    settings.check_development_mode()?;
    let listen = settings.listen.clone();
    println!("CaseLedger demo: http://{listen}/ (sign in as any party)");
    println!("GraphQL: http://{listen}/graphql   GraphQL explorer: http://{listen}/graphiql");
    println!("Tokens for `Authorization: Bearer <token>`, valid for 12 hours:");
    for (role, sub, org) in [
        (Role::Icb, "icb-assurance-1", None),
        (Role::Lmc, "lmc-officer-1", None),
        (Role::Dhu, "dhu-liaison-1", None),
        (Role::Champion, "dc-amira", None),
        (Role::Admin, "admin-1", None),
        (Role::Practice, "pm-z00011", Some("Z00011")),
        (Role::PcnClinicalDirector, "cd-u10001", Some("U10001")),
    ] {
        println!(
            "  {:<21} {:<16} {}",
            role.as_str(),
            sub,
            dev_token_for(&secret, role, sub, org, 12 * 60 * 60)?
        );
    }
    let verifier = match configured_verifier(&settings)? {
        Some(verifier) => Some(verifier),
        None => demo_gpconnect(&store).await?,
    };
    serve(store, settings, verifier).await
}

/// The demo's GP Connect, when this build has it: a fake provider on the demo's practices.
#[cfg(feature = "demo")]
async fn demo_gpconnect(store: &EventStore) -> anyhow::Result<Option<SharedVerifier>> {
    let verifier = caseledger_jobs::demo::gp_connect(store)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    println!("GP Connect (fake provider for the demo): press \"Verify through GP Connect\" on a case");
    Ok(Some(verifier))
}

#[cfg(not(feature = "demo"))]
async fn demo_gpconnect(_: &EventStore) -> anyhow::Result<Option<SharedVerifier>> {
    Ok(None)
}

/// The verifier of the GP Connect configured by `CASELEDGER_GPCONNECT_*`, if any.
fn configured_verifier(settings: &Settings) -> anyhow::Result<Option<SharedVerifier>> {
    match settings.gpconnect.clone() {
        Some(config) => Ok(Some(std::sync::Arc::new(SlotVerifier::new(config)?))),
        None => Ok(None),
    }
}

async fn serve(store: EventStore, settings: Settings, verifier: Option<SharedVerifier>) -> anyhow::Result<()> {
    let pool = store.pool().clone();
    let listen = settings.listen.clone();
    // Before anything records a metric: what is recorded earlier is lost.
    caseledger_api::monitoring::prometheus();
    let projections = Projections::start(&store);
    let mut auth = Authenticator::new(settings.dev_secret.as_deref()).with_directory(pool.clone());
    #[cfg_attr(not(feature = "sign-in"), allow(unused_mut))]
    let mut web_oidc = None;
    if let Some(oidc) = settings.oidc.clone() {
        tracing::info!(issuer = %oidc.issuer, "accepting RS256/ES256 tokens from the issuer");
        #[cfg(feature = "sign-in")]
        if let Some(sign_in) = &settings.web_sign_in {
            let scopes: Vec<&str> = sign_in.scopes.iter().map(String::as_str).collect();
            let mut sign_in_with = caseledger_web::oidc::WebOidc::new(
                &oidc,
                &sign_in.client_id,
                sign_in.client_secret.as_ref().map(|secret| secret.0.clone()),
                &sign_in.public_url,
                &scopes,
            )
            .map_err(anyhow::Error::msg)?;
            if let Some(rules) = sign_in.cis2.clone() {
                tracing::info!(
                    rules = rules.rules.len(),
                    min_assurance = rules.min_assurance,
                    "web sign-in as NHS CIS2 issues it: the selected role, by the rules"
                );
                sign_in_with = sign_in_with.with_cis2(rules);
            }
            web_oidc = Some(sign_in_with);
            tracing::info!("web sign-in with the issuer (authorisation code flow with PKCE)");
        }
        auth = auth.with_oidc(oidc);
    }
    if auth.development_mode() {
        tracing::warn!(
            "development mode: HS256 tokens signed with {DEV_SECRET_VAR} are accepted, a GraphQL explorer at /graphiql"
        );
    }
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let live = LiveFeed::start(store.clone(), Some(stop.clone()));
    let gp_connect = verifier.is_some();
    let batches = verifier.clone();
    let deadlines = caseledger_cases::deadlines::Deadlines {
        targets: settings.targets,
        calendar: std::sync::Arc::new(calendar(&settings)?),
    };
    let commands = Commands::new(store.clone())
        .with_import_policy(settings.imports)
        .with_sources(settings.sources.clone())
        .with_review_policy(settings.diversion_review.policy(deadlines.calendar.clone()));
    let mut app_state = AppState::with(store.clone(), live.clone(), settings.subscriptions);
    app_state.mail_domains = settings.mail_domains.clone();
    app_state.commands = commands.clone();
    let mut app_state = app_state.with_deadlines(deadlines.clone());
    if let Some(url) = &settings.read_database_url {
        // Lazily: a replica that is down at start is read from once it answers.
        let options: PgConnectOptions = url.0.parse().context("CASELEDGER_READ_DATABASE_URL")?;
        let replica = PgPoolOptions::new()
            .max_connections(20)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_lazy_with(session(options));
        tracing::info!("queries read the views from the read replica while it is current");
        app_state = app_state.with_read_replica(replica);
    }
    // The background work (retention, GP Connect schedule, notifications): each a job, run under
    // its lease; on shutdown each finishes the round it is in while the database is still there.
    let mut jobs: Vec<Box<dyn caseledger_jobs::Job>> = Vec::new();
    if let Some(after) = settings.retain_personal {
        tracing::info!(
            days = after.as_secs() / 86_400,
            "closed cases' personal data is erased after its retention period"
        );
        jobs.push(Box::new(caseledger_jobs::personal_data::Retention {
            commands: commands.clone(),
            after,
        }));
    }
    if let Some(verifier) = verifier {
        tracing::info!("GP Connect verification on");
        app_state = app_state.with_verifier(verifier.clone());
        if let Some(every) = settings.verify_every {
            jobs.push(Box::new(caseledger_jobs::verification::Schedule {
                verifications: Verifications {
                    verifier,
                    commands: commands.clone(),
                },
                every,
            }));
        }
    }
    if let Some(job) = notifications(&settings, &pool, deadlines)? {
        jobs.push(job);
    }
    let jobs = caseledger_jobs::Jobs::start(pool.clone(), jobs);
    // Live streams hold connections: at most half of the service's for them.
    app_state.throttle = caseledger_commands::throttle::Throttle::with_limits([(
        caseledger_commands::throttle::Work::LiveStream,
        caseledger_commands::throttle::Limit {
            overall: (settings.connections.max_connections / 2).max(1),
            ..caseledger_commands::throttle::Work::LiveStream.default_limit()
        },
    )]);
    let throttle = app_state.throttle.clone();
    app_state.warm_figures();
    let schema = build_schema_with(app_state, settings.limits, settings.introspection());
    let web = caseledger_web::WebState::new(
        {
            let schema = schema.clone();
            let subscriptions = schema.clone();
            caseledger_web::InProcess::new(move |actor, ids, request| {
                caseledger_api::graphql::execute_as(&schema, actor, ids, request)
            })
            .with_subscriptions(move |actor, request| {
                caseledger_api::graphql::subscribe_as(&subscriptions, actor, request)
            })
        },
        pool.clone(),
        auth.development_mode(),
        web_oidc,
        settings.session_idle,
    )
    .with_gp_connect(gp_connect)
    .with_icb_name(settings.icb_name.clone())
    .with_assets(
        settings
            .web_assets
            .clone()
            .unwrap_or_else(caseledger_web::checkout_assets_dir),
    )
    .with_throttle(throttle);
    if let Some(metrics_listen) = &settings.metrics_listen {
        let listener = tokio::net::TcpListener::bind(metrics_listen)
            .await
            .with_context(|| format!("listening for /metrics on {metrics_listen} (CASELEDGER_METRICS_LISTEN)"))?;
        tracing::info!(listen = %listener.local_addr()?, "serving /metrics");
        let mut stop = stop.clone();
        tokio::spawn(
            axum::serve(listener, metrics_router(EventStore::new(pool.clone())))
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
        web: Some(caseledger_web::router(web)),
    });
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(listen = %listener.local_addr()?, "serving");
    let server = tokio::spawn(caseledger_api::serve::serve(listener, app, settings.connections, stop));
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
    if let Some(verifier) = &batches {
        verifier.stop_batches(SHUTDOWN_GRACE).await;
    }
    jobs.stop(SHUTDOWN_GRACE).await;
    projections.stop().await;
    tracing::info!("stopped: projections committed and released their leases");
    Ok(())
}

/// The notifications' job, when an SMTP relay is configured and this build sends email.
#[cfg(feature = "email")]
fn notifications(
    settings: &Settings,
    pool: &PgPool,
    deadlines: caseledger_cases::deadlines::Deadlines,
) -> anyhow::Result<Option<Box<dyn caseledger_jobs::Job>>> {
    let Some(url) = &settings.smtp_url else {
        return Ok(None);
    };
    let mailer = caseledger_jobs::notifications::Mailer::new(&url.0, &settings.mail_from, settings.public_url.clone())?;
    tracing::info!(every = ?settings.notify_every, "email notifications on");
    Ok(Some(Box::new(caseledger_jobs::notifications::Notifications {
        pool: pool.clone(),
        deadlines,
        mailer,
        every: settings.notify_every,
    })))
}

#[cfg(not(feature = "email"))]
fn notifications(
    settings: &Settings,
    _: &PgPool,
    _: caseledger_cases::deadlines::Deadlines,
) -> anyhow::Result<Option<Box<dyn caseledger_jobs::Job>>> {
    if settings.smtp_url.is_some() {
        anyhow::bail!("CASELEDGER_SMTP_URL is set, but this build sends no email: build with `--features email`");
    }
    Ok(None)
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

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgConnectOptions;

    #[test]
    fn the_service_sessions_ask_postgresql_not_to_compile_queries() {
        let options = super::session("postgres://localhost/caseledger".parse::<PgConnectOptions>().unwrap());
        assert_eq!(options.get_options(), Some("-c jit=off"));
    }
}
