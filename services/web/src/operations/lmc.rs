//! The LMC's oversight page's operation.

use crate::contract::enums::CaseStatus;
use crate::contract::schema;
use crate::model::{Instant, PracticeRef};

/// The list's filter and page: statuses (none: all), one place, after a cursor.
#[derive(cynic::QueryVariables, Debug, Default)]
pub struct OversightVariables {
    pub status: Option<Vec<CaseStatus>>,
    pub place: Option<String>,
    pub after: Option<String>,
}

/// Everything the oversight page shows.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "OversightVariables")]
pub struct OversightQuery {
    pub lmc: Oversight,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "LmcView", variables = "OversightVariables")]
pub struct Oversight {
    pub summary: Figures,
    pub contract_reviews: i32,
    /// Whether support came first, over every case.
    pub support: LmcSupport,
    /// The filtered list, 100 cases a page (filtered by the read model, not the page).
    #[arguments(first: 100, status: $status, place: $place, after: $after)]
    pub cases: SupportConnection,
}

#[derive(cynic::QueryFragment, Debug)]
pub struct LmcSupport {
    pub all: SupportAnswer,
    pub by_place: Vec<PlaceSupport>,
}

#[derive(cynic::QueryFragment, Debug)]
pub struct PlaceSupport {
    pub place: String,
    pub support: SupportAnswer,
}

/// One group's answer, computed over every case by the read model.
#[derive(cynic::QueryFragment, Debug)]
pub struct SupportAnswer {
    pub cases: i32,
    pub open_cases: i32,
    pub open_without_support: i32,
    pub median_working_days_to_support: Option<f64>,
    pub reviewed: i32,
    pub supported_before_review: i32,
}

#[derive(cynic::QueryFragment, Debug, Default)]
#[cynic(graphql_type = "ComplianceSummary")]
pub struct Figures {
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub closed_cases: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseConnection")]
pub struct SupportConnection {
    pub total_count: i32,
    pub edges: Vec<SupportEdge>,
    pub page_info: crate::model::PageInfo,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseEdge")]
pub struct SupportEdge {
    pub node: SupportedCase,
}

/// A case, and the steps of its history that show support given: only what the page draws (a
/// page of these stays within a request's cost).
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Case")]
pub struct SupportedCase {
    pub id: cynic::Id,
    pub status: CaseStatus,
    pub opened_at: Instant,
    pub escalated_at: Option<Instant>,
    pub contract_review_open: Option<bool>,
    /// The working days from the current episode's opening to its first support (the read
    /// model's count, the same as the figures above).
    pub working_days_to_first_support: Option<i32>,
    pub practice: PracticeRef,
    pub history: Vec<Step>,
}

impl SupportedCase {
    /// The first support in the current episode (which opened at `opened_at`).
    pub fn first_support_at(&self) -> Option<Instant> {
        self.history
            .iter()
            .filter(|step| caseledger_cases::case::SUPPORT_EVENTS.contains(&step.event_type.as_str()))
            .map(|step| step.occurred_at)
            .filter(|at| *at >= self.opened_at)
            .min()
    }

    /// Its latest step the LMC sees.
    pub fn last_activity_at(&self) -> Instant {
        self.history
            .iter()
            .map(|step| step.occurred_at)
            .max()
            .unwrap_or(self.opened_at)
    }
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseEvent")]
pub struct Step {
    #[cynic(rename = "type")]
    pub event_type: String,
    pub occurred_at: Instant,
}

impl crate::lists::Listed for SupportedCase {
    fn key(&self) -> &str {
        self.id.inner()
    }

    fn state(&self) -> caseledger_cases::CaseStatus {
        self.status.into()
    }

    fn practice(&self) -> &PracticeRef {
        &self.practice
    }

    fn contract_review_open(&self) -> Option<bool> {
        self.contract_review_open
    }
}
