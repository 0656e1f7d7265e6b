//! GP Connect on the pages: a search's result drawn once for the case and practice pages, and
//! the search of many practices at once (`/gp-connect`) as NHS England's appointment checker
//! offers it: a PCN, a place or a list of ODS codes; the results as each search ends; every slot
//! as a spreadsheet (`/gp-connect/slots.xlsx`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};
use rust_xlsxwriter::{Workbook, XlsxError};
use serde::Deserialize;

use super::layout::{csrf_field, error_summary, page};
use super::session::Session;
use super::{Ids, WebState, gql_problem, ids, internal, person, problem, redirect, signed_in, throttled};
use crate::contract::enums::VerificationVerdict;
use crate::gql::{ErrorCode, GqlError};
use crate::lists::{cell, day, day_time, header_row, urlencode};
use crate::model::{Instant, SlotTally};
use crate::operations::gpconnect::{
    BatchVariables, GroupsQuery, GroupsVariables, ResultPractice, ResultsQuery, ResultsVariables, SlotsQuery,
    SlotsVariables, Verification, VerificationDetail, VerifyPractices,
};
use crate::sheet::{Cell, Formats, Table, XLSX, download, file_name, print_setup, write_table};

/// What a search found, in a line: "Enough: at least 3 free slots every core-hours day (2
/// required), 4 Jun 2026".
pub(crate) fn line(found: &Verification) -> String {
    let when = day(Some(found.verified_at));
    let required = found.required_per_day;
    let least = found.min_per_core_day.unwrap_or(0);
    match found.verdict {
        VerificationVerdict::Enough => {
            format!("Enough: at least {least} free slots every core-hours day ({required} required), {when}")
        }
        VerificationVerdict::TooFew => format!(
            "Too few: {} core-hours days below {required}, as few as {least}, {when}",
            found.short_days.len()
        ),
        VerificationVerdict::Failed => format!(
            "Failed{}: {}, {when}",
            found.error_code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(),
            found.error.as_deref().unwrap_or("the practice's system did not answer")
        ),
    }
}

/// Counted slots by a value (a channel, a slot type): "12 In-person, 3 Telephone".
fn tally(tallies: &[SlotTally]) -> String {
    tallies
        .iter()
        .map(|t| format!("{} {}", t.count, t.value.as_deref().unwrap_or("not given")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a GP Connect search found: when, the verdict, the days short, each location's free slots
/// over the window (the main site and branches apart), the counts by channel and slot type, and
/// every slot folded below. `heading` names it on its page.
pub(crate) fn result(heading: &str, found: &VerificationDetail) -> Markup {
    let summary = &found.summary;
    // (name, site, free slots over the window): the main site first, then branches, then any
    // location the answer named without describing it.
    let mut locations: Vec<(String, &str, i64)> = Vec::new();
    for location in found.days.iter().flat_map(|day| &day.locations) {
        let name = location.name.clone().unwrap_or_else(|| location.location_id.clone());
        let site = if location.main_site {
            "Main site"
        } else if location.unresolved {
            "Not described in the answer"
        } else {
            "Branch"
        };
        match locations.iter_mut().find(|(n, s, _)| *n == name && *s == site) {
            Some((_, _, total)) => *total += i64::from(location.free_slots),
            None => locations.push((name, site, i64::from(location.free_slots))),
        }
    }
    let rank = |site: &str| match site {
        "Main site" => 0,
        "Branch" => 1,
        _ => 2,
    };
    locations.sort_by(|a, b| rank(a.1).cmp(&rank(b.1)).then(a.0.cmp(&b.0)));
    let card = match summary.verdict {
        VerificationVerdict::Enough => "nhsuk-card--confirmation",
        VerificationVerdict::TooFew | VerificationVerdict::Failed => "nhsuk-card--warning",
    };
    html! {
        div class={"nhsuk-card " (card)} id="gp-connect-result" role="status" {
            div class="nhsuk-card__content" {
                h2 class="nhsuk-card__heading nhsuk-heading-m" { (heading) ", " (day_time(summary.verified_at)) }
                p { (line(summary)) }
                @if let Some(system) = &summary.provider_system {
                    p id="gp-connect-system" { "Answered by the practice's system: " strong { (system) } }
                }
                p class="nhsuk-body-s" { "Searched " (crate::lists::on(Some(found.window_start.0))) " to " (crate::lists::on(Some(found.window_end.0))) ", core hours on working days." }
                @if !summary.short_days.is_empty() {
                    h3 class="nhsuk-heading-s" { "Days short of " (summary.required_per_day) }
                    ul class="nhsuk-list nhsuk-list--bullet" id="gp-connect-short-days" {
                        @for date in &summary.short_days {
                            @let free = found.days.iter().find(|d| d.date == *date).map_or(0, |d| d.free_slots);
                            li { (date.0.format("%a %-d %b %Y")) ": " (free) " free" }
                        }
                    }
                }
                @if !locations.is_empty() {
                    h3 class="nhsuk-heading-s" { "Free slots by location over the window" }
                    table class="nhsuk-table-responsive" id="gp-connect-locations" role="table" {
                        (header_row(&["Location", "Site", "Free slots"]))
                        tbody class="nhsuk-table__body" {
                            @for (name, site, total) in &locations {
                                tr class="nhsuk-table__row" role="row" {
                                    (cell("Location", html! { (name) }))
                                    (cell("Site", html! { (site) }))
                                    (cell("Free slots", html! { (total) }))
                                }
                            }
                        }
                    }
                }
                @if !found.by_delivery_channel.is_empty() {
                    p id="gp-connect-channels" { "Counted slots by delivery channel: " (tally(&found.by_delivery_channel)) "." }
                }
                @if !found.by_slot_type.is_empty() {
                    p id="gp-connect-types" { "By slot type: " (tally(&found.by_slot_type)) "." }
                }
                @if found.past_slots > 0 {
                    p { (found.past_slots) " free slots in the window had already passed when searched: listed, not counted." }
                }
                @if !found.notices.is_empty() {
                    p { "The practice's system also said: " (found.notices.join("; ")) }
                }
                @if !found.slots.is_empty() {
                    details class="nhsuk-details" id="gp-connect-slots" {
                        summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { "Every free slot returned (" (found.slots.len()) ")" } }
                        div class="nhsuk-details__text" {
                            div class="cl-table-scroll" role="region" aria-label="Every free slot returned" tabindex="0" {
                                table class="nhsuk-table" {
                                    thead class="nhsuk-table__head" { tr {
                                        @for heading in ["Date", "Start", "Minutes", "Session", "Slot type", "Channel", "Role", "Counted"] { th scope="col" { (heading) } }
                                    } }
                                    tbody class="nhsuk-table__body" {
                                        @for slot in found.slots.iter().take(500) {
                                            tr class="nhsuk-table__row" {
                                                td class="nhsuk-table__cell" { (slot.date.0.format("%a %-d %b")) }
                                                td class="nhsuk-table__cell" { (slot.start) }
                                                td class="nhsuk-table__cell" { (slot.duration_minutes) }
                                                td class="nhsuk-table__cell" { (slot.session.as_deref().unwrap_or("–")) }
                                                td class="nhsuk-table__cell" { (slot.slot_type.as_deref().unwrap_or("–")) }
                                                td class="nhsuk-table__cell" { (slot.delivery_channel.as_deref().unwrap_or("–")) }
                                                td class="nhsuk-table__cell" { (slot.practitioner_role.as_deref().unwrap_or("–")) }
                                                td class="nhsuk-table__cell" {
                                                    @if slot.counted { "Yes" } @else if slot.past { "Past" } @else { "Outside core hours" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            @if found.slots.len() > 500 {
                                p { "The first 500 are listed here." }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Which practices the page searches or shows: one PCN, one place or a list of ODS codes, and
/// when the batch began (its results are the searches from then).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Selection {
    #[serde(default)]
    pcn: String,
    #[serde(default)]
    place: String,
    /// ODS codes separated by commas, spaces or new lines.
    #[serde(default)]
    ods: String,
    #[serde(default)]
    since: String,
    /// `results`: only the results region (what the page's script fetches while it waits).
    #[serde(default)]
    part: String,
    /// The form it came from (the field it sent), for an error beside it.
    #[serde(skip)]
    from: Option<&'static str>,
}

/// How long the page keeps looking for the answers of a batch of `practices`: each waits its
/// turn and may take its whole 25 s deadline with retries (a minute at worst), a few at a time.
fn watch_for(practices: usize) -> chrono::Duration {
    let practices = i64::try_from(practices.min(10_000)).unwrap_or(10_000);
    chrono::Duration::minutes(2) + chrono::Duration::seconds(30 * (practices + 1))
}

impl Selection {
    fn of_form(form: &[(String, String)]) -> Self {
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            pcn: field("pcn"),
            place: field("place"),
            ods: field("ods"),
            since: String::new(),
            part: String::new(),
            from: ["ods", "place", "pcn"]
                .into_iter()
                .find(|name| form.iter().any(|(key, _)| key == name)),
        }
    }

    fn codes(&self) -> Vec<String> {
        self.ods
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|code| !code.is_empty())
            .map(str::to_ascii_uppercase)
            .collect()
    }

    /// The one group asked for, as the API's arguments; none when there is not exactly one.
    fn variables(&self) -> Option<BatchVariables> {
        let text = |value: &str| Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match (
            text(&self.pcn),
            text(&self.place),
            Some(self.codes()).filter(|c| !c.is_empty()),
        ) {
            (Some(pcn), None, None) => Some(BatchVariables {
                pcn: Some(pcn),
                ..BatchVariables::default()
            }),
            (None, Some(place), None) => Some(BatchVariables {
                place: Some(place),
                ..BatchVariables::default()
            }),
            (None, None, Some(codes)) => Some(BatchVariables {
                ods_codes: Some(codes),
                ..BatchVariables::default()
            }),
            _ => None,
        }
    }

    /// When the batch began, in business time (never later than now: a link from the future
    /// would keep a page polling).
    fn since(&self) -> Option<Instant> {
        let now = caseledger_clock::now().fixed_offset();
        chrono::DateTime::parse_from_rfc3339(self.since.trim())
            .ok()
            .map(|since| since.min(now))
    }

    /// This selection as a query string (`since` as given).
    fn query(&self, since: Option<Instant>) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("pcn", &self.pcn),
            ("place", &self.place),
            ("ods", &self.codes().join(",")),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{key}={}", urlencode(value.trim())));
            }
        }
        if let Some(since) = since {
            parts.push(format!("since={}", urlencode(&since.to_rfc3339())));
        }
        parts.join("&")
    }

    /// Which form on the page this selection came from (for an error beside it).
    fn field(&self) -> &'static str {
        if let Some(from) = self.from {
            from
        } else if !self.ods.trim().is_empty() {
            "ods"
        } else if !self.place.trim().is_empty() {
            "place"
        } else {
            "pcn"
        }
    }
}

/// The PCNs (code → name) and places of the practices the person can see.
#[derive(Debug, Default)]
struct Groups {
    pcns: BTreeMap<String, Option<String>>,
    places: BTreeSet<String>,
}

async fn groups(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
) -> Result<Groups, Vec<GqlError>> {
    let mut groups = Groups::default();
    let mut after = None;
    // An ICB's practices are a few hundred; 20 pages of 500 covers a region.
    for _ in 0..20 {
        let page = crate::contract::run(
            &state.0.schema,
            &session.actor,
            ids_,
            GroupsQuery::build(GroupsVariables { after: after.take() }),
        )
        .await?
        .practices;
        for edge in page.edges {
            groups.pcns.entry(edge.node.pcn_code).or_insert(edge.node.pcn_name);
            groups.places.insert(edge.node.place);
        }
        match page.page_info.next() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    Ok(groups)
}

/// The practices of `selection` with their latest searches (at most 1,000).
async fn results(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    selection: &BatchVariables,
) -> Result<Vec<ResultPractice>, Vec<GqlError>> {
    let mut practices = Vec::new();
    let mut after = None;
    for _ in 0..5 {
        let page = crate::contract::run(
            &state.0.schema,
            &session.actor,
            ids_,
            ResultsQuery::build(ResultsVariables {
                pcn: selection.pcn.clone(),
                place: selection.place.clone(),
                ods_codes: selection.ods_codes.clone(),
                after: after.take(),
            }),
        )
        .await?
        .practices;
        practices.extend(page.edges.into_iter().map(|edge| edge.node));
        match page.page_info.next() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    Ok(practices)
}

/// Whether the person's role may make practices' systems answer (the command catalogue's rule).
fn may_search(session: &Session) -> bool {
    caseledger_cases::case::CommandName::VerifySlotVisibility.permits(session.actor.role)
}

fn refused(session: &Session) -> Response {
    problem(
        StatusCode::FORBIDDEN,
        Some(session),
        "You cannot see this page",
        "Your role does not search practices' systems through GP Connect.",
    )
}

/// `GET /gp-connect`: the three ways to choose practices, and a batch's results as they come.
pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(selection): Query<Selection>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !may_search(&session) {
        return refused(&session);
    }
    // While it waits, the page's script asks for its results alone.
    if selection.part == "results"
        && let Some(variables) = selection.variables()
    {
        return match results(&state, &session, ids(ids_), &variables).await {
            Ok(found) => results_table(&selection, &found).into_response(),
            Err(errors) => gql_problem(&session, &errors),
        };
    }
    draw(&state, &session, ids(ids_), &selection, None).await
}

/// The page: the forms (with `error` beside the one it is about), and the results of
/// `selection` when it names a group.
async fn draw(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    selection: &Selection,
    error: Option<&GqlError>,
) -> Response {
    let groups = match groups(state, session, ids_).await {
        Ok(groups) => groups,
        Err(errors) => return gql_problem(session, &errors),
    };
    let found = match (error, selection.variables()) {
        (None, Some(variables)) => match results(state, session, ids_, &variables).await {
            Ok(found) => Some(found),
            Err(errors) if errors.iter().any(|e| e.is(&ErrorCode::BadUserInput)) => Some(Vec::new()),
            Err(errors) => return gql_problem(session, &errors),
        },
        _ => None,
    };
    let failed = error.map(|e| (selection.field(), e.message.clone()));
    let message_for = |field: &str| failed.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str());
    let body = html! {
        @if let Some((field, message)) = &failed {
            (error_summary("There is a problem", &[(Some(format!("gp-{field}")), message.clone())]))
        }
        h1 { "Search practices' systems through GP Connect" }
        @if !state.gp_connect() {
            (crate::layout::inset(html! {
                strong id="gp-connect-off" { "GP Connect is not set up on this service." }
                " Searches cannot be made from here; the practices' earlier searches still show on their pages."
            }))
        }
        p { "Ask each practice's system for its free slots over the next 14 days, as the 111 provider does, for a whole PCN, a place or a list of practices. Each search is kept on its practice's page; a practice with an open case is judged against its case's requirement." }
        div class="nhsuk-grid-row" {
            div class="nhsuk-grid-column-one-third" {
                (group_form(session, "pcn", "A PCN", message_for("pcn"), html! {
                    select class="nhsuk-select" id="gp-pcn" name="pcn" {
                        @for (code, name) in &groups.pcns {
                            option value=(code) selected[selection.pcn == *code] { (name.as_deref().unwrap_or(code)) " (" (code) ")" }
                        }
                    }
                }, "Search this PCN"))
            }
            div class="nhsuk-grid-column-one-third" {
                (group_form(session, "place", "A place", message_for("place"), html! {
                    select class="nhsuk-select" id="gp-place" name="place" {
                        @for place in &groups.places {
                            option value=(place) selected[selection.place == *place] { (place) }
                        }
                    }
                }, "Search this place"))
            }
            div class="nhsuk-grid-column-one-third" {
                (group_form(session, "ods", "Practices by ODS code", message_for("ods"), html! {
                    div class="nhsuk-hint" id="gp-ods-hint" { "Separated by commas or on separate lines, up to 200" }
                    textarea class="nhsuk-textarea" id="gp-ods" name="ods" rows="3" aria-describedby="gp-ods-hint" { (selection.ods) }
                }, "Search these practices"))
            }
        }
        @if let Some(found) = &found {
            (results_table(selection, found))
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, page("GP Connect searches", Some(session), body)).into_response()
}

fn group_form(session: &Session, field: &str, label: &str, error: Option<&str>, input: Markup, button: &str) -> Markup {
    html! {
        form method="post" action="/gp-connect" novalidate {
            (csrf_field(session))
            div class={"nhsuk-form-group" @if error.is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label nhsuk-label--s" for={"gp-" (field)} { (label) }
                @if let Some(message) = error {
                    span class="nhsuk-error-message" id={"gp-" (field) "-error"} { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                (input)
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { (button) }
        }
    }
}

/// The practice's latest search, if it is from `since` on (any, without `since`).
fn searched_since(p: &ResultPractice, since: Option<Instant>) -> Option<&crate::operations::gpconnect::SearchFound> {
    p.latest_verification
        .as_ref()
        .filter(|v| since.is_none_or(|since| v.summary.verified_at >= since))
}

/// Each practice of the selection with what its latest search found; one still waiting for its
/// turn says so, and the region refreshes itself until none waits (or the batch is old).
fn results_table(selection: &Selection, found: &[ResultPractice]) -> Markup {
    let since = selection.since();
    let searched = |p| searched_since(p, since);
    let done = found.iter().filter(|p| searched(p).is_some()).count();
    let count = |verdict: VerificationVerdict| {
        found
            .iter()
            .filter_map(&searched)
            .filter(|v| v.summary.verdict == verdict)
            .count()
    };
    let watching =
        since.is_some_and(|since| caseledger_clock::now().signed_duration_since(since) < watch_for(found.len()));
    let waiting = done < found.len() && watching;
    html! {
        div id="gp-connect-batch" data-poll=[waiting.then_some("5")]
            data-poll-src=[waiting.then(|| format!("/gp-connect?{}&part=results", selection.query(since)))] aria-live="polite" {
            h2 class="nhsuk-heading-m" id="results" {
                @if since.is_some() { "This search" } @else { "Their latest searches" }
            }
            @if found.is_empty() {
                p { "No open practice you can see is in that group." }
            } @else {
                p id="gp-connect-progress" {
                    (done) " of " (found.len()) " practices searched"
                    @if let Some(since) = since { " since " (day_time(since)) }
                    ": " (count(VerificationVerdict::Enough)) " enough, " (count(VerificationVerdict::TooFew)) " too few, "
                    (count(VerificationVerdict::Failed)) " failed."
                    @if waiting { " The rest are waiting their turn: this list fills in as they answer." }
                    @else if done < found.len() && since.is_some() { " The rest did not answer in time: search them again." }
                }
                @if waiting {
                    p class="nhsuk-body-s" { a href={"/gp-connect?" (selection.query(since)) "#results"} { "Refresh" } }
                }
                p { a href={"/gp-connect/slots.xlsx?" (selection.query(since))} download="" { "Download every slot (XLSX)" } }
                table class="nhsuk-table-responsive" id="gp-connect-batch-results" role="table" {
                    (header_row(&["Practice", "Required a day", "What it found", "By channel", "By slot type", "System"]))
                    tbody class="nhsuk-table__body" {
                        @for p in found {
                            tr class="nhsuk-table__row" role="row" {
                                (cell("Practice", html! { a href={"/practices/" (p.ods_code)} { (p.name) } " (" (p.ods_code) ")" }))
                                (cell("Required a day", html! { (p.required_slots) }))
                                @match searched(p) {
                                    Some(v) => {
                                        (cell("What it found", html! { (line(&v.summary)) }))
                                        (cell("By channel", html! { (tally(&v.by_delivery_channel)) }))
                                        (cell("By slot type", html! { (tally(&v.by_slot_type)) }))
                                        (cell("System", html! { (v.summary.provider_system.as_deref().unwrap_or("–")) }))
                                    }
                                    None => {
                                        (cell("What it found", html! {
                                            @if waiting { "Waiting for its turn" } @else if since.is_some() { "No answer recorded" } @else { "Never searched" }
                                        }))
                                        (cell("By channel", html! { "–" }))
                                        (cell("By slot type", html! { "–" }))
                                        (cell("System", html! { "–" }))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /gp-connect`: the batch begins, then its results as they come; a group that cannot be
/// searched comes back on the page beside its form, with what was chosen kept.
pub async fn start(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let session = match crate::signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !may_search(&session) {
        return refused(&session);
    }
    let ids_ = ids(ids_);
    let selection = Selection::of_form(&form);
    let Some(variables) = selection.variables() else {
        let error = GqlError {
            message: match selection.field() {
                "ods" => "Enter the ODS codes of the practices to search, like A81001, A81002".to_string(),
                "place" => "Choose a place".to_string(),
                _ => "Choose a PCN".to_string(),
            },
            code: ErrorCode::BadUserInput,
            field: None,
            actual_revision: None,
            reason: None,
        };
        return draw(&state, &session, ids_, &selection, Some(&error)).await;
    };
    match crate::contract::run(&state.0.schema, &session.actor, ids_, VerifyPractices::build(variables)).await {
        Ok(begun) => redirect(&format!(
            "/gp-connect?{}#results",
            selection.query(Some(begun.verify_practices.started_at))
        )),
        Err(errors) => match errors
            .iter()
            .find(|e| e.is(&ErrorCode::BadUserInput) || e.is(&ErrorCode::RateLimited))
        {
            Some(error) => {
                let error = if error.is(&ErrorCode::RateLimited) {
                    GqlError {
                        message: "A search of many practices is already running (yours, or others' on this service): \
                                  wait for it to finish, then try again"
                            .to_string(),
                        ..error.clone()
                    }
                } else {
                    // "odsCodes: no practice …": the page says it beside the field instead.
                    GqlError {
                        message: error.said().to_string(),
                        ..error.clone()
                    }
                };
                draw(&state, &session, ids_, &selection, Some(&error)).await
            }
            None => gql_problem(&session, &errors),
        },
    }
}

/// `GET /gp-connect/slots.xlsx`: the selection's practices with their latest searches, and every
/// slot of each, as a spreadsheet.
pub async fn slots(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(selection): Query<Selection>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !may_search(&session) {
        return refused(&session);
    }
    let Some(variables) = selection.variables() else {
        return problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Choose the practices first",
            "Search a PCN, a place or a list of practices, then download their slots from the results.",
        );
    };
    let _exporting = match throttled(
        &state,
        &session,
        &person(&session),
        caseledger_commands::throttle::Work::Export,
    ) {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let practices = match results(&state, &session, ids_, &variables).await {
        Ok(found) => found,
        Err(errors) => return gql_problem(&session, &errors),
    };
    if practices.len() > MAX_PRACTICES {
        return problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Too many practices for one spreadsheet",
            &format!(
                "A spreadsheet holds the slots of at most {} practices: choose a PCN or a shorter list.",
                MAX_PRACTICES
            ),
        );
    }
    let mut slots = Vec::new();
    for chunk in practices.chunks(20) {
        let codes = chunk.iter().map(|p| p.ods_code.clone()).collect();
        match crate::contract::run(
            &state.0.schema,
            &session.actor,
            ids_,
            SlotsQuery::build(SlotsVariables { ods_codes: Some(codes) }),
        )
        .await
        {
            Ok(found) => slots.extend(found.practices.edges.into_iter().map(|edge| edge.node)),
            Err(errors) => return gql_problem(&session, &errors),
        }
    }
    // A sheet holds 1,048,576 rows: 200 practices' 14 days fit many times over, but say so
    // rather than fail if a system sent that many.
    let rows: usize = slots
        .iter()
        .filter_map(|p| p.latest_verification.as_ref())
        .map(|v| v.slots.len())
        .sum();
    if rows >= 1_000_000 {
        return problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Too many slots for one spreadsheet",
            "Choose fewer practices.",
        );
    }
    match workbook(&practices, &slots) {
        Ok(bytes) => download(XLSX, file_name("gp-connect-slots", "xlsx"), bytes),
        Err(error) => internal(Some(&session), error),
    }
}

/// The most practices one batch searches (the API's limit), and one spreadsheet holds.
const MAX_PRACTICES: usize = 200;

fn verdict_name(verdict: VerificationVerdict) -> &'static str {
    match verdict {
        VerificationVerdict::Enough => "Enough",
        VerificationVerdict::TooFew => "Too few",
        VerificationVerdict::Failed => "Failed",
    }
}

/// Two sheets: the practices with what their latest search found, and every slot of each.
fn workbook(
    practices: &[ResultPractice],
    slots: &[crate::operations::gpconnect::SlotsPractice],
) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut book = Workbook::new();
    let summary = Table {
        columns: vec![
            ("ODS code", 10.0),
            ("Practice", 30.0),
            ("PCN", 12.0),
            ("PCN name", 24.0),
            ("Place", 16.0),
            ("Required a day", 10.0),
            ("Searched", 18.0),
            ("Verdict", 10.0),
            ("Fewest a core-hours day", 12.0),
            ("Days short", 8.0),
            ("Past slots", 8.0),
            ("System", 20.0),
            ("Error code", 20.0),
        ],
        rows: practices
            .iter()
            .map(|p| {
                let v = p.latest_verification.as_ref();
                vec![
                    Cell::text(Some(&p.ods_code)),
                    Cell::text(Some(&p.name)),
                    Cell::text(Some(&p.pcn_code)),
                    Cell::text(p.pcn_name.as_deref()),
                    Cell::text(Some(&p.place)),
                    Cell::count(p.required_slots),
                    Cell::time(v.map(|v| v.summary.verified_at)),
                    Cell::text(v.map(|v| verdict_name(v.summary.verdict))),
                    v.and_then(|v| v.summary.min_per_core_day)
                        .map_or(Cell::Empty, Cell::count),
                    v.map_or(Cell::Empty, |v| {
                        Cell::count(i32::try_from(v.summary.short_days.len()).unwrap_or(i32::MAX))
                    }),
                    v.map_or(Cell::Empty, |v| Cell::count(v.past_slots)),
                    Cell::text(v.and_then(|v| v.summary.provider_system.as_deref())),
                    Cell::text(v.and_then(|v| v.summary.error_code.as_deref())),
                ]
            })
            .collect(),
    };
    let every = Table {
        columns: vec![
            ("ODS code", 10.0),
            ("Searched", 18.0),
            ("Date", 12.0),
            ("Start", 8.0),
            ("Minutes", 8.0),
            ("Session", 20.0),
            ("Slot type", 20.0),
            ("Delivery channel", 14.0),
            ("Practitioner role", 18.0),
            ("Location", 14.0),
            ("Counted", 14.0),
        ],
        rows: slots
            .iter()
            .filter_map(|p| Some((p, p.latest_verification.as_ref()?)))
            .flat_map(|(p, v)| {
                v.slots.iter().map(move |slot| {
                    vec![
                        Cell::text(Some(&p.ods_code)),
                        Cell::time(Some(v.verified_at)),
                        Cell::Date(slot.date.0),
                        Cell::text(Some(&slot.start)),
                        Cell::count(slot.duration_minutes),
                        Cell::text(slot.session.as_deref()),
                        Cell::text(slot.slot_type.as_deref()),
                        Cell::text(slot.delivery_channel.as_deref()),
                        Cell::text(slot.practitioner_role.as_deref()),
                        Cell::text(slot.location_id.as_deref()),
                        Cell::text(Some(if slot.counted {
                            "Yes"
                        } else if slot.past {
                            "Past"
                        } else {
                            "Outside core hours"
                        })),
                    ]
                })
            })
            .collect(),
    };
    for (name, table) in [("Practices", &summary), ("Slots", &every)] {
        let sheet = book.add_worksheet().set_name(name)?;
        write_table(sheet, 0, table, &formats)?;
        sheet.set_freeze_panes(1, 0)?;
        print_setup(sheet, &format!("GP Connect searches: {name}"), Some(0))?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_one_group_and_its_codes_are_read_as_people_type_them() {
        let typed = Selection {
            ods: " a81001, A81002;\nb82003  a81001 ".into(),
            ..Selection::default()
        };
        assert_eq!(typed.codes(), ["A81001", "A81002", "B82003", "A81001"]);
        let variables = typed.variables().unwrap_or_default();
        assert_eq!(variables.ods_codes.as_deref().map(<[String]>::len), Some(4));
        assert_eq!(variables.pcn, None);
        // Two groups at once, or none, is no selection.
        let both = Selection {
            pcn: "U1".into(),
            place: "Derby".into(),
            ..Selection::default()
        };
        assert!(both.variables().is_none());
        assert!(Selection::default().variables().is_none());
        let place = Selection {
            place: "Derby City".into(),
            ..Selection::default()
        };
        let since = chrono::DateTime::parse_from_rfc3339("2020-12-07T09:00:00Z").ok();
        assert_eq!(
            place.query(since),
            "place=Derby%20City&since=2020-12-07T09%3A00%3A00%2B00%3A00"
        );
        let back = Selection {
            place: "Derby City".into(),
            since: "2020-12-07T09:00:00+00:00".into(),
            ..Selection::default()
        };
        assert_eq!(back.since(), since);
        // A link from the future would keep a page polling: it is read as now.
        let future = Selection {
            since: "2999-01-01T00:00:00Z".into(),
            ..Selection::default()
        };
        assert!(
            future
                .since()
                .is_some_and(|at| at <= caseledger_clock::now().fixed_offset())
        );
        assert!(watch_for(200) > watch_for(1), "a bigger batch is watched for longer");
    }
}
