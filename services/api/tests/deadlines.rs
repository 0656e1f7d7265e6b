//! Stage deadlines in working days: each case's current stage is due a number of working days
//! (weekends and England and Wales bank holidays skipped) after it began; a late stage is marked
//! on the case and listed for each party; a deployment's own targets move the dates.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_api::graphql::deadline::Deadlines;
use caseledger_cases::Role;
use caseledger_cases::deadlines::StageTargets;
use common::Service;
use serde_json::{Value, json};

async fn ok(service: &Service, role: Role, id: &str, query: &str, variables: Value) -> Value {
    let response = service.as_role(role, id, query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

/// A case for `ods` flagged at `at` (business time); its id.
async fn flag(service: &Service, ods: &str, at: Option<&str>) -> String {
    let flagged = ok(
        service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($ods: String!, $at: DateTime) { flagPractice(input: { odsCode: $ods, practiceName: \"Mill Surgery\", \
         pcnCode: \"U10001\", place: \"Coventry\", listSize: 6000, visibleSlots: 0, occurredAt: $at }) { case { id } } }",
        json!({ "ods": ods, "at": at }),
    )
    .await;
    flagged["flagPractice"]["case"]["id"].as_str().unwrap().to_string()
}

const DEADLINE: &str = "query($id: ID!) { case(id: $id) { status deadline { stage awaiting startedOn dueOn overdue \
                        workingDaysLeft } } }";

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_stage_is_due_in_working_days_and_late_cases_are_listed_for_each_party() {
    let service = Service::start().await;
    // Monday 2 November 2026: contact is due by Wednesday 4th.
    let late = flag(&service, "Z00021", Some("2026-11-02T10:00:00Z")).await;
    let fresh = flag(&service, "Z00022", None).await;
    // Remapped on Thursday 5 November: the DHU's check was due by Tuesday 10th (Fri, Mon, Tue).
    let remapped = flag(&service, "Z00023", Some("2026-11-02T10:00:00Z")).await;
    for (mutation, at) in [
        (
            "mutation($id: ID!, $at: DateTime) { assignCase(input: { caseId: $id, championId: \"dc-amira\", occurredAt: $at }) { revision } }",
            "2026-11-02T11:00:00Z",
        ),
        (
            "mutation($id: ID!, $at: DateTime) { recordContact(input: { caseId: $id, channel: PHONE, summary: \"spoke\", occurredAt: $at }) { revision } }",
            "2026-11-03T09:00:00Z",
        ),
        (
            "mutation($id: ID!, $at: DateTime) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 3, occurredAt: $at }) { revision } }",
            "2026-11-05T10:00:00Z",
        ),
    ] {
        ok(
            &service,
            Role::Champion,
            "dc-amira",
            mutation,
            json!({ "id": remapped, "at": at }),
        )
        .await;
    }
    ok(
        &service,
        Role::Champion,
        "dc-amira",
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\", occurredAt: \"2026-11-02T11:00:00Z\" }) { revision } }",
        json!({ "id": late }),
    )
    .await;

    let read = ok(&service, Role::Lmc, "lmc-officer-1", DEADLINE, json!({ "id": late })).await;
    let due = &read["case"]["deadline"];
    assert_eq!(due["stage"], "CONTACT", "{read}");
    assert_eq!(due["startedOn"], "2026-11-02");
    assert_eq!(due["dueOn"], "2026-11-04");
    assert_eq!(due["overdue"], true);
    assert!(due["workingDaysLeft"].as_i64().unwrap() < 0, "{due}");

    let read = ok(&service, Role::Icb, "icb-assurance-1", DEADLINE, json!({ "id": fresh })).await;
    let due = &read["case"]["deadline"];
    assert_eq!(due["overdue"], false, "{read}");
    assert_eq!(due["workingDaysLeft"], 2, "flagged today: two working days to contact");

    let read = ok(
        &service,
        Role::Dhu,
        "dhu-liaison-1",
        DEADLINE,
        json!({ "id": remapped }),
    )
    .await;
    let due = &read["case"]["deadline"];
    assert_eq!(
        (due["stage"].as_str(), due["startedOn"].as_str()),
        (Some("DHU_CHECK"), Some("2026-11-05"))
    );
    assert_eq!(due["dueOn"], "2026-11-10", "{read}");
    assert_eq!(due["overdue"], true);

    // A remapped case the DHU found short waits for the champion to remap again, not for the DHU.
    let short = flag(&service, "Z00024", Some("2026-11-02T10:00:00Z")).await;
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\", occurredAt: \"2026-11-02T11:00:00Z\" }) { revision } }",
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 3, occurredAt: \"2026-11-05T10:00:00Z\" }) { revision } }",
    ] {
        ok(&service, Role::Champion, "dc-amira", mutation, json!({ "id": short })).await;
    }
    ok(
        &service,
        Role::Dhu,
        "dhu-liaison-1",
        "mutation($id: ID!) { confirmDhuVisibility(input: { caseId: $id, visibleSlotsPerDay: 1, occurredAt: \"2026-11-06T15:00:00Z\" }) { revision } }",
        json!({ "id": short }),
    )
    .await;
    let read = ok(&service, Role::Icb, "icb-assurance-1", DEADLINE, json!({ "id": short })).await;
    let due = &read["case"]["deadline"];
    assert_eq!(
        (due["stage"].as_str(), due["startedOn"].as_str()),
        (Some("REMAP"), Some("2026-11-06")),
        "{read}"
    );
    assert_eq!(due["dueOn"], "2026-11-20");

    // Each party's list of late cases: its own.
    let lists = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "{ icb { overdue { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ids(&lists["icb"]["overdue"]),
        [late.clone(), remapped.clone(), short.clone()],
        "longest overdue first"
    );
    let lmc = ok(
        &service,
        Role::Lmc,
        "lmc-officer-1",
        "{ lmc { overdue { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ids(&lmc["lmc"]["overdue"]),
        [late.clone(), remapped.clone(), short.clone()]
    );
    let dhu = ok(
        &service,
        Role::Dhu,
        "dhu-liaison-1",
        "{ dhu { overdue { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ids(&dhu["dhu"]["overdue"]),
        std::slice::from_ref(&remapped),
        "only the checks that are the DHU's"
    );
    let champion = ok(
        &service,
        Role::Champion,
        "dc-amira",
        "{ champion { overdue { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ids(&champion["champion"]["overdue"]),
        [late.clone(), remapped.clone(), short.clone()]
    );
    let other = ok(
        &service,
        Role::Champion,
        "dc-bryn",
        "{ champion { overdue { id } } }",
        json!({}),
    )
    .await;
    assert!(
        ids(&other["champion"]["overdue"]).is_empty(),
        "another champion's late cases are not theirs"
    );

    // A deployment with more generous targets: nothing is late.
    let generous = Deadlines {
        targets: StageTargets {
            contact: 400,
            remap: 400,
            dhu_check: 400,
            icb_decision: 400,
        },
        ..Deadlines::default()
    };
    let schema = caseledger_api::graphql::build_schema(
        caseledger_api::graphql::AppState::new(service.store.clone()).with_deadlines(generous),
    );
    let request =
        async_graphql::Request::new("{ icb { overdue { id } } }").data(common::as_actor(Role::Icb, "icb-assurance-1"));
    let response = serde_json::to_value(schema.execute(request).await).unwrap();
    assert!(ids(&response["data"]["icb"]["overdue"]).is_empty(), "{response}");
    service.stop().await;
}
