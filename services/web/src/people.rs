//! The admin's directory of people: everyone who works in CaseLedger, added ahead of their first
//! sign-in, changed, deactivated (a deactivated person cannot sign in to the pages or be given a
//! case) and turned back on. Errors come back on the same page, what was typed kept.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use caseledger_cases::Role as DomainRole;
use cynic::{MutationBuilder, QueryBuilder};
use maud::{Markup, html};

use crate::contract::enums::Role;
use crate::layout::{csrf_field, error_summary, page};
use crate::lists::{cell, day, header_row, urlencode};
use crate::operations::people::{
    AddPerson, AddPersonInput, AddVariables, PeopleQuery, PeopleVariables, Person, UpdatePerson, UpdatePersonInput,
    UpdateVariables,
};
use crate::session::Session;
use crate::{Ids, WebState, fetch, ids, problem, redirect, signed_in, signed_in_form};

const ROLES: [(DomainRole, &str); 5] = [
    (DomainRole::Champion, "Digital Champion"),
    (DomainRole::Icb, "ICB assurance"),
    (DomainRole::Dhu, "DHU liaison"),
    (DomainRole::Lmc, "LMC oversight"),
    (DomainRole::Admin, "Operator (admin)"),
];

fn role_label(role: DomainRole) -> &'static str {
    ROLES.iter().find(|(r, _)| *r == role).map_or("", |(_, label)| label)
}

/// The form's fields as typed: what comes back on an error.
#[derive(Debug, Default, Clone)]
struct Typed {
    id: String,
    name: String,
    role: String,
    org_code: String,
    org_name: String,
    email: String,
}

impl Typed {
    fn from_form(form: &[(String, String)]) -> Self {
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            id: field("id"),
            name: field("name"),
            role: field("role"),
            org_code: field("orgCode"),
            org_name: field("orgName"),
            email: field("email"),
        }
    }

    fn of(person: &Person) -> Self {
        Self {
            id: person.id.clone(),
            name: person.name.clone().unwrap_or_default(),
            role: DomainRole::from(person.role).as_str().to_string(),
            org_code: person.org_code.clone().unwrap_or_default(),
            org_name: person.org_name.clone().unwrap_or_default(),
            email: person.email.clone().unwrap_or_default(),
        }
    }

    fn role(&self) -> Option<Role> {
        DomainRole::parse(&self.role).map(Role::from)
    }
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// What went wrong with a form: the field's name and the sentence.
type Problem = (String, String);

fn admin_only(session: &Session) -> Option<Response> {
    (session.actor.role != DomainRole::Admin).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            Some(session),
            "You cannot see this page",
            "Only operators (admins) manage the directory of people.",
        )
    })
}

/// `?saved=`: the person just added or changed, to say so.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

/// `GET /admin/people`.
pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = admin_only(&session) {
        return refused;
    }
    let typed = Typed::default();
    directory(&state, &session, ids(ids_), &typed, None, &saved.saved, StatusCode::OK).await
}

async fn directory(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    typed: &Typed,
    problem: Option<&Problem>,
    saved: &str,
    status: StatusCode,
) -> Response {
    let people = match fetch(state, session, ids_, PeopleQuery::build(PeopleVariables { role: None })).await {
        Ok(found) => found.people,
        Err(response) => return response,
    };
    let body = html! {
        @if let Some((field, message)) = problem {
            (error_summary("There is a problem", &[(Some(format!("person-{field}")), message.clone())]))
        }
        @if let Some(person) = people.iter().find(|p| !saved.is_empty() && p.id == saved) {
            div class="nhsuk-inset-text cl-success" id="saved" role="status" {
                span class="nhsuk-u-visually-hidden" { "Success: " }
                p { "Saved " strong { (person.name.as_deref().unwrap_or(&person.id)) } ": " (role_label(person.role.into()))
                    @if !person.active { ", deactivated" } "." }
            }
        }
        h1 { "People" }
        p { "Everyone who works in CaseLedger. People are added when they first sign in; add someone here to assign them cases before then. A deactivated person cannot sign in or be given a case; their cases keep their name." }
        table class="nhsuk-table-responsive" id="people" role="table" {
            (header_row(&["Name", "Id", "Role", "Organisation", "Email", "Last sign-in", "Status", ""]))
            tbody class="nhsuk-table__body" {
                @for person in &people {
                    tr class="nhsuk-table__row" role="row" data-person=(person.id) {
                        (cell("Name", html! { (person.name.as_deref().unwrap_or("–")) }))
                        (cell("Id", html! { code { (person.id) } }))
                        (cell("Role", html! { (role_label(person.role.into())) }))
                        (cell("Organisation", html! {
                            @match (&person.org_name, &person.org_code) {
                                (Some(name), Some(code)) => { (name) " (" (code) ")" }
                                (None, Some(code)) => { (code) }
                                (Some(name), None) => { (name) }
                                (None, None) => { "–" }
                            }
                        }))
                        (cell("Email", html! { (person.email.as_deref().unwrap_or("–")) }))
                        (cell("Last sign-in", html! { (person.signed_in_at.map_or_else(|| "Not yet".to_string(), |at| day(Some(at)))) }))
                        (cell("Status", html! {
                            @if person.active { strong class="nhsuk-tag nhsuk-tag--green" { "Active" } }
                            @else { strong class="nhsuk-tag nhsuk-tag--grey" { "Deactivated" } }
                        }))
                        (cell("", html! {
                            a href={"/admin/people/" (urlencode(&person.id))} { "Change" span class="nhsuk-u-visually-hidden" { " " (person.id) } }
                        }))
                    }
                }
            }
        }
        h2 class="nhsuk-heading-m" id="add" { "Add a person" }
        (person_form(session, "/admin/people", typed, problem, true, "Add person"))
    };
    (status, page("People", Some(session), body)).into_response()
}

/// The fields of a person, for adding (with the id) or changing.
fn person_form(
    session: &Session,
    action: &str,
    typed: &Typed,
    problem: Option<&Problem>,
    adding: bool,
    button: &str,
) -> Markup {
    let error_of = |field: &str| problem.filter(|(f, _)| f == field).map(|(_, m)| m.as_str());
    let text = |field: &'static str,
                label: &'static str,
                hint: Option<&'static str>,
                value: &str,
                width: &'static str| {
        let id = format!("person-{field}");
        html! {
            div class={"nhsuk-form-group" @if error_of(field).is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for=(id) { (label) }
                @if let Some(hint) = hint { div class="nhsuk-hint" id={(id) "-hint"} { (hint) } }
                @if let Some(message) = error_of(field) {
                    span class="nhsuk-error-message" id={(id) "-error"} { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                input class={"nhsuk-input " (width)} id=(id) name=(field) type="text" value=(value) autocomplete="off" spellcheck="false";
            }
        }
    };
    html! {
        form method="post" action=(action) id="person-form" novalidate {
            (csrf_field(session))
            @if adding {
                (text("id", "Id", Some("The id they sign in with: their NHS CIS2 user id (UUID), or in development an id such as dc-amira."), &typed.id, "nhsuk-input--width-20"))
            }
            (text("name", "Name", None, &typed.name, "nhsuk-input--width-20"))
            div class={"nhsuk-form-group" @if error_of("role").is_some() { " nhsuk-form-group--error" }} {
                label class="nhsuk-label" for="person-role" { "Role" }
                div class="nhsuk-hint" id="person-role-hint" { "Their role follows their next sign-in. To stop someone being given cases or signing in, deactivate them." }
                @if let Some(message) = error_of("role") {
                    span class="nhsuk-error-message" id="person-role-error" { span class="nhsuk-u-visually-hidden" { "Error: " } (message) }
                }
                select class="nhsuk-select" id="person-role" name="role" {
                    @if adding { option value="" selected[typed.role.is_empty()] { "Choose a role" } }
                    @for (role, label) in ROLES {
                        option value=(role.as_str()) selected[typed.role == role.as_str()] { (label) }
                    }
                }
            }
            (text("orgCode", "Organisation ODS code (optional)", Some("For example X26 or RYE."), &typed.org_code, "nhsuk-input--width-10"))
            (text("orgName", "Organisation name (optional)", None, &typed.org_name, "nhsuk-input--width-20"))
            (text("email", "Email (optional)", Some("Where their notifications go."), &typed.email, "nhsuk-input--width-20"))
            button class="nhsuk-button" type="submit" { (button) }
        }
    }
}

/// The field a BAD_USER_INPUT names, as this page's form calls it.
fn problem_of(errors: &[crate::gql::GqlError]) -> Option<Problem> {
    errors
        .iter()
        .find(|e| e.is(&crate::gql::ErrorCode::BadUserInput))
        .map(|error| {
            let field = error.field.clone().unwrap_or_else(|| "name".to_string());
            (field, error.sentence())
        })
}

/// `POST /admin/people`: adds a person, then the list; a problem on the same page.
pub async fn add(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = admin_only(&session) {
        return refused;
    }
    let ids_ = ids(ids_);
    let typed = Typed::from_form(&form);
    let refuse = |problem: Problem| {
        let (state, session, typed) = (&state, &session, &typed);
        async move {
            directory(
                state,
                session,
                ids_,
                typed,
                Some(&problem),
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    if typed.id.is_empty() {
        return refuse(("id".into(), "Enter the id they sign in with".into())).await;
    }
    if typed.name.is_empty() {
        return refuse(("name".into(), "Enter their name".into())).await;
    }
    let Some(role) = typed.role() else {
        return refuse(("role".into(), "Choose their role".into())).await;
    };
    let input = AddPersonInput {
        id: typed.id.clone(),
        name: typed.name.clone(),
        role,
        org_code: optional(&typed.org_code),
        org_name: optional(&typed.org_name),
        email: optional(&typed.email),
    };
    match crate::contract::run(
        &state.0.schema,
        &session.actor,
        ids_,
        AddPerson::build(AddVariables { input }),
    )
    .await
    {
        Ok(added) => redirect(&format!("/admin/people?saved={}", urlencode(&added.add_person.id))),
        Err(errors) => match problem_of(&errors) {
            Some(problem) => refuse(problem).await,
            None => crate::gql_problem(&session, &errors),
        },
    }
}

async fn one(
    state: &WebState,
    session: &Session,
    ids_: Option<caseledger_commands::RequestIds>,
    id: &str,
) -> Result<Person, Response> {
    let people = fetch(state, session, ids_, PeopleQuery::build(PeopleVariables { role: None })).await?;
    people
        .people
        .into_iter()
        .find(|person| person.id == id)
        .ok_or_else(|| crate::not_found_for(Some(session)))
}

/// `GET /admin/people/{id}`: the change form, and turning access off or on.
pub async fn edit(State(state): State<WebState>, headers: HeaderMap, ids_: Ids, Path(id): Path<String>) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = admin_only(&session) {
        return refused;
    }
    match one(&state, &session, ids(ids_), &id).await {
        Ok(person) => change_page(&session, &person, &Typed::of(&person), None, StatusCode::OK),
        Err(response) => response,
    }
}

fn change_page(
    session: &Session,
    person: &Person,
    typed: &Typed,
    problem: Option<&Problem>,
    status: StatusCode,
) -> Response {
    let action = format!("/admin/people/{}", urlencode(&person.id));
    let body = html! {
        @if let Some((field, message)) = problem {
            (error_summary("There is a problem", &[(Some(format!("person-{field}")), message.clone())]))
        }
        h1 { "Change " (person.name.as_deref().unwrap_or(&person.id)) }
        p { "Id: " code { (person.id) } }
        (person_form(session, &action, typed, problem, false, "Save changes"))
        h2 class="nhsuk-heading-m" { "Access" }
        form method="post" action={(action) "/active"} id="person-access" {
            (csrf_field(session))
            @if person.active {
                p { "Deactivate someone who no longer works on these cases: they cannot sign in to the pages or be given a case. Cases they hold stay with them until reassigned." }
                input type="hidden" name="active" value="false";
                button class="nhsuk-button nhsuk-button--warning" type="submit" { "Deactivate" }
            } @else {
                p { "Deactivated: they cannot sign in to the pages or be given a case." }
                input type="hidden" name="active" value="true";
                button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Turn access back on" }
            }
        }
        p { a href="/admin/people" { "Back to people" } }
    };
    (status, page("Change a person", Some(session), body)).into_response()
}

/// `POST /admin/people/{id}`: saves the changes, then the list.
pub async fn change(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = admin_only(&session) {
        return refused;
    }
    let ids_ = ids(ids_);
    let person = match one(&state, &session, ids_, &id).await {
        Ok(person) => person,
        Err(response) => return response,
    };
    let typed = Typed::from_form(&form);
    let refuse = |problem: Problem| {
        change_page(
            &session,
            &person,
            &typed,
            Some(&problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if typed.name.is_empty() {
        return refuse(("name".into(), "Enter their name".into()));
    }
    let Some(role) = typed.role() else {
        return refuse(("role".into(), "Choose their role".into()));
    };
    let input = UpdatePersonInput {
        id: person.id.clone(),
        name: Some(typed.name.clone()),
        role: Some(role),
        org_code: optional(&typed.org_code),
        org_name: optional(&typed.org_name),
        email: Some(typed.email.clone()),
        active: None,
    };
    match crate::contract::run(
        &state.0.schema,
        &session.actor,
        ids_,
        UpdatePerson::build(UpdateVariables { input }),
    )
    .await
    {
        Ok(changed) => redirect(&format!("/admin/people?saved={}", urlencode(&changed.update_person.id))),
        Err(errors) => match problem_of(&errors) {
            Some(problem) => refuse(problem),
            None => crate::gql_problem(&session, &errors),
        },
    }
}

/// `POST /admin/people/{id}/active`: deactivates, or turns access back on.
pub async fn set_active(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = admin_only(&session) {
        return refused;
    }
    let active = form.iter().any(|(key, value)| key == "active" && value == "true");
    let input = UpdatePersonInput {
        id: id.clone(),
        active: Some(active),
        ..Default::default()
    };
    let ids_ = ids(ids_);
    match crate::contract::run(
        &state.0.schema,
        &session.actor,
        ids_,
        UpdatePerson::build(UpdateVariables { input }),
    )
    .await
    {
        Ok(changed) => redirect(&format!("/admin/people?saved={}", urlencode(&changed.update_person.id))),
        Err(errors) => match problem_of(&errors) {
            Some(problem) => match one(&state, &session, ids_, &id).await {
                Ok(person) => change_page(
                    &session,
                    &person,
                    &Typed::of(&person),
                    Some(&problem),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                Err(response) => response,
            },
            None => crate::gql_problem(&session, &errors),
        },
    }
}
