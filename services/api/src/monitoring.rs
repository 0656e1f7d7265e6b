//! Metrics in Prometheus format at `/metrics`, and the request span every log line of a request
//! carries (request id, correlation id, the caller's role).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `caseledger_http_requests_total`, `caseledger_http_request_duration_seconds` | method, route, status | every HTTP request; `route` is the matched route (`unmatched` for the rest), `method` a standard one or `other` |
//! | `caseledger_graphql_requests_total`, `caseledger_graphql_request_duration_seconds` | type, operation, outcome | every GraphQL query and mutation; `operation` is its root field (a field of the schema), `multiple`, `introspection`, `other`, or `anonymous` for every request without a valid token |
//! | `caseledger_command_rejections_total` | code, operation | each error of a mutation, by `extensions.code` |
//! | `caseledger_eventstore_appends_total` | outcome | appends (ok, duplicate, wrong_expected_version, …) |
//! | `caseledger_eventstore_events_appended_total` | category | events written, by stream category |
//! | `caseledger_subscriber_leader` | subscriber | 1 where this instance runs the projection |
//! | `caseledger_projection_lag_events`, `caseledger_projection_lag_seconds` | projection | events not yet projected, and the age of the oldest |
//! | `caseledger_projection_parked_events` | projection | events it set aside after failing on them, not yet retried or skipped |
//! | `caseledger_subscriber_parked_events_total` | subscriber | events parked since the process started |
//! | `caseledger_eventstore_oldest_writer_seconds` | | age of the oldest transaction with an id still open: it holds back `$all` |
//! | `caseledger_eventstore_group_commit_appends` | | appends written together in one transaction (a summary) |
//! | `caseledger_replica_waits_timed_out_total` | | writes the read replica did not replay within the read-your-writes wait (reads then came from the primary) |
//!
//! Every label comes from a fixed, small set, whatever a client sends: a metric's series cannot
//! grow with requests (1,000 anonymous requests naming random fields once took `/metrics` from
//! 6 KB to 2.9 MB).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection};
use async_graphql::{ServerError, ValidationResult};
use async_graphql::{ServerResult, Variables};
use caseledger_eventstore::stage;

use crate::auth::Caller;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header::CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caseledger_eventstore::{EventStore, StoreError};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// Latency buckets (seconds) for every `_seconds` histogram.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's recorder, installed on first use.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = builder
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only the database gauges");
            }
            handle
        })
        .clone()
}

pub use caseledger_commands::RequestIds;

fn header_uuid(request: &Request, name: &HeaderName) -> Option<Uuid> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
}

/// The method as a label: one of the standard ones, or `other`.
fn bounded_method(method: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"];
    KNOWN
        .into_iter()
        .find(|known| method.as_str() == *known)
        .unwrap_or("other")
}

/// Middleware: gives the request its ids and span, logs its end, and counts it.
pub async fn track(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = header_uuid(&request, &REQUEST_ID).unwrap_or_else(Uuid::now_v7);
    let correlation_id = header_uuid(&request, &CORRELATION_ID).unwrap_or(request_id);
    let ids = RequestIds {
        request_id,
        correlation_id,
    };
    request.extensions_mut().insert(ids);
    let method = bounded_method(request.method()).to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_string();
    let span = tracing::info_span!(
        "http.request",
        %request_id,
        %correlation_id,
        method = %method,
        route = %route,
        role = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    let probe = matches!(route.as_str(), "/livez" | "/readyz" | "/metrics");
    span.in_scope(|| {
        if probe {
            tracing::debug!(status, ms = seconds * 1000.0, "request");
        } else {
            tracing::info!(status, ms = seconds * 1000.0, "request");
        }
    });
    let labels = [("method", method), ("route", route), ("status", status.to_string())];
    metrics::counter!("caseledger_http_requests_total", &labels).increment(1);
    metrics::histogram!("caseledger_http_request_duration_seconds", &labels).record(seconds);
    let headers = response.headers_mut();
    for (name, id) in [(REQUEST_ID, request_id), (CORRELATION_ID, correlation_id)] {
        if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
            headers.insert(name, value);
        }
    }
    response
}

/// `/metrics`: the recorder's metrics, with the store's gauges read now.
pub async fn render(store: &EventStore) -> Response {
    let handle = prometheus();
    if let Err(error) = store_gauges(store).await {
        tracing::warn!(%error, "could not read the store's gauges for /metrics");
    }
    handle.run_upkeep();
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Counted past this many, a lag is reported as this many.
const LAG_COUNT_LIMIT: u64 = 1_000_000;

async fn store_gauges(store: &EventStore) -> Result<(), StoreError> {
    let parked = store.unresolved_parked().await?;
    for &name in caseledger_projections::NAMES {
        let lag = store.lag(name, LAG_COUNT_LIMIT).await?;
        metrics::gauge!("caseledger_projection_lag_events", "projection" => name).set(lag.events as f64);
        metrics::gauge!("caseledger_projection_lag_seconds", "projection" => name).set(lag.seconds.max(0.0));
        let unresolved = parked.iter().find(|(n, _)| n == name).map_or(0, |(_, count)| *count);
        metrics::gauge!("caseledger_projection_parked_events", "projection" => name).set(unresolved as f64);
    }
    metrics::gauge!("caseledger_eventstore_oldest_writer_seconds").set(store.oldest_writer_seconds().await?.max(0.0));
    Ok(())
}

/// Counts and times GraphQL operations by type and root fields, and a mutation's errors by code.
#[derive(Debug, Default)]
pub struct GraphqlMetrics;

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GraphqlMetricsExtension::default())
    }
}

#[derive(Debug, Default)]
struct GraphqlMetricsExtension {
    /// Each operation of the parsed document: its name, type and distinct root fields.
    operations: Mutex<Vec<Described>>,
}

/// One operation of a document: its name, type and distinct root fields.
type Described = (Option<String>, OperationType, Vec<String>);

fn operation_type(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

fn summarise(document: &ExecutableDocument) -> Vec<Described> {
    let describe = |operation: &async_graphql::parser::types::OperationDefinition| {
        let mut fields: Vec<String> = operation
            .selection_set
            .node
            .items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => field.node.name.node.to_string(),
                Selection::FragmentSpread(_) | Selection::InlineFragment(_) => String::new(),
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        (operation.ty, fields)
    };
    match &document.operations {
        DocumentOperations::Single(operation) => {
            let (ty, fields) = describe(&operation.node);
            vec![(None, ty, fields)]
        }
        DocumentOperations::Multiple(operations) => operations
            .iter()
            .map(|(name, operation)| {
                let (ty, fields) = describe(&operation.node);
                (Some(name.to_string()), ty, fields)
            })
            .collect(),
    }
}

/// The operation label: the one root field, if the schema has it at the operation's root;
/// `introspection` for `__schema`, `__type` and `__typename` alone; `multiple` for several;
/// `other` for anything else (a fragment at the root, a name the schema does not know).
fn operation_label(registry: &async_graphql::registry::Registry, ty: OperationType, fields: &[String]) -> String {
    match fields {
        [field] if field.starts_with("__") => "introspection".into(),
        [field] => {
            let root = match ty {
                OperationType::Query => Some(registry.query_type.as_str()),
                OperationType::Mutation => registry.mutation_type.as_deref(),
                OperationType::Subscription => registry.subscription_type.as_deref(),
            };
            let known = root
                .and_then(|root| registry.types.get(root))
                .and_then(|meta| meta.field_by_name(field))
                .is_some();
            if known { field.clone() } else { "other".into() }
        }
        [] => "other".into(),
        _ => "multiple".into(),
    }
}

#[async_trait::async_trait]
impl Extension for GraphqlMetricsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let started = Instant::now();
        let document = next.run(ctx, query, variables).await?;
        let described = summarise(&document);
        if described.iter().any(|(_, ty, _)| *ty == OperationType::Mutation) {
            stage::record("parse", started);
        }
        if let Ok(mut operations) = self.operations.lock() {
            *operations = described;
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let started = Instant::now();
        let validated = next.run(ctx).await;
        let mutation = self
            .operations
            .lock()
            .is_ok_and(|operations| operations.iter().any(|(_, ty, _)| *ty == OperationType::Mutation));
        if mutation {
            stage::record("validate", started);
        }
        validated
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        let seconds = started.elapsed().as_secs_f64();
        let described = self.operations.lock().ok().and_then(|operations| {
            operations
                .iter()
                .find(|(name, _, _)| operation_name.is_none() || name.as_deref() == operation_name)
                .map(|(_, ty, fields)| (*ty, fields.clone()))
        });
        let signed_in = matches!(ctx.data_opt::<Caller>(), Some(Caller::Authenticated(_)));
        let (ty, operation) = match described {
            Some((ty, _)) if !signed_in => (operation_type(ty), "anonymous".to_string()),
            Some((ty, fields)) => (
                operation_type(ty),
                operation_label(&ctx.schema_env.registry, ty, &fields),
            ),
            None => ("unknown", "other".to_string()),
        };
        let outcome = if response.errors.is_empty() { "ok" } else { "error" };
        let labels = [("type", ty.to_string()), ("operation", operation.clone())];
        metrics::counter!("caseledger_graphql_requests_total", "type" => ty, "operation" => operation.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("caseledger_graphql_request_duration_seconds", &labels).record(seconds);
        if ty == "mutation" {
            for error in &response.errors {
                let code = error
                    .extensions
                    .as_ref()
                    .and_then(|extensions| extensions.get("code"))
                    .and_then(|code| match code {
                        async_graphql::Value::String(code) => Some(code.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "GRAPHQL_ERROR".into());
                metrics::counter!("caseledger_command_rejections_total", "code" => code, "operation" => operation.clone())
                    .increment(1);
            }
        }
        response
    }
}
