//! The case page's commands: one typed input and one mutation each, checked against the schema
//! when this crate compiles. A form parses into one of these once ([`CaseCommand`]); running it
//! answers the case's new revision.

use caseledger_cases::Actor;
use caseledger_commands::RequestIds;
use cynic::MutationBuilder;

use crate::contract::enums::{CloseReason, ContactChannel, ContractReviewOutcome, Evidence, RemapChange, RootCause};
use crate::contract::schema;
use crate::gql::{GqlError, InProcess};

/// What every case command carries beside its own fields: the case, the revision the page showed
/// (a conflict if the case has moved on) and the command's id (a double submission carries the
/// same one, so it is applied once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    pub case_id: cynic::Id,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

/// The case's revision after a command.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CasePayload")]
pub struct Payload {
    pub revision: i32,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct AssignCaseInput {
    pub case_id: cynic::Id,
    pub champion_id: String,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct AssignVariables {
    pub input: AssignCaseInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "AssignVariables")]
pub struct AssignMutation {
    #[arguments(input: $input)]
    pub assign_case: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct RecordContactInput {
    pub case_id: cynic::Id,
    pub channel: ContactChannel,
    pub contact_name: Option<String>,
    pub summary: String,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ContactVariables {
    pub input: RecordContactInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ContactVariables")]
pub struct ContactMutation {
    #[arguments(input: $input)]
    pub record_contact: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ShareGuidanceInput {
    pub case_id: cynic::Id,
    pub guide: String,
    pub version: Option<String>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct GuidanceVariables {
    pub input: ShareGuidanceInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "GuidanceVariables")]
pub struct GuidanceMutation {
    #[arguments(input: $input)]
    pub share_guidance: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct RecordRootCauseInput {
    pub case_id: cynic::Id,
    pub cause: RootCause,
    pub detail: Option<String>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct RootCauseVariables {
    pub input: RecordRootCauseInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "RootCauseVariables")]
pub struct RootCauseMutation {
    #[arguments(input: $input)]
    pub record_root_cause: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct RecordRemapInput {
    pub case_id: cynic::Id,
    pub changes: Vec<RemapChange>,
    pub slots_per_day_configured: i32,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct RemapVariables {
    pub input: RecordRemapInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "RemapVariables")]
pub struct RemapMutation {
    #[arguments(input: $input)]
    pub record_remap: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct RecordGpConnectReEnabledInput {
    pub case_id: cynic::Id,
    pub reference: Option<String>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct GpConnectReEnabledVariables {
    pub input: RecordGpConnectReEnabledInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "GpConnectReEnabledVariables")]
pub struct GpConnectReEnabledMutation {
    #[arguments(input: $input)]
    pub record_gp_connect_re_enabled: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ConfirmDhuVisibilityInput {
    pub case_id: cynic::Id,
    pub visible_slots_per_day: i32,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct DhuConfirmVariables {
    pub input: ConfirmDhuVisibilityInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "DhuConfirmVariables")]
pub struct DhuConfirmMutation {
    #[arguments(input: $input)]
    pub confirm_dhu_visibility: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ReportDhuVisibilityIssueInput {
    pub case_id: cynic::Id,
    pub issue: String,
    pub category: Option<RootCause>,
    pub detail: Option<String>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct DhuIssueVariables {
    pub input: ReportDhuVisibilityIssueInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "DhuIssueVariables")]
pub struct DhuIssueMutation {
    #[arguments(input: $input)]
    pub report_dhu_visibility_issue: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ConfirmComplianceInput {
    pub case_id: cynic::Id,
    pub visible_slots_per_day: i32,
    pub evidence: Evidence,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ConfirmComplianceVariables {
    pub input: ConfirmComplianceInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ConfirmComplianceVariables")]
pub struct ConfirmComplianceMutation {
    #[arguments(input: $input)]
    pub confirm_compliance: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct CloseCaseInput {
    pub case_id: cynic::Id,
    pub reason: CloseReason,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CloseVariables {
    pub input: CloseCaseInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "CloseVariables")]
pub struct CloseMutation {
    #[arguments(input: $input)]
    pub close_case: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ReopenCaseInput {
    pub case_id: cynic::Id,
    pub reason: String,
    pub visible_slots: Option<i32>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ReopenVariables {
    pub input: ReopenCaseInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ReopenVariables")]
pub struct ReopenMutation {
    #[arguments(input: $input)]
    pub reopen_case: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct EscalateInput {
    pub case_id: cynic::Id,
    pub reason: String,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct EscalateVariables {
    pub input: EscalateInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "EscalateVariables")]
pub struct EscalateMutation {
    #[arguments(input: $input)]
    pub escalate_to_contract_review: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct ConcludeContractReviewInput {
    pub case_id: cynic::Id,
    pub outcome: ContractReviewOutcome,
    pub note: Option<String>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct ConcludeReviewVariables {
    pub input: ConcludeContractReviewInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "ConcludeReviewVariables")]
pub struct ConcludeReviewMutation {
    #[arguments(input: $input)]
    pub conclude_contract_review: Payload,
}

#[derive(cynic::InputObject, Debug, Clone)]
pub struct AddNoteInput {
    pub case_id: cynic::Id,
    pub text: String,
    pub expected_revision: Option<i32>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct NoteVariables {
    pub input: AddNoteInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "NoteVariables")]
pub struct NoteMutation {
    #[arguments(input: $input)]
    pub add_note: Payload,
}

#[derive(cynic::QueryVariables, Debug, Clone)]
pub struct EraseVariables {
    pub case_id: cynic::Id,
    pub reason: String,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "EraseVariables")]
pub struct EraseMutation {
    #[arguments(caseId: $case_id, reason: $reason, commandId: $command_id)]
    pub erase_personal_data: Payload,
}

/// A case command as a form parsed it, ready to run.
#[derive(Debug, Clone)]
pub enum CaseCommand {
    Assign(AssignCaseInput),
    Contact(RecordContactInput),
    Guidance(ShareGuidanceInput),
    RootCause(RecordRootCauseInput),
    Remap(RecordRemapInput),
    GpConnectReEnabled(RecordGpConnectReEnabledInput),
    DhuConfirm(ConfirmDhuVisibilityInput),
    DhuIssue(ReportDhuVisibilityIssueInput),
    ConfirmCompliance(ConfirmComplianceInput),
    Close(CloseCaseInput),
    Reopen(ReopenCaseInput),
    Escalate(EscalateInput),
    ConcludeReview(ConcludeContractReviewInput),
    Note(AddNoteInput),
    Erase(EraseVariables),
}

impl CaseCommand {
    /// The catalogue's name of the command.
    #[cfg(test)]
    pub fn command(&self) -> caseledger_cases::case::CommandName {
        use caseledger_cases::case::CommandName;
        match self {
            Self::Assign(_) => CommandName::AssignCase,
            Self::Contact(_) => CommandName::RecordContact,
            Self::Guidance(_) => CommandName::ShareGuidance,
            Self::RootCause(_) => CommandName::RecordRootCause,
            Self::Remap(_) => CommandName::RecordRemap,
            Self::GpConnectReEnabled(_) => CommandName::RecordGpConnectReEnabled,
            Self::DhuConfirm(_) => CommandName::ConfirmDhuVisibility,
            Self::DhuIssue(_) => CommandName::ReportDhuVisibilityIssue,
            Self::ConfirmCompliance(_) => CommandName::ConfirmCompliance,
            Self::Close(_) => CommandName::CloseCase,
            Self::Reopen(_) => CommandName::ReopenCase,
            Self::Escalate(_) => CommandName::EscalateToContractReview,
            Self::ConcludeReview(_) => CommandName::ConcludeContractReview,
            Self::Note(_) => CommandName::AddNote,
            Self::Erase(_) => CommandName::ErasePersonalData,
        }
    }

    /// The revision the command expected, if the page said.
    pub fn expected_revision(&self) -> Option<i32> {
        match self {
            Self::Assign(input) => input.expected_revision,
            Self::Contact(input) => input.expected_revision,
            Self::Guidance(input) => input.expected_revision,
            Self::RootCause(input) => input.expected_revision,
            Self::Remap(input) => input.expected_revision,
            Self::GpConnectReEnabled(input) => input.expected_revision,
            Self::DhuConfirm(input) => input.expected_revision,
            Self::DhuIssue(input) => input.expected_revision,
            Self::ConfirmCompliance(input) => input.expected_revision,
            Self::Close(input) => input.expected_revision,
            Self::Reopen(input) => input.expected_revision,
            Self::Escalate(input) => input.expected_revision,
            Self::ConcludeReview(input) => input.expected_revision,
            Self::Note(input) => input.expected_revision,
            Self::Erase(_) => None,
        }
    }

    /// Runs the command as `actor`: the case's revision after it, or every error.
    pub async fn run(self, api: &InProcess, actor: &Actor, ids: Option<RequestIds>) -> Result<i32, Vec<GqlError>> {
        use crate::contract::run;
        let payload = match self {
            Self::Assign(input) => {
                run(api, actor, ids, AssignMutation::build(AssignVariables { input }))
                    .await?
                    .assign_case
            }
            Self::Contact(input) => {
                run(api, actor, ids, ContactMutation::build(ContactVariables { input }))
                    .await?
                    .record_contact
            }
            Self::Guidance(input) => {
                run(api, actor, ids, GuidanceMutation::build(GuidanceVariables { input }))
                    .await?
                    .share_guidance
            }
            Self::RootCause(input) => {
                run(api, actor, ids, RootCauseMutation::build(RootCauseVariables { input }))
                    .await?
                    .record_root_cause
            }
            Self::Remap(input) => {
                run(api, actor, ids, RemapMutation::build(RemapVariables { input }))
                    .await?
                    .record_remap
            }
            Self::GpConnectReEnabled(input) => {
                run(
                    api,
                    actor,
                    ids,
                    GpConnectReEnabledMutation::build(GpConnectReEnabledVariables { input }),
                )
                .await?
                .record_gp_connect_re_enabled
            }
            Self::DhuConfirm(input) => {
                run(
                    api,
                    actor,
                    ids,
                    DhuConfirmMutation::build(DhuConfirmVariables { input }),
                )
                .await?
                .confirm_dhu_visibility
            }
            Self::DhuIssue(input) => {
                run(api, actor, ids, DhuIssueMutation::build(DhuIssueVariables { input }))
                    .await?
                    .report_dhu_visibility_issue
            }
            Self::ConfirmCompliance(input) => {
                run(
                    api,
                    actor,
                    ids,
                    ConfirmComplianceMutation::build(ConfirmComplianceVariables { input }),
                )
                .await?
                .confirm_compliance
            }
            Self::Close(input) => {
                run(api, actor, ids, CloseMutation::build(CloseVariables { input }))
                    .await?
                    .close_case
            }
            Self::Reopen(input) => {
                run(api, actor, ids, ReopenMutation::build(ReopenVariables { input }))
                    .await?
                    .reopen_case
            }
            Self::Escalate(input) => {
                run(api, actor, ids, EscalateMutation::build(EscalateVariables { input }))
                    .await?
                    .escalate_to_contract_review
            }
            Self::ConcludeReview(input) => {
                run(
                    api,
                    actor,
                    ids,
                    ConcludeReviewMutation::build(ConcludeReviewVariables { input }),
                )
                .await?
                .conclude_contract_review
            }
            Self::Note(input) => {
                run(api, actor, ids, NoteMutation::build(NoteVariables { input }))
                    .await?
                    .add_note
            }
            Self::Erase(variables) => {
                run(api, actor, ids, EraseMutation::build(variables))
                    .await?
                    .erase_personal_data
            }
        };
        Ok(payload.revision)
    }
}
