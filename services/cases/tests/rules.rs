//! Given these events, when this command, then these events or this error: every command's
//! allowed path and each of its refusals, and the bookkeeping an ICB signs off on (DHU
//! shortfalls, the requirement following the list size, episodes, evidence). Each case is seeded
//! with events, so one rule's test does not lean on another's command.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_cases::case::*;
use caseledger_cases::practice::{PracticeDetails, SlotVerification, SlotsObserved, VerificationVerdict};
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_cases::{Actor, Role};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    t(31, 0)
}

fn actor(role: Role, id: &str) -> Actor {
    Actor::new(ShortText::parse(id).unwrap(), role)
}

fn icb() -> Actor {
    actor(Role::Icb, "icb-assurance-1")
}
fn amira() -> Actor {
    actor(Role::Champion, "dc-amira")
}
fn dhu() -> Actor {
    actor(Role::Dhu, "dhu-liaison-1")
}
fn lmc() -> Actor {
    actor(Role::Lmc, "lmc-officer-1")
}
fn admin() -> Actor {
    actor(Role::Admin, "ops-1")
}

fn text(s: &str) -> FreeText {
    FreeText::parse(s).unwrap()
}
fn short(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}
fn slots(n: i64) -> SlotCount {
    SlotCount::new(n).unwrap()
}
fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

fn practice() -> PracticeDetails {
    PracticeDetails {
        ods_code: OdsCode::parse("Z00012").unwrap(),
        name: short("Mill Health Centre"),
        pcn_code: PcnCode::parse("U10001").unwrap(),
        pcn_name: None,
        place: short("Coventry"),
    }
}

// Events, as the store holds them.

/// 9,027 patients: 3 slots a day required.
fn flagged_event() -> CaseEvent {
    CaseEvent::PracticeFlagged(PracticeFlagged {
        practice: practice(),
        list_size: ListSize::new(9_027).unwrap(),
        required_slots: 3,
        visible_slots: slots(0),
        source: FlagSource {
            kind: FlagSourceKind::Manual,
            report_date: None,
            report_id: None,
        },
        reason: None,
    })
}
fn assigned(id: &str) -> CaseEvent {
    CaseEvent::CaseAssigned(CaseAssigned { champion_id: short(id) })
}
fn contacted() -> CaseEvent {
    CaseEvent::PracticeContacted(PracticeContacted {
        channel: ContactChannel::Phone,
        contact_name: Some(short("Practice Manager 1")),
        summary: text("Called"),
    })
}
fn remapped() -> CaseEvent {
    CaseEvent::SlotsRemapped(SlotsRemapped {
        changes: vec![RemapChange::MapProviderCode],
        slots_per_day_configured: slots(3),
    })
}
fn reenabled() -> CaseEvent {
    CaseEvent::GpConnectReEnabled(GpConnectReEnabled { reference: None })
}
fn dhu_saw(visible: i64, required: u32) -> CaseEvent {
    CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
        visible_slots_per_day: slots(visible),
        required_slots: Some(required),
    })
}
fn dhu_issue() -> CaseEvent {
    CaseEvent::DhuVisibilityIssueReported(DhuVisibilityIssueReported {
        category: Some(RootCause::SlotTypeNotExternal),
        issue: None,
        detail: None,
    })
}
fn complied(visible: i64) -> CaseEvent {
    CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
        visible_slots_per_day: slots(visible),
        evidence: Evidence::DhuConfirmation,
        required_slots: Some(3),
    })
}
fn closed_as(reason: CloseReason) -> CaseEvent {
    CaseEvent::CaseClosed(CaseClosed { reason })
}
fn reopened(cause: ReopenCause) -> CaseEvent {
    CaseEvent::CaseReopened(CaseReopened {
        reason: text("again"),
        visible_slots: Some(slots(1)),
        cause: Some(cause),
        list_size: None,
        required_slots: None,
    })
}
fn escalated() -> CaseEvent {
    CaseEvent::EscalatedToContractReview(EscalatedToContractReview {
        reason: text("no engagement"),
    })
}
/// The practice's dashboard row of `report_date`.
fn observed(report_date: NaiveDate, visible: i64, list_size: i64) -> CaseEvent {
    let list_size = ListSize::new(list_size).unwrap();
    CaseEvent::SlotsObserved(SlotsObserved {
        report_date,
        visible_slots: slots(visible),
        list_size,
        required_slots: caseledger_cases::required_slots(list_size),
        practice: practice(),
    })
}

// Commands.

fn contact() -> Action {
    Action::RecordContact {
        channel: ContactChannel::Phone,
        contact_name: Some(short("Practice Manager 1")),
        summary: text("Called"),
    }
}
fn remap() -> Action {
    Action::RecordRemap {
        changes: vec![RemapChange::MapProviderCode],
        slots_per_day_configured: slots(3),
    }
}
fn gp_connect() -> Action {
    Action::RecordGpConnectReEnabled {
        reference: Some(short("GPC-010013")),
    }
}
fn dhu_confirm(n: i64) -> Action {
    Action::ConfirmDhuVisibility {
        visible_slots_per_day: slots(n),
    }
}
fn comply_on(n: i64, evidence: Evidence) -> Action {
    Action::ConfirmCompliance {
        visible_slots_per_day: slots(n),
        evidence,
    }
}
fn comply(n: i64) -> Action {
    comply_on(n, Evidence::DhuConfirmation)
}
fn note() -> Action {
    Action::AddNote { text: text("a note") }
}
fn reopen() -> Action {
    Action::ReopenCase {
        reason: text("asked by the LMC"),
        visible_slots: None,
        cause: ReopenCause::Manual,
        list_size: None,
    }
}
fn escalate() -> Action {
    Action::EscalateToContractReview {
        reason: text("no engagement after 6 weeks"),
    }
}
fn conclude() -> Action {
    Action::ConcludeContractReview {
        outcome: ReviewOutcome::RemedialNotice,
        note: Some(text("notice served")),
    }
}

/// The case the events make: each by its actor, an hour apart from 5 Jan 00:00.
fn given(events: &[(Actor, CaseEvent)]) -> Case {
    given_at(
        &events
            .iter()
            .enumerate()
            .map(|(i, (who, event))| (who.clone(), t(5, 0) + Duration::hours(i as i64), event.clone()))
            .collect::<Vec<_>>(),
    )
}

/// The case the events make, each at its own business time.
fn given_at(events: &[(Actor, DateTime<Utc>, CaseEvent)]) -> Case {
    events.iter().fold(Case::default(), |case, (actor, at, event)| {
        evolve(
            case,
            &EventEnvelope {
                event: event.clone(),
                occurred_at: *at,
                actor: actor.clone(),
            },
        )
    })
}

fn when_at(case: &Case, actor: Actor, at: DateTime<Utc>, action: Action) -> Result<Vec<CaseEvent>, CaseError> {
    decide(
        case,
        &Command {
            actor,
            occurred_at: at,
            action,
        },
        now(),
    )
}

fn when(case: &Case, actor: Actor, action: Action) -> Result<Vec<CaseEvent>, CaseError> {
    when_at(case, actor, t(20, 0), action)
}

/// The case after `action`, applied at 20 Jan.
fn then(case: Case, actor: Actor, action: Action) -> Case {
    let events = when(&case, actor.clone(), action).unwrap();
    events.into_iter().fold(case, |case, event| {
        evolve(
            case,
            &EventEnvelope {
                event,
                occurred_at: t(20, 0),
                actor: actor.clone(),
            },
        )
    })
}

/// Flagged, and assigned to Amira (a champion works the cases they hold).
fn flagged() -> Case {
    given(&[(icb(), flagged_event()), (icb(), assigned("dc-amira"))])
}
fn remapped_case() -> Case {
    given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), remapped()),
    ])
}
fn dhu_confirmed() -> Case {
    given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), remapped()),
        (dhu(), dhu_saw(3, 3)),
    ])
}
fn compliant() -> Case {
    given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), remapped()),
        (dhu(), dhu_saw(3, 3)),
        (icb(), complied(3)),
    ])
}
fn closed() -> Case {
    given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (icb(), closed_as(CloseReason::Withdrawn)),
    ])
}

fn forbidden(result: Result<Vec<CaseEvent>, CaseError>) -> bool {
    matches!(result, Err(CaseError::Forbidden { .. }))
}
fn invalid(result: Result<Vec<CaseEvent>, CaseError>) -> bool {
    matches!(result, Err(CaseError::InvalidTransition { .. }))
}

// Who may do what, where.

#[test]
fn flag_practice_opens_a_flagged_case_with_its_requirement() {
    let flag = Action::FlagPractice {
        practice: practice(),
        list_size: ListSize::new(9_027).unwrap(),
        visible_slots: slots(0),
        source: FlagSource {
            kind: FlagSourceKind::Manual,
            report_date: None,
            report_id: None,
        },
        reason: None,
    };
    let events = when(&Case::default(), icb(), flag.clone()).unwrap();
    let [CaseEvent::PracticeFlagged(flagged_now)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(flagged_now.required_slots, 3, "9,027 patients need 3 slots");
    assert!(
        when(&Case::default(), admin(), flag.clone()).is_ok(),
        "admins import, so admins flag"
    );
    for who in [amira(), dhu(), lmc()] {
        assert!(forbidden(when(&Case::default(), who, flag.clone())));
    }
    assert_eq!(when(&flagged(), icb(), flag.clone()), Err(CaseError::CaseAlreadyExists));
    assert!(matches!(
        when_at(&Case::default(), icb(), now() + Duration::minutes(1), flag.clone()),
        Err(CaseError::OccurredInFuture { .. })
    ));
    let long_ago = Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap();
    assert!(matches!(
        when_at(&Case::default(), icb(), long_ago, flag),
        Err(CaseError::OccurredTooEarly { .. })
    ));
}

#[test]
fn commands_on_a_case_that_does_not_exist_are_not_found() {
    assert_eq!(when(&Case::default(), amira(), contact()), Err(CaseError::CaseNotFound));
}

#[test]
fn assign_case_champion_self_or_icb_anyone() {
    let me = Action::AssignCase {
        champion_id: short("dc-amira"),
    };
    let other = Action::AssignCase {
        champion_id: short("dc-ben"),
    };
    assert_eq!(
        when(&flagged(), amira(), me.clone()).unwrap(),
        vec![assigned("dc-amira")]
    );
    assert!(when(&flagged(), icb(), other.clone()).is_ok());
    assert!(matches!(
        when(&flagged(), amira(), other),
        Err(CaseError::AssignOnlySelf { .. })
    ));
    assert!(forbidden(when(&flagged(), dhu(), me.clone())));
    assert!(invalid(when(&compliant(), amira(), me)));
}

#[test]
fn a_champion_takes_only_an_unassigned_case_and_only_the_icb_reassigns_a_held_one() {
    let ben = actor(Role::Champion, "dc-ben");
    let take = |id: &str| Action::AssignCase { champion_id: short(id) };
    let held_by_amira = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), assigned("dc-amira")),
    ]);
    assert_eq!(
        when(&held_by_amira, ben.clone(), take("dc-ben")),
        Err(CaseError::HeldByAnotherChampion),
        "refused, without naming the colleague who holds it"
    );
    for action in [contact(), remap(), gp_connect(), note()] {
        assert_eq!(
            when(&held_by_amira, ben.clone(), action),
            Err(CaseError::NotYourCase),
            "a champion works only the cases they hold"
        );
    }
    let unassigned = given(&[(icb(), flagged_event())]);
    assert_eq!(
        when(&unassigned, ben.clone(), contact()),
        Err(CaseError::NotYourCase),
        "take it first"
    );
    assert!(when(&unassigned, ben, take("dc-ben")).is_ok());
    assert!(
        when(&held_by_amira, amira(), take("dc-amira")).is_ok(),
        "taking your own case again"
    );
    assert_eq!(
        when(&held_by_amira, icb(), take("dc-ben")).unwrap(),
        vec![assigned("dc-ben")]
    );
}

#[test]
fn record_contact_moves_a_flagged_case_to_contacted() {
    assert_eq!(then(flagged(), amira(), contact()).status, Some(CaseStatus::Contacted));
    assert!(forbidden(when(&flagged(), icb(), contact())));
    assert!(forbidden(when(&flagged(), lmc(), contact())));
    assert!(invalid(when(&closed(), amira(), contact())));
}

#[test]
fn share_guidance_and_root_causes_are_the_champions() {
    let guide = Action::ShareGuidance {
        guide: short("111-slots-how-to"),
        version: Some(short("1.0")),
    };
    let cause = Action::RecordRootCause {
        cause: RootCause::ProviderCodeUnmapped,
        detail: None,
    };
    assert_eq!(
        then(flagged(), amira(), guide.clone()).status,
        Some(CaseStatus::Flagged)
    );
    assert!(when(&flagged(), amira(), cause.clone()).is_ok());
    assert!(forbidden(when(&flagged(), dhu(), guide)));
    assert!(forbidden(when(&flagged(), icb(), cause.clone())));
    assert!(invalid(when(&compliant(), amira(), cause)));
    let identified = CaseEvent::RootCauseIdentified(RootCauseIdentified {
        cause: RootCause::WrongSlotOwner,
        detail: None,
    });
    let case = given(&[
        (icb(), flagged_event()),
        (amira(), identified.clone()),
        (amira(), identified),
    ]);
    assert_eq!(case.root_causes, vec![RootCause::WrongSlotOwner]);
}

#[test]
fn record_remap_and_gp_connect_move_an_early_case_to_remapped() {
    assert_eq!(then(flagged(), amira(), remap()).status, Some(CaseStatus::Remapped));
    let contacted_case = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), contacted()),
    ]);
    assert_eq!(
        then(contacted_case, amira(), gp_connect()).status,
        Some(CaseStatus::Remapped)
    );
    let reenabled_case = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), reenabled()),
    ]);
    assert_eq!(reenabled_case.status, Some(CaseStatus::Remapped));
    assert!(reenabled_case.last_remap_at.is_some());
    let empty = Action::RecordRemap {
        changes: vec![],
        slots_per_day_configured: slots(1),
    };
    assert!(matches!(
        when(&flagged(), amira(), empty),
        Err(CaseError::InvalidValue { field: "changes", .. })
    ));
    assert!(forbidden(when(&flagged(), dhu(), remap())));
    assert!(forbidden(when(&flagged(), icb(), gp_connect())));
    assert!(invalid(when(&compliant(), amira(), remap())));
}

#[test]
fn dhu_confirmation_and_issues() {
    assert_eq!(
        then(remapped_case(), dhu(), dhu_confirm(3)).status,
        Some(CaseStatus::DhuConfirmed)
    );
    assert!(forbidden(when(&remapped_case(), amira(), dhu_confirm(3))));
    let issue = Action::ReportDhuVisibilityIssue {
        category: Some(RootCause::SlotTypeNotExternal),
        issue: None,
        detail: Some(text("0 of 3 seen")),
    };
    let with_issue = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), remapped()),
        (dhu(), dhu_issue()),
    ]);
    assert_eq!(
        with_issue.status,
        Some(CaseStatus::Remapped),
        "an issue leaves the case REMAPPED"
    );
    assert!(with_issue.open_dhu_issue);
    let fixed = given(&[
        (icb(), flagged_event()),
        (amira(), remapped()),
        (dhu(), dhu_issue()),
        (amira(), remapped()),
    ]);
    assert!(!fixed.open_dhu_issue, "the next remap clears the issue");
    assert!(forbidden(when(&remapped_case(), icb(), issue.clone())));
    assert!(invalid(when(&compliant(), dhu(), issue.clone())));
    let [CaseEvent::DhuVisibilityIssueReported(reported)] = &when(&remapped_case(), dhu(), issue).unwrap()[..] else {
        panic!()
    };
    assert_eq!(reported.category, Some(RootCause::SlotTypeNotExternal));
}

#[test]
fn a_dhu_problem_after_its_confirmation_stops_compliance_on_its_word_until_answered() {
    let raised = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), remapped()),
        (dhu(), dhu_saw(3, 3)),
        (dhu(), dhu_issue()),
    ]);
    assert!(raised.open_dhu_issue);
    let refused = when(&raised, icb(), comply(3));
    assert!(
        matches!(&refused, Err(CaseError::MissingEvidence(why)) if why.contains("visibility problem")),
        "{refused:?}"
    );
    // The DHU confirming again answers it, as does a remap that the DHU then confirms.
    let again = then(raised.clone(), dhu(), dhu_confirm(3));
    assert!(when(&again, icb(), comply(3)).is_ok());
    let remapped_again = then(raised.clone(), amira(), remap());
    assert!(!remapped_again.open_dhu_issue);
    let confirmed = then(remapped_again, dhu(), dhu_confirm(3));
    assert!(when(&confirmed, icb(), comply(3)).is_ok());
    // A confirmation dated before the problem was raised still stands on the DHU's word then.
    assert!(when_at(&raised, icb(), t(5, 3) + Duration::minutes(30), comply(3)).is_ok());
}

#[test]
fn first_support_is_the_current_episodes() {
    let worked = given(&[
        (icb(), flagged_event()),
        (icb(), assigned("dc-amira")),
        (amira(), contacted()),
        (amira(), remapped()),
    ]);
    assert_eq!(worked.first_support_at, Some(t(5, 2)), "the contact, not the remap");
    assert_eq!(
        then(flagged(), icb(), note()).first_support_at,
        None,
        "a note is not support"
    );
    let reopened = then(then(compliant(), icb(), reopen()), icb(), note());
    assert_eq!(
        reopened.first_support_at, None,
        "a reopened case's support starts again"
    );
}

#[test]
fn the_dhu_may_confirm_a_case_nobody_contacted_or_remapped() {
    let seen = then(flagged(), dhu(), dhu_confirm(3));
    assert_eq!(seen.status, Some(CaseStatus::DhuConfirmed));
    assert_eq!(seen.last_remap_at, None, "no remap came first");
    assert!(when(&seen, icb(), comply(3)).is_ok());
    let short = then(flagged(), dhu(), dhu_confirm(1));
    assert_eq!(short.status, Some(CaseStatus::Flagged), "a shortfall moves nothing on");
    assert!(short.shortfall().is_some());
}

#[test]
fn close_case_from_open_or_compliant_and_as_compliant_only_when_compliant() {
    let as_compliant = Action::CloseCase {
        reason: CloseReason::Compliant,
    };
    assert_eq!(
        then(compliant(), icb(), as_compliant.clone()).status,
        Some(CaseStatus::Closed)
    );
    assert!(invalid(when(&flagged(), icb(), as_compliant)));
    let withdrawn = Action::CloseCase {
        reason: CloseReason::Withdrawn,
    };
    assert_eq!(
        then(flagged(), icb(), withdrawn.clone()).status,
        Some(CaseStatus::Closed)
    );
    assert!(invalid(when(&closed(), icb(), withdrawn.clone())));
    assert!(forbidden(when(&flagged(), amira(), withdrawn)));
}

#[test]
fn reopen_case_only_from_compliant_or_closed_by_the_icb_or_an_admin() {
    assert_eq!(then(compliant(), icb(), reopen()).status, Some(CaseStatus::Flagged));
    assert_eq!(then(closed(), admin(), reopen()).status, Some(CaseStatus::Flagged));
    assert!(invalid(when(&flagged(), icb(), reopen())));
    assert!(forbidden(when(&compliant(), amira(), reopen())));
    assert_eq!(
        then(compliant(), icb(), reopen()).reopen_cause,
        Some(ReopenCause::Manual)
    );
}

#[test]
fn notes_from_champions_and_the_icb_on_any_case() {
    for case in [flagged(), compliant(), closed()] {
        assert!(when(&case, amira(), note()).is_ok());
        assert!(when(&case, icb(), note()).is_ok());
        assert!(forbidden(when(&case, dhu(), note())));
        assert!(forbidden(when(&case, lmc(), note())));
    }
}

#[test]
fn the_lmc_may_issue_no_command() {
    for action in [
        contact(),
        remap(),
        dhu_confirm(3),
        comply(3),
        note(),
        escalate(),
        Action::CloseCase {
            reason: CloseReason::Withdrawn,
        },
    ] {
        assert!(forbidden(when(&flagged(), lmc(), action)));
    }
}

#[test]
fn a_compliant_case_accepts_only_reopen_close_notes_and_a_review_conclusion() {
    for action in [
        contact(),
        remap(),
        dhu_confirm(3),
        Action::AssignCase {
            champion_id: short("dc-amira"),
        },
    ] {
        let who = match action {
            Action::ConfirmDhuVisibility { .. } => dhu(),
            _ => amira(),
        };
        assert!(invalid(when(&compliant(), who, action)));
    }
}

#[test]
fn every_action_is_in_the_catalogue_with_the_roles_decide_enforces() {
    let every = [
        contact(),
        remap(),
        gp_connect(),
        dhu_confirm(1),
        comply(3),
        note(),
        reopen(),
        escalate(),
        conclude(),
        Action::AssignCase {
            champion_id: short("dc-amira"),
        },
        Action::CloseCase {
            reason: CloseReason::Withdrawn,
        },
    ];
    for action in every {
        let rule = command_rule(action.name()).unwrap_or_else(|| panic!("{} has no rule", action.name()));
        assert_eq!(action.rule(), rule);
        for who in [icb(), amira(), dhu(), lmc(), admin()] {
            let refused_for_role = forbidden(when(&compliant(), who.clone(), action.clone()));
            assert_eq!(
                refused_for_role,
                !rule.permits(who.role),
                "{} by {}",
                action.name(),
                who.role
            );
        }
    }
}

// Episodes and business time.

#[test]
fn business_time_may_not_precede_the_current_episode() {
    assert!(matches!(
        when_at(&flagged(), amira(), t(4, 0), contact()),
        Err(CaseError::OccurredBeforeOpened { .. })
    ));
    // Reopened on 15 Jan: an action dated 10 Jan belongs to the episode that ended.
    let reopened_case = given_at(&[
        (icb(), t(2, 0), flagged_event()),
        (icb(), t(2, 0), assigned("dc-amira")),
        (amira(), t(3, 0), remapped()),
        (dhu(), t(4, 0), dhu_saw(3, 3)),
        (icb(), t(6, 0), complied(3)),
        (icb(), t(15, 0), reopened(ReopenCause::VisibilityDrop)),
    ]);
    let backdated = when_at(&reopened_case, amira(), t(10, 0), contact());
    assert_eq!(
        backdated,
        Err(CaseError::OccurredBeforeOpened {
            occurred_at: t(10, 0),
            opened_at: t(15, 0)
        })
    );
    assert!(when_at(&reopened_case, amira(), t(16, 0), contact()).is_ok());
    // A reopen is never before what it reopens.
    assert!(matches!(
        when_at(&compliant(), icb(), t(5, 1), reopen()),
        Err(CaseError::OccurredBeforeOpened { .. })
    ));
}

// Rule 1: a DHU confirmation below the requirement is not a confirmation.

#[test]
fn a_dhu_confirmation_below_the_requirement_is_a_shortfall_not_a_confirmation() {
    let events = when(&remapped_case(), dhu(), dhu_confirm(1)).unwrap();
    assert_eq!(
        events,
        vec![dhu_saw(1, 3)],
        "the count and the requirement it was judged against"
    );
    let short = then(remapped_case(), dhu(), dhu_confirm(1));
    assert_eq!(short.status, Some(CaseStatus::Remapped), "still REMAPPED");
    let shortfall = short.shortfall().unwrap();
    assert_eq!((shortfall.visible, shortfall.required), (1, 3), "DHU sees 1 of 3");
    assert_eq!(short.dhu_confirmed_at, None);
    assert_eq!(
        when(&short, icb(), comply(3)),
        Err(CaseError::DhuShortfall {
            visible: 1,
            required: 3
        }),
        "the ICB may not confirm compliance on a shortfall"
    );
    // The next remap puts it back in front of the DHU, with the shortfall answered.
    let again = then(short, amira(), remap());
    assert_eq!(again.status, Some(CaseStatus::Remapped));
    assert_eq!(again.shortfall(), None);
    assert_eq!(
        then(again, dhu(), dhu_confirm(3)).status,
        Some(CaseStatus::DhuConfirmed)
    );
}

#[test]
fn a_shortfall_after_a_confirmation_takes_the_confirmation_back() {
    let case = then(dhu_confirmed(), dhu(), dhu_confirm(2));
    assert_eq!(case.status, Some(CaseStatus::Remapped));
    assert!(case.shortfall().is_some());
}

// Rule 2: a remap after DHU_CONFIRMED returns the case to REMAPPED.

#[test]
fn a_remap_or_re_enable_after_the_dhu_confirmed_puts_the_case_back_in_front_of_the_dhu() {
    for action in [remap(), gp_connect()] {
        let case = then(dhu_confirmed(), amira(), action);
        assert_eq!(case.status, Some(CaseStatus::Remapped));
        assert_eq!(case.dhu_check, None, "the DHU must look again");
        assert!(matches!(
            when(&case, icb(), comply(3)),
            Err(CaseError::MissingEvidence(_))
        ));
    }
}

// Rule 3: the requirement follows the list size.

#[test]
fn a_confirmation_is_judged_against_the_requirement_in_force_on_its_day() {
    // Flagged at 9,027 (3 a day); the extract of 12 Jan says 12,400 patients: 4 a day.
    let grown = given_at(&[
        (icb(), t(5, 0), flagged_event()),
        (icb(), t(5, 0), assigned("dc-amira")),
        (amira(), t(6, 0), remapped()),
        (icb(), t(12, 0), observed(day(12), 3, 12_400)),
    ]);
    assert_eq!(grown.requirement_at(t(11, 12)), 3);
    assert_eq!(grown.requirement_at(t(12, 12)), 4);
    // The DHU saw 3 on 11 Jan: enough then.
    let before = when_at(&grown, dhu(), t(11, 12), dhu_confirm(3)).unwrap();
    assert_eq!(before, vec![dhu_saw(3, 3)]);
    // 3 on 13 Jan is short of the 4 now required.
    let after = when_at(&grown, dhu(), t(13, 12), dhu_confirm(3)).unwrap();
    assert_eq!(after, vec![dhu_saw(3, 4)]);
    // And compliance on 13 Jan needs 4.
    let seen_four = given_at(&[
        (icb(), t(5, 0), flagged_event()),
        (icb(), t(5, 0), assigned("dc-amira")),
        (amira(), t(6, 0), remapped()),
        (icb(), t(12, 0), observed(day(12), 3, 12_400)),
        (dhu(), t(13, 0), dhu_saw(4, 4)),
    ]);
    assert_eq!(
        when_at(&seen_four, icb(), t(13, 12), comply(3)),
        Err(CaseError::NotCompliant {
            visible: 3,
            required: 4
        })
    );
    assert!(when_at(&seen_four, icb(), t(13, 12), comply(4)).is_ok());
}

#[test]
fn an_import_reopens_with_its_cause_and_the_new_requirement() {
    let action = Action::ReopenCase {
        reason: text("list size rise"),
        visible_slots: Some(slots(3)),
        cause: ReopenCause::ListSizeRise,
        list_size: Some(ListSize::new(12_400).unwrap()),
    };
    let [CaseEvent::CaseReopened(event)] = &when(&compliant(), icb(), action.clone()).unwrap()[..] else {
        panic!()
    };
    assert_eq!(event.cause, Some(ReopenCause::ListSizeRise));
    assert_eq!(event.required_slots, Some(4));
    let case = then(compliant(), icb(), action);
    assert_eq!((case.list_size, case.required_slots), (12_400, 4));
    assert_eq!(case.reopen_cause, Some(ReopenCause::ListSizeRise));
}

// Rule 5: evidence is checked.

#[test]
fn dhu_evidence_needs_a_confirmation_at_or_above_the_requirement_since_the_last_remap() {
    assert!(when(&dhu_confirmed(), icb(), comply(3)).is_ok());
    let Err(CaseError::MissingEvidence(message)) = when(&remapped_case(), icb(), comply(3)) else {
        panic!("no DHU confirmation")
    };
    assert!(
        message.contains("no DHU confirmation at or above the requirement since the last remap"),
        "{message}"
    );
    // A confirmation from before the reopen does not count for the new episode.
    let reopened_case = given(&[
        (icb(), flagged_event()),
        (amira(), remapped()),
        (dhu(), dhu_saw(3, 3)),
        (icb(), complied(3)),
        (icb(), reopened(ReopenCause::VisibilityDrop)),
    ]);
    assert!(matches!(
        when(&reopened_case, icb(), comply(3)),
        Err(CaseError::MissingEvidence(_))
    ));
    // A confirmation dated after the compliance it would support does not count either.
    let late = given_at(&[
        (icb(), t(5, 0), flagged_event()),
        (icb(), t(5, 0), assigned("dc-amira")),
        (amira(), t(6, 0), remapped()),
        (dhu(), t(9, 0), dhu_saw(3, 3)),
    ]);
    assert!(matches!(
        when_at(&late, icb(), t(8, 0), comply(3)),
        Err(CaseError::MissingEvidence(_))
    ));
}

#[test]
fn dashboard_evidence_needs_an_observation_at_or_above_the_requirement_after_the_last_remap() {
    let dashboard = comply_on(3, Evidence::Dashboard);
    let remapped_on_6th = [
        (icb(), t(5, 0), flagged_event()),
        (icb(), t(5, 0), assigned("dc-amira")),
        (amira(), t(6, 10), remapped()),
    ];
    // The 5 Jan extract is from before the remap: not evidence.
    let mut events = remapped_on_6th.to_vec();
    events.push((icb(), t(5, 0), observed(day(5), 3, 9_027)));
    let Err(CaseError::MissingEvidence(message)) = when(&given_at(&events), icb(), dashboard.clone()) else {
        panic!("an observation before the remap is no evidence")
    };
    assert!(
        message.contains("dashboard observation at or above the requirement dated after the last remap"),
        "{message}"
    );
    // The 12 Jan extract shows 2 of 3: not enough.
    events.push((icb(), t(12, 0), observed(day(12), 2, 9_027)));
    assert!(matches!(
        when(&given_at(&events), icb(), dashboard.clone()),
        Err(CaseError::MissingEvidence(_))
    ));
    // The 19 Jan extract shows 3 of 3.
    events.push((icb(), t(19, 0), observed(day(19), 3, 9_027)));
    assert!(when(&given_at(&events), icb(), dashboard.clone()).is_ok());
    // But not for a confirmation dated before that extract.
    assert!(matches!(
        when_at(&given_at(&events), icb(), t(18, 0), dashboard),
        Err(CaseError::MissingEvidence(_))
    ));
}

fn verified(verdict: VerificationVerdict) -> CaseEvent {
    SlotVerification {
        ods_code: OdsCode::parse("Z00011").unwrap(),
        case_id: None,
        window_start: day(19),
        window_end: day(30),
        required_per_day: 3,
        days: Vec::new(),
        min_per_core_day: (verdict != VerificationVerdict::Failed).then_some(3),
        verdict,
        short_days: Vec::new(),
        error_code: None,
        error: (verdict == VerificationVerdict::Failed).then(|| short("connection refused")),
        slots: Vec::new(),
        past_slots: 0,
        notices: Vec::new(),
        provider_system: None,
    }
    .into_event()
}

#[test]
fn gp_connect_evidence_needs_the_latest_verification_after_the_last_remap_to_be_enough() {
    let gp_connect = comply_on(3, Evidence::GpConnectVerification);
    let mut events = vec![
        (icb(), t(5, 0), flagged_event()),
        (icb(), t(5, 0), assigned("dc-amira")),
        (amira(), t(6, 10), remapped()),
    ];
    let Err(CaseError::MissingEvidence(message)) = when(&given_at(&events), icb(), gp_connect.clone()) else {
        panic!("no verification is no evidence")
    };
    assert!(message.contains("no GP Connect verification"), "{message}");
    // ENOUGH before the remap is not evidence of what the remap did.
    events.insert(1, (icb(), t(5, 12), verified(VerificationVerdict::Enough)));
    assert!(matches!(
        when(&given_at(&events), icb(), gp_connect.clone()),
        Err(CaseError::MissingEvidence(_))
    ));
    // After the remap: TOO_FEW is refused, saying so.
    events.push((dhu(), t(8, 9), verified(VerificationVerdict::TooFew)));
    let Err(CaseError::MissingEvidence(message)) = when(&given_at(&events), icb(), gp_connect.clone()) else {
        panic!("too few is no evidence")
    };
    assert!(message.contains("too few free slots"), "{message}");
    // ENOUGH after the remap is evidence...
    events.push((dhu(), t(9, 9), verified(VerificationVerdict::Enough)));
    assert!(when(&given_at(&events), icb(), gp_connect.clone()).is_ok());
    // ...but not for a confirmation dated before it,
    assert!(matches!(
        when_at(&given_at(&events), icb(), t(9, 8), gp_connect.clone()),
        Err(CaseError::MissingEvidence(_))
    ));
    // and not once a later search failed: the latest verification decides.
    events.push((dhu(), t(10, 9), verified(VerificationVerdict::Failed)));
    let Err(CaseError::MissingEvidence(message)) = when(&given_at(&events), icb(), gp_connect.clone()) else {
        panic!("a failed search is no evidence")
    };
    assert!(message.contains("no answer"), "{message}");
    // A later remap needs a new verification.
    events.push((dhu(), t(11, 9), verified(VerificationVerdict::Enough)));
    assert!(when(&given_at(&events), icb(), gp_connect.clone()).is_ok());
    // A list size that rose since: at least 3 a day is no longer enough for 4 required.
    let mut risen = events.clone();
    risen.push((icb(), t(12, 0), observed(day(12), 3, 12_500)));
    let Err(CaseError::MissingEvidence(message)) =
        when(&given_at(&risen), icb(), comply_on(4, Evidence::GpConnectVerification))
    else {
        panic!("a search against the old requirement is no evidence for the new one")
    };
    assert!(message.contains("4 are now required"), "{message}");
    events.push((amira(), t(12, 9), remapped()));
    assert!(matches!(
        when(&given_at(&events), icb(), gp_connect),
        Err(CaseError::MissingEvidence(_))
    ));
}

// Rule 8: contract reviews.

#[test]
fn a_contract_review_is_opened_once_and_concluded_once_by_the_icb() {
    assert!(matches!(
        when(&flagged(), icb(), escalate()).unwrap()[..],
        [CaseEvent::EscalatedToContractReview(_)]
    ));
    assert!(forbidden(when(&flagged(), amira(), escalate())));
    assert!(invalid(when(&compliant(), icb(), escalate())));
    assert_eq!(when(&flagged(), icb(), conclude()), Err(CaseError::NoOpenReview));

    let in_review = given(&[(icb(), flagged_event()), (icb(), escalated())]);
    assert_eq!(in_review.revision(), Some(0), "the review's events are not the case's");
    assert_eq!(when(&in_review, icb(), escalate()), Err(CaseError::ReviewAlreadyOpen));
    assert!(forbidden(when(&in_review, lmc(), conclude())));
    let concluded = then(in_review, icb(), conclude());
    assert!(!concluded.review_open);
    assert_eq!(concluded.reviews, 1);
    assert!(when(&concluded, icb(), escalate()).is_ok(), "a new review may follow");
}

#[test]
fn the_whole_path_from_flag_to_closed_and_back() {
    let case = given(&[
        (icb(), flagged_event()),
        (amira(), assigned("dc-amira")),
        (amira(), contacted()),
        (amira(), remapped()),
        (dhu(), dhu_saw(3, 3)),
        (icb(), complied(3)),
    ]);
    assert_eq!(case.status, Some(CaseStatus::Compliant));
    assert_eq!(case.revision(), Some(5));
    assert_eq!(case.assigned_to.as_ref().map(|a| a.as_str()), Some("dc-amira"));
    assert!(case.compliant_at.is_some());
    let closed_after = then(
        case,
        icb(),
        Action::CloseCase {
            reason: CloseReason::Compliant,
        },
    );
    assert!(
        closed_after.compliant_at.is_some(),
        "the episode reached compliance, closed or not"
    );
    let reopened_case = then(closed_after, icb(), reopen());
    assert_eq!(reopened_case.status, Some(CaseStatus::Flagged));
    assert_eq!(reopened_case.compliant_at, None);
    assert_eq!(reopened_case.last_remap_at, None);
}
