//! `/live`: server-sent events that tell a page a case it may see has changed, so its list can
//! refresh. Each event is only a case id, and only for events the viewer's lens lets through.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use caseledger_eventstore::Filter;
use caseledger_projections::lens::lens;
use futures_util::StreamExt;

use super::{WebState, internal, signed_in};

pub async fn events(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let store = state.0.store.clone();
    let subscription = match store.live_start().await {
        Ok(start) => store.subscribe(Filter::Category("case".into()), start).await,
        Err(error) => Err(error),
    };
    let subscription = match subscription {
        Ok(subscription) => subscription,
        Err(error) => return internal(Some(&session), error),
    };
    let viewer = session.actor.role;
    let changes = futures_util::stream::unfold(subscription, move |mut subscription| async move {
        match subscription.next_batch().await {
            Ok(batch) => {
                let mut ids: Vec<String> = batch
                    .iter()
                    .filter_map(|event| lens(viewer, event))
                    .map(|event| event.case_id.to_string())
                    .collect();
                ids.dedup();
                Some((ids, subscription))
            }
            Err(error) => {
                tracing::warn!(%error, "live updates ended");
                None
            }
        }
    })
    .flat_map(|ids| {
        futures_util::stream::iter(
            ids.into_iter()
                .map(|id| Ok::<_, Infallible>(Event::default().event("change").data(id))),
        )
    });
    let mut shutdown = state.0.shutdown.clone();
    let changes = changes.take_until(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
