//! `core_hours_calls`: the 111 provider's weekly count of calls to NHS 111 in core hours by
//! practice, and the read of it PCN clinical directors review: calls per 1,000 registered
//! patients against the PCN's and the ICB's medians, beside the practice's diversions and its 111
//! slot compliance.

use caseledger_cases::case::CaseEvent;
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::NaiveDate;
use sqlx::PgConnection;

use crate::envelope_of;

impl crate::declared::Registered for CallsViewProjection {
    const NAME: &'static str = "core_hours_calls";
    const TABLES: &'static [&'static str] = &["core_hours_calls"];
}

#[derive(Debug, Default)]
pub struct CallsViewProjection;

impl EventHandler for CallsViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        event_type == caseledger_cases::calls::CoreHoursCallsReported::EVENT_TYPE
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events {
            if !self.reads(&event.event_type) {
                continue;
            }
            if let CaseEvent::CoreHoursCallsReported(reported) = envelope_of(event)?.event {
                sqlx::query(
                    "insert into core_hours_calls (ods_code, week_start, calls) values ($1, $2, $3)
                     on conflict (ods_code, week_start) do update set calls = excluded.calls",
                )
                .bind(reported.ods_code.as_str())
                .bind(reported.week_start)
                .bind(i32::try_from(reported.calls).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}

/// One practice's week, with what the register and the dashboard say of the practice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallsRow {
    pub ods_code: String,
    pub practice_name: Option<String>,
    pub pcn_code: Option<String>,
    pub list_size: Option<i32>,
    pub compliant: Option<bool>,
    pub week_start: NaiveDate,
    pub calls: i32,
}

/// Every practice's weeks from `since` (every practice: the ICB's median is over all of them).
pub async fn weeks_since(pool: &sqlx::PgPool, since: NaiveDate, limit: i64) -> Result<Vec<CallsRow>, sqlx::Error> {
    sqlx::query_as(
        "select c.ods_code, p.name as practice_name, p.pcn_code, p.list_size, p.compliant, c.week_start, c.calls
           from core_hours_calls c left join practice_view p on p.ods_code = c.ods_code
          where c.week_start >= $1
          order by c.ods_code, c.week_start
          limit $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Diversion notices begun since `since`, by practice.
pub async fn diversions_since(
    pool: &sqlx::PgPool,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select ods_code, count(*) from diversion_view where from_at >= $1 and cancelled_at is null group by ods_code",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}
