//! Reads with and without a streaming replica (issue 28): the service at size (`service`'s load:
//! 10,000 cases, 1,000,000 events) on a throwaway primary with a standby made by
//! `pg_basebackup`, served in-process twice, once reading from the primary and once from the
//! replica. For each: `champion.myCases` (500 cases) from 16 clients, and `addNote` from 16
//! clients, each answer waiting for the views and, with the replica, for the replica to replay it.
//!
//! Always its own clusters (a standby needs a server this process owns), whatever `DATABASE_URL`
//! says.

use std::time::Duration;

use caseledger_api::auth::{Authenticator, dev_token};
use caseledger_api::graphql::{AppState, build_schema};
use caseledger_api::http::{HttpState, router};
use caseledger_cases::Role;
use caseledger_eventstore::{EventStore, MIGRATOR};
use caseledger_pgembed::Cluster;
use caseledger_projections::{Projections, rebuild};
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::process::SECRET;
use crate::report::Run;
use crate::service::{graphql, graphql_with, load, load_test_with};

const DATABASE: &str = "bench_replica";
const CLIENTS: usize = 16;

pub async fn run(seconds: u64) -> anyhow::Result<Vec<Run>> {
    let primary = Cluster::temporary("caseledger-bench-primary")?;
    primary.discard_when_process_exits(std::process::id())?;
    primary.start()?;
    let mut admin = primary.connect_options("postgres").connect().await?;
    sqlx::query(&format!(r#"create database "{DATABASE}""#))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(40)
        .test_before_acquire(false)
        .connect_with(primary.connect_options(DATABASE))
        .await?;
    MIGRATOR.run(&pool).await?;
    let store = EventStore::new(pool.clone());
    let events = load(&store).await?;
    sqlx::query("vacuum analyze").execute(&pool).await?;
    for name in caseledger_projections::NAMES {
        rebuild(&store, name).await?;
    }
    sqlx::query("vacuum analyze").execute(&pool).await?;
    eprintln!("loaded {events} events and rebuilt the views; starting the standby");
    let standby = primary.start_standby("caseledger-bench-standby")?;
    standby.discard_when_process_exits(std::process::id())?;
    let replica = connect_when_there(&standby).await?;
    let projections = Projections::start(&store);

    let case_ids: Vec<uuid::Uuid> = sqlx::query_scalar("select case_id from case_view order by case_id limit 1000")
        .fetch_all(&pool)
        .await?;
    let mut runs = Vec::new();
    for (label, with_replica) in [("primary", false), ("replica", true)] {
        let mut state = AppState::new(store.clone());
        if with_replica {
            state = state.with_read_replica(replica.clone());
        }
        let url = serve(state, &pool).await?;
        let champion = dev_token(SECRET, Role::Champion, "dc-0", 3600)?;
        let my_cases = "{ champion { myCases { id status revision practice { odsCode name } } } }";
        runs.push(
            load_test_with(
                &format!("champion.myCases, reads from the {label}"),
                CLIENTS,
                seconds,
                graphql(&url, &champion, my_cases),
            )
            .await?,
        );
        let icb = dev_token(SECRET, Role::Icb, "icb-assurance-1", 3600)?;
        let ids = case_ids.clone();
        let note = "mutation($id: ID!) { addNote(input: { caseId: $id, text: \"rang the practice\" }) { revision } }";
        runs.push(
            load_test_with(
                &format!("addNote read back, reads from the {label}"),
                CLIENTS,
                seconds,
                graphql_with(&url, &icb, move |client, n| {
                    let id = ids[(client * 61 + n as usize) % ids.len().max(1)];
                    serde_json::json!({ "query": note, "variables": { "id": id.to_string() } })
                }),
            )
            .await?,
        );
    }
    projections.stop().await;
    Ok(runs)
}

/// The standby's copy of the database, once it has replayed its creation.
async fn connect_when_there(standby: &Cluster) -> anyhow::Result<PgPool> {
    let mut tries = 0;
    loop {
        match PgPoolOptions::new()
            .max_connections(40)
            .test_before_acquire(false)
            .connect_with(standby.connect_options(DATABASE))
            .await
        {
            Ok(pool) => return Ok(pool),
            // The standby has not replayed the database's creation yet.
            Err(_) if tries < 600 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Serves GraphQL for `state` on a port of its own; its `/graphql` URL.
async fn serve(state: AppState, pool: &PgPool) -> anyhow::Result<String> {
    let app = router(HttpState {
        schema: build_schema(state),
        auth: Authenticator::new(Some(SECRET)),
        pool: pool.clone(),
        web: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
