//! `/our-cases`: a practice's own 111 slot cases, or a PCN clinical director's practices': where
//! each stands, what is awaited and by when, and what the practice is asked to do. What they see
//! is the API's `ownCases`: never the case's words or who worked it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use caseledger_cases::Role;
use cynic::QueryBuilder;
use maud::html;

use crate::layout::{page, status_tag};
use crate::lists::{cell, header_row};
use crate::operations::own_cases::OwnCasesQuery;
use crate::{Ids, WebState, fetch, ids, signed_in};

/// `GET /our-cases`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let data = match fetch(&state, &session, ids(ids_), OwnCasesQuery::build(())).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let title = match session.actor.role {
        Role::PcnClinicalDirector => "Our practices' 111 slot cases",
        _ => "Our 111 slot cases",
    };
    let body = html! {
        h1 { (title) }
        p class="nhsuk-lede-text" { "Where each case stands and what the practice is asked to do. A Digital Champion helps; the case's notes stay with those who work it." }
        @if data.own_cases.is_empty() {
            p id="no-cases" { "No 111 slot cases." }
        } @else {
            table class="nhsuk-table" id="own-cases" {
                (header_row(&["Practice", "Status", "111 slots a day", "Awaiting", "Asked of the practice"]))
                tbody class="nhsuk-table__body" {
                    @for case in &data.own_cases {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { (case.practice_name) " (" (case.ods_code) ")" }))
                            (cell("Status", html! {
                                (status_tag(case.status.into()))
                                @if case.supported { br; span class="nhsuk-body-s" { "A champion has been in touch" } }
                            }))
                            (cell("111 slots a day", html! {
                                (case.visible_slots.map_or_else(|| "–".to_string(), |v| v.to_string())) " of " (case.required_slots)
                            }))
                            (cell("Awaiting", html! {
                                @match &case.deadline {
                                    Some(due) => {
                                        (due.awaiting) ", by " (due.due_on.format("%-d %b %Y").to_string())
                                        @if due.overdue { " " strong class="nhsuk-tag nhsuk-tag--red" { "Overdue" } }
                                    }
                                    None => { "–" }
                                }
                            }))
                            (cell("Asked of the practice", html! {
                                @if case.asked_of_practice.is_empty() { "Nothing now" }
                                @else {
                                    ul class="nhsuk-list" { @for asked in &case.asked_of_practice { li { (asked) } } }
                                }
                            }))
                        }
                    }
                }
            }
        }
    };
    page(title, Some(&session), body).into_response()
}
