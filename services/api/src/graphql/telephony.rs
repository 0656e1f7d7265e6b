//! Telephony metrics for PCN review: each practice's months side by side (inbound calls, average
//! wait, abandonment, average call length, callbacks), and the PCN's own notes of what it agreed.
//! The lens says who reads which: the metrics for the ICB, champions, the practice (its own) and
//! its PCN's clinical director (the PCN's); the notes for the PCN's clinical director alone.

use async_graphql::{Context, ID, InputObject, SimpleObject};
use caseledger_cases::case::CommandName;
use caseledger_cases::telephony::{PcnReviewNoted, TelephonyMetricsReported, first_of_month};
use caseledger_cases::values::{FreeText, PcnCode};
use caseledger_projections::diversion_view::Among;
use caseledger_projections::lens::{Reader, shows};
use caseledger_projections::telephony_view::{self, NoteRow};
use chrono::{DateTime, Months, NaiveDate, Utc};

use super::command::{Common, context, field, wait};
use super::diversions::among;
use super::reports::text;
use super::scalars::Date;
use super::{reads, require_command, signed_in, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most months one query reads.
pub const MAX_MONTHS: i32 = 24;
/// Practice-months one query reads at most (every practice of a national register for two years).
const MAX_ROWS: i64 = 200_000;
/// Notes one query reads at most.
const MAX_NOTES: i64 = 500;

/// A practice's telephony in one month.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct TelephonyMonth {
    /// The first day of the month.
    pub month: Date,
    pub inbound_calls: i32,
    pub average_wait_seconds: i32,
    /// The share of inbound calls abandoned before answer, as a percentage (12.5 is 12.5%).
    pub abandonment_rate: f64,
    pub average_call_seconds: i32,
    pub callbacks: i32,
}

/// A practice's months of telephony, oldest first.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct PracticeTelephony {
    pub ods_code: String,
    pub name: Option<String>,
    pub pcn_code: Option<String>,
    pub months: Vec<TelephonyMonth>,
}

/// What a PCN agreed at its review of a month, in its clinical director's words.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct PcnReviewNote {
    pub id: ID,
    pub pcn_code: String,
    /// The first day of the month reviewed.
    pub month: Date,
    /// The PCN's words ("[erased]" once erased).
    pub note: Option<String>,
    pub noted_by: String,
    pub noted_at: DateTime<Utc>,
    /// When its words were erased (on request, or by the retention period).
    pub erased_at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Debug)]
pub struct RecordPcnReviewNoteInput {
    /// The month reviewed: its first day.
    pub month: Date,
    pub note: String,
    /// The idempotency key: the same note sent twice is recorded once.
    pub command_id: Option<ID>,
}

/// The first day of the month `months` months before this one (UK time): the last `months` whole
/// months, and this one so far.
fn since(months: i32) -> ApiResult<NaiveDate> {
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(ApiError::bad_input("months", format!("1 to {MAX_MONTHS}"))).gql();
    }
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let back = Months::new(u32::try_from(months).unwrap_or(0));
    Ok(first_of_month(today).checked_sub_months(back).unwrap_or(today))
}

/// The practices' months of telephony over the last `months` whole months (a month is imported
/// once it has ended), as the caller may read them.
pub async fn metrics(ctx: &Context<'_>, months: i32) -> ApiResult<Vec<PracticeTelephony>> {
    let actor = signed_in(ctx)?;
    if !shows(Reader::from(actor.role), TelephonyMetricsReported::EVENT_TYPE) {
        return Err(ApiError::Forbidden(format!(
            "the {} role does not read practices' telephony",
            actor.role
        )))
        .gql();
    }
    let since = since(months)?;
    let (pcn, practice) = match among(actor)? {
        Among::All => (None, None),
        Among::Pcn(pcn) => (Some(pcn), None),
        Among::Practice(practice) => (None, Some(practice)),
    };
    let rows = telephony_view::months_since(reads(ctx), since, pcn.as_deref(), practice.as_deref(), MAX_ROWS)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let mut practices: Vec<PracticeTelephony> = Vec::new();
    for row in rows {
        let month = TelephonyMonth {
            month: Date(row.month),
            inbound_calls: row.inbound_calls,
            average_wait_seconds: row.average_wait_seconds,
            abandonment_rate: f64::from(row.abandonment_basis_points) / 100.0,
            average_call_seconds: row.average_call_seconds,
            callbacks: row.callbacks,
        };
        match practices.last_mut() {
            Some(last) if last.ods_code == row.ods_code => last.months.push(month),
            _ => practices.push(PracticeTelephony {
                ods_code: row.ods_code,
                name: row.practice_name,
                pcn_code: row.pcn_code,
                months: vec![month],
            }),
        }
    }
    Ok(practices)
}

/// The PCN whose notes `actor` reads: a clinical director's own; a reader of every PCN (an
/// admin) names one.
fn notes_of(actor: &caseledger_cases::Actor, pcn_code: Option<String>) -> ApiResult<PcnCode> {
    if !shows(Reader::from(actor.role), PcnReviewNoted::EVENT_TYPE) {
        return Err(ApiError::Forbidden("a PCN's review notes are the PCN's own".into())).gql();
    }
    match (actor.pcn(), pcn_code) {
        (Some(own), None) => Ok(own.clone()),
        (Some(own), Some(asked)) if asked == own.as_str() => Ok(own.clone()),
        (Some(_), Some(_)) => Err(ApiError::Forbidden("a PCN's review notes are the PCN's own".into())).gql(),
        (None, Some(asked)) => field("pcnCode", PcnCode::parse(&asked)),
        (None, None) => Err(ApiError::bad_input("pcnCode", "whose notes?")).gql(),
    }
}

/// `rows` with their words opened (or erased) in one batch, for `actor` (whom the lens lets read
/// them: a PCN's notes are read by no one else).
async fn shown(
    ctx: &Context<'_>,
    mut rows: Vec<NoteRow>,
    actor: &caseledger_cases::Actor,
) -> ApiResult<Vec<PcnReviewNote>> {
    caseledger_projections::words::open_for(&state(ctx).store, actor.role, &mut rows)
        .await
        .map_err(ApiError::internal)
        .gql()?;
    Ok(rows
        .into_iter()
        .map(|row| PcnReviewNote {
            id: ID(row.note_id.to_string()),
            pcn_code: row.pcn_code,
            month: Date(row.month),
            note: text(Some(row.note)),
            noted_by: row.noted_by,
            noted_at: row.noted_at,
            erased_at: row.words_erased_at,
        })
        .collect())
}

/// The PCN's notes of the last `months` months, the latest month first.
pub async fn notes(ctx: &Context<'_>, months: i32, pcn_code: Option<String>) -> ApiResult<Vec<PcnReviewNote>> {
    let actor = signed_in(ctx)?;
    let pcn = notes_of(actor, pcn_code)?;
    let rows = telephony_view::notes_since(reads(ctx), pcn.as_str(), since(months)?, MAX_NOTES)
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(ctx, rows, actor).await
}

/// The clinical director records what their PCN agreed at its review of a month.
pub async fn record_note(ctx: &Context<'_>, input: RecordPcnReviewNoteInput) -> ApiResult<PcnReviewNote> {
    let actor = require_command(ctx, CommandName::RecordPcnReviewNote)?;
    let pcn = actor
        .pcn()
        .cloned()
        .ok_or_else(|| ApiError::Forbidden("a PCN role without its PCN records nothing".into()))
        .gql()?;
    let note = field("note", FreeText::parse(&input.note))?;
    let common = Common {
        occurred_at: None,
        expected_revision: None,
        command_id: input.command_id,
    };
    let context = context(ctx, actor, common)?;
    let outcome = state(ctx)
        .commands
        .record_pcn_review_note(&context, &pcn, input.month.0, note, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    wait(ctx, outcome.position, outcome.duplicate).await?;
    let row = telephony_view::note(state(ctx).reads.primary_pool(), outcome.note_id)
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(ctx, row.into_iter().collect(), actor)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("the note is not in the views yet".into()))
        .gql()
}

/// The words of a PCN's review note erased (UK GDPR): on request by the ICB, or by the PCN's own
/// clinical director. Another PCN's note, or none, is NOT_FOUND to a clinical director. Answers
/// with the note's id only: the ICB may erase what it may not read.
pub async fn erase_note(ctx: &Context<'_>, note_id: ID) -> ApiResult<ID> {
    let actor = require_command(ctx, CommandName::ErasePcnReviewNote)?;
    let not_found = || ApiError::NotFound("no such review note".into());
    let id = uuid::Uuid::parse_str(&note_id).map_err(|_| not_found()).gql()?;
    let row = telephony_view::note(state(ctx).reads.primary_pool(), id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .filter(|row| actor.pcn().is_none_or(|own| own.as_str() == row.pcn_code))
        .ok_or_else(not_found)
        .gql()?;
    let pcn = field("pcnCode", PcnCode::parse(&row.pcn_code))?;
    let common = Common {
        occurred_at: None,
        expected_revision: None,
        command_id: None,
    };
    let context = context(ctx, actor, common)?;
    let erased = state(ctx)
        .commands
        .erase_pcn_review_note(&context, &pcn, id, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    wait(ctx, erased.position, erased.duplicate).await?;
    Ok(ID(id.to_string()))
}
