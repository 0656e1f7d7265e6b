//! Every event, as stored, validates against its JSON Schema in `schema/events/`; stored data
//! reads back as the same event; an old version is upcast on read.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::path::PathBuf;

use caseledger_cases::case::*;
use caseledger_cases::practice::{LocationSlots, SlotVerification, VerificationVerdict, VerifiedDay};
use caseledger_cases::practice::{PracticeDetails, SlotsObserved};
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use serde_json::{Value, json};

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/events")
}

fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_dir().join(file)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn short(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}
fn text(s: &str) -> FreeText {
    FreeText::parse(s).unwrap()
}
fn slots(n: i64) -> SlotCount {
    SlotCount::new(n).unwrap()
}

fn practice(pcn_name: Option<&str>) -> PracticeDetails {
    PracticeDetails {
        ods_code: OdsCode::parse("Z00011").unwrap(),
        name: short("Arden Health Centre"),
        pcn_code: PcnCode::parse("U10001").unwrap(),
        pcn_name: pcn_name.map(short),
        place: short("Coventry"),
    }
}

/// At least one of every event type, with optional fields both given and left out.
fn samples() -> Vec<CaseEvent> {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    vec![
        CaseEvent::PracticeFlagged(PracticeFlagged {
            practice: practice(Some("Coventry South PCN 1")),
            list_size: ListSize::new(14_646).unwrap(),
            required_slots: 4,
            visible_slots: slots(0),
            source: FlagSource {
                kind: FlagSourceKind::Dashboard,
                report_date: Some(date),
                report_id: None,
            },
            reason: None,
        }),
        CaseEvent::PracticeFlagged(PracticeFlagged {
            practice: practice(None),
            list_size: ListSize::new(2_000).unwrap(),
            required_slots: 1,
            visible_slots: slots(0),
            source: FlagSource {
                kind: FlagSourceKind::Manual,
                report_date: None,
                report_id: None,
            },
            reason: Some(text("reported by the practice")),
        }),
        CaseEvent::PracticeFlagged(PracticeFlagged {
            practice: practice(None),
            list_size: ListSize::new(6_100).unwrap(),
            required_slots: 2,
            visible_slots: slots(1),
            source: FlagSource {
                kind: FlagSourceKind::DhuReport,
                report_date: None,
                report_id: Some(report_id()),
            },
            reason: None,
        }),
        CaseEvent::CaseAssigned(CaseAssigned {
            champion_id: short("dc-amira"),
        }),
        CaseEvent::PracticeContacted(PracticeContacted {
            channel: ContactChannel::SiteVisit,
            contact_name: Some(short("Practice Manager 1")),
            summary: text("Explained the 111 slot requirement."),
        }),
        CaseEvent::PracticeContacted(PracticeContacted {
            channel: ContactChannel::Email,
            contact_name: None,
            summary: text("Sent instructions."),
        }),
        CaseEvent::GuidanceShared(GuidanceShared {
            guide: short("111-slots-how-to"),
            version: Some(short("1.0")),
        }),
        CaseEvent::GuidanceShared(GuidanceShared {
            guide: short("111-slots-how-to"),
            version: None,
        }),
        CaseEvent::RootCauseIdentified(RootCauseIdentified {
            cause: RootCause::BranchSiteAnomaly,
            detail: Some(text("branch")),
        }),
        CaseEvent::RootCauseIdentified(RootCauseIdentified {
            cause: RootCause::Other,
            detail: None,
        }),
        CaseEvent::SlotsRemapped(SlotsRemapped {
            changes: vec![RemapChange::MapProviderCode, RemapChange::AddSlots],
            slots_per_day_configured: slots(4),
        }),
        CaseEvent::GpConnectReEnabled(GpConnectReEnabled {
            reference: Some(short("GPC-010013")),
        }),
        CaseEvent::GpConnectReEnabled(GpConnectReEnabled { reference: None }),
        CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
            visible_slots_per_day: slots(4),
            required_slots: Some(4),
        }),
        CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
            visible_slots_per_day: slots(1),
            required_slots: None,
        }),
        CaseEvent::DhuVisibilityIssueReported(DhuVisibilityIssueReported {
            category: None,
            issue: Some(short("not visible")),
            detail: None,
        }),
        CaseEvent::DhuVisibilityIssueReported(DhuVisibilityIssueReported {
            category: Some(RootCause::BranchSiteAnomaly),
            issue: None,
            detail: Some(text("slots only at the branch")),
        }),
        CaseEvent::SlotsObserved(SlotsObserved {
            report_date: date,
            visible_slots: slots(6),
            list_size: ListSize::new(14_646).unwrap(),
            required_slots: 4,
            practice: practice(None),
        }),
        CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
            visible_slots_per_day: slots(4),
            evidence: Evidence::Dashboard,
            required_slots: Some(4),
        }),
        CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
            visible_slots_per_day: slots(4),
            evidence: Evidence::GpConnectVerification,
            required_slots: None,
        }),
        CaseEvent::CaseClosed(CaseClosed {
            reason: CloseReason::PracticeClosed,
        }),
        CaseEvent::CaseReopened(CaseReopened {
            reason: text("regression"),
            visible_slots: Some(slots(0)),
            cause: Some(ReopenCause::ListSizeRise),
            list_size: Some(ListSize::new(12_400).unwrap()),
            required_slots: Some(4),
        }),
        CaseEvent::CaseReopened(CaseReopened {
            reason: text("asked by the LMC"),
            visible_slots: None,
            cause: None,
            list_size: None,
            required_slots: None,
        }),
        CaseEvent::PersonalDataErased(PersonalDataErased {
            reason: text("the practice manager asked to be forgotten"),
        }),
        CaseEvent::NoteAdded(NoteAdded {
            text: text("line one\nline two"),
        }),
        CaseEvent::EscalatedToContractReview(EscalatedToContractReview {
            reason: text("no response in 6 weeks"),
        }),
        CaseEvent::ContractReviewConcluded(ContractReviewConcluded {
            outcome: ReviewOutcome::NoFurtherAction,
            note: None,
        }),
        CaseEvent::ContractReviewConcluded(ContractReviewConcluded {
            outcome: ReviewOutcome::BreachNotice,
            note: Some(text("served on 3 March")),
        }),
        CaseEvent::DhuReportFiled(DhuReportFiled {
            report_id: report_id(),
            category: RootCause::ProviderCodeUnmapped,
            detail: Some(text("we cannot see the Tuesday sessions")),
        }),
        CaseEvent::DhuReportTriaged(DhuReportTriaged::new(
            report_id(),
            &Triage::CaseOpened {
                case_id: uuid::Uuid::from_u128(7),
            },
        )),
        CaseEvent::DhuReportTriaged(DhuReportTriaged::new(
            report_id(),
            &Triage::Dismissed {
                reason: text("a known outage, fixed nationally"),
            },
        )),
        CaseEvent::DhuReportPersonalDataErased(DhuReportPersonalDataErased {
            report_id: report_id(),
            reason: text("asked by the practice"),
        }),
        CaseEvent::PracticeRegistered(registration(vec![short("Keresley Surgery")])),
        CaseEvent::PracticeDetailsChanged(registration(Vec::new())),
        CaseEvent::DhuSlotsObserved(caseledger_cases::practice::DhuSlotsObserved {
            ods_code: OdsCode::parse("Z00011").unwrap(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
            visible_slots: slots(3),
        }),
        CaseEvent::SlotVisibilityVerified(verification(VerificationVerdict::TooFew)),
        CaseEvent::SlotVisibilityCheckFailed(verification(VerificationVerdict::Failed)),
        CaseEvent::DiversionNotified(DiversionNotified {
            diversion_id: uuid::Uuid::from_u128(7),
            from: "2026-01-05T08:10:00Z".parse().unwrap(),
            expected_until: "2026-01-05T13:00:00Z".parse().unwrap(),
            reason: DiversionReason::TelephonyFailure,
            detail: Some(text("Phone lines down after the storm; BT engineer booked")),
        }),
        CaseEvent::DiversionNotified(DiversionNotified {
            diversion_id: uuid::Uuid::from_u128(8),
            from: "2026-01-06T08:00:00Z".parse().unwrap(),
            expected_until: "2026-01-06T18:30:00Z".parse().unwrap(),
            reason: DiversionReason::Premises,
            detail: None,
        }),
        CaseEvent::DiversionEnded(DiversionEnded {
            diversion_id: uuid::Uuid::from_u128(7),
            ended_at: "2026-01-05T11:45:00Z".parse().unwrap(),
        }),
        CaseEvent::DiversionAcknowledged(DiversionAcknowledged {
            diversion_id: uuid::Uuid::from_u128(7),
        }),
        CaseEvent::DiversionReviewOpened(DiversionReviewOpened {
            review_id: uuid::Uuid::from_u128(9),
            notices: 3,
            core_minutes: 275,
            since: "2025-12-08T08:00:00Z".parse().unwrap(),
        }),
        CaseEvent::DiversionReviewSupported(DiversionReviewSupported {
            review_id: uuid::Uuid::from_u128(9),
            kind: DiversionSupportKind::TelephonyHelp,
        }),
        CaseEvent::DiversionReviewClosed(DiversionReviewClosed {
            review_id: uuid::Uuid::from_u128(9),
            outcome: DiversionReviewOutcome::Resolved,
            note: Some(text("A second line from the supplier; no diversion since")),
        }),
        CaseEvent::CoreHoursCallsReported(caseledger_cases::calls::CoreHoursCallsReported {
            ods_code: OdsCode::parse("Z00011").unwrap(),
            week_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            calls: 42,
        }),
        CaseEvent::TelephonyMetricsReported(caseledger_cases::telephony::TelephonyMetricsReported {
            ods_code: OdsCode::parse("Z00011").unwrap(),
            month: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            inbound_calls: 4210,
            average_wait_seconds: 95,
            abandonment_basis_points: 620,
            average_call_seconds: 182,
            callbacks: 140,
        }),
        CaseEvent::PcnReviewNoted(caseledger_cases::telephony::PcnReviewNoted {
            note_id: uuid::Uuid::from_u128(11),
            pcn_code: PcnCode::parse("U10001").unwrap(),
            month: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            note: text("Mill to add a callback queue; revisit in February"),
        }),
        CaseEvent::DosGapReported(caseledger_cases::dos::DosGapReported {
            gap_id: uuid::Uuid::from_u128(12),
            service_id: caseledger_cases::values::DosServiceId::parse("2000012345").unwrap(),
            service_name: short("Coventry district nursing"),
            kind: caseledger_cases::dos::DosGapKind::Hours,
            bit_at: "2026-01-05T17:45:00Z".parse().unwrap(),
            ods_code: None,
            detail: Some(text("No district nurse listed between 17:30 and 19:00")),
        }),
        CaseEvent::DosGapReported(caseledger_cases::dos::DosGapReported {
            gap_id: uuid::Uuid::from_u128(13),
            service_id: caseledger_cases::values::DosServiceId::parse("2000067890").unwrap(),
            service_name: short("Arden Health Centre"),
            kind: caseledger_cases::dos::DosGapKind::WrongDetails,
            bit_at: "2026-01-05T09:00:00Z".parse().unwrap(),
            ods_code: Some(OdsCode::parse("Z00011").unwrap()),
            detail: None,
        }),
        CaseEvent::DosGapTriaged(caseledger_cases::dos::DosGapTriaged {
            gap_id: uuid::Uuid::from_u128(12),
            outcome: caseledger_cases::dos::DosTriage::CaseOpened,
            reason: None,
        }),
        CaseEvent::DosGapTriaged(caseledger_cases::dos::DosGapTriaged {
            gap_id: uuid::Uuid::from_u128(13),
            outcome: caseledger_cases::dos::DosTriage::Dismissed,
            reason: Some(text("The entry was right; the handler searched the wrong area")),
        }),
        CaseEvent::DosEntryUpdated(caseledger_cases::dos::DosEntryUpdated {
            gap_id: uuid::Uuid::from_u128(12),
            summary: Some(text("Evening hours added to the entry")),
        }),
        CaseEvent::DosEntryUpdated(caseledger_cases::dos::DosEntryUpdated {
            gap_id: uuid::Uuid::from_u128(12),
            summary: None,
        }),
        CaseEvent::DosGapPersists(caseledger_cases::dos::DosGapPersists {
            gap_id: uuid::Uuid::from_u128(12),
            detail: Some(text("Still not returned for a 18:10 call")),
        }),
        CaseEvent::DosGapPersists(caseledger_cases::dos::DosGapPersists {
            gap_id: uuid::Uuid::from_u128(12),
            detail: None,
        }),
        CaseEvent::DiversionCancelled(DiversionCancelled {
            diversion_id: uuid::Uuid::from_u128(8),
        }),
        CaseEvent::DiversionWordsErased(DiversionWordsErased {
            diversion_id: uuid::Uuid::from_u128(7),
        }),
        CaseEvent::DosGapWordsErased(caseledger_cases::dos::DosGapWordsErased {
            gap_id: uuid::Uuid::from_u128(12),
        }),
        CaseEvent::PcnReviewNoteErased(caseledger_cases::telephony::PcnReviewNoteErased {
            note_id: uuid::Uuid::from_u128(15),
        }),
        CaseEvent::PracticeAnswered(caseledger_cases::answer::PracticeAnswered {
            answer_id: uuid::Uuid::from_u128(13),
            case_id: uuid::Uuid::from_u128(14),
            text: text("We made the 111 slot type external; ask for Sam on the main line"),
        }),
        CaseEvent::DosFixConfirmed(caseledger_cases::dos::DosFixConfirmed {
            gap_id: uuid::Uuid::from_u128(12),
        }),
        CaseEvent::DiversionReviewClosed(DiversionReviewClosed {
            review_id: uuid::Uuid::from_u128(10),
            outcome: DiversionReviewOutcome::NoActionNeeded,
            note: None,
        }),
    ]
}

fn verification(verdict: VerificationVerdict) -> SlotVerification {
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let failed = verdict == VerificationVerdict::Failed;
    SlotVerification {
        ods_code: OdsCode::parse("Z00011").unwrap(),
        case_id: Some(report_id()),
        window_start: day(2),
        window_end: day(13),
        required_per_day: 4,
        days: if failed {
            Vec::new()
        } else {
            vec![VerifiedDay {
                date: day(2),
                total: 3,
                locations: vec![
                    LocationSlots {
                        location_id: short("loc-main"),
                        name: Some(short("Arden Health Centre")),
                        main_site: true,
                        unresolved: false,
                        free_slots: 1,
                    },
                    LocationSlots {
                        location_id: short("loc-branch"),
                        name: None,
                        main_site: false,
                        unresolved: true,
                        free_slots: 2,
                    },
                ],
            }]
        },
        min_per_core_day: (!failed).then_some(3),
        verdict,
        short_days: if failed { Vec::new() } else { vec![day(2)] },
        error_code: failed.then(|| short("INVALID_PARAMETER")),
        error: failed.then(|| short("the practice's system refused the search")),
        // One slot with every field, one with only what is required.
        slots: if failed {
            Vec::new()
        } else {
            vec![
                caseledger_cases::practice::VerifiedSlot {
                    date: day(2),
                    start: short("09:10"),
                    duration_minutes: 10,
                    session: Some(short("General GP Appointments")),
                    slot_type: Some(short("111 Direct Booking")),
                    delivery_channel: Some(short("In-person")),
                    practitioner_role: Some(short("General Medical Practitioner")),
                    location_id: Some(short("loc-main")),
                    counted: true,
                    past: false,
                },
                caseledger_cases::practice::VerifiedSlot {
                    date: day(2),
                    start: short("19:00"),
                    duration_minutes: 0,
                    session: None,
                    slot_type: None,
                    delivery_channel: None,
                    practitioner_role: None,
                    location_id: None,
                    counted: false,
                    past: true,
                },
            ]
        },
        past_slots: u32::from(!failed),
        notices: if failed {
            Vec::new()
        } else {
            vec![short("information: PROCESSING")]
        },
        provider_system: (!failed).then(|| short("EMIS Web 9.2")),
    }
}

fn registration(branch_sites: Vec<ShortText>) -> caseledger_cases::practice::PracticeRegistration {
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    caseledger_cases::practice::PracticeRegistration {
        practice: practice(Some("Coventry South PCN 1")),
        list_size: ListSize::new(14_646).unwrap(),
        main_site: short("Arden Health Centre"),
        // One sample as the hand-built register gives it, one as ODS's files do.
        ods: (!branch_sites.is_empty()).then(|| caseledger_cases::practice::OdsDetails {
            address: vec![short("Arden Health Centre"), short("Arden Street"), short("Coventry")],
            postcode: Some(short("CV5 6FS")),
            telephone: Some(short("024 7671 0000")),
            opened: Some(day(1)),
            closed: Some(day(3)),
            status: caseledger_cases::practice::OdsStatus::Closed,
            commissioner: short("B2M3M"),
        }),
        list_size_date: (!branch_sites.is_empty()).then(|| day(1)),
        pcn_joined: (!branch_sites.is_empty()).then(|| day(1)),
        branch_sites,
    }
}

fn report_id() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0194_f3a2_7c1e_7d2a_9b3c_1a2b_3c4d_5e6f)
}

#[test]
fn every_stored_event_validates_against_its_schema_and_reads_back_the_same() {
    let mut covered = std::collections::BTreeSet::new();
    for event in samples() {
        let (event_type, data) = encode_event(&event);
        let validator = validator(&format!("{event_type}.schema.json"));
        let errors: Vec<String> = validator.iter_errors(&data).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{event_type} {data}: {errors:?}");
        assert_eq!(decode_event(event_type, &data.to_string()).unwrap(), event);
        assert!(
            caseledger_cases::case::reads_as_written(event_type, &data.to_string()),
            "{event_type} as written now is read straight from its text"
        );
        // A sealed field, even one no reader knows, sends the data down the general path
        // (through a JSON value): both paths read every event alike.
        let mut general = data.clone();
        general["unread"] = serde_json::json!({ caseledger_cases::case::SEALED_KEY: "AAAA" });
        assert_eq!(decode_event(event_type, &general.to_string()).unwrap(), event);
        covered.insert(event_type.to_string());
    }
    let schemas: std::collections::BTreeSet<String> = std::fs::read_dir(schema_dir())
        .unwrap()
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".schema.json")
                .map(str::to_string)
        })
        .filter(|name| !name.contains(".v"))
        .collect();
    assert_eq!(
        covered, schemas,
        "a sample for every schema, and a schema for every event type"
    );
}

#[test]
fn the_schemas_reject_what_the_types_reject() {
    let contacted = validator("PracticeContacted.schema.json");
    let good = json!({ "schema_version": 2, "channel": "email", "contact_name": null, "summary": "x" });
    assert!(contacted.is_valid(&good));
    assert!(
        !contacted.is_valid(&json!({ "schema_version": 2, "channel": "fax", "contact_name": null, "summary": "x" }))
    );
    assert!(!contacted.is_valid(&json!({ "schema_version": 2, "channel": "email", "summary": "x" })));
    let flagged = validator("PracticeFlagged.schema.json");
    let (_, mut data) = encode_event(&samples()[0]);
    data["practice"]["ods_code"] = json!("12345");
    assert!(!flagged.is_valid(&data));
    assert!(
        decode_event("PracticeFlagged", &data.to_string()).is_err(),
        "the type refuses it too"
    );
}

#[test]
fn a_version_one_contact_from_the_first_pilot_is_upcast_on_read() {
    // The shape the first pilot wrote (and the raw benchmark still writes): no contact name,
    // the summary under `note`, the champion under `by`.
    let stored = json!({
        "schema_version": 1,
        "practice_ods": "M86001",
        "channel": "email",
        "by": "dc-17",
        "note": "Sent re-mapping instructions for the DHU provider code and GP Connect slot type; awaiting reply from practice manager."
    });
    assert!(validator("PracticeContacted.v1.schema.json").is_valid(&stored));
    assert!(
        !validator("PracticeContacted.schema.json").is_valid(&stored),
        "it is not the current shape"
    );

    let event = decode_event("PracticeContacted", &stored.to_string()).unwrap();
    let CaseEvent::PracticeContacted(contacted) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(contacted.channel, ContactChannel::Email);
    assert_eq!(contacted.contact_name, None);
    assert!(contacted.summary.as_str().starts_with("Sent re-mapping instructions"));

    let (_, current) = encode_event(&event);
    assert_eq!(current["schema_version"], 2);
    assert!(validator("PracticeContacted.schema.json").is_valid(&current));
}

#[test]
fn data_from_a_newer_version_or_an_unknown_type_is_refused() {
    let newer = json!({ "schema_version": 3, "channel": "email", "contact_name": null, "summary": "x" });
    let earlier = json!({ "schema_version": 1, "visible_slots_per_day": 2 });
    assert!(validator("DhuVisibilityConfirmed.v1.schema.json").is_valid(&earlier));
    let CaseEvent::DhuVisibilityConfirmed(read) = decode_event("DhuVisibilityConfirmed", &earlier.to_string()).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        read.required_slots, None,
        "version 1 reads as version 2 without the requirement"
    );
    assert!(matches!(
        decode_event("PracticeContacted", &newer.to_string()),
        Err(DecodeError::FutureVersion { .. })
    ));
    assert!(matches!(
        decode_event("Nonsense", "{}"),
        Err(DecodeError::UnknownType(_))
    ));
}
