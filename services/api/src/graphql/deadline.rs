//! When each case's current stage is due, in working days (the deployment's stage targets and
//! bank holidays), and the cases whose stage is late: for every party, since the dates and the
//! status it is worked out from are everyone's.

use async_graphql::{Enum, SimpleObject};
use caseledger_cases::deadlines;
pub use caseledger_cases::deadlines::Deadlines;
use caseledger_cases::deadlines::StageDates;
use caseledger_projections::case_view::CaseRow;
use chrono::NaiveDate;
use uuid::Uuid;

/// What a case waits on.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A champion to contact the practice (from the flag or reopen).
    Contact,
    /// A champion to have the set-up fixed and the remap recorded (from the flag or reopen).
    Remap,
    /// The DHU to check what it can see (from the last remap).
    DhuCheck,
    /// The ICB to decide on compliance (from the DHU's confirmation).
    IcbDecision,
}

impl From<deadlines::Stage> for Stage {
    fn from(stage: deadlines::Stage) -> Self {
        match stage {
            deadlines::Stage::Contact => Stage::Contact,
            deadlines::Stage::Remap => Stage::Remap,
            deadlines::Stage::DhuCheck => Stage::DhuCheck,
            deadlines::Stage::IcbDecision => Stage::IcbDecision,
        }
    }
}

/// The current stage's deadline.
#[derive(SimpleObject, Debug, Clone)]
pub struct Deadline {
    pub stage: Stage,
    /// What is awaited, in words ("DHU check").
    pub awaiting: String,
    /// The UK date the stage began.
    pub started_on: NaiveDate,
    /// The last working day to do it on.
    pub due_on: NaiveDate,
    /// Its last working day has passed (UK date).
    pub overdue: bool,
    /// Working days left after today (0: due today); negative once late, the working days past.
    pub working_days_left: i32,
}

pub use caseledger_clock::today;

/// The deadline of `case`'s current stage on `today`, or `None` when nothing is awaited.
pub fn of(deadlines: &Deadlines, case: &CaseRow, today: NaiveDate) -> Option<Deadline> {
    let due = deadlines.of(&case.stage_dates())?;
    Some(Deadline {
        stage: due.stage.into(),
        awaiting: due.stage.label().to_string(),
        started_on: due.started_on,
        due_on: due.due_on,
        overdue: due.overdue(today),
        working_days_left: i32::try_from(deadlines.working_days_left(&due, today)).unwrap_or(i32::MIN),
    })
}

/// The cases of `cases` whose current stage (one of `stages`, or any) is late on `today`, the
/// longest overdue first.
pub fn overdue(
    deadlines: &Deadlines,
    cases: Vec<(Uuid, StageDates)>,
    today: NaiveDate,
    stages: Option<&[Stage]>,
) -> Vec<Uuid> {
    let mut late: Vec<(NaiveDate, Uuid)> = cases
        .into_iter()
        .filter_map(|(case_id, dates)| {
            let due = deadlines.of(&dates)?;
            (due.overdue(today) && stages.is_none_or(|stages| stages.contains(&Stage::from(due.stage))))
                .then_some((due.due_on, case_id))
        })
        .collect();
    late.sort_unstable();
    late.into_iter().map(|(_, case_id)| case_id).collect()
}
