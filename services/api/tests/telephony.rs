//! Telephony metrics for PCN review, end to end through GraphQL as each party: the ICB and a PCN's
//! clinical director import months (the director only its own practices), the file checked whole
//! and a month recorded once; who reads which practices' months (not the LMC or the DHU); the
//! PCN's notes read by that PCN alone and sealed in the log.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_cases::Role;
use chrono::Months;
use common::{Service, codes, ok, run};
use serde_json::{Value, json};

const IMPORT: &str = "mutation($c: String!) { importTelephonyMetrics(csv: $c) { rows observed errorCount errors { line column message } } }";
const HEADER: &str =
    "month,ods_code,inbound_calls,average_wait_seconds,abandonment_rate,average_call_seconds,callbacks\n";
const READ: &str = "{ telephonyMetrics(months: 3) { odsCode pcnCode months { month inboundCalls averageWaitSeconds abandonmentRate averageCallSeconds callbacks } } }";
const NOTE: &str = "mutation($m: Date!, $n: String!, $cmd: ID) { recordPcnReviewNote(input: { month: $m, note: $n, commandId: $cmd }) { id pcnCode month note notedBy } }";
const NOTES: &str = "{ pcnReviewNotes { id month note } }";

fn practices_of(data: &Value) -> Vec<String> {
    let mut seen: Vec<String> = data["telephonyMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["odsCode"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    seen
}

#[tokio::test]
async fn each_party_reads_the_months_it_may_and_a_pcn_keeps_its_own_notes() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let register = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,5000,0\n\
         {day},Z00031,Kenilworth Road Surgery,U10002,Warwick,8000,5\n"
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
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let this_month = caseledger_cases::telephony::first_of_month(today);
    let last = this_month.checked_sub_months(Months::new(1)).unwrap();
    let before = this_month.checked_sub_months(Months::new(2)).unwrap();
    let (this, last, before) = (
        this_month.format("%Y-%m").to_string(),
        last.format("%Y-%m").to_string(),
        before.format("%Y-%m").to_string(),
    );
    let director = (Role::PcnClinicalDirector, "cd-u10001", "U10001");

    // A month not yet over, a rate past 100%, a PCN's code: nothing is taken.
    let bad = format!("{HEADER}{this},Z00011,10,60,5,120,1\n{last},Z00012,10,60,101,120,1\n{last},U10001,1,1,1,1,1\n");
    let refused = ok(&service, Role::Icb, "icb-assurance-1", "", IMPORT, json!({ "c": bad })).await;
    let report = &refused["importTelephonyMetrics"];
    assert_eq!(
        (report["observed"].as_i64(), report["errorCount"].as_i64()),
        (Some(0), Some(3)),
        "{refused}"
    );
    assert!(refused.to_string().contains("has not ended"), "{refused}");

    // The clinical director imports their own PCN's practices only: a row of another PCN's
    // practice refuses the whole file, naming its line.
    let theirs = format!("{HEADER}{last},Z00011,4000,80,5.5,170,100\n{last},Z00031,3000,60,3,150,90\n");
    let refused = ok(
        &service,
        director.0,
        director.1,
        director.2,
        IMPORT,
        json!({ "c": theirs }),
    )
    .await;
    assert_eq!(refused["importTelephonyMetrics"]["observed"], 0, "{refused}");
    assert_eq!(refused["importTelephonyMetrics"]["errors"][0]["line"], 3, "{refused}");
    assert!(
        refused.to_string().contains("not one of PCN U10001's practices"),
        "{refused}"
    );
    let own = format!(
        "{HEADER}{before},Z00011,4100,75,5,168,95\n{last},Z00011,4000,80,5.5%,170,100\n{last},Z00012,1500,420,18.25,160,0\n"
    );
    let imported = ok(
        &service,
        director.0,
        director.1,
        director.2,
        IMPORT,
        json!({ "c": own }),
    )
    .await;
    assert_eq!(imported["importTelephonyMetrics"]["observed"], 3, "{imported}");
    let again = ok(
        &service,
        director.0,
        director.1,
        director.2,
        IMPORT,
        json!({ "c": own }),
    )
    .await;
    assert_eq!(
        again["importTelephonyMetrics"]["observed"], 0,
        "a re-import writes nothing: {again}"
    );
    let changed = own.replace(",Z00012,1500,", ",Z00012,1400,");
    let changed = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        IMPORT,
        json!({ "c": changed }),
    )
    .await;
    assert!(changed.to_string().contains("a month is recorded once"), "{changed}");
    // Four months back: outside a read of the last three whole months.
    let four_back = this_month.checked_sub_months(Months::new(4)).unwrap().format("%Y-%m");
    let icb_rows = format!("{HEADER}{last},Z00031,3000,60,3,150,90\n{four_back},Z00031,2900,65,3,150,80\n");
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        IMPORT,
        json!({ "c": icb_rows }),
    )
    .await;
    // A clinical director probing another PCN's practice learns nothing of its figures.
    let probe = format!("{HEADER}{last},Z00031,0,0,0,0,0\n");
    let refused = ok(
        &service,
        director.0,
        director.1,
        director.2,
        IMPORT,
        json!({ "c": probe }),
    )
    .await;
    assert_eq!(refused["importTelephonyMetrics"]["errorCount"], 1, "{refused}");
    assert!(
        !refused.to_string().contains("3000"),
        "another PCN's figures: {refused}"
    );
    assert!(!refused.to_string().contains("recorded before"), "{refused}");
    for (role, id, org) in [
        (Role::Practice, "pm-z00011", "Z00011"),
        (Role::Lmc, "lmc-1", ""),
        (Role::Dhu, "dhu-liaison-1", ""),
        (Role::Champion, "dc-amira", ""),
    ] {
        let refused = run(&service, role, id, org, IMPORT, json!({ "c": icb_rows })).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role} imports no telephony: {refused}");
    }
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();

    // Who reads which practices' months.
    let all = ok(&service, Role::Icb, "icb-assurance-1", "", READ, json!({})).await;
    assert_eq!(practices_of(&all), ["Z00011", "Z00012", "Z00031"], "{all}");
    let arden = all["telephonyMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["odsCode"] == "Z00011")
        .cloned()
        .unwrap();
    assert_eq!(arden["months"].as_array().unwrap().len(), 2, "oldest first: {arden}");
    assert_eq!(arden["months"][1]["abandonmentRate"], 5.5);
    assert_eq!(arden["months"][1]["averageWaitSeconds"], 80);
    let kenilworth = all["telephonyMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["odsCode"] == "Z00031")
        .cloned()
        .unwrap();
    assert_eq!(
        kenilworth["months"].as_array().unwrap().len(),
        1,
        "the last three whole months: {kenilworth}"
    );
    let champion = ok(&service, Role::Champion, "dc-amira", "", READ, json!({})).await;
    assert_eq!(practices_of(&champion).len(), 3);
    let pcn = ok(&service, director.0, director.1, director.2, READ, json!({})).await;
    assert_eq!(practices_of(&pcn), ["Z00011", "Z00012"], "its own PCN: {pcn}");
    let practice = ok(&service, Role::Practice, "pm-z00012", "Z00012", READ, json!({})).await;
    assert_eq!(practices_of(&practice), ["Z00012"], "{practice}");
    assert_eq!(practice["telephonyMetrics"][0]["months"][0]["abandonmentRate"], 18.25);
    for (role, id) in [(Role::Lmc, "lmc-1"), (Role::Dhu, "dhu-liaison-1")] {
        let refused = run(&service, role, id, "", READ, json!({})).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role} reads no telephony: {refused}");
    }
    let too_many = run(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "{ telephonyMetrics(months: 25) { odsCode } }",
        json!({}),
    )
    .await;
    assert_eq!(codes(&too_many), ["BAD_USER_INPUT"], "{too_many}");

    // The PCN's notes: its clinical director's, read by that PCN alone.
    let words = "Agreed: Mill adds a callback queue; Dr Quillfeather to check waits in a month";
    let vars = json!({ "m": format!("{last}-01"), "n": words, "cmd": "note-1" });
    let noted = ok(&service, director.0, director.1, director.2, NOTE, vars.clone()).await;
    assert_eq!(noted["recordPcnReviewNote"]["note"], words, "{noted}");
    assert_eq!(noted["recordPcnReviewNote"]["pcnCode"], "U10001");
    let twice = ok(&service, director.0, director.1, director.2, NOTE, vars).await;
    assert_eq!(
        twice["recordPcnReviewNote"]["id"], noted["recordPcnReviewNote"]["id"],
        "one note for one commandId"
    );
    let future = run(
        &service,
        director.0,
        director.1,
        director.2,
        NOTE,
        json!({ "m": format!("{}-01", this_month.checked_add_months(Months::new(1)).unwrap().format("%Y-%m")), "n": "Too soon" }),
    )
    .await;
    assert_eq!(codes(&future), ["BAD_USER_INPUT"], "{future}");
    let read = ok(&service, director.0, director.1, director.2, NOTES, json!({})).await;
    assert_eq!(read["pcnReviewNotes"].as_array().unwrap().len(), 1, "{read}");
    assert_eq!(read["pcnReviewNotes"][0]["note"], words);
    let other_pcn = ok(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10002",
        "U10002",
        NOTES,
        json!({}),
    )
    .await;
    assert_eq!(
        other_pcn["pcnReviewNotes"],
        json!([]),
        "another PCN reads its own, none here"
    );
    let asked = run(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10002",
        "U10002",
        "{ pcnReviewNotes(pcnCode: \"U10001\") { note } }",
        json!({}),
    )
    .await;
    assert_eq!(codes(&asked), ["FORBIDDEN"], "{asked}");
    for (role, id, org) in [
        (Role::Icb, "icb-assurance-1", ""),
        (Role::Champion, "dc-amira", ""),
        (Role::Lmc, "lmc-1", ""),
        (Role::Dhu, "dhu-liaison-1", ""),
        (Role::Practice, "pm-z00011", "Z00011"),
    ] {
        let refused = run(
            &service,
            role,
            id,
            org,
            "{ pcnReviewNotes(pcnCode: \"U10001\") { note } }",
            json!({}),
        )
        .await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role} reads no PCN's notes: {refused}");
        let refused = run(
            &service,
            role,
            id,
            org,
            NOTE,
            json!({ "m": format!("{last}-01"), "n": "x" }),
        )
        .await;
        assert_eq!(
            codes(&refused),
            ["FORBIDDEN"],
            "{role} records no PCN's notes: {refused}"
        );
    }

    // The PCN's words are sealed in the log, in the PCN's own stream.
    let stored: Vec<(String, String)> =
        sqlx::query_as("select stream_id, data::text from events where event_type = 'PcnReviewNoted'")
            .fetch_all(&service.db.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "pcn-U10001");
    assert!(!stored[0].1.contains("Quillfeather"), "{stored:?}");
    service.stop().await;
}
