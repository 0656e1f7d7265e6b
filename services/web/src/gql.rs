//! The pages read and write through the GraphQL schema, in process, as the signed-in actor: the
//! same role checks, projections and lens as every other client, so a page cannot show what
//! the caller's GraphQL view would not contain.

use std::sync::Arc;

use async_graphql::{Request, Response, Variables};
use caseledger_cases::Actor;
use caseledger_commands::RequestIds;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use serde_json::Value;

type Run = dyn Fn(Actor, Option<RequestIds>, Request) -> BoxFuture<'static, Response> + Send + Sync;
type Subscribe = dyn Fn(Actor, Request) -> BoxStream<'static, Response> + Send + Sync;

/// The service's GraphQL schema as the pages call it. The pages do not know the schema's type:
/// the `caseledger` binary hands them a function that runs a request as an actor, so this crate
/// builds beside the API crate instead of after it.
#[derive(Clone)]
pub struct InProcess {
    run: Arc<Run>,
    subscribe: Option<Arc<Subscribe>>,
}

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
        Self {
            run: Arc::new(run),
            subscribe: None,
        }
    }

    /// And its subscriptions: `subscribe(actor, request)` streams a subscription's answers with
    /// `actor` as the caller (`caseledger_api::graphql::subscribe_as`); the pages' live updates
    /// come through it, the same lens as every other subscriber.
    pub fn with_subscriptions(
        mut self,
        subscribe: impl Fn(Actor, Request) -> BoxStream<'static, Response> + Send + Sync + 'static,
    ) -> Self {
        self.subscribe = Some(Arc::new(subscribe));
        self
    }

    /// `request`'s answers as `actor`, or `None` when this schema takes no subscriptions.
    pub fn subscribe(&self, actor: &Actor, request: Request) -> Option<BoxStream<'static, Response>> {
        self.subscribe
            .as_ref()
            .map(|subscribe| subscribe(actor.clone(), request))
    }
}

/// What went wrong, as the API's `extensions.code` says it (the README's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    NotConfigured,
    InvalidTransition,
    RateLimited,
    Unauthenticated,
    Internal,
    /// A code the pages have no answer of their own for (limits, parse errors…).
    Other(String),
}

impl ErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "BAD_USER_INPUT" => Self::BadUserInput,
            "CONFLICT" => Self::Conflict,
            "FORBIDDEN" => Self::Forbidden,
            "NOT_FOUND" => Self::NotFound,
            "NOT_CONFIGURED" => Self::NotConfigured,
            "INVALID_TRANSITION" => Self::InvalidTransition,
            "RATE_LIMITED" => Self::RateLimited,
            "UNAUTHENTICATED" => Self::Unauthenticated,
            "INTERNAL_SERVER_ERROR" => Self::Internal,
            other => Self::Other(other.to_string()),
        }
    }
}

/// Why, more precisely than the code, as the API's `extensions.reason` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A well-formed ODS code that no register, extract or case names.
    UnknownPractice,
    Other(String),
}

impl Reason {
    pub fn parse(reason: &str) -> Self {
        match reason {
            "UNKNOWN_PRACTICE" => Self::UnknownPractice,
            other => Self::Other(other.to_string()),
        }
    }
}

/// One GraphQL error as the pages use it.
#[derive(Debug, Clone, PartialEq)]
pub struct GqlError {
    pub message: String,
    /// `extensions.code`
    pub code: ErrorCode,
    /// `extensions.field`: the input field at fault, for BAD_USER_INPUT.
    pub field: Option<String>,
    /// `extensions.actualRevision`, for CONFLICT.
    pub actual_revision: Option<i64>,
    /// `extensions.reason`
    pub reason: Option<Reason>,
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
    let response = (schema.run)(actor.clone(), ids, request).await;
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
                    .and_then(|v| v.as_str().map(ErrorCode::parse))
                    .unwrap_or_else(|| ErrorCode::Other("BAD_REQUEST".into())),
                field: extension("field").and_then(|v| v.as_str().map(str::to_string)),
                actual_revision: extension("actualRevision").and_then(|v| v.as_i64()),
                reason: extension("reason").and_then(|v| v.as_str().map(Reason::parse)),
                message: error.message,
            }
        })
        .collect())
}

fn internal(message: String) -> GqlError {
    GqlError::internal(message)
}

impl GqlError {
    /// The pages' own failure to make or read a request.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            code: ErrorCode::Internal,
            field: None,
            actual_revision: None,
            reason: None,
        }
    }

    pub fn is(&self, code: &ErrorCode) -> bool {
        &self.code == code
    }

    /// The first of `errors` when its code is one of `codes`: what a form says back on its own
    /// page (any other error is the page's problem to answer).
    pub fn for_form<'a>(errors: &'a [GqlError], codes: &[ErrorCode]) -> Option<&'a GqlError> {
        errors.first().filter(|first| codes.contains(&first.code))
    }

    /// What is wrong, without the field the API names first ("field: what is wrong"); the whole
    /// message when it names none.
    pub fn said(&self) -> &str {
        self.field
            .as_deref()
            .and_then(|field| self.message.strip_prefix(field))
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&self.message)
    }

    /// Whether the API said why with `reason`.
    pub fn because(&self, reason: &Reason) -> bool {
        self.reason.as_ref() == Some(reason)
    }

    /// [`GqlError::said`] as a sentence for a page: its first letter a capital.
    pub fn sentence(&self) -> String {
        sentence(self.said())
    }
}

/// `text` with its first letter a capital.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(message: &str, field: Option<&str>) -> GqlError {
        GqlError {
            message: message.into(),
            code: ErrorCode::BadUserInput,
            field: field.map(str::to_string),
            actual_revision: None,
            reason: None,
        }
    }

    #[test]
    fn what_is_said_drops_only_the_field_the_api_named() {
        assert_eq!(refused("reason: too long", Some("reason")).said(), "too long");
        // A rule about a field, whose sentence has a colon of its own, is said whole.
        let unknown = "CaseLedger knows no practice Y99999: it is in no register. Check the ODS code";
        assert_eq!(refused(unknown, Some("odsCode")).said(), unknown);
        assert_eq!(refused("from: before: after", None).said(), "from: before: after");
        assert_eq!(refused("reason: too long", Some("reason")).sentence(), "Too long");
    }

    #[test]
    fn a_reason_the_pages_know_is_typed_and_any_other_kept() {
        assert_eq!(Reason::parse("UNKNOWN_PRACTICE"), Reason::UnknownPractice);
        assert_eq!(Reason::parse("SOMETHING_NEW"), Reason::Other("SOMETHING_NEW".into()));
        let mut error = refused("x", Some("odsCode"));
        assert!(!error.because(&Reason::UnknownPractice));
        error.reason = Some(Reason::UnknownPractice);
        assert!(error.because(&Reason::UnknownPractice));
    }
}
