//! The DHU report forms' operations: the DHU's report on a practice, and the ICB's triage.

use crate::contract::enums::RootCause;
use crate::contract::schema;

#[derive(cynic::InputObject, Debug)]
pub struct ReportVisibilityProblemInput {
    pub ods_code: String,
    pub category: RootCause,
    pub detail: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ReportVariables {
    pub input: ReportVisibilityProblemInput,
}

/// The DHU reports what it sees on a practice: onto its open case, or to the ICB.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ReportVariables")]
pub struct ReportVisibilityProblem {
    #[arguments(input: $input)]
    pub report_visibility_problem: VisibilityReportPayload,
}

#[derive(cynic::QueryFragment, Debug)]
pub struct VisibilityReportPayload {
    /// The practice's open case the report went onto, if it had one.
    pub case: Option<CaseId>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Case")]
pub struct CaseId {
    pub id: cynic::Id,
}

#[derive(cynic::InputObject, Debug)]
pub struct OpenCaseFromDhuReportInput {
    pub report_id: cynic::Id,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct OpenVariables {
    pub input: OpenCaseFromDhuReportInput,
}

/// The ICB opens a case from a report.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "OpenVariables")]
pub struct OpenCaseFromDhuReport {
    #[arguments(input: $input)]
    pub open_case_from_dhu_report: OpenedCase,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CasePayload")]
pub struct OpenedCase {
    pub case: CaseId,
}

#[derive(cynic::InputObject, Debug)]
pub struct DismissDhuReportInput {
    pub report_id: cynic::Id,
    pub reason: String,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct DismissVariables {
    pub input: DismissDhuReportInput,
}

/// The ICB dismisses a report, saying why.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "DismissVariables")]
pub struct DismissDhuReport {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub dismiss_dhu_report: DismissedReport,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DhuReport")]
pub struct DismissedReport {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}
