//! The Directory of Services page's operations: the services' red, amber or green status, the
//! gaps the reader may see, and each party's step on a gap.

pub use crate::contract::enums::DosGapKind;
use crate::contract::{Day, Instant, schema};

#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosGapStatus {
    Reported,
    AwaitingUpdate,
    AwaitingConfirmation,
    Closed,
    Dismissed,
}

#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosTriage {
    CaseOpened,
    Dismissed,
}

#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rag {
    Green,
    Amber,
    Red,
}

/// Everything the page shows.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct DosQuery {
    pub dos_services: Vec<DosServiceStatus>,
    #[arguments(first: 200)]
    pub dos_gaps: Vec<DosGap>,
    #[arguments(weeks: 8)]
    pub dos_figures: Vec<DosWeek>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DosWeek {
    pub week: Day,
    pub kind: DosGapKind,
    pub reported: i32,
    pub reported_in_core_hours: i32,
    pub closed: i32,
    pub dismissed: i32,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DosServiceStatus {
    pub service_id: String,
    pub service_name: String,
    pub rag: Rag,
    pub open_gaps: i32,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct DosGap {
    pub id: cynic::Id,
    pub service_id: String,
    pub service_name: String,
    pub kind: DosGapKind,
    pub bit_at: Instant,
    pub in_core_hours: bool,
    pub ods_code: Option<String>,
    pub status: DosGapStatus,
    pub detail: Option<String>,
    pub dismiss_reason: Option<String>,
    pub update_summary: Option<String>,
    pub times_persisted: i32,
    pub persist_detail: Option<String>,
    pub due: Option<Day>,
    pub overdue: bool,
}

#[derive(cynic::InputObject, Debug)]
pub struct ReportDosGapInput {
    pub service_id: String,
    pub service_name: String,
    pub kind: DosGapKind,
    pub bit_at: Instant,
    pub ods_code: Option<String>,
    pub detail: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ReportVariables {
    pub input: ReportDosGapInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DosGap")]
pub struct GapId {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}

/// The 111 provider reports a gap.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ReportVariables")]
pub struct ReportDosGap {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub report_dos_gap: GapId,
}

#[derive(cynic::InputObject, Debug)]
pub struct TriageDosGapInput {
    pub gap_id: cynic::Id,
    pub outcome: DosTriage,
    pub reason: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct TriageVariables {
    pub input: TriageDosGapInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "TriageVariables")]
pub struct TriageDosGap {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub triage_dos_gap: GapId,
}

#[derive(cynic::InputObject, Debug)]
pub struct RecordDosUpdateInput {
    pub gap_id: cynic::Id,
    pub summary: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct UpdateVariables {
    pub input: RecordDosUpdateInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "UpdateVariables")]
pub struct RecordDosUpdate {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub record_dos_update: GapId,
}

#[derive(cynic::InputObject, Debug)]
pub struct DosGapStepInput {
    pub gap_id: cynic::Id,
    pub detail: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct StepVariables {
    pub input: DosGapStepInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "StepVariables")]
pub struct ConfirmDosFix {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub confirm_dos_fix: GapId,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "StepVariables")]
pub struct ReportDosGapPersists {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub report_dos_gap_persists: GapId,
}
