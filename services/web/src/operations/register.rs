//! The practice register's page: the uploads of the three files NHS England publishes.

use crate::contract::{Day, schema};
use crate::model::ImportError;

#[derive(cynic::QueryVariables, Debug)]
pub struct PublishedVariables {
    pub csv: String,
}

/// ODS's `epraccur.csv`.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "PublishedVariables")]
pub struct ImportOds {
    #[arguments(csv: $csv)]
    pub import_ods_practices: PublishedReport,
}

/// "Patients Registered at a GP Practice".
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "PublishedVariables")]
pub struct ImportListSizes {
    #[arguments(csv: $csv)]
    pub import_list_sizes: PublishedReport,
}

/// ODS's ePCN release.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "PublishedVariables")]
pub struct ImportPcns {
    #[arguments(csv: $csv)]
    pub import_pcns: PublishedReport,
}

/// What an upload did.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PublishedImportReport")]
pub struct PublishedReport {
    pub rows: i32,
    pub other_icbs: i32,
    pub passed_over: i32,
    pub extract_date: Option<Day>,
    pub registered: i32,
    pub changed: i32,
    pub unchanged: i32,
    pub closed: Vec<String>,
    pub closed_with_open_case: Vec<String>,
    pub awaiting_list_size: Vec<String>,
    pub not_in_register: i32,
    pub older: i32,
    pub reopened: i32,
    pub error_count: i32,
    pub errors: Vec<ImportError>,
}
