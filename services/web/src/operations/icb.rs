//! The ICB's pages' operations: the assurance dashboard and its trend, the case list, and the
//! dashboard extract's upload.

use crate::contract::enums::CaseStatus;
use crate::contract::{Day, Instant, schema};
use crate::model::{AreaFigures, CaseRow, ImportError, PageInfo, Within};
use crate::operations::dhu::ReportRow;

#[derive(cynic::QueryVariables, Debug)]
pub struct DashboardVariables {
    /// The summary a week ago, for what changed since.
    pub week_ago: Option<Instant>,
    /// The summary at the person's last visit, for what changed since.
    pub last_visit: Option<Instant>,
}

/// What the dashboard shows (the trend is read separately, for its range).
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "DashboardVariables")]
pub struct DashboardQuery {
    pub icb: Assurance,
    /// Registered practices without data two weeks running.
    #[arguments(minMissingWeeks: 2, first: 50)]
    #[cynic(rename = "practices", alias)]
    pub missing: MissingConnection,
    /// Practices whose three counts disagree.
    #[arguments(disagreement: true, first: 50)]
    #[cynic(rename = "practices", alias)]
    pub disagreeing: AttentionConnection,
    /// Practices ODS lists as closed whose case is still open: the ICB decides.
    #[arguments(closed: true, hasOpenCase: true, first: 50)]
    #[cynic(rename = "practices", alias)]
    pub closed_with_open_case: MissingConnection,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView", variables = "DashboardVariables")]
pub struct Assurance {
    pub data_as_at: Option<Day>,
    #[arguments(asOf: $week_ago)]
    #[cynic(rename = "summary", alias)]
    pub week_ago: WeekFigures,
    #[arguments(asOf: $last_visit)]
    #[cynic(rename = "summary", alias)]
    pub since_visit: WeekFigures,
    pub summary: Figures,
    pub overdue: Vec<CaseRow>,
    pub trend_start: Option<Day>,
    /// Drawn by [`crate::reports::triage_table`].
    pub dhu_reports: Vec<ReportRow>,
}

/// What changed in a week.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ComplianceSummary")]
pub struct WeekFigures {
    pub cases_opened: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub closed_cases: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ComplianceSummary")]
pub struct Figures {
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub closed_cases: i32,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
    #[arguments(bucketDays: 7)]
    pub time_to_compliance: Vec<Bucket>,
    pub by_pcn: Vec<PcnFigures>,
    pub by_place: Vec<PlaceFigures>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ComplianceBucket")]
pub struct Bucket {
    pub count: i32,
}

/// A place's figures.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "PlaceSummary")]
pub struct PlaceFigures {
    pub place: String,
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
}

/// A PCN's figures.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "PcnSummary")]
pub struct PcnFigures {
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
}

impl From<PlaceFigures> for AreaFigures {
    fn from(area: PlaceFigures) -> Self {
        AreaFigures {
            place: area.place,
            pcn_code: None,
            pcn_name: None,
            practices: area.practices,
            non_compliant_practices: area.non_compliant_practices,
            open_cases: area.open_cases,
            compliant_cases: area.compliant_cases,
            median_days_to_compliance: area.median_days_to_compliance,
            compliant_within_days: area.compliant_within_days,
        }
    }
}

impl From<PcnFigures> for AreaFigures {
    fn from(area: PcnFigures) -> Self {
        AreaFigures {
            place: area.place,
            pcn_code: Some(area.pcn_code),
            pcn_name: area.pcn_name,
            practices: area.practices,
            non_compliant_practices: area.non_compliant_practices,
            open_cases: area.open_cases,
            compliant_cases: area.compliant_cases,
            median_days_to_compliance: area.median_days_to_compliance,
            compliant_within_days: area.compliant_within_days,
        }
    }
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct MissingConnection {
    pub edges: Vec<MissingEdge>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct MissingEdge {
    pub node: Missing,
}

/// A registered practice missing from the latest extracts.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct Missing {
    pub ods_code: String,
    pub name: String,
    pub place: String,
    pub missing_weeks: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct AttentionConnection {
    pub edges: Vec<AttentionEdge>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct AttentionEdge {
    pub node: Attention,
}

/// A practice whose three counts disagree.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct Attention {
    pub ods_code: String,
    pub name: String,
    pub counts: Counts,
}

/// A practice's required slots and the three counts of what it offers.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotCounts")]
pub struct Counts {
    pub required_slots: i32,
    pub disagreement: bool,
    pub configured: Option<Slots>,
    pub seen_by_dhu: Option<Slots>,
    pub dashboard: Option<Slots>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotCount")]
pub struct Slots {
    pub slots: i32,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct TrendVariables {
    pub from: Day,
    pub to: Day,
}

/// The weekly trend from `from` to `to`.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "TrendVariables")]
pub struct TrendQuery {
    pub icb: Trend,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView", variables = "TrendVariables")]
pub struct Trend {
    #[arguments(from: $from, to: $to, everyDays: 7)]
    pub trend: Vec<TrendPoint>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct TrendPoint {
    pub date: Day,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CasesVariables {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub status: Option<Vec<CaseStatus>>,
    pub place: Option<String>,
    pub pcn: Option<String>,
}

/// A page of the ICB's cases, filtered.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "CasesVariables")]
pub struct CasesQuery {
    pub icb: IcbCases,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView", variables = "CasesVariables")]
pub struct IcbCases {
    #[arguments(first: $first, after: $after, status: $status, place: $place, pcn: $pcn)]
    pub cases: CaseConnection,
}

#[derive(cynic::QueryFragment, Debug)]
pub struct CaseConnection {
    pub total_count: i32,
    pub edges: Vec<CaseEdge>,
    pub page_info: PageInfo,
}

#[derive(cynic::QueryFragment, Debug)]
pub struct CaseEdge {
    pub node: CaseRow,
}

/// The places and PCNs the case list filters by.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct AreasQuery {
    pub icb: IcbAreas,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView")]
pub struct IcbAreas {
    pub summary: Areas,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ComplianceSummary")]
pub struct Areas {
    pub by_place: Vec<PlaceName>,
    pub by_pcn: Vec<PcnName>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PlaceSummary")]
pub struct PlaceName {
    pub place: String,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "PcnSummary")]
pub struct PcnName {
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ImportVariables {
    pub csv: String,
}

/// The dashboard extract's upload.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ImportVariables")]
pub struct ImportDashboard {
    #[arguments(csv: $csv)]
    pub import_dashboard: ImportReport,
}

/// What became of an upload.
#[derive(cynic::QueryFragment, Debug)]
pub struct ImportReport {
    pub report_date: Option<Day>,
    pub rows: i32,
    pub flagged: i32,
    pub reopened: i32,
    pub error_count: i32,
    pub errors: Vec<ImportError>,
}

/// The assurance report's summary sheet.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "ReportVariables")]
pub struct ReportQuery {
    pub icb: ReportFigures,
}

/// The figures as at a day (none: now).
#[derive(cynic::QueryVariables, Debug, Default)]
pub struct ReportVariables {
    pub as_of: Option<Instant>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView", variables = "ReportVariables")]
pub struct ReportFigures {
    pub data_as_at: Option<Day>,
    #[arguments(asOf: $as_of)]
    pub summary: Figures,
    /// The champions' names, beside their ids in the report.
    pub champions: Vec<crate::model::ChampionChoice>,
}
