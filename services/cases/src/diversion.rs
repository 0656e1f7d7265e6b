//! Diversions of a practice's phones to NHS 111 in core hours (NHS England's 2024 access
//! recovery letter: a practice that diverts in core hours tells its ICB's primary care team).
//! The practice (or the ICB, told by phone) notifies a diversion, ends it, and the ICB
//! acknowledges each notice. All three live in the practice's stream, beside its observations and
//! DHU reports. Only the part of a diversion inside core hours counts: 08:00 to 18:30, UK time,
//! on working days (Monday to Friday, not a bank holiday).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use uuid::Uuid;

use crate::case::{
    CaseError, CaseEvent, DiversionAcknowledged, DiversionCancelled, DiversionEnded, DiversionNotified,
    DiversionReason, DiversionReviewClosed, DiversionReviewOpened, DiversionReviewOutcome, DiversionReviewSupported,
    DiversionSupportKind, EventEnvelope,
};
use crate::holidays::BankHolidays;
use crate::role::{Actor, Role};
use crate::ukclock;
use crate::values::{FreeText, OdsCode, PcnCode};

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
    /// A planned diversion called off before it began.
    Cancel {
        diversion_id: Uuid,
    },
    /// A champion or the practice's PCN supported it under review.
    Support {
        review_id: Uuid,
        kind: DiversionSupportKind,
    },
    /// The ICB closes a review, once support came first.
    CloseReview {
        review_id: Uuid,
        outcome: DiversionReviewOutcome,
        note: Option<FreeText>,
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
            DiversionAction::Cancel { .. } => CommandName::CancelDiversion,
            DiversionAction::Support { .. } => CommandName::RecordDiversionSupport,
            DiversionAction::CloseReview { .. } => CommandName::CloseDiversionReview,
        }
    }

    /// The diversion, or the review, it is about.
    pub fn subject_id(&self) -> Uuid {
        match self {
            DiversionAction::Notify { diversion_id, .. }
            | DiversionAction::End { diversion_id, .. }
            | DiversionAction::Acknowledge { diversion_id }
            | DiversionAction::Cancel { diversion_id } => *diversion_id,
            DiversionAction::Support { review_id, .. } | DiversionAction::CloseReview { review_id, .. } => *review_id,
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
    /// Called off before it began: it counts for nothing.
    pub cancelled: bool,
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

/// A diversion review of the practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub review_id: Uuid,
    pub opened_at: DateTime<Utc>,
    /// Support given, in order: when and what.
    pub support: Vec<(DateTime<Utc>, DiversionSupportKind)>,
    pub closed: Option<DiversionReviewOutcome>,
}

/// A practice's diversions and reviews, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeDiversions {
    pub diversions: Vec<Diversion>,
    pub reviews: Vec<Review>,
}

impl PracticeDiversions {
    pub fn diversion(&self, diversion_id: Uuid) -> Option<&Diversion> {
        self.diversions.iter().find(|d| d.diversion_id == diversion_id)
    }

    fn diversion_mut(&mut self, diversion_id: Uuid) -> Option<&mut Diversion> {
        self.diversions.iter_mut().find(|d| d.diversion_id == diversion_id)
    }

    pub fn review(&self, review_id: Uuid) -> Option<&Review> {
        self.reviews.iter().find(|r| r.review_id == review_id)
    }

    /// The review still open, if any.
    pub fn open_review(&self) -> Option<&Review> {
        self.reviews.iter().find(|r| r.closed.is_none())
    }

    /// Notices begun in `[since, now]` and their core-hours minutes: to their end, or a running
    /// one to when it is expected to end (a notice told late is not charged to now).
    pub fn in_window(&self, since: DateTime<Utc>, now: DateTime<Utc>, calendar: &BankHolidays) -> (u32, i64) {
        let recent = self
            .diversions
            .iter()
            .filter(|d| !d.cancelled && d.from >= since && d.from <= now);
        recent.fold((0, 0), |(notices, minutes), d| {
            let until = d.ended_at.unwrap_or(d.expected_until).min(now);
            (notices + 1, minutes + core_minutes(d.from, until, calendar))
        })
    }
}

/// When a practice's diversions call for a review: more than `notices` notices, or more than
/// `core_minutes` minutes of core hours diverted, among the diversions begun in the last `window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPolicy {
    pub notices: u32,
    pub core_minutes: i64,
    pub window: Duration,
    /// The working days core hours fall on.
    pub calendar: std::sync::Arc<BankHolidays>,
}

impl Default for ReviewPolicy {
    /// More than 2 notices or 4 core hours in 4 weeks (issue 26's example).
    fn default() -> Self {
        Self {
            notices: 2,
            core_minutes: 4 * 60,
            window: Duration::weeks(4),
            calendar: std::sync::Arc::new(BankHolidays::england_and_wales()),
        }
    }
}

impl ReviewPolicy {
    /// A review opened by what `state` now holds, if it passes the threshold and none is open.
    /// Its id comes from the event that passed it (`cause`: a diversion's notice or end), so
    /// deciding again names the same review and two reviews never share one.
    fn review_for(&self, state: &PracticeDiversions, cause: &str, now: DateTime<Utc>) -> Option<CaseEvent> {
        if state.open_review().is_some() {
            return None;
        }
        let since = now - self.window;
        let (notices, core_minutes) = state.in_window(since, now, &self.calendar);
        (notices > self.notices || core_minutes > self.core_minutes).then(|| {
            CaseEvent::DiversionReviewOpened(DiversionReviewOpened {
                review_id: Uuid::new_v5(&REVIEW_NAMESPACE, cause.as_bytes()),
                notices,
                core_minutes,
                since,
            })
        })
    }
}

/// A review's id, derived from the diversion whose notice or end opened it.
const REVIEW_NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d72_6576_0001);

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
            cancelled: false,
        }),
        CaseEvent::DiversionEnded(ended) => {
            if let Some(diversion) = state.diversion_mut(ended.diversion_id) {
                diversion.ended_at = Some(ended.ended_at);
            }
        }
        CaseEvent::DiversionCancelled(cancelled) => {
            if let Some(diversion) = state.diversion_mut(cancelled.diversion_id) {
                diversion.cancelled = true;
                // It never ran: over before it began, overlapping nothing.
                diversion.ended_at = Some(diversion.from);
            }
        }
        CaseEvent::DiversionAcknowledged(acknowledged) => {
            if let Some(diversion) = state.diversion_mut(acknowledged.diversion_id) {
                diversion.acknowledged = true;
            }
        }
        CaseEvent::DiversionReviewOpened(opened) => state.reviews.push(Review {
            review_id: opened.review_id,
            opened_at: envelope.occurred_at,
            support: Vec::new(),
            closed: None,
        }),
        CaseEvent::DiversionReviewSupported(supported) => {
            if let Some(review) = state.reviews.iter_mut().find(|r| r.review_id == supported.review_id) {
                review.support.push((envelope.occurred_at, supported.kind));
            }
        }
        CaseEvent::DiversionReviewClosed(closed) => {
            if let Some(review) = state.reviews.iter_mut().find(|r| r.review_id == closed.review_id) {
                review.closed = Some(closed.outcome);
            }
        }
        _ => {}
    }
    state
}

/// The practice a diversion command is about: its ODS code, its PCN (from the register, when it
/// has one) and the deployment's review threshold.
#[derive(Debug, Clone, Copy)]
pub struct AtPractice<'a> {
    pub ods_code: &'a OdsCode,
    pub pcn_code: Option<&'a PcnCode>,
    pub policy: &'a ReviewPolicy,
}

/// The events `command` causes on the diversions of the practice `at`, or why it may not. A
/// notice or an end that takes the practice past the review threshold opens a review with it.
pub fn decide_diversion(
    state: &PracticeDiversions,
    at: &AtPractice<'_>,
    command: &DiversionCommand,
    now: DateTime<Utc>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let mut events = decide_alone(state, at, command, now)?;
    // What opens a review: a diversion's notice, or its end (each at most once, so each names
    // at most one review).
    let cause = match events.first() {
        Some(CaseEvent::DiversionNotified(notified)) => Some(format!("{}/notified", notified.diversion_id)),
        Some(CaseEvent::DiversionEnded(ended)) => Some(format!("{}/ended", ended.diversion_id)),
        _ => None,
    };
    if let Some(cause) = cause {
        let after = events.iter().fold(state.clone(), |state, event| {
            evolve_diversions(
                state,
                &EventEnvelope {
                    event: event.clone(),
                    occurred_at: command.occurred_at,
                    actor: command.actor.clone(),
                },
            )
        });
        events.extend(at.policy.review_for(&after, &cause, now));
    }
    Ok(events)
}

fn decide_alone(
    state: &PracticeDiversions,
    at: &AtPractice<'_>,
    command: &DiversionCommand,
    now: DateTime<Utc>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let ods_code = at.ods_code;
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
    // A PCN's clinical director supports the practices of their own PCN only.
    if actor.role == Role::PcnClinicalDirector && (actor.pcn().is_none() || actor.pcn() != at.pcn_code) {
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
                return period("expectedUntil", "the expected end must be after the start".to_string());
            }
            if *expected_until - *from > LONGEST {
                return period(
                    "expectedUntil",
                    format!(
                        "a diversion is expected to last at most {} days: check the dates",
                        LONGEST.num_days()
                    ),
                );
            }
            if *from < occurred_at - LONGEST || *from > occurred_at + LONGEST {
                return period(
                    "from",
                    format!(
                        "the start is more than {} days before or after the ICB is told: check the date",
                        LONGEST.num_days()
                    ),
                );
            }
            if let Some(existing) = state.diversion(*diversion_id) {
                // The same notice again (a retried form) is the one already there.
                return Err(CaseError::DiversionOverlaps(existing.diversion_id));
            }
            // One diversion at a time: none may be running (or planned and not yet ended), and an
            // ended one may not overlap this one.
            if let Some(open) = state
                .diversions
                .iter()
                .find(|d| d.ended_at.is_none() || d.overlaps(*from, *expected_until))
            {
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
                return period("endedAt", "the end must be after the diversion began".to_string());
            }
            if *ended_at > now {
                return period(
                    "endedAt",
                    "the end is in the future: end a diversion once it has ended".to_string(),
                );
            }
            if *ended_at - diversion.from > LONGEST * 4 {
                return period(
                    "endedAt",
                    "the end is months after the diversion began: check the date".to_string(),
                );
            }
            Ok(vec![CaseEvent::DiversionEnded(DiversionEnded {
                diversion_id: *diversion_id,
                ended_at: *ended_at,
            })])
        }
        DiversionAction::Cancel { diversion_id } => {
            let diversion = state
                .diversion(*diversion_id)
                .ok_or(CaseError::DiversionNotFound(*diversion_id))?;
            if diversion.ended_at.is_some() {
                return Err(CaseError::DiversionAlreadyEnded(*diversion_id));
            }
            if diversion.from <= occurred_at {
                return period("from", "the diversion has begun: end it instead".to_string());
            }
            Ok(vec![CaseEvent::DiversionCancelled(DiversionCancelled {
                diversion_id: *diversion_id,
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
        DiversionAction::Support { review_id, kind } => {
            let review = open_review(state, *review_id, occurred_at)?;
            Ok(vec![CaseEvent::DiversionReviewSupported(DiversionReviewSupported {
                review_id: review.review_id,
                kind: *kind,
            })])
        }
        DiversionAction::CloseReview {
            review_id,
            outcome,
            note,
        } => {
            let review = open_review(state, *review_id, occurred_at)?;
            // Supported, not sanctioned: a review closes only once someone has helped.
            if review.support.is_empty() {
                return Err(CaseError::SupportFirst);
            }
            Ok(vec![CaseEvent::DiversionReviewClosed(DiversionReviewClosed {
                review_id: review.review_id,
                outcome: *outcome,
                note: note.clone(),
            })])
        }
    }
}

/// Review `review_id`, if it exists, is open and opened before `occurred_at`.
fn open_review(state: &PracticeDiversions, review_id: Uuid, occurred_at: DateTime<Utc>) -> Result<&Review, CaseError> {
    let review = state
        .review(review_id)
        .ok_or(CaseError::DiversionReviewNotFound(review_id))?;
    if review.closed.is_some() {
        return Err(CaseError::DiversionReviewClosed(review_id));
    }
    if occurred_at < review.opened_at {
        return Err(CaseError::OccurredBeforeOpened {
            occurred_at,
            opened_at: review.opened_at,
        });
    }
    Ok(review)
}

/// Minutes of `[from, until)` inside core hours: 08:00 to 18:30 UK time (GMT or BST, whichever
/// is in force that day) on the calendar's core days.
pub fn core_minutes(from: DateTime<Utc>, until: DateTime<Utc>, calendar: &BankHolidays) -> i64 {
    core_minutes_by_day(from, until, calendar)
        .map(|(_, minutes)| minutes)
        .sum()
}

/// The core-hours minutes of `[from, until)` day by day (UK dates, core days with any).
pub fn core_minutes_by_day(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    calendar: &BankHolidays,
) -> impl Iterator<Item = (chrono::NaiveDate, i64)> + '_ {
    let first = ukclock::to_uk(from).date_naive();
    let last = ukclock::to_uk(until).date_naive();
    first
        .iter_days()
        .take_while(move |day| *day <= last && from < until)
        .filter(|day| calendar.is_core_day(*day))
        .map(move |day| {
            let open = ukclock::from_local(day.and_time(CORE_START)).with_timezone(&Utc);
            let close = ukclock::from_local(day.and_time(CORE_END)).with_timezone(&Utc);
            (day, (until.min(close) - from.max(open)).num_minutes().max(0))
        })
        .filter(|(_, minutes)| *minutes > 0)
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

    /// Decides at practice `ods` of PCN U00001, with the default threshold.
    fn decide(
        state: &PracticeDiversions,
        ods_code: &str,
        command: &DiversionCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseEvent>, CaseError> {
        let policy = ReviewPolicy::default();
        let (ods_code, pcn) = (
            ods(ods_code),
            PcnCode::parse("U00001").unwrap_or_else(|_| unreachable!()),
        );
        let at = AtPractice {
            ods_code: &ods_code,
            pcn_code: Some(&pcn),
            policy: &policy,
        };
        decide_diversion(state, &at, command, now)
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
        // Day by day: a weekend's diversion falls on the Friday and the Monday, in their own weeks.
        let days: Vec<(chrono::NaiveDate, i64)> =
            core_minutes_by_day(at(2025, 12, 5, 17, 0), at(2025, 12, 8, 9, 0), &calendar).collect();
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2025, 12, d).unwrap_or_default();
        assert_eq!(days, [(day(5), 90), (day(8), 60)]);
    }

    #[test]
    fn a_practice_notifies_its_own_diversions_only() {
        let now = at(2024, 12, 2, 12, 0);
        let state = PracticeDiversions::default();
        let own = notify(manager("C82001"), now, 1, at(2024, 12, 2, 9, 0), 4);
        assert!(matches!(
            decide(&state, "C82001", &own, now).as_deref(),
            Ok([CaseEvent::DiversionNotified(_)])
        ));
        assert_eq!(
            decide(&state, "C82002", &own, now),
            Err(CaseError::NotYourPractice("C82002".into()))
        );
        let lmc = notify(Actor::new(short("lmc-1"), Role::Lmc), now, 1, now, 1);
        assert!(matches!(
            decide(&state, "C82001", &lmc, now),
            Err(CaseError::Forbidden { .. })
        ));
        let icb = notify(Actor::new(short("icb-1"), Role::Icb), now, 1, now, 1);
        assert!(decide(&state, "C82002", &icb, now).is_ok());
        // A practice role that came without its practice acts on none.
        let unscoped = notify(Actor::new(short("pm-2"), Role::Practice), now, 1, now, 1);
        assert!(matches!(
            decide(&state, "C82001", &unscoped, now),
            Err(CaseError::NotYourPractice(_))
        ));
    }

    #[test]
    fn periods_are_checked() {
        let now = at(2024, 12, 2, 12, 0);
        let state = PracticeDiversions::default();
        let bad = |from: DateTime<Utc>, hours: i64| {
            decide(&state, "C82001", &notify(manager("C82001"), now, 1, from, hours), now)
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
    fn a_planned_diversion_is_called_off_before_it_begins_and_counts_for_nothing() {
        let now = at(2024, 12, 2, 12, 0);
        let planned = Uuid::from_u128(1);
        let state = folded(&[(
            CaseEvent::DiversionNotified(DiversionNotified {
                diversion_id: planned,
                from: at(2024, 12, 9, 8, 0),
                expected_until: at(2024, 12, 9, 18, 30),
                reason: DiversionReason::Premises,
                detail: None,
            }),
            at(2024, 12, 2, 10, 0),
        )]);
        let cancel = |when: DateTime<Utc>| DiversionCommand {
            actor: manager("C82001"),
            occurred_at: when,
            action: DiversionAction::Cancel { diversion_id: planned },
        };
        let events = decide(&state, "C82001", &cancel(now), now).unwrap_or_default();
        assert!(matches!(events.as_slice(), [CaseEvent::DiversionCancelled(_)]));
        let after = folded(&[
            (
                CaseEvent::DiversionNotified(DiversionNotified {
                    diversion_id: planned,
                    from: at(2024, 12, 9, 8, 0),
                    expected_until: at(2024, 12, 9, 18, 30),
                    reason: DiversionReason::Premises,
                    detail: None,
                }),
                at(2024, 12, 2, 10, 0),
            ),
            (
                CaseEvent::DiversionCancelled(DiversionCancelled { diversion_id: planned }),
                now,
            ),
        ]);
        // Called off: another may be notified for the same day, and it counts for nothing later.
        let same_day = notify(manager("C82001"), now, 2, at(2024, 12, 9, 9, 0), 2);
        assert!(decide(&after, "C82001", &same_day, now).is_ok());
        let later = at(2024, 12, 10, 12, 0);
        let calendar = BankHolidays::england_and_wales();
        assert_eq!(after.in_window(later - Duration::weeks(4), later, &calendar), (0, 0));
        assert!(matches!(
            decide(&after, "C82001", &cancel(now), now),
            Err(CaseError::DiversionAlreadyEnded(_))
        ));
        // Once it has begun, it is ended, not called off.
        let begun = at(2024, 12, 9, 9, 0);
        assert!(matches!(
            decide(&state, "C82001", &cancel(begun), begun),
            Err(CaseError::InvalidPeriod { .. })
        ));
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
            decide(&state, "C82001", &later, now),
            Err(CaseError::DiversionOverlaps(id))
        );
        // Nor may one be told of that would sit before it while it runs: one at a time.
        let before = notify(manager("C82001"), now, 3, at(2024, 12, 1, 9, 0), 2);
        assert_eq!(
            decide(&state, "C82001", &before, now),
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
            decide(&state, "C82001", &end(at(2024, 12, 2, 8, 0)), now),
            Err(CaseError::InvalidPeriod { .. })
        ));
        assert!(matches!(
            decide(&state, "C82001", &end(now + Duration::hours(1)), now),
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
        assert!(decide(&ended, "C82001", &later, now).is_ok());
        assert_eq!(
            decide(&ended, "C82001", &end(at(2024, 12, 2, 12, 30)), now),
            Err(CaseError::DiversionAlreadyEnded(id))
        );
        let acknowledge = |role| DiversionCommand {
            actor: Actor::new(short("someone"), role),
            occurred_at: now,
            action: DiversionAction::Acknowledge { diversion_id: id },
        };
        assert!(matches!(
            decide(&ended, "C82001", &acknowledge(Role::Practice), now),
            Err(CaseError::Forbidden { .. })
        ));
        assert!(decide(&ended, "C82001", &acknowledge(Role::Icb), now).is_ok());
        let missing = DiversionCommand {
            action: DiversionAction::Acknowledge {
                diversion_id: Uuid::from_u128(9),
            },
            ..acknowledge(Role::Icb)
        };
        assert_eq!(
            decide(&ended, "C82001", &missing, now),
            Err(CaseError::DiversionNotFound(Uuid::from_u128(9)))
        );
    }

    #[test]
    fn a_third_notice_in_four_weeks_opens_a_review_that_closes_only_after_support() {
        let day = |d: u32| at(2025, 12, d, 9, 0);
        let notified = |id: u128, d: u32| {
            (
                CaseEvent::DiversionNotified(DiversionNotified {
                    diversion_id: Uuid::from_u128(id),
                    from: day(d),
                    expected_until: day(d) + Duration::minutes(30),
                    reason: DiversionReason::StaffShortage,
                    detail: None,
                }),
                day(d),
            )
        };
        let ended = |id: u128, d: u32| {
            (
                CaseEvent::DiversionEnded(DiversionEnded {
                    diversion_id: Uuid::from_u128(id),
                    ended_at: day(d) + Duration::minutes(30),
                }),
                day(d),
            )
        };
        let state = folded(&[notified(1, 1), ended(1, 1), notified(2, 2), ended(2, 2)]);
        let now = day(3) + Duration::hours(1);
        let third = notify(manager("C82001"), day(3), 3, day(3), 1);
        let events = decide(&state, "C82001", &third, now).unwrap_or_default();
        let Some(CaseEvent::DiversionReviewOpened(opened)) = events.get(1) else {
            panic!("a review opens with the third notice: {events:?}");
        };
        assert_eq!((opened.notices, opened.core_minutes), (3, 30 + 30 + 60));
        // Deciding again names the same review.
        let again = decide(&state, "C82001", &third, now).unwrap_or_default();
        assert_eq!(again.get(1), events.get(1));
        let review_id = opened.review_id;
        let state = events.iter().fold(state, |state, event| {
            evolve_diversions(
                state,
                &EventEnvelope {
                    event: event.clone(),
                    occurred_at: day(3),
                    actor: manager("C82001"),
                },
            )
        });
        let state = evolve_diversions(
            state,
            &EventEnvelope {
                event: ended(3, 3).0,
                occurred_at: day(3),
                actor: manager("C82001"),
            },
        );
        // No second review while one is open.
        let fourth = notify(manager("C82001"), day(4), 4, day(4), 1);
        let events = decide(&state, "C82001", &fourth, day(4) + Duration::hours(2)).unwrap_or_default();
        assert_eq!(events.len(), 1, "{events:?}");
        let command = |actor: Actor, action: DiversionAction| DiversionCommand {
            actor,
            occurred_at: day(4),
            action,
        };
        let close = command(
            Actor::new(short("icb-1"), Role::Icb),
            DiversionAction::CloseReview {
                review_id,
                outcome: DiversionReviewOutcome::Resolved,
                note: None,
            },
        );
        assert_eq!(decide(&state, "C82001", &close, day(5)), Err(CaseError::SupportFirst));
        let support = DiversionAction::Support {
            review_id,
            kind: DiversionSupportKind::StaffingHelp,
        };
        let director = |pcn: &str| {
            Actor::scoped(
                short("cd-1"),
                Role::PcnClinicalDirector,
                Some(crate::role::Scope::Pcn(
                    PcnCode::parse(pcn).unwrap_or_else(|_| unreachable!()),
                )),
            )
        };
        assert!(matches!(
            decide(&state, "C82001", &command(director("U00002"), support.clone()), day(5)),
            Err(CaseError::NotYourPractice(_))
        ));
        let supported = decide(&state, "C82001", &command(director("U00001"), support.clone()), day(5));
        assert!(matches!(
            supported.as_deref(),
            Ok([CaseEvent::DiversionReviewSupported(_)])
        ));
        let practice_support = decide(&state, "C82001", &command(manager("C82001"), support), day(5));
        assert!(matches!(practice_support, Err(CaseError::Forbidden { .. })));
        let state = supported.unwrap_or_default().iter().fold(state, |state, event| {
            evolve_diversions(
                state,
                &EventEnvelope {
                    event: event.clone(),
                    occurred_at: day(4),
                    actor: director("U00001"),
                },
            )
        });
        assert!(decide(&state, "C82001", &close, day(5)).is_ok());
    }

    #[test]
    fn a_review_closed_and_the_practice_still_past_the_threshold_opens_another_not_the_same() {
        let day = |d: u32| at(2025, 12, d, 9, 0);
        let notified = |id: u128, d: u32| {
            (
                CaseEvent::DiversionNotified(DiversionNotified {
                    diversion_id: Uuid::from_u128(id),
                    from: day(d),
                    expected_until: day(d) + Duration::minutes(30),
                    reason: DiversionReason::Other,
                    detail: None,
                }),
                day(d),
            )
        };
        let ended = |id: u128, d: u32| {
            (
                CaseEvent::DiversionEnded(DiversionEnded {
                    diversion_id: Uuid::from_u128(id),
                    ended_at: day(d) + Duration::minutes(30),
                }),
                day(d),
            )
        };
        let before = [notified(1, 1), ended(1, 1), notified(2, 2), ended(2, 2), notified(3, 3)];
        // The review the third notice opened, with the id it was given.
        let Some(CaseEvent::DiversionReviewOpened(DiversionReviewOpened { review_id: first, .. })) =
            ReviewPolicy::default().review_for(&folded(&before), "3/notified", day(3) + Duration::hours(1))
        else {
            panic!("the third notice opens a review");
        };
        let review = |event: CaseEvent| (event, day(3));
        let state = folded(&[
            before[0].clone(),
            before[1].clone(),
            before[2].clone(),
            before[3].clone(),
            before[4].clone(),
            review(CaseEvent::DiversionReviewOpened(DiversionReviewOpened {
                review_id: first,
                notices: 3,
                core_minutes: 90,
                since: day(1),
            })),
            review(CaseEvent::DiversionReviewSupported(DiversionReviewSupported {
                review_id: first,
                kind: DiversionSupportKind::Call,
            })),
            review(CaseEvent::DiversionReviewClosed(DiversionReviewClosed {
                review_id: first,
                outcome: DiversionReviewOutcome::NoActionNeeded,
                note: None,
            })),
        ]);
        let end = DiversionCommand {
            actor: manager("C82001"),
            occurred_at: day(3) + Duration::hours(1),
            action: DiversionAction::End {
                diversion_id: Uuid::from_u128(3),
                ended_at: day(3) + Duration::minutes(30),
            },
        };
        let events = decide(&state, "C82001", &end, day(3) + Duration::hours(1)).unwrap_or_default();
        let Some(CaseEvent::DiversionReviewOpened(opened)) = events.get(1) else {
            panic!("still past the threshold after the review closed: {events:?}");
        };
        assert_ne!(opened.review_id, first);
        // The notice and the end of one diversion name different reviews.
        let policy = ReviewPolicy::default();
        let by_end = policy.review_for(&state, "3/ended", day(4));
        let by_notice = policy.review_for(&state, "3/notified", day(4));
        assert_ne!(by_end, by_notice);
    }
}
