//! When each case's current stage is due, in working days (the deployment's stage targets and
//! bank holidays), and the cases whose stage is late: for every party, since the dates and the
//! status it is worked out from are everyone's.

use async_graphql::{Enum, SimpleObject};
use caseledger_cases::deadlines::{self, StageDates, StageTargets};
use caseledger_cases::holidays::BankHolidays;
use chrono::NaiveDate;

use super::case::CaseData;

/// The working-day calendar and the stage targets of this deployment.
#[derive(Debug, Clone)]
pub struct Deadlines {
    pub targets: StageTargets,
    pub calendar: std::sync::Arc<BankHolidays>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            targets: StageTargets::default(),
            calendar: std::sync::Arc::new(BankHolidays::england_and_wales()),
        }
    }
}

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

impl Deadlines {
    /// The deadline of `case`'s current stage on `today`, or `None` when nothing is awaited.
    pub fn of(&self, case: &CaseData, today: NaiveDate) -> Option<Deadline> {
        let problem = match (case.shortfall(), case.open_dhu_issue) {
            (Some(check), _) => Some(check.at),
            (None, true) => Some(case.last_activity_dhu),
            (None, false) => None,
        };
        let dates = StageDates {
            status: case.status,
            opened_at: case.opened_at,
            last_remap_at: case.last_remap_at,
            dhu_confirmed_at: case.dhu_confirmed_at,
            dhu_problem_at: problem,
        };
        let due = deadlines::deadline(&dates, &self.targets, &self.calendar)?;
        Some(Deadline {
            stage: due.stage.into(),
            awaiting: due.stage.label().to_string(),
            started_on: due.started_on,
            due_on: due.due_on,
            overdue: due.overdue(today),
            working_days_left: i32::try_from(due.working_days_left(today, &self.calendar)).unwrap_or(i32::MIN),
        })
    }

    /// `cases` whose current stage (one of `stages`, or any) is late on `today`, the longest
    /// overdue first.
    pub fn overdue(&self, cases: Vec<CaseData>, today: NaiveDate, stages: Option<&[Stage]>) -> Vec<CaseData> {
        let mut late: Vec<(NaiveDate, CaseData)> = cases
            .into_iter()
            .filter_map(|case| {
                let due = self.of(&case, today)?;
                (due.overdue && stages.is_none_or(|stages| stages.contains(&due.stage))).then_some((due.due_on, case))
            })
            .collect();
        late.sort_by_key(|(due_on, case)| (*due_on, case.case_id));
        late.into_iter().map(|(_, case)| case).collect()
    }
}
