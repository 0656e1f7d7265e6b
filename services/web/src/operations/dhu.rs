//! The DHU's page's operations: its checks, and the practice search.

use crate::contract::enums::{DhuReportStatus, RootCause};
use crate::contract::schema;
use crate::model::{CaseRow, EventRow, Instant};

/// The remapped practices waiting for the DHU, the issues it raised and its own reports.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct ChecksQuery {
    pub dhu: Checks,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DhuView")]
pub struct Checks {
    pub awaiting_confirmation: Vec<RemappedCase>,
    /// What it saw short of the requirement, waiting for a remap.
    pub shortfalls: Vec<CaseRow>,
    pub open_issues: Vec<CaseRow>,
    pub reports: Vec<ReportRow>,
}

/// A case waiting for the DHU, with its history (what the champion changed).
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Case")]
pub struct RemappedCase {
    #[cynic(spread)]
    pub case: CaseRow,
    pub history: Vec<EventRow>,
}

/// A DHU report as the lists of reports draw it.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "DhuReport")]
pub struct ReportRow {
    pub id: cynic::Id,
    pub practice: ReportedPractice,
    pub category: RootCause,
    pub detail: Option<String>,
    pub reported_at: Instant,
    pub status: DhuReportStatus,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct ReportedPractice {
    pub ods_code: String,
    pub name: Option<String>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct SearchVariables {
    pub q: String,
}

/// Practices whose ODS code starts with, or whose name contains, `q` (the first 20).
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "SearchVariables")]
pub struct SearchQuery {
    #[arguments(search: $q, first: 20)]
    pub practices: FoundConnection,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct FoundConnection {
    pub edges: Vec<FoundEdge>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct FoundEdge {
    pub node: Found,
}

/// A practice the search found.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct Found {
    pub ods_code: String,
    pub name: String,
    pub place: String,
    pub latest_observation: Option<LatestObservation>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Observation")]
pub struct LatestObservation {
    pub visible_slots: i32,
    pub required_slots: i32,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ExtractVariables {
    pub csv: String,
}

/// The DHU's own visibility extract, uploaded.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ExtractVariables")]
pub struct ImportDhuExtract {
    #[arguments(csv: $csv)]
    pub import_dhu_extract: DhuExtractReport,
}

/// What an extract's upload did.
#[derive(cynic::QueryFragment, Debug)]
pub struct DhuExtractReport {
    pub rows: i32,
    pub observed: i32,
    pub error_count: i32,
    pub errors: Vec<crate::model::ImportError>,
}
