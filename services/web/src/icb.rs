//! The ICB's pages: the assurance dashboard, the list of cases, and the dashboard extract's
//! upload.

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::layout::{error_summary, page, status_label};
use crate::lists::{CASE_FIELDS, case_status, cell, day, due_cell, header_row, on, practice_cell, urlencode};
use crate::model::{AreaFigures, CaseRow, Connection, Within, count, days, read};
use crate::session::Session;
use crate::{Ids, WebState, charts, csrf_refused, gql_problem, ids, internal, load, query, signed_in};

/// What the dashboard shows (with the trend, read separately for its range).
#[derive(Debug, Deserialize)]
pub struct Dashboard {
    pub icb: Assurance,
    /// Registered practices without data two weeks running.
    pub missing: Connection<Attention>,
    /// Practices whose three counts disagree.
    pub disagreeing: Connection<Attention>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assurance {
    pub data_as_at: Option<NaiveDate>,
    /// The summary a week ago, for what changed since.
    pub week_ago: Figures,
    pub summary: Figures,
    pub overdue: Vec<CaseRow>,
    pub trend_start: Option<NaiveDate>,
    /// Drawn by [`crate::reports::triage_table`].
    pub dhu_reports: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Figures {
    pub practices: Option<i64>,
    pub non_compliant_practices: Option<i64>,
    pub cases_opened: i64,
    pub open_cases: i64,
    pub compliant_cases: i64,
    pub closed_cases: i64,
    pub median_days_to_compliance: Option<f64>,
    pub compliant_within_days: Within,
    pub time_to_compliance: Vec<Bucket>,
    pub by_pcn: Vec<AreaFigures>,
    pub by_place: Vec<AreaFigures>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Bucket {
    pub count: i64,
}

/// A practice that needs the ICB's attention.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attention {
    pub ods_code: String,
    pub name: String,
    pub place: String,
    pub missing_weeks: Option<i64>,
    pub counts: Option<Counts>,
}

/// A practice's required slots and the three counts of what it offers.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Counts {
    pub required_slots: Option<i64>,
    pub configured: Option<Slots>,
    pub seen_by_dhu: Option<Slots>,
    pub dashboard: Option<Slots>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Slots {
    pub slots: Option<i64>,
}

fn slots(of: Option<&Slots>) -> String {
    count(of.and_then(|s| s.slots))
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

const AREA_FIELDS: &str = "practices nonCompliantPractices openCases compliantCases medianDaysToCompliance \
                           compliantWithinDays { count percentage }";

pub async fn dashboard(
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
    let week_ago = (caseledger_clock::now() - chrono::Duration::days(7)).to_rfc3339();
    let summary = format!(
        "query($weekAgo: DateTime) {{ icb {{ dataAsAt \
           weekAgo: summary(asOf: $weekAgo) {{ casesOpened compliantCases closedCases openCases }} \
           overdue {{ id status deadline {{ awaiting dueOn overdue workingDaysLeft }} practice {{ odsCode name place }} }} \
           summary {{ practices nonCompliantPractices casesOpened openCases compliantCases closedCases \
             medianDaysToCompliance compliantWithinDays {{ count percentage }} \
             timeToCompliance(bucketDays: 7) {{ count }} \
             byPcn {{ pcnCode pcnName place {AREA_FIELDS} }} \
             byPlace {{ place {AREA_FIELDS} }} }} \
           trendStart \
           dhuReports {{ id practice {{ odsCode name }} category detail reportedAt }} }} \
         missing: practices(minMissingWeeks: 2, first: 50) {{ edges {{ node {{ odsCode name place missingWeeks }} }} }} \
         disagreeing: practices(disagreement: true, first: 50) {{ totalCount edges {{ node {{ odsCode name place \
           counts {{ requiredSlots configured {{ slots }} seenByDhu {{ slots }} dashboard {{ slots }} }} }} }} }} }}"
    );
    let dashboard: Dashboard = match load(&state, &session, ids_, &summary, json!({ "weekAgo": week_ago }), &[]).await {
        Ok(dashboard) => dashboard,
        Err(response) => return response,
    };
    let today = caseledger_clock::today();
    // From the first day a case was open (at most ten years back: the trend's own limit).
    let first = dashboard
        .icb
        .trend_start
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
    page(
        "Assurance dashboard",
        Some(&session),
        render_dashboard(&dashboard, &trend, weeks, &session),
    )
    .into_response()
}

/// The dashboard's body, with the trend's `points` for the range `weeks`.
pub fn render_dashboard(dashboard: &Dashboard, points: &[Value], weeks: &str, session: &Session) -> Markup {
    let icb = &dashboard.icb;
    let s = &icb.summary;
    let before = &icb.week_ago;
    let changes = [
        ("New cases", s.cases_opened - before.cases_opened),
        ("Newly compliant", s.compliant_cases - before.compliant_cases),
        ("Closed", s.closed_cases - before.closed_cases),
        ("Open cases", s.open_cases - before.open_cases),
    ];
    let figures = [
        ("Practices monitored", count(s.practices)),
        ("Practices below requirement", count(s.non_compliant_practices)),
        ("Open cases", s.open_cases.to_string()),
        ("Compliant cases", s.compliant_cases.to_string()),
        ("Closed cases", s.closed_cases.to_string()),
        ("Median days to compliance", days(s.median_days_to_compliance)),
        ("Compliant within 8 weeks", s.compliant_within_days.text()),
    ];
    let weeks_to_compliance: Vec<i64> = s.time_to_compliance.iter().map(|bucket| bucket.count).collect();
    let overdue = &icb.overdue;
    let signed = |n: i64| if n > 0 { format!("+{n}") } else { n.to_string() };
    html! {
        h1 { "Assurance dashboard" }
        p class="nhsuk-body-l" id="data-as-at" {
            @match icb.data_as_at {
                Some(at) => { "Data as at " strong { (on(Some(at))) } " (the latest dashboard extract)." }
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
                table class="nhsuk-table-responsive" id="overdue" role="table" {
                    (header_row(&["Practice", "Status", "Due"]))
                    tbody class="nhsuk-table__body" {
                        @for case in overdue.iter().take(20) {
                            tr class="nhsuk-table__row cl-row-overdue" role="row" {
                                (cell("Practice", practice_cell(case)))
                                (cell("Status", case_status(case)))
                                (cell("Due", due_cell(case)))
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
            (charts::trend(points))
            h2 class="nhsuk-heading-m" { "Time to compliance" }
            (charts::histogram(&weeks_to_compliance))
            h2 class="nhsuk-heading-m" { "By place" }
            (area_table("By place", "by-place", &s.by_place, |place| html! {
                a href={"/icb/cases?place=" (urlencode(&place.place))} { (place.place) }
            }))
        }
        h2 class="nhsuk-heading-m" { "PCNs needing attention" }
        p class="nhsuk-body-s" { "Those with most practices below the requirement and most open cases first." }
        (area_table("By PCN", "by-pcn", &s.by_pcn[..s.by_pcn.len().min(20)], |pcn| {
            let code = pcn.pcn_code.as_deref().unwrap_or("");
            html! {
                a href={"/icb/cases?pcn=" (urlencode(code))} { (pcn.pcn_name.as_deref().unwrap_or(code)) }
                " " span class="nhsuk-body-s cl-muted" { (code) " · " (pcn.place) }
            }
        }))
        (attention(dashboard))
        (crate::reports::triage_table(session, &icb.dhu_reports))
        h2 class="nhsuk-heading-m" { "Dashboard extract" }
        (upload_form(session, None))
        h2 class="nhsuk-heading-m" { "Assurance report" }
        p {
            "Download the assurance report: "
            a href="/icb/report.xlsx" download="" { "spreadsheet (XLSX)" }
            " or "
            a href="/icb/report.csv" download="" { "CSV" }
        }
    }
}

/// Places or PCNs, the same figures for each: cases, how fast they reached compliance, and the
/// share of practices meeting the requirement. `name` draws an area's first cell.
fn area_table(label: &str, id: &str, areas: &[AreaFigures], name: impl Fn(&AreaFigures) -> Markup) -> Markup {
    let numeric = [
        "Open cases",
        "Compliant cases",
        "Within 8 weeks",
        "Median days to compliance",
        "Practices below requirement",
        "Practices compliant",
    ];
    let number = |label: &str, value: String| {
        html! {
            td class="nhsuk-table__cell nhsuk-table__cell--numeric" role="cell" {
                span class="nhsuk-table-responsive__heading" aria-hidden="true" { (label) " " }
                (value)
            }
        }
    };
    html! {
        table class="nhsuk-table-responsive" id=(id) role="table" aria-label=(label) {
            thead class="nhsuk-table__head" role="rowgroup" {
                tr role="row" {
                    th scope="col" role="columnheader" { (label.trim_start_matches("By ").to_string()) }
                    @for heading in numeric { th scope="col" role="columnheader" class="nhsuk-table__header--numeric" { (heading) } }
                }
            }
            tbody class="nhsuk-table__body" {
                @for area in areas {
                    @let key = area.pcn_code.as_deref().unwrap_or(&area.place);
                    tr class="nhsuk-table__row" role="row" data-area=(key) {
                        (cell(label.trim_start_matches("By "), name(area)))
                        (number(numeric[0], area.open_cases.to_string()))
                        (number(numeric[1], area.compliant_cases.to_string()))
                        (number(numeric[2], area.compliant_within_days.text()))
                        (number(numeric[3], days(area.median_days_to_compliance)))
                        (number(numeric[4], area.non_compliant_practices.to_string()))
                        td class="nhsuk-table__cell nhsuk-table__cell--numeric" role="cell" data-place-compliant=(key) {
                            span class="nhsuk-table-responsive__heading" aria-hidden="true" { (numeric[5]) " " }
                            (area.compliant_share())
                        }
                    }
                }
            }
        }
    }
}

/// Registered practices without data two weeks running, and practices whose three counts
/// disagree: each linking to its page.
fn attention(dashboard: &Dashboard) -> Markup {
    let missing = &dashboard.missing.edges;
    let disagreeing = &dashboard.disagreeing.edges;
    html! {
        h2 class="nhsuk-heading-m" { "No data two weeks running" }
        @if missing.is_empty() { p id="missing-practices" { "Every registered practice was in one of the last two extracts." } }
        @else {
            ul class="nhsuk-list nhsuk-list--bullet" id="missing-practices" {
                @for p in missing.iter().map(|edge| &edge.node) {
                    li { a href={"/practices/" (p.ods_code)} { (p.name) } " (" (p.ods_code) ", " (p.place) "): no data for " (count(p.missing_weeks)) " weeks" }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "Counts that disagree" }
        @if disagreeing.is_empty() { p id="disagreeing-practices" { "The practices, DHU and the dashboard agree everywhere." } }
        @else {
            table class="nhsuk-table-responsive" id="disagreeing-practices" role="table" {
                (header_row(&["Practice", "Required", "Configured", "Seen by DHU", "Dashboard"]))
                tbody class="nhsuk-table__body" {
                    @for p in disagreeing.iter().map(|edge| &edge.node) {
                        @let counts = p.counts.as_ref();
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { a href={"/practices/" (p.ods_code)} { (p.name) } }))
                            (cell("Required", html! { (count(counts.and_then(|c| c.required_slots))) }))
                            (cell("Configured", html! { (slots(counts.and_then(|c| c.configured.as_ref()))) }))
                            (cell("Seen by DHU", html! { (slots(counts.and_then(|c| c.seen_by_dhu.as_ref()))) }))
                            (cell("Dashboard", html! { (slots(counts.and_then(|c| c.dashboard.as_ref()))) }))
                        }
                    }
                }
            }
        }
    }
}

fn upload_form(session: &Session, error: Option<&str>) -> Markup {
    html! {
        form method="post" action="/icb/import" enctype="multipart/form-data" id="upload" novalidate {
            (crate::layout::csrf_field(session))
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

pub const STATUSES: [&str; 6] = [
    "FLAGGED",
    "CONTACTED",
    "REMAPPED",
    "DHU_CONFIRMED",
    "COMPLIANT",
    "CLOSED",
];

#[derive(Debug, Deserialize, Default)]
pub struct CaseFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub pcn: String,
    /// Where the page starts: the cursor of the previous page's last case.
    #[serde(default)]
    pub after: String,
}

impl CaseFilter {
    /// `/icb/cases` with this filter, from `after`.
    fn link(&self, after: &str) -> String {
        let mut query = vec![];
        for (key, value) in [("status", &self.status), ("place", &self.place), ("pcn", &self.pcn)] {
            if !value.is_empty() {
                query.push(format!("{key}={}", urlencode(value)));
            }
        }
        if !after.is_empty() {
            query.push(format!("after={}", urlencode(after)));
        }
        format!("/icb/cases?{}", query.join("&"))
    }
}

/// Cases a page of `/icb/cases` lists.
const CASES_PER_PAGE: u32 = 50;

/// Every case the ICB's view lists (paged through), with `fields`.
pub async fn all_cases(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    fields: &str,
    filter: &CaseFilter,
) -> Result<Vec<Value>, Vec<crate::gql::GqlError>> {
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

/// What the case list shows: a page of cases, and the places and PCNs to filter by.
#[derive(Debug)]
pub struct CaseList {
    pub cases: Connection<CaseRow>,
    pub places: Vec<String>,
    /// Code and label of each PCN.
    pub pcns: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Areas {
    by_place: Vec<AreaFigures>,
    by_pcn: Vec<AreaFigures>,
}

pub async fn cases(
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
        return crate::problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Unknown status",
            "Choose a status from the list.",
        );
    }
    let areas: Areas = match load(
        &state,
        &session,
        ids_,
        "{ icb { summary { byPlace { place } byPcn { pcnCode pcnName } } } }",
        json!({}),
        &["icb", "summary"],
    )
    .await
    {
        Ok(areas) => areas,
        Err(response) => return response,
    };
    let places = areas.by_place.into_iter().map(|place| place.place).collect();
    let mut pcns: Vec<(String, String)> = areas
        .by_pcn
        .into_iter()
        .filter_map(|pcn| {
            let code = pcn.pcn_code?;
            let name = pcn
                .pcn_name
                .map_or_else(|| code.clone(), |name| format!("{name} ({code})"));
            Some((code, name))
        })
        .collect();
    pcns.sort_by(|a, b| a.1.cmp(&b.1));
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
    let cases = match query(&state, &session, ids_, &page_query, variables).await {
        Ok(data) => read::<Connection<CaseRow>>(&data, &["icb", "cases"]),
        Err(errors) if errors.iter().any(|e| e.field.as_deref() == Some("after")) => {
            return crate::problem(
                StatusCode::BAD_REQUEST,
                Some(&session),
                "That page of cases is not there",
                "Go back to the first page of the list.",
            );
        }
        Err(errors) => return gql_problem(&session, &errors),
    };
    let cases = match cases {
        Ok(cases) => cases,
        Err(error) => return internal(Some(&session), error),
    };
    let list = CaseList { cases, places, pcns };
    page("Cases", Some(&session), render_cases(&list, &filter)).into_response()
}

/// The case list's body.
pub fn render_cases(list: &CaseList, filter: &CaseFilter) -> Markup {
    let cases = &list.cases.edges;
    let total = list.cases.total_count.unwrap_or_default();
    let next = list.cases.next().map(|after| filter.link(after));
    html! {
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
                    @for place in &list.places { option value=(place) selected[filter.place == *place] { (place) } }
                }
            }
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="pcn" { "PCN" }
                select class="nhsuk-select" id="pcn" name="pcn" {
                    option value="" { "Any" }
                    @for (code, name) in &list.pcns { option value=(code) selected[filter.pcn == *code] { (name) } }
                }
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Filter" }
        }
        div id="live-region" data-live="" aria-live="polite" {
            p id="case-count" {
                (total) " " (if total == 1 { "case" } else { "cases" })
                @if i64::try_from(cases.len()).unwrap_or_default() < total { ", " (cases.len()) " on this page" }
            }
            table class="nhsuk-table-responsive" id="cases" role="table" {
                (header_row(&["Practice", "Status", "Due", "Opened", "Champion", "Visible / required a day"]))
                tbody class="nhsuk-table__body" {
                    @for case in cases.iter().map(|edge| &edge.node) {
                        tr class={"nhsuk-table__row" @if case.overdue() { " cl-row-overdue" }} role="row" {
                            (cell("Practice", practice_cell(case)))
                            (cell("Status", case_status(case)))
                            (cell("Due", due_cell(case)))
                            (cell("Opened", html! { (day(case.opened_at)) }))
                            (cell("Champion", html! { (case.assigned_to.as_deref().unwrap_or("–")) }))
                            (cell("Visible / required a day", html! { (count(case.visible_slots)) " / " (count(case.required_slots)) }))
                        }
                    }
                }
            }
            @if next.is_some() || !filter.after.is_empty() {
                nav class="nhsuk-pagination" role="navigation" aria-label="Pages of cases" {
                    ul class="nhsuk-list nhsuk-pagination__list" {
                        @if !filter.after.is_empty() {
                            li class="nhsuk-pagination-item--previous" {
                                a class="nhsuk-pagination__link nhsuk-pagination__link--prev" href=(filter.link("")) {
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
    }
}

/// What an import of the dashboard extract reported.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportReport {
    pub report_date: Option<NaiveDate>,
    pub rows: Option<i64>,
    pub flagged: Option<i64>,
    pub reopened: Option<i64>,
    pub error_count: Option<i64>,
    pub errors: Vec<ImportProblem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportProblem {
    pub line: Option<i64>,
    pub column: Option<String>,
    pub message: String,
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
    let report: ImportReport = match load(
        &state,
        &session,
        ids(ids_),
        text,
        json!({ "csv": csv }),
        &["importDashboard"],
    )
    .await
    {
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
        page("Dashboard extract", Some(&session), render_import(&report, &session)),
    )
        .into_response()
}

/// What became of an upload: imported, or every problem found (nothing applied).
pub fn render_import(report: &ImportReport, session: &Session) -> Markup {
    let errors = &report.errors;
    let listed = i64::try_from(errors.len()).unwrap_or(i64::MAX);
    html! {
        @if errors.is_empty() {
            div class="nhsuk-card nhsuk-card--confirmation" {
                div class="nhsuk-card__content" {
                    h1 class="nhsuk-card__heading" { "Extract imported" }
                    p { "Report date " (on(report.report_date)) ": " (count(report.rows)) " rows, "
                        (count(report.flagged)) " new cases, " (count(report.reopened)) " reopened." }
                }
            }
        } @else {
            @let total = report.error_count.unwrap_or(listed);
            (error_summary("The extract was not imported", &[(None, format!("{total} problems were found; nothing was applied. Correct the file and upload it again."))]))
            @if total > listed { p { "The first " (errors.len()) " are listed." } }
            h1 { "Problems in the extract" }
            table class="nhsuk-table-responsive" id="import-errors" role="table" {
                (header_row(&["Line", "Column", "Problem"]))
                tbody class="nhsuk-table__body" {
                    @for error in errors {
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Line", html! { (count(error.line)) }))
                            (cell("Column", html! { (error.column.as_deref().unwrap_or("–")) }))
                            (cell("Problem", html! { (error.message) }))
                        }
                    }
                }
            }
            (upload_form(session, None))
        }
        p { a href="/icb" { "Back to the dashboard" } }
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn places_and_pcns_show_the_same_figures_each_labelled_when_stacked() {
        let areas: Vec<AreaFigures> = serde_json::from_value(json!([
            { "pcnCode": "U1", "pcnName": "North PCN", "place": "Derby", "practices": 4, "nonCompliantPractices": 1,
              "openCases": 1, "compliantCases": 3, "medianDaysToCompliance": 12.5,
              "compliantWithinDays": { "count": 2, "percentage": 66.7 } }
        ]))
        .unwrap();
        let html = area_table(
            "By PCN",
            "by-pcn",
            &areas,
            |pcn| html! { (pcn.pcn_name.as_deref().unwrap_or("")) },
        )
        .into_string();
        for figure in ["75%", "12.5", "2 (67%)"] {
            assert!(html.contains(figure), "{figure} in {html}");
        }
        // Every cell of a row keeps its column's label for a phone's stacked rows.
        let cells = html.matches("<td").count();
        let labels = html.matches("nhsuk-table-responsive__heading").count();
        assert_eq!((cells, labels), (7, 7), "{html}");
        assert!(html.contains(r#"data-place-compliant="U1""#));
    }
}
