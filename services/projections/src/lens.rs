//! The lens: what of a case's history each party may see. An allow-list, per event type and per
//! field: a field is sent to a party only when its rule names that party, so a field added to an
//! event later stays hidden from everyone but admins until someone decides who may see it.
//!
//! Free text that a party did not write never reaches the LMC or DHU; contact names reach only
//! the champions; who a champion is never reaches the LMC or DHU (GRAPHQL.md, "The lens").

use caseledger_cases::Role;
use caseledger_cases::case::{StreamName, decode_event, encode_event};
use caseledger_eventstore::RecordedEvent;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A set of parties (admins see everything and are never listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties(u8);

impl Parties {
    pub const NONE: Parties = Parties(0);
    pub const ICB: Parties = Parties(1);
    pub const CHAMPION: Parties = Parties(2);
    pub const DHU: Parties = Parties(4);
    pub const LMC: Parties = Parties(8);
    /// A practice, reading what is its own (the queries keep it to its own practice).
    pub const PRACTICE: Parties = Parties(16);
    /// A PCN's clinical director, reading its own practices (the queries keep it to them).
    pub const PCN: Parties = Parties(32);
    /// ICB and champions: the people who work the case.
    pub const CASEWORK: Parties = Parties(1 | 2);
    /// The four parties of a slot case.
    pub const ALL: Parties = Parties(1 | 2 | 4 | 8);

    pub const fn and(self, other: Parties) -> Parties {
        Parties(self.0 | other.0)
    }

    pub fn include(self, reader: impl Into<Reader>) -> bool {
        match reader.into() {
            Reader::Admin => true,
            Reader::Parties(all) => self.0 & all.0 == all.0,
        }
    }

    fn of(role: Role) -> Reader {
        match role {
            Role::Admin => Reader::Admin,
            Role::Icb => Reader::Parties(Self::ICB),
            Role::Champion => Reader::Parties(Self::CHAMPION),
            Role::Dhu => Reader::Parties(Self::DHU),
            Role::Lmc => Reader::Parties(Self::LMC),
            Role::Practice => Reader::Parties(Self::PRACTICE),
            Role::PcnClinicalDirector => Reader::Parties(Self::PCN),
        }
    }
}

/// Whose view a person reads a case through: their role's, or (a champion on a colleague's case)
/// only what both the champions' and the LMC's views hold. Admins see everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Admin,
    /// Something is shown only when every one of these parties may see it.
    Parties(Parties),
}

impl From<Role> for Reader {
    fn from(role: Role) -> Self {
        Parties::of(role)
    }
}

impl Reader {
    /// A champion on a case another champion holds: what a champion and the LMC may both see
    /// (never its contact names or notes, nor its contract review, nor who holds it).
    pub const COLLEAGUE: Reader = Reader::Parties(Parties::CHAMPION.and(Parties::LMC));

    /// The role whose reading of the case's own fields (not its events) applies: a colleague's
    /// is the LMC's, narrowed by the lens where the two differ.
    pub fn role(self) -> Role {
        match self {
            Reader::Admin => Role::Admin,
            Reader::Parties(parties) if parties == Parties::ICB => Role::Icb,
            Reader::Parties(parties) if parties == Parties::CHAMPION => Role::Champion,
            Reader::Parties(parties) if parties == Parties::DHU => Role::Dhu,
            Reader::Parties(parties) if parties == Parties::PRACTICE => Role::Practice,
            Reader::Parties(parties) if parties == Parties::PCN => Role::PcnClinicalDirector,
            Reader::Parties(_) => Role::Lmc,
        }
    }
}

/// Who may see one field of an event's data.
#[derive(Debug, Clone, Copy)]
pub struct FieldRule {
    pub field: &'static str,
    pub seen_by: Parties,
}

/// Who may see an event at all, and each of its fields; and which of its fields are personal data
/// (names, and free text that may hold names or phone numbers): those are stored sealed under
/// the case's data key and read as erased once the case's personal data is erased.
#[derive(Debug, Clone, Copy)]
pub struct EventRule {
    pub event_type: &'static str,
    pub seen_by: Parties,
    pub fields: &'static [FieldRule],
    pub personal: &'static [&'static str],
}

const fn field(field: &'static str, seen_by: Parties) -> FieldRule {
    FieldRule { field, seen_by }
}

const ALL: Parties = Parties::ALL;
const WORK: Parties = Parties::CASEWORK;
/// A GP Connect verification's fields: what went wrong may name an endpoint (not for the LMC).
const VERIFICATION_FIELDS: &[FieldRule] = &[
    field("ods_code", ALL),
    field("case_id", ALL),
    field("window_start", ALL),
    field("window_end", ALL),
    field("required_per_day", ALL),
    field("days", ALL),
    field("min_per_core_day", ALL),
    field("verdict", ALL),
    field("short_days", ALL),
    field("error_code", ALL),
    field("error", WORK.and(Parties::DHU)),
    // The practice system's own slot set-up (times, slot types, sessions, channels, roles):
    // reference data, for everyone, as NHS England's appointment checker shows it.
    field("slots", ALL),
    field("past_slots", ALL),
    field("notices", ALL),
    field("provider_system", ALL),
];
/// Who sees a practice's diversions: the four parties of a slot case, the practice itself and its
/// PCN's clinical director.
const DIVERSIONS: Parties = Parties::ALL.and(Parties::PRACTICE).and(Parties::PCN);
/// Who sees a practice's telephony metrics: those who support practices with them (the ICB,
/// champions, the practice itself and its PCN's clinical director), not the LMC or the DHU.
const TELEPHONY: Parties = Parties::CASEWORK.and(Parties::PRACTICE).and(Parties::PCN);
/// Who sees Directory of Services gaps: the ICB, the 111 provider that reports them, and the
/// practice whose own entry a gap is in (the queries keep it to those).
const DOS: Parties = Parties::ICB.and(Parties::DHU).and(Parties::PRACTICE);
/// Everyone who may see the case's operational history, but the DHU.
const NOT_DHU: Parties = Parties::ICB.and(Parties::CHAMPION).and(Parties::LMC);
/// Who knows that a practice answered the champion on its slot case, and when: the case's
/// operational history's readers (support is the LMC's question), the practice and its PCN.
const ANSWERED: Parties = NOT_DHU.and(Parties::PRACTICE).and(Parties::PCN);

/// The allow-list. Reference data (the practice, counts, enumerated values) is for everyone who
/// sees the event; free text and references typed by a party are for the ICB and champions, and
/// for the DHU only where the DHU wrote them.
pub const RULES: &[EventRule] = &[
    EventRule {
        event_type: "PracticeFlagged",
        seen_by: ALL,
        fields: &[
            field("practice", ALL),
            field("list_size", ALL),
            field("required_slots", ALL),
            field("visible_slots", ALL),
            field("source", ALL),
            field("reason", WORK),
        ],
        personal: &["reason"],
    },
    EventRule {
        event_type: "CaseAssigned",
        seen_by: NOT_DHU,
        fields: &[field("champion_id", WORK)],
        personal: &[],
    },
    EventRule {
        event_type: "PracticeContacted",
        seen_by: NOT_DHU,
        fields: &[
            field("channel", NOT_DHU),
            field("contact_name", Parties::CHAMPION),
            field("summary", WORK),
        ],
        personal: &["contact_name", "summary"],
    },
    EventRule {
        event_type: "GuidanceShared",
        seen_by: NOT_DHU,
        fields: &[field("guide", WORK), field("version", WORK)],
        personal: &[],
    },
    EventRule {
        event_type: "RootCauseIdentified",
        seen_by: NOT_DHU,
        fields: &[field("cause", NOT_DHU), field("detail", WORK)],
        personal: &["detail"],
    },
    EventRule {
        event_type: "SlotsRemapped",
        seen_by: ALL,
        fields: &[field("changes", ALL), field("slots_per_day_configured", ALL)],
        personal: &[],
    },
    EventRule {
        event_type: "GpConnectReEnabled",
        seen_by: ALL,
        fields: &[field("reference", WORK)],
        personal: &[],
    },
    EventRule {
        event_type: "DhuVisibilityConfirmed",
        seen_by: ALL,
        fields: &[field("visible_slots_per_day", ALL), field("required_slots", ALL)],
        personal: &[],
    },
    EventRule {
        event_type: "DhuVisibilityIssueReported",
        seen_by: ALL,
        // Written by the DHU: its own text comes back to it; the category is a kind, for all.
        fields: &[
            field("category", ALL),
            field("issue", WORK.and(Parties::DHU)),
            field("detail", WORK.and(Parties::DHU)),
        ],
        personal: &["issue", "detail"],
    },
    EventRule {
        event_type: "ComplianceConfirmed",
        seen_by: ALL,
        fields: &[
            field("visible_slots_per_day", ALL),
            field("evidence", ALL),
            field("required_slots", ALL),
        ],
        personal: &[],
    },
    EventRule {
        event_type: "CaseClosed",
        seen_by: ALL,
        // An enumerated reason, not free text.
        fields: &[field("reason", ALL)],
        personal: &[],
    },
    EventRule {
        event_type: "CaseReopened",
        seen_by: ALL,
        fields: &[
            field("reason", WORK),
            field("visible_slots", ALL),
            field("cause", ALL),
            field("list_size", ALL),
            field("required_slots", ALL),
        ],
        personal: &["reason"],
    },
    // Who erased a case's personal data, when and why stays on the record (not the DHU's concern);
    // the reason is the ICB's and the champions'.
    EventRule {
        event_type: "PersonalDataErased",
        seen_by: NOT_DHU,
        fields: &[field("reason", WORK)],
        personal: &[],
    },
    EventRule {
        event_type: "NoteAdded",
        seen_by: WORK,
        fields: &[field("text", WORK)],
        personal: &["text"],
    },
    // Live in `contract-<case id>`: the content is the ICB's alone; the LMC sees that a review
    // happened, when, and its outcome category; champions and the DHU nothing.
    EventRule {
        event_type: "EscalatedToContractReview",
        seen_by: Parties::ICB.and(Parties::LMC),
        fields: &[field("reason", Parties::ICB)],
        personal: &["reason"],
    },
    EventRule {
        // The LMC sees that a review happened and when it ended (DESIGN: whether any contract
        // action happened, and when), never what it decided: the outcome is the review's content.
        event_type: "ContractReviewConcluded",
        seen_by: Parties::ICB.and(Parties::LMC),
        fields: &[field("outcome", Parties::ICB), field("note", Parties::ICB)],
        personal: &["note"],
    },
    // DHU reports on a practice, in `practice-<ODS>`: the category for all, the DHU's detail for
    // those who work the case and the DHU, the ICB's reason for dismissing one for the ICB.
    EventRule {
        event_type: "DhuReportFiled",
        seen_by: ALL,
        fields: &[
            field("report_id", ALL),
            field("category", ALL),
            field("detail", WORK.and(Parties::DHU)),
        ],
        personal: &["detail"],
    },
    // Which report's personal data was erased, when and by whom stays on the record for all who
    // see reports; why, for the ICB.
    EventRule {
        event_type: "DhuReportPersonalDataErased",
        seen_by: ALL,
        fields: &[field("report_id", ALL), field("reason", Parties::ICB)],
        personal: &[],
    },
    EventRule {
        event_type: "DhuReportTriaged",
        seen_by: ALL,
        fields: &[
            field("report_id", ALL),
            field("outcome", ALL),
            field("case_id", ALL),
            field("reason", Parties::ICB),
        ],
        personal: &["reason"],
    },
    // The register, in `practice-<ODS>`: reference data (who the practice is, where, its list
    // size and sites) for everyone.
    EventRule {
        event_type: "PracticeRegistered",
        seen_by: ALL,
        fields: &[
            field("practice", ALL),
            field("list_size", ALL),
            field("main_site", ALL),
            field("branch_sites", ALL),
            // ODS publishes these: the practice's own address and telephone, not a person's.
            field("ods", ALL),
            field("list_size_date", ALL),
            field("pcn_joined", ALL),
        ],
        personal: &[],
    },
    EventRule {
        event_type: "PracticeDetailsChanged",
        seen_by: ALL,
        fields: &[
            field("practice", ALL),
            field("list_size", ALL),
            field("main_site", ALL),
            field("branch_sites", ALL),
            // ODS publishes these: the practice's own address and telephone, not a person's.
            field("ods", ALL),
            field("list_size_date", ALL),
            field("pcn_joined", ALL),
        ],
        personal: &[],
    },
    // The DHU's own visibility extract: counts, for everyone.
    EventRule {
        event_type: "DhuSlotsObserved",
        seen_by: ALL,
        fields: &[field("ods_code", ALL), field("date", ALL), field("visible_slots", ALL)],
        personal: &[],
    },
    // CaseLedger's GP Connect verifications: verdicts and counts for everyone; what went wrong
    // (which may name an endpoint) for those who work the case and the DHU, not the LMC.
    EventRule {
        event_type: "SlotVisibilityVerified",
        seen_by: ALL,
        fields: VERIFICATION_FIELDS,
        personal: &[],
    },
    EventRule {
        event_type: "SlotVisibilityCheckFailed",
        seen_by: ALL,
        fields: VERIFICATION_FIELDS,
        personal: &[],
    },
    // Diversions to 111, in `practice-<ODS>`: when, how long and why (a kind) for every party that
    // sees diversions; the practice's own words for the practice, the ICB and champions.
    EventRule {
        event_type: "DiversionNotified",
        seen_by: DIVERSIONS,
        fields: &[
            field("diversion_id", DIVERSIONS),
            field("from", DIVERSIONS),
            field("expected_until", DIVERSIONS),
            field("reason", DIVERSIONS),
            field("detail", WORK.and(Parties::PRACTICE)),
        ],
        personal: &["detail"],
    },
    EventRule {
        event_type: "DiversionEnded",
        seen_by: DIVERSIONS,
        fields: &[field("diversion_id", DIVERSIONS), field("ended_at", DIVERSIONS)],
        personal: &[],
    },
    EventRule {
        event_type: "DiversionAcknowledged",
        seen_by: DIVERSIONS,
        fields: &[field("diversion_id", DIVERSIONS)],
        personal: &[],
    },
    // Diversion reviews, in `practice-<ODS>`: that a review opened, the support given (its kind) and
    // the outcome for every party that sees diversions (the LMC sees that support came first);
    // the ICB's note on closing for the ICB alone.
    EventRule {
        event_type: "DiversionReviewOpened",
        seen_by: DIVERSIONS,
        fields: &[
            field("review_id", DIVERSIONS),
            field("notices", DIVERSIONS),
            field("core_minutes", DIVERSIONS),
            field("since", DIVERSIONS),
        ],
        personal: &[],
    },
    EventRule {
        event_type: "DiversionReviewSupported",
        seen_by: DIVERSIONS,
        fields: &[field("review_id", DIVERSIONS), field("kind", DIVERSIONS)],
        personal: &[],
    },
    EventRule {
        event_type: "DiversionReviewClosed",
        seen_by: DIVERSIONS,
        fields: &[
            field("review_id", DIVERSIONS),
            field("outcome", DIVERSIONS),
            field("note", Parties::ICB),
        ],
        personal: &["note"],
    },
    // The 111 provider's weekly core-hours calls by practice: counts, for every party that reads
    // diversions (the queries keep a practice and a PCN to their own).
    EventRule {
        event_type: "CoreHoursCallsReported",
        seen_by: DIVERSIONS,
        fields: &[
            field("ods_code", DIVERSIONS),
            field("week_start", DIVERSIONS),
            field("calls", DIVERSIONS),
        ],
        personal: &[],
    },
    // A practice's month of telephony (in `practice-<ODS>`): figures, for those who support
    // practices with them (the queries keep a practice and a PCN to their own).
    EventRule {
        event_type: "TelephonyMetricsReported",
        seen_by: TELEPHONY,
        fields: &[
            field("ods_code", TELEPHONY),
            field("month", TELEPHONY),
            field("inbound_calls", TELEPHONY),
            field("average_wait_seconds", TELEPHONY),
            field("abandonment_basis_points", TELEPHONY),
            field("average_call_seconds", TELEPHONY),
            field("callbacks", TELEPHONY),
        ],
        personal: &[],
    },
    // What a PCN agreed at its monthly review (in `pcn-<U code>`): the PCN's own words, for its
    // clinical director alone (the queries keep a PCN to its own).
    EventRule {
        event_type: "PcnReviewNoted",
        seen_by: Parties::PCN,
        fields: &[
            field("note_id", Parties::PCN),
            field("pcn_code", Parties::PCN),
            field("month", Parties::PCN),
            field("note", Parties::PCN),
        ],
        personal: &["note"],
    },
    EventRule {
        event_type: "PcnReviewNoteErased",
        seen_by: Parties::PCN,
        fields: &[field("note_id", Parties::PCN)],
        personal: &[],
    },
    // Directory of Services gaps (in `dos-<id>`): the service, the kind, when it bit and each
    // step for the ICB, the 111 provider and the practice whose entry it is; the 111 provider's
    // words for them too (it wrote them; the practice fixes its entry from them); the ICB's reason
    // for dismissing one for the ICB alone; what was updated for the ICB and the practice.
    EventRule {
        event_type: "DosGapReported",
        seen_by: DOS,
        fields: &[
            field("gap_id", DOS),
            field("service_id", DOS),
            field("service_name", DOS),
            field("kind", DOS),
            field("bit_at", DOS),
            field("ods_code", DOS),
            field("detail", DOS),
        ],
        personal: &["detail"],
    },
    EventRule {
        event_type: "DosGapTriaged",
        seen_by: DOS,
        fields: &[
            field("gap_id", DOS),
            field("outcome", DOS),
            field("reason", Parties::ICB),
        ],
        personal: &["reason"],
    },
    EventRule {
        event_type: "DosEntryUpdated",
        seen_by: DOS,
        fields: &[
            field("gap_id", DOS),
            field("summary", Parties::ICB.and(Parties::PRACTICE)),
        ],
        personal: &["summary"],
    },
    EventRule {
        event_type: "DosFixConfirmed",
        seen_by: DOS,
        fields: &[field("gap_id", DOS)],
        personal: &[],
    },
    EventRule {
        event_type: "DosGapPersists",
        seen_by: DOS,
        fields: &[field("gap_id", DOS), field("detail", DOS)],
        personal: &["detail"],
    },
    // That the words about a diversion or a gap were erased: for everyone who reads them.
    EventRule {
        event_type: "DiversionWordsErased",
        seen_by: DIVERSIONS,
        fields: &[field("diversion_id", DIVERSIONS)],
        personal: &[],
    },
    EventRule {
        event_type: "DiversionCancelled",
        seen_by: DIVERSIONS,
        fields: &[field("diversion_id", DIVERSIONS)],
        personal: &[],
    },
    EventRule {
        event_type: "DosGapWordsErased",
        seen_by: DOS,
        fields: &[field("gap_id", DOS)],
        personal: &[],
    },
    // A practice's answer to the Digital Champion (in `practice-<ODS>`, beside its slot case):
    // that it answered, and when, for every reader of the case's operational history, the
    // practice and its PCN; its words for the practice that wrote them and those who work the
    // case (never the LMC, a colleague champion, the PCN or the DHU).
    EventRule {
        event_type: "PracticeAnswered",
        seen_by: ANSWERED,
        fields: &[
            field("answer_id", ANSWERED),
            field("case_id", ANSWERED),
            field("text", WORK.and(Parties::PRACTICE)),
        ],
        personal: &["text"],
    },
    // In `practice-<ODS>`; not part of a case's history, listed so that the rule is complete.
    EventRule {
        event_type: "SlotsObserved",
        seen_by: ALL,
        fields: &[
            field("report_date", ALL),
            field("visible_slots", ALL),
            field("list_size", ALL),
            field("required_slots", ALL),
            field("practice", ALL),
        ],
        personal: &[],
    },
];

/// The rule of `event_type`, if the lens knows it (an unknown type is hidden from all but admins).
pub fn rule(event_type: &str) -> Option<&'static EventRule> {
    RULES.iter().find(|rule| rule.event_type == event_type)
}

/// The personal fields of `event_type`: sealed when stored, erased with the case's data key.
pub fn personal_fields(event_type: &str) -> &'static [&'static str] {
    rule(event_type).map_or(&[], |rule| rule.personal)
}

/// Whether `viewer` sees events of this type in a case's history at all.
pub fn shows(viewer: impl Into<Reader>, event_type: &str) -> bool {
    let viewer = viewer.into();
    viewer == Reader::Admin || rule(event_type).is_some_and(|rule| rule.seen_by.include(viewer))
}

/// Whether `viewer` sees field `field` of events of this type.
pub fn shows_field(viewer: impl Into<Reader>, event_type: &str, field: &str) -> bool {
    let viewer = viewer.into();
    viewer == Reader::Admin
        || rule(event_type).is_some_and(|rule| {
            rule.fields
                .iter()
                .any(|f| f.field == field && f.seen_by.include(viewer))
        })
}

/// Whether `viewer` may know who acted: a champion's id is for the ICB and champions only.
pub fn shows_actor(viewer: impl Into<Reader>, author: Role) -> bool {
    author != Role::Champion || Parties::CASEWORK.include(viewer)
}

/// `data` as `viewer` may see it: only the fields the rule allows them.
pub fn allowed_fields(viewer: impl Into<Reader>, event_type: &str, data: Map<String, Value>) -> Map<String, Value> {
    let viewer = viewer.into();
    if viewer == Reader::Admin {
        return data;
    }
    let Some(rule) = rule(event_type) else {
        return Map::new();
    };
    data.into_iter()
        .filter(|(name, _)| {
            rule.fields
                .iter()
                .any(|field| field.field == name && field.seen_by.include(viewer))
        })
        .collect()
}

/// Whose view `actor` reads a case held by `holder` through: their role's, except that a
/// champion reads a case another champion holds as no more than the LMC may (DESIGN: other
/// champions' cases only as the LMC sees them, never their contact names and notes), and no more
/// than a champion may (not its contract review). An unassigned case is any champion's to take,
/// and read.
pub fn reading_as(actor: &caseledger_cases::Actor, holder: Option<&str>) -> Reader {
    if actor.role == Role::Champion
        && holder.is_some()
        && !caseledger_cases::case::catalogue::holds(actor.id.as_str(), holder)
    {
        Reader::COLLEAGUE
    } else {
        actor.role.into()
    }
}

/// A person's lens over the live feed. For a champion it knows which cases they may read as a
/// champion: those they held when the feed began, then as the assignments that come by say, and
/// those flagged since (unassigned, anyone's to take); every other case reads as the LMC reads it.
#[derive(Debug, Clone)]
pub struct LiveReader {
    actor: caseledger_cases::Actor,
    readable: std::collections::HashSet<uuid::Uuid>,
}

impl LiveReader {
    /// `held`: the cases `actor` held when the feed began (for a champion; unused otherwise).
    pub fn new(actor: caseledger_cases::Actor, held: impl IntoIterator<Item = uuid::Uuid>) -> Self {
        Self {
            actor,
            readable: held.into_iter().collect(),
        }
    }

    /// `event` as the person may read it, now.
    pub fn lens(&mut self, event: &RecordedEvent) -> Option<LensedEvent> {
        if self.actor.role != Role::Champion {
            return lens(self.actor.role, event);
        }
        let case_id = StreamName::parse(&event.stream_id)?.case_id()?;
        match event.event_type.as_str() {
            "PracticeFlagged" => {
                self.readable.insert(case_id);
            }
            "CaseAssigned" => {
                let data: Value = serde_json::from_str(event.data.get()).unwrap_or_default();
                let holder = data["champion_id"].as_str();
                if reading_as(&self.actor, holder) == Reader::from(Role::Champion) {
                    self.readable.insert(case_id);
                } else {
                    self.readable.remove(&case_id);
                }
            }
            _ => {}
        }
        let reader = if self.readable.contains(&case_id) {
            Reader::from(Role::Champion)
        } else {
            Reader::COLLEAGUE
        };
        lens(reader, event)
    }
}

/// One event of a case's history as a role sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LensedEvent {
    /// The case the event belongs to (its `case-` or `contract-` stream's id).
    pub case_id: uuid::Uuid,
    pub revision: u64,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_role: Role,
    /// `None` where the lens hides who (champions, to the DHU and the LMC).
    pub actor_id: Option<String>,
    pub data: Value,
}

/// `event` of a case (its own or its contract review's stream) as `viewer` may see it, or `None`
/// if the viewer may not see it at all.
pub fn lens(viewer: impl Into<Reader>, event: &RecordedEvent) -> Option<LensedEvent> {
    let viewer = viewer.into();
    let case_id = StreamName::parse(&event.stream_id)?.case_id()?;
    let event_type = event.event_type.as_str();
    if !shows(viewer, event_type) {
        return None;
    }
    let envelope = crate::envelope_of(event).ok()?;
    // The current shape of the data, whatever version was stored.
    let (_, data) = encode_event(&decode_event(event_type, event.data.get()).ok()?);
    let mut fields = match data {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    fields.remove("schema_version");
    Some(LensedEvent {
        case_id,
        revision: event.revision,
        event_type: event.event_type.clone(),
        occurred_at: envelope.occurred_at,
        recorded_at: event.recorded_at,
        actor_role: envelope.actor.role,
        actor_id: shows_actor(viewer, envelope.actor.role).then(|| envelope.actor.id.to_string()),
        data: Value::Object(allowed_fields(viewer, event_type, fields)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_without_a_rule_is_hidden_from_every_party_but_admins() {
        let mut data = Map::new();
        data.insert("summary".into(), "seen".into());
        data.insert("added_later".into(), "hidden".into());
        for role in [Role::Icb, Role::Champion] {
            let seen = allowed_fields(role, "PracticeContacted", data.clone());
            assert!(seen.contains_key("summary"));
            assert!(!seen.contains_key("added_later"), "{role}");
        }
        assert!(allowed_fields(Role::Admin, "PracticeContacted", data.clone()).contains_key("added_later"));
        assert!(allowed_fields(Role::Icb, "AnEventAddedLater", data).is_empty());
        assert!(!shows(Role::Icb, "AnEventAddedLater"));
        assert!(shows(Role::Admin, "AnEventAddedLater"));
    }

    #[test]
    fn who_knows_the_champion_is_who_the_lens_shows_a_champion_to() {
        for role in Role::ALL {
            assert_eq!(shows_actor(role, Role::Champion), role.knows_champions(), "{role}");
        }
        // A champion on a colleague's case reads as the LMC: not who holds it.
        assert!(!shows_actor(Reader::COLLEAGUE, Role::Champion));
    }

    #[test]
    fn the_pages_readers_of_telephony_and_dos_gaps_are_the_lens_readers() {
        for role in Role::ALL {
            assert_eq!(
                shows(role, "TelephonyMetricsReported"),
                caseledger_cases::telephony::READERS.contains(&role),
                "{role}"
            );
            assert_eq!(
                shows(role, "DosGapReported"),
                caseledger_cases::dos::READERS.contains(&role),
                "{role}"
            );
        }
    }

    /// Events a PCN's clinical director writes: the PCN's own words, for the PCN.
    const WRITTEN_BY_PCN: &[&str] = &["PcnReviewNoted"];

    #[test]
    fn personal_fields_are_fields_of_their_event_and_never_reach_the_lmc() {
        let mut personal = 0;
        for rule in RULES {
            for name in rule.personal {
                let field = rule.fields.iter().find(|f| f.field == *name);
                let field = field.unwrap_or_else(|| panic!("{}.{name} is personal but has no rule", rule.event_type));
                assert!(!field.seen_by.include(Role::Lmc), "{}.{name}", rule.event_type);
                assert!(
                    !field.seen_by.include(Role::PcnClinicalDirector) || WRITTEN_BY_PCN.contains(&rule.event_type),
                    "{}.{name}: a PCN's clinical director reads figures, statuses and support, not words \
                     but its own",
                    rule.event_type
                );
                assert!(
                    !WRITTEN_BY_PCN.contains(&rule.event_type) || field.seen_by == Parties::PCN,
                    "{}.{name}: a PCN's own words are for the PCN alone",
                    rule.event_type
                );
                personal += 1;
            }
        }
        assert!(
            personal >= 10,
            "contact names, summaries, notes, details and reasons are declared"
        );
        assert_eq!(personal_fields("NoteAdded"), &["text"]);
        assert!(personal_fields("AnEventAddedLater").is_empty());
        assert_eq!(caseledger_cases::case::SEALED_KEY, caseledger_eventstore::SEALED);
    }

    #[test]
    fn every_field_the_domain_writes_has_a_rule() {
        // Each event type's stored shape, from the JSON Schemas the project publishes.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/events");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("schema/events") {
            let path = entry.expect("entry").path();
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("schema")).expect("json schema");
            // Older versions are upcast before the lens sees them: only the current shapes count.
            let Some(event_type) = schema["title"].as_str().filter(|t| !t.contains(' ')) else {
                continue;
            };
            let Some(rule) = rule(event_type) else {
                panic!("{} has no lens rule", path.display());
            };
            for name in schema["properties"].as_object().into_iter().flatten().map(|(k, _)| k) {
                if name == "schema_version" {
                    continue;
                }
                assert!(
                    rule.fields.iter().any(|f| f.field == name),
                    "{event_type}.{name} ({}) has no lens rule",
                    path.display()
                );
            }
            checked += 1;
        }
        assert_eq!(checked, RULES.len(), "every event type with a rule has a schema");
    }
}
