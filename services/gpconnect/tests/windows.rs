//! Window splitting, weekends, bank holidays and BST/GMT offsets on the wire.
#![allow(clippy::unwrap_used)]

mod common;

use caseledger_gpconnect::fake::RecordedRequest;
use caseledger_gpconnect::{PracticeTarget, Verdict};
use common::*;
use serde_json::json;

fn target(ods: &str, required: u32) -> PracticeTarget {
    PracticeTarget {
        ods_code: ods.into(),
        required_per_day: required,
        main_site_name: None,
        single_site: false,
    }
}

fn param(req: &RecordedRequest, name: &str) -> String {
    let prefix = format!("{name}=");
    req.query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&prefix))
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn windows_over_14_days_are_split_and_cross_into_bst() {
    let rig = rig(scenario(vec![practice(
        "B11111",
        json!({"generate": [generate("main-am", "2025-03-03", "2025-04-01", 2, json!({}))]}),
    )]))
    .await;
    let v = rig
        .verifier
        .verify(&target("B11111", 2), d(2025, 3, 3), 30, now())
        .await;
    assert_eq!(v.verdict, Verdict::Enough, "{v:?}");
    assert_eq!(v.window_end, d(2025, 4, 1));
    // 30 days from Mon 3 March: 22 weekdays, no bank holidays.
    assert_eq!(v.days.len(), 22);
    assert!(v.days.iter().all(|d| d.total == 2));

    let reqs = rig.fake.requests();
    let ranges: Vec<(String, String)> = reqs.iter().map(|r| (param(r, "start"), param(r, "end"))).collect();
    assert_eq!(
        ranges,
        [
            (
                "ge2025-03-03T00:00:00%2B00:00".into(),
                "le2025-03-16T23:59:59%2B00:00".into()
            ),
            // BST starts on Sunday 30 March 2025 at 01:00 UTC.
            (
                "ge2025-03-17T00:00:00%2B00:00".into(),
                "le2025-03-30T23:59:59%2B01:00".into()
            ),
            (
                "ge2025-03-31T00:00:00%2B01:00".into(),
                "le2025-04-01T23:59:59%2B01:00".into()
            ),
        ]
    );
    assert!(reqs.iter().all(|r| r.status == 200));
    // Each request carries its own trace id.
    let mut traces: Vec<_> = reqs.iter().map(|r| header(r, "ssp-traceid").to_owned()).collect();
    traces.dedup();
    assert_eq!(traces.len(), 3);
}

#[tokio::test]
async fn bank_holiday_and_weekend_are_not_core_days() {
    // Thu 17 April 2025 to Tue 22 April: Good Friday, the weekend and Easter Monday in between.
    let holiday_slots = json!([
        {"id": "good-friday", "schedule": "main-am", "start": "2025-04-18T09:00:00+01:00", "end": "2025-04-18T09:15:00+01:00"},
        {"id": "saturday", "schedule": "main-am", "start": "2025-04-19T09:00:00+01:00", "end": "2025-04-19T09:15:00+01:00"}
    ]);
    let rig = rig(scenario(vec![practice(
        "B22222",
        json!({"generate": [generate("main-am", "2025-04-17", "2025-04-22", 3, json!({}))], "slots": holiday_slots}),
    )]))
    .await;
    let v = rig
        .verifier
        .verify(&target("B22222", 3), d(2025, 4, 17), 6, now())
        .await;
    let dates: Vec<_> = v.days.iter().map(|d| d.date).collect();
    assert_eq!(dates, [d(2025, 4, 17), d(2025, 4, 22)]);
    assert_eq!(
        v.verdict,
        Verdict::Enough,
        "holidays and weekends with no slots do not make it short"
    );
    assert!(
        v.days.iter().all(|d| d.total == 3),
        "holiday slots are not counted on other days"
    );

    // A requirement of 4 is short on exactly the two core days.
    let v = rig
        .verifier
        .verify(&target("B22222", 4), d(2025, 4, 17), 6, now())
        .await;
    assert_eq!(
        v.verdict,
        Verdict::TooFew {
            short_days: vec![d(2025, 4, 17), d(2025, 4, 22)]
        }
    );
}

#[tokio::test]
async fn bst_to_gmt_boundary_uses_the_right_offsets_and_core_hours() {
    // BST ends on Sunday 26 October 2025. Core hours are 08:00–18:30 local time.
    let slots = json!([
        {"id": "fri-early", "schedule": "main-am", "start": "2025-10-24T07:30:00+01:00", "end": "2025-10-24T07:45:00+01:00"},
        {"id": "fri-late", "schedule": "main-am", "start": "2025-10-24T18:15:00+01:00", "end": "2025-10-24T18:30:00+01:00"},
        {"id": "fri-too-late", "schedule": "main-am", "start": "2025-10-24T18:30:00+01:00", "end": "2025-10-24T18:45:00+01:00"},
        {"id": "mon-8", "schedule": "main-am", "start": "2025-10-27T08:00:00+00:00", "end": "2025-10-27T08:15:00+00:00"},
        {"id": "mon-utc", "schedule": "main-am", "start": "2025-10-27T07:45:00Z", "end": "2025-10-27T08:00:00Z"},
        {"id": "tue-1", "schedule": "main-am", "start": "2025-10-28T12:00:00+00:00", "end": "2025-10-28T12:15:00+00:00"}
    ]);
    let rig = rig(scenario(vec![practice("B33333", json!({"slots": slots}))])).await;
    let v = rig
        .verifier
        .verify(&target("B33333", 1), d(2025, 10, 24), 5, now())
        .await;
    let req = &rig.fake.requests()[0];
    assert_eq!(param(req, "start"), "ge2025-10-24T00:00:00%2B01:00");
    assert_eq!(param(req, "end"), "le2025-10-28T23:59:59%2B00:00");
    let totals: Vec<_> = v.days.iter().map(|d| (d.date, d.total)).collect();
    assert_eq!(
        totals,
        [(d(2025, 10, 24), 1), (d(2025, 10, 27), 1), (d(2025, 10, 28), 1)]
    );
    assert_eq!(v.verdict, Verdict::Enough);
    assert_eq!(v.min_per_core_day, Some(1));
}

#[tokio::test]
async fn past_slots_are_not_counted() {
    // 09:20 UTC on Monday 3 March: the 09:00 and 09:15 slots have gone and cannot be booked.
    let later = chrono::DateTime::parse_from_rfc3339("2025-03-03T09:20:00Z")
        .unwrap()
        .to_utc();
    let mut s = scenario(vec![practice(
        "B44444",
        json!({"generate": [generate("main-am", "2025-03-03", "2025-03-03", 4, json!({}))]}),
    )]);
    s["now"] = json!(later.to_rfc3339());
    let rig = rig(s).await;
    let v = rig.verifier.verify(&target("B44444", 3), d(2025, 3, 3), 1, later).await;
    assert_eq!(v.days[0].total, 2);
    assert_eq!(
        v.verdict,
        Verdict::TooFew {
            short_days: vec![d(2025, 3, 3)]
        }
    );
}
