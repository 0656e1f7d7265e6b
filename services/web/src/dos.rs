//! Directory of Services gaps, as the pages show them: each service red, amber or green; the
//! 111 provider reports a gap and confirms a fix (or finds it still there); the ICB triages and
//! records the provider's update; a practice sees and updates gaps in its own entry. What each
//! reader sees is the API's.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::case::CommandName;
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};

use crate::gql::{ErrorCode, GqlError};
use crate::layout::{csrf_field, page};
use crate::lists::{cell, day_time, header_row};
use crate::operations::dos::{
    ConfirmDosFix, DosGap, DosGapKind, DosGapStatus, DosGapStepInput, DosQuery, DosServiceStatus, DosTriage, DosWeek,
    Rag, RecordDosUpdate, RecordDosUpdateInput, ReportDosGap, ReportDosGapInput, ReportDosGapPersists, ReportVariables,
    StepVariables, TriageDosGap, TriageDosGapInput, TriageVariables, UpdateVariables,
};
use crate::reports::field;
use crate::session::Session;
use crate::{Ids, WebState, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};

fn kind_label(kind: DosGapKind) -> &'static str {
    crate::contract::enums::Labelled::label(kind)
}

fn status_label(status: DosGapStatus) -> &'static str {
    match status {
        DosGapStatus::Reported => "Waiting for the ICB's triage",
        DosGapStatus::AwaitingUpdate => "Waiting for the provider's update",
        DosGapStatus::AwaitingConfirmation => "Waiting for the 111 provider to confirm",
        DosGapStatus::Closed => "Closed",
        DosGapStatus::Dismissed => "Dismissed",
    }
}

fn rag_tag(rag: Rag) -> Markup {
    let (class, text) = match rag {
        Rag::Red => ("nhsuk-tag nhsuk-tag--red", "Red"),
        Rag::Amber => ("nhsuk-tag nhsuk-tag--orange", "Amber"),
        Rag::Green => ("nhsuk-tag nhsuk-tag--green", "Green"),
    };
    html! { strong class=(class) { (text) } }
}

/// `GET /dos`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    dos_page(&state, &session, ids(ids_), None).await
}

/// A problem to show: where (an input's or a row's form's id), what, and the report form as typed
/// (kept, so that nothing typed is lost).
type Problem = (String, String, Vec<(String, String)>);

async fn dos_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    problem: Option<Problem>,
) -> Response {
    let data = match fetch(state, session, ids_, DosQuery::build(())).await {
        Ok(data) => data,
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
        h1 { "Directory of Services gaps" }
        p class="nhsuk-lede-text" { "Where NHS 111's call handlers could not send a caller: each service's entry, red while a gap that bit in core hours is open, amber while any gap is open." }
        (services_table(&data.dos_services))
        (figures_table(&data.dos_figures))
        (gaps_list(session, &data.dos_gaps))
        @if CommandName::ReportDosGap.permits(session.actor.role) {
            (report_form(session, problem.as_ref().map_or(&[][..], |(_, _, typed)| typed.as_slice())))
        }
    };
    (status, page("Directory of Services gaps", Some(session), body)).into_response()
}

fn services_table(services: &[DosServiceStatus]) -> Markup {
    html! {
        h2 class="nhsuk-heading-m" id="services" { "Services" }
        @if services.is_empty() {
            p { "No gaps reported in the last 90 days." }
        } @else {
            table class="nhsuk-table" id="dos-services" {
                (header_row(&["Service", "DoS id", "Status", "Open gaps"]))
                tbody class="nhsuk-table__body" {
                    @for service in services {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Service", html! { (service.service_name) }))
                            (cell("DoS id", html! { (service.service_id) }))
                            (cell("Status", rag_tag(service.rag)))
                            (cell("Open gaps", html! { (service.open_gaps) }))
                        }
                    }
                }
            }
        }
    }
}

/// Gaps reported (in core hours), closed and dismissed per week and kind, the last 8 weeks.
fn figures_table(weeks: &[DosWeek]) -> Markup {
    html! {
        h2 class="nhsuk-heading-m" id="figures" { "The last 8 weeks" }
        @if weeks.is_empty() {
            p { "No gaps reported, closed or dismissed in the last 8 weeks." }
        } @else {
            table class="nhsuk-table" id="dos-figures" {
                (header_row(&["Week of", "Kind", "Reported", "In core hours", "Closed", "Dismissed"]))
                tbody class="nhsuk-table__body" {
                    @for week in weeks {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Week of", html! { (week.week.0.format("%-d %b %Y").to_string()) }))
                            (cell("Kind", html! { (kind_label(week.kind)) }))
                            (cell("Reported", html! { (week.reported) }))
                            (cell("In core hours", html! { (week.reported_in_core_hours) }))
                            (cell("Closed", html! { (week.closed) }))
                            (cell("Dismissed", html! { (week.dismissed) }))
                        }
                    }
                }
            }
        }
    }
}

fn gaps_list(session: &Session, gaps: &[DosGap]) -> Markup {
    html! {
        h2 class="nhsuk-heading-m" id="gaps" { "Gaps" }
        @if gaps.is_empty() {
            p { "No gaps to show." }
        }
        @for gap in gaps {
            @let id = gap.id.inner();
            div class="nhsuk-card" id=(format!("gap-{id}")) {
                div class="nhsuk-card__content" {
                    h3 class="nhsuk-card__heading nhsuk-heading-s" {
                        (gap.service_name) " (" (gap.service_id) ")"
                        @if let Some(ods) = &gap.ods_code { ", practice " (ods) }
                    }
                    dl class="nhsuk-summary-list" {
                        (row("Kind", html! { (kind_label(gap.kind)) }))
                        (row("Bit", html! { (day_time(gap.bit_at)) @if gap.in_core_hours { " (core hours)" } }))
                        (row("Where it stands", html! {
                            (status_label(gap.status))
                            @if let Some(due) = &gap.due {
                                ", due " (due.0.format("%-d %b %Y").to_string())
                                @if gap.overdue { " " strong class="nhsuk-tag nhsuk-tag--red" { "Overdue" } }
                            }
                        }))
                        @if let Some(detail) = &gap.detail { (row("What the 111 provider found", html! { (detail) })) }
                        @if let Some(reason) = &gap.dismiss_reason { (row("Why dismissed", html! { (reason) })) }
                        @if let Some(summary) = &gap.update_summary { (row("What was updated", html! { (summary) })) }
                        @if gap.times_persisted > 0 {
                            (row("Still there after an update", html! {
                                (gap.times_persisted) " time(s)"
                                @if let Some(detail) = &gap.persist_detail { ": " (detail) }
                            }))
                        }
                    }
                    (gap_forms(session, gap))
                }
            }
        }
    }
}

fn row(key: &str, value: Markup) -> Markup {
    html! {
        div class="nhsuk-summary-list__row" {
            dt class="nhsuk-summary-list__key" { (key) }
            dd class="nhsuk-summary-list__value" { (value) }
        }
    }
}

/// The forms the reader may use on the gap now: the catalogue says who, the gap's stage when.
fn gap_forms(session: &Session, gap: &DosGap) -> Markup {
    let role = session.actor.role;
    let id = gap.id.inner();
    let form = |action: &str, body: Markup, button: &str| {
        html! {
            form method="post" action=(format!("/dos/{id}/{action}")) class="cl-inline-form" {
                (csrf_field(session))
                input type="hidden" name="commandId" value=(uuid::Uuid::now_v7().to_string());
                (body)
                button class="nhsuk-button nhsuk-button--secondary" type="submit" { (button) }
            }
        }
    };
    let text = |name: &str, label: &str| {
        let input = format!("{name}-{id}");
        html! {
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for=(input) { (label) }
                input class="nhsuk-input" type="text" id=(input) name=(name);
            }
        }
    };
    html! {
        @match gap.status {
            DosGapStatus::Reported if CommandName::TriageDosGap.permits(role) => {
                (form("open", html! {}, "Open a DoS case"))
                (form("dismiss", text("reason", "Why dismiss it"), "Dismiss"))
            }
            DosGapStatus::AwaitingUpdate if CommandName::RecordDosUpdate.permits(role) => {
                (form("update", text("summary", "What was changed in the entry"), "Record the update"))
            }
            DosGapStatus::AwaitingConfirmation if CommandName::ConfirmDosFix.permits(role) => {
                (form("confirm", html! {}, "Confirm it now serves"))
                (form("persists", text("detail", "What is still wrong"), "Still a gap"))
            }
            _ => {}
        }
    }
}

fn report_form(session: &Session, typed: &[(String, String)]) -> Markup {
    let value = |name: &str| field(typed, name).unwrap_or_default().to_string();
    html! {
        h2 class="nhsuk-heading-m" id="report" { "Report a gap" }
        form method="post" action="/dos/report" id="report-form" novalidate {
            (csrf_field(session))
            input type="hidden" name="commandId" value=(uuid::Uuid::now_v7().to_string());
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="service-id" { "DoS service id" }
                input class="nhsuk-input nhsuk-input--width-10" type="text" inputmode="numeric" id="service-id" name="serviceId" value=(value("serviceId"));
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="service-name" { "Service name" }
                input class="nhsuk-input" type="text" id="service-name" name="serviceName" value=(value("serviceName"));
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="kind" { "Kind of gap" }
                select class="nhsuk-select" id="kind" name="kind" {
                    @for (kind, label) in crate::contract::enums::options::<DosGapKind>() { option value=(kind) selected[value("kind") == kind] { (label) } }
                }
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="bit-at" { "When it bit (UK time)" }
                input class="nhsuk-input nhsuk-input--width-20" type="datetime-local" id="bit-at" name="bitAt" value=(value("bitAt"));
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="ods-code" { "The practice's ODS code, if it is a GP practice's entry" }
                input class="nhsuk-input nhsuk-input--width-10" type="text" id="ods-code" name="odsCode" value=(value("odsCode"));
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="detail" { "What the call handler found" }
                textarea class="nhsuk-textarea" id="detail" name="detail" rows="3" { (value("detail")) }
            }
            button class="nhsuk-button" type="submit" { "Report the gap" }
        }
    }
}

/// What the API refused, said in plain words.
fn refused(errors: &[GqlError]) -> Option<String> {
    let codes = [
        ErrorCode::BadUserInput,
        ErrorCode::InvalidTransition,
        ErrorCode::Conflict,
        ErrorCode::NotFound,
    ];
    GqlError::for_form(errors, &codes).map(GqlError::sentence)
}

/// `POST /dos/report`.
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
    let ids_ = ids(ids_);
    let kind = field(&form, "kind").and_then(crate::contract::parse::<DosGapKind>);
    let missing = [
        ("serviceId", "service-id", "Enter the service's DoS id"),
        ("serviceName", "service-name", "Enter the service's name"),
        ("bitAt", "bit-at", "Enter when the gap bit"),
    ]
    .into_iter()
    .find(|(name, _, _)| field(&form, name).is_none());
    if let Some((_, id, message)) = missing {
        return dos_page(
            &state,
            &session,
            ids_,
            Some((id.to_string(), message.to_string(), form)),
        )
        .await;
    }
    let bit_at = field(&form, "bitAt").and_then(crate::diversions::uk_time);
    let (Some(kind), Some(bit_at)) = (kind, bit_at) else {
        let problem = (
            "bit-at".to_string(),
            "Enter when the gap bit as a date and time".to_string(),
            form,
        );
        return dos_page(&state, &session, ids_, Some(problem)).await;
    };
    let input = ReportDosGapInput {
        service_id: field(&form, "serviceId").unwrap_or_default().to_string(),
        service_name: field(&form, "serviceName").unwrap_or_default().to_string(),
        kind,
        bit_at,
        ods_code: field(&form, "odsCode").map(str::to_string),
        detail: field(&form, "detail").map(str::to_string),
        command_id: field(&form, "commandId").map(cynic::Id::new),
    };
    let mutation = ReportDosGap::build(ReportVariables { input });
    match crate::contract::run(&state.0.schema, &session.actor, ids_, mutation).await {
        Ok(_) => redirect("/dos#gaps"),
        Err(errors) => match refused(&errors) {
            Some(message) => dos_page(&state, &session, ids_, Some(("report-form".to_string(), message, form))).await,
            None => gql_problem(&session, &errors),
        },
    }
}

/// `POST /dos/{id}/{open|dismiss|update|confirm|persists}`.
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
    let anchor = format!("gap-{id}");
    let gap_id = cynic::Id::new(id);
    let command_id = field(&form, "commandId").map(cynic::Id::new);
    let words = |name: &str| field(&form, name).map(str::to_string);
    let schema = &state.0.schema;
    let actor = &session.actor;
    let result = match action.as_str() {
        "open" | "dismiss" => {
            let input = TriageDosGapInput {
                gap_id,
                outcome: if action == "open" {
                    DosTriage::CaseOpened
                } else {
                    DosTriage::Dismissed
                },
                reason: words("reason"),
                command_id,
            };
            crate::contract::run(schema, actor, ids_, TriageDosGap::build(TriageVariables { input }))
                .await
                .map(drop)
        }
        "update" => {
            let input = RecordDosUpdateInput {
                gap_id,
                summary: words("summary"),
                command_id,
            };
            crate::contract::run(schema, actor, ids_, RecordDosUpdate::build(UpdateVariables { input }))
                .await
                .map(drop)
        }
        "confirm" | "persists" => {
            let input = DosGapStepInput {
                gap_id,
                detail: words("detail"),
                command_id,
            };
            let variables = StepVariables { input };
            if action == "confirm" {
                crate::contract::run(schema, actor, ids_, ConfirmDosFix::build(variables))
                    .await
                    .map(drop)
            } else {
                crate::contract::run(schema, actor, ids_, ReportDosGapPersists::build(variables))
                    .await
                    .map(drop)
            }
        }
        _ => {
            return crate::problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Page not found",
                "There is no such step on a gap.",
            );
        }
    };
    match result {
        Ok(()) => redirect(&format!("/dos#{anchor}")),
        Err(errors) => match refused(&errors) {
            Some(message) => dos_page(&state, &session, ids_, Some((anchor, message, Vec::new()))).await,
            None => gql_problem(&session, &errors),
        },
    }
}
