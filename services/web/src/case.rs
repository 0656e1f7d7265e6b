//! A case's page: its state, its timeline through the caller's lens, and a form for each
//! intervention the caller's role may make. A rejected form comes back with its errors beside the
//! fields and everything typed kept; a conflict shows what changed since the page was opened.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::actions::{self, Action, Submitted};
use super::gql::ErrorCode;
use super::layout::{error_summary, inset, page, status_tag};
use super::session::Session;
use super::{Ids, WebState, fetch, gql_problem, ids, problem, redirect, signed_in, signed_in_form};
use caseledger_cases::case::{ReopenCause, catalogue};
use caseledger_commands::RequestIds;
use cynic::QueryBuilder;

use crate::contract::Instant;
use crate::contract::enums::{CaseHolder, CaseSource};
use crate::lists::{day, day_time};
use crate::operations::case::{
    CaseQuery, CaseVariables, ChampionChoice, ChampionsQuery, CountsQuery, CountsVariables, Review, TimelineEvent,
};
use crate::operations::own_cases::PracticeAnswer;
use crate::reports::root_cause_label;

/// A form that came back: which, what was typed, what was wrong.
#[derive(Debug)]
struct Failure {
    action: &'static Action,
    submitted: Submitted,
    /// Messages for the error summary: (anchor, text).
    summary: Vec<(Option<String>, String)>,
    /// The revision the form was made at, when the case has moved on since.
    conflict_since: Option<i64>,
    status: StatusCode,
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
    /// Back from "Verify through GP Connect": show what the search found.
    #[serde(default)]
    verified: Option<String>,
}

pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let verified = done.verified.is_some();
    let done = done.done.as_deref().and_then(actions::find);
    render(&state, &session, ids(ids_), &id, None, done, verified).await
}

async fn render(
    state: &WebState,
    session: &Session,
    ids: Option<RequestIds>,
    id: &str,
    failure: Option<Failure>,
    done: Option<&Action>,
    verified: bool,
) -> Response {
    let found = fetch(
        state,
        session,
        ids,
        CaseQuery::build(CaseVariables { id: cynic::Id::new(id) }),
    )
    .await;
    let case = match found {
        Ok(CaseQuery { case: Some(case) }) => case,
        Ok(CaseQuery { case: None }) => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(session),
                "Page not found",
                "There is no such case, or you may not see it.",
            );
        }
        Err(response) => return response,
    };
    let status = case.state();
    let revision = i64::from(case.revision);
    let history = &case.history;
    let practice = &case.practice;
    let title = practice.name.clone();
    let ods = practice.ods_code.clone();
    // The practice's three counts, when the caller may see the practice.
    let counts = crate::contract::run(
        &state.0.schema,
        &session.actor,
        ids,
        CountsQuery::build(CountsVariables { ods: ods.clone() }),
    )
    .await
    .ok()
    .and_then(|found| found.practice)
    .map(|practice| practice.counts);
    // Whom the ICB may assign the case to.
    let champions: Vec<ChampionChoice> = if caseledger_cases::role::views::ICB.contains(&session.actor.role) {
        crate::contract::run(&state.0.schema, &session.actor, ids, ChampionsQuery::build(()))
            .await
            .map(|found| found.icb.champions)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let code = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let body = html! {
        @if let Some(failure) = &failure {
            @if let Some(since) = failure.conflict_since {
                (error_summary("This case changed since you opened it", &failure.summary))
                div class="nhsuk-warning-callout" id="what-changed" {
                    h2 class="nhsuk-warning-callout__label" { "What changed" }
                    ul class="nhsuk-list" {
                        @for event in history.iter().filter(|e| i64::from(e.revision) > since) {
                            li { (timeline_entry(event, case.required_slots)) }
                        }
                    }
                    p { "What you typed is below. Check it against these changes and submit it again if it still applies." }
                }
            } @else {
                (error_summary("There is a problem", &failure.summary))
            }
        }
        @if let Some(done) = done {
            div class="nhsuk-inset-text cl-done" role="status" { "Saved: " (done.title.to_lowercase()) "." }
        }
        @if verified {
            @if let Some(found) = &case.latest_verification {
                (crate::gpconnect::result("GP Connect check", found))
            }
        }
        span class="nhsuk-caption-l" { a href={"/practices/" (ods)} { (ods) } }
        h1 {
            (title) " " (status_tag(status))
            @if case.contract_review_open == Some(true) { " " strong class="nhsuk-tag nhsuk-tag--red" id="under-review" { "Contract review" } }
        }
        @if let Some(counts) = counts.as_ref().filter(|counts| counts.disagreement) {
            @let slots = |count: Option<&crate::operations::icb::Slots>| count.map_or_else(|| "–".to_string(), |c| c.slots.to_string());
            div class="nhsuk-warning-callout" id="disagreement" {
                h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "The counts disagree" } }
                p {
                    "Configured by the practice: " (slots(counts.configured.as_ref())) "; seen by DHU: " (slots(counts.seen_by_dhu.as_ref()))
                    "; on the dashboard: " (slots(counts.dashboard.as_ref())) " (" (counts.required_slots) " a day required). "
                    a href={"/practices/" (ods)} { "See the practice" }
                }
            }
        }
        div class="nhsuk-grid-row" {
            div class="nhsuk-grid-column-one-half" {
                dl class="nhsuk-summary-list" id="case-summary" {
                    (row("PCN", Some(practice.pcn_name.clone().unwrap_or_else(|| practice.pcn_code.clone()))))
                    (row("Place", Some(practice.place.clone())))
                    (row("List size", Some(practice.list_size.to_string())))
                    (row("Required 111 slots a day", Some(case.required_slots.to_string())))
                    (row("Visible slots a day", case.visible_slots.map(|n| match (case.visible_slots_source, case.visible_slots_at) {
                        (Some(source), Some(at)) => format!("{n} ({}, {})", source.label(), crate::lists::day(Some(at))),
                        _ => n.to_string(),
                    })))
                    (row("Opened", Some(day(Some(case.opened_at)))))
                    @if case.deadline.is_some() {
                        div class="nhsuk-summary-list__row" {
                            dt class="nhsuk-summary-list__key" { "Due" }
                            dd class="nhsuk-summary-list__value" { (crate::lists::deadline_cell(case.deadline.as_ref())) }
                        }
                    }
                    @if case.compliant_at.is_some() { (row("Compliant", Some(day(case.compliant_at)))) }
                    @if case.closed_at.is_some() { (row("Closed", Some(day(case.closed_at)))) }
                    @if session.actor.role.knows_champions() {
                        (row("Champion", case.assigned_to.clone()))
                    }
                    (row("Root causes", (!case.root_causes.is_empty()).then(|| {
                        case.root_causes.iter().map(|cause| root_cause_label((*cause).into())).collect::<Vec<_>>().join(", ")
                    })))
                    @if case.open_dhu_issue { (row("DHU", Some("has reported a visibility issue".to_string()))) }
                    @if let Some(shortfall) = &case.dhu_shortfall {
                        (row("DHU shortfall", Some(format!(
                            "DHU sees {} of {} required ({})",
                            shortfall.visible_slots,
                            shortfall.required_slots,
                            day(Some(shortfall.reported_at))
                        ))))
                    }
                    @if let Some(reason) = case.reopen_reason {
                        (row("Reopened", Some(reopen_reason(reason.into()).to_string())))
                    }
                    @if case.source == CaseSource::DhuReport {
                        (row("Opened from", Some(match &case.dhu_report {
                            Some(report) => format!(
                                "the DHU's report of {}: {}{}",
                                day(Some(report.reported_at)),
                                root_cause_label(report.category.into()),
                                report.detail.as_ref().map_or_else(String::new, |detail| format!(" — “{detail}”")),
                            ),
                            None => "a DHU report".to_string(),
                        })))
                    }
                    @for review in &case.contract_reviews {
                        (row("Contract review", Some(review_line(review))))
                    }
                    @if let Some(found) = &case.latest_verification {
                        (row("GP Connect check", Some(crate::gpconnect::line(&found.summary))))
                    }
                    @if case.observed_compliant && status.is_open() {
                        (row("Dashboard", Some("observed compliant, not yet confirmed".to_string())))
                    }
                }
            }
        }
        div class="nhsuk-grid-row" {
            // The next step first: on a phone the form comes before the history.
            div class="nhsuk-grid-column-one-half" id="actions" {
                @let role = session.actor.role;
                @let mine = case.holder == Some(CaseHolder::You);
                @let offered: Vec<&Action> = actions::offered(role, &case)
                    .filter(|action| !(mine && action.slug == "assign"))
                    .collect();
                @let next = actions::next_for(role, &case, mine)
                    .and_then(|slug| offered.iter().copied().find(|action| action.slug == slug));
                @if catalogue::works_only_held(role) && case.holder == Some(CaseHolder::SomeoneElse) {
                    div class="nhsuk-warning-callout" id="not-yours" {
                        h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "Not your case" } }
                        p { "Another champion holds this case, so you see it as the LMC does. Ask the ICB if it should be yours." }
                    }
                }
                @if let Some(action) = next {
                    h2 class="nhsuk-heading-m" id="next-action" { "Next step" }
                    @if action.slug == "confirm-compliance-checked" {
                        div class="nhsuk-warning-callout" id="contradicted" {
                            h3 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "The counts disagree" } }
                            p {
                                "The DHU said it could see enough slots, but the latest "
                                (case.visible_slots_source.map_or("evidence", |source| source.label()))
                                " (" (case.visible_slots_at.map_or_else(|| "–".to_string(), |at| day(Some(at)))) ") shows "
                                (case.visible_slots.unwrap_or(0)) " a day against " (case.required_slots) " required. Check with the practice and the DHU before you confirm."
                            }
                        }
                    }
                    @let submitted = failure.as_ref().filter(|f| f.action.slug == action.slug).map(|f| &f.submitted);
                    @let prefilled = prefill(action, history);
                    (actions::form(action, id, revision, session, submitted.or(prefilled.as_ref()), true, &champions))
                }
                @let others: Vec<&Action> = offered.iter().copied().filter(|action| next.is_none_or(|n| n.slug != action.slug)).collect();
                @if !others.is_empty() {
                    h2 class="nhsuk-heading-m" { @if next.is_some() { "Or record something else" } @else { "Record what happened" } }
                }
                @for action in others {
                    @let submitted = failure.as_ref().filter(|f| f.action.slug == action.slug).map(|f| &f.submitted);
                    details class="nhsuk-details cl-action-details" open[submitted.is_some()] {
                        summary class="nhsuk-details__summary" { span class="nhsuk-details__summary-text" { (action.title) } }
                        div class="nhsuk-details__text" {
                            (actions::form(action, id, revision, session, submitted, false, &champions))
                        }
                    }
                }
                @if catalogue::reads_only(session.actor.role) {
                    (inset(html! { "Your view of this case is read-only." }))
                } @else if state.gp_connect() {
                    form method="post" action={"/cases/" (id) "/verify"} id="form-verify" {
                        (crate::layout::csrf_field(session))
                        p class="nhsuk-body-s" { "Ask the practice's system, through GP Connect as the 111 provider does, for its free slots over the next 14 days." }
                        button class="nhsuk-button nhsuk-button--secondary" type="submit" { "Verify through GP Connect" }
                    }
                }
            }
            div class="nhsuk-grid-column-one-half" id="timeline" {
                h2 class="nhsuk-heading-m" { "Timeline" }
                ol class="nhsuk-list cl-timeline" {
                    @for (_, entry) in timeline(history, &case.contract_reviews, &case.practice_answers, case.required_slots) {
                        li class="cl-timeline__item" { (entry) }
                    }
                }
            }
        }
    };
    (code, page(&title, Some(session), body)).into_response()
}

fn reopen_reason(reason: ReopenCause) -> &'static str {
    match reason {
        ReopenCause::ListSizeRise => "the list size rose: the requirement rose with it",
        ReopenCause::VisibilityDrop => "the practice offers fewer slots than it did",
        ReopenCause::Manual => "by the ICB",
    }
}

/// One contract review in a line: when, and how it ended (and, for the ICB, why).
fn review_line(review: &Review) -> String {
    let mut line = format!("from {}", day(review.escalated_at));
    if let Some(reason) = &review.reason {
        line.push_str(&format!(" ({reason})"));
    }
    // Concluded or not is in every lens that shows the review; the outcome only in the ICB's.
    match (review.concluded_at, review.outcome) {
        (Some(at), Some(outcome)) => line.push_str(&format!(
            ", concluded {}: {}",
            day(Some(at)),
            crate::contract::enums::Labelled::label(outcome)
        )),
        (Some(at), None) => line.push_str(&format!(", concluded {}", day(Some(at)))),
        (None, _) => line.push_str(", open"),
    }
    line
}

fn row(key: &str, value: Option<String>) -> Markup {
    html! {
        div class="nhsuk-summary-list__row" {
            dt class="nhsuk-summary-list__key" { (key) }
            dd class="nhsuk-summary-list__value" { (value.unwrap_or_else(|| "–".into())) }
        }
    }
}

/// The case's events, its contract reviews (a stream of their own) and the practice's answers (in
/// the practice's stream), newest first.
fn timeline(
    history: &[TimelineEvent],
    reviews: &[Review],
    answers: &[PracticeAnswer],
    required: i32,
) -> Vec<(Instant, Markup)> {
    let mut entries: Vec<(Instant, Markup)> = history
        .iter()
        .map(|event| (event.occurred_at, timeline_entry(event, required)))
        .collect();
    for answer in answers {
        entries.push((
            answer.answered_at,
            html! {
                strong class="cl-answered" { "The practice answered" } " "
                span class="cl-muted" { (day_time(answer.answered_at)) }
                @if let Some(text) = &answer.text { dl class="cl-details" { dt { "Answer" } dd { (text) } } }
            },
        ));
    }
    for review in reviews {
        let by = |who: &Option<String>| who.as_ref().map(|who| format!(" by {who} (ICB)")).unwrap_or_default();
        if let Some(at) = review.escalated_at {
            entries.push((
                at,
                html! {
                    strong class="cl-escalated" { "Escalated to contract review" } " "
                    span class="cl-muted" { (day_time(at)) (by(&review.escalated_by)) }
                    @if let Some(reason) = &review.reason { dl class="cl-details" { dt { "Reason" } dd { (reason) } } }
                },
            ));
        }
        if let Some(at) = review.concluded_at {
            entries.push((
                at,
                html! {
                    strong { "Contract review concluded" } " "
                    span class="cl-muted" { (day_time(at)) (by(&review.concluded_by)) }
                    dl class="cl-details" {
                        @if let Some(outcome) = review.outcome { dt { "Outcome" } dd { (crate::contract::enums::Labelled::label(outcome)) } }
                        @if let Some(note) = &review.note { dt { "Note" } dd { (note) } }
                    }
                },
            ));
        }
    }
    entries.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    entries
}

/// A form filled in with what the case already says: the ICB's decision with the DHU's count.
fn prefill(action: &Action, history: &[TimelineEvent]) -> Option<actions::Submitted> {
    /// What a DHU confirmation's data says, as far as the form reads it.
    #[derive(Deserialize)]
    struct Confirmed {
        visible_slots_per_day: i64,
    }
    if action.command != caseledger_cases::case::CommandName::ConfirmCompliance {
        return None;
    }
    let confirmed = history
        .iter()
        .rev()
        .find(|event| event.event_type == "DhuVisibilityConfirmed")?;
    let count = Confirmed::deserialize(&confirmed.data).ok()?.visible_slots_per_day;
    Some(actions::Submitted {
        values: vec![
            ("visibleSlotsPerDay".into(), count.to_string()),
            (
                "evidence".into(),
                crate::contract::name(crate::contract::enums::Evidence::DhuConfirmation),
            ),
        ],
        errors: Vec::new(),
    })
}

/// Who did it, as a reader would say it: the person's id and their party, or the party alone
/// where the lens hides who.
fn who(event: &TimelineEvent) -> String {
    let party = match caseledger_cases::Role::from(event.actor_role) {
        caseledger_cases::Role::Icb => "ICB",
        caseledger_cases::Role::Champion => "Digital Champion",
        caseledger_cases::Role::Dhu => "DHU",
        caseledger_cases::Role::Lmc => "LMC",
        caseledger_cases::Role::Admin => "administrator",
        caseledger_cases::Role::Practice => "practice",
        caseledger_cases::Role::PcnClinicalDirector => "PCN clinical director",
    };
    match &event.actor_id {
        Some(id) => format!("{id} ({party})"),
        None => format!("the {party}"),
    }
}

/// What an event says in a few words, and whether it is a warning: a DHU confirmation says what
/// the DHU saw against what was required (a shortfall as a shortfall), a remap below the
/// requirement says so. The figures are read as the domain's own event, not field by field.
fn heading(event: &TimelineEvent, required: i32) -> (String, bool) {
    use caseledger_cases::CaseEvent;
    let label = || event_label(&event.event_type).to_string();
    // Only the two whose headings carry figures are decoded.
    use caseledger_cases::case::CommandName;
    let figures = [
        CommandName::ConfirmDhuVisibility.rule().event,
        CommandName::RecordRemap.rule().event,
    ];
    let typed = figures
        .contains(&event.event_type.as_str())
        .then(|| serde_json::to_string(&event.data).ok())
        .flatten()
        .and_then(|data| caseledger_cases::case::decode_event(&event.event_type, &data).ok());
    match typed {
        Some(CaseEvent::DhuVisibilityConfirmed(confirmed)) => {
            let seen = confirmed.visible_slots_per_day.get();
            match confirmed.required_slots {
                Some(needed) if seen < needed => (format!("DHU saw {seen} of {needed} slots a day: a shortfall"), true),
                Some(needed) => (
                    format!("DHU confirmed visibility: {seen} of {needed} slots a day"),
                    false,
                ),
                None => (label(), false),
            }
        }
        Some(CaseEvent::SlotsRemapped(remap))
            if i64::from(remap.slots_per_day_configured.get()) < i64::from(required) =>
        {
            let configured = remap.slots_per_day_configured.get();
            (
                format!("Slots remapped: {configured} a day set up, below the {required} required"),
                true,
            )
        }
        _ => (label(), false),
    }
}

/// One event: when (UK time), what, who (where the lens shows it), and its details in words.
fn timeline_entry(event: &TimelineEvent, required: i32) -> Markup {
    let who = who(event);
    let (heading, warn) = heading(event, required);
    html! {
        strong class=[warn.then_some("cl-escalated")] { (heading) }
        " "
        span class="cl-muted" { (day_time(event.occurred_at)) " by " (who) }
        @if let Some(details) = event.data.as_object().filter(|d| !d.is_empty()) {
            dl class="cl-details" {
                @for (key, value) in details {
                    @if let (Some(label), Some(shown)) = (field_label(key), detail(key, value)) {
                        dt { (label) } dd { (shown) }
                    }
                }
            }
        }
    }
}

/// A field of an event's data as a reader calls it; `None` for ids nobody reads.
fn field_label(key: &str) -> Option<String> {
    let label = match key {
        "report_id" | "case_id" | "schema_version" => return None,
        "champion_id" => "Champion",
        "contact_name" => "Contact",
        "channel" => "How",
        "cause" => "Root cause",
        "changes" => "What changed",
        "slots_per_day_configured" => "Slots a day set up",
        "visible_slots_per_day" => "Slots a day visible",
        "visible_slots" => "Slots visible",
        "required_slots" => "Slots required",
        "list_size" => "List size",
        "text" => "Note",
        "guide" => "Guide",
        "source" => "Source",
        "ods_code" => "ODS code",
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            return Some(
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect())
                    .unwrap_or_default(),
            );
        }
    };
    Some(label.to_string())
}

/// A value of an event's `field` in words: enumerated values by their labels, free text as it is.
fn words(field: &str, value: &str) -> String {
    if let Some(label) = actions::value_label(field, value) {
        return label.to_string();
    }
    if value.contains(char::is_whitespace) || !value.contains('_') {
        return value.to_string();
    }
    // An enumerated value no form offers (`visibility_drop`): its words, with the initialisms.
    let words: Vec<String> = value
        .split('_')
        .map(|word| match word.to_lowercase().as_str() {
            "dhu" | "icb" | "gp" | "lmc" | "pcn" => word.to_uppercase(),
            lower => lower.to_string(),
        })
        .collect();
    let sentence = words.join(" ");
    let mut chars = sentence.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn detail(field: &str, value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(words(field, s)),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(|s| words(field, s)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(object) => match (object.get("name"), object.get("kind")) {
            (Some(name), _) => name.as_str().map(str::to_string),
            (None, Some(kind)) => kind.as_str().map(|kind| words(field, kind)),
            _ => None,
        },
        Value::Bool(true) => Some("Yes".into()),
        Value::Bool(false) => Some("No".into()),
        other => Some(other.to_string()),
    }
}

/// Where to go after a form in a list: one of this service's own pages only.
/// A GP Connect verification in one line: "Enough: at least 3 free slots every core-hours day
/// (2 required), 28 Nov 2026 09:14".
fn safe_return(form: &[(String, String)]) -> Option<&str> {
    form.iter()
        .find(|(key, _)| key == "_return")
        .and_then(|(_, v)| super::own_page(v))
}

pub async fn act(
    State(state): State<WebState>,
    headers: HeaderMap,
    ids_: Ids,
    Path((id, slug)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ids = ids(ids_);
    if slug == "verify" {
        return verify(&state, &session, ids, &id).await;
    }
    let Some(action) = actions::find(&slug) else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&session),
            "Page not found",
            "There is no such action.",
        );
    };
    let submitted = |errors: Vec<(String, String)>| Submitted {
        values: form.iter().filter(|(k, _)| !k.starts_with('_')).cloned().collect(),
        errors,
    };
    let field_summary = |errors: &[(String, String)]| {
        errors
            .iter()
            .map(|(field, message)| (Some(actions::input_id(action, field)), message.clone()))
            .collect::<Vec<_>>()
    };
    // The DHU confirms from its own page: a refusal comes back there, beside that case's box.
    let from_dhu_page = action.slug == "dhu-confirm" && safe_return(&form).is_some_and(|to| to.starts_with("/dhu"));
    let back_to_dhu = |message: String| {
        let typed = form
            .iter()
            .find(|(key, _)| key == "visibleSlotsPerDay")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        crate::dhu::Problem::Confirm {
            case_id: id.clone(),
            typed,
            message,
        }
    };
    let input = match actions::input(action, &id, &form, &session) {
        Ok(input) => input,
        Err(_) if from_dhu_page => {
            let problem =
                back_to_dhu("Enter how many 111 slots a day the DHU can see, as a whole number, like 2".into());
            return crate::dhu::dhu_page(&state, &session, ids, "", Some(problem)).await;
        }
        Err(errors) => {
            let failure = Failure {
                action,
                summary: field_summary(&errors),
                submitted: submitted(errors),
                conflict_since: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return render(&state, &session, ids, &id, Some(failure), None, false).await;
        }
    };
    let expected_revision = input.expected_revision();
    match input.run(&state.0.schema, &session.actor, ids).await {
        Ok(_) => match safe_return(&form) {
            Some(path) => redirect(path),
            None => redirect(&format!("/cases/{id}?done={}#timeline", action.slug)),
        },
        Err(errors) => {
            let code = errors.first().map(|e| e.code.clone());
            let failure = match code {
                Some(ErrorCode::Conflict) => Failure {
                    action,
                    summary: vec![(
                        Some(format!("form-{}", action.slug)),
                        "Someone else recorded something on this case after you opened it. Nothing you typed was saved yet, and nothing is lost.".into(),
                    )],
                    submitted: submitted(Vec::new()),
                    conflict_since: expected_revision.map(i64::from),
                    status: StatusCode::CONFLICT,
                },
                Some(ErrorCode::BadUserInput) if from_dhu_page => {
                    let said = errors.first().map_or("", crate::gql::GqlError::said);
                    let problem = back_to_dhu(format!("The slots a day the DHU can see {said}"));
                    return crate::dhu::dhu_page(&state, &session, ids, "", Some(problem)).await;
                }
                Some(ErrorCode::BadUserInput) => {
                    let errors: Vec<(String, String)> = errors
                        .iter()
                        .map(|e| {
                            let field = e.field.clone().unwrap_or_default();
                            let label = action.fields.iter().find(|f| f.name == field).map_or("", |f| f.label);
                            let message = e.said();
                            (field, format!("{label} {message}").trim().to_string())
                        })
                        .collect();
                    Failure {
                        action,
                        summary: field_summary(&errors),
                        submitted: submitted(errors),
                        conflict_since: None,
                        status: StatusCode::UNPROCESSABLE_ENTITY,
                    }
                }
                Some(ErrorCode::InvalidTransition) => Failure {
                    action,
                    summary: errors.iter().map(|e| (Some(format!("form-{}", action.slug)), e.message.clone())).collect(),
                    submitted: submitted(Vec::new()),
                    conflict_since: None,
                    status: StatusCode::CONFLICT,
                },
                _ => return gql_problem(&session, &errors),
            };
            render(&state, &session, ids, &id, Some(failure), None, false).await
        }
    }
}

/// "Verify through GP Connect": the search, then the case page with what it found.
async fn verify(state: &WebState, session: &Session, ids: Option<RequestIds>, id: &str) -> Response {
    use cynic::MutationBuilder;
    let operation =
        crate::operations::case::VerifyCase::build(crate::operations::case::VerifyVariables { id: cynic::Id::new(id) });
    match crate::contract::run(&state.0.schema, &session.actor, ids, operation).await {
        Ok(found) => {
            tracing::info!(case = id, verdict = ?found.verify_slot_visibility.verdict, "verified from the case page");
            redirect(&format!("/cases/{id}?verified=1#gp-connect-result"))
        }
        Err(errors) => gql_problem(session, &errors),
    }
}

/// Readable names of the event types.
pub fn event_label(event_type: &str) -> &str {
    match event_type {
        "PracticeFlagged" => "Practice flagged",
        "CaseAssigned" => "Case assigned",
        "PracticeContacted" => "Practice contacted",
        "GuidanceShared" => "Guidance shared",
        "RootCauseIdentified" => "Root cause identified",
        "SlotsRemapped" => "Slots remapped",
        "GpConnectReEnabled" => "GP Connect re-enabled",
        "DhuVisibilityConfirmed" => "DHU confirmed visibility",
        "DhuVisibilityIssueReported" => "DHU reported a visibility issue",
        "ComplianceConfirmed" => "Compliance confirmed",
        "CaseClosed" => "Case closed",
        "CaseReopened" => "Case reopened",
        "NoteAdded" => "Note added",
        "PersonalDataErased" => "Personal data erased",
        "EscalatedToContractReview" => "Escalated to contract review",
        "ContractReviewConcluded" => "Contract review concluded",
        "DhuReportFiled" => "DHU reported a visibility problem",
        "DhuReportTriaged" => "DHU report triaged",
        other => other,
    }
}
