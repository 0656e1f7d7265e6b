//! A fresh, migrated database for each test. With `DATABASE_URL` set the databases are made on
//! that server; otherwise one throwaway cluster is started for the test binary and discarded by
//! a watcher process when the binary exits, however it exits.
//!
//! Each database is cloned from a template migrated once per run, which is much faster than
//! migrating every test's database.
//!
//! Every test lives on the same day, [`TEST_NOW`], whatever the real date: a test that takes a
//! database pins this process's business time there, and the service binary the black-box tests
//! start is given it as `CASELEDGER_NOW`. Deadlines in working days, "within 8 weeks", "since
//! your last visit" and retention then say the same on a Sunday, a bank holiday or next year.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use caseledger_eventstore::MIGRATOR;
use caseledger_pgembed::Cluster;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

/// The instant every test's business time starts at: Wednesday 25 November 2026, 10:00 UTC, a
/// working day after every date the fixtures hold.
pub const TEST_NOW: &str = "2026-11-25T10:00:00Z";

/// [`TEST_NOW`] as an instant.
pub fn test_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(TEST_NOW)
        .map(|t| t.with_timezone(&chrono::Utc))
        .expect("TEST_NOW is an RFC 3339 instant")
}

/// Pins this process's business time to start at [`TEST_NOW`] (once; later calls do nothing).
pub fn pin_clock() {
    static PINNED: OnceLock<()> = OnceLock::new();
    PINNED.get_or_init(|| {
        // Another pin in this process started it already: the same day either way.
        let _ = caseledger_clock::start_at(test_now());
    });
}

/// Business time now, in a test: pinned to [`TEST_NOW`] and running on from there.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    pin_clock();
    caseledger_clock::now()
}

/// A database of one test's own.
#[derive(Debug)]
pub struct TestDb {
    pub pool: PgPool,
    pub options: PgConnectOptions,
    pub name: String,
    url: String,
}

impl TestDb {
    /// A URL for this database, for child processes such as the service binary.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

struct Server {
    admin: PgConnectOptions,
    url_for_db: Box<dyn Fn(&str) -> String + Send + Sync>,
    /// Kept so the throwaway cluster's description lives as long as the run.
    _cluster: Option<Cluster>,
}

impl Server {
    fn url_for(&self, database: &str) -> String {
        (self.url_for_db)(database)
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let admin: PgConnectOptions = url.parse().expect("DATABASE_URL is not a PostgreSQL URL");
            let base = url.clone();
            Server {
                admin,
                url_for_db: Box::new(move |database| replace_database(&base, database)),
                _cluster: None,
            }
        }
        Err(_) => {
            let cluster =
                Cluster::temporary("caseledger-test").expect("could not create a throwaway PostgreSQL cluster");
            cluster
                .discard_when_process_exits(std::process::id())
                .expect("could not start the cluster watcher");
            cluster
                .start()
                .expect("could not start the throwaway PostgreSQL cluster");
            let for_urls = cluster.clone();
            Server {
                admin: cluster.connect_options("postgres"),
                url_for_db: Box::new(move |database| for_urls.database_url(database)),
                _cluster: Some(cluster),
            }
        }
    })
}

/// A new database, migrated, with a small pool on it.
pub async fn fresh_db() -> TestDb {
    fresh_db_on(server(), &TEMPLATE).await
}

async fn fresh_db_on(server: &Server, template: &OnceCell<String>) -> TestDb {
    pin_clock();
    let template = template.get_or_init(|| create_template(server)).await;
    let name = format!(
        "caseledger_test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = connect(&server.admin).await;
    sqlx::query(&format!(r#"create database "{name}" template "{template}""#))
        .execute(&mut admin)
        .await
        .expect("could not create the test database");
    admin.close().await.ok();
    let options = server.admin.clone().database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect_with(options.clone())
        .await
        .expect("could not connect to the test database");
    let url = server.url_for(&name);
    TestDb {
        pool,
        options,
        name,
        url,
    }
}

/// A test database on a primary with a streaming standby, and the same database on the standby.
#[derive(Debug)]
pub struct ReplicatedDb {
    /// The database on the primary: commands, projections and subscriptions.
    pub primary: TestDb,
    /// The same database on the standby, read-only, replayed from the primary.
    pub replica: PgPool,
    /// A URL for the standby's copy, for child processes (`CASELEDGER_READ_DATABASE_URL`).
    pub replica_url: String,
}

struct Replicated {
    server: Server,
    standby: Cluster,
}

static REPLICATED: OnceLock<Replicated> = OnceLock::new();
static REPLICATED_TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A primary and its standby of this test binary's own (whatever `DATABASE_URL` says: a standby
/// needs a server this process owns), started once and discarded when the binary exits.
fn replicated() -> &'static Replicated {
    REPLICATED.get_or_init(|| {
        let primary =
            Cluster::temporary("caseledger-primary").expect("could not create a throwaway PostgreSQL cluster");
        primary
            .discard_when_process_exits(std::process::id())
            .expect("could not start the cluster watcher");
        primary.start().expect("could not start the throwaway primary");
        let standby = primary
            .start_standby("caseledger-standby")
            .expect("could not start a standby of the throwaway primary");
        standby
            .discard_when_process_exits(std::process::id())
            .expect("could not start the standby's watcher");
        let for_urls = primary.clone();
        Replicated {
            server: Server {
                admin: primary.connect_options("postgres"),
                url_for_db: Box::new(move |database| for_urls.database_url(database)),
                _cluster: Some(primary),
            },
            standby,
        }
    })
}

/// A new database, migrated, on a primary with a streaming standby; it returns once the standby
/// has the database too.
pub async fn replicated_db() -> ReplicatedDb {
    let replicated = replicated();
    let primary = fresh_db_on(&replicated.server, &REPLICATED_TEMPLATE).await;
    let options = replicated.standby.connect_options(&primary.name);
    let mut tries = 0;
    let replica = loop {
        match PgPoolOptions::new()
            .max_connections(20)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => break pool,
            // The standby has not replayed the database's creation yet.
            Err(error) => {
                tries += 1;
                assert!(tries < 600, "the standby never showed the test database: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    let replica_url = replicated.standby.database_url(&primary.name);
    ReplicatedDb {
        primary,
        replica,
        replica_url,
    }
}

/// Migrates a template database once per run; its name carries the migrations' checksums, so a
/// shared server never serves a template made from other migrations.
async fn create_template(server: &Server) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in MIGRATOR.iter().flat_map(|m| m.checksum.iter()) {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let name = format!("caseledger_template_{hash:016x}");
    let mut admin = connect(&server.admin).await;
    // Serialise with other test binaries that share a DATABASE_URL server.
    sqlx::query("select pg_advisory_lock(7469)")
        .execute(&mut admin)
        .await
        .expect("template lock");
    drop_stale_test_databases(&mut admin).await;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .expect("could not look for the template database");
    if !exists {
        let building = format!("{name}_building");
        sqlx::query(&format!(r#"drop database if exists "{building}""#))
            .execute(&mut admin)
            .await
            .ok();
        sqlx::query(&format!(r#"create database "{building}""#))
            .execute(&mut admin)
            .await
            .expect("could not create the template database");
        let mut conn = connect(&server.admin.clone().database(&building)).await;
        MIGRATOR
            .run(&mut conn)
            .await
            .expect("migrations failed on the template database");
        conn.close().await.ok();
        sqlx::query(&format!(r#"alter database "{building}" rename to "{name}""#))
            .execute(&mut admin)
            .await
            .expect("could not rename the template database");
    }
    sqlx::query("select pg_advisory_unlock(7469)")
        .execute(&mut admin)
        .await
        .ok();
    admin.close().await.ok();
    name
}

/// Test databases left on a shared server by runs whose process is gone.
async fn drop_stale_test_databases(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'caseledger\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            sqlx::query(&format!(r#"drop database if exists "{name}" with (force)"#))
                .execute(&mut *admin)
                .await
                .ok();
        }
    }
}

async fn connect(options: &PgConnectOptions) -> PgConnection {
    options
        .connect()
        .await
        .expect("could not connect to the test PostgreSQL server")
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A key-encryption key for this test process (`CASELEDGER_KEK`'s form: base64 of 32 random
/// bytes), made once: tests seal personal data as the service does.
pub fn kek() -> &'static str {
    static KEK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEK.get_or_init(|| match caseledger_eventstore::Kek::generate() {
        Ok((_, text)) => text,
        Err(error) => panic!("no key-encryption key for the tests: {error}"),
    })
}

/// A vault over [`kek`], sealing the fields `personal` declares.
pub fn vault(personal: caseledger_eventstore::PersonalFields) -> caseledger_eventstore::Vault {
    match caseledger_eventstore::Kek::parse(kek()) {
        Ok(kek) => caseledger_eventstore::Vault::new(kek, personal),
        Err(error) => panic!("the tests' key-encryption key: {error}"),
    }
}
