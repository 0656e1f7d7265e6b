//! The 111 provider's (DHU's) start page: the remapped practices waiting for its check, the issues
//! it reported, its reports on practices with no case, and a search for any practice.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use cynic::QueryBuilder;
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::page;
use crate::lists::{cell, due_cell, header_row, list_command_fields, on, practice_cell};
use crate::model::count;
use crate::operations::dhu::{
    Checks, ChecksQuery, Found, LatestObservation, RemappedCase, SearchQuery, SearchVariables,
};
use crate::session::Session;
use crate::{Ids, WebState, fetch, ids, signed_in};

#[derive(Debug, Deserialize, Default)]
pub struct Params {
    /// An ODS code's start, or part of a practice's name.
    #[serde(default)]
    q: String,
}

pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(params): Query<Params>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let search = params.q.trim();
    let found: Vec<Found> = if search.is_empty() {
        Vec::new()
    } else {
        let q = search.chars().take(100).collect::<String>();
        match fetch(&state, &session, ids_, SearchQuery::build(SearchVariables { q })).await {
            Ok(query) => query.practices.edges.into_iter().map(|edge| edge.node).collect(),
            Err(response) => return response,
        }
    };
    let checks = match fetch(&state, &session, ids_, ChecksQuery::build(())).await {
        Ok(query) => query.dhu,
        Err(response) => return response,
    };
    page(
        "Visibility checks",
        Some(&session),
        render(&checks, &session, search, &found),
    )
    .into_response()
}

/// What the champion changed, from the case's last remap: "slot type made external, … (4 a day
/// configured)".
pub fn remapped(case: &RemappedCase) -> String {
    /// What a remap's data says, as far as this page reads it.
    #[derive(Deserialize)]
    struct Remap {
        #[serde(default)]
        changes: Vec<String>,
        slots_per_day_configured: Option<i64>,
    }
    let last = case
        .history
        .iter()
        .rev()
        .find(|event| event.event_type == "SlotsRemapped")
        .and_then(|event| Remap::deserialize(&event.data).ok());
    match last {
        None => "GP Connect re-enabled".into(),
        Some(remap) => {
            let changes: Vec<String> = remap.changes.iter().map(|change| change.replace('_', " ")).collect();
            format!(
                "{} ({} a day configured)",
                changes.join(", "),
                count(remap.slots_per_day_configured)
            )
        }
    }
}

/// The page's body: the search (for `search`, which found `found`), then the checks.
pub fn render(checks: &Checks, session: &Session, search: &str, found: &[Found]) -> Markup {
    let awaiting = &checks.awaiting_confirmation;
    let issues = &checks.open_issues;
    html! {
        h1 { "Visibility checks" }
        form method="get" action="/dhu" class="cl-filters" id="practice-search" role="search" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="search-q" { "Find a practice by ODS code or name" }
                input class="nhsuk-input nhsuk-input--width-20" id="search-q" name="q" type="search" value=(search) maxlength="100";
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Search" }
        }
        @if !search.is_empty() {
            h2 class="nhsuk-heading-m" { "Practices matching “" (search) "”" }
            @if found.is_empty() { p id="search-results" { "No practice matches." } }
            @else {
                ul class="nhsuk-list" id="search-results" {
                    @for practice in found {
                        li {
                            a href={"/practices/" (practice.ods_code)} { (practice.name) } " (" (practice.ods_code) ", " (practice.place) ")"
                            @if let Some(LatestObservation { visible_slots: visible, required_slots: required }) = &practice.latest_observation {
                                ": " (visible) " of " (required) " slots a day on the dashboard"
                            }
                        }
                    }
                }
            }
        }
        div id="live-region" data-live="" aria-live="polite" {
            h2 class="nhsuk-heading-m" { "Awaiting your check (" (awaiting.len()) ")" }
            @if awaiting.is_empty() {
                p { "Nothing is waiting for a check." }
            } @else {
                table class="nhsuk-table-responsive" id="awaiting" role="table" {
                    (header_row(&["Practice", "Required a day", "What was changed", "Waiting since", "Confirm"]))
                    tbody class="nhsuk-table__body" {
                        @for remapped_case in awaiting {
                            @let case = &remapped_case.case;
                            tr class="nhsuk-table__row" role="row" {
                                (cell("Practice", practice_cell(case)))
                                (cell("Required a day", html! { (case.required_slots) }))
                                (cell("What was changed", html! { (remapped(remapped_case)) }))
                                (cell("Waiting since", html! {
                                    (on(case.deadline.as_ref().map(|deadline| deadline.started_on)))
                                    br; (due_cell(case))
                                }))
                                (cell("Confirm", html! {
                                    form method="post" action={"/cases/" (case.key()) "/dhu-confirm"} class="cl-inline-form" {
                                        (list_command_fields(session, case, "/dhu"))
                                        label class="nhsuk-label" for={"visible-" (case.key())} { "Slots a day DHU can see" }
                                        input class="nhsuk-input nhsuk-input--width-3" id={"visible-" (case.key())} name="visibleSlotsPerDay" type="text" inputmode="numeric";
                                        button class="nhsuk-button nhsuk-button--small" type="submit" { "Confirm" }
                                    }
                                    a href={"/cases/" (case.key()) "#form-dhu-issue"} { "Report an issue" }
                                }))
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Issues you reported (" (issues.len()) ")" }
            @if issues.is_empty() {
                p { "No open issues." }
            } @else {
                ul class="nhsuk-list nhsuk-list--bullet" id="open-issues" {
                    @for case in issues {
                        li { (practice_cell(case)) }
                    }
                }
            }
            (crate::reports::reports_table(&checks.reports))
        }
        (crate::reports::report_form(session, &[], &[]))
    }
}
