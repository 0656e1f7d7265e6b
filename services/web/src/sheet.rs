//! Spreadsheets and CSV files people can use, written one way for every export: typed cells
//! (numbers as numbers, dates as dates, text never a formula), CSV as Excel reads it (UTF-8 with a
//! byte-order mark, cells that would run as formulas neutralised), tables with their headings and
//! widths, printed as a board reads them, and the download's name.

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format, Worksheet, XlsxError};

use crate::model::Instant;

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    /// A whole number.
    Number(f64),
    /// A figure shown to one decimal place.
    Decimal(f64),
    /// A share, as a fraction (0.25 shows as 25%).
    Percent(f64),
    Date(NaiveDate),
    /// A UK local date and time.
    Time(chrono::NaiveDateTime),
    Empty,
}

impl Cell {
    pub(crate) fn text(value: Option<&str>) -> Self {
        match value {
            Some(text) if !text.is_empty() => Cell::Text(text.to_string()),
            _ => Cell::Empty,
        }
    }

    pub(crate) fn decimal(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, |n| Cell::Decimal((n * 10.0).round() / 10.0))
    }

    pub(crate) fn count(value: i32) -> Self {
        Cell::Number(f64::from(value))
    }

    /// `part` of `whole` as a share (empty when there is no whole).
    pub(crate) fn share(part: i32, whole: i32) -> Self {
        if whole > 0 {
            Cell::Percent(((f64::from(part) / f64::from(whole)) * 1000.0).round() / 1000.0)
        } else {
            Cell::Empty
        }
    }

    /// The UK date of a date-time.
    pub(crate) fn date(value: Option<Instant>) -> Self {
        value.map_or(Cell::Empty, |at| {
            Cell::Date(caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc)).date_naive())
        })
    }

    /// The UK date and time of a date-time.
    pub(crate) fn time(value: Option<Instant>) -> Self {
        value.map_or(Cell::Empty, |at| {
            Cell::Time(caseledger_cases::ukclock::to_uk(at.with_timezone(&chrono::Utc)).naive_local())
        })
    }

    /// As a CSV field: dates and shares as people in the UK write them, figures rounded, text that
    /// would be a formula neutralised.
    pub(crate) fn csv(&self) -> String {
        match self {
            Cell::Text(text) => neutralise(text),
            Cell::Number(n) => format!("{n:.0}"),
            Cell::Decimal(n) => format!("{n:.1}"),
            Cell::Percent(share) => format!("{:.0}%", share * 100.0),
            Cell::Date(date) => date.format("%d/%m/%Y").to_string(),
            Cell::Time(at) => at.format("%d/%m/%Y %H:%M").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A spreadsheet would run a cell that starts with one of these as a formula.
pub(crate) fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A table of the report: its headings, each column's width (characters), and its rows.
pub(crate) struct Table {
    pub(crate) columns: Vec<(&'static str, f64)>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

impl Table {
    /// As CSV: UTF-8 with a byte-order mark (so Excel reads it as UTF-8), one heading row.
    pub(crate) fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        writer.write_record(self.columns.iter().map(|(heading, _)| *heading))?;
        for row in &self.rows {
            writer.write_record(row.iter().map(Cell::csv))?;
        }
        writer
            .into_inner()
            .map_err(|error| csv::Error::from(error.into_error()))
    }
}

pub(crate) fn file_name(what: &str, extension: &str) -> String {
    format!(
        "attachment; filename=\"caseledger-{what}-{}.{extension}\"",
        caseledger_clock::today().format("%Y-%m-%d")
    )
}

pub(crate) fn download(content_type: &'static str, disposition: String, bytes: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(crate) const CSV: &str = "text/csv; charset=utf-8";

/// The formats a sheet's cells take.
pub(crate) struct Formats {
    pub(crate) heading: Format,
    pub(crate) title: Format,
    pub(crate) date: Format,
    pub(crate) time: Format,
    pub(crate) number: Format,
    pub(crate) decimal: Format,
    pub(crate) percent: Format,
    pub(crate) wrap: Format,
}

impl Formats {
    pub(crate) fn new() -> Self {
        Self {
            heading: Format::new().set_bold().set_text_wrap().set_background_color("#E8EDEE"),
            title: Format::new().set_bold().set_font_size(16),
            date: Format::new().set_num_format("d mmm yyyy"),
            time: Format::new().set_num_format("d mmm yyyy hh:mm"),
            number: Format::new().set_num_format("#,##0"),
            decimal: Format::new().set_num_format("0.0"),
            percent: Format::new().set_num_format("0%"),
            wrap: Format::new().set_text_wrap(),
        }
    }
}

pub(crate) fn write(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        // Text is only ever a string cell: never a formula, whatever it starts with.
        Cell::Text(text) => sheet.write_string(row, column, text.as_str()).map(|_| ()),
        Cell::Number(n) => sheet
            .write_number_with_format(row, column, *n, &formats.number)
            .map(|_| ()),
        Cell::Decimal(n) => sheet
            .write_number_with_format(row, column, *n, &formats.decimal)
            .map(|_| ()),
        Cell::Percent(n) => sheet
            .write_number_with_format(row, column, *n, &formats.percent)
            .map(|_| ()),
        Cell::Date(day) => sheet
            .write_datetime_with_format(row, column, &excel_day(day)?, &formats.date)
            .map(|_| ()),
        Cell::Time(at) => {
            use chrono::Timelike;
            let when = excel_day(&at.date())?.and_hms(
                u16::try_from(at.hour()).unwrap_or(0),
                u8::try_from(at.minute()).unwrap_or(0),
                0,
            )?;
            sheet
                .write_datetime_with_format(row, column, &when, &formats.time)
                .map(|_| ())
        }
        Cell::Empty => Ok(()),
    }
}

fn excel_day(day: &NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(chrono::Datelike::year(day)).unwrap_or(1900),
        u8::try_from(chrono::Datelike::month(day)).unwrap_or(1),
        u8::try_from(chrono::Datelike::day(day)).unwrap_or(1),
    )
}

/// `table` from `first` down: headings, rows, widths; returns the row after it.
pub(crate) fn write_table(
    sheet: &mut Worksheet,
    first: u32,
    table: &Table,
    formats: &Formats,
) -> Result<u32, XlsxError> {
    for (column, (heading, width)) in (0u16..).zip(table.columns.iter()) {
        sheet.write_string_with_format(first, column, *heading, &formats.heading)?;
        sheet.set_column_width(column, *width)?;
    }
    let mut row = first;
    for cells in &table.rows {
        row += 1;
        for (column, cell) in (0u16..).zip(cells.iter()) {
            write(sheet, row, column, cell, formats)?;
        }
    }
    Ok(row + 1)
}

/// Printed as a board reads it: A4 landscape, one page wide, headings on every page, page numbers.
pub(crate) fn print_setup(sheet: &mut Worksheet, title: &str, repeat_first_row: Option<u32>) -> Result<(), XlsxError> {
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_header(format!("&LCaseLedger&R{title}"));
    sheet.set_footer("&LPrinted &D&RPage &P of &N");
    if let Some(row) = repeat_first_row {
        sheet.set_repeat_rows(row, row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_people_write_them_and_never_as_formulas() {
        assert_eq!(Cell::Text("=HYPERLINK(1)".into()).csv(), "'=HYPERLINK(1)");
        assert_eq!(Cell::Text("Arden".into()).csv(), "Arden");
        assert_eq!(Cell::Number(4.0).csv(), "4");
        // Figures rounded once, to one place, as people read them: never 13.666666666666666.
        assert_eq!(Cell::decimal(Some(13.666_666_666_666_666)), Cell::Decimal(13.7));
        assert_eq!(Cell::decimal(Some(13.666_666_666_666_666)).csv(), "13.7");
        assert_eq!(Cell::share(1, 3).csv(), "33%");
        assert_eq!(Cell::share(1, 0), Cell::Empty);
        // 23:30 UTC on 31 May is 1 June in London.
        let late_may = chrono::DateTime::parse_from_rfc3339("2026-05-31T23:30:00Z").ok();
        assert_eq!(Cell::date(late_may).csv(), "01/06/2026");
        assert_eq!(Cell::date(None), Cell::Empty);
        // Summer time: 08:15 UTC is 09:15 in London.
        let summer = chrono::DateTime::parse_from_rfc3339("2026-06-02T08:15:00Z").ok();
        assert_eq!(Cell::time(summer).csv(), "02/06/2026 09:15");
    }
}
