//! CaseLedger's service and command line: GraphQL over axum, authentication, and the
//! `caseledger` subcommands.

pub mod auth;
pub mod cli;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod graphql;
pub mod http;
pub mod monitoring;
pub mod notify;
pub mod settings;
pub mod telemetry;
pub mod verify;
pub mod web;
