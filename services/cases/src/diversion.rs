//! Diversions of a practice's phones to NHS 111 in core hours (NHS England's 2024 access
//! recovery letter: a practice that diverts in core hours tells its ICB's primary care team).
//! The practice (or the ICB, told by phone) notifies a diversion, ends it, and the ICB
//! acknowledges each notice. All three live in the practice's stream, beside its observations and
//! DHU reports. Only the part of a diversion inside core hours counts: 08:00 to 18:30, UK time,
//! on working days (Monday to Friday, not a bank holiday).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use uuid::Uuid;

use crate::case::{
    CaseError, CaseEvent, DiversionAcknowledged, DiversionEnded, DiversionNotified, DiversionReason, EventEnvelope,
};
use crate::holidays::BankHolidays;
use crate::role::{Actor, Role};
use crate::ukclock;
use crate::values::{FreeText, OdsCode};

/// Core hours begin at 08:00 …
pub const CORE_START: NaiveTime = NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time");
/// … and end at 18:30, UK time.
pub const CORE_END: NaiveTime = NaiveTime::from_hms_opt(18, 30, 0).expect("18:30 is a time");

/// The longest a notified diversion may be expected to last, and how long after it began it may
/// still be notified or how far ahead it may be planned: beyond that, a date is a typing error.
pub const LONGEST: Duration = Duration::days(28);

/// What a party asks of a practice's diversions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiversionAction {
    Notify {
        diversion_id: Uuid,
        from: DateTime<Utc>,
        expected_until: DateTime<Utc>,
        reason: DiversionReason,
        detail: Option<FreeText>,
    },
    End {
        diversion_id: Uuid,
        ended_at: DateTime<Utc>,
    },
    Acknowledge {
        diversion_id: Uuid,
    },
}

impl DiversionAction {
    pub fn name(&self) -> &'static str {
        self.command().as_str()
    }

    /// The catalogue's command it is.
    pub fn command(&self) -> crate::case::CommandName {
        use crate::case::CommandName;
        match self {
            DiversionAction::Notify { .. } => CommandName::NotifyDiversion,
            DiversionAction::End { .. } => CommandName::EndDiversion,
            DiversionAction::Acknowledge { .. } => CommandName::AcknowledgeDiversion,
        }
    }

    pub fn diversion_id(&self) -> Uuid {
        match self {
            DiversionAction::Notify { diversion_id, .. }
            | DiversionAction::End { diversion_id, .. }
            | DiversionAction::Acknowledge { diversion_id } => *diversion_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiversionCommand {
    pub actor: Actor,
    /// When the practice told (or the ICB acknowledged): business time.
    pub occurred_at: DateTime<Utc>,
    pub action: DiversionAction,
}

/// One diversion as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diversion {
    pub diversion_id: Uuid,
    pub from: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    pub notified_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub acknowledged: bool,
}

impl Diversion {
    /// Told after it began.
    pub fn late(&self) -> bool {
        self.notified_at > self.from
    }

    /// Whether it covers any of `[from, until)` (an open one runs until it ends).
    fn overlaps(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
        let end = self.ended_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.from < until && from < end
    }
}

/// A practice's diversions, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeDiversions {
    pub diversions: Vec<Diversion>,
}

impl PracticeDiversions {
    pub fn diversion(&self, diversion_id: Uuid) -> Option<&Diversion> {
        self.diversions.iter().find(|d| d.diversion_id == diversion_id)
    }

    fn diversion_mut(&mut self, diversion_id: Uuid) -> Option<&mut Diversion> {
        self.diversions.iter_mut().find(|d| d.diversion_id == diversion_id)
    }
}

/// Folds one event of the practice's stream.
pub fn evolve_diversions(mut state: PracticeDiversions, envelope: &EventEnvelope) -> PracticeDiversions {
    match &envelope.event {
        CaseEvent::DiversionNotified(notified) => state.diversions.push(Diversion {
            diversion_id: notified.diversion_id,
            from: notified.from,
            expected_until: notified.expected_until,
            notified_at: envelope.occurred_at,
            ended_at: None,
            acknowledged: false,
        }),
        CaseEvent::DiversionEnded(ended) => {
            if let Some(diversion) = state.diversion_mut(ended.diversion_id) {
                diversion.ended_at = Some(ended.ended_at);
            }
        }
        CaseEvent::DiversionAcknowledged(acknowledged) => {
            if let Some(diversion) = state.diversion_mut(acknowledged.diversion_id) {
                diversion.acknowledged = true;
            }
        }
        _ => {}
    }
    state
}

/// The events `command` causes on the diversions of practice `ods_code`, or why it may not.
pub fn decide_diversion(
    state: &PracticeDiversions,
    ods_code: &OdsCode,
    command: &DiversionCommand,
    now: DateTime<Utc>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let action = command.action.name();
    let actor = &command.actor;
    if !command.action.command().permits(actor.role) {
        return Err(CaseError::Forbidden {
            role: actor.role,
            action,
        });
    }
    if actor.role == Role::Practice && actor.practice() != Some(ods_code) {
        return Err(CaseError::NotYourPractice(ods_code.to_string()));
    }
    let occurred_at = command.occurred_at;
    if occurred_at > now {
        return Err(CaseError::OccurredInFuture { occurred_at });
    }
    let earliest = crate::case::earliest_business_time();
    if occurred_at < earliest {
        return Err(CaseError::OccurredTooEarly { occurred_at, earliest });
    }
    let period = |field: &'static str, message: String| Err(CaseError::InvalidPeriod { field, message });
    match &command.action {
        DiversionAction::Notify {
            diversion_id,
            from,
            expected_until,
            reason,
            detail,
        } => {
            if expected_until <= from {
                return period(
                    "expectedUntil",
                    format!("the expected end ({expected_until}) must be after the start ({from})"),
                );
            }
            if *expected_until - *from > LONGEST {
                return period(
                    "expectedUntil",
                    format!(
                        "a diversion is expected to last at most {} days, not from {from} until {expected_until}",
                        LONGEST.num_days()
                    ),
                );
            }
            if *from < occurred_at - LONGEST || *from > occurred_at + LONGEST {
                return period(
                    "from",
                    format!(
                        "the start ({from}) is more than {} days from when the ICB was told ({occurred_at}): check the date",
                        LONGEST.num_days()
                    ),
                );
            }
            if let Some(existing) = state.diversion(*diversion_id) {
                // The same notice again (a retried form) is the one already there.
                return Err(CaseError::DiversionOverlaps(existing.diversion_id));
            }
            if let Some(open) = state.diversions.iter().find(|d| d.overlaps(*from, *expected_until)) {
                return Err(CaseError::DiversionOverlaps(open.diversion_id));
            }
            Ok(vec![CaseEvent::DiversionNotified(DiversionNotified {
                diversion_id: *diversion_id,
                from: *from,
                expected_until: *expected_until,
                reason: *reason,
                detail: detail.clone(),
            })])
        }
        DiversionAction::End { diversion_id, ended_at } => {
            let diversion = state
                .diversion(*diversion_id)
                .ok_or(CaseError::DiversionNotFound(*diversion_id))?;
            if diversion.ended_at.is_some() {
                return Err(CaseError::DiversionAlreadyEnded(*diversion_id));
            }
            if *ended_at <= diversion.from {
                return period(
                    "endedAt",
                    format!(
                        "the end ({ended_at}) must be after the diversion began ({})",
                        diversion.from
                    ),
                );
            }
            if *ended_at > now {
                return period(
                    "endedAt",
                    format!("the end ({ended_at}) is in the future: end a diversion once it has ended"),
                );
            }
            if *ended_at - diversion.from > LONGEST * 4 {
                return period(
                    "endedAt",
                    format!("the end ({ended_at}) is months after the diversion began: check the date"),
                );
            }
            Ok(vec![CaseEvent::DiversionEnded(DiversionEnded {
                diversion_id: *diversion_id,
                ended_at: *ended_at,
            })])
        }
        DiversionAction::Acknowledge { diversion_id } => {
            let diversion = state
                .diversion(*diversion_id)
                .ok_or(CaseError::DiversionNotFound(*diversion_id))?;
            if diversion.acknowledged {
                return Err(CaseError::DiversionAlreadyAcknowledged(*diversion_id));
            }
            Ok(vec![CaseEvent::DiversionAcknowledged(DiversionAcknowledged {
                diversion_id: *diversion_id,
            })])
        }
    }
}

/// Minutes of `[from, until)` inside core hours: 08:00 to 18:30 UK time (GMT or BST, whichever
/// is in force that day) on the calendar's core days.
pub fn core_minutes(from: DateTime<Utc>, until: DateTime<Utc>, calendar: &BankHolidays) -> i64 {
    if until <= from {
        return 0;
    }
    let first = ukclock::to_uk(from).date_naive();
    let last = ukclock::to_uk(until).date_naive();
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .filter(|day| calendar.is_core_day(*day))
        .map(|day| {
            let open = ukclock::from_local(day.and_time(CORE_START)).with_timezone(&Utc);
            let close = ukclock::from_local(day.and_time(CORE_END)).with_timezone(&Utc);
            (until.min(close) - from.max(open)).num_minutes().max(0)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ShortText;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_default()
    }

    fn short(text: &str) -> ShortText {
        ShortText::parse(text).unwrap_or_else(|_| unreachable!())
    }

    fn ods(code: &str) -> OdsCode {
        OdsCode::parse(code).unwrap_or_else(|_| unreachable!())
    }

    fn manager(of: &str) -> Actor {
        Actor::scoped(
            short("pm-1"),
            Role::Practice,
            Some(crate::role::Scope::Practice(ods(of))),
        )
    }

    fn notify(actor: Actor, occurred_at: DateTime<Utc>, id: u128, from: DateTime<Utc>, hours: i64) -> DiversionCommand {
        DiversionCommand {
            actor,
            occurred_at,
            action: DiversionAction::Notify {
                diversion_id: Uuid::from_u128(id),
                from,
                expected_until: from + Duration::hours(hours),
                reason: DiversionReason::TelephonyFailure,
                detail: None,
            },
        }
    }

    fn folded(events: &[(CaseEvent, DateTime<Utc>)]) -> PracticeDiversions {
        events.iter().fold(PracticeDiversions::default(), |state, (event, at)| {
            evolve_diversions(
                state,
                &EventEnvelope {
                    event: event.clone(),
                    occurred_at: *at,
                    actor: manager("C82001"),
                },
            )
        })
    }

    #[test]
    fn core_hours_are_0800_to_1830_uk_time_on_working_days() {
        let calendar = BankHolidays::england_and_wales();
        // Monday 1 December 2025, GMT: 07:00 to 10:00 counts from 08:00.
        assert_eq!(
            core_minutes(at(2025, 12, 1, 7, 0), at(2025, 12, 1, 10, 0), &calendar),
            120
        );
        // Over a weekend: Friday 17:00 to Monday 09:00 is 90 + 60 minutes.
        assert_eq!(
            core_minutes(at(2025, 12, 5, 17, 0), at(2025, 12, 8, 9, 0), &calendar),
            150
        );
        // Christmas Day and Boxing Day 2025 are bank holidays.
        assert_eq!(
            core_minutes(at(2025, 12, 25, 0, 0), at(2025, 12, 27, 0, 0), &calendar),
            0
        );
        // In BST core hours start at 07:00 UTC: Monday 2 June 2025, 06:30 to 08:00 UTC is 60.
        assert_eq!(core_minutes(at(2025, 6, 2, 6, 30), at(2025, 6, 2, 8, 0), &calendar), 60);
        // A whole working day is 10 hours 30 minutes.
        assert_eq!(core_minutes(at(2025, 6, 2, 0, 0), at(2025, 6, 3, 0, 0), &calendar), 630);
        assert_eq!(core_minutes(at(2025, 6, 3, 0, 0), at(2025, 6, 2, 0, 0), &calendar), 0);
    }

    #[test]
    fn a_practice_notifies_its_own_diversions_only() {
        let now = at(2024, 12, 2, 12, 0);
        let state = PracticeDiversions::default();
        let own = notify(manager("C82001"), now, 1, at(2024, 12, 2, 9, 0), 4);
        assert!(matches!(
            decide_diversion(&state, &ods("C82001"), &own, now).as_deref(),
            Ok([CaseEvent::DiversionNotified(_)])
        ));
        assert_eq!(
            decide_diversion(&state, &ods("C82002"), &own, now),
            Err(CaseError::NotYourPractice("C82002".into()))
        );
        let lmc = notify(Actor::new(short("lmc-1"), Role::Lmc), now, 1, now, 1);
        assert!(matches!(
            decide_diversion(&state, &ods("C82001"), &lmc, now),
            Err(CaseError::Forbidden { .. })
        ));
        let icb = notify(Actor::new(short("icb-1"), Role::Icb), now, 1, now, 1);
        assert!(decide_diversion(&state, &ods("C82002"), &icb, now).is_ok());
        // A practice role that came without its practice acts on none.
        let unscoped = notify(Actor::new(short("pm-2"), Role::Practice), now, 1, now, 1);
        assert!(matches!(
            decide_diversion(&state, &ods("C82001"), &unscoped, now),
            Err(CaseError::NotYourPractice(_))
        ));
    }

    #[test]
    fn periods_are_checked() {
        let now = at(2024, 12, 2, 12, 0);
        let state = PracticeDiversions::default();
        let bad = |from: DateTime<Utc>, hours: i64| {
            decide_diversion(
                &state,
                &ods("C82001"),
                &notify(manager("C82001"), now, 1, from, hours),
                now,
            )
        };
        assert!(matches!(bad(now, 0), Err(CaseError::InvalidPeriod { .. })));
        assert!(matches!(bad(now, -2), Err(CaseError::InvalidPeriod { .. })));
        assert!(matches!(bad(now, 24 * 29), Err(CaseError::InvalidPeriod { .. })));
        assert!(matches!(
            bad(at(2023, 12, 2, 9, 0), 2),
            Err(CaseError::InvalidPeriod { .. })
        ));
        // Planned a week ahead (premises work) is fine.
        assert!(bad(now + Duration::days(7), 8).is_ok());
    }

    #[test]
    fn overlapping_diversions_ending_and_acknowledging() {
        let now = at(2024, 12, 3, 12, 0);
        let id = Uuid::from_u128(1);
        let state = folded(&[(
            CaseEvent::DiversionNotified(DiversionNotified {
                diversion_id: id,
                from: at(2024, 12, 2, 9, 0),
                expected_until: at(2024, 12, 2, 13, 0),
                reason: DiversionReason::StaffShortage,
                detail: None,
            }),
            at(2024, 12, 2, 10, 0),
        )]);
        assert!(state.diversions[0].late(), "told an hour after it began");
        // Not ended: any later diversion overlaps it.
        let later = notify(manager("C82001"), now, 2, at(2024, 12, 3, 9, 0), 2);
        assert_eq!(
            decide_diversion(&state, &ods("C82001"), &later, now),
            Err(CaseError::DiversionOverlaps(id))
        );
        let end = |ended_at| DiversionCommand {
            actor: manager("C82001"),
            occurred_at: now,
            action: DiversionAction::End {
                diversion_id: id,
                ended_at,
            },
        };
        assert!(matches!(
            decide_diversion(&state, &ods("C82001"), &end(at(2024, 12, 2, 8, 0)), now),
            Err(CaseError::InvalidPeriod { .. })
        ));
        assert!(matches!(
            decide_diversion(&state, &ods("C82001"), &end(now + Duration::hours(1)), now),
            Err(CaseError::InvalidPeriod { .. })
        ));
        let ended = state.clone();
        let ended = evolve_diversions(
            ended,
            &EventEnvelope {
                event: CaseEvent::DiversionEnded(DiversionEnded {
                    diversion_id: id,
                    ended_at: at(2024, 12, 2, 12, 0),
                }),
                occurred_at: now,
                actor: manager("C82001"),
            },
        );
        assert!(decide_diversion(&ended, &ods("C82001"), &later, now).is_ok());
        assert_eq!(
            decide_diversion(&ended, &ods("C82001"), &end(at(2024, 12, 2, 12, 30)), now),
            Err(CaseError::DiversionAlreadyEnded(id))
        );
        let acknowledge = |role| DiversionCommand {
            actor: Actor::new(short("someone"), role),
            occurred_at: now,
            action: DiversionAction::Acknowledge { diversion_id: id },
        };
        assert!(matches!(
            decide_diversion(&ended, &ods("C82001"), &acknowledge(Role::Practice), now),
            Err(CaseError::Forbidden { .. })
        ));
        assert!(decide_diversion(&ended, &ods("C82001"), &acknowledge(Role::Icb), now).is_ok());
        let missing = DiversionCommand {
            action: DiversionAction::Acknowledge {
                diversion_id: Uuid::from_u128(9),
            },
            ..acknowledge(Role::Icb)
        };
        assert_eq!(
            decide_diversion(&ended, &ods("C82001"), &missing, now),
            Err(CaseError::DiversionNotFound(Uuid::from_u128(9)))
        );
    }
}
