//! The diversions page's operations: the diversions and weekly figures the reader may see, and
//! the practice's and the ICB's commands on them.

use crate::contract::enums::{DiversionReason, DiversionReviewOutcome, DiversionSupportKind};
use crate::contract::{Day, Instant, schema};

/// How the weekly figures are grouped.
#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiversionGrouping {
    Practice,
    Pcn,
    Place,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct DiversionsVariables {
    pub since: Option<Instant>,
    pub group_by: DiversionGrouping,
}

/// Everything the page shows: who reads, their diversions since `since`, the weekly figures.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "DiversionsVariables")]
pub struct DiversionsQuery {
    pub me: Me,
    #[arguments(since: $since, first: 500)]
    pub diversions: Vec<Diversion>,
    #[arguments(weeks: 8, groupBy: $group_by)]
    pub diversion_figures: Vec<DiversionWeek>,
    #[arguments(first: 100)]
    pub diversion_reviews: Vec<DiversionReview>,
    #[arguments(weeks: 8)]
    pub core_hours_calls: Vec<PracticeCalls>,
}

/// A practice's calls to 111 in core hours over the page's weeks.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct PracticeCalls {
    pub ods_code: String,
    pub name: Option<String>,
    pub calls: i32,
    pub per_thousand: Option<f64>,
    pub pcn_median: Option<f64>,
    pub icb_median: Option<f64>,
    pub outlier: bool,
    pub diversions: i32,
    pub slots_compliant: Option<bool>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CallsImportVariables {
    pub csv: String,
}

/// The 111 provider's (or the ICB's) upload of the weekly core-hours calls.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "CallsImportVariables")]
pub struct ImportCoreHoursCalls {
    #[arguments(csv: $csv)]
    pub import_core_hours_calls: crate::operations::dhu::DhuExtractReport,
}

/// A review a practice's diversions opened, and the support given.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DiversionReview {
    pub id: cynic::Id,
    pub practice: DivertingPractice,
    pub opened_at: Instant,
    pub notices: i32,
    pub core_minutes: i32,
    pub support: Vec<DiversionSupportKind>,
    pub working_days_to_support: Option<i32>,
    pub closed_at: Option<Instant>,
    pub outcome: Option<DiversionReviewOutcome>,
    pub close_note: Option<String>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Actor")]
pub struct Me {
    pub scope: Option<String>,
    pub scope_name: Option<String>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct Diversion {
    pub id: cynic::Id,
    pub practice: DivertingPractice,
    pub from: Instant,
    pub expected_until: Instant,
    pub ended_at: Option<Instant>,
    pub reason: DiversionReason,
    pub detail: Option<String>,
    pub notified_at: Instant,
    pub late: bool,
    pub acknowledged_at: Option<Instant>,
    pub cancelled_at: Option<Instant>,
    pub core_minutes: i32,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DivertingPractice {
    pub ods_code: String,
    pub name: Option<String>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DiversionWeek {
    pub week: Day,
    pub key: String,
    pub name: Option<String>,
    pub notices: i32,
    pub late_notices: i32,
    pub core_minutes: i32,
}

#[derive(cynic::InputObject, Debug)]
pub struct NotifyDiversionInput {
    pub ods_code: Option<String>,
    pub from: Instant,
    pub expected_until: Instant,
    pub reason: DiversionReason,
    pub detail: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct NotifyVariables {
    pub input: NotifyDiversionInput,
}

/// A practice (or the ICB for it) tells of a diversion.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "NotifyVariables")]
pub struct NotifyDiversion {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub notify_diversion: DiversionId,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Diversion")]
pub struct DiversionId {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}

#[derive(cynic::InputObject, Debug)]
pub struct EndDiversionInput {
    pub diversion_id: cynic::Id,
    pub ended_at: Instant,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct EndVariables {
    pub input: EndDiversionInput,
}

/// The diversion ended.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "EndVariables")]
pub struct EndDiversion {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub end_diversion: DiversionId,
}

#[derive(cynic::InputObject, Debug)]
pub struct AcknowledgeDiversionInput {
    pub diversion_id: cynic::Id,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct AcknowledgeVariables {
    pub input: AcknowledgeDiversionInput,
}

/// The ICB acknowledges a notice.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "AcknowledgeVariables")]
pub struct AcknowledgeDiversion {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub acknowledge_diversion: DiversionId,
}

#[derive(cynic::InputObject, Debug)]
pub struct CancelDiversionInput {
    pub diversion_id: cynic::Id,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CancelVariables {
    pub input: CancelDiversionInput,
}

/// A planned diversion called off before it began.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "CancelVariables")]
pub struct CancelDiversion {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub cancel_diversion: DiversionId,
}

#[derive(cynic::InputObject, Debug)]
pub struct RecordDiversionSupportInput {
    pub review_id: cynic::Id,
    pub kind: DiversionSupportKind,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct SupportVariables {
    pub input: RecordDiversionSupportInput,
}

/// A champion or the practice's PCN records support given.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "SupportVariables")]
pub struct RecordDiversionSupport {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub record_diversion_support: ReviewId,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DiversionReview")]
pub struct ReviewId {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}

#[derive(cynic::InputObject, Debug)]
pub struct CloseDiversionReviewInput {
    pub review_id: cynic::Id,
    pub outcome: DiversionReviewOutcome,
    pub note: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CloseVariables {
    pub input: CloseDiversionReviewInput,
}

/// The ICB closes a review with an outcome.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "CloseVariables")]
pub struct CloseDiversionReview {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub close_diversion_review: ReviewId,
}
