//! Directory of Services gaps: the 111 provider reports one, the ICB triages it (a DoS case, or
//! dismissed with a reason), the service's provider updates its entry, the 111 provider confirms
//! or finds the gap still there; each stage due in working days; a red, amber or green status per
//! service. The ICB and the 111 provider read every gap, a practice those in its own entry; the
//! lens says which words each reads.

use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use caseledger_cases::Actor;
use caseledger_cases::case::CommandName;
use caseledger_cases::dos::{
    DosAction, DosGapKind as DomainKind, DosGapReported, DosGapStatus as DomainStatus, DosTargets,
    DosTriage as DomainTriage, Rag as DomainRag,
};
use caseledger_cases::values::{DosServiceId, FreeText, ShortText};
use caseledger_commands::{Commands, DosOutcome};
use caseledger_projections::diversion_view::Among;
use caseledger_projections::dos_view::{self, GapRow};
use caseledger_projections::lens::{Reader, shows, shows_field};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::command::{Common, context, field, wait};
use super::diversions::{among, practice_code};
use super::reports::text;
use super::scalars::Date;
use super::{reads, require_command, signed_in, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most gaps one query returns.
pub const MAX_GAPS: i32 = 500;
/// How far back closed and dismissed gaps are listed (open ones always are).
const RECENT: Duration = Duration::days(90);

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainKind")]
pub enum DosGapKind {
    /// Not open when its entry says, or needed outside its hours.
    Hours,
    /// A skill or capacity it has only some days.
    SkillOrCapacity,
    /// Its address, telephone, referral route or other details are wrong.
    WrongDetails,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainStatus")]
pub enum DosGapStatus {
    /// Waiting for the ICB's triage.
    Reported,
    /// A DoS case: waiting for the provider to update its entry.
    AwaitingUpdate,
    /// Waiting for the 111 provider to confirm the update.
    AwaitingConfirmation,
    Closed,
    Dismissed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainTriage")]
pub enum DosTriage {
    CaseOpened,
    Dismissed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainRag")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

/// A gap in a service's Directory of Services entry.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct DosGap {
    pub id: ID,
    pub service_id: String,
    pub service_name: String,
    pub kind: DosGapKind,
    /// When it bit: the call a handler could not place.
    pub bit_at: DateTime<Utc>,
    /// Whether it bit in core hours (08:00 to 18:30 UK time on a working day).
    pub in_core_hours: bool,
    /// The practice whose entry it is, when the service is a GP practice's.
    pub ods_code: Option<String>,
    pub status: DosGapStatus,
    pub reported_at: DateTime<Utc>,
    /// The 111 provider's words (the ICB, the 111 provider, the practice whose entry it is).
    pub detail: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    /// Why the ICB dismissed it (the ICB alone).
    pub dismiss_reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// What was changed in the entry (the ICB and the practice).
    pub update_summary: Option<String>,
    /// How often the 111 provider found it still there after an update.
    pub times_persisted: i32,
    pub persist_detail: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The day the current stage is due (UK), in working days from when it began; none once
    /// closed or dismissed.
    pub due: Option<Date>,
    pub overdue: bool,
}

/// How a service stands on the directory.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct DosServiceStatus {
    pub service_id: String,
    pub service_name: String,
    /// Red: an open gap that bit in core hours; amber: an open gap; green: none.
    pub rag: Rag,
    pub open_gaps: i32,
}

/// Which gaps the caller reads: the ICB and the 111 provider all, a practice those in its own
/// entry; FORBIDDEN to every other party (the lens).
fn readable(actor: &Actor) -> ApiResult<Option<String>> {
    if !shows(Reader::from(actor.role), "DosGapReported") {
        return Err(ApiError::Forbidden(format!(
            "the {} role does not read Directory of Services gaps",
            actor.role
        )))
        .gql();
    }
    match among(actor)? {
        Among::Practice(own) => Ok(Some(own)),
        Among::All => Ok(None),
        Among::Pcn(_) => Err(ApiError::Forbidden("a PCN reads no Directory of Services gaps".into())).gql(),
    }
}

/// `rows` as `actor` may see them, their sealed words opened (or erased) in one batch.
async fn shown(ctx: &Context<'_>, mut rows: Vec<GapRow>, actor: &Actor) -> ApiResult<Vec<DosGap>> {
    let viewer = Reader::from(actor.role);
    let may = |event: &str, name: &str| shows_field(viewer, event, name);
    let (detail, reason, summary, persist) = (
        may("DosGapReported", "detail"),
        may("DosGapTriaged", "reason"),
        may("DosEntryUpdated", "summary"),
        may("DosGapPersists", "detail"),
    );
    caseledger_projections::words::open_for(&state(ctx).store, viewer, &mut rows)
        .await
        .map_err(ApiError::internal)
        .gql()?;
    let deadlines = &state(ctx).deadlines;
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    Ok(rows
        .into_iter()
        .map(|row| {
            let status = DomainStatus::parse(&row.status).unwrap_or(DomainStatus::Reported);
            let due = DosTargets::default().due(status, row.stage_since, &deadlines.calendar);
            DosGap {
                id: ID(row.gap_id.to_string()),
                service_id: row.service_id,
                service_name: row.service_name,
                kind: kind_of(&row.kind),
                in_core_hours: caseledger_cases::dos::in_core_hours(row.bit_at, &deadlines.calendar),
                bit_at: row.bit_at,
                ods_code: row.ods_code,
                status: status.into(),
                reported_at: row.reported_at,
                detail: text(row.detail).filter(|_| detail),
                triaged_at: row.triaged_at,
                dismiss_reason: text(row.dismiss_reason).filter(|_| reason),
                updated_at: row.updated_at,
                update_summary: text(row.update_summary).filter(|_| summary),
                times_persisted: row.persists_count,
                persist_detail: text(row.persist_detail).filter(|_| persist),
                closed_at: row.closed_at,
                due: due.map(Date),
                overdue: due.is_some_and(|due| due < today),
            }
        })
        .collect())
}

fn kind_of(text: &str) -> DosGapKind {
    match text {
        "hours" => DosGapKind::Hours,
        "skill_or_capacity" => DosGapKind::SkillOrCapacity,
        _ => DosGapKind::WrongDetails,
    }
}

/// The gaps the caller may read, newest first: every open one and those closed or dismissed in
/// the last 90 days (only open ones when `open_only`).
pub async fn gaps(ctx: &Context<'_>, open_only: bool, first: i32) -> ApiResult<Vec<DosGap>> {
    let actor = signed_in(ctx)?;
    let practice = readable(actor)?;
    if !(1..=MAX_GAPS).contains(&first) {
        return Err(ApiError::bad_input("first", format!("1 to {MAX_GAPS}"))).gql();
    }
    let since = caseledger_clock::now() - RECENT;
    let rows = dos_view::gaps(reads(ctx), practice.as_deref(), since, open_only, i64::from(first))
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(ctx, rows, actor).await
}

/// Each service with a gap open or closed in the last 90 days, red first.
pub async fn services(ctx: &Context<'_>) -> ApiResult<Vec<DosServiceStatus>> {
    let actor = signed_in(ctx)?;
    let practice = readable(actor)?;
    let since = caseledger_clock::now() - RECENT;
    let rows = dos_view::gaps(reads(ctx), practice.as_deref(), since, false, 100_000)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let calendar = &state(ctx).deadlines.calendar;
    // Each service's name, and its gaps' stages with whether each bit in core hours.
    type Gaps = Vec<(DomainStatus, bool)>;
    let mut services: std::collections::HashMap<String, (String, Gaps)> = std::collections::HashMap::new();
    for row in rows {
        let status = DomainStatus::parse(&row.status).unwrap_or(DomainStatus::Reported);
        let gap = (status, caseledger_cases::dos::in_core_hours(row.bit_at, calendar));
        services
            .entry(row.service_id)
            .or_insert_with(|| (row.service_name, Vec::new()))
            .1
            .push(gap);
    }
    let mut statuses: Vec<DosServiceStatus> = services
        .into_iter()
        .map(|(service_id, (service_name, gaps))| DosServiceStatus {
            open_gaps: i32::try_from(gaps.iter().filter(|(s, _)| s.is_open()).count()).unwrap_or(i32::MAX),
            rag: DomainRag::of(gaps).into(),
            service_id,
            service_name,
        })
        .collect();
    statuses.sort_by(|a, b| {
        DomainRag::from(b.rag)
            .cmp(&DomainRag::from(a.rag))
            .then_with(|| a.service_name.cmp(&b.service_name))
            .then_with(|| a.service_id.cmp(&b.service_id))
    });
    Ok(statuses)
}

/// A week's Directory of Services gaps of one kind: reported (and of those, how many bit in core
/// hours), closed and dismissed that week.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct DosWeek {
    /// The Monday the week starts (UK).
    pub week: Date,
    pub kind: DosGapKind,
    pub reported: i32,
    pub reported_in_core_hours: i32,
    pub closed: i32,
    pub dismissed: i32,
}

/// The most weeks of figures one query returns.
pub const MAX_WEEKS: i32 = 26;

/// Gaps reported, closed and dismissed per week and kind over the last `weeks` weeks (this one
/// included), of the gaps the caller may read; weeks and kinds with none left out.
pub async fn figures(ctx: &Context<'_>, weeks: i32) -> ApiResult<Vec<DosWeek>> {
    let actor = signed_in(ctx)?;
    let practice = readable(actor)?;
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::bad_input("weeks", format!("1 to {MAX_WEEKS}"))).gql();
    }
    let uk_day = |at: DateTime<Utc>| caseledger_clock::ukclock::to_uk(at).date_naive();
    let first = super::diversions::monday(uk_day(caseledger_clock::now())) - Duration::weeks(i64::from(weeks - 1));
    let from = caseledger_clock::ukclock::from_local(first.and_time(chrono::NaiveTime::MIN)).with_timezone(&Utc);
    let rows = dos_view::since(reads(ctx), practice.as_deref(), from, 100_000)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let calendar = &state(ctx).deadlines.calendar;
    let mut weeks: std::collections::BTreeMap<(chrono::NaiveDate, String), DosWeek> = Default::default();
    let mut count = |at: DateTime<Utc>, kind: &str, add: &dyn Fn(&mut DosWeek)| {
        let week = super::diversions::monday(uk_day(at));
        if week < first {
            return;
        }
        let entry = weeks.entry((week, kind.to_string())).or_insert_with(|| DosWeek {
            week: Date(week),
            kind: kind_of(kind),
            reported: 0,
            reported_in_core_hours: 0,
            closed: 0,
            dismissed: 0,
        });
        add(entry);
    };
    for row in &rows {
        let core = caseledger_cases::dos::in_core_hours(row.bit_at, calendar);
        count(row.reported_at, &row.kind, &|w| {
            w.reported += 1;
            w.reported_in_core_hours += i32::from(core);
        });
        if let Some(closed_at) = row.closed_at {
            let dismissed = row.status == DomainStatus::Dismissed.as_str();
            count(closed_at, &row.kind, &|w| {
                if dismissed {
                    w.dismissed += 1;
                } else {
                    w.closed += 1;
                }
            });
        }
    }
    Ok(weeks.into_values().collect())
}

#[derive(InputObject, Debug)]
pub struct ReportDosGapInput {
    /// The service's DoS id (digits).
    pub service_id: String,
    pub service_name: String,
    pub kind: DosGapKind,
    /// When it bit.
    pub bit_at: DateTime<Utc>,
    /// The practice whose entry it is, when the service is a GP practice's.
    pub ods_code: Option<String>,
    pub detail: Option<String>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct TriageDosGapInput {
    pub gap_id: ID,
    pub outcome: DosTriage,
    /// Why it is dismissed: needed to dismiss.
    pub reason: Option<String>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct RecordDosUpdateInput {
    pub gap_id: ID,
    /// What was changed in the entry.
    pub summary: Option<String>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct DosGapStepInput {
    pub gap_id: ID,
    /// What the 111 provider found (for a gap still there).
    pub detail: Option<String>,
    pub command_id: Option<ID>,
}

fn command_context(
    ctx: &Context<'_>,
    actor: &Actor,
    command_id: Option<ID>,
) -> ApiResult<caseledger_commands::CommandContext> {
    let common = Common {
        occurred_at: None,
        expected_revision: None,
        command_id,
    };
    context(ctx, actor, common)
}

/// The gap after a command, once the views show it.
async fn answer(ctx: &Context<'_>, actor: &Actor, outcome: DosOutcome) -> ApiResult<DosGap> {
    wait(ctx, outcome.position, outcome.duplicate).await?;
    let not_found = || ApiError::NotFound("no such Directory of Services gap".into());
    let row = dos_view::gap(state(ctx).reads.primary_pool(), outcome.gap_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .ok_or_else(not_found)
        .gql()?;
    shown(ctx, vec![row], actor).await?.pop().ok_or_else(not_found).gql()
}

pub async fn report(ctx: &Context<'_>, input: ReportDosGapInput) -> ApiResult<DosGap> {
    let actor = require_command(ctx, CommandName::ReportDosGap)?;
    let context = command_context(ctx, actor, input.command_id)?;
    let gap = DosGapReported {
        gap_id: Commands::dos_gap_id(&context),
        service_id: field("serviceId", DosServiceId::parse(&input.service_id))?,
        service_name: field("serviceName", ShortText::parse(&input.service_name))?,
        kind: input.kind.into(),
        bit_at: input.bit_at,
        ods_code: input.ods_code.as_deref().map(practice_code).transpose()?,
        detail: field("detail", FreeText::parse_optional(input.detail.as_deref()))?,
    };
    let outcome = state(ctx)
        .commands
        .report_dos_gap(&context, gap, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

/// The gap `id` names and its service, if `actor` may read it (NOT_FOUND otherwise).
async fn gap_of(ctx: &Context<'_>, actor: &Actor, id: &ID) -> ApiResult<(Uuid, DosServiceId)> {
    let not_found = || ApiError::NotFound("no such Directory of Services gap".into());
    let practice = readable(actor)?;
    let gap_id = Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("gapId", "not a gap id"))
        .gql()?;
    let row = dos_view::gap(state(ctx).reads.primary_pool(), gap_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .filter(|row| practice.is_none() || row.ods_code == practice)
        .ok_or_else(not_found)
        .gql()?;
    Ok((gap_id, field("serviceId", DosServiceId::parse(&row.service_id))?))
}

/// One step on a gap: `command`, with the action built from the gap's id.
async fn step(
    ctx: &Context<'_>,
    command: CommandName,
    gap: &ID,
    command_id: Option<ID>,
    action: impl FnOnce(Uuid) -> DosAction,
) -> ApiResult<DosGap> {
    let actor = require_command(ctx, command)?;
    let (gap_id, service_id) = gap_of(ctx, actor, gap).await?;
    let context = command_context(ctx, actor, command_id)?;
    let outcome = state(ctx)
        .commands
        .act_on_dos_gap(&context, &service_id, action(gap_id), caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

pub async fn triage(ctx: &Context<'_>, input: TriageDosGapInput) -> ApiResult<DosGap> {
    let reason = field("reason", FreeText::parse_optional(input.reason.as_deref()))?;
    step(
        ctx,
        CommandName::TriageDosGap,
        &input.gap_id,
        input.command_id,
        |gap_id| DosAction::Triage {
            gap_id,
            outcome: input.outcome.into(),
            reason,
        },
    )
    .await
}

pub async fn update(ctx: &Context<'_>, input: RecordDosUpdateInput) -> ApiResult<DosGap> {
    let summary = field("summary", FreeText::parse_optional(input.summary.as_deref()))?;
    step(
        ctx,
        CommandName::RecordDosUpdate,
        &input.gap_id,
        input.command_id,
        |gap_id| DosAction::Update { gap_id, summary },
    )
    .await
}

pub async fn confirm(ctx: &Context<'_>, input: DosGapStepInput) -> ApiResult<DosGap> {
    step(
        ctx,
        CommandName::ConfirmDosFix,
        &input.gap_id,
        input.command_id,
        |gap_id| DosAction::Confirm { gap_id },
    )
    .await
}

pub async fn persists(ctx: &Context<'_>, input: DosGapStepInput) -> ApiResult<DosGap> {
    let detail = field("detail", FreeText::parse_optional(input.detail.as_deref()))?;
    step(
        ctx,
        CommandName::ReportDosGapPersists,
        &input.gap_id,
        input.command_id,
        |gap_id| DosAction::Persists { gap_id, detail },
    )
    .await
}

/// The ICB erases the words about a gap (UK GDPR).
pub async fn erase_words(ctx: &Context<'_>, gap: ID) -> ApiResult<DosGap> {
    let actor = require_command(ctx, CommandName::EraseDosGapWords)?;
    let (gap_id, service_id) = gap_of(ctx, actor, &gap).await?;
    let context = command_context(ctx, actor, None)?;
    let erased = state(ctx)
        .commands
        .erase_dos_gap_words(&context, &service_id, gap_id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    let outcome = DosOutcome {
        gap_id,
        duplicate: erased.duplicate,
        position: erased.position,
    };
    answer(ctx, actor, outcome).await
}
