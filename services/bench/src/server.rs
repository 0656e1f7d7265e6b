//! The server under test: `DATABASE_URL`'s, or a throwaway cluster started for this run.

use anyhow::Context;
use caseledger_pgembed::{Cluster, StopMode};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

pub struct BenchServer {
    admin: PgConnectOptions,
    base_url: String,
    cluster: Option<Cluster>,
}

impl BenchServer {
    pub fn start() -> anyhow::Result<Self> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(Self {
                admin: url.parse()?,
                base_url: url,
                cluster: None,
            });
        }
        let cluster = Cluster::temporary("caseledger-bench")?;
        cluster.discard_when_process_exits(std::process::id())?;
        cluster.start()?;
        eprintln!(
            "benchmark server: throwaway cluster in {}",
            cluster.base_dir().display()
        );
        Ok(Self {
            admin: cluster.connect_options("postgres"),
            base_url: cluster.database_url("postgres"),
            cluster: Some(cluster),
        })
    }

    /// A libpq URL of `database`, for psql and pgbench.
    pub fn url(&self, database: &str) -> String {
        match &self.cluster {
            Some(cluster) => cluster.database_url(database),
            None => {
                let (base, query) = self
                    .base_url
                    .split_once('?')
                    .map_or((self.base_url.as_str(), None), |(b, q)| (b, Some(q)));
                let cut = base
                    .rfind('/')
                    .filter(|&i| i > base.find("://").map_or(0, |s| s + 2))
                    .unwrap_or(base.len());
                let mut url = format!("{}/{database}", &base[..cut]);
                if let Some(query) = query {
                    url.push('?');
                    url.push_str(query);
                }
                url
            }
        }
    }

    /// Drops and creates `database`; `migrated` applies the service's migrations to it.
    pub async fn fresh_database(&self, database: &str, migrated: bool, pool_size: u32) -> anyhow::Result<PgPool> {
        let mut admin = self
            .admin
            .connect()
            .await
            .context("connecting to the benchmark server")?;
        sqlx::query(&format!(r#"drop database if exists "{database}" with (force)"#))
            .execute(&mut admin)
            .await?;
        sqlx::query(&format!(r#"create database "{database}""#))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            // The pool hands out connections it just used; a ping before each would double the round trips.
            .test_before_acquire(false)
            // Without the JIT compiler, as the service's own sessions (`caseledger serve`, `rebuild`).
            .connect_with(self.admin.clone().database(database).options([("jit", "off")]))
            .await?;
        if migrated {
            caseledger_eventstore::MIGRATOR.run(&pool).await?;
        }
        Ok(pool)
    }

    /// The directory with `pgbench`, beside the server binaries when it is not on PATH.
    pub fn pgbench(&self) -> std::path::PathBuf {
        caseledger_pgembed::find_server_binaries()
            .map(|dir| dir.join("pgbench"))
            .ok()
            .filter(|path| path.is_file())
            .unwrap_or_else(|| "pgbench".into())
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            let _ = cluster.stop(StopMode::Fast);
        }
    }
}
