//! How the present knowledge's figures change from day to day. An interval over which a figure
//! holds adds one to it at the end of its first day, and takes one away at the end of the day it
//! ends (so the value at the end of day D counts the intervals that hold at that instant).

use std::collections::HashMap;

use caseledger_eventstore::HandlerError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::timeline::{Figure, Observed, forever};

/// The figures a trend follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Cases not COMPLIANT or CLOSED.
    OpenCases,
    /// Cases whose episode had reached compliance.
    CompliantCases,
    /// Practices observed.
    Practices,
    /// Practices whose latest observation was below their requirement.
    NonCompliantPractices,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::OpenCases => "open_cases",
            Metric::CompliantCases => "compliant_cases",
            Metric::Practices => "practices",
            Metric::NonCompliantPractices => "non_compliant_practices",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        [
            Metric::OpenCases,
            Metric::CompliantCases,
            Metric::Practices,
            Metric::NonCompliantPractices,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }
}

/// Changes to the steps, gathered over a batch and written once.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    deltas: HashMap<(Metric, NaiveDate, String, String), i64>,
}

#[derive(Debug, Serialize)]
struct Step<'a> {
    metric: &'static str,
    day: NaiveDate,
    place: &'a str,
    pcn_code: &'a str,
    delta: i64,
}

impl Changes {
    fn interval(
        &mut self,
        metric: Metric,
        place: &str,
        pcn_code: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        sign: i64,
    ) {
        let mut add = |day: NaiveDate, delta: i64| {
            *self
                .deltas
                .entry((metric, day, place.to_string(), pcn_code.to_string()))
                .or_default() += delta;
        };
        add(from.date_naive(), sign);
        if to != forever() {
            add(to.date_naive(), -sign);
        }
    }

    /// A case held `figure` over `from..to`: `sign` 1 when learnt, -1 when no longer so.
    pub(crate) fn case_interval(&mut self, figure: &Figure, from: DateTime<Utc>, to: DateTime<Utc>, sign: i64) {
        if figure.status.is_open() {
            self.interval(Metric::OpenCases, &figure.place, &figure.pcn_code, from, to, sign);
        }
        if figure.compliant_at.is_some() {
            self.interval(Metric::CompliantCases, &figure.place, &figure.pcn_code, from, to, sign);
        }
    }

    /// A practice was observed as `observed` over `from..to`.
    pub(crate) fn practice_interval(&mut self, observed: &Observed, from: DateTime<Utc>, to: DateTime<Utc>, sign: i64) {
        self.interval(Metric::Practices, &observed.place, &observed.pcn_code, from, to, sign);
        if !observed.compliant {
            self.interval(
                Metric::NonCompliantPractices,
                &observed.place,
                &observed.pcn_code,
                from,
                to,
                sign,
            );
        }
    }

    /// Adds the changes to `trend_steps` (by place and PCN) and `trend_totals`.
    pub(crate) async fn write(self, tx: &mut PgConnection) -> Result<(), HandlerError> {
        let steps: Vec<Step> = self
            .deltas
            .iter()
            .filter(|(_, delta)| **delta != 0)
            .map(|((metric, day, place, pcn_code), delta)| Step {
                metric: metric.as_str(),
                day: *day,
                place,
                pcn_code,
                delta: *delta,
            })
            .collect();
        if steps.is_empty() {
            return Ok(());
        }
        let steps = serde_json::to_value(steps)?;
        sqlx::query!(
            r#"insert into trend_steps (metric, day, place, pcn_code, delta)
               select metric, day, place, pcn_code, delta
                 from jsonb_to_recordset($1) as s(metric text, day date, place text, pcn_code text, delta integer)
               on conflict (metric, day, place, pcn_code) do update set delta = trend_steps.delta + excluded.delta"#,
            steps
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into trend_totals (metric, day, delta)
               select metric, day, sum(delta)
                 from jsonb_to_recordset($1) as s(metric text, day date, place text, pcn_code text, delta integer)
                group by metric, day
               on conflict (metric, day) do update set delta = trend_totals.delta + excluded.delta"#,
            steps
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
