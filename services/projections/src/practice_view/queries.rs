//! What the views ask of `practice_view`: a page of practices under a filter, one practice, its
//! weekly series, the DHU's rows for it, and the names of the PCNs. "Missing data" is a
//! registered practice whose latest observation is older than the latest extract (or that has
//! none): `missing_weeks` counts the extracts since.

use std::collections::HashMap;

use caseledger_cases::practice::{VerificationVerdict, VerifiedDay};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::PracticeRow;
use crate::case_view::open_statuses;

/// Which practices a list holds. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct PracticeFilter {
    pub place: Option<String>,
    pub pcn_code: Option<String>,
    /// The latest observation met the requirement (`Some(true)`) or did not.
    pub compliant: Option<bool>,
    pub has_open_case: Option<bool>,
    /// Registered, and absent from the latest extract (`Some(true)`).
    pub missing_data: Option<bool>,
    /// Registered, and absent from at least this many extracts since its latest row.
    pub min_missing_weeks: Option<i64>,
    /// The three counts disagree.
    pub disagreement: Option<bool>,
    /// Only these practices (a champion's: those of their cases).
    pub ods_codes: Option<Vec<String>>,
    /// ODS code starting with, or name containing, this text (any case).
    pub search: Option<String>,
    /// Closed, as ODS publishes it (`Some(true)`), or open.
    pub closed: Option<bool>,
}

impl PracticeFilter {
    /// `search` as an ILIKE pattern's text: `%` and `_` typed by a person match themselves.
    fn search_text(&self) -> Option<String> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
    }
}

/// A practice as a list shows it: its row, the extracts it has missed since its latest
/// observation (registered practices only), and its open case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PracticeSummary {
    #[serde(flatten)]
    pub row: PracticeRow,
    pub missing_weeks: i64,
    pub open_case_id: Option<Uuid>,
}

/// A page of a list (its length is [`count`]'s, asked for only when wanted).
#[derive(Debug, Clone)]
pub struct PracticePage {
    pub rows: Vec<PracticeSummary>,
    pub has_next_page: bool,
}

fn decode(rows: Vec<serde_json::Value>) -> Result<Vec<PracticeSummary>, sqlx::Error> {
    crate::decode_rows(rows)
}

/// The report date of the latest dashboard extract imported: what the figures are as at.
pub async fn latest_extract_date(pool: &PgPool) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar!("select max(report_date) from extract_dates")
        .fetch_one(pool)
        .await
}

/// Up to `first` practices under `filter` after the practice `after` (ODS code order).
pub async fn page(
    pool: &PgPool,
    filter: &PracticeFilter,
    after: Option<&str>,
    first: i64,
) -> Result<PracticePage, sqlx::Error> {
    let open = open_statuses();
    let rows = sqlx::query_scalar!(
        r#"with latest as (select max(report_date) as day from extract_dates),
                -- the N-th latest extract: a practice whose last row is older has missed N or more
                nth as (select (select report_date from extract_dates order by report_date desc
                                 offset greatest(coalesce($9::bigint, 1), 1) - 1 limit 1) as day)
           select to_jsonb(p) || jsonb_build_object(
                      'missing_weeks', case when p.registered
                          then (select count(*) from extract_dates e where e.report_date > coalesce(p.report_date, '-infinity'))
                          else 0 end,
                      'open_case_id', (select c.case_id from case_view c
                                        where c.ods_code = p.ods_code and c.status = any($1) limit 1)) as "row!"
             from practice_view p, latest, nth
            where ($2::text is null or p.place = $2)
              and ($3::text is null or p.pcn_code = $3)
              and ($4::bool is null or p.compliant = $4)
              and ($5::bool is null or exists (select 1 from case_view c where c.ods_code = p.ods_code and c.status = any($1)) = $5)
              and ($6::bool is null or (p.registered and not (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED')
                                        and p.report_date is distinct from latest.day
                                        and latest.day is not null) = $6)
              and ($7::bool is null or p.disagreement = $7)
              and ($8::text[] is null or p.ods_code = any($8))
              and ($9::bigint is null or (p.registered and not (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED') and nth.day is not null
                                          and (p.report_date is null or p.report_date < nth.day)))
              and ($10::text is null or p.ods_code > $10)
              and ($12::text is null or p.ods_code ilike $12 || '%' or p.name ilike '%' || $12 || '%')
              and ($13::bool is null or (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED') = $13)
            order by p.ods_code
            limit $11"#,
        &open as &[&str],
        filter.place,
        filter.pcn_code,
        filter.compliant,
        filter.has_open_case,
        filter.missing_data,
        filter.disagreement,
        filter.ods_codes.as_deref(),
        filter.min_missing_weeks,
        after,
        first.saturating_add(1),
        filter.search_text(),
        filter.closed,
    )
    .fetch_all(pool)
    .await?;
    let mut rows = decode(rows)?;
    let has_next_page = rows.len() > usize::try_from(first).unwrap_or_default();
    rows.truncate(usize::try_from(first).unwrap_or_default());
    Ok(PracticePage { rows, has_next_page })
}

/// How many practices `filter` holds.
pub async fn count(pool: &PgPool, filter: &PracticeFilter) -> Result<i64, sqlx::Error> {
    let open = open_statuses();
    sqlx::query_scalar!(
        r#"with latest as (select max(report_date) as day from extract_dates),
                -- the N-th latest extract: a practice whose last row is older has missed N or more
                nth as (select (select report_date from extract_dates order by report_date desc
                                 offset greatest(coalesce($9::bigint, 1), 1) - 1 limit 1) as day)
           select count(*) as "count!" from practice_view p, latest, nth
            where ($2::text is null or p.place = $2)
              and ($3::text is null or p.pcn_code = $3)
              and ($4::bool is null or p.compliant = $4)
              and ($5::bool is null or exists (select 1 from case_view c where c.ods_code = p.ods_code and c.status = any($1)) = $5)
              and ($6::bool is null or (p.registered and not (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED')
                                        and p.report_date is distinct from latest.day
                                        and latest.day is not null) = $6)
              and ($7::bool is null or p.disagreement = $7)
              and ($8::text[] is null or p.ods_code = any($8))
              and ($9::bigint is null or (p.registered and not (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED') and nth.day is not null
                                          and (p.report_date is null or p.report_date < nth.day)))
              and ($10::text is null or p.ods_code ilike $10 || '%' or p.name ilike '%' || $10 || '%')
              and ($11::bool is null or (p.closed_on is not null or coalesce(p.ods_status, '') = 'CLOSED') = $11)"#,
        &open as &[&str],
        filter.place,
        filter.pcn_code,
        filter.compliant,
        filter.has_open_case,
        filter.missing_data,
        filter.disagreement,
        filter.ods_codes.as_deref(),
        filter.min_missing_weeks,
        filter.search_text(),
        filter.closed,
    )
    .fetch_one(pool)
    .await
}

/// One practice.
pub async fn get(pool: &PgPool, ods_code: &str) -> Result<Option<PracticeSummary>, sqlx::Error> {
    let filter = PracticeFilter {
        ods_codes: Some(vec![ods_code.to_string()]),
        ..PracticeFilter::default()
    };
    Ok(page(pool, &filter, None, 1).await?.rows.pop())
}

/// One dashboard observation of a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub report_date: NaiveDate,
    pub visible_slots: i32,
    pub required_slots: i32,
    pub list_size: i32,
}

/// The practice's observations from `from` on (all when `None`), oldest first.
pub async fn observations(
    pool: &PgPool,
    ods_code: &str,
    from: Option<NaiveDate>,
) -> Result<Vec<Observation>, sqlx::Error> {
    sqlx::query_as!(
        Observation,
        "select report_date, visible_slots, required_slots, list_size from practice_observations
          where ods_code = $1 and ($2::date is null or report_date >= $2) order by report_date",
        ods_code,
        from
    )
    .fetch_all(pool)
    .await
}

/// One row of the DHU's own extract for a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhuObservation {
    pub date: NaiveDate,
    pub visible_slots: i32,
}

/// The DHU's rows for the practice from `from` on (all when `None`), oldest first.
pub async fn dhu_observations(
    pool: &PgPool,
    ods_code: &str,
    from: Option<NaiveDate>,
) -> Result<Vec<DhuObservation>, sqlx::Error> {
    sqlx::query_as!(
        DhuObservation,
        "select date, visible_slots from dhu_observations
          where ods_code = $1 and ($2::date is null or date >= $2) order by date",
        ods_code,
        from
    )
    .fetch_all(pool)
    .await
}

/// Each PCN's name (as the register or the dashboard gave it) and place, by code.
pub async fn pcn_names(pool: &PgPool) -> Result<HashMap<String, (Option<String>, String)>, sqlx::Error> {
    Ok(sqlx::query!("select pcn_code, pcn_name, place from pcns")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.pcn_code, (row.pcn_name, row.place)))
        .collect())
}

/// A practice's latest dashboard observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestObservation {
    pub ods_code: String,
    pub report_date: NaiveDate,
    pub visible_slots: i32,
    pub required_slots: i32,
    pub compliant: bool,
}

/// The latest observation of each of `ods_codes` that has one.
pub async fn latest_observations(pool: &PgPool, ods_codes: &[String]) -> Result<Vec<LatestObservation>, sqlx::Error> {
    sqlx::query_as!(
        LatestObservation,
        r#"select ods_code, report_date as "report_date!", visible_slots as "visible_slots!", required_slots,
                  compliant as "compliant!"
             from practice_view where ods_code = any($1) and report_date is not null"#,
        ods_codes
    )
    .fetch_all(pool)
    .await
}

/// One of CaseLedger's GP Connect free-slot searches of a practice, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRow {
    pub ods_code: String,
    pub case_id: Option<Uuid>,
    pub verified_at: DateTime<Utc>,
    pub verdict: VerificationVerdict,
    pub required_per_day: i32,
    pub min_per_core_day: Option<i32>,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub short_days: Vec<NaiveDate>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub days: Vec<VerifiedDay>,
    pub slots: Vec<caseledger_cases::practice::VerifiedSlot>,
    pub past_slots: i32,
    pub notices: Vec<String>,
    pub provider_system: Option<String>,
}

struct StoredVerification {
    ods_code: String,
    case_id: Option<Uuid>,
    verified_at: DateTime<Utc>,
    verdict: String,
    required_per_day: i32,
    min_per_core_day: Option<i32>,
    window_start: NaiveDate,
    window_end: NaiveDate,
    short_days: Vec<NaiveDate>,
    error_code: Option<String>,
    error: Option<String>,
    days: serde_json::Value,
    slots: serde_json::Value,
    past_slots: i32,
    notices: Vec<String>,
    provider_system: Option<String>,
}

impl TryFrom<StoredVerification> for VerificationRow {
    type Error = sqlx::Error;

    fn try_from(row: StoredVerification) -> Result<Self, sqlx::Error> {
        let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
        Ok(Self {
            ods_code: row.ods_code,
            case_id: row.case_id,
            verified_at: row.verified_at,
            verdict: serde_json::from_value(serde_json::Value::String(row.verdict)).map_err(decode)?,
            required_per_day: row.required_per_day,
            min_per_core_day: row.min_per_core_day,
            window_start: row.window_start,
            window_end: row.window_end,
            short_days: row.short_days,
            error_code: row.error_code,
            error: row.error,
            days: serde_json::from_value(row.days).map_err(decode)?,
            slots: serde_json::from_value(row.slots).map_err(decode)?,
            past_slots: row.past_slots,
            notices: row.notices,
            provider_system: row.provider_system,
        })
    }
}

/// The practice's GP Connect verifications, latest first (at most `limit`).
pub async fn verifications(pool: &PgPool, ods_code: &str, limit: i64) -> Result<Vec<VerificationRow>, sqlx::Error> {
    sqlx::query_as!(
        StoredVerification,
        "select ods_code, case_id, verified_at, verdict, required_per_day, min_per_core_day, window_start,
                window_end, short_days, error_code, error, days, slots, past_slots, notices, provider_system
           from slot_verifications where ods_code = $1 order by verified_at desc limit $2",
        ods_code,
        limit
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(VerificationRow::try_from)
    .collect()
}

/// The latest GP Connect verification of each of these practices that has one.
pub async fn latest_verifications(pool: &PgPool, ods_codes: &[String]) -> Result<Vec<VerificationRow>, sqlx::Error> {
    sqlx::query_as!(
        StoredVerification,
        "select distinct on (ods_code) ods_code, case_id, verified_at, verdict, required_per_day, min_per_core_day,
                window_start, window_end, short_days, error_code, error, days, slots, past_slots, notices, provider_system
           from slot_verifications where ods_code = any($1) order by ods_code, verified_at desc",
        ods_codes
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(VerificationRow::try_from)
    .collect()
}

/// The practices with an open case whose latest verification is older than `before` (or that
/// have none), with that case, longest unverified first: what a scheduled run verifies.
pub async fn due_for_verification(
    pool: &PgPool,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
    let open = open_statuses();
    Ok(sqlx::query!(
        r#"select c.ods_code as "ods_code!", c.case_id as "case_id!"
             from (select distinct on (ods_code) ods_code, case_id from case_view
                    where status = any($1) order by ods_code, created_at desc) c
             left join lateral (select max(verified_at) as at from slot_verifications v
                                 where v.ods_code = c.ods_code) v on true
            where v.at is null or v.at < $2
            order by v.at nulls first, c.ods_code
            limit $3"#,
        &open as &[&str],
        before,
        limit
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.ods_code, row.case_id))
    .collect())
}
