//! The pages read and write through the GraphQL schema, in process, as the signed-in actor: the
//! same role checks, projections and lens as every other client, so a page cannot show what
//! the caller's GraphQL view would not contain.

use std::any::Any;
use std::sync::Arc;

use async_graphql::{Executor, Request, Response, Variables};
use caseledger_cases::Actor;
use caseledger_commands::RequestIds;
use futures_util::future::BoxFuture;
use serde_json::Value;

type Run = dyn Fn(Actor, Option<RequestIds>, Request) -> BoxFuture<'static, Response> + Send + Sync;

/// The service's GraphQL schema as the pages call it. The pages do not know the schema's type:
/// the `caseledger` binary hands them its schema and how an actor becomes the schema's caller,
/// so this crate builds beside the API crate instead of after it.
#[derive(Clone)]
pub struct InProcess(Arc<Run>);

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl InProcess {
    /// `schema`, with `caller(actor)` in each request's data as the authenticated caller.
    pub fn new<E: Executor, C: Any + Send + Sync>(schema: E, caller: fn(Actor) -> C) -> Self {
        Self(Arc::new(move |actor, ids, request| {
            let mut request = request.data(caller(actor));
            if let Some(ids) = ids {
                request = request.data(ids);
            }
            let schema = schema.clone();
            Box::pin(async move { schema.execute(request).await })
        }))
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
