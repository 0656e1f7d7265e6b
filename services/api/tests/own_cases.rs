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
        (
            Role::Practice,
            "pm-z00012",
            "Z00012",
            json!(["SLOT_VISIBILITY", "DIVERSION", "DOS_GAP"]),
        ),
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

/// The practice's answers on `case_id` as `who` reads them through the case.
async fn answers_on_case(service: &Service, who: (Role, &str), case_id: &str) -> Value {
    let query = format!("{{ case(id: \"{case_id}\") {{ practiceAnswers {{ id answeredAt text }} }} }}");
    ok(service, who.0, who.1, "", &query, json!({})).await["case"]["practiceAnswers"].clone()
}

#[tokio::test]
async fn a_practice_answers_its_champion_and_each_party_reads_what_the_lens_allows() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(2)).date_naive();
    let dashboard = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,9000,0\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,9000,0\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": dashboard }),
    )
    .await;
    let case_by = |ods: &'static str| {
        let service = &service;
        async move {
            let query = format!("{{ caseByPractice(odsCode: \"{ods}\") {{ id }} }}");
            ok(service, Role::Icb, "icb-assurance-1", "", &query, json!({})).await["caseByPractice"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let mill_case = case_by("Z00012").await;
    let arden_case = case_by("Z00011").await;
    let answer = "mutation($id: ID!, $t: String!, $c: ID) { answerChampion(input: { caseId: $id, text: $t, commandId: $c }) \
                  { id answers { id answeredAt text } } }";
    let words = "We made the 111 slot type external; ask for Sam Okafor on 01234 567890";
    let mill = (Role::Practice, "pm-z00012", "Z00012");

    // The practice answers before a champion has rung (the case is open), once however often the
    // same form is posted.
    for _ in 0..2 {
        let answered = ok(
            &service,
            mill.0,
            mill.1,
            mill.2,
            answer,
            json!({ "id": mill_case, "t": words, "c": "form-1" }),
        )
        .await;
        let answers = &answered["answerChampion"]["answers"];
        assert_eq!(answers.as_array().unwrap().len(), 1, "{answered}");
        assert_eq!(answers[0]["text"], words);
    }

    // Refused: another practice's case and no case alike (NOT_FOUND: it learns nothing of
    // others), no words, and every role but a practice's.
    for id in [arden_case.as_str(), "0190f000-0000-7000-8000-000000000000", "not-an-id"] {
        let refused = run(
            &service,
            mill.0,
            mill.1,
            mill.2,
            answer,
            json!({ "id": id, "t": words }),
        )
        .await;
        assert_eq!(codes(&refused), ["NOT_FOUND"], "{id}: {refused}");
    }
    let blank = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        answer,
        json!({ "id": mill_case, "t": "  " }),
    )
    .await;
    assert_eq!(codes(&blank), ["BAD_USER_INPUT"], "{blank}");
    // One commandId is one answer: other words under it are a CONFLICT.
    let reused = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        answer,
        json!({ "id": mill_case, "t": "Something else", "c": "form-1" }),
    )
    .await;
    assert_eq!(codes(&reused), ["CONFLICT"], "{reused}");
    for (role, id, org) in [
        (Role::Icb, "icb-assurance-1", ""),
        (Role::Champion, "dc-amira", ""),
        (Role::PcnClinicalDirector, "cd-u10001", "U10001"),
        (Role::Lmc, "lmc-1", ""),
    ] {
        let refused = run(&service, role, id, org, answer, json!({ "id": mill_case, "t": words })).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role}: {refused}");
    }

    // A champion takes the case: its holder and the ICB read the words; a colleague champion and
    // the LMC that (and when) the practice answered; the DHU nothing.
    ok(
        &service,
        Role::Champion,
        "dc-amira",
        "",
        &format!(
            "mutation {{ assignCase(input: {{ caseId: \"{mill_case}\", championId: \"dc-amira\" }}) {{ revision }} }}"
        ),
        json!({}),
    )
    .await;
    for who in [(Role::Champion, "dc-amira"), (Role::Icb, "icb-assurance-1")] {
        let answers = answers_on_case(&service, who, &mill_case).await;
        assert_eq!(answers[0]["text"], words, "{:?}: {answers}", who.0);
    }
    for who in [(Role::Champion, "dc-ben"), (Role::Lmc, "lmc-1")] {
        let answers = answers_on_case(&service, who, &mill_case).await;
        assert_eq!(answers.as_array().unwrap().len(), 1, "{:?}: {answers}", who.0);
        assert!(answers[0]["answeredAt"].is_string());
        assert_eq!(answers[0]["text"], Value::Null, "{:?}: {answers}", who.0);
    }
    assert_eq!(
        answers_on_case(&service, (Role::Dhu, "dhu-liaison-1"), &mill_case).await,
        json!([])
    );
    // The PCN sees that its practice answered, not what it said.
    let own = "{ ownCases { id answers { answeredAt text } } }";
    let pcn = ok(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10001",
        "U10001",
        own,
        json!({}),
    )
    .await;
    let mill_row = pcn["ownCases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == mill_case.as_str())
        .unwrap()
        .clone();
    assert_eq!(mill_row["answers"].as_array().unwrap().len(), 1, "{pcn}");
    assert!(!pcn.to_string().contains("Okafor"), "{pcn}");

    // Erasing the case's personal data erases the practice's words with it.
    let erase = format!(
        "mutation {{ erasePersonalData(caseId: \"{mill_case}\", reason: \"asked to be forgotten\") {{ revision }} }}"
    );
    ok(&service, Role::Icb, "icb-assurance-1", "", &erase, json!({})).await;
    let answers = answers_on_case(&service, (Role::Icb, "icb-assurance-1"), &mill_case).await;
    assert_eq!(answers[0]["text"], "[erased]", "{answers}");
    let own_read = ok(&service, mill.0, mill.1, mill.2, own, json!({})).await;
    assert_eq!(own_read["ownCases"][0]["answers"][0]["text"], "[erased]", "{own_read}");

    // A day's worth of answers, and no flood: the twenty-first today is refused.
    for n in 1..caseledger_cases::answer::MAX_ANSWERS_A_DAY {
        ok(
            &service,
            mill.0,
            mill.1,
            mill.2,
            answer,
            json!({ "id": mill_case, "t": format!("More, {n}"), "c": format!("more-{n}") }),
        )
        .await;
    }
    let flood = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        answer,
        json!({ "id": mill_case, "t": "And more" }),
    )
    .await;
    assert_eq!(codes(&flood), ["RATE_LIMITED"], "{flood}");

    // Once the case is closed nothing is asked of the practice.
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        &format!("mutation {{ closeCase(input: {{ caseId: \"{mill_case}\", reason: WITHDRAWN }}) {{ revision }} }}"),
        json!({}),
    )
    .await;
    let closed = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        answer,
        json!({ "id": mill_case, "t": words }),
    )
    .await;
    assert_eq!(codes(&closed), ["INVALID_TRANSITION"], "{closed}");
    // The first form posted again after the close is answered as it was, not refused.
    let retried = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        answer,
        json!({ "id": mill_case, "t": words, "c": "form-1" }),
    )
    .await;
    assert!(retried["errors"].is_null(), "{retried}");
    service.stop().await;
}
