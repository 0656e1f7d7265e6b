//! GP Connect (Appointment Management 1.2.x, STU3) free-slot verification for NHS 111.
//!
//! [`Verifier`] asks a practice's GP Connect endpoint, as the 111 provider would, for free slots
//! and checks that every core-hours day in a window has at least the required number.
//! [`fake`] is a GP Connect provider stand-in for tests and demos.
#![forbid(unsafe_code)]

pub mod config;
pub mod count;
pub mod fake;
pub mod fhir;
/// The working-day calendar is the case domain's (deadlines count the same days).
pub use caseledger_cases::holidays;
pub mod model;
#[cfg(feature = "pki")]
pub mod pki;
pub mod request;
pub mod sds;
pub mod transport;
pub use caseledger_cases::ukclock;
pub mod verifier;

pub use config::{
    ConfigError, DeviceIdentity, ENV_PREFIX, EndpointConfig, GpConnectConfig, HttpSettings, NoEndpoint,
    PracticeEndpoint, PractitionerIdentity, ResolvedEndpoint, TlsPaths,
};
pub use holidays::{BankHolidays, HolidayError};
pub use model::{DayCount, LocationCount, PracticeTarget, SlotDetail, Verdict, Verification};
pub use verifier::{Turn, Verifier};
