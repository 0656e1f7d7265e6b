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

pub async fn events(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    // Streams by session (a person's tabs), not by person: a person signed in twice has two.
    let key = format!("session:{}", session.csrf);
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
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
