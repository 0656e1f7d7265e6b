//! A practice's page: who and where it is (register, PCN, place, sites), whether data is missing,
//! the three counts of its 111 slots side by side and whether they disagree, its weekly chart,
//! every case episode, and the DHU's reports. Read through the schema as the signed-in party: a
//! champion reaches only the practices of their cases.

use crate::lists::{cell, header_row};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::layout::{date, date_time, inset, page, status_tag};
use super::reports::root_cause_label;
use super::{Ids, WebState, charts, gql_problem, ids, problem, query, signed_in};

const PRACTICE_QUERY: &str = "query($ods: String!, $from: Date) { practice(odsCode: $ods) { \
    odsCode name pcnCode pcnName place listSize requiredSlots registered mainSite branchSites missingWeeks \
    latestObservation { reportDate visibleSlots requiredSlots compliant } \
    counts { requiredSlots disagreement configured { slots at } seenByDhu { slots at } dashboard { slots at } } \
    latestVerification { verifiedAt verdict minPerCoreDay requiredPerDay shortDays errorCode error } \
    observations(from: $from) { reportDate visibleSlots requiredSlots } \
    cases { id status openedAt compliantAt assignedTo history { type occurredAt data } } \
    episodes { caseId openedAt compliantAt status } \
    dhuReports { id category detail reportedAt status } } }";

/// The weeks' points for the chart: required and visible slots a day.
fn week_points(weeks: &[Value]) -> Vec<charts::Point> {
    weeks
        .iter()
        .filter_map(|week| {
            let date = chrono::NaiveDate::parse_from_str(week["reportDate"].as_str()?, "%Y-%m-%d").ok()?;
            Some(charts::Point {
                date,
                values: vec![week["requiredSlots"].as_f64()?, week["visibleSlots"].as_f64()?],
            })
        })
        .collect()
}

/// The counts' names, in the order the page shows them.
const COUNTS: [(&str, &str); 3] = [
    ("configured", "Configured by the practice (last remap)"),
    ("seenByDhu", "Seen by DHU (latest confirmation or extract)"),
    ("dashboard", "On the dashboard (latest extract)"),
];

pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids, Path(ods): Path<String>) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    // A year of weeks on the page; the rest is a query away.
    let from = (caseledger_clock::today() - chrono::Days::new(365)).to_string();
    let data = match query(
        &state,
        &session,
        ids(ids_),
        PRACTICE_QUERY,
        json!({ "ods": ods, "from": from }),
    )
    .await
    {
        Ok(data) => data,
        Err(errors) if errors.iter().any(|e| e.is(&crate::gql::ErrorCode::BadUserInput)) => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Practice not found",
                "That is not a practice's ODS code.",
            );
        }
        Err(errors) => return gql_problem(&session, &errors),
    };
    let p = &data["practice"];
    if p.is_null() {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&session),
            "Practice not found",
            "There is no practice with that ODS code that you can see.",
        );
    }
    let name = p["name"].as_str().unwrap_or("");
    let missing = p["missingWeeks"].as_i64().unwrap_or(0);
    let body = html! {
        span class="nhsuk-caption-l" { (p["odsCode"].as_str().unwrap_or("")) }
        h1 { (name) }
        dl class="nhsuk-summary-list" id="practice-details" {
            (row("PCN", &format!("{} ({})", p["pcnName"].as_str().unwrap_or("–"), p["pcnCode"].as_str().unwrap_or(""))))
            (row("Place", p["place"].as_str().unwrap_or("")))
            (row("List size", &p["listSize"].to_string()))
            (row("Required 111 slots a day", &p["requiredSlots"].to_string()))
            @if let Some(main) = p["mainSite"].as_str() { (row("Main site", main)) }
            @let branches = p["branchSites"].as_array().map(|b| b.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default();
            @if !branches.is_empty() { (row("Branch sites", &branches)) }
            (row("In the practice register", if p["registered"] == true { "Yes" } else { "No" }))
            @if let Some(line) = super::case::verification_line(&p["latestVerification"]) {
                (row("GP Connect check", &line))
            }
        }
        @if missing > 0 {
            (inset(html! {
                strong id="missing-data" {
                    @if missing == 1 { "No data this week: " } @else { "No data for " (missing) " weeks in a row: " }
                }
                "the practice is in the register but not in the latest dashboard extract"
                @if missing == 1 { "." } @else { "s." }
            }))
        }
        h2 class="nhsuk-heading-m" { "111 slots a day, three ways" }
        @if p["counts"]["disagreement"] == true {
            div class="nhsuk-warning-callout" id="disagreement" {
                h3 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "The counts disagree" } }
                p { "One count is below the requirement of " (p["counts"]["requiredSlots"]) " a day while another meets it: what the practice configured, what DHU sees and the dashboard do not match." }
            }
        }
        div class="cl-table-scroll" role="region" aria-label="Counts" tabindex="0" {
            table class="nhsuk-table" id="counts" {
                thead class="nhsuk-table__head" { tr { th scope="col" { "Count" } th scope="col" class="nhsuk-table__header--numeric" { "Slots a day" } th scope="col" { "As of" } } }
                tbody class="nhsuk-table__body" {
                    @for (key, label) in COUNTS {
                        @let count = &p["counts"][key];
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { (label) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count["slots"].as_i64().map_or_else(|| "–".into(), |n| n.to_string())) }
                            td class="nhsuk-table__cell" { (if count.is_null() { "never".into() } else { date(&count["at"]) }) }
                        }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Week by week" }
        @let weeks = p["observations"].as_array().cloned().unwrap_or_default();
        @if weeks.is_empty() { p { "No dashboard extract has a row for this practice in the last year." } }
        @else { (charts::practice_weeks(&week_points(&weeks))) }
        h2 class="nhsuk-heading-m" { "Cases" }
        (cases(p))
        h2 class="nhsuk-heading-m" { "The DHU's confirmations" }
        (confirmations(p))
        h2 class="nhsuk-heading-m" { "DHU reports" }
        (reports(p))
    };
    page(name, Some(&session), body).into_response()
}

fn row(key: &str, value: &str) -> Markup {
    html! {
        div class="nhsuk-summary-list__row" {
            dt class="nhsuk-summary-list__key" { (key) }
            dd class="nhsuk-summary-list__value" { (value) }
        }
    }
}

fn cases(practice: &Value) -> Markup {
    let cases = practice["cases"].as_array().cloned().unwrap_or_default();
    let episodes = practice["episodes"].as_array().cloned().unwrap_or_default();
    if cases.is_empty() {
        return html! { p { "No case has been opened for this practice." } };
    }
    html! {
        table class="nhsuk-table-responsive" id="practice-cases" role="table" {
            (header_row(&["Episode opened", "Status", "Compliant", "Case"]))
            tbody class="nhsuk-table__body" {
                @for episode in &episodes {
                    @let id = episode["caseId"].as_str().unwrap_or("");
                    tr class="nhsuk-table__row" role="row" {
                        (cell("Episode opened", html! { (date(&episode["openedAt"])) }))
                        (cell("Status", episode["status"].as_str().and_then(caseledger_cases::CaseStatus::parse).map(status_tag).unwrap_or_default()))
                        (cell("Compliant", html! { (if episode["compliantAt"].is_null() { "–".into() } else { date(&episode["compliantAt"]) }) }))
                        (cell("Case", html! { a href={"/cases/" (id)} { "Open the case" } }))
                    }
                }
            }
        }
    }
}

fn reports(practice: &Value) -> Markup {
    let reports = practice["dhuReports"].as_array().cloned().unwrap_or_default();
    if reports.is_empty() {
        return html! { p { "The DHU has not reported on this practice outside a case." } };
    }
    html! {
        ul class="nhsuk-list nhsuk-list--bullet" id="practice-reports" {
            @for report in &reports {
                li {
                    (date(&report["reportedAt"])) ": " (report["category"].as_str().and_then(crate::contract::parse::<crate::contract::enums::RootCause>).map_or("", |cause| root_cause_label(cause.into())))
                    @if let Some(detail) = report["detail"].as_str() { " — " (detail) }
                }
            }
        }
    }
}

/// Every time the DHU confirmed what it could see, newest first, against what was required.
fn confirmations(practice: &Value) -> Markup {
    let mut seen: Vec<(String, Value, Value)> = practice["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|case| case["history"].as_array().cloned().unwrap_or_default())
        .filter(|event| event["type"] == "DhuVisibilityConfirmed")
        .map(|event| {
            (
                event["occurredAt"].as_str().unwrap_or("").to_string(),
                event["data"]["visible_slots_per_day"].clone(),
                event["data"]["required_slots"].clone(),
            )
        })
        .collect();
    seen.sort_by(|a, b| b.0.cmp(&a.0));
    let number = |v: &Value| v.as_i64().map_or_else(|| "–".to_string(), |n| n.to_string());
    html! {
        @if seen.is_empty() { p id="dhu-confirmations" { "The DHU has not confirmed what it sees for this practice." } }
        @else {
            table class="nhsuk-table-responsive" id="dhu-confirmations" role="table" {
                (header_row(&["When", "Slots a day the DHU saw", "Required"]))
                tbody class="nhsuk-table__body" {
                    @for (at, visible, required) in &seen {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("When", html! { (date_time(&Value::String(at.clone()))) }))
                            (cell("Slots a day the DHU saw", html! { (number(visible)) }))
                            (cell("Required", html! { (number(required)) }))
                        }
                    }
                }
            }
        }
    }
}
