//! `dos_gap_view`: each Directory of Services gap, where it stands and since when (its stage's
//! deadline counts from there), with the words about it as stored, for the ICB's and the 111
//! provider's pages and the practice whose entry a gap is in.

use caseledger_cases::case::CaseEvent;
use caseledger_cases::dos::{DosGapStatus, DosTriage};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::dhu_report_view::stored;
use crate::envelope_of;

impl crate::declared::Registered for DosViewProjection {
    const NAME: &'static str = "dos_gap_view";
    const TABLES: &'static [&'static str] = &["dos_gap_view"];
}

#[derive(Debug, Default)]
pub struct DosViewProjection;

const TYPES: [&str; 6] = [
    "DosGapReported",
    "DosGapTriaged",
    "DosEntryUpdated",
    "DosFixConfirmed",
    "DosGapPersists",
    "DosGapWordsErased",
];

impl EventHandler for DosViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        TYPES.contains(&event_type)
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
            let at = envelope.occurred_at;
            match envelope.event {
                CaseEvent::DosGapReported(r) => {
                    sqlx::query(
                        "insert into dos_gap_view (gap_id, service_id, service_name, kind, bit_at, ods_code, status,
                                                   reported_at, reported_event, detail, stage_since)
                         values ($1, $2, $3, $4, $5, $6, 'REPORTED', $7, $8, $9, $7)
                         on conflict (gap_id) do nothing",
                    )
                    .bind(r.gap_id)
                    .bind(r.service_id.as_str())
                    .bind(r.service_name.as_str())
                    .bind(kind_text(r.kind))
                    .bind(r.bit_at)
                    .bind(r.ods_code.as_ref().map(|c| c.as_str().to_string()))
                    .bind(at)
                    .bind(event.event_id)
                    .bind(stored(event, "detail"))
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::DosGapTriaged(t) => {
                    let status = match t.outcome {
                        DosTriage::CaseOpened => DosGapStatus::AwaitingUpdate,
                        DosTriage::Dismissed => DosGapStatus::Dismissed,
                    };
                    sqlx::query(
                        "update dos_gap_view set status = $2, stage_since = $3, triaged_at = $3, dismiss_reason = $4,
                                triage_event = $5, closed_at = case when $2 = 'DISMISSED' then $3 end,
                                words_erased_at = case when $4 is null then words_erased_at end
                          where gap_id = $1",
                    )
                    .bind(t.gap_id)
                    .bind(status.as_str())
                    .bind(at)
                    .bind(stored(event, "reason"))
                    .bind(event.event_id)
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::DosEntryUpdated(u) => {
                    sqlx::query(
                        "update dos_gap_view set status = 'AWAITING_CONFIRMATION', stage_since = $2, updated_at = $2,
                                update_summary = $3, update_event = $4,
                                words_erased_at = case when $3 is null then words_erased_at end
                          where gap_id = $1",
                    )
                    .bind(u.gap_id)
                    .bind(at)
                    .bind(stored(event, "summary"))
                    .bind(event.event_id)
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::DosFixConfirmed(c) => {
                    sqlx::query(
                        "update dos_gap_view set status = 'CLOSED', stage_since = $2, closed_at = $2 where gap_id = $1",
                    )
                    .bind(c.gap_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::DosGapPersists(p) => {
                    sqlx::query(
                        "update dos_gap_view set status = 'AWAITING_UPDATE', stage_since = $2,
                                persists_count = persists_count + 1, persist_detail = $3, persist_event = $4,
                                words_erased_at = case when $3 is null then words_erased_at end
                          where gap_id = $1",
                    )
                    .bind(p.gap_id)
                    .bind(at)
                    .bind(stored(event, "detail"))
                    .bind(event.event_id)
                    .execute(&mut *tx)
                    .await?;
                }
                CaseEvent::DosGapWordsErased(erased) => {
                    sqlx::query("update dos_gap_view set words_erased_at = $2 where gap_id = $1")
                        .bind(erased.gap_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn kind_text(kind: caseledger_cases::dos::DosGapKind) -> &'static str {
    match kind {
        caseledger_cases::dos::DosGapKind::Hours => "hours",
        caseledger_cases::dos::DosGapKind::SkillOrCapacity => "skill_or_capacity",
        caseledger_cases::dos::DosGapKind::WrongDetails => "wrong_details",
    }
}

/// One gap as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GapRow {
    pub gap_id: Uuid,
    pub service_id: String,
    pub service_name: String,
    pub kind: String,
    pub bit_at: DateTime<Utc>,
    pub ods_code: Option<String>,
    pub status: String,
    pub reported_at: DateTime<Utc>,
    pub reported_event: Uuid,
    pub detail: Option<serde_json::Value>,
    pub stage_since: DateTime<Utc>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub dismiss_reason: Option<serde_json::Value>,
    pub triage_event: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
    pub update_summary: Option<serde_json::Value>,
    pub update_event: Option<Uuid>,
    pub persists_count: i32,
    pub persist_detail: Option<serde_json::Value>,
    pub persist_event: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "gap_id, service_id, service_name, kind, bit_at, ods_code, status, reported_at, reported_event,
    detail, stage_since, triaged_at, dismiss_reason, triage_event, updated_at, update_summary, update_event,
    persists_count, persist_detail, persist_event, closed_at";

/// The gaps reported since `since` or still open, newest first; of one practice's entry when
/// `practice` is given; only open ones when `open_only`.
pub async fn gaps(
    pool: &sqlx::PgPool,
    practice: Option<&str>,
    since: DateTime<Utc>,
    open_only: bool,
    limit: i64,
) -> Result<Vec<GapRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from dos_gap_view
          where ($1::text is null or ods_code = $1)
            and (status not in ('CLOSED', 'DISMISSED') or (not $3 and closed_at >= $2))
          order by reported_at desc
          limit $4"
    ))
    .bind(practice)
    .bind(since)
    .bind(open_only)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One gap.
pub async fn gap(pool: &sqlx::PgPool, gap_id: Uuid) -> Result<Option<GapRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from dos_gap_view where gap_id = $1"))
        .bind(gap_id)
        .fetch_optional(pool)
        .await
}

/// Gaps closed or dismissed before `cutoff` whose words are still there: (gap, service).
pub async fn words_expired(
    pool: &sqlx::PgPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "select gap_id, service_id from dos_gap_view
          where closed_at < $1 and words_erased_at is null
            and (detail is not null or dismiss_reason is not null or update_summary is not null
                 or persist_detail is not null)
          order by closed_at limit $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Every gap reported, closed or dismissed since `since` (of one practice's entry when given).
pub async fn since(
    pool: &sqlx::PgPool,
    practice: Option<&str>,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<GapRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from dos_gap_view
          where ($1::text is null or ods_code = $1) and (reported_at >= $2 or closed_at >= $2)
          order by reported_at
          limit $3"
    ))
    .bind(practice)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl crate::words::SealedWords for GapRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        use crate::words::Sealed;
        [
            Sealed::of(
                "DosGapReported",
                "detail",
                Some(self.reported_event),
                self.detail.as_mut(),
            ),
            Sealed::of(
                "DosGapTriaged",
                "reason",
                self.triage_event,
                self.dismiss_reason.as_mut(),
            ),
            Sealed::of(
                "DosEntryUpdated",
                "summary",
                self.update_event,
                self.update_summary.as_mut(),
            ),
            Sealed::of(
                "DosGapPersists",
                "detail",
                self.persist_event,
                self.persist_detail.as_mut(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
