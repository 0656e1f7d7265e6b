//! The view models the pages share: typed fragments of the schema (checked against it when this
//! crate compiles, see [`crate::contract`]) that more than one page's operations select, and the
//! figures' wording.

use chrono::NaiveDate;

pub use crate::contract::Instant;
use crate::contract::enums::{CaseStatus, RootCause};
use crate::contract::schema;

/// A case as the lists show it: the fields every list of cases draws.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "Case")]
pub struct CaseRow {
    pub id: cynic::Id,
    pub status: CaseStatus,
    pub revision: i32,
    pub opened_at: Instant,
    pub compliant_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub last_activity_at: Instant,
    pub required_slots: i32,
    pub visible_slots: Option<i32>,
    pub assigned_to: Option<String>,
    pub root_causes: Vec<RootCause>,
    pub open_dhu_issue: bool,
    /// `None` for a party that may not know of contract reviews.
    pub contract_review_open: Option<bool>,
    pub dhu_shortfall: Option<Shortfall>,
    pub deadline: Option<Deadline>,
    pub practice: PracticeRef,
}

impl CaseRow {
    /// The case's status, as the domain knows it.
    pub fn state(&self) -> caseledger_cases::CaseStatus {
        self.status.into()
    }

    /// Compliant or closed: nothing left to do.
    pub fn finished(&self) -> bool {
        !self.state().is_open()
    }

    pub fn overdue(&self) -> bool {
        self.deadline.as_ref().is_some_and(|deadline| deadline.overdue)
    }

    /// Days from the flag to compliance (one decimal), as the summary's figures count them.
    pub fn days_to_compliance(&self) -> Option<f64> {
        let compliant = self.compliant_at?;
        Some(((compliant - self.opened_at).num_milliseconds() as f64 / 86_400_000.0 * 10.0).round() / 10.0)
    }

    /// What decides the case's next step.
    pub fn facts(&self) -> caseledger_cases::next::CaseFacts {
        facts(
            self.status,
            &self.root_causes,
            self.dhu_shortfall.as_ref().map(|s| (s.visible_slots, s.required_slots)),
            self.open_dhu_issue,
        )
    }

    /// The case's id, for links and forms.
    pub fn key(&self) -> &str {
        self.id.inner()
    }
}

/// What decides a case's next step (the domain's [`caseledger_cases::next::NextStep`]), from
/// whichever fragment of the case a page read.
pub fn facts(
    status: CaseStatus,
    root_causes: &[RootCause],
    dhu_shortfall: Option<(i32, i32)>,
    open_dhu_issue: bool,
) -> caseledger_cases::next::CaseFacts {
    caseledger_cases::next::CaseFacts {
        status: status.into(),
        root_cause_known: !root_causes.is_empty(),
        dhu_shortfall: dhu_shortfall.map(|(visible, required)| (i64::from(visible), i64::from(required))),
        open_dhu_issue,
    }
}

#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "Practice")]
pub struct PracticeRef {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub place: String,
    pub list_size: i32,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "DhuShortfall")]
pub struct Shortfall {
    pub visible_slots: i32,
    pub required_slots: i32,
}

/// A problem an import found: its line, its column if any, and what is wrong (every upload's).
#[derive(cynic::QueryFragment, Debug)]
pub struct ImportError {
    pub line: i32,
    pub column: Option<String>,
    pub message: String,
}

/// The deadline of a case's current stage.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct Deadline {
    pub awaiting: String,
    pub started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub working_days_left: i32,
}

/// One event of a case's history, as its party's lens shows it.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "CaseEvent")]
pub struct EventRow {
    #[cynic(rename = "type")]
    pub event_type: String,
    pub occurred_at: Instant,
    /// The event's data as the lens leaves it (the JSON scalar, passed through).
    pub data: serde_json::Value,
}

/// Where a page of a connection ends, and whether there is more.
#[derive(cynic::QueryFragment, Debug, Clone, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The cursor to go on from, when there is more.
    pub fn next(&self) -> Option<&str> {
        self.end_cursor.as_deref().filter(|_| self.has_next_page)
    }
}

/// "Compliant within N days": how many, and their share.
#[derive(cynic::QueryFragment, Debug, Clone, Default)]
#[cynic(graphql_type = "WithinDays")]
pub struct Within {
    pub count: i32,
    pub percentage: Option<f64>,
}

impl Within {
    /// "12 (43%)".
    pub fn text(&self) -> String {
        match self.percentage {
            Some(percentage) => format!("{} ({percentage:.0}%)", self.count),
            None => self.count.to_string(),
        }
    }
}

/// A place's or a PCN's figures (the ICB summary's `byPlace` and `byPcn`).
#[derive(Debug, Clone, Default)]
pub struct AreaFigures {
    pub place: String,
    pub pcn_code: Option<String>,
    pub pcn_name: Option<String>,
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
}

impl AreaFigures {
    /// The share of its practices meeting the requirement, "83%"; "–" without practices.
    pub fn compliant_share(&self) -> String {
        if self.practices > 0 {
            format!(
                "{:.0}%",
                f64::from(self.practices - self.non_compliant_practices) * 100.0 / f64::from(self.practices)
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

/// A case's JSON as the API answers [`CaseRow`]'s fragment: for the pages' tests.
/// An active champion in the directory of people, as the ICB's choice and report name them.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct ChampionChoice {
    pub id: String,
    pub name: Option<String>,
}

/// How many of a search's counted slots share a value (a delivery channel, a slot type).
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct SlotTally {
    pub value: Option<String>,
    pub count: i32,
}

#[cfg(test)]
pub fn case_json(id: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "status": status, "revision": 4, "openedAt": "2026-01-05T09:00:00Z", "compliantAt": null,
        "lastActivityAt": "2026-01-06T09:00:00Z", "requiredSlots": 2, "visibleSlots": null,
        "assignedTo": null, "rootCauses": [], "openDhuIssue": false, "contractReviewOpen": null,
        "dhuShortfall": null, "deadline": null,
        "closedAt": null,
        "practice": { "odsCode": id, "name": format!("Practice {id}"), "pcnCode": "U1", "place": "Derby", "listSize": 6000 }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn a_case_reads_from_its_graphql_shape() {
        let mut json = case_json("c1", "REMAPPED");
        json["compliantAt"] = json!("2026-01-19T21:00:00Z");
        json["deadline"] = json!({ "awaiting": "DHU check", "startedOn": "2026-01-12", "dueOn": "2026-01-15",
                                   "overdue": true, "workingDaysLeft": -2 });
        let case: CaseRow = serde_json::from_value(json).unwrap();
        assert!(case.overdue() && !case.finished() && case.contract_review_open.is_none());
        assert_eq!(case.state(), caseledger_cases::CaseStatus::Remapped);
        assert_eq!(case.days_to_compliance(), Some(14.5));
        assert_eq!(
            case.deadline.as_ref().unwrap().due_on,
            NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
        );
        assert_eq!(case.practice.place, "Derby");
        assert!(case.assigned_to.is_none());
    }

    #[test]
    fn a_case_missing_a_field_of_its_fragment_does_not_read() {
        let mut json = case_json("c1", "REMAPPED");
        json.as_object_mut().unwrap().remove("revision");
        assert!(serde_json::from_value::<CaseRow>(json).is_err());
        let unknown = case_json("c1", "PENDING");
        assert!(
            serde_json::from_value::<CaseRow>(unknown).is_err(),
            "a status the schema lacks"
        );
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
            count: 12,
            percentage: Some(42.9),
        };
        assert_eq!(within.text(), "12 (43%)");
        assert_eq!(days(Some(3.26)), "3.3");
        assert_eq!(count(None), "–");
    }
}
