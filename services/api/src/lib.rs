//! CaseLedger's API: GraphQL over axum, authentication, metrics and the HTTP server. The
//! `caseledger` binary (services/caseledger) wires it to the web pages and the jobs.

pub mod auth;
pub mod error;
pub mod graphql;
pub mod http;
pub mod monitoring;
pub mod serve;
