//! Executing one command on one case: load, decide, append with `Exact(revision)` and update the
//! practice register in the same transaction; on a lost race, reload and decide again (or report
//! the conflict, when the caller named the revision it expected). A contract review's events go to
//! its own stream, with `Exact` too, so two reviews cannot both open.

use caseledger_cases::case::{StreamKind, case_stream, contract_stream, encode_event};
use caseledger_cases::{Action, Case, CaseEvent, Command, EventEnvelope, decide, evolve};
use caseledger_eventstore::{ExpectedRevision, NewEvent, Position, StoreError, StreamAppend, Vault, append_with};
use std::time::Instant;

use caseledger_eventstore::stage;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::history::{Loaded, earlier_result, event_id, load, metadata};
use crate::registry::{self, RegisteredState};
use crate::{CommandContext, CommandError, Commands};

/// Attempts before a command without `expectedRevision` gives up on a busy case.
const MAX_ATTEMPTS: u64 = 10;

/// The case after a command.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case_id: Uuid,
    /// The case stream's revision after the command: the next `expectedRevision`.
    pub revision: u64,
    pub case: Case,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    /// Where its last event went in the global order (`None` when nothing was written): wait
    /// for the views to pass it to read this write.
    pub position: Option<Position>,
    /// The types of the events written now (none for a duplicate): the views that read them are
    /// the ones to wait for.
    pub types: Vec<&'static str>,
}

/// Whether the rules of `action` consult the requirement on a given day, and so need the
/// practice's observations.
fn needs_observations(action: &Action) -> bool {
    matches!(
        action,
        Action::ConfirmDhuVisibility { .. } | Action::ConfirmCompliance { .. }
    )
}

impl Commands {
    /// Flags a practice as a new case, with a new case id.
    pub async fn flag_practice(
        &self,
        context: &CommandContext,
        action: Action,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CommandError> {
        // A repeated flag carries the same first event id: find the case it made.
        if context.command_id.is_some()
            && let Some(earlier) = self.store.find_event(event_id(context, 0)).await?
            && let Some(caseledger_cases::case::StreamName::Case(case_id)) =
                caseledger_cases::case::StreamName::parse(&earlier.stream_id)
        {
            let loaded = load(&self.store, case_id, false).await?;
            return Ok(Outcome {
                case_id,
                revision: earlier.revision,
                case: loaded.case,
                duplicate: true,
                position: Some(earlier.position),
                types: Vec::new(),
            });
        }
        self.execute(Uuid::now_v7(), context, action, now).await
    }

    /// Erases case `case_id`'s personal data: destroys its data keys and records
    /// `PersonalDataErased`. A no-op (`duplicate`) when it was erased before and nothing personal
    /// has been written since.
    pub async fn erase_personal_data(
        &self,
        case_id: Uuid,
        context: &CommandContext,
        reason: caseledger_cases::values::FreeText,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CommandError> {
        // The no-op is decided where the keys are destroyed, in the appending transaction, so two
        // erasures at once record one event (the loser retries and finds nothing left).
        self.execute(case_id, context, Action::ErasePersonalData { reason }, now)
            .await
    }

    /// The latest case of the practice `ods_code`, if it has one.
    pub async fn latest_case_of(&self, ods_code: &str) -> Result<Option<Uuid>, CommandError> {
        let mut conn = self.store.pool().acquire().await?;
        let found = registry::latest_cases(&mut conn, &[ods_code.to_string()]).await?;
        Ok(found.first().map(|case| case.case_id))
    }

    /// Runs `action` on case `case_id` as `context.actor`.
    #[tracing::instrument(
        name = "command",
        skip_all,
        fields(%case_id, command = action.name(), actor = %context.actor.id, role = %context.actor.role)
    )]
    pub async fn execute(
        &self,
        case_id: Uuid,
        context: &CommandContext,
        action: Action,
        now: DateTime<Utc>,
    ) -> Result<Outcome, CommandError> {
        let occurred_at = context.occurred_at.unwrap_or(now);
        let observations = needs_observations(&action);
        let command = Command {
            actor: context.actor.clone(),
            occurred_at,
            action,
        };
        let correlation_id = context.correlation_id.unwrap_or_else(Uuid::now_v7);
        let mut last_conflict = None;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                // Jittered, so writers that collided do not collide again in step.
                tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(1..=attempt * 4))).await;
            }
            let started = Instant::now();
            let loaded = load(&self.store, case_id, observations).await?;
            stage::record("load", started);
            let current = loaded.case.revision();
            if let Some(command_id) = &context.command_id
                && let Some(revision) = earlier_result(&loaded, &context.actor, command_id)
            {
                return Ok(Outcome {
                    case_id,
                    revision,
                    case: loaded.case,
                    duplicate: true,
                    position: None,
                    types: Vec::new(),
                });
            }
            if let Some(expected) = context.expected_revision
                && Some(expected) != current
            {
                return Err(CommandError::Conflict {
                    expected: Some(expected),
                    actual: current,
                });
            }
            let started = Instant::now();
            let events = decide(&loaded.case, &command, now)?;
            stage::record("decide", started);
            match self
                .append(case_id, &loaded, context, &events, occurred_at, correlation_id)
                .await
            {
                Ok((duplicate, position)) => {
                    let types = match duplicate {
                        true => Vec::new(),
                        false => events.iter().map(CaseEvent::event_type).collect(),
                    };
                    let case = if duplicate {
                        load(&self.store, case_id, false).await?.case
                    } else {
                        events.into_iter().fold(loaded.case, |case, event| {
                            evolve(
                                case,
                                &EventEnvelope {
                                    event,
                                    occurred_at,
                                    actor: context.actor.clone(),
                                },
                            )
                        })
                    };
                    let revision = case.revision().unwrap_or_default();
                    return Ok(Outcome {
                        case_id,
                        revision,
                        case,
                        duplicate,
                        position,
                        types,
                    });
                }
                Err(CommandError::Store(StoreError::WrongExpectedVersion { actual, .. })) => {
                    if context.expected_revision.is_some() {
                        return Err(CommandError::Conflict {
                            expected: context.expected_revision,
                            actual,
                        });
                    }
                    tracing::debug!(?actual, "lost a race for the case; deciding again");
                    last_conflict = Some(CommandError::Conflict {
                        expected: current,
                        actual,
                    });
                }
                Err(other) => return Err(other),
            }
        }
        Err(last_conflict.unwrap_or(CommandError::Conflict {
            expected: None,
            actual: None,
        }))
    }

    /// Seals `events` (personal fields, under the case's data key, made if need be) and names the
    /// stream and revision to append them at, and the register's changes they bring: everything
    /// but the transaction, so that one transaction can carry many commands (an import).
    pub(crate) async fn prepare(
        &self,
        case_id: Uuid,
        loaded: &Loaded,
        context: &CommandContext,
        events: &[CaseEvent],
        occurred_at: DateTime<Utc>,
        correlation_id: Uuid,
    ) -> Result<Prepared, CommandError> {
        let metadata = metadata(context, occurred_at, correlation_id);
        let scope = crate::scopes::case_scope(case_id);
        let vault = self.store.vault();
        let mut encoded: Vec<(&str, serde_json::Value)> = events.iter().map(encode_event).collect();
        // Personal fields are sealed under the case's data key (made on first use).
        let key = match vault {
            Some(vault)
                if encoded
                    .iter()
                    .any(|(event_type, data)| vault.needs_sealing(event_type, data)) =>
            {
                Some(vault.data_key(self.store.pool(), &scope).await?)
            }
            _ => None,
        };
        let mut new_events = Vec::with_capacity(encoded.len());
        for (index, (event_type, data)) in encoded.iter_mut().enumerate() {
            let id = event_id(context, index);
            if let (Some(vault), Some(key)) = (vault, &key) {
                vault.seal(key, event_type, id, data)?;
            }
            new_events.push(
                NewEvent::new(id, *event_type, data, metadata.clone())
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
            );
        }
        // A contract review lives in a stream of its own; the case's stream stays as it is.
        let (stream, revision) = match events.first().map(CaseEvent::stream_kind) {
            Some(StreamKind::Contract) => (contract_stream(case_id), loaded.contract_revision()),
            _ => (case_stream(case_id), loaded.case.revision()),
        };
        Ok(Prepared {
            append: StreamAppend {
                stream,
                expected: revision.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact),
                events: new_events,
            },
            key,
            register: events
                .iter()
                .filter_map(|event| RegisterChange::of(case_id, &loaded.case, event))
                .collect(),
        })
    }

    /// Appends `events` (and keeps the register) in one transaction: whether they had been
    /// appended before, and the last one's position.
    async fn append(
        &self,
        case_id: Uuid,
        loaded: &Loaded,
        context: &CommandContext,
        events: &[CaseEvent],
        occurred_at: DateTime<Utc>,
        correlation_id: Uuid,
    ) -> Result<(bool, Option<Position>), CommandError> {
        let started = Instant::now();
        let prepared = self
            .prepare(case_id, loaded, context, events, occurred_at, correlation_id)
            .await?;
        stage::record("seal", started);
        let started = Instant::now();
        let mut tx = self.store.pool().begin().await?;
        let append = &prepared.append;
        let result = append_with(&mut tx, &append.stream, append.expected, &append.events).await?;
        if !result.duplicate {
            prepared.written(&mut tx).await?;
            if events
                .iter()
                .any(|event| matches!(event, CaseEvent::PersonalDataErased(_)))
            {
                // In the same transaction as the record of it: both happen, or neither. Erased
                // before, and nothing personal written since: nothing to record.
                let mut destroyed = Vault::shred(&mut tx, &crate::scopes::case_scope(case_id)).await?;
                // The DHU report the case was opened from is the case's too.
                if let Some(report_id) = loaded.case.dhu_report_id {
                    destroyed += Vault::shred(&mut tx, &crate::scopes::report_scope(report_id)).await?;
                }
                if destroyed == 0 && loaded.case.personal_data_erased_at.is_some() {
                    tx.rollback().await?;
                    return Ok((true, None));
                }
            }
        }
        tx.commit().await?;
        stage::record("append", started);
        self.store.wake_subscribers();
        Ok((result.duplicate, result.positions.last().copied()))
    }
}

/// A command decided and sealed, ready to append in a transaction (its own, or an import's).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub append: StreamAppend,
    /// The data key its sealed fields use: held in the transaction, which fails if it was
    /// destroyed meanwhile.
    key: Option<caseledger_eventstore::DataKey>,
    register: Vec<RegisterChange>,
}

impl Prepared {
    /// What the transaction writes after the append: the key held, the register kept.
    pub(crate) async fn written(&self, tx: &mut sqlx::PgConnection) -> Result<(), CommandError> {
        if let Some(key) = &self.key {
            Vault::hold(tx, key).await?;
        }
        for change in &self.register {
            change.apply(tx).await?;
        }
        Ok(())
    }
}

/// One change of the practice register an event brings.
#[derive(Debug, Clone)]
enum RegisterChange {
    ClaimOpen {
        ods_code: String,
        case_id: Uuid,
    },
    Reopen {
        ods_code: String,
        case_id: Uuid,
    },
    Settle {
        ods_code: String,
        case_id: Uuid,
        state: RegisteredState,
    },
}

impl RegisterChange {
    /// The change `event` of case `case_id` (as `case` was before it) brings, if any.
    fn of(case_id: Uuid, case: &Case, event: &CaseEvent) -> Option<Self> {
        let ods_code = match (event, &case.practice) {
            (CaseEvent::PracticeFlagged(flagged), _) => flagged.practice.ods_code.to_string(),
            (_, Some(practice)) => practice.ods_code.to_string(),
            (_, None) => return None,
        };
        match event {
            CaseEvent::PracticeFlagged(_) => Some(RegisterChange::ClaimOpen { ods_code, case_id }),
            CaseEvent::CaseReopened(_) => Some(RegisterChange::Reopen { ods_code, case_id }),
            CaseEvent::ComplianceConfirmed(_) => Some(RegisterChange::Settle {
                ods_code,
                case_id,
                state: RegisteredState::Compliant,
            }),
            CaseEvent::CaseClosed(_) => Some(RegisterChange::Settle {
                ods_code,
                case_id,
                state: RegisteredState::Closed,
            }),
            _ => None,
        }
    }

    async fn apply(&self, tx: &mut sqlx::PgConnection) -> Result<(), CommandError> {
        match self {
            RegisterChange::ClaimOpen { ods_code, case_id } => registry::claim_open(tx, ods_code, *case_id).await,
            RegisterChange::Reopen { ods_code, case_id } => registry::reopen(tx, ods_code, *case_id).await,
            RegisterChange::Settle {
                ods_code,
                case_id,
                state,
            } => registry::settle(tx, ods_code, *case_id, *state).await,
        }
    }
}
