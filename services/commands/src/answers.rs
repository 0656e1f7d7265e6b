//! A practice answers the Digital Champion on its own open slot case. The answer goes to the
//! practice's stream, beside the case (whose stream does not change), its words sealed under the
//! case's key: erasing the case's personal data erases them too. The key is held in the appending
//! transaction, so an answer is never recorded under a key an erasure destroyed meanwhile.

use caseledger_cases::CaseError;
use caseledger_cases::answer::decide_answer;
use caseledger_cases::case::{CaseEvent, CommandName, StreamName};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::FreeText;
use caseledger_eventstore::{ExpectedRevision, Position, Vault, append_with};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{event_id, load, metadata};
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
        let today =
            caseledger_cases::ukclock::from_local(crate::import::uk_today(now).and_time(chrono::NaiveTime::MIN))
                .with_timezone(&Utc);
        // From the answers' view (a soft cap: an answer not yet in it is not counted).
        let answered_today: i64 =
            sqlx::query_scalar("select count(*) from practice_answers where case_id = $1 and answered_at >= $2")
                .bind(case_id)
                .bind(today)
                .fetch_one(self.store.pool())
                .await?;
        let answered_today = u32::try_from(answered_today).unwrap_or(u32::MAX);
        let answered = match decide_answer(case, case_id, &context.actor, answer_id, text, answered_today) {
            Ok(answered) => answered,
            // Refused now, but sent before (same `commandId`): the first answer is the answer.
            Err(CaseError::InvalidTransition { .. } | CaseError::TooManyAnswers(_))
                if self.answered_before(context, case_id).await? =>
            {
                return Ok(Answered {
                    answer_id,
                    duplicate: true,
                    position: None,
                });
            }
            Err(error) => return Err(error.into()),
        };
        let Some(practice) = &loaded.case.practice else {
            return Err(CaseError::CaseNotFound.into());
        };
        let metadata = metadata(context, now, context.correlation_id.unwrap_or_else(Uuid::now_v7));
        let (events, key) = self
            .sealed_with_key(
                context,
                &[CaseEvent::PracticeAnswered(answered)],
                &case_scope(case_id),
                &metadata,
            )
            .await?;
        let mut tx = self.store.pool().begin().await?;
        let result = append_with(
            &mut tx,
            &practice_stream(&practice.ods_code),
            ExpectedRevision::Any,
            &events,
        )
        .await?;
        if let Some(key) = &key {
            Vault::hold(&mut tx, key).await?;
        }
        tx.commit().await?;
        self.store.wake_subscribers();
        Ok(Answered {
            answer_id,
            duplicate: result.duplicate,
            position: result.positions.last().copied(),
        })
    }

    /// Whether this command (its `commandId`) answered on `case_id` before.
    async fn answered_before(&self, context: &CommandContext, case_id: Uuid) -> Result<bool, CommandError> {
        if context.command_id.is_none() {
            return Ok(false);
        }
        let Some(earlier) = self.store.find_event(event_id(context, 0)).await? else {
            return Ok(false);
        };
        let on_this_case = matches!(StreamName::parse(&earlier.stream_id), Some(StreamName::Practice(_)))
            && matches!(
                crate::history::envelope_of(&earlier).map(|envelope| envelope.event),
                Ok(CaseEvent::PracticeAnswered(answered)) if answered.case_id == case_id
            );
        Ok(on_this_case)
    }
}
