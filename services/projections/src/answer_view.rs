//! `answer_view`: each practice's answers to the Digital Champion on its slot cases, with their
//! words as stored (sealed: opened only when shown to someone the lens lets read them, and so
//! erased with the case's key).

use caseledger_cases::answer::PracticeAnswered;
use caseledger_cases::case::CaseEvent;
use caseledger_eventstore::{EventHandler, EventStore, HandlerError, RecordedEvent, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;

impl crate::declared::Registered for AnswerViewProjection {
    const NAME: &'static str = "answer_view";
    const TABLES: &'static [&'static str] = &["practice_answers"];
}

#[derive(Debug, Default)]
pub struct AnswerViewProjection;

impl EventHandler for AnswerViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        event_type == PracticeAnswered::EVENT_TYPE
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events.iter().filter(|e| self.reads(&e.event_type)) {
            let envelope = envelope_of(event)?;
            let CaseEvent::PracticeAnswered(answered) = envelope.event else {
                continue;
            };
            let ods_code = event.stream_id.strip_prefix("practice-").unwrap_or_default();
            sqlx::query(
                "insert into practice_answers (answer_id, case_id, ods_code, answered_at, answered_by, text,
                                               answered_event)
                 values ($1, $2, $3, $4, $5, $6, $7)
                 on conflict (answer_id) do nothing",
            )
            .bind(answered.answer_id)
            .bind(answered.case_id)
            .bind(ods_code)
            .bind(envelope.occurred_at)
            .bind(envelope.actor.id.as_str())
            .bind(crate::dhu_report_view::stored(event, "text"))
            .bind(event.event_id)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// One answer, its words as stored (sealed).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnswerRow {
    pub answer_id: Uuid,
    pub case_id: Uuid,
    pub ods_code: String,
    pub answered_at: DateTime<Utc>,
    pub answered_by: String,
    pub text: Option<serde_json::Value>,
    /// The event it came from: what its sealed words are opened against.
    pub answered_event: Uuid,
}

/// The latest `limit` answers on each of `case_ids` (each case's found by the index, however many
/// it has), oldest first within each case; their words as stored (sealed).
pub async fn of_cases(pool: &sqlx::PgPool, case_ids: &[Uuid], limit: i64) -> Result<Vec<AnswerRow>, sqlx::Error> {
    sqlx::query_as(
        "select a.answer_id, a.case_id, a.ods_code, a.answered_at, a.answered_by, a.text, a.answered_event
           from unnest($1::uuid[]) as c(case_id)
           cross join lateral (
               select * from practice_answers p where p.case_id = c.case_id
                order by p.answered_at desc, p.answer_id desc limit $2) a
          order by a.case_id, a.answered_at, a.answer_id",
    )
    .bind(case_ids)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// [`of_cases`], their words opened (or read as erased) whoever reads: for a loader shared by
/// the readers of one request, each of whom is shown only what the lens lets them see.
pub async fn opened(store: &EventStore, case_ids: &[Uuid], limit: i64) -> Result<Vec<AnswerRow>, StoreError> {
    let mut rows = of_cases(store.pool(), case_ids, limit).await?;
    crate::words::open_for(store, crate::lens::Reader::Admin, &mut rows).await?;
    Ok(rows)
}

impl crate::words::SealedWords for AnswerRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        crate::words::Sealed::of(
            PracticeAnswered::EVENT_TYPE,
            "text",
            Some(self.answered_event),
            self.text.as_mut(),
        )
        .into_iter()
        .collect()
    }
}
