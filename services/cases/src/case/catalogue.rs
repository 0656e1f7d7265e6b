//! Who may issue which command, in which states of the case, and the event it produces: written
//! once, here. `decide` enforces it; the GraphQL resolvers, the web pages' forms and the replay of
//! a recorded story read it, so they cannot disagree.

use super::state::CaseStatus;
use crate::role::Role;

/// The states of a case a command is allowed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Only where there is no case yet: it makes one.
    NewCase,
    /// An open case (not COMPLIANT, not CLOSED).
    Open,
    /// A COMPLIANT or CLOSED case.
    Finished,
    /// Any case but a CLOSED one.
    NotClosed,
    /// Any case.
    AnyCase,
    /// Not a slot case: the command works on a practice's stream (or a PCN's, or a Directory of
    /// Services entry's).
    Practice,
}

impl Allowed {
    /// Whether a case in `status` (`None`: no case) admits the command.
    pub fn admits(self, status: Option<CaseStatus>) -> bool {
        match (self, status) {
            (Allowed::NewCase, None) | (Allowed::Practice, _) => true,
            (_, None) | (Allowed::NewCase, Some(_)) => false,
            (Allowed::Open, Some(status)) => status.is_open(),
            (Allowed::Finished, Some(status)) => !status.is_open(),
            (Allowed::NotClosed, Some(status)) => status != CaseStatus::Closed,
            (Allowed::AnyCase, Some(_)) => true,
        }
    }
}

/// Which cases a champion may issue a command on. Champions work the cases they hold: a
/// colleague's case is theirs to read only as the LMC reads it, never to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChampionScope {
    /// Not about a case a champion works (a practice's stream, or not a champion's command).
    AnyCase,
    /// Only a case the champion holds.
    Held,
    /// A case the champion holds, or an unassigned one, which they take (`AssignCase`).
    HeldOrUnassigned,
}

/// Whether `role` may issue no command at all: its view of a case is read-only (the LMC's).
pub fn reads_only(role: Role) -> bool {
    !COMMANDS.iter().any(|rule| rule.permits(role))
}

/// Whether `role` works only the cases it holds (a champion): on a case a colleague holds it
/// reads as the LMC does, and may do nothing but ask the ICB.
pub fn works_only_held(role: Role) -> bool {
    role == Role::Champion
}

/// Whether `person` holds a case assigned to `holder`.
pub fn holds(person: &str, holder: Option<&str>) -> bool {
    holder == Some(person)
}

impl ChampionScope {
    /// Whether a champion `person` may act on a case assigned to `holder` (`None`: unassigned).
    pub fn admits(self, person: &str, holder: Option<&str>) -> bool {
        match self {
            ChampionScope::AnyCase => true,
            ChampionScope::Held => holds(person, holder),
            ChampionScope::HeldOrUnassigned => holder.is_none() || holds(person, holder),
        }
    }
}

/// Declares the commands' names once: the enum, its text and the list of all.
macro_rules! command_names {
    ($($name:ident),+ $(,)?) => {
        /// A command of the catalogue, by name: what a client is told it may issue, and what a
        /// page's form issues.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CommandName {
            $($name),+
        }

        impl CommandName {
            /// Every command, in the catalogue's order.
            pub const ALL: &'static [CommandName] = &[$(CommandName::$name),+];

            /// The command's name as text (`AssignCase`): in errors, metrics and the rules page.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CommandName::$name => stringify!($name)),+
                }
            }
        }
    };
}

command_names!(
    FlagPractice,
    AssignCase,
    RecordContact,
    ShareGuidance,
    RecordRootCause,
    RecordRemap,
    RecordGpConnectReEnabled,
    ConfirmDhuVisibility,
    ReportDhuVisibilityIssue,
    ConfirmCompliance,
    CloseCase,
    ReopenCase,
    AddNote,
    ErasePersonalData,
    EscalateToContractReview,
    ConcludeContractReview,
    FileDhuReport,
    TriageDhuReport,
    EraseReportPersonalData,
    RegisterPractice,
    ChangePracticeDetails,
    ImportDhuExtract,
    VerifySlotVisibility,
    NotifyDiversion,
    EndDiversion,
    AcknowledgeDiversion,
    RecordDiversionSupport,
    CloseDiversionReview,
    ImportCoreHoursCalls,
    ImportTelephonyMetrics,
    RecordPcnReviewNote,
    ReportDosGap,
    TriageDosGap,
    RecordDosUpdate,
    ConfirmDosFix,
    ReportDosGapPersists,
    EraseDiversionWords,
    EraseDosGapWords,
    CancelDiversion,
    AnswerChampion,
    ErasePcnReviewNote,
);

impl CommandName {
    /// The command's rule.
    pub fn rule(self) -> &'static CommandRule {
        // Every name has exactly one rule (a test checks it); the first stands in, unreachable.
        COMMANDS
            .iter()
            .find(|rule| rule.command == self)
            .unwrap_or(&COMMANDS[0])
    }

    /// Whether `role` may issue the command at all.
    pub fn permits(self, role: Role) -> bool {
        self.rule().permits(role)
    }
}

impl std::fmt::Display for CommandName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRule {
    /// The command's name, as `Action::name` gives it.
    pub command: CommandName,
    pub roles: &'static [Role],
    pub allowed: Allowed,
    /// The type of the event it produces.
    pub event: &'static str,
    /// For a champion: which cases.
    pub champion: ChampionScope,
}

impl CommandRule {
    pub fn permits(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether `actor` may issue the command on a case held by `holder`: their role is one of
    /// the command's, and a champion holds the case (or takes an unassigned one where allowed).
    pub fn permits_on(&self, actor: &crate::role::Actor, holder: Option<&str>) -> bool {
        self.permits(actor.role) && (!works_only_held(actor.role) || self.champion.admits(actor.id.as_str(), holder))
    }

    /// Only on a case the champion holds.
    const fn held(self) -> Self {
        CommandRule {
            champion: ChampionScope::Held,
            ..self
        }
    }
}

use Role::{Admin, Champion, Dhu, Icb, PcnClinicalDirector, Practice};

const fn rule(command: CommandName, roles: &'static [Role], allowed: Allowed, event: &'static str) -> CommandRule {
    CommandRule {
        command,
        roles,
        allowed,
        event,
        champion: ChampionScope::AnyCase,
    }
}

/// Every command. Admins may flag and reopen because dashboard imports, which admins may run, do
/// both; and triage DHU reports, as the ICB does.
pub const COMMANDS: [CommandRule; 41] = [
    rule(
        CommandName::FlagPractice,
        &[Icb, Admin],
        Allowed::NewCase,
        "PracticeFlagged",
    ),
    CommandRule {
        champion: ChampionScope::HeldOrUnassigned,
        ..rule(CommandName::AssignCase, &[Champion, Icb], Allowed::Open, "CaseAssigned")
    },
    rule(
        CommandName::RecordContact,
        &[Champion],
        Allowed::Open,
        "PracticeContacted",
    )
    .held(),
    rule(CommandName::ShareGuidance, &[Champion], Allowed::Open, "GuidanceShared").held(),
    rule(
        CommandName::RecordRootCause,
        &[Champion],
        Allowed::Open,
        "RootCauseIdentified",
    )
    .held(),
    rule(CommandName::RecordRemap, &[Champion], Allowed::Open, "SlotsRemapped").held(),
    rule(
        CommandName::RecordGpConnectReEnabled,
        &[Champion],
        Allowed::Open,
        "GpConnectReEnabled",
    )
    .held(),
    rule(
        CommandName::ConfirmDhuVisibility,
        &[Dhu],
        Allowed::Open,
        "DhuVisibilityConfirmed",
    ),
    rule(
        CommandName::ReportDhuVisibilityIssue,
        &[Dhu],
        Allowed::Open,
        "DhuVisibilityIssueReported",
    ),
    rule(
        CommandName::ConfirmCompliance,
        &[Icb],
        Allowed::Open,
        "ComplianceConfirmed",
    ),
    rule(CommandName::CloseCase, &[Icb], Allowed::NotClosed, "CaseClosed"),
    rule(
        CommandName::ReopenCase,
        &[Icb, Admin],
        Allowed::Finished,
        "CaseReopened",
    ),
    rule(CommandName::AddNote, &[Champion, Icb], Allowed::AnyCase, "NoteAdded").held(),
    // UK GDPR erasure: on any case, open or closed; the facts stay, the personal data goes.
    rule(
        CommandName::ErasePersonalData,
        &[Icb, Admin],
        Allowed::AnyCase,
        "PersonalDataErased",
    ),
    rule(
        CommandName::EscalateToContractReview,
        &[Icb],
        Allowed::Open,
        "EscalatedToContractReview",
    ),
    rule(
        CommandName::ConcludeContractReview,
        &[Icb],
        Allowed::AnyCase,
        "ContractReviewConcluded",
    ),
    rule(CommandName::FileDhuReport, &[Dhu], Allowed::Practice, "DhuReportFiled"),
    rule(
        CommandName::TriageDhuReport,
        &[Icb, Admin],
        Allowed::Practice,
        "DhuReportTriaged",
    ),
    // UK GDPR erasure of a report nobody opened a case from (one that did is erased with its case).
    rule(
        CommandName::EraseReportPersonalData,
        &[Icb, Admin],
        Allowed::Practice,
        "DhuReportPersonalDataErased",
    ),
    rule(
        CommandName::RegisterPractice,
        &[Icb, Admin],
        Allowed::Practice,
        "PracticeRegistered",
    ),
    rule(
        CommandName::ChangePracticeDetails,
        &[Icb, Admin],
        Allowed::Practice,
        "PracticeDetailsChanged",
    ),
    rule(
        CommandName::ImportDhuExtract,
        &[Dhu, Admin],
        Allowed::Practice,
        "DhuSlotsObserved",
    ),
    // CaseLedger's own GP Connect free-slot search (`SlotVisibilityCheckFailed` when it fails):
    // those who work a case and the DHU ask for it; a scheduled run is the system's (admin).
    rule(
        CommandName::VerifySlotVisibility,
        &[Icb, Dhu, Champion, Admin],
        Allowed::Practice,
        "SlotVisibilityVerified",
    ),
    // A practice tells the ICB of its own diversions; the ICB records one it was told of by phone.
    rule(
        CommandName::NotifyDiversion,
        &[Practice, Icb],
        Allowed::Practice,
        "DiversionNotified",
    ),
    rule(
        CommandName::EndDiversion,
        &[Practice, Icb],
        Allowed::Practice,
        "DiversionEnded",
    ),
    rule(
        CommandName::AcknowledgeDiversion,
        &[Icb],
        Allowed::Practice,
        "DiversionAcknowledged",
    ),
    // A review opens by itself when a notice passes the threshold (its event is the notice's);
    // support comes from a champion or the practice's own PCN, and the ICB closes it.
    rule(
        CommandName::RecordDiversionSupport,
        &[Champion, PcnClinicalDirector],
        Allowed::Practice,
        "DiversionReviewSupported",
    ),
    rule(
        CommandName::CloseDiversionReview,
        &[Icb],
        Allowed::Practice,
        "DiversionReviewClosed",
    ),
    // The 111 provider's weekly extract of core-hours calls; the ICB or an admin may load it too.
    rule(
        CommandName::ImportCoreHoursCalls,
        &[Dhu, Icb, Admin],
        Allowed::Practice,
        "CoreHoursCallsReported",
    ),
    // Each practice's month of telephony: the ICB loads the region's, a PCN's clinical director
    // its own practices' (a row of another PCN's practice refuses the file).
    rule(
        CommandName::ImportTelephonyMetrics,
        &[Icb, PcnClinicalDirector, Admin],
        Allowed::Practice,
        "TelephonyMetricsReported",
    ),
    // What a PCN agreed at its monthly review: its clinical director's, in the PCN's stream.
    rule(
        CommandName::RecordPcnReviewNote,
        &[PcnClinicalDirector],
        Allowed::Practice,
        "PcnReviewNoted",
    ),
    // Directory of Services gaps, in `dos-<id>`: the 111 provider reports one, the ICB triages, the service's provider updates its entry (recorded by
    // the ICB for it, or by a practice for its own entry), the 111 provider confirms or finds the
    // gap still there.
    rule(CommandName::ReportDosGap, &[Dhu], Allowed::Practice, "DosGapReported"),
    rule(CommandName::TriageDosGap, &[Icb], Allowed::Practice, "DosGapTriaged"),
    rule(
        CommandName::RecordDosUpdate,
        &[Icb, Practice],
        Allowed::Practice,
        "DosEntryUpdated",
    ),
    rule(CommandName::ConfirmDosFix, &[Dhu], Allowed::Practice, "DosFixConfirmed"),
    rule(
        CommandName::ReportDosGapPersists,
        &[Dhu],
        Allowed::Practice,
        "DosGapPersists",
    ),
    // UK GDPR: the words about a diversion or a gap are erased (their key destroyed) on request by
    // the ICB, or by the retention period (the system's admin).
    rule(
        CommandName::EraseDiversionWords,
        &[Icb, Admin],
        Allowed::Practice,
        "DiversionWordsErased",
    ),
    rule(
        CommandName::EraseDosGapWords,
        &[Icb, Admin],
        Allowed::Practice,
        "DosGapWordsErased",
    ),
    // A planned diversion called off before it began, by the practice or the ICB for it.
    rule(
        CommandName::CancelDiversion,
        &[Practice, Icb],
        Allowed::Practice,
        "DiversionCancelled",
    ),
    // A practice answers the Digital Champion on its own open slot case: kept in its stream
    // beside the case, whose own stream does not change.
    rule(
        CommandName::AnswerChampion,
        &[Practice],
        Allowed::Open,
        "PracticeAnswered",
    ),
    // UK GDPR: a PCN's review note's words are erased (its key destroyed) on request by the ICB,
    // by the PCN's own clinical director, or by the retention period (the system's admin).
    rule(
        CommandName::ErasePcnReviewNote,
        &[PcnClinicalDirector, Icb, Admin],
        Allowed::Practice,
        "PcnReviewNoteErased",
    ),
];

/// The rule of `command`.
pub fn command_rule(command: &str) -> Option<&'static CommandRule> {
    COMMANDS.iter().find(|rule| rule.command.as_str() == command)
}

/// The rule of the command that produces events of `event_type`.
pub fn rule_for_event(event_type: &str) -> Option<&'static CommandRule> {
    COMMANDS.iter().find(|rule| rule.event == event_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lmc_alone_reads_only_and_champions_alone_work_only_what_they_hold() {
        let read_only: Vec<Role> = Role::ALL.into_iter().filter(|role| reads_only(*role)).collect();
        assert_eq!(read_only, [Role::Lmc]);
        let held_only: Vec<Role> = Role::ALL.into_iter().filter(|role| works_only_held(*role)).collect();
        assert_eq!(held_only, [Role::Champion]);
        // And that is what the catalogue applies: a held command is the holder's alone.
        let amira = crate::role::Actor::new(crate::values::ShortText::parse("dc-amira").unwrap(), Role::Champion);
        let contact = CommandName::RecordContact.rule();
        assert!(contact.permits_on(&amira, Some("dc-amira")));
        assert!(!contact.permits_on(&amira, Some("dc-ben")));
    }

    #[test]
    fn each_command_and_each_event_has_one_rule() {
        for rule in &COMMANDS {
            assert_eq!(command_rule(rule.command.as_str()), Some(rule));
            assert_eq!(rule.command.rule(), rule);
            assert_eq!(rule_for_event(rule.event), Some(rule));
            assert!(
                crate::case::event::EVENT_TYPES.contains(&rule.event),
                "{} produces an event of the catalogue",
                rule.command
            );
        }
    }

    #[test]
    fn every_command_name_has_one_rule_in_the_catalogues_order() {
        let named: Vec<CommandName> = COMMANDS.iter().map(|rule| rule.command).collect();
        assert_eq!(named, CommandName::ALL);
        assert_eq!(CommandName::VerifySlotVisibility.as_str(), "VerifySlotVisibility");
        assert_eq!(CommandName::AssignCase.to_string(), "AssignCase");
    }

    #[test]
    fn the_states_a_command_is_allowed_in() {
        use CaseStatus::*;
        assert!(Allowed::NewCase.admits(None) && !Allowed::NewCase.admits(Some(Flagged)));
        assert!(Allowed::Open.admits(Some(DhuConfirmed)) && !Allowed::Open.admits(Some(Compliant)));
        assert!(Allowed::Finished.admits(Some(Closed)) && !Allowed::Finished.admits(Some(Remapped)));
        assert!(Allowed::NotClosed.admits(Some(Compliant)) && !Allowed::NotClosed.admits(Some(Closed)));
        assert!(Allowed::AnyCase.admits(Some(Closed)) && !Allowed::AnyCase.admits(None));
        assert!(Allowed::Practice.admits(None) && Allowed::Practice.admits(Some(Compliant)));
    }

    #[test]
    fn a_champion_acts_on_the_cases_they_hold_and_takes_unassigned_ones() {
        let amira = crate::role::Actor::new(
            crate::values::ShortText::parse("dc-amira").unwrap_or_else(|_| unreachable!()),
            Role::Champion,
        );
        let icb = crate::role::Actor::new(
            crate::values::ShortText::parse("icb-1").unwrap_or_else(|_| unreachable!()),
            Role::Icb,
        );
        let rule = |name: &str| command_rule(name).unwrap_or(&COMMANDS[0]);
        for command in [
            "RecordContact",
            "ShareGuidance",
            "RecordRootCause",
            "RecordRemap",
            "RecordGpConnectReEnabled",
            "AddNote",
        ] {
            assert!(
                rule(command).permits_on(&amira, Some("dc-amira")),
                "{command} on her own case"
            );
            assert!(
                !rule(command).permits_on(&amira, Some("dc-ben")),
                "{command} on a colleague's"
            );
            assert!(
                !rule(command).permits_on(&amira, None),
                "{command} on a case nobody took"
            );
        }
        assert!(
            rule("AssignCase").permits_on(&amira, None),
            "she takes an unassigned case"
        );
        assert!(
            !rule("AssignCase").permits_on(&amira, Some("dc-ben")),
            "not a colleague's"
        );
        assert!(
            rule("AddNote").permits_on(&icb, Some("dc-ben")),
            "the ICB is not a champion"
        );
        assert!(
            rule("VerifySlotVisibility").permits_on(&amira, Some("dc-ben")),
            "a practice's search"
        );
    }
}
