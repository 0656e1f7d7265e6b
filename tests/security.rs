//! What one request, one role or one link can do, tried as a hostile user would against the real
//! binary over HTTP and WebSocket: the work a query may make, subscriptions that would hold the
//! database, inputs that would panic or grow, who may take a case, what the public port shows,
//! where a form may send a browser, and development mode on a reachable address.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::process::Command;
use std::time::Duration;

use caseledger_tests::{Service, Web, binary, codes, connect_ws, free_port, next_message, secret, settle};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// 26 fragments, each spreading the next twice: 2^25 selections of `__typename` from 1 KB.
fn fragment_explosion() -> String {
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..25 {
        query.push_str(&format!(
            "fragment F{i} on Query {{ ...F{next} ...F{next} }}\n",
            next = i + 1
        ));
    }
    query.push_str("fragment F25 on Query { __typename }\n");
    query
}

fn flag(service: &Service, icb: &str, ods: &str) -> String {
    let flagged = service.graphql(
        Some(icb),
        "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { case { id } } }",
        json!({ "i": { "odsCode": ods, "practiceName": "Mill Health Centre", "pcnCode": "U10001",
                       "place": "Coventry", "listSize": 9027, "visibleSlots": 0 } }),
    );
    assert!(flagged["errors"].is_null(), "{flagged}");
    flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn note(service: &Service, token: &str, case_id: &str, text: &str) -> Value {
    service.graphql(
        Some(token),
        "mutation($i: AddNoteInput!) { addNote(input: $i) { revision } }",
        json!({ "i": { "caseId": case_id, "text": text } }),
    )
}

/// Sends `subscribe` with `query` on `socket` as operation `id`.
async fn subscribe(socket: &mut caseledger_tests::WebSocket, id: &str, query: &str) {
    socket
        .send(Message::text(
            json!({ "type": "subscribe", "id": id, "payload": { "query": query } }).to_string(),
        ))
        .await
        .unwrap();
}

#[test]
fn a_fragment_explosion_is_refused_before_it_runs_on_http_and_websocket() {
    let service = Service::start();
    let query = fragment_explosion();
    // Anonymous, as the hostile user was.
    let answer = service.graphql(None, &query, json!({}));
    assert_eq!(codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("once its fragments are expanded"),
        "{answer}"
    );
    assert!(ureq::get(&format!("{}/livez", service.url)).call().is_ok());

    let token = service.token("lmc", "lmc-officer-1");
    runtime().block_on(async {
        let mut socket = connect_ws(&service.url, Some(token)).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        subscribe(&mut socket, "1", &query).await;
        let answer = next_message(&mut socket).await;
        assert_eq!(answer["id"], "1", "{answer}");
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
            "{answer}"
        );
    });
}

#[test]
fn aliases_and_pages_cost_what_they_read() {
    let service = Service::start();
    let lmc = service.token("lmc", "lmc-officer-1");
    let icb = service.token("icb", "icb-assurance-1");
    let ids: Vec<String> = (0..3).map(|i| flag(&service, &icb, &format!("Z0009{i}"))).collect();
    for id in &ids {
        assert!(note(&service, &icb, id, "a note").get("errors").is_none());
    }

    let page = "cases(first: 500) { edges { node { history { type } observedCompliant } } }";
    let one = service.graphql(Some(&lmc), &format!("{{ lmc {{ {page} }} }}"), json!({}));
    assert!(one["errors"].is_null(), "{one}");
    let edges = one["data"]["lmc"]["cases"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    for edge in edges {
        let types: Vec<&str> = edge["node"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["PracticeFlagged"],
            "every case's own history, through the LMC's lens"
        );
    }
    // Two such pages cost more than one request may: the cost follows `first`.
    let two = service.graphql(Some(&lmc), &format!("{{ lmc {{ a: {page} b: {page} }} }}"), json!({}));
    assert!(
        two["errors"][0]["message"].as_str().unwrap().contains("complex"),
        "{two}"
    );
    let small = service.graphql(
        Some(&lmc),
        &format!("{{ lmc {{ a: {0} b: {0} }} }}", page.replace("500", "10")),
        json!({}),
    );
    assert!(small["errors"].is_null(), "{small}");

    let aliases = (0..40)
        .map(|i| format!("a{i}: me {{ id }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let answer = service.graphql(Some(&lmc), &format!("{{ {aliases} }}"), json!({}));
    assert_eq!(codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap().contains("40 aliases"));
}

#[test]
fn twenty_subscriptions_share_one_feed_and_hold_no_database_connection() {
    // One runtime for the pool's whole life: its connections belong to the runtime that made them.
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    let service = Service::launch(&db.url(), caseledger_tests::Launch::default());
    let icb = service.token("icb", "icb-assurance-1");
    let lmc = service.token("lmc", "lmc-officer-1");
    let connections = async || -> i64 {
        sqlx::query_scalar("select count(*) from pg_stat_activity where datname = $1")
            .bind(&db.name)
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    let case_id = flag(&service, &icb, "Z00042");

    rt.block_on(async {
        let before = connections().await;
        let mut sockets = Vec::new();
        for _ in 0..2 {
            let mut socket = connect_ws(&service.url, Some(lmc.clone())).await;
            assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
            for i in 0..10 {
                subscribe(
                    &mut socket,
                    &format!("s{i}"),
                    "subscription { caseEvents { type caseId } }",
                )
                .await;
            }
            settle(&mut socket).await;
            sockets.push(socket);
        }
        // One event reaches every subscription from the one feed (the note before it is hidden
        // from the LMC).
        assert!(
            note(&service, &icb, &case_id, "not for the LMC")
                .get("errors")
                .is_none()
        );
        let assigned = service.graphql(
            Some(&icb),
            "mutation($i: AssignCaseInput!) { assignCase(input: $i) { revision } }",
            json!({ "i": { "caseId": case_id, "championId": "dc-amira" } }),
        );
        assert!(assigned["errors"].is_null(), "{assigned}");
        for socket in &mut sockets {
            let mut ids = Vec::new();
            for _ in 0..10 {
                let message = next_message(socket).await;
                assert_eq!(message["type"], "next", "{message}");
                assert_eq!(
                    message["payload"]["data"]["caseEvents"]["type"], "CaseAssigned",
                    "{message}"
                );
                ids.push(message["id"].as_str().unwrap().to_string());
            }
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 10, "each subscription once");
        }
        // All twenty are live, and hold no database connections: a query answers at once.
        // The two mutations above may grow the pool by a connection or three (the command, its
        // wait, a projection's commit); twenty subscriptions each holding one would add twenty.
        let during = connections().await;
        assert!(
            during <= before + 5,
            "{during} connections with 20 subscriptions open, {before} before"
        );
        let me = service.graphql(Some(&lmc), "{ me { id } }", json!({}));
        assert_eq!(me["data"]["me"]["id"], "lmc-officer-1");
    });
}

/// Reads messages until one refuses an operation; its id and message.
async fn refusal(socket: &mut caseledger_tests::WebSocket) -> (String, String) {
    loop {
        let message = next_message(socket).await;
        if message["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            || message["payload"]["errors"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        {
            let error = if message["payload"].is_array() {
                &message["payload"][0]
            } else {
                &message["payload"]["errors"][0]
            };
            return (
                message["id"].as_str().unwrap().to_string(),
                error["message"].as_str().unwrap().to_string(),
            );
        }
        assert_ne!(message["type"], "closed", "{message}");
    }
}

#[test]
fn subscriptions_are_capped_per_connection_and_per_person() {
    let service = Service::start_with(
        &[
            ("CASELEDGER_MAX_SUBSCRIPTIONS_PER_CONNECTION", "3"),
            ("CASELEDGER_MAX_SUBSCRIPTIONS_PER_PERSON", "4"),
        ],
        &[],
    );
    let lmc = service.token("lmc", "lmc-officer-1");
    runtime().block_on(async {
        let mut first = connect_ws(&service.url, Some(lmc.clone())).await;
        assert_eq!(next_message(&mut first).await["type"], "connection_ack");
        for i in 0..4 {
            subscribe(&mut first, &format!("a{i}"), "subscription { caseEvents { type } }").await;
        }
        let (_, message) = refusal(&mut first).await;
        assert!(message.contains("this connection already has 3"), "{message}");

        // The person has 3 on the first connection: a second connection gets one more.
        let mut second = connect_ws(&service.url, Some(lmc.clone())).await;
        assert_eq!(next_message(&mut second).await["type"], "connection_ack");
        for i in 0..2 {
            subscribe(&mut second, &format!("b{i}"), "subscription { caseEvents { type } }").await;
        }
        let (_, message) = refusal(&mut second).await;
        assert!(message.contains("you already have 4"), "{message}");

        // Closing a connection gives its subscriptions back.
        drop(first);
        let mut third = connect_ws(&service.url, Some(lmc.clone())).await;
        assert_eq!(next_message(&mut third).await["type"], "connection_ack");
        subscribe(&mut third, "c0", "subscription { caseEvents { type } }").await;
        subscribe(&mut third, "q", "{ me { id } }").await;
        let answer = next_message(&mut third).await;
        assert_eq!(answer["payload"]["data"]["me"]["id"], "lmc-officer-1", "{answer}");
    });
}

#[test]
fn the_websocket_path_has_the_limits_of_a_post() {
    let service = Service::start_with(&[("CASELEDGER_REQUEST_TIMEOUT_MS", "0")], &[]);
    let icb = service.token("icb", "icb-assurance-1");
    // Anything that reads the database takes longer than no time at all, on either path.
    let over_http = service.graphql(Some(&icb), "{ icb { summary { openCases } } }", json!({}));
    assert_eq!(codes(&over_http), ["TIMEOUT"], "{over_http}");
    runtime().block_on(async {
        let mut socket = connect_ws(&service.url, Some(icb.clone())).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        subscribe(&mut socket, "q", "{ icb { summary { openCases } } }").await;
        let answer = next_message(&mut socket).await;
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "TIMEOUT",
            "{answer}"
        );
        assert_eq!(next_message(&mut socket).await["type"], "complete");

        // A batch is not a request.
        socket
            .send(Message::text(
                json!({ "type": "subscribe", "id": "b", "payload": [{ "query": "{ me { id } }" }] }).to_string(),
            ))
            .await
            .unwrap();
        assert_eq!(next_message(&mut socket).await["type"], "closed");

        // A message over the body limit closes the connection.
        let mut socket = connect_ws(&service.url, Some(icb.clone())).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        let huge = json!({ "type": "subscribe", "id": "h", "payload": { "query": "{ me { id } }",
                            "variables": { "pad": "x".repeat(5 * 1024 * 1024) } } });
        let _ = socket.send(Message::text(huge.to_string())).await;
        let answer = next_message(&mut socket).await;
        assert!(matches!(answer["type"].as_str(), Some("closed" | "ended")), "{answer}");
    });
}

#[test]
fn a_subscription_ends_when_its_token_expires() {
    let service = Service::start();
    let short = service.token_for("lmc", "lmc-officer-1", 3);
    runtime().block_on(async {
        let mut socket = connect_ws(&service.url, Some(short)).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        subscribe(&mut socket, "1", "subscription { caseEvents { type } }").await;
        let closed = next_message(&mut socket).await;
        assert_eq!(closed["type"], "closed", "{closed}");
        assert!(
            closed["frame"].as_str().unwrap().contains("token has expired"),
            "{closed}"
        );
    });
}

#[test]
fn inputs_that_would_panic_or_grow_are_bad_input() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    for (from, to, every) in [
        ("2026-01-01", "2026-02-01", json!(2147483647)),
        ("+262142-12-31", "+262142-12-31", json!(7)),
        ("2026-01-01", "2026-02-01", json!(0)),
        ("1900-01-01", "2026-02-01", json!(1)),
    ] {
        let answer = service.graphql(
            Some(&icb),
            "query($f: Date!, $t: Date!, $e: Int) { icb { trend(from: $f, to: $t, everyDays: $e) { date } } }",
            json!({ "f": from, "t": to, "e": every }),
        );
        assert_eq!(codes(&answer), ["BAD_USER_INPUT"], "{from} {to} {every}: {answer}");
    }

    // 20,000 bad rows: the first 100 errors are listed, and how many there were.
    let mut csv = String::from("report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n");
    for _ in 0..20_000 {
        csv.push_str("x,y\n");
    }
    let report = service.graphql(
        Some(&icb),
        "mutation($csv: String!) { importDashboard(csv: $csv) { rows errorCount errors { line message } } }",
        json!({ "csv": csv }),
    );
    assert!(report["errors"].is_null(), "{report}");
    let imported = &report["data"]["importDashboard"];
    assert_eq!(imported["errors"].as_array().unwrap().len(), 100);
    assert!(imported["errorCount"].as_i64().unwrap() >= 20_000, "{imported}");
    assert_eq!(imported["rows"], 0, "nothing applied");
}

#[test]
fn a_champion_takes_an_unassigned_case_but_not_one_another_holds() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let amira = service.token("champion", "dc-amira");
    let ben = service.token("champion", "dc-ben");
    let case_id = flag(&service, &icb, "Z00043");
    let assign = |token: &str, to: &str| {
        service.graphql(
            Some(token),
            "mutation($i: AssignCaseInput!) { assignCase(input: $i) { case { assignedTo } } }",
            json!({ "i": { "caseId": case_id, "championId": to } }),
        )
    };
    assert!(assign(&amira, "dc-amira")["errors"].is_null());
    let taken = assign(&ben, "dc-ben");
    assert_eq!(codes(&taken), ["FORBIDDEN"], "{taken}");
    let refusal = taken["errors"][0]["message"].as_str().unwrap();
    assert!(refusal.contains("another champion holds this case"), "{refusal}");
    assert!(
        !refusal.contains("dc-amira"),
        "a colleague reads the case as the LMC: not who holds it"
    );
    let moved = assign(&icb, "dc-ben");
    assert_eq!(moved["data"]["assignCase"]["case"]["assignedTo"], "dc-ben", "{moved}");
}

#[test]
fn last_activity_moves_only_with_what_the_viewer_may_see() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let lmc = service.token("lmc", "lmc-officer-1");
    let case_id = flag(&service, &icb, "Z00044");
    let activity = |token: &str| {
        let answer = service.graphql(
            Some(token),
            "query($i: ID!) { case(id: $i) { lastActivityAt revision } }",
            json!({ "i": case_id }),
        );
        (
            answer["data"]["case"]["lastActivityAt"].as_str().unwrap().to_string(),
            answer["data"]["case"]["revision"].as_i64().unwrap(),
        )
    };
    let (lmc_before, _) = activity(&lmc);
    for text in ["first note", "second note"] {
        assert!(note(&service, &icb, &case_id, text).get("errors").is_none());
    }
    let (lmc_after, lmc_revision) = activity(&lmc);
    let (icb_after, icb_revision) = activity(&icb);
    assert_eq!(
        lmc_before, lmc_after,
        "two notes the LMC cannot see did not move its time"
    );
    assert_ne!(icb_after, lmc_after, "the ICB sees its notes");
    assert_eq!(
        lmc_revision, icb_revision,
        "the revision is the concurrency token, the same for all"
    );
}

#[test]
fn metrics_are_served_apart_from_the_public_port() {
    let service = Service::start();
    let public = ureq::get(&format!("{}/metrics", service.url)).call();
    assert!(
        matches!(public, Err(ureq::Error::Status(404, _))),
        "the public port does not show metrics"
    );
    assert!(service.metrics().contains("caseledger_"));
}

#[test]
fn a_form_returns_only_to_the_services_own_pages() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let case_id = flag(&service, &icb, "Z00045");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let csrf = web.csrf(&format!("/cases/{case_id}"));
    for hostile in [
        "/\t/evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        let answer = web.post(
            &format!("/cases/{case_id}/note"),
            &[("text", "a note"), ("_csrf", &csrf), ("_return", hostile)],
        );
        assert_eq!(answer.status, 303, "{}", answer.body);
        let location = answer.location.unwrap();
        assert!(
            location.starts_with(&format!("/cases/{case_id}")),
            "{hostile:?} → {location:?}"
        );
    }
    let listed = web.post(
        &format!("/cases/{case_id}/note"),
        &[
            ("text", "a note"),
            ("_csrf", &csrf),
            ("_return", "/icb/cases?status=FLAGGED"),
        ],
    );
    assert_eq!(listed.location.as_deref(), Some("/icb/cases?status=FLAGGED"));
}

#[test]
fn pages_with_case_data_are_never_cached_and_https_is_insisted_on_outside_development() {
    let service = Service::start();
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    for path in ["/icb", "/icb/cases", "/icb/report.csv"] {
        let page = web.get(path);
        let cache = page.headers.iter().find(|(name, _)| name == "cache-control");
        assert_eq!(cache.map(|(_, v)| v.as_str()), Some("no-store"), "{path}");
    }
    let answer = ureq::post(&format!("{}/graphql", service.url))
        .send_json(json!({ "query": "{ __typename }" }))
        .unwrap();
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(
        answer.header("strict-transport-security"),
        None,
        "development mode is plain HTTP"
    );

    let production = Service::start_with(&[], &["CASELEDGER_DEV_JWT_SECRET"]);
    let probe = ureq::get(&format!("{}/livez", production.url)).call().unwrap();
    assert!(
        probe
            .header("strict-transport-security")
            .is_some_and(|h| h.contains("max-age=31536000")),
        "HSTS outside development"
    );
}

#[test]
fn a_session_unused_for_the_idle_time_ends() {
    let service = Service::start_with(&[("CASELEDGER_SESSION_IDLE_SECONDS", "2")], &[]);
    let mut web = Web::new(&service);
    web.sign_in("dc-amira");
    assert_eq!(web.get("/champion").status, 200);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        web.get("/champion").location.as_deref(),
        Some("/sign-in?next=%2Fchampion")
    );
}

/// `caseledger serve` with `env`; its exit status and what it printed on standard error.
fn serve_and_exit(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(binary())
        .arg("serve")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("CASELEDGER_METRICS_LISTEN", "off")
        .env("RUST_LOG", "error")
        .env_remove("CASELEDGER_DEV_JWT_SECRET")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn development_mode_refuses_a_reachable_address_and_a_short_secret() {
    let reachable = format!("0.0.0.0:{}", free_port());
    let (status, said) = serve_and_exit(&[
        ("CASELEDGER_DEV_JWT_SECRET", &secret()),
        ("CASELEDGER_LISTEN", &reachable),
    ]);
    assert_ne!(status, Some(0));
    assert!(said.contains("loopback"), "{said}");
    let (status, said) = serve_and_exit(&[
        ("CASELEDGER_DEV_JWT_SECRET", "change-me"),
        ("CASELEDGER_LISTEN", "127.0.0.1:1"),
    ]);
    assert_ne!(status, Some(0));
    assert!(said.contains("at least 32"), "{said}");
    // The deployment files ship no secret to copy.
    for file in [
        "deploy/docker-compose.yml",
        "deploy/kubernetes/secret.yaml",
        "deploy/kubernetes/configmap.yaml",
    ] {
        let text = std::fs::read_to_string(caseledger_tests::fixture("../..").join(file)).unwrap();
        assert!(
            !text.contains("CASELEDGER_DEV_JWT_SECRET:"),
            "{file} sets a development secret"
        );
    }
}
