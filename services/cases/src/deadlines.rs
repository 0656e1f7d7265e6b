//! Stage targets in working days (Monday to Friday, not an England and Wales bank holiday), and
//! when each case's current stage is due. Defaults a commissioner would recognise: contact within
//! 2 working days of a flag; remap within 10 of the flag; the DHU's check within 3 of a remap; the
//! ICB's decision within 2 of a DHU confirmation. A deployment sets its own.

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::CaseStatus;
use crate::holidays::BankHolidays;
use crate::ukclock;

/// Working days allowed for each stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageTargets {
    /// From the flag (or reopen) to the first contact.
    pub contact: u32,
    /// From the flag (or reopen) to a remap.
    pub remap: u32,
    /// From a remap to the DHU's check.
    pub dhu_check: u32,
    /// From the DHU's confirmation to the ICB's decision.
    pub icb_decision: u32,
}

impl Default for StageTargets {
    fn default() -> Self {
        Self {
            contact: 2,
            remap: 10,
            dhu_check: 3,
            icb_decision: 2,
        }
    }
}

/// The stage a case is waiting on, and who it waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// A champion to contact the practice.
    Contact,
    /// A champion to have the set-up fixed and record the remap.
    Remap,
    /// The DHU to check what it can see.
    DhuCheck,
    /// The ICB to confirm compliance (or not).
    IcbDecision,
}

impl Stage {
    /// What is awaited, in words.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Contact => "Contact the practice",
            Stage::Remap => "Remap",
            Stage::DhuCheck => "DHU check",
            Stage::IcbDecision => "ICB decision",
        }
    }
}

/// When a case's current stage is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub stage: Stage,
    /// The UK date the stage began.
    pub started_on: NaiveDate,
    /// The last working day to do it on.
    pub due_on: NaiveDate,
}

impl Deadline {
    /// Whether the stage is late on `today` (a UK date): its last working day has passed.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        today > self.due_on
    }

    /// Working days left after `today` until it is due (0 on the day; negative once late: the
    /// working days past).
    pub fn working_days_left(&self, today: NaiveDate, calendar: &BankHolidays) -> i64 {
        if today <= self.due_on {
            working_days_between(today, self.due_on, calendar)
        } else {
            -working_days_between(self.due_on, today, calendar)
        }
    }
}

/// Working days after `from` up to and including `to` (`from` < `to`).
pub fn working_days_between(from: NaiveDate, to: NaiveDate, calendar: &BankHolidays) -> i64 {
    let mut days = 0;
    let mut day = from;
    while day < to {
        let Some(next) = day.succ_opt() else { break };
        day = next;
        if calendar.is_core_day(day) {
            days += 1;
        }
    }
    days
}

/// The `n`th working day after `start` (`start` itself when `n` is 0).
pub fn add_working_days(start: NaiveDate, n: u32, calendar: &BankHolidays) -> NaiveDate {
    let mut day = start;
    let mut left = n;
    while left > 0 {
        let Some(next) = day.succ_opt() else { break };
        day = next;
        if calendar.is_core_day(day) {
            left -= 1;
        }
    }
    day
}

/// The working-day calendar and the stage targets of a deployment: when each case's stage is due.
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

impl Deadlines {
    /// The deadline of the stage a case with these dates is in, or `None` when nothing is awaited.
    pub fn of(&self, dates: &StageDates) -> Option<Deadline> {
        deadline(dates, &self.targets, &self.calendar)
    }

    /// Working days left after `today` until `due` is due (negative once late).
    pub fn working_days_left(&self, due: &Deadline, today: NaiveDate) -> i64 {
        due.working_days_left(today, &self.calendar)
    }
}

/// What a case's dates say about where it stands.
#[derive(Debug, Clone, Copy)]
pub struct StageDates {
    pub status: CaseStatus,
    /// The current episode's start: the flag, or the last reopen.
    pub opened_at: DateTime<Utc>,
    pub last_remap_at: Option<DateTime<Utc>>,
    pub dhu_confirmed_at: Option<DateTime<Utc>>,
    /// When the DHU last reported a problem or saw too few slots since the last remap: the case
    /// then waits for the champion to remap again, not for the DHU.
    pub dhu_problem_at: Option<DateTime<Utc>>,
}

/// The deadline of the stage a case is in, or `None` when nothing is awaited (compliant, closed).
pub fn deadline(case: &StageDates, targets: &StageTargets, calendar: &BankHolidays) -> Option<Deadline> {
    let (stage, started, days) = match case.status {
        CaseStatus::Flagged => (Stage::Contact, case.opened_at, targets.contact),
        CaseStatus::Contacted => (Stage::Remap, case.opened_at, targets.remap),
        CaseStatus::Remapped => match case.dhu_problem_at {
            Some(reported) => (Stage::Remap, reported, targets.remap),
            None => (Stage::DhuCheck, case.last_remap_at?, targets.dhu_check),
        },
        CaseStatus::DhuConfirmed => (Stage::IcbDecision, case.dhu_confirmed_at?, targets.icb_decision),
        CaseStatus::Compliant | CaseStatus::Closed => return None,
    };
    let started_on = ukclock::to_uk(started).date_naive();
    Some(Deadline {
        stage,
        started_on,
        due_on: add_working_days(started_on, days, calendar),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn working_days_skip_weekends_and_bank_holidays() {
        let calendar = BankHolidays::england_and_wales();
        // Thursday 17 April 2025: Good Friday and Easter Monday are holidays.
        assert_eq!(add_working_days(d(2025, 4, 17), 1, &calendar), d(2025, 4, 22));
        assert_eq!(add_working_days(d(2025, 4, 17), 2, &calendar), d(2025, 4, 23));
        // Friday to Monday over a plain weekend.
        assert_eq!(add_working_days(d(2026, 11, 27), 1, &calendar), d(2026, 11, 30));
        // Christmas 2026: Friday 25th, Monday 28th (Boxing Day's substitute).
        assert_eq!(add_working_days(d(2026, 12, 24), 1, &calendar), d(2026, 12, 29));
        assert_eq!(add_working_days(d(2026, 12, 24), 0, &calendar), d(2026, 12, 24));
    }

    #[test]
    fn each_stage_runs_from_its_own_start_in_uk_dates() {
        let calendar = BankHolidays::england_and_wales();
        let targets = StageTargets::default();
        // Flagged at 23:30 UTC on Friday 29 May 2026: already Saturday 30 May in London (BST);
        // the 2 working days run Mon 1 and Tue 2 June.
        let flagged = Utc
            .with_ymd_and_hms(2026, 5, 29, 23, 30, 0)
            .single()
            .unwrap_or_default();
        let mut case = StageDates {
            status: CaseStatus::Flagged,
            opened_at: flagged,
            last_remap_at: None,
            dhu_confirmed_at: None,
            dhu_problem_at: None,
        };
        let due = deadline(&case, &targets, &calendar).unwrap_or_else(|| panic!("a flagged case is due"));
        assert_eq!(
            (due.stage, due.started_on, due.due_on),
            (Stage::Contact, d(2026, 5, 30), d(2026, 6, 2))
        );
        assert!(!due.overdue(d(2026, 6, 2)));
        assert!(due.overdue(d(2026, 6, 3)));
        assert_eq!(due.working_days_left(d(2026, 5, 30), &calendar), 2);
        assert_eq!(due.working_days_left(d(2026, 6, 4), &calendar), -2);

        case.status = CaseStatus::Contacted;
        let due = deadline(&case, &targets, &calendar).unwrap_or_else(|| panic!("due"));
        assert_eq!((due.stage, due.due_on), (Stage::Remap, d(2026, 6, 12)));

        case.status = CaseStatus::Remapped;
        case.last_remap_at = Some(Utc.with_ymd_and_hms(2026, 8, 27, 10, 0, 0).single().unwrap_or_default());
        let due = deadline(&case, &targets, &calendar).unwrap_or_else(|| panic!("due"));
        // Thursday 27 August 2026, then Fri 28, (Mon 31 is a bank holiday), Tue 1, Wed 2 September.
        assert_eq!((due.stage, due.due_on), (Stage::DhuCheck, d(2026, 9, 2)));
        // The DHU saw too few on Wednesday 2 September: the champion remaps again, 10 working days.
        case.dhu_problem_at = Some(Utc.with_ymd_and_hms(2026, 9, 2, 15, 0, 0).single().unwrap_or_default());
        let due = deadline(&case, &targets, &calendar).unwrap_or_else(|| panic!("due"));
        assert_eq!((due.stage, due.due_on), (Stage::Remap, d(2026, 9, 16)));
        case.dhu_problem_at = None;

        case.status = CaseStatus::DhuConfirmed;
        assert_eq!(
            deadline(&case, &targets, &calendar),
            None,
            "no confirmation date, no deadline"
        );
        case.status = CaseStatus::Compliant;
        assert_eq!(deadline(&case, &targets, &calendar), None);
    }
}
