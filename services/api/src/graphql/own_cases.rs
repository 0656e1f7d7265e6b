//! A practice's own slot cases, and a PCN clinical director's practices': where each stands, when
//! its stage is due and what the practice is asked to do, never the case's words or who worked it
//! (the lens gives these parties no slot-case event; this is the register's and the deadline's
//! view of the case, which every party may know of a case).

use async_graphql::{Context, ID, SimpleObject};
use caseledger_cases::deadlines::Stage as DomainStage;
use caseledger_projections::diversion_view::Among;
use chrono::{DateTime, Utc};

use super::deadline::Deadline;
use super::diversions::among;
use super::enums::{CaseStatus, RootCause};
use super::{reads, signed_in, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The most cases one query returns.
const MAX_CASES: i64 = 200;

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
            }
        })
        .collect())
}
