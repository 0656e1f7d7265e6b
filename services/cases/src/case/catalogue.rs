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
    /// A practice, whatever its cases: the command works on the practice's stream.
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

/// One command's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRule {
    /// The command's name, as `Action::name` gives it.
    pub command: &'static str,
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
        self.permits(actor.role) && (actor.role != Role::Champion || self.champion.admits(actor.id.as_str(), holder))
    }

    /// Only on a case the champion holds.
    const fn held(self) -> Self {
        CommandRule {
            champion: ChampionScope::Held,
            ..self
        }
    }
}

use Role::{Admin, Champion, Dhu, Icb};

const fn rule(command: &'static str, roles: &'static [Role], allowed: Allowed, event: &'static str) -> CommandRule {
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
pub const COMMANDS: [CommandRule; 23] = [
    rule("FlagPractice", &[Icb, Admin], Allowed::NewCase, "PracticeFlagged"),
    CommandRule {
        champion: ChampionScope::HeldOrUnassigned,
        ..rule("AssignCase", &[Champion, Icb], Allowed::Open, "CaseAssigned")
    },
    rule("RecordContact", &[Champion], Allowed::Open, "PracticeContacted").held(),
    rule("ShareGuidance", &[Champion], Allowed::Open, "GuidanceShared").held(),
    rule("RecordRootCause", &[Champion], Allowed::Open, "RootCauseIdentified").held(),
    rule("RecordRemap", &[Champion], Allowed::Open, "SlotsRemapped").held(),
    rule(
        "RecordGpConnectReEnabled",
        &[Champion],
        Allowed::Open,
        "GpConnectReEnabled",
    )
    .held(),
    rule("ConfirmDhuVisibility", &[Dhu], Allowed::Open, "DhuVisibilityConfirmed"),
    rule(
        "ReportDhuVisibilityIssue",
        &[Dhu],
        Allowed::Open,
        "DhuVisibilityIssueReported",
    ),
    rule("ConfirmCompliance", &[Icb], Allowed::Open, "ComplianceConfirmed"),
    rule("CloseCase", &[Icb], Allowed::NotClosed, "CaseClosed"),
    rule("ReopenCase", &[Icb, Admin], Allowed::Finished, "CaseReopened"),
    rule("AddNote", &[Champion, Icb], Allowed::AnyCase, "NoteAdded").held(),
    // UK GDPR erasure: on any case, open or closed; the facts stay, the personal data goes.
    rule(
        "ErasePersonalData",
        &[Icb, Admin],
        Allowed::AnyCase,
        "PersonalDataErased",
    ),
    rule(
        "EscalateToContractReview",
        &[Icb],
        Allowed::Open,
        "EscalatedToContractReview",
    ),
    rule(
        "ConcludeContractReview",
        &[Icb],
        Allowed::AnyCase,
        "ContractReviewConcluded",
    ),
    rule("FileDhuReport", &[Dhu], Allowed::Practice, "DhuReportFiled"),
    rule("TriageDhuReport", &[Icb, Admin], Allowed::Practice, "DhuReportTriaged"),
    // UK GDPR erasure of a report nobody opened a case from (one that did is erased with its case).
    rule(
        "EraseReportPersonalData",
        &[Icb, Admin],
        Allowed::Practice,
        "DhuReportPersonalDataErased",
    ),
    rule(
        "RegisterPractice",
        &[Icb, Admin],
        Allowed::Practice,
        "PracticeRegistered",
    ),
    rule(
        "ChangePracticeDetails",
        &[Icb, Admin],
        Allowed::Practice,
        "PracticeDetailsChanged",
    ),
    rule("ImportDhuExtract", &[Dhu, Admin], Allowed::Practice, "DhuSlotsObserved"),
    // CaseLedger's own GP Connect free-slot search (`SlotVisibilityCheckFailed` when it fails):
    // those who work a case and the DHU ask for it; a scheduled run is the system's (admin).
    rule(
        "VerifySlotVisibility",
        &[Icb, Dhu, Champion, Admin],
        Allowed::Practice,
        "SlotVisibilityVerified",
    ),
];

/// The rule of `command`.
pub fn command_rule(command: &str) -> Option<&'static CommandRule> {
    COMMANDS.iter().find(|rule| rule.command == command)
}

/// The rule of the command that produces events of `event_type`.
pub fn rule_for_event(event_type: &str) -> Option<&'static CommandRule> {
    COMMANDS.iter().find(|rule| rule.event == event_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_and_each_event_has_one_rule() {
        for rule in &COMMANDS {
            assert_eq!(command_rule(rule.command), Some(rule));
            assert_eq!(rule_for_event(rule.event), Some(rule));
            assert!(
                crate::case::event::EVENT_TYPES.contains(&rule.event),
                "{} produces an event of the catalogue",
                rule.command
            );
        }
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
