//! Given a practice's stream, when the DHU files a report or the ICB triages one, then these
//! events or this error.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_cases::case::*;
use caseledger_cases::reports::*;
use caseledger_cases::values::{FreeText, ShortText};
use caseledger_cases::{Actor, Role};
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, day, 9, 0, 0).unwrap()
}
fn actor(role: Role, id: &str) -> Actor {
    Actor::new(ShortText::parse(id).unwrap(), role)
}
fn report() -> Uuid {
    Uuid::from_u128(42)
}
fn filed() -> PracticeReports {
    evolve_reports(
        PracticeReports::default(),
        &EventEnvelope {
            event: CaseEvent::DhuReportFiled(DhuReportFiled {
                report_id: report(),
                category: RootCause::ProviderCodeUnmapped,
                detail: None,
            }),
            occurred_at: at(2),
            actor: actor(Role::Dhu, "dhu-liaison-1"),
        },
    )
}
fn when(state: &PracticeReports, who: Actor, day: u32, action: ReportAction) -> Result<Vec<CaseEvent>, CaseError> {
    decide_report(
        state,
        &ReportCommand {
            actor: who,
            occurred_at: at(day),
            action,
        },
        at(20),
    )
}
fn dismiss() -> ReportAction {
    ReportAction::Triage {
        report_id: report(),
        outcome: Triage::Dismissed {
            reason: FreeText::parse("a national outage, over").unwrap(),
        },
    }
}

#[test]
fn only_the_dhu_files_a_report() {
    let file = ReportAction::File {
        report_id: report(),
        category: RootCause::SlotTypeNotExternal,
        detail: None,
    };
    assert!(when(&PracticeReports::default(), actor(Role::Dhu, "dhu-1"), 3, file.clone()).is_ok());
    for role in [Role::Icb, Role::Champion, Role::Lmc] {
        assert!(matches!(
            when(&PracticeReports::default(), actor(role, "x"), 3, file.clone()),
            Err(CaseError::Forbidden { .. })
        ));
    }
}

#[test]
fn a_report_is_triaged_once_by_the_icb_or_an_admin() {
    let state = filed();
    assert_eq!(state.revision(), Some(0));
    let events = when(&state, actor(Role::Icb, "icb-1"), 3, dismiss()).unwrap();
    let [CaseEvent::DhuReportTriaged(triaged)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(triaged.outcome, TriageOutcome::Dismissed);
    assert!(when(&state, actor(Role::Admin, "ops-1"), 3, dismiss()).is_ok());
    assert!(matches!(
        when(&state, actor(Role::Dhu, "dhu-1"), 3, dismiss()),
        Err(CaseError::Forbidden { .. })
    ));
    let triaged_state = evolve_reports(
        state,
        &EventEnvelope {
            event: events[0].clone(),
            occurred_at: at(3),
            actor: actor(Role::Icb, "icb-1"),
        },
    );
    assert_eq!(
        when(&triaged_state, actor(Role::Icb, "icb-1"), 4, dismiss()),
        Err(CaseError::ReportAlreadyTriaged)
    );
    let opened = ReportAction::Triage {
        report_id: report(),
        outcome: Triage::CaseOpened { case_id: Uuid::nil() },
    };
    assert_eq!(
        when(&triaged_state, actor(Role::Icb, "icb-1"), 4, opened),
        Err(CaseError::ReportAlreadyTriaged),
        "dismissed is final"
    );
}

#[test]
fn an_unknown_report_or_a_triage_dated_before_the_report_is_refused() {
    let other = ReportAction::Triage {
        report_id: Uuid::from_u128(7),
        outcome: Triage::CaseOpened { case_id: Uuid::nil() },
    };
    assert_eq!(
        when(&filed(), actor(Role::Icb, "icb-1"), 3, other),
        Err(CaseError::ReportNotFound(Uuid::from_u128(7)))
    );
    assert!(matches!(
        when(&filed(), actor(Role::Icb, "icb-1"), 1, dismiss()),
        Err(CaseError::OccurredBeforeOpened { .. })
    ));
}
