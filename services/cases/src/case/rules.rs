//! Every rule of a case, in one place: who may issue which command in which state (the
//! catalogue), business time neither in the future nor before the current episode began, and what
//! compliance needs: visible slots at or above the requirement in force, no open DHU shortfall, and
//! evidence that says so.

use chrono::{DateTime, Utc};

use super::command::{Action, Command};
use super::error::CaseError;
use super::event::*;
use super::state::{Case, CaseStatus};
use crate::practice::VerificationVerdict;
use crate::role::Role;
use crate::values::{ValueError, required_slots};

/// The earliest business time anything may be dated: a slip of a year's digits is caught.
pub fn earliest_business_time() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC) // 2000-01-01
}

/// The events `command` causes on `case`, or why it may not. `now` is the caller's clock.
pub fn decide(case: &Case, command: &Command, now: DateTime<Utc>) -> Result<Vec<CaseEvent>, CaseError> {
    let action = &command.action;
    let rule = action.rule();
    let role = command.actor.role;
    if !rule.permits(role) {
        return Err(CaseError::Forbidden {
            role,
            action: action.name(),
        });
    }
    check_time(case, command, now)?;
    if !rule.allowed.admits(case.status) {
        return Err(match (case.status, action) {
            (None, _) => CaseError::CaseNotFound,
            (Some(_), Action::FlagPractice { .. }) => CaseError::CaseAlreadyExists,
            (Some(status), _) => CaseError::InvalidTransition {
                status,
                action: action.name(),
            },
        });
    }

    // A champion works the cases they hold (taking one has its own refusals below).
    if role == Role::Champion
        && rule.champion == super::catalogue::ChampionScope::Held
        && !rule.permits_on(&command.actor, case.assigned_to.as_ref().map(|c| c.as_str()))
    {
        return Err(CaseError::NotYourCase);
    }

    let event = match action {
        Action::FlagPractice {
            practice,
            list_size,
            visible_slots,
            source,
            reason,
        } => CaseEvent::PracticeFlagged(PracticeFlagged {
            practice: practice.clone(),
            list_size: *list_size,
            required_slots: required_slots(*list_size),
            visible_slots: *visible_slots,
            source: source.clone(),
            reason: reason.clone(),
        }),
        Action::AssignCase { champion_id } => {
            if role == Role::Champion {
                if champion_id.as_str() != command.actor.id.as_str() {
                    return Err(CaseError::AssignOnlySelf {
                        champion_id: champion_id.to_string(),
                    });
                }
                // A champion takes an unassigned case; only the ICB moves a case someone holds.
                // Who holds it is not the colleague's to know (they read the case as the LMC).
                if case.assigned_to.as_ref().is_some_and(|holder| holder != champion_id) {
                    return Err(CaseError::HeldByAnotherChampion);
                }
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
            // Judged against the requirement on the day the DHU looked.
            CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
                visible_slots_per_day: *visible_slots_per_day,
                required_slots: Some(case.requirement_at(command.occurred_at)),
            })
        }
        Action::ReportDhuVisibilityIssue {
            category,
            issue,
            detail,
        } => CaseEvent::DhuVisibilityIssueReported(DhuVisibilityIssueReported {
            category: Some(category.unwrap_or(RootCause::Other)),
            issue: issue.clone(),
            detail: detail.clone(),
        }),
        Action::ConfirmCompliance {
            visible_slots_per_day,
            evidence,
        } => {
            let required = case.requirement_at(command.occurred_at);
            if visible_slots_per_day.get() < required {
                return Err(CaseError::NotCompliant {
                    visible: visible_slots_per_day.get(),
                    required,
                });
            }
            if let Some(shortfall) = case.shortfall() {
                return Err(CaseError::DhuShortfall {
                    visible: shortfall.visible,
                    required: shortfall.required,
                });
            }
            check_evidence(case, *evidence, command.occurred_at)?;
            CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
                visible_slots_per_day: *visible_slots_per_day,
                evidence: *evidence,
                required_slots: Some(required),
            })
        }
        Action::CloseCase { reason } => {
            if let (CloseReason::Compliant, Some(status)) = (reason, case.status)
                && status != CaseStatus::Compliant
            {
                return Err(CaseError::InvalidTransition {
                    status,
                    action: "close as compliant",
                });
            }
            CaseEvent::CaseClosed(CaseClosed { reason: *reason })
        }
        Action::ReopenCase {
            reason,
            visible_slots,
            cause,
            list_size,
        } => CaseEvent::CaseReopened(CaseReopened {
            reason: reason.clone(),
            visible_slots: *visible_slots,
            cause: Some(*cause),
            list_size: *list_size,
            required_slots: list_size.map(required_slots),
        }),
        Action::AddNote { text } => CaseEvent::NoteAdded(NoteAdded { text: text.clone() }),
        Action::ErasePersonalData { reason } => {
            CaseEvent::PersonalDataErased(PersonalDataErased { reason: reason.clone() })
        }
        Action::EscalateToContractReview { reason } => {
            if case.review_open {
                return Err(CaseError::ReviewAlreadyOpen);
            }
            CaseEvent::EscalatedToContractReview(EscalatedToContractReview { reason: reason.clone() })
        }
        Action::ConcludeContractReview { outcome, note } => {
            if !case.review_open {
                return Err(CaseError::NoOpenReview);
            }
            CaseEvent::ContractReviewConcluded(ContractReviewConcluded {
                outcome: *outcome,
                note: note.clone(),
            })
        }
    };
    Ok(vec![event])
}

/// Business time is never in the future, never implausibly early, and never before the current
/// episode began (the last flag or reopen); a reopen is never before what it reopens.
fn check_time(case: &Case, command: &Command, now: DateTime<Utc>) -> Result<(), CaseError> {
    let occurred_at = command.occurred_at;
    if occurred_at > now {
        return Err(CaseError::OccurredInFuture { occurred_at });
    }
    let earliest = earliest_business_time();
    if occurred_at < earliest {
        return Err(CaseError::OccurredTooEarly { occurred_at, earliest });
    }
    let episode_began = match command.action {
        Action::ReopenCase { .. } => [case.opened_at, case.compliant_at, case.closed_at]
            .into_iter()
            .flatten()
            .max(),
        _ => case.opened_at,
    };
    match episode_began {
        Some(opened_at) if occurred_at < opened_at => Err(CaseError::OccurredBeforeOpened { occurred_at, opened_at }),
        _ => Ok(()),
    }
}

/// What compliance needs beside the count: evidence from this episode, after the last remap.
fn check_evidence(case: &Case, evidence: Evidence, at: DateTime<Utc>) -> Result<(), CaseError> {
    let since = case.last_remap_at.or(case.opened_at);
    let since_text = match (case.last_remap_at, since) {
        (Some(remap), _) => format!("since the last remap ({})", remap.format("%-d %b %Y %H:%M")),
        (None, Some(opened)) => format!("since the case opened ({})", opened.format("%-d %b %Y %H:%M")),
        (None, None) => "in this case".to_string(),
    };
    match evidence {
        // A problem the DHU raised after its own confirmation (and not yet answered by a remap or
        // a new confirmation) takes back its word.
        Evidence::DhuConfirmation if case.open_dhu_issue && case.dhu_issue_at.is_none_or(|raised| raised <= at) => {
            Err(CaseError::MissingEvidence(format!(
                "the DHU reported a visibility problem{} after its confirmation: compliance on the DHU's word \
                 waits for a remap or the DHU confirming again",
                case.dhu_issue_at
                    .map(|raised| format!(" on {}", raised.format("%-d %b %Y %H:%M")))
                    .unwrap_or_default()
            )))
        }
        Evidence::DhuConfirmation => match case.dhu_check {
            Some(check) if check.meets() && check.at <= at => Ok(()),
            Some(check) if check.at > at => Err(CaseError::MissingEvidence(format!(
                "the DHU's confirmation is dated after this confirmation of compliance ({})",
                check.at.format("%-d %b %Y %H:%M")
            ))),
            _ => Err(CaseError::MissingEvidence(format!(
                "there is no DHU confirmation at or above the requirement {since_text}"
            ))),
        },
        Evidence::Dashboard => {
            let seen = since.is_some_and(|since| {
                case.observations_between(since, at)
                    .any(|o| o.visible >= o.required.max(1))
            });
            if seen {
                Ok(())
            } else {
                Err(CaseError::MissingEvidence(format!(
                    "there is no dashboard observation at or above the requirement dated {}",
                    since_text.replacen("since", "after", 1)
                )))
            }
        }
        Evidence::GpConnectVerification => match (case.verification_at(at), since) {
            // ENOUGH, and against the requirement in force at the confirmation (a list size may
            // have risen since the search).
            (Some((when, VerificationVerdict::Enough, least)), Some(since))
                if when > since && least.unwrap_or(0) >= case.requirement_at(at) =>
            {
                Ok(())
            }
            (Some((when, verdict, least)), Some(since)) if when > since => Err(CaseError::MissingEvidence(format!(
                "the latest GP Connect verification ({}) found {}, not enough",
                when.format("%-d %b %Y %H:%M"),
                match verdict {
                    VerificationVerdict::Enough => format!(
                        "at least {} free slots a day where {} are now required",
                        least.unwrap_or(0),
                        case.requirement_at(at)
                    ),
                    VerificationVerdict::TooFew => "too few free slots".to_string(),
                    VerificationVerdict::Failed => "no answer from the practice's system".to_string(),
                }
            ))),
            _ => Err(CaseError::MissingEvidence(format!(
                "there is no GP Connect verification of this practice's slots {since_text}"
            ))),
        },
    }
}
