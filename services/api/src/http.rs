//! HTTP: `/graphql` (POST; the caller from the bearer token), GraphiQL at `/graphiql` in
//! development mode only, `/livez` and `/readyz`. One request at a time per body, limited in
//! size and time; batched requests are refused.

use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use sqlx::PgPool;

use crate::auth::{Authenticator, Caller};
use crate::graphql::AppSchema;
use crate::monitoring::RequestIds;

/// Large enough for a national dashboard extract (7,000 rows is about 0.5 MiB).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct HttpState {
    pub schema: AppSchema,
    pub auth: Authenticator,
    pub pool: PgPool,
    /// The web pages, when served.
    pub web: Option<crate::web::WebState>,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

pub fn router(state: HttpState) -> Router {
    let web = state.web.clone();
    let mut api = Router::new()
        .route("/graphql", post(graphql).get(subscriptions))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if state.auth.development_mode() {
        api = api.route("/graphiql", get(graphiql));
    }
    let mut router = api.with_state(state);
    if let Some(web) = web {
        router = router.merge(crate::web::router(web));
    }
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::monitoring::track))
}

/// One GraphQL request per body. `Bytes` honours the body limit (413 beyond it).
async fn graphql(
    State(state): State<HttpState>,
    Extension(ids): Extension<RequestIds>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let message = if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                "batched requests are not accepted: send one request per POST".to_string()
            } else {
                format!("the body is not a GraphQL request: {error}")
            };
            let body =
                serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
    let caller = state.auth.caller(authorization).await;
    if let Caller::Authenticated(actor) = &caller {
        tracing::Span::current().record("role", actor.role.as_str());
    }
    let request = request.data(caller).data(ids);
    match tokio::time::timeout(REQUEST_TIMEOUT, state.schema.execute(request)).await {
        Ok(response) => GraphQLResponse::from(response).into_response(),
        Err(_) => {
            let body = serde_json::json!({
                "errors": [{ "message": "the request took too long", "extensions": { "code": "TIMEOUT" } }]
            });
            (StatusCode::GATEWAY_TIMEOUT, Json(body)).into_response()
        }
    }
}

/// Subscriptions over graphql-transport-ws: the token comes in `connection_init`'s payload
/// (`{"Authorization": "Bearer …"}`), and a connection without a valid one is refused.
async fn subscriptions(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        let auth = state.auth.clone();
        GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let token = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|key| payload.get(key).and_then(|v| v.as_str()).map(str::to_string));
                match auth.caller(token.as_deref()).await {
                    Caller::Authenticated(actor) => {
                        let mut data = Data::default();
                        data.insert(Caller::Authenticated(actor));
                        Ok(data)
                    }
                    Caller::Rejected(reason) => Err(async_graphql::Error::new(reason)),
                    Caller::Anonymous => Err(async_graphql::Error::new(
                        "a bearer token is required in connection_init",
                    )),
                }
            })
            .serve()
    })
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .finish(),
    )
}

async fn metrics(State(state): State<HttpState>) -> Response {
    crate::monitoring::render(&state.pool).await
}

async fn readyz(State(state): State<HttpState>) -> Response {
    match sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.pool).await {
        Ok(_) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
