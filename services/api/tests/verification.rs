//! GP Connect verification through GraphQL: the verifier asks a fake provider over TLS with a
//! client certificate (a throwaway CA made here), the answer is recorded in the practice's stream,
//! shows on the case and the practice as each party may see it, and is evidence of compliance
//! only when ENOUGH after the last remap.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::sync::Arc;

use async_graphql::{Request, Variables};
use caseledger_api::graphql::{AppSchema, AppState, build_schema};
use caseledger_cases::Role;
use caseledger_gpconnect::fake::{FakeServer, FakeTls, Scenario, serve_fake};
use caseledger_gpconnect::pki::PkiFiles;
use caseledger_jobs::demo::demo_config;
use caseledger_jobs::verification::{Schedule, SlotVerifier, Verifications};
use common::{Service, as_actor, codes};
use serde_json::{Value, json};

/// A fake provider for Z00012 whose slots (3 a core-hours day at the main site, for two months)
/// the 111 provider may book or not.
async fn provider(pki: &PkiFiles, bookable: bool) -> FakeServer {
    let today = caseledger_testsupport::now().date_naive();
    let scenario = json!({
        "practices": [{
            "ods_code": "Z00012",
            "name": "Mill Surgery",
            "locations": [{"id": "main", "name": "Mill Surgery"}, {"id": "branch", "name": "Weir Branch"}],
            "practitioners": [{"id": "gp-1", "family": "Okafor"}],
            "schedules": [{"id": "s", "location": "main", "practitioner": "gp-1"}],
            "generate": [{
                "schedule": "s", "from": today.to_string(), "to": (today + chrono::Days::new(60)).to_string(),
                "per_day": 3, "minutes": 15, "first_start": "09:00",
                "availability": {"gp_connect_bookable": bookable, "allowed_ods_codes": ["NHS111"],
                                 "allowed_org_types": ["urgent-care"]}
            }]
        }]
    });
    let scenario = Scenario::from_json(&scenario.to_string()).unwrap();
    let tls = FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca).unwrap();
    serve_fake(scenario, tls, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn verifier(pki: &PkiFiles, template: String) -> Arc<SlotVerifier> {
    let mut config = demo_config(pki, caseledger_gpconnect::EndpointConfig::Template { template });
    config.http.retry_base_delay_ms = 10;
    config.http.min_request_interval_ms = 0;
    Arc::new(SlotVerifier::new(config).unwrap())
}

async fn run(schema: &AppSchema, role: Role, id: &str, query: &str, variables: Value) -> Value {
    let request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(as_actor(role, id));
    serde_json::to_value(schema.execute(request).await).unwrap()
}

const VERIFY: &str = "mutation($id: ID!) { verifySlotVisibility(caseId: $id) { verdict requiredPerDay minPerCoreDay \
    shortDays windowStart windowEnd errorCode error days { date freeSlots locations { locationId name mainSite freeSlots } } } }";
const CONFIRM: &str = "mutation($id: ID!) { confirmCompliance(input: { caseId: $id, visibleSlotsPerDay: 2, \
    evidence: GP_CONNECT_VERIFICATION }) { case { status } } }";

#[tokio::test]
async fn a_verification_is_recorded_shown_through_each_lens_and_is_evidence_only_when_enough() {
    let dir = tempfile_dir();
    let pki = caseledger_gpconnect::pki::generate(&dir).unwrap();
    let before = provider(&pki, false).await;
    let after = provider(&pki, true).await;
    let service = Service::start_with(|state| state.with_verifier(verifier(&pki, before.endpoint_template()))).await;
    let fixed =
        build_schema(AppState::new(service.store.clone()).with_verifier(verifier(&pki, after.endpoint_template())));
    // Nothing listens on port 9 of this machine: the search cannot be made.
    let unreachable = build_schema(
        AppState::new(service.store.clone())
            .with_verifier(verifier(&pki, "https://127.0.0.1:9/{ods}/STU3/1/gpconnect/fhir".into())),
    );
    let unconfigured = build_schema(AppState::new(service.store.clone()));

    // A case for Mill Surgery (6,000 patients: 2 slots a day), assigned and remapped.
    let flagged = service
        .as_role(Role::Icb, "icb-assurance-1",
            "mutation { flagPractice(input: { odsCode: \"Z00012\", practiceName: \"Mill Surgery\", pcnCode: \"U10001\", \
             place: \"Coventry\", listSize: 6000, visibleSlots: 0 }) { case { id } } }", json!({}))
        .await;
    let id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let vars = json!({ "id": id });
    let assigned = service
        .as_role(
            Role::Champion,
            "dc-amira",
            "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }",
            vars.clone(),
        )
        .await;
    assert!(assigned["errors"].is_null(), "{assigned}");
    let remapped = service
        .as_role(Role::Champion, "dc-amira", "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 3 }) { revision } }", vars.clone())
        .await;
    assert!(remapped["errors"].is_null(), "{remapped}");

    // Who may ask: the LMC may not; a service without GP Connect says so.
    let lmc = service.as_role(Role::Lmc, "lmc-officer-1", VERIFY, vars.clone()).await;
    assert_eq!(codes(&lmc), ["FORBIDDEN"], "{lmc}");
    let off = run(&unconfigured, Role::Icb, "icb-assurance-1", VERIFY, vars.clone()).await;
    assert_eq!(codes(&off), ["NOT_CONFIGURED"], "{off}");

    // Before the fix: the slots exist but are not GP Connect bookable. TOO_FEW, every day short.
    let too_few = service.as_role(Role::Dhu, "dhu-liaison-1", VERIFY, vars.clone()).await;
    let found = &too_few["data"]["verifySlotVisibility"];
    assert_eq!(found["verdict"], "TOO_FEW", "{too_few}");
    assert_eq!(found["requiredPerDay"], 2);
    assert_eq!(found["minPerCoreDay"], 0);
    let days = found["days"].as_array().unwrap();
    assert!(
        days.len() >= 8 && days.len() <= 10,
        "core-hours days of a 14-day window: {found}"
    );
    assert_eq!(found["shortDays"].as_array().unwrap().len(), days.len());
    let refused = service
        .as_role(Role::Icb, "icb-assurance-1", CONFIRM, vars.clone())
        .await;
    assert_eq!(codes(&refused), ["BAD_USER_INPUT"], "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too few free slots"),
        "{refused}"
    );

    // After the fix: 3 a day at the main site, ENOUGH, and the ICB may confirm on it.
    let enough = run(&fixed, Role::Champion, "dc-amira", VERIFY, vars.clone()).await;
    let found = &enough["data"]["verifySlotVisibility"];
    assert_eq!(found["verdict"], "ENOUGH", "{enough}");
    assert_eq!(found["minPerCoreDay"], 3);
    let first_day = &found["days"][0]["locations"];
    assert!(
        first_day
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["mainSite"] == true && l["freeSlots"] == 3),
        "{found}"
    );
    let case = service
        .as_role(Role::Lmc, "lmc-officer-1", "query($id: ID!) { case(id: $id) { latestVerification { verdict minPerCoreDay } practice { latestVerification { verdict } } } }", vars.clone())
        .await;
    assert_eq!(
        case["data"]["case"]["latestVerification"]["verdict"], "ENOUGH",
        "{case}"
    );
    assert_eq!(
        case["data"]["case"]["practice"]["latestVerification"]["verdict"],
        "ENOUGH"
    );

    // A search that fails is recorded as such: the ICB sees why, the LMC sees only that it failed.
    let failed = run(&unreachable, Role::Icb, "icb-assurance-1", VERIFY, vars.clone()).await;
    let found = &failed["data"]["verifySlotVisibility"];
    assert_eq!(found["verdict"], "FAILED", "{failed}");
    assert!(found["error"].as_str().unwrap().contains("127.0.0.1"), "{failed}");
    let history =
        "{ practice(odsCode: \"Z00012\") { latestVerification { verdict error } verifications { verdict } } }";
    let icb = service.as_role(Role::Icb, "icb-assurance-1", history, json!({})).await;
    assert!(
        icb["data"]["practice"]["latestVerification"]["error"].is_string(),
        "{icb}"
    );
    let verdicts: Vec<&str> = icb["data"]["practice"]["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["FAILED", "ENOUGH", "TOO_FEW"], "latest first: {icb}");
    let lmc = service.as_role(Role::Lmc, "lmc-officer-1", history, json!({})).await;
    assert_eq!(
        lmc["data"]["practice"]["latestVerification"]["verdict"], "FAILED",
        "{lmc}"
    );
    assert!(
        lmc["data"]["practice"]["latestVerification"]["error"].is_null(),
        "{lmc}"
    );
    // ...and the latest verification, not an earlier one, is what evidence is judged on.
    let refused = service
        .as_role(Role::Icb, "icb-assurance-1", CONFIRM, vars.clone())
        .await;
    assert_eq!(codes(&refused), ["BAD_USER_INPUT"], "{refused}");
    let enough = run(&fixed, Role::Dhu, "dhu-liaison-1", VERIFY, vars.clone()).await;
    assert_eq!(enough["data"]["verifySlotVisibility"]["verdict"], "ENOUGH", "{enough}");
    let confirmed = service
        .as_role(Role::Icb, "icb-assurance-1", CONFIRM, vars.clone())
        .await;
    assert_eq!(
        confirmed["data"]["confirmCompliance"]["case"]["status"], "COMPLIANT",
        "{confirmed}"
    );

    // Every search went to the fake as the 111 provider, with its interaction id.
    let asked = before.requests();
    assert!(!asked.is_empty());
    assert!(asked.iter().all(|r| r.ods_code == "Z00012" && r.status == 200));
    assert!(
        asked.iter().all(|r| r
            .headers
            .get("ssp-interactionid")
            .is_some_and(|id| id.ends_with("search:slot-1"))),
        "{:?}",
        asked[0].headers
    );
    before.shutdown().await;
    after.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    service.stop().await;
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("caseledger-verify-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The schedule verifies each practice with an open case once per period, and only while this
/// instance holds its lease.
#[tokio::test]
async fn the_schedule_verifies_open_cases_when_due_under_one_lease() {
    let dir = tempfile_dir();
    let pki = caseledger_gpconnect::pki::generate(&dir).unwrap();
    let fake = provider(&pki, true).await;
    let verifier = verifier(&pki, fake.endpoint_template());
    let service = Service::start_with(|state| state.with_verifier(verifier.clone())).await;
    let flagged = service
        .as_role(Role::Icb, "icb-assurance-1",
            "mutation { flagPractice(input: { odsCode: \"Z00012\", practiceName: \"Mill Surgery\", pcnCode: \"U10001\", \
             place: \"Coventry\", listSize: 6000, visibleSlots: 0 }) { case { id } } }", json!({}))
        .await;
    assert!(flagged["errors"].is_null(), "{flagged}");
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    let schedule = Schedule {
        verifications: Verifications {
            verifier,
            commands: caseledger_commands::Commands::new(service.store.clone()),
        },
        every: week,
    };
    let pool = service.store.pool();

    // Another instance holds the lease: this one does nothing.
    let held = caseledger_eventstore::SubscriberLease::try_acquire(
        service.store.pool(),
        caseledger_jobs::verification::SCHEDULE,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        caseledger_jobs::run_round(pool, &schedule).await.unwrap().unwrap_or(0),
        0
    );
    assert!(fake.requests().is_empty());
    held.release().await.unwrap();

    // Never verified: due now. Verified a moment ago: not due for a week.
    assert_eq!(
        caseledger_jobs::run_round(pool, &schedule).await.unwrap().unwrap_or(0),
        1
    );
    assert!(
        caseledger_projections::wait_for_projections(&service.store, std::time::Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert_eq!(
        caseledger_jobs::run_round(pool, &schedule).await.unwrap().unwrap_or(0),
        0
    );
    assert_eq!(fake.requests().len(), 1);
    let latest = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ practice(odsCode: \"Z00012\") { latestVerification { verdict caseId } } }",
            json!({}),
        )
        .await;
    let latest = &latest["data"]["practice"]["latestVerification"];
    assert_eq!(latest["verdict"], "ENOUGH", "{latest}");
    assert_eq!(latest["caseId"], flagged["data"]["flagPractice"]["case"]["id"]);
    fake.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    service.stop().await;
}

/// Every search carries up to 3,000 slots: asking for the slots of many searches at once costs
/// as much, and is refused before any is read; one practice's latest search is within limits.
#[tokio::test]
async fn asking_for_the_slots_of_many_searches_at_once_is_refused_before_it_is_read() {
    let service = Service::start().await;
    let wide = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ practices(first: 50) { edges { node { verifications(last: 52) { slots { date start slotType } } } } } }",
            json!({}),
        )
        .await;
    assert!(wide["data"].is_null(), "{wide}");
    assert!(
        wide["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("too complex"),
        "{wide}"
    );
    let one = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ practice(odsCode: \"Z00011\") { latestVerification { slots { date start slotType deliveryChannel } } \
               verifications(last: 10) { verdict bySlotType { value count } } } }",
            json!({}),
        )
        .await;
    assert!(one["errors"].is_null(), "{one}");
    service.stop().await;
}

/// A fake provider serving `codes` (each 3 bookable slots a core-hours day at its main site),
/// answering each search after `delay_ms`.
async fn slow_provider(pki: &PkiFiles, codes: &[&str], delay_ms: u64) -> FakeServer {
    let today = caseledger_testsupport::now().date_naive();
    let practices: Vec<Value> = codes
        .iter()
        .map(|code| {
            json!({
                "ods_code": code,
                "name": format!("Practice {code}"),
                "locations": [{"id": "main", "name": format!("Practice {code}")}],
                "practitioners": [{"id": "gp-1", "family": "Okafor"}],
                "schedules": [{"id": "s", "location": "main", "practitioner": "gp-1"}],
                "generate": [{
                    "schedule": "s", "from": today.to_string(), "to": (today + chrono::Days::new(60)).to_string(),
                    "per_day": 3, "minutes": 15, "first_start": "09:00",
                    "availability": {"gp_connect_bookable": true, "allowed_ods_codes": ["NHS111"],
                                     "allowed_org_types": ["urgent-care"]}
                }]
            })
        })
        .collect();
    let scenario =
        Scenario::from_json(&json!({ "practices": practices, "answer_delay_ms": delay_ms }).to_string()).unwrap();
    let tls = FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca).unwrap();
    serve_fake(scenario, tls, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// A verifier of the fake with two turns (a batch may hold one), no pause between requests.
fn two_turns(pki: &PkiFiles, fake: &FakeServer) -> Arc<SlotVerifier> {
    let mut config = demo_config(
        pki,
        caseledger_gpconnect::EndpointConfig::Template {
            template: fake.endpoint_template(),
        },
    );
    config.http.retry_base_delay_ms = 10;
    config.http.min_request_interval_ms = 0;
    config.http.max_concurrent_searches = 2;
    Arc::new(SlotVerifier::new(config).unwrap())
}

/// The practice register with these rows (after its heading), imported whole by the ICB.
async fn register(service: &Service, rows: impl Iterator<Item = String>) {
    let mut csv = String::from("ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site\n");
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    let imported = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "mutation($csv: String!) { importPracticeRegister(csv: $csv) { errorCount } }",
            json!({ "csv": csv }),
        )
        .await;
    assert_eq!(
        imported["data"]["importPracticeRegister"]["errorCount"], 0,
        "{imported}"
    );
}

const BATCH: &str = "mutation($pcn: String, $place: String, $codes: [String!]) { \
    verifyPractices(pcn: $pcn, place: $place, odsCodes: $codes) { startedAt odsCodes searchesAtOnce } }";

/// Many practices at once: those of a PCN (or a place, or a list) the caller may see, each
/// searched and recorded like one asked for alone (against its open case's requirement, if it
/// has one), never more at once than the verifier allows; one batch at a time for a person; a
/// group that cannot be searched is refused, naming why.
#[tokio::test]
async fn many_practices_are_searched_a_few_at_a_time_and_each_is_recorded() {
    let dir = tempfile_dir();
    let pki = caseledger_gpconnect::pki::generate(&dir).unwrap();
    let ods = ["Y00001", "Y00002", "Y00003", "Y00004", "Y00005"];
    let fake = slow_provider(&pki, &ods, 400).await;
    let verifier = two_turns(&pki, &fake);
    let service = Service::start_with(|state| state.with_verifier(verifier.clone())).await;
    register(
        &service,
        ods.iter()
            .map(|code| format!("{code},Practice {code},U20002,Weir PCN,Derby,6000,Practice {code}"))
            .chain(["Y00009,Other Practice,U20003,Other PCN,Leicester,3000,Other Practice".to_string()]),
    )
    .await;
    // One of them has an open case (8,000 patients as the ICB flagged it: 2 a day).
    let flagged = service
        .as_role(Role::Icb, "icb-assurance-1",
            "mutation { flagPractice(input: { odsCode: \"Y00003\", practiceName: \"Practice Y00003\", pcnCode: \"U20002\", \
             place: \"Derby\", listSize: 8000, visibleSlots: 0 }) { case { id } } }", json!({}))
        .await;
    let case_id = flagged["data"]["flagPractice"]["case"]["id"].clone();
    assert!(case_id.is_string(), "{flagged}");

    // Who may: not the LMC; the group must be one, known, visible and not too big.
    let lmc = service
        .as_role(Role::Lmc, "lmc-officer-1", BATCH, json!({ "pcn": "U20002" }))
        .await;
    assert_eq!(codes(&lmc), ["FORBIDDEN"], "{lmc}");
    for (variables, field) in [
        (json!({ "pcn": "U20002", "place": "Derby" }), "pcn"),
        (json!({}), "pcn"),
        (json!({ "pcn": "U99999" }), "pcn"),
        (json!({ "codes": ["Y00001", "Z99999"] }), "odsCodes"),
        (json!({ "codes": ["not a code!"] }), "odsCodes"),
        (
            json!({ "codes": (0..201).map(|n| format!("Y{n:05}")).collect::<Vec<_>>() }),
            "odsCodes",
        ),
    ] {
        let refused = service
            .as_role(Role::Icb, "icb-assurance-1", BATCH, variables.clone())
            .await;
        assert_eq!(codes(&refused), ["BAD_USER_INPUT"], "{variables}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }
    // A champion's practices are those of their cases: none here.
    let champion = service
        .as_role(Role::Champion, "dc-amira", BATCH, json!({ "codes": ["Y00001"] }))
        .await;
    assert_eq!(codes(&champion), ["BAD_USER_INPUT"], "{champion}");
    assert!(fake.requests().is_empty(), "nothing refused reached a practice");

    // The PCN: five practices; of the verifier's two turns a batch takes one at most, the other
    // is kept for a person's own search. The other PCN's practice is not searched.
    let begun = service
        .as_role(Role::Dhu, "dhu-liaison-1", BATCH, json!({ "pcn": "U20002" }))
        .await;
    let batch = &begun["data"]["verifyPractices"];
    assert_eq!(batch["odsCodes"], json!(ods), "{begun}");
    assert_eq!(batch["searchesAtOnce"], 2);
    // One batch at a time for a person.
    let again = service
        .as_role(Role::Dhu, "dhu-liaison-1", BATCH, json!({ "pcn": "U20002" }))
        .await;
    assert_eq!(codes(&again), ["RATE_LIMITED"], "{again}");
    // Once the batch is under way it holds one turn, never both.
    for _ in 0..1_000 {
        if !fake.requests().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(fake.most_searches_at_once(), 1, "the batch leaves a turn free");
    // Meanwhile the ICB searches one case from its page: it takes the free turn at once.
    let own = service
        .as_role(Role::Icb, "icb-assurance-1", VERIFY, json!({ "id": case_id }))
        .await;
    assert_eq!(own["data"]["verifySlotVisibility"]["verdict"], "ENOUGH", "{own}");
    let searched_by_then = fake.requests().len();
    assert!(
        searched_by_then < ods.len() + 1,
        "the person's search ended before the batch's five (one at a time, 400 ms each): {searched_by_then}"
    );

    let read = "{ practices(pcn: \"U20002\", first: 10) { edges { node { odsCode \
                latestVerification { verdict caseId requiredPerDay } } } } }";
    let mut found = Value::Null;
    for _ in 0..300 {
        found = service.as_role(Role::Icb, "icb-assurance-1", read, json!({})).await;
        let edges = found["data"]["practices"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if edges.len() == ods.len() && edges.iter().all(|e| e["node"]["latestVerification"].is_object()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let edges = found["data"]["practices"]["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["latestVerification"]["verdict"] == "ENOUGH"),
        "{found}"
    );
    let with_case = edges.iter().find(|e| e["node"]["odsCode"] == "Y00003").unwrap();
    assert_eq!(with_case["node"]["latestVerification"]["caseId"], case_id);
    let searched: std::collections::BTreeSet<String> = fake.requests().into_iter().map(|r| r.ods_code).collect();
    assert_eq!(searched, ods.iter().map(|c| c.to_string()).collect());
    assert_eq!(
        fake.requests().len(),
        ods.len() + 1,
        "each once, and the ICB's own search"
    );
    assert_eq!(
        fake.most_searches_at_once(),
        2,
        "the batch's one and the person's one: never more than the two turns"
    );

    // The same practices by list are fine once the first batch is done; the ODS list filter
    // reads them back.
    let listed = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "{ practices(odsCodes: [\"y00002\", \"Y00009\"]) { edges { node { odsCode } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["practices"]["edges"],
        json!([{ "node": { "odsCode": "Y00002" } }, { "node": { "odsCode": "Y00009" } }]),
        "{listed}"
    );
    let unconfigured = build_schema(AppState::new(service.store.clone()));
    let off = run(
        &unconfigured,
        Role::Icb,
        "icb-assurance-1",
        BATCH,
        json!({ "pcn": "U20002" }),
    )
    .await;
    assert_eq!(codes(&off), ["NOT_CONFIGURED"], "{off}");
    fake.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    service.stop().await;
}

/// When the service stops, a batch starts no more searches; the one under way is recorded.
#[tokio::test]
async fn a_batch_stops_with_the_service_and_records_the_search_under_way() {
    let dir = tempfile_dir();
    let pki = caseledger_gpconnect::pki::generate(&dir).unwrap();
    let ods = ["Y00011", "Y00012", "Y00013", "Y00014", "Y00015"];
    let fake = slow_provider(&pki, &ods, 400).await;
    let verifier = two_turns(&pki, &fake);
    let service = Service::start().await;
    register(
        &service,
        ods.iter()
            .map(|code| format!("{code},Practice {code},U20004,Brook PCN,Derby,3000,Practice {code}")),
    )
    .await;
    let verifications = Verifications {
        verifier: verifier.clone(),
        commands: caseledger_commands::Commands::new(service.store.clone()),
    };
    let batch = ods
        .iter()
        .map(|code| caseledger_jobs::verification::BatchPractice {
            ods_code: caseledger_cases::values::OdsCode::parse(code).unwrap(),
            open_case: None,
        })
        .collect();
    let icb = caseledger_cases::Actor::new(
        caseledger_cases::values::ShortText::parse("icb-assurance-1").unwrap(),
        Role::Icb,
    );
    verifications.start_batch(icb, batch, ());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    verifier.stop_batches(std::time::Duration::from_secs(20)).await;
    let asked = fake.requests().len();
    assert!(
        (1..ods.len()).contains(&asked),
        "stopped part way: {asked} of {}",
        ods.len()
    );
    assert!(
        caseledger_projections::wait_for_projections(&service.store, std::time::Duration::from_secs(10))
            .await
            .unwrap()
    );
    let read = "{ practices(pcn: \"U20004\") { edges { node { latestVerification { verdict } } } } }";
    let found = service.as_role(Role::Icb, "icb-assurance-1", read, json!({})).await;
    let recorded = found["data"]["practices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["latestVerification"]["verdict"] == "ENOUGH")
        .count();
    assert_eq!(recorded, asked, "every search that was made is recorded: {found}");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(fake.requests().len(), asked, "and none starts after the stop");
    fake.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    service.stop().await;
}
