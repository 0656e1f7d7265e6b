//! Helpers shared by the command tests.

#![allow(dead_code, clippy::unwrap_used)]

use caseledger_cases::case::{ContactChannel, FlagSource, FlagSourceKind};
use caseledger_cases::practice::PracticeDetails;
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_cases::{Action, Actor, Role};
use caseledger_commands::{CommandContext, Commands};
use caseledger_eventstore::EventStore;
use caseledger_testsupport::{TestDb, fresh_db};
use chrono::{DateTime, TimeZone, Utc};

pub async fn commands() -> (Commands, TestDb) {
    let db = fresh_db().await;
    (Commands::new(EventStore::new(db.pool.clone())), db)
}

pub fn actor(role: Role, id: &str) -> Actor {
    Actor::new(ShortText::parse(id).unwrap(), role)
}

pub fn icb() -> CommandContext {
    CommandContext::new(actor(Role::Icb, "icb-assurance-1"))
}

pub fn champion(id: &str) -> CommandContext {
    CommandContext::new(actor(Role::Champion, id))
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

pub fn flag(ods_code: &str) -> Action {
    Action::FlagPractice {
        practice: PracticeDetails {
            ods_code: OdsCode::parse(ods_code).unwrap(),
            name: ShortText::parse("Mill Health Centre").unwrap(),
            pcn_code: PcnCode::parse("U10001").unwrap(),
            pcn_name: None,
            place: ShortText::parse("Coventry").unwrap(),
        },
        list_size: ListSize::new(6_000).unwrap(),
        visible_slots: SlotCount::new(0).unwrap(),
        source: FlagSource {
            kind: FlagSourceKind::Manual,
            report_date: None,
            report_id: None,
        },
        reason: None,
    }
}

pub fn note(text: &str) -> Action {
    Action::AddNote {
        text: FreeText::parse(text).unwrap(),
    }
}

pub fn contact() -> Action {
    Action::RecordContact {
        channel: ContactChannel::Email,
        contact_name: Some(ShortText::parse("Practice Manager 1").unwrap()),
        summary: FreeText::parse("Sent the instructions").unwrap(),
    }
}
