//! Given these events, when this command, then these events or this error: every command's
//! allowed path and each of its refusals.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_cases::case::*;
use caseledger_cases::practice::PracticeDetails;
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_cases::{Actor, Role};
use chrono::{DateTime, Duration, TimeZone, Utc};

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

fn text(s: &str) -> FreeText {
    FreeText::parse(s).unwrap()
}
fn short(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}
fn slots(n: i64) -> SlotCount {
    SlotCount::new(n).unwrap()
}

fn flag() -> Action {
    Action::FlagPractice {
        practice: PracticeDetails {
            ods_code: OdsCode::parse("Z00012").unwrap(),
            name: short("Mill Health Centre"),
            pcn_code: PcnCode::parse("U10001").unwrap(),
            pcn_name: None,
            place: short("Coventry"),
        },
        list_size: ListSize::new(9_027).unwrap(),
        visible_slots: slots(0),
        source: FlagSource {
            kind: FlagSourceKind::Manual,
            report_date: None,
        },
        reason: None,
    }
}

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
fn dhu_confirm(n: i64) -> Action {
    Action::ConfirmDhuVisibility {
        visible_slots_per_day: slots(n),
    }
}
fn comply(n: i64) -> Action {
    Action::ConfirmCompliance {
        visible_slots_per_day: slots(n),
        evidence: Evidence::DhuConfirmation,
    }
}
fn note() -> Action {
    Action::AddNote { text: text("a note") }
}

/// Applies each (actor, action) in turn through decide and evolve, as the service would.
fn given(steps: &[(Actor, Action)]) -> Case {
    let mut case = Case::default();
    for (i, (actor, action)) in steps.iter().enumerate() {
        let occurred_at = t(5, 0) + Duration::hours(i as i64);
        let command = Command {
            actor: actor.clone(),
            occurred_at,
            action: action.clone(),
        };
        for event in decide(&case, &command, now()).unwrap() {
            case = evolve(
                case,
                &EventEnvelope {
                    event,
                    occurred_at,
                    actor: actor.clone(),
                },
            );
        }
    }
    case
}

fn when(case: &Case, actor: Actor, action: Action) -> Result<Vec<CaseEvent>, CaseError> {
    decide(
        case,
        &Command {
            actor,
            occurred_at: t(20, 0),
            action,
        },
        now(),
    )
}

fn then_status(case: Case, actor: Actor, action: Action) -> Option<CaseStatus> {
    let occurred_at = t(20, 0);
    let events = decide(
        &case,
        &Command {
            actor: actor.clone(),
            occurred_at,
            action,
        },
        now(),
    )
    .unwrap();
    events
        .into_iter()
        .fold(case, |c, event| {
            evolve(
                c,
                &EventEnvelope {
                    event,
                    occurred_at,
                    actor: actor.clone(),
                },
            )
        })
        .status
}

fn flagged() -> Case {
    given(&[(icb(), flag())])
}
fn compliant() -> Case {
    given(&[
        (icb(), flag()),
        (amira(), remap()),
        (dhu(), dhu_confirm(3)),
        (icb(), comply(3)),
    ])
}
fn closed() -> Case {
    given(&[
        (icb(), flag()),
        (
            icb(),
            Action::CloseCase {
                reason: CloseReason::Withdrawn,
            },
        ),
    ])
}

fn forbidden(result: Result<Vec<CaseEvent>, CaseError>) -> bool {
    matches!(result, Err(CaseError::Forbidden { .. }))
}
fn invalid(result: Result<Vec<CaseEvent>, CaseError>) -> bool {
    matches!(result, Err(CaseError::InvalidTransition { .. }))
}

#[test]
fn flag_practice_opens_a_flagged_case_with_its_requirement() {
    let events = when(&Case::default(), icb(), flag()).unwrap();
    let CaseEvent::PracticeFlagged(flagged) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(flagged.required_slots, 3, "9,027 patients need 3 slots");
    assert_eq!(then_status(Case::default(), icb(), flag()), Some(CaseStatus::Flagged));
}

#[test]
fn flag_practice_is_refused_to_other_roles_on_an_existing_case_and_in_the_future() {
    for who in [amira(), dhu(), lmc()] {
        assert!(forbidden(when(&Case::default(), who, flag())));
    }
    assert_eq!(when(&flagged(), icb(), flag()), Err(CaseError::CaseAlreadyExists));
    let future = Command {
        actor: icb(),
        occurred_at: now() + Duration::minutes(1),
        action: flag(),
    };
    assert!(matches!(
        decide(&Case::default(), &future, now()),
        Err(CaseError::OccurredInFuture { .. })
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
    let events = when(&flagged(), amira(), me.clone()).unwrap();
    assert_eq!(
        events,
        vec![CaseEvent::CaseAssigned(CaseAssigned {
            champion_id: short("dc-amira")
        })]
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
    let held_by_amira = given(&[(icb(), flag()), (amira(), take("dc-amira"))]);
    assert_eq!(
        when(&held_by_amira, ben.clone(), take("dc-ben")),
        Err(CaseError::HeldByAnotherChampion {
            champion_id: "dc-amira".into()
        }),
        "the refusal names who holds the case"
    );
    assert!(
        when(&held_by_amira, amira(), take("dc-amira")).is_ok(),
        "taking your own case again"
    );
    let moved = when(&held_by_amira, icb(), take("dc-ben")).unwrap();
    assert_eq!(
        moved,
        vec![CaseEvent::CaseAssigned(CaseAssigned {
            champion_id: short("dc-ben")
        })]
    );
}

#[test]
fn record_contact_moves_a_flagged_case_to_contacted() {
    assert_eq!(then_status(flagged(), amira(), contact()), Some(CaseStatus::Contacted));
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
        then_status(flagged(), amira(), guide.clone()),
        Some(CaseStatus::Flagged)
    );
    assert!(when(&flagged(), amira(), cause.clone()).is_ok());
    assert!(forbidden(when(&flagged(), dhu(), guide)));
    assert!(forbidden(when(&flagged(), icb(), cause.clone())));
    assert!(invalid(when(&compliant(), amira(), cause)));
    let case = given(&[
        (icb(), flag()),
        (
            amira(),
            Action::RecordRootCause {
                cause: RootCause::WrongSlotOwner,
                detail: None,
            },
        ),
        (
            amira(),
            Action::RecordRootCause {
                cause: RootCause::WrongSlotOwner,
                detail: None,
            },
        ),
    ]);
    assert_eq!(case.root_causes, vec![RootCause::WrongSlotOwner]);
}

#[test]
fn record_remap_and_gp_connect_move_an_early_case_to_remapped() {
    assert_eq!(then_status(flagged(), amira(), remap()), Some(CaseStatus::Remapped));
    let reenabled = Action::RecordGpConnectReEnabled {
        reference: Some(short("GPC-010013")),
    };
    assert_eq!(
        then_status(
            given(&[(icb(), flag()), (amira(), contact())]),
            amira(),
            reenabled.clone()
        ),
        Some(CaseStatus::Remapped)
    );
    let empty = Action::RecordRemap {
        changes: vec![],
        slots_per_day_configured: slots(1),
    };
    assert!(matches!(
        when(&flagged(), amira(), empty),
        Err(CaseError::InvalidValue { field: "changes", .. })
    ));
    assert!(forbidden(when(&flagged(), dhu(), remap())));
    assert!(forbidden(when(&flagged(), icb(), reenabled)));
    assert!(invalid(when(&compliant(), amira(), remap())));
}

#[test]
fn dhu_confirmation_and_issues() {
    let remapped = given(&[(icb(), flag()), (amira(), remap())]);
    assert_eq!(
        then_status(remapped.clone(), dhu(), dhu_confirm(3)),
        Some(CaseStatus::DhuConfirmed)
    );
    assert!(forbidden(when(&remapped, amira(), dhu_confirm(3))));

    let issue = Action::ReportDhuVisibilityIssue {
        issue: short("slots not visible"),
        detail: Some(text("0 of 3 seen")),
    };
    let with_issue = given(&[(icb(), flag()), (amira(), remap()), (dhu(), issue.clone())]);
    assert_eq!(
        with_issue.status,
        Some(CaseStatus::Remapped),
        "an issue leaves the case REMAPPED"
    );
    assert!(with_issue.open_dhu_issue);
    let fixed = given(&[
        (icb(), flag()),
        (amira(), remap()),
        (dhu(), issue.clone()),
        (amira(), remap()),
    ]);
    assert!(!fixed.open_dhu_issue, "the next remap clears the issue");
    assert!(forbidden(when(&remapped, icb(), issue.clone())));
    assert!(invalid(when(&compliant(), dhu(), issue)));
}

#[test]
fn confirm_compliance_needs_visible_at_least_required() {
    let confirmed = given(&[(icb(), flag()), (amira(), remap()), (dhu(), dhu_confirm(3))]);
    assert_eq!(
        then_status(confirmed.clone(), icb(), comply(3)),
        Some(CaseStatus::Compliant)
    );
    assert_eq!(
        when(&confirmed, icb(), comply(2)),
        Err(CaseError::NotCompliant {
            visible: 2,
            required: 3
        })
    );
    assert!(forbidden(when(&confirmed, dhu(), comply(3))));
    assert!(invalid(when(&compliant(), icb(), comply(3))));
}

#[test]
fn close_case_from_open_or_compliant_and_as_compliant_only_when_compliant() {
    let as_compliant = Action::CloseCase {
        reason: CloseReason::Compliant,
    };
    assert_eq!(
        then_status(compliant(), icb(), as_compliant.clone()),
        Some(CaseStatus::Closed)
    );
    assert!(invalid(when(&flagged(), icb(), as_compliant)));
    let withdrawn = Action::CloseCase {
        reason: CloseReason::Withdrawn,
    };
    assert_eq!(
        then_status(flagged(), icb(), withdrawn.clone()),
        Some(CaseStatus::Closed)
    );
    assert!(invalid(when(&closed(), icb(), withdrawn.clone())));
    assert!(forbidden(when(&flagged(), amira(), withdrawn)));
}

#[test]
fn reopen_case_only_from_compliant_or_closed() {
    let reopen = Action::ReopenCase {
        reason: text("regression"),
        visible_slots: Some(slots(0)),
    };
    assert_eq!(
        then_status(compliant(), icb(), reopen.clone()),
        Some(CaseStatus::Flagged)
    );
    assert_eq!(then_status(closed(), icb(), reopen.clone()), Some(CaseStatus::Flagged));
    assert!(invalid(when(&flagged(), icb(), reopen.clone())));
    assert!(forbidden(when(&compliant(), amira(), reopen)));
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
fn escalation_to_contract_review_is_the_icbs_on_an_open_case() {
    let escalate = Action::EscalateToContractReview {
        reason: text("no engagement after 6 weeks"),
    };
    assert!(matches!(
        when(&flagged(), icb(), escalate.clone()).unwrap()[..],
        [CaseEvent::EscalatedToContractReview(_)]
    ));
    assert!(forbidden(when(&flagged(), amira(), escalate.clone())));
    assert!(invalid(when(&compliant(), icb(), escalate)));
}

#[test]
fn the_lmc_may_issue_no_command() {
    let case = flagged();
    for action in [
        contact(),
        remap(),
        dhu_confirm(3),
        comply(3),
        note(),
        Action::CloseCase {
            reason: CloseReason::Withdrawn,
        },
    ] {
        assert!(forbidden(when(&case, lmc(), action)));
    }
}

#[test]
fn a_compliant_case_accepts_only_reopen_close_and_notes() {
    let case = compliant();
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
        assert!(invalid(when(&case, who, action)));
    }
}

#[test]
fn business_time_may_not_precede_the_case() {
    let before = Command {
        actor: amira(),
        occurred_at: t(4, 0),
        action: contact(),
    };
    assert!(matches!(
        decide(&flagged(), &before, now()),
        Err(CaseError::OccurredBeforeOpened { .. })
    ));
}

#[test]
fn the_whole_path_from_flag_to_closed_and_back() {
    let case = given(&[
        (icb(), flag()),
        (
            amira(),
            Action::AssignCase {
                champion_id: short("dc-amira"),
            },
        ),
        (amira(), contact()),
        (amira(), remap()),
        (dhu(), dhu_confirm(3)),
        (icb(), comply(3)),
    ]);
    assert_eq!(case.status, Some(CaseStatus::Compliant));
    assert_eq!(case.revision(), Some(5));
    assert_eq!(case.assigned_to.as_ref().map(|a| a.as_str()), Some("dc-amira"));
    assert!(case.compliant_at.is_some());
    let reopened = given(&[
        (icb(), flag()),
        (amira(), remap()),
        (dhu(), dhu_confirm(3)),
        (icb(), comply(3)),
        (
            icb(),
            Action::ReopenCase {
                reason: text("regression"),
                visible_slots: Some(slots(1)),
            },
        ),
    ]);
    assert_eq!(reopened.status, Some(CaseStatus::Flagged));
    assert_eq!(reopened.compliant_at, None);
    assert_eq!(reopened.visible_slots, Some(1));
}
