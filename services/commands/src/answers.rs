//! A practice answers the Digital Champion on its own open slot case. The answer goes to the
//! practice's stream, beside the case (whose stream does not change), its words sealed under the
//! case's key: erasing the case's personal data erases them too.

use caseledger_cases::answer::decide_answer;
use caseledger_cases::case::{CaseEvent, CommandName};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::FreeText;
use caseledger_eventstore::{ExpectedRevision, Position};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{load, metadata};
use crate::practices::allowed;
use crate::reports::id_for;
use crate::scopes::case_scope;
use crate::{CommandContext, CommandError, Commands};

/// An answer's id, derived from the command id when there is one (the form posted twice gives
/// one answer).
const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d61_6e73_0001);

/// A practice's answer recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub answer_id: Uuid,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    pub position: Option<Position>,
}

impl Commands {
    /// The practice answers the Digital Champion on case `case_id`, now.
    pub async fn answer_champion(
        &self,
        context: &CommandContext,
        case_id: Uuid,
        text: FreeText,
        now: DateTime<Utc>,
    ) -> Result<Answered, CommandError> {
        allowed(&context.actor, CommandName::AnswerChampion)?;
        let loaded = load(&self.store, case_id, false).await?;
        let case = loaded.case.status.is_some().then_some(&loaded.case);
        let answer_id = id_for(context, NAMESPACE);
        let answered = decide_answer(case, case_id, &context.actor, answer_id, text)?;
        let Some(practice) = &loaded.case.practice else {
            return Err(caseledger_cases::CaseError::CaseNotFound.into());
        };
        let metadata = metadata(context, now, context.correlation_id.unwrap_or_else(Uuid::now_v7));
        let events = self
            .sealed_events(
                context,
                &[CaseEvent::PracticeAnswered(answered)],
                &case_scope(case_id),
                &metadata,
            )
            .await?;
        let result = self
            .store
            .append(&practice_stream(&practice.ods_code), ExpectedRevision::Any, &events)
            .await?;
        Ok(Answered {
            answer_id,
            duplicate: result.duplicate,
            position: result.positions.last().copied(),
        })
    }
}
