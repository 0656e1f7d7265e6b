//! `diversion_view`: every diversion of a practice's phones to NHS 111, when it was told, whether
//! it has ended and whether the ICB acknowledged it; and `diversion_review_view`: each review a
//! practice's diversions opened, the support given and how it closed. The queries below keep
//! each reader to the practices it may see (a practice its own, a PCN's clinical director its
//! PCN's).

use caseledger_cases::case::{CaseEvent, StreamName};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;

pub const NAME: &str = <DiversionViewProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for DiversionViewProjection {
    const NAME: &'static str = "diversion_view";
    const TABLES: &'static [&'static str] = &["diversion_view", "diversion_review_view"];
}

#[derive(Debug, Default)]
pub struct DiversionViewProjection;

impl EventHandler for DiversionViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        event_type.starts_with("Diversion")
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
                (CaseEvent::DiversionReviewOpened(opened), Some(StreamName::Practice(ods_code))) => {
                    sqlx::query(
                        "insert into diversion_review_view
                             (review_id, ods_code, opened_at, notices, core_minutes, window_since)
                         values ($1, $2, $3, $4, $5, $6)
                         on conflict (review_id) do nothing",
                    )
                    .bind(opened.review_id)
                    .bind(ods_code.as_str())
                    .bind(at)
                    .bind(i32::try_from(opened.notices).unwrap_or(i32::MAX))
                    .bind(opened.core_minutes)
                    .bind(opened.since)
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DiversionReviewSupported(supported), _) => {
                    sqlx::query(
                        "update diversion_review_view
                            set support_count = support_count + 1,
                                support_kinds = array_append(support_kinds, $2),
                                first_support_at = least(coalesce(first_support_at, $3), $3),
                                last_support_at = greatest(coalesce(last_support_at, $3), $3)
                          where review_id = $1",
                    )
                    .bind(supported.review_id)
                    .bind(crate::case_view::name_of(&supported.kind))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DiversionReviewClosed(closed), _) => {
                    sqlx::query(
                        "update diversion_review_view
                            set closed_at = $2, outcome = $3, close_note = $4, closed_event = $5
                          where review_id = $1",
                    )
                    .bind(closed.review_id)
                    .bind(at)
                    .bind(crate::case_view::name_of(&closed.outcome))
                    .bind(crate::dhu_report_view::stored(event, "note"))
                    .bind(event.event_id)
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
                (CaseEvent::DiversionCancelled(cancelled), _) => {
                    sqlx::query(
                        "update diversion_view set cancelled_at = $2, ended_at = from_at where diversion_id = $1",
                    )
                    .bind(cancelled.diversion_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DiversionWordsErased(erased), _) => {
                    // A diversion's words, or a review's: the id names one or the other.
                    for table in [
                        "update diversion_view set words_erased_at = $2 where diversion_id = $1",
                        "update diversion_review_view set words_erased_at = $2 where review_id = $1",
                    ] {
                        sqlx::query(table)
                            .bind(erased.diversion_id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                    }
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
    /// Called off before it began: it counts for nothing.
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
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
    /// Only this practice (within `among`).
    pub practice: Option<String>,
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
            and (not $4 or (d.acknowledged_at is null and d.cancelled_at is null))
            and ($6::text is null or d.ods_code = $6)
          order by d.from_at desc, d.diversion_id
          limit $5",
    )
    .bind(practice)
    .bind(pcn)
    .bind(filter.since)
    .bind(filter.unacknowledged_only)
    .bind(filter.limit)
    .bind(filter.practice.as_deref())
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

/// A `diversion_review_view` row, with the practice's name and PCN from `practice_view`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReviewRow {
    pub review_id: Uuid,
    pub ods_code: String,
    pub practice_name: Option<String>,
    pub pcn_code: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub notices: i32,
    pub core_minutes: i64,
    pub window_since: DateTime<Utc>,
    pub support_count: i32,
    pub support_kinds: Vec<caseledger_cases::case::DiversionSupportKind>,
    pub first_support_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<caseledger_cases::case::DiversionReviewOutcome>,
    /// As stored: text, or sealed (open it with the closing event's id).
    pub close_note: Option<serde_json::Value>,
    pub closed_event: Option<Uuid>,
}

/// The reviews of the practices `among` holds, newest first: only open ones when `open_only`.
pub async fn reviews(
    pool: &sqlx::PgPool,
    among: &Among,
    open_only: bool,
    limit: i64,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    let (practice, pcn) = match among {
        Among::All => (None, None),
        Among::Practice(code) => (Some(code.as_str()), None),
        Among::Pcn(code) => (None, Some(code.as_str())),
    };
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "select to_jsonb(r) || jsonb_build_object('practice_name', p.name, 'pcn_code', p.pcn_code)
           from diversion_review_view r left join practice_view p on p.ods_code = r.ods_code
          where ($1::text is null or r.ods_code = $1)
            and ($2::text is null or p.pcn_code = $2)
            and (not $3 or r.closed_at is null)
          order by r.opened_at desc, r.review_id
          limit $4",
    )
    .bind(practice)
    .bind(pcn)
    .bind(open_only)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    crate::decode_rows(rows)
}

/// One review.
pub async fn review(pool: &sqlx::PgPool, review_id: Uuid) -> Result<Option<ReviewRow>, sqlx::Error> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "select to_jsonb(r) || jsonb_build_object('practice_name', p.name, 'pcn_code', p.pcn_code)
           from diversion_review_view r left join practice_view p on p.ods_code = r.ods_code
          where r.review_id = $1",
    )
    .bind(review_id)
    .fetch_all(pool)
    .await?;
    Ok(crate::decode_rows::<ReviewRow>(rows)?.pop())
}

/// Diversions ended before `cutoff` whose practice's words are still there, and reviews closed
/// before it whose ICB's note is: (diversion or review, practice).
pub async fn words_expired(
    pool: &sqlx::PgPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "select id, ods_code from (
             select diversion_id as id, ods_code, ended_at as at from diversion_view
              where ended_at < $1 and detail is not null and words_erased_at is null
             union all
             select review_id, ods_code, closed_at from diversion_review_view
              where closed_at < $1 and close_note is not null and words_erased_at is null) expired
          order by at limit $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl crate::words::SealedWords for DiversionRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        crate::words::Sealed::of(
            "DiversionNotified",
            "detail",
            Some(self.notified_event),
            self.detail.as_mut(),
        )
        .into_iter()
        .collect()
    }
}

impl crate::words::SealedWords for ReviewRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        crate::words::Sealed::of(
            "DiversionReviewClosed",
            "note",
            self.closed_event,
            self.close_note.as_mut(),
        )
        .into_iter()
        .collect()
    }
}
