//! Directory of Services gaps, end to end through GraphQL as each party: the 111 provider reports,
//! the ICB triages (a case, or dismissed with its reason), the provider's update is recorded, the
//! 111 provider confirms or finds the gap still there; each party reads the gaps and words the
//! lens allows; a service's red, amber or green status; retries answer as the first did; the
//! words sealed in the log.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_cases::Role;
use caseledger_cases::holidays::BankHolidays;
use chrono::{DateTime, NaiveTime, Utc};
use common::{Service, codes, ok, run};
use serde_json::{Value, json};

const FIELDS: &str = "id serviceId serviceName kind status inCoreHours odsCode detail dismissReason updateSummary \
                      timesPersisted persistDetail due overdue";

fn report() -> String {
    format!(
        "mutation($s: String!, $n: String!, $k: DosGapKind!, $at: DateTime!, $ods: String, $d: String, $cmd: ID) {{
           reportDosGap(input: {{ serviceId: $s, serviceName: $n, kind: $k, bitAt: $at, odsCode: $ods, detail: $d,
                                  commandId: $cmd }}) {{ {FIELDS} }} }}"
    )
}

fn step(name: &str, input: &str) -> String {
    format!("mutation($g: ID!, $cmd: ID) {{ {name}(input: {{ gapId: $g, commandId: $cmd{input} }}) {{ {FIELDS} }} }}")
}

/// `hour`:`minute` UK time on the latest working day before today.
fn a_working_day_at(hour: u32, minute: u32) -> DateTime<Utc> {
    let calendar = BankHolidays::england_and_wales();
    let mut day = caseledger_cases::ukclock::to_uk(caseledger_clock::now()).date_naive() - chrono::Duration::days(1);
    while !calendar.is_core_day(day) {
        day = day.pred_opt().unwrap();
    }
    let local = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap());
    caseledger_cases::ukclock::from_local(local).with_timezone(&Utc)
}

#[tokio::test]
async fn a_gap_goes_from_the_111_provider_to_a_case_and_back_and_each_party_reads_what_it_may() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let register = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,5000,5\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": register }),
    )
    .await;
    let dhu = (Role::Dhu, "dhu-liaison-1", "");
    let icb = (Role::Icb, "icb-assurance-1", "");
    let arden = (Role::Practice, "pm-z00011", "Z00011");
    let mill = (Role::Practice, "pm-z00012", "Z00012");

    // A district nursing gap at 17:45 (core hours) and a practice's wrong details at 19:10.
    let nursing = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "2000012345", "n": "Coventry district nursing", "k": "HOURS",
                "at": a_working_day_at(17, 45), "d": "No nurse listed 17:30-19:00; caller Mr Okonkwo-Vance", "cmd": "gap-1" }),
    )
    .await["reportDosGap"]
        .clone();
    assert_eq!(nursing["status"], "REPORTED", "{nursing}");
    assert_eq!(nursing["inCoreHours"], true);
    assert!(nursing["due"].is_string(), "triage is due: {nursing}");
    let again = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "2000012345", "n": "Coventry district nursing", "k": "HOURS",
                "at": a_working_day_at(17, 45), "d": "No nurse listed 17:30-19:00; caller Mr Okonkwo-Vance", "cmd": "gap-1" }),
    )
    .await;
    assert_eq!(
        again["reportDosGap"]["id"], nursing["id"],
        "a retried report is one gap"
    );
    let details = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "2000067890", "n": "Arden Health Centre", "k": "WRONG_DETAILS",
                "at": a_working_day_at(19, 10), "ods": "Z00011", "d": "Old telephone number on the entry" }),
    )
    .await["reportDosGap"]
        .clone();
    assert_eq!(details["inCoreHours"], false);
    let future = run(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "2000012345", "n": "x", "k": "HOURS", "at": caseledger_clock::now() + chrono::Duration::hours(2) }),
    )
    .await;
    assert_eq!(codes(&future), ["BAD_USER_INPUT"], "{future}");
    let bad_id = run(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "DOS-1", "n": "x", "k": "HOURS", "at": a_working_day_at(10, 0) }),
    )
    .await;
    assert_eq!(codes(&bad_id), ["BAD_USER_INPUT"], "{bad_id}");

    // Red with an open gap in core hours, amber with one outside them.
    let services = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        "{ dosServices { serviceId rag openGaps } }",
        json!({}),
    )
    .await;
    assert_eq!(
        services["dosServices"],
        json!([
            { "serviceId": "2000012345", "rag": "RED", "openGaps": 1 },
            { "serviceId": "2000067890", "rag": "AMBER", "openGaps": 1 }
        ]),
        "{services}"
    );

    // The ICB triages: a case for the nursing gap; the details dismissed, with its reason.
    let (nursing_id, details_id) = (nursing["id"].clone(), details["id"].clone());
    let premature = run(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &step("confirmDosFix", ""),
        json!({ "g": nursing_id }),
    )
    .await;
    assert_eq!(codes(&premature), ["INVALID_TRANSITION"], "{premature}");
    let opened = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &step("triageDosGap", ", outcome: CASE_OPENED"),
        json!({ "g": nursing_id }),
    )
    .await;
    assert_eq!(opened["triageDosGap"]["status"], "AWAITING_UPDATE", "{opened}");
    let reasonless = run(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &step("triageDosGap", ", outcome: DISMISSED"),
        json!({ "g": details_id }),
    )
    .await;
    assert_eq!(
        codes(&reasonless),
        ["BAD_USER_INPUT"],
        "a dismissal says why: {reasonless}"
    );
    let dismissed = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &step(
            "triageDosGap",
            ", outcome: DISMISSED, reason: \"Entry checked with Dr Achterberg-Lane: correct\"",
        ),
        json!({ "g": details_id }),
    )
    .await;
    assert_eq!(dismissed["triageDosGap"]["status"], "DISMISSED");
    assert!(dismissed["triageDosGap"]["due"].is_null());

    // The update, recorded by the ICB; the 111 provider finds the gap still there; updated again;
    // confirmed, and closed.
    let update = step("recordDosUpdate", ", summary: \"Evening hours 17:30-19:00 added\"");
    let updated = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &update,
        json!({ "g": nursing_id, "cmd": "upd-1" }),
    )
    .await;
    assert_eq!(updated["recordDosUpdate"]["status"], "AWAITING_CONFIRMATION");
    let twice = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &update,
        json!({ "g": nursing_id, "cmd": "upd-1" }),
    )
    .await;
    assert_eq!(
        twice["recordDosUpdate"]["status"], "AWAITING_CONFIRMATION",
        "a retry is the first's answer"
    );
    let persists = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &step("reportDosGapPersists", ", detail: \"Still missing for an 18:10 call\""),
        json!({ "g": nursing_id }),
    )
    .await;
    assert_eq!(persists["reportDosGapPersists"]["status"], "AWAITING_UPDATE");
    assert_eq!(persists["reportDosGapPersists"]["timesPersisted"], 1);
    ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &update,
        json!({ "g": nursing_id, "cmd": "upd-2" }),
    )
    .await;
    let closed = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &step("confirmDosFix", ""),
        json!({ "g": nursing_id }),
    )
    .await;
    assert_eq!(closed["confirmDosFix"]["status"], "CLOSED", "{closed}");
    let services = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        "{ dosServices { serviceId rag } }",
        json!({}),
    )
    .await;
    assert!(
        services["dosServices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["rag"] == "GREEN"),
        "{services}"
    );

    // What each reads: the DHU its own words, not the ICB's reason nor the update's words; the
    // practice only gaps in its own entry; the LMC, champions and PCNs nothing.
    let list = format!("{{ dosGaps {{ {FIELDS} }} }}");
    let read = ok(&service, dhu.0, dhu.1, dhu.2, &list, json!({})).await.to_string();
    assert!(read.contains("Okonkwo-Vance") && read.contains("18:10"), "{read}");
    assert!(
        !read.contains("Achterberg-Lane") && !read.contains("Evening hours"),
        "{read}"
    );
    let read = ok(&service, icb.0, icb.1, icb.2, &list, json!({})).await.to_string();
    assert!(
        read.contains("Achterberg-Lane") && read.contains("Evening hours"),
        "{read}"
    );
    let read = ok(&service, arden.0, arden.1, arden.2, &list, json!({})).await;
    let gaps = read["dosGaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{read}");
    assert_eq!(gaps[0]["odsCode"], "Z00011");
    assert_eq!(
        gaps[0]["detail"], "Old telephone number on the entry",
        "its own entry's words"
    );
    assert!(gaps[0]["dismissReason"].is_null(), "the ICB's reason is the ICB's");
    let read = ok(&service, mill.0, mill.1, mill.2, &list, json!({})).await;
    assert_eq!(read["dosGaps"], json!([]), "another practice's entry");
    for (role, id, org) in [
        (Role::Lmc, "lmc-1", ""),
        (Role::Champion, "dc-amira", ""),
        (Role::PcnClinicalDirector, "cd-u10001", "U10001"),
    ] {
        let refused = run(&service, role, id, org, &list, json!({})).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role}: {refused}");
    }
    // A practice acts on its own entry's gaps only, and another learns nothing of them.
    let reported = ok(
        &service,
        dhu.0,
        dhu.1,
        dhu.2,
        &report(),
        json!({ "s": "2000067890", "n": "Arden Health Centre", "k": "SKILL_OR_CAPACITY",
                "at": a_working_day_at(11, 0), "ods": "Z00011" }),
    )
    .await["reportDosGap"]["id"]
        .clone();
    ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &step("triageDosGap", ", outcome: CASE_OPENED"),
        json!({ "g": reported }),
    )
    .await;
    let by_mill = run(
        &service,
        mill.0,
        mill.1,
        mill.2,
        &step("recordDosUpdate", ""),
        json!({ "g": reported }),
    )
    .await;
    assert_eq!(codes(&by_mill), ["NOT_FOUND"], "{by_mill}");
    let by_arden = ok(
        &service,
        arden.0,
        arden.1,
        arden.2,
        &step("recordDosUpdate", ", summary: \"Phlebotomy days corrected\""),
        json!({ "g": reported }),
    )
    .await;
    assert_eq!(by_arden["recordDosUpdate"]["status"], "AWAITING_CONFIRMATION");
    assert_eq!(
        by_arden["recordDosUpdate"]["updateSummary"],
        "Phlebotomy days corrected"
    );

    // This week's figures by kind: reported (in core hours), closed, dismissed.
    let figures = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        "{ dosFigures(weeks: 1) { kind reported reportedInCoreHours closed dismissed } }",
        json!({}),
    )
    .await;
    let of = |kind: &str| {
        figures["dosFigures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["kind"] == kind)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        of("HOURS"),
        json!({ "kind": "HOURS", "reported": 1, "reportedInCoreHours": 1, "closed": 1, "dismissed": 0 }),
        "{figures}"
    );
    assert_eq!(of("WRONG_DETAILS")["dismissed"], 1, "{figures}");
    assert_eq!(of("SKILL_OR_CAPACITY")["reported"], 1, "{figures}");
    let arden_figures = ok(
        &service,
        arden.0,
        arden.1,
        arden.2,
        "{ dosFigures { kind reported } }",
        json!({}),
    )
    .await;
    let kinds: Vec<&Value> = arden_figures["dosFigures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["kind"])
        .collect();
    assert!(
        !kinds.contains(&&json!("HOURS")),
        "a practice counts its own entry's gaps: {arden_figures}"
    );

    // The words are sealed in the log, in each service's own stream.
    let stored: Vec<(String, String)> =
        sqlx::query_as("select stream_id, data::text from events where event_type like 'Dos%' order by position")
            .fetch_all(&service.db.pool)
            .await
            .unwrap();
    assert!(
        stored.iter().all(|(stream, _)| stream.starts_with("dos-")),
        "{stored:?}"
    );
    let all: String = stored.iter().map(|(_, data)| data.as_str()).collect();
    for words in ["Okonkwo-Vance", "Achterberg-Lane", "Evening hours", "18:10 call"] {
        assert!(!all.contains(words), "{words} in the clear: {all}");
    }
    service.stop().await;
}
