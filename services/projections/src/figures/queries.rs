//! The figures' queries, and what a summary counts. A summary at (asOf, knownAt) counts the rows
//! whose two stretches of time hold that point, one per case and per practice, in memory
//! (`held.rs`). A trend is a running sum over the day-by-day changes, at most one row per metric
//! and day.

use std::collections::BTreeMap;

use caseledger_cases::CaseStatus;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::steps::Metric;

/// What a summary counts, whenever it is of: cases by place, PCN and status, with the time to
/// compliance of each compliant one, and practices by place and PCN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub cases: Vec<CaseCount>,
    pub practices: Vec<PracticeCount>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseCount {
    pub place: String,
    pub pcn_code: String,
    pub status: CaseStatus,
    pub cases: i64,
    /// openedAt → compliantAt of those whose episode reached compliance, in milliseconds, sorted.
    pub durations_ms: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PracticeCount {
    pub place: String,
    pub pcn_code: String,
    pub practices: i64,
    pub non_compliant: i64,
}

/// The figures at the end of one day (UTC), by business time, as known now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendPoint {
    pub date: NaiveDate,
    pub open_cases: i64,
    pub compliant_cases: i64,
    pub practices: i64,
    pub non_compliant_practices: i64,
}

/// Whose figures a trend follows: all, a place's, or a PCN's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrendScope<'a> {
    pub place: Option<&'a str>,
    pub pcn_code: Option<&'a str>,
}

/// One day's change of one metric.
struct Step {
    metric: String,
    day: NaiveDate,
    delta: i64,
}

/// The figures at the end of each day from `from` to `to`, every `every_days` days: of all, or
/// of a place or PCN (`scope`).
pub async fn trend(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    every_days: u32,
    scope: TrendScope<'_>,
) -> Result<Vec<TrendPoint>, sqlx::Error> {
    let steps = if scope == TrendScope::default() {
        sqlx::query_as!(
            Step,
            r#"select metric, day, delta::bigint as "delta!" from trend_totals where day <= $1 and delta <> 0 order by day"#,
            to
        )
        .fetch_all(pool)
        .await?
    } else {
        sqlx::query_as!(
            Step,
            r#"select metric as "metric!", day as "day!", sum(delta)::bigint as "delta!" from trend_steps
                where day <= $1 and ($2::text is null or place = $2) and ($3::text is null or pcn_code = $3)
                group by metric, day having sum(delta) <> 0 order by day"#,
            to,
            scope.place,
            scope.pcn_code
        )
        .fetch_all(pool)
        .await?
    };
    // Each metric's value from the start of time to each day that changed it.
    let mut running: BTreeMap<Metric, i64> = BTreeMap::new();
    let mut changes: Vec<(NaiveDate, BTreeMap<Metric, i64>)> = Vec::new();
    for step in steps {
        let Some(metric) = Metric::parse(&step.metric) else {
            continue;
        };
        *running.entry(metric).or_default() += step.delta;
        match changes.last_mut() {
            Some((day, values)) if *day == step.day => *values = running.clone(),
            _ => changes.push((step.day, running.clone())),
        }
    }
    let mut points = Vec::new();
    let mut day = from;
    let mut next = 0;
    let mut values: BTreeMap<Metric, i64> = BTreeMap::new();
    while day <= to {
        while let Some((_, after)) = changes.get(next).filter(|(changed, _)| *changed <= day) {
            values = after.clone();
            next += 1;
        }
        let value = |metric| values.get(&metric).copied().unwrap_or_default();
        points.push(TrendPoint {
            date: day,
            open_cases: value(Metric::OpenCases),
            compliant_cases: value(Metric::CompliantCases),
            practices: value(Metric::Practices),
            non_compliant_practices: value(Metric::NonCompliantPractices),
        });
        let Some(following) = day.checked_add_days(chrono::Days::new(u64::from(every_days.max(1)))) else {
            break;
        };
        day = following;
    }
    Ok(points)
}

/// One episode of a case (from its flag or a reopen), as known now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub case_id: uuid::Uuid,
    pub opened_at: DateTime<Utc>,
    /// When it reached compliance, if it did.
    pub compliant_at: Option<DateTime<Utc>>,
    /// Its status at its end (or now, for the current one).
    pub status: CaseStatus,
}

/// Every episode of the cases `case_ids`, oldest first.
pub async fn episodes(pool: &PgPool, case_ids: &[uuid::Uuid]) -> Result<Vec<Episode>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select distinct on (case_id, opened_at) case_id, opened_at, compliant_at, status
             from case_timeline
            where case_id = any($1) and recorded_to = 'infinity'
            order by case_id, opened_at, valid_from desc"#,
        case_ids
    )
    .fetch_all(pool)
    .await?;
    let mut episodes: Vec<Episode> = rows
        .into_iter()
        .filter_map(|row| {
            Some(Episode {
                case_id: row.case_id,
                opened_at: row.opened_at,
                compliant_at: row.compliant_at,
                status: CaseStatus::parse(&row.status)?,
            })
        })
        .collect();
    episodes.sort_by_key(|e| e.opened_at);
    Ok(episodes)
}
