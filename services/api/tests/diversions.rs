//! Diversions to NHS 111, end to end through GraphQL as each party: a practice tells of its own
//! and ends it, the ICB acknowledges and records one told by phone; who reads which practices'
//! diversions, and which fields (the practice's words only for the practice, the ICB and
//! champions); the practice's words sealed in the log; core hours counted as the domain counts.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_cases::Role;
use caseledger_cases::diversion::core_minutes;
use caseledger_cases::holidays::BankHolidays;
use chrono::{DateTime, NaiveTime, Utc};
use common::{Service, codes, ok, run};
use serde_json::{Value, json};

const FIELDS: &str =
    "id practice { odsCode pcnCode } from endedAt reason detail late notifiedBy acknowledgedAt coreMinutes";

/// 08:15 UK time on a working day about a week ago: a diversion's start the rules accept.
fn a_working_morning() -> DateTime<Utc> {
    let calendar = BankHolidays::england_and_wales();
    let mut day = caseledger_cases::ukclock::to_uk(caseledger_clock::now()).date_naive() - chrono::Duration::days(7);
    while !calendar.is_core_day(day) {
        day = day.pred_opt().unwrap();
    }
    let local = day.and_time(NaiveTime::from_hms_opt(8, 15, 0).unwrap());
    caseledger_cases::ukclock::from_local(local).with_timezone(&Utc)
}

fn notify(ods: Option<&str>) -> String {
    let ods = ods.map(|code| format!("odsCode: \"{code}\", ")).unwrap_or_default();
    format!(
        "mutation($from: DateTime!, $until: DateTime!, $told: DateTime, $detail: String, $cmd: ID) {{
           notifyDiversion(input: {{ {ods}from: $from, expectedUntil: $until, reason: TELEPHONY_FAILURE,
                                     detail: $detail, occurredAt: $told, commandId: $cmd }}) {{ {FIELDS} }} }}"
    )
}

fn ids(data: &Value) -> Vec<String> {
    data["diversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["practice"]["odsCode"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_code_nobody_knows_is_refused_on_its_field_with_a_reason_a_malformed_one_without() {
    let service = Service::start().await;
    let from = a_working_morning();
    let vars = json!({ "from": from, "until": from + chrono::Duration::hours(2), "cmd": "unknown-1" });
    let extensions = |response: &Value| response["errors"][0]["extensions"].clone();

    let unknown = run(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        &notify(Some("Y99999")),
        vars.clone(),
    )
    .await;
    assert_eq!(codes(&unknown), ["BAD_USER_INPUT"], "{unknown}");
    assert_eq!(extensions(&unknown)["field"], "odsCode", "{unknown}");
    assert_eq!(extensions(&unknown)["reason"], "UNKNOWN_PRACTICE", "{unknown}");
    assert!(
        unknown["errors"][0]["message"].as_str().unwrap().contains("Y99999"),
        "the message names the code: {unknown}"
    );

    let malformed = run(&service, Role::Icb, "icb-assurance-1", "", &notify(Some("Y9999")), vars).await;
    assert_eq!(codes(&malformed), ["BAD_USER_INPUT"], "{malformed}");
    assert_eq!(extensions(&malformed)["field"], "odsCode", "{malformed}");
    assert!(extensions(&malformed)["reason"].is_null(), "{malformed}");
    service.stop().await;
}

#[tokio::test]
async fn each_party_reads_the_diversions_and_fields_it_may_and_a_practice_acts_on_its_own() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let csv = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,6000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,6000,5\n\
         {day},Z00031,Kenilworth Road Surgery,U10002,Warwick,6000,5\n"
    );
    let imported = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "mutation($c: String!) { importDashboard(csv: $c) { rows errors { message } } }",
        json!({ "c": csv }),
    )
    .await;
    assert_eq!(imported["importDashboard"]["errors"], json!([]), "{imported}");
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();

    let t0 = a_working_morning();
    let vars = |from: DateTime<Utc>, hours: i64, told: Option<DateTime<Utc>>, cmd: &str| {
        json!({ "from": from, "until": from + chrono::Duration::hours(hours), "told": told,
                "detail": "Dr Quillfeather's phone line is down", "cmd": cmd })
    };
    let manager = (Role::Practice, "pm-z00011", "Z00011");
    let told = ok(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(None),
        vars(t0, 4, None, "notice-1"),
    )
    .await;
    let own = &told["notifyDiversion"];
    assert_eq!(own["practice"]["odsCode"], "Z00011", "{told}");
    assert_eq!(own["late"], true, "told days after it began: {told}");
    // A practice's notice is dated when it is sent: it cannot date itself before the diversion.
    let backdated = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(None),
        vars(t0 + chrono::Duration::days(2), 1, Some(t0), "notice-0"),
    )
    .await;
    assert_eq!(codes(&backdated), ["BAD_USER_INPUT"], "{backdated}");
    assert_eq!(own["detail"], "Dr Quillfeather's phone line is down");
    assert_eq!(own["notifiedBy"], "pm-z00011");
    let own_id = own["id"].as_str().unwrap().to_string();

    // The same form posted again is the same notice.
    let again = ok(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(None),
        vars(t0, 4, None, "notice-1"),
    )
    .await;
    assert_eq!(again["notifyDiversion"]["id"], own_id.as_str());

    // Not another practice's, and not two at once.
    let other = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(Some("Z00012")),
        vars(t0, 2, None, "notice-2"),
    )
    .await;
    assert_eq!(codes(&other), ["FORBIDDEN"], "{other}");
    let overlapping = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(None),
        vars(t0 + chrono::Duration::hours(1), 2, None, "notice-3"),
    )
    .await;
    assert_eq!(codes(&overlapping), ["CONFLICT"], "{overlapping}");
    let backwards = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &notify(None),
        vars(t0 + chrono::Duration::days(1), -2, None, "notice-4"),
    )
    .await;
    assert_eq!(codes(&backwards), ["BAD_USER_INPUT"], "{backwards}");

    // It ends three hours in: 08:15 to 11:15 on a working day, all core hours.
    let ended_at = t0 + chrono::Duration::hours(3);
    let ended = ok(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &format!("mutation($id: ID!, $at: DateTime!) {{ endDiversion(input: {{ diversionId: $id, endedAt: $at }}) {{ {FIELDS} }} }}"),
        json!({ "id": own_id, "at": ended_at }),
    )
    .await;
    let minutes = core_minutes(t0, ended_at, &BankHolidays::england_and_wales());
    assert_eq!(minutes, 180);
    assert_eq!(ended["endDiversion"]["coreMinutes"], minutes, "{ended}");

    // The ICB records one told by phone before it began, at a practice of another PCN.
    let icb = (Role::Icb, "icb-assurance-1", "");
    let t1 = t0 + chrono::Duration::days(1);
    let recorded = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &notify(Some("Z00031")),
        vars(t1, 2, Some(t1 - chrono::Duration::hours(1)), "icb-notice-1"),
    )
    .await;
    assert_eq!(recorded["notifyDiversion"]["late"], false, "{recorded}");
    let other_id = recorded["notifyDiversion"]["id"].as_str().unwrap().to_string();

    // The practice reads its own only, and cannot act on or even find another's.
    let list = format!("{{ diversions {{ {FIELDS} }} }}");
    let practice_reads = ok(&service, manager.0, manager.1, manager.2, &list, json!({})).await;
    assert_eq!(ids(&practice_reads), ["Z00011"], "{practice_reads}");
    let asked = ok(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &format!("{{ diversion(id: \"{other_id}\") {{ id }} }}"),
        json!({}),
    )
    .await;
    assert!(asked["diversion"].is_null(), "{asked}");
    let end_other = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &format!(
            "mutation {{ endDiversion(input: {{ diversionId: \"{other_id}\", endedAt: \"{}\" }}) {{ id }} }}",
            t1 + chrono::Duration::hours(1)
        ),
        json!({}),
    )
    .await;
    assert_eq!(codes(&end_other), ["NOT_FOUND"], "{end_other}");
    let filtered = ok(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &format!("{{ diversions(odsCode: \"Z00031\") {{ {FIELDS} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(ids(&filtered), Vec::<String>::new(), "{filtered}");

    // The PCN's clinical director reads its PCN's practices, without the practice's words or who told.
    let director = (Role::PcnClinicalDirector, "cd-u10001", "U10001");
    let pcn_reads = ok(&service, director.0, director.1, director.2, &list, json!({})).await;
    assert_eq!(ids(&pcn_reads), ["Z00011"], "{pcn_reads}");
    assert!(pcn_reads["diversions"][0]["detail"].is_null(), "{pcn_reads}");
    assert!(pcn_reads["diversions"][0]["notifiedBy"].is_null(), "{pcn_reads}");
    let figures = ok(
        &service,
        director.0,
        director.1,
        director.2,
        "{ diversionFigures(weeks: 4, groupBy: PRACTICE) { key notices lateNotices coreMinutes } }",
        json!({}),
    )
    .await;
    assert_eq!(
        figures["diversionFigures"],
        json!([{ "key": "Z00011", "notices": 1, "lateNotices": 1, "coreMinutes": 180 }]),
        "{figures}"
    );

    // The LMC and the DHU read every practice's, without the words; champions with them.
    for (role, id) in [(Role::Lmc, "lmc-officer-1"), (Role::Dhu, "dhu-liaison-1")] {
        let reads = ok(&service, role, id, "", &list, json!({})).await;
        let mut seen = ids(&reads);
        seen.sort();
        assert_eq!(seen, ["Z00011", "Z00031"], "{role}: {reads}");
        assert!(!reads.to_string().contains("Quillfeather"), "{role}: {reads}");
        assert!(!reads.to_string().contains("pm-z00011"), "{role}: {reads}");
    }
    let champion = ok(&service, Role::Champion, "dc-amira", "", &list, json!({})).await;
    assert!(champion.to_string().contains("Quillfeather"), "{champion}");

    // The ICB acknowledges; the practice may not; twice is refused.
    let acknowledge =
        format!("mutation($id: ID!) {{ acknowledgeDiversion(input: {{ diversionId: $id }}) {{ {FIELDS} }} }}");
    let by_practice = run(
        &service,
        manager.0,
        manager.1,
        manager.2,
        &acknowledge,
        json!({ "id": own_id }),
    )
    .await;
    assert_eq!(codes(&by_practice), ["FORBIDDEN"], "{by_practice}");
    let acknowledged = ok(&service, icb.0, icb.1, icb.2, &acknowledge, json!({ "id": own_id })).await;
    assert!(
        acknowledged["acknowledgeDiversion"]["acknowledgedAt"].is_string(),
        "{acknowledged}"
    );
    let twice = run(&service, icb.0, icb.1, icb.2, &acknowledge, json!({ "id": own_id })).await;
    assert_eq!(codes(&twice), ["INVALID_TRANSITION"], "{twice}");
    let waiting = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        &format!("{{ diversions(unacknowledgedOnly: true) {{ {FIELDS} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(ids(&waiting), ["Z00031"], "{waiting}");
    let by_pcn = ok(
        &service,
        icb.0,
        icb.1,
        icb.2,
        "{ diversionFigures(weeks: 4, groupBy: PCN) { key notices lateNotices } }",
        json!({}),
    )
    .await;
    let rows = by_pcn["diversionFigures"].as_array().unwrap();
    let total: i64 = rows.iter().map(|row| row["notices"].as_i64().unwrap()).sum();
    assert_eq!(total, 2, "{by_pcn}");
    assert!(
        rows.iter().all(|row| row["key"] == "U10001" || row["key"] == "U10002"),
        "{by_pcn}"
    );

    // A practice manager reads nothing across the ICB.
    for query in [
        "{ icb { summary { openCases } } }",
        "{ dataAsAt }",
        "{ practices { edges { node { odsCode } } } }",
    ] {
        let refused = run(&service, manager.0, manager.1, manager.2, query, json!({})).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{query}: {refused}");
    }

    // The practice's words are sealed in the log, never stored in the clear.
    let stored: Vec<String> =
        sqlx::query_scalar("select data::text from events where event_type = 'DiversionNotified'")
            .fetch_all(&service.db.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|data| !data.contains("Quillfeather")), "{stored:?}");
    service.stop().await;
}

/// A practice past the threshold gets a review: support first (a champion, or the clinical
/// director of its own PCN), then the ICB closes it; every reader sees that support came first,
/// and the ICB's note is the ICB's alone.
#[tokio::test]
async fn a_practice_that_diverts_often_is_supported_before_its_review_closes() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let csv = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,6000,5\n\
         {day},Z00031,Kenilworth Road Surgery,U10002,Warwick,6000,5\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": csv }),
    )
    .await;
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let reviews = "{ diversionReviews { id practice { odsCode } notices coreMinutes support workingDaysToSupport outcome closeNote } }";
    let t0 = a_working_morning();
    // Three half-hour diversions on three days, told by phone: the third passes "more than 2".
    for n in 0..3 {
        let from = t0 + chrono::Duration::days(n);
        let told = ok(
            &service,
            Role::Icb,
            "icb-assurance-1",
            "",
            &notify(Some("Z00011")),
            json!({ "from": from, "until": from + chrono::Duration::minutes(30), "told": from, "cmd": format!("n{n}") }),
        )
        .await;
        let id = told["notifyDiversion"]["id"].as_str().unwrap().to_string();
        ok(
            &service,
            Role::Icb,
            "icb-assurance-1",
            "",
            "mutation($id: ID!, $at: DateTime!) { endDiversion(input: { diversionId: $id, endedAt: $at }) { id } }",
            json!({ "id": id, "at": from + chrono::Duration::minutes(30) }),
        )
        .await;
        let open = ok(&service, Role::Icb, "icb-assurance-1", "", reviews, json!({})).await;
        let expected = usize::from(n == 2);
        assert_eq!(
            open["diversionReviews"].as_array().unwrap().len(),
            expected,
            "after {}: {open}",
            n + 1
        );
    }
    let open = ok(&service, Role::Icb, "icb-assurance-1", "", reviews, json!({})).await;
    let review = &open["diversionReviews"][0];
    assert_eq!(
        (review["notices"].as_i64(), review["support"].clone()),
        (Some(3), json!([])),
        "{open}"
    );
    let review_id = review["id"].as_str().unwrap().to_string();

    let close = "mutation($id: ID!) { closeDiversionReview(input: { reviewId: $id, outcome: RESOLVED, \
                 note: \"Dr Pemberton-Vale agreed a second line\" }) { outcome closeNote } }";
    let too_soon = run(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        close,
        json!({ "id": review_id }),
    )
    .await;
    assert_eq!(
        codes(&too_soon),
        ["INVALID_TRANSITION"],
        "support comes first: {too_soon}"
    );

    let support = "mutation($id: ID!) { recordDiversionSupport(input: { reviewId: $id, kind: STAFFING_HELP }) { support workingDaysToSupport } }";
    // Another PCN's clinical director cannot find it; the practice itself does not support itself.
    let stranger = run(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10002",
        "U10002",
        support,
        json!({ "id": review_id }),
    )
    .await;
    assert_eq!(codes(&stranger), ["NOT_FOUND"], "{stranger}");
    let itself = run(
        &service,
        Role::Practice,
        "pm-z00011",
        "Z00011",
        support,
        json!({ "id": review_id }),
    )
    .await;
    assert_eq!(codes(&itself), ["FORBIDDEN"], "{itself}");
    let supported = ok(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10001",
        "U10001",
        support,
        json!({ "id": review_id }),
    )
    .await;
    assert_eq!(
        supported["recordDiversionSupport"]["support"],
        json!(["STAFFING_HELP"]),
        "{supported}"
    );
    assert!(
        supported["recordDiversionSupport"]["workingDaysToSupport"].is_i64(),
        "{supported}"
    );

    let closed = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        close,
        json!({ "id": review_id }),
    )
    .await;
    assert_eq!(closed["closeDiversionReview"]["outcome"], "RESOLVED");
    assert_eq!(
        closed["closeDiversionReview"]["closeNote"],
        "Dr Pemberton-Vale agreed a second line"
    );
    // The LMC, the practice and its PCN see that support came first and how it ended, not the note.
    for (role, id, org) in [
        (Role::Lmc, "lmc-officer-1", ""),
        (Role::Practice, "pm-z00011", "Z00011"),
        (Role::PcnClinicalDirector, "cd-u10001", "U10001"),
    ] {
        let read = ok(&service, role, id, org, reviews, json!({})).await;
        let review = &read["diversionReviews"][0];
        assert_eq!(review["support"], json!(["STAFFING_HELP"]), "{role}: {read}");
        assert_eq!(review["outcome"], "RESOLVED", "{role}: {read}");
        assert!(review["closeNote"].is_null(), "{role}: {read}");
    }
    let elsewhere = ok(&service, Role::Practice, "pm-z00031", "Z00031", reviews, json!({})).await;
    assert_eq!(elsewhere["diversionReviews"], json!([]), "{elsewhere}");
    service.stop().await;
}

/// The 111 provider's weekly core-hours calls: checked whole and recorded once; each practice's
/// calls per 1,000 patients against its PCN's and the ICB's medians, with its diversions and its
/// slot compliance; a practice reads its own row, a clinical director its PCN's.
#[tokio::test]
async fn core_hours_calls_per_thousand_patients_with_outliers_for_each_pcn() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let csv = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,5000,0\n\
         {day},Z00013,Orchard Medical Practice,U10001,Coventry,5000,5\n\
         {day},Z00031,Kenilworth Road Surgery,U10002,Warwick,8000,5\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": csv }),
    )
    .await;
    let today = caseledger_clock::ukclock::to_uk(caseledger_clock::now()).date_naive();
    let monday = today - chrono::Duration::days(i64::from(chrono::Datelike::weekday(&today).num_days_from_monday()));
    let last = monday - chrono::Duration::weeks(1);
    let import =
        "mutation($c: String!) { importCoreHoursCalls(csv: $c) { rows observed errors { line column message } } }";
    // A Tuesday, a count that is not one, a PCN's code: nothing is taken.
    let bad = format!(
        "week_start,ods_code,calls\n{},Z00011,10\n{last},Z00012,lots\n{last},U10001,3\n",
        last + chrono::Duration::days(1)
    );
    let refused = ok(&service, Role::Dhu, "dhu-liaison-1", "", import, json!({ "c": bad })).await;
    let errors = refused["importCoreHoursCalls"]["errors"].as_array().unwrap().len();
    assert_eq!(
        (refused["importCoreHoursCalls"]["observed"].as_i64(), errors),
        (Some(0), 3),
        "{refused}"
    );
    // Arden 100 calls / 10,000 patients = 10 per 1,000; Mill 100 / 5,000 = 20; Orchard 25 / 5,000 = 5;
    // Kenilworth 80 / 8,000 = 10. U10001's median is 10, the ICB's 10: Mill is an outlier.
    let good = format!(
        "week_start,ods_code,calls\n{last},Z00011,60\n{monday},Z00011,40\n{last},Z00012,100\n\
         {last},Z00013,25\n{last},Z00031,80\n"
    );
    let imported = ok(&service, Role::Dhu, "dhu-liaison-1", "", import, json!({ "c": good })).await;
    assert_eq!(imported["importCoreHoursCalls"]["observed"], 5, "{imported}");
    let again = ok(&service, Role::Dhu, "dhu-liaison-1", "", import, json!({ "c": good })).await;
    assert_eq!(
        again["importCoreHoursCalls"]["observed"], 0,
        "a re-import writes nothing: {again}"
    );
    let changed = good.replace(",Z00012,100", ",Z00012,90");
    let changed = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "",
        import,
        json!({ "c": changed }),
    )
    .await;
    assert!(
        changed.to_string().contains("was recorded before as 100 calls"),
        "a week's count is recorded once: {changed}"
    );
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let query = "{ coreHoursCalls(weeks: 4) { odsCode calls perThousand pcnMedian icbMedian outlier diversions slotsCompliant weeks { calls } } }";
    let all = ok(&service, Role::Icb, "icb-assurance-1", "", query, json!({})).await;
    let rows = all["coreHoursCalls"].as_array().unwrap();
    let row = |code: &str| rows.iter().find(|r| r["odsCode"] == code).cloned().unwrap_or_default();
    assert_eq!(rows.len(), 4, "{all}");
    assert_eq!(row("Z00011")["perThousand"], 10.0);
    assert_eq!(row("Z00011")["weeks"], json!([{ "calls": 60 }, { "calls": 40 }]));
    assert_eq!(
        (
            row("Z00012")["perThousand"].as_f64(),
            row("Z00012")["outlier"].as_bool()
        ),
        (Some(20.0), Some(true))
    );
    assert_eq!(row("Z00012")["slotsCompliant"], false, "Mill's 0 visible slots");
    assert_eq!(
        (row("Z00013")["pcnMedian"].as_f64(), row("Z00013")["outlier"].as_bool()),
        (Some(10.0), Some(false))
    );
    assert_eq!(row("Z00031")["icbMedian"], 10.0);
    let director = ok(
        &service,
        Role::PcnClinicalDirector,
        "cd-u10001",
        "U10001",
        query,
        json!({}),
    )
    .await;
    let mut seen: Vec<String> = director["coreHoursCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["odsCode"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, ["Z00011", "Z00012", "Z00013"], "its own PCN: {director}");
    let practice = ok(&service, Role::Practice, "pm-z00012", "Z00012", query, json!({})).await;
    assert_eq!(practice["coreHoursCalls"].as_array().unwrap().len(), 1, "{practice}");
    assert_eq!(
        practice["coreHoursCalls"][0]["icbMedian"], 10.0,
        "the medians are aggregates"
    );
    let by_practice = run(
        &service,
        Role::Practice,
        "pm-z00012",
        "Z00012",
        import,
        json!({ "c": good }),
    )
    .await;
    assert_eq!(codes(&by_practice), ["FORBIDDEN"], "{by_practice}");
    service.stop().await;
}
