//! Every intervention a page offers, as data: the form's fields, and how what was typed becomes
//! the typed command it runs (`operations::commands`, checked against the schema). Who may use a
//! form, and in which states of a case, come from the domain's command catalogue
//! (`caseledger_cases::case::catalogue`), the same table `decide` and the resolvers read; a form
//! may narrow that (the champion's "assign to me" beside the ICB's "assign to a champion") and say
//! when it is worth offering, never widen it.

use caseledger_cases::Role;
use caseledger_cases::case::CommandName;
use caseledger_cases::next::NextStep;

use crate::contract::enums::{
    CaseHolder, CloseReason, ContactChannel, ContractReviewOutcome, Evidence, Labelled, RemapChange, RootCause,
    label_of, options,
};
use crate::operations::case::{CasePage, ChampionChoice};
use crate::operations::commands::{
    AddNoteInput, AssignCaseInput, CaseCommand, CloseCaseInput, Common, ConcludeContractReviewInput,
    ConfirmComplianceInput, ConfirmDhuVisibilityInput, EraseVariables, EscalateInput, RecordContactInput,
    RecordGpConnectReEnabledInput, RecordRemapInput, RecordRootCauseInput, ReopenCaseInput,
    ReportDhuVisibilityIssueInput, ShareGuidanceInput,
};
use maud::{Markup, html};

use super::layout::csrf_field;
use super::session::Session;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    LongText,
    Number,
    /// One of (schema value, label): an enum's [`options`].
    Choice(fn() -> Vec<(String, &'static str)>),
    /// Any of (schema value, label).
    Choices(fn() -> Vec<(String, &'static str)>),
    /// The signed-in actor's own id (a champion assigning a case to themself).
    SelfId,
    /// A champion's id, picked from the active champions in the directory of people.
    Champion,
    /// A box the person must tick to say they understand what the form does (this text); it is
    /// not sent to the server.
    Confirm(&'static str),
}

#[derive(Debug)]
pub struct Field {
    /// The GraphQL input field's name, also the form field's.
    pub name: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Debug)]
pub struct Action {
    /// The URL segment: `POST /cases/{id}/{slug}`.
    pub slug: &'static str,
    /// The domain command it issues: who may, and where, come from its rule.
    pub command: CommandName,
    /// The typed command from the form's checked values (`None`: a value the checks let through
    /// does not fit, which they should not).
    pub build: fn(Common, &Values) -> Option<CaseCommand>,
    pub title: &'static str,
    pub button: &'static str,
    /// Offered only to these of the roles the command's rule permits (`None`: all of them).
    pub only: Option<&'static [Role]>,
    pub fields: &'static [Field],
    /// Whether the form is worth offering on this case (its GraphQL fields), beyond what the
    /// rule allows.
    pub useful: fn(&CasePage) -> bool,
}

impl Action {
    /// Whether `role` may use this form on `case`: the API says which commands the command
    /// catalogue lets this person issue on it now (`availableCommands`: role, status, and whether
    /// a champion holds it); a form may narrow that, never widen it.
    pub fn allowed(&self, role: Role, case: &CasePage) -> bool {
        case.available_commands
            .iter()
            .any(|command| CommandName::from(*command) == self.command)
            && self.only.is_none_or(|only| only.contains(&role))
    }
}

const fn field(name: &'static str, label: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        label,
        hint: None,
        kind,
        required,
    }
}

fn always(_: &CasePage) -> bool {
    true
}

/// Reported on while the DHU has the case in front of it.
fn awaiting_dhu(case: &CasePage) -> bool {
    case.state() == caseledger_cases::CaseStatus::Remapped
}

/// Confirmed only once there is something to confirm on.
fn has_review(case: &CasePage) -> bool {
    case.contract_review_open == Some(true)
}

/// The latest evidence, by business time, is a dashboard row or a GP Connect check showing fewer
/// slots than required: it contradicts the DHU's word, and confirming compliance asks to confirm
/// again (`confirm-compliance-checked`).
pub fn contradicted(case: &CasePage) -> bool {
    use crate::contract::enums::VisibleSlotsSource;
    matches!(
        case.visible_slots_source,
        Some(VisibleSlotsSource::Dashboard | VisibleSlotsSource::GpConnect)
    ) && case.visible_slots.is_some_and(|visible| visible < case.required_slots)
}

fn agreed(case: &CasePage) -> bool {
    !contradicted(case)
}

fn no_review(case: &CasePage) -> bool {
    case.contract_review_open != Some(true)
}

/// The label of an enumerated value an event's `field` holds (`slot_type_not_external` or
/// `SLOT_TYPE_NOT_EXTERNAL`), from the enum's own table; `None` for free text (a note that reads
/// "other" stays as written).
pub fn value_label(field: &str, value: &str) -> Option<&'static str> {
    match field {
        "channel" => label_of::<ContactChannel>(value),
        "cause" | "category" => label_of::<RootCause>(value),
        "changes" => label_of::<RemapChange>(value),
        "evidence" => label_of::<Evidence>(value),
        "reason" => label_of::<CloseReason>(value),
        "outcome" => label_of::<ContractReviewOutcome>(value),
        _ => None,
    }
}

pub static ACTIONS: &[Action] = &[
    Action {
        slug: "assign",
        command: CommandName::AssignCase,
        build: assign,
        title: "Take this case",
        button: "Assign to me",
        only: Some(&[Role::Champion]),
        fields: &[field("championId", "Champion", Kind::SelfId, true)],
        useful: always,
    },
    Action {
        slug: "assign-champion",
        command: CommandName::AssignCase,
        build: assign,
        title: "Assign to a champion",
        button: "Assign",
        only: Some(&[Role::Icb]),
        fields: &[Field {
            name: "championId",
            label: "Champion",
            hint: Some("Active champions in the directory of people. An admin adds a new champion on the People page."),
            kind: Kind::Champion,
            required: true,
        }],
        useful: always,
    },
    Action {
        slug: "contact",
        command: CommandName::RecordContact,
        build: contact,
        title: "Log a contact with the practice",
        button: "Log contact",
        only: None,
        fields: &[
            field("channel", "How", Kind::Choice(options::<ContactChannel>), true),
            field("contactName", "Who you spoke to", Kind::Text, false),
            field("summary", "What was said", Kind::LongText, true),
        ],
        useful: always,
    },
    Action {
        slug: "guidance",
        command: CommandName::ShareGuidance,
        build: guidance,
        title: "Share guidance",
        button: "Record guidance",
        only: None,
        fields: &[
            field("guide", "Guide", Kind::Text, true),
            field("version", "Version", Kind::Text, false),
        ],
        useful: always,
    },
    Action {
        slug: "root-cause",
        command: CommandName::RecordRootCause,
        build: root_cause,
        title: "Record the root cause",
        button: "Record root cause",
        only: None,
        fields: &[
            field("cause", "Root cause", Kind::Choice(options::<RootCause>), true),
            field("detail", "Detail", Kind::LongText, false),
        ],
        useful: always,
    },
    Action {
        slug: "remap",
        command: CommandName::RecordRemap,
        build: remap,
        title: "Record a remap",
        button: "Record remap",
        only: None,
        fields: &[
            field(
                "changes",
                "What was changed",
                Kind::Choices(options::<RemapChange>),
                true,
            ),
            Field {
                name: "slotsPerDayConfigured",
                label: "Slots a day now configured for 111",
                hint: Some("A whole number"),
                kind: Kind::Number,
                required: true,
            },
        ],
        useful: always,
    },
    Action {
        slug: "gp-connect",
        command: CommandName::RecordGpConnectReEnabled,
        build: gp_connect,
        title: "GP Connect re-enabled",
        button: "Record GP Connect re-enabled",
        only: None,
        fields: &[field("reference", "Reference", Kind::Text, false)],
        useful: always,
    },
    Action {
        slug: "dhu-confirm",
        command: CommandName::ConfirmDhuVisibility,
        build: dhu_confirm,
        title: "Confirm what DHU can see",
        button: "Confirm visibility",
        only: None,
        fields: &[Field {
            name: "visibleSlotsPerDay",
            label: "Slots a day the DHU can see",
            hint: Some("The bookable 111 slots a day you can see, as a whole number, like 2"),
            kind: Kind::Number,
            required: true,
        }],
        useful: always,
    },
    Action {
        slug: "dhu-issue",
        command: CommandName::ReportDhuVisibilityIssue,
        build: dhu_issue,
        title: "Report a visibility issue",
        button: "Report issue",
        only: None,
        fields: &[
            field("category", "What you found", Kind::Choice(options::<RootCause>), false),
            field("issue", "Issue", Kind::Text, true),
            field("detail", "Detail", Kind::LongText, false),
        ],
        useful: awaiting_dhu,
    },
    Action {
        slug: "confirm-compliance",
        command: CommandName::ConfirmCompliance,
        build: confirm_compliance,
        title: "Confirm compliance",
        button: "Confirm compliance",
        only: None,
        fields: &[
            field("visibleSlotsPerDay", "Visible slots a day", Kind::Number, true),
            field("evidence", "Evidence", Kind::Choice(options::<Evidence>), true),
        ],
        useful: agreed,
    },
    Action {
        slug: "confirm-compliance-checked",
        command: CommandName::ConfirmCompliance,
        build: confirm_compliance,
        title: "Confirm compliance",
        button: "Confirm compliance",
        only: None,
        fields: &[
            field("visibleSlotsPerDay", "Visible slots a day", Kind::Number, true),
            field("evidence", "Evidence", Kind::Choice(options::<Evidence>), true),
            field(
                "checked",
                "Checked",
                Kind::Confirm(
                    "The latest GP Connect check or dashboard row shows fewer slots than required. I have checked with the practice and the DHU, and confirm compliance anyway.",
                ),
                true,
            ),
        ],
        useful: contradicted,
    },
    Action {
        slug: "close",
        command: CommandName::CloseCase,
        build: close,
        title: "Close the case",
        button: "Close case",
        only: None,
        fields: &[field("reason", "Reason", Kind::Choice(options::<CloseReason>), true)],
        useful: always,
    },
    Action {
        slug: "reopen",
        command: CommandName::ReopenCase,
        build: reopen,
        title: "Reopen the case",
        button: "Reopen case",
        only: None,
        fields: &[
            field("reason", "Reason", Kind::LongText, true),
            field("visibleSlots", "Visible slots a day now", Kind::Number, false),
        ],
        useful: always,
    },
    Action {
        slug: "escalate",
        command: CommandName::EscalateToContractReview,
        build: escalate,
        title: "Escalate to contract review",
        button: "Escalate",
        only: None,
        fields: &[
            field("reason", "Reason", Kind::LongText, true),
            Field {
                name: "confirm",
                label: "Confirm",
                hint: None,
                kind: Kind::Confirm(
                    "This starts a review of the practice's contract: a sanction, not support. The LMC will see \
                     that a review happened and when.",
                ),
                required: true,
            },
        ],
        useful: no_review,
    },
    Action {
        slug: "conclude-review",
        command: CommandName::ConcludeContractReview,
        build: conclude_review,
        title: "Conclude the contract review",
        button: "Record the outcome",
        only: None,
        fields: &[
            field(
                "outcome",
                "Outcome",
                Kind::Choice(options::<ContractReviewOutcome>),
                true,
            ),
            field("note", "Note", Kind::LongText, false),
        ],
        useful: has_review,
    },
    Action {
        slug: "note",
        command: CommandName::AddNote,
        build: note,
        title: "Add a note",
        button: "Add note",
        only: None,
        fields: &[field("text", "Note", Kind::LongText, true)],
        useful: always,
    },
    Action {
        slug: "erase",
        command: CommandName::ErasePersonalData,
        build: erase,
        title: "Erase personal data",
        button: "Erase personal data",
        only: None,
        fields: &[
            Field {
                name: "reason",
                label: "Why",
                hint: Some("For example, the person asked to be forgotten. This stays on the record."),
                kind: Kind::LongText,
                required: true,
            },
            Field {
                name: "confirm",
                label: "Confirm",
                hint: None,
                kind: Kind::Confirm(
                    "Contact names, summaries, notes and other free text on this case will be erased for good. \
                     Who did what, when, and the case's status stay.",
                ),
                required: true,
            },
        ],
        useful: always,
    },
];

pub fn find(slug: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|action| action.slug == slug)
}

/// The forms `role` is offered on `case` (its GraphQL fields, `status` among them).
pub fn offered(role: Role, case: &CasePage) -> impl Iterator<Item = &'static Action> + '_ {
    ACTIONS
        .iter()
        .filter(move |action| action.allowed(role, case) && (action.useful)(case))
}

/// What was typed into a form and what was wrong with it, to show it again.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    pub values: Vec<(String, String)>,
    /// (field name, message)
    pub errors: Vec<(String, String)>,
}

impl Submitted {
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
    }
}

/// The hidden fields of every command form: the session's CSRF token, the revision the page
/// showed (a conflict if the case has moved on), and a command id (a double submission carries
/// the same one, so it is applied once).
pub fn command_fields(session: &Session, revision: i64) -> Markup {
    html! {
        (csrf_field(session))
        input type="hidden" name="expectedRevision" value=(revision);
        input type="hidden" name="commandId" value=(uuid::Uuid::new_v4());
    }
}

/// The id of a form field's input, for labels and error links.
pub fn input_id(action: &Action, field: &str) -> String {
    format!("{}-{}", action.slug, field)
}

/// The form of `action` for a case at `revision`, with what was typed before, if anything.
/// The form that moves `case` on for `role`, when one does: what the page leads with.
pub fn next_for(role: Role, case: &CasePage, mine: bool) -> Option<&'static str> {
    let open = case.state().is_open();
    let unassigned = case.holder == Some(CaseHolder::Nobody);
    match role {
        Role::Champion if unassigned && open => return Some("assign"),
        Role::Champion if !mine => return None,
        Role::Icb if unassigned && open => return Some("assign-champion"),
        _ => {}
    }
    let step = NextStep::of(&case.facts());
    if step.who() != Some(role) {
        return None;
    }
    match step {
        NextStep::Contact => Some("contact"),
        NextStep::FindRootCause => Some("root-cause"),
        NextStep::Remap | NextStep::RemapAfterShortfall { .. } | NextStep::RemapAfterIssue => Some("remap"),
        NextStep::DhuCheck => Some("dhu-confirm"),
        NextStep::IcbDecision if contradicted(case) => Some("confirm-compliance-checked"),
        NextStep::IcbDecision => Some("confirm-compliance"),
        NextStep::Close => Some("close"),
        NextStep::Nothing => None,
    }
}

/// A form; `primary` for the one the page leads with (the others are secondary and folded).
pub fn form(
    action: &Action,
    case_id: &str,
    revision: i64,
    session: &Session,
    submitted: Option<&Submitted>,
    primary: bool,
    champions: &[ChampionChoice],
) -> Markup {
    let blank = Submitted::default();
    let submitted = submitted.unwrap_or(&blank);
    html! {
        form method="post" action={"/cases/" (case_id) "/" (action.slug)} class="cl-action" id={"form-" (action.slug)} novalidate {
            (command_fields(session, revision))
            @let visible: Vec<&Field> = action.fields.iter().filter(|f| !matches!(f.kind, Kind::SelfId)).collect();
            @if visible.is_empty() {
                h3 class="nhsuk-heading-s" { (action.title) }
            } @else {
                fieldset class="nhsuk-fieldset" {
                    legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s" {
                        h3 class="nhsuk-fieldset__heading" { (action.title) }
                    }
                    @for field in visible {
                        (field_markup(action, field, submitted, champions))
                    }
                }
            }
            button class={"nhsuk-button" @if !primary { " nhsuk-button--secondary" }} type="submit" data-module="nhsuk-button" { (action.button) }
        }
    }
}

fn field_markup(action: &Action, field: &Field, submitted: &Submitted, champions: &[ChampionChoice]) -> Markup {
    let id = input_id(action, field.name);
    let error = submitted.error(field.name);
    let value = submitted.value(field.name).unwrap_or("");
    let group = if error.is_some() {
        "nhsuk-form-group nhsuk-form-group--error"
    } else {
        "nhsuk-form-group"
    };
    let label = html! {
        (field.label)
        @if !field.required { " (optional)" }
    };
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [field.hint.map(|_| hint_id.clone()), error.map(|_| error_id.clone())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let described = (!described.is_empty()).then_some(described);
    html! {
        div class=(group) {
            @match field.kind {
                Kind::Confirm(text) => {
                    (messages(field, error, &hint_id, &error_id))
                    div class="nhsuk-checkboxes" id=(id) {
                        div class="nhsuk-checkboxes__item" {
                            input class="nhsuk-checkboxes__input" id={(id) "-yes"} name=(field.name) type="checkbox" value="yes" checked[value == "yes"] aria-describedby=[described.clone()];
                            label class="nhsuk-label nhsuk-checkboxes__label" for={(id) "-yes"} { (text) }
                        }
                    }
                }
                Kind::Choices(offered) => {
                    fieldset class="nhsuk-fieldset" aria-describedby=[described.clone()] {
                        legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { (label) }
                        (messages(field, error, &hint_id, &error_id))
                        div class="nhsuk-checkboxes" id=(id) {
                            @for (option, text) in offered() {
                                @let option_id = format!("{id}-{option}");
                                div class="nhsuk-checkboxes__item" {
                                    input class="nhsuk-checkboxes__input" id=(option_id) name=(field.name) type="checkbox" value=(option) checked[submitted.all(field.name).contains(&option.as_str())];
                                    label class="nhsuk-label nhsuk-checkboxes__label" for=(option_id) { (text) }
                                }
                            }
                        }
                    }
                }
                Kind::Choice(offered) => {
                    label class="nhsuk-label" for=(id) { (label) }
                    (messages(field, error, &hint_id, &error_id))
                    select class="nhsuk-select" id=(id) name=(field.name) aria-describedby=[described.clone()] {
                        @if value.is_empty() { option value="" selected { "Choose…" } }
                        @for (option, text) in offered() {
                            option value=(option) selected[value == option] { (text) }
                        }
                    }
                }
                Kind::LongText => {
                    label class="nhsuk-label" for=(id) { (label) }
                    (messages(field, error, &hint_id, &error_id))
                    textarea class={"nhsuk-textarea" @if error.is_some() { " nhsuk-textarea--error" }} id=(id) name=(field.name) rows="3" aria-describedby=[described.clone()] { (value) }
                }
                Kind::Number => {
                    label class="nhsuk-label" for=(id) { (label) }
                    (messages(field, error, &hint_id, &error_id))
                    input class={"nhsuk-input nhsuk-input--width-4" @if error.is_some() { " nhsuk-input--error" }} id=(id) name=(field.name) type="text" inputmode="numeric" value=(value) aria-describedby=[described.clone()];
                }
                Kind::Champion => {
                    label class="nhsuk-label" for=(id) { (label) }
                    (messages(field, error, &hint_id, &error_id))
                    select class={"nhsuk-select" @if error.is_some() { " nhsuk-select--error" }} id=(id) name=(field.name) aria-describedby=[described] {
                        option value="" selected[value.is_empty()] { "Choose a champion" }
                        @for champion in champions {
                            option value=(champion.id) selected[value == champion.id] {
                                @if let Some(name) = &champion.name { (name) " (" (champion.id) ")" } @else { (champion.id) }
                            }
                        }
                    }
                }
                Kind::Text | Kind::SelfId => {
                    label class="nhsuk-label" for=(id) { (label) }
                    (messages(field, error, &hint_id, &error_id))
                    input class={"nhsuk-input" @if error.is_some() { " nhsuk-input--error" }} id=(id) name=(field.name) type="text" value=(value) aria-describedby=[described];
                }
            }
        }
    }
}

fn messages(field: &Field, error: Option<&str>, hint_id: &str, error_id: &str) -> Markup {
    html! {
        @if let Some(hint) = field.hint {
            div class="nhsuk-hint" id=(hint_id) { (hint) }
        }
        @if let Some(error) = error {
            span class="nhsuk-error-message" id=(error_id) {
                span class="nhsuk-u-visually-hidden" { "Error: " } (error)
            }
        }
    }
}

/// A label inside a sentence: its first letter lower-cased, unless its first word is an
/// abbreviation ("DHU", "GP").
fn lower_first(label: &str) -> String {
    let first_word = label.split(' ').next().unwrap_or("");
    if first_word.len() > 1 && first_word.chars().all(|c| c.is_ascii_uppercase()) {
        return label.to_string();
    }
    let mut chars = label.chars();
    chars
        .next()
        .map_or_else(String::new, |first| first.to_lowercase().chain(chars).collect())
}

/// A form's values once checked against its fields: text trimmed, numbers whole, choices among
/// the enum's own values.
#[derive(Debug, Default)]
pub struct Values {
    texts: Vec<(&'static str, String)>,
    numbers: Vec<(&'static str, i32)>,
    choices: Vec<(&'static str, Vec<String>)>,
}

impl Values {
    fn text(&self, name: &str) -> Option<String> {
        self.texts.iter().find(|(key, _)| *key == name).map(|(_, v)| v.clone())
    }

    fn number(&self, name: &str) -> Option<i32> {
        self.numbers.iter().find(|(key, _)| *key == name).map(|(_, v)| *v)
    }

    fn chosen<E: Labelled>(&self, name: &str) -> Vec<E> {
        self.choices
            .iter()
            .filter(|(key, _)| *key == name)
            .flat_map(|(_, values)| values.iter().filter_map(|v| crate::contract::parse::<E>(v)))
            .collect()
    }

    fn choice<E: Labelled>(&self, name: &str) -> Option<E> {
        self.chosen(name).into_iter().next()
    }
}

fn assign(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Assign(AssignCaseInput {
        case_id: c.case_id,
        champion_id: v.text("championId")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn contact(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Contact(RecordContactInput {
        case_id: c.case_id,
        channel: v.choice("channel")?,
        contact_name: v.text("contactName"),
        summary: v.text("summary")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn guidance(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Guidance(ShareGuidanceInput {
        case_id: c.case_id,
        guide: v.text("guide")?,
        version: v.text("version"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn root_cause(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::RootCause(RecordRootCauseInput {
        case_id: c.case_id,
        cause: v.choice("cause")?,
        detail: v.text("detail"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn remap(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Remap(RecordRemapInput {
        case_id: c.case_id,
        changes: Some(v.chosen("changes")).filter(|changes| !changes.is_empty())?,
        slots_per_day_configured: v.number("slotsPerDayConfigured")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn gp_connect(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::GpConnectReEnabled(RecordGpConnectReEnabledInput {
        case_id: c.case_id,
        reference: v.text("reference"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn dhu_confirm(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::DhuConfirm(ConfirmDhuVisibilityInput {
        case_id: c.case_id,
        visible_slots_per_day: v.number("visibleSlotsPerDay")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn dhu_issue(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::DhuIssue(ReportDhuVisibilityIssueInput {
        case_id: c.case_id,
        issue: v.text("issue")?,
        category: v.choice("category"),
        detail: v.text("detail"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn confirm_compliance(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::ConfirmCompliance(ConfirmComplianceInput {
        case_id: c.case_id,
        visible_slots_per_day: v.number("visibleSlotsPerDay")?,
        evidence: v.choice("evidence")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn close(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Close(CloseCaseInput {
        case_id: c.case_id,
        reason: v.choice("reason")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn reopen(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Reopen(ReopenCaseInput {
        case_id: c.case_id,
        reason: v.text("reason")?,
        visible_slots: v.number("visibleSlots"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn escalate(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Escalate(EscalateInput {
        case_id: c.case_id,
        reason: v.text("reason")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn conclude_review(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::ConcludeReview(ConcludeContractReviewInput {
        case_id: c.case_id,
        outcome: v.choice("outcome")?,
        note: v.text("note"),
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn note(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Note(AddNoteInput {
        case_id: c.case_id,
        text: v.text("text")?,
        expected_revision: c.expected_revision,
        command_id: c.command_id,
    }))
}

fn erase(c: Common, v: &Values) -> Option<CaseCommand> {
    Some(CaseCommand::Erase(EraseVariables {
        case_id: c.case_id,
        reason: v.text("reason")?,
        command_id: c.command_id,
    }))
}

/// The command the form asks for, or the fields that are wrong before asking the server.
pub fn input(
    action: &Action,
    case_id: &str,
    form: &[(String, String)],
    session: &Session,
) -> Result<CaseCommand, Vec<(String, String)>> {
    let value = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut values = Values::default();
    let mut errors = Vec::new();
    for field in action.fields {
        let given = value(field.name);
        let present = match field.kind {
            Kind::SelfId => {
                values.texts.push((field.name, session.actor.id.as_str().to_string()));
                true
            }
            Kind::Confirm(_) => {
                if given != Some("yes") {
                    errors.push((field.name.to_string(), "Tick the box to confirm".to_string()));
                }
                continue;
            }
            Kind::Choices(offered) => {
                let offered = offered();
                let chosen: Vec<String> = form
                    .iter()
                    .filter(|(key, _)| key == field.name)
                    .map(|(_, v)| v.trim().to_string())
                    .filter(|v| offered.iter().any(|(option, _)| option == v))
                    .collect();
                let present = !chosen.is_empty();
                values.choices.push((field.name, chosen));
                present
            }
            Kind::Choice(offered) => match given {
                Some(v) if offered().iter().any(|(option, _)| option == v) => {
                    values.choices.push((field.name, vec![v.to_string()]));
                    true
                }
                Some(_) => {
                    errors.push((
                        field.name.to_string(),
                        format!("Choose one of the {} listed", field.label.to_lowercase()),
                    ));
                    continue;
                }
                None => false,
            },
            Kind::Number => match given.map(str::parse::<i32>) {
                Some(Ok(n)) => {
                    values.numbers.push((field.name, n));
                    true
                }
                Some(Err(_)) => {
                    errors.push((
                        field.name.to_string(),
                        format!("{} must be a whole number", field.label),
                    ));
                    continue;
                }
                None => false,
            },
            Kind::Text | Kind::LongText | Kind::Champion => match given {
                Some(v) => {
                    values.texts.push((field.name, v.to_string()));
                    true
                }
                None => false,
            },
        };
        if !present && field.required {
            let verb = match field.kind {
                Kind::Choice(_) | Kind::Choices(_) => "Choose",
                _ => "Enter",
            };
            errors.push((field.name.to_string(), format!("{verb} {}", lower_first(field.label))));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let common = Common {
        case_id: cynic::Id::new(case_id),
        expected_revision: value("expectedRevision").and_then(|v| v.parse::<i32>().ok()),
        command_id: value("commandId").map(cynic::Id::new),
    };
    (action.build)(common, &values).ok_or_else(|| {
        vec![(
            action.fields.first().map_or("", |f| f.name).to_string(),
            "Check what you entered".to_string(),
        )]
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use caseledger_cases::CaseStatus;
    use serde_json::json;

    /// A case as its page's operation reads it.
    fn page(status: &str, review: bool, holder: Option<&str>, commands: &[CommandName]) -> CasePage {
        let commands: Vec<String> = commands
            .iter()
            .map(|command| crate::contract::name(crate::contract::enums::Command::from(*command)))
            .collect();
        serde_json::from_value(json!({
            "status": status, "revision": 1, "openedAt": "2026-01-05T09:00:00Z", "compliantAt": null,
            "closedAt": null, "requiredSlots": 2, "visibleSlots": null, "visibleSlotsSource": null,
            "visibleSlotsAt": null, "observedCompliant": false,
            "assignedTo": null, "holder": holder, "availableCommands": commands, "rootCauses": [],
            "openDhuIssue": false, "reopenReason": null, "source": "DASHBOARD", "dhuShortfall": null,
            "contractReviewOpen": review, "contractReviews": [], "dhuReport": null, "deadline": null,
            "latestVerification": null, "history": [], "practiceAnswers": [],
            "practice": { "odsCode": "A00001", "name": "A", "pcnCode": "U1", "pcnName": null, "place": "P", "listSize": 6000 }
        }))
        .unwrap()
    }

    #[test]
    fn the_form_a_page_leads_with_is_the_next_step_of_whoever_takes_it() {
        let next = |role, status, holder, mine| next_for(role, &page(status, false, holder, &[]), mine);
        assert_eq!(next(Role::Champion, "FLAGGED", Some("NOBODY"), false), Some("assign"));
        assert_eq!(
            next(Role::Icb, "FLAGGED", Some("NOBODY"), false),
            Some("assign-champion")
        );
        assert_eq!(next(Role::Champion, "FLAGGED", Some("YOU"), true), Some("contact"));
        assert_eq!(next(Role::Champion, "CONTACTED", Some("SOMEONE_ELSE"), false), None);
        assert_eq!(next(Role::Champion, "CONTACTED", Some("YOU"), true), Some("root-cause"));
        assert_eq!(next(Role::Dhu, "REMAPPED", None, false), Some("dhu-confirm"));
        assert_eq!(
            next(Role::Champion, "REMAPPED", Some("YOU"), true),
            None,
            "the DHU's turn"
        );
        assert_eq!(
            next(Role::Icb, "DHU_CONFIRMED", Some("SOMEONE_ELSE"), false),
            Some("confirm-compliance")
        );
        assert_eq!(next(Role::Icb, "COMPLIANT", Some("SOMEONE_ELSE"), false), Some("close"));
        assert_eq!(next(Role::Lmc, "FLAGGED", None, false), None);
    }

    #[test]
    fn a_later_count_below_the_requirement_asks_the_icb_to_confirm_again() {
        let commands = [CommandName::ConfirmCompliance, CommandName::CloseCase];
        let with_latest = |source: &str, visible: i32| {
            let mut case = page("DHU_CONFIRMED", false, Some("SOMEONE_ELSE"), &commands);
            case.visible_slots = Some(visible);
            case.visible_slots_source = crate::contract::parse(source);
            case
        };
        // The DHU's own count, or a later one that agrees: the plain decision.
        for (source, visible) in [("DHU_CONFIRMATION", 2), ("DASHBOARD", 2), ("GP_CONNECT", 3)] {
            let case = with_latest(source, visible);
            assert!(!contradicted(&case), "{source} {visible}");
            assert_eq!(next_for(Role::Icb, &case, false), Some("confirm-compliance"));
            let slugs: Vec<&str> = offered(Role::Icb, &case).map(|a| a.slug).collect();
            assert!(!slugs.contains(&"confirm-compliance-checked"), "{slugs:?}");
        }
        // A dashboard row or a GP Connect check after it showing fewer: the form with a box to tick.
        for source in ["DASHBOARD", "GP_CONNECT"] {
            let case = with_latest(source, 1);
            assert!(contradicted(&case));
            assert_eq!(next_for(Role::Icb, &case, false), Some("confirm-compliance-checked"));
            let slugs: Vec<&str> = offered(Role::Icb, &case).map(|a| a.slug).collect();
            assert!(
                !slugs.contains(&"confirm-compliance"),
                "only the checked form: {slugs:?}"
            );
            let checked = find("confirm-compliance-checked").unwrap();
            let session = crate::session::Session {
                actor: caseledger_cases::Actor::new(
                    caseledger_cases::values::ShortText::parse("icb-1").unwrap(),
                    Role::Icb,
                ),
                csrf: String::new(),
            };
            let unticked = [
                ("visibleSlotsPerDay".to_string(), "2".to_string()),
                ("evidence".to_string(), "DHU_CONFIRMATION".to_string()),
            ];
            let refused = input(checked, "c", &unticked, &session).unwrap_err();
            assert_eq!(
                refused,
                vec![("checked".to_string(), "Tick the box to confirm".to_string())]
            );
        }
    }

    #[test]
    fn every_form_issues_its_catalogue_command_typed_and_narrows_never_widens() {
        let session = crate::session::Session {
            actor: caseledger_cases::Actor::new(
                caseledger_cases::values::ShortText::parse("dc-amira").unwrap(),
                Role::Champion,
            ),
            csrf: String::new(),
        };
        for action in ACTIONS {
            let rule = action.command.rule();
            for role in action.only.into_iter().flatten() {
                assert!(
                    rule.permits(*role),
                    "{} offered to {role} whom the rule refuses",
                    action.slug
                );
            }
            // A form filled in as a person would: the typed command it builds is its own.
            let mut form = vec![
                ("expectedRevision".to_string(), "3".to_string()),
                (
                    "commandId".to_string(),
                    "7a1c1d3e-0000-4000-8000-000000000001".to_string(),
                ),
            ];
            for field in action.fields {
                let typed = match field.kind {
                    Kind::Text | Kind::LongText => "Something said".to_string(),
                    Kind::Number => "2".to_string(),
                    Kind::Choice(offered) | Kind::Choices(offered) => offered()[0].0.clone(),
                    Kind::Confirm(_) => "yes".to_string(),
                    Kind::Champion => "dc-ben".to_string(),
                    Kind::SelfId => continue,
                };
                form.push((field.name.to_string(), typed));
            }
            let command =
                input(action, "case-1", &form, &session).unwrap_or_else(|errors| panic!("{}: {errors:?}", action.slug));
            assert_eq!(command.command(), action.command, "{}", action.slug);
            if action.command != CommandName::ErasePersonalData {
                assert_eq!(command.expected_revision(), Some(3), "{}", action.slug);
            }
            // Every required field left out is named, and nothing is built.
            let blank = input(action, "case-1", &form[..2], &session);
            let required = action
                .fields
                .iter()
                .filter(|f| f.required && !matches!(f.kind, Kind::SelfId))
                .count();
            match blank {
                Err(errors) => assert_eq!(errors.len(), required, "{}: {errors:?}", action.slug),
                Ok(_) => assert_eq!(required, 0, "{}", action.slug),
            }
        }
    }

    #[test]
    fn values_an_event_holds_read_as_the_forms_name_them() {
        assert_eq!(
            value_label("cause", "slot_type_not_external"),
            Some("Slot type not externally visible")
        );
        assert_eq!(value_label("channel", "SITE_VISIT"), Some("Site visit"));
        assert_eq!(value_label("outcome", "breach_notice"), Some("Breach notice"));
        // Each field through its own enum: "other" is a review's "Other", a cause's "Something
        // else", and free text as written.
        assert_eq!(value_label("outcome", "other"), Some("Other"));
        assert_eq!(value_label("cause", "other"), Some("Something else"));
        assert_eq!(value_label("text", "other"), None);
        assert_eq!(value_label("channel", "not a value"), None);
    }

    #[test]
    fn the_forms_offered_follow_the_rules_and_the_case() {
        // What the API answers in `availableCommands`: the catalogue's commands for the role and
        // status (the API adds whether a champion holds the case; tested there).
        let commands = |role: Role, status: &str| -> Vec<CommandName> {
            let status = CaseStatus::parse(status);
            caseledger_cases::case::COMMANDS
                .iter()
                .filter(|rule| rule.permits(role) && rule.allowed.admits(status))
                .map(|rule| rule.command)
                .collect()
        };
        let slugs = |role, case: &CasePage| offered(role, case).map(|a| a.slug).collect::<Vec<_>>();
        let case = |role, status: &str, review: bool| page(status, review, None, &commands(role, status));
        assert!(
            slugs(Role::Admin, &case(Role::Admin, "CLOSED", false)).contains(&"reopen"),
            "admins reopen"
        );
        assert!(!slugs(Role::Admin, &case(Role::Admin, "FLAGGED", false)).contains(&"note"));
        let icb_in_review = slugs(Role::Icb, &case(Role::Icb, "FLAGGED", true));
        assert!(icb_in_review.contains(&"conclude-review") && !icb_in_review.contains(&"escalate"));
        assert!(!slugs(Role::Dhu, &case(Role::Dhu, "FLAGGED", false)).contains(&"dhu-issue"));
        assert!(slugs(Role::Dhu, &case(Role::Dhu, "REMAPPED", false)).contains(&"dhu-issue"));
        assert!(slugs(Role::Lmc, &case(Role::Lmc, "FLAGGED", false)).is_empty());
        let held_elsewhere = page("CONTACTED", false, Some("SOMEONE_ELSE"), &[]);
        assert!(
            slugs(Role::Champion, &held_elsewhere).is_empty(),
            "nothing the API does not allow"
        );
    }
}
