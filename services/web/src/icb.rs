//! The ICB's pages: the assurance dashboard, the list of cases, and the dashboard extract's
//! upload.

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::CaseStatus;
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};
use serde::Deserialize;

use crate::contract::Day;
use crate::layout::{error_summary, page, status_label};
use crate::lists::{case_status, cell, day, due_cell, header_row, on, practice_cell, urlencode};
use crate::model::{AreaFigures, CaseRow, count, days};
use crate::operations::icb::{
    AreasQuery, CaseConnection, CasesQuery, CasesVariables, DashboardQuery, DashboardVariables, ImportDashboard,
    ImportReport, ImportVariables, Slots, TrendQuery, TrendVariables,
};
use crate::operations::reports::{
    DismissDhuReport, DismissDhuReportInput, DismissVariables, OpenCaseFromDhuReport, OpenCaseFromDhuReportInput,
    OpenVariables,
};
use crate::session::Session;
use crate::{Ids, WebState, charts, csrf_refused, fetch, gql_problem, ids, redirect, signed_in, signed_in_form};
use axum::extract::{Form, Path};

fn slots(of: Option<&Slots>) -> String {
    of.map_or_else(|| "–".into(), |s| s.slots.to_string())
}

#[derive(Debug, Deserialize, Default)]
pub struct TrendRange {
    /// `activity` (the default: the weeks until a week after the last change), `12`, `26` (the
    /// last weeks to today) or `all`.
    #[serde(default)]
    weeks: String,
}

/// The trend's points for `range`.
fn trend_range(points: Vec<charts::Point>, range: &str) -> Vec<charts::Point> {
    match range {
        "all" => points,
        "12" | "26" => {
            let last = if range == "12" { 12 } else { 26 };
            let skip = points.len().saturating_sub(last);
            points.into_iter().skip(skip).collect()
        }
        _ => {
            let keep = charts::with_activity(&points);
            points.into_iter().take(keep).collect()
        }
    }
}

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
    dashboard_page(&state, &session, ids(ids_), &range.weeks, None).await
}

pub use crate::reports::TriageProblem;

/// The dashboard for `session`, its trend over `weeks`; with a triage form's problem, the same
/// page comes back with the error where the form is, and what was typed (422).
pub async fn dashboard_page(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    weeks: &str,
    problem: Option<TriageProblem>,
) -> Response {
    let (state, session) = (state.clone(), session.clone());
    let week_ago = (caseledger_clock::now() - chrono::Duration::days(7)).fixed_offset();
    let last_visit = crate::visit(&state, &session, ids_)
        .await
        .and_then(|visit| visit.me.last_visit_at);
    let dashboard = match fetch(
        &state,
        &session,
        ids_,
        DashboardQuery::build(DashboardVariables {
            week_ago: Some(week_ago),
            last_visit: Some(last_visit.unwrap_or(week_ago)),
        }),
    )
    .await
    {
        Ok(dashboard) => dashboard,
        Err(response) => return response,
    };
    let today = caseledger_clock::today();
    // From the first day a case was open (at most ten years back: the trend's own limit).
    let first = dashboard
        .icb
        .trend_start
        .map_or(today, |day| day.0)
        .max(today - chrono::Days::new(3_640))
        .min(today);
    let span = TrendVariables {
        from: Day(first),
        to: Day(today),
    };
    let trend: Vec<charts::Point> = match fetch(&state, &session, ids_, TrendQuery::build(span)).await {
        Ok(query) => query.icb.trend.iter().map(charts::Point::from).collect(),
        Err(response) => return response,
    };
    let weeks = if weeks.is_empty() { "activity" } else { weeks };
    let trend = trend_range(trend, weeks);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        @if let Some(problem) = &problem {
            (crate::layout::error_summary("There is a problem", &[(Some(format!("dismiss-{}", problem.report_id)), problem.message.clone())]))
        }
        (render_dashboard(&dashboard, &trend, weeks, &session, last_visit, problem.as_ref()))
    };
    (status, page("Assurance dashboard", Some(&session), body)).into_response()
}

/// The dashboard's body, with the trend's `points` for the range `weeks`.
pub fn render_dashboard(
    dashboard: &DashboardQuery,
    points: &[charts::Point],
    weeks: &str,
    session: &Session,
    last_visit: Option<crate::contract::Instant>,
    problem: Option<&TriageProblem>,
) -> Markup {
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
        ("Practices monitored", s.practices.to_string()),
        ("Practices below requirement", s.non_compliant_practices.to_string()),
        ("Open cases", s.open_cases.to_string()),
        ("Compliant cases", s.compliant_cases.to_string()),
        ("Closed cases", s.closed_cases.to_string()),
        ("Median days to compliance", days(s.median_days_to_compliance)),
        ("Compliant within 8 weeks", s.compliant_within_days.text()),
    ];
    let weeks_to_compliance: Vec<i64> = s
        .time_to_compliance
        .iter()
        .map(|bucket| i64::from(bucket.count))
        .collect();
    let overdue = &icb.overdue;
    let signed = |n: i32| if n > 0 { format!("+{n}") } else { n.to_string() };
    let reports_to_triage = icb.dhu_reports.len();
    let work = [
        ("overdue", "Overdue cases", overdue.len()),
        ("triage", "DHU reports to triage", reports_to_triage),
        (
            "disagreeing-practices",
            "Practices whose counts disagree",
            dashboard.disagreeing.edges.len(),
        ),
        (
            "missing-practices",
            "Practices with no data two weeks running",
            dashboard.missing.edges.len(),
        ),
        (
            "closed-practices",
            "Closed practices with an open case",
            dashboard.closed_with_open_case.edges.len(),
        ),
    ];
    let since_visit = last_visit.map(|at| {
        let then = &icb.since_visit;
        (
            at,
            [
                ("New cases", s.cases_opened - then.cases_opened),
                ("Newly compliant", s.compliant_cases - then.compliant_cases),
                ("Closed", s.closed_cases - then.closed_cases),
                ("Open cases", s.open_cases - then.open_cases),
            ],
        )
    });
    let change_list = |id: &str, heading: String, changes: &[(&str, i32)], overdue_now: Option<usize>| {
        html! {
            div class="nhsuk-card" id=(id) {
                div class="nhsuk-card__content" {
                    h2 class="nhsuk-card__heading nhsuk-heading-m" { (heading) }
                    dl class="nhsuk-summary-list" {
                        @for (label, n) in changes {
                            div class="nhsuk-summary-list__row" {
                                dt class="nhsuk-summary-list__key" { (label) }
                                dd class="nhsuk-summary-list__value" data-change=(label) { (signed(*n)) }
                            }
                        }
                        @if let Some(now) = overdue_now {
                            div class="nhsuk-summary-list__row" {
                                dt class="nhsuk-summary-list__key" { "Overdue now" }
                                dd class="nhsuk-summary-list__value" data-change="Overdue now" { (now) }
                            }
                        }
                    }
                }
            }
        }
    };
    let pcns_with_work: Vec<AreaFigures> = s
        .by_pcn
        .iter()
        .filter(|pcn| pcn.open_cases > 0 || pcn.non_compliant_practices > 0)
        .take(20)
        .cloned()
        .map(AreaFigures::from)
        .collect();
    html! {
        h1 { "Assurance dashboard" }
        p class="nhsuk-body-l" id="data-as-at" {
            @match icb.data_as_at {
                Some(at) => { "Data as at " strong { (on(Some(at.0))) } " (the latest dashboard extract)." }
                None => { "No dashboard extract has been imported yet." }
            }
        }
        (crate::lists::practice_search("/icb/practices", "", &[]))
        div class="nhsuk-card nhsuk-card--feature" id="work" {
            div class="nhsuk-card__content nhsuk-card__content--feature" {
                h2 class="nhsuk-card__heading nhsuk-card__heading--feature nhsuk-heading-m" { "Work to do" }
                ul class="nhsuk-list" {
                    @for (anchor, label, n) in &work {
                        li data-work=(anchor) {
                            @if *n > 0 { a href={"#" (anchor)} { strong { (n) } " " (label) } }
                            @else { span class="cl-muted" { "0 " (label) } }
                        }
                    }
                }
            }
        }
        div id="live-region" data-live="" aria-live="polite" {
            h2 class="nhsuk-heading-m" { "Overdue cases (" (overdue.len()) ")" }
            @if overdue.is_empty() {
                p id="overdue" { "No case is past its stage's target." }
            } @else {
                table class="nhsuk-table-responsive" id="overdue" role="table" {
                    (header_row(&["Practice", "Status", "Champion", "Due"]))
                    tbody class="nhsuk-table__body" {
                        @for case in overdue.iter().take(20) {
                            tr class="nhsuk-table__row cl-row-overdue" role="row" {
                                (cell("Practice", practice_cell(case)))
                                (cell("Status", case_status(case)))
                                (cell("Champion", html! { (case.assigned_to.as_deref().unwrap_or("Nobody yet")) }))
                                (cell("Due", due_cell(case)))
                            }
                        }
                    }
                }
                @if overdue.len() > 20 { p { (overdue.len() - 20) " more: the longest overdue are listed first." } }
            }
        }
        (crate::reports::triage_table(session, &icb.dhu_reports, problem))
        (attention(dashboard))
        div id="figures-region" data-live="" aria-live="polite" {
            div class="nhsuk-grid-row" {
                div class="nhsuk-grid-column-one-half" {
                    (change_list("this-week", "In the last 7 days".to_string(), &changes, Some(overdue.len())))
                }
                @if let Some((at, changes)) = &since_visit {
                    div class="nhsuk-grid-column-one-half" {
                        (change_list("since-last-visit", format!("Since your last visit ({})", crate::lists::day_time(*at)), changes, None))
                    }
                }
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
            (area_table("By place", "by-place", &s.by_place.iter().cloned().map(AreaFigures::from).collect::<Vec<_>>(), |place| html! {
                a href={"/icb/cases?place=" (urlencode(&place.place))} { (place.place) }
            }))
            h2 class="nhsuk-heading-m" { "PCNs with open work" }
            @if pcns_with_work.is_empty() {
                p id="by-pcn" { "No PCN has an open case or a practice below the requirement." }
            } @else {
                p class="nhsuk-body-s" { "Only PCNs with an open case or a practice below the requirement; most practices below it and most open cases first." }
                (area_table("By PCN", "by-pcn", &pcns_with_work, |pcn| {
                    let code = pcn.pcn_code.as_deref().unwrap_or("");
                    html! {
                        a href={"/icb/cases?pcn=" (urlencode(code))} { (pcn.pcn_name.as_deref().unwrap_or(code)) }
                        " " span class="nhsuk-body-s cl-muted" { (code) " · " (pcn.place) }
                    }
                }))
            }
        }
        h2 class="nhsuk-heading-m" { "Dashboard extract" }
        (upload_form(session, None))
        p { a href="/icb/register" id="register-link" { "Load the practice register from NHS England's files" } }
        h2 class="nhsuk-heading-m" { "Assurance report" }
        p {
            "Download the assurance report: "
            a href="/icb/report.xlsx" download="" { "spreadsheet (XLSX)" }
            " or "
            a href="/icb/report.csv" download="" { "CSV" }
            ". A cover sheet says which ICB, the period, what the figures are as at and what each means; the case list's filters choose the cases."
        }
        form method="get" action="/icb/report.xlsx" class="cl-filters" id="report-as-at" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="report-as-of" { "Figures as at the end of (optional)" }
                input class="nhsuk-input nhsuk-input--width-10" id="report-as-of" name="asOf" type="date" max=(caseledger_clock::today().format("%Y-%m-%d").to_string());
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Download as at that day" }
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
fn attention(dashboard: &DashboardQuery) -> Markup {
    let missing = &dashboard.missing.edges;
    let disagreeing = &dashboard.disagreeing.edges;
    let closed = &dashboard.closed_with_open_case.edges;
    html! {
        @if !closed.is_empty() {
            h2 class="nhsuk-heading-m" { "Closed practices with an open case" }
            p { "ODS lists these practices as closed. Decide on each case: close it as practice closed." }
            ul class="nhsuk-list nhsuk-list--bullet" id="closed-practices" {
                @for p in closed.iter().map(|edge| &edge.node) {
                    li { a href={"/practices/" (p.ods_code)} { (p.name) } " (" (p.ods_code) ", " (p.place) ")" }
                }
            }
        }
        h2 class="nhsuk-heading-m" { "No data two weeks running" }
        @if missing.is_empty() { p id="missing-practices" { "Every registered practice was in one of the last two extracts." } }
        @else {
            ul class="nhsuk-list nhsuk-list--bullet" id="missing-practices" {
                @for p in missing.iter().map(|edge| &edge.node) {
                    li { a href={"/practices/" (p.ods_code)} { (p.name) } " (" (p.ods_code) ", " (p.place) "): no data for " (p.missing_weeks) " weeks" }
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
                        @let counts = &p.counts;
                        tr class="nhsuk-table__row" role="row" {
                            (cell("Practice", html! { a href={"/practices/" (p.ods_code)} { (p.name) } }))
                            (cell("Required", html! { (counts.required_slots) }))
                            (cell("Configured", html! { (slots(counts.configured.as_ref())) }))
                            (cell("Seen by DHU", html! { (slots(counts.seen_by_dhu.as_ref())) }))
                            (cell("Dashboard", html! { (slots(counts.dashboard.as_ref())) }))
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
    /// The filter as the query's variables (the first page).
    fn variables(&self) -> CasesVariables {
        let given = |value: &String| (!value.is_empty()).then(|| value.clone());
        CasesVariables {
            first: None,
            after: given(&self.after),
            status: CaseStatus::parse(&self.status).map(|status| vec![status.into()]),
            place: given(&self.place),
            pcn: given(&self.pcn),
        }
    }

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
const CASES_PER_PAGE: i32 = 50;

/// Every case the ICB's view lists under `filter` (paged through).
pub async fn all_cases(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    filter: &CaseFilter,
) -> Result<Vec<CaseRow>, Response> {
    let mut after: Option<String> = None;
    let mut cases = Vec::new();
    loop {
        let page = CasesQuery::build(CasesVariables {
            first: Some(500),
            after: after.take(),
            ..filter.variables()
        });
        let connection = fetch(state, session, ids_, page).await?.icb.cases;
        cases.extend(connection.edges.into_iter().map(|edge| edge.node));
        match connection.page_info.next() {
            Some(next) => after = Some(next.to_string()),
            None => return Ok(cases),
        }
    }
}

/// What the case list shows: a page of cases, and the places and PCNs to filter by.
#[derive(Debug)]
pub struct CaseList {
    pub cases: CaseConnection,
    pub places: Vec<String>,
    /// Code and label of each PCN offered (see [`PCNS_OFFERED_ANYWHERE`]).
    pub pcns: Vec<(String, String)>,
    /// Which PCNs those are.
    pub pcns_scope: PcnScope,
}

/// Up to this many PCNs, the filter offers every one; above it (a region, or the whole country)
/// it offers those of the place chosen, or of the chosen PCN's place: a list of 1,250 PCNs is
/// no use to choose from, and was most of the page.
pub const PCNS_OFFERED_ANYWHERE: usize = 100;

/// Which PCNs the case list's filter offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcnScope {
    /// Every one.
    All,
    /// Those of this place (and the PCN chosen, wherever it is).
    Place(String),
    /// None until a place is chosen (and the PCN chosen, if any).
    ChooseAPlace,
}

impl PcnScope {
    /// What the hint under the PCN label says, if anything.
    fn hint(&self) -> Option<String> {
        match self {
            PcnScope::All => None,
            PcnScope::Place(place) => Some(format!("The PCNs in {place}.")),
            PcnScope::ChooseAPlace => Some("Choose a place to list its PCNs.".to_string()),
        }
    }
}

/// The PCNs the case list's filter offers for `filter`, as code and label, by label, and which
/// they are. The PCN chosen is always among them, so the list shows what the cases are filtered
/// by.
fn pcns_offered(pcns: Vec<crate::operations::icb::PcnName>, filter: &CaseFilter) -> (Vec<(String, String)>, PcnScope) {
    let scope = if pcns.len() <= PCNS_OFFERED_ANYWHERE {
        PcnScope::All
    } else if !filter.place.is_empty() {
        PcnScope::Place(filter.place.clone())
    } else {
        pcns.iter()
            .find(|pcn| pcn.pcn_code == filter.pcn)
            .map_or(PcnScope::ChooseAPlace, |pcn| PcnScope::Place(pcn.place.clone()))
    };
    let mut offered: Vec<(String, String)> = pcns
        .into_iter()
        .filter(|pcn| match &scope {
            PcnScope::All => true,
            PcnScope::Place(place) => *place == pcn.place || pcn.pcn_code == filter.pcn,
            PcnScope::ChooseAPlace => pcn.pcn_code == filter.pcn,
        })
        .map(|pcn| {
            let name = pcn
                .pcn_name
                .map_or_else(|| pcn.pcn_code.clone(), |name| format!("{name} ({})", pcn.pcn_code));
            (pcn.pcn_code, name)
        })
        .collect();
    offered.sort_by(|a, b| a.1.cmp(&b.1));
    (offered, scope)
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
    if !filter.status.is_empty() && CaseStatus::parse(&filter.status).is_none() {
        return crate::problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "Unknown status",
            "Choose a status from the list.",
        );
    }
    let areas = match fetch(&state, &session, ids_, AreasQuery::build(())).await {
        Ok(query) => query.icb.summary,
        Err(response) => return response,
    };
    let places = areas.by_place.into_iter().map(|place| place.place).collect();
    let (pcns, pcns_scope) = pcns_offered(areas.by_pcn, &filter);
    let one_page = CasesQuery::build(CasesVariables {
        first: Some(CASES_PER_PAGE),
        ..filter.variables()
    });
    let cases = match crate::contract::run(&state.0.schema, &session.actor, ids_, one_page).await {
        Ok(query) => query.icb.cases,
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
    let list = CaseList {
        cases,
        places,
        pcns,
        pcns_scope,
    };
    let visit = crate::visit(&state, &session, ids_).await;
    let shown: Vec<crate::lists::Changed<'_>> = list.cases.edges.iter().map(|edge| (&edge.node).into()).collect();
    let since = crate::lists::as_at_and_since(visit.as_ref(), &shown);
    page("Cases", Some(&session), render_cases(&list, &filter, &since)).into_response()
}

/// The case list's body; `since` is what it is as at and what changed since the last visit.
pub fn render_cases(list: &CaseList, filter: &CaseFilter, since: &Markup) -> Markup {
    let cases = &list.cases.edges;
    let total = list.cases.total_count;
    let next = list.cases.page_info.next().map(|after| filter.link(after));
    html! {
        h1 { "Cases" }
        (since)
        form method="get" action="/icb/cases" class="cl-filters" {
            div class="nhsuk-form-group cl-inline" {
                label class="nhsuk-label" for="status" { "Status" }
                select class="nhsuk-select" id="status" name="status" {
                    option value="" { "Any" }
                    @for status in CaseStatus::ALL { option value=(status.as_str()) selected[filter.status == status.as_str()] { (status_label(status)) } }
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
                @let hint = list.pcns_scope.hint();
                @if let Some(hint) = &hint {
                    div class="nhsuk-hint" id="pcn-hint" { (hint) }
                }
                select class="nhsuk-select" id="pcn" name="pcn" aria-describedby=[hint.is_some().then_some("pcn-hint")] {
                    option value="" { "Any" }
                    @for (code, name) in &list.pcns { option value=(code) selected[filter.pcn == *code] { (name) } }
                }
            }
            button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Filter" }
        }
        @let report_query = filter.link("").trim_start_matches("/icb/cases?").to_string();
        p id="cases-export" {
            "Download these cases: "
            a href={"/icb/report.xlsx?" (report_query)} download="" { "spreadsheet (XLSX)" }
            " or "
            a href={"/icb/report.csv?" (report_query)} download="" { "CSV" }
        }
        div id="live-region" data-live="" aria-live="polite" {
            p id="case-count" {
                (total) " " (if total == 1 { "case" } else { "cases" })
                @if i32::try_from(cases.len()).unwrap_or_default() < total { ", " (cases.len()) " on this page" }
            }
            table class="nhsuk-table-responsive" id="cases" role="table" {
                (header_row(&["Practice", "Status", "Due", "Opened", "Champion", "Visible / required a day"]))
                tbody class="nhsuk-table__body" {
                    @for case in cases.iter().map(|edge| &edge.node) {
                        tr class={"nhsuk-table__row" @if case.overdue() { " cl-row-overdue" }} role="row" {
                            (cell("Practice", practice_cell(case)))
                            (cell("Status", case_status(case)))
                            (cell("Due", due_cell(case)))
                            (cell("Opened", html! { (day(Some(case.opened_at))) }))
                            (cell("Champion", html! { (case.assigned_to.as_deref().unwrap_or("–")) }))
                            (cell("Visible / required a day", html! { (count(case.visible_slots.map(i64::from))) " / " (case.required_slots) }))
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

pub async fn import(State(state): State<WebState>, headers: HeaderMap, ids_: Ids, multipart: Multipart) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let (form, csv) = match crate::lists::read_upload(multipart).await {
        Ok(upload) => upload,
        Err(message) => return bad_upload(&session, &message),
    };
    if let Some(refused) = csrf_refused(&session, &form) {
        return refused;
    }
    let Some(csv) = csv.filter(|c| !c.trim().is_empty()) else {
        return bad_upload(&session, "Choose a CSV file to upload");
    };
    let report = match fetch(
        &state,
        &session,
        ids(ids_),
        ImportDashboard::build(ImportVariables { csv }),
    )
    .await
    {
        Ok(mutation) => mutation.import_dashboard,
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
    html! {
        @if errors.is_empty() {
            div class="nhsuk-card nhsuk-card--confirmation" {
                div class="nhsuk-card__content" {
                    h1 class="nhsuk-card__heading" { "Extract imported" }
                    p { "Report date " (on(report.report_date.map(|day| day.0))) ": " (report.rows) " rows, "
                        (report.flagged) " new cases, " (report.reopened) " reopened." }
                }
            }
        } @else {
            (crate::lists::import_problems("The extract was not imported", "Problems in the extract", errors, report.error_count))
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

    fn pcns(count: usize) -> Vec<crate::operations::icb::PcnName> {
        (0..count)
            .map(|i| crate::operations::icb::PcnName {
                pcn_code: format!("U{i:05}"),
                pcn_name: (i % 2 == 0).then(|| format!("PCN {i:05}")),
                place: format!("Place {}", i % 7),
            })
            .collect()
    }

    fn filter(place: &str, pcn: &str) -> CaseFilter {
        CaseFilter {
            place: place.into(),
            pcn: pcn.into(),
            ..CaseFilter::default()
        }
    }

    #[test]
    fn the_pcn_filter_offers_every_pcn_of_a_small_region_and_one_places_of_a_large_one() {
        let (offered, scope) = pcns_offered(pcns(PCNS_OFFERED_ANYWHERE), &filter("", ""));
        assert_eq!(scope, PcnScope::All);
        assert_eq!(scope.hint(), None);
        assert_eq!(offered.len(), PCNS_OFFERED_ANYWHERE);
        assert!(offered.windows(2).all(|w| w[0].1 <= w[1].1), "by label");
        assert!(offered.contains(&("U00000".into(), "PCN 00000 (U00000)".into())));
        assert!(offered.contains(&("U00001".into(), "U00001".into())));

        let national = pcns(1_250);
        let (offered, scope) = pcns_offered(national.clone(), &filter("", ""));
        assert_eq!(scope, PcnScope::ChooseAPlace);
        assert!(offered.is_empty(), "none until a place is chosen");

        let place_3: Vec<String> = national
            .iter()
            .filter(|p| p.place == "Place 3")
            .map(|p| p.pcn_code.clone())
            .collect();
        let (offered, scope) = pcns_offered(national.clone(), &filter("Place 3", ""));
        assert_eq!(scope.hint().as_deref(), Some("The PCNs in Place 3."));
        assert_eq!(offered.len(), place_3.len());
        assert!(offered.iter().all(|(code, _)| place_3.contains(code)));

        // A PCN chosen from the dashboard's link, with no place: its place's PCNs, itself among them.
        let (offered, scope) = pcns_offered(national.clone(), &filter("", "U00010"));
        assert_eq!(scope, PcnScope::Place("Place 3".into()));
        assert_eq!(offered.len(), place_3.len());
        assert!(offered.iter().any(|(code, _)| code == "U00010"));

        // The place changed and the old PCN kept: it stays offered, so the list shows what the
        // cases are filtered by.
        let (offered, _) = pcns_offered(national.clone(), &filter("Place 3", "U00011"));
        assert_eq!(offered.len(), place_3.len() + 1);
        assert!(offered.iter().any(|(code, _)| code == "U00011"));

        // A PCN code nobody has: nothing to offer, and a place to choose.
        let (offered, scope) = pcns_offered(national, &filter("", "NOPE"));
        assert_eq!(scope, PcnScope::ChooseAPlace);
        assert!(offered.is_empty());
    }

    #[test]
    fn places_and_pcns_show_the_same_figures_each_labelled_when_stacked() {
        let pcn: crate::operations::icb::PcnFigures = serde_json::from_value(json!(
            { "pcnCode": "U1", "pcnName": "North PCN", "place": "Derby", "practices": 4, "nonCompliantPractices": 1,
              "openCases": 1, "compliantCases": 3, "medianDaysToCompliance": 12.5,
              "compliantWithinDays": { "count": 2, "percentage": 66.7 } }
        ))
        .unwrap();
        let areas = vec![AreaFigures::from(pcn)];
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

#[derive(Debug, Deserialize, Default)]
pub struct Search {
    /// An ODS code's start, or part of a practice's name.
    #[serde(default)]
    q: String,
}

/// `GET /icb/practices?q=`: any practice by ODS code or name, to open its page (and flag it).
pub async fn practices(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(search): Query<Search>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let q = search.q.trim().chars().take(100).collect::<String>();
    let found = if q.is_empty() {
        Vec::new()
    } else {
        match fetch(
            &state,
            &session,
            ids(ids_),
            crate::operations::dhu::SearchQuery::build(crate::operations::dhu::SearchVariables { q: q.clone() }),
        )
        .await
        {
            Ok(query) => query.practices.edges.into_iter().map(|edge| edge.node).collect(),
            Err(response) => return response,
        }
    };
    let body = html! {
        h1 { "Find a practice" }
        (crate::lists::practice_search("/icb/practices", &q, &found))
        p { a href="/icb" { "Back to the dashboard" } }
    };
    page("Find a practice", Some(&session), body).into_response()
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
    let command_id = crate::reports::field(&form, "commandId").map(cynic::Id::new);
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
                reason: crate::reports::field(&form, "reason").unwrap_or("").to_string(),
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
            return crate::problem(
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
            let typed = crate::reports::field(&form, "reason").unwrap_or("").to_string();
            let message = if typed.trim().is_empty() {
                "Enter why nothing needs doing about this report".to_string()
            } else {
                errors.first().map_or_else(String::new, |e| {
                    let said = e.said();
                    format!("The reason {said}")
                })
            };
            let problem = TriageProblem {
                report_id: id.clone(),
                message,
                typed,
            };
            dashboard_page(&state, &session, ids_, "", Some(problem)).await
        }
        Err(errors) => gql_problem(&session, &errors),
    }
}
