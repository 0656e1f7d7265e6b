//! Calls to NHS 111 in core hours, for PCN clinical directors: per practice, per 1,000
//! registered patients, against the PCN's and the ICB's medians, beside the practice's diversions
//! and its 111 slot compliance. A practice reads its own, a clinical director its PCN's practices,
//! every other party all; the medians are over every practice (an aggregate, not a practice's).

use std::collections::{BTreeMap, HashMap};

use async_graphql::{Context, SimpleObject};
use chrono::{Duration, Utc};

use super::diversions::{among, monday};
use super::scalars::Date;
use super::{reads, signed_in};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most weeks one query reads.
pub const MAX_WEEKS: i32 = 26;
/// A practice this many times its PCN's or the ICB's median rate, or more, is an outlier.
pub const OUTLIER_RATIO: f64 = 1.5;

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct WeekCalls {
    /// The Monday the week starts.
    pub week: Date,
    pub calls: i32,
}

/// A practice's calls to 111 in core hours over the weeks asked for.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct PracticeCalls {
    pub ods_code: String,
    pub name: Option<String>,
    pub pcn_code: Option<String>,
    pub list_size: Option<i32>,
    /// Week by week, oldest first.
    pub weeks: Vec<WeekCalls>,
    pub calls: i32,
    /// Calls per 1,000 registered patients over the weeks (null without a list size).
    pub per_thousand: Option<f64>,
    /// The median rate of the practice's PCN, and of every practice.
    pub pcn_median: Option<f64>,
    pub icb_median: Option<f64>,
    /// At least 1.5 times its PCN's or the ICB's median rate.
    pub outlier: bool,
    /// Diversion notices begun in the weeks.
    pub diversions: i32,
    /// Whether its latest dashboard row met its 111 slot requirement.
    pub slots_compliant: Option<bool>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The practices' calls over the last `weeks` weeks (this one included).
pub async fn core_hours_calls(ctx: &Context<'_>, weeks: i32) -> ApiResult<Vec<PracticeCalls>> {
    let actor = signed_in(ctx)?;
    let among = among(actor)?;
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::bad_input("weeks", format!("1 to {MAX_WEEKS}"))).gql();
    }
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let since = monday(today) - Duration::weeks(i64::from(weeks - 1));
    let rows = caseledger_projections::calls_view::weeks_since(reads(ctx), since, 200_000)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let from = caseledger_clock::ukclock::from_local(since.and_time(chrono::NaiveTime::MIN)).with_timezone(&Utc);
    let diversions = caseledger_projections::calls_view::diversions_since(reads(ctx), from)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let mut practices: BTreeMap<String, PracticeCalls> = BTreeMap::new();
    for row in rows {
        let practice = practices.entry(row.ods_code.clone()).or_insert_with(|| PracticeCalls {
            ods_code: row.ods_code.clone(),
            name: row.practice_name.clone(),
            pcn_code: row.pcn_code.clone(),
            list_size: row.list_size,
            weeks: Vec::new(),
            calls: 0,
            per_thousand: None,
            pcn_median: None,
            icb_median: None,
            outlier: false,
            diversions: diversions
                .get(&row.ods_code)
                .map_or(0, |n| i32::try_from(*n).unwrap_or(i32::MAX)),
            slots_compliant: row.compliant,
        });
        practice.weeks.push(WeekCalls {
            week: Date(row.week_start),
            calls: row.calls,
        });
        practice.calls = practice.calls.saturating_add(row.calls);
    }
    for practice in practices.values_mut() {
        practice.per_thousand = practice
            .list_size
            .filter(|size| *size > 0)
            .map(|size| f64::from(practice.calls) * 1000.0 / f64::from(size));
    }
    let rate = |p: &PracticeCalls| p.per_thousand;
    let icb = median(practices.values().filter_map(rate).collect());
    let mut by_pcn: HashMap<String, Vec<f64>> = HashMap::new();
    for practice in practices.values() {
        if let (Some(pcn), Some(rate)) = (&practice.pcn_code, practice.per_thousand) {
            by_pcn.entry(pcn.clone()).or_default().push(rate);
        }
    }
    let pcn_medians: HashMap<String, Option<f64>> =
        by_pcn.into_iter().map(|(pcn, rates)| (pcn, median(rates))).collect();
    Ok(practices
        .into_values()
        .filter(|p| super::diversions::may_read(&among, &p.ods_code, p.pcn_code.as_deref()))
        .map(|mut practice| {
            practice.icb_median = icb;
            practice.pcn_median = practice
                .pcn_code
                .as_ref()
                .and_then(|pcn| pcn_medians.get(pcn).copied().flatten());
            practice.outlier = practice.per_thousand.is_some_and(|rate| {
                [practice.pcn_median, practice.icb_median]
                    .into_iter()
                    .flatten()
                    .any(|median| median > 0.0 && rate >= OUTLIER_RATIO * median)
            });
            practice
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
