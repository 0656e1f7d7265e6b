//! The PCN review page: each practice's telephony side by side, month on month (inbound calls,
//! average wait, abandonment, average call length, callbacks), and for the PCN's clinical director
//! the PCN's own notes of what it agreed and the form to add one. The ICB and the clinical
//! director upload months of figures. What each reader sees is the API's.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::case::CommandName;
use caseledger_cases::role::ScopeKind;
use chrono::{Datelike, NaiveDate};
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};

use crate::contract::Day;
use crate::gql::{ErrorCode, GqlError};
use crate::layout::{csrf_field, page};
use crate::lists::{cell, day_time, header_row};
use crate::operations::telephony::{
    EraseNoteVariables, ErasePcnReviewNote, ImportTelephonyMetrics, NoteVariables, PcnReviewNote, PcnReviewQuery,
    PracticeTelephony, RecordPcnReviewNote, RecordPcnReviewNoteInput, TelephonyImportVariables, TelephonyMonth,
    TelephonyQuery,
};
use crate::reports::field;
use crate::session::Session;
use crate::{Ids, WebState, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};

/// One of the five figures, as a table of practices by month.
struct Metric {
    id: &'static str,
    heading: &'static str,
    value: fn(&TelephonyMonth) -> String,
}

fn minutes_and_seconds(seconds: i32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

const METRICS: [Metric; 5] = [
    Metric {
        id: "inbound-calls",
        heading: "Inbound calls",
        value: |m| m.inbound_calls.to_string(),
    },
    Metric {
        id: "average-wait",
        heading: "Average wait (minutes:seconds)",
        value: |m| minutes_and_seconds(m.average_wait_seconds),
    },
    Metric {
        id: "abandonment",
        heading: "Calls abandoned before answer (%)",
        value: |m| format!("{:.1}", m.abandonment_rate),
    },
    Metric {
        id: "average-call",
        heading: "Average call length (minutes:seconds)",
        value: |m| minutes_and_seconds(m.average_call_seconds),
    },
    Metric {
        id: "callbacks",
        heading: "Callbacks",
        value: |m| m.callbacks.to_string(),
    },
];

/// What the page shows.
struct Review {
    practices: Vec<PracticeTelephony>,
    notes: Option<Vec<PcnReviewNote>>,
}

/// `GET /pcn-review`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    review_page(&state, &session, ids(ids_), None).await
}

/// A problem with the note form: where, what, and the note as typed (kept).
type Problem = (String, String, String);

async fn review_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    problem: Option<Problem>,
) -> Response {
    // Only a PCN's clinical director reads the PCN's notes; the page asks for them only then.
    let review = if CommandName::RecordPcnReviewNote.permits(session.actor.role) {
        fetch(state, session, ids_, PcnReviewQuery::build(()))
            .await
            .map(|data| Review {
                practices: data.telephony_metrics,
                notes: Some(data.pcn_review_notes),
            })
    } else {
        fetch(state, session, ids_, TelephonyQuery::build(()))
            .await
            .map(|data| Review {
                practices: data.telephony_metrics,
                notes: None,
            })
    };
    let review = match review {
        Ok(review) => review,
        Err(response) => return response,
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        @if let Some((id, message, _)) = &problem {
            (crate::layout::error_summary("There is a problem", &[(Some(id.clone()), message.clone())]))
        }
        (render(session, &review, problem.as_ref()))
    };
    (status, page("Telephony review", Some(session), body)).into_response()
}

/// The months any practice has, oldest first.
fn months_of(practices: &[PracticeTelephony]) -> Vec<NaiveDate> {
    let mut months: Vec<NaiveDate> = practices
        .iter()
        .flat_map(|p| p.months.iter().map(|m| m.month.0))
        .collect();
    months.sort_unstable();
    months.dedup();
    months
}

fn month_name(month: NaiveDate) -> String {
    month.format("%b %Y").to_string()
}

fn render(session: &Session, review: &Review, problem: Option<&Problem>) -> Markup {
    let role = session.actor.role;
    let months = months_of(&review.practices);
    html! {
        h1 { "Telephony review" }
        p class="nhsuk-lede-text" {
            @match role.scoped_to() {
                Some(ScopeKind::Pcn) => { "Your PCN's practices side by side, month on month, and what the PCN agreed at each review." }
                Some(ScopeKind::Practice) => { "Your practice's telephony, month on month, as your PCN reviews it." }
                None => { "Each practice's telephony, month on month: inbound calls, waits, abandoned calls, call length and callbacks." }
            }
        }
        @if review.practices.is_empty() {
            p id="no-telephony" { "No months of telephony yet." }
        } @else {
            @for metric in &METRICS {
                (metric_table(metric, &review.practices, &months))
            }
        }
        @if let Some(notes) = &review.notes {
            (notes_section(session, notes, problem))
        }
        @if CommandName::ImportTelephonyMetrics.permits(role) {
            (metrics_form(session, None))
        }
    }
}

/// One figure: a row per practice, a column per month ("–" where a month is missing).
fn metric_table(metric: &Metric, practices: &[PracticeTelephony], months: &[NaiveDate]) -> Markup {
    let mut labels = vec!["Practice".to_string()];
    labels.extend(months.iter().map(|m| month_name(*m)));
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    html! {
        h2 class="nhsuk-heading-m" id=(metric.id) { (metric.heading) }
        div class="cl-table-scroll" role="region" aria-label=(metric.heading) tabindex="0" {
            table class="nhsuk-table" id=(format!("{}-table", metric.id)) {
                (header_row(&labels))
                tbody class="nhsuk-table__body" {
                    @for practice in practices {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! {
                                (practice.name.clone().map_or_else(|| practice.ods_code.clone(), |name| format!("{name} ({})", practice.ods_code)))
                            }))
                            @for month in months {
                                @let label = month_name(*month);
                                (cell(&label, html! {
                                    @match practice.months.iter().find(|m| m.month.0 == *month) {
                                        Some(figures) => { ((metric.value)(figures)) }
                                        None => { "–" }
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

/// The PCN's notes, the latest month first, and the form for a new one.
fn notes_section(session: &Session, notes: &[PcnReviewNote], problem: Option<&Problem>) -> Markup {
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let this_month = caseledger_cases::telephony::first_of_month(today);
    // The month just ended is the one a review usually looks back on.
    let choices: Vec<NaiveDate> = (0..12u32)
        .filter_map(|back| this_month.checked_sub_months(chrono::Months::new(back)))
        .collect();
    let error = problem.map(|(_, message, _)| message.as_str());
    let typed = problem.map_or("", |(_, _, typed)| typed.as_str());
    html! {
        h2 class="nhsuk-heading-m" id="notes" { "What the PCN agreed" }
        @if notes.is_empty() {
            p { "No notes yet." }
        } @else {
            ul class="nhsuk-list" id="pcn-notes" {
                @for note in notes {
                    li class="nhsuk-card" id=(format!("note-{}", note.id.inner())) {
                        div class="nhsuk-card__content" {
                            h3 class="nhsuk-card__heading nhsuk-heading-s" { (month_name(note.month.0)) }
                            @match note.erased_at {
                                Some(at) => p class="nhsuk-card__description cl-muted" { "Its words were erased " (day_time(at)) "." }
                                None => p class="nhsuk-card__description" { (note.note.clone().unwrap_or_default()) }
                            }
                            p class="nhsuk-body-s" { (note.noted_by) ", " (day_time(note.noted_at)) }
                            @if note.erased_at.is_none() {
                                form method="post" action=(format!("/pcn-review/notes/{}/erase", note.id.inner())) {
                                    (csrf_field(session))
                                    button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit"
                                        aria-label=(format!("Erase the note of {}", month_name(note.month.0))) { "Erase its words" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/pcn-review/notes" id="note-form" novalidate {
            (csrf_field(session))
            input type="hidden" name="commandId" value=(uuid::Uuid::now_v7().to_string());
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="note-month" { "Month reviewed" }
                select class="nhsuk-select" id="note-month" name="month" {
                    @for (n, month) in choices.iter().enumerate() {
                        option value=(month.format("%Y-%m-%d").to_string()) selected[n == 1] { (month_name(*month)) }
                    }
                }
            }
            div class=(if error.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                label class="nhsuk-label" for="note-text" { "What the PCN agreed" }
                @if let Some(error) = error {
                    span class="nhsuk-error-message" id="note-text-error" {
                        span class="nhsuk-u-visually-hidden" { "Error:" } " " (error)
                    }
                }
                textarea class=(if error.is_some() { "nhsuk-textarea nhsuk-textarea--error" } else { "nhsuk-textarea" }) id="note-text" name="note" rows="4" aria-describedby=[error.map(|_| "note-text-error")] { (typed) }
            }
            button class="nhsuk-button" type="submit" { "Record the note" }
        }
    }
}

/// The upload of months of telephony.
fn metrics_form(session: &Session, error: Option<&str>) -> Markup {
    let form = crate::lists::UploadForm {
        action: "/pcn-review/metrics",
        input: "telephony-csv",
        form_id: "telephony-upload",
        label: "Upload months of telephony (CSV)",
        hint: "Columns: month (YYYY-MM, once it has ended), ods_code, inbound_calls, average_wait_seconds, abandonment_rate (a percentage), average_call_seconds, callbacks. A file with any bad row is rejected whole; a month already sent is not counted twice.",
        button: "Upload telephony",
    };
    crate::lists::upload_form(session, &form, error)
}

/// `POST /pcn-review/metrics`: months of telephony, and what became of them.
pub async fn upload_metrics(
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
        title: "Telephony",
        heading: "Months of telephony",
        input: "telephony-csv",
        done: "Telephony imported",
        summary_id: "telephony-summary",
        counted_once: "months already sent are not counted twice",
        refused: "The telephony was not imported",
        back: ("/pcn-review", "Back to the telephony review"),
    };
    let ids_ = ids(ids_);
    crate::lists::upload(&session, multipart, &what, metrics_form, |csv| async {
        let mutation = ImportTelephonyMetrics::build(TelephonyImportVariables { csv });
        crate::contract::run(&state.0.schema, &session.actor, ids_, mutation)
            .await
            .map(|done| done.import_telephony_metrics)
    })
    .await
}

/// What the API refused of a note, said on the form.
fn refused(errors: &[GqlError]) -> Option<String> {
    let codes = [ErrorCode::BadUserInput, ErrorCode::InvalidTransition];
    GqlError::for_form(errors, &codes).map(|first| first.said().to_string())
}

/// `POST /pcn-review/notes`.
pub async fn note(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let anchor = "note-text".to_string();
    let typed = field(&form, "note").unwrap_or_default().to_string();
    let Some(note) = field(&form, "note") else {
        let problem = (anchor, "Enter what the PCN agreed".to_string(), typed);
        return review_page(&state, &session, ids_, Some(problem)).await;
    };
    let month = field(&form, "month")
        .and_then(|m| NaiveDate::parse_from_str(m, "%Y-%m-%d").ok())
        .filter(|m| m.day() == 1);
    let Some(month) = month else {
        let problem = ("note-month".to_string(), "Choose the month reviewed".to_string(), typed);
        return review_page(&state, &session, ids_, Some(problem)).await;
    };
    let input = RecordPcnReviewNoteInput {
        month: Day(month),
        note: note.to_string(),
        command_id: field(&form, "commandId").map(cynic::Id::new),
    };
    let mutation = RecordPcnReviewNote::build(NoteVariables { input });
    match crate::contract::run(&state.0.schema, &session.actor, ids_, mutation).await {
        Ok(_) => redirect("/pcn-review#notes"),
        Err(errors) => match refused(&errors) {
            Some(message) => review_page(&state, &session, ids_, Some((anchor, message, typed))).await,
            None => gql_problem(&session, &errors),
        },
    }
}

/// `POST /pcn-review/notes/{id}/erase`: the clinical director erases a note's words (UK GDPR).
pub async fn erase_note(
    State(state): State<WebState>,
    Path(note_id): Path<String>,
    headers: HeaderMap,
    ids_: Ids,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let mutation = ErasePcnReviewNote::build(EraseNoteVariables {
        note_id: cynic::Id::new(note_id),
    });
    match crate::contract::run(&state.0.schema, &session.actor, ids(ids_), mutation).await {
        Ok(_) => redirect("/pcn-review#notes"),
        Err(errors) => gql_problem(&session, &errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_minutes_and_seconds() {
        assert_eq!(minutes_and_seconds(95), "1:35");
        assert_eq!(minutes_and_seconds(0), "0:00");
        assert_eq!(minutes_and_seconds(3605), "60:05");
    }
}
