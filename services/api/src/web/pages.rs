//! Each party's start page, the ICB's case list, dashboard upload and assurance report.

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::layout::{date, error_summary, inset, page, status_label, status_tag};
use super::session::Session;
use super::{Ids, WebState, charts, csrf_refused, gql_problem, ids, query, signed_in};

pub(super) const CASE_FIELDS: &str = "id status revision openedAt compliantAt closedAt requiredSlots visibleSlots \
                           observedCompliant assignedTo rootCauses openDhuIssue lastActivityAt contractReviewOpen \
                           dhuShortfall { visibleSlots requiredSlots } \
                           deadline { awaiting startedOn dueOn overdue workingDaysLeft } \
                           practice { odsCode name pcnCode place listSize }";

/// When the case's stage is due: "Overdue" (with the date it was due) or the working days left.
pub fn due_cell(case: &Value) -> Markup {
    let deadline = &case["deadline"];
    if !deadline.is_object() {
        return html! { span class="cl-muted" { "–" } };
    }
    let left = deadline["workingDaysLeft"].as_i64().unwrap_or(0);
    html! {
        @if deadline["overdue"] == true {
            strong class="nhsuk-tag nhsuk-tag--red cl-overdue" { "Overdue" }
            br;
            span class="nhsuk-body-s" {
                (deadline["awaiting"].as_str().unwrap_or("")) " was due " (date(&deadline["dueOn"]))
                " (" (-left) " working " (if left == -1 { "day" } else { "days" }) " late)"
            }
        } @else {
            (deadline["awaiting"].as_str().unwrap_or("")) " by " (date(&deadline["dueOn"]))
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
pub fn case_status(case: &Value) -> Markup {
    html! {
        (status_tag(case["status"].as_str().unwrap_or("")))
        @if case["contractReviewOpen"] == true { " " strong class="nhsuk-tag nhsuk-tag--red" { "Contract review" } }
    }
}

/// Days since `value` (a date-time), to today in the UK.
fn days_since(value: &Value) -> Option<i64> {
    let at = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
    let then = caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc)).date_naive();
    Some((crate::graphql::deadline::today() - then).num_days())
}

/// How long ago, in days, in words.
fn ago(value: &Value) -> String {
    match days_since(value) {
        Some(0) => "today".into(),
        Some(1) => "yesterday".into(),
        Some(days) => format!("{days} days ago"),
        None => "–".into(),
    }
}

/// The caseload's order: open cases first, the most urgent (latest due) first; then finished.
fn by_urgency(cases: &mut [Value]) {
    let key = |case: &Value| {
        let finished = matches!(case["status"].as_str(), Some("COMPLIANT" | "CLOSED"));
        let due = case["deadline"]["dueOn"].as_str().unwrap_or("9999-12-31").to_string();
        (finished, due, case["openedAt"].as_str().unwrap_or("").to_string())
    };
    cases.sort_by_key(key);
}

/// What a champion should do next with a case in this state.
pub fn next_action(case: &Value) -> String {
    let no_causes = case["rootCauses"].as_array().is_none_or(Vec::is_empty);
    let shortfall = &case["dhuShortfall"];
    match case["status"].as_str().unwrap_or("") {
        "FLAGGED" => "Contact the practice".into(),
        "CONTACTED" if no_causes => "Find and record the root cause".into(),
        "CONTACTED" => "Fix the set-up and record the remap".into(),
        "REMAPPED" if shortfall.is_object() => format!(
            "DHU sees {} of {} required: find what is still hidden and remap",
            count(&shortfall["visibleSlots"]),
            count(&shortfall["requiredSlots"])
        ),
        "REMAPPED" if case["openDhuIssue"].as_bool() == Some(true) => "DHU reported an issue: check and remap".into(),
        "REMAPPED" => "Wait for DHU to confirm what it can see".into(),
        "DHU_CONFIRMED" => "Wait for the ICB to confirm compliance".into(),
        "COMPLIANT" => "None: compliant".into(),
        _ => "None: closed".into(),
    }
}

fn practice_cell(case: &Value) -> Markup {
    html! {
        a href={"/cases/" (case["id"].as_str().unwrap_or(""))} { (case["practice"]["name"].as_str().unwrap_or("")) }
        br;
        span class="nhsuk-body-s cl-muted" {
            a href={"/practices/" (case["practice"]["odsCode"].as_str().unwrap_or(""))} { (case["practice"]["odsCode"].as_str().unwrap_or("")) }
            " · " (case["practice"]["place"].as_str().unwrap_or(""))
        }
    }
}

fn count(value: &Value) -> String {
    value.as_i64().map_or_else(|| "–".into(), |n| n.to_string())
}

/// A command form's hidden fields in a list, with a `_return` so it comes back to the list.
fn list_command_fields(session: &Session, case: &Value, back_to: &str) -> Markup {
    html! {
        (super::actions::command_fields(session, case["revision"].as_i64().unwrap_or(0)))
        input type="hidden" name="_return" value=(back_to);
    }
}

fn cases_of(data: &Value) -> Vec<Value> {
    data.as_array().cloned().unwrap_or_default()
}

#[derive(Debug, Deserialize, Default)]
pub struct Caseload {
    /// The case just assigned to the caller, to say so.
    #[serde(default)]
    assigned: String,
}

pub async fn champion(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(caseload): Query<Caseload>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let text = format!("{{ champion {{ myCases {{ {CASE_FIELDS} }} unassigned {{ {CASE_FIELDS} }} }} }}");
    let data = match query(&state, &session, ids(ids_), &text, json!({})).await {
        Ok(data) => data,
        Err(errors) => return gql_problem(&session, &errors),
    };
    let mut mine = cases_of(&data["champion"]["myCases"]);
    by_urgency(&mut mine);
    let unassigned = cases_of(&data["champion"]["unassigned"]);
    let open: Vec<&Value> = mine
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("COMPLIANT" | "CLOSED")))
        .collect();
    let late = open.iter().filter(|c| c["deadline"]["overdue"] == true).count();
    let just_assigned = mine
        .iter()
        .find(|c| !caseload.assigned.is_empty() && c["id"].as_str() == Some(caseload.assigned.as_str()));
    let cell = |label: &str, content: Markup| {
        html! { td class="nhsuk-table__cell" role="cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { (label) " " } (content) } }
    };
    let body = html! {
        @if let Some(case) = just_assigned {
            div class="nhsuk-inset-text cl-success" id="assigned" role="status" {
                span class="nhsuk-u-visually-hidden" { "Success: " }
                p { strong { "Assigned to you: " } a href={"/cases/" (case["id"].as_str().unwrap_or(""))} { (case["practice"]["name"].as_str().unwrap_or("")) } ". It is in your caseload below." }
            }
        }
        h1 { "My caseload" }
        div id="live-region" data-live="" aria-live="polite" {
            p class="nhsuk-lede-text" {
                (open.len()) " open " (if open.len() == 1 { "case" } else { "cases" }) " assigned to you"
                @if late > 0 { ", " strong { (late) " overdue" } }
                "."
            }
            table class="nhsuk-table-responsive" id="my-cases" role="table" {
                caption class="nhsuk-table__caption" { "Your cases, what needs doing first at the top" }
                thead class="nhsuk-table__head" role="rowgroup" {
                    tr role="row" {
                        th scope="col" role="columnheader" { "Practice" } th scope="col" role="columnheader" { "Status" }
                        th scope="col" role="columnheader" { "Due" } th scope="col" role="columnheader" { "Open for" }
                        th scope="col" role="columnheader" { "Last activity" } th scope="col" role="columnheader" { "Next action" }
                    }
                }
                tbody class="nhsuk-table__body" {
                    @for case in &mine {
                        @let finished = matches!(case["status"].as_str(), Some("COMPLIANT" | "CLOSED"));
                        tr role="row" class={"nhsuk-table__row" @if case["deadline"]["overdue"] == true { " cl-row-overdue" }} {
                            (cell("Practice", practice_cell(case)))
                            (cell("Status", case_status(case)))
                            (cell("Due", due_cell(case)))
                            (cell("Open for", html! {
                                @if finished { span class="cl-muted" { "–" } }
                                @else { (days_since(&case["openedAt"]).map_or_else(|| "–".to_string(), |d| format!("{d} days"))) }
                            }))
                            (cell("Last activity", html! { (ago(&case["lastActivityAt"])) }))
                            (cell("Next action", html! { span class="cl-next-action" { (next_action(case)) } }))
                        }
                    }
                }
            }
            @if mine.is_empty() { (inset(html! { "No cases are assigned to you yet." })) }
            h2 class="nhsuk-heading-m" { "Unassigned cases" }
            @if unassigned.is_empty() {
                p { "Every open case has a champion." }
            } @else {
                table class="nhsuk-table-responsive" id="unassigned" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Practice" } th scope="col" { "Status" } th scope="col" { "Opened" } th scope="col" { span class="nhsuk-u-visually-hidden" { "Action" } } } }
                    tbody class="nhsuk-table__body" {
                        @for case in &unassigned {
                            @let id = case["id"].as_str().unwrap_or("");
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { (practice_cell(case)) }
                                td class="nhsuk-table__cell" { (case_status(case)) }
                                td class="nhsuk-table__cell" { (date(&case["openedAt"])) }
                                td class="nhsuk-table__cell" {
                                    form method="post" action={"/cases/" (id) "/assign"} class="cl-inline" {
                                        (list_command_fields(&session, case, &format!("/champion?assigned={id}#assigned")))
                                        button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit" {
                                            "Assign to me" span class="nhsuk-u-visually-hidden" { ": " (case["practice"]["name"].as_str().unwrap_or("")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("My caseload", Some(&session), body).into_response()
}

#[derive(Debug, Deserialize, Default)]
pub struct PracticeSearch {
    /// An ODS code's start, or part of a practice's name.
    #[serde(default)]
    q: String,
}

/// Practices whose ODS code starts with, or name holds, `text` (the first 20).
async fn search_practices(
    state: &WebState,
    session: &Session,
    ids_: Option<crate::monitoring::RequestIds>,
    text: &str,
) -> Result<Vec<Value>, Response> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let found = query(
        state,
        session,
        ids_,
        "query($q: String!) { practices(search: $q, first: 20) { edges { node { odsCode name place \
           latestObservation { visibleSlots requiredSlots } } } } }",
        json!({ "q": text.chars().take(100).collect::<String>() }),
    )
    .await
    .map_err(|errors| gql_problem(session, &errors))?;
    Ok(found["practices"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect())
}

pub async fn dhu(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(search): Query<PracticeSearch>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let found = match search_practices(&state, &session, ids(ids_), &search.q).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let text = format!(
        "{{ dhu {{ awaitingConfirmation {{ {CASE_FIELDS} history {{ type occurredAt data }} }} \
                  openIssues {{ {CASE_FIELDS} history {{ type occurredAt data }} }} \
                  reports {{ id practice {{ odsCode name }} category reportedAt status }} }} }}"
    );
    let data = match query(&state, &session, ids(ids_), &text, json!({})).await {
        Ok(data) => data,
        Err(errors) => return gql_problem(&session, &errors),
    };
    let awaiting = cases_of(&data["dhu"]["awaitingConfirmation"]);
    let issues = cases_of(&data["dhu"]["openIssues"]);
    let remapped = |case: &Value| -> String {
        case["history"]
            .as_array()
            .and_then(|events| events.iter().rev().find(|e| e["type"] == "SlotsRemapped"))
            .map(|e| {
                let changes: Vec<String> = e["data"]["changes"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(|v| v.as_str())
                            .map(|v| v.replace('_', " "))
                            .collect()
                    })
                    .unwrap_or_default();
                format!(
                    "{} ({} a day configured)",
                    changes.join(", "),
                    count(&e["data"]["slots_per_day_configured"])
                )
            })
            .unwrap_or_else(|| "GP Connect re-enabled".into())
    };
    let body = html! {
        h1 { "Visibility checks" }
        form method="get" action="/dhu" class="cl-filters" id="practice-search" role="search" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="search-q" { "Find a practice by ODS code or name" }
                input class="nhsuk-input nhsuk-input--width-20" id="search-q" name="q" type="search" value=(search.q) maxlength="100";
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Search" }
        }
        @if !search.q.trim().is_empty() {
            h2 class="nhsuk-heading-m" { "Practices matching “" (search.q.trim()) "”" }
            @if found.is_empty() { p id="search-results" { "No practice matches." } }
            @else {
                ul class="nhsuk-list" id="search-results" {
                    @for p in &found {
                        @let ods = p["odsCode"].as_str().unwrap_or("");
                        li {
                            a href={"/practices/" (ods)} { (p["name"].as_str().unwrap_or("")) } " (" (ods) ", " (p["place"].as_str().unwrap_or("")) ")"
                            @if let (Some(visible), Some(required)) = (p["latestObservation"]["visibleSlots"].as_i64(), p["latestObservation"]["requiredSlots"].as_i64()) {
                                ": " (visible) " of " (required) " slots a day on the dashboard"
                            }
                        }
                    }
                }
            }
        }
        div id="live-region" data-live="" aria-live="polite" {
            h2 class="nhsuk-heading-m" { "Awaiting your check (" (awaiting.len()) ")" }
            @if awaiting.is_empty() {
                p { "Nothing is waiting for a check." }
            } @else {
                table class="nhsuk-table-responsive" id="awaiting" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Practice" } th scope="col" { "Required a day" } th scope="col" { "What was changed" } th scope="col" { "Waiting since" } th scope="col" { "Confirm" } } }
                    tbody class="nhsuk-table__body" {
                        @for case in &awaiting {
                            @let id = case["id"].as_str().unwrap_or("");
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { (practice_cell(case)) }
                                td class="nhsuk-table__cell" { (count(&case["requiredSlots"])) }
                                td class="nhsuk-table__cell" { (remapped(case)) }
                                td class="nhsuk-table__cell" { (date(&case["deadline"]["startedOn"])) br; (due_cell(case)) }
                                td class="nhsuk-table__cell" {
                                    form method="post" action={"/cases/" (id) "/dhu-confirm"} class="cl-inline-form" {
                                        (list_command_fields(&session, case, "/dhu"))
                                        label class="nhsuk-label" for={"visible-" (id)} { "Slots a day DHU can see" }
                                        input class="nhsuk-input nhsuk-input--width-3" id={"visible-" (id)} name="visibleSlotsPerDay" type="text" inputmode="numeric";
                                        button class="nhsuk-button nhsuk-button--small" type="submit" { "Confirm" }
                                    }
                                    a href={"/cases/" (id) "#form-dhu-issue"} { "Report an issue" }
                                }
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Issues you reported (" (issues.len()) ")" }
            @if issues.is_empty() {
                p { "No open issues." }
            } @else {
                ul class="nhsuk-list nhsuk-list--bullet" id="open-issues" {
                    @for case in &issues {
                        li { (practice_cell(case)) }
                    }
                }
            }
            (super::reports::reports_table(&cases_of(&data["dhu"]["reports"])))
        }
        (super::reports::report_form(&session, &[], &[]))
    };
    page("Visibility checks", Some(&session), body).into_response()
}

#[derive(Debug, Deserialize, Default)]
pub struct CaseFilter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    pcn: String,
    /// Where the page starts: the cursor of the previous page's last case.
    #[serde(default)]
    after: String,
}

/// Cases a page of `/icb/cases` lists.
const CASES_PER_PAGE: u32 = 50;

/// Every case the ICB's view lists (paged through), with `fields`.
pub(super) async fn all_icb_cases(
    state: &WebState,
    session: &Session,
    ids_: Option<crate::monitoring::RequestIds>,
    fields: &str,
    filter: &CaseFilter,
) -> Result<Vec<Value>, Vec<super::gql::GqlError>> {
    let text = format!(
        "query($after: String, $status: [CaseStatus!], $place: String) {{ icb {{ cases(first: 500, after: $after, status: $status, place: $place) {{ \
           edges {{ node {{ {fields} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
    );
    let status = (!filter.status.is_empty()).then(|| json!([filter.status]));
    let place = (!filter.place.is_empty()).then(|| json!(filter.place));
    let mut after: Option<String> = None;
    let mut cases = Vec::new();
    loop {
        let data = query(
            state,
            session,
            ids_,
            &text,
            json!({ "after": after, "status": status, "place": place }),
        )
        .await?;
        let connection = &data["icb"]["cases"];
        cases.extend(
            connection["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["node"].clone()),
        );
        if connection["pageInfo"]["hasNextPage"] != true {
            return Ok(cases);
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct TrendRange {
    /// `activity` (the default: the weeks until a week after the last change), `12`, `26` (the
    /// last weeks to today) or `all`.
    #[serde(default)]
    weeks: String,
}

/// The trend's points for `range`.
fn trend_range(points: Vec<Value>, range: &str) -> Vec<Value> {
    let keys: Vec<&str> = charts::SERIES.iter().map(|(key, _, _)| *key).collect();
    match range {
        "all" => points,
        "12" | "26" => {
            let last = if range == "12" { 12 } else { 26 };
            let skip = points.len().saturating_sub(last);
            points.into_iter().skip(skip).collect()
        }
        _ => {
            let keep = charts::with_activity(&points, &keys);
            points.into_iter().take(keep).collect()
        }
    }
}

pub async fn icb(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(range): Query<TrendRange>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let summary = "query($weekAgo: DateTime) { icb { dataAsAt \
                   weekAgo: summary(asOf: $weekAgo) { casesOpened compliantCases closedCases openCases } \
                   overdue { id status deadline { awaiting dueOn overdue workingDaysLeft } practice { odsCode name place } } \
                   summary { asOf practices nonCompliantPractices casesOpened openCases compliantCases closedCases \
                   medianDaysToCompliance compliantWithinDays { count percentage } \
                   timeToCompliance(bucketDays: 7) { count } \
                   byPcn { pcnCode pcnName place practices nonCompliantPractices openCases compliantCases } \
                   byPlace { place practices openCases compliantCases nonCompliantPractices medianDaysToCompliance \
                             compliantWithinDays { count percentage } } } \
                   trendStart \
                   dhuReports { id practice { odsCode name } category detail reportedAt } } \
                   missing: practices(minMissingWeeks: 2, first: 50) { edges { node { odsCode name pcnCode place missingWeeks } } } \
                   disagreeing: practices(disagreement: true, first: 50) { totalCount edges { node { odsCode name place \
                     counts { requiredSlots configured { slots } seenByDhu { slots } dashboard { slots } } } } } }";
    let data = match query(&state, &session, ids_, summary, json!({ "weekAgo": week_ago })).await {
        Ok(data) => data,
        Err(errors) => return gql_problem(&session, &errors),
    };
    let today = chrono::Utc::now().date_naive();
    let overdue = cases_of(&data["icb"]["overdue"]);
    let before = &data["icb"]["weekAgo"];
    let change = |key: &str| data["icb"]["summary"][key].as_i64().unwrap_or(0) - before[key].as_i64().unwrap_or(0);
    let changes = [
        ("New cases", change("casesOpened")),
        ("Newly compliant", change("compliantCases")),
        ("Closed", change("closedCases")),
        ("Open cases", change("openCases")),
    ];
    // From the first day a case was open (at most ten years back: the trend's own limit).
    let first = data["icb"]["trendStart"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today)
        .max(today - chrono::Days::new(3_640))
        .min(today);
    let trend_query = "query($from: Date!, $to: Date!) { icb { trend(from: $from, to: $to, everyDays: 7) { date openCases compliantCases nonCompliantPractices } } }";
    let trend = match query(
        &state,
        &session,
        ids_,
        trend_query,
        json!({ "from": first.to_string(), "to": today.to_string() }),
    )
    .await
    {
        Ok(data) => data["icb"]["trend"].as_array().cloned().unwrap_or_default(),
        Err(errors) => return gql_problem(&session, &errors),
    };
    let weeks = if range.weeks.is_empty() {
        "activity"
    } else {
        range.weeks.as_str()
    };
    let trend = trend_range(trend, weeks);
    let s = &data["icb"]["summary"];
    let weeks_to_compliance: Vec<i64> = s["timeToCompliance"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|bucket| bucket["count"].as_i64())
        .collect();
    let median = s["medianDaysToCompliance"]
        .as_f64()
        .map_or_else(|| "–".into(), |d| format!("{d:.1}"));
    let figures = [
        ("Practices monitored", count(&s["practices"])),
        ("Practices below requirement", count(&s["nonCompliantPractices"])),
        ("Open cases", count(&s["openCases"])),
        ("Compliant cases", count(&s["compliantCases"])),
        ("Closed cases", count(&s["closedCases"])),
        ("Median days to compliance", median),
        ("Compliant within 8 weeks", within(&s["compliantWithinDays"])),
    ];
    let signed = |n: i64| if n > 0 { format!("+{n}") } else { n.to_string() };
    let body = html! {
        h1 { "Assurance dashboard" }
        p class="nhsuk-body-l" id="data-as-at" {
            @match data["icb"]["dataAsAt"].as_str() {
                Some(_) => { "Data as at " strong { (date(&data["icb"]["dataAsAt"])) } " (the latest dashboard extract)." }
                None => { "No dashboard extract has been imported yet." }
            }
        }
        div id="live-region" data-live="" aria-live="polite" {
            div class="nhsuk-card" id="this-week" {
                div class="nhsuk-card__content" {
                    h2 class="nhsuk-card__heading nhsuk-heading-m" { "In the last 7 days" }
                    dl class="nhsuk-summary-list" {
                        @for (label, n) in &changes {
                            div class="nhsuk-summary-list__row" {
                                dt class="nhsuk-summary-list__key" { (label) }
                                dd class="nhsuk-summary-list__value" data-change=(label) { (signed(*n)) }
                            }
                        }
                        div class="nhsuk-summary-list__row" {
                            dt class="nhsuk-summary-list__key" { "Overdue now" }
                            dd class="nhsuk-summary-list__value" data-change="Overdue now" { (overdue.len()) }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Overdue cases (" (overdue.len()) ")" }
            @if overdue.is_empty() {
                p id="overdue" { "No case is past its stage's target." }
            } @else {
                table class="nhsuk-table-responsive" id="overdue" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Practice" } th scope="col" { "Status" } th scope="col" { "Due" } } }
                    tbody class="nhsuk-table__body" {
                        @for case in overdue.iter().take(20) {
                            tr class="nhsuk-table__row cl-row-overdue" {
                                td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Practice " } (practice_cell(case)) }
                                td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Status " } (case_status(case)) }
                                td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Due " } (due_cell(case)) }
                            }
                        }
                    }
                }
                @if overdue.len() > 20 { p { (overdue.len() - 20) " more: the longest overdue are listed first." } }
            }
            ul class="nhsuk-grid-row nhsuk-card-group" id="headline" {
                @for (label, value) in &figures {
                    li class="nhsuk-grid-column-one-third nhsuk-card-group__item" {
                        div class="nhsuk-card" {
                            div class="nhsuk-card__content" {
                                p class="nhsuk-card__description" { (label) }
                                p class="nhsuk-heading-l cl-figure" data-figure=(label) { (value) }
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Week by week" }
            form method="get" action="/icb" class="cl-filters" id="trend-range" {
                div class="nhsuk-form-group cl-inline" {
                    label class="nhsuk-label" for="trend-weeks" { "Weeks shown" }
                    select class="nhsuk-select" id="trend-weeks" name="weeks" {
                        @for (value, label) in [("activity", "While cases moved"), ("12", "The last 12 weeks"), ("26", "The last 26 weeks"), ("all", "All")] {
                            option value=(value) selected[value == weeks] { (label) }
                        }
                    }
                }
                button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
            }
            (charts::trend(&trend))
            h2 class="nhsuk-heading-m" { "Time to compliance" }
            (charts::histogram(&weeks_to_compliance))
            h2 class="nhsuk-heading-m" { "By place" }
            div class="cl-table-scroll" role="region" aria-label="By place" tabindex="0" {
                table class="nhsuk-table" id="by-place" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Place" } th scope="col" class="nhsuk-table__header--numeric" { "Open cases" } th scope="col" class="nhsuk-table__header--numeric" { "Compliant cases" } th scope="col" class="nhsuk-table__header--numeric" { "Within 8 weeks" } th scope="col" class="nhsuk-table__header--numeric" { "Median days" } th scope="col" class="nhsuk-table__header--numeric" { "Practices below requirement" } th scope="col" class="nhsuk-table__header--numeric" { "Practices compliant" } } }
                    tbody class="nhsuk-table__body" {
                        @for place in s["byPlace"].as_array().into_iter().flatten() {
                            @let practices = place["practices"].as_i64().unwrap_or(0);
                            @let below = place["nonCompliantPractices"].as_i64().unwrap_or(0);
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { a href={"/icb/cases?place=" (urlencode(place["place"].as_str().unwrap_or("")))} { (place["place"].as_str().unwrap_or("")) } }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&place["openCases"])) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&place["compliantCases"])) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (within(&place["compliantWithinDays"])) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (place["medianDaysToCompliance"].as_f64().map_or_else(|| "–".into(), |d| format!("{d:.1}"))) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&place["nonCompliantPractices"])) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" data-place-compliant=(place["place"].as_str().unwrap_or("")) {
                                    @if practices > 0 { (format!("{:.0}%", (practices - below) as f64 * 100.0 / practices as f64)) } @else { "–" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "PCNs needing attention" }
        (pcn_table(&s["byPcn"]))
        (attention(&data))
        (super::reports::triage_table(&session, &cases_of(&data["icb"]["dhuReports"])))
        h2 class="nhsuk-heading-m" { "Dashboard extract" }
        (upload_form(&session, None))
        h2 class="nhsuk-heading-m" { "Assurance report" }
        p {
            "Download the assurance report: "
            a href="/icb/report.xlsx" download="" { "spreadsheet (XLSX)" }
            " or "
            a href="/icb/report.csv" download="" { "CSV" }
        }
    };
    page("Assurance dashboard", Some(&session), body).into_response()
}

/// The PCNs, those with most practices below the requirement and most open cases first (the
/// summary's order): the first 20, each linking to its cases.
fn pcn_table(pcns: &Value) -> Markup {
    let pcns: Vec<&Value> = pcns.as_array().into_iter().flatten().take(20).collect();
    html! {
        div class="cl-table-scroll" role="region" aria-label="By PCN" tabindex="0" {
            table class="nhsuk-table" id="by-pcn" {
                thead class="nhsuk-table__head" { tr { th scope="col" { "PCN" } th scope="col" { "Place" } th scope="col" class="nhsuk-table__header--numeric" { "Practices below requirement" } th scope="col" class="nhsuk-table__header--numeric" { "Open cases" } th scope="col" class="nhsuk-table__header--numeric" { "Compliant cases" } th scope="col" class="nhsuk-table__header--numeric" { "Practices" } } }
                tbody class="nhsuk-table__body" {
                    @for pcn in pcns {
                        @let code = pcn["pcnCode"].as_str().unwrap_or("");
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { a href={"/icb/cases?pcn=" (urlencode(code))} { (pcn["pcnName"].as_str().unwrap_or(code)) } " " span class="nhsuk-body-s cl-muted" { (code) } }
                            td class="nhsuk-table__cell" { (pcn["place"].as_str().unwrap_or("")) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&pcn["nonCompliantPractices"])) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&pcn["openCases"])) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&pcn["compliantCases"])) }
                            td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&pcn["practices"])) }
                        }
                    }
                }
            }
        }
    }
}

/// Registered practices without data two weeks running, and practices whose three counts
/// disagree: each linking to its page.
fn attention(data: &Value) -> Markup {
    let nodes = |key: &str| -> Vec<Value> {
        data[key]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["node"].clone())
            .collect()
    };
    let missing = nodes("missing");
    let disagreeing = nodes("disagreeing");
    let slots = |p: &Value, key: &str| count(&p["counts"][key]["slots"]);
    html! {
        h2 class="nhsuk-heading-m" { "No data two weeks running" }
        @if missing.is_empty() { p id="missing-practices" { "Every registered practice was in one of the last two extracts." } }
        @else {
            ul class="nhsuk-list nhsuk-list--bullet" id="missing-practices" {
                @for p in &missing {
                    li { a href={"/practices/" (p["odsCode"].as_str().unwrap_or(""))} { (p["name"].as_str().unwrap_or("")) } " (" (p["odsCode"].as_str().unwrap_or("")) ", " (p["place"].as_str().unwrap_or("")) "): no data for " (p["missingWeeks"]) " weeks" }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Counts that disagree" }
        @if disagreeing.is_empty() { p id="disagreeing-practices" { "The practices, DHU and the dashboard agree everywhere." } }
        @else {
            div class="cl-table-scroll" role="region" aria-label="Counts that disagree" tabindex="0" {
                table class="nhsuk-table" id="disagreeing-practices" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Practice" } th scope="col" class="nhsuk-table__header--numeric" { "Required" } th scope="col" class="nhsuk-table__header--numeric" { "Configured" } th scope="col" class="nhsuk-table__header--numeric" { "Seen by DHU" } th scope="col" class="nhsuk-table__header--numeric" { "Dashboard" } } }
                    tbody class="nhsuk-table__body" {
                        @for p in &disagreeing {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { a href={"/practices/" (p["odsCode"].as_str().unwrap_or(""))} { (p["name"].as_str().unwrap_or("")) } }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (count(&p["counts"]["requiredSlots"])) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (slots(p, "configured")) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (slots(p, "seenByDhu")) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (slots(p, "dashboard")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "12 (43%)" of a `compliantWithinDays`.
fn within(figure: &Value) -> String {
    match (figure["count"].as_i64(), figure["percentage"].as_f64()) {
        (Some(count), Some(percentage)) => format!("{count} ({percentage:.0}%)"),
        (Some(count), None) => count.to_string(),
        _ => "–".into(),
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn upload_form(session: &Session, error: Option<&str>) -> Markup {
    html! {
        form method="post" action="/icb/import" enctype="multipart/form-data" id="upload" novalidate {
            (super::layout::csrf_field(session))
            div class={"nhsuk-form-group" @if error.is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="csv" { "Upload this week's dashboard extract (CSV)" }
                div class="nhsuk-hint" id="csv-hint" { "Columns: report_date, ods_code, practice_name, pcn_code, place, list_size, slots_visible_111. A file with any bad row is rejected whole." }
                @if let Some(error) = error {
                    span class="nhsuk-error-message" id="csv-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (error) }
                }
                input class="nhsuk-file-upload" id="csv" name="csv" type="file" accept=".csv,text/csv" aria-describedby="csv-hint";
            }
            button class="nhsuk-button" type="submit" { "Upload extract" }
        }
    }
}

const STATUSES: [&str; 6] = [
    "FLAGGED",
    "CONTACTED",
    "REMAPPED",
    "DHU_CONFIRMED",
    "COMPLIANT",
    "CLOSED",
];

pub async fn icb_cases(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(filter): Query<CaseFilter>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids_ = ids(ids_);
    if !filter.status.is_empty() && !STATUSES.contains(&filter.status.as_str()) {
        return super::problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Unknown status",
            "Choose a status from the list.",
        );
    }
    let (places, pcns) = match query(
        &state,
        &session,
        ids_,
        "{ icb { summary { byPlace { place } byPcn { pcnCode pcnName } } } }",
        json!({}),
    )
    .await
    {
        Ok(data) => {
            let summary = &data["icb"]["summary"];
            let places = summary["byPlace"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["place"].as_str().map(str::to_string))
                .collect::<Vec<_>>();
            let mut pcns = summary["byPcn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let code = p["pcnCode"].as_str()?.to_string();
                    let name = p["pcnName"]
                        .as_str()
                        .map_or_else(|| code.clone(), |n| format!("{n} ({code})"));
                    Some((code, name))
                })
                .collect::<Vec<_>>();
            pcns.sort_by(|a, b| a.1.cmp(&b.1));
            (places, pcns)
        }
        Err(errors) => return gql_problem(&session, &errors),
    };
    let page_query = format!(
        "query($after: String, $status: [CaseStatus!], $place: String, $pcn: String) {{ icb {{ \
           cases(first: {CASES_PER_PAGE}, after: $after, status: $status, place: $place, pcn: $pcn) {{ \
             totalCount edges {{ node {{ {CASE_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
    );
    let variables = json!({
        "after": (!filter.after.is_empty()).then_some(&filter.after),
        "status": (!filter.status.is_empty()).then(|| json!([filter.status])),
        "place": (!filter.place.is_empty()).then_some(&filter.place),
        "pcn": (!filter.pcn.is_empty()).then_some(&filter.pcn),
    });
    let connection = match query(&state, &session, ids_, &page_query, variables).await {
        Ok(data) => data["icb"]["cases"].clone(),
        Err(errors) if errors.iter().any(|e| e.field.as_deref() == Some("after")) => {
            return super::problem(
                StatusCode::BAD_REQUEST,
                Some(&session),
                "That page of cases is not there",
                "Go back to the first page of the list.",
            );
        }
        Err(errors) => return gql_problem(&session, &errors),
    };
    let cases: Vec<Value> = connection["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect();
    let total = connection["totalCount"].as_i64().unwrap_or_default();
    let link = |after: &str| {
        let mut query = vec![];
        for (key, value) in [
            ("status", &filter.status),
            ("place", &filter.place),
            ("pcn", &filter.pcn),
        ] {
            if !value.is_empty() {
                query.push(format!("{key}={}", urlencode(value)));
            }
        }
        if !after.is_empty() {
            query.push(format!("after={}", urlencode(after)));
        }
        format!("/icb/cases?{}", query.join("&"))
    };
    let next = connection["pageInfo"]["endCursor"]
        .as_str()
        .filter(|_| connection["pageInfo"]["hasNextPage"] == true)
        .map(&link);
    let body = html! {
        h1 { "Cases" }
        form method="get" action="/icb/cases" class="cl-filters" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="status" { "Status" }
                select class="nhsuk-select" id="status" name="status" {
                    option value="" { "Any" }
                    @for status in STATUSES { option value=(status) selected[filter.status == status] { (status_label(status)) } }
                }
            }
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="place" { "Place" }
                select class="nhsuk-select" id="place" name="place" {
                    option value="" { "Any" }
                    @for place in &places { option value=(place) selected[filter.place == *place] { (place) } }
                }
            }
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="pcn" { "PCN" }
                select class="nhsuk-select" id="pcn" name="pcn" {
                    option value="" { "Any" }
                    @for (code, name) in &pcns { option value=(code) selected[filter.pcn == *code] { (name) } }
                }
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Filter" }
        }
        div id="live-region" data-live="" aria-live="polite" {
            p id="case-count" {
                (total) " " (if total == 1 { "case" } else { "cases" })
                @if i64::try_from(cases.len()).unwrap_or_default() < total { ", " (cases.len()) " on this page" }
            }
            table class="nhsuk-table-responsive" id="cases" {
                thead class="nhsuk-table__head" { tr { th scope="col" { "Practice" } th scope="col" { "Status" } th scope="col" { "Opened" } th scope="col" { "Champion" } th scope="col" { "Visible / required a day" } } }
                tbody class="nhsuk-table__body" {
                    @for case in &cases {
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { (practice_cell(case)) }
                            td class="nhsuk-table__cell" { (case_status(case)) }
                            td class="nhsuk-table__cell" { (date(&case["openedAt"])) }
                            td class="nhsuk-table__cell" { (case["assignedTo"].as_str().unwrap_or("–")) }
                            td class="nhsuk-table__cell" { (count(&case["visibleSlots"])) " / " (count(&case["requiredSlots"])) }
                        }
                    }
                }
            }
            @if next.is_some() || !filter.after.is_empty() {
                nav class="nhsuk-pagination" role="navigation" aria-label="Pages of cases" {
                    ul class="nhsuk-list nhsuk-pagination__list" {
                        @if !filter.after.is_empty() {
                            li class="nhsuk-pagination-item--previous" {
                                a class="nhsuk-pagination__link nhsuk-pagination__link--prev" href=(link("")) {
                                    span class="nhsuk-pagination__title" { "First page" }
                                }
                            }
                        }
                        @if let Some(next) = &next {
                            li class="nhsuk-pagination-item--next" {
                                a class="nhsuk-pagination__link nhsuk-pagination__link--next" href=(next) rel="next" {
                                    span class="nhsuk-pagination__title" { "Next page" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Cases", Some(&session), body).into_response()
}

pub async fn import(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    mut multipart: Multipart,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let mut form = Vec::new();
    let mut csv = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match field.text().await {
                    Ok(text) if name == "csv" => csv = Some(text),
                    Ok(text) => form.push((name, text)),
                    Err(error) => return bad_upload(&session, &format!("The file could not be read: {error}")),
                }
            }
            Ok(None) => break,
            Err(error) => return bad_upload(&session, &format!("The upload could not be read: {error}")),
        }
    }
    if let Some(refused) = csrf_refused(&session, &form) {
        return refused;
    }
    let Some(csv) = csv.filter(|c| !c.trim().is_empty()) else {
        return bad_upload(&session, "Choose a CSV file to upload");
    };
    let text = "mutation($csv: String!) { importDashboard(csv: $csv) { reportDate rows observed flagged reopened errorCount errors { line column message } } }";
    let report = match query(&state, &session, ids(ids_), text, json!({ "csv": csv })).await {
        Ok(data) => data["importDashboard"].clone(),
        Err(errors) => return gql_problem(&session, &errors),
    };
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        @if errors.is_empty() {
            div class="nhsuk-card nhsuk-card--confirmation" {
                div class="nhsuk-card__content" {
                    h1 class="nhsuk-card__heading" { "Extract imported" }
                    p { "Report date " (date(&report["reportDate"])) ": " (count(&report["rows"])) " rows, "
                        (count(&report["flagged"])) " new cases, " (count(&report["reopened"])) " reopened." }
                }
            }
        } @else {
            @let total = report["errorCount"].as_u64().unwrap_or(errors.len() as u64);
            (error_summary("The extract was not imported", &[(None, format!("{total} problems were found; nothing was applied. Correct the file and upload it again."))]))
            @if total > errors.len() as u64 { p { "The first " (errors.len()) " are listed." } }
            h1 { "Problems in the extract" }
            div class="cl-table-scroll" role="region" aria-label="Problems in the extract" tabindex="0" {
                table class="nhsuk-table" id="import-errors" {
                    thead class="nhsuk-table__head" { tr { th scope="col" { "Line" } th scope="col" { "Column" } th scope="col" { "Problem" } } }
                    tbody class="nhsuk-table__body" {
                        @for error in &errors {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { (count(&error["line"])) }
                                td class="nhsuk-table__cell" { (error["column"].as_str().unwrap_or("–")) }
                                td class="nhsuk-table__cell" { (error["message"].as_str().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            (upload_form(&session, None))
        }
        p { a href="/icb" { "Back to the dashboard" } }
    };
    (status, page("Dashboard extract", Some(&session), body)).into_response()
}

fn bad_upload(session: &Session, message: &str) -> Response {
    let body = html! {
        (error_summary("There is a problem", &[(Some("csv".into()), message.to_string())]))
        h1 { "Dashboard extract" }
        (upload_form(session, Some(message)))
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page("Dashboard extract", Some(session), body),
    )
        .into_response()
}

/// openedAt → compliantAt in days (one decimal), as the summary's figures count it; null while the
/// episode has not reached compliance.
pub fn days_to_compliance(case: &Value) -> Value {
    let at = |key: &str| {
        case[key]
            .as_str()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
    };
    match (at("openedAt"), at("compliantAt")) {
        (Some(opened), Some(compliant)) => {
            json!(((compliant - opened).num_milliseconds() as f64 / 86_400_000.0 * 10.0).round() / 10.0)
        }
        _ => Value::Null,
    }
}

/// Readable names of the event types.
pub fn event_label(event_type: &str) -> &str {
    match event_type {
        "PracticeFlagged" => "Practice flagged",
        "CaseAssigned" => "Case assigned",
        "PracticeContacted" => "Practice contacted",
        "GuidanceShared" => "Guidance shared",
        "RootCauseIdentified" => "Root cause identified",
        "SlotsRemapped" => "Slots remapped",
        "GpConnectReEnabled" => "GP Connect re-enabled",
        "DhuVisibilityConfirmed" => "DHU confirmed visibility",
        "DhuVisibilityIssueReported" => "DHU reported a visibility issue",
        "ComplianceConfirmed" => "Compliance confirmed",
        "CaseClosed" => "Case closed",
        "CaseReopened" => "Case reopened",
        "NoteAdded" => "Note added",
        "PersonalDataErased" => "Personal data erased",
        "EscalatedToContractReview" => "Escalated to contract review",
        "ContractReviewConcluded" => "Contract review concluded",
        "DhuReportFiled" => "DHU reported a visibility problem",
        "DhuReportTriaged" => "DHU report triaged",
        other => other,
    }
}

/// The event types that are support given to a practice (not the flag, an assignment, a note).
const SUPPORT: [&str; 5] = [
    "PracticeContacted",
    "GuidanceShared",
    "RootCauseIdentified",
    "SlotsRemapped",
    "GpConnectReEnabled",
];

/// When a case's practice was first supported: the first support action's business time.
fn first_support(case: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    case["history"]
        .as_array()?
        .iter()
        .filter(|event| SUPPORT.contains(&event["type"].as_str().unwrap_or("")))
        .filter_map(|event| chrono::DateTime::parse_from_rfc3339(event["occurredAt"].as_str()?).ok())
        .min()
}

fn instant(value: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()
}

/// Days from the flag to the first support, when there was any.
fn days_to_support(case: &Value) -> Option<f64> {
    let flagged = instant(&case["openedAt"])?;
    let supported = first_support(case)?;
    Some((supported - flagged).num_hours().max(0) as f64 / 24.0)
}

/// Whether support came before the contract action: `None` when there was none.
fn supported_first(case: &Value) -> Option<bool> {
    let escalated = instant(&case["escalatedAt"])?;
    Some(first_support(case).is_some_and(|supported| supported <= escalated))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        f64::midpoint(values[middle - 1], values[middle])
    } else {
        values[middle]
    })
}

#[derive(Debug, Deserialize, Default)]
pub struct LmcFilter {
    #[serde(default)]
    place: String,
    /// `open` (the default), `all`, or one status.
    #[serde(default)]
    status: String,
}

pub async fn lmc(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(filter): Query<LmcFilter>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let text = "{ lmc { summary { practices nonCompliantPractices openCases compliantCases closedCases medianDaysToCompliance } \
                contractReviews cases(first: 500) { totalCount edges { node { id status openedAt compliantAt escalatedAt \
                contractReviewOpen practice { odsCode name place } history { type occurredAt } } } } } }";
    let data = match query(&state, &session, ids(ids_), text, json!({})).await {
        Ok(data) => data,
        Err(errors) => return gql_problem(&session, &errors),
    };
    let s = &data["lmc"]["summary"];
    let all: Vec<Value> = data["lmc"]["cases"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect();
    let open = |case: &Value| !matches!(case["status"].as_str(), Some("COMPLIANT" | "CLOSED"));
    let status = if filter.status.is_empty() {
        "open"
    } else {
        filter.status.as_str()
    };
    let shown: Vec<&Value> = all
        .iter()
        .filter(|case| filter.place.is_empty() || case["practice"]["place"].as_str() == Some(filter.place.as_str()))
        .filter(|case| match status {
            "all" => true,
            "open" => open(case),
            one => case["status"].as_str() == Some(one),
        })
        .collect();
    let mut places: Vec<String> = all
        .iter()
        .filter_map(|case| case["practice"]["place"].as_str().map(str::to_string))
        .collect();
    places.sort();
    places.dedup();
    // The LMC's question, answered: how soon support came, and whether it came before any sanction.
    let escalated: Vec<&Value> = all.iter().filter(|case| !case["escalatedAt"].is_null()).collect();
    let supported_before = escalated
        .iter()
        .filter(|case| supported_first(case) == Some(true))
        .count();
    let median_support = median(all.iter().filter_map(days_to_support).collect());
    let never_supported = all
        .iter()
        .filter(|case| open(case) && first_support(case).is_none())
        .count();
    let by_place: Vec<(String, usize, usize, Option<f64>, usize)> = places
        .iter()
        .map(|place| {
            let here: Vec<&Value> = all
                .iter()
                .filter(|case| case["practice"]["place"].as_str() == Some(place))
                .collect();
            (
                place.clone(),
                here.iter().filter(|case| open(case)).count(),
                here.len(),
                median(here.iter().filter_map(|case| days_to_support(case)).collect()),
                here.iter().filter(|case| !case["escalatedAt"].is_null()).count(),
            )
        })
        .collect();
    let days = |d: Option<f64>| d.map_or_else(|| "–".to_string(), |d| format!("{d:.1}"));
    let statuses = [
        ("open", "Open"),
        ("all", "All"),
        ("FLAGGED", "Flagged"),
        ("CONTACTED", "Contacted"),
        ("REMAPPED", "Remapped"),
        ("DHU_CONFIRMED", "DHU confirmed"),
        ("COMPLIANT", "Compliant"),
        ("CLOSED", "Closed"),
    ];
    let body = html! {
        h1 { "Oversight" }
        div id="live-region" data-live="" aria-live="polite" {
            div class="nhsuk-card" id="support-answer" {
                div class="nhsuk-card__content" {
                    h2 class="nhsuk-card__heading nhsuk-heading-m" { "Are practices supported, not sanctioned?" }
                    ul class="nhsuk-list" {
                        li { "Median time from a flag to the first support: " strong data-answer="median-support" { (days(median_support)) " days" } }
                        li { "Open cases with no support yet: " strong data-answer="never-supported" { (never_supported) } }
                        li {
                            "Contract reviews: " strong data-answer="reviews" { (count(&data["lmc"]["contractReviews"])) }
                            @if !escalated.is_empty() {
                                "; support came before the review in " strong data-answer="support-first" { (supported_before) " of " (escalated.len()) }
                            }
                        }
                    }
                }
            }
            dl class="nhsuk-summary-list" id="lmc-summary" {
                @for (label, value) in [
                    ("Practices monitored", count(&s["practices"])),
                    ("Practices below requirement", count(&s["nonCompliantPractices"])),
                    ("Open cases", count(&s["openCases"])),
                    ("Compliant cases", count(&s["compliantCases"])),
                    ("Closed cases", count(&s["closedCases"])),
                ] {
                    div class="nhsuk-summary-list__row" {
                        dt class="nhsuk-summary-list__key" { (label) }
                        dd class="nhsuk-summary-list__value" { (value) }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "By place" }
            div class="cl-table-scroll" role="region" aria-label="By place" tabindex="0" {
                table class="nhsuk-table" id="lmc-by-place" {
                    thead class="nhsuk-table__head" { tr {
                        th scope="col" { "Place" } th scope="col" class="nhsuk-table__header--numeric" { "Open" }
                        th scope="col" class="nhsuk-table__header--numeric" { "All cases" }
                        th scope="col" class="nhsuk-table__header--numeric" { "Median days to first support" }
                        th scope="col" class="nhsuk-table__header--numeric" { "Contract reviews" }
                    } }
                    tbody class="nhsuk-table__body" {
                        @for (place, open_here, all_here, support, reviews) in &by_place {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { a href={"/lmc?place=" (urlencode(place)) "&status=all"} { (place) } }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (open_here) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (all_here) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (days(*support)) }
                                td class="nhsuk-table__cell nhsuk-table__cell--numeric" { (reviews) }
                            }
                        }
                    }
                }
            }
            h2 class="nhsuk-heading-m" { "Support given to each practice" }
            form method="get" action="/lmc" class="cl-filters" id="lmc-filter" {
                div class="nhsuk-form-group cl-inline" {
                    label class="nhsuk-label" for="lmc-place" { "Place" }
                    select class="nhsuk-select" id="lmc-place" name="place" {
                        option value="" selected[filter.place.is_empty()] { "All places" }
                        @for place in &places { option value=(place) selected[*place == filter.place] { (place) } }
                    }
                }
                div class="nhsuk-form-group cl-inline" {
                    label class="nhsuk-label" for="lmc-status" { "Status" }
                    select class="nhsuk-select" id="lmc-status" name="status" {
                        @for (value, label) in statuses { option value=(value) selected[value == status] { (label) } }
                    }
                }
                button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
            }
            p id="lmc-shown" { (shown.len()) " of " (all.len()) " cases" }
            table class="nhsuk-table-responsive" id="lmc-cases" {
                thead class="nhsuk-table__head" { tr {
                    th scope="col" { "Practice" } th scope="col" { "Status" } th scope="col" { "Flagged" }
                    th scope="col" { "First support" } th scope="col" { "Contract action" }
                } }
                tbody class="nhsuk-table__body" {
                    @for case in &shown {
                        @let support = case["history"].as_array().into_iter().flatten().filter(|e| SUPPORT.contains(&e["type"].as_str().unwrap_or(""))).count();
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Practice " } (practice_cell(case)) }
                            td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Status " } (case_status(case)) }
                            td class="nhsuk-table__cell" { span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Flagged " } (date(&case["openedAt"])) }
                            td class="nhsuk-table__cell" {
                                span class="nhsuk-table-responsive__heading" aria-hidden="true" { "First support " }
                                @match (first_support(case), days_to_support(case)) {
                                    (Some(at), Some(after)) => {
                                        (at.format("%-d %b %Y")) " (" (format!("{after:.1}")) " days after the flag)"
                                        details class="nhsuk-details cl-support" {
                                            summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { (support) " support " (if support == 1 { "action" } else { "actions" }) } }
                                            div class="nhsuk-details__text" {
                                                ol class="nhsuk-list cl-actions" {
                                                    @for event in case["history"].as_array().into_iter().flatten() {
                                                        li { (date(&event["occurredAt"])) ": " (event_label(event["type"].as_str().unwrap_or(""))) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                    _ => { strong { "None yet" } }
                                }
                            }
                            td class="nhsuk-table__cell cl-contract" {
                                span class="nhsuk-table-responsive__heading" aria-hidden="true" { "Contract action " }
                                @match supported_first(case) {
                                    None => "None",
                                    Some(true) => { "Contract review, " (date(&case["escalatedAt"])) ", after support" }
                                    Some(false) => { strong { "Contract review, " (date(&case["escalatedAt"])) ", before any support" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Oversight", Some(&session), body).into_response()
}
