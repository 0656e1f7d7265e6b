//! The LMC's question, "are practices supported, not sanctioned?", answered over every case: the
//! working days from each case's current episode opening to the first support in it (a contact,
//! guidance, a root cause, a remap or GP Connect re-enabled), the open cases with no support yet,
//! and whether support came before a contract review; all cases and by place.

use std::collections::BTreeMap;

use caseledger_cases::holidays::BankHolidays;
use caseledger_cases::ukclock;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// One group's answer (all cases, or a place's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Support {
    pub cases: i64,
    pub open_cases: i64,
    /// Open cases whose current episode has had no support yet.
    pub open_without_support: i64,
    /// Cases (current episodes) that have had support.
    pub supported: i64,
    /// The median working days from the episode's opening to its first support.
    pub median_working_days_to_support: Option<f64>,
    /// Cases escalated to a contract review, and of those the ones supported first.
    pub reviewed: i64,
    pub supported_before_review: i64,
}

/// Every case's answer, and each place's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupportFigures {
    pub all: Support,
    pub by_place: Vec<(String, Support)>,
}

/// One case as the question needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportRow {
    pub place: String,
    pub open: bool,
    pub opened_at: DateTime<Utc>,
    pub first_support_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
}

fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    #[allow(clippy::cast_precision_loss)] // working days: small numbers
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) as f64 / 2.0
    } else {
        values[middle] as f64
    })
}

/// Working days from an episode's opening to its first support (UK days; 0 the same day).
pub fn working_days_to_support(opened_at: DateTime<Utc>, first: DateTime<Utc>, calendar: &BankHolidays) -> i64 {
    let (from, to) = (
        ukclock::to_uk(opened_at).date_naive(),
        ukclock::to_uk(first).date_naive(),
    );
    if to > from {
        caseledger_cases::deadlines::working_days_between(from, to, calendar)
    } else {
        0
    }
}

fn answer<'a>(rows: impl Iterator<Item = &'a SupportRow>, calendar: &BankHolidays) -> Support {
    let mut support = Support::default();
    let mut days = Vec::new();
    for row in rows {
        support.cases += 1;
        support.open_cases += i64::from(row.open);
        match row.first_support_at {
            Some(first) => {
                support.supported += 1;
                days.push(working_days_to_support(row.opened_at, first, calendar));
            }
            None => support.open_without_support += i64::from(row.open),
        }
        if let Some(escalated) = row.escalated_at {
            support.reviewed += 1;
            support.supported_before_review += i64::from(row.first_support_at.is_some_and(|first| first <= escalated));
        }
    }
    support.median_working_days_to_support = median(days);
    support
}

/// The answer over `rows`, all and by place.
pub fn support_figures(rows: &[SupportRow], calendar: &BankHolidays) -> SupportFigures {
    let mut places: BTreeMap<&str, Vec<&SupportRow>> = BTreeMap::new();
    for row in rows {
        places.entry(row.place.as_str()).or_default().push(row);
    }
    SupportFigures {
        all: answer(rows.iter(), calendar),
        by_place: places
            .into_iter()
            .map(|(place, here)| (place.to_string(), answer(here.into_iter(), calendar)))
            .collect(),
    }
}

/// Every case of `case_view`, read for the question.
pub async fn support_rows(pool: &PgPool) -> Result<Vec<SupportRow>, sqlx::Error> {
    let open = super::queries::open_statuses();
    Ok(sqlx::query!(
        r#"select place, status = any($1) as "open!", opened_at, first_support_at, escalated_at from case_view"#,
        &open as &[&str]
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| SupportRow {
        place: row.place,
        open: row.open,
        opened_at: row.opened_at,
        first_support_at: row.first_support_at,
        escalated_at: row.escalated_at,
    })
    .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    fn row(
        place: &str,
        open: bool,
        opened: DateTime<Utc>,
        first: Option<DateTime<Utc>>,
        escalated: Option<DateTime<Utc>>,
    ) -> SupportRow {
        SupportRow {
            place: place.into(),
            open,
            opened_at: opened,
            first_support_at: first,
            escalated_at: escalated,
        }
    }

    #[test]
    fn working_days_to_first_support_skip_weekends_and_holidays_and_count_every_case() {
        let calendar = BankHolidays::default();
        let rows = vec![
            // Friday 4 Dec to Monday 7 Dec: one working day, not three.
            row("North", true, at(4, 10), Some(at(7, 9)), None),
            // Thursday 24 Dec to Tuesday 29 Dec: Christmas and Boxing Day (observed Monday 28th) pass.
            row("North", false, at(24, 10), Some(at(29, 9)), Some(at(30, 9))),
            // Same day.
            row("South", true, at(8, 9), Some(at(8, 15)), None),
            // Never supported, escalated.
            row("South", true, at(1, 9), None, Some(at(9, 9))),
        ];
        let figures = support_figures(&rows, &calendar);
        assert_eq!(figures.all.cases, 4);
        assert_eq!(figures.all.open_without_support, 1);
        assert_eq!(figures.all.supported, 3);
        assert_eq!(figures.all.median_working_days_to_support, Some(1.0));
        assert_eq!((figures.all.reviewed, figures.all.supported_before_review), (2, 1));
        let north = &figures.by_place[0];
        assert_eq!(north.0, "North");
        assert_eq!(north.1.median_working_days_to_support, Some(1.0));
        let south = &figures.by_place[1].1;
        assert_eq!((south.cases, south.open_cases, south.open_without_support), (2, 2, 1));
    }
}
