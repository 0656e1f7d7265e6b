//! Directory of Services gaps: decided on the service's stream `dos-<id>` and appended with
//! `Exact`, so two steps on one service cannot both win a race; each gap's words are sealed under
//! the gap's own key. A retried command (same `commandId`) answers as the first did.

use caseledger_cases::CaseError;
use caseledger_cases::dos::{DosAction, DosGapReported, DosService, decide_dos, dos_stream, evolve_dos};
use caseledger_cases::values::DosServiceId;
use caseledger_eventstore::{ExpectedRevision, Position, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{applied_before, envelope_of, metadata, read_whole};
use crate::reports::id_for;
use crate::scopes::dos_gap_scope;
use crate::{CommandContext, CommandError, Commands};

/// Attempts before a command gives up on a service whose stream keeps moving.
const MAX_ATTEMPTS: u32 = 5;
/// A gap's id, derived from the command id when there is one.
const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d64_6f73_0001);

/// A DoS command applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DosOutcome {
    pub gap_id: Uuid,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    pub position: Option<Position>,
}

impl Commands {
    /// A new gap's id for this command (the same for a retry with its `commandId`).
    pub fn dos_gap_id(context: &CommandContext) -> Uuid {
        id_for(context, NAMESPACE)
    }

    /// The 111 provider reports `gap` (its `gap_id` from [`Commands::dos_gap_id`]).
    pub async fn report_dos_gap(
        &self,
        context: &CommandContext,
        gap: DosGapReported,
        now: DateTime<Utc>,
    ) -> Result<DosOutcome, CommandError> {
        if let Some(ods_code) = &gap.ods_code {
            self.known_practice(ods_code).await?;
        }
        let service_id = gap.service_id.clone();
        self.dos_command(context, &service_id, DosAction::Report(gap), now)
            .await
    }

    /// A step on a gap of service `service_id`: triage, update, confirmation, or the gap persists.
    pub async fn act_on_dos_gap(
        &self,
        context: &CommandContext,
        service_id: &DosServiceId,
        action: DosAction,
        now: DateTime<Utc>,
    ) -> Result<DosOutcome, CommandError> {
        self.dos_command(context, service_id, action, now).await
    }

    async fn dos_command(
        &self,
        context: &CommandContext,
        service_id: &DosServiceId,
        action: DosAction,
        now: DateTime<Utc>,
    ) -> Result<DosOutcome, CommandError> {
        let gap_id = action.gap_id();
        let stream = dos_stream(service_id);
        let occurred_at = context.occurred_at.unwrap_or(now);
        let metadata = metadata(
            context,
            occurred_at,
            context.correlation_id.unwrap_or_else(Uuid::now_v7),
        );
        for _ in 0..MAX_ATTEMPTS {
            let recorded = read_whole(&self.store, &stream).await?;
            let revision = recorded.last().map(|e| e.revision);
            let mut state = DosService::default();
            for event in &recorded {
                state = evolve_dos(state, &envelope_of(event)?);
            }
            let event = match decide_dos(&state, &context.actor, action.clone(), occurred_at, now) {
                Ok(event) => event,
                // The same command again (a form posted twice, a client's retry): the first
                // one's answer.
                Err(CaseError::DosGapAlreadyReported(_) | CaseError::DosGapWrongStage { .. })
                    if applied_before(
                        &self.store,
                        context,
                        &stream,
                        action.command().rule().event,
                        &["gap_id"],
                        gap_id,
                    )
                    .await? =>
                {
                    return Ok(DosOutcome {
                        gap_id,
                        duplicate: true,
                        position: None,
                    });
                }
                Err(error) => return Err(error.into()),
            };
            let events = self
                .sealed_events(context, &[event], &dos_gap_scope(gap_id), &metadata)
                .await?;
            let expected = revision.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
            match self.store.append(&stream, expected, &events).await {
                Ok(result) => {
                    return Ok(DosOutcome {
                        gap_id,
                        duplicate: result.duplicate,
                        position: result.positions.last().copied(),
                    });
                }
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    tracing::debug!(%service_id, "the service's stream moved; deciding again");
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
