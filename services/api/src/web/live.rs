//! `/live`: server-sent events that tell a page a case it may see has changed, so its list can
//! refresh. Each event is only a case id, and only for events the viewer's lens lets through.
//!
//! One subscription to the log per process feeds every open page (a broadcast channel), so open
//! pages cost no database connections of their own.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use caseledger_eventstore::{EventStore, Filter, RecordedEvent};
use caseledger_projections::lens::lens;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use super::{WebState, signed_in};

/// New case events, a batch at a time, for every open page of this process.
#[derive(Debug, Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<Arc<Vec<RecordedEvent>>>,
}

impl LiveHub {
    /// Starts the process's one subscription; it follows the log from now until `shutdown`.
    pub fn start(store: EventStore, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        let (sender, _) = broadcast::channel(256);
        let feed = sender.clone();
        tokio::spawn(async move {
            loop {
                let subscription = match store.live_start().await {
                    Ok(start) => store.subscribe(Filter::Category("case".into()), start).await,
                    Err(error) => Err(error),
                };
                let mut subscription = match subscription {
                    Ok(subscription) => subscription,
                    Err(error) => {
                        tracing::warn!(%error, "live updates: could not subscribe; trying again");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                loop {
                    let batch = tokio::select! {
                        batch = subscription.next_batch() => batch,
                        _ = shutdown.wait_for(|stop| *stop) => return,
                    };
                    match batch {
                        // No open page is no error.
                        Ok(batch) if !batch.is_empty() => drop(feed.send(Arc::new(batch))),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "live updates: subscription ended; starting again");
                            break;
                        }
                    }
                }
            }
        });
        Self { sender }
    }
}

pub async fn events(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let viewer = session.actor.role;
    let receiver = state.0.live.sender.subscribe();
    let changes = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        match receiver.recv().await {
            Ok(batch) => {
                let mut ids: Vec<String> = batch
                    .iter()
                    .filter_map(|event| lens(viewer, event))
                    .map(|event| event.case_id.to_string())
                    .collect();
                ids.dedup();
                Some((ids, receiver))
            }
            // A page that fell behind only needs to know that something changed.
            Err(broadcast::error::RecvError::Lagged(_)) => Some((vec![String::new()], receiver)),
            Err(broadcast::error::RecvError::Closed) => None,
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
