//! CaseLedger's API: GraphQL over axum, authentication, notifications, GP Connect checks and
//! erasure. The `caseledger` binary (services/caseledger) wires it to the web pages.

pub mod auth;
pub mod erasure;
pub mod error;
pub mod graphql;
pub mod http;
pub mod monitoring;
pub mod notify;
pub mod serve;
pub mod settings;
pub mod telemetry;
pub mod verify;
