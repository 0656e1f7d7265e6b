//! The ICB's assurance report, as a spreadsheet people can use: every case with human labels,
//! dates people read and its days to compliance; as CSV (UTF-8 with a byte-order mark, so Excel
//! reads it as UTF-8; cells that a spreadsheet would run as formulas neutralised) and as XLSX (a
//! summary sheet of the figures by place and PCN, and a cases sheet with typed cells: numbers as
//! numbers, dates as dates, text never a formula). One column list serves both.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use cynic::QueryBuilder;
use rust_xlsxwriter::{Workbook, XlsxError};

use crate::sheet::{CSV, Cell, Formats, Table, XLSX, download, file_name, print_setup, write_table};

use super::layout::status_label;
use super::session::Session;
use super::{Ids, WebState, fetch, ids, internal, person, signed_in, throttled};
use crate::icb::{CaseFilter, all_cases};
use crate::model::CaseRow;
use crate::operations::icb::{ReportFigures, ReportQuery, ReportVariables};
use crate::operations::lmc::OversightQuery;
use serde::Deserialize;

/// Names beside the codes and ids the cases carry.
#[derive(Debug, Default)]
struct Names {
    pcns: HashMap<String, String>,
    champions: HashMap<String, String>,
}

impl Names {
    fn pcn(&self, code: &str) -> Cell {
        Cell::text(self.pcns.get(code).map(String::as_str))
    }

    fn champion(&self, id: Option<&str>) -> Cell {
        match id {
            Some(id) => match self.champions.get(id) {
                Some(name) => Cell::Text(format!("{name} ({id})")),
                None => Cell::Text(id.to_string()),
            },
            None => Cell::Empty,
        }
    }
}

/// The cases: one row each, names beside codes, dates as dates.
fn cases_table(cases: &[CaseRow], names: &Names) -> Table {
    let columns = vec![
        ("Practice", 34.0),
        ("ODS code", 10.0),
        ("PCN code", 10.0),
        ("PCN", 30.0),
        ("Place", 16.0),
        ("List size", 10.0),
        ("Slots required a day", 12.0),
        ("Slots visible a day", 12.0),
        ("Status", 14.0),
        ("Opened", 13.0),
        ("Compliant", 13.0),
        ("Closed", 13.0),
        ("Days to compliance", 12.0),
        ("Overdue", 9.0),
        ("Waiting on", 24.0),
        ("Due", 13.0),
        ("Champion", 28.0),
        ("Root causes", 40.0),
        ("Case ID", 38.0),
    ];
    let rows = cases
        .iter()
        .map(|c| {
            let deadline = c.deadline.as_ref();
            vec![
                Cell::text(Some(&c.practice.name)),
                Cell::text(Some(&c.practice.ods_code)),
                Cell::text(Some(&c.practice.pcn_code)),
                names.pcn(&c.practice.pcn_code),
                Cell::text(Some(&c.practice.place)),
                Cell::count(c.practice.list_size),
                Cell::count(c.required_slots),
                c.visible_slots.map_or(Cell::Empty, Cell::count),
                Cell::Text(status_label(c.state())),
                Cell::date(Some(c.opened_at)),
                Cell::date(c.compliant_at),
                Cell::date(c.closed_at),
                Cell::decimal(c.days_to_compliance()),
                match deadline {
                    Some(deadline) if deadline.overdue => Cell::Text("Yes".into()),
                    Some(_) => Cell::Text("No".into()),
                    None => Cell::Empty,
                },
                Cell::text(deadline.map(|d| d.awaiting.as_str())),
                deadline.map_or(Cell::Empty, |d| Cell::Date(d.due_on)),
                names.champion(c.assigned_to.as_deref()),
                {
                    let causes: Vec<&str> = c
                        .root_causes
                        .iter()
                        .map(|cause| crate::reports::root_cause_label((*cause).into()))
                        .collect();
                    Cell::text(Some(&causes.join("; ")))
                },
                Cell::text(Some(c.key())),
            ]
        })
        .collect();
    Table { columns, rows }
}

/// The report's filter (the case list's: status, place, PCN) and the day its figures are as at.
#[derive(Debug, Deserialize, Default)]
pub struct ReportParams {
    #[serde(default)]
    status: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    pcn: String,
    /// `YYYY-MM-DD`: the figures as at the end of that day (default: now).
    #[serde(default, rename = "asOf")]
    as_of: String,
}

impl ReportParams {
    fn filter(&self) -> CaseFilter {
        CaseFilter {
            status: self.status.clone(),
            place: self.place.clone(),
            pcn: self.pcn.clone(),
            after: String::new(),
        }
    }

    /// The as-at day, if one was asked for and is a date not after today.
    fn as_of(&self) -> Result<Option<NaiveDate>, String> {
        if self.as_of.trim().is_empty() {
            return Ok(None);
        }
        match NaiveDate::parse_from_str(self.as_of.trim(), "%Y-%m-%d") {
            Ok(day) if day <= caseledger_clock::today() => Ok(Some(day)),
            Ok(_) => Err("The report's as-at date must be today or earlier".into()),
            Err(_) => Err("Give the as-at date as YYYY-MM-DD, like 2026-03-31".into()),
        }
    }

    /// The filter in words, for the cover.
    fn described(&self, names: &Names) -> String {
        let mut parts = Vec::new();
        if let Some(status) = caseledger_cases::CaseStatus::parse(&self.status) {
            parts.push(format!("status {}", status_label(status)));
        }
        if !self.place.is_empty() {
            parts.push(format!("place {}", self.place));
        }
        if !self.pcn.is_empty() {
            parts.push(match names.pcns.get(&self.pcn) {
                Some(name) => format!("PCN {name} ({})", self.pcn),
                None => format!("PCN {}", self.pcn),
            });
        }
        if parts.is_empty() {
            "Every case".into()
        } else {
            format!("Cases of {}", parts.join(", "))
        }
    }
}

/// What the ICB's report holds: who, what, as at when; its figures and cases.
struct Report {
    icb: ReportFigures,
    cases: Vec<CaseRow>,
    names: Names,
    params: ReportParams,
    as_of: Option<NaiveDate>,
    produced_by: String,
}

/// The signed-in person's report, and the export's place in the throttle (hold it until the file
/// is written).
async fn report_of(
    state: &WebState,
    headers: &HeaderMap,
    ids_: Ids,
    params: ReportParams,
) -> Result<(Session, Report, caseledger_commands::throttle::Permit), Response> {
    let session = signed_in(state, headers).await?;
    let as_of = params.as_of().map_err(|message| {
        super::problem(
            StatusCode::BAD_REQUEST,
            Some(&session),
            "The report cannot be made",
            &message,
        )
    })?;
    let permit = throttled(
        state,
        &session,
        &person(&session),
        caseledger_commands::throttle::Work::Export,
    )?;
    let ids_ = ids(ids_);
    let cases = all_cases(state, &session, ids_, &params.filter()).await?;
    // The end of the as-at day in the UK.
    let as_of_instant = as_of
        .and_then(|day| day.and_hms_opt(23, 59, 59))
        .map(caseledger_cases::ukclock::from_local);
    let icb = fetch(
        state,
        &session,
        ids_,
        ReportQuery::build(ReportVariables { as_of: as_of_instant }),
    )
    .await?
    .icb;
    let names = Names {
        pcns: icb
            .summary
            .by_pcn
            .iter()
            .filter_map(|pcn| Some((pcn.pcn_code.clone(), pcn.pcn_name.clone()?)))
            .collect(),
        champions: icb
            .champions
            .iter()
            .filter_map(|champion| Some((champion.id.clone(), champion.name.clone()?)))
            .collect(),
    };
    let produced_by = session.actor.id.as_str().to_string();
    Ok((
        session,
        Report {
            icb,
            cases,
            names,
            params,
            as_of,
            produced_by,
        },
        permit,
    ))
}

/// `/icb/report.csv`: the cases sheet, filtered as asked.
pub async fn csv(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(params): Query<ReportParams>,
) -> Response {
    let (session, report, _exporting) = match report_of(&state, &headers, ids_, params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match cases_table(&report.cases, &report.names).csv() {
        Ok(bytes) => download(CSV, file_name("assurance", "csv"), bytes),
        Err(error) => internal(Some(&session), error),
    }
}

/// `/icb/report.xlsx`: a cover, the figures and the cases.
pub async fn xlsx(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Query(params): Query<ReportParams>,
) -> Response {
    let (session, report, _exporting) = match report_of(&state, &headers, ids_, params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match workbook(&report, state.0.icb_name.as_deref()) {
        Ok(bytes) => download(XLSX, file_name("assurance", "xlsx"), bytes),
        Err(error) => internal(Some(&session), error),
    }
}

/// The definitions the figures use, as `docs/rules.md` gives them.
const DEFINITIONS: [(&str, &str); 8] = [
    (
        "Requirement",
        "A practice must offer max(1, floor(list size / 3,000)) NHS 111 appointment slots a day, visible to the 111 provider; the list size is the latest NHS England publishes.",
    ),
    (
        "Case",
        "A practice flagged below the requirement, from the dashboard extract or by hand; a reopen starts a new episode.",
    ),
    ("Open", "A case that is neither compliant nor closed."),
    (
        "Compliant",
        "The case's current episode was confirmed compliant by the ICB, on the DHU's confirmation, a dashboard row or a GP Connect check.",
    ),
    (
        "Days to compliance",
        "Calendar days from the episode's opening to its confirmation of compliance; the median is over the compliant cases.",
    ),
    (
        "Compliant within 8 weeks",
        "Compliant cases whose days to compliance were at most 56, as a share of the cases opened.",
    ),
    (
        "Overdue",
        "An open case whose current stage is past its target, counted in working days (weekends and bank holidays in England and Wales excluded).",
    ),
    (
        "% compliant",
        "Compliant cases as a share of open and compliant cases, by place.",
    ),
];

fn workbook(report: &Report, icb_name: Option<&str>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    let icb = &report.icb;
    let s = &icb.summary;
    let today = caseledger_clock::today();
    let as_at = report.as_of.unwrap_or(today);
    let overdue = report.cases.iter().filter(|case| case.overdue()).count();
    let first_opened = report
        .cases
        .iter()
        .map(|case| caseledger_cases::ukclock::to_uk(case.opened_at.with_timezone(&chrono::Utc)).date_naive())
        .min();

    let cover = book.add_worksheet().set_name("Cover")?;
    cover.write_string_with_format(0, 0, "NHS 111 direct booking slots: assurance report", &formats.title)?;
    let uk = |day: NaiveDate| day.format("%-d %B %Y").to_string();
    let lines = [
        (
            "ICB",
            icb_name.unwrap_or("Not named (set CASELEDGER_ICB_NAME)").to_string(),
        ),
        (
            "Period",
            match first_opened {
                Some(first) => format!("{} to {}", uk(first.min(as_at)), uk(as_at)),
                None => format!("To {}", uk(as_at)),
            },
        ),
        ("Figures as at", format!("End of {}", uk(as_at))),
        (
            "Dashboard data as at",
            icb.data_as_at
                .map_or_else(|| "No extract imported yet".to_string(), |day| uk(day.0)),
        ),
        ("Cases included", report.params.described(&report.names)),
        ("Cases overdue now", overdue.to_string()),
        ("Produced", format!("{} by {}", uk(today), report.produced_by)),
    ];
    for (row, (label, value)) in (2u32..).zip(lines.iter()) {
        cover.write_string_with_format(row, 0, *label, &formats.heading)?;
        cover.write_string_with_format(row, 1, value.as_str(), &formats.wrap)?;
    }
    let mut row = 2 + u32::try_from(lines.len()).unwrap_or(0) + 1;
    cover.write_string_with_format(row, 0, "Definitions", &formats.title)?;
    for (term, meaning) in DEFINITIONS {
        row += 1;
        cover.write_string_with_format(row, 0, term, &formats.heading)?;
        cover.write_string_with_format(row, 1, meaning, &formats.wrap)?;
    }
    cover.set_column_width(0, 24)?;
    cover.set_column_width(1, 100)?;
    print_setup(cover, "Cover", None)?;

    let sheet = book.add_worksheet().set_name("Summary")?;
    sheet.write_string_with_format(0, 0, "The figures", &formats.title)?;
    let figures = Table {
        columns: vec![("Figure", 34.0), ("Value", 14.0)],
        rows: vec![
            vec![Cell::Text("Practices monitored".into()), Cell::count(s.practices)],
            vec![
                Cell::Text("Practices below requirement".into()),
                Cell::count(s.non_compliant_practices),
            ],
            vec![Cell::Text("Cases opened".into()), Cell::count(s.cases_opened)],
            vec![Cell::Text("Open cases".into()), Cell::count(s.open_cases)],
            vec![
                Cell::Text("Open cases overdue (of those included)".into()),
                Cell::Number(overdue as f64),
            ],
            vec![Cell::Text("Compliant cases".into()), Cell::count(s.compliant_cases)],
            vec![Cell::Text("Closed cases".into()), Cell::count(s.closed_cases)],
            vec![
                Cell::Text("Median days to compliance".into()),
                Cell::decimal(s.median_days_to_compliance),
            ],
            vec![
                Cell::Text("Compliant within 8 weeks".into()),
                Cell::count(s.compliant_within_days.count),
            ],
            vec![
                Cell::Text("Compliant within 8 weeks (% of cases opened)".into()),
                s.compliant_within_days
                    .percentage
                    .map_or(Cell::Empty, |p| Cell::Percent((p * 10.0).round() / 1000.0)),
            ],
        ],
    };
    let mut row = write_table(sheet, 2, &figures, &formats)? + 1;
    sheet.write_string_with_format(row, 0, "By place", &formats.title)?;
    let places = Table {
        columns: vec![
            ("Place", 34.0),
            ("Open cases", 14.0),
            ("Compliant cases", 14.0),
            ("% compliant", 14.0),
            ("Compliant within 8 weeks", 14.0),
            ("Median days to compliance", 14.0),
            ("Practices below requirement", 14.0),
        ],
        rows: s
            .by_place
            .iter()
            .map(|place| {
                vec![
                    Cell::text(Some(&place.place)),
                    Cell::count(place.open_cases),
                    Cell::count(place.compliant_cases),
                    Cell::share(place.compliant_cases, place.open_cases + place.compliant_cases),
                    Cell::count(place.compliant_within_days.count),
                    Cell::decimal(place.median_days_to_compliance),
                    Cell::count(place.non_compliant_practices),
                ]
            })
            .collect(),
    };
    row = write_table(sheet, row + 1, &places, &formats)? + 1;
    sheet.write_string_with_format(row, 0, "By PCN", &formats.title)?;
    let pcns = Table {
        columns: vec![
            ("PCN", 34.0),
            ("PCN code", 14.0),
            ("Place", 14.0),
            ("Practices", 14.0),
            ("Practices below requirement", 14.0),
            ("Open cases", 14.0),
            ("Compliant cases", 14.0),
        ],
        rows: s
            .by_pcn
            .iter()
            .map(|pcn| {
                vec![
                    Cell::text(Some(pcn.pcn_name.as_deref().unwrap_or(&pcn.pcn_code))),
                    Cell::text(Some(&pcn.pcn_code)),
                    Cell::text(Some(&pcn.place)),
                    Cell::count(pcn.practices),
                    Cell::count(pcn.non_compliant_practices),
                    Cell::count(pcn.open_cases),
                    Cell::count(pcn.compliant_cases),
                ]
            })
            .collect(),
    };
    write_table(sheet, row + 1, &pcns, &formats)?;
    print_setup(sheet, "Summary", None)?;

    let sheet = book.add_worksheet().set_name("Cases")?;
    let cases = cases_table(&report.cases, &report.names);
    let columns = u16::try_from(cases.columns.len()).unwrap_or(1);
    write_table(sheet, 0, &cases, &formats)?;
    sheet.set_row_height(0, 32)?;
    sheet.set_freeze_panes(1, 1)?;
    sheet.autofilter(0, 0, u32::try_from(report.cases.len()).unwrap_or(u32::MAX), columns - 1)?;
    print_setup(sheet, "Cases", Some(0))?;
    book.save_to_buffer()
}

/// The LMC's export: every case (filtered as its page is) with the support it had and any
/// contract action, through the LMC's own lens: no names, no free text.
async fn lmc_table(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    filter: &crate::lmc::Filter,
) -> Result<Table, Response> {
    let mut after: Option<String> = None;
    let mut rows = Vec::new();
    loop {
        let variables = crate::lmc::variables(filter, after.take());
        let page = fetch(state, session, ids_, OversightQuery::build(variables)).await?.lmc;
        for case in page.cases.edges.iter().map(|edge| &edge.node) {
            let support = case
                .history
                .iter()
                .filter(|step| caseledger_cases::case::SUPPORT_EVENTS.contains(&step.event_type.as_str()))
                .count();
            rows.push(vec![
                Cell::text(Some(&case.practice.name)),
                Cell::text(Some(&case.practice.ods_code)),
                Cell::text(Some(&case.practice.place)),
                Cell::Text(status_label(case.status.into())),
                Cell::date(Some(case.opened_at)),
                Cell::date(case.first_support_at()),
                case.working_days_to_first_support.map_or(Cell::Empty, Cell::count),
                Cell::Number(support as f64),
                Cell::date(case.escalated_at),
                match crate::lmc::supported_first(case) {
                    None => Cell::Empty,
                    Some(true) => Cell::Text("After support".into()),
                    Some(false) => Cell::Text("Before any support".into()),
                },
            ]);
        }
        match page.cases.page_info.next() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    Ok(Table {
        columns: vec![
            ("Practice", 34.0),
            ("ODS code", 10.0),
            ("Place", 16.0),
            ("Status", 14.0),
            ("Flagged", 13.0),
            ("First support", 13.0),
            ("Working days to first support", 14.0),
            ("Support actions", 10.0),
            ("Contract review", 13.0),
            ("Contract review came", 20.0),
        ],
        rows,
    })
}

/// `/lmc/report.csv` and `/lmc/report.xlsx`: the LMC's cases with their support.
pub async fn lmc(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path(file): Path<String>,
    Query(filter): Query<crate::lmc::Filter>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !matches!(
        session.actor.role,
        caseledger_cases::Role::Lmc | caseledger_cases::Role::Admin
    ) {
        return super::problem(
            StatusCode::FORBIDDEN,
            Some(&session),
            "You cannot see this page",
            "The LMC's export is for the LMC.",
        );
    }
    let _exporting = match throttled(
        &state,
        &session,
        &person(&session),
        caseledger_commands::throttle::Work::Export,
    ) {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let table = match lmc_table(&state, &session, ids(ids_), &filter).await {
        Ok(table) => table,
        Err(response) => return response,
    };
    match file.as_str() {
        "report.csv" => match table.csv() {
            Ok(bytes) => download(CSV, file_name("lmc-support", "csv"), bytes),
            Err(error) => internal(Some(&session), error),
        },
        "report.xlsx" => {
            let made = (|| -> Result<Vec<u8>, XlsxError> {
                let mut book = Workbook::new();
                let formats = Formats::new();
                let sheet = book.add_worksheet().set_name("Support")?;
                write_table(sheet, 0, &table, &formats)?;
                sheet.set_row_height(0, 32)?;
                sheet.set_freeze_panes(1, 1)?;
                sheet.autofilter(0, 0, u32::try_from(table.rows.len()).unwrap_or(u32::MAX), 9)?;
                print_setup(sheet, "Support given to practices", Some(0))?;
                book.save_to_buffer()
            })();
            match made {
                Ok(bytes) => download(XLSX, file_name("lmc-support", "xlsx"), bytes),
                Err(error) => internal(Some(&session), error),
            }
        }
        _ => crate::not_found_for(Some(&session)),
    }
}
