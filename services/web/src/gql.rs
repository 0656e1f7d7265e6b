//! The pages read and write through the GraphQL schema, in process, as the signed-in actor: the
//! same role checks, projections and lens as every other client, so a page cannot show what
//! the caller's GraphQL view would not contain.

use std::sync::Arc;

use async_graphql::{Request, Response, Variables};
use caseledger_cases::Actor;
use caseledger_commands::RequestIds;
use futures_util::future::BoxFuture;
use serde_json::Value;

type Run = dyn Fn(Actor, Option<RequestIds>, Request) -> BoxFuture<'static, Response> + Send + Sync;

/// The service's GraphQL schema as the pages call it. The pages do not know the schema's type:
/// the `caseledger` binary hands them a function that runs a request as an actor, so this crate
/// builds beside the API crate instead of after it.
#[derive(Clone)]
pub struct InProcess(Arc<Run>);

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl InProcess {
    /// The pages' way to the schema: `run(actor, ids, request)` executes `request` with `actor`
    /// as the authenticated caller (`caseledger_api::graphql::execute_as`).
    pub fn new(
        run: impl Fn(Actor, Option<RequestIds>, Request) -> BoxFuture<'static, Response> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(run))
    }
}

/// One GraphQL error as the pages use it.
#[derive(Debug, Clone, PartialEq)]
pub struct GqlError {
    pub message: String,
    /// `extensions.code`
    pub code: String,
    /// `extensions.field`: the input field at fault, for BAD_USER_INPUT.
    pub field: Option<String>,
    /// `extensions.actualRevision`, for CONFLICT.
    pub actual_revision: Option<i64>,
}

/// Runs `query` as `actor`; the data, or every error.
pub async fn run(
    schema: &InProcess,
    actor: &Actor,
    ids: Option<RequestIds>,
    query: &str,
    variables: Value,
) -> Result<Value, Vec<GqlError>> {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let response = (schema.0)(actor.clone(), ids, request).await;
    if response.errors.is_empty() {
        return response
            .data
            .into_json()
            .map_err(|error| vec![internal(error.to_string())]);
    }
    Err(response
        .errors
        .into_iter()
        .map(|error| {
            let extension = |name: &str| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|extensions| extensions.get(name))
                    .and_then(|value| value.clone().into_json().ok())
            };
            GqlError {
                code: extension("code")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "BAD_REQUEST".into()),
                field: extension("field").and_then(|v| v.as_str().map(str::to_string)),
                actual_revision: extension("actualRevision").and_then(|v| v.as_i64()),
                message: error.message,
            }
        })
        .collect())
}

fn internal(message: String) -> GqlError {
    GqlError {
        message,
        code: "INTERNAL_SERVER_ERROR".into(),
        field: None,
        actual_revision: None,
    }
}
