//! DHU reports on practices: a report goes onto the practice's open case when it has one, else
//! into the practice's stream for the ICB to triage, once: by opening a case from it, or by
//! dismissing it with a reason. A triage appends to the practice's stream with `Exact`, so a
//! report cannot be both dismissed and opened by two people at once.

use caseledger_cases::case::{FlagSource, FlagSourceKind, RootCause, Triage, encode_event};
use caseledger_cases::diversion::{PracticeDiversions, evolve_diversions};
use caseledger_cases::practice::{SlotsObserved, practice_stream};
use caseledger_cases::reports::{PracticeReports, ReportAction, ReportCommand, decide_report, evolve_reports};
use caseledger_cases::values::{FreeText, OdsCode};
use caseledger_cases::{Action, CaseError, CaseEvent};
use caseledger_eventstore::{ExpectedRevision, NewEvent, StoreError, Vault, append_with};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::handler::Outcome;
use crate::history::{envelope_of, event_id, metadata, read_whole};
use crate::registry::{RegisteredState, latest_cases};
use crate::scopes::report_scope;
use crate::{CommandContext, CommandError, Commands};

/// Attempts before a triage gives up on a practice whose stream keeps moving.
const MAX_ATTEMPTS: u32 = 5;

/// A report written or triaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutcome {
    pub ods_code: OdsCode,
    pub report_id: Uuid,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    /// Where its event went in the global order (`None` when nothing was written).
    pub position: Option<caseledger_eventstore::Position>,
}

/// Where a DHU report went.
#[derive(Debug, Clone)]
pub enum Reported {
    /// Onto the practice's open case, as `DhuVisibilityIssueReported`.
    OnCase(Box<Outcome>),
    /// Into the practice's stream, for the ICB to triage.
    Filed(ReportOutcome),
}

/// A practice's stream as the report and diversion rules see it, and its latest observation.
pub(crate) struct PracticeState {
    /// Its reports, and the stream's revision.
    pub(crate) reports: PracticeReports,
    pub(crate) diversions: PracticeDiversions,
    latest: Option<SlotsObserved>,
    /// Its PCN, as the register (or else its latest observation) says.
    pub(crate) pcn_code: Option<caseledger_cases::values::PcnCode>,
}

impl Commands {
    pub(crate) async fn practice_state(&self, ods_code: &OdsCode) -> Result<PracticeState, CommandError> {
        let mut state = PracticeState {
            reports: PracticeReports::default(),
            diversions: PracticeDiversions::default(),
            latest: None,
            pcn_code: None,
        };
        let mut registered = false;
        for event in read_whole(&self.store, &practice_stream(ods_code)).await? {
            let envelope = envelope_of(&event)?;
            if let CaseEvent::SlotsObserved(observed) = &envelope.event
                && state
                    .latest
                    .as_ref()
                    .is_none_or(|latest| latest.report_date <= observed.report_date)
            {
                state.latest = Some(observed.clone());
            }
            match &envelope.event {
                CaseEvent::PracticeRegistered(entry) | CaseEvent::PracticeDetailsChanged(entry) => {
                    state.pcn_code = Some(entry.practice.pcn_code.clone());
                    registered = true;
                }
                CaseEvent::SlotsObserved(observed) if !registered => {
                    state.pcn_code = Some(observed.practice.pcn_code.clone());
                }
                _ => {}
            }
            state.reports = evolve_reports(state.reports, &envelope);
            state.diversions = evolve_diversions(state.diversions, &envelope);
        }
        Ok(state)
    }

    /// The practice's oldest report that nobody has triaged yet.
    pub async fn oldest_untriaged_report(&self, ods_code: &OdsCode) -> Result<Option<Uuid>, CommandError> {
        let state = self.practice_state(ods_code).await?;
        Ok(state
            .reports
            .reports
            .iter()
            .find(|report| report.triage.is_none())
            .map(|report| report.report_id))
    }

    /// The DHU reports what it sees on practice `ods_code`: onto its open case if it has one,
    /// otherwise as a report for the ICB's triage.
    pub async fn report_visibility(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        category: RootCause,
        detail: Option<FreeText>,
        now: DateTime<Utc>,
    ) -> Result<Reported, CommandError> {
        let mut conn = self.store.pool().acquire().await?;
        let latest = latest_cases(&mut conn, &[ods_code.to_string()]).await?;
        drop(conn);
        if let Some(open) = latest.iter().find(|c| c.state == RegisteredState::Open) {
            let action = Action::ReportDhuVisibilityIssue {
                category: Some(category),
                issue: None,
                detail,
            };
            return self
                .execute(open.case_id, context, action, now)
                .await
                .map(|outcome| Reported::OnCase(Box::new(outcome)));
        }
        // A report on a code nothing knows could never be triaged: refused here, naming the code.
        self.known_practice(ods_code).await?;
        let report_id = report_id_for(context);
        let action = ReportAction::File {
            report_id,
            category,
            detail,
        };
        self.report_command(context, ods_code, action, now)
            .await
            .map(Reported::Filed)
    }

    /// The ICB dismisses report `report_id` of practice `ods_code`, saying why.
    pub async fn dismiss_dhu_report(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        report_id: Uuid,
        reason: FreeText,
        now: DateTime<Utc>,
    ) -> Result<ReportOutcome, CommandError> {
        let action = ReportAction::Triage {
            report_id,
            outcome: Triage::Dismissed { reason },
        };
        self.report_command(context, ods_code, action, now).await
    }

    /// The ICB opens a case from report `report_id` of practice `ods_code` (a `PracticeFlagged`
    /// with source `dhu_report`), described by the practice's latest dashboard observation, and
    /// records the report as triaged.
    pub async fn open_case_from_report(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        report_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CommandError> {
        let state = self.practice_state(ods_code).await?;
        // The rules first (role, the report exists and is untriaged), before any case is made.
        let probe = ReportCommand {
            actor: context.actor.clone(),
            occurred_at: context.occurred_at.unwrap_or(now),
            action: ReportAction::Triage {
                report_id,
                outcome: Triage::CaseOpened { case_id: Uuid::nil() },
            },
        };
        decide_report(&state.reports, &probe, now)?;
        let Some(latest) = state.latest else {
            return Err(CommandError::UnknownPractice {
                ods_code: ods_code.to_string(),
            });
        };
        let flag = Action::FlagPractice {
            practice: latest.practice,
            list_size: latest.list_size,
            visible_slots: latest.visible_slots,
            source: FlagSource {
                kind: FlagSourceKind::DhuReport,
                report_date: None,
                report_id: Some(report_id),
            },
            reason: None,
        };
        let mut flag_context = context.clone();
        // One case per report, however often the ICB presses the button.
        flag_context.command_id = Some(format!("dhu-report:{report_id}"));
        // The report's filing caused the case.
        flag_context.causation_id = sqlx::query_scalar!(
            "select event_id from events
              where stream_id = $1 and event_type = 'DhuReportFiled' and data->>'report_id' = $2
              limit 1",
            caseledger_cases::practice::practice_stream(ods_code),
            report_id.to_string()
        )
        .fetch_optional(self.store.pool())
        .await?;
        let outcome = self.flag_practice(&flag_context, flag, now).await?;
        let triage = ReportAction::Triage {
            report_id,
            outcome: Triage::CaseOpened {
                case_id: outcome.case_id,
            },
        };
        match self.report_command(context, ods_code, triage, now).await {
            Ok(_) | Err(CommandError::Rejected(CaseError::ReportAlreadyTriaged)) => Ok(outcome),
            Err(error) => Err(error),
        }
    }

    /// The ICB (or an admin) erases report `report_id`'s personal data (the DHU's detail, the
    /// ICB's reason for dismissing it): its data key destroyed and `DhuReportPersonalDataErased`
    /// recorded, together. A no-op (`duplicate`) when there is nothing left to erase.
    pub async fn erase_report_personal_data(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        report_id: Uuid,
        reason: FreeText,
        now: DateTime<Utc>,
    ) -> Result<ReportOutcome, CommandError> {
        let action = ReportAction::ErasePersonalData { report_id, reason };
        self.report_command(context, ods_code, action, now).await
    }

    /// Decides `action` on the practice's reports and appends its event with `Exact`.
    async fn report_command(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        action: ReportAction,
        now: DateTime<Utc>,
    ) -> Result<ReportOutcome, CommandError> {
        let report_id = action.report_id();
        let erasing = matches!(action, ReportAction::ErasePersonalData { .. });
        let occurred_at = context.occurred_at.unwrap_or(now);
        let command = ReportCommand {
            actor: context.actor.clone(),
            occurred_at,
            action,
        };
        let stream = practice_stream(ods_code);
        let metadata = metadata(
            context,
            occurred_at,
            context.correlation_id.unwrap_or_else(Uuid::now_v7),
        );
        for _ in 0..MAX_ATTEMPTS {
            let state = self.practice_state(ods_code).await?;
            let events = match decide_report(&state.reports, &command, now) {
                Ok(events) => events,
                // A repeat of a triage that went through is the first one's answer.
                Err(CaseError::ReportAlreadyTriaged)
                    if self.store.find_event(event_id(context, 0)).await?.is_some() =>
                {
                    return Ok(ReportOutcome {
                        ods_code: ods_code.clone(),
                        report_id,
                        duplicate: true,
                        position: None,
                    });
                }
                Err(error) => return Err(error.into()),
            };
            // The DHU's detail and the ICB's reason are sealed under the report's own key.
            let new_events = self
                .sealed_events(context, &events, &report_scope(report_id), &metadata)
                .await?;
            let expected = state
                .reports
                .revision()
                .map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
            let mut tx = self.store.pool().begin().await?;
            match append_with(&mut tx, &stream, expected, &new_events).await {
                Ok(result) => {
                    if erasing && !result.duplicate {
                        // The key and the record of its destruction go together, or neither. Erased
                        // before, and nothing personal written since: nothing to record.
                        let destroyed = Vault::shred(&mut tx, &report_scope(report_id)).await?;
                        let erased_before = state.reports.report(report_id).is_some_and(|r| r.erased_at.is_some());
                        if destroyed == 0 && erased_before {
                            tx.rollback().await?;
                            return Ok(ReportOutcome {
                                ods_code: ods_code.clone(),
                                report_id,
                                duplicate: true,
                                position: None,
                            });
                        }
                    }
                    tx.commit().await?;
                    self.store.wake_subscribers();
                    return Ok(ReportOutcome {
                        ods_code: ods_code.clone(),
                        report_id,
                        duplicate: result.duplicate,
                        position: result.positions.last().copied(),
                    });
                }
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    tracing::debug!(%ods_code, "the practice's stream moved; deciding again");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(CommandError::Conflict {
            expected: None,
            actual: None,
        })
    }
}

impl Commands {
    /// Refuses a practice nothing knows (not registered, no case, never observed), naming it.
    pub(crate) async fn known_practice(&self, ods_code: &OdsCode) -> Result<(), CommandError> {
        let known = sqlx::query_scalar!(
            r#"select exists (select 1 from practice_register where ods_code = $1)
                   or exists (select 1 from practice_cases where ods_code = $1)
                   or exists (select 1 from events where stream_id = 'practice-' || $1
                                                      and event_type = 'SlotsObserved') as "known!""#,
            ods_code.as_str()
        )
        .fetch_one(self.store.pool())
        .await?;
        if known {
            Ok(())
        } else {
            Err(CommandError::NoSuchPractice {
                ods_code: ods_code.to_string(),
            })
        }
    }

    /// `events` as stored for `context`: encoded, their personal fields sealed under the data key
    /// of `scope` when the store has a vault.
    pub(crate) async fn sealed_events(
        &self,
        context: &CommandContext,
        events: &[CaseEvent],
        scope: &str,
        metadata: &caseledger_eventstore::EventMetadata,
    ) -> Result<Vec<NewEvent>, CommandError> {
        Ok(self.sealed_with_key(context, events, scope, metadata).await?.0)
    }

    /// [`Commands::sealed_events`], and the key they were sealed under (if any were): an appender
    /// that must not record words under a key destroyed meanwhile holds it in its transaction
    /// ([`caseledger_eventstore::Vault::hold`]).
    pub(crate) async fn sealed_with_key(
        &self,
        context: &CommandContext,
        events: &[CaseEvent],
        scope: &str,
        metadata: &caseledger_eventstore::EventMetadata,
    ) -> Result<(Vec<NewEvent>, Option<caseledger_eventstore::DataKey>), CommandError> {
        let mut new_events = Vec::with_capacity(events.len());
        let mut key = None;
        for (index, event) in events.iter().enumerate() {
            let (event_type, mut data) = encode_event(event);
            let id = event_id(context, index);
            if let Some(vault) = self.store.vault()
                && vault.needs_sealing(event_type, &data)
            {
                if key.is_none() {
                    key = Some(vault.data_key(self.store.pool(), scope).await?);
                }
                if let Some(key) = &key {
                    vault.seal(key, event_type, id, &mut data)?;
                }
            }
            new_events.push(
                NewEvent::new(id, event_type, &data, metadata.clone())
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
            );
        }
        Ok((new_events, key))
    }
}

/// A report's id: from the command id when there is one (a repeat files nothing new), else new.
fn report_id_for(context: &CommandContext) -> Uuid {
    id_for(context, Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d72_6570_0001))
}

/// The id of what a command makes (a report, a diversion): derived in `namespace` from the actor
/// and command id when there is one, so that a repeat names the same thing; else new.
pub(crate) fn id_for(context: &CommandContext, namespace: Uuid) -> Uuid {
    match &context.command_id {
        Some(command_id) => Uuid::new_v5(&namespace, format!("{}/{command_id}", context.actor.id).as_bytes()),
        None => Uuid::now_v7(),
    }
}
