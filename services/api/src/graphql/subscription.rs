//! `caseEvents`: a case's (or every case's) new events as they are appended, through the
//! subscriber's lens, live from the moment of subscribing. Every subscription listens to the
//! process's one live feed (no database connection of its own); one that falls behind is ended
//! with an error, not buffered. A connection and a person may each hold only so many at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, ErrorExtensions, ID, Subscription};
use caseledger_projections::lens::LiveReader;
use caseledger_projections::live::LiveItem;
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::case::CaseEvent;
use super::{caller, state};
use crate::error::{ApiError, IntoGraphql};

/// How many subscriptions may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionLimits {
    pub per_connection: usize,
    pub per_person: usize,
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        Self {
            per_connection: 10,
            per_person: 20,
        }
    }
}

/// The subscriptions open on one WebSocket connection (put in its data at `connection_init`).
#[derive(Debug, Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

/// The subscriptions each person holds, across every connection of this process.
#[derive(Debug, Clone, Default)]
pub struct Subscribers {
    pub limits: SubscriptionLimits,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open subscription's place in the counts, given back when it ends.
struct Slot {
    connection: Option<Arc<AtomicUsize>>,
    person: String,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Subscribers {
    pub fn new(limits: SubscriptionLimits) -> Self {
        Self {
            limits,
            held: Arc::default(),
        }
    }

    fn take(&self, person: String, connection: Option<&ConnectionSubscriptions>) -> Result<Slot, ApiError> {
        let too_many = |what: String| ApiError::TooMany(what);
        if let Some(connection) = connection {
            let open = connection.0.fetch_add(1, Ordering::SeqCst);
            if open >= self.limits.per_connection {
                connection.0.fetch_sub(1, Ordering::SeqCst);
                return Err(too_many(format!(
                    "this connection already has {open} subscriptions open; at most {} are allowed",
                    self.limits.per_connection
                )));
            }
        }
        let mut held = self.held.lock().map_err(|_| too_many("try again".into()))?;
        let count = held.entry(person.clone()).or_default();
        if *count >= self.limits.per_person {
            let open = *count;
            drop(held);
            if let Some(connection) = connection {
                connection.0.fetch_sub(1, Ordering::SeqCst);
            }
            return Err(too_many(format!(
                "you already have {open} subscriptions open; at most {} are allowed",
                self.limits.per_person
            )));
        }
        *count += 1;
        Ok(Slot {
            connection: connection.map(|c| c.0.clone()),
            person,
            held: self.held.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(connection) = &self.connection {
            connection.fetch_sub(1, Ordering::SeqCst);
        }
        if let Ok(mut held) = self.held.lock()
            && let Some(count) = held.get_mut(&self.person)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.person);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The caller's lens; without caseId, every case it may see.
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        case_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CaseEvent>>> {
        let actor = caller(ctx)?;
        let only = case_id
            .map(|id| Uuid::parse_str(&id).map(|id| format!("case-{id}")))
            .transpose()
            .map_err(|_| ApiError::bad_input("caseId", "not a case id"))
            .gql()?;
        let app = state(ctx);
        let person = format!("{}:{}", actor.role, actor.id);
        let slot = app
            .subscribers
            .take(person, ctx.data_opt::<ConnectionSubscriptions>())
            .gql()?;
        // Listening first, then who holds what: an assignment made meanwhile is in the feed.
        let live = app.live.listen();
        // A champion reads as a champion only the cases they hold (looked up once, here).
        let held = if caseledger_cases::case::catalogue::works_only_held(actor.role) {
            let mine = caseledger_projections::case_view::CaseFilter {
                assigned_to: Some(actor.id.to_string()),
                ..Default::default()
            };
            caseledger_projections::case_view::list(app.reads.primary_pool(), &mine, 20_000)
                .await
                .map_err(ApiError::from)
                .gql()?
                .into_iter()
                .map(|row| row.case_id)
                .collect()
        } else {
            Vec::new()
        };
        let mut reader = LiveReader::new(actor.clone(), held);
        let events = live.flat_map(move |item| {
            // Held by the stream: the counts go down when the subscription ends.
            let _slot = &slot;
            let items: Vec<async_graphql::Result<CaseEvent>> = match item {
                LiveItem::Events(batch) => batch
                    .iter()
                    .filter(|e| only.as_ref().is_none_or(|stream| *stream == e.stream_id))
                    .filter_map(|e| reader.lens(e))
                    .map(|e| Ok(CaseEvent::from(e)))
                    .collect(),
                LiveItem::Lagged => vec![Err(ApiError::FellBehind.extend())],
            };
            futures_util::stream::iter(items)
        });
        Ok(events)
    }
}
