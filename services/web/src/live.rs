//! `/live`: server-sent events that tell a page a case it may see has changed, so its list can
//! refresh. Each event is only a case id, and only for events the viewer's lens lets through (the
//! feed's [`changes_for`](caseledger_projections::live::LiveFeed::changes_for) decides which).
//! Fed by the process's one [`LiveFeed`](caseledger_projections::live::LiveFeed), so open pages
//! cost no database connections of their own.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use caseledger_projections::live::CaseChange;
use futures_util::StreamExt;

use super::{WebState, signed_in};

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
    let changes = state.0.live.changes_for(session.actor.role).map(move |change| {
        // Held by the stream: the count goes down when the page closes it.
        let _streaming = &permit;
        // A page that fell behind only needs to know that something changed; it reloads, and
        // opens a new stream.
        let id = match change {
            CaseChange::Case(id) => id.to_string(),
            CaseChange::Lagged => String::new(),
        };
        Ok::<_, Infallible>(Event::default().event("change").data(id))
    });
    // A stream lasts ten minutes, then the browser opens another with the session's cookie: a
    // session that ended (signed out, timed out) stops hearing within that.
    let changes = changes.take_until(tokio::time::sleep(STREAM_LIFETIME));
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
