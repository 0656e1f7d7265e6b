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
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(csv.as_bytes());
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
