//! A practice answers the Digital Champion on its own open slot case: what it found, what it
//! changed, who to speak to. The answer is kept in the practice's stream (`practice-<ODS>`) beside
//! the case, whose stream and rules stay as they are; its words are the practice's, sealed under
//! the case's key, and erased with the case's personal data.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{Case, CaseError};
use crate::role::{Actor, Role};
use crate::values::FreeText;

/// The practice answered the champion on case `case_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeAnswered {
    pub answer_id: Uuid,
    pub case_id: Uuid,
    pub text: FreeText,
}

impl PracticeAnswered {
    pub const EVENT_TYPE: &'static str = "PracticeAnswered";
}

/// The most answers a case takes in one UK day: enough for a conversation, not a flood into the
/// practice's stream (which its diversions are decided on).
pub const MAX_ANSWERS_A_DAY: u32 = 20;

/// The answer `actor` gives on `case` (folded from its stream; `None` when there is no such
/// case), which has had `answered_today` answers this UK day. A practice answers only its own
/// case (another practice's is "no such case": it learns nothing of it), only while the case is
/// open (once compliant or closed, nothing is asked), and at most [`MAX_ANSWERS_A_DAY`] a day.
pub fn decide_answer(
    case: Option<&Case>,
    case_id: Uuid,
    actor: &Actor,
    answer_id: Uuid,
    text: FreeText,
    answered_today: u32,
) -> Result<PracticeAnswered, CaseError> {
    let case = case
        .filter(|case| {
            actor.role == Role::Practice
                && case
                    .practice
                    .as_ref()
                    .is_some_and(|practice| actor.practice() == Some(&practice.ods_code))
        })
        .ok_or(CaseError::CaseNotFound)?;
    match case.status {
        Some(status) if status.is_open() && answered_today >= MAX_ANSWERS_A_DAY => {
            Err(CaseError::TooManyAnswers(MAX_ANSWERS_A_DAY))
        }
        Some(status) if status.is_open() => Ok(PracticeAnswered {
            answer_id,
            case_id,
            text,
        }),
        Some(status) => Err(CaseError::InvalidTransition {
            status,
            action: "answering the Digital Champion",
        }),
        None => Err(CaseError::CaseNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseStatus;
    use crate::practice::PracticeDetails;
    use crate::role::Scope;
    use crate::values::{OdsCode, ShortText};

    fn case(status: CaseStatus, ods: &str) -> Case {
        Case {
            status: Some(status),
            practice: Some(PracticeDetails {
                ods_code: OdsCode::parse(ods).unwrap(),
                name: ShortText::parse("The Surgery").unwrap(),
                pcn_code: crate::values::PcnCode::parse("U12345").unwrap(),
                pcn_name: None,
                place: ShortText::parse("Derby").unwrap(),
            }),
            ..Case::default()
        }
    }

    fn manager(ods: &str) -> Actor {
        Actor::scoped(
            ShortText::parse("pm-1").unwrap(),
            Role::Practice,
            Some(Scope::Practice(OdsCode::parse(ods).unwrap())),
        )
    }

    fn text() -> FreeText {
        FreeText::parse("We set the 111 slot type to external this morning").unwrap()
    }

    #[test]
    fn a_practice_answers_its_own_open_case() {
        let id = Uuid::now_v7();
        let answered = decide_answer(
            Some(&case(CaseStatus::Contacted, "C82001")),
            id,
            &manager("C82001"),
            Uuid::nil(),
            text(),
            0,
        )
        .unwrap();
        assert_eq!(answered.case_id, id);
        assert_eq!(answered.text, text());
    }

    #[test]
    fn another_practices_case_or_none_is_no_such_case() {
        let theirs = case(CaseStatus::Flagged, "C82002");
        for case in [Some(&theirs), None] {
            assert_eq!(
                decide_answer(case, Uuid::nil(), &manager("C82001"), Uuid::nil(), text(), 0),
                Err(CaseError::CaseNotFound)
            );
        }
        // Only a practice answers: the champion records the contact on their side.
        let champion = Actor::new(ShortText::parse("champion-1").unwrap(), Role::Champion);
        assert_eq!(
            decide_answer(Some(&theirs), Uuid::nil(), &champion, Uuid::nil(), text(), 0),
            Err(CaseError::CaseNotFound)
        );
    }

    #[test]
    fn a_case_takes_a_days_worth_of_answers_and_no_flood() {
        let open = case(CaseStatus::Remapped, "C82001");
        let answer = |today| decide_answer(Some(&open), Uuid::nil(), &manager("C82001"), Uuid::nil(), text(), today);
        assert!(answer(MAX_ANSWERS_A_DAY - 1).is_ok());
        assert_eq!(
            answer(MAX_ANSWERS_A_DAY),
            Err(CaseError::TooManyAnswers(MAX_ANSWERS_A_DAY))
        );
    }

    #[test]
    fn nothing_is_asked_of_a_compliant_or_closed_case() {
        for status in [CaseStatus::Compliant, CaseStatus::Closed] {
            assert!(matches!(
                decide_answer(
                    Some(&case(status, "C82001")),
                    Uuid::nil(),
                    &manager("C82001"),
                    Uuid::nil(),
                    text(),
                    0
                ),
                Err(CaseError::InvalidTransition { .. })
            ));
        }
    }
}
