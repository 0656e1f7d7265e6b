//! `caseEvents`: a case's (or every case's) new events as they are appended, through the
//! subscriber's lens. Live from the moment of subscribing.

use std::collections::VecDeque;

use async_graphql::{Context, ID, Subscription};
use caseledger_cases::Role as DomainRole;
use caseledger_eventstore::Filter;
use caseledger_projections::lens::lens;
use futures_util::Stream;
use uuid::Uuid;

use super::case::CaseEvent;
use super::{caller, state};
use crate::error::{ApiError, IntoGraphql};

#[derive(Debug, Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The caller's lens; without caseId, every case it may see.
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        case_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = CaseEvent>> {
        let viewer: DomainRole = caller(ctx)?.role;
        let only = case_id
            .map(|id| Uuid::parse_str(&id).map(|id| format!("case-{id}")))
            .transpose()
            .map_err(|_| ApiError::bad_input("caseId", "not a case id"))
            .gql()?;
        let store = state(ctx).store.clone();
        let start = store.live_start().await.map_err(ApiError::from).gql()?;
        let subscription = store
            .subscribe(Filter::Category("case".into()), start)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(futures_util::stream::unfold(
            (subscription, VecDeque::new()),
            move |(mut subscription, mut pending): (_, VecDeque<CaseEvent>)| {
                let only = only.clone();
                async move {
                    loop {
                        if let Some(next) = pending.pop_front() {
                            return Some((next, (subscription, pending)));
                        }
                        let batch = match subscription.next_batch().await {
                            Ok(batch) => batch,
                            Err(error) => {
                                tracing::warn!(%error, "caseEvents subscription ended");
                                return None;
                            }
                        };
                        pending.extend(
                            batch
                                .iter()
                                .filter(|e| only.as_ref().is_none_or(|stream| *stream == e.stream_id))
                                .filter_map(|e| lens(viewer, e))
                                .map(CaseEvent::from),
                        );
                    }
                }
            },
        ))
    }
}
