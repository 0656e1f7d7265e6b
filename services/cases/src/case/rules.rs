//! Every rule of DESIGN.md, in one place: who may issue which command, what each status accepts,
//! compliance needs visible ≥ required, and business time is neither in the future nor before the
//! case opened.

use chrono::{DateTime, Utc};

use super::command::{Action, Command};
use super::error::CaseError;
use super::event::*;
use super::state::{Case, CaseStatus};
use crate::role::Role;
use crate::values::{ValueError, required_slots};

/// The events `command` causes on `case`, or why it may not. `now` is the caller's clock.
pub fn decide(case: &Case, command: &Command, now: DateTime<Utc>) -> Result<Vec<CaseEvent>, CaseError> {
    let action = &command.action;
    check_role(command)?;
    if command.occurred_at > now {
        return Err(CaseError::OccurredInFuture {
            occurred_at: command.occurred_at,
        });
    }
    let Some(status) = case.status else {
        return match action {
            Action::FlagPractice {
                practice,
                list_size,
                visible_slots,
                source,
                reason,
            } => Ok(vec![CaseEvent::PracticeFlagged(PracticeFlagged {
                practice: practice.clone(),
                list_size: *list_size,
                required_slots: required_slots(*list_size),
                visible_slots: *visible_slots,
                source: source.clone(),
                reason: reason.clone(),
            })]),
            _ => Err(CaseError::CaseNotFound),
        };
    };
    if let Some(opened_at) = case.created_at.filter(|opened_at| command.occurred_at < *opened_at) {
        return Err(CaseError::OccurredBeforeOpened {
            occurred_at: command.occurred_at,
            opened_at,
        });
    }
    check_status(status, action)?;

    let event = match action {
        Action::FlagPractice { .. } => return Err(CaseError::CaseAlreadyExists),
        Action::AssignCase { champion_id } => {
            // A champion takes an unassigned case; only the ICB moves a case someone holds.
            if command.actor.role == Role::Champion
                && let Some(holder) = case.assigned_to.as_ref().filter(|holder| *holder != champion_id)
            {
                return Err(CaseError::HeldByAnotherChampion {
                    champion_id: holder.to_string(),
                });
            }
            CaseEvent::CaseAssigned(CaseAssigned {
                champion_id: champion_id.clone(),
            })
        }
        Action::RecordContact {
            channel,
            contact_name,
            summary,
        } => CaseEvent::PracticeContacted(PracticeContacted {
            channel: *channel,
            contact_name: contact_name.clone(),
            summary: summary.clone(),
        }),
        Action::ShareGuidance { guide, version } => CaseEvent::GuidanceShared(GuidanceShared {
            guide: guide.clone(),
            version: version.clone(),
        }),
        Action::RecordRootCause { cause, detail } => CaseEvent::RootCauseIdentified(RootCauseIdentified {
            cause: *cause,
            detail: detail.clone(),
        }),
        Action::RecordRemap {
            changes,
            slots_per_day_configured,
        } => {
            if changes.is_empty() {
                return Err(CaseError::InvalidValue {
                    field: "changes",
                    source: ValueError::NoChanges,
                });
            }
            let mut unique: Vec<RemapChange> = Vec::with_capacity(changes.len());
            for change in changes {
                if !unique.contains(change) {
                    unique.push(*change);
                }
            }
            CaseEvent::SlotsRemapped(SlotsRemapped {
                changes: unique,
                slots_per_day_configured: *slots_per_day_configured,
            })
        }
        Action::RecordGpConnectReEnabled { reference } => CaseEvent::GpConnectReEnabled(GpConnectReEnabled {
            reference: reference.clone(),
        }),
        Action::ConfirmDhuVisibility { visible_slots_per_day } => {
            CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
                visible_slots_per_day: *visible_slots_per_day,
            })
        }
        Action::ReportDhuVisibilityIssue { issue, detail } => {
            CaseEvent::DhuVisibilityIssueReported(DhuVisibilityIssueReported {
                issue: issue.clone(),
                detail: detail.clone(),
            })
        }
        Action::ConfirmCompliance {
            visible_slots_per_day,
            evidence,
        } => {
            let required = case.required_slots.max(1);
            if visible_slots_per_day.get() < required {
                return Err(CaseError::NotCompliant {
                    visible: visible_slots_per_day.get(),
                    required,
                });
            }
            CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
                visible_slots_per_day: *visible_slots_per_day,
                evidence: *evidence,
            })
        }
        Action::CloseCase { reason } => {
            if *reason == CloseReason::Compliant && status != CaseStatus::Compliant {
                return Err(CaseError::InvalidTransition {
                    status,
                    action: "close as compliant",
                });
            }
            CaseEvent::CaseClosed(CaseClosed { reason: *reason })
        }
        Action::ReopenCase { reason, visible_slots } => CaseEvent::CaseReopened(CaseReopened {
            reason: reason.clone(),
            visible_slots: *visible_slots,
        }),
        Action::AddNote { text } => CaseEvent::NoteAdded(NoteAdded { text: text.clone() }),
        Action::EscalateToContractReview { reason } => {
            CaseEvent::EscalatedToContractReview(EscalatedToContractReview { reason: reason.clone() })
        }
    };
    Ok(vec![event])
}

/// GRAPHQL.md's roles per mutation. Admins may flag and reopen because dashboard imports, which
/// admins may run, do both.
fn check_role(command: &Command) -> Result<(), CaseError> {
    use Role::*;
    let role = command.actor.role;
    let allowed: &[Role] = match &command.action {
        Action::FlagPractice { .. } | Action::ReopenCase { .. } => &[Icb, Admin],
        Action::AssignCase { champion_id } => {
            if role == Champion && champion_id.as_str() != command.actor.id.as_str() {
                return Err(CaseError::AssignOnlySelf {
                    champion_id: champion_id.to_string(),
                });
            }
            &[Champion, Icb]
        }
        Action::RecordContact { .. }
        | Action::ShareGuidance { .. }
        | Action::RecordRootCause { .. }
        | Action::RecordRemap { .. }
        | Action::RecordGpConnectReEnabled { .. } => &[Champion],
        Action::ConfirmDhuVisibility { .. } | Action::ReportDhuVisibilityIssue { .. } => &[Dhu],
        Action::ConfirmCompliance { .. } | Action::CloseCase { .. } | Action::EscalateToContractReview { .. } => &[Icb],
        Action::AddNote { .. } => &[Champion, Icb],
    };
    if allowed.contains(&role) {
        Ok(())
    } else {
        Err(CaseError::Forbidden {
            role,
            action: command.action.name(),
        })
    }
}

/// What each status accepts: an open case takes the work; a COMPLIANT or CLOSED one takes only a
/// reopen and notes, and a COMPLIANT one may also be closed.
fn check_status(status: CaseStatus, action: &Action) -> Result<(), CaseError> {
    let allowed = match action {
        Action::AddNote { .. } | Action::FlagPractice { .. } => true,
        Action::ReopenCase { .. } => !status.is_open(),
        Action::CloseCase { .. } => status != CaseStatus::Closed,
        _ => status.is_open(),
    };
    if allowed {
        Ok(())
    } else {
        Err(CaseError::InvalidTransition {
            status,
            action: action.name(),
        })
    }
}
