//! `/live`: server-sent events that tell a page a case it may see has changed, so its list can
//! refresh. Each event is only a case id. It is the schema's own `caseEvents` subscription, run in
//! process as the signed-in person: the same lens, limits and live feed as every other subscriber
//! (the feed is the process's one, so open pages cost no database connections of their own).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cynic::SubscriptionBuilder;
use futures_util::StreamExt;

use super::{WebState, signed_in};
use crate::operations::live::{Changes, ChangesVariables};

/// How long one stream lasts before the page reconnects.
const STREAM_LIFETIME: Duration = Duration::from_secs(600);

pub async fn events(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    // By person, whatever their sessions: one person's tabs cannot take the service's connections.
    let key = super::person(&session);
    let permit = match super::throttled(&state, &session, &key, caseledger_commands::throttle::Work::LiveStream) {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let operation = Changes::build(ChangesVariables::default());
    let variables = serde_json::to_value(operation.variables()).unwrap_or_default();
    let request =
        async_graphql::Request::new(operation.query()).variables(async_graphql::Variables::from_json(variables));
    let Some(answers) = state.0.schema.subscribe(&session.actor, request) else {
        return super::problem(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Some(&session),
            "Live updates are not available",
            "This service does not stream changes.",
        );
    };
    let changes = answers
        .map(|answer| {
            let id = answer
                .data
                .into_json()
                .ok()
                .and_then(|data| serde_json::from_value::<Changes>(data).ok())
                .map(|changes| changes.case_events.case_id.into_inner());
            let fell_behind = answer.errors.iter().any(|error| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|extensions| extensions.get("code"))
                    .is_some_and(|code| *code == async_graphql::Value::from("SUBSCRIPTION_FELL_BEHIND"))
            });
            (id, fell_behind)
        })
        // A refusal (too many subscriptions) ends the stream; the page tries again later.
        .take_while(|(id, fell_behind)| std::future::ready(id.is_some() || *fell_behind))
        .map(move |(id, _)| {
            // Held by the stream: the count goes down when the page closes it.
            let _streaming = &permit;
            // A page that fell behind only needs to know that something changed; it reloads, and
            // opens a new stream.
            Ok::<_, Infallible>(Event::default().event("change").data(id.unwrap_or_default()))
        });
    // A stream lasts ten minutes, then the browser opens another with the session's cookie: a
    // session that ended (signed out, timed out) stops hearing within that.
    let changes = changes.take_until(tokio::time::sleep(STREAM_LIFETIME));
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
