//! Diversions to NHS 111 in core hours: what each party may read of them, and the commands.
//!
//! Rows: a practice reads its own practice's, a PCN's clinical director its PCN's practices',
//! every other party every practice's. Fields: the practice's own words (`detail`) and who
//! notified are for the practice, the ICB and champions (the lens's `DiversionNotified` row).

use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use caseledger_cases::case::{
    CommandName, DiversionReason as DomainReason, DiversionReviewOutcome as DomainOutcome,
    DiversionSupportKind as DomainSupport,
};
use caseledger_cases::diversion::{core_minutes, core_minutes_by_day};
use caseledger_cases::values::{FreeText, OdsCode};
use caseledger_cases::{Actor, Role as DomainRole};
use caseledger_commands::DiversionNotice;
pub(super) use caseledger_projections::diversion_view::Among;
use caseledger_projections::diversion_view::{self, DiversionFilter, DiversionRow};
use caseledger_projections::lens::{Reader, shows_field};
use caseledger_projections::words::open_for;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::command::{Common, context, field};
use super::enums::Role;
use super::reports::text;
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

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainSupport")]
pub enum DiversionSupportKind {
    /// A call with the practice about why it diverts.
    Call,
    Visit,
    /// Help with its telephony (a failover line, the supplier).
    TelephonyHelp,
    /// Help with cover (the PCN's staff, a neighbouring practice).
    StaffingHelp,
    Other,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainOutcome")]
pub enum DiversionReviewOutcome {
    /// What made the practice divert is fixed.
    Resolved,
    /// Support goes on outside CaseLedger (the PCN's plan).
    OngoingSupport,
    /// The diversions were exceptional: nothing more to do.
    NoActionNeeded,
}

/// A review a practice's diversions opened (past the threshold of notices or core hours in the
/// window): support first, then the ICB closes it with an outcome.
#[derive(SimpleObject, Debug, Clone)]
pub struct DiversionReview {
    pub id: ID,
    pub practice: DivertingPractice,
    pub opened_at: DateTime<Utc>,
    /// The notices and core-hours minutes in the window that opened it.
    pub notices: i32,
    pub core_minutes: i32,
    pub window_since: DateTime<Utc>,
    /// The support given, in order, by kind.
    pub support: Vec<DiversionSupportKind>,
    pub first_support_at: Option<DateTime<Utc>>,
    /// Working days from opening to the first support (null before any).
    pub working_days_to_support: Option<i32>,
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<DiversionReviewOutcome>,
    /// The ICB's note on closing: for the ICB alone.
    pub close_note: Option<String>,
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
    /// When a planned diversion was called off before it began (it counts for nothing then).
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Minutes inside core hours (08:00–18:30 on working days), to its end or, while it runs, to
    /// now.
    pub core_minutes: i32,
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
        cancelled_at: row.cancelled_at,
        core_minutes: i32::try_from(minutes).unwrap_or(i32::MAX),
    }
}

/// Which practices `actor` may read the diversions (and the 111 calls) of.
pub(super) fn among(actor: &Actor) -> ApiResult<Among> {
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
    open_for(&state(ctx).store, viewer, &mut rows)
        .await
        .map_err(ApiError::internal)
        .gql()?;
    let calendar = state(ctx).deadlines.calendar.clone();
    Ok(rows.into_iter().map(|row| diversion(row, viewer, &calendar)).collect())
}

/// Whether `actor` may read diversions of practice `ods_code`, whose PCN is `pcn_code`.
pub(super) fn may_read(among: &Among, ods_code: &str, pcn_code: Option<&str>) -> bool {
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
    let among = among(actor)?;
    if !(1..=MAX_DIVERSIONS).contains(&first) {
        return Err(ApiError::bad_input("first", format!("1 to {MAX_DIVERSIONS}"))).gql();
    }
    // Another practice than a scoped reader's own is filtered away by `among`: it reads nothing,
    // not an error that says whether the practice exists.
    let practice = ods_code
        .map(|code| practice_code(&code).map(|code| code.to_string()))
        .transpose()?;
    let filter = DiversionFilter {
        among,
        practice,
        since,
        unacknowledged_only,
        limit: i64::from(first),
    };
    let rows = diversion_view::list(reads(ctx), &filter)
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(ctx, rows, actor).await
}

/// A practice's ODS code as typed: one letter and five digits, and not a PCN's `U…` code.
pub(super) fn practice_code(code: &str) -> ApiResult<OdsCode> {
    if caseledger_cases::values::PcnCode::parse(code).is_ok() {
        return Err(ApiError::bad_input(
            "odsCode",
            format!("{code} is a PCN's code, not a practice's"),
        ))
        .gql();
    }
    field("odsCode", OdsCode::parse(code))
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
pub(super) fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Notices, late notices and core-hours minutes per group per week over the last `weeks` weeks
/// (this one included), of the practices the caller may read. A notice counts in the week it
/// began; its minutes in the weeks they fell in (a running one's to now), within the window.
pub async fn figures(ctx: &Context<'_>, weeks: i32, group_by: DiversionGrouping) -> ApiResult<Vec<DiversionWeek>> {
    let actor = signed_in(ctx)?;
    let among = among(actor)?;
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::bad_input("weeks", format!("1 to {MAX_WEEKS}"))).gql();
    }
    let now = caseledger_clock::now();
    let today = caseledger_clock::ukclock::to_uk(now).date_naive();
    let first_monday = monday(today) - Duration::weeks(i64::from(weeks - 1));
    let since =
        caseledger_clock::ukclock::from_local(first_monday.and_time(chrono::NaiveTime::MIN)).with_timezone(&Utc);
    let filter = DiversionFilter {
        among,
        practice: None,
        since: Some(since),
        unacknowledged_only: false,
        limit: FIGURE_ROWS,
    };
    let rows = diversion_view::list(reads(ctx), &filter)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let calendar = state(ctx).deadlines.calendar.clone();
    let mut groups: std::collections::BTreeMap<(NaiveDate, String), DiversionWeek> = Default::default();
    // A diversion called off before it began counts for nothing.
    for row in rows.into_iter().filter(|row| row.cancelled_at.is_none()) {
        let (key, name) = match group_by {
            DiversionGrouping::Practice => (row.ods_code.clone(), row.practice_name.clone()),
            DiversionGrouping::Pcn => (row.pcn_code.clone().unwrap_or_default(), row.pcn_name.clone()),
            DiversionGrouping::Place => (row.place.clone().unwrap_or_default(), row.place.clone()),
        };
        let began = caseledger_clock::ukclock::to_uk(row.from_at).date_naive();
        let counted = (began >= first_monday).then_some(monday(began));
        // Clipped to the window: what fell before it, or after now, is not this figure's.
        let until = row.ended_at.unwrap_or(now).min(now);
        let mut minutes_by_week: std::collections::BTreeMap<NaiveDate, i64> = Default::default();
        for (day, minutes) in core_minutes_by_day(row.from_at.max(since), until, &calendar) {
            *minutes_by_week.entry(monday(day)).or_default() += minutes;
        }
        let weeks_touched: std::collections::BTreeSet<NaiveDate> =
            counted.into_iter().chain(minutes_by_week.keys().copied()).collect();
        for week in weeks_touched {
            let entry = groups.entry((week, key.clone())).or_insert_with(|| DiversionWeek {
                week: Date(week),
                key: key.clone(),
                name: name.clone(),
                notices: 0,
                late_notices: 0,
                core_minutes: 0,
            });
            if counted == Some(week) {
                entry.notices += 1;
                entry.late_notices += i32::from(row.late());
            }
            if let Some(minutes) = minutes_by_week.remove(&week) {
                entry.core_minutes = entry
                    .core_minutes
                    .saturating_add(i32::try_from(minutes).unwrap_or(i32::MAX));
            }
        }
    }
    Ok(groups.into_values().collect())
}

/// The most diversions one figures query reads (a region's weeks of them).
const FIGURE_ROWS: i64 = 20_000;

/// `rows` as `actor` may see them, the ICB's sealed notes opened (or erased) in one batch.
async fn reviews_shown(
    ctx: &Context<'_>,
    mut rows: Vec<diversion_view::ReviewRow>,
    actor: &Actor,
) -> ApiResult<Vec<DiversionReview>> {
    let viewer = Reader::from(actor.role);
    let notes = shows_field(viewer, "DiversionReviewClosed", "note");
    open_for(&state(ctx).store, viewer, &mut rows)
        .await
        .map_err(ApiError::internal)
        .gql()?;
    let calendar = state(ctx).deadlines.calendar.clone();
    Ok(rows
        .into_iter()
        .map(|row| {
            let uk_day = |at: DateTime<Utc>| caseledger_clock::ukclock::to_uk(at).date_naive();
            let working_days = row.first_support_at.map(|first| {
                let days =
                    caseledger_cases::deadlines::working_days_between(uk_day(row.opened_at), uk_day(first), &calendar);
                i32::try_from(days).unwrap_or(i32::MAX)
            });
            DiversionReview {
                id: ID(row.review_id.to_string()),
                practice: DivertingPractice {
                    ods_code: row.ods_code,
                    name: row.practice_name,
                    pcn_code: row.pcn_code,
                    pcn_name: None,
                    place: None,
                },
                opened_at: row.opened_at,
                notices: row.notices,
                core_minutes: i32::try_from(row.core_minutes).unwrap_or(i32::MAX),
                window_since: row.window_since,
                support: row.support_kinds.into_iter().map(Into::into).collect(),
                first_support_at: row.first_support_at,
                working_days_to_support: working_days,
                closed_at: row.closed_at,
                outcome: row.outcome.map(Into::into),
                close_note: text(row.close_note).filter(|_| notes),
            }
        })
        .collect())
}

/// The diversion reviews the caller may read, newest first (only open ones when `open_only`).
pub async fn reviews(ctx: &Context<'_>, open_only: bool, first: i32) -> ApiResult<Vec<DiversionReview>> {
    let actor = signed_in(ctx)?;
    let among = among(actor)?;
    if !(1..=MAX_DIVERSIONS).contains(&first) {
        return Err(ApiError::bad_input("first", format!("1 to {MAX_DIVERSIONS}"))).gql();
    }
    let rows = diversion_view::reviews(reads(ctx), &among, open_only, i64::from(first))
        .await
        .map_err(ApiError::from)
        .gql()?;
    reviews_shown(ctx, rows, actor).await
}

#[derive(InputObject, Debug)]
pub struct RecordDiversionSupportInput {
    pub review_id: ID,
    pub kind: DiversionSupportKind,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct CloseDiversionReviewInput {
    pub review_id: ID,
    pub outcome: DiversionReviewOutcome,
    /// For the ICB alone.
    pub note: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

/// The review `id` names and its practice, if `actor` may read it (NOT_FOUND otherwise).
async fn review_practice(ctx: &Context<'_>, actor: &Actor, id: &ID) -> ApiResult<(Uuid, OdsCode)> {
    let among = among(actor)?;
    let review_id = Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("reviewId", "not a review id"))
        .gql()?;
    let row = diversion_view::review(state(ctx).reads.primary_pool(), review_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .filter(|row| may_read(&among, &row.ods_code, row.pcn_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound("no such diversion review".into()))
        .gql()?;
    Ok((review_id, field("odsCode", OdsCode::parse(&row.ods_code))?))
}

/// The review after a command, once the views show it.
async fn review_answer(
    ctx: &Context<'_>,
    actor: &Actor,
    outcome: caseledger_commands::DiversionOutcome,
) -> ApiResult<DiversionReview> {
    super::command::wait(ctx, outcome.position, outcome.duplicate).await?;
    let row = diversion_view::review(reads(ctx), outcome.subject_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .ok_or_else(|| ApiError::NotFound("no such diversion review".into()))
        .gql()?;
    reviews_shown(ctx, vec![row], actor)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such diversion review".into()))
        .gql()
}

pub async fn support(ctx: &Context<'_>, input: RecordDiversionSupportInput) -> ApiResult<DiversionReview> {
    let actor = require_command(ctx, CommandName::RecordDiversionSupport)?;
    let (review_id, ods_code) = review_practice(ctx, actor, &input.review_id).await?;
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
    let outcome = state(ctx)
        .commands
        .support_diversion_review(
            &context,
            &ods_code,
            review_id,
            input.kind.into(),
            caseledger_clock::now(),
        )
        .await
        .map_err(ApiError::from)
        .gql()?;
    review_answer(ctx, actor, outcome).await
}

pub async fn close_review(ctx: &Context<'_>, input: CloseDiversionReviewInput) -> ApiResult<DiversionReview> {
    let actor = require_command(ctx, CommandName::CloseDiversionReview)?;
    let (review_id, ods_code) = review_practice(ctx, actor, &input.review_id).await?;
    let note = field("note", FreeText::parse_optional(input.note.as_deref()))?;
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
    let outcome = state(ctx)
        .commands
        .close_diversion_review(
            &context,
            &ods_code,
            review_id,
            input.outcome.into(),
            note,
            caseledger_clock::now(),
        )
        .await
        .map_err(ApiError::from)
        .gql()?;
    review_answer(ctx, actor, outcome).await
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

#[derive(InputObject, Debug)]
pub struct CancelDiversionInput {
    pub diversion_id: ID,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

/// A diversion command's context: the caller, when it happened (now when absent) and its
/// idempotency key; a practice's stream needs no expected revision from the caller.
fn command_context(
    ctx: &Context<'_>,
    actor: &Actor,
    occurred_at: Option<DateTime<Utc>>,
    command_id: Option<ID>,
) -> ApiResult<caseledger_commands::CommandContext> {
    let common = Common {
        occurred_at,
        expected_revision: None,
        command_id,
    };
    context(ctx, actor, common)
}

/// The diversion after a command, once the views show it.
async fn answer(
    ctx: &Context<'_>,
    actor: &Actor,
    outcome: caseledger_commands::DiversionOutcome,
) -> ApiResult<Diversion> {
    super::command::wait(ctx, outcome.position, outcome.duplicate).await?;
    let row = diversion_view::by_id(reads(ctx), outcome.subject_id)
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
        (Some(code), _) => practice_code(code)?,
        (None, Some(own)) => own.clone(),
        (None, None) => return Err(ApiError::bad_input("odsCode", "which practice diverts?")).gql(),
    };
    told_now(actor, input.occurred_at)?;
    let notice = DiversionNotice {
        from: input.from,
        expected_until: input.expected_until,
        reason: input.reason.into(),
        detail: field("detail", FreeText::parse_optional(input.detail.as_deref()))?,
    };
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
    let outcome = state(ctx)
        .commands
        .notify_diversion(&context, &ods_code, notice, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

/// A practice tells the ICB now: when it was told is the server's time, not one it gives (else a
/// late notice could be dated before the diversion began). The ICB records what it was told, when.
fn told_now(actor: &Actor, occurred_at: Option<DateTime<Utc>>) -> ApiResult<()> {
    if actor.role == DomainRole::Practice && occurred_at.is_some() {
        return Err(ApiError::bad_input(
            "occurredAt",
            "a practice's notice is dated when it is sent: leave occurredAt out",
        ))
        .gql();
    }
    Ok(())
}

/// The diversion `id` names and its practice, if `actor` may act on it (NOT_FOUND otherwise: a
/// practice does not learn of another's diversions).
async fn diversion_practice(ctx: &Context<'_>, actor: &Actor, id: &ID) -> ApiResult<(Uuid, OdsCode)> {
    let not_found = || ApiError::NotFound("no such diversion".into());
    let among = among(actor)?;
    let diversion_id = Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("diversionId", "not a diversion id"))
        .gql()?;
    let row = diversion_view::by_id(state(ctx).reads.primary_pool(), diversion_id)
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
    told_now(actor, input.occurred_at)?;
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
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
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
    let outcome = state(ctx)
        .commands
        .acknowledge_diversion(&context, &ods_code, diversion_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

/// A planned diversion called off before it began, by the practice or the ICB for it.
pub async fn cancel(ctx: &Context<'_>, input: CancelDiversionInput) -> ApiResult<Diversion> {
    let actor = require_command(ctx, CommandName::CancelDiversion)?;
    let (diversion_id, ods_code) = diversion_practice(ctx, actor, &input.diversion_id).await?;
    told_now(actor, input.occurred_at)?;
    let context = command_context(ctx, actor, input.occurred_at, input.command_id)?;
    let outcome = state(ctx)
        .commands
        .cancel_diversion(&context, &ods_code, diversion_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

/// The ICB erases the practice's words about a diversion (UK GDPR).
pub async fn erase_words(ctx: &Context<'_>, diversion_id: ID) -> ApiResult<Diversion> {
    let actor = require_command(ctx, CommandName::EraseDiversionWords)?;
    let (diversion_id, ods_code) = diversion_practice(ctx, actor, &diversion_id).await?;
    let context = command_context(ctx, actor, None, None)?;
    let erased = state(ctx)
        .commands
        .erase_diversion_words(&context, &ods_code, diversion_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    let outcome = caseledger_commands::DiversionOutcome {
        ods_code,
        subject_id: diversion_id,
        review_opened: None,
        duplicate: erased.duplicate,
        position: erased.position,
    };
    answer(ctx, actor, outcome).await
}

/// The ICB erases its note on closing a diversion review (UK GDPR): the review, its support and
/// its outcome stay.
pub async fn erase_review_note(ctx: &Context<'_>, review_id: ID) -> ApiResult<DiversionReview> {
    let actor = require_command(ctx, CommandName::EraseDiversionWords)?;
    let (review_id, ods_code) = review_practice(ctx, actor, &review_id).await?;
    let context = command_context(ctx, actor, None, None)?;
    let erased = state(ctx)
        .commands
        .erase_diversion_words(&context, &ods_code, review_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    let outcome = caseledger_commands::DiversionOutcome {
        ods_code,
        subject_id: review_id,
        review_opened: None,
        duplicate: erased.duplicate,
        position: erased.position,
    };
    review_answer(ctx, actor, outcome).await
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
