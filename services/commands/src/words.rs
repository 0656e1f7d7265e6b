//! Erasing the words about a diversion, a diversion review, a PCN's review note or a Directory of
//! Services gap (UK GDPR: on request, or once the retention period has passed): the record of the
//! erasure is appended to the subject's stream and its data key destroyed in one transaction, or
//! neither. Erased before, with nothing sealed under the key since: nothing to record.

use caseledger_cases::case::{CommandName, DiversionWordsErased};
use caseledger_cases::dos::{DosGapWordsErased, DosService, dos_stream, evolve_dos};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::telephony::{PcnReviewNoteErased, may_erase_pcn_note, pcn_stream};
use caseledger_cases::values::{DosServiceId, OdsCode, PcnCode};
use caseledger_cases::{CaseError, CaseEvent};
use caseledger_eventstore::{ExpectedRevision, Position, Vault, append_with};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{envelope_of, metadata, read_whole};
use crate::practices::allowed;
use crate::scopes::{diversion_scope, dos_gap_scope, pcn_note_scope};
use crate::{CommandContext, CommandError, Commands};

/// Words erased, or found erased already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// Nothing was sealed under the key: nothing was written now.
    pub duplicate: bool,
    pub position: Option<Position>,
}

impl Commands {
    /// Erases the words about diversion `diversion_id` (the practice's detail), or about the
    /// diversion review of that id (the ICB's note on closing it): each is sealed under its own
    /// key.
    pub async fn erase_diversion_words(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        diversion_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Erased, CommandError> {
        allowed(&context.actor, CommandName::EraseDiversionWords)?;
        let diversions = self.practice_state(ods_code).await?.diversions;
        if diversions.diversion(diversion_id).is_none() && diversions.review(diversion_id).is_none() {
            return Err(CaseError::DiversionNotFound(diversion_id).into());
        }
        let event = CaseEvent::DiversionWordsErased(DiversionWordsErased { diversion_id });
        self.erase_words(
            context,
            &practice_stream(ods_code),
            &diversion_scope(diversion_id),
            event,
            now,
        )
        .await
    }

    /// Erases the words about Directory of Services gap `gap_id` of service `service_id`.
    pub async fn erase_dos_gap_words(
        &self,
        context: &CommandContext,
        service_id: &DosServiceId,
        gap_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Erased, CommandError> {
        allowed(&context.actor, CommandName::EraseDosGapWords)?;
        let stream = dos_stream(service_id);
        let mut state = DosService::default();
        for event in read_whole(&self.store, &stream).await? {
            state = evolve_dos(state, &envelope_of(&event)?);
        }
        if state.gap(gap_id).is_none() {
            return Err(CaseError::DosGapNotFound(gap_id).into());
        }
        let event = CaseEvent::DosGapWordsErased(DosGapWordsErased { gap_id });
        self.erase_words(context, &stream, &dos_gap_scope(gap_id), event, now)
            .await
    }

    /// Erases the words of PCN `pcn_code`'s review note `note_id`.
    pub async fn erase_pcn_review_note(
        &self,
        context: &CommandContext,
        pcn_code: &PcnCode,
        note_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Erased, CommandError> {
        allowed(&context.actor, CommandName::ErasePcnReviewNote)?;
        may_erase_pcn_note(&context.actor, pcn_code)?;
        let stream = pcn_stream(pcn_code);
        let noted = read_whole(&self.store, &stream).await?.iter().any(|event| {
            matches!(envelope_of(event), Ok(envelope) if matches!(
                envelope.event,
                CaseEvent::PcnReviewNoted(ref noted) if noted.note_id == note_id
            ))
        });
        if !noted {
            return Err(CaseError::PcnReviewNoteNotFound(note_id).into());
        }
        let event = CaseEvent::PcnReviewNoteErased(PcnReviewNoteErased { note_id });
        self.erase_words(context, &stream, &pcn_note_scope(note_id), event, now)
            .await
    }

    async fn erase_words(
        &self,
        context: &CommandContext,
        stream: &str,
        scope: &str,
        event: CaseEvent,
        now: DateTime<Utc>,
    ) -> Result<Erased, CommandError> {
        let metadata = metadata(context, now, context.correlation_id.unwrap_or_else(Uuid::now_v7));
        let events = self.sealed_events(context, &[event], scope, &metadata).await?;
        let mut tx = self.store.pool().begin().await?;
        let result = append_with(&mut tx, stream, ExpectedRevision::Any, &events).await?;
        if result.duplicate || Vault::shred(&mut tx, scope).await? == 0 {
            tx.rollback().await?;
            return Ok(Erased {
                duplicate: true,
                position: None,
            });
        }
        tx.commit().await?;
        self.store.wake_subscribers();
        Ok(Erased {
            duplicate: false,
            position: result.positions.last().copied(),
        })
    }
}
