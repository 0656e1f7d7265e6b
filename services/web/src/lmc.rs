//! The LMC's oversight page. Its question, answered first: are practices supported before any
//! contract action, and how soon? Then the figures by place, and each case's support, filtered
//! by place and status.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use caseledger_cases::CaseStatus;
use cynic::QueryBuilder;
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{page, status_label};
use crate::lists::{case_status, cell, day, header_row, practice_cell, urlencode};
use crate::model::days;
use crate::operations::lmc::{Oversight, OversightQuery, OversightVariables, SupportedCase};
use crate::{Ids, WebState, ids, signed_in};

/// The event types that are support given to a practice (not the flag, an assignment, a note).
const SUPPORT: [&str; 5] = caseledger_cases::case::SUPPORT_EVENTS;

/// Which cases the filter shows: `open` (the default), `all`, or those of one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Open,
    All,
    Status(CaseStatus),
}

impl Shown {
    /// From the URL's `status`; anything else is the default.
    pub fn parse(text: &str) -> Self {
        match text {
            "all" => Shown::All,
            other => CaseStatus::parse(other).map_or(Shown::Open, Shown::Status),
        }
    }

    /// The URL's `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Open => "open",
            Shown::All => "all",
            Shown::Status(status) => status.as_str(),
        }
    }

    fn label(self) -> String {
        match self {
            Shown::Open => "Open".into(),
            Shown::All => "All".into(),
            Shown::Status(status) => status_label(status),
        }
    }

    /// The statuses the read model is asked for (`None`: every one).
    pub fn statuses(self) -> Option<Vec<crate::contract::enums::CaseStatus>> {
        match self {
            Shown::Open => Some(
                CaseStatus::ALL
                    .into_iter()
                    .filter(|status| status.is_open())
                    .map(Into::into)
                    .collect(),
            ),
            Shown::All => None,
            Shown::Status(status) => Some(vec![status.into()]),
        }
    }

    /// Every choice the filter offers.
    fn choices() -> impl Iterator<Item = Shown> {
        [Shown::Open, Shown::All]
            .into_iter()
            .chain(CaseStatus::ALL.into_iter().map(Shown::Status))
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    pub place: String,
    /// `open` (the default), `all`, or one status.
    #[serde(default)]
    pub status: String,
    /// The cursor of the page before.
    #[serde(default)]
    pub after: String,
}

/// The list's query for `filter`, from `after`.
pub fn variables(filter: &Filter, after: Option<String>) -> OversightVariables {
    OversightVariables {
        status: Shown::parse(&filter.status).statuses(),
        place: Some(filter.place.clone()).filter(|place| !place.is_empty()),
        after: after.filter(|after| !after.is_empty()),
    }
}

impl Filter {
    /// The export of the cases this filter shows (`report.csv` or `report.xlsx`).
    fn export(&self, file: &str) -> String {
        let mut query = vec![format!("status={}", urlencode(Shown::parse(&self.status).as_str()))];
        if !self.place.is_empty() {
            query.push(format!("place={}", urlencode(&self.place)));
        }
        format!("/lmc/{file}?{}", query.join("&"))
    }

    /// This filter's page after `after`.
    fn link(&self, after: &str) -> String {
        let mut query = vec![format!("status={}", urlencode(Shown::parse(&self.status).as_str()))];
        if !self.place.is_empty() {
            query.push(format!("place={}", urlencode(&self.place)));
        }
        query.push(format!("after={}", urlencode(after)));
        format!("/lmc?{}#lmc-cases", query.join("&"))
    }
}

pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(filter): Query<Filter>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let variables = variables(&filter, Some(filter.after.clone()));
    let oversight =
        match crate::contract::run(&state.0.schema, &session.actor, ids_, OversightQuery::build(variables)).await {
            Ok(query) => query.lmc,
            Err(errors) if errors.iter().any(|e| e.field.as_deref() == Some("after")) => {
                return crate::problem(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some(&session),
                    "That page of cases is not there",
                    "Go back to the first page of the list.",
                );
            }
            Err(errors) => return crate::gql_problem(&session, &errors),
        };
    let visit = crate::visit(&state, &session, ids_).await;
    let cases: Vec<crate::lists::Changed<'_>> = oversight
        .cases
        .edges
        .iter()
        .map(|edge| crate::lists::Changed {
            id: edge.node.id.inner(),
            practice: &edge.node.practice.name,
            status: edge.node.status.into(),
            at: edge.node.last_activity_at(),
        })
        .collect();
    let since = crate::lists::as_at_and_since(visit.as_ref(), &cases);
    page("Oversight", Some(&session), render(&oversight, &filter, &since)).into_response()
}

/// Whether support came before the contract action: `None` when there was none.
pub fn supported_first(case: &SupportedCase) -> Option<bool> {
    let escalated = case.escalated_at?;
    Some(case.first_support_at().is_some_and(|supported| supported <= escalated))
}

/// One place's row: open cases, all cases, median working days to first support, contract reviews.
struct PlaceRow<'a> {
    place: &'a str,
    open: i32,
    all: i32,
    support: Option<f64>,
    reviews: i32,
}

/// The page's body.
pub fn render(oversight: &Oversight, filter: &Filter, since: &Markup) -> Markup {
    let status = Shown::parse(&filter.status);
    let shown: Vec<&SupportedCase> = oversight.cases.edges.iter().map(|edge| &edge.node).collect();
    let mut places: Vec<String> = oversight
        .support
        .by_place
        .iter()
        .map(|place| place.place.clone())
        .filter(|p| !p.is_empty())
        .collect();
    places.sort();
    places.dedup();
    let next = oversight.cases.page_info.next().map(|after| filter.link(after));
    // The answer and the places' figures are the read model's, over every case (each case's
    // current episode) in working days; the list below shows a page of the cases themselves.
    let answer = &oversight.support.all;
    let by_place: Vec<PlaceRow> = oversight
        .support
        .by_place
        .iter()
        .map(|place| PlaceRow {
            place: &place.place,
            open: place.support.open_cases,
            all: place.support.cases,
            support: place.support.median_working_days_to_support,
            reviews: place.support.reviewed,
        })
        .collect();
    let s = &oversight.summary;
    html! {
        h1 { "Oversight" }
        (since)
        div id="live-region" data-live="" aria-live="polite" {
            div class="nhsuk-card" id="support-answer" {
                div class="nhsuk-card__content" {
                    h2 class="nhsuk-card__heading nhsuk-heading-m" { "Are practices supported, not sanctioned?" }
                    ul class="nhsuk-list" {
                        li { "Median time from a flag (or reopen) to the first support: " strong data-answer="median-support" { (days(answer.median_working_days_to_support)) " working days" } }
                        li { "Open cases with no support yet: " strong data-answer="never-supported" { (answer.open_without_support) } }
                        li {
                            "Contract reviews: " strong data-answer="reviews" { (oversight.contract_reviews) }
                            @if answer.reviewed > 0 {
                                "; support came before the review in " strong data-answer="support-first" { (answer.supported_before_review) " of " (answer.reviewed) }
                            }
                        }
                    }
                    p class="nhsuk-body-s" { "Over all " (answer.cases) " cases, each from its flag or latest reopen; working days leave out weekends and bank holidays." }
                }
            }
            dl class="nhsuk-summary-list" id="lmc-summary" {
                @for (label, value) in [
                    ("Practices monitored", s.practices),
                    ("Practices below requirement", s.non_compliant_practices),
                    ("Open cases", s.open_cases),
                    ("Compliant cases", s.compliant_cases),
                    ("Closed cases", s.closed_cases),
                ] {
                    div class="nhsuk-summary-list__row" {
                        dt class="nhsuk-summary-list__key" { (label) }
                        dd class="nhsuk-summary-list__value" { (value) }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "By place" }
            div class="cl-table-scroll" role="region" aria-label="By place" tabindex="0" {
                table class="nhsuk-table" id="lmc-by-place" {
                    thead class="nhsuk-table__head" { tr {
                        th scope="col" { "Place" } th scope="col" class="nhsuk-table__header--numeric" { "Open" }
                        th scope="col" class="nhsuk-table__header--numeric" { "All cases" }
                        th scope="col" class="nhsuk-table__header--numeric" { "Median working days to first support" }
                        th scope="col" class="nhsuk-table__header--numeric" { "Contract reviews" }
                    } }
                    tbody class="nhsuk-table__body" {
                        @for row in &by_place {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { a href={"/lmc?place=" (urlencode(row.place)) "&status=all"} { (row.place) } }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (row.open) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (row.all) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (days(row.support)) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (row.reviews) }
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Support given to each practice" }
            form method="get" action="/lmc" class="cl-filters" id="lmc-filter" {
                div class="nhsuk-form-group cl-inline" {
                    label class="nhsuk-label" for="lmc-place" { "Place" }
                    select class="nhsuk-select" id="lmc-place" name="place" {
                        option value="" selected[filter.place.is_empty()] { "All places" }
                        @for place in &places { option value=(place) selected[*place == filter.place] { (place) } }
                    }
                }
                div class="nhsuk-form-group cl-inline" {
                    label class="nhsuk-label" for="lmc-status" { "Status" }
                    select class="nhsuk-select" id="lmc-status" name="status" {
                        @for choice in Shown::choices() { option value=(choice.as_str()) selected[choice == status] { (choice.label()) } }
                    }
                }
                button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
            }
            p id="lmc-export" {
                "Download these cases with their support: "
                a href=(filter.export("report.xlsx")) download="" { "spreadsheet (XLSX)" }
                " or "
                a href=(filter.export("report.csv")) download="" { "CSV" }
            }
            p id="lmc-shown" {
                (oversight.cases.total_count) " of " (oversight.support.all.cases) " cases"
                @if next.is_some() || !filter.after.is_empty() { " (" (shown.len()) " on this page)" }
            }
            table class="nhsuk-table-responsive" id="lmc-cases" role="table" {
                (header_row(&["Practice", "Status", "Flagged", "First support", "Contract action"]))
                tbody class="nhsuk-table__body" {
                    @for case in &shown {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", practice_cell(*case)))
                            (cell("Status", case_status(*case)))
                            (cell("Flagged", html! { (day(Some(case.opened_at))) }))
                            (cell("First support", support_given(case)))
                            (cell("Contract action", html! {
                                span class="cl-contract" {
                                    @match supported_first(case) {
                                        None => "None",
                                        Some(true) => { "Contract review, " (day(case.escalated_at)) ", after support" }
                                        Some(false) => { strong { "Contract review, " (day(case.escalated_at)) ", before any support" } }
                                    }
                                }
                            }))
                        }
                    }
                }
            }
            @if let Some(next) = &next {
                nav class="nhsuk-pagination" role="navigation" aria-label="Pagination" {
                    ul class="nhsuk-list nhsuk-pagination__list" {
                        li class="nhsuk-pagination-item--next" {
                            a class="nhsuk-pagination__link nhsuk-pagination__link--next" href=(next) id="lmc-next" {
                                span class="nhsuk-pagination__title" { "Next" }
                                span class="nhsuk-u-visually-hidden" { ":" }
                                span class="nhsuk-pagination__page" { "More cases" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// When support first came, and each step of it folded beneath.
fn support_given(case: &SupportedCase) -> Markup {
    let support = case
        .history
        .iter()
        .filter(|event| SUPPORT.contains(&event.event_type.as_str()))
        .count();
    html! {
        @match (case.first_support_at(), case.working_days_to_first_support) {
            (Some(at), Some(after)) => {
                (day(Some(at))) " (" (after) " working " (if after == 1 { "day" } else { "days" }) " after the flag)"
                details class="nhsuk-details cl-support" {
                    summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { (support) " support " (if support == 1 { "action" } else { "actions" }) } }
                    div class="nhsuk-details__text" {
                        ol class="nhsuk-list cl-actions" {
                            @for event in &case.history {
                                li { (day(Some(event.occurred_at))) ": " (crate::case::event_label(&event.event_type)) }
                            }
                        }
                    }
                }
            }
            _ => { strong { "None yet" } }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn oversight() -> Oversight {
        let case = |id: &str, place: &str, status: &str, history: serde_json::Value, escalated: Option<&str>| {
            json!({ "node": { "id": id, "status": status, "openedAt": "2026-01-05T09:00:00Z", "escalatedAt": escalated,
                "workingDaysToFirstSupport": history.as_array().and_then(|h| h.iter().position(|e| e["type"] == "PracticeContacted")).map(|_| 2),
                "contractReviewOpen": null, "practice": { "odsCode": id, "name": format!("Practice {id}"), "pcnCode": "U1", "place": place, "listSize": 6000 },
                "history": history } })
        };
        let data = json!({ "lmc": {
            "summary": { "practices": 3, "nonCompliantPractices": 1, "openCases": 2, "compliantCases": 1, "closedCases": 0 },
            "contractReviews": 2,
            "support": {
                "all": { "cases": 3, "openCases": 2, "openWithoutSupport": 1, "medianWorkingDaysToSupport": 3.0,
                         "reviewed": 2, "supportedBeforeReview": 1 },
                "byPlace": [
                    { "place": "Derby", "support": { "cases": 2, "openCases": 2, "openWithoutSupport": 1,
                      "medianWorkingDaysToSupport": 2.0, "reviewed": 2, "supportedBeforeReview": 1 } },
                    { "place": "Erewash", "support": { "cases": 1, "openCases": 0, "openWithoutSupport": 0,
                      "medianWorkingDaysToSupport": 4.0, "reviewed": 0, "supportedBeforeReview": 0 } }
                ]
            },
            "cases": { "totalCount": 3, "pageInfo": { "hasNextPage": false, "endCursor": null }, "edges": [
                case("A1", "Derby", "REMAPPED", json!([
                    { "type": "PracticeFlagged", "occurredAt": "2026-01-05T09:00:00Z" },
                    { "type": "PracticeContacted", "occurredAt": "2026-01-07T09:00:00Z" }]), Some("2026-01-20T09:00:00Z")),
                case("B2", "Derby", "FLAGGED", json!([{ "type": "PracticeFlagged", "occurredAt": "2026-01-05T09:00:00Z" }]),
                     Some("2026-01-06T09:00:00Z")),
                case("C3", "Erewash", "COMPLIANT", json!([
                    { "type": "PracticeContacted", "occurredAt": "2026-01-09T09:00:00Z" }]), None),
            ] } } });
        serde_json::from_value::<OversightQuery>(data).unwrap().lmc
    }

    #[test]
    fn the_answer_is_the_read_models_over_every_case() {
        let html = render(&oversight(), &Filter::default(), &html! {}).into_string();
        assert!(
            html.contains(r#"data-answer="median-support">3.0 working days"#),
            "{html}"
        );
        assert!(html.contains("Over all 3 cases"), "{html}");
        // B2 is open and was never supported; C3 is finished.
        assert!(html.contains(r#"data-answer="never-supported">1<"#), "{html}");
        // A1 was supported before its review, B2 was not.
        assert!(html.contains(r#"data-answer="support-first">1 of 2<"#), "{html}");
        assert!(html.contains("before any support"));
        // Each case's own count is the read model's, in working days.
        assert!(html.contains("(2 working days after the flag)"), "{html}");
    }

    #[test]
    fn the_filter_asks_the_read_model_for_open_cases_by_default_and_pages_on() {
        use crate::contract::enums::CaseStatus as Status;
        let open = Shown::parse("").statuses().unwrap();
        assert!(open.contains(&Status::Flagged) && open.contains(&Status::DhuConfirmed));
        assert!(!open.contains(&Status::Compliant) && !open.contains(&Status::Closed));
        assert_eq!(Shown::parse("all").statuses(), None);
        assert_eq!(Shown::parse("CONTACTED").statuses(), Some(vec![Status::Contacted]));
        let derby = Filter {
            place: "Derby & Erewash".into(),
            status: "all".into(),
            after: String::new(),
        };
        assert_eq!(
            derby.link("c2"),
            "/lmc?status=all&place=Derby%20%26%20Erewash&after=c2#lmc-cases"
        );
        // The list says how many match of every case.
        let html = render(&oversight(), &derby, &html! {}).into_string();
        assert!(html.contains(r#"id="lmc-shown">3 of 3 cases"#), "{html}");
        assert!(
            html.contains(r#"<option value="Erewash">"#),
            "places from the figures: {html}"
        );
    }
}
