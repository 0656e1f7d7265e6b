//! The directory of people's operations: the admin's list, adding and changing people.

use crate::contract::enums::Role;
use crate::contract::{Instant, schema};

#[derive(cynic::QueryVariables, Debug)]
pub struct PeopleVariables {
    pub role: Option<Role>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "PeopleVariables")]
pub struct PeopleQuery {
    #[arguments(role: $role)]
    pub people: Vec<Person>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub role: Role,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub signed_in_at: Option<Instant>,
}

#[derive(cynic::InputObject, Debug)]
pub struct AddPersonInput {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct AddVariables {
    pub input: AddPersonInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "AddVariables")]
pub struct AddPerson {
    #[arguments(input: $input)]
    pub add_person: Person,
}

#[derive(cynic::InputObject, Debug, Default)]
pub struct UpdatePersonInput {
    pub id: String,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
    pub active: Option<bool>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct UpdateVariables {
    pub input: UpdatePersonInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "UpdateVariables")]
pub struct UpdatePerson {
    #[arguments(input: $input)]
    pub update_person: Person,
}
