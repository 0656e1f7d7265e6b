//! A practice sees its own slot cases and what is asked of it, a PCN's clinical director its
//! practices': where each stands and when it is due, never the case's words or who worked it.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::Role;
use common::{Service, codes, ok, run};
use serde_json::{Value, json};

const OWN: &str = "{ ownCases { id odsCode status requiredSlots visibleSlots rootCauses supported \
                   deadline { stage overdue } askedOfPractice } }";

fn practices(data: &Value) -> Vec<String> {
    data["ownCases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["odsCode"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_practice_sees_its_own_cases_and_what_is_asked_of_it_and_its_pcn_its_practices() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(2)).date_naive();
    let dashboard = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,9000,0\n\
         {day},Z00031,Kenilworth Road Surgery,U10002,Warwick,8000,0\n"
    );
    let icb = (Role::Icb, "icb-assurance-1", "");
    ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": dashboard }),
    )
    .await;
    let mill = (Role::Practice, "pm-z00012", "Z00012");
    let read = ok(&service, mill.0, mill.1, mill.2, OWN, json!({})).await;
    assert_eq!(practices(&read), ["Z00012"], "{read}");
    let case = &read["ownCases"][0];
    assert_eq!(case["status"], "FLAGGED");
    assert_eq!(case["requiredSlots"], 3);
    assert_eq!(case["supported"], false);
    assert_eq!(case["deadline"]["stage"], "CONTACT");
    assert_eq!(
        case["askedOfPractice"],
        json!(["Answer the Digital Champion who will contact you"])
    );
    let case_id = case["id"].as_str().unwrap().to_string();
    let arden = ok(&service, Role::Practice, "pm-z00011", "Z00011", OWN, json!({})).await;
    assert_eq!(
        arden["ownCases"],
        json!([]),
        "a compliant practice has no case: {arden}"
    );
    let pcn = ok(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10001",
        "U10001",
        OWN,
        json!({}),
    )
    .await;
    assert_eq!(practices(&pcn), ["Z00012"], "its own PCN's, not Kenilworth's: {pcn}");

    // A champion takes the case, rings the practice and finds the cause.
    let champion = (Role::Champion, "dc-amira", "");
    for (mutation, input) in [
        ("assignCase", "championId: \"dc-amira\""),
        (
            "recordContact",
            "channel: PHONE, contactName: \"Priya Ramaswamy-Holt\", summary: \"Spoke to the manager\"",
        ),
        (
            "recordRootCause",
            "cause: SLOT_TYPE_NOT_EXTERNAL, detail: \"The 111 slot type is internal only\"",
        ),
    ] {
        ok(
            &service,
            champion.0,
            champion.1,
            champion.2,
            &format!("mutation {{ {mutation}(input: {{ caseId: \"{case_id}\", {input} }}) {{ revision }} }}"),
            json!({}),
        )
        .await;
    }
    let read = ok(&service, mill.0, mill.1, mill.2, OWN, json!({})).await;
    let case = &read["ownCases"][0];
    assert_eq!(case["supported"], true, "{read}");
    assert_eq!(case["rootCauses"], json!(["SLOT_TYPE_NOT_EXTERNAL"]));
    assert_eq!(
        case["askedOfPractice"],
        json!(["Make the 111 slot type bookable by other organisations"])
    );
    for words in ["Ramaswamy-Holt", "Spoke to the manager", "internal only", "dc-amira"] {
        assert!(
            !read.to_string().contains(words),
            "the case's words and who worked it: {read}"
        );
    }
    // The case itself, and every field across the ICB, stay closed to them.
    for query in [
        format!("{{ case(id: \"{case_id}\") {{ id }} }}"),
        "{ caseByPractice(odsCode: \"Z00012\") { id } }".to_string(),
    ] {
        let refused = run(&service, mill.0, mill.1, mill.2, &query, json!({})).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{refused}");
    }
    for (role, id) in [
        (Role::Icb, "icb-assurance-1"),
        (Role::Lmc, "lmc-1"),
        (Role::Admin, "ops-1"),
    ] {
        let refused = run(&service, role, id, "", OWN, json!({})).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role}: {refused}");
    }
    // The kinds of case each party works on, from the catalogue.
    for (role, id, org, kinds) in [
        (Role::Practice, "pm-z00012", "Z00012", json!(["DIVERSION", "DOS_GAP"])),
        (
            Role::PcnClinicalDirector,
            "cd-u10001",
            "U10001",
            json!(["DIVERSION", "TELEPHONY_REVIEW"]),
        ),
        (Role::Dhu, "dhu-liaison-1", "", json!(["SLOT_VISIBILITY", "DOS_GAP"])),
        (Role::Lmc, "lmc-1", "", json!([])),
    ] {
        let me = ok(&service, role, id, org, "{ me { worksOn } }", json!({})).await;
        assert_eq!(me["me"]["worksOn"], kinds, "{role}");
    }
    service.stop().await;
}
