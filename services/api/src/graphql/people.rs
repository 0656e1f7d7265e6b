//! The directory of people, for admins: list, add ahead of a first sign-in, change, deactivate.
//! The ICB sees only the active champions' ids and names, to assign cases to.

use async_graphql::{Context, InputObject, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_cases::values::ShortText;
use caseledger_commands::people::{self, Changes, Person as Stored};
use chrono::{DateTime, Utc};

use super::enums::Role;
use super::{require, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// At most this many people in one answer.
pub const MAX_PEOPLE: i64 = 1000;

/// A person in the directory. Admins only.
#[derive(SimpleObject, Debug)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub role: Role,
    /// The ODS code of the organisation of their role (from CIS2, or as an admin set it).
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    /// Where their notifications go (null: none).
    pub email: Option<String>,
    /// A deactivated person cannot sign in to the pages or be given a case.
    pub active: bool,
    pub signed_in_at: Option<DateTime<Utc>>,
    pub last_visit_at: Option<DateTime<Utc>>,
}

impl From<Stored> for Person {
    fn from(person: Stored) -> Self {
        Self {
            id: person.id,
            name: person.name,
            role: person.role.into(),
            org_code: person.org_code,
            org_name: person.org_name,
            email: person.email,
            active: person.active,
            signed_in_at: person.signed_in_at,
            last_visit_at: person.last_visit_at,
        }
    }
}

/// A champion a case may be given to: an active champion in the directory.
#[derive(SimpleObject, Debug)]
pub struct ChampionChoice {
    pub id: String,
    /// Null until they sign in or an admin names them.
    pub name: Option<String>,
}

#[derive(InputObject, Debug)]
pub struct AddPersonInput {
    /// The id they sign in with (their CIS2 UUID, or a development id such as `dc-amira`).
    pub id: String,
    pub name: String,
    pub role: Role,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
}

/// Only the fields given change.
#[derive(InputObject, Debug)]
pub struct UpdatePersonInput {
    pub id: String,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    /// An empty string removes the address.
    pub email: Option<String>,
    pub active: Option<bool>,
}

fn short(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    ShortText::parse_optional(value)
        .map(|text| text.map(|t| t.as_str().to_string()))
        .map_err(|e| ApiError::bad_input(field, e))
}

/// An address notifications may go to (the configured domains), or none for an empty string.
fn address(ctx: &Context<'_>, email: Option<&str>) -> Result<Option<Option<String>>, ApiError> {
    let Some(email) = email.map(str::trim) else {
        return Ok(None);
    };
    if email.is_empty() {
        return Ok(Some(None));
    }
    let domains = &state(ctx).mail_domains;
    if email.len() > 254 || !caseledger_jobs::notifications::allowed_address(email, domains) {
        return Err(ApiError::bad_input(
            "email",
            format!("must be an email address at {}", domains.join(" or ")),
        ));
    }
    Ok(Some(Some(email.to_string())))
}

fn changes(
    ctx: &Context<'_>,
    name: Option<&str>,
    role: Option<Role>,
    org_code: Option<&str>,
    org_name: Option<&str>,
    email: Option<&str>,
    active: Option<bool>,
) -> Result<Changes, ApiError> {
    let org_code = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
        // An ODS organisation code: 3 to 10 letters and digits (`X26`, `RYE`, `A81001`).
        Some(code) if (3..=10).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(code.to_ascii_uppercase())
        }
        Some(code) => {
            return Err(ApiError::bad_input(
                "orgCode",
                format!("{code:?} is not an ODS organisation code (3 to 10 letters and digits)"),
            ));
        }
        None => None,
    };
    Ok(Changes {
        name: short("name", name)?,
        role: role.map(Into::into),
        org_code,
        org_name: short("orgName", org_name)?,
        email: address(ctx, email)?,
        active,
    })
}

pub async fn list(ctx: &Context<'_>, role: Option<Role>, active: Option<bool>) -> ApiResult<Vec<Person>> {
    require(
        ctx,
        &caseledger_cases::role::views::PEOPLE,
        "read the directory of people",
    )?;
    let found = people::list(
        state(ctx).reads.primary_pool(),
        role.map(Into::into),
        active,
        MAX_PEOPLE,
    )
    .await
    .gql()?;
    Ok(found.into_iter().map(Person::from).collect())
}

pub async fn add(ctx: &Context<'_>, input: AddPersonInput) -> ApiResult<Person> {
    let admin = require(ctx, &caseledger_cases::role::views::PEOPLE, "add people")?;
    let id = ShortText::parse(input.id.trim())
        .map_err(|e| ApiError::bad_input("id", e))
        .gql()?;
    if id.as_str().chars().any(char::is_whitespace) {
        return Err(ApiError::bad_input("id", "must not contain spaces")).gql();
    }
    if input.name.trim().is_empty() {
        return Err(ApiError::bad_input("name", "enter their name")).gql();
    }
    let changes = changes(
        ctx,
        Some(&input.name),
        None,
        input.org_code.as_deref(),
        input.org_name.as_deref(),
        input.email.as_deref(),
        None,
    )
    .gql()?;
    let added = people::add(
        state(ctx).reads.primary_pool(),
        id.as_str(),
        input.role.into(),
        &changes,
        admin.id.as_str(),
    )
    .await
    .gql()?;
    tracing::info!(person = %added.id, role = added.role.as_str(), by = %admin.id, "person added");
    Ok(added.into())
}

pub async fn update(ctx: &Context<'_>, input: UpdatePersonInput) -> ApiResult<Person> {
    let admin = require(ctx, &caseledger_cases::role::views::PEOPLE, "change people")?;
    if input.name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        return Err(ApiError::bad_input("name", "enter their name")).gql();
    }
    if input.id.trim() == admin.id.as_str() && input.active == Some(false) {
        return Err(ApiError::bad_input("active", "you cannot deactivate yourself")).gql();
    }
    let changes = changes(
        ctx,
        input.name.as_deref(),
        input.role,
        input.org_code.as_deref(),
        input.org_name.as_deref(),
        input.email.as_deref(),
        input.active,
    )
    .gql()?;
    let changed = people::change(state(ctx).reads.primary_pool(), input.id.trim(), &changes)
        .await
        .gql()?;
    tracing::info!(person = %changed.id, active = changed.active, by = %admin.id, "person changed");
    Ok(changed.into())
}

/// The active champions, for the ICB to assign cases to.
pub async fn champions(ctx: &Context<'_>) -> ApiResult<Vec<ChampionChoice>> {
    let found = people::list(
        state(ctx).reads.primary_pool(),
        Some(DomainRole::Champion),
        Some(true),
        MAX_PEOPLE,
    )
    .await
    .gql()?;
    Ok(found
        .into_iter()
        .map(|person| ChampionChoice {
            id: person.id,
            name: person.name,
        })
        .collect())
}

/// Refuses a case's champion who is not an active champion in the directory, naming the id.
pub async fn check_assignable(ctx: &Context<'_>, champion_id: &str) -> ApiResult<()> {
    use people::Assignable;
    let why = match people::assignable(state(ctx).reads.primary_pool(), champion_id)
        .await
        .gql()?
    {
        Assignable::Yes => return Ok(()),
        Assignable::Unknown => format!("nobody with the id {champion_id} is in the directory of people"),
        Assignable::NotAChampion(role) => format!("{champion_id} is not a champion (their role is {role})"),
        Assignable::Deactivated => format!("{champion_id} has been deactivated"),
    };
    Err(ApiError::bad_input("championId", why)).gql()
}
