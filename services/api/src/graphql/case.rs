//! `Case`, `Practice`, `Observation` and `CaseEvent`: a case as the caller's role may see it.

use async_graphql::{ComplexObject, Context, ID, Json, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_projections::lens::{Reader, lens, shows};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::enums::{CaseSource, CaseStatus, ContractReviewOutcome, RemapChange, ReopenReason, Role, RootCause};
use super::scalars::Date;
use super::state;
use super::verification::{SlotVerification, latest_verification};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// One case as `case_view` holds it (or as a command just left it).
pub use caseledger_projections::case_view::CaseRow as CaseData;

pub async fn case_by_id(pool: &PgPool, case_id: Uuid) -> Result<Option<CaseData>, ApiError> {
    Ok(caseledger_projections::case_view::by_id(pool, case_id).await?)
}

/// The practice's open case, else its most recent.
pub async fn case_by_practice(pool: &PgPool, ods_code: &str) -> Result<Option<CaseData>, ApiError> {
    Ok(caseledger_projections::case_view::by_practice(pool, ods_code).await?)
}

/// A case seen by a person, through the lens their relation to it allows.
#[derive(Debug, Clone)]
pub struct CaseNode {
    pub data: CaseData,
    /// Whose view: the person's role's, or for a champion on a colleague's case what both the
    /// champions' and the LMC's views hold.
    pub viewer: Reader,
}

impl CaseNode {
    /// `data` as `actor` may read it.
    pub fn seen_by(data: CaseData, actor: &caseledger_cases::Actor) -> Self {
        let viewer = caseledger_projections::lens::reading_as(actor, data.assigned_to.as_deref());
        Self { data, viewer }
    }
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

    /// CaseLedger's latest GP Connect free-slot search of the practice.
    #[graphql(complexity = "2 + child_complexity")]
    async fn latest_verification(&self, ctx: &Context<'_>) -> ApiResult<Option<SlotVerification>> {
        latest_verification(ctx, &self.ods_code).await
    }
}

/// Who holds a case, as its reader may know it.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseHolder {
    /// Nobody has taken it yet.
    Nobody,
    /// The reader holds it.
    You,
    /// Someone else holds it.
    SomeoneElse,
}

/// The DHU's latest look since the last remap, below the requirement: "DHU sees 1 of 2 required".
#[derive(SimpleObject, Debug, Clone)]
pub struct DhuShortfall {
    pub visible_slots: i32,
    pub required_slots: i32,
    /// When the DHU looked.
    pub reported_at: DateTime<Utc>,
}

/// One contract review of a case, as the caller may see it: the ICB reads it whole; the LMC
/// that it happened and when (opened, concluded), never its reason, outcome or note.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct ContractReview {
    pub escalated_at: Option<DateTime<Utc>>,
    /// For the ICB only.
    pub escalated_by: Option<String>,
    /// For the ICB only.
    pub reason: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    /// For the ICB only.
    pub concluded_by: Option<String>,
    /// For the ICB only.
    pub outcome: Option<ContractReviewOutcome>,
    /// For the ICB only.
    pub note: Option<String>,
}

impl From<caseledger_projections::history::ContractReview> for ContractReview {
    fn from(review: caseledger_projections::history::ContractReview) -> Self {
        Self {
            escalated_at: review.escalated_at,
            escalated_by: review.escalated_by,
            reason: review.reason,
            concluded_at: review.concluded_at,
            concluded_by: review.concluded_by,
            outcome: review.outcome.map(Into::into),
            note: review.note,
        }
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

impl CaseNode {
    /// The case's events (its own and its contract review's) through the caller's lens, read once
    /// per request by the loader.
    async fn lensed_history(&self, ctx: &Context<'_>) -> ApiResult<Vec<caseledger_projections::lens::LensedEvent>> {
        let events = state(ctx)
            .loaders
            .history(self.data.case_id)
            .await
            .map_err(ApiError::internal)
            .gql()?;
        Ok(events.iter().filter_map(|e| lens(self.viewer, e)).collect())
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
        Ok(self.data.status.into())
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

    /// The requirement now: from the practice's latest dashboard row (its list size), or what
    /// the case was opened with.
    async fn required_slots(&self) -> i32 {
        self.data.required_slots
    }

    /// CaseLedger's latest GP Connect free-slot search of the case's practice (evidence
    /// `GP_CONNECT_VERIFICATION` when ENOUGH after the last remap).
    #[graphql(complexity = "2 + child_complexity")]
    async fn latest_verification(&self, ctx: &Context<'_>) -> ApiResult<Option<SlotVerification>> {
        latest_verification(ctx, &self.data.ods_code).await
    }

    /// The practice's visible 111 slots a day by the latest evidence, by business time: the
    /// flag, a dashboard row, the DHU's confirmation, a GP Connect search, the ICB's confirmation
    /// or a reopen (`visibleSlotsSource`, `visibleSlotsAt`).
    async fn visible_slots(&self) -> Option<i32> {
        self.data.visible_slots
    }

    /// What `visibleSlots` comes from.
    async fn visible_slots_source(&self) -> Option<super::enums::VisibleSlotsSource> {
        self.data
            .visible_slots_source
            .as_deref()
            .and_then(super::enums::VisibleSlotsSource::from_stored)
    }

    /// When (business time) the evidence behind `visibleSlots` was.
    async fn visible_slots_at(&self) -> Option<DateTime<Utc>> {
        self.data.visible_slots_at
    }

    /// The latest observation meets the requirement, not yet confirmed.
    #[graphql(complexity = 2)]
    async fn observed_compliant(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let open = self.data.status.is_open();
        let observed = latest_observation(ctx, &self.data.ods_code).await?;
        Ok(open && observed.is_some_and(|o| o.compliant))
    }

    /// The champion's id; null in the DHU and LMC lens.
    async fn assigned_to(&self) -> Option<String> {
        self.data
            .assigned_to
            .clone()
            .filter(|_| self.viewer.role().knows_champions())
    }

    /// Who holds the case, as the caller may know it: nobody, you, or someone else (never who, to
    /// those whose lens hides the champion); null for the DHU.
    async fn holder(&self, ctx: &Context<'_>) -> ApiResult<Option<CaseHolder>> {
        let actor = super::caller(ctx)?;
        if self.viewer.role() == DomainRole::Dhu {
            return Ok(None);
        }
        Ok(Some(match self.data.assigned_to.as_deref() {
            None => CaseHolder::Nobody,
            Some(holder) if holder == actor.id.as_str() => CaseHolder::You,
            Some(_) => CaseHolder::SomeoneElse,
        }))
    }

    /// The commands the caller may issue on this case now, by the command catalogue: their role,
    /// the case's status and, for a champion, whether they hold it (or may take it).
    async fn available_commands(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::enums::Command>> {
        let actor = super::caller(ctx)?;
        let holder = self.data.assigned_to.as_deref();
        Ok(caseledger_cases::case::COMMANDS
            .iter()
            .filter(|rule| {
                !matches!(
                    rule.allowed,
                    caseledger_cases::case::Allowed::NewCase | caseledger_cases::case::Allowed::Practice
                )
            })
            .filter(|rule| rule.permits_on(actor, holder) && rule.allowed.admits(Some(self.data.status)))
            .map(|rule| rule.command.into())
            .collect())
    }

    async fn root_causes(&self) -> Vec<RootCause> {
        self.data.root_causes.iter().map(|c| (*c).into()).collect()
    }

    async fn open_dhu_issue(&self) -> bool {
        self.data.open_dhu_issue
    }

    /// The DHU's latest look since the last remap fell short of the requirement: the case waits
    /// for a remap before the DHU looks again, and compliance cannot be confirmed.
    async fn dhu_shortfall(&self) -> Option<DhuShortfall> {
        self.data.shortfall().map(|check| DhuShortfall {
            visible_slots: i32::try_from(check.visible).unwrap_or(i32::MAX),
            required_slots: i32::try_from(check.required).unwrap_or(i32::MAX),
            reported_at: check.at,
        })
    }

    /// When the DHU confirmed at or above the requirement, while that still stands (a remap or a
    /// reopen since means it must look again).
    async fn dhu_confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.data.dhu_confirmed_at
    }

    /// The last remap or GP Connect re-enable of the current episode.
    async fn last_remap_at(&self) -> Option<DateTime<Utc>> {
        self.data.last_remap_at
    }

    /// Why the case last reopened; null if it never did.
    async fn reopen_reason(&self) -> Option<ReopenReason> {
        self.data.reopen_cause.map(Into::into)
    }

    /// How the case was opened.
    async fn source(&self) -> ApiResult<CaseSource> {
        Ok(self.data.flag_source.into())
    }

    /// The DHU report the case was opened from, as the caller may see it.
    async fn dhu_report(&self, ctx: &Context<'_>) -> ApiResult<Option<super::reports::DhuReport>> {
        match self.data.dhu_report_id {
            Some(report_id) => super::reports::dhu_report(ctx, report_id, self.viewer).await,
            None => Ok(None),
        }
    }

    /// Whether a contract review is open: for the ICB and (whether only) the LMC; null for
    /// everyone else.
    async fn contract_review_open(&self) -> Option<bool> {
        shows(self.viewer, "EscalatedToContractReview").then_some(self.data.review_open)
    }

    /// The case's contract reviews: whole for the ICB; for the LMC when, and how each ended;
    /// empty for champions and the DHU.
    #[graphql(complexity = "20 + child_complexity")]
    async fn contract_reviews(&self, ctx: &Context<'_>) -> ApiResult<Vec<ContractReview>> {
        if !shows(self.viewer, "EscalatedToContractReview") || self.data.reviews == 0 {
            return Ok(Vec::new());
        }
        let events = state(ctx)
            .loaders
            .contract(self.data.case_id)
            .await
            .map_err(ApiError::internal)
            .gql()?;
        Ok(caseledger_projections::history::contract_reviews(&events, self.viewer)
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The practice's answers to the Digital Champion (the latest 50, oldest first): their words
    /// for the ICB and the champion who holds the case; for the LMC and a colleague champion only
    /// that, and when, the practice answered; empty for the DHU.
    #[graphql(complexity = "10 + child_complexity")]
    async fn practice_answers(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::own_cases::PracticeAnswer>> {
        let case_id = self.data.case_id;
        Ok(super::own_cases::answers(ctx, &[case_id], self.viewer)
            .await?
            .remove(&case_id)
            .unwrap_or_default())
    }

    /// Every change remapped so far: what the DHU should now see.
    async fn remap_changes(&self) -> Vec<RemapChange> {
        self.data.remap_changes.iter().map(|c| (*c).into()).collect()
    }

    /// When the case first went to contract review: for the ICB, admins and (whether and when
    /// only) the LMC; null for everyone else and when it did not.
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        self.data
            .escalated_at
            .filter(|_| shows(self.viewer, "EscalatedToContractReview"))
    }

    /// When the stage the case is in is due, in working days from its start (null when nothing
    /// is awaited: compliant or closed).
    async fn deadline(&self, ctx: &Context<'_>) -> Option<super::deadline::Deadline> {
        super::deadline::of(&state(ctx).deadlines, &self.data, caseledger_clock::today())
    }

    /// When the practice was first supported in this episode (a contact, guidance, a root cause,
    /// a remap or GP Connect re-enabled): the LMC's question. Null before any support, and for
    /// those whose lens does not show contacts (the DHU).
    async fn first_support_at(&self) -> Option<DateTime<Utc>> {
        self.data
            .first_support_at
            .filter(|_| shows(self.viewer, "PracticeContacted"))
    }

    /// Working days (England's bank holidays apart) from the episode's opening to its first
    /// support; 0 the same day. Null as `firstSupportAt` is.
    async fn working_days_to_first_support(&self, ctx: &Context<'_>) -> Option<i32> {
        let first = self
            .data
            .first_support_at
            .filter(|_| shows(self.viewer, "PracticeContacted"))?;
        let days = caseledger_projections::case_view::support::working_days_to_support(
            self.data.opened_at,
            first,
            &state(ctx).deadlines.calendar,
        );
        i32::try_from(days).ok()
    }

    /// Business time of the case's latest event that this caller's lens shows.
    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.data.activity().for_viewer(self.viewer.role())
    }

    /// When the case's personal data was last erased (its sealed fields read "[erased]" since),
    /// for those whose lens shows the erasure; null when it never was.
    #[graphql(complexity = 20)]
    async fn personal_data_erased_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        Ok(self
            .lensed_history(ctx)
            .await?
            .into_iter()
            .filter(|e| e.event_type == "PersonalDataErased")
            .map(|e| e.occurred_at)
            .max())
    }

    /// The caller's lens over the case's events.
    #[graphql(complexity = "20 + child_complexity")]
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        Ok(self.lensed_history(ctx).await?.into_iter().map(Into::into).collect())
    }
}
