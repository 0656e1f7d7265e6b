//! A Digital Champion's start page: their caseload, what needs doing first at the top, and the
//! cases nobody has taken yet.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use cynic::QueryBuilder;
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{inset, page};
use crate::lists::{
    ago, by_urgency, case_status, cell, day, days_since, due_cell, header_row, list_command_fields, next_action,
    practice_cell,
};
use crate::operations::champion::{Caseload, CaseloadQuery};
use crate::session::Session;
use crate::{Ids, WebState, fetch, ids, signed_in};

#[derive(Debug, Deserialize, Default)]
pub struct Params {
    /// The case just assigned to the caller, to say so.
    #[serde(default)]
    assigned: String,
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
    let mut caseload = match fetch(&state, &session, ids_, CaseloadQuery::build(())).await {
        Ok(query) => query.champion,
        Err(response) => return response,
    };
    by_urgency(&mut caseload.my_cases);
    let visit = crate::visit(&state, &session, ids_).await;
    let cases: Vec<crate::lists::Changed<'_>> = caseload
        .my_cases
        .iter()
        .chain(&caseload.unassigned)
        .map(Into::into)
        .collect();
    let since = crate::lists::as_at_and_since(visit.as_ref(), &cases);
    page(
        "My caseload",
        Some(&session),
        render(&caseload, &session, &params.assigned, &since),
    )
    .into_response()
}

/// The caseload page's body; `assigned` names a case just assigned, to confirm it; `since` is
/// what it is as at and what changed since the last visit.
pub fn render(caseload: &Caseload, session: &Session, assigned: &str, since: &Markup) -> Markup {
    let mine = &caseload.my_cases;
    let open = mine.iter().filter(|case| !case.finished()).count();
    let late = mine.iter().filter(|case| !case.finished() && case.overdue()).count();
    let just_assigned = mine.iter().find(|case| !assigned.is_empty() && case.key() == assigned);
    html! {
        @if let Some(case) = just_assigned {
            div class="nhsuk-inset-text cl-success" id="assigned" role="status" {
                span class="nhsuk-u-visually-hidden" { "Success: " }
                p { strong { "Assigned to you: " } a href={"/cases/" (case.key())} { (case.practice.name) } ". It is in your caseload below." }
            }
        }
        h1 { "My caseload" }
        (since)
        div id="live-region" data-live="" aria-live="polite" {
            p class="nhsuk-lede-text" {
                (open) " open " (if open == 1 { "case" } else { "cases" }) " assigned to you"
                @if late > 0 { ", " strong { (late) " overdue" } }
                "."
            }
            table class="nhsuk-table-responsive" id="my-cases" role="table" {
                caption class="nhsuk-table__caption" { "Your cases, what needs doing first at the top" }
                (header_row(&["Practice", "Status", "Due", "Open for", "Last activity", "Next action"]))
                tbody class="nhsuk-table__body" {
                    @for case in mine {
                        tr role="row" class={"nhsuk-table__row" @if case.overdue() { " cl-row-overdue" }} {
                            (cell("Practice", practice_cell(case)))
                            (cell("Status", case_status(case)))
                            (cell("Due", due_cell(case)))
                            (cell("Open for", html! {
                                @if case.finished() { span class="cl-muted" { "–" } }
                                @else { (days_since(Some(case.opened_at)).map_or_else(|| "–".to_string(), |d| format!("{d} days"))) }
                            }))
                            (cell("Last activity", html! { (ago(Some(case.last_activity_at))) }))
                            (cell("Next action", html! { span class="cl-next-action" { (next_action(case)) } }))
                        }
                    }
                }
            }
            @if mine.is_empty() { (inset(html! { "No cases are assigned to you yet." })) }
            h2 class="nhsuk-heading-m" { "Unassigned cases" }
            @if caseload.unassigned.is_empty() {
                p { "Every open case has a champion." }
            } @else {
                table class="nhsuk-table-responsive" id="unassigned" role="table" {
                    (header_row(&["Practice", "Status", "Opened", "Action"]))
                    tbody class="nhsuk-table__body" {
                        @for case in &caseload.unassigned {
                            tr class="nhsuk-table__row" role="row" {
                                (cell("Practice", practice_cell(case)))
                                (cell("Status", case_status(case)))
                                (cell("Opened", html! { (day(Some(case.opened_at))) }))
                                (cell("Action", html! {
                                    form method="post" action={"/cases/" (case.key()) "/assign"} class="cl-inline" {
                                        (list_command_fields(session, case, &format!("/champion?assigned={}#assigned", case.key())))
                                        button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" {
                                            "Assign to me" span class="nhsuk-u-visually-hidden" { ": " (case.practice.name) }
                                        }
                                    }
                                }))
                            }
                        }
                    }
                }
            }
        }
    }
}
