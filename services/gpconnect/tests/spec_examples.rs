//! The GP Connect specification's own example responses to "Search for free slots"
//! (`tests/fixtures/spec/`, copied from `nhsconnect/gpconnect`, SOURCES.md there) read as a
//! consumer must read them: the counts a person reading each example would give, every slot's
//! detail kept, and a Location the Bundle does not describe placed by the register or reported
//! unresolved, never silently a branch.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_gpconnect::count::{Sites, evaluate};
use caseledger_gpconnect::fhir::Bundle;
use caseledger_gpconnect::{BankHolidays, Verdict, Verification};
use chrono::{DateTime, NaiveDate, Utc};

fn example(name: &str) -> Bundle {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spec")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Long before every example: their slots are all still to come.
fn then() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2015-01-01T00:00:00Z").unwrap().to_utc()
}

fn searched(name: &str, on: NaiveDate, sites: Sites<'_>) -> Verification {
    evaluate(
        &[example(name)],
        on,
        1,
        1,
        &BankHolidays::england_and_wales(),
        sites,
        then(),
    )
}

#[test]
fn each_example_is_counted_as_a_person_reading_it_would() {
    // Two free slots on the day, at the practice's own surgery (the Location is named as the
    // Organization is), and the detail a checker shows of each.
    for (name, on) in [
        ("slots-1.2.7.json", day(2016, 8, 15)),
        ("slots-1.2.8-payload-1.json", day(2017, 9, 15)),
        ("slots-1.2.8-payload-2.json", day(2016, 8, 15)),
    ] {
        let found = searched(name, on, Sites::default());
        assert_eq!(found.verdict, Verdict::Enough, "{name}");
        let counted = &found.days[0];
        assert_eq!(counted.total, 2, "{name}");
        let main = counted.by_location.iter().find(|l| l.main_site).unwrap();
        assert_eq!((main.location_id.as_str(), main.free_slots), ("17", 2), "{name}");
        assert_eq!(main.name.as_deref(), Some("The Trevelyan Practice"));
        assert_eq!(found.slots.len(), 2, "{name}");
        let first = &found.slots[0];
        assert_eq!((first.start.as_str(), first.duration_minutes), ("11:30", 10), "{name}");
        assert_eq!(first.delivery_channel.as_deref(), Some("In-person"));
        assert_eq!(first.session.as_deref(), Some("General GP Appointments"));
        assert_eq!(first.practitioner_role.as_deref(), Some("General Medical Practitioner"));
        assert!(
            first.slot_type.as_deref().is_some_and(|t| t.contains("GP Appointment")),
            "{first:?}"
        );
        assert_eq!(found.slots[1].slot_type.as_deref(), Some("NHS Health Check"));
        assert!(found.slots.iter().all(|slot| slot.counted && !slot.past));
    }
}

#[test]
fn a_location_the_bundle_does_not_describe_is_placed_by_the_register_or_said_to_be_unknown() {
    // "Sending the minimum parameters": the Schedule names Location/17, which is not included.
    let friday = day(2019, 3, 29);
    let one_site = searched(
        "slots-1.2.8-payload-3.json",
        friday,
        Sites {
            main_site_name: Some("The Trevelyan Practice"),
            single_site: true,
        },
    );
    assert_eq!(one_site.verdict, Verdict::Enough, "{one_site:?}");
    let main = &one_site.days[0].by_location;
    assert_eq!(main.len(), 1, "{main:?}");
    assert!(
        main[0].main_site && !main[0].unresolved && main[0].free_slots == 2,
        "{main:?}"
    );

    // With branches on the register, it cannot be placed: said so, not counted as a branch, and
    // the main site is short.
    let branches = searched(
        "slots-1.2.8-payload-3.json",
        friday,
        Sites {
            main_site_name: Some("The Trevelyan Practice"),
            single_site: false,
        },
    );
    let unknown = branches.days[0]
        .by_location
        .iter()
        .find(|l| l.location_id == "17")
        .unwrap();
    assert!(unknown.unresolved && !unknown.main_site, "{unknown:?}");
    assert_eq!(unknown.free_slots, 2);
    assert_eq!(
        branches.verdict,
        Verdict::TooFew {
            short_days: vec![friday]
        }
    );
}

#[test]
fn an_empty_searchset_is_an_answer_with_no_slots() {
    let week = evaluate(
        &[example("slots-1.2.8-payload-4.json")],
        day(2017, 10, 2),
        5,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        then(),
    );
    assert_eq!(week.days.len(), 5);
    assert!(week.days.iter().all(|d| d.total == 0));
    assert!(week.slots.is_empty());
    assert!(matches!(week.verdict, Verdict::TooFew { ref short_days } if short_days.len() == 5));
}

#[test]
fn an_informational_outcome_in_a_searchset_is_a_notice_not_a_failure() {
    let mut bundle = example("slots-1.2.7.json");
    let note: caseledger_gpconnect::fhir::Resource = serde_json::from_value(serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "information", "code": "informational",
                    "details": { "coding": [{ "system": "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1",
                                              "code": "PARTIAL_RESULTS", "display": "Some schedules were not searched" }] } }]
    }))
    .unwrap();
    bundle.entry.push(caseledger_gpconnect::fhir::BundleEntry {
        full_url: None,
        resource: note,
    });
    let found = evaluate(
        &[bundle.clone()],
        day(2016, 8, 15),
        1,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        then(),
    );
    assert_eq!(found.verdict, Verdict::Enough);
    assert_eq!(found.notices, ["information: PARTIAL_RESULTS"]);
    // An error inside the Bundle still fails it.
    let last = bundle.entry.len() - 1;
    if let caseledger_gpconnect::fhir::Resource::OperationOutcome(outcome) = &mut bundle.entry[last].resource {
        outcome.issue[0].severity = "error".into();
    }
    let failed = evaluate(
        &[bundle],
        day(2016, 8, 15),
        1,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        then(),
    );
    assert!(matches!(failed.verdict, Verdict::Failed { .. }), "{failed:?}");
}

#[test]
fn slots_already_past_are_listed_and_counted_apart() {
    let during = DateTime::parse_from_rfc3339("2016-08-15T10:35:00Z").unwrap().to_utc();
    let found = evaluate(
        &[example("slots-1.2.7.json")],
        day(2016, 8, 15),
        1,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        during,
    );
    // 11:30 BST is 10:30 UTC: past; 11:40 BST still to come.
    assert_eq!(found.past_slots, 1);
    assert_eq!(found.days[0].total, 1);
    assert!(found.slots[0].past && !found.slots[0].counted);
    assert!(!found.slots[1].past && found.slots[1].counted);
}

#[test]
fn a_providers_free_text_never_passes_as_a_code_or_a_notice() {
    // Words in the proxy's code system that are not one of its refusals, an issue code that is a
    // sentence, and a thousand repeats: no code, no sentence, no notice.
    let mut bundle = example("slots-1.2.7.json");
    for n in 0..1_000 {
        let note: caseledger_gpconnect::fhir::Resource = serde_json::from_value(serde_json::json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": if n % 2 == 0 { "information" } else { "warning" },
                        "code": "Ring Dr Jones on 07700 900123",
                        "details": { "coding": [{ "system": "http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0",
                                                  "code": "200", "display": format!("Ring Dr Jones {n}") }] } }]
        }))
        .unwrap();
        bundle.entry.push(caseledger_gpconnect::fhir::BundleEntry {
            full_url: None,
            resource: note,
        });
    }
    let found = evaluate(
        &[bundle],
        day(2016, 8, 15),
        1,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        then(),
    );
    assert_eq!(found.verdict, Verdict::Enough);
    assert!(found.notices.is_empty(), "{:?}", found.notices);
    assert_eq!(caseledger_gpconnect::fhir::ssp_code("RING_DR_JONES_ON"), None);
    assert_eq!(
        caseledger_gpconnect::fhir::ssp_code("ASID_CHECK_FAILED_MESSAGESENDER_100000000001").as_deref(),
        Some("ASID_CHECK_FAILED_MESSAGESENDER")
    );
}

#[test]
fn notices_are_kept_once_and_at_most_twenty() {
    let mut bundle = example("slots-1.2.7.json");
    for n in 0..100 {
        let code = format!("code-{}", "x".repeat(n % 25 + 1));
        let note: caseledger_gpconnect::fhir::Resource = serde_json::from_value(serde_json::json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "warning", "code": code }]
        }))
        .unwrap();
        bundle.entry.push(caseledger_gpconnect::fhir::BundleEntry {
            full_url: None,
            resource: note,
        });
    }
    let found = evaluate(
        &[bundle],
        day(2016, 8, 15),
        1,
        1,
        &BankHolidays::england_and_wales(),
        Sites::default(),
        then(),
    );
    assert_eq!(found.notices.len(), caseledger_gpconnect::count::MAX_NOTICES);
    let unique: std::collections::BTreeSet<&String> = found.notices.iter().collect();
    assert_eq!(unique.len(), found.notices.len());
}
