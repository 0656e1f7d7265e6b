//! The mutation root: every party's commands. Each checks the caller's role, parses its input
//! into value types (BAD_USER_INPUT on anything wrong), runs the command, and answers once the
//! views show its effect, so the caller reads its own writes.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use caseledger_cases::case::{CommandName, FlagSource, FlagSourceKind};
use caseledger_cases::practice::PracticeDetails;
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount, ValueError};
use caseledger_cases::{Action, Actor, Role as DomainRole};
use caseledger_commands::throttle::Work;
use caseledger_commands::{Outcome, Reported};
use caseledger_projections::read_back;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::case::CaseNode;
use super::command::{Common, context, field, wait};
use super::enums::{CloseReason, ContactChannel, ContractReviewOutcome, Evidence, RemapChange, RootCause};
use super::reports::{DhuReport, dhu_report};
use super::scalars::Date;
use super::verification::SlotVerification;
use super::{require, require_command, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

use DomainRole::{Admin, Icb};

#[derive(SimpleObject, Debug)]
pub struct CasePayload {
    pub case: CaseNode,
    pub revision: i32,
}

#[derive(SimpleObject, Debug)]
pub struct ImportError {
    pub line: i32,
    pub column: Option<String>,
    pub message: String,
}

#[derive(SimpleObject, Debug)]
pub struct ImportReport {
    pub report_date: Option<Date>,
    pub rows: i32,
    pub observed: i32,
    pub flagged: i32,
    pub reopened: i32,
    /// The first 100 errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    /// How many errors there were in all (only the first 100 are listed).
    pub error_count: i32,
    /// Registered practices the extract has no row for ("no data this week"): the first 100.
    pub missing: Vec<String>,
    pub missing_count: i32,
}

/// What a practice register import did.
#[derive(SimpleObject, Debug)]
pub struct RegisterImportReport {
    pub rows: i32,
    /// Practices registered for the first time.
    pub registered: i32,
    /// Practices whose entry changed (`PracticeDetailsChanged`).
    pub changed: i32,
    pub unchanged: i32,
    /// The first 100 errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    pub error_count: i32,
}

/// What an import of a file NHS England publishes (ODS's practices, list sizes, PCNs) did.
#[derive(SimpleObject, Debug)]
pub struct PublishedImportReport {
    /// The file's rows about this ICB's practices.
    pub rows: i32,
    /// Rows about other ICBs' organisations, passed over.
    pub other_icbs: i32,
    /// Rows of this ICB passed over: organisations that are not GP practices, or list sizes
    /// broken down by sex or age.
    pub passed_over: i32,
    /// The list sizes' extract date (their business time).
    pub extract_date: Option<Date>,
    /// Practices registered for the first time.
    pub registered: i32,
    /// Practices whose entry changed.
    pub changed: i32,
    pub unchanged: i32,
    /// Practices that closed with this file.
    pub closed: Vec<String>,
    /// Closed practices whose case is still open: the ICB decides (close as practice closed).
    pub closed_with_open_case: Vec<String>,
    /// Practices ODS lists that wait for a list size before they enter the register (first 100).
    pub awaiting_list_size: Vec<String>,
    /// Rows about practices ODS does not list for this ICB, passed over.
    pub not_in_register: i32,
    /// List sizes older than the one held for their practice, passed over.
    pub older: i32,
    /// COMPLIANT cases reopened because the list size raised the requirement.
    pub reopened: i32,
    /// The first 100 errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    pub error_count: i32,
}

impl From<caseledger_commands::PublishedReport> for PublishedImportReport {
    fn from(report: caseledger_commands::PublishedReport) -> Self {
        Self {
            rows: count(report.rows),
            other_icbs: count(report.other_icbs),
            passed_over: count(report.passed_over),
            extract_date: report.extract_date.map(Date),
            registered: count(report.registered),
            changed: count(report.changed),
            unchanged: count(report.unchanged),
            closed: report.closed,
            closed_with_open_case: report.closed_with_open_case,
            awaiting_list_size: report.awaiting_list_size,
            not_in_register: count(report.not_in_register),
            older: count(report.older),
            reopened: count(report.reopened),
            error_count: count(report.error_count),
            errors: import_errors(report.errors),
        }
    }
}

/// What an import of the DHU's own extract did.
#[derive(SimpleObject, Debug)]
pub struct DhuExtractReport {
    pub rows: i32,
    /// Rows written now (a re-import writes none).
    pub observed: i32,
    /// The first 100 errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    pub error_count: i32,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<caseledger_commands::DhuExtractReport> for DhuExtractReport {
    fn from(report: caseledger_commands::DhuExtractReport) -> Self {
        Self {
            rows: count(report.rows),
            observed: count(report.observed),
            error_count: count(report.error_count),
            errors: import_errors(report.errors),
        }
    }
}

fn import_errors(errors: Vec<caseledger_cases::dashboard::ImportError>) -> Vec<ImportError> {
    errors
        .into_iter()
        .map(|e| ImportError {
            line: i32::try_from(e.line).unwrap_or(i32::MAX),
            column: e.column,
            message: e.message,
        })
        .collect()
}

macro_rules! common {
    ($input:expr) => {
        Common {
            occurred_at: $input.occurred_at,
            expected_revision: $input.expected_revision,
            command_id: $input.command_id.clone(),
        }
    };
}

fn case_id(id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("caseId", "not a case id"))
        .gql()
}

/// A report's id and the practice it is about (from the view; the command checks the practice's
/// own stream holds the report).
async fn report_practice(ctx: &Context<'_>, id: &ID) -> ApiResult<(Uuid, OdsCode)> {
    let report_id = Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("reportId", "not a report id"))
        .gql()?;
    let ods_code = caseledger_projections::dhu_report_view::by_id(state(ctx).reads.primary_pool(), report_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .ok_or_else(|| ApiError::NotFound("no such DHU report".into()))
        .gql()?
        .ods_code;
    Ok((report_id, field("odsCode", OdsCode::parse(&ods_code))?))
}

/// Waits for the views, then answers with the case as the command left it.
async fn answer(ctx: &Context<'_>, actor: &Actor, outcome: Outcome) -> ApiResult<CasePayload> {
    let app = state(ctx);
    let written = read_back::Written {
        case_id: outcome.case_id,
        case: &outcome.case,
        position: outcome.position,
        types: &outcome.types,
        duplicate: outcome.duplicate,
    };
    let data = read_back::case_after(&app.store, &app.reads, &written, app.read_your_writes)
        .await
        .map_err(ApiError::internal)
        .gql()?
        .ok_or_else(|| ApiError::NotFound("no such case".into()))
        .gql()?;
    let revision = i32::try_from(outcome.revision).unwrap_or(i32::MAX);
    Ok(CasePayload {
        case: CaseNode::seen_by(data, actor),
        revision,
    })
}

async fn run(ctx: &Context<'_>, actor: &Actor, id: &ID, common: Common, action: Action) -> ApiResult<CasePayload> {
    let case_id = case_id(id)?;
    let context = context(ctx, actor, common)?;
    let outcome = state(ctx)
        .commands
        .execute(case_id, &context, action, caseledger_clock::now())
        .await
        .map_err(ApiError::from)
        .gql()?;
    answer(ctx, actor, outcome).await
}

#[derive(InputObject, Debug)]
pub struct FlagPracticeInput {
    pub ods_code: String,
    pub practice_name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub visible_slots: i32,
    pub reason: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct AssignCaseInput {
    pub case_id: ID,
    pub champion_id: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct RecordContactInput {
    pub case_id: ID,
    pub channel: ContactChannel,
    pub contact_name: Option<String>,
    pub summary: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ShareGuidanceInput {
    pub case_id: ID,
    pub guide: String,
    pub version: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct RecordRootCauseInput {
    pub case_id: ID,
    pub cause: RootCause,
    pub detail: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct RecordRemapInput {
    pub case_id: ID,
    pub changes: Vec<RemapChange>,
    pub slots_per_day_configured: i32,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct RecordGpConnectReEnabledInput {
    pub case_id: ID,
    pub reference: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ConfirmDhuVisibilityInput {
    pub case_id: ID,
    pub visible_slots_per_day: i32,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ReportDhuVisibilityIssueInput {
    pub case_id: ID,
    /// A short description of what the DHU found.
    pub issue: String,
    /// What the DHU found, in the root-cause vocabulary (OTHER when not given).
    pub category: Option<RootCause>,
    pub detail: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ConfirmComplianceInput {
    pub case_id: ID,
    pub visible_slots_per_day: i32,
    pub evidence: Evidence,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct CloseCaseInput {
    pub case_id: ID,
    pub reason: CloseReason,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ReopenCaseInput {
    pub case_id: ID,
    pub reason: String,
    pub visible_slots: Option<i32>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct AddNoteInput {
    pub case_id: ID,
    pub text: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct EscalateInput {
    pub case_id: ID,
    pub reason: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct ConcludeContractReviewInput {
    pub case_id: ID,
    pub outcome: ContractReviewOutcome,
    /// The ICB's note: for the ICB only.
    pub note: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub expected_revision: Option<i32>,
    pub command_id: Option<ID>,
}

/// What the DHU sees on a practice, whatever its cases.
#[derive(InputObject, Debug)]
pub struct ReportVisibilityProblemInput {
    pub ods_code: String,
    /// What the DHU found, in the root-cause vocabulary (OTHER for anything else).
    pub category: RootCause,
    pub detail: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct OpenCaseFromDhuReportInput {
    pub report_id: ID,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct DismissDhuReportInput {
    pub report_id: ID,
    /// Why nothing needs doing: for the ICB only.
    pub reason: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub command_id: Option<ID>,
}

/// Where a DHU report went: onto the practice's open case (`case`), or to the ICB's triage
/// (`report`).
#[derive(SimpleObject, Debug)]
pub struct VisibilityReportPayload {
    pub case: Option<CaseNode>,
    pub report: Option<DhuReport>,
}

fn slots(name: &str, value: i32) -> ApiResult<SlotCount> {
    field(name, SlotCount::new(i64::from(value)))
}

#[derive(Debug, Default)]
pub struct MutationRoot;

/// Imports a published file as the caller, and waits for the views to show it.
async fn published(
    ctx: &Context<'_>,
    file: caseledger_commands::PublishedFile,
    csv: String,
) -> ApiResult<PublishedImportReport> {
    let actor = require_command(ctx, CommandName::RegisterPractice)?;
    let _working = super::throttle(ctx, actor, Work::Import)?;
    let commands = &state(ctx).commands;
    let now = caseledger_clock::now();
    let report = match file {
        caseledger_commands::PublishedFile::Ods => commands.import_ods(actor, &csv, now).await,
        caseledger_commands::PublishedFile::ListSizes => commands.import_list_sizes(actor, &csv, now).await,
        caseledger_commands::PublishedFile::Pcns => commands.import_pcns(actor, &csv, now).await,
    }
    .map_err(ApiError::from)
    .gql()?;
    wait(ctx, report.last_position, false).await?;
    Ok(report.into())
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Imports a dashboard extract (CSV). A file with any bad row is rejected whole.
    async fn import_dashboard(&self, ctx: &Context<'_>, csv: String) -> ApiResult<ImportReport> {
        let actor = require(ctx, &[Icb, Admin], "import a dashboard")?;
        let _working = super::throttle(ctx, actor, Work::Import)?;
        let app = state(ctx);
        let report = app
            .commands
            .import_dashboard(actor, &csv, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, report.last_position, false).await?;
        Ok(ImportReport {
            report_date: report.report_date.map(Date),
            rows: count(report.rows),
            observed: count(report.observed),
            flagged: count(report.flagged),
            reopened: count(report.reopened),
            error_count: count(report.error_count),
            errors: import_errors(report.errors),
            missing: report.missing,
            missing_count: count(report.missing_count),
        })
    }

    /// Imports the practice register (CSV: ods_code, practice_name, pcn_code, pcn_name, place,
    /// list_size, main_site, and optionally branch_sites separated by `;`). Checked whole: a file
    /// with any bad row is rejected with every error. From then on, dashboard and DHU rows are
    /// checked against it. ICB and admins.
    async fn import_practice_register(&self, ctx: &Context<'_>, csv: String) -> ApiResult<RegisterImportReport> {
        let actor = require_command(ctx, CommandName::RegisterPractice)?;
        let _working = super::throttle(ctx, actor, Work::Import)?;
        let report = state(ctx)
            .commands
            .import_register(actor, &csv, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, report.last_position, false).await?;
        Ok(RegisterImportReport {
            rows: count(report.rows),
            registered: count(report.registered),
            changed: count(report.changed),
            unchanged: count(report.unchanged),
            error_count: count(report.error_count),
            errors: import_errors(report.errors),
        })
    }

    /// Imports ODS's GP practices file (`epraccur.csv`) as published: this ICB's practices
    /// (`CASELEDGER_SUB_ICB_CODES`; other ICBs' rows and other settings passed over) with their
    /// address, telephone, open and close dates. A practice enters the register once its list
    /// size is known. Checked whole. ICB and admins.
    async fn import_ods_practices(&self, ctx: &Context<'_>, csv: String) -> ApiResult<PublishedImportReport> {
        published(ctx, caseledger_commands::PublishedFile::Ods, csv).await
    }

    /// Imports "Patients Registered at a GP Practice" (`gp-reg-pat-prac-all.csv`) as published:
    /// each practice's list size, dated its extract date; a rise that lifts the requirement
    /// reopens a COMPLIANT case. Checked whole. ICB and admins.
    async fn import_list_sizes(&self, ctx: &Context<'_>, csv: String) -> ApiResult<PublishedImportReport> {
        published(ctx, caseledger_commands::PublishedFile::ListSizes, csv).await
    }

    /// Imports ODS's ePCN release (its core partner details, as CSV): each practice's PCN by its
    /// membership dates. Checked whole. ICB and admins.
    async fn import_pcns(&self, ctx: &Context<'_>, csv: String) -> ApiResult<PublishedImportReport> {
        published(ctx, caseledger_commands::PublishedFile::Pcns, csv).await
    }

    /// Imports the DHU's own visibility extract (CSV: ods_code, date, slots_visible: the bookable
    /// 111 slots it could see in core hours that day). Checked whole; a re-import writes nothing.
    /// The DHU and admins.
    async fn import_dhu_extract(&self, ctx: &Context<'_>, csv: String) -> ApiResult<DhuExtractReport> {
        let actor = require_command(ctx, CommandName::ImportDhuExtract)?;
        let _working = super::throttle(ctx, actor, Work::Import)?;
        let report = state(ctx)
            .commands
            .import_dhu_extract(actor, &csv, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, report.last_position, false).await?;
        Ok(DhuExtractReport::from(report))
    }

    /// Imports the 111 provider's weekly extract of calls to 111 in core hours by practice (CSV:
    /// week_start (a Monday), ods_code, calls). Checked whole; a re-import writes nothing; a week's
    /// count is recorded once. The DHU, the ICB and admins.
    async fn import_core_hours_calls(&self, ctx: &Context<'_>, csv: String) -> ApiResult<DhuExtractReport> {
        let actor = require_command(ctx, CommandName::ImportCoreHoursCalls)?;
        let _working = super::throttle(ctx, actor, Work::Import)?;
        let report = state(ctx)
            .commands
            .import_core_hours_calls(actor, &csv, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, report.last_position, false).await?;
        Ok(DhuExtractReport::from(report))
    }

    /// Imports practices' months of telephony (CSV: month (YYYY-MM, ended), ods_code,
    /// inbound_calls, average_wait_seconds, abandonment_rate (a percentage), average_call_seconds,
    /// callbacks). Checked whole; a re-import writes nothing; a practice's month is recorded once.
    /// The ICB and admins for any practice; a PCN's clinical director for its own practices only.
    async fn import_telephony_metrics(&self, ctx: &Context<'_>, csv: String) -> ApiResult<DhuExtractReport> {
        let actor = require_command(ctx, CommandName::ImportTelephonyMetrics)?;
        let _working = super::throttle(ctx, actor, Work::Import)?;
        let report = state(ctx)
            .commands
            .import_telephony_metrics(actor, &csv, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, report.last_position, false).await?;
        Ok(DhuExtractReport::from(report))
    }

    /// A PCN's clinical director records what the PCN agreed at its review of a month (the
    /// month's first day, not in the future). The note is the PCN's own: no other party reads it.
    async fn record_pcn_review_note(
        &self,
        ctx: &Context<'_>,
        input: super::telephony::RecordPcnReviewNoteInput,
    ) -> ApiResult<super::telephony::PcnReviewNote> {
        super::telephony::record_note(ctx, input).await
    }

    /// The 111 provider reports a gap in a service's Directory of Services entry: its DoS id and
    /// name, the kind, when it bit (not in the future, at most 90 days ago), the practice whose
    /// entry it is when the service is a GP practice's, and what it found.
    async fn report_dos_gap(
        &self,
        ctx: &Context<'_>,
        input: super::dos::ReportDosGapInput,
    ) -> ApiResult<super::dos::DosGap> {
        super::dos::report(ctx, input).await
    }

    /// The ICB triages a reported gap: a DoS case is opened, or it is dismissed with a reason.
    async fn triage_dos_gap(
        &self,
        ctx: &Context<'_>,
        input: super::dos::TriageDosGapInput,
    ) -> ApiResult<super::dos::DosGap> {
        super::dos::triage(ctx, input).await
    }

    /// The service's provider updated its entry: recorded by the ICB for it, or by the practice
    /// whose entry it is.
    async fn record_dos_update(
        &self,
        ctx: &Context<'_>,
        input: super::dos::RecordDosUpdateInput,
    ) -> ApiResult<super::dos::DosGap> {
        super::dos::update(ctx, input).await
    }

    /// The 111 provider confirms the updated entry serves: the DoS case is closed.
    async fn confirm_dos_fix(
        &self,
        ctx: &Context<'_>,
        input: super::dos::DosGapStepInput,
    ) -> ApiResult<super::dos::DosGap> {
        super::dos::confirm(ctx, input).await
    }

    /// The 111 provider finds the gap still there after the update: the provider is asked again.
    async fn report_dos_gap_persists(
        &self,
        ctx: &Context<'_>,
        input: super::dos::DosGapStepInput,
    ) -> ApiResult<super::dos::DosGap> {
        super::dos::persists(ctx, input).await
    }

    /// The ICB erases the practice's words about a diversion (UK GDPR): their key is destroyed
    /// and the erasure recorded; what remains (dates, reason, core hours) stays.
    async fn erase_diversion_words(
        &self,
        ctx: &Context<'_>,
        diversion_id: ID,
    ) -> ApiResult<super::diversions::Diversion> {
        super::diversions::erase_words(ctx, diversion_id).await
    }

    /// The ICB erases its note on closing a diversion review (UK GDPR): its key is destroyed and
    /// the erasure recorded; the review, its support and its outcome stay.
    async fn erase_diversion_review_note(
        &self,
        ctx: &Context<'_>,
        review_id: ID,
    ) -> ApiResult<super::diversions::DiversionReview> {
        super::diversions::erase_review_note(ctx, review_id).await
    }

    /// The ICB erases the words about a Directory of Services gap (UK GDPR): the 111 provider's,
    /// the ICB's reason and the update's; what remains (service, kind, stages) stays.
    async fn erase_dos_gap_words(&self, ctx: &Context<'_>, gap_id: ID) -> ApiResult<super::dos::DosGap> {
        super::dos::erase_words(ctx, gap_id).await
    }

    /// Asks the case's practice's system, through GP Connect and as the 111 provider would, for
    /// its free slots over the next 14 days; records what it found (`SlotVisibilityVerified`, or
    /// `SlotVisibilityCheckFailed` when the search did not answer) and returns it. ICB, DHU and
    /// champions. NOT_CONFIGURED when this service has no GP Connect set up.
    // One search per operation: it calls another organisation's system.
    #[graphql(complexity = 10_001)]
    async fn verify_slot_visibility(&self, ctx: &Context<'_>, case_id: ID) -> ApiResult<SlotVerification> {
        let actor = require_command(ctx, CommandName::VerifySlotVisibility)?;
        let case_id = self::case_id(&case_id)?;
        let _working = super::throttle(ctx, actor, Work::Verification)?;
        let verifications = caseledger_jobs::verification::Verifications {
            verifier: state(ctx)
                .verifier
                .clone()
                .ok_or_else(|| ApiError::NotConfigured("GP Connect verification (CASELEDGER_GPCONNECT_*)".into()))
                .gql()?,
            commands: state(ctx).commands.clone(),
        };
        let (found, position) = verifications
            .verify_case(actor, case_id, caseledger_jobs::verification::Priority::Person)
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, position, false).await?;
        Ok(SlotVerification::of_recorded(
            &found,
            caseledger_clock::now(),
            actor.role,
        ))
    }

    /// Searches many practices' free slots through GP Connect at once, as the 111 provider would:
    /// the open practices of one PCN, of one place, or a list of ODS codes (exactly one; at most
    /// 200, each one the caller may see: a champion's are those of their cases). Returns when the
    /// searches have begun; each is recorded as it ends, like one asked for alone (against its
    /// open case's requirement, if it has one), and shows as that practice's
    /// `latestVerification` from `startedAt`. The practice systems are asked a few at a time
    /// (`searchesAtOnce`); a person runs one batch, or one search, at a time. ICB, DHU, champions
    /// and admins. NOT_CONFIGURED when this service has no GP Connect set up.
    // One batch per operation: it calls other organisations' systems.
    #[graphql(complexity = 10_001)]
    async fn verify_practices(
        &self,
        ctx: &Context<'_>,
        pcn: Option<String>,
        place: Option<String>,
        ods_codes: Option<Vec<String>>,
    ) -> ApiResult<super::verification::VerificationBatch> {
        use caseledger_jobs::verification::{BatchPractice, MAX_BATCH};
        let actor = require_command(ctx, CommandName::VerifySlotVisibility)?;
        let verifier = state(ctx)
            .verifier
            .clone()
            .ok_or_else(|| ApiError::NotConfigured("GP Connect verification (CASELEDGER_GPCONNECT_*)".into()))
            .gql()?;
        let practices = super::practices::batch(ctx, pcn, place, ods_codes, MAX_BATCH).await?;
        let working = super::throttle(ctx, actor, Work::VerificationBatch)?;
        let mut batch: Vec<BatchPractice> = Vec::with_capacity(practices.len());
        for practice in practices {
            let Ok(ods_code) = OdsCode::parse(&practice.row.ods_code) else {
                continue;
            };
            // A champion's search shows on their own case, never on a colleague's.
            let open_case = match (actor.role, practice.open_case_id) {
                (DomainRole::Champion, Some(case_id)) => {
                    caseledger_projections::case_view::by_id(state(ctx).reads.primary_pool(), case_id)
                        .await
                        .map_err(ApiError::from)
                        .gql()?
                        .filter(|case| case.assigned_to.as_deref() == Some(actor.id.as_str()))
                        .map(|_| case_id)
                }
                (_, open_case) => open_case,
            };
            batch.push(BatchPractice { ods_code, open_case });
        }
        let started_at = caseledger_clock::now();
        let searches_at_once = verifier.searches_at_once();
        let ods_codes = batch.iter().map(|p| p.ods_code.to_string()).collect();
        caseledger_jobs::verification::Verifications {
            verifier,
            commands: state(ctx).commands.clone(),
        }
        .start_batch(actor.clone(), batch, working);
        Ok(super::verification::VerificationBatch {
            started_at,
            ods_codes,
            searches_at_once: i32::try_from(searches_at_once).unwrap_or(i32::MAX),
        })
    }

    /// Erases the case's personal data (UK GDPR; ICB and admins): destroys the case's data key,
    /// so contact names, summaries, notes and other free text in its history read "[erased]" on
    /// every surface from now on, and records `PersonalDataErased` (who, when, why). Every other
    /// fact stays. Erasing again when nothing personal was written since changes nothing.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        reason: String,
        command_id: Option<ID>,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ErasePersonalData)?;
        let reason = field("reason", FreeText::parse(&reason))?;
        let case_id = self::case_id(&case_id)?;
        let context = context(
            ctx,
            actor,
            Common {
                occurred_at: None,
                expected_revision: None,
                command_id,
            },
        )?;
        let outcome = state(ctx)
            .commands
            .erase_personal_data(case_id, &context, reason, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        answer(ctx, actor, outcome).await
    }

    /// The caller's own email notifications: the address (null: none) and the kinds turned off.
    /// Any signed-in person; what each kind is sent about depends on their role.
    async fn set_notifications(
        &self,
        ctx: &Context<'_>,
        email: Option<String>,
        off: Option<Vec<super::notifications::NotificationKind>>,
    ) -> ApiResult<super::notifications::NotificationSettings> {
        super::notifications::set_for_caller(ctx, email, off.unwrap_or_default()).await
    }

    async fn flag_practice(&self, ctx: &Context<'_>, input: FlagPracticeInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::FlagPractice)?;
        let action = Action::FlagPractice {
            practice: PracticeDetails {
                ods_code: field("odsCode", OdsCode::parse(&input.ods_code))?,
                name: field("practiceName", ShortText::parse(&input.practice_name))?,
                pcn_code: field("pcnCode", PcnCode::parse(&input.pcn_code))?,
                pcn_name: field("pcnName", ShortText::parse_optional(input.pcn_name.as_deref()))?,
                place: field("place", ShortText::parse(&input.place))?,
            },
            list_size: field("listSize", ListSize::new(i64::from(input.list_size)))?,
            visible_slots: slots("visibleSlots", input.visible_slots)?,
            source: FlagSource {
                kind: FlagSourceKind::Manual,
                report_date: None,
                report_id: None,
            },
            reason: field("reason", FreeText::parse_optional(input.reason.as_deref()))?,
        };
        let context = context(ctx, actor, common!(input))?;
        let outcome = state(ctx)
            .commands
            .flag_practice(&context, action, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        answer(ctx, actor, outcome).await
    }

    async fn assign_case(&self, ctx: &Context<'_>, input: AssignCaseInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::AssignCase)?;
        let champion_id = field("championId", ShortText::parse(&input.champion_id))?;
        super::people::check_assignable(ctx, champion_id.as_str()).await?;
        let action = Action::AssignCase { champion_id };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn record_contact(&self, ctx: &Context<'_>, input: RecordContactInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::RecordContact)?;
        let action = Action::RecordContact {
            channel: input.channel.into(),
            contact_name: field("contactName", ShortText::parse_optional(input.contact_name.as_deref()))?,
            summary: field("summary", FreeText::parse(&input.summary))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn share_guidance(&self, ctx: &Context<'_>, input: ShareGuidanceInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ShareGuidance)?;
        let action = Action::ShareGuidance {
            guide: field("guide", ShortText::parse(&input.guide))?,
            version: field("version", ShortText::parse_optional(input.version.as_deref()))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn record_root_cause(&self, ctx: &Context<'_>, input: RecordRootCauseInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::RecordRootCause)?;
        let action = Action::RecordRootCause {
            cause: input.cause.into(),
            detail: field("detail", FreeText::parse_optional(input.detail.as_deref()))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn record_remap(&self, ctx: &Context<'_>, input: RecordRemapInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::RecordRemap)?;
        if input.changes.is_empty() {
            return Err(ApiError::bad_input("changes", ValueError::NoChanges)).gql();
        }
        let action = Action::RecordRemap {
            changes: input.changes.iter().map(|c| (*c).into()).collect(),
            slots_per_day_configured: slots("slotsPerDayConfigured", input.slots_per_day_configured)?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn record_gp_connect_re_enabled(
        &self,
        ctx: &Context<'_>,
        input: RecordGpConnectReEnabledInput,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::RecordGpConnectReEnabled)?;
        let action = Action::RecordGpConnectReEnabled {
            reference: field("reference", ShortText::parse_optional(input.reference.as_deref()))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn confirm_dhu_visibility(
        &self,
        ctx: &Context<'_>,
        input: ConfirmDhuVisibilityInput,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ConfirmDhuVisibility)?;
        let action = Action::ConfirmDhuVisibility {
            visible_slots_per_day: slots("visibleSlotsPerDay", input.visible_slots_per_day)?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn report_dhu_visibility_issue(
        &self,
        ctx: &Context<'_>,
        input: ReportDhuVisibilityIssueInput,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ReportDhuVisibilityIssue)?;
        let action = Action::ReportDhuVisibilityIssue {
            category: input.category.map(Into::into),
            issue: Some(field("issue", ShortText::parse(&input.issue))?),
            detail: field("detail", FreeText::parse_optional(input.detail.as_deref()))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn confirm_compliance(&self, ctx: &Context<'_>, input: ConfirmComplianceInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ConfirmCompliance)?;
        let action = Action::ConfirmCompliance {
            visible_slots_per_day: slots("visibleSlotsPerDay", input.visible_slots_per_day)?,
            evidence: input.evidence.into(),
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn close_case(&self, ctx: &Context<'_>, input: CloseCaseInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::CloseCase)?;
        run(
            ctx,
            actor,
            &input.case_id,
            common!(input),
            Action::CloseCase {
                reason: input.reason.into(),
            },
        )
        .await
    }

    async fn reopen_case(&self, ctx: &Context<'_>, input: ReopenCaseInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ReopenCase)?;
        let action = Action::ReopenCase {
            reason: field("reason", FreeText::parse(&input.reason))?,
            visible_slots: input.visible_slots.map(|v| slots("visibleSlots", v)).transpose()?,
            cause: caseledger_cases::case::ReopenCause::Manual,
            list_size: None,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    async fn add_note(&self, ctx: &Context<'_>, input: AddNoteInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::AddNote)?;
        let action = Action::AddNote {
            text: field("text", FreeText::parse(&input.text))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    /// Concludes the case's open contract review (ICB).
    async fn conclude_contract_review(
        &self,
        ctx: &Context<'_>,
        input: ConcludeContractReviewInput,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::ConcludeContractReview)?;
        let action = Action::ConcludeContractReview {
            outcome: input.outcome.into(),
            note: field("note", FreeText::parse_optional(input.note.as_deref()))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    /// The DHU reports what it sees on any practice: onto its open case if it has one (as
    /// `reportDhuVisibilityIssue` would), otherwise as a report for the ICB to triage.
    async fn report_visibility_problem(
        &self,
        ctx: &Context<'_>,
        input: ReportVisibilityProblemInput,
    ) -> ApiResult<VisibilityReportPayload> {
        let actor = require_command(ctx, CommandName::FileDhuReport)?;
        let ods_code = field("odsCode", OdsCode::parse(&input.ods_code))?;
        let detail = field("detail", FreeText::parse_optional(input.detail.as_deref()))?;
        let context = context(
            ctx,
            actor,
            Common {
                occurred_at: input.occurred_at,
                expected_revision: None,
                command_id: input.command_id.clone(),
            },
        )?;
        let reported = state(ctx)
            .commands
            .report_visibility(
                &context,
                &ods_code,
                input.category.into(),
                detail,
                caseledger_clock::now(),
            )
            .await
            .map_err(ApiError::from)
            .gql()?;
        match reported {
            Reported::OnCase(outcome) => Ok(VisibilityReportPayload {
                case: Some(answer(ctx, actor, *outcome).await?.case),
                report: None,
            }),
            Reported::Filed(filed) => {
                wait(ctx, filed.position, filed.duplicate).await?;
                Ok(VisibilityReportPayload {
                    case: None,
                    report: dhu_report(ctx, filed.report_id, actor.role).await?,
                })
            }
        }
    }

    /// The ICB opens a case from a DHU report (`PracticeFlagged` with source DHU_REPORT).
    async fn open_case_from_dhu_report(
        &self,
        ctx: &Context<'_>,
        input: OpenCaseFromDhuReportInput,
    ) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::TriageDhuReport)?;
        let (report_id, ods_code) = report_practice(ctx, &input.report_id).await?;
        let context = context(
            ctx,
            actor,
            Common {
                occurred_at: input.occurred_at,
                expected_revision: None,
                command_id: input.command_id.clone(),
            },
        )?;
        let outcome = state(ctx)
            .commands
            .open_case_from_report(&context, &ods_code, report_id, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        answer(ctx, actor, outcome).await
    }

    /// The ICB dismisses a DHU report, saying why.
    async fn dismiss_dhu_report(&self, ctx: &Context<'_>, input: DismissDhuReportInput) -> ApiResult<DhuReport> {
        let actor = require_command(ctx, CommandName::TriageDhuReport)?;
        let (report_id, ods_code) = report_practice(ctx, &input.report_id).await?;
        let reason = field("reason", FreeText::parse(&input.reason))?;
        let context = context(
            ctx,
            actor,
            Common {
                occurred_at: input.occurred_at,
                expected_revision: None,
                command_id: input.command_id.clone(),
            },
        )?;
        let dismissed = state(ctx)
            .commands
            .dismiss_dhu_report(&context, &ods_code, report_id, reason, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, dismissed.position, dismissed.duplicate).await?;
        dhu_report(ctx, report_id, actor.role)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such report".into()))
            .gql()
    }

    /// Erases a DHU report's personal data (UK GDPR; ICB and admins): destroys the report's data
    /// key, so the DHU's detail and any reason for dismissing it read "[erased]" on every surface
    /// from now on, and records `DhuReportPersonalDataErased` (which, who, when, why). A report a
    /// case was opened from is erased with the case (`erasePersonalData`). Erasing again changes
    /// nothing.
    async fn erase_report_personal_data(
        &self,
        ctx: &Context<'_>,
        report_id: ID,
        reason: String,
    ) -> ApiResult<DhuReport> {
        let actor = require_command(ctx, CommandName::EraseReportPersonalData)?;
        let (report_id, ods_code) = report_practice(ctx, &report_id).await?;
        let reason = field("reason", FreeText::parse(&reason))?;
        let context = context(
            ctx,
            actor,
            Common {
                occurred_at: None,
                expected_revision: None,
                command_id: None,
            },
        )?;
        let erased = state(ctx)
            .commands
            .erase_report_personal_data(&context, &ods_code, report_id, reason, caseledger_clock::now())
            .await
            .map_err(ApiError::from)
            .gql()?;
        wait(ctx, erased.position, erased.duplicate).await?;
        dhu_report(ctx, report_id, actor.role)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such report".into()))
            .gql()
    }

    /// A practice tells the ICB it diverts its phones to NHS 111 (or will: a planned diversion);
    /// the ICB may record one it was told of by phone. Refused (CONFLICT) while another diversion
    /// of the practice overlaps it.
    async fn notify_diversion(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::NotifyDiversionInput,
    ) -> ApiResult<super::diversions::Diversion> {
        super::diversions::notify(ctx, input).await
    }

    /// The diversion ended: the phones answer at the practice again.
    async fn end_diversion(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::EndDiversionInput,
    ) -> ApiResult<super::diversions::Diversion> {
        super::diversions::end(ctx, input).await
    }

    /// The words of a PCN's review note erased (UK GDPR): by the ICB on request, or by the PCN's
    /// own clinical director; the retention period erases them too. Answers with the note's id.
    async fn erase_pcn_review_note(&self, ctx: &Context<'_>, note_id: ID) -> ApiResult<ID> {
        super::telephony::erase_note(ctx, note_id).await
    }

    /// A practice answers the Digital Champion on its own open slot case: what it found, what it
    /// changed, who to speak to. Its words are for itself, the ICB and the champion who holds the
    /// case; the LMC and its PCN see that (and when) it answered. Erased with the case's personal
    /// data.
    async fn answer_champion(
        &self,
        ctx: &Context<'_>,
        input: super::own_cases::AnswerChampionInput,
    ) -> ApiResult<super::own_cases::OwnCase> {
        super::own_cases::answer_champion(ctx, input).await
    }

    /// A planned diversion called off before it began (the practice, or the ICB for it): it
    /// counts for nothing. Once it has begun it is ended instead (BAD_USER_INPUT).
    async fn cancel_diversion(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::CancelDiversionInput,
    ) -> ApiResult<super::diversions::Diversion> {
        super::diversions::cancel(ctx, input).await
    }

    /// The ICB's primary care team acknowledges a diversion notice.
    async fn acknowledge_diversion(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::AcknowledgeDiversionInput,
    ) -> ApiResult<super::diversions::Diversion> {
        super::diversions::acknowledge(ctx, input).await
    }

    /// A champion, or the clinical director of the practice's own PCN, records support given to
    /// a practice under diversion review.
    async fn record_diversion_support(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::RecordDiversionSupportInput,
    ) -> ApiResult<super::diversions::DiversionReview> {
        super::diversions::support(ctx, input).await
    }

    /// The ICB closes a diversion review with an outcome: refused (INVALID_TRANSITION) until
    /// support has been recorded. Supported, not sanctioned.
    async fn close_diversion_review(
        &self,
        ctx: &Context<'_>,
        input: super::diversions::CloseDiversionReviewInput,
    ) -> ApiResult<super::diversions::DiversionReview> {
        super::diversions::close_review(ctx, input).await
    }

    async fn escalate_to_contract_review(&self, ctx: &Context<'_>, input: EscalateInput) -> ApiResult<CasePayload> {
        let actor = require_command(ctx, CommandName::EscalateToContractReview)?;
        let action = Action::EscalateToContractReview {
            reason: field("reason", FreeText::parse(&input.reason))?,
        };
        run(ctx, actor, &input.case_id, common!(input), action).await
    }

    /// Adds a person to the directory ahead of their first sign-in. Admins only.
    async fn add_person(
        &self,
        ctx: &Context<'_>,
        input: super::people::AddPersonInput,
    ) -> ApiResult<super::people::Person> {
        super::people::add(ctx, input).await
    }

    /// Changes a person in the directory: name, role, organisation, address, or active (a
    /// deactivated person cannot sign in to the pages or be given a case). Admins only.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        input: super::people::UpdatePersonInput,
    ) -> ApiResult<super::people::Person> {
        super::people::update(ctx, input).await
    }

    /// Hands an event a projection parked to it again (once the cause is mended): resolved if it
    /// now succeeds; EVENT_STILL_FAILS, with the error, if not. Admins only.
    async fn retry_parked_event(
        &self,
        ctx: &Context<'_>,
        projection: String,
        event_id: ID,
    ) -> ApiResult<super::admin::ParkedEvent> {
        super::admin::retry(ctx, projection, event_id).await
    }

    /// Leaves an event a projection parked out of it for good. Admins only.
    async fn skip_parked_event(
        &self,
        ctx: &Context<'_>,
        projection: String,
        event_id: ID,
    ) -> ApiResult<super::admin::ParkedEvent> {
        super::admin::skip(ctx, projection, event_id).await
    }
}
