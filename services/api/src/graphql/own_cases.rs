//! A practice's own slot cases, and a PCN clinical director's practices': where each stands, when
//! its stage is due and what the practice is asked to do, never the case's words or who worked it
//! (the lens gives these parties no slot-case event; this is the register's and the deadline's
//! view of the case, which every party may know of a case). And the practice's answers to the
//! Digital Champion: its words for itself and those who work the case, that it answered (and
//! when) for the LMC and its PCN.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, SimpleObject};
use caseledger_cases::case::CommandName;
use caseledger_cases::deadlines::Stage as DomainStage;
use caseledger_cases::values::FreeText;
use caseledger_projections::answer_view::AnswerRow;
use caseledger_projections::diversion_view::Among;
use caseledger_projections::lens::{Reader, shows, shows_field};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::command::{Common, context, field, wait};
use super::deadline::Deadline;
use super::diversions::among;
use super::enums::{CaseStatus, RootCause};
use super::reports::text;
use super::{reads, require_command, signed_in, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most cases one query returns.
const MAX_CASES: i64 = 200;
/// The most answers one case shows (the latest).
pub const MAX_ANSWERS: i64 = 50;

/// A practice's answer to the Digital Champion on its slot case.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct PracticeAnswer {
    pub id: ID,
    pub answered_at: DateTime<Utc>,
    /// The practice's words: for the practice, the ICB and the champion who holds the case; null
    /// for every other reader (who learns only that, and when, the practice answered).
    pub text: Option<String>,
}

/// The answers on `case_ids` (the latest [`MAX_ANSWERS`] of each, oldest first) as `viewer` may
/// see them: none where the lens hides the event, the words only where it shows them. Batched
/// across the request by the loader: a list of cases makes one query.
pub(super) async fn answers(
    ctx: &Context<'_>,
    case_ids: &[Uuid],
    viewer: Reader,
) -> ApiResult<HashMap<Uuid, Vec<PracticeAnswer>>> {
    let event = caseledger_cases::answer::PracticeAnswered::EVENT_TYPE;
    if case_ids.is_empty() || !shows(viewer, event) {
        return Ok(HashMap::new());
    }
    let words = shows_field(viewer, event, "text");
    let loaded = state(ctx)
        .loaders
        .answers
        .load_many(case_ids.iter().copied())
        .await
        .map_err(ApiError::internal)
        .gql()?;
    Ok(loaded
        .into_iter()
        .map(|(case_id, rows)| {
            let shown = rows
                .iter()
                .map(|row: &AnswerRow| PracticeAnswer {
                    id: ID(row.answer_id.to_string()),
                    answered_at: row.answered_at,
                    text: text(row.text.clone()).filter(|_| words),
                })
                .collect();
            (case_id, shown)
        })
        .collect())
}

/// A slot case as its practice and its PCN see it.
#[derive(SimpleObject, Debug, Clone)]
pub struct OwnCase {
    pub id: ID,
    pub ods_code: String,
    pub practice_name: String,
    pub status: CaseStatus,
    pub opened_at: DateTime<Utc>,
    pub required_slots: i32,
    /// The latest count of its 111 slots visible a day.
    pub visible_slots: Option<i32>,
    pub root_causes: Vec<RootCause>,
    /// A Digital Champion has been in touch.
    pub supported: bool,
    pub deadline: Option<Deadline>,
    /// What the practice is asked to do now, in plain words (none while others act).
    pub asked_of_practice: Vec<String>,
    /// The practice's answers to the Digital Champion, oldest first (the latest 50): its words
    /// for the practice, only when for its PCN's clinical director.
    pub answers: Vec<PracticeAnswer>,
}

/// What the practice is asked to do at `stage`, given what was found.
fn asked(stage: Option<DomainStage>, causes: &[caseledger_cases::case::RootCause]) -> Vec<String> {
    match stage {
        Some(DomainStage::Contact) => vec!["Answer the Digital Champion who will contact you".to_string()],
        Some(DomainStage::Remap) if causes.is_empty() => {
            vec!["Work with your Digital Champion to find why your 111 slots are not visible".to_string()]
        }
        Some(DomainStage::Remap) => causes.iter().map(|c| c.practice_fix().to_string()).collect(),
        Some(DomainStage::DhuCheck | DomainStage::IcbDecision) | None => Vec::new(),
    }
}

/// The caller's own slot cases: a practice's, or a clinical director's PCN's practices'; open
/// ones first. FORBIDDEN to every other role (each has its own case fields).
pub async fn list(ctx: &Context<'_>) -> ApiResult<Vec<OwnCase>> {
    let actor = signed_in(ctx)?;
    let (practice, pcn) = match actor.role.scoped_to().map(|_| among(actor)).transpose()? {
        Some(Among::Practice(own)) => (Some(own), None),
        Some(Among::Pcn(own)) => (None, Some(own)),
        _ => {
            return Err(ApiError::Forbidden(
                "ownCases is a practice's and a PCN's; other parties read cases through their own fields".into(),
            ))
            .gql();
        }
    };
    let rows =
        caseledger_projections::case_view::of_organisation(reads(ctx), practice.as_deref(), pcn.as_deref(), MAX_CASES)
            .await
            .map_err(ApiError::from)
            .gql()?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.case_id).collect();
    let mut answered = answers(ctx, &ids, Reader::from(actor.role)).await?;
    let deadlines = &state(ctx).deadlines;
    let today = caseledger_clock::today();
    Ok(rows
        .into_iter()
        .map(|row| {
            let due = deadlines.of(&row.stage_dates());
            let deadline = super::deadline::of(deadlines, &row, today);
            OwnCase {
                id: ID(row.case_id.to_string()),
                asked_of_practice: asked(due.map(|d| d.stage), &row.root_causes),
                ods_code: row.ods_code,
                practice_name: row.practice_name,
                status: row.status.into(),
                opened_at: row.opened_at,
                required_slots: row.required_slots,
                visible_slots: row.visible_slots,
                root_causes: row.root_causes.into_iter().map(Into::into).collect(),
                supported: row.first_support_at.is_some(),
                deadline,
                answers: answered.remove(&row.case_id).unwrap_or_default(),
            }
        })
        .collect())
}

#[derive(InputObject, Debug)]
pub struct AnswerChampionInput {
    /// The practice's own open slot case.
    pub case_id: ID,
    /// What the practice tells the Digital Champion (up to 2,000 characters).
    pub text: String,
    /// The form's own id: the same form posted twice answers once.
    pub command_id: Option<ID>,
}

/// A practice answers the Digital Champion on its own open slot case, now (when is the server's
/// time). Another practice's case, or none, is NOT_FOUND: a practice learns nothing of others.
pub async fn answer_champion(ctx: &Context<'_>, input: AnswerChampionInput) -> ApiResult<OwnCase> {
    let actor = require_command(ctx, CommandName::AnswerChampion)?;
    let not_found = || ApiError::NotFound("no such case".into());
    let case_id = Uuid::parse_str(&input.case_id).map_err(|_| not_found()).gql()?;
    let text = field("text", FreeText::parse(&input.text))?;
    let common = Common {
        occurred_at: None,
        expected_revision: None,
        command_id: input.command_id,
    };
    let context = context(ctx, actor, common)?;
    let outcome = state(ctx)
        .commands
        .answer_champion(&context, case_id, text, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    wait(ctx, outcome.position, outcome.duplicate).await?;
    list(ctx)
        .await?
        .into_iter()
        .find(|case| case.id.as_str() == case_id.to_string())
        .ok_or_else(not_found)
        .gql()
}
