//! Reading a CSV extract a row at a time with the line of each, and the checks every import
//! shares: a missing column, an unreadable row, a value that is not what its column holds, each
//! reported with its line (the header is line 1) and column.

use std::collections::HashMap;

use serde::Serialize;

/// What is wrong, where: `line` is the file's line (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl ImportError {
    pub fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            line,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

/// What an import accepts beyond each row's own checks: the days its dates may fall on, and how
/// many rows it may have (a file past that is refused whole, before its rows are read further).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The earliest day a row may be dated (a slip of the year's digits is caught).
    pub earliest: chrono::NaiveDate,
    /// The latest day: today, since an extract records what was, never what will be.
    pub latest: chrono::NaiveDate,
    /// Rows at most.
    pub max_rows: usize,
}

/// The earliest day an import accepts unless a deployment says otherwise: 1 January 2000.
pub const EARLIEST_DAY: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(day) => day,
    None => chrono::NaiveDate::MIN,
};

/// Rows an import of practices (a dashboard, a register) accepts unless a deployment says
/// otherwise: more than England has GP practices (about 6,300), so a national file fits.
pub const MAX_PRACTICE_ROWS: usize = 20_000;

impl Bounds {
    /// From `EARLIEST_DAY` to `today`, at most `max_rows`.
    pub fn until(today: chrono::NaiveDate, max_rows: usize) -> Self {
        Self {
            earliest: EARLIEST_DAY,
            latest: today,
            max_rows,
        }
    }

    /// A calendar day, `YYYY-MM-DD`, within the bounds.
    pub fn day(&self, value: &str) -> Result<chrono::NaiveDate, String> {
        let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| format!("{value:?} is not a date (YYYY-MM-DD)"))?;
        self.within(day)
    }

    /// `day`, if within the bounds.
    pub fn within(&self, day: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
        if day > self.latest {
            Err(format!("{day} is in the future (after {})", self.latest))
        } else if day < self.earliest {
            Err(format!("{day} is before {}: check the year", self.earliest))
        } else {
            Ok(day)
        }
    }
}

/// A file's text: UTF-8 (a byte-order mark dropped), or else read as Windows-1252's Latin-1
/// subset, as older NHS files may be written; never refused for its encoding alone.
pub fn text_of(bytes: Vec<u8>) -> String {
    let text = String::from_utf8(bytes).unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect());
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// The file with `\n` line ends and no byte-order mark: the CSV reader counts a row's line
/// right only then (after a `\r\n` it names the line before), and Windows writes `\r\n`.
fn unix_lines(csv: &str) -> std::borrow::Cow<'_, str> {
    let csv = csv.trim_start_matches('\u{feff}');
    if csv.contains('\r') {
        std::borrow::Cow::Owned(csv.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(csv)
    }
}

/// One row of the file.
#[derive(Debug)]
pub struct Record<'a> {
    pub line: u64,
    fields: csv::StringRecord,
    index: &'a HashMap<String, usize>,
}

impl Record<'_> {
    /// The row's value in `column` (trimmed; empty when the column is absent).
    pub fn field(&self, column: &str) -> &str {
        self.index.get(column).and_then(|i| self.fields.get(*i)).unwrap_or("")
    }
}

/// The file's columns by name, and its rows: or, when its header cannot be read or lacks one of
/// `required`, what is wrong with it.
#[derive(Debug)]
pub struct Sheet {
    index: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
    /// Rows that could not be read at all.
    pub unreadable: Vec<ImportError>,
}

impl Sheet {
    /// Reads the header and at most `max_rows` rows; a file with more is refused whole, there.
    pub fn read(csv: &str, required: &[&str], max_rows: usize) -> Result<Self, Vec<ImportError>> {
        let text = unix_lines(csv);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(e) => return Err(vec![ImportError::new(1, None, format!("unreadable header: {e}"))]),
        };
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_string(), i))
            .collect();
        let missing: Vec<ImportError> = required
            .iter()
            .filter(|name| !index.contains_key(**name))
            .map(|name| ImportError::new(1, Some(name), "required column is missing"))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Self::rows(reader, index, max_rows)
    }

    /// A file whose header names its columns loosely (as a spreadsheet saved as CSV does): each
    /// name is matched lower-cased with everything but letters and digits left out ("PCN Code"
    /// is `pcncode`), and the caller looks for the columns it needs.
    pub fn read_loose(csv: &str, max_rows: usize) -> Result<Self, Vec<ImportError>> {
        let text = unix_lines(csv);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(e) => return Err(vec![ImportError::new(1, None, format!("unreadable header: {e}"))]),
        };
        let mut index = HashMap::new();
        for (i, name) in headers.iter().enumerate() {
            index.entry(loose(name)).or_insert(i);
        }
        Self::rows(reader, index, max_rows)
    }

    /// The first of `names` (loose, as [`Sheet::read_loose`] matches them) the file has.
    pub fn first_column<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|name| self.index.contains_key(*name))
    }

    /// A file without a header row (as ODS publishes its CSVs): `columns` names its columns in
    /// order, and every row must have exactly that many (line 1 is the first row).
    pub fn read_without_header(csv: &str, columns: &[&str], max_rows: usize) -> Result<Self, Vec<ImportError>> {
        let text = unix_lines(csv);
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let index: HashMap<String, usize> = columns
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_string(), i))
            .collect();
        let mut sheet = Self::rows(reader, index, max_rows)?;
        let (rows, short): (Vec<_>, Vec<_>) = std::mem::take(&mut sheet.rows)
            .into_iter()
            .partition(|(_, record)| record.len() == columns.len());
        sheet.rows = rows;
        sheet.unreadable.extend(short.into_iter().map(|(line, record)| {
            ImportError::new(
                line,
                None,
                format!(
                    "the row has {} columns, not the {} this file has",
                    record.len(),
                    columns.len()
                ),
            )
        }));
        sheet.unreadable.sort_by_key(|e| e.line);
        Ok(sheet)
    }

    fn rows(
        mut reader: csv::Reader<&[u8]>,
        index: HashMap<String, usize>,
        max_rows: usize,
    ) -> Result<Self, Vec<ImportError>> {
        let mut rows = Vec::new();
        let mut unreadable = Vec::new();
        for record in reader.records() {
            if rows.len() + unreadable.len() >= max_rows {
                let line = record.as_ref().ok().and_then(|r| r.position()).map_or(0, |p| p.line());
                return Err(vec![ImportError::new(
                    line,
                    None,
                    format!("the file has more than {max_rows} rows: split it, or ask for the limit to be raised"),
                )]);
            }
            match record {
                Ok(record) => rows.push((record.position().map_or(0, |p| p.line()), record)),
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    unreadable.push(ImportError::new(line, None, format!("unreadable row: {e}")));
                }
            }
        }
        Ok(Self {
            index,
            rows,
            unreadable,
        })
    }

    pub fn has_column(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.rows.iter().map(|(line, fields)| Record {
            line: *line,
            fields: fields.clone(),
            index: &self.index,
        })
    }
}

/// A column's name as [`Sheet::read_loose`] matches it: lower case, letters and digits only.
pub fn loose(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The value, or `None` with the error recorded against `column`.
pub fn checked<T>(errors: &mut Vec<ImportError>, line: u64, column: &str, result: Result<T, String>) -> Option<T> {
    result
        .map_err(|message| errors.push(ImportError::new(line, Some(column), message)))
        .ok()
}

pub fn whole_number(value: &str) -> Result<i64, String> {
    value
        .parse::<i64>()
        .map_err(|_| format!("{value:?} is not a whole number"))
}

/// A practice's ODS code: never a PCN's (`U…`), which has the same shape.
pub fn practice_code(value: &str) -> Result<crate::values::OdsCode, String> {
    let code = crate::values::OdsCode::parse(value).map_err(|e| e.to_string())?;
    match crate::values::PcnCode::parse(code.as_str()) {
        Ok(_) => Err(format!("{code} is a PCN's code, not a practice's")),
        Err(_) => Ok(code),
    }
}

/// A whole file's outcome: its rows, or every error (sorted by line); a file without rows is an
/// error too.
pub fn finish<T>(rows: Vec<T>, mut errors: Vec<ImportError>) -> Result<Vec<T>, Vec<ImportError>> {
    errors.sort_by_key(|e| e.line);
    match rows.is_empty() {
        _ if !errors.is_empty() => Err(errors),
        true => Err(vec![ImportError::new(2, None, "the file has no rows")]),
        false => Ok(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_named_by_their_line_whatever_the_line_ends() {
        for csv in [
            "a,b\n1,2\n3,4\n5,6\n",
            "a,b\r\n1,2\r\n3,4\r\n5,6\r\n",
            "\u{feff}a,b\r\n1,2\r\n3,4\r\n5,6",
        ] {
            let sheet = Sheet::read(csv, &["a", "b"], 10).unwrap();
            let lines: Vec<u64> = sheet.records().map(|r| r.line).collect();
            assert_eq!(lines, vec![2, 3, 4], "{csv:?}");
            let sheet = Sheet::read_without_header(csv, &["a", "b"], 10).unwrap();
            let lines: Vec<u64> = sheet.records().map(|r| r.line).collect();
            assert_eq!(lines, vec![1, 2, 3, 4], "{csv:?}");
        }
    }

    #[test]
    fn a_file_in_latin_1_is_read_not_refused() {
        assert_eq!(text_of(b"caf\xe9".to_vec()), "café");
        assert_eq!(text_of("\u{feff}café".as_bytes().to_vec()), "café");
    }
}
