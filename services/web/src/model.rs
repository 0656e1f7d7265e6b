//! The pages' typed models: what a page's GraphQL query returns, read into structs once (serde,
//! the schema's camelCase names), so that the render functions work with fields, not JSON paths.
//! A field a query did not ask for keeps its default.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A point in time as GraphQL's `DateTime` carries it.
pub type Instant = DateTime<FixedOffset>;

/// Reads `data[path…]` into `T`: the models of a page's query result. A result that does not fit
/// the model is the service's bug, reported as such (never a half-drawn page).
pub fn read<T: DeserializeOwned>(data: &Value, path: &[&str]) -> Result<T, ModelError> {
    let mut at = data;
    for key in path {
        at = &at[*key];
    }
    T::deserialize(at).map_err(|error| ModelError {
        path: path.join("."),
        error: error.to_string(),
    })
}

/// A query result that does not fit its page's model.
#[derive(Debug, thiserror::Error)]
#[error("the GraphQL result at {path} does not fit the page's model: {error}")]
pub struct ModelError {
    path: String,
    error: String,
}

/// A case as the lists show it (the fields of [`crate::lists::CASE_FIELDS`], and any of the
/// others a page asks for).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CaseRow {
    pub id: String,
    pub status: String,
    pub revision: i64,
    pub opened_at: Option<Instant>,
    pub compliant_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub escalated_at: Option<Instant>,
    pub last_activity_at: Option<Instant>,
    pub required_slots: Option<i64>,
    pub visible_slots: Option<i64>,
    pub assigned_to: Option<String>,
    pub root_causes: Vec<String>,
    pub open_dhu_issue: Option<bool>,
    /// `None` for a party that may not know of contract reviews.
    pub contract_review_open: Option<bool>,
    pub dhu_shortfall: Option<Shortfall>,
    pub deadline: Option<Deadline>,
    pub practice: PracticeRef,
    pub history: Vec<EventRow>,
}

impl CaseRow {
    /// Compliant or closed: nothing left to do.
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "COMPLIANT" | "CLOSED")
    }

    pub fn overdue(&self) -> bool {
        self.deadline.as_ref().is_some_and(|deadline| deadline.overdue)
    }

    pub fn in_contract_review(&self) -> bool {
        self.contract_review_open == Some(true)
    }

    /// Days from the flag to compliance (one decimal), as the summary's figures count them.
    pub fn days_to_compliance(&self) -> Option<f64> {
        let (opened, compliant) = (self.opened_at?, self.compliant_at?);
        Some(((compliant - opened).num_milliseconds() as f64 / 86_400_000.0 * 10.0).round() / 10.0)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PracticeRef {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: Option<String>,
    pub place: Option<String>,
    pub list_size: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Shortfall {
    pub visible_slots: Option<i64>,
    pub required_slots: Option<i64>,
}

/// The deadline of a case's current stage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Deadline {
    pub awaiting: String,
    pub started_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub working_days_left: i64,
}

/// One event of a case's history, as its party's lens shows it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventRow {
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: Option<Instant>,
    pub data: Value,
}

/// A Relay connection's nodes and where the next page starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: Deserialize<'de>")]
pub struct Connection<T> {
    #[serde(default)]
    pub total_count: Option<i64>,
    #[serde(default = "Vec::new")]
    pub edges: Vec<Edge<T>>,
    #[serde(default)]
    pub page_info: PageInfo,
}

impl<T> Connection<T> {
    pub fn nodes(self) -> Vec<T> {
        self.edges.into_iter().map(|edge| edge.node).collect()
    }

    /// The cursor to go on from, when there is more.
    pub fn next(&self) -> Option<&str> {
        self.page_info
            .end_cursor
            .as_deref()
            .filter(|_| self.page_info.has_next_page)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Edge<T> {
    pub node: T,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// "Compliant within N days": how many, and their share.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Within {
    pub count: Option<i64>,
    pub percentage: Option<f64>,
}

impl Within {
    /// "12 (43%)".
    pub fn text(&self) -> String {
        match (self.count, self.percentage) {
            (Some(count), Some(percentage)) => format!("{count} ({percentage:.0}%)"),
            (Some(count), None) => count.to_string(),
            _ => "–".into(),
        }
    }
}

/// A place's or a PCN's figures (the ICB summary's `byPlace` and `byPcn`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AreaFigures {
    pub place: String,
    pub pcn_code: Option<String>,
    pub pcn_name: Option<String>,
    pub practices: i64,
    pub non_compliant_practices: i64,
    pub open_cases: i64,
    pub compliant_cases: i64,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
}

impl AreaFigures {
    /// The share of its practices meeting the requirement, "83%"; "–" without practices.
    pub fn compliant_share(&self) -> String {
        if self.practices > 0 {
            format!(
                "{:.0}%",
                (self.practices - self.non_compliant_practices) as f64 * 100.0 / self.practices as f64
            )
        } else {
            "–".into()
        }
    }
}

/// A number of days, one decimal, or "–".
pub fn days(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |days| format!("{days:.1}"))
}

/// A count, or "–".
pub fn count(value: Option<i64>) -> String {
    value.map_or_else(|| "–".into(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn a_case_reads_from_its_graphql_shape_and_missing_fields_keep_their_defaults() {
        let data = json!({ "champion": { "myCases": [{
            "id": "c1", "status": "REMAPPED", "revision": 4, "openedAt": "2026-01-05T09:00:00Z",
            "compliantAt": "2026-01-19T21:00:00Z", "contractReviewOpen": null,
            "deadline": { "awaiting": "DHU check", "startedOn": "2026-01-12", "dueOn": "2026-01-15",
                          "overdue": true, "workingDaysLeft": -2 },
            "practice": { "odsCode": "C81001", "name": "Ashby", "place": "Derby" } }] } });
        let cases: Vec<CaseRow> = read(&data, &["champion", "myCases"]).unwrap();
        let case = &cases[0];
        assert!(case.overdue() && !case.finished() && !case.in_contract_review());
        assert_eq!(case.days_to_compliance(), Some(14.5));
        assert_eq!(
            case.deadline.as_ref().unwrap().due_on,
            NaiveDate::from_ymd_opt(2026, 1, 15)
        );
        assert_eq!(case.practice.place.as_deref(), Some("Derby"));
        assert!(case.history.is_empty() && case.assigned_to.is_none());
    }

    #[test]
    fn a_result_that_does_not_fit_is_an_error_naming_where() {
        let data = json!({ "icb": { "summary": { "byPlace": [{ "practices": "many" }] } } });
        let error = read::<Vec<AreaFigures>>(&data, &["icb", "summary", "byPlace"]).unwrap_err();
        assert!(error.to_string().contains("icb.summary.byPlace"), "{error}");
    }

    #[test]
    fn shares_and_figures_read_as_people_write_them() {
        let area = AreaFigures {
            practices: 12,
            non_compliant_practices: 2,
            ..AreaFigures::default()
        };
        assert_eq!(area.compliant_share(), "83%");
        assert_eq!(AreaFigures::default().compliant_share(), "–");
        let within = Within {
            count: Some(12),
            percentage: Some(42.9),
        };
        assert_eq!(within.text(), "12 (43%)");
        assert_eq!(days(Some(3.26)), "3.3");
        assert_eq!(count(None), "–");
    }
}
