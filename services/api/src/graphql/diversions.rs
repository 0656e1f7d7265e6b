//! Diversions to NHS 111 in core hours: what each party may read of them, and the commands.
//!
//! Rows: a practice reads its own practice's, a PCN's clinical director its PCN's practices',
//! every other party every practice's. Fields: the practice's own words (`detail`) and who
//! notified are for the practice, the ICB and champions (the lens's `DiversionNotified` row).

use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use caseledger_cases::case::{CommandName, DiversionReason as DomainReason};
use caseledger_cases::diversion::core_minutes;
use caseledger_cases::values::{FreeText, OdsCode};
use caseledger_cases::{Actor, Role as DomainRole};
use caseledger_commands::DiversionNotice;
use caseledger_projections::diversion_view::{self, Among, DiversionFilter, DiversionRow};
use caseledger_projections::lens::{Reader, shows_field};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::enums::Role;
use super::mutation::{Common, context};
use super::scalars::Date;
use super::{reads, require_command, signed_in, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most diversions one query returns.
pub const MAX_DIVERSIONS: i32 = 500;
/// The most weeks of figures one query returns.
pub const MAX_WEEKS: i32 = 26;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainReason")]
pub enum DiversionReason {
    /// The practice's telephony or IT failed.
    TelephonyFailure,
    StaffShortage,
    /// The premises could not be used.
    Premises,
    Other,
}

/// The practice a diversion is of, as the register names it.
#[derive(SimpleObject, Debug, Clone)]
pub struct DivertingPractice {
    pub ods_code: String,
    pub name: Option<String>,
    pub pcn_code: Option<String>,
    pub pcn_name: Option<String>,
    pub place: Option<String>,
}

/// A practice's diversion of its phones to NHS 111.
#[derive(SimpleObject, Debug, Clone)]
pub struct Diversion {
    pub id: ID,
    pub practice: DivertingPractice,
    pub from: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    /// When the phones answered at the practice again; null while it runs.
    pub ended_at: Option<DateTime<Utc>>,
    pub reason: DiversionReason,
    /// The practice's words: for the practice, the ICB and champions.
    pub detail: Option<String>,
    /// When the ICB was told.
    pub notified_at: DateTime<Utc>,
    /// Told after the diversion began.
    pub late: bool,
    /// Who told (the practice manager, or the ICB for the practice): for the practice, the ICB
    /// and champions.
    pub notified_by: Option<String>,
    pub notified_by_role: Option<Role>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Minutes inside core hours (08:00–18:30 on working days), to its end or, while it runs, to
    /// now.
    pub core_minutes: i32,
}

fn text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Null => None,
        _ => Some(caseledger_cases::case::SEALED_TEXT.to_string()),
    }
}

fn diversion(row: DiversionRow, viewer: Reader, calendar: &caseledger_cases::holidays::BankHolidays) -> Diversion {
    let late = row.late();
    let until = row.ended_at.unwrap_or_else(caseledger_clock::now);
    let minutes = core_minutes(row.from_at, until, calendar);
    let who = shows_field(viewer, "DiversionNotified", "detail");
    Diversion {
        id: ID(row.diversion_id.to_string()),
        practice: DivertingPractice {
            ods_code: row.ods_code,
            name: row.practice_name,
            pcn_code: row.pcn_code,
            pcn_name: row.pcn_name,
            place: row.place,
        },
        from: row.from_at,
        expected_until: row.expected_until,
        ended_at: row.ended_at,
        reason: row.reason.into(),
        detail: text(row.detail).filter(|_| who),
        notified_at: row.notified_at,
        late,
        notified_by: Some(row.notified_by).filter(|_| who),
        notified_by_role: DomainRole::parse(&row.notified_role).map(Role::from).filter(|_| who),
        acknowledged_at: row.acknowledged_at,
        core_minutes: i32::try_from(minutes).unwrap_or(i32::MAX),
    }
}

/// Which practices `actor` may read the diversions of.
fn among(actor: &Actor) -> ApiResult<Among> {
    match actor.role {
        DomainRole::Practice => actor
            .practice()
            .map(|code| Among::Practice(code.to_string()))
            .ok_or_else(|| ApiError::Forbidden("a practice role without its practice reads nothing".into()))
            .gql(),
        DomainRole::PcnClinicalDirector => actor
            .pcn()
            .map(|code| Among::Pcn(code.to_string()))
            .ok_or_else(|| ApiError::Forbidden("a PCN role without its PCN reads nothing".into()))
            .gql(),
        DomainRole::Icb | DomainRole::Lmc | DomainRole::Dhu | DomainRole::Champion | DomainRole::Admin => {
            Ok(Among::All)
        }
    }
}

/// `rows` as `actor` may see them, their sealed words opened (or erased) in one batch.
async fn shown(ctx: &Context<'_>, mut rows: Vec<DiversionRow>, actor: &Actor) -> ApiResult<Vec<Diversion>> {
    let viewer = Reader::from(actor.role);
    if shows_field(viewer, "DiversionNotified", "detail") {
        let mut sealed: Vec<(Uuid, &str, &mut serde_json::Value)> = rows
            .iter_mut()
            .filter_map(|row| row.detail.as_mut().map(|detail| (row.notified_event, "detail", detail)))
            .collect();
        state(ctx)
            .store
            .open_sealed_values(&mut sealed)
            .await
            .map_err(ApiError::internal)
            .gql()?;
    }
    let calendar = state(ctx).deadlines.calendar.clone();
    Ok(rows.into_iter().map(|row| diversion(row, viewer, &calendar)).collect())
}

/// Whether `actor` may read diversions of practice `ods_code`, whose PCN is `pcn_code`.
fn may_read(among: &Among, ods_code: &str, pcn_code: Option<&str>) -> bool {
    match among {
        Among::All => true,
        Among::Practice(own) => own == ods_code,
        Among::Pcn(own) => pcn_code == Some(own.as_str()),
    }
}

/// The diversions the caller may read, newest first: those still running at or beginning
/// after `since`, only those the ICB has still to acknowledge, of one practice.
pub async fn list(
    ctx: &Context<'_>,
    since: Option<DateTime<Utc>>,
    unacknowledged_only: bool,
    ods_code: Option<String>,
    first: i32,
) -> ApiResult<Vec<Diversion>> {
    let actor = signed_in(ctx)?;
    let mut among = among(actor)?;
    if !(1..=MAX_DIVERSIONS).contains(&first) {
        return Err(ApiError::bad_input("first", format!("1 to {MAX_DIVERSIONS}"))).gql();
    }
    if let Some(code) = ods_code {
        let code = OdsCode::parse(&code)
            .map_err(|e| ApiError::bad_input("odsCode", e))
            .gql()?;
        among = match among {
            Among::All => Among::Practice(code.to_string()),
            // A scoped reader asking for another practice gets nothing, not an error that says
            // whether it exists.
            Among::Practice(own) if own == code.as_str() => Among::Practice(own),
            Among::Practice(_) => return Ok(Vec::new()),
            Among::Pcn(pcn) => {
                let rows = diversion_list(ctx, Among::Pcn(pcn), since, unacknowledged_only, first).await?;
                let rows = rows.into_iter().filter(|row| row.ods_code == code.as_str()).collect();
                return shown(ctx, rows, actor).await;
            }
        };
    }
    let rows = diversion_list(ctx, among, since, unacknowledged_only, first).await?;
    shown(ctx, rows, actor).await
}

async fn diversion_list(
    ctx: &Context<'_>,
    among: Among,
    since: Option<DateTime<Utc>>,
    unacknowledged_only: bool,
    first: i32,
) -> ApiResult<Vec<DiversionRow>> {
    let filter = DiversionFilter {
        among,
        since,
        unacknowledged_only,
        limit: i64::from(first),
    };
    diversion_view::list(reads(ctx), &filter)
        .await
        .map_err(ApiError::from)
        .gql()
}

/// One diversion the caller may read (null otherwise).
pub async fn one(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<Diversion>> {
    let actor = signed_in(ctx)?;
    let among = among(actor)?;
    let Ok(diversion_id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    let row = diversion_view::by_id(reads(ctx), diversion_id)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let rows = row
        .into_iter()
        .filter(|row| may_read(&among, &row.ods_code, row.pcn_code.as_deref()))
        .collect();
    Ok(shown(ctx, rows, actor).await?.pop())
}

/// What the figures are grouped by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiversionGrouping {
    Practice,
    Pcn,
    Place,
}

/// One group's diversions in one week (Monday to Sunday, UK dates, by when each began).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct DiversionWeek {
    /// The Monday the week starts.
    pub week: Date,
    /// The practice's ODS code, the PCN's code or the place.
    pub key: String,
    pub name: Option<String>,
    pub notices: i32,
    /// Notices told after the diversion began, counted apart.
    pub late_notices: i32,
    /// Minutes inside core hours.
    pub core_minutes: i32,
}

/// The Monday of `day`'s week.
fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Notices, late notices and core-hours minutes per group per week over the last `weeks` weeks
/// (this one included), of the practices the caller may read.
pub async fn figures(ctx: &Context<'_>, weeks: i32, group_by: DiversionGrouping) -> ApiResult<Vec<DiversionWeek>> {
    let actor = signed_in(ctx)?;
    let among = among(actor)?;
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::bad_input("weeks", format!("1 to {MAX_WEEKS}"))).gql();
    }
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let first_monday = monday(today) - Duration::weeks(i64::from(weeks - 1));
    let since =
        caseledger_clock::ukclock::from_local(first_monday.and_time(chrono::NaiveTime::MIN)).with_timezone(&Utc);
    let filter = DiversionFilter {
        among,
        since: Some(since),
        unacknowledged_only: false,
        limit: 100_000,
    };
    let rows = diversion_view::list(reads(ctx), &filter)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let calendar = state(ctx).deadlines.calendar.clone();
    let mut groups: std::collections::BTreeMap<(NaiveDate, String), DiversionWeek> = Default::default();
    for row in rows {
        let began = caseledger_clock::ukclock::to_uk(row.from_at).date_naive();
        if began < first_monday {
            continue;
        }
        let week = monday(began);
        let (key, name) = match group_by {
            DiversionGrouping::Practice => (row.ods_code.clone(), row.practice_name.clone()),
            DiversionGrouping::Pcn => (row.pcn_code.clone().unwrap_or_default(), row.pcn_name.clone()),
            DiversionGrouping::Place => (row.place.clone().unwrap_or_default(), row.place.clone()),
        };
        let minutes = core_minutes(
            row.from_at,
            row.ended_at.unwrap_or_else(caseledger_clock::now),
            &calendar,
        );
        let entry = groups.entry((week, key.clone())).or_insert_with(|| DiversionWeek {
            week: Date(week),
            key,
            name,
            notices: 0,
            late_notices: 0,
            core_minutes: 0,
        });
        entry.notices += 1;
        entry.late_notices += i32::from(row.late());
        entry.core_minutes = entry
            .core_minutes
            .saturating_add(i32::try_from(minutes).unwrap_or(i32::MAX));
    }
    Ok(groups.into_values().collect())
}

#[derive(InputObject, Debug)]
pub struct NotifyDiversionInput {
    /// The practice; a practice manager may leave it out (their own).
    pub ods_code: Option<String>,
    pub from: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    pub reason: DiversionReason,
    pub detail: Option<String>,
    /// When the ICB was told (now when absent): a notice told after `from` is late.
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct EndDiversionInput {
    pub diversion_id: ID,
    pub ended_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct AcknowledgeDiversionInput {
    pub diversion_id: ID,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

fn field<T>(name: &str, value: Result<T, caseledger_cases::ValueError>) -> ApiResult<T> {
    value.map_err(|e| ApiError::bad_input(name, e)).gql()
}

/// The diversion after a command, once the views show it.
async fn answer(
    ctx: &Context<'_>,
    actor: &Actor,
    outcome: caseledger_commands::DiversionOutcome,
) -> ApiResult<Diversion> {
    super::mutation::wait(ctx, outcome.position, outcome.duplicate).await?;
    let row = diversion_view::by_id(reads(ctx), outcome.diversion_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .ok_or_else(|| ApiError::NotFound("no such diversion".into()))
        .gql()?;
    shown(ctx, vec![row], actor)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such diversion".into()))
        .gql()
}

pub async fn notify(ctx: &Context<'_>, input: NotifyDiversionInput) -> ApiResult<Diversion> {
    let actor = require_command(ctx, CommandName::NotifyDiversion)?;
    let ods_code = match (input.ods_code.as_deref(), actor.practice()) {
        (Some(code), _) => field("odsCode", OdsCode::parse(code))?,
        (None, Some(own)) => own.clone(),
        (None, None) => return Err(ApiError::bad_input("odsCode", "which practice diverts?")).gql(),
    };
    let notice = DiversionNotice {
        from: input.from,
        expected_until: input.expected_until,
        reason: input.reason.into(),
        detail: field("detail", FreeText::parse_optional(input.detail.as_deref()))?,
    };
    let context = context(
        ctx,
        actor,
        Common {
            occurred_at: input.occurred_at,
            expected_revision: None,
            command_id: input.command_id,
        },
    )?;
    let outcome = state(ctx)
        .commands
        .notify_diversion(&context, &ods_code, notice, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

/// The diversion `id` names and its practice, if `actor` may act on it (NOT_FOUND otherwise: a
/// practice does not learn of another's diversions).
async fn diversion_practice(ctx: &Context<'_>, actor: &Actor, id: &ID) -> ApiResult<(Uuid, OdsCode)> {
    let not_found = || ApiError::NotFound("no such diversion".into());
    let among = among(actor)?;
    let diversion_id = Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("diversionId", "not a diversion id"))
        .gql()?;
    let row = diversion_view::by_id(state(ctx).store.pool(), diversion_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .filter(|row| may_read(&among, &row.ods_code, row.pcn_code.as_deref()))
        .ok_or_else(not_found)
        .gql()?;
    Ok((diversion_id, field("odsCode", OdsCode::parse(&row.ods_code))?))
}

pub async fn end(ctx: &Context<'_>, input: EndDiversionInput) -> ApiResult<Diversion> {
    let actor = require_command(ctx, CommandName::EndDiversion)?;
    let (diversion_id, ods_code) = diversion_practice(ctx, actor, &input.diversion_id).await?;
    let context = context(
        ctx,
        actor,
        Common {
            occurred_at: input.occurred_at,
            expected_revision: None,
            command_id: input.command_id,
        },
    )?;
    let outcome = state(ctx)
        .commands
        .end_diversion(
            &context,
            &ods_code,
            diversion_id,
            input.ended_at,
            caseledger_clock::now(),
        )
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

pub async fn acknowledge(ctx: &Context<'_>, input: AcknowledgeDiversionInput) -> ApiResult<Diversion> {
    let actor = require_command(ctx, CommandName::AcknowledgeDiversion)?;
    let (diversion_id, ods_code) = diversion_practice(ctx, actor, &input.diversion_id).await?;
    let context = context(
        ctx,
        actor,
        Common {
            occurred_at: input.occurred_at,
            expected_revision: None,
            command_id: input.command_id,
        },
    )?;
    let outcome = state(ctx)
        .commands
        .acknowledge_diversion(&context, &ods_code, diversion_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
        assert_eq!(
            monday(sunday),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default()
        );
        assert_eq!(monday(monday(sunday)), monday(sunday));
    }

    #[test]
    fn a_scoped_reader_reads_its_own_organisation_only() {
        let practice = Among::Practice("C82001".into());
        assert!(may_read(&practice, "C82001", Some("U00001")));
        assert!(!may_read(&practice, "C82002", Some("U00001")));
        let pcn = Among::Pcn("U00001".into());
        assert!(may_read(&pcn, "C82002", Some("U00001")));
        assert!(!may_read(&pcn, "C82003", Some("U00002")));
        assert!(
            !may_read(&pcn, "C82003", None),
            "a practice the register does not place"
        );
        assert!(may_read(&Among::All, "C82003", None));
    }
}
