//! The directory of people: who works in CaseLedger, in which role and organisation, at which
//! address, and whether they are active. A person is added when they first sign in (the pages,
//! OIDC or development, or the API with a token), or ahead of time by an admin; their role follows
//! their latest sign-in. Only an active champion may be given a case.
//!
//! The directory is reference data beside the event log, not history: a person's name and
//! address are changed or removed in place (an erasure request deletes the row), while the cases
//! keep only the person's id.

use caseledger_cases::Role;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A person in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub role: Role,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    /// Their latest sign-in.
    pub signed_in_at: Option<DateTime<Utc>>,
    /// The sign-in before the latest: where "since your last visit" starts.
    pub last_visit_at: Option<DateTime<Utc>>,
}

/// A person an admin adds, or the fields an admin changes (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    /// `Some(None)`: remove the address.
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("{id} is already in the directory: change them instead")]
    Exists { id: String },
    #[error("nobody with the id {id} is in the directory")]
    NotFound { id: String },
    #[error("{id} has been deactivated: an admin can turn their access back on")]
    Deactivated { id: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Who may be given a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignable {
    Yes,
    /// Not in the directory at all (a mistyped id).
    Unknown,
    /// In the directory in another role.
    NotAChampion(Role),
    Deactivated,
}

const COLUMNS: &str = "person_id, name, role, org_code, org_name, email, active, signed_in_at, last_visit_at";

type Row = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn person((id, name, role, org_code, org_name, email, active, signed_in_at, last_visit_at): Row) -> Person {
    Person {
        id,
        name,
        // A role written by an older version that this one no longer knows reads as the least.
        role: Role::parse(&role).unwrap_or(Role::Lmc),
        org_code,
        org_name,
        email,
        active,
        signed_in_at,
        last_visit_at,
    }
}

/// Everyone in the directory (of one role, active or not), by name then id; at most `limit`.
pub async fn list(
    pool: &PgPool,
    role: Option<Role>,
    active: Option<bool>,
    limit: i64,
) -> Result<Vec<Person>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "select {COLUMNS} from people
          where ($1::text is null or role = $1) and ($2::boolean is null or active = $2)
          order by coalesce(name, person_id), person_id limit $3"
    ))
    .bind(role.map(Role::as_str))
    .bind(active)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(person).collect())
}

pub async fn get(pool: &PgPool, id: &str) -> Result<Option<Person>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("select {COLUMNS} from people where person_id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(person))
}

/// Whether `id` may be given a case.
pub async fn assignable(pool: &PgPool, id: &str) -> Result<Assignable, sqlx::Error> {
    Ok(match get(pool, id).await? {
        None => Assignable::Unknown,
        Some(person) if person.role != Role::Champion => Assignable::NotAChampion(person.role),
        Some(person) if !person.active => Assignable::Deactivated,
        Some(_) => Assignable::Yes,
    })
}

/// What a sign-in says about the person beyond their id and role (CIS2's selected role).
#[derive(Debug, Clone, Default)]
pub struct SignIn<'a> {
    /// A visit to the pages (moves "since your last visit" on); `false` for a token's use of the
    /// API, which only adds the person and keeps their role current.
    pub visit: bool,
    pub name: Option<&'a str>,
    pub org_code: Option<&'a str>,
    pub org_name: Option<&'a str>,
    pub job_role: Option<&'a str>,
}

/// Records a sign-in: adds the person if new, takes the role they signed in with, and (for a
/// visit) keeps the previous sign-in as their last visit. A deactivated person is refused (and
/// nothing changes).
pub async fn signed_in(
    pool: &PgPool,
    id: &str,
    role: Role,
    at: &SignIn<'_>,
    now: DateTime<Utc>,
) -> Result<Person, PeopleError> {
    let mut tx = pool.begin().await?;
    let active: Option<bool> = sqlx::query_scalar("select active from people where person_id = $1 for update")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if active == Some(false) {
        return Err(PeopleError::Deactivated { id: id.to_string() });
    }
    let row: Row = sqlx::query_as(&format!(
        "insert into people (person_id, role, name, org_code, org_name, job_role, signed_in_at)
         values ($1, $2, $3, $4, $5, $6, $8)
         on conflict (person_id) do update set role = excluded.role,
             name = coalesce(excluded.name, people.name),
             org_code = coalesce(excluded.org_code, people.org_code),
             org_name = coalesce(excluded.org_name, people.org_name),
             job_role = coalesce(excluded.job_role, people.job_role),
             last_visit_at = case when $7 then people.signed_in_at else people.last_visit_at end,
             signed_in_at = case when $7 then $8 else coalesce(people.signed_in_at, $8) end,
             updated_at = now()
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(role.as_str())
    .bind(at.name)
    .bind(at.org_code)
    .bind(at.org_name)
    .bind(at.job_role)
    .bind(at.visit)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(person(row))
}

/// Adds a person ahead of their first sign-in.
pub async fn add(pool: &PgPool, id: &str, role: Role, changes: &Changes, by: &str) -> Result<Person, PeopleError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "insert into people (person_id, role, name, org_code, org_name, email, active, added_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (person_id) do nothing
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(role.as_str())
    .bind(changes.name.as_deref())
    .bind(changes.org_code.as_deref())
    .bind(changes.org_name.as_deref())
    .bind(changes.email.clone().flatten())
    .bind(changes.active.unwrap_or(true))
    .bind(by)
    .fetch_optional(pool)
    .await?;
    row.map(person)
        .ok_or_else(|| PeopleError::Exists { id: id.to_string() })
}

/// Changes a person: their name, role, organisation, address, or whether they are active. A
/// person deactivated is signed out of the pages at once (their sessions end).
pub async fn change(pool: &PgPool, id: &str, changes: &Changes) -> Result<Person, PeopleError> {
    let mut tx = pool.begin().await?;
    if changes.active == Some(false) {
        sqlx::query("delete from web_sessions where actor_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let row: Option<Row> = sqlx::query_as(&format!(
        "update people set
             name = coalesce($2, name),
             role = coalesce($3, role),
             org_code = coalesce($4, org_code),
             org_name = coalesce($5, org_name),
             email = case when $6 then $7 else email end,
             active = coalesce($8, active),
             updated_at = now()
          where person_id = $1
          returning {COLUMNS}"
    ))
    .bind(id)
    .bind(changes.name.as_deref())
    .bind(changes.role.map(Role::as_str))
    .bind(changes.org_code.as_deref())
    .bind(changes.org_name.as_deref())
    .bind(changes.email.is_some())
    .bind(changes.email.clone().flatten())
    .bind(changes.active)
    .fetch_optional(&mut *tx)
    .await?;
    let changed = row
        .map(person)
        .ok_or_else(|| PeopleError::NotFound { id: id.to_string() })?;
    tx.commit().await?;
    Ok(changed)
}
