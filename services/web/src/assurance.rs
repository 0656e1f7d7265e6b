//! The ICB's assurance report, as a spreadsheet people can use: every case with human labels,
//! dates people read and its days to compliance; as CSV (UTF-8 with a byte-order mark, so Excel
//! reads it as UTF-8; cells that a spreadsheet would run as formulas neutralised) and as XLSX (a
//! summary sheet of the figures by place and PCN, and a cases sheet with typed cells: numbers as
//! numbers, dates as dates, text never a formula). One column list serves both.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use cynic::QueryBuilder;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::layout::status_label;
use super::session::Session;
use super::{Ids, WebState, fetch, ids, internal, person, signed_in, throttled};
use crate::icb::{CaseFilter, all_cases};
use crate::model::{CaseRow, Instant};
use crate::operations::icb::{ReportFigures, ReportQuery};

/// One cell of the report.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl Cell {
    fn text(value: Option<&str>) -> Self {
        match value {
            Some(text) if !text.is_empty() => Cell::Text(text.to_string()),
            _ => Cell::Empty,
        }
    }

    fn number(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Number)
    }

    fn count(value: i32) -> Self {
        Cell::Number(f64::from(value))
    }

    /// The UK date of a date-time.
    fn date(value: Option<Instant>) -> Self {
        value.map_or(Cell::Empty, |at| {
            Cell::Date(caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc)).date_naive())
        })
    }

    /// As a CSV field: dates as people in the UK write them, text that would be a formula
    /// neutralised.
    fn csv(&self) -> String {
        match self {
            Cell::Text(text) => neutralise(text),
            Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) => format!("{n:.1}"),
            Cell::Date(date) => date.format("%d/%m/%Y").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A spreadsheet would run a cell that starts with one of these as a formula.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A column: its heading, and a case's cell in it.
type Column = (&'static str, fn(&CaseRow) -> Cell);

/// The cases sheet's columns.
const COLUMNS: [Column; 16] = [
    ("Practice", |c| Cell::text(Some(&c.practice.name))),
    ("ODS code", |c| Cell::text(Some(&c.practice.ods_code))),
    ("PCN", |c| Cell::text(Some(&c.practice.pcn_code))),
    ("Place", |c| Cell::text(Some(&c.practice.place))),
    ("List size", |c| Cell::count(c.practice.list_size)),
    ("Slots required a day", |c| Cell::count(c.required_slots)),
    ("Slots visible a day", |c| Cell::number(c.visible_slots.map(f64::from))),
    ("Status", |c| Cell::Text(status_label(c.state()))),
    ("Opened", |c| Cell::date(Some(c.opened_at))),
    ("Compliant", |c| Cell::date(c.compliant_at)),
    ("Closed", |c| Cell::date(c.closed_at)),
    ("Days to compliance", |c| Cell::number(c.days_to_compliance())),
    ("Overdue", |c| match &c.deadline {
        Some(deadline) if deadline.overdue => {
            Cell::Text(format!("Yes: {} was due {}", deadline.awaiting, deadline.due_on))
        }
        Some(_) => Cell::Text("No".into()),
        None => Cell::Empty,
    }),
    ("Champion", |c| Cell::text(c.assigned_to.as_deref())),
    ("Root causes", |c| {
        let causes: Vec<&str> = c
            .root_causes
            .iter()
            .map(|cause| crate::reports::root_cause_label((*cause).into()))
            .collect();
        if causes.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(causes.join("; "))
        }
    }),
    ("Case ID", |c| Cell::text(Some(c.key()))),
];

fn rows(cases: &[CaseRow]) -> Vec<Vec<Cell>> {
    cases
        .iter()
        .map(|case| COLUMNS.iter().map(|(_, cell)| cell(case)).collect())
        .collect()
}

fn file_name(extension: &str) -> String {
    format!(
        "attachment; filename=\"caseledger-assurance-{}.{extension}\"",
        caseledger_clock::today().format("%Y-%m-%d")
    )
}

/// The signed-in person, every case of the report, and the export's place in the throttle (hold
/// it until the file is written).
async fn cases_of(
    state: &WebState,
    headers: &HeaderMap,
    ids_: Ids,
) -> Result<(Session, Vec<CaseRow>, caseledger_commands::throttle::Permit), Response> {
    let session = signed_in(state, headers).await?;
    let permit = throttled(
        state,
        &session,
        &person(&session),
        caseledger_commands::throttle::Work::Export,
    )?;
    let cases = all_cases(state, &session, ids(ids_), &CaseFilter::default()).await?;
    Ok((session, cases, permit))
}

/// `/icb/report.csv`.
pub async fn csv(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let (session, cases, _exporting) = match cases_of(&state, &headers, ids_).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let mut lines = vec![
        COLUMNS
            .iter()
            .map(|(heading, _)| heading.to_string())
            .collect::<Vec<_>>(),
    ];
    lines.extend(rows(&cases).iter().map(|row| row.iter().map(Cell::csv).collect()));
    for line in lines {
        if let Err(error) = writer.write_record(&line) {
            return internal(Some(&session), error);
        }
    }
    match writer.into_inner() {
        Ok(bytes) => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, file_name("csv")),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => internal(Some(&session), error),
    }
}

/// `/icb/report.xlsx`.
pub async fn xlsx(State(state): State<WebState>, headers: HeaderMap, ids_: Ids) -> Response {
    let (session, cases, _exporting) = match cases_of(&state, &headers, ids_).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let summary = match fetch(&state, &session, ids(ids_), ReportQuery::build(())).await {
        Ok(query) => query.icb,
        Err(response) => return response,
    };
    match workbook(&summary, &cases) {
        Ok(bytes) => (
            [
                (
                    CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (CONTENT_DISPOSITION, file_name("xlsx")),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => internal(Some(&session), error),
    }
}

fn write(sheet: &mut Worksheet, row: u32, column: u16, cell: &Cell, date: &Format) -> Result<(), XlsxError> {
    match cell {
        // Text is only ever a string cell: never a formula, whatever it starts with.
        Cell::Text(text) => sheet.write_string(row, column, text.as_str()).map(|_| ()),
        Cell::Number(n) => sheet.write_number(row, column, *n).map(|_| ()),
        Cell::Date(day) => {
            let when = ExcelDateTime::from_ymd(
                u16::try_from(chrono::Datelike::year(day)).unwrap_or(1900),
                u8::try_from(chrono::Datelike::month(day)).unwrap_or(1),
                u8::try_from(chrono::Datelike::day(day)).unwrap_or(1),
            )?;
            sheet.write_datetime_with_format(row, column, &when, date).map(|_| ())
        }
        Cell::Empty => Ok(()),
    }
}

fn workbook(icb: &ReportFigures, cases: &[CaseRow]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("d mmm yyyy");
    let s = &icb.summary;

    let sheet = book.add_worksheet().set_name("Summary")?;
    sheet.write_string_with_format(0, 0, "CaseLedger assurance report", &bold)?;
    let as_at = icb
        .data_as_at
        .map_or_else(|| "no extract yet".to_string(), |day| day.0.to_string());
    sheet.write_string(1, 0, format!("Data as at the dashboard extract of {as_at}"))?;
    let figures = [
        ("Practices monitored", Cell::count(s.practices)),
        ("Practices below requirement", Cell::count(s.non_compliant_practices)),
        ("Open cases", Cell::count(s.open_cases)),
        ("Compliant cases", Cell::count(s.compliant_cases)),
        ("Closed cases", Cell::count(s.closed_cases)),
        ("Median days to compliance", Cell::number(s.median_days_to_compliance)),
        ("Compliant within 8 weeks", Cell::count(s.compliant_within_days.count)),
        (
            "Compliant within 8 weeks (%)",
            Cell::number(s.compliant_within_days.percentage),
        ),
    ];
    for (n, (label, value)) in (3u32..).zip(figures) {
        sheet.write_string(n, 0, label)?;
        write(sheet, n, 1, &value, &date)?;
    }
    let mut row = 13u32;
    sheet.write_string_with_format(row, 0, "By place", &bold)?;
    row += 1;
    let place_headings = [
        "Place",
        "Open cases",
        "Compliant cases",
        "% compliant",
        "Within 8 weeks",
        "Median days to compliance",
        "Practices below requirement",
    ];
    for (column, heading) in (0u16..).zip(place_headings) {
        sheet.write_string_with_format(row, column, heading, &bold)?;
    }
    for place in &s.by_place {
        row += 1;
        let open = f64::from(place.open_cases);
        let compliant = f64::from(place.compliant_cases);
        let share = if open + compliant > 0.0 {
            Cell::Number((compliant / (open + compliant) * 1000.0).round() / 10.0)
        } else {
            Cell::Empty
        };
        let cells = [
            Cell::text(Some(&place.place)),
            Cell::count(place.open_cases),
            Cell::count(place.compliant_cases),
            share,
            Cell::count(place.compliant_within_days.count),
            Cell::number(place.median_days_to_compliance),
            Cell::count(place.non_compliant_practices),
        ];
        for (column, cell) in (0u16..).zip(cells.iter()) {
            write(sheet, row, column, cell, &date)?;
        }
    }
    row += 2;
    sheet.write_string_with_format(row, 0, "By PCN", &bold)?;
    row += 1;
    for (column, heading) in (0u16..).zip([
        "PCN",
        "Name",
        "Place",
        "Practices",
        "Practices below requirement",
        "Open cases",
        "Compliant cases",
    ]) {
        sheet.write_string_with_format(row, column, heading, &bold)?;
    }
    for pcn in &s.by_pcn {
        row += 1;
        let cells = [
            Cell::text(Some(&pcn.pcn_code)),
            Cell::text(pcn.pcn_name.as_deref()),
            Cell::text(Some(&pcn.place)),
            Cell::count(pcn.practices),
            Cell::count(pcn.non_compliant_practices),
            Cell::count(pcn.open_cases),
            Cell::count(pcn.compliant_cases),
        ];
        for (column, cell) in (0u16..).zip(cells.iter()) {
            write(sheet, row, column, cell, &date)?;
        }
    }
    sheet.set_column_width(0, 32)?;

    let sheet = book.add_worksheet().set_name("Cases")?;
    for (column, (heading, _)) in (0u16..).zip(COLUMNS.iter()) {
        sheet.write_string_with_format(0, column, *heading, &bold)?;
    }
    for (n, cells) in (1u32..).zip(rows(cases)) {
        for (column, cell) in (0u16..).zip(cells.iter()) {
            write(sheet, n, column, cell, &date)?;
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    sheet.autofilter(0, 0, u32::try_from(cases.len()).unwrap_or(u32::MAX), 15)?;
    sheet.set_column_width(0, 32)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_people_write_them_and_never_as_formulas() {
        assert_eq!(Cell::Text("=HYPERLINK(1)".into()).csv(), "'=HYPERLINK(1)");
        assert_eq!(Cell::Text("Arden".into()).csv(), "Arden");
        assert_eq!(Cell::Number(4.0).csv(), "4");
        assert_eq!(Cell::Number(30.25).csv(), "30.2");
        // 23:30 UTC on 31 May is 1 June in London.
        let late_may = chrono::DateTime::parse_from_rfc3339("2026-05-31T23:30:00Z").ok();
        assert_eq!(Cell::date(late_may).csv(), "01/06/2026");
        assert_eq!(Cell::date(None), Cell::Empty);
    }
}
