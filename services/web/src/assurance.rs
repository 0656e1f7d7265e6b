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
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::{Value, json};

use super::layout::status_label;
use super::session::Session;
use super::{Ids, WebState, gql_problem, ids, internal, person, query, signed_in, throttled};
use crate::icb::{CaseFilter, all_cases};
use crate::lists::CASE_FIELDS;
use crate::model::CaseRow;

/// One cell of the report.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl Cell {
    fn text(value: &Value) -> Self {
        match value.as_str() {
            Some(text) if !text.is_empty() => Cell::Text(text.to_string()),
            _ => Cell::Empty,
        }
    }

    fn number(value: &Value) -> Self {
        value.as_f64().map_or(Cell::Empty, Cell::Number)
    }

    /// The UK date of a date-time.
    fn date(value: &Value) -> Self {
        value
            .as_str()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map_or(Cell::Empty, |at| {
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
type Column = (&'static str, fn(&Value) -> Cell);

/// The cases sheet's columns.
const COLUMNS: [Column; 16] = [
    ("Practice", |c| Cell::text(&c["practice"]["name"])),
    ("ODS code", |c| Cell::text(&c["practice"]["odsCode"])),
    ("PCN", |c| Cell::text(&c["practice"]["pcnCode"])),
    ("Place", |c| Cell::text(&c["practice"]["place"])),
    ("List size", |c| Cell::number(&c["practice"]["listSize"])),
    ("Slots required a day", |c| Cell::number(&c["requiredSlots"])),
    ("Slots visible a day", |c| Cell::number(&c["visibleSlots"])),
    ("Status", |c| {
        Cell::Text(status_label(c["status"].as_str().unwrap_or("")))
    }),
    ("Opened", |c| Cell::date(&c["openedAt"])),
    ("Compliant", |c| Cell::date(&c["compliantAt"])),
    ("Closed", |c| Cell::date(&c["closedAt"])),
    ("Days to compliance", |c| {
        let days = serde_json::from_value::<CaseRow>(c.clone())
            .ok()
            .and_then(|case| case.days_to_compliance());
        Cell::number(&serde_json::json!(days))
    }),
    ("Overdue", |c| match c["deadline"]["overdue"].as_bool() {
        Some(true) => Cell::Text(format!(
            "Yes: {} was due {}",
            c["deadline"]["awaiting"].as_str().unwrap_or(""),
            c["deadline"]["dueOn"].as_str().unwrap_or("")
        )),
        Some(false) => Cell::Text("No".into()),
        None => Cell::Empty,
    }),
    ("Champion", |c| Cell::text(&c["assignedTo"])),
    ("Root causes", |c| {
        let causes: Vec<String> = c["rootCauses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|cause| super::actions::value_label(cause).map_or_else(|| cause.to_string(), str::to_string))
            .collect();
        if causes.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(causes.join("; "))
        }
    }),
    ("Case ID", |c| Cell::text(&c["id"])),
];

fn rows(cases: &[Value]) -> Vec<Vec<Cell>> {
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
) -> Result<(Session, Vec<Value>, caseledger_commands::throttle::Permit), Response> {
    let session = signed_in(state, headers).await?;
    let permit = throttled(
        state,
        &session,
        &person(&session),
        caseledger_commands::throttle::Work::Export,
    )?;
    let cases = all_cases(state, &session, ids(ids_), CASE_FIELDS, &CaseFilter::default())
        .await
        .map_err(|errors| gql_problem(&session, &errors))?;
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
    let summary = match query(
        &state,
        &session,
        ids(ids_),
        "{ icb { dataAsAt summary { asOf practices nonCompliantPractices openCases compliantCases closedCases \
           medianDaysToCompliance compliantWithinDays { count percentage } \
           byPlace { place openCases compliantCases nonCompliantPractices medianDaysToCompliance compliantWithinDays { count percentage } } \
           byPcn { pcnCode pcnName place practices nonCompliantPractices openCases compliantCases } } } }",
        json!({}),
    )
    .await
    {
        Ok(data) => data["icb"].clone(),
        Err(errors) => return gql_problem(&session, &errors),
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

fn workbook(icb: &Value, cases: &[Value]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("d mmm yyyy");
    let s = &icb["summary"];

    let sheet = book.add_worksheet().set_name("Summary")?;
    sheet.write_string_with_format(0, 0, "CaseLedger assurance report", &bold)?;
    let as_at = icb["dataAsAt"].as_str().unwrap_or("no extract yet");
    sheet.write_string(1, 0, format!("Data as at the dashboard extract of {as_at}"))?;
    let figures = [
        ("Practices monitored", &s["practices"]),
        ("Practices below requirement", &s["nonCompliantPractices"]),
        ("Open cases", &s["openCases"]),
        ("Compliant cases", &s["compliantCases"]),
        ("Closed cases", &s["closedCases"]),
        ("Median days to compliance", &s["medianDaysToCompliance"]),
        ("Compliant within 8 weeks", &s["compliantWithinDays"]["count"]),
        ("Compliant within 8 weeks (%)", &s["compliantWithinDays"]["percentage"]),
    ];
    for (n, (label, value)) in (3u32..).zip(figures) {
        sheet.write_string(n, 0, label)?;
        write(sheet, n, 1, &Cell::number(value), &date)?;
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
    for place in s["byPlace"].as_array().into_iter().flatten() {
        row += 1;
        let open = place["openCases"].as_f64().unwrap_or(0.0);
        let compliant = place["compliantCases"].as_f64().unwrap_or(0.0);
        let share = if open + compliant > 0.0 {
            Cell::Number((compliant / (open + compliant) * 1000.0).round() / 10.0)
        } else {
            Cell::Empty
        };
        let cells = [
            Cell::text(&place["place"]),
            Cell::number(&place["openCases"]),
            Cell::number(&place["compliantCases"]),
            share,
            Cell::number(&place["compliantWithinDays"]["count"]),
            Cell::number(&place["medianDaysToCompliance"]),
            Cell::number(&place["nonCompliantPractices"]),
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
    for pcn in s["byPcn"].as_array().into_iter().flatten() {
        row += 1;
        let cells = [
            Cell::text(&pcn["pcnCode"]),
            Cell::text(&pcn["pcnName"]),
            Cell::text(&pcn["place"]),
            Cell::number(&pcn["practices"]),
            Cell::number(&pcn["nonCompliantPractices"]),
            Cell::number(&pcn["openCases"]),
            Cell::number(&pcn["compliantCases"]),
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
        assert_eq!(Cell::date(&json!("2026-05-31T23:30:00Z")).csv(), "01/06/2026");
        assert_eq!(Cell::date(&Value::Null), Cell::Empty);
    }
}
