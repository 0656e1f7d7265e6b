//! The ICB's practice register page: the three files NHS England publishes, uploaded as they come
//! (ODS's GP practices, the monthly list sizes, ODS's PCN release), and what each upload did.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cynic::MutationBuilder;
use maud::{Markup, html};

use crate::layout::{error_summary, page};
use crate::lists::on;
use crate::operations::register::{ImportListSizes, ImportOds, ImportPcns, PublishedReport, PublishedVariables};
use crate::session::Session;
use crate::{Ids, WebState, csrf_refused, fetch, ids, problem, signed_in};

/// One of the three files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Ods,
    ListSizes,
    Pcns,
}

impl File {
    const ALL: [File; 3] = [File::Ods, File::ListSizes, File::Pcns];

    fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|file| file.path() == path)
    }

    fn path(self) -> &'static str {
        match self {
            File::Ods => "ods",
            File::ListSizes => "list-sizes",
            File::Pcns => "pcns",
        }
    }

    fn title(self) -> &'static str {
        match self {
            File::Ods => "GP practices (ODS epraccur.csv)",
            File::ListSizes => "List sizes (Patients Registered at a GP Practice)",
            File::Pcns => "PCN membership (ODS ePCN core partner details)",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            File::Ods => {
                "epraccur.csv from ODS (NHS England's Organisation Data Service), as downloaded: every GP practice \
                 of this ICB with its address, telephone, open and close dates. Other ICBs' rows are passed over."
            }
            File::ListSizes => {
                "gp-reg-pat-prac-all.csv from NHS England's monthly publication \"Patients Registered at a GP \
                 Practice\", as downloaded. Each list size is dated the file's extract date."
            }
            File::Pcns => {
                "The ePCN release's core partner details: epcncorepartnerdetails.csv from ODS Data Search and \
                 Export, or the \"PCN Core Partner Details\" sheet of ePCN.xlsx saved as CSV."
            }
        }
    }
}

fn may_load(session: &Session) -> bool {
    caseledger_cases::case::CommandName::RegisterPractice.permits(session.actor.role)
}

fn forbidden(session: &Session) -> Response {
    problem(
        StatusCode::FORBIDDEN,
        Some(session),
        "You cannot load the practice register",
        "Only the ICB and operators load the files NHS England publishes.",
    )
}

/// `GET /icb/register`.
pub async fn show(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !may_load(&session) {
        return forbidden(&session);
    }
    page("Practice register", Some(&session), render_register(&session, None)).into_response()
}

/// The page: where each file comes from, and its upload.
fn render_register(session: &Session, error: Option<(File, &str)>) -> Markup {
    html! {
        h1 { "Practice register" }
        p { "The register is made from the files NHS England publishes each month. Upload them as they come, in any order: a practice joins the register once its list size is known, and is placed in its PCN from the PCN file. Branch surgeries are not in these files: the practice register CSV gives them." }
        @for file in File::ALL {
            (upload_form(session, file, error.filter(|(f, _)| *f == file).map(|(_, message)| message)))
        }
        p { a href="/icb" { "Back to the dashboard" } }
    }
}

fn upload_form(session: &Session, file: File, error: Option<&str>) -> Markup {
    let id = format!("csv-{}", file.path());
    html! {
        form method="post" action={"/icb/register/" (file.path())} enctype="multipart/form-data" id={"upload-" (file.path())} novalidate {
            (crate::layout::csrf_field(session))
            div class={"nhsuk-form-group" @if error.is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label nhsuk-label--s" for=(id) { (file.title()) }
                div class="nhsuk-hint" id={(id) "-hint"} { (file.hint()) }
                @if let Some(error) = error {
                    span class="nhsuk-error-message" id={(id) "-error"} { span class="nhsuk-u-visually-hidden" { "Error: " } (error) }
                }
                input class="nhsuk-file-upload" id=(id) name="csv" type="file" accept=".csv,text/csv" aria-describedby={(id) "-hint"};
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Upload " (file.path().replace('-', " ")) }
        }
    }
}

/// `POST /icb/register/{file}`.
pub async fn upload(
    State(state): State<WebState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    ids_: Ids,
    multipart: Multipart,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Some(file) = File::from_path(&path) else {
        return crate::not_found_for(Some(&session));
    };
    if !may_load(&session) {
        return forbidden(&session);
    }
    let (form, csv) = match crate::lists::read_upload(multipart).await {
        Ok(upload) => upload,
        Err(message) => return bad_upload(&session, file, &message),
    };
    if let Some(refused) = csrf_refused(&session, &form) {
        return refused;
    }
    let Some(csv) = csv.filter(|c| !c.trim().is_empty()) else {
        return bad_upload(&session, file, "Choose a CSV file to upload");
    };
    let variables = PublishedVariables { csv };
    let ids_ = ids(ids_);
    let report = match file {
        File::Ods => fetch(&state, &session, ids_, ImportOds::build(variables))
            .await
            .map(|m| m.import_ods_practices),
        File::ListSizes => fetch(&state, &session, ids_, ImportListSizes::build(variables))
            .await
            .map(|m| m.import_list_sizes),
        File::Pcns => fetch(&state, &session, ids_, ImportPcns::build(variables))
            .await
            .map(|m| m.import_pcns),
    };
    let report = match report {
        Ok(report) => report,
        Err(response) => return response,
    };
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        page(file.title(), Some(&session), render_report(file, &report, &session)),
    )
        .into_response()
}

fn practice_links(codes: &[String]) -> Markup {
    html! {
        ul class="nhsuk-list nhsuk-list--bullet" {
            @for code in codes { li { a href={"/practices/" (code)} { (code) } } }
        }
    }
}

/// What an upload did, or every problem found (nothing applied).
fn render_report(file: File, report: &PublishedReport, session: &Session) -> Markup {
    let errors = &report.errors;
    html! {
        @if errors.is_empty() {
            div class="nhsuk-card nhsuk-card--confirmation" {
                div class="nhsuk-card__content" {
                    h1 class="nhsuk-card__heading" { (file.title()) " loaded" }
                    p id="published-summary" {
                        (report.rows) " rows of this ICB's practices"
                        @if let Some(date) = &report.extract_date { " (extract of " (on(Some(date.0))) ")" }
                        ": " (report.registered) " practices registered, " (report.changed) " changed, "
                        (report.unchanged) " as they were."
                        @if report.reopened > 0 { " " (report.reopened) " compliant cases reopened: the list size raised the requirement." }
                    }
                    p { (report.other_icbs) " rows of other ICBs and " (report.passed_over) " other rows were passed over"
                        @if report.not_in_register > 0 { "; " (report.not_in_register) " rows are of practices ODS does not list for this ICB" }
                        @if report.older > 0 { "; " (report.older) " list sizes older than those held were kept out" }
                        "." }
                }
            }
            @if !report.closed_with_open_case.is_empty() {
                h2 class="nhsuk-heading-m" { "Closed practices with an open case" }
                p { "ODS lists these practices as closed. Their cases stay open until you decide: close each as practice closed on its case page." }
                (practice_links(&report.closed_with_open_case))
            }
            @if !report.closed.is_empty() {
                h2 class="nhsuk-heading-m" { "Closed with this file" }
                p { "Their history stays; they leave the figures from their close date." }
                (practice_links(&report.closed))
            }
            @if !report.awaiting_list_size.is_empty() {
                h2 class="nhsuk-heading-m" { "Waiting for a list size" }
                p { "These practices join the register once a list size file gives their patients." }
                (practice_links(&report.awaiting_list_size))
            }
        } @else {
            (crate::lists::import_problems("The file was not loaded", "Problems in the file", errors, report.error_count))
            (upload_form(session, file, None))
        }
        p { a href="/icb/register" { "Back to the practice register" } }
    }
}

fn bad_upload(session: &Session, file: File, message: &str) -> Response {
    let body = html! {
        (error_summary("There is a problem", &[(Some(format!("csv-{}", file.path())), message.to_string())]))
        (render_register(session, Some((file, message))))
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page("Practice register", Some(session), body),
    )
        .into_response()
}
