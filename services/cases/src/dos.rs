//! Gaps in NHS 111's Directory of Services (DoS): a reliable, current directory is what lets a
//! call handler send a caller somewhere (the NHS Alliance report on introducing NHS 111). The 111
//! provider reports a gap in a service's entry (`reportDosGap`: hours it is not open, a skill or
//! capacity it lacks some days, wrong details); the ICB triages it, opening a DoS case or
//! dismissing it with a reason; the service's provider updates its entry (the ICB records it for
//! them, or a practice for its own entry); the 111 provider confirms the fix, which closes the
//! case, or says the gap is still there. Each service's gaps live in its own stream
//! `dos-<DoS id>`. A service is red with an open gap that bit in core hours, amber with any open
//! gap, green with none.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{CaseError, CaseEvent, CommandName, EventEnvelope};
use crate::deadlines::add_working_days;
use crate::holidays::BankHolidays;
use crate::role::{Actor, Role};
use crate::values::{DosServiceId, FreeText, OdsCode, ShortText};

/// Who reads Directory of Services gaps (the lens's rule for `DosGapReported` says the same, and a
/// test holds them together): the ICB, the 111 provider, the practice whose entry a gap is in.
pub const READERS: [Role; 4] = [Role::Icb, Role::Dhu, Role::Practice, Role::Admin];

/// A service's own stream: its gaps.
pub fn dos_stream(service_id: &DosServiceId) -> String {
    format!("dos-{service_id}")
}

/// What kind of gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DosGapKind {
    /// The service is not open when its entry says, or is needed outside its hours (a district
    /// nursing gap between 17:30 and 19:00).
    Hours,
    /// A skill or capacity it has only some days.
    SkillOrCapacity,
    /// Its address, telephone, referral route or other details are wrong.
    WrongDetails,
}

/// The 111 provider reports a gap, in `dos-<DoS id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosGapReported {
    pub gap_id: Uuid,
    pub service_id: DosServiceId,
    pub service_name: ShortText,
    pub kind: DosGapKind,
    /// When it bit: the call a handler could not place.
    pub bit_at: DateTime<Utc>,
    /// The practice whose entry it is, when the service is a GP practice's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ods_code: Option<OdsCode>,
    /// The 111 provider's words: for the ICB, the 111 provider and the practice whose entry it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

/// The ICB's triage: a DoS case is opened, or the report dismissed with the ICB's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosGapTriaged {
    pub gap_id: Uuid,
    pub outcome: DosTriage,
    /// Why it was dismissed: the ICB's words, for the ICB alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DosTriage {
    CaseOpened,
    Dismissed,
}

/// The service's provider updated its DoS entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosEntryUpdated {
    pub gap_id: Uuid,
    /// What was changed, in the words of whoever recorded it: for the ICB and the practice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<FreeText>,
}

/// The 111 provider confirms the entry now serves: the case is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosFixConfirmed {
    pub gap_id: Uuid,
}

/// The 111 provider finds the gap still there after the update: the provider is asked again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosGapPersists {
    pub gap_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

/// The words about a gap were erased (UK GDPR: on request, or once its retention period passed):
/// its key is destroyed with this record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosGapWordsErased {
    pub gap_id: Uuid,
}

/// Where a gap stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DosGapStatus {
    /// Reported, waiting for the ICB's triage.
    Reported,
    /// A DoS case: waiting for the provider to update its entry.
    AwaitingUpdate,
    /// Updated: waiting for the 111 provider to confirm.
    AwaitingConfirmation,
    Closed,
    Dismissed,
}

impl DosGapStatus {
    /// Still a gap: not closed and not dismissed.
    pub fn is_open(self) -> bool {
        !matches!(self, DosGapStatus::Closed | DosGapStatus::Dismissed)
    }

    /// The text the read model keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            DosGapStatus::Reported => "REPORTED",
            DosGapStatus::AwaitingUpdate => "AWAITING_UPDATE",
            DosGapStatus::AwaitingConfirmation => "AWAITING_CONFIRMATION",
            DosGapStatus::Closed => "CLOSED",
            DosGapStatus::Dismissed => "DISMISSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            DosGapStatus::Reported,
            DosGapStatus::AwaitingUpdate,
            DosGapStatus::AwaitingConfirmation,
            DosGapStatus::Closed,
            DosGapStatus::Dismissed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One gap as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DosGap {
    pub gap_id: Uuid,
    pub kind: DosGapKind,
    pub bit_at: DateTime<Utc>,
    pub ods_code: Option<OdsCode>,
    pub status: DosGapStatus,
    /// When its current stage began (for its deadline).
    pub stage_since: DateTime<Utc>,
}

/// A service's gaps, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DosService {
    pub gaps: Vec<DosGap>,
}

impl DosService {
    pub fn gap(&self, gap_id: Uuid) -> Option<&DosGap> {
        self.gaps.iter().find(|g| g.gap_id == gap_id)
    }
}

/// Folds one event of the service's stream.
pub fn evolve_dos(mut state: DosService, envelope: &EventEnvelope) -> DosService {
    let at = envelope.occurred_at;
    let mut set = |gap_id: Uuid, status: DosGapStatus| {
        if let Some(gap) = state.gaps.iter_mut().find(|g| g.gap_id == gap_id) {
            gap.status = status;
            gap.stage_since = at;
        }
    };
    match &envelope.event {
        CaseEvent::DosGapReported(reported) => state.gaps.push(DosGap {
            gap_id: reported.gap_id,
            kind: reported.kind,
            bit_at: reported.bit_at,
            ods_code: reported.ods_code.clone(),
            status: DosGapStatus::Reported,
            stage_since: at,
        }),
        CaseEvent::DosGapTriaged(triaged) => set(
            triaged.gap_id,
            match triaged.outcome {
                DosTriage::CaseOpened => DosGapStatus::AwaitingUpdate,
                DosTriage::Dismissed => DosGapStatus::Dismissed,
            },
        ),
        CaseEvent::DosEntryUpdated(updated) => set(updated.gap_id, DosGapStatus::AwaitingConfirmation),
        CaseEvent::DosFixConfirmed(confirmed) => set(confirmed.gap_id, DosGapStatus::Closed),
        CaseEvent::DosGapPersists(persists) => set(persists.gap_id, DosGapStatus::AwaitingUpdate),
        _ => {}
    }
    state
}

/// What a party asks of a service's gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DosAction {
    Report(DosGapReported),
    Triage {
        gap_id: Uuid,
        outcome: DosTriage,
        reason: Option<FreeText>,
    },
    Update {
        gap_id: Uuid,
        summary: Option<FreeText>,
    },
    Confirm {
        gap_id: Uuid,
    },
    Persists {
        gap_id: Uuid,
        detail: Option<FreeText>,
    },
}

impl DosAction {
    /// The catalogue's command it is.
    pub fn command(&self) -> CommandName {
        match self {
            DosAction::Report(_) => CommandName::ReportDosGap,
            DosAction::Triage { .. } => CommandName::TriageDosGap,
            DosAction::Update { .. } => CommandName::RecordDosUpdate,
            DosAction::Confirm { .. } => CommandName::ConfirmDosFix,
            DosAction::Persists { .. } => CommandName::ReportDosGapPersists,
        }
    }

    pub fn gap_id(&self) -> Uuid {
        match self {
            DosAction::Report(reported) => reported.gap_id,
            DosAction::Triage { gap_id, .. }
            | DosAction::Update { gap_id, .. }
            | DosAction::Confirm { gap_id }
            | DosAction::Persists { gap_id, .. } => *gap_id,
        }
    }
}

/// How far back a gap may have bitten: older is a typing error, or no longer a gap to chase.
pub const LONGEST_AGO: chrono::Duration = chrono::Duration::days(90);

/// The event `action` by `actor` at `occurred_at` causes on the service's gaps, or why not.
pub fn decide_dos(
    state: &DosService,
    actor: &Actor,
    action: DosAction,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CaseEvent, CaseError> {
    let command = action.command();
    if !command.permits(actor.role) {
        return Err(CaseError::Forbidden {
            role: actor.role,
            action: command.as_str(),
        });
    }
    if occurred_at > now {
        return Err(CaseError::OccurredInFuture { occurred_at });
    }
    let gap_id = action.gap_id();
    let gap = state.gap(gap_id);
    // A practice acts only on a gap in its own entry; another learns nothing of it.
    if actor.role == Role::Practice && gap.is_none_or(|g| g.ods_code.as_ref() != actor.practice()) {
        return Err(CaseError::DosGapNotFound(gap_id));
    }
    let wrong = |status: DosGapStatus| {
        Err(CaseError::DosGapWrongStage {
            status: status.as_str(),
            action: command.as_str(),
        })
    };
    match action {
        DosAction::Report(reported) => {
            if gap.is_some() {
                return Err(CaseError::DosGapAlreadyReported(gap_id));
            }
            if reported.bit_at > occurred_at {
                return Err(CaseError::InvalidPeriod {
                    field: "bitAt",
                    message: format!("{} is after the report: a gap is reported once it bit", reported.bit_at),
                });
            }
            if reported.bit_at < occurred_at - LONGEST_AGO {
                return Err(CaseError::InvalidPeriod {
                    field: "bitAt",
                    message: format!("{} is more than 90 days before the report", reported.bit_at),
                });
            }
            Ok(CaseEvent::DosGapReported(reported))
        }
        DosAction::Triage {
            gap_id,
            outcome,
            reason,
        } => {
            let gap = gap.ok_or(CaseError::DosGapNotFound(gap_id))?;
            if gap.status != DosGapStatus::Reported {
                return wrong(gap.status);
            }
            if outcome == DosTriage::Dismissed && reason.is_none() {
                return Err(CaseError::MissingEvidence(
                    "reason: say why the report is dismissed".into(),
                ));
            }
            Ok(CaseEvent::DosGapTriaged(DosGapTriaged {
                gap_id,
                outcome,
                reason: reason.filter(|_| outcome == DosTriage::Dismissed),
            }))
        }
        DosAction::Update { gap_id, summary } => {
            let gap = gap.ok_or(CaseError::DosGapNotFound(gap_id))?;
            if gap.status != DosGapStatus::AwaitingUpdate {
                return wrong(gap.status);
            }
            Ok(CaseEvent::DosEntryUpdated(DosEntryUpdated { gap_id, summary }))
        }
        DosAction::Confirm { gap_id } => {
            let gap = gap.ok_or(CaseError::DosGapNotFound(gap_id))?;
            if gap.status != DosGapStatus::AwaitingConfirmation {
                return wrong(gap.status);
            }
            Ok(CaseEvent::DosFixConfirmed(DosFixConfirmed { gap_id }))
        }
        DosAction::Persists { gap_id, detail } => {
            let gap = gap.ok_or(CaseError::DosGapNotFound(gap_id))?;
            if gap.status != DosGapStatus::AwaitingConfirmation {
                return wrong(gap.status);
            }
            Ok(CaseEvent::DosGapPersists(DosGapPersists { gap_id, detail }))
        }
    }
}

/// Working days each stage of a DoS case has, like a slot case's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosTargets {
    /// The ICB triages a report.
    pub triage: u32,
    /// The provider updates its entry, from the case's opening (or the gap found still there).
    pub update: u32,
    /// The 111 provider confirms an update.
    pub confirmation: u32,
}

impl Default for DosTargets {
    fn default() -> Self {
        Self {
            triage: 2,
            update: 5,
            confirmation: 2,
        }
    }
}

impl DosTargets {
    /// The day a gap's current stage is due (UK), `None` once it is closed or dismissed.
    pub fn due(&self, status: DosGapStatus, stage_since: DateTime<Utc>, calendar: &BankHolidays) -> Option<NaiveDate> {
        let days = match status {
            DosGapStatus::Reported => self.triage,
            DosGapStatus::AwaitingUpdate => self.update,
            DosGapStatus::AwaitingConfirmation => self.confirmation,
            DosGapStatus::Closed | DosGapStatus::Dismissed => return None,
        };
        let start = crate::ukclock::to_uk(stage_since).date_naive();
        Some(add_working_days(start, days, calendar))
    }
}

/// Red, amber or green: how a service stands on the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rag {
    Green,
    Amber,
    Red,
}

impl Rag {
    /// Red: an open gap that bit in core hours; amber: an open gap; green: none.
    pub fn of(gaps: impl IntoIterator<Item = (DosGapStatus, bool)>) -> Rag {
        gaps.into_iter()
            .filter(|(status, _)| status.is_open())
            .map(|(_, in_core_hours)| if in_core_hours { Rag::Red } else { Rag::Amber })
            .max()
            .unwrap_or(Rag::Green)
    }
}

/// Whether `at` falls in core hours: 08:00 to 18:30 UK time on a working day.
pub fn in_core_hours(at: DateTime<Utc>, calendar: &BankHolidays) -> bool {
    crate::diversion::core_minutes(at, at + chrono::Duration::minutes(1), calendar) > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_default()
    }

    fn actor(id: &str, role: Role) -> Actor {
        let scope = match role {
            Role::Practice => crate::role::Scope::for_role(role, "Z00011").ok().flatten(),
            _ => None,
        };
        Actor::scoped(ShortText::parse(id).unwrap_or_else(|_| unreachable!()), role, scope)
    }

    fn reported(gap: u128, ods: Option<&str>) -> DosGapReported {
        DosGapReported {
            gap_id: Uuid::from_u128(gap),
            service_id: DosServiceId::parse("2000012345").unwrap_or_else(|_| unreachable!()),
            service_name: ShortText::parse("Coventry district nursing").unwrap_or_else(|_| unreachable!()),
            kind: DosGapKind::Hours,
            bit_at: at(2026, 11, 23, 17, 45),
            ods_code: ods.map(|c| OdsCode::parse(c).unwrap_or_else(|_| unreachable!())),
            detail: None,
        }
    }

    fn fold(events: &[(CaseEvent, DateTime<Utc>)]) -> DosService {
        events.iter().fold(DosService::default(), |state, (event, when)| {
            evolve_dos(
                state,
                &EventEnvelope {
                    event: event.clone(),
                    occurred_at: *when,
                    actor: actor("x", Role::Icb),
                },
            )
        })
    }

    #[test]
    fn a_gap_goes_from_report_to_case_to_update_to_confirmation() {
        let now = at(2026, 11, 25, 10, 0);
        let (dhu, icb) = (actor("dhu-1", Role::Dhu), actor("icb-1", Role::Icb));
        let id = Uuid::from_u128(1);
        let mut log = Vec::new();
        let step = |log: &mut Vec<(CaseEvent, DateTime<Utc>)>, who: &Actor, action: DosAction| {
            let event = decide_dos(&fold(log), who, action, now, now);
            if let Ok(event) = &event {
                log.push((event.clone(), now));
            }
            event.map(|_| fold(log).gap(id).map(|g| g.status))
        };
        assert_eq!(
            step(&mut log, &dhu, DosAction::Report(reported(1, None))),
            Ok(Some(DosGapStatus::Reported))
        );
        assert!(matches!(
            step(&mut log, &dhu, DosAction::Report(reported(1, None))),
            Err(CaseError::DosGapAlreadyReported(_))
        ));
        assert!(matches!(
            step(&mut log, &dhu, DosAction::Confirm { gap_id: id }),
            Err(CaseError::DosGapWrongStage { .. })
        ));
        assert!(matches!(
            step(
                &mut log,
                &dhu,
                DosAction::Triage {
                    gap_id: id,
                    outcome: DosTriage::CaseOpened,
                    reason: None
                }
            ),
            Err(CaseError::Forbidden { .. })
        ));
        assert!(matches!(
            step(
                &mut log,
                &icb,
                DosAction::Triage {
                    gap_id: id,
                    outcome: DosTriage::Dismissed,
                    reason: None
                }
            ),
            Err(CaseError::MissingEvidence(_))
        ));
        let opened = DosAction::Triage {
            gap_id: id,
            outcome: DosTriage::CaseOpened,
            reason: None,
        };
        assert_eq!(step(&mut log, &icb, opened), Ok(Some(DosGapStatus::AwaitingUpdate)));
        let update = || DosAction::Update {
            gap_id: id,
            summary: None,
        };
        assert_eq!(
            step(&mut log, &icb, update()),
            Ok(Some(DosGapStatus::AwaitingConfirmation))
        );
        let persists = DosAction::Persists {
            gap_id: id,
            detail: None,
        };
        assert_eq!(step(&mut log, &dhu, persists), Ok(Some(DosGapStatus::AwaitingUpdate)));
        assert_eq!(
            step(&mut log, &icb, update()),
            Ok(Some(DosGapStatus::AwaitingConfirmation))
        );
        assert_eq!(
            step(&mut log, &dhu, DosAction::Confirm { gap_id: id }),
            Ok(Some(DosGapStatus::Closed))
        );
        assert!(matches!(
            step(&mut log, &icb, update()),
            Err(CaseError::DosGapWrongStage { .. })
        ));
    }

    #[test]
    fn a_practice_updates_only_its_own_entry_and_a_report_is_dated_after_it_bit() {
        let now = at(2026, 11, 25, 10, 0);
        let dhu = actor("dhu-1", Role::Dhu);
        let theirs = fold(&[(CaseEvent::DosGapReported(reported(1, Some("Z00011"))), now)]);
        let others = fold(&[(CaseEvent::DosGapReported(reported(1, Some("Z00012"))), now)]);
        let opened = |state: DosService| {
            let mut state = state;
            state.gaps[0].status = DosGapStatus::AwaitingUpdate;
            state
        };
        let manager = actor("pm-z00011", Role::Practice);
        let update = || DosAction::Update {
            gap_id: Uuid::from_u128(1),
            summary: None,
        };
        assert!(decide_dos(&opened(theirs), &manager, update(), now, now).is_ok());
        assert!(matches!(
            decide_dos(&opened(others), &manager, update(), now, now),
            Err(CaseError::DosGapNotFound(_))
        ));
        let mut late = reported(2, None);
        late.bit_at = now + chrono::Duration::minutes(5);
        assert!(decide_dos(&DosService::default(), &dhu, DosAction::Report(late), now, now).is_err());
        let mut old = reported(3, None);
        old.bit_at = now - chrono::Duration::days(91);
        assert!(decide_dos(&DosService::default(), &dhu, DosAction::Report(old), now, now).is_err());
    }

    #[test]
    fn a_service_is_red_with_an_open_gap_in_core_hours_amber_with_any_green_with_none() {
        use DosGapStatus::*;
        assert_eq!(Rag::of([]), Rag::Green);
        assert_eq!(Rag::of([(Closed, true), (Dismissed, true)]), Rag::Green);
        assert_eq!(Rag::of([(AwaitingUpdate, false), (Closed, true)]), Rag::Amber);
        assert_eq!(Rag::of([(Reported, false), (AwaitingConfirmation, true)]), Rag::Red);
        let calendar = BankHolidays::england_and_wales();
        // 17:45 on Monday 23 November 2026 (GMT) is in core hours; 19:00 is not; nor a Saturday.
        assert!(in_core_hours(at(2026, 11, 23, 17, 45), &calendar));
        assert!(!in_core_hours(at(2026, 11, 23, 19, 0), &calendar));
        assert!(!in_core_hours(at(2026, 11, 21, 10, 0), &calendar));
        // 07:30 UTC on a June Monday is 08:30 BST: core hours.
        assert!(in_core_hours(at(2026, 6, 1, 7, 30), &calendar));
    }

    #[test]
    fn a_dos_id_is_a_number_so_one_service_has_one_id() {
        let id = |text: &str| DosServiceId::parse(text).map(|id| id.to_string());
        assert_eq!(id("0555"), id("555"));
        assert_eq!(id(" 2000012345 "), Ok("2000012345".to_string()));
        assert_eq!(id("000"), Ok("0".to_string()));
        assert!(id("12a").is_err() && id("").is_err() && id("1234567890123").is_err());
    }

    #[test]
    fn each_stage_is_due_in_working_days() {
        let calendar = BankHolidays::england_and_wales();
        let targets = DosTargets::default();
        // Reported on Friday 20 November: triage due Tuesday 24th.
        let friday = at(2026, 11, 20, 10, 0);
        assert_eq!(
            targets.due(DosGapStatus::Reported, friday, &calendar),
            NaiveDate::from_ymd_opt(2026, 11, 24)
        );
        assert_eq!(targets.due(DosGapStatus::Closed, friday, &calendar), None);
    }
}
