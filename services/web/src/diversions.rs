//! Diversions to NHS 111 in core hours, as the pages show them: a practice tells the ICB of its
//! own (and ends them), the ICB acknowledges each notice (and records one it was told of by
//! phone), a PCN's clinical director sees its practices', and every party the weekly figures it
//! may read. What each reader sees is the API's: the page draws what the schema answered.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::Role;
use caseledger_cases::case::CommandName;
use caseledger_cases::role::ScopeKind;
use chrono::{Duration, NaiveDateTime};
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};

use crate::contract::Instant;
use crate::contract::enums::{DiversionReason, DiversionReviewOutcome, DiversionSupportKind, Labelled};
use crate::gql::{ErrorCode, GqlError};
use crate::layout::{csrf_field, page};
use crate::lists::{cell, day_time, header_row, on};
use crate::operations::diversions::{
    AcknowledgeDiversion, AcknowledgeDiversionInput, AcknowledgeVariables, CloseDiversionReview,
    CloseDiversionReviewInput, CloseVariables, Diversion, DiversionGrouping, DiversionReview, DiversionWeek,
    DiversionsQuery, DiversionsVariables, EndDiversion, EndDiversionInput, EndVariables, NotifyDiversion,
    NotifyDiversionInput, NotifyVariables, RecordDiversionSupport, RecordDiversionSupportInput, SupportVariables,
};
use crate::operations::diversions::{
    CallsImportVariables, CancelDiversion, CancelDiversionInput, CancelVariables, ImportCoreHoursCalls,
};
use crate::reports::field;
use crate::session::Session;
use crate::{Ids, WebState, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};

/// How far back the page lists diversions.
const WEEKS: i64 = 8;

impl Labelled for DiversionReason {
    const ALL: &'static [Self] = &[Self::TelephonyFailure, Self::StaffShortage, Self::Premises, Self::Other];
    fn label(self) -> &'static str {
        match self {
            Self::TelephonyFailure => "Telephony or IT failure",
            Self::StaffShortage => "Staff shortage",
            Self::Premises => "Premises could not be used",
            Self::Other => "Something else",
        }
    }
}

impl Labelled for DiversionSupportKind {
    const ALL: &'static [Self] = &[
        Self::Call,
        Self::Visit,
        Self::TelephonyHelp,
        Self::StaffingHelp,
        Self::Other,
    ];
    fn label(self) -> &'static str {
        match self {
            Self::Call => "A call with the practice",
            Self::Visit => "A visit",
            Self::TelephonyHelp => "Help with its telephony",
            Self::StaffingHelp => "Help with cover",
            Self::Other => "Something else",
        }
    }
}

impl Labelled for DiversionReviewOutcome {
    const ALL: &'static [Self] = &[Self::Resolved, Self::OngoingSupport, Self::NoActionNeeded];
    fn label(self) -> &'static str {
        match self {
            Self::Resolved => "Resolved",
            Self::OngoingSupport => "Support goes on (the PCN's plan)",
            Self::NoActionNeeded => "Exceptional: nothing more to do",
        }
    }
}

/// A form the page refused: what was typed and what was wrong, by field.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    values: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

/// `GET /diversions`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    diversions_page(&state, &session, ids(ids_), None).await
}

async fn diversions_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    problem: Option<Problem>,
) -> Response {
    // A practice or a PCN sees its practices; everyone else the PCNs.
    let group_by = match session.actor.role.scoped_to() {
        Some(_) => DiversionGrouping::Practice,
        None => DiversionGrouping::Pcn,
    };
    let since = Some((caseledger_clock::now() - Duration::weeks(WEEKS)).fixed_offset());
    let query = DiversionsQuery::build(DiversionsVariables { since, group_by });
    let data = match fetch(state, session, ids_, query).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        @if let Some(problem) = &problem {
            (crate::layout::error_summary("There is a problem", &problem.errors.iter().map(|(f, m)| (Some(field_id(f)), m.clone())).collect::<Vec<_>>()))
        }
        (render(session, &data, problem.as_ref()))
    };
    (status, page("Diversions to NHS 111", Some(session), body)).into_response()
}

impl Problem {
    /// One message about the form at `anchor` (a row's own form).
    fn on(anchor: String, message: &str) -> Self {
        Problem {
            values: Vec::new(),
            errors: vec![(anchor, message.to_string())],
        }
    }
}

/// Where the error summary links for `field`: a notice's input, or a row's own form
/// (`end-<id>`, `support-<id>`, `close-<id>`).
fn field_id(field: &str) -> String {
    if ["end-", "cancel-", "support-", "close-"]
        .iter()
        .any(|prefix| field.starts_with(prefix))
    {
        field.to_string()
    } else {
        format!("diversion-{}", field.to_lowercase())
    }
}

fn hours(minutes: i32) -> String {
    format!("{}h {:02}m", minutes / 60, minutes % 60)
}

fn practice_name(diversion: &Diversion) -> String {
    match &diversion.practice.name {
        Some(name) => format!("{name} ({})", diversion.practice.ods_code),
        None => diversion.practice.ods_code.clone(),
    }
}

/// The page's body.
fn render(session: &Session, data: &DiversionsQuery, problem: Option<&Problem>) -> Markup {
    let role = session.actor.role;
    let may = |command: CommandName| command.permits(role);
    let now = caseledger_clock::now();
    let running: Vec<&Diversion> = data
        .diversions
        .iter()
        .filter(|d| d.ended_at.is_none() && d.from <= now)
        .collect();
    let planned: Vec<&Diversion> = data
        .diversions
        .iter()
        .filter(|d| d.ended_at.is_none() && d.from > now)
        .collect();
    let waiting: Vec<&Diversion> = data.diversions.iter().filter(|d| d.acknowledged_at.is_none()).collect();
    let organisation = |code: &str| match data.me.scope_name.as_deref() {
        Some(name) => format!("{name} ({code})"),
        None => code.to_string(),
    };
    let heading = match (role, data.me.scope.as_deref()) {
        (Role::Practice, Some(code)) => format!("Diversions to NHS 111: {}", organisation(code)),
        (Role::PcnClinicalDirector, Some(code)) => format!("Diversions to NHS 111 in {}", organisation(code)),
        _ => "Diversions to NHS 111".to_string(),
    };
    html! {
        h1 { (heading) }
        p { "A practice that diverts its phones to NHS 111 in core hours (08:00 to 18:30 on working days) tells its ICB's primary care team, and diverts only in exceptional circumstances. Only the part of a diversion inside core hours counts." }
        @if may(CommandName::AcknowledgeDiversion) {
            h2 class="nhsuk-heading-m" id="waiting" { "Waiting for your acknowledgement (" (waiting.len()) ")" }
            @if waiting.is_empty() {
                p { "Every notice has been acknowledged." }
            } @else {
                table class="nhsuk-table-responsive" id="unacknowledged" role="table" {
                    (header_row(&["Practice", "From", "Reason", "Told", "Acknowledge"]))
                    tbody class="nhsuk-table__body" {
                        @for diversion in &waiting {
                            tr class="nhsuk-table__row" role="row" {
                                (cell("Practice", html! { (practice_name(diversion)) }))
                                (cell("From", html! { (day_time(diversion.from)) }))
                                (cell("Reason", html! { (diversion.reason.label()) }))
                                (cell("Told", told(diversion)))
                                (cell("Acknowledge", html! {
                                    form method="post" action={"/diversions/" (diversion.id.inner()) "/acknowledge"} class="cl-inline" {
                                        (csrf_field(session))
                                        input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                                        button class="nhsuk-button nhsuk-button--small" type="submit" { "Acknowledge" }
                                    }
                                }))
                            }
                        }
                    }
                }
            }
        }
        @if may(CommandName::EndDiversion) && !running.is_empty() {
            h2 class="nhsuk-heading-m" id="running" { "Running now (" (running.len()) ")" }
            @for diversion in &running {
                form method="post" action={"/diversions/" (diversion.id.inner()) "/end"} class="cl-inline-form" id={"end-" (diversion.id.inner())} {
                    (csrf_field(session))
                    input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                    p { (practice_name(diversion)) ": diverted since " (day_time(diversion.from)) ", expected until " (day_time(diversion.expected_until)) "." }
                    div class="nhsuk-form-group" {
                        label class="nhsuk-label" for={"ended-" (diversion.id.inner())} { "When the phones answered at the practice again (leave empty for now)" }
                        input class="nhsuk-input nhsuk-input--width-20" id={"ended-" (diversion.id.inner())} name="endedAt" type="datetime-local";
                    }
                    button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "End the diversion" }
                }
            }
        }
        @if may(CommandName::CancelDiversion) && !planned.is_empty() {
            h2 class="nhsuk-heading-m" id="planned" { "Planned (" (planned.len()) ")" }
            @for diversion in &planned {
                form method="post" action={"/diversions/" (diversion.id.inner()) "/cancel"} class="cl-inline-form" id={"cancel-" (diversion.id.inner())} {
                    (csrf_field(session))
                    input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                    p { (practice_name(diversion)) ": to divert from " (day_time(diversion.from)) " until " (day_time(diversion.expected_until)) "." }
                    button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Call it off" }
                }
            }
        }
        @if may(CommandName::NotifyDiversion) {
            (notify_form(session, problem))
        }
        h2 class="nhsuk-heading-m" id="recent" { "The last " (WEEKS) " weeks (" (data.diversions.len()) ")" }
        @if data.diversions.is_empty() {
            p { "No diversions." }
        } @else {
            table class="nhsuk-table-responsive" id="diversions" role="table" {
                (header_row(&["Practice", "From", "Until", "Reason", "Core hours", "Told", "Acknowledged"]))
                tbody class="nhsuk-table__body" {
                    @for diversion in &data.diversions {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { (practice_name(diversion)) }))
                            (cell("From", html! { (day_time(diversion.from)) }))
                            (cell("Until", html! {
                                @match diversion.ended_at {
                                    Some(_) if diversion.cancelled_at.is_some() => { "Called off before it began" }
                                    Some(ended) => { (day_time(ended)) }
                                    None => { strong class="nhsuk-tag nhsuk-tag--red" { "Running" } " expected until " (day_time(diversion.expected_until)) }
                                }
                            }))
                            (cell("Reason", html! {
                                (diversion.reason.label())
                                @if let Some(detail) = &diversion.detail { br; span class="nhsuk-body-s" { (detail) } }
                            }))
                            (cell("Core hours", html! { (hours(diversion.core_minutes)) }))
                            (cell("Told", told(diversion)))
                            (cell("Acknowledged", html! {
                                @match diversion.acknowledged_at {
                                    Some(at) => { (day_time(at)) }
                                    None => { "Not yet" }
                                }
                            }))
                        }
                    }
                }
            }
        }
        (calls_table(&data.core_hours_calls))
        @if CommandName::ImportCoreHoursCalls.permits(role) {
            (calls_form(session, None))
        }
        (reviews(session, &data.diversion_reviews))
        (figures(&data.diversion_figures, session.actor.role))
    }
}

/// Calls to 111 in core hours, per practice: per 1,000 patients against the medians, with the
/// practice's diversions and its 111 slot compliance; an outlier tagged.
fn calls_table(practices: &[crate::operations::diversions::PracticeCalls]) -> Markup {
    let rate = |value: Option<f64>| value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"));
    html! {
        h2 class="nhsuk-heading-m" id="calls" { "Calls to NHS 111 in core hours, the last 8 weeks" }
        @if practices.is_empty() {
            p { "No weekly calls from the 111 provider yet." }
        } @else {
            div class="cl-table-scroll" role="region" aria-label="Calls to NHS 111 in core hours" tabindex="0" {
                table class="nhsuk-table" id="core-hours-calls" {
                    (header_row(&["Practice", "Calls", "Per 1,000 patients", "PCN median", "ICB median", "Diversions", "111 slots"]))
                    tbody class="nhsuk-table__body" {
                        @for practice in practices {
                            tr class="nhsuk-table__row" role="row" {
                                (cell("Practice", html! {
                                    (practice.name.clone().map_or_else(|| practice.ods_code.clone(), |name| format!("{name} ({})", practice.ods_code)))
                                    @if practice.outlier { " " strong class="nhsuk-tag nhsuk-tag--orange" { "High" } }
                                }))
                                (cell("Calls", html! { (practice.calls) }))
                                (cell("Per 1,000 patients", html! { (rate(practice.per_thousand)) }))
                                (cell("PCN median", html! { (rate(practice.pcn_median)) }))
                                (cell("ICB median", html! { (rate(practice.icb_median)) }))
                                (cell("Diversions", html! { (practice.diversions) }))
                                (cell("111 slots", html! {
                                    @match practice.slots_compliant {
                                        Some(true) => { "Enough" }
                                        Some(false) => { "Too few" }
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

/// The upload of the 111 provider's weekly core-hours calls.
fn calls_form(session: &Session, error: Option<&str>) -> Markup {
    let form = crate::lists::UploadForm {
        action: "/diversions/calls",
        input: "calls-csv",
        form_id: "calls-upload",
        label: "Upload the week's core-hours calls (CSV)",
        hint: "Columns: week_start (a Monday), ods_code, calls: the calls to NHS 111 in core hours from each practice's patients that week. A file with any bad row is rejected whole; a week already sent is not counted twice.",
        button: "Upload calls",
    };
    crate::lists::upload_form(session, &form, error)
}

/// `POST /diversions/calls`: the weekly calls, and what became of them.
pub async fn upload_calls(
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
        title: "Core-hours calls",
        heading: "Calls to NHS 111 in core hours",
        input: "calls-csv",
        done: "Calls imported",
        summary_id: "calls-summary",
        counted_once: "weeks already sent are not counted twice",
        refused: "The calls were not imported",
        back: ("/diversions#calls", "Back to diversions and calls"),
    };
    let ids_ = ids(ids_);
    crate::lists::upload(&session, multipart, &what, calls_form, |csv| async {
        let mutation = ImportCoreHoursCalls::build(CallsImportVariables { csv });
        crate::contract::run(&state.0.schema, &session.actor, ids_, mutation)
            .await
            .map(|done| done.import_core_hours_calls)
    })
    .await
}

/// The reviews: opened when a practice passed the threshold, support first, then closed by the
/// ICB with an outcome; the support forms for champions and the PCN, the close form for the ICB.
fn reviews(session: &Session, reviews: &[DiversionReview]) -> Markup {
    let role = session.actor.role;
    let may_support = CommandName::RecordDiversionSupport.permits(role);
    let may_close = CommandName::CloseDiversionReview.permits(role);
    html! {
        h2 class="nhsuk-heading-m" id="reviews" { "Diversion reviews (" (reviews.len()) ")" }
        p { "A practice that diverts often gets a review: support first, from a Digital Champion or its PCN, then the ICB closes it with an outcome." }
        @if reviews.is_empty() {
            p { "No reviews." }
        } @else {
            table class="nhsuk-table-responsive" id="diversion-reviews" role="table" {
                (header_row(&["Practice", "Opened", "Why", "Support given", "Outcome"]))
                tbody class="nhsuk-table__body" {
                    @for review in reviews {
                        @let id = review.id.inner();
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! {
                                (review.practice.name.clone().map_or_else(|| review.practice.ods_code.clone(), |name| format!("{name} ({})", review.practice.ods_code)))
                            }))
                            (cell("Opened", html! { (day_time(review.opened_at)) }))
                            (cell("Why", html! { (review.notices) " notices, " (hours(review.core_minutes)) " of core hours in 4 weeks" }))
                            (cell("Support given", html! {
                                @if review.support.is_empty() {
                                    strong class="nhsuk-tag nhsuk-tag--orange" { "None yet" }
                                } @else {
                                    (review.support.iter().map(|kind| kind.label()).collect::<Vec<_>>().join(", "))
                                    @if let Some(days) = review.working_days_to_support { br; span class="nhsuk-body-s" { "First within " (days) " working days" } }
                                }
                                @if may_support && review.closed_at.is_none() {
                                    form method="post" action={"/diversions/reviews/" (id) "/support"} class="cl-inline-form" id={"support-" (id)} {
                                        (csrf_field(session))
                                        input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                                        label class="nhsuk-label" for={"support-kind-" (id)} { "Support given" }
                                        select class="nhsuk-select" id={"support-kind-" (id)} name="kind" {
                                            @for (code, label) in crate::contract::enums::options::<DiversionSupportKind>() {
                                                option value=(code) { (label) }
                                            }
                                        }
                                        button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Record support" }
                                    }
                                }
                            }))
                            (cell("Outcome", html! {
                                @match (review.closed_at, review.outcome) {
                                    (Some(closed), Some(outcome)) => {
                                        (outcome.label()) br; span class="nhsuk-body-s" { "Closed " (day_time(closed)) }
                                        @if let Some(note) = &review.close_note { br; span class="nhsuk-body-s" { (note) } }
                                    }
                                    _ => {
                                        "Open"
                                        @if may_close {
                                            form method="post" action={"/diversions/reviews/" (id) "/close"} class="cl-inline-form" id={"close-" (id)} {
                                                (csrf_field(session))
                                                input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                                                label class="nhsuk-label" for={"outcome-" (id)} { "Outcome" }
                                                select class="nhsuk-select" id={"outcome-" (id)} name="outcome" {
                                                    @for (code, label) in crate::contract::enums::options::<DiversionReviewOutcome>() {
                                                        option value=(code) { (label) }
                                                    }
                                                }
                                                label class="nhsuk-label" for={"close-note-" (id)} { "Note (for the ICB only)" }
                                                input class="nhsuk-input" id={"close-note-" (id)} name="note" type="text";
                                                button class="nhsuk-button nhsuk-button--small" type="submit" { "Close the review" }
                                            }
                                        }
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

/// When the ICB was told, and a tag when it was after the diversion began.
fn told(diversion: &Diversion) -> Markup {
    html! {
        (day_time(diversion.notified_at))
        @if diversion.late { " " strong class="nhsuk-tag nhsuk-tag--orange" { "Told late" } }
    }
}

/// The weekly figures: notices, late notices and core hours, by PCN (or by practice for a
/// practice and a PCN's clinical director).
fn figures(weeks: &[DiversionWeek], role: Role) -> Markup {
    let by = match role.scoped_to() {
        Some(_) => "Practice",
        None => "PCN",
    };
    html! {
        h2 class="nhsuk-heading-m" id="figures" { "Week by week" }
        @if weeks.is_empty() {
            p { "No diversions in the last 8 weeks." }
        } @else {
            table class="nhsuk-table-responsive" id="diversion-figures" role="table" {
                (header_row(&["Week from", by, "Notices", "Told late", "Core hours diverted"]))
                tbody class="nhsuk-table__body" {
                    @for week in weeks.iter().rev() {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Week from", html! { (on(Some(week.week.0))) }))
                            (cell(by, html! { (week.name.clone().unwrap_or_else(|| week.key.clone())) }))
                            (cell("Notices", html! { (week.notices) }))
                            (cell("Told late", html! { (week.late_notices) }))
                            (cell("Core hours diverted", html! { (hours(week.core_minutes)) }))
                        }
                    }
                }
            }
        }
    }
}

fn notify_form(session: &Session, problem: Option<&Problem>) -> Markup {
    let values = problem.map_or(&[][..], |p| p.values.as_slice());
    let value = |name: &str| field(values, name).unwrap_or("").to_string();
    let error = |name: &str| problem.and_then(|p| p.errors.iter().find(|(f, _)| f == name).map(|(_, m)| m.clone()));
    let group = |name: &str| {
        if error(name).is_some() {
            "nhsuk-form-group nhsuk-form-group--error"
        } else {
            "nhsuk-form-group"
        }
    };
    let message = |name: &str| {
        html! {
            @if let Some(message) = error(name) {
                span class="nhsuk-error-message" id={(field_id(name)) "-error"} { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
            }
        }
    };
    html! {
        form method="post" action="/diversions/notify" id="notify-diversion" novalidate {
            (csrf_field(session))
            input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
            h2 class="nhsuk-heading-m" { "Tell the ICB about a diversion" }
            @if !speaks_for_a_practice(session.actor.role) {
                div class=(group("odsCode")) {
                    label class="nhsuk-label" for=(field_id("odsCode")) { "Practice ODS code" }
                    (message("odsCode"))
                    input class="nhsuk-input nhsuk-input--width-10" id=(field_id("odsCode")) name="odsCode" type="text" value=(value("odsCode"));
                }
            }
            div class=(group("from")) {
                label class="nhsuk-label" for=(field_id("from")) { "Diverted from (UK time)" }
                (message("from"))
                input class="nhsuk-input nhsuk-input--width-20" id=(field_id("from")) name="from" type="datetime-local" value=(value("from"));
            }
            div class=(group("expectedUntil")) {
                label class="nhsuk-label" for=(field_id("expectedUntil")) { "Expected until (UK time)" }
                (message("expectedUntil"))
                input class="nhsuk-input nhsuk-input--width-20" id=(field_id("expectedUntil")) name="expectedUntil" type="datetime-local" value=(value("expectedUntil"));
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for=(field_id("reason")) { "Why" }
                select class="nhsuk-select" id=(field_id("reason")) name="reason" {
                    @for (code, label) in crate::contract::enums::options::<DiversionReason>() {
                        option value=(code) selected[value("reason") == code] { (label) }
                    }
                }
            }
            div class=(group("detail")) {
                label class="nhsuk-label" for=(field_id("detail")) { "Detail (optional)" }
                (message("detail"))
                textarea class="nhsuk-textarea" id=(field_id("detail")) name="detail" rows="3" { (value("detail")) }
            }
            button class="nhsuk-button" type="submit" { "Tell the ICB" }
        }
    }
}

/// Whether the person tells of their own practice's diversions only (a practice manager): the
/// form asks no ODS code, the API takes their own.
fn speaks_for_a_practice(role: Role) -> bool {
    role.scoped_to() == Some(ScopeKind::Practice)
}

/// A `datetime-local` value (UK wall-clock time, `2026-12-07T08:30`) as an instant.
pub(crate) fn uk_time(text: &str) -> Option<Instant> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Some(caseledger_cases::ukclock::from_local(local))
}

/// The form's problems before asking the server, in plain words.
fn notify_problems(form: &[(String, String)], role: Role) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if !speaks_for_a_practice(role) {
        match field(form, "odsCode") {
            None => problems.push(("odsCode".into(), "Enter the practice's ODS code".into())),
            Some(code) if caseledger_cases::values::OdsCode::parse(code).is_err() => problems.push((
                "odsCode".into(),
                format!("Enter an ODS code of one letter and five digits, like Z00011 (you entered {code})"),
            )),
            Some(_) => {}
        }
    }
    for (name, what) in [
        ("from", "when the diversion began"),
        ("expectedUntil", "when it is expected to end"),
    ] {
        match field(form, name) {
            None => problems.push((name.into(), format!("Enter {what}"))),
            Some(text) if uk_time(text).is_none() => problems.push((
                name.into(),
                format!("Enter {what} as a date and time, like 2026-12-07 08:30"),
            )),
            Some(_) => {}
        }
    }
    if field(form, "detail").is_some_and(|detail| detail.chars().count() > 2000) {
        problems.push(("detail".into(), "Keep the detail to 2,000 characters or fewer".into()));
    }
    problems
}

/// What the API refused, said on the form: the field at fault when it names one, else the field
/// the rule is about (an unknown practice: its code; an overlap: the start).
fn refused(errors: &[GqlError]) -> Option<(String, String)> {
    let first = errors.first()?;
    let (field, said) = match (&first.code, &first.field) {
        // "field: what is wrong", or a rule about the field (an unknown practice: its code).
        (ErrorCode::BadUserInput, Some(field)) => (field.clone(), first.said()),
        (ErrorCode::BadUserInput | ErrorCode::Conflict | ErrorCode::InvalidTransition, _) => {
            ("from".to_string(), first.message.as_str())
        }
        (ErrorCode::NotFound, _) => (
            "from".to_string(),
            "There is no such diversion: it may have been removed from your list",
        ),
        _ => return None,
    };
    Some((field, crate::gql::sentence(said)))
}

/// `POST /diversions/notify`.
pub async fn notify(
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
    let values: Vec<(String, String)> = form.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect();
    let problems = notify_problems(&form, session.actor.role);
    let (Some(from), Some(expected_until), true) = (
        field(&form, "from").and_then(uk_time),
        field(&form, "expectedUntil").and_then(uk_time),
        problems.is_empty(),
    ) else {
        let problem = Problem {
            values,
            errors: problems,
        };
        return diversions_page(&state, &session, ids_, Some(problem)).await;
    };
    let input = NotifyDiversionInput {
        ods_code: field(&form, "odsCode")
            .filter(|_| !speaks_for_a_practice(session.actor.role))
            .map(str::to_string),
        from,
        expected_until,
        reason: field(&form, "reason")
            .and_then(crate::contract::parse::<DiversionReason>)
            .unwrap_or(DiversionReason::Other),
        detail: field(&form, "detail").map(str::to_string),
        command_id: field(&form, "commandId").map(cynic::Id::new),
    };
    let mutation = NotifyDiversion::build(NotifyVariables { input });
    match crate::contract::run(&state.0.schema, &session.actor, ids_, mutation).await {
        Ok(_) => redirect("/diversions?told=1#recent"),
        Err(errors) => match refused(&errors) {
            Some(error) => {
                let problem = Problem {
                    values,
                    errors: vec![error],
                };
                diversions_page(&state, &session, ids_, Some(problem)).await
            }
            None => gql_problem(&session, &errors),
        },
    }
}

/// `POST /diversions/{id}/{end|cancel|acknowledge}`.
pub async fn act(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let command_id = field(&form, "commandId").map(cynic::Id::new);
    let anchor = if action == "cancel" {
        format!("cancel-{id}")
    } else {
        format!("end-{id}")
    };
    let diversion_id = cynic::Id::new(id);
    let result = match action.as_str() {
        "end" => {
            let ended_at = match field(&form, "endedAt") {
                None => caseledger_clock::now().fixed_offset(),
                Some(text) => match uk_time(text) {
                    Some(at) => at,
                    None => {
                        let problem = Problem {
                            values: Vec::new(),
                            errors: vec![(
                                anchor,
                                "Enter when the diversion ended as a date and time, like 2026-12-07 11:45".into(),
                            )],
                        };
                        return diversions_page(&state, &session, ids_, Some(problem)).await;
                    }
                },
            };
            let input = EndDiversionInput {
                diversion_id,
                ended_at,
                command_id,
            };
            crate::contract::run(
                &state.0.schema,
                &session.actor,
                ids_,
                EndDiversion::build(EndVariables { input }),
            )
            .await
            .map(drop)
        }
        "cancel" => {
            let input = CancelDiversionInput {
                diversion_id,
                command_id,
            };
            let mutation = CancelDiversion::build(CancelVariables { input });
            crate::contract::run(&state.0.schema, &session.actor, ids_, mutation)
                .await
                .map(drop)
        }
        "acknowledge" => {
            let input = AcknowledgeDiversionInput {
                diversion_id,
                command_id,
            };
            let mutation = AcknowledgeDiversion::build(AcknowledgeVariables { input });
            crate::contract::run(&state.0.schema, &session.actor, ids_, mutation)
                .await
                .map(drop)
        }
        _ => {
            return crate::problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Page not found",
                "There is no such action on a diversion.",
            );
        }
    };
    match result {
        Ok(()) => redirect("/diversions#recent"),
        Err(errors) => match refused(&errors) {
            Some((_, message)) => {
                let problem = Problem {
                    values: Vec::new(),
                    errors: vec![(anchor, message)],
                };
                diversions_page(&state, &session, ids_, Some(problem)).await
            }
            None => gql_problem(&session, &errors),
        },
    }
}

/// `POST /diversions/reviews/{id}/{support|close}`.
pub async fn review(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let command_id = field(&form, "commandId").map(cynic::Id::new);
    let anchor = format!("{action}-{id}");
    let review_id = cynic::Id::new(id);
    let result = match action.as_str() {
        "support" => {
            let Some(kind) = field(&form, "kind").and_then(crate::contract::parse::<DiversionSupportKind>) else {
                return diversions_page(
                    &state,
                    &session,
                    ids_,
                    Some(Problem::on(anchor, "Choose the support given")),
                )
                .await;
            };
            let input = RecordDiversionSupportInput {
                review_id,
                kind,
                command_id,
            };
            crate::contract::run(
                &state.0.schema,
                &session.actor,
                ids_,
                RecordDiversionSupport::build(SupportVariables { input }),
            )
            .await
            .map(drop)
        }
        "close" => {
            let Some(outcome) = field(&form, "outcome").and_then(crate::contract::parse::<DiversionReviewOutcome>)
            else {
                return diversions_page(&state, &session, ids_, Some(Problem::on(anchor, "Choose the outcome"))).await;
            };
            let input = CloseDiversionReviewInput {
                review_id,
                outcome,
                note: field(&form, "note").map(str::to_string),
                command_id,
            };
            crate::contract::run(
                &state.0.schema,
                &session.actor,
                ids_,
                CloseDiversionReview::build(CloseVariables { input }),
            )
            .await
            .map(drop)
        }
        _ => {
            return crate::problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Page not found",
                "There is no such action on a diversion review.",
            );
        }
    };
    match result {
        Ok(()) => redirect("/diversions#reviews"),
        Err(errors) => match refused(&errors) {
            Some((_, message)) => diversions_page(&state, &session, ids_, Some(Problem::on(anchor, &message))).await,
            None => gql_problem(&session, &errors),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_time_is_uk_wall_clock_time() {
        // 08:30 in December is GMT; in July it is BST, 07:30 UTC.
        let winter = uk_time("2026-12-07T08:30").map(|t| t.with_timezone(&chrono::Utc).to_rfc3339());
        assert_eq!(winter.as_deref(), Some("2026-12-07T08:30:00+00:00"));
        let summer = uk_time("2026-07-06T08:30").map(|t| t.with_timezone(&chrono::Utc).to_rfc3339());
        assert_eq!(summer.as_deref(), Some("2026-07-06T07:30:00+00:00"));
        assert_eq!(uk_time("yesterday"), None);
        assert_eq!(uk_time("2026-13-01T08:30"), None);
    }

    #[test]
    fn the_notice_form_says_what_is_missing_in_plain_words() {
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let problems = notify_problems(&form(&[("from", "soon")]), Role::Icb);
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["odsCode", "from", "expectedUntil"]);
        // A practice does not name its practice: it is its own.
        let ok = form(&[("from", "2026-12-07T08:30"), ("expectedUntil", "2026-12-07T12:00")]);
        assert!(notify_problems(&ok, Role::Practice).is_empty());
        assert_eq!(notify_problems(&ok, Role::Icb).len(), 1);
    }
}
