//! The pages read and write through the GraphQL schema, in process, as the signed-in actor: the
//! same role checks, projections and lens as every other client, so a page cannot show what
//! the caller's GraphQL view would not contain.

use async_graphql::{Request, Variables};
use caseledger_cases::Actor;
use serde_json::Value;

use crate::auth::Caller;
use crate::graphql::AppSchema;
use crate::monitoring::RequestIds;

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
    schema: &AppSchema,
    actor: &Actor,
    ids: Option<RequestIds>,
    query: &str,
    variables: Value,
) -> Result<Value, Vec<GqlError>> {
    let mut request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(Caller::Authenticated(actor.clone()));
    if let Some(ids) = ids {
        request = request.data(ids);
    }
    let response = schema.execute(request).await;
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
