//! HTTP: `/graphql` (POST, the caller from the bearer token; GET upgrades to graphql-transport-ws
//! subscriptions), a GraphQL explorer at `/graphiql` in development mode only, `/livez` and `/readyz`;
//! `/metrics` on a listener of its own. One request per body, limited in size; batched requests
//! are refused. The WebSocket path has the same limits as a POST (message size, and the schema's
//! limits on an operation's size, cost and time, which apply on both) and closes when the token it
//! was opened with expires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_graphql::Data;
use caseledger_eventstore::EventStore;
use std::str::FromStr;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphqlSocket, WebSocketProtocols, WsMessage};
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, SEC_WEBSOCKET_PROTOCOL, STRICT_TRANSPORT_SECURITY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::{SinkExt, StreamExt};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::auth::{Authenticator, Caller};
use crate::graphql::{AppSchema, ConnectionSubscriptions};
use crate::monitoring::RequestIds;

/// Large enough for a national dashboard extract (7,000 rows is about 0.5 MiB).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// A WebSocket that has not sent `connection_init` within this long is closed.
const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct HttpState {
    pub schema: AppSchema,
    pub auth: Authenticator,
    pub pool: PgPool,
    /// The web pages' routes, when served (the `caseledger` binary builds them from the
    /// `caseledger-web` crate over the same schema).
    pub web: Option<Router>,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The public router: GraphQL, the probes and (when given) the web pages.
pub fn router(mut state: HttpState) -> Router {
    let web = state.web.take();
    let development = state.auth.development_mode();
    let mut api = Router::new()
        .route("/graphql", post(graphql).get(subscriptions))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz));
    if development {
        api = api
            .route("/graphiql", get(explorer))
            .route("/graphiql/explorer.js", get(explorer_script));
    }
    let mut router = api.with_state(state);
    if let Some(web) = web {
        router = router.merge(web);
    }
    if !development {
        // Browsers that have once reached the service over HTTPS never try plain HTTP again.
        router = router.layer(axum::middleware::map_response(|mut response: Response| async move {
            response.headers_mut().insert(
                STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
            response
        }));
    }
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::monitoring::track))
}

/// `/metrics` alone, for its own listener (`CASELEDGER_METRICS_LISTEN`): what it shows (contract
/// review activity among it) is for the operators' scraper, not for the public port.
pub fn metrics_router(store: EventStore) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let store = store.clone();
            async move { crate::monitoring::render(&store).await }
        }),
    )
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
    // The schema's limits bound the work and time of the operation, here and over WebSocket.
    let answer = state.schema.execute(request).await;
    let retry_after = rate_limited(&answer);
    let mut response = GraphQLResponse::from(answer).into_response();
    if let Some(seconds) = retry_after {
        // Refused whole for being too much at once: say so, and when to try again.
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    // Answers carry case data: no cache may keep them.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// When every error of `response` is RATE_LIMITED, the longest wait they ask for (seconds).
fn rate_limited(response: &async_graphql::Response) -> Option<u64> {
    let waits: Vec<u64> = response
        .errors
        .iter()
        .map(|error| {
            let extensions = error.extensions.as_ref()?;
            match (extensions.get("code"), extensions.get("retryAfter")) {
                (Some(async_graphql::Value::String(code)), Some(async_graphql::Value::Number(wait)))
                    if code == "RATE_LIMITED" =>
                {
                    wait.as_u64()
                }
                _ => None,
            }
        })
        .collect::<Option<_>>()?;
    waits.into_iter().max()
}

/// Subscriptions (and queries and mutations) over graphql-transport-ws: messages at most the
/// body limit, the token in `connection_init`'s payload (`{"Authorization": "Bearer …"}`), a
/// connection without a valid one refused, and the connection closed when that token expires.
async fn subscriptions(
    State(state): State<HttpState>,
    slot: Option<Extension<crate::serve::ConnectionSlot>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|name| WebSocketProtocols::from_str(name.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws (or graphql-ws) subprotocol",
        )
            .into_response();
    };
    upgrade
        .max_message_size(BODY_LIMIT)
        .max_frame_size(BODY_LIMIT)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // The socket holds its connection's place among the service's connections until it closes.
            let _slot = slot;
            serve_socket(state, protocol, socket).await
        })
}

/// Operations (queries, mutations, subscriptions) one WebSocket may have under way at once.
const MAX_OPERATIONS_PER_SOCKET: usize = 16;

/// The ids of a socket's operations under way, from its `subscribe` to a `complete` or `error`
/// either way.
type UnderWay = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>;

/// A graphql-transport-ws message's type and id, when it has them.
fn kind_and_id(text: &[u8]) -> Option<(String, String)> {
    let message: serde_json::Value = serde_json::from_slice(text).ok()?;
    Some((
        message["type"].as_str()?.to_string(),
        message["id"].as_str()?.to_string(),
    ))
}

async fn serve_socket(state: HttpState, protocol: WebSocketProtocols, socket: WebSocket) {
    let (mut sink, stream) = socket.split();
    let under_way: UnderWay = UnderWay::default();
    let (too_many, mut refused) = watch::channel(false);
    let counting = under_way.clone();
    let input = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        })
        .filter(move |text| {
            let pass = match kind_and_id(text) {
                Some((kind, id)) if kind == "subscribe" || kind == "start" => {
                    let mut under_way = counting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if under_way.len() >= MAX_OPERATIONS_PER_SOCKET {
                        let _ = too_many.send(true);
                        false
                    } else {
                        under_way.insert(id);
                        true
                    }
                }
                Some((kind, id)) if kind == "complete" || kind == "stop" => {
                    counting
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove(&id);
                    true
                }
                _ => true,
            };
            futures_util::future::ready(pass)
        });
    // When the token given at `connection_init` expires (UNIX seconds), once there is one.
    let (expiry, mut expires) = watch::channel::<Option<u64>>(None);
    let auth = state.auth.clone();
    let mut messages =
        GraphqlSocket::new(state.schema.clone(), input, protocol).on_connection_init(move |payload| async move {
            let token = ["Authorization", "authorization"]
                .iter()
                .find_map(|key| payload.get(key).and_then(|v| v.as_str()).map(str::to_string));
            match auth.caller_until(token.as_deref()).await {
                (Caller::Authenticated(actor), expires_at) => {
                    let _ = expiry.send(expires_at);
                    let mut data = Data::default();
                    data.insert(Caller::Authenticated(actor));
                    data.insert(ConnectionSubscriptions::default());
                    Ok(data)
                }
                (Caller::Rejected(reason), _) => Err(async_graphql::Error::new(reason)),
                (Caller::Anonymous, _) => Err(async_graphql::Error::new(
                    "a bearer token is required in connection_init",
                )),
            }
        });
    let end = async move {
        // No `connection_init` in time: there is nobody to serve.
        let given = tokio::time::timeout(CONNECTION_INIT_TIMEOUT, expires.wait_for(Option::is_some))
            .await
            .map(|given| given.map(|expires_at| expires_at.unwrap_or_default()));
        let expires_at = match given {
            Err(_) => return (4408, "connection_init was not sent in time".to_string()),
            // Refused at `connection_init`: the protocol closes the socket with the reason.
            Ok(Err(_)) => return std::future::pending().await,
            Ok(Ok(expires_at)) => expires_at,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        tokio::time::sleep(Duration::from_secs_f64((expires_at as f64 - now).max(0.0))).await;
        (4401, "the token has expired: connect again with a new one".to_string())
    };
    tokio::pin!(end);
    loop {
        let outgoing = tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if let Some((kind, id)) = kind_and_id(text.as_bytes())
                        && (kind == "complete" || kind == "error")
                    {
                        under_way.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
                    }
                    Message::Text(text.into())
                }
                Some(WsMessage::Close(code, reason)) => close(code, reason),
                None => break,
            },
            (code, reason) = &mut end => {
                let _ = sink.send(close(code, reason)).await;
                break;
            }
            // Only a refusal ends the socket here: the input's end (its sender gone) does elsewhere.
            () = async {
                if refused.wait_for(|refused| *refused).await.is_err() {
                    std::future::pending::<()>().await;
                }
            } => {
                let reason = format!("more than {MAX_OPERATIONS_PER_SOCKET} operations under way at once");
                let _ = sink.send(close(4429, reason)).await;
                break;
            }
        };
        if sink.send(outgoing).await.is_err() {
            break;
        }
    }
}

/// A close frame's reason: at most 123 bytes of UTF-8, so that with its 2-byte code the frame's
/// payload stays within the 125 bytes RFC 6455 allows a control frame.
const MAX_CLOSE_REASON: usize = 123;

fn close(code: u16, mut reason: String) -> Message {
    if reason.len() > MAX_CLOSE_REASON {
        let mut end = MAX_CLOSE_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// A plain GraphQL explorer for development mode: a token, a query, its answer. Served from the
/// binary (no CDN, works offline); it replaced GraphiQL, whose page cost a template engine and
/// loaded its script from a CDN.
async fn explorer() -> Html<&'static str> {
    Html(include_str!("explorer/index.html"))
}

async fn explorer_script() -> Response {
    (
        [(http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("explorer/explorer.js"),
    )
        .into_response()
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
