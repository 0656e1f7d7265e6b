//! A practice's page: who and where it is (register, PCN, place, sites), whether data is missing,
//! the three counts of its 111 slots side by side and whether they disagree, its weekly chart,
//! every case episode, and the DHU's reports. Read through the schema as the signed-in party: a
//! champion reaches only the practices of their cases.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{inset, page, status_tag};
use super::reports::root_cause_label;
use super::{Ids, WebState, charts, gql_problem, ids, problem, signed_in};
use crate::contract::Day;
use crate::lists::{cell, day, day_time, header_row};
use crate::operations::practices::{
    Count, FlagPractice, FlagPracticeInput, FlagVariables, PastSearch, PracticePage, PracticeQuery, PracticeVariables,
};

pub async fn show(State(state): State<WebState>, headers: HeaderMap, ids_: Ids, Path(ods): Path<String>) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    // A year of weeks on the page; the rest is a query away.
    let from = Day(caseledger_clock::today() - chrono::Days::new(365));
    let operation = PracticeQuery::build(PracticeVariables { ods, from: Some(from) });
    let found = match crate::contract::run(&state.0.schema, &session.actor, ids(ids_), operation).await {
        Ok(found) => found.practice,
        Err(errors) if errors.iter().any(|e| e.is(&crate::gql::ErrorCode::BadUserInput)) => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Practice not found",
                "That is not a practice's ODS code.",
            );
        }
        Err(errors) => return gql_problem(&session, &errors),
    };
    let Some(p) = found else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&session),
            "Practice not found",
            "There is no practice with that ODS code that you can see.",
        );
    };
    let missing = p.missing_weeks;
    let counts = [
        ("Configured by the practice (last remap)", p.counts.configured.as_ref()),
        (
            "Seen by DHU (latest confirmation or extract)",
            p.counts.seen_by_dhu.as_ref(),
        ),
        ("On the dashboard (latest extract)", p.counts.dashboard.as_ref()),
    ];
    let weeks: Vec<charts::Point> = p
        .observations
        .iter()
        .map(|week| charts::Point {
            date: week.report_date.0,
            values: vec![f64::from(week.required_slots), f64::from(week.visible_slots)],
        })
        .collect();
    let body = html! {
        span class="nhsuk-caption-l" { (p.ods_code) }
        h1 { (p.name) }
        dl class="nhsuk-summary-list" id="practice-details" {
            (row("PCN", &format!("{} ({})", p.pcn_name.as_deref().unwrap_or("–"), p.pcn_code)))
            (row("Place", &p.place))
            (row("List size", &match &p.list_size_date {
                Some(extract) => format!("{} (published, {})", p.list_size, crate::lists::on(Some(extract.0))),
                None => p.list_size.to_string(),
            }))
            (row("Required 111 slots a day", &p.required_slots.to_string()))
            @if let Some(main) = &p.main_site { (row("Main site", main)) }
            @if !p.branch_sites.is_empty() { (row("Branch sites", &p.branch_sites.join(", "))) }
            (row("In the practice register", if p.registered { "Yes" } else { "No" }))
            @if let Some(ods) = &p.ods {
                @let address: Vec<&str> = ods.address.iter().map(String::as_str).chain(ods.postcode.as_deref()).collect();
                @if !address.is_empty() { (row("Address", &address.join(", "))) }
                @if let Some(telephone) = &ods.telephone { (row("Telephone", telephone)) }
                @if let Some(opened) = &ods.opened { (row("Opened", &crate::lists::on(Some(opened.0)))) }
                @match (caseledger_cases::practice::OdsStatus::from(ods.status), &ods.closed_on) {
                    (_, Some(day)) => (row("Closed", &crate::lists::on(Some(day.0)))),
                    (caseledger_cases::practice::OdsStatus::Active, None) => {},
                    (caseledger_cases::practice::OdsStatus::Closed, None) => (row("Status in ODS", "Closed")),
                    (caseledger_cases::practice::OdsStatus::Dormant, None) => (row("Status in ODS", "Dormant")),
                    (caseledger_cases::practice::OdsStatus::Proposed, None) => (row("Status in ODS", "Proposed")),
                }
            }
            @if let Some(found) = &p.latest_verification {
                (row("GP Connect check", &crate::gpconnect::line(&found.summary)))
            }
        }
        @if missing > 0 {
            (inset(html! {
                strong id="missing-data" {
                    @if missing == 1 { "No data this week: " } @else { "No data for " (missing) " weeks in a row: " }
                }
                "the practice is in the register but not in the latest dashboard extract"
                @if missing == 1 { "." } @else { "s." }
            }))
        }
        h2 class="nhsuk-heading-m" { "111 slots a day, three ways" }
        @if p.counts.disagreement {
            div class="nhsuk-warning-callout" id="disagreement" {
                h3 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "The counts disagree" } }
                p { "One count is below the requirement of " (p.counts.required_slots) " a day while another meets it: what the practice configured, what DHU sees and the dashboard do not match." }
            }
        }
        div class="cl-table-scroll" role="region" aria-label="Counts" tabindex="0" {
            table class="nhsuk-table" id="counts" {
                thead class="nhsuk-table__head" { tr { th scope="col" { "Count" } th scope="col" class="nhsuk-table__header--numeric" { "Slots a day" } th scope="col" { "As of" } } }
                tbody class="nhsuk-table__body" {
                    @for (label, count) in counts {
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { (label) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count.map_or_else(|| "–".into(), |c: &Count| c.slots.to_string())) }
                            td class="nhsuk-table__cell" { (count.map_or_else(|| "never".into(), |c: &Count| day(Some(c.at)))) }
                        }
                    }
                }
            }
        }
        @if let Some(found) = &p.latest_verification {
            (crate::gpconnect::result("Latest GP Connect search", found))
        }
        (searches(&p.verifications))
        h2 class="nhsuk-heading-m" { "Week by week" }
        @if weeks.is_empty() { p { "No dashboard extract has a row for this practice in the last year." } }
        @else { (charts::practice_weeks(&weeks)) }
        h2 class="nhsuk-heading-m" { "Cases" }
        (cases(&p))
        @if p.open_case.is_none() && matches!(session.actor.role, caseledger_cases::Role::Icb | caseledger_cases::Role::Admin) {
            (flag_form(&session, &p, None))
        }
        h2 class="nhsuk-heading-m" { "The DHU's confirmations" }
        (confirmations(&p))
        h2 class="nhsuk-heading-m" { "DHU reports" }
        (reports(&p))
    };
    page(&p.name, Some(&session), body).into_response()
}

fn row(key: &str, value: &str) -> Markup {
    html! {
        div class="nhsuk-summary-list__row" {
            dt class="nhsuk-summary-list__key" { (key) }
            dd class="nhsuk-summary-list__value" { (value) }
        }
    }
}

fn cases(practice: &PracticePage) -> Markup {
    if practice.cases.is_empty() {
        return html! { p { "No case has been opened for this practice." } };
    }
    html! {
        table class="nhsuk-table-responsive" id="practice-cases" role="table" {
            (header_row(&["Episode opened", "Status", "Compliant", "Case"]))
            tbody class="nhsuk-table__body" {
                @for episode in &practice.episodes {
                    tr class="nhsuk-table__row" role="row" {
                        (cell("Episode opened", html! { (day(Some(episode.opened_at))) }))
                        (cell("Status", status_tag(episode.status.into())))
                        (cell("Compliant", html! { (day(episode.compliant_at)) }))
                        (cell("Case", html! { a href={"/cases/" (episode.case_id.inner())} { "Open the case" } }))
                    }
                }
            }
        }
    }
}

fn reports(practice: &PracticePage) -> Markup {
    if practice.dhu_reports.is_empty() {
        return html! { p { "The DHU has not reported on this practice outside a case." } };
    }
    html! {
        ul class="nhsuk-list nhsuk-list--bullet" id="practice-reports" {
            @for report in &practice.dhu_reports {
                li {
                    (day(Some(report.reported_at))) ": " (root_cause_label(report.category.into()))
                    @if let Some(detail) = &report.detail { " — " (detail) }
                }
            }
        }
    }
}

/// What changed from one GP Connect search to the next (`before` is the earlier): the verdict,
/// the fewest slots a day, the days short, slot types and delivery channels that came or went,
/// the system that answered.
pub fn changes(now: &PastSearch, before: &PastSearch) -> Vec<String> {
    use crate::contract::enums::VerificationVerdict;
    let verdict = |v: VerificationVerdict| match v {
        VerificationVerdict::Enough => "enough",
        VerificationVerdict::TooFew => "too few",
        VerificationVerdict::Failed => "failed",
    };
    let (a, b) = (&now.summary, &before.summary);
    let mut said = Vec::new();
    if a.verdict != b.verdict {
        said.push(format!("{} (was {})", verdict(a.verdict), verdict(b.verdict)));
    }
    if let (Some(now_min), Some(before_min)) = (a.min_per_core_day, b.min_per_core_day)
        && now_min != before_min
    {
        said.push(format!("fewest a day {now_min} (was {before_min})"));
    }
    if a.short_days.len() != b.short_days.len() {
        said.push(format!(
            "{} days short (was {})",
            a.short_days.len(),
            b.short_days.len()
        ));
    }
    let values = |tallies: &[crate::model::SlotTally]| -> std::collections::BTreeSet<String> {
        tallies.iter().filter_map(|t| t.value.clone()).collect()
    };
    for (what, now_values, before_values) in [
        ("slot type", values(&now.by_slot_type), values(&before.by_slot_type)),
        (
            "channel",
            values(&now.by_delivery_channel),
            values(&before.by_delivery_channel),
        ),
    ] {
        for came in now_values.difference(&before_values) {
            said.push(format!("new {what} {came}"));
        }
        for went in before_values.difference(&now_values) {
            said.push(format!("no {what} {went} now"));
        }
    }
    if a.provider_system != b.provider_system
        && let Some(system) = &a.provider_system
    {
        said.push(format!("answered by {system}"));
    }
    said
}

/// The practice's last GP Connect searches, each with what changed since the one before.
fn searches(found: &[PastSearch]) -> Markup {
    if found.is_empty() {
        return html! {};
    }
    html! {
        h2 class="nhsuk-heading-m" { "GP Connect searches" }
        table class="nhsuk-table-responsive" id="gp-connect-searches" role="table" {
            (header_row(&["When", "What it found", "What changed since the one before"]))
            tbody class="nhsuk-table__body" {
                @for (i, search) in found.iter().enumerate() {
                    tr class="nhsuk-table__row" role="row" {
                        (cell("When", html! { (day_time(search.summary.verified_at)) }))
                        (cell("What it found", html! { (crate::gpconnect::line(&search.summary)) }))
                        (cell("What changed since the one before", html! {
                            @match found.get(i + 1) {
                                None => { "The first search here" }
                                Some(before) => {
                                    @let said = changes(search, before);
                                    @if said.is_empty() { "Nothing" } @else { (said.join("; ")) }
                                }
                            }
                        }))
                    }
                }
            }
        }
    }
}

/// Every time the DHU confirmed what it could see, newest first, against what was required.
fn confirmations(practice: &PracticePage) -> Markup {
    /// What a confirmation's data says, as far as this page reads it.
    #[derive(Deserialize)]
    struct Seen {
        visible_slots_per_day: Option<i64>,
        required_slots: Option<i64>,
    }
    let mut seen: Vec<(crate::model::Instant, Seen)> = practice
        .cases
        .iter()
        .flat_map(|case| &case.history)
        .filter(|event| event.event_type == "DhuVisibilityConfirmed")
        .filter_map(|event| Some((event.occurred_at, Seen::deserialize(&event.data).ok()?)))
        .collect();
    seen.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let number = |n: Option<i64>| n.map_or_else(|| "–".to_string(), |n| n.to_string());
    html! {
        @if seen.is_empty() { p id="dhu-confirmations" { "The DHU has not confirmed what it sees for this practice." } }
        @else {
            table class="nhsuk-table-responsive" id="dhu-confirmations" role="table" {
                (header_row(&["When", "Slots a day the DHU saw", "Required"]))
                tbody class="nhsuk-table__body" {
                    @for (at, confirmed) in &seen {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("When", html! { (day_time(*at)) }))
                            (cell("Slots a day the DHU saw", html! { (number(confirmed.visible_slots_per_day)) }))
                            (cell("Required", html! { (number(confirmed.required_slots)) }))
                        }
                    }
                }
            }
        }
    }
}

/// The ICB's flag of a practice without an open case: what it sees, and why (optional).
fn flag_form(session: &crate::session::Session, p: &PracticePage, error: Option<(&str, &str)>) -> Markup {
    let visible = p
        .counts
        .dashboard
        .as_ref()
        .map_or_else(String::new, |count| count.slots.to_string());
    let error_of = |field: &str| error.filter(|(f, _)| *f == field).map(|(_, message)| message);
    html! {
        h2 class="nhsuk-heading-m" id="flag" { "Flag this practice" }
        p { "Open a case for this practice by hand (say, on word from its PCN): the same checks as a dashboard's flag. It needs " (p.required_slots) " slots a day (" (p.list_size) " patients)." }
        form method="post" action={"/practices/" (p.ods_code) "/flag"} id="flag-practice" novalidate {
            (crate::layout::csrf_field(session))
            div class={"nhsuk-form-group" @if error_of("visibleSlots").is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="flag-visible" { "111 slots a day the practice shows now" }
                @if let Some(message) = error_of("visibleSlots") {
                    span class="nhsuk-error-message" id="flag-visible-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                input class="nhsuk-input nhsuk-input--width-3" id="flag-visible" name="visibleSlots" type="text" inputmode="numeric" value=(visible);
            }
            div class={"nhsuk-form-group" @if error_of("reason").is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="flag-reason" { "Why (optional)" }
                @if let Some(message) = error_of("reason") {
                    span class="nhsuk-error-message" id="flag-reason-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                textarea class="nhsuk-textarea" id="flag-reason" name="reason" rows="3" {}
            }
            button class="nhsuk-button" type="submit" { "Flag practice" }
        }
    }
}

/// `POST /practices/{ods}/flag`: a case for the practice, then its page; a bad value on this page,
/// said the NHS way.
pub async fn flag(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path(ods): Path<String>,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let session = match crate::signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let operation = PracticeQuery::build(PracticeVariables { ods, from: None });
    let p = match crate::contract::run(&state.0.schema, &session.actor, ids_, operation).await {
        Ok(found) => match found.practice {
            Some(p) => p,
            None => {
                return problem(
                    StatusCode::NOT_FOUND,
                    Some(&session),
                    "Practice not found",
                    "There is no such practice.",
                );
            }
        },
        Err(errors) => return gql_problem(&session, &errors),
    };
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_string())
            .unwrap_or_default()
    };
    let again = |field: &str, message: &str| {
        let body = html! {
            (crate::layout::error_summary("There is a problem", &[(Some(format!("flag-{}", if field == "reason" { "reason" } else { "visible" })), message.to_string())]))
            span class="nhsuk-caption-l" { (p.ods_code) }
            h1 { (p.name) }
            (flag_form(&session, &p, Some((field, message))))
            p { a href={"/practices/" (p.ods_code)} { "Back to the practice" } }
        };
        (StatusCode::UNPROCESSABLE_ENTITY, page(&p.name, Some(&session), body)).into_response()
    };
    let Ok(visible) = field("visibleSlots").parse::<i32>() else {
        return again(
            "visibleSlots",
            "Enter the slots a day the practice shows now, as a whole number, like 0 or 2",
        );
    };
    let reason = Some(field("reason")).filter(|r| !r.is_empty());
    let input = FlagPracticeInput {
        ods_code: p.ods_code.clone(),
        practice_name: p.name.clone(),
        pcn_code: p.pcn_code.clone(),
        pcn_name: p.pcn_name.clone(),
        place: p.place.clone(),
        list_size: p.list_size,
        visible_slots: visible,
        reason,
        command_id: None,
    };
    match crate::contract::run(
        &state.0.schema,
        &session.actor,
        ids_,
        FlagPractice::build(FlagVariables { input }),
    )
    .await
    {
        Ok(flagged) => crate::redirect(&format!("/cases/{}", flagged.flag_practice.case.id.inner())),
        Err(errors) => match errors.iter().find(|e| e.is(&crate::gql::ErrorCode::BadUserInput)) {
            Some(error) => {
                let on = if error.field.as_deref() == Some("reason") {
                    "reason"
                } else {
                    "visibleSlots"
                };
                again(on, &error.message)
            }
            None => gql_problem(&session, &errors),
        },
    }
}
