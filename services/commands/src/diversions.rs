//! Diversions to NHS 111 in core hours: a practice (or the ICB for it) notifies one and ends it,
//! the ICB acknowledges each notice. Decided on the practice's stream and appended with `Exact`,
//! so two notices of one practice cannot overlap however they race; the practice's words are
//! sealed under the diversion's own key.

use caseledger_cases::CaseError;
use caseledger_cases::case::{DiversionReason, DiversionReviewOutcome, DiversionSupportKind};
use caseledger_cases::diversion::{AtPractice, DiversionAction, DiversionCommand, decide_diversion};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::{FreeText, OdsCode};
use caseledger_eventstore::{ExpectedRevision, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{applied_before, metadata};
use crate::reports::id_for;
use crate::scopes::diversion_scope;
use crate::{CommandContext, CommandError, Commands};

/// Attempts before a command gives up on a practice whose stream keeps moving.
const MAX_ATTEMPTS: u32 = 5;

/// A diversion's id, derived from the command id when there is one.
const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d64_6976_0001);

/// What a practice tells of a diversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiversionNotice {
    pub from: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    pub reason: DiversionReason,
    pub detail: Option<FreeText>,
}

/// A diversion command applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiversionOutcome {
    pub ods_code: OdsCode,
    /// The diversion's id, or the review's for a review's command.
    pub subject_id: Uuid,
    /// The review the command opened (a notice or an end that passed the threshold).
    pub review_opened: Option<Uuid>,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    /// Where its event went in the global order (`None` when nothing was written).
    pub position: Option<caseledger_eventstore::Position>,
}

impl Commands {
    /// Practice `ods_code` diverts (or will divert) its phones to 111.
    pub async fn notify_diversion(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        notice: DiversionNotice,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        // Another practice's manager learns nothing, not even whether the code is known.
        if context.actor.role == caseledger_cases::Role::Practice && context.actor.practice() != Some(ods_code) {
            return Err(CaseError::NotYourPractice(ods_code.to_string()).into());
        }
        self.known_practice(ods_code).await?;
        let action = DiversionAction::Notify {
            diversion_id: id_for(context, NAMESPACE),
            from: notice.from,
            expected_until: notice.expected_until,
            reason: notice.reason,
            detail: notice.detail,
        };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// The diversion ended at `ended_at`.
    pub async fn end_diversion(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        diversion_id: Uuid,
        ended_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let action = DiversionAction::End { diversion_id, ended_at };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// The ICB acknowledges a diversion notice.
    pub async fn acknowledge_diversion(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        diversion_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let action = DiversionAction::Acknowledge { diversion_id };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// A planned diversion called off before it began.
    pub async fn cancel_diversion(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        diversion_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let action = DiversionAction::Cancel { diversion_id };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// A champion or the practice's PCN supported it under review `review_id`.
    pub async fn support_diversion_review(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        review_id: Uuid,
        kind: DiversionSupportKind,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let action = DiversionAction::Support { review_id, kind };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// The ICB closes review `review_id` with an outcome, once support came first.
    pub async fn close_diversion_review(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        review_id: Uuid,
        outcome: DiversionReviewOutcome,
        note: Option<FreeText>,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let action = DiversionAction::CloseReview {
            review_id,
            outcome,
            note,
        };
        self.diversion_command(context, ods_code, action, now).await
    }

    /// Decides `action` on the practice's diversions and appends its event with `Exact`.
    async fn diversion_command(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        action: DiversionAction,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let subject_id = action.subject_id();
        let occurred_at = context.occurred_at.unwrap_or(now);
        let command = DiversionCommand {
            actor: context.actor.clone(),
            occurred_at,
            action,
        };
        let outcome = |duplicate, position, review_opened| DiversionOutcome {
            ods_code: ods_code.clone(),
            subject_id,
            review_opened,
            duplicate,
            position,
        };
        let metadata = metadata(
            context,
            occurred_at,
            context.correlation_id.unwrap_or_else(Uuid::now_v7),
        );
        for _ in 0..MAX_ATTEMPTS {
            let state = self.practice_state(ods_code).await?;
            let at = AtPractice {
                ods_code,
                pcn_code: state.pcn_code.as_ref(),
                policy: &self.review_policy,
            };
            let events = match decide_diversion(&state.diversions, &at, &command, now) {
                Ok(events) => events,
                // A refusal of a command that went through before (same `commandId`) is the first
                // one's answer: the form posted twice, a client retried.
                Err(
                    CaseError::DiversionOverlaps(_)
                    | CaseError::DiversionAlreadyEnded(_)
                    | CaseError::DiversionAlreadyAcknowledged(_)
                    | CaseError::DiversionReviewClosed(_),
                ) if applied_before(
                    &self.store,
                    context,
                    &practice_stream(ods_code),
                    command.action.command().rule().event,
                    &["diversion_id", "review_id"],
                    subject_id,
                )
                .await? =>
                {
                    return Ok(outcome(true, None, None));
                }
                Err(error) => return Err(error.into()),
            };
            let review_opened = events.iter().find_map(|event| match event {
                caseledger_cases::CaseEvent::DiversionReviewOpened(opened) => Some(opened.review_id),
                _ => None,
            });
            let new_events = self
                .sealed_events(context, &events, &diversion_scope(subject_id), &metadata)
                .await?;
            let expected = state
                .reports
                .revision()
                .map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
            match self
                .store
                .append(&practice_stream(ods_code), expected, &new_events)
                .await
            {
                Ok(result) => {
                    return Ok(outcome(
                        result.duplicate,
                        result.positions.last().copied(),
                        review_opened,
                    ));
                }
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    tracing::debug!(%ods_code, "the practice's stream moved; deciding again");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(CommandError::Conflict {
            expected: None,
            actual: None,
        })
    }
}
