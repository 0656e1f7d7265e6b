//! `diversion_view`: every diversion of a practice's phones to NHS 111, when it was told, whether
//! it has ended and whether the ICB acknowledged it. The queries below keep each reader to the
//! practices it may see (a practice its own, a PCN's clinical director its PCN's).

use caseledger_cases::case::{CaseEvent, StreamName};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;

pub const NAME: &str = <DiversionViewProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for DiversionViewProjection {
    const NAME: &'static str = "diversion_view";
    const TABLES: &'static [&'static str] = &["diversion_view"];
}

#[derive(Debug, Default)]
pub struct DiversionViewProjection;

impl EventHandler for DiversionViewProjection {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events {
            if !event.event_type.starts_with("Diversion") {
                continue;
            }
            let envelope = envelope_of(event)?;
            let at = envelope.occurred_at;
            let by = envelope.actor.id.to_string();
            match (&envelope.event, StreamName::parse(&event.stream_id)) {
                (CaseEvent::DiversionNotified(notified), Some(StreamName::Practice(ods_code))) => {
                    let reason = crate::case_view::name_of(&notified.reason);
                    sqlx::query(
                        "insert into diversion_view
                             (diversion_id, ods_code, from_at, expected_until, reason, detail, notified_event,
                              notified_at, notified_by, notified_role)
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         on conflict (diversion_id) do nothing",
                    )
                    .bind(notified.diversion_id)
                    .bind(ods_code.as_str())
                    .bind(notified.from)
                    .bind(notified.expected_until)
                    .bind(reason)
                    .bind(crate::dhu_report_view::stored(event, "detail"))
                    .bind(event.event_id)
                    .bind(at)
                    .bind(by)
                    .bind(envelope.actor.role.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DiversionEnded(ended), _) => {
                    sqlx::query("update diversion_view set ended_at = $2 where diversion_id = $1")
                        .bind(ended.diversion_id)
                        .bind(ended.ended_at)
                        .execute(&mut *tx)
                        .await?;
                }
                (CaseEvent::DiversionAcknowledged(acknowledged), _) => {
                    sqlx::query(
                        "update diversion_view set acknowledged_at = $2, acknowledged_by = $3 where diversion_id = $1",
                    )
                    .bind(acknowledged.diversion_id)
                    .bind(at)
                    .bind(by)
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A `diversion_view` row, with the practice's name, PCN and place from `practice_view`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DiversionRow {
    pub diversion_id: Uuid,
    pub ods_code: String,
    pub practice_name: Option<String>,
    pub pcn_code: Option<String>,
    pub pcn_name: Option<String>,
    pub place: Option<String>,
    pub from_at: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub reason: caseledger_cases::case::DiversionReason,
    /// As stored: text, or sealed (open it with the notice's event id).
    pub detail: Option<serde_json::Value>,
    pub notified_event: Uuid,
    pub notified_at: DateTime<Utc>,
    pub notified_by: String,
    pub notified_role: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

impl DiversionRow {
    /// Told after it began.
    pub fn late(&self) -> bool {
        self.notified_at > self.from_at
    }
}

/// Which practices' diversions a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Among {
    /// Every practice (the ICB, the LMC, champions, the DHU).
    All,
    /// One practice.
    Practice(String),
    /// The practices of one PCN.
    Pcn(String),
}

/// What to list: whose, from when, only those the ICB has still to acknowledge.
#[derive(Debug, Clone)]
pub struct DiversionFilter {
    pub among: Among,
    /// Diversions still running at or beginning after this instant.
    pub since: Option<DateTime<Utc>>,
    pub unacknowledged_only: bool,
    pub limit: i64,
}

/// Diversions matching `filter`, newest first.
pub async fn list(pool: &sqlx::PgPool, filter: &DiversionFilter) -> Result<Vec<DiversionRow>, sqlx::Error> {
    let (practice, pcn) = match &filter.among {
        Among::All => (None, None),
        Among::Practice(code) => (Some(code.as_str()), None),
        Among::Pcn(code) => (None, Some(code.as_str())),
    };
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "select to_jsonb(d) || jsonb_build_object('practice_name', p.name, 'pcn_code', p.pcn_code,
                                                  'pcn_name', p.pcn_name, 'place', p.place)
           from diversion_view d left join practice_view p on p.ods_code = d.ods_code
          where ($1::text is null or d.ods_code = $1)
            and ($2::text is null or p.pcn_code = $2)
            and ($3::timestamptz is null or coalesce(d.ended_at, 'infinity') >= $3 or d.from_at >= $3)
            and (not $4 or d.acknowledged_at is null)
          order by d.from_at desc, d.diversion_id
          limit $5",
    )
    .bind(practice)
    .bind(pcn)
    .bind(filter.since)
    .bind(filter.unacknowledged_only)
    .bind(filter.limit)
    .fetch_all(pool)
    .await?;
    crate::decode_rows(rows)
}

/// One diversion.
pub async fn by_id(pool: &sqlx::PgPool, diversion_id: Uuid) -> Result<Option<DiversionRow>, sqlx::Error> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "select to_jsonb(d) || jsonb_build_object('practice_name', p.name, 'pcn_code', p.pcn_code,
                                                  'pcn_name', p.pcn_name, 'place', p.place)
           from diversion_view d left join practice_view p on p.ods_code = d.ods_code
          where d.diversion_id = $1",
    )
    .bind(diversion_id)
    .fetch_all(pool)
    .await?;
    Ok(crate::decode_rows::<DiversionRow>(rows)?.pop())
}
