//! One scenario per root cause: the verdict before and after the Digital Champion's fix.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use caseledger_gpconnect::{EndpointConfig, PracticeEndpoint, PracticeTarget, Verdict, Verifier};
use common::*;
use serde_json::{Value, json};

const WEEK: [&str; 5] = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"];

fn target(ods: &str) -> PracticeTarget {
    PracticeTarget {
        ods_code: ods.into(),
        required_per_day: 3,
        main_site_name: Some("Riverside Surgery".into()),
        single_site: false,
    }
}

fn all_week_short() -> Verdict {
    Verdict::TooFew {
        short_days: WEEK.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

/// Verify Mon 3 – Fri 7 March 2025 for a practice whose main-site slots have `availability`.
async fn week_with(availability: Value) -> caseledger_gpconnect::Verification {
    let rig = rig(scenario(vec![practice(
        "A11111",
        json!({"generate": [generate("main-am", "2025-03-03", "2025-03-07", 3, availability)]}),
    )]))
    .await;
    let v = rig.verifier.verify(&target("A11111"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(rig.fake.requests().len(), 1);
    assert_eq!(rig.fake.requests()[0].status, 200);
    v
}

#[tokio::test]
async fn slot_type_not_gp_connect_bookable() {
    let before = week_with(json!({"gp_connect_bookable": false})).await;
    assert_eq!(before.verdict, all_week_short());
    assert_eq!(before.min_per_core_day, Some(0));
    assert!(before.days.iter().all(|d| d.total == 0));

    let after = week_with(json!({"gp_connect_bookable": true})).await;
    assert_eq!(after.verdict, Verdict::Enough);
    assert_eq!(after.min_per_core_day, Some(3));
    assert_eq!(after.days.len(), 5);
}

#[tokio::test]
async fn provider_ods_code_not_in_allowed_list() {
    let before = week_with(json!({"allowed_ods_codes": ["RYE", "NLO"]})).await;
    assert_eq!(before.verdict, all_week_short());

    let after = week_with(json!({"allowed_ods_codes": ["RYE", "NLO", PROVIDER_ODS]})).await;
    assert_eq!(after.verdict, Verdict::Enough);
}

#[tokio::test]
async fn organisation_type_not_allowed() {
    let before = week_with(json!({"allowed_org_types": ["gp-practice"]})).await;
    assert_eq!(before.verdict, all_week_short());

    let after = week_with(json!({"allowed_org_types": ["gp-practice", "urgent-care"]})).await;
    assert_eq!(after.verdict, Verdict::Enough);
    // Restricted on both dimensions, and 111 qualifies on both: still returned (111 sends both filters).
    let both = week_with(json!({"allowed_org_types": ["Urgent Care"], "allowed_ods_codes": [PROVIDER_ODS]})).await;
    assert_eq!(both.verdict, Verdict::Enough);
}

#[tokio::test]
async fn gp_connect_switched_off_at_the_proxy() {
    let slots = json!({"generate": [generate("main-am", "2025-03-03", "2025-03-07", 3, json!({}))]});
    let mut off = practice("A22222", slots.clone());
    off["gp_connect_enabled"] = json!(false);
    let off_rig = rig(scenario(vec![off])).await;
    let before = off_rig
        .verifier
        .verify(&target("A22222"), d(2025, 3, 3), 5, now())
        .await;
    match &before.verdict {
        Verdict::Failed {
            code,
            message,
            http_status,
        } => {
            assert_eq!(code.as_deref(), Some("ACCESS_DENIED"));
            assert_eq!(*http_status, Some(403));
            assert!(message.contains("PARTYKEY_INTERACTION_CHECK_FAILED"), "{message}");
        }
        other => panic!("expected FAILED, got {other:?}"),
    }
    assert!(before.days.is_empty());
    assert_eq!(off_rig.fake.requests().len(), 1, "a 403 is not retried");

    let on_rig = rig(scenario(vec![practice("A22222", slots)])).await;
    let after = on_rig.verifier.verify(&target("A22222"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(after.verdict, Verdict::Enough);
}

#[tokio::test]
async fn gp_connect_switched_off_with_no_endpoint() {
    let slots = json!({"generate": [generate("main-am", "2025-03-03", "2025-03-07", 3, json!({}))]});
    let rig = rig(scenario(vec![practice("A33333", slots)])).await;
    let root = rig.fake.endpoint_template().replace("{ods}", "A33333");

    // Before: the practice has no endpoint (not in SDS / not in the endpoint map).
    let mut practices = BTreeMap::new();
    practices.insert(
        "B99999".to_string(),
        PracticeEndpoint {
            service_root: root.replace("A33333", "B99999"),
            to_asid: None,
        },
    );
    let no_endpoint = Verifier::new(config(
        &rig.pki,
        EndpointConfig::Map {
            practices: practices.clone(),
        },
    ))
    .unwrap();
    let before = no_endpoint.verify(&target("A33333"), d(2025, 3, 3), 5, now()).await;
    match &before.verdict {
        Verdict::Failed {
            code: None,
            message,
            http_status: None,
        } => {
            assert!(
                message.contains("no GP Connect endpoint configured for practice A33333"),
                "{message}"
            )
        }
        other => panic!("expected FAILED without code, got {other:?}"),
    }
    assert!(rig.fake.requests().is_empty(), "nothing is sent without an endpoint");

    // After: the endpoint is published, with the practice's own ASID.
    practices.insert(
        "A33333".to_string(),
        PracticeEndpoint {
            service_root: root,
            to_asid: Some("777000000001".into()),
        },
    );
    let with_endpoint = Verifier::new(config(&rig.pki, EndpointConfig::Map { practices })).unwrap();
    let after = with_endpoint.verify(&target("A33333"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(after.verdict, Verdict::Enough);
    assert_eq!(header(&rig.fake.requests()[0], "ssp-to"), "777000000001");
}

#[tokio::test]
async fn practice_endpoint_answering_404_fails_without_code() {
    let mut gone = practice("A44444", json!({}));
    gone["gp_connect_enabled"] = json!(false);
    gone["when_disabled"] = json!("not_found");
    let rig = rig(scenario(vec![gone])).await;
    let v = rig.verifier.verify(&target("A44444"), d(2025, 3, 3), 5, now()).await;
    assert!(
        matches!(
            v.verdict,
            Verdict::Failed {
                code: None,
                http_status: Some(404),
                ..
            }
        ),
        "{v:?}"
    );
}

#[tokio::test]
async fn template_has_too_few_slots_for_list_size() {
    // Two slots a day, plus a third on Wednesday only.
    let wednesday_extra = json!({"id": "extra-wed", "schedule": "main-am", "start": "2025-03-05T11:00:00+00:00",
                                 "end": "2025-03-05T11:15:00+00:00"});
    let rig1 = rig(scenario(vec![practice(
        "A55555",
        json!({"generate": [generate("main-am", "2025-03-03", "2025-03-07", 2, json!({}))], "slots": [wednesday_extra]}),
    )]))
    .await;
    let before = rig1.verifier.verify(&target("A55555"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(
        before.verdict,
        Verdict::TooFew {
            short_days: vec![d(2025, 3, 3), d(2025, 3, 4), d(2025, 3, 6), d(2025, 3, 7)]
        }
    );
    assert_eq!(before.min_per_core_day, Some(2));
    let totals: Vec<u32> = before.days.iter().map(|d| d.total).collect();
    assert_eq!(totals, [2, 2, 3, 2, 2]);
    // Stored in events: serialises with SCREAMING_SNAKE verdict.
    let json = serde_json::to_value(&before).unwrap();
    assert_eq!(json["verdict"]["verdict"], "TOO_FEW");
    assert_eq!(json["verdict"]["short_days"][0], "2025-03-03");

    let rig2 = rig(scenario(vec![practice(
        "A55555",
        json!({"generate": [generate("main-am", "2025-03-03", "2025-03-07", 3, json!({}))]}),
    )]))
    .await;
    let after = rig2.verifier.verify(&target("A55555"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(after.verdict, Verdict::Enough);
    assert_eq!(after.min_per_core_day, Some(3));
}

#[tokio::test]
async fn slots_only_at_a_branch_site() {
    let rig1 = rig(scenario(vec![practice(
        "A66666",
        json!({"generate": [generate("branch-am", "2025-03-03", "2025-03-07", 3, json!({}))]}),
    )]))
    .await;
    let before = rig1.verifier.verify(&target("A66666"), d(2025, 3, 3), 5, now()).await;
    // The branch slots are bookable and meet the total, but none is at the main site, where the
    // 111 provider books: too few (the branch anomaly).
    assert_eq!(before.verdict, all_week_short());
    assert_eq!(before.min_per_core_day, Some(0));
    for day in &before.days {
        let main = day.by_location.iter().find(|l| l.main_site).unwrap();
        assert_eq!(main.free_slots, 0);
        assert_eq!(main.name.as_deref(), Some("Riverside Surgery"));
        assert_eq!(main.location_id, "", "the main site Location did not come back at all");
        let branch = day.by_location.iter().find(|l| l.location_id == "loc-branch").unwrap();
        assert_eq!((branch.free_slots, branch.main_site), (3, false));
        assert_eq!(branch.name.as_deref(), Some("Hillside Branch Surgery"));
    }

    // Fix: the practice adds slots to the main-site schedule too.
    let rig2 = rig(scenario(vec![practice(
        "A66666",
        json!({"generate": [
            generate("branch-am", "2025-03-03", "2025-03-07", 3, json!({})),
            generate("main-am", "2025-03-03", "2025-03-07", 3, json!({}))
        ]}),
    )]))
    .await;
    let after = rig2.verifier.verify(&target("A66666"), d(2025, 3, 3), 5, now()).await;
    assert_eq!(after.verdict, Verdict::Enough);
    assert_eq!(after.min_per_core_day, Some(3));
    for day in &after.days {
        assert_eq!(day.total, 6);
        assert_eq!(day.by_location[0].location_id, "loc-main");
        assert!(day.by_location[0].main_site);
        assert_eq!(day.by_location[0].free_slots, 3);
        assert_eq!(day.by_location[1].free_slots, 3);
    }
    // Without a name from the caller, the Location named like the practice Organization is main.
    let unnamed = PracticeTarget {
        main_site_name: None,
        single_site: false,
        ..target("A66666")
    };
    let v = rig2.verifier.verify(&unnamed, d(2025, 3, 3), 1, now()).await;
    let main: Vec<_> = v.days[0]
        .by_location
        .iter()
        .filter(|l| l.main_site)
        .map(|l| l.location_id.as_str())
        .collect();
    assert_eq!(main, ["loc-main"]);
}
