//! The views over the replayed case study: what each party sees, what it never receives, and
//! time travel that agrees with the live view at "now".

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use caseledger_cases::Role;
use caseledger_cases::values::ShortText;
use caseledger_commands::Commands;
use common::{Service, codes};
use serde_json::{Value, json};

fn case_study() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/case-study")
}

async fn replayed() -> Service {
    let service = Service::start().await;
    let importer = caseledger_cases::Actor::new(ShortText::parse("icb-assurance-1").unwrap(), Role::Icb);
    Commands::new(service.store.clone())
        .replay_dir(&case_study(), &importer, caseledger_testsupport::now())
        .await
        .unwrap();
    assert!(
        caseledger_projections::wait_for_projections(&service.store, std::time::Duration::from_secs(30))
            .await
            .unwrap()
    );
    service
}

/// Every contact name, summary, detail and note of the story, and who wrote it.
fn secrets() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(case_study().join("interventions.jsonl")).unwrap();
    let mut found = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let line: Value = serde_json::from_str(line).unwrap();
        for key in ["contact_name", "summary", "detail", "text"] {
            if let Some(value) = line["data"][key].as_str().filter(|v| !v.is_empty()) {
                found.push((value.to_string(), line["role"].as_str().unwrap().to_string()));
            }
        }
    }
    assert!(!found.is_empty());
    found
}

const HISTORY: &str = "history { type actorId data } assignedTo";

async fn case_ids(service: &Service) -> Vec<String> {
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select case_id from case_view")
        .fetch_all(&service.db.pool)
        .await
        .unwrap();
    ids.into_iter().map(|id| id.to_string()).collect()
}

#[tokio::test]
async fn the_lmc_and_dhu_never_receive_names_notes_or_free_text() {
    let service = replayed().await;
    let secrets = secrets();
    for (role, id) in [(Role::Lmc, "lmc-officer-1"), (Role::Dhu, "dhu-liaison-1")] {
        let mut responses = Vec::new();
        let mut types = BTreeSet::new();
        for case_id in case_ids(&service).await {
            let response = service
                .as_role(
                    role,
                    id,
                    &format!("query($i: ID!) {{ case(id: $i) {{ {HISTORY} }} }}"),
                    json!({ "i": case_id }),
                )
                .await;
            assert!(response["errors"].is_null(), "{response}");
            assert!(
                response["data"]["case"]["assignedTo"].is_null(),
                "assignedTo hidden from {role}"
            );
            for event in response["data"]["case"]["history"].as_array().unwrap() {
                types.insert(event["type"].as_str().unwrap().to_string());
            }
            responses.push(response.to_string());
        }
        let view = match role {
            Role::Lmc => format!(
                "{{ lmc {{ contractReviews cases(first: 500) {{ totalCount edges {{ node {{ {HISTORY} }} }} }} }} }}"
            ),
            _ => format!(
                "{{ dhu {{ awaitingConfirmation {{ {HISTORY} }} openIssues {{ id }} confirmed(first: 500) {{ totalCount edges {{ node {{ {HISTORY} }} }} }} }} }}"
            ),
        };
        let response = service.as_role(role, id, &view, json!({})).await;
        assert!(response["errors"].is_null(), "{response}");
        responses.push(response.to_string());
        let blob = responses.join("\n");
        let leaked: Vec<&String> = secrets
            .iter()
            .filter(|(_, author)| role == Role::Lmc || author != "dhu")
            .map(|(secret, _)| secret)
            .filter(|secret| blob.contains(secret.as_str()))
            .collect();
        assert!(leaked.is_empty(), "{role} received {leaked:?}");
        if role == Role::Dhu {
            let allowed: BTreeSet<String> = [
                "PracticeFlagged",
                "SlotsRemapped",
                "GpConnectReEnabled",
                "DhuVisibilityConfirmed",
                "DhuVisibilityIssueReported",
                "ComplianceConfirmed",
                "CaseClosed",
                "CaseReopened",
            ]
            .iter()
            .map(|t| t.to_string())
            .collect();
            assert!(types.is_subset(&allowed), "{types:?}");
        } else {
            assert!(
                types.contains("PracticeContacted"),
                "the LMC sees support actions happened"
            );
            assert!(!types.contains("NoteAdded"));
        }
    }

    // The champion does see the contact name they recorded.
    let response = service
        .as_role(
            Role::Champion,
            "dc-amira",
            "{ champion { myCases { history { type data } } } }",
            json!({}),
        )
        .await;
    assert!(response.to_string().contains("Practice Manager 1"), "{response}");
    service.stop().await;
}

#[tokio::test]
async fn the_icb_summary_trend_and_time_travel_agree_with_the_story() {
    let service = replayed().await;
    let fields = "practices nonCompliantPractices casesOpened openCases compliantCases closedCases medianDaysToCompliance byStatus { status count } byPlace { place openCases compliantCases nonCompliantPractices } timeToCompliance { fromDays toDays count }";
    let live = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            &format!("{{ icb {{ summary {{ {fields} }} }} }}"),
            json!({}),
        )
        .await;
    let summary = &live["data"]["icb"]["summary"];
    assert_eq!(
        (summary["practices"].as_i64(), summary["casesOpened"].as_i64()),
        (Some(119), Some(28))
    );
    assert_eq!(
        (summary["compliantCases"].as_i64(), summary["openCases"].as_i64()),
        (Some(28), Some(0))
    );
    assert!(summary["medianDaysToCompliance"].as_f64().unwrap() > 0.0);
    // The histogram holds every compliant case once, in weeks from 0.
    let weeks = summary["timeToCompliance"].as_array().unwrap();
    assert_eq!(weeks.iter().map(|w| w["count"].as_i64().unwrap()).sum::<i64>(), 28);
    assert_eq!(
        (weeks[0]["fromDays"].as_i64(), weeks[0]["toDays"].as_i64()),
        (Some(0), Some(7))
    );

    let now = caseledger_testsupport::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let known = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let travelled = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            &format!("query($a: DateTime, $k: DateTime) {{ icb {{ summary(asOf: $a, knownAt: $k) {{ {fields} }} }} }}"),
            json!({ "a": now, "k": known }),
        )
        .await;
    assert_eq!(
        travelled["data"]["icb"]["summary"], *summary,
        "time travel to now is the live view"
    );

    let trend = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ icb { trend(from: \"2026-01-05\", to: \"2026-03-02\", everyDays: 7) { date nonCompliantPractices openCases compliantCases } } }",
            json!({}),
        )
        .await;
    let points = trend["data"]["icb"]["trend"].as_array().unwrap();
    let non_compliant: Vec<i64> = points
        .iter()
        .map(|p| p["nonCompliantPractices"].as_i64().unwrap())
        .collect();
    assert_eq!(non_compliant, vec![28, 25, 21, 16, 11, 7, 4, 1, 0]);
    assert_eq!(points[0]["openCases"], 28);
    assert_eq!(points[8]["compliantCases"], 28);

    // Before anything was known, nothing was.
    let before = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ icb { summary(knownAt: \"2020-01-01T00:00:00Z\") { practices casesOpened } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        before["data"]["icb"]["summary"],
        json!({ "practices": 0, "casesOpened": 0 })
    );
    service.stop().await;
}

#[tokio::test]
async fn mutations_answer_with_typed_errors() {
    let service = replayed().await;
    let case_id = case_ids(&service).await.remove(0);
    let revision = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "query($i: ID!) { case(id: $i) { revision } }",
            json!({ "i": case_id }),
        )
        .await["data"]["case"]["revision"]
        .as_i64()
        .unwrap();
    let note = "mutation($i: AddNoteInput!) { addNote(input: $i) { revision case { status } } }";
    let first = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            note,
            json!({ "i": { "caseId": case_id, "text": "first", "expectedRevision": revision } }),
        )
        .await;
    assert!(first["errors"].is_null(), "{first}");
    let stale = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            note,
            json!({ "i": { "caseId": case_id, "text": "second", "expectedRevision": revision } }),
        )
        .await;
    assert_eq!(codes(&stale), ["CONFLICT"]);
    assert_eq!(stale["errors"][0]["extensions"]["expectedRevision"], revision);
    assert_eq!(stale["errors"][0]["extensions"]["actualRevision"], revision + 1);

    let once = json!({ "i": { "caseId": case_id, "text": "once", "commandId": "note-1" } });
    let a = service.as_role(Role::Icb, "icb-assurance-1", note, once.clone()).await;
    let b = service.as_role(Role::Icb, "icb-assurance-1", note, once).await;
    assert_eq!(a["data"]["addNote"]["revision"], b["data"]["addNote"]["revision"]);

    let future = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            note,
            json!({ "i": { "caseId": case_id, "text": "x", "occurredAt": "2099-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(codes(&future), ["BAD_USER_INPUT"]);
    let too_few = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "mutation($i: ConfirmComplianceInput!) { confirmCompliance(input: $i) { revision } }",
            json!({ "i": { "caseId": case_id, "visibleSlotsPerDay": 0, "evidence": "DASHBOARD" } }),
        )
        .await;
    assert_eq!(codes(&too_few), ["INVALID_TRANSITION"], "the case is already COMPLIANT");
    let bad_ods = service
        .as_role(Role::Icb, "icb-assurance-1", "mutation { flagPractice(input: { odsCode: \"12345\", practiceName: \"x\", pcnCode: \"U00001\", place: \"x\", listSize: 5000, visibleSlots: 0 }) { revision } }", json!({}))
        .await;
    assert_eq!(codes(&bad_ods), ["BAD_USER_INPUT"]);
    service.stop().await;
}

#[tokio::test]
async fn practices_pcns_missing_weeks_and_the_three_counts_for_each_party() {
    let service = replayed().await;
    let icb = |query: &'static str, variables: Value| service.as_role(Role::Icb, "icb-assurance-1", query, variables);

    // Every registered practice, a page at a time, with the register's details.
    let all = icb(
        "{ practices(first: 500) { totalCount edges { node { odsCode registered missingWeeks } } } }",
        json!({}),
    )
    .await;
    assert_eq!(all["data"]["practices"]["totalCount"], 119, "{all}");
    let nodes = all["data"]["practices"]["edges"].as_array().unwrap();
    assert!(
        nodes
            .iter()
            .all(|e| e["node"]["registered"] == true && e["node"]["missingWeeks"] == 0)
    );
    let page = icb(
        "{ practices(first: 50, pcn: \"U10020\") { totalCount pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    assert_eq!(page["data"]["practices"]["totalCount"], 6, "{page}");
    let arden = icb(
        "{ practice(odsCode: \"Z00011\") { name mainSite branchSites pcnName observations { reportDate visibleSlots } \
           counts { requiredSlots dashboard { slots } disagreement } } }",
        json!({}),
    )
    .await;
    let arden = &arden["data"]["practice"];
    assert_eq!(arden["branchSites"], json!(["Keresley Branch Surgery"]));
    assert_eq!(arden["observations"].as_array().unwrap().len(), 9, "a row a week");
    assert_eq!(
        arden["counts"]["dashboard"]["slots"],
        arden["observations"][8]["visibleSlots"]
    );

    // A practice with a case: its episodes, and the counts a remap and DHU's confirmation left.
    let flagged: String = sqlx::query_scalar("select ods_code from case_view order by ods_code limit 1")
        .fetch_one(&service.db.pool)
        .await
        .unwrap();
    let with_case = icb(
        "query($o: String!) { practice(odsCode: $o) { episodes { status } cases { id } \
           counts { configured { slots } seenByDhu { slots } dashboard { slots } } } }",
        json!({ "o": flagged }),
    )
    .await;
    let p = &with_case["data"]["practice"];
    assert_eq!(p["episodes"].as_array().unwrap().len(), 1, "{with_case}");
    assert_eq!(p["episodes"][0]["status"], "COMPLIANT");
    assert!(
        !p["counts"]["configured"].is_null() && !p["counts"]["seenByDhu"].is_null(),
        "{with_case}"
    );

    // The summary's PCN roll-up, most in need of attention first, and a PCN's trend.
    let summary = icb(
        "{ icb { summary { byPcn { pcnCode pcnName place practices openCases } } \
           trend(from: \"2026-01-05\", to: \"2026-03-02\", everyDays: 7, pcn: \"U10020\") { date openCases } } }",
        json!({}),
    )
    .await;
    let pcns = summary["data"]["icb"]["summary"]["byPcn"].as_array().unwrap();
    assert_eq!(pcns.len(), 20, "{summary}");
    assert_eq!(pcns.iter().map(|p| p["practices"].as_i64().unwrap()).sum::<i64>(), 119);
    let trend = summary["data"]["icb"]["trend"].as_array().unwrap();
    assert_eq!(
        trend[0]["openCases"], 5,
        "5 of the 6 practices of U10020 flagged in week 0: {summary}"
    );

    // Two extracts that lack Z00011: no data one week, then two.
    let commands = Commands::new(service.store.clone());
    let importer = caseledger_cases::Actor::new(ShortText::parse("icb-assurance-1").unwrap(), Role::Icb);
    let week8 = std::fs::read_to_string(case_study().join("dashboard-week-08.csv")).unwrap();
    for date in ["2026-03-09", "2026-03-16"] {
        let without: String = week8
            .lines()
            .filter(|l| !l.contains(",Z00011,"))
            .map(|l| format!("{}\n", l.replacen("2026-03-02", date, 1)))
            .collect();
        let report = commands
            .import_dashboard(&importer, &without, caseledger_testsupport::now())
            .await
            .unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.missing, vec!["Z00011".to_string()]);
    }
    // The DHU's own extract: it sees nothing at a practice the dashboard says is compliant.
    let compliant = arden["counts"]["requiredSlots"].as_i64().unwrap();
    assert!(arden["counts"]["dashboard"]["slots"].as_i64().unwrap() >= compliant);
    let dhu = caseledger_cases::Actor::new(ShortText::parse("dhu-liaison-1").unwrap(), Role::Dhu);
    let extract = commands
        .import_dhu_extract(
            &dhu,
            "ods_code,date,slots_visible\nZ00011,2026-03-17,0\n",
            caseledger_testsupport::now(),
        )
        .await
        .unwrap();
    assert_eq!(extract.observed, 1);
    assert!(
        caseledger_projections::wait_for_projections(&service.store, std::time::Duration::from_secs(30))
            .await
            .unwrap()
    );
    let missing = icb(
        "{ practices(missingData: true) { edges { node { odsCode missingWeeks counts { disagreement seenByDhu { slots } } } } } \
           disagreeing: practices(disagreement: true) { edges { node { odsCode } } } }",
        json!({}),
    )
    .await;
    let missing_nodes = missing["data"]["practices"]["edges"].as_array().unwrap();
    assert_eq!(missing_nodes.len(), 1, "{missing}");
    assert_eq!(missing_nodes[0]["node"]["odsCode"], "Z00011");
    assert_eq!(missing_nodes[0]["node"]["missingWeeks"], 2);
    assert_eq!(missing_nodes[0]["node"]["counts"]["disagreement"], true);
    assert_eq!(
        missing["data"]["disagreeing"]["edges"],
        json!([{ "node": { "odsCode": "Z00011" } }])
    );

    // Each party: the LMC and the DHU see every practice; a champion only those of their cases.
    for role in [Role::Lmc, Role::Dhu] {
        let seen = service
            .as_role(role, "someone", "{ practices(first: 500) { totalCount } }", json!({}))
            .await;
        assert_eq!(seen["data"]["practices"]["totalCount"], 119, "{role}: {seen}");
    }
    let theirs: Vec<String> =
        sqlx::query_scalar("select distinct ods_code from case_view where assigned_to = 'dc-amira'")
            .fetch_all(&service.db.pool)
            .await
            .unwrap();
    assert!(!theirs.is_empty());
    let champion = service
        .as_role(
            Role::Champion,
            "dc-amira",
            "{ practices(first: 500) { edges { node { odsCode } } } }",
            json!({}),
        )
        .await;
    let seen: BTreeSet<String> = champion["data"]["practices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["odsCode"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, theirs.into_iter().collect::<BTreeSet<_>>());
    let other = service
        .as_role(
            Role::Champion,
            "dc-amira",
            "{ practice(odsCode: \"Z00011\") { odsCode } }",
            json!({}),
        )
        .await;
    assert!(!seen.contains("Z00011"));
    assert!(other["data"]["practice"].is_null(), "{other}");
    let anonymous = service
        .run(
            caseledger_api::auth::Caller::Rejected("no token".into()),
            "{ practices { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&anonymous), vec!["UNAUTHENTICATED"]);
    service.stop().await;
}

/// The LMC's answer against a fold of each case's history: the working days from its current
/// episode's opening (its flag or latest reopen) to the first support after it, over every case.
#[tokio::test]
async fn the_lmcs_support_figures_are_every_cases_current_episode_in_working_days() {
    let service = replayed().await;
    let answer = service
        .as_role(
            Role::Lmc,
            "lmc-officer-1",
            "{ lmc { support { all { cases openCases openWithoutSupport supported medianWorkingDaysToSupport } \
               byPlace { place support { cases } } } } }",
            json!({}),
        )
        .await;
    let support = &answer["data"]["lmc"]["support"];
    assert!(answer["errors"].is_null(), "{answer}");

    let calendar = caseledger_cases::holidays::BankHolidays::default();
    let uk_day = |at: &str| {
        caseledger_cases::ukclock::to_uk(chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc()).date_naive()
    };
    let mut days = Vec::new();
    let mut without = 0;
    let mut open = 0;
    let ids = case_ids(&service).await;
    for id in &ids {
        let case = service
            .as_role(
                Role::Icb,
                "icb-assurance-1",
                "query($id: ID!) { case(id: $id) { status history { type occurredAt } } }",
                json!({ "id": id }),
            )
            .await;
        let case = &case["data"]["case"];
        let history = case["history"].as_array().unwrap();
        let opened = history
            .iter()
            .filter(|e| ["PracticeFlagged", "CaseReopened"].contains(&e["type"].as_str().unwrap()))
            .map(|e| e["occurredAt"].as_str().unwrap())
            .max_by_key(|at| chrono::DateTime::parse_from_rfc3339(at).unwrap())
            .unwrap();
        let opened_at = chrono::DateTime::parse_from_rfc3339(opened).unwrap();
        let first = history
            .iter()
            .filter(|e| caseledger_cases::case::SUPPORT_EVENTS.contains(&e["type"].as_str().unwrap()))
            .map(|e| e["occurredAt"].as_str().unwrap())
            .filter(|at| chrono::DateTime::parse_from_rfc3339(at).unwrap() >= opened_at)
            .min_by_key(|at| chrono::DateTime::parse_from_rfc3339(at).unwrap());
        let is_open = !["COMPLIANT", "CLOSED"].contains(&case["status"].as_str().unwrap());
        open += usize::from(is_open);
        match first {
            Some(first) => days.push(caseledger_cases::deadlines::working_days_between(
                uk_day(opened),
                uk_day(first).max(uk_day(opened)),
                &calendar,
            )),
            None => without += usize::from(is_open),
        }
    }
    days.sort_unstable();
    let median = if days.len().is_multiple_of(2) {
        (days[days.len() / 2 - 1] + days[days.len() / 2]) as f64 / 2.0
    } else {
        days[days.len() / 2] as f64
    };
    let all = &support["all"];
    assert_eq!(all["cases"].as_u64(), Some(ids.len() as u64));
    assert_eq!(all["openCases"].as_u64(), Some(open as u64));
    assert_eq!(all["openWithoutSupport"].as_u64(), Some(without as u64));
    assert_eq!(all["supported"].as_u64(), Some(days.len() as u64));
    assert_eq!(all["medianWorkingDaysToSupport"].as_f64(), Some(median));
    let by_place: u64 = support["byPlace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["support"]["cases"].as_u64().unwrap())
        .sum();
    assert_eq!(by_place, ids.len() as u64, "every case in one place");
}

/// A case's visible slots are the latest evidence by business time, with its source and date: a
/// later dashboard row moves them; a DHU confirmation dated before that row, recorded after it,
/// does not; a later one does.
#[tokio::test]
async fn a_cases_visible_slots_are_the_latest_evidence_by_business_time() {
    let service = Service::start().await;
    let icb = |query: &'static str| service.as_role(Role::Icb, "icb-assurance-1", query, json!({}));
    let import = |date: &str, visible: u32| {
        format!(
            "mutation {{ importDashboard(csv: \"report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\\n\
             {date},Z00071,Birch Surgery,U10001,Coventry,6000,{visible}\\n\") {{ errors {{ message }} }} }}"
        )
    };
    let flagged = service
        .as_role(Role::Icb, "icb-assurance-1", &import("2026-10-05", 0), json!({}))
        .await;
    assert!(flagged["errors"].is_null(), "{flagged}");
    let case = || async {
        let seen =
            icb("{ caseByPractice(odsCode: \"Z00071\") { id visibleSlots visibleSlotsSource visibleSlotsAt } }").await;
        seen["data"]["caseByPractice"].clone()
    };
    let first = case().await;
    assert_eq!(
        (first["visibleSlots"].as_i64(), first["visibleSlotsSource"].as_str()),
        (Some(0), Some("FLAG"))
    );
    let id = first["id"].as_str().unwrap().to_string();
    service
        .as_role(Role::Icb, "icb-assurance-1", &import("2026-10-12", 1), json!({}))
        .await;
    assert!(
        caseledger_projections::wait_for_projections(&service.store, std::time::Duration::from_secs(30))
            .await
            .unwrap()
    );
    let moved = case().await;
    assert_eq!(
        (moved["visibleSlots"].as_i64(), moved["visibleSlotsSource"].as_str()),
        (Some(1), Some("DASHBOARD")),
        "a row showing 1 moves it: {moved}"
    );
    assert!(moved["visibleSlotsAt"].as_str().unwrap().starts_with("2026-10-12"));
    let confirm = |at: &str, visible: u32| {
        format!(
            "mutation {{ confirmDhuVisibility(input: {{ caseId: \"{id}\", visibleSlotsPerDay: {visible}, occurredAt: \"{at}\" }}) {{ revision }} }}"
        )
    };
    let older = service
        .as_role(
            Role::Dhu,
            "dhu-liaison-1",
            &confirm("2026-10-08T10:00:00Z", 2),
            json!({}),
        )
        .await;
    assert!(older["errors"].is_null(), "{older}");
    let kept = case().await;
    assert_eq!(
        (kept["visibleSlots"].as_i64(), kept["visibleSlotsSource"].as_str()),
        (Some(1), Some("DASHBOARD")),
        "an older confirmation recorded later does not replace the newer row"
    );
    let newer = service
        .as_role(
            Role::Dhu,
            "dhu-liaison-1",
            &confirm("2026-10-13T10:00:00Z", 2),
            json!({}),
        )
        .await;
    assert!(newer["errors"].is_null(), "{newer}");
    let latest = case().await;
    assert_eq!(
        (latest["visibleSlots"].as_i64(), latest["visibleSlotsSource"].as_str()),
        (Some(2), Some("DHU_CONFIRMATION"))
    );
}
