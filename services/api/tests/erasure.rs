//! Erasure of personal data (UK GDPR) by crypto-shredding: personal fields are stored sealed
//! under the case's data key, so a dump of the database never holds them in plaintext; erasing
//! destroys the key, after which every surface reads them as "[erased]" while every other fact
//! stays, the views still answer and equal a rebuild, and erasing again changes nothing.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use std::time::Duration;

use caseledger_cases::Role;
use caseledger_eventstore::{Kek, KeyError, StoreError, Vault};
use common::{Service, codes};
use serde_json::{Value, json};

/// Personal data typed into the case: none of it may be in a dump of the database.
const SECRETS: [&str; 6] = [
    "Zebedee Quartermain",
    "07700 900123",
    "Quartermain's mobile",
    "told us about Ms Okonkwo-Brandt",
    "ring Dr Vellacott",
    "Vellacott escalation",
];

const HISTORY: &str = "query($id: ID!) { case(id: $id) { status revision personalDataErasedAt \
    history { type actorRole actorId occurredAt data } contractReviews { escalatedAt reason } } }";

/// One round of the retention job keeping `keep`, then the views caught up with what it erased:
/// how many it erased.
async fn retention_round(service: &Service, commands: &caseledger_commands::Commands, keep: Duration) -> usize {
    let erased = caseledger_jobs::personal_data::erase_expired(commands, keep)
        .await
        .unwrap();
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    erased
}

async fn ok(service: &Service, role: Role, id: &str, query: &str, variables: Value) -> Value {
    let response = service.as_role(role, id, query, variables).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

/// A case for `ods` with every kind of personal field written: contact name and summary, a
/// root cause's detail, a DHU issue, a note and the ICB's escalation reason.
async fn case_with_personal_data(service: &Service, ods: &str) -> String {
    let flagged = ok(
        service,
        Role::Icb,
        "icb-assurance-1",
        &format!(
            "mutation {{ flagPractice(input: {{ odsCode: \"{ods}\", practiceName: \"Mill Surgery\", pcnCode: \"U10001\", \
             place: \"Coventry\", listSize: 6000, visibleSlots: 0 }}) {{ case {{ id }} }} }}"
        ),
        json!({}),
    )
    .await;
    let id = flagged["flagPractice"]["case"]["id"].as_str().unwrap().to_string();
    let vars = json!({ "id": id });
    let champion = |query: &'static str| ok(service, Role::Champion, "dc-amira", query, vars.clone());
    champion("mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }").await;
    champion(
        "mutation($id: ID!) { recordContact(input: { caseId: $id, channel: PHONE, contactName: \"Zebedee Quartermain\", \
         summary: \"Spoke on 07700 900123 (Quartermain's mobile)\" }) { revision } }",
    )
    .await;
    champion(
        "mutation($id: ID!) { recordRootCause(input: { caseId: $id, cause: OTHER, \
         detail: \"the receptionist told us about Ms Okonkwo-Brandt\" }) { revision } }",
    )
    .await;
    champion(
        "mutation($id: ID!) { addNote(input: { caseId: $id, text: \"ring Dr Vellacott on Monday\" }) { revision } }",
    )
    .await;
    champion(
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 3 }) \
         { revision } }",
    )
    .await;
    ok(
        service,
        Role::Dhu,
        "dhu-liaison-1",
        "mutation($id: ID!) { reportDhuVisibilityIssue(input: { caseId: $id, issue: \"not visible\", \
         detail: \"asked 07700 900123, no answer\" }) { revision } }",
        vars.clone(),
    )
    .await;
    ok(
        service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($id: ID!) { escalateToContractReview(input: { caseId: $id, reason: \"Vellacott escalation\" }) \
         { revision } }",
        vars.clone(),
    )
    .await;
    id
}

/// A plain-text dump of the whole database, as an operator's backup would hold it.
fn pg_dump(url: &str) -> String {
    let binary = caseledger_pgembed::find_server_binaries()
        .map(|dir| dir.join("pg_dump"))
        .ok()
        .filter(|path| path.is_file())
        .unwrap_or_else(|| "pg_dump".into());
    let out = std::process::Command::new(binary)
        .args(["--no-owner", "--dbname", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Every personal field of `history`, by event type and field.
fn personal_values(history: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for event in history.as_array().unwrap() {
        let event_type = event["type"].as_str().unwrap();
        for field in caseledger_projections::lens::personal_fields(event_type) {
            if let Some(value) = event["data"].get(*field).filter(|v| !v.is_null()) {
                found.push((event_type.to_string(), field.to_string(), value.clone()));
            }
        }
    }
    found
}

/// `history` with personal values left out: the facts that erasure must keep.
fn facts(history: &Value) -> Value {
    let mut history = history.clone();
    for event in history.as_array_mut().unwrap() {
        let event_type = event["type"].as_str().unwrap().to_string();
        if let Some(data) = event["data"].as_object_mut() {
            for field in caseledger_projections::lens::personal_fields(&event_type) {
                data.remove(*field);
            }
        }
    }
    history
}

/// Every view's rows, in a stable order.
async fn views(pool: &sqlx::PgPool) -> Vec<String> {
    let mut all = Vec::new();
    for table in ["case_view", "practice_view", "dhu_report_view"] {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "select to_jsonb(t)::text from {table} t order by to_jsonb(t)::text"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        all.extend(rows);
    }
    all
}

#[tokio::test]
async fn erasure_destroys_the_personal_data_of_a_case_on_every_surface_and_keeps_every_other_fact() {
    let service = Service::start().await;
    let id = case_with_personal_data(&service, "Z00012").await;
    let other = case_with_personal_data(&service, "Z00013").await;
    let vars = json!({ "id": id });

    let parties = [
        (Role::Champion, "dc-amira"),
        (Role::Icb, "icb-assurance-1"),
        (Role::Admin, "ops-1"),
        (Role::Dhu, "dhu-liaison-1"),
        (Role::Lmc, "lmc-officer-1"),
    ];
    let mut seen_before = Vec::new();
    for (role, who) in parties {
        seen_before.push(ok(&service, role, who, HISTORY, vars.clone()).await);
    }

    // Before: those who may see it read it; the database holds none of it in plaintext.
    let before = ok(&service, Role::Champion, "dc-amira", HISTORY, vars.clone()).await;
    let text = before.to_string();
    for secret in ["Zebedee Quartermain", "07700 900123", "ring Dr Vellacott"] {
        assert!(text.contains(secret), "the champion reads {secret}: {text}");
    }
    let icb_before = ok(&service, Role::Icb, "icb-assurance-1", HISTORY, vars.clone()).await;
    assert!(icb_before.to_string().contains("Vellacott escalation"));
    let dump = pg_dump(&service.db.url());
    assert!(dump.contains("$sealed"), "personal fields are stored sealed");
    for secret in SECRETS {
        assert!(!dump.contains(secret), "{secret} is in plaintext in the database");
    }

    // Who may erase: the ICB and admins; a champion, the DHU and the LMC may not.
    let erase = "mutation($id: ID!, $reason: String!) { erasePersonalData(caseId: $id, reason: $reason) \
                 { revision case { status personalDataErasedAt } } }";
    let reason = json!({ "id": id, "reason": "the practice manager asked to be forgotten" });
    for (role, who) in [
        (Role::Champion, "dc-amira"),
        (Role::Dhu, "dhu-liaison-1"),
        (Role::Lmc, "lmc-officer-1"),
    ] {
        let refused = service.as_role(role, who, erase, reason.clone()).await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role}: {refused}");
    }
    let blank = service
        .as_role(Role::Icb, "icb-assurance-1", erase, json!({ "id": id, "reason": " " }))
        .await;
    assert_eq!(codes(&blank), ["BAD_USER_INPUT"], "{blank}");
    let erased = ok(&service, Role::Icb, "icb-assurance-1", erase, reason.clone()).await;
    let revision = erased["erasePersonalData"]["revision"].clone();
    assert!(
        erased["erasePersonalData"]["case"]["personalDataErasedAt"].is_string(),
        "{erased}"
    );
    assert_eq!(
        erased["erasePersonalData"]["case"]["status"], before["case"]["status"],
        "the status stays"
    );

    // After: every personal field of every lens reads as erased; everything else is as it was.
    for ((role, who), before) in parties.into_iter().zip(&seen_before) {
        let after = ok(&service, role, who, HISTORY, vars.clone()).await;
        for secret in SECRETS {
            assert!(
                !after.to_string().contains(secret),
                "{role} still reads {secret}: {after}"
            );
        }
        let mut history = after["case"]["history"].as_array().unwrap().clone();
        let erased = personal_values(&json!(history));
        // Those whose lens shows personal fields see each of them erased (the DHU its own text).
        assert_eq!(erased.is_empty(), role == Role::Lmc, "{role}: {erased:?}");
        for (event_type, field, value) in erased {
            assert_eq!(value, "[erased]", "{role}: {event_type}.{field}");
        }
        // The same personal fields are there, erased; every other fact is as it was.
        assert_eq!(
            personal_values(&json!(history)).len(),
            personal_values(&before["case"]["history"]).len(),
            "{role}"
        );
        history.retain(|event| event["type"] != "PersonalDataErased");
        assert_eq!(facts(&json!(history)), facts(&before["case"]["history"]), "{role}");
        assert_eq!(after["case"]["status"], before["case"]["status"], "{role}");
    }
    let after = ok(&service, Role::Champion, "dc-amira", HISTORY, vars.clone()).await;
    let history = after["case"]["history"].as_array().unwrap();
    let erasure = history.last().unwrap();
    assert_eq!(erasure["type"], "PersonalDataErased");
    assert_eq!(erasure["actorId"], "icb-assurance-1");
    assert_eq!(
        erasure["data"]["reason"], "the practice manager asked to be forgotten",
        "why stays on the record"
    );
    // The LMC sees that an erasure happened, not why; the DHU does not see it.
    let lmc = ok(&service, Role::Lmc, "lmc-officer-1", HISTORY, vars.clone()).await;
    let lmc_erasure = lmc["case"]["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(lmc_erasure["type"], "PersonalDataErased");
    assert!(lmc_erasure["data"].get("reason").is_none(), "{lmc_erasure}");
    let dhu = ok(&service, Role::Dhu, "dhu-liaison-1", HISTORY, vars.clone()).await;
    assert!(!dhu.to_string().contains("PersonalDataErased"), "{dhu}");

    // The other case is untouched.
    let untouched = ok(&service, Role::Champion, "dc-amira", HISTORY, json!({ "id": other })).await;
    assert!(untouched.to_string().contains("Zebedee Quartermain"));

    // Erasing again changes nothing: no new event, the same revision.
    let again = ok(&service, Role::Admin, "ops-1", erase, reason.clone()).await;
    assert_eq!(again["erasePersonalData"]["revision"], revision);
    let twice = ok(&service, Role::Icb, "icb-assurance-1", HISTORY, vars.clone()).await;
    assert_eq!(twice["case"]["history"].as_array().unwrap().len(), history.len());

    // The database: the case's key is destroyed, a dump holds none of its personal data.
    let live_keys: i64 = sqlx::query_scalar("select count(*) from data_keys where scope = $1 and wrapped is not null")
        .bind(&id)
        .fetch_one(&service.db.pool)
        .await
        .unwrap();
    assert_eq!(live_keys, 0);
    let dump = pg_dump(&service.db.url());
    for secret in SECRETS {
        assert!(!dump.contains(secret), "{secret} is in plaintext in the database");
    }

    // The views still answer, and equal a rebuild from the log.
    let store = service.store.clone();
    caseledger_projections::wait_for_projections(&store, Duration::from_secs(30))
        .await
        .unwrap();
    let lists = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "{ icb { cases(first: 10) { totalCount edges { node { id status } } } summary { openCases } } }",
        json!({}),
    )
    .await;
    assert_eq!(lists["icb"]["cases"]["totalCount"], 2, "{lists}");
    assert_eq!(lists["icb"]["summary"]["openCases"], 2, "{lists}");
    let live = views(&service.db.pool).await;
    service.stop().await;
    for name in caseledger_projections::NAMES {
        caseledger_projections::rebuild(&store, name).await.unwrap();
    }
    assert_eq!(
        live,
        views(&store.pool().clone()).await,
        "a rebuild equals the live views"
    );
}

#[tokio::test]
async fn personal_data_written_after_an_erasure_is_readable_until_it_is_erased_in_turn() {
    let service = Service::start().await;
    let id = case_with_personal_data(&service, "Z00014").await;
    let vars = json!({ "id": id });
    let erase = "mutation($id: ID!) { erasePersonalData(caseId: $id, reason: \"asked\") { revision } }";
    let first = ok(&service, Role::Icb, "icb-assurance-1", erase, vars.clone()).await;
    ok(
        &service,
        Role::Champion,
        "dc-amira",
        "mutation($id: ID!) { addNote(input: { caseId: $id, text: \"new contact Ms Arkwright-Penhaligon\" }) { revision } }",
        vars.clone(),
    )
    .await;
    let read = ok(&service, Role::Champion, "dc-amira", HISTORY, vars.clone()).await;
    assert!(
        read.to_string().contains("Ms Arkwright-Penhaligon"),
        "a new key seals it: {read}"
    );
    assert!(read.to_string().contains("[erased]"), "the old fields stay erased");
    // Something personal was written since: erasing again is not a no-op.
    let second = ok(&service, Role::Icb, "icb-assurance-1", erase, vars.clone()).await;
    assert!(second["erasePersonalData"]["revision"].as_i64() > first["erasePersonalData"]["revision"].as_i64());
    let read = ok(&service, Role::Champion, "dc-amira", HISTORY, vars.clone()).await;
    assert!(!read.to_string().contains("Arkwright"), "{read}");
    service.stop().await;
}

#[tokio::test]
async fn the_retention_period_erases_closed_cases_only_once_they_have_been_closed_that_long() {
    let service = Service::start().await;
    let closed = case_with_personal_data(&service, "Z00015").await;
    let open = case_with_personal_data(&service, "Z00016").await;
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($id: ID!) { closeCase(input: { caseId: $id, reason: WITHDRAWN }) { revision } }",
        json!({ "id": closed }),
    )
    .await;
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let commands = caseledger_commands::Commands::new(service.store.clone());
    // Closed less than a day ago: a day's retention keeps it.
    let kept = retention_round(&service, &commands, Duration::from_secs(86_400)).await;
    assert_eq!(kept, 0);
    // With no retention left, the closed case is erased, the open one is not; once only.
    let erased = retention_round(&service, &commands, Duration::ZERO).await;
    assert_eq!(erased, 1);
    assert_eq!(retention_round(&service, &commands, Duration::ZERO).await, 0);
    let closed_now = ok(&service, Role::Icb, "icb-assurance-1", HISTORY, json!({ "id": closed })).await;
    assert!(!closed_now.to_string().contains("Vellacott escalation"), "{closed_now}");
    let erasure = closed_now["case"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(erasure["type"], "PersonalDataErased");
    assert_eq!(erasure["actorId"], "retention");
    let open_now = ok(&service, Role::Icb, "icb-assurance-1", HISTORY, json!({ "id": open })).await;
    assert!(open_now.to_string().contains("Vellacott escalation"));
    service.stop().await;
}

#[tokio::test]
async fn a_wrong_key_encryption_key_is_refused_before_anything_is_read() {
    let db = caseledger_testsupport::fresh_db().await;
    let (first, _) = Kek::generate().unwrap();
    let personal = caseledger_projections::lens::personal_fields;
    Vault::new(first.clone(), personal).check(&db.pool).await.unwrap();
    // The same key again is accepted; another is refused with a clear error.
    Vault::new(first, personal).check(&db.pool).await.unwrap();
    let (second, _) = Kek::generate().unwrap();
    let refused = Vault::new(second.clone(), personal).check(&db.pool).await.unwrap_err();
    assert!(matches!(refused, StoreError::Sealing(_)), "{refused}");
    assert!(refused.to_string().contains("not the one"), "{refused}");
    // With data keys but the check row gone, the KEK must still open the keys.
    sqlx::query("insert into data_keys (key_id, scope, wrapped) values ($1, 'x', '\\x00')")
        .bind(uuid::Uuid::now_v7())
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("delete from kek_check").execute(&db.pool).await.unwrap();
    let refused = Vault::new(second, personal).check(&db.pool).await.unwrap_err();
    assert!(refused.to_string().contains("not the one"), "{refused}");
    // No key at all, for a database elsewhere, is an error too: never silent plaintext.
    let missing = caseledger_jobs::personal_data::key_encryption_key(None, None).unwrap_err();
    assert!(missing.to_string().contains("CASELEDGER_KEK is not set"), "{missing}");
    assert!(matches!(
        caseledger_jobs::personal_data::key_encryption_key(Some("/no/such/kek"), None),
        Err(caseledger_jobs::personal_data::KekError::Key(
            KeyError::Unreadable { .. }
        ))
    ));
    // On this machine's own database a key is made once and kept beside it.
    let dir = std::env::temp_dir().join(format!("caseledger-kek-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    caseledger_jobs::personal_data::key_encryption_key(None, Some(&dir)).unwrap();
    let made = std::fs::read_to_string(dir.join("kek")).unwrap();
    caseledger_jobs::personal_data::key_encryption_key(None, Some(&dir)).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("kek")).unwrap(),
        made,
        "kept, not made again"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("kek")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner may read it");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn two_erasures_at_once_record_one() {
    let service = Service::start().await;
    let id = case_with_personal_data(&service, "Z00017").await;
    let erase = "mutation($id: ID!, $r: String!) { erasePersonalData(caseId: $id, reason: $r) { revision } }";
    let (a, b) = tokio::join!(
        service.as_role(Role::Icb, "icb-assurance-1", erase, json!({ "id": id, "r": "first" })),
        service.as_role(Role::Admin, "ops-1", erase, json!({ "id": id, "r": "second" })),
    );
    assert!(a["errors"].is_null() && b["errors"].is_null(), "{a} {b}");
    let read = ok(&service, Role::Icb, "icb-assurance-1", HISTORY, json!({ "id": id })).await;
    let erasures = read["case"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "PersonalDataErased")
        .count();
    assert_eq!(erasures, 1, "{read}");
    service.stop().await;
}

#[tokio::test]
async fn personal_data_written_before_the_database_met_a_key_is_sealed_then_and_can_be_erased() {
    use caseledger_cases::values::{FreeText, ShortText};
    use caseledger_cases::{Action, Actor};
    use caseledger_commands::{CommandContext, Commands};
    use caseledger_eventstore::EventStore;

    // An earlier version's database: notes written in plaintext.
    let db = caseledger_testsupport::fresh_db().await;
    let plain = Commands::new(EventStore::new(db.pool.clone()));
    let champion = CommandContext::new(Actor::new(ShortText::parse("dc-amira").unwrap(), Role::Champion));
    let icb = CommandContext::new(Actor::new(ShortText::parse("icb-assurance-1").unwrap(), Role::Icb));
    let now = caseledger_testsupport::now();
    let flagged = plain
        .flag_practice(
            &icb,
            Action::FlagPractice {
                practice: caseledger_cases::practice::PracticeDetails {
                    ods_code: caseledger_cases::values::OdsCode::parse("Z00018").unwrap(),
                    name: ShortText::parse("Mill Surgery").unwrap(),
                    pcn_code: caseledger_cases::values::PcnCode::parse("U10001").unwrap(),
                    pcn_name: None,
                    place: ShortText::parse("Coventry").unwrap(),
                },
                list_size: caseledger_cases::values::ListSize::new(6_000).unwrap(),
                visible_slots: caseledger_cases::values::SlotCount::new(0).unwrap(),
                source: caseledger_cases::case::FlagSource {
                    kind: caseledger_cases::case::FlagSourceKind::Manual,
                    report_date: None,
                    report_id: None,
                },
                reason: Some(FreeText::parse("ring Dr Vellacott").unwrap()),
            },
            now,
        )
        .await
        .unwrap();
    let case_id = flagged.case_id;
    let take = Action::AssignCase {
        champion_id: ShortText::parse("dc-amira").unwrap(),
    };
    plain.execute(case_id, &champion, take, now).await.unwrap();
    let contact = Action::RecordContact {
        channel: caseledger_cases::case::ContactChannel::Phone,
        contact_name: Some(ShortText::parse("Zebedee Quartermain").unwrap()),
        summary: FreeText::parse("spoke").unwrap(),
    };
    plain.execute(case_id, &champion, contact, now).await.unwrap();
    let note = Action::AddNote {
        text: FreeText::parse("written by the old version about Mr Fairweather-Lyle").unwrap(),
    };
    plain.execute(case_id, &champion, note, now).await.unwrap();
    assert!(pg_dump(&db.url()).contains("Fairweather-Lyle"), "plaintext before");

    // The first start with a key seals it; a second start changes nothing.
    let (kek, _) = Kek::generate().unwrap();
    let vault = caseledger_jobs::personal_data::vault(&db.pool, kek.clone())
        .await
        .unwrap();
    let dump = pg_dump(&db.url());
    for secret in ["Fairweather-Lyle", "Zebedee Quartermain", "ring Dr Vellacott"] {
        assert!(!dump.contains(secret), "{secret} sealed at the first start");
    }
    caseledger_jobs::personal_data::vault(&db.pool, kek).await.unwrap();
    let store = EventStore::new(db.pool.clone()).with_vault(vault);
    let mut read = store
        .read_streams(&[caseledger_cases::case::case_stream(case_id)])
        .await
        .unwrap();
    store.open_sealed(&mut read).await.unwrap();
    let text: String = read.iter().map(|e| e.data.get().to_string()).collect();
    assert!(
        text.contains("Fairweather-Lyle") && text.contains("Zebedee Quartermain"),
        "{text}"
    );

    // And now it can be erased.
    Commands::new(store.clone())
        .erase_personal_data(
            case_id,
            &icb,
            FreeText::parse("asked").unwrap(),
            caseledger_testsupport::now(),
        )
        .await
        .unwrap();
    let mut read = store
        .read_streams(&[caseledger_cases::case::case_stream(case_id)])
        .await
        .unwrap();
    store.open_sealed(&mut read).await.unwrap();
    let text: String = read.iter().map(|e| e.data.get().to_string()).collect();
    assert!(
        !text.contains("Fairweather-Lyle") && text.contains("[erased]"),
        "{text}"
    );
}

#[tokio::test]
async fn a_dhu_reports_words_are_sealed_and_erased_with_the_case_opened_from_it() {
    let service = Service::start().await;
    // The practices on the dashboard, meeting their requirement: no case of their own.
    let csv = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
               2026-11-02,Z00019,Mill Surgery,U10001,Coventry,6000,5\n\
               2026-11-02,Z00020,Weir Surgery,U10001,Coventry,6000,5\n";
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": csv }),
    )
    .await;
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let filed = ok(
        &service,
        Role::Dhu,
        "dhu-liaison-1",
        "mutation { reportVisibilityProblem(input: { odsCode: \"Z00019\", category: OTHER, \
         detail: \"their manager Ms Penrose-Tallis said to call 07700 900456\" }) { report { id detail } } }",
        json!({}),
    )
    .await;
    let report = &filed["reportVisibilityProblem"]["report"];
    assert_eq!(
        report["detail"],
        "their manager Ms Penrose-Tallis said to call 07700 900456"
    );
    let dismissed = ok(
        &service,
        Role::Dhu,
        "dhu-liaison-1",
        "mutation { reportVisibilityProblem(input: { odsCode: \"Z00020\", category: OTHER, detail: \"nothing\" }) \
         { report { id } } }",
        json!({}),
    )
    .await;
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($r: ID!) { dismissDhuReport(input: { reportId: $r, reason: \"asked Mr Quillfeather-Dunn\" }) { id } }",
        json!({ "r": dismissed["reportVisibilityProblem"]["report"]["id"] }),
    )
    .await;
    let opened = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($r: ID!) { openCaseFromDhuReport(input: { reportId: $r }) { case { id } } }",
        json!({ "r": report["id"] }),
    )
    .await;
    let case_id = opened["openCaseFromDhuReport"]["case"]["id"].clone();
    let read = "query($id: ID!) { case(id: $id) { dhuReport { detail } } \
                icb { dhuReports(status: [CASE_OPENED, DISMISSED]) { detail dismissedReason } } }";
    let before = ok(&service, Role::Icb, "icb-assurance-1", read, json!({ "id": case_id })).await;
    assert!(before.to_string().contains("Ms Penrose-Tallis"), "{before}");
    assert!(before.to_string().contains("Mr Quillfeather-Dunn"), "{before}");
    let dump = pg_dump(&service.db.url());
    for secret in ["Penrose-Tallis", "07700 900456", "Quillfeather-Dunn"] {
        assert!(!dump.contains(secret), "{secret} in plaintext in the database");
    }

    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($id: ID!) { erasePersonalData(caseId: $id, reason: \"asked\") { revision } }",
        json!({ "id": case_id }),
    )
    .await;
    let after = ok(&service, Role::Icb, "icb-assurance-1", read, json!({ "id": case_id })).await;
    assert_eq!(after["case"]["dhuReport"]["detail"], "[erased]", "{after}");
    assert!(!after.to_string().contains("Penrose-Tallis"), "{after}");
    // A dismissed report has no case: its reason stays (sealed, readable by the ICB).
    assert!(after.to_string().contains("Mr Quillfeather-Dunn"), "{after}");
    service.stop().await;
}

/// A report nobody opened a case from: its words are erased on their own, by hand or when the
/// retention period has passed since its dismissal, and never come back; erasing it again changes
/// nothing, and one a case was opened from is erased with the case instead.
#[tokio::test]
async fn a_dismissed_reports_words_are_erased_by_hand_or_at_the_end_of_retention() {
    let service = Service::start().await;
    let csv = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
               2026-11-02,Z00021,Mill Surgery,U10001,Coventry,6000,5\n\
               2026-11-02,Z00022,Weir Surgery,U10001,Coventry,6000,5\n";
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": csv }),
    )
    .await;
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let mut reports = Vec::new();
    for (ods, words) in [
        ("Z00021", "Dr Ambleside-Crook rang"),
        ("Z00022", "Ms Tintagel-Vorst rang"),
    ] {
        let filed = ok(
            &service,
            Role::Dhu,
            "dhu-liaison-1",
            "mutation($o: String!, $d: String!) { reportVisibilityProblem(input: { odsCode: $o, category: OTHER, detail: $d, \
             occurredAt: \"2026-11-09T09:00:00Z\" }) { report { id } } }",
            json!({ "o": ods, "d": words }),
        )
        .await;
        let id = filed["reportVisibilityProblem"]["report"]["id"].clone();
        ok(
            &service,
            Role::Icb,
            "icb-assurance-1",
            "mutation($r: ID!) { dismissDhuReport(input: { reportId: $r, reason: \"spoke to Mr Orrell-Pike\", occurredAt: \"2026-11-10T09:00:00Z\" }) { id } }",
            json!({ "r": id }),
        )
        .await;
        reports.push(id);
    }
    // By hand: only the ICB and admins.
    let erase = "mutation($r: ID!) { eraseReportPersonalData(reportId: $r, reason: \"asked by the practice\") { detail dismissedReason personalDataErasedAt } }";
    let refused = service
        .as_role(Role::Dhu, "dhu-liaison-1", erase, json!({ "r": reports[0] }))
        .await;
    assert_eq!(common::codes(&refused), ["FORBIDDEN"], "{refused}");
    let erased = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        erase,
        json!({ "r": reports[0] }),
    )
    .await;
    let report = &erased["eraseReportPersonalData"];
    assert_eq!(report["detail"], "[erased]", "{erased}");
    assert_eq!(report["dismissedReason"], "[erased]");
    assert!(report["personalDataErasedAt"].is_string());
    let dump = pg_dump(&service.db.url());
    assert!(
        !dump.contains("Ambleside-Crook") && !dump.contains("Orrell-Pike"),
        "never in plaintext"
    );
    let again = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        erase,
        json!({ "r": reports[0] }),
    )
    .await;
    assert_eq!(
        again["eraseReportPersonalData"]["personalDataErasedAt"], report["personalDataErasedAt"],
        "once"
    );

    // The retention period: the other report was dismissed on 10 November, 15 days before now.
    let commands = caseledger_commands::Commands::new(service.store.clone());
    let kept = retention_round(&service, &commands, Duration::from_secs(30 * 86_400)).await;
    assert_eq!(kept, 0, "within thirty days");
    let erased = retention_round(&service, &commands, Duration::from_secs(14 * 86_400)).await;
    assert_eq!(
        erased, 1,
        "past fourteen days: the second report only (the first was erased by hand)"
    );
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let read = "{ icb { dhuReports(status: [DISMISSED]) { detail dismissedReason personalDataErasedAt } } }";
    let all = ok(&service, Role::Icb, "icb-assurance-1", read, json!({})).await;
    for report in all["icb"]["dhuReports"].as_array().unwrap() {
        assert_eq!(report["detail"], "[erased]", "{all}");
        assert_eq!(report["dismissedReason"], "[erased]", "{all}");
    }
    service.stop().await;
}

/// The words about a diversion and a Directory of Services gap go on the ICB's request, and with
/// the retention period once the diversion has ended or the gap is closed or dismissed; what
/// remains (dates, kinds, stages) stays, and each is erased once.
#[tokio::test]
async fn the_words_about_diversions_and_dos_gaps_go_on_request_and_with_the_retention_period() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let dashboard = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": dashboard }),
    )
    .await;
    let report = "mutation($s: String!, $d: String!) { reportDosGap(input: { serviceId: $s, serviceName: \"A service\", \
                  kind: HOURS, bitAt: \"2026-11-24T10:00:00Z\", detail: $d }) { id } }";
    let gap = |s: &'static str, d: &'static str| {
        let service = &service;
        async move {
            ok(service, Role::Dhu, "dhu-liaison-1", report, json!({ "s": s, "d": d })).await["reportDosGap"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let dismissed = gap("2000000001", "Caller Mr Hollingsworth-Pike").await;
    let open = gap("2000000002", "Caller Mrs Ostrowska-Dunn").await;
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($g: ID!) { triageDosGap(input: { gapId: $g, outcome: DISMISSED, reason: \"Ms Carrow-Beaumont checked it\" }) { status } }",
        json!({ "g": dismissed }),
    )
    .await;
    let manager = common::as_scoped(Role::Practice, "pm-z00011", "Z00011");
    let diverted = service
        .run(
            manager.clone(),
            "mutation { notifyDiversion(input: { from: \"2026-11-23T08:00:00Z\", expectedUntil: \"2026-11-23T10:00:00Z\", \
             reason: TELEPHONY_FAILURE, detail: \"Dr Pemberton-Quayle's line\" }) { id } }",
            json!({}),
        )
        .await;
    let diversion = diverted["data"]["notifyDiversion"]["id"].as_str().unwrap().to_string();
    let ended = service
        .run(
            manager.clone(),
            "mutation($d: ID!) { endDiversion(input: { diversionId: $d, endedAt: \"2026-11-23T10:00:00Z\" }) { id } }",
            json!({ "d": diversion }),
        )
        .await;
    assert!(ended["errors"].is_null(), "{ended}");
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let commands = caseledger_commands::Commands::new(service.store.clone());
    let kept = retention_round(&service, &commands, Duration::from_secs(30 * 86_400)).await;
    assert_eq!(kept, 0, "nothing ended or closed a month ago");
    let erased = retention_round(&service, &commands, Duration::ZERO).await;
    assert_eq!(erased, 2, "the ended diversion and the dismissed gap; not the open gap");
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(retention_round(&service, &commands, Duration::ZERO).await, 0, "once");
    let read = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "{ dosGaps { id status detail dismissReason } diversions { reason detail coreMinutes } }",
        json!({}),
    )
    .await
    .to_string();
    for words in ["Hollingsworth-Pike", "Carrow-Beaumont", "Pemberton-Quayle"] {
        assert!(!read.contains(words), "{words}: {read}");
    }
    assert!(read.contains("Ostrowska-Dunn"), "the open gap keeps its words: {read}");
    assert!(
        read.contains("[erased]") && read.contains("TELEPHONY_FAILURE") && read.contains("DISMISSED"),
        "{read}"
    );

    // On request: the ICB erases the open gap's words; a practice may not.
    let erase = "mutation($g: ID!) { eraseDosGapWords(gapId: $g) { status detail } }";
    let refused = service.run(manager, erase, json!({ "g": open })).await;
    assert_eq!(codes(&refused), ["FORBIDDEN"], "{refused}");
    let done = ok(&service, Role::Icb, "icb-assurance-1", erase, json!({ "g": open })).await;
    assert_eq!(done["eraseDosGapWords"]["detail"], "[erased]", "{done}");
    assert_eq!(done["eraseDosGapWords"]["status"], "REPORTED", "the gap itself stays");
    let again = ok(&service, Role::Icb, "icb-assurance-1", erase, json!({ "g": open })).await;
    assert_eq!(again["eraseDosGapWords"]["detail"], "[erased]");
    let erasures: i64 = sqlx::query_scalar("select count(*) from events where event_type like '%WordsErased'")
        .fetch_one(&service.db.pool)
        .await
        .unwrap();
    assert_eq!(erasures, 3, "each erased once");

    // Words written after an erasure are sealed under a new key, and erased again in their turn.
    for (role, id, mutation) in [
        (
            Role::Icb,
            "icb-assurance-1",
            "triageDosGap(input: { gapId: $g, outcome: CASE_OPENED }) { status }",
        ),
        (
            Role::Icb,
            "icb-assurance-1",
            "recordDosUpdate(input: { gapId: $g, summary: \"Mr Quilliam-Royce fixed it\" }) { status }",
        ),
        (
            Role::Dhu,
            "dhu-liaison-1",
            "confirmDosFix(input: { gapId: $g }) { status }",
        ),
    ] {
        ok(
            &service,
            role,
            id,
            &format!("mutation($g: ID!) {{ {mutation} }}"),
            json!({ "g": open }),
        )
        .await;
    }
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();
    let erased = retention_round(&service, &commands, Duration::ZERO).await;
    assert_eq!(erased, 1, "the closed gap's new words");
    let read = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "{ dosGaps { updateSummary } }",
        json!({}),
    )
    .await;
    assert!(!read.to_string().contains("Quilliam-Royce"), "{read}");
    service.stop().await;
}

/// The ICB's note on closing a diversion review and a PCN's review notes go on request (the ICB;
/// a PCN's own clinical director for its notes) and with the retention period; the review, its
/// outcome and the note's month stay, and each is erased once.
#[tokio::test]
async fn a_reviews_closing_note_and_a_pcns_notes_go_on_request_and_with_the_retention_period() {
    let service = Service::start().await;
    let day = (caseledger_clock::now() - chrono::Duration::days(7)).date_naive();
    let dashboard = format!(
        "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
         {day},Z00011,Arden Health Centre,U10001,Coventry,10000,5\n\
         {day},Z00012,Mill Health Centre,U10001,Coventry,10000,5\n"
    );
    ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "mutation($c: String!) { importDashboard(csv: $c) { rows } }",
        json!({ "c": dashboard }),
    )
    .await;
    // At each practice a whole working day diverted: past the threshold, a review opens; a
    // champion rings; the ICB closes it with a note.
    let mut reviews = Vec::new();
    for (ods, note) in [
        ("Z00011", "Dr Abernethy-Vance agreed a rota"),
        ("Z00012", "Mrs Pettigrew-Okafor agreed a rota"),
    ] {
        let manager = common::as_scoped(Role::Practice, &format!("pm-{ods}"), ods);
        let diverted = service
            .run(
                manager.clone(),
                "mutation { notifyDiversion(input: { from: \"2026-11-23T08:00:00Z\", expectedUntil: \"2026-11-23T18:00:00Z\", \
                 reason: STAFF_SHORTAGE }) { id } }",
                json!({}),
            )
            .await;
        let diversion = diverted["data"]["notifyDiversion"]["id"].as_str().unwrap().to_string();
        let ended = service
            .run(
                manager,
                "mutation($d: ID!) { endDiversion(input: { diversionId: $d, endedAt: \"2026-11-23T18:00:00Z\" }) { id } }",
                json!({ "d": diversion }),
            )
            .await;
        assert!(ended["errors"].is_null(), "{ended}");
        let open = ok(
            &service,
            Role::Icb,
            "icb-assurance-1",
            "{ diversionReviews(openOnly: true) { id practice { odsCode } } }",
            json!({}),
        )
        .await;
        let review = open["diversionReviews"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["practice"]["odsCode"] == ods)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &service,
            Role::Champion,
            "dc-amira",
            "mutation($r: ID!) { recordDiversionSupport(input: { reviewId: $r, kind: CALL }) { id } }",
            json!({ "r": review }),
        )
        .await;
        ok(
            &service,
            Role::Icb,
            "icb-assurance-1",
            "mutation($r: ID!, $n: String!) { closeDiversionReview(input: { reviewId: $r, outcome: RESOLVED, note: $n }) \
             { closeNote } }",
            json!({ "r": review, "n": note }),
        )
        .await;
        reviews.push(review);
    }
    let review = reviews[0].clone();
    let manager = common::as_scoped(Role::Practice, "pm-z00011", "Z00011");
    // Two notes of the PCN's reviews.
    let director = common::as_scoped(Role::PcnClinicalDirector, "cd-u10001", "U10001");
    let month = caseledger_cases::telephony::first_of_month(caseledger_clock::today());
    let mut notes = Vec::new();
    for words in [
        "Mr Fanshawe-Lowry to chase the supplier",
        "Ms Ibbotson-Quaid joins next month",
    ] {
        let noted = service
            .run(
                director.clone(),
                "mutation($m: Date!, $n: String!) { recordPcnReviewNote(input: { month: $m, note: $n }) { id } }",
                json!({ "m": month.to_string(), "n": words }),
            )
            .await;
        notes.push(noted["data"]["recordPcnReviewNote"]["id"].as_str().unwrap().to_string());
    }

    // On request: another PCN learns nothing of the note; the LMC, a practice may not erase.
    let erase_note = "mutation($n: ID!) { erasePcnReviewNote(noteId: $n) }";
    let other_pcn = common::as_scoped(Role::PcnClinicalDirector, "cd-u10002", "U10002");
    let refused = service.run(other_pcn, erase_note, json!({ "n": notes[0] })).await;
    assert_eq!(codes(&refused), ["NOT_FOUND"], "{refused}");
    for (role, id, org) in [(Role::Lmc, "lmc-1", ""), (Role::Practice, "pm-z00011", "Z00011")] {
        let refused = service
            .run(common::as_scoped(role, id, org), erase_note, json!({ "n": notes[0] }))
            .await;
        assert_eq!(codes(&refused), ["FORBIDDEN"], "{role}: {refused}");
    }
    let done = service
        .run(director.clone(), erase_note, json!({ "n": notes[0] }))
        .await;
    assert_eq!(done["data"]["erasePcnReviewNote"], notes[0].as_str(), "{done}");
    let again = service
        .as_role(Role::Icb, "icb-assurance-1", erase_note, json!({ "n": notes[0] }))
        .await;
    assert!(again["errors"].is_null(), "{again}");
    let read = service
        .run(director.clone(), "{ pcnReviewNotes { id note erasedAt } }", json!({}))
        .await;
    let text = read.to_string();
    assert!(!text.contains("Fanshawe-Lowry"), "{text}");
    assert!(text.contains("Ibbotson-Quaid"), "the other note stays: {text}");
    let erased_note = read["data"]["pcnReviewNotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == notes[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(erased_note["note"], "[erased]", "{erased_note}");
    assert!(erased_note["erasedAt"].is_string(), "{erased_note}");
    // The review's note: the ICB erases it; a practice may not.
    let erase_review = "mutation($r: ID!) { eraseDiversionReviewNote(reviewId: $r) { outcome closeNote } }";
    let refused = service.run(manager, erase_review, json!({ "r": review })).await;
    assert_eq!(codes(&refused), ["FORBIDDEN"], "{refused}");
    let done = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        erase_review,
        json!({ "r": review }),
    )
    .await;
    assert_eq!(done["eraseDiversionReviewNote"]["closeNote"], "[erased]", "{done}");
    assert_eq!(
        done["eraseDiversionReviewNote"]["outcome"], "RESOLVED",
        "the review stays"
    );
    caseledger_projections::wait_for_projections(&service.store, Duration::from_secs(30))
        .await
        .unwrap();

    // The retention period: the other note and the other review's note; what was erased by hand is
    // not erased twice, and nothing is left for the next round to pick up.
    let commands = caseledger_commands::Commands::new(service.store.clone());
    let kept = retention_round(&service, &commands, Duration::from_secs(30 * 86_400)).await;
    assert_eq!(kept, 0, "nothing a month old");
    let erased = retention_round(&service, &commands, Duration::ZERO).await;
    assert_eq!(erased, 2, "the note and the review's note not erased yet");
    assert_eq!(retention_round(&service, &commands, Duration::ZERO).await, 0, "once");
    let read = service
        .run(director, "{ pcnReviewNotes { note } }", json!({}))
        .await
        .to_string();
    assert!(!read.contains("Ibbotson-Quaid"), "{read}");
    let now = caseledger_clock::now();
    assert!(
        caseledger_projections::diversion_view::words_expired(&service.db.pool, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        caseledger_projections::telephony_view::notes_expired(&service.db.pool, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let read = ok(
        &service,
        Role::Icb,
        "icb-assurance-1",
        "{ diversionReviews { closeNote outcome } }",
        json!({}),
    )
    .await
    .to_string();
    assert!(
        !read.contains("Pettigrew-Okafor") && !read.contains("Abernethy-Vance"),
        "{read}"
    );
    assert!(read.contains("RESOLVED"), "the reviews stay: {read}");
    let erasures: i64 = sqlx::query_scalar(
        "select count(*) from events where event_type in ('PcnReviewNoteErased', 'DiversionWordsErased')",
    )
    .fetch_one(&service.db.pool)
    .await
    .unwrap();
    assert_eq!(erasures, 4, "each erased once");
    service.stop().await;
}
