//! Running the service like a real one: `/metrics` counts what happened and measures what lags,
//! logs are JSON lines carrying the request's ids and the caller's role, traces go to an OTLP
//! collector when one is configured, and SIGTERM stops the service cleanly.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseledger_tests::{Launch, Service, codes, connect_ws, eventually, next_message};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const FLAG: &str = "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { case { id } revision } }";

fn flag_input(ods: &str, list_size: i64) -> Value {
    json!({ "i": { "odsCode": ods, "practiceName": "Mill Surgery", "pcnCode": "U10001",
                   "place": "Coventry", "listSize": list_size, "visibleSlots": 0 } })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A service on `db` whose JSON logs (level info) go to the returned file.
fn logging_service(db: &caseledger_testsupport::TestDb) -> (Service, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = Service::launch(
        &db.url(),
        Launch {
            env: &[("RUST_LOG", "info"), ("CASELEDGER_LOG_FORMAT", "json")],
            log_to: Some(log.clone()),
            ..Launch::default()
        },
    );
    (service, log, dir)
}

#[test]
fn metrics_count_requests_operations_rejections_and_appends() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let flagged = service.graphql(Some(&icb), FLAG, flag_input("Z00012", 9_027));
    assert!(flagged["errors"].is_null(), "{flagged}");
    let refused = service.graphql(Some(&icb), FLAG, flag_input("Z00013", -5));
    assert_eq!(codes(&refused), ["BAD_USER_INPUT"]);
    let lmc = service.token("lmc", "lmc-officer-1");
    assert_eq!(
        codes(&service.graphql(Some(&lmc), FLAG, flag_input("Z00014", 9_027))),
        ["FORBIDDEN"]
    );
    let summary = service.graphql(Some(&icb), "{ icb { summary { openCases } } }", json!({}));
    assert_eq!(summary["data"]["icb"]["summary"]["openCases"], 1, "{summary}");

    let metrics = service.metrics();
    let metric = |name: &str, labels: &[(&str, &str)]| caseledger_tests::metric_in(&metrics, name, labels);
    let flag = [("type", "mutation"), ("operation", "flagPractice")];
    assert_eq!(
        metric(
            "caseledger_graphql_requests_total",
            &[flag[0], flag[1], ("outcome", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            "caseledger_graphql_requests_total",
            &[flag[0], flag[1], ("outcome", "error")]
        ),
        Some(2.0)
    );
    assert_eq!(
        metric("caseledger_graphql_request_duration_seconds_count", &flag),
        Some(3.0)
    );
    assert_eq!(
        metric(
            "caseledger_graphql_requests_total",
            &[("type", "query"), ("operation", "icb")]
        ),
        Some(1.0)
    );
    for code in ["BAD_USER_INPUT", "FORBIDDEN"] {
        assert_eq!(
            metric(
                "caseledger_command_rejections_total",
                &[("code", code), ("operation", "flagPractice")]
            ),
            Some(1.0),
            "{code}"
        );
    }
    assert_eq!(
        metric(
            "caseledger_http_requests_total",
            &[("route", "/graphql"), ("method", "POST"), ("status", "200")]
        ),
        // This test's four, and the harness's adding of the tests' champions at start.
        Some(4.0 + caseledger_tests::TEST_CHAMPIONS.len() as f64)
    );
    assert_eq!(
        metric("caseledger_eventstore_appends_total", &[("outcome", "ok")]),
        Some(1.0),
        "one append: the flag"
    );
    assert_eq!(
        metric("caseledger_eventstore_events_appended_total", &[("category", "case")]),
        Some(1.0)
    );
    for projection in ["case_view", "practice_view"] {
        assert_eq!(
            metric("caseledger_subscriber_leader", &[("subscriber", projection)]),
            Some(1.0),
            "the only instance runs {projection}"
        );
        assert!(metric("caseledger_projection_lag_events", &[("projection", projection)]).is_some());
    }
    assert!(metric("caseledger_eventstore_oldest_writer_seconds", &[]).is_some());
}

#[test]
fn projection_lag_and_writers_holding_back_all_are_measured() {
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    // Hold case_view's lease, as a stuck instance would, before the service starts.
    let mut holder = rt.block_on(db.pool.acquire()).unwrap().detach();
    rt.block_on(sqlx::query("select pg_advisory_lock(17228, hashtext('case_view'))").execute(&mut holder))
        .unwrap();
    let service = Service::launch(&db.url(), Launch::default());
    let icb = service.token("icb", "icb-assurance-1");
    let flagged = service.graphql(Some(&icb), FLAG, flag_input("Z00012", 9_027));
    assert!(flagged["errors"].is_null(), "{flagged}");

    let lag = |projection: &str| {
        (
            service
                .metric("caseledger_projection_lag_events", &[("projection", projection)])
                .unwrap(),
            service
                .metric("caseledger_projection_lag_seconds", &[("projection", projection)])
                .unwrap(),
        )
    };
    assert_eq!(
        service.metric("caseledger_subscriber_leader", &[("subscriber", "case_view")]),
        None,
        "nobody here runs case_view"
    );
    assert!(eventually(Duration::from_secs(10), || lag("practice_view").0 == 0.0));
    std::thread::sleep(Duration::from_millis(300));
    let (events, seconds) = lag("case_view");
    assert!(events >= 1.0, "the flag is not projected yet: {events}");
    assert!(seconds >= 0.3, "and has waited since it was recorded: {seconds}");

    // Let go: the service takes the lease and catches up.
    rt.block_on(sqlx::query("select pg_advisory_unlock_all()").execute(&mut holder))
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        service.metric("caseledger_subscriber_leader", &[("subscriber", "case_view")]) == Some(1.0)
            && lag("case_view") == (0.0, 0.0)
    }));

    // A transaction that has an id and stays open holds back $all.
    rt.block_on(sqlx::query("begin").execute(&mut holder)).unwrap();
    rt.block_on(sqlx::query("select pg_current_xact_id()").execute(&mut holder))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_200));
    let held = service
        .metric("caseledger_eventstore_oldest_writer_seconds", &[])
        .unwrap();
    assert!(held >= 1.0, "the open writer's age: {held}");
    rt.block_on(sqlx::query("commit").execute(&mut holder)).unwrap();
    assert!(eventually(Duration::from_secs(5), || {
        service
            .metric("caseledger_eventstore_oldest_writer_seconds", &[])
            .unwrap()
            < 1.0
    }));
}

#[test]
fn logs_are_json_lines_with_the_request_and_correlation_ids_and_the_role() {
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    let (mut service, log, _dir) = logging_service(&db);
    let icb = service.token("icb", "icb-assurance-1");
    let correlation = "0192f000-0000-7000-8000-00000000c0de";
    let response = ureq::post(&format!("{}/graphql", service.url))
        .set("Authorization", &format!("Bearer {icb}"))
        .set("X-Correlation-Id", correlation)
        .send_json(json!({ "query": FLAG, "variables": flag_input("Z00012", 9_027) }))
        .unwrap();
    let request_id = response.header("x-request-id").unwrap().to_string();
    assert_eq!(response.header("x-correlation-id"), Some(correlation));
    let body: Value = response.into_json().unwrap();
    assert!(body["errors"].is_null(), "{body}");
    assert!(service.terminate(Duration::from_secs(20)).unwrap().success());

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no log line for request {request_id}: {lines:?}"));
    assert_eq!(request["span"]["correlation_id"], correlation);
    assert_eq!(request["span"]["role"], "icb");
    assert_eq!(request["span"]["route"], "/graphql");
    assert_eq!(request["status"], 200);
    assert_eq!(request["level"], "INFO");
    assert!(
        lines
            .iter()
            .any(|l| l["message"].as_str().unwrap_or("").starts_with("stopped"))
    );

    // The command's events carry the same correlation id.
    let carried: i64 = rt
        .block_on(
            sqlx::query_scalar("select count(*) from events where metadata->>'correlation_id' = $1")
                .bind(correlation)
                .fetch_one(&db.pool),
        )
        .unwrap();
    assert_eq!(carried, 1);
}

/// What the collector received: each request's head and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector: records each request's head and body, answers 200.
fn collector() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            sink.lock().unwrap().push((head, body));
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, received)
}

#[test]
fn traces_go_to_the_otlp_collector_when_one_is_configured() {
    let (endpoint, received) = collector();
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    let mut service = Service::launch(
        &db.url(),
        Launch {
            env: &[("RUST_LOG", "info"), ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
            ..Launch::default()
        },
    );
    let icb = service.token("icb", "icb-assurance-1");
    let flagged = service.graphql(Some(&icb), FLAG, flag_input("Z00012", 9_027));
    assert!(flagged["errors"].is_null(), "{flagged}");
    // Stopping flushes what the batch exporter still holds.
    assert!(service.terminate(Duration::from_secs(20)).unwrap().success());

    let received = received.lock().unwrap();
    let (head, body) = received
        .iter()
        .find(|(head, _)| head.starts_with("POST /v1/traces "))
        .unwrap_or_else(|| panic!("no traces were exported: {received:?}"));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/x-protobuf"),
        "{head}"
    );
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"caseledger"), "the service's name is in the resource");
    assert!(contains(b"http.request"), "the request's span was exported");
    assert!(contains(b"/graphql"), "with its route");
}

#[test]
fn sigterm_stops_the_service_cleanly_with_a_subscription_open() {
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    let (mut service, log, _dir) = logging_service(&db);
    let lmc = service.token("lmc", "lmc-officer-1");
    let url = service.url.clone();
    let mut socket = rt.block_on(async {
        let mut socket = connect_ws(&url, Some(lmc)).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        let subscribe = json!({ "id": "1", "type": "subscribe",
                                "payload": { "query": "subscription { caseEvents { type } }" } });
        socket.send(Message::text(subscribe.to_string())).await.unwrap();
        socket
    });
    let status = service
        .terminate(Duration::from_secs(30))
        .expect("the service stops within its grace period");
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(&log).unwrap();
    for projection in ["case_view", "practice_view"] {
        assert!(
            log.lines()
                .any(|l| l.contains("released its lease") && l.contains(projection)),
            "{projection} released its lease: {log}"
        );
    }
    // The open subscription was closed, not left hanging.
    let last = rt.block_on(next_message(&mut socket));
    assert!(
        matches!(last["type"].as_str(), Some("closed" | "ended" | "complete")),
        "{last}"
    );
    // The leases were released: the checkpoints stand and nobody holds the locks.
    let held: i64 = rt
        .block_on(
            sqlx::query_scalar(
                "select count(*) from pg_locks where locktype = 'advisory' and classid = 17228
                   and database = (select oid from pg_database where datname = current_database())",
            )
            .fetch_one(&db.pool),
        )
        .unwrap();
    assert_eq!(held, 0);
}

#[test]
fn an_event_a_projection_rejects_is_parked_and_an_admin_retries_or_skips_it() {
    use caseledger_eventstore::{EventMetadata, EventStore, ExpectedRevision, NewEvent};
    let rt = runtime();
    let db = rt.block_on(caseledger_testsupport::fresh_db());
    let service = Service::launch(&db.url(), Launch::default());
    let (icb, admin) = (service.token("icb", "icb-assurance-1"), service.token("admin", "ops-1"));

    // A case event no projection can read (as a bad deploy or a hand-edited row would leave).
    let store = rt.block_on(async { EventStore::new(db.pool.clone()) });
    let bad_id = uuid::Uuid::now_v7();
    let bad = NewEvent::new(
        bad_id,
        "PracticeFlagged",
        &json!({ "not": "a flag" }),
        EventMetadata::default(),
    )
    .unwrap();
    rt.block_on(store.append(
        &format!("case-{}", uuid::Uuid::now_v7()),
        ExpectedRevision::NoStream,
        &[bad],
    ))
    .unwrap();

    // The views go on past it: a flag after it is seen, and its answer waits for the views.
    let flagged = service.graphql(Some(&icb), FLAG, flag_input("Z00012", 9_027));
    assert!(flagged["errors"].is_null(), "{flagged}");
    let summary = service.graphql(Some(&icb), "{ icb { summary { casesOpened } } }", json!({}));
    assert_eq!(summary["data"]["icb"]["summary"]["casesOpened"], 1, "{summary}");

    let parked = |token: &str| {
        service.graphql(
            Some(token),
            "{ parkedEvents { projection eventId type error attempts resolution } }",
            json!({}),
        )
    };
    assert!(eventually(Duration::from_secs(10), || {
        parked(&admin)["data"]["parkedEvents"]
            .as_array()
            .is_some_and(|events| events.iter().any(|e| e["projection"] == "case_view"))
    }));
    let listed = parked(&admin);
    let case_view = listed["data"]["parkedEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["projection"] == "case_view")
        .unwrap()
        .clone();
    assert_eq!(case_view["eventId"], bad_id.to_string());
    assert_eq!(case_view["type"], "PracticeFlagged");
    assert!(case_view["error"].as_str().unwrap().len() > 3, "{case_view}");
    assert!(case_view["resolution"].is_null());
    assert!(
        service
            .metric("caseledger_projection_parked_events", &[("projection", "case_view")])
            .unwrap()
            >= 1.0
    );

    // Only admins see or touch them.
    assert_eq!(codes(&parked(&icb)), vec!["FORBIDDEN"]);
    let retry = "mutation($p: String!, $e: ID!) { retryParkedEvent(projection: $p, eventId: $e) { resolution } }";
    let skip =
        "mutation($p: String!, $e: ID!) { skipParkedEvent(projection: $p, eventId: $e) { resolution resolvedAt } }";
    let on = |projection: &str| json!({ "p": projection, "e": bad_id.to_string() });
    assert_eq!(
        codes(&service.graphql(Some(&icb), skip, on("case_view"))),
        vec!["FORBIDDEN"]
    );
    // Retried while the cause is still there: it fails again, and says so.
    assert_eq!(
        codes(&service.graphql(Some(&admin), retry, on("case_view"))),
        vec!["EVENT_STILL_FAILS"]
    );
    assert_eq!(
        codes(&service.graphql(Some(&admin), retry, on("no_such_view"))),
        vec!["BAD_USER_INPUT"]
    );
    let skipped = service.graphql(Some(&admin), skip, on("case_view"));
    assert_eq!(skipped["data"]["skipParkedEvent"]["resolution"], "skipped", "{skipped}");
    assert_eq!(
        codes(&service.graphql(Some(&admin), skip, on("case_view"))),
        vec!["NOT_FOUND"],
        "already resolved"
    );
    assert!(eventually(Duration::from_secs(5), || {
        service.metric("caseledger_projection_parked_events", &[("projection", "case_view")]) == Some(0.0)
    }));
}
