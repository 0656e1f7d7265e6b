//! The directory of people: only admins read and change it; a case goes only to an active
//! champion in it, and a mistyped, deactivated or non-champion id is refused naming the id.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::Role;
use common::{Service, codes};
use serde_json::{Value, json};

const FLAG: &str = "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { case { id } } }";
const ASSIGN: &str =
    "mutation($id: ID!, $c: String!) { assignCase(input: { caseId: $id, championId: $c }) { case { assignedTo } } }";
const ADD: &str = "mutation($i: AddPersonInput!) { addPerson(input: $i) { id name role active orgCode email } }";
const UPDATE: &str = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id name role active email } }";

async fn flagged(service: &Service, ods: &str) -> String {
    let flagged = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            FLAG,
            json!({ "i": { "odsCode": ods, "practiceName": "Directory Surgery", "pcnCode": "U10001",
                           "place": "Coventry", "listSize": 6000, "visibleSlots": 0 } }),
        )
        .await;
    assert!(flagged["errors"].is_null(), "{flagged}");
    flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn message(response: &Value) -> String {
    response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_case_goes_only_to_an_active_champion_in_the_directory() {
    let service = Service::start().await;
    let case = flagged(&service, "Z00301").await;
    let assign = |to: &'static str| {
        let case = case.clone();
        let service = &service;
        async move {
            service
                .as_role(Role::Icb, "icb-assurance-1", ASSIGN, json!({ "id": case, "c": to }))
                .await
        }
    };

    // A typo: refused, naming the id, and the case keeps nobody.
    let typo = assign("dc-amria").await;
    assert_eq!(codes(&typo), ["BAD_USER_INPUT"], "{typo}");
    assert!(message(&typo).contains("dc-amria"), "{typo}");
    assert_eq!(typo["errors"][0]["extensions"]["field"], "championId");

    // Someone in another role.
    let added = service
        .as_role(
            Role::Admin,
            "ops-1",
            ADD,
            json!({ "i": { "id": "lmc-2", "name": "Dr Lee", "role": "LMC" } }),
        )
        .await;
    assert!(added["errors"].is_null(), "{added}");
    let not_champion = assign("lmc-2").await;
    assert_eq!(codes(&not_champion), ["BAD_USER_INPUT"], "{not_champion}");
    assert!(message(&not_champion).contains("not a champion"), "{not_champion}");

    // Added by an admin ahead of a first sign-in: assignable, and offered to the ICB by name.
    let added = service
        .as_role(
            Role::Admin,
            "ops-1",
            ADD,
            json!({ "i": { "id": "dc-dana", "name": "Dana Cole", "role": "CHAMPION", "orgCode": "x26",
                           "email": "dana.cole@nhs.net" } }),
        )
        .await;
    assert!(added["errors"].is_null(), "{added}");
    assert_eq!(added["data"]["addPerson"]["orgCode"], "X26");
    assert_eq!(added["data"]["addPerson"]["active"], true);
    let choices = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ icb { champions { id name } } }",
            json!({}),
        )
        .await;
    let offered = choices["data"]["icb"]["champions"].as_array().unwrap().clone();
    assert!(
        offered.contains(&json!({ "id": "dc-dana", "name": "Dana Cole" })),
        "{choices}"
    );
    assert!(!offered.iter().any(|c| c["id"] == "lmc-2"), "only champions: {choices}");
    let given = assign("dc-dana").await;
    assert!(given["errors"].is_null(), "{given}");
    assert_eq!(given["data"]["assignCase"]["case"]["assignedTo"], "dc-dana");

    // Deactivated: no longer offered, and refused.
    let off = service
        .as_role(
            Role::Admin,
            "ops-1",
            UPDATE,
            json!({ "i": { "id": "dc-dana", "active": false } }),
        )
        .await;
    assert_eq!(off["data"]["updatePerson"]["active"], false, "{off}");
    assert_eq!(off["data"]["updatePerson"]["name"], "Dana Cole", "other fields stay");
    let choices = service
        .as_role(Role::Icb, "icb-assurance-1", "{ icb { champions { id } } }", json!({}))
        .await;
    assert!(!choices.to_string().contains("dc-dana"), "{choices}");
    let refused = assign("dc-dana").await;
    assert_eq!(codes(&refused), ["BAD_USER_INPUT"], "{refused}");
    assert!(message(&refused).contains("deactivated"), "{refused}");
    service.stop().await;
}

#[tokio::test]
async fn only_admins_read_and_change_the_directory_and_bad_values_are_named() {
    let service = Service::start().await;
    for role in [Role::Icb, Role::Lmc, Role::Dhu, Role::Champion] {
        let read = service
            .as_role(role, "someone", "{ people { id email } }", json!({}))
            .await;
        assert_eq!(codes(&read), ["FORBIDDEN"], "{role}: {read}");
        let add = service
            .as_role(
                role,
                "someone",
                ADD,
                json!({ "i": { "id": "dc-x", "name": "X", "role": "CHAMPION" } }),
            )
            .await;
        assert_eq!(codes(&add), ["FORBIDDEN"], "{role}: {add}");
        let change = service
            .as_role(
                role,
                "someone",
                UPDATE,
                json!({ "i": { "id": "dc-amira", "active": false } }),
            )
            .await;
        assert_eq!(codes(&change), ["FORBIDDEN"], "{role}: {change}");
    }
    let admin = |query: &'static str, variables: Value| service.as_role(Role::Admin, "ops-1", query, variables);
    for (input, field) in [
        (json!({ "id": "dc amira", "name": "A", "role": "CHAMPION" }), "id"),
        (json!({ "id": "dc-new", "name": " ", "role": "CHAMPION" }), "name"),
        (
            json!({ "id": "dc-new", "name": "A", "role": "CHAMPION", "email": "a@gmail.com" }),
            "email",
        ),
        (
            json!({ "id": "dc-new", "name": "A", "role": "CHAMPION", "orgCode": "not a code!" }),
            "orgCode",
        ),
        // Already there (the harness adds dc-amira).
        (json!({ "id": "dc-amira", "name": "Another", "role": "ICB" }), "id"),
    ] {
        let refused = admin(ADD, json!({ "i": input })).await;
        assert_eq!(codes(&refused), ["BAD_USER_INPUT"], "{input}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }
    let missing = admin(UPDATE, json!({ "i": { "id": "nobody", "name": "N" } })).await;
    assert_eq!(codes(&missing), ["NOT_FOUND"], "{missing}");
    let myself = admin(UPDATE, json!({ "i": { "id": "ops-1", "active": false } })).await;
    assert_eq!(codes(&myself), ["BAD_USER_INPUT"], "{myself}");
    // A role changed by an admin; an address removed with an empty string.
    let changed = admin(
        UPDATE,
        json!({ "i": { "id": "dc-ben", "role": "ICB", "email": "ben@nhs.net" } }),
    )
    .await;
    assert_eq!(changed["data"]["updatePerson"]["role"], "ICB", "{changed}");
    let cleared = admin(UPDATE, json!({ "i": { "id": "dc-ben", "email": "" } })).await;
    assert_eq!(cleared["data"]["updatePerson"]["email"], Value::Null, "{cleared}");
    let listed = admin("{ people(role: CHAMPION) { id role } }", json!({})).await;
    let ids: Vec<&str> = listed["data"]["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"dc-amira") && !ids.contains(&"dc-ben"), "{listed}");
    service.stop().await;
}

#[tokio::test]
async fn a_sign_in_adds_the_person_keeps_their_role_current_and_their_last_visit() {
    let service = Service::start().await;
    let pool = &service.db.pool;
    let monday = chrono::DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z")
        .unwrap()
        .to_utc();
    let tuesday = monday + chrono::Duration::days(1);
    let visit = caseledger_commands::people::SignIn {
        visit: true,
        ..Default::default()
    };
    // First sign-in: added; no earlier visit.
    caseledger_commands::people::signed_in(pool, "dc-eve", Role::Champion, &visit, monday)
        .await
        .unwrap();
    let me = service
        .as_role(Role::Champion, "dc-eve", "{ me { id lastVisitAt } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["lastVisitAt"], Value::Null, "{me}");
    // A token's use of the API neither moves the last visit nor counts as one.
    let api = caseledger_commands::people::SignIn::default();
    caseledger_commands::people::signed_in(pool, "dc-eve", Role::Champion, &api, tuesday)
        .await
        .unwrap();
    let me = service
        .as_role(Role::Champion, "dc-eve", "{ me { lastVisitAt } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["lastVisitAt"], Value::Null, "{me}");
    // The second visit: the first is the last visit; the role follows the latest sign-in.
    let second = caseledger_commands::people::signed_in(pool, "dc-eve", Role::Icb, &visit, tuesday)
        .await
        .unwrap();
    assert_eq!(second.role, Role::Icb);
    assert_eq!(
        (second.last_visit_at, second.signed_in_at),
        (Some(monday), Some(tuesday))
    );
    // Deactivated: the sign-in is refused and changes nothing.
    caseledger_commands::people::change(
        pool,
        "dc-eve",
        &caseledger_commands::people::Changes {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let refused = caseledger_commands::people::signed_in(pool, "dc-eve", Role::Admin, &visit, tuesday).await;
    assert!(
        matches!(
            refused,
            Err(caseledger_commands::people::PeopleError::Deactivated { .. })
        ),
        "{refused:?}"
    );
    let still = caseledger_commands::people::get(pool, "dc-eve").await.unwrap().unwrap();
    assert_eq!((still.role, still.active), (Role::Icb, false));
    service.stop().await;
}
