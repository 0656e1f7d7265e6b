//! The compiled contract between the pages and the API: the schema (`schema/caseledger.graphql`,
//! registered by `build.rs`), its scalars and enums, and the one way a page runs an operation.
//! Each page's operations are typed fragments in its own module (`operations/`), checked against
//! the schema when this crate compiles: a renamed field or enum value fails the build, not a
//! browser.

pub mod enums;

use caseledger_cases::Actor;
use cynic::Operation;
use serde::Serialize;
use serde::de::DeserializeOwned;

use caseledger_commands::RequestIds;

use crate::gql::{GqlError, InProcess};

/// The schema's types, as cynic's derives check them.
#[cynic::schema("caseledger")]
#[allow(missing_debug_implementations)]
pub mod schema {}

/// A point in time as the schema's `DateTime` carries it (RFC 3339).
pub type Instant = chrono::DateTime<chrono::FixedOffset>;

cynic::impl_scalar!(Instant, schema::DateTime);
cynic::impl_scalar!(chrono::NaiveDate, schema::NaiveDate);

/// A day as the schema's `Date` carries it (`YYYY-MM-DD`; `NaiveDate` is the other scalar).
#[derive(cynic::Scalar, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cynic(graphql_type = "Date")]
pub struct Day(pub chrono::NaiveDate);
// The one JSON scalar: an event's data as its party's lens leaves it, passed through untouched.
cynic::impl_scalar!(serde_json::Value, schema::JSON);

/// The schema's name of an enum value (`SLOT_TYPE_NOT_EXTERNAL`), as forms and URLs carry it.
pub fn name<E: Serialize>(value: E) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// An enum value from its schema name, as a form or URL carried it.
pub fn parse<E: DeserializeOwned>(name: &str) -> Option<E> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Runs `operation` as `actor` and reads its answer into the operation's fragments.
pub async fn run<Q, V>(
    schema: &InProcess,
    actor: &Actor,
    ids: Option<RequestIds>,
    operation: Operation<Q, V>,
) -> Result<Q, Vec<GqlError>>
where
    Q: DeserializeOwned,
    V: Serialize,
{
    let variables = serde_json::to_value(&operation.variables).map_err(|error| vec![GqlError::internal(error)])?;
    let data = crate::gql::run(schema, actor, ids, &operation.query, variables).await?;
    serde_json::from_value(data).map_err(|error| vec![GqlError::internal(error)])
}
