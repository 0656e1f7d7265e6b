//! An in-process service on a fresh database: the GraphQL schema with its projections running.

#![allow(dead_code, clippy::unwrap_used)]

use async_graphql::{Request, Variables};
use caseledger_api::auth::Caller;
use caseledger_api::graphql::{AppSchema, AppState, build_schema};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_eventstore::EventStore;
use caseledger_projections::Projections;
use serde_json::Value;

pub struct Service {
    pub schema: AppSchema,
    pub store: EventStore,
    pub projections: Option<Projections>,
    pub db: caseledger_testsupport::TestDb,
    /// The database's streaming replica, when started with one.
    pub replica: Option<sqlx::PgPool>,
}

impl Service {
    pub async fn start() -> Self {
        Self::start_with(|state| state).await
    }

    /// With the service's state as `configure` makes it.
    pub async fn start_with(configure: impl FnOnce(AppState) -> AppState) -> Self {
        Self::start_on(caseledger_testsupport::fresh_db().await, None, configure).await
    }

    /// On a primary with a streaming replica, which queries read from (`configure` is given the
    /// state with the replica set).
    pub async fn start_replicated(configure: impl FnOnce(AppState) -> AppState) -> Self {
        let replicated = caseledger_testsupport::replicated_db().await;
        let replica = replicated.replica.clone();
        Self::start_on(replicated.primary, Some(replicated.replica), move |state| {
            configure(state.with_read_replica(replica))
        })
        .await
    }

    async fn start_on(
        db: caseledger_testsupport::TestDb,
        replica: Option<sqlx::PgPool>,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let store = EventStore::new(db.pool.clone()).with_vault(caseledger_testsupport::vault(
            caseledger_projections::lens::personal_fields,
        ));
        let projections = Some(Projections::start(&store));
        // The champions the tests give cases to, as an admin adds them ahead of a first sign-in.
        for id in ["dc-amira", "dc-ben", "dc-chloe"] {
            caseledger_commands::people::add(
                &db.pool,
                id,
                Role::Champion,
                &caseledger_commands::people::Changes::default(),
                "test",
            )
            .await
            .unwrap();
        }
        Self {
            schema: build_schema(configure(AppState::new(store.clone()))),
            store,
            projections,
            db,
            replica,
        }
    }

    /// Runs `query` as `caller`; the whole response as JSON.
    pub async fn run(&self, caller: Caller, query: &str, variables: Value) -> Value {
        let request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(caller);
        serde_json::to_value(self.schema.execute(request).await).unwrap()
    }

    pub async fn as_role(&self, role: Role, id: &str, query: &str, variables: Value) -> Value {
        self.run(as_actor(role, id), query, variables).await
    }

    pub async fn stop(mut self) {
        if let Some(projections) = self.projections.take() {
            projections.stop().await;
        }
    }
}

/// A caller in `role`; a practice role works for Z00011 and a PCN's clinical director for U10001
/// (the test register's first practice and its PCN).
pub fn as_actor(role: Role, id: &str) -> Caller {
    let org = match role {
        Role::Practice => "Z00011",
        _ => "U10001",
    };
    as_scoped(role, id, org)
}

/// A caller in `role`, working for organisation `org` when the role is scoped.
pub fn as_scoped(role: Role, id: &str, org: &str) -> Caller {
    let scope = caseledger_cases::role::Scope::for_role(role, org).unwrap();
    Caller::Authenticated(Actor::scoped(ShortText::parse(id).unwrap(), role, scope))
}

/// The `extensions.code` of each error.
pub fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `query` as `role` `id` of organisation `org` (empty: none).
pub async fn run(service: &Service, role: Role, id: &str, org: &str, query: &str, variables: Value) -> Value {
    service.run(as_scoped(role, id, org), query, variables).await
}

/// `query` as `run` does, which must succeed: its data.
pub async fn ok(service: &Service, role: Role, id: &str, org: &str, query: &str, variables: Value) -> Value {
    let response = run(service, role, id, org, query, variables).await;
    assert!(response["errors"].is_null(), "{role}: {query} -> {response}");
    response["data"].clone()
}
