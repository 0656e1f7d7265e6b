//! The kinds of case the ledger holds. Each has its own events, rules (`decide`/`evolve`),
//! catalogue rows, stream family, read models, GraphQL and pages; the event store is the same.
//! A command either works one kind of case or keeps reference data (registers, extracts) that
//! the cases read.

use crate::case::{CommandName, StreamKind, stream_kind_of};

/// A kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseType {
    /// A practice's 111 slots are not visible to the 111 provider (`case-`, `contract-`; the
    /// DHU's reports on a practice before a case opens, `practice-`).
    SlotVisibility,
    /// A practice diverts its phones to 111 in core hours: notices, and a review past the
    /// threshold (`practice-`).
    Diversion,
    /// A PCN reviews its practices' telephony month by month (`pcn-`, and the practices').
    TelephonyReview,
    /// A gap in a service's Directory of Services entry (`dos-`).
    DosGap,
}

impl CaseType {
    pub const ALL: [CaseType; 4] = [
        CaseType::SlotVisibility,
        CaseType::Diversion,
        CaseType::TelephonyReview,
        CaseType::DosGap,
    ];

    /// In words, for the rules page and the pages.
    pub fn label(self) -> &'static str {
        match self {
            CaseType::SlotVisibility => "111 slot visibility",
            CaseType::Diversion => "Diversions to NHS 111 in core hours",
            CaseType::TelephonyReview => "Telephony review",
            CaseType::DosGap => "Directory of Services gap",
        }
    }

    /// The streams its events are written to.
    pub fn streams(self) -> &'static [StreamKind] {
        match self {
            CaseType::SlotVisibility => &[StreamKind::Case, StreamKind::Contract, StreamKind::Practice],
            CaseType::Diversion => &[StreamKind::Practice],
            CaseType::TelephonyReview => &[StreamKind::Pcn, StreamKind::Practice],
            CaseType::DosGap => &[StreamKind::Dos],
        }
    }

    /// The commands that work it, in the catalogue's order.
    pub fn commands(self) -> impl Iterator<Item = CommandName> {
        CommandName::ALL
            .iter()
            .copied()
            .filter(move |command| command.case_type() == Some(self))
    }
}

impl CommandName {
    /// The kind of case the command works, or `None` for reference data the cases read (the
    /// practice register, the DHU's extract, GP Connect's searches, the weekly calls).
    pub fn case_type(self) -> Option<CaseType> {
        use CommandName::*;
        match self {
            FlagPractice
            | AssignCase
            | RecordContact
            | ShareGuidance
            | RecordRootCause
            | RecordRemap
            | RecordGpConnectReEnabled
            | ConfirmDhuVisibility
            | ReportDhuVisibilityIssue
            | ConfirmCompliance
            | CloseCase
            | ReopenCase
            | AddNote
            | ErasePersonalData
            | EscalateToContractReview
            | ConcludeContractReview
            | FileDhuReport
            | TriageDhuReport
            | EraseReportPersonalData
            | AnswerChampion => Some(CaseType::SlotVisibility),
            NotifyDiversion
            | EndDiversion
            | AcknowledgeDiversion
            | RecordDiversionSupport
            | CloseDiversionReview
            | EraseDiversionWords
            | CancelDiversion => Some(CaseType::Diversion),
            ImportTelephonyMetrics | RecordPcnReviewNote | ErasePcnReviewNote => Some(CaseType::TelephonyReview),
            ReportDosGap | TriageDosGap | RecordDosUpdate | ConfirmDosFix | ReportDosGapPersists | EraseDosGapWords => {
                Some(CaseType::DosGap)
            }
            RegisterPractice
            | ChangePracticeDetails
            | ImportDhuExtract
            | VerifySlotVisibility
            | ImportCoreHoursCalls => None,
        }
    }
}

/// Whether `command`'s event is written where its case type's events live.
pub fn writes_in_its_streams(command: CommandName) -> bool {
    let stream = stream_kind_of(command.rule().event);
    command.case_type().is_none_or(|kind| kind.streams().contains(&stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_case_type_writes_its_own_streams_and_has_commands() {
        for command in CommandName::ALL {
            assert!(writes_in_its_streams(*command), "{command}");
        }
        for kind in CaseType::ALL {
            assert!(kind.commands().next().is_some(), "{kind:?}");
        }
        assert_eq!(
            CaseType::DosGap.commands().collect::<Vec<_>>(),
            [
                CommandName::ReportDosGap,
                CommandName::TriageDosGap,
                CommandName::RecordDosUpdate,
                CommandName::ConfirmDosFix,
                CommandName::ReportDosGapPersists,
                CommandName::EraseDosGapWords
            ]
        );
        // A slot case's streams are its own: no other kind writes there.
        for kind in [CaseType::Diversion, CaseType::TelephonyReview, CaseType::DosGap] {
            assert!(!kind.streams().contains(&StreamKind::Case), "{kind:?}");
        }
    }
}
