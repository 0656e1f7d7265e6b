//! `telephony`: each practice's months of telephony (inbound calls, average wait, abandonment,
//! average call length, callbacks) and each PCN's notes of what it agreed at a month's review,
//! for the clinical director's review page.

use caseledger_cases::case::CaseEvent;
use caseledger_cases::telephony::{PcnReviewNoteErased, PcnReviewNoted, TelephonyMetricsReported};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;

impl crate::declared::Registered for TelephonyViewProjection {
    const NAME: &'static str = "telephony";
    const TABLES: &'static [&'static str] = &["telephony_metrics", "pcn_review_notes"];
}

#[derive(Debug, Default)]
pub struct TelephonyViewProjection;

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl EventHandler for TelephonyViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        [
            TelephonyMetricsReported::EVENT_TYPE,
            PcnReviewNoted::EVENT_TYPE,
            PcnReviewNoteErased::EVENT_TYPE,
        ]
        .contains(&event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events {
            if !self.reads(&event.event_type) {
                continue;
            }
            let envelope = envelope_of(event)?;
            match envelope.event {
                CaseEvent::TelephonyMetricsReported(m) => {
                    sqlx::query(
                        "insert into telephony_metrics (ods_code, month, inbound_calls, average_wait_seconds,
                                                        abandonment_basis_points, average_call_seconds, callbacks)
                         values ($1, $2, $3, $4, $5, $6, $7)
                         on conflict (ods_code, month) do update
                            set inbound_calls = excluded.inbound_calls,
                                average_wait_seconds = excluded.average_wait_seconds,
                                abandonment_basis_points = excluded.abandonment_basis_points,
                                average_call_seconds = excluded.average_call_seconds,
                                callbacks = excluded.callbacks",
                    )
                    .bind(m.ods_code.as_str())
                    .bind(m.month)
                    .bind(int(m.inbound_calls))
                    .bind(int(m.average_wait_seconds))
                    .bind(int(m.abandonment_basis_points))
                    .bind(int(m.average_call_seconds))
                    .bind(int(m.callbacks))
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::PcnReviewNoted(noted) => {
                    sqlx::query(
                        "insert into pcn_review_notes (note_id, pcn_code, month, note, noted_event, noted_by, noted_at)
                         values ($1, $2, $3, $4, $5, $6, $7)
                         on conflict (note_id) do nothing",
                    )
                    .bind(noted.note_id)
                    .bind(noted.pcn_code.as_str())
                    .bind(noted.month)
                    .bind(crate::dhu_report_view::stored(event, "note").unwrap_or_default())
                    .bind(event.event_id)
                    .bind(envelope.actor.id.as_str())
                    .bind(envelope.occurred_at)
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::PcnReviewNoteErased(erased) => {
                    sqlx::query("update pcn_review_notes set words_erased_at = $2 where note_id = $1")
                        .bind(erased.note_id)
                        .bind(envelope.occurred_at)
                        .execute(&mut *tx)
                        .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A practice's month, with what the register says of the practice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthRow {
    pub ods_code: String,
    pub practice_name: Option<String>,
    pub pcn_code: Option<String>,
    pub month: NaiveDate,
    pub inbound_calls: i32,
    pub average_wait_seconds: i32,
    pub abandonment_basis_points: i32,
    pub average_call_seconds: i32,
    pub callbacks: i32,
}

/// The months from `since` of the practices of `pcn` (every practice when `None`), or of one
/// practice, oldest month first.
pub async fn months_since(
    pool: &sqlx::PgPool,
    since: NaiveDate,
    pcn: Option<&str>,
    practice: Option<&str>,
    limit: i64,
) -> Result<Vec<MonthRow>, sqlx::Error> {
    sqlx::query_as(
        "select t.ods_code, p.name as practice_name, p.pcn_code, t.month, t.inbound_calls,
                t.average_wait_seconds, t.abandonment_basis_points, t.average_call_seconds, t.callbacks
           from telephony_metrics t left join practice_view p on p.ods_code = t.ods_code
          where t.month >= $1
            and ($2::text is null or p.pcn_code = $2)
            and ($3::text is null or t.ods_code = $3)
          order by t.ods_code, t.month
          limit $4",
    )
    .bind(since)
    .bind(pcn)
    .bind(practice)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A PCN's note, its words as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NoteRow {
    pub note_id: Uuid,
    pub pcn_code: String,
    pub month: NaiveDate,
    pub note: serde_json::Value,
    pub noted_event: Uuid,
    pub noted_by: String,
    pub noted_at: DateTime<Utc>,
    /// When its words were erased.
    pub words_erased_at: Option<DateTime<Utc>>,
}

/// `pcn`'s notes of months from `since`, the latest month first.
pub async fn notes_since(
    pool: &sqlx::PgPool,
    pcn: &str,
    since: NaiveDate,
    limit: i64,
) -> Result<Vec<NoteRow>, sqlx::Error> {
    sqlx::query_as(
        "select note_id, pcn_code, month, note, noted_event, noted_by, noted_at, words_erased_at
           from pcn_review_notes
          where pcn_code = $1 and month >= $2
          order by month desc, noted_at desc
          limit $3",
    )
    .bind(pcn)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One note, by its id.
pub async fn note(pool: &sqlx::PgPool, note_id: Uuid) -> Result<Option<NoteRow>, sqlx::Error> {
    sqlx::query_as(
        "select note_id, pcn_code, month, note, noted_event, noted_by, noted_at, words_erased_at
           from pcn_review_notes where note_id = $1",
    )
    .bind(note_id)
    .fetch_optional(pool)
    .await
}

/// Notes recorded before `cutoff` whose words are still there: (note, PCN).
pub async fn notes_expired(
    pool: &sqlx::PgPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "select note_id, pcn_code from pcn_review_notes
          where noted_at < $1 and words_erased_at is null
          order by noted_at limit $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl crate::words::SealedWords for NoteRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        crate::words::Sealed::of(
            PcnReviewNoted::EVENT_TYPE,
            "note",
            Some(self.noted_event),
            Some(&mut self.note),
        )
        .into_iter()
        .collect()
    }
}
