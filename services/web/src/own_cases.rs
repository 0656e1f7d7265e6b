//! `/our-cases`: a practice's own 111 slot cases, or a PCN clinical director's practices': where
//! each stands, what is awaited and by when, and what the practice is asked to do. A practice
//! answers the Digital Champion here. What they see is the API's `ownCases`: never the case's
//! words or who worked it; the practice's own answers in its words, for its PCN only when.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::Role;
use caseledger_cases::case::CommandName;
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};

use crate::gql::{ErrorCode, GqlError};
use crate::layout::{csrf_field, page, status_tag};
use crate::lists::{cell, day_time, header_row};
use crate::operations::own_cases::{
    AnswerChampion, AnswerChampionInput, AnswerVariables, OwnCase, OwnCasesQuery, PracticeAnswer,
};
use crate::reports::field;
use crate::session::Session;
use crate::{Ids, WebState, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};

/// A problem with an answer: the case it was for, what went wrong, and the answer as typed (kept).
struct Problem {
    case_id: String,
    message: String,
    typed: String,
}

/// `GET /our-cases`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    cases_page(&state, &session, ids(ids_), None).await
}

async fn cases_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    problem: Option<Problem>,
) -> Response {
    let data = match fetch(state, session, ids_, OwnCasesQuery::build(())).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let title = match session.actor.role {
        Role::PcnClinicalDirector => "Our practices' 111 slot cases",
        _ => "Our 111 slot cases",
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        @if let Some(problem) = &problem {
            (crate::layout::error_summary("There is a problem", &[(Some(format!("answer-{}", problem.case_id)), problem.message.clone())]))
        }
        h1 { (title) }
        p class="nhsuk-lede-text" { "Where each case stands and what the practice is asked to do. A Digital Champion helps; the case's notes stay with those who work it." }
        @if data.own_cases.is_empty() {
            p id="no-cases" { "No 111 slot cases." }
        } @else {
            (cases_table(&data.own_cases))
            @for case in &data.own_cases {
                (answers_section(session, case, problem.as_ref().filter(|p| p.case_id == case.id.inner())))
            }
        }
    };
    (status, page(title, Some(session), body)).into_response()
}

fn cases_table(cases: &[OwnCase]) -> Markup {
    html! {
        table class="nhsuk-table" id="own-cases" {
            (header_row(&["Practice", "Status", "111 slots a day", "Awaiting", "Asked of the practice"]))
            tbody class="nhsuk-table__body" {
                @for case in cases {
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
}

/// A case's answers to the Digital Champion and, where the practice may answer (the catalogue's
/// rule: its own role, an open case), the form to answer.
fn answers_section(session: &Session, case: &OwnCase, problem: Option<&Problem>) -> Markup {
    let rule = CommandName::AnswerChampion.rule();
    let may_answer = rule.permits(session.actor.role) && rule.allowed.admits(Some(case.status.into()));
    if case.answers.is_empty() && !may_answer {
        return html! {};
    }
    let id = case.id.inner();
    let error = problem.map(|p| p.message.as_str());
    let typed = problem.map_or("", |p| p.typed.as_str());
    html! {
        section id=(format!("case-{id}")) aria-labelledby=(format!("case-{id}-heading")) {
            h2 class="nhsuk-heading-m" id=(format!("case-{id}-heading")) {
                "Answers to the Digital Champion: " (case.practice_name)
            }
            (answers_list(&case.answers))
            @if may_answer {
                form method="post" action=(format!("/our-cases/{id}/answer")) novalidate {
                    (csrf_field(session))
                    input type="hidden" name="commandId" value=(uuid::Uuid::now_v7().to_string());
                    div class=(if error.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                        label class="nhsuk-label" for=(format!("answer-{id}")) { "Your answer" }
                        div class="nhsuk-hint" id=(format!("answer-{id}-hint")) {
                            "What you found or changed, and who the champion should speak to. The ICB and your champion read it."
                        }
                        @if let Some(error) = error {
                            span class="nhsuk-error-message" id=(format!("answer-{id}-error")) {
                                span class="nhsuk-u-visually-hidden" { "Error:" } " " (error)
                            }
                        }
                        textarea class=(if error.is_some() { "nhsuk-textarea nhsuk-textarea--error" } else { "nhsuk-textarea" })
                            id=(format!("answer-{id}")) name="text" rows="4"
                            aria-describedby=(match error {
                                Some(_) => format!("answer-{id}-hint answer-{id}-error"),
                                None => format!("answer-{id}-hint"),
                            }) { (typed) }
                    }
                    button class="nhsuk-button" type="submit" { "Send the answer" }
                }
            }
        }
    }
}

fn answers_list(answers: &[PracticeAnswer]) -> Markup {
    html! {
        @if answers.is_empty() {
            p class="nhsuk-body-s" { "No answers yet." }
        } @else {
            ul class="nhsuk-list answers" {
                @for answer in answers {
                    li id=(format!("answer-{}", answer.id.inner())) {
                        @match &answer.text {
                            Some(text) => {
                                p class="nhsuk-body-s nhsuk-u-margin-bottom-1" { "Answered " (day_time(answer.answered_at)) }
                                p { (text) }
                            }
                            None => { p class="nhsuk-body-s" { "The practice answered the champion " (day_time(answer.answered_at)) } }
                        }
                    }
                }
            }
        }
    }
}

/// What the API refused of an answer, said on the form.
fn refused(errors: &[GqlError]) -> Option<String> {
    let codes = [
        ErrorCode::BadUserInput,
        ErrorCode::InvalidTransition,
        ErrorCode::RateLimited,
    ];
    GqlError::for_form(errors, &codes).map(GqlError::sentence)
}

/// `POST /our-cases/{id}/answer`.
pub async fn answer(
    State(state): State<WebState>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    ids_: Ids,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    // The path names the case: anything but a case id is no case (and never reaches a header).
    let Ok(case_id) = uuid::Uuid::parse_str(&case_id).map(|id| id.to_string()) else {
        return crate::not_found_for(Some(&session));
    };
    let typed = field(&form, "text").unwrap_or_default().to_string();
    let Some(text) = field(&form, "text") else {
        let problem = Problem {
            case_id,
            message: "Enter your answer to the Digital Champion".to_string(),
            typed,
        };
        return cases_page(&state, &session, ids_, Some(problem)).await;
    };
    let input = AnswerChampionInput {
        case_id: cynic::Id::new(&case_id),
        text: text.to_string(),
        command_id: field(&form, "commandId").map(cynic::Id::new),
    };
    let mutation = AnswerChampion::build(AnswerVariables { input });
    match crate::contract::run(&state.0.schema, &session.actor, ids_, mutation).await {
        Ok(_) => redirect(&format!("/our-cases#case-{case_id}")),
        Err(errors) => match refused(&errors) {
            Some(message) => {
                let problem = Problem {
                    case_id,
                    message,
                    typed,
                };
                cases_page(&state, &session, ids_, Some(problem)).await
            }
            None => gql_problem(&session, &errors),
        },
    }
}
