//! A fake GP Connect provider for tests and demos: free-slot search over mutual TLS.

pub mod scenario;
pub mod search;
pub mod server;

pub use scenario::{
    Availability, InjectedFailure, LocationSpec, PracticeScenario, PractitionerSpec, Scenario, ScenarioError,
    ScheduleSpec, SlotGenerator, SlotSpec, WhenDisabled,
};
pub use search::{FakeResponse, Filters, search_free_slots, slot_matches, validate_audit_jwt};
pub use server::{FakeError, FakeServer, FakeTls, RecordedRequest, SDS_PATH, SERVICE_ROOT_PATH, serve_fake};
