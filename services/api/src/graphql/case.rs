//! `Case`, `Practice`, `Observation` and `CaseEvent`: a case as the caller's role may see it.

use async_graphql::{ComplexObject, Context, ID, Json, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_eventstore::StoreError;
use caseledger_projections::lens::lens;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::enums::{CaseStatus, RemapChange, Role, RootCause};
use super::scalars::Date;
use super::state;
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// One case as `case_view` holds it (or as a command just left it).
pub use caseledger_projections::case_view::CaseRow as CaseData;

pub async fn case_by_id(pool: &PgPool, case_id: Uuid) -> Result<Option<CaseData>, ApiError> {
    Ok(
        sqlx::query_as!(CaseData, "select * from case_view where case_id = $1", case_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The practice's open case, else its most recent.
pub async fn case_by_practice(pool: &PgPool, ods_code: &str) -> Result<Option<CaseData>, ApiError> {
    Ok(sqlx::query_as!(
        CaseData,
        "select * from case_view where ods_code = $1
         order by (status not in ('COMPLIANT', 'CLOSED')) desc, created_at desc limit 1",
        ods_code
    )
    .fetch_optional(pool)
    .await?)
}

/// A case seen by a role.
#[derive(Debug, Clone)]
pub struct CaseNode {
    pub data: CaseData,
    pub viewer: DomainRole,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Observation {
    pub report_date: Date,
    pub visible_slots: i32,
    pub required_slots: i32,
    pub compliant: bool,
}

/// The practice's latest dashboard observation, batched with the rest of the request's.
async fn latest_observation(ctx: &Context<'_>, ods_code: &str) -> ApiResult<Option<Observation>> {
    state(ctx)
        .loaders
        .observations
        .load_one(ods_code.to_string())
        .await
        .map_err(ApiError::internal)
        .gql()
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Practice {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub required_slots: i32,
}

#[ComplexObject]
impl Practice {
    /// The last dashboard row.
    #[graphql(complexity = "2 + child_complexity")]
    async fn latest_observation(&self, ctx: &Context<'_>) -> ApiResult<Option<Observation>> {
        latest_observation(ctx, &self.ods_code).await
    }
}

/// One event of a case's history, through the caller's lens.
#[derive(SimpleObject, Debug, Clone)]
pub struct CaseEvent {
    /// The case this event belongs to (a subscription without `caseId` delivers many cases').
    pub case_id: ID,
    pub revision: i32,
    #[graphql(name = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_role: Role,
    /// Null where the lens hides who.
    pub actor_id: Option<String>,
    /// The event's data with the fields the lens forbids removed.
    pub data: Json<serde_json::Value>,
}

impl From<caseledger_projections::lens::LensedEvent> for CaseEvent {
    fn from(event: caseledger_projections::lens::LensedEvent) -> Self {
        Self {
            case_id: ID(event.case_id.to_string()),
            revision: i32::try_from(event.revision).unwrap_or(i32::MAX),
            event_type: event.event_type,
            occurred_at: event.occurred_at,
            recorded_at: event.recorded_at,
            actor_role: event.actor_role.into(),
            actor_id: event.actor_id,
            data: Json(event.data),
        }
    }
}

#[Object(name = "Case")]
impl CaseNode {
    async fn id(&self) -> ID {
        ID(self.data.case_id.to_string())
    }

    async fn practice(&self) -> Practice {
        let d = &self.data;
        Practice {
            ods_code: d.ods_code.clone(),
            name: d.practice_name.clone(),
            pcn_code: d.pcn_code.clone(),
            pcn_name: d.pcn_name.clone(),
            place: d.place.clone(),
            list_size: d.list_size,
            required_slots: d.required_slots,
        }
    }

    async fn status(&self) -> ApiResult<CaseStatus> {
        self.data
            .status()
            .map(Into::into)
            .ok_or_else(|| ApiError::internal(StoreError::Malformed(format!("status {}", self.data.status))))
            .gql()
    }

    /// Stream revision of the last event; use as `expectedRevision`. It is the case's concurrency
    /// token, so it counts every event of the case, including those this caller's lens hides.
    async fn revision(&self) -> i32 {
        i32::try_from(self.data.revision).unwrap_or(i32::MAX)
    }

    /// Business time of the flag, or of the last reopen.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.data.opened_at
    }

    async fn compliant_at(&self) -> Option<DateTime<Utc>> {
        self.data.compliant_at
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.data.closed_at
    }

    async fn required_slots(&self) -> i32 {
        self.data.required_slots
    }

    /// The latest DHU confirmation or observation.
    async fn visible_slots(&self) -> Option<i32> {
        self.data.visible_slots
    }

    /// The latest observation meets the requirement, not yet confirmed.
    #[graphql(complexity = 2)]
    async fn observed_compliant(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let open = self.data.status().is_some_and(|s| s.is_open());
        let observed = latest_observation(ctx, &self.data.ods_code).await?;
        Ok(open && observed.is_some_and(|o| o.compliant))
    }

    /// The champion's id; null in the DHU and LMC lens.
    async fn assigned_to(&self) -> Option<String> {
        match self.viewer {
            DomainRole::Dhu | DomainRole::Lmc => None,
            _ => self.data.assigned_to.clone(),
        }
    }

    async fn root_causes(&self) -> Vec<RootCause> {
        self.data
            .root_causes
            .iter()
            .filter_map(|c| serde_json::from_value::<caseledger_cases::case::RootCause>(c.as_str().into()).ok())
            .map(Into::into)
            .collect()
    }

    async fn open_dhu_issue(&self) -> bool {
        self.data.open_dhu_issue
    }

    /// Every change remapped so far: what the DHU should now see.
    async fn remap_changes(&self) -> Vec<RemapChange> {
        self.data
            .remap_changes
            .iter()
            .filter_map(|c| serde_json::from_value::<caseledger_cases::case::RemapChange>(c.as_str().into()).ok())
            .map(Into::into)
            .collect()
    }

    /// When the case first went to contract review: for the ICB, admins and (whether and when
    /// only) the LMC; null for everyone else and when it did not.
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        match self.viewer {
            DomainRole::Icb | DomainRole::Admin | DomainRole::Lmc => self.data.escalated_at,
            DomainRole::Champion | DomainRole::Dhu => None,
        }
    }

    /// Business time of the case's latest event that this caller's lens shows.
    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.data.activity().for_viewer(self.viewer)
    }

    /// The caller's lens over the case's events.
    #[graphql(complexity = "20 + child_complexity")]
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        let events = state(ctx)
            .loaders
            .histories
            .load_one(self.data.case_id)
            .await
            .map_err(ApiError::internal)
            .gql()?
            .unwrap_or_default();
        Ok(events
            .iter()
            .filter_map(|e| lens(self.viewer, e))
            .map(Into::into)
            .collect())
    }
}
