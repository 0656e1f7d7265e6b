//! The case domain of CaseLedger: what each party does, as commands and events, and the rules
//! between them. Pure: no database, no web, no clock (time comes in with each command).
//!
//! `decide` turns a command into events or a typed refusal; `evolve` folds events into state.

pub mod answer;
pub mod calls;
pub mod case;
pub mod case_type;
pub mod cis2;
pub mod dashboard;
pub mod deadlines;
pub mod dhu_extract;
pub mod diversion;
pub mod dos;
pub mod extract;
pub mod holidays;
pub mod next;
pub mod ods;
pub mod practice;
pub mod register;
pub mod reports;
pub mod role;
pub mod telephony;
pub mod values;

pub use caseledger_clock::ukclock;

pub use case::{Action, Case, CaseError, CaseEvent, CaseStatus, Command, EventEnvelope, decide, evolve};
pub use role::{Actor, Role};
pub use values::{ValueError, required_slots};
