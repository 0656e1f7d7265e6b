//! What every party's lists of cases share: the fields they ask for, and pure functions that draw
//! a case's cells from its [`CaseRow`].

use chrono::NaiveDate;
use maud::{Markup, html};

use crate::layout::status_tag;
use caseledger_cases::next::NextStep;

use crate::model::{CaseRow, Instant};
use crate::session::Session;

/// What every list draws of a case, whichever fragment of it a page asked for.
pub trait Listed {
    fn key(&self) -> &str;
    fn state(&self) -> caseledger_cases::CaseStatus;
    fn practice(&self) -> &crate::model::PracticeRef;
    /// `None` for a party that may not know of contract reviews.
    fn contract_review_open(&self) -> Option<bool>;
}

impl Listed for CaseRow {
    fn key(&self) -> &str {
        CaseRow::key(self)
    }

    fn state(&self) -> caseledger_cases::CaseStatus {
        CaseRow::state(self)
    }

    fn practice(&self) -> &crate::model::PracticeRef {
        &self.practice
    }

    fn contract_review_open(&self) -> Option<bool> {
        self.contract_review_open
    }
}

/// The day of `at` in the UK, "5 Jan 2026", or "–".
pub fn day(at: Option<Instant>) -> String {
    at.map_or_else(
        || "–".into(),
        |at| {
            caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc))
                .format("%-d %b %Y")
                .to_string()
        },
    )
}

/// The UK day and time of `at`, "5 Jan 2026, 09:30".
pub fn day_time(at: Instant) -> String {
    caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc))
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

/// A date, "5 Jan 2026", or "–".
pub fn on(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "–".into(), |date| date.format("%-d %b %Y").to_string())
}

/// A table cell that keeps its column's label when a narrow screen stacks the row (the NHS.UK
/// responsive table's heading span).
pub fn cell(label: &str, content: Markup) -> Markup {
    html! {
        td class="nhsuk-table__cell" role="cell" {
            span class="nhsuk-table-responsive__heading" aria-hidden="true" { (label) " " }
            (content)
        }
    }
}

/// A responsive table's header row, with the roles its stacked rows need.
pub fn header_row(labels: &[&str]) -> Markup {
    html! {
        thead class="nhsuk-table__head" role="rowgroup" {
            tr role="row" {
                @for label in labels { th scope="col" role="columnheader" { (label) } }
            }
        }
    }
}

/// When the case's stage is due: "Overdue" (with the date it was due) or the working days left.
pub fn due_cell(case: &CaseRow) -> Markup {
    deadline_cell(case.deadline.as_ref())
}

/// When a stage is due (see [`due_cell`]); "–" when nothing is awaited.
pub fn deadline_cell(deadline: Option<&crate::model::Deadline>) -> Markup {
    let Some(deadline) = deadline else {
        return html! { span class="cl-muted" { "–" } };
    };
    let left = deadline.working_days_left;
    html! {
        @if deadline.overdue {
            strong class="nhsuk-tag nhsuk-tag--red cl-overdue" { "Overdue" }
            br;
            span class="nhsuk-body-s" {
                (deadline.awaiting) " was due " (on(Some(deadline.due_on)))
                " (" (-left) " working " (if left == -1 { "day" } else { "days" }) " late)"
            }
        } @else {
            (deadline.awaiting) " by " (on(Some(deadline.due_on)))
            br;
            span class="nhsuk-body-s cl-muted" {
                @match left {
                    0 => "due today",
                    1 => "1 working day left",
                    n => { (n) " working days left" }
                }
            }
        }
    }
}

/// A case's status, and "Contract review" while one is open (for those who may know).
pub fn case_status(case: &impl Listed) -> Markup {
    html! {
        (status_tag(case.state()))
        @if case.contract_review_open() == Some(true) { " " strong class="nhsuk-tag nhsuk-tag--red" { "Contract review" } }
    }
}

/// Days since `at`, to today in the UK.
pub fn days_since(at: Option<Instant>) -> Option<i64> {
    let then = caseledger_cases::ukclock::to_uk(at?.with_timezone(&chrono::Utc)).date_naive();
    Some((caseledger_clock::today() - then).num_days())
}

/// How long ago, in days, in words.
pub fn ago(at: Option<Instant>) -> String {
    match days_since(at) {
        Some(0) => "today".into(),
        Some(1) => "yesterday".into(),
        Some(days) => format!("{days} days ago"),
        None => "–".into(),
    }
}

/// A caseload's order: open cases first, the most urgent (earliest due) first; then finished.
pub fn by_urgency(cases: &mut [CaseRow]) {
    cases.sort_by_key(|case| {
        let due = case
            .deadline
            .as_ref()
            .map_or(NaiveDate::MAX, |deadline| deadline.due_on);
        (case.finished(), due, case.opened_at)
    });
}

/// What a champion should do next with a case in this state (the domain's next step).
pub fn next_action(case: &CaseRow) -> String {
    NextStep::of(&case.facts()).for_champion()
}

/// The practice's name (to the case), its ODS code (to the practice) and place.
pub fn practice_cell(case: &impl Listed) -> Markup {
    let practice = case.practice();
    html! {
        a href={"/cases/" (case.key())} { (practice.name) }
        br;
        span class="nhsuk-body-s cl-muted" {
            a href={"/practices/" (practice.ods_code)} { (practice.ods_code) }
            " · " (practice.place)
        }
    }
}

/// A command form's hidden fields in a list, with a `_return` so it comes back to the list.
pub fn list_command_fields(session: &Session, case: &CaseRow, back_to: &str) -> Markup {
    html! {
        (crate::actions::command_fields(session, i64::from(case.revision)))
        input type="hidden" name="_return" value=(back_to);
    }
}

/// `text` for a URL's query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A search for any practice by ODS code or name (its form goes to `action`), and what it found.
pub fn practice_search(action: &str, search: &str, found: &[crate::operations::dhu::Found]) -> Markup {
    html! {
        form method="get" action=(action) class="cl-filters" id="practice-search" role="search" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="search-q" { "Find a practice by ODS code or name" }
                input class="nhsuk-input nhsuk-input--width-20" id="search-q" name="q" type="search" value=(search) maxlength="100";
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Search" }
        }
        @if !search.is_empty() {
            h2 class="nhsuk-heading-m" { "Practices matching “" (search) "”" }
            @if found.is_empty() { p id="search-results" { "No practice matches." } }
            @else {
                ul class="nhsuk-list" id="search-results" {
                    @for practice in found {
                        li {
                            a href={"/practices/" (practice.ods_code)} { (practice.name) } " (" (practice.ods_code) ", " (practice.place) ")"
                            @if let Some(seen) = &practice.latest_observation {
                                ": " (seen.visible_slots) " of " (seen.required_slots) " slots a day on the dashboard"
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What an upload found wrong, nothing applied: the error summary, then every problem listed by
/// line and column (the first ones, when there are more than a report lists).
pub fn import_problems(title: &str, heading: &str, errors: &[crate::model::ImportError], error_count: i32) -> Markup {
    let listed = i32::try_from(errors.len()).unwrap_or(i32::MAX);
    let total = error_count.max(listed);
    html! {
        (crate::layout::error_summary(title, &[(None, format!("{total} problems were found; nothing was applied. Correct the file and upload it again."))]))
        @if total > listed { p { "The first " (errors.len()) " are listed." } }
        h1 { (heading) }
        table class="nhsuk-table-responsive" id="import-errors" role="table" {
            (header_row(&["Line", "Column", "Problem"]))
            tbody class="nhsuk-table__body" {
                @for error in errors {
                    tr class="nhsuk-table__row" role="row" {
                        (cell("Line", html! { (error.line) }))
                        (cell("Column", html! { (error.column.as_deref().unwrap_or("–")) }))
                        (cell("Problem", html! { (error.message) }))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::{Shortfall, case_json};

    fn case(status: &str, due: Option<(i32, u32, u32)>) -> CaseRow {
        let mut json = case_json("c1", status);
        if let Some((y, m, d)) = due {
            json["deadline"] = serde_json::json!({ "awaiting": "Contact", "startedOn": "2026-01-05",
                "dueOn": format!("{y:04}-{m:02}-{d:02}"), "overdue": false, "workingDaysLeft": 3 });
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_caseload_puts_open_cases_first_earliest_due_first() {
        let mut cases = vec![
            case("COMPLIANT", None),
            case("CONTACTED", Some((2026, 2, 10))),
            case("FLAGGED", None),
            case("REMAPPED", Some((2026, 2, 3))),
        ];
        by_urgency(&mut cases);
        let order: Vec<&str> = cases.iter().map(|c| c.state().as_str()).collect();
        assert_eq!(order, ["REMAPPED", "CONTACTED", "FLAGGED", "COMPLIANT"]);
    }

    #[test]
    fn the_next_action_follows_the_case() {
        let mut remapped = case("REMAPPED", None);
        assert_eq!(next_action(&remapped), "Wait for DHU to confirm what it can see");
        remapped.dhu_shortfall = Some(Shortfall {
            visible_slots: 2,
            required_slots: 4,
        });
        assert!(next_action(&remapped).starts_with("DHU sees 2 of 4 required"));
        let mut contacted = case("CONTACTED", None);
        assert_eq!(next_action(&contacted), "Find and record the root cause");
        contacted.root_causes = vec![caseledger_cases::case::RootCause::SlotTypeNotExternal.into()];
        assert_eq!(next_action(&contacted), "Fix the set-up and record the remap");
    }

    #[test]
    fn a_late_stage_says_how_late() {
        let mut late = case("FLAGGED", Some((2026, 2, 3)));
        if let Some(deadline) = late.deadline.as_mut() {
            deadline.awaiting = "Contact".into();
            deadline.overdue = true;
            deadline.working_days_left = -1;
        }
        let html = due_cell(&late).into_string();
        assert!(
            html.contains("Overdue") && html.contains("Contact was due 3 Feb 2026 (1 working day late)"),
            "{html}"
        );
        assert_eq!(
            due_cell(&case("COMPLIANT", None)).into_string(),
            "<span class=\"cl-muted\">–</span>"
        );
    }
}

/// A case as "since your last visit" names it.
#[derive(Debug, Clone, Copy)]
pub struct Changed<'a> {
    pub id: &'a str,
    pub practice: &'a str,
    pub status: caseledger_cases::CaseStatus,
    pub at: Instant,
}

impl<'a> From<&'a CaseRow> for Changed<'a> {
    fn from(case: &'a CaseRow) -> Self {
        Self {
            id: case.key(),
            practice: &case.practice.name,
            status: case.state(),
            at: case.last_activity_at,
        }
    }
}

/// What a party's page says first: what its figures are as at, and, since the person's last
/// visit, which of the page's cases changed (up to ten named, with links).
pub fn as_at_and_since(visit: Option<&crate::operations::visit::VisitQuery>, cases: &[Changed<'_>]) -> Markup {
    let now = caseledger_clock::now().fixed_offset();
    let as_at = visit.and_then(|visit| visit.data_as_at);
    let last_visit = visit.and_then(|visit| visit.me.last_visit_at);
    let mut changed: Vec<&Changed<'_>> = last_visit
        .map(|since| cases.iter().filter(|case| case.at > since).collect())
        .unwrap_or_default();
    changed.sort_by_key(|case| (std::cmp::Reverse(case.at), case.id));
    changed.dedup_by_key(|case| case.id);
    html! {
        p class="nhsuk-body-s" id="data-as-at" {
            "Cases as at " strong { (day_time(now)) } ". "
            @match as_at {
                Some(at) => { "Dashboard data as at " strong { (on(Some(at.0))) } " (the latest extract)." }
                None => { "No dashboard extract has been imported yet." }
            }
        }
        @if let Some(since) = last_visit {
            div class="nhsuk-inset-text" id="since-last-visit" {
                span class="nhsuk-u-visually-hidden" { "Information: " }
                @if changed.is_empty() {
                    p { "Since your last visit (" (day_time(since)) "): none of these cases changed." }
                } @else {
                    p { "Since your last visit (" (day_time(since)) "): " strong { (changed.len()) } " of these cases changed." }
                    ul class="nhsuk-list nhsuk-list--bullet" {
                        @for case in changed.iter().take(10) {
                            li { a href={"/cases/" (case.id)} { (case.practice) } " — " (crate::layout::status_label(case.status)) ", " (day_time(case.at)) }
                        }
                    }
                    @if changed.len() > 10 { p { (changed.len() - 10) " more." } }
                }
            }
        }
    }
}

/// A CSV upload's form: posted to `action` as `csv`, its input `input` (the form `<input>-upload`
/// is named after it), with what to choose and a hint of the columns; an error beside it when the
/// file came back.
pub struct UploadForm<'a> {
    pub action: &'a str,
    pub input: &'a str,
    pub form_id: &'a str,
    pub label: &'a str,
    pub hint: &'a str,
    pub button: &'a str,
}

pub fn upload_form(session: &Session, form: &UploadForm<'_>, error: Option<&str>) -> Markup {
    let hint = format!("{}-hint", form.input);
    html! {
        form method="post" action=(form.action) enctype="multipart/form-data" id=(form.form_id) novalidate {
            (crate::layout::csrf_field(session))
            div class={"nhsuk-form-group" @if error.is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for=(form.input) { (form.label) }
                div class="nhsuk-hint" id=(hint) { (form.hint) }
                @if let Some(error) = error {
                    span class="nhsuk-error-message" id={(form.input) "-error"} { span class="nhsuk-u-visually-hidden" { "Error: " } (error) }
                }
                input class="nhsuk-file-upload" id=(form.input) name="csv" type="file" accept=".csv,text/csv" aria-describedby=(hint);
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { (form.button) }
        }
    }
}

/// An extract uploaded from a page (a CSV checked whole by the API): what the page says of it.
pub struct Upload<'a> {
    /// The page's title, and the heading over the form when the file never reached the API.
    pub title: &'a str,
    pub heading: &'a str,
    /// The file input's id (where the error summary links).
    pub input: &'a str,
    /// "Extract imported", and the id and end of the sentence with its counts.
    pub done: &'a str,
    pub summary_id: &'a str,
    pub counted_once: &'a str,
    /// "The extract was not imported".
    pub refused: &'a str,
    /// Where to go back to, and its words.
    pub back: (&'a str, &'a str),
}

/// Reads an upload's form and file, checks its CSRF token, runs `import` on the file's text and
/// answers with a page: the counts, or the file's problems and the form again (`form`, with an
/// error when the file never reached the API).
pub async fn upload<F>(
    session: &Session,
    multipart: axum::extract::Multipart,
    what: &Upload<'_>,
    form: impl Fn(&Session, Option<&str>) -> Markup,
    import: impl FnOnce(String) -> F,
) -> axum::response::Response
where
    F: std::future::Future<Output = Result<crate::operations::dhu::DhuExtractReport, Vec<crate::gql::GqlError>>>,
{
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let bad = |message: &str| {
        let body = html! {
            (crate::layout::error_summary("There is a problem", &[(Some(what.input.into()), message.to_string())]))
            h1 { (what.heading) }
            (form(session, Some(message)))
        };
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            crate::layout::page(what.title, Some(session), body),
        )
            .into_response()
    };
    let (fields, csv) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(message) => return bad(&message),
    };
    if let Some(refused) = crate::csrf_refused(session, &fields) {
        return refused;
    }
    let Some(csv) = csv.filter(|c| !c.trim().is_empty()) else {
        return bad("Choose a CSV file to upload");
    };
    let report = match import(csv).await {
        Ok(report) => report,
        Err(errors) => return crate::gql_problem(session, &errors),
    };
    let errors = &report.errors;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        @if errors.is_empty() {
            div class="nhsuk-card nhsuk-card--confirmation" {
                div class="nhsuk-card__content" {
                    h1 class="nhsuk-card__heading" { (what.done) }
                    p id=(what.summary_id) { (report.rows) " rows, " (report.observed) " new (" (what.counted_once) ")." }
                }
            }
        } @else {
            (import_problems(what.refused, "Problems in the file", errors, report.error_count))
            (form(session, None))
        }
        p { a href=(what.back.0) { (what.back.1) } }
    };
    (status, crate::layout::page(what.title, Some(session), body)).into_response()
}

/// An upload's form fields and its file (field `csv`), the file's text read as
/// [`caseledger_cases::extract::text_of`] reads it (UTF-8, else Latin-1); or what went wrong.
pub(crate) async fn read_upload(
    mut multipart: axum::extract::Multipart,
) -> Result<(Vec<(String, String)>, Option<String>), String> {
    let mut form = Vec::new();
    let mut csv = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| format!("The upload could not be read: {error}"))?
    {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|error| format!("The file could not be read: {error}"))?;
        let text = caseledger_cases::extract::text_of(bytes.to_vec());
        if name == "csv" {
            csv = Some(text);
        } else {
            form.push((name, text));
        }
    }
    Ok((form, csv))
}
