//! Diversions to NHS 111 in core hours: a practice (or the ICB for it) notifies one and ends it,
//! the ICB acknowledges each notice. Decided on the practice's stream and appended with `Exact`,
//! so two notices of one practice cannot overlap however they race; the practice's words are
//! sealed under the diversion's own key.

use caseledger_cases::CaseError;
use caseledger_cases::case::DiversionReason;
use caseledger_cases::diversion::{DiversionAction, DiversionCommand, decide_diversion};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::{FreeText, OdsCode};
use caseledger_eventstore::{ExpectedRevision, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{event_id, metadata};
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
    pub diversion_id: Uuid,
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

    /// Decides `action` on the practice's diversions and appends its event with `Exact`.
    async fn diversion_command(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        action: DiversionAction,
        now: DateTime<Utc>,
    ) -> Result<DiversionOutcome, CommandError> {
        let diversion_id = action.diversion_id();
        let occurred_at = context.occurred_at.unwrap_or(now);
        let command = DiversionCommand {
            actor: context.actor.clone(),
            occurred_at,
            action,
        };
        let outcome = |duplicate, position| DiversionOutcome {
            ods_code: ods_code.clone(),
            diversion_id,
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
            let events = match decide_diversion(&state.diversions, ods_code, &command, now) {
                Ok(events) => events,
                // A refusal of a command that went through before (same `commandId`) is the first
                // one's answer: the form posted twice, a client retried.
                Err(
                    CaseError::DiversionOverlaps(_)
                    | CaseError::DiversionAlreadyEnded(_)
                    | CaseError::DiversionAlreadyAcknowledged(_),
                ) if context.command_id.is_some() && self.store.find_event(event_id(context, 0)).await?.is_some() => {
                    return Ok(outcome(true, None));
                }
                Err(error) => return Err(error.into()),
            };
            let new_events = self
                .sealed_events(context, &events, &diversion_scope(diversion_id), &metadata)
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
                Ok(result) => return Ok(outcome(result.duplicate, result.positions.last().copied())),
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
