//! The 111 provider's (DHU's) start page: the remapped practices waiting for its check, the issues
//! it reported, its reports on practices with no case, and a search for any practice.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};
use serde::Deserialize;

use crate::contract::enums::RootCause as SchemaRootCause;
use crate::layout::page;
use crate::lists::{cell, due_cell, header_row, list_command_fields, on, practice_cell};
use crate::model::count;
use crate::operations::dhu::{
    Checks, ChecksQuery, ExtractVariables, Found, ImportDhuExtract, RemappedCase, SearchQuery, SearchVariables,
};
use crate::operations::reports::{ReportVariables, ReportVisibilityProblem, ReportVisibilityProblemInput};
use crate::session::Session;
use crate::{Ids, WebState, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};
use axum::extract::Form;

#[derive(Debug, Deserialize, Default)]
pub struct Params {
    /// An ODS code's start, or part of a practice's name.
    #[serde(default)]
    q: String,
}

/// A DHU form the page refused, to show again on it: the confirmation of one case's count, or the
/// report on a practice; what was typed and what was wrong, in plain words.
#[derive(Debug, Clone)]
pub enum Problem {
    Confirm {
        case_id: String,
        typed: String,
        message: String,
    },
    Report {
        values: Vec<(String, String)>,
        errors: Vec<(String, String)>,
    },
}

impl Problem {
    /// The error summary's links: each to the field at fault.
    fn summary(&self) -> Vec<(Option<String>, String)> {
        match self {
            Problem::Confirm { case_id, message, .. } => vec![(Some(format!("visible-{case_id}")), message.clone())],
            Problem::Report { errors, .. } => errors
                .iter()
                .map(|(field, message)| (Some(crate::reports::report_field_id(field)), message.clone()))
                .collect(),
        }
    }
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
    dhu_page(&state, &session, ids(ids_), &params.q, None).await
}

/// The DHU's page; with a refused form, the same page again with its errors (422).
pub async fn dhu_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    search: &str,
    problem: Option<Problem>,
) -> Response {
    let (state, session) = (state.clone(), session.clone());
    let search = search.trim();
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
    let visit = crate::visit(&state, &session, ids_).await;
    let cases: Vec<crate::lists::Changed<'_>> = checks
        .awaiting_confirmation
        .iter()
        .map(|remapped| &remapped.case)
        .chain(&checks.shortfalls)
        .chain(&checks.open_issues)
        .map(Into::into)
        .collect();
    let since = crate::lists::as_at_and_since(visit.as_ref(), &cases);
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let body = html! {
        @if let Some(problem) = &problem {
            (crate::layout::error_summary("There is a problem", &problem.summary()))
        }
        (render(&checks, &session, search, &found, &since, problem.as_ref()))
    };
    (status, page("Visibility checks", Some(&session), body)).into_response()
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
pub fn render(
    checks: &Checks,
    session: &Session,
    search: &str,
    found: &[Found],
    since: &Markup,
    problem: Option<&Problem>,
) -> Markup {
    let awaiting = &checks.awaiting_confirmation;
    let issues = &checks.open_issues;
    html! {
        h1 { "Visibility checks" }
        (since)
        (crate::lists::practice_search("/dhu", search, found))
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
                                    @let refused = match problem {
                                        Some(Problem::Confirm { case_id, typed, message }) if case_id == case.key() => Some((typed, message)),
                                        _ => None,
                                    };
                                    form method="post" action={"/cases/" (case.key()) "/dhu-confirm"} class="cl-inline-form" {
                                        (list_command_fields(session, case, "/dhu"))
                                        div class={"nhsuk-form-group" @if refused.is_some() { " nhsuk-form-group--error" }} {
                                            label class="nhsuk-label" for={"visible-" (case.key())} { "Slots a day the DHU can see" }
                                            @if let Some((_, message)) = refused {
                                                span class="nhsuk-error-message" id={"visible-" (case.key()) "-error"} {
                                                    span class="nhsuk-u-visually-hidden" { "Error: " } (message)
                                                }
                                            }
                                            input class={"nhsuk-input nhsuk-input--width-3" @if refused.is_some() { " nhsuk-input--error" }} id={"visible-" (case.key())} name="visibleSlotsPerDay" type="text" inputmode="numeric"
                                                value=(refused.map_or("", |(typed, _)| typed.as_str()));
                                        }
                                        button class="nhsuk-button nhsuk-button--small" type="submit" { "Confirm" }
                                    }
                                    a href={"/cases/" (case.key()) "#form-dhu-issue"} { "Report an issue" }
                                }))
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Shortfalls you reported (" (checks.shortfalls.len()) ")" }
            @if checks.shortfalls.is_empty() {
                p { "No case is short of what you saw." }
            } @else {
                p { "You saw fewer slots than these practices need: their champions remap, and the case comes back to you." }
                ul class="nhsuk-list nhsuk-list--bullet" id="dhu-shortfalls" {
                    @for case in &checks.shortfalls {
                        li {
                            (practice_cell(case))
                            @if let Some(short) = &case.dhu_shortfall {
                                ": you saw " (short.visible_slots) " of " (short.required_slots) " slots a day"
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
        @match problem {
            Some(Problem::Report { values, errors }) => { (crate::reports::report_form(session, values, errors)) }
            _ => { (crate::reports::report_form(session, &[], &[])) }
        }
        (extract_form(session, None))
    }
}

/// The upload of the DHU's own visibility extract.
fn extract_form(session: &Session, error: Option<&str>) -> Markup {
    let form = crate::lists::UploadForm {
        action: "/dhu/import",
        input: "dhu-csv",
        form_id: "dhu-upload",
        label: "Upload what you could book at each practice (CSV)",
        hint: "Columns: ods_code, date, slots_visible: the bookable 111 slots you could see at the practice in core hours that day. A file with any bad row is rejected whole; a day already sent is not counted twice.",
        button: "Upload extract",
    };
    html! {
        h2 class="nhsuk-heading-m" { "Your visibility extract" }
        (crate::lists::upload_form(session, &form, error))
    }
}

/// `POST /dhu/import`: the extract, and what became of it on the page.
pub async fn import(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    multipart: axum::extract::Multipart,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let what = crate::lists::Upload {
        title: "Visibility extract",
        heading: "Your visibility extract",
        input: "dhu-csv",
        done: "Extract imported",
        summary_id: "dhu-extract-summary",
        counted_once: "days already sent are not counted twice",
        refused: "The extract was not imported",
        back: ("/dhu", "Back to your checks"),
    };
    let ids_ = ids(ids_);
    crate::lists::upload(&session, multipart, &what, extract_form, |csv| async {
        let mutation = ImportDhuExtract::build(ExtractVariables { csv });
        crate::contract::run(&state.0.schema, &session.actor, ids_, mutation)
            .await
            .map(|done| done.import_dhu_extract)
    })
    .await
}

/// `POST /dhu/report`.
pub async fn report(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    // The form offers the schema's root causes; anything else is nobody's choice: "something else".
    let category = crate::reports::field(&form, "category")
        .and_then(crate::contract::parse::<SchemaRootCause>)
        .unwrap_or(SchemaRootCause::Other);
    let ids_ = ids(ids_);
    let values: Vec<(String, String)> = form.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect();
    let problems = crate::reports::report_problems(&form);
    if !problems.is_empty() {
        let problem = Problem::Report {
            values,
            errors: problems,
        };
        return dhu_page(&state, &session, ids_, "", Some(problem)).await;
    }
    let input = ReportVisibilityProblemInput {
        ods_code: crate::reports::field(&form, "odsCode").unwrap_or("").trim().to_string(),
        category,
        detail: crate::reports::field(&form, "detail").map(str::to_string),
        command_id: crate::reports::field(&form, "commandId").map(cynic::Id::new),
    };
    let mutation = ReportVisibilityProblem::build(ReportVariables { input });
    match crate::contract::run(&state.0.schema, &session.actor, ids_, mutation).await {
        Ok(data) => match data.report_visibility_problem.case {
            Some(case) => redirect(&format!("/cases/{}#timeline", case.id.inner())),
            None => redirect("/dhu?reported=1#your-reports"),
        },
        Err(errors)
            if errors
                .first()
                .is_some_and(|e| e.is(&crate::gql::ErrorCode::BadUserInput)) =>
        {
            let field_name = errors[0].field.clone().unwrap_or_else(|| "odsCode".into());
            // An unknown practice, said to the DHU in its own words.
            let message = if errors[0].because(&crate::gql::Reason::UnknownPractice) {
                format!(
                    "There is no practice with the ODS code {} in CaseLedger: check the code, or find the practice by name above",
                    crate::reports::field(&form, "odsCode").unwrap_or("").trim()
                )
            } else {
                errors[0].sentence()
            };
            let problem = Problem::Report {
                values,
                errors: vec![(field_name, message)],
            };
            dhu_page(&state, &session, ids_, "", Some(problem)).await
        }
        Err(errors) => gql_problem(&session, &errors),
    }
}
