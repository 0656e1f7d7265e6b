//! DHU reports on practices, as the pages draw them: the DHU's form to report what it sees on any
//! practice and its list of reports, and the ICB's triage table (open a case from one, or dismiss
//! it with a reason). The forms' handlers live with their pages (`dhu::report`, `icb::triage`).

use crate::contract::enums::DhuReportStatus;
use crate::lists::{cell, day, header_row};
use crate::operations::dhu::ReportRow;
use caseledger_cases::case::RootCause;
use maud::{Markup, html};

use super::layout::csrf_field;
use super::session::Session;

/// A root cause in words, as the forms offer it and the lists show it.
pub fn root_cause_label(cause: RootCause) -> &'static str {
    use crate::contract::enums::Labelled;
    crate::contract::enums::RootCause::from(cause).label()
}

/// Every root cause, in the order the forms offer them, with its value and label.
pub fn root_causes() -> Vec<(String, &'static str)> {
    crate::contract::enums::options::<crate::contract::enums::RootCause>()
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
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
pub fn report_problems(form: &[(String, String)]) -> Vec<(String, String)> {
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
/// A triage decision the page refused: which report, why, and what was typed.
#[derive(Debug, Clone)]
pub struct TriageProblem {
    pub report_id: String,
    pub message: String,
    pub typed: String,
}

pub fn triage_table(session: &Session, reports: &[ReportRow], problem: Option<&TriageProblem>) -> Markup {
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
