//! DHU reports on practices from the web: the DHU's form to report what it sees on any practice,
//! and the ICB's triage of the reports on practices that had no open case (open a case from one,
//! or dismiss it with a reason). Everything goes through the GraphQL schema as the signed-in
//! person, so the same rules and lens apply.

use crate::contract::enums::DhuReportStatus;
use crate::lists::{cell, day, header_row};
use crate::operations::dhu::ReportRow;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use caseledger_cases::case::RootCause;
use cynic::MutationBuilder;
use maud::{Markup, html};

use super::layout::csrf_field;
use super::session::Session;
use super::{Ids, WebState, gql_problem, ids, redirect, signed_in_form};
use crate::contract::enums::RootCause as SchemaRootCause;
use crate::operations::reports::{
    DismissDhuReport, DismissDhuReportInput, DismissVariables, OpenCaseFromDhuReport, OpenCaseFromDhuReportInput,
    OpenVariables, ReportVariables, ReportVisibilityProblem, ReportVisibilityProblemInput,
};

/// A root cause in words, as the forms offer it and the lists show it.
pub fn root_cause_label(cause: RootCause) -> &'static str {
    match cause {
        RootCause::SlotTypeNotExternal => "Slot type not externally visible",
        RootCause::ProviderCodeUnmapped => "111 provider's code not mapped",
        RootCause::WrongSlotOwner => "No qualifying session holder as slot owner",
        RootCause::GpConnectDisabled => "GP Connect switched off",
        RootCause::TemplateMissingSlots => "Template releases too few slots",
        RootCause::InsufficientSlotsForListSize => "Too few slots for the list size",
        RootCause::BranchSiteAnomaly => "Slots at a branch site",
        RootCause::Other => "Something else",
    }
}

/// Every root cause, in the order the forms offer them, with its value and label.
pub fn root_causes() -> impl Iterator<Item = (String, &'static str)> {
    RootCause::ALL.into_iter().map(|cause| {
        (
            crate::contract::name(crate::contract::enums::RootCause::from(cause)),
            root_cause_label(cause),
        )
    })
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The id of the report form's input for a field (where the error summary links).
pub fn report_field_id(field: &str) -> String {
    match field {
        "detail" => "report-detail".to_string(),
        "category" => "report-category".to_string(),
        _ => "report-ods".to_string(),
    }
}

/// The report form's problems before asking the server, in plain words.
fn report_problems(form: &[(String, String)]) -> Vec<(String, String)> {
    let ods = field(form, "odsCode").unwrap_or("").trim();
    let mut problems = Vec::new();
    if ods.is_empty() {
        problems.push(("odsCode".to_string(), "Enter the practice's ODS code".to_string()));
    } else if caseledger_cases::values::OdsCode::parse(ods).is_err() {
        problems.push((
            "odsCode".to_string(),
            format!("Enter an ODS code of one letter and five digits, like Z00011 (you entered {ods})"),
        ));
    }
    if field(form, "detail").is_some_and(|detail| detail.trim().chars().count() > 2000) {
        problems.push((
            "detail".to_string(),
            "Keep the detail to 2,000 characters or fewer".to_string(),
        ));
    }
    problems
}

/// The DHU's form: report what it sees on any practice, by ODS code.
pub fn report_form(session: &Session, values: &[(String, String)], errors: &[(String, String)]) -> Markup {
    let value = |name: &str| field(values, name).unwrap_or("").to_string();
    let error = |name: &str| errors.iter().find(|(f, _)| f == name).map(|(_, m)| m.clone());
    html! {
        form method="post" action="/dhu/report" id="report-practice" novalidate {
            (csrf_field(session))
            h2 class="nhsuk-heading-m" { "Report a problem with a practice's slots" }
            p { "For any practice: it goes onto the practice's open case if it has one, otherwise to the ICB to decide what to do." }
            div class={"nhsuk-form-group" @if error("odsCode").is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="report-ods" { "Practice ODS code" }
                div class="nhsuk-hint" id="report-ods-hint" { "One letter and five digits, for example Z00011" }
                @if let Some(message) = error("odsCode") {
                    span class="nhsuk-error-message" id="report-ods-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                input class="nhsuk-input nhsuk-input--width-10" id="report-ods" name="odsCode" type="text" value=(value("odsCode")) aria-describedby="report-ods-hint";
            }
            div class="nhsuk-form-group" {
                label class="nhsuk-label" for="report-category" { "What you found" }
                select class="nhsuk-select" id="report-category" name="category" {
                    @for (code, label) in root_causes() {
                        option value=(code) selected[value("category") == code] { (label) }
                    }
                }
            }
            div class={"nhsuk-form-group" @if error("detail").is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="report-detail" { "Detail (optional)" }
                @if let Some(message) = error("detail") {
                    span class="nhsuk-error-message" id="report-detail-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                textarea class="nhsuk-textarea" id="report-detail" name="detail" rows="3" { (value("detail")) }
            }
            input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
            button class="nhsuk-button" type="submit" { "Send the report" }
        }
    }
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
    let category = field(&form, "category")
        .and_then(crate::contract::parse::<SchemaRootCause>)
        .unwrap_or(SchemaRootCause::Other);
    let ids_ = ids(ids_);
    let values: Vec<(String, String)> = form.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect();
    let problems = report_problems(&form);
    if !problems.is_empty() {
        let problem = crate::dhu::Problem::Report {
            values,
            errors: problems,
        };
        return crate::dhu::dhu_page(&state, &session, ids_, "", Some(problem)).await;
    }
    let input = ReportVisibilityProblemInput {
        ods_code: field(&form, "odsCode").unwrap_or("").trim().to_string(),
        category,
        detail: field(&form, "detail").map(str::to_string),
        command_id: field(&form, "commandId").map(cynic::Id::new),
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
            let said = errors[0]
                .message
                .split_once(": ")
                .map_or(errors[0].message.clone(), |(_, m)| m.to_string());
            let field_name = errors[0].field.clone().unwrap_or_else(|| "odsCode".into());
            // The API's sentence for an unknown practice, said to the DHU.
            let message = if errors[0].message.contains("knows no practice") {
                format!(
                    "There is no practice with the ODS code {} in CaseLedger: check the code, or find the practice by name above",
                    field(&form, "odsCode").unwrap_or("").trim()
                )
            } else {
                let mut chars = said.chars();
                chars
                    .next()
                    .map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
            };
            let problem = crate::dhu::Problem::Report {
                values,
                errors: vec![(field_name, message)],
            };
            crate::dhu::dhu_page(&state, &session, ids_, "", Some(problem)).await
        }
        Err(errors) => gql_problem(&session, &errors),
    }
}

/// The DHU's own reports, and where each stands.
pub fn reports_table(reports: &[ReportRow]) -> Markup {
    html! {
        h2 class="nhsuk-heading-m" id="your-reports" { "Your reports on practices with no open case (" (reports.len()) ")" }
        @if reports.is_empty() {
            p { "None." }
        } @else {
            table class="nhsuk-table-responsive" id="dhu-reports" role="table" {
                (header_row(&["Practice", "What you found", "Reported", "What the ICB did"]))
                tbody class="nhsuk-table__body" {
                    @for report in reports {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { (practice_name(report)) }))
                            (cell("What you found", html! { (root_cause_label(report.category.into())) }))
                            (cell("Reported", html! { (day(Some(report.reported_at))) }))
                            (cell("What the ICB did", html! { (status_label(report)) }))
                        }
                    }
                }
            }
        }
    }
}

fn practice_name(report: &ReportRow) -> String {
    let practice = &report.practice;
    match &practice.name {
        Some(name) => format!("{name} ({})", practice.ods_code),
        None => practice.ods_code.clone(),
    }
}

fn status_label(report: &ReportRow) -> &'static str {
    match report.status {
        DhuReportStatus::CaseOpened => "Opened a case",
        DhuReportStatus::Dismissed => "Dismissed",
        DhuReportStatus::New => "Waiting for the ICB",
    }
}

/// The ICB's triage list: each report with "open a case" and "dismiss".
pub fn triage_table(session: &Session, reports: &[ReportRow], problem: Option<&crate::icb::TriageProblem>) -> Markup {
    html! {
        h2 class="nhsuk-heading-m" id="triage" { "DHU reports to triage (" (reports.len()) ")" }
        @if reports.is_empty() {
            p { "No DHU report is waiting." }
        } @else {
            table class="nhsuk-table-responsive" id="triage-reports" role="table" {
                (header_row(&["Practice", "DHU found", "Reported", "Decide"]))
                tbody class="nhsuk-table__body" {
                    @for report in reports {
                        @let id = report.id.inner();
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { (practice_name(report)) }))
                            (cell("DHU found", html! {
                                (root_cause_label(report.category.into()))
                                @if let Some(detail) = &report.detail { br; span class="nhsuk-body-s" { (detail) } }
                            }))
                            (cell("Reported", html! { (day(Some(report.reported_at))) }))
                            td class="nhsuk-table__cell" role="cell" {
                                span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Decide " }
                                form method="post" action={"/icb/reports/" (id) "/open"} class="cl-inline" {
                                    (csrf_field(session))
                                    input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                                    button class="nhsuk-button nhsuk-button--small" type="submit" { "Open a case" }
                                }
                                @let refused = problem.filter(|p| p.report_id == id);
                                form method="post" action={"/icb/reports/" (id) "/dismiss"} class="cl-inline-form" {
                                    (csrf_field(session))
                                    input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
                                    div class={"nhsuk-form-group" @if refused.is_some() { " nhsuk-form-group--error" }} {
                                        label class="nhsuk-label" for={"dismiss-" (id)} { "Why nothing needs doing" }
                                        @if let Some(refused) = refused {
                                            span class="nhsuk-error-message" id={"dismiss-" (id) "-error"} {
                                                span class="nhsuk-u-visually-hidden" { "Error: " } (refused.message)
                                            }
                                        }
                                        input class={"nhsuk-input" @if refused.is_some() { " nhsuk-input--error" }} id={"dismiss-" (id)} name="reason" type="text"
                                            value=(refused.map_or("", |r| r.typed.as_str()))
                                            aria-describedby=[refused.map(|_| format!("dismiss-{id}-error"))];
                                    }
                                    button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" { "Dismiss" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /icb/reports/{id}/{open|dismiss}`.
pub async fn triage(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let command_id = field(&form, "commandId").map(cynic::Id::new);
    let decided = match decision.as_str() {
        "open" => {
            let input = OpenCaseFromDhuReportInput {
                report_id: cynic::Id::new(&id),
                command_id,
            };
            crate::contract::run(
                &state.0.schema,
                &session.actor,
                ids_,
                OpenCaseFromDhuReport::build(OpenVariables { input }),
            )
            .await
            .map(|opened| Some(opened.open_case_from_dhu_report.case.id))
        }
        "dismiss" => {
            let input = DismissDhuReportInput {
                report_id: cynic::Id::new(&id),
                reason: field(&form, "reason").unwrap_or("").to_string(),
                command_id,
            };
            crate::contract::run(
                &state.0.schema,
                &session.actor,
                ids_,
                DismissDhuReport::build(DismissVariables { input }),
            )
            .await
            .map(|_| None)
        }
        _ => {
            return super::problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Page not found",
                "There is no such decision.",
            );
        }
    };
    match decided {
        Ok(Some(case_id)) => redirect(&format!("/cases/{}", case_id.inner())),
        Ok(None) => redirect("/icb#triage"),
        Err(errors)
            if errors
                .first()
                .is_some_and(|e| e.is(&crate::gql::ErrorCode::BadUserInput)) =>
        {
            let typed = field(&form, "reason").unwrap_or("").to_string();
            let message = if typed.trim().is_empty() {
                "Enter why nothing needs doing about this report".to_string()
            } else {
                errors.first().map_or_else(String::new, |e| {
                    let said = e.message.split_once(": ").map_or(e.message.as_str(), |(_, m)| m);
                    format!("The reason {said}")
                })
            };
            let problem = crate::icb::TriageProblem {
                report_id: id.clone(),
                message,
                typed,
            };
            crate::icb::dashboard_page(&state, &session, ids_, "", Some(problem)).await
        }
        Err(errors) => gql_problem(&session, &errors),
    }
}
