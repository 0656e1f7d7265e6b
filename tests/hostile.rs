//! Hostile input, round 2, against the real binary over TCP: what an outsider can send that
//! would stall a worker, bloat `/metrics`, hold connections open, run expensive work fifty times
//! over, or learn the schema. Each refusal is checked for what the outsider gets back; the costs
//! are measured in BENCHMARKS.md, not timed here.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use caseledger_tests::{Service, Web, codes, connect_ws, next_message};
use serde_json::{Value, json};

/// `depth` fragments, each spreading the next twice: 2^depth selections from a few KB.
fn doubling(depth: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..depth {
        query.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    query.push_str(&format!("fragment F{depth} on Query {{ __typename }}\n"));
    query
}

/// Documents under the body limit that cost a parser or its checks more than their size.
fn expensive_documents() -> Vec<(&'static str, String)> {
    vec![
        // 2^45 selections from 90 spreads (within the limit on spreads): before the pre-pass,
        // async-graphql's own recursion check walked every spread again (28 levels took 10 s);
        // this would not finish in a lifetime.
        ("fragment doubling", doubling(45)),
        ("fragment doubling past the spreads", doubling(60)),
        (
            "nested lists",
            format!(
                "{{ case(id: {}\"x\"{}) {{ id }} }}",
                "[".repeat(5_000),
                "]".repeat(5_000)
            ),
        ),
        (
            "nested selections",
            format!("{}{}", "{ me ".repeat(3_000), "}".repeat(3_000)),
        ),
        ("a wall of braces", "{".repeat(60_000)),
        (
            "repeated directives",
            format!("{{ me {} {{ id }} }}", "@skip(if: false) ".repeat(2_000)),
        ),
        (
            "many operations",
            (0..2_000)
                .map(|i| format!("query Q{i} {{ me {{ id }} }}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ]
}

/// POSTs `query` without a token, giving up after a minute (a stalled service fails the test
/// instead of hanging it).
fn anonymous(service: &Service, query: &str) -> Value {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    match agent
        .post(&format!("{}/graphql", service.url))
        .send_json(json!({ "query": query }))
    {
        Ok(response) => response.into_json().unwrap(),
        Err(ureq::Error::Status(_, response)) => response.into_json().unwrap_or(Value::Null),
        Err(error) => panic!("no answer within a minute: {error}"),
    }
}

#[test]
fn documents_that_cost_more_than_their_size_are_refused_before_async_graphql_walks_them() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    for (what, document) in expensive_documents() {
        assert!(document.len() < 64 * 1024, "{what}: under the limit on a query's size");
        // No token, as the outsider had none; a guard, not a timing: without the pre-pass the
        // first document never finishes.
        let answer = anonymous(&service, &document);
        let codes = codes(&answer);
        assert!(
            codes
                .iter()
                .any(|c| c == "QUERY_TOO_COMPLEX" || c == "GRAPHQL_PARSE_FAILED")
                || (what == "many operations" && answer["errors"].is_array()),
            "{what}: refused, with a reason: {answer}"
        );
        assert!(
            answer["data"].is_null() || answer["data"]["me"].is_null(),
            "{what}: {answer}"
        );
    }
    // Eight at once, from eight connections, and the ICB's query still answers.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| anonymous(&service, &doubling(45)));
        }
        let summary = service.graphql(Some(&icb), "{ icb { summary { openCases } } }", json!({}));
        assert_eq!(summary["data"]["icb"]["summary"]["openCases"], 0, "{summary}");
    });
}

#[test]
fn metrics_labels_come_from_a_fixed_set_whatever_anonymous_callers_send() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    service.graphql(Some(&icb), "{ me { id } }", json!({}));
    let before = service.metrics();
    for i in 0..300 {
        // Random root fields (refused by validation), made-up methods and paths.
        service.graphql(None, &format!("{{ field{i} other{i} }}"), json!({}));
        service.graphql(None, &format!("query Op{i} {{ me {{ id }} }}"), json!({}));
        let _ = ureq::request(&format!("VERB{i}"), &format!("{}/graphql", service.url)).call();
        let _ = ureq::get(&format!("{}/no/such/path/{i}", service.url)).call();
    }
    service.graphql(Some(&icb), "{ me { id } icb { summary { openCases } } }", json!({}));
    let after = service.metrics();
    let series = |text: &str, name: &str| text.lines().filter(|l| l.starts_with(name)).count();
    for name in ["caseledger_graphql_requests_total", "caseledger_http_requests_total"] {
        let grown = series(&after, name).saturating_sub(series(&before, name));
        assert!(
            grown <= 12,
            "{name} grew by {grown} series from 1,200 hostile requests:\n{after}"
        );
    }
    for line in after
        .lines()
        .filter(|l| l.starts_with("caseledger_graphql_requests_total"))
    {
        assert!(
            [
                "operation=\"anonymous\"",
                "operation=\"me\"",
                "operation=\"multiple\"",
                "operation=\"icb\"",
                // The harness adds the tests' champions to the directory of people at start.
                "operation=\"addPerson\""
            ]
            .iter()
            .any(|label| line.contains(label)),
            "an operation label outside the fixed set: {line}"
        );
        assert!(!line.contains("field"), "{line}");
    }
    assert!(!after.contains("VERB1"), "methods are bounded too");
    assert!(
        after.len() < before.len() + 8 * 1024,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

/// A raw TCP connection to the service.
fn connect(service: &Service) -> TcpStream {
    let stream = TcpStream::connect(service.url.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Reads until the server closes the connection (or the read timeout); what it sent.
fn read_to_close(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) => panic!("the server kept the connection open past the read timeout: {error}"),
        }
    }
    (String::from_utf8_lossy(&answer).to_string(), started.elapsed())
}

#[test]
fn slow_headers_and_trickled_bodies_are_cut_off_and_connections_are_capped() {
    let service = Service::start_with(
        &[
            ("CASELEDGER_HEADER_TIMEOUT_SECONDS", "1"),
            ("CASELEDGER_BODY_TIMEOUT_SECONDS", "2"),
            ("CASELEDGER_MAX_CONNECTIONS", "6"),
        ],
        &[],
    );
    // Headers never finished: closed once the header time is up.
    let mut slow = connect(&service);
    slow.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (_, waited) = read_to_close(&mut slow);
    assert!(waited < Duration::from_secs(25), "closed after {waited:?}");

    // A body sent a byte at a time, more slowly than the body time allows.
    let mut trickle = connect(&service);
    trickle
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .unwrap();
    let writer = trickle.try_clone().unwrap();
    let feeding = std::thread::spawn(move || {
        let mut writer = writer;
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(250));
            if writer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let (answer, waited) = read_to_close(&mut trickle);
    assert!(answer.starts_with("HTTP/1.1 4"), "refused: {answer}");
    assert!(waited < Duration::from_secs(25), "closed after {waited:?}");
    feeding.join().unwrap();

    // Six connections held open (within the header time); a seventh is told to come back.
    let held: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut stream = connect(&service);
            stream.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n").unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut over = connect(&service);
    let (answer, _) = read_to_close(&mut over);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after"), "{answer}");
    drop(held);
    // Once they are gone, the service answers again.
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{}/livez", service.url)).call().is_err() {
        assert!(Instant::now() < deadline, "the service did not take connections again");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn one_person_is_rate_limited_with_a_retry_after_and_others_are_not() {
    let service = Service::start();
    let amira = service.token("champion", "dc-amira");
    let ben = service.token("champion", "dc-ben");
    let verify = "mutation { verifySlotVisibility(caseId: \"00000000-0000-0000-0000-000000000000\") { verdict } }";
    // A burst of searches, then refusals (the service has no GP Connect: each allowed one says
    // NOT_CONFIGURED, which is fine; the point is how many it will start).
    let mut limited = 0;
    for _ in 0..15 {
        let response = ureq::post(&format!("{}/graphql", service.url))
            .set("Authorization", &format!("Bearer {amira}"))
            .send_json(json!({ "query": verify }));
        if let Err(ureq::Error::Status(429, response)) = response {
            let retry = response.header("retry-after").map(str::to_string);
            let body: Value = response.into_json().unwrap();
            assert_eq!(codes(&body), ["RATE_LIMITED"], "{body}");
            assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
            assert!(
                retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1),
                "a Retry-After header"
            );
            limited += 1;
        }
    }
    assert!(limited >= 4, "15 searches in a burst: {limited} refused");
    let other = service.graphql(Some(&ben), verify, json!({}));
    assert_ne!(
        codes(&other),
        ["RATE_LIMITED"],
        "another person is not held up: {other}"
    );

    // Imports one at a time per person: ten at once, most are told to wait.
    let icb = service.token("icb", "icb-assurance-1");
    let mut csv = String::from("report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n");
    for n in 0..3_000 {
        csv.push_str(&format!("2026-01-05,Y{n:05},Practice {n},U10001,Rugby,6000,2\n"));
    }
    let import = "mutation($c: String!) { importDashboard(csv: $c) { rows } }";
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..10)
            .map(|_| scope.spawn(|| service.graphql(Some(&icb), import, json!({ "c": csv }))))
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let refused = answers
        .iter()
        .filter(|answer| codes(answer) == ["RATE_LIMITED"])
        .count();
    assert!(refused >= 5, "10 imports at once by one person: {refused} refused");
    assert!(
        answers
            .iter()
            .any(|answer| answer["data"]["importDashboard"]["rows"] == 3_000),
        "one went through"
    );
}

#[test]
fn live_streams_are_capped_per_person() {
    let service = Service::start();
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let cookie = web.cookie_header();
    let open = |cookie: &str| {
        let mut stream = connect(&service);
        stream
            .write_all(format!("GET /live HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n").as_bytes())
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        (String::from_utf8_lossy(&head).to_string(), stream)
    };
    let mut streams = Vec::new();
    for _ in 0..8 {
        let (status, stream) = open(&cookie);
        assert_eq!(status, "HTTP/1.1 200", "within the cap");
        streams.push(stream);
    }
    let (status, _) = open(&cookie);
    assert_eq!(status, "HTTP/1.1 429", "a ninth stream of one person");
    // Signing in again is the same person.
    let mut again = Web::new(&service);
    again.sign_in("icb-assurance-1");
    let (status, _) = open(&again.cookie_header());
    assert_eq!(status, "HTTP/1.1 429", "another session of the same person");
    streams.pop();
    std::thread::sleep(Duration::from_millis(300));
    let (status, _) = open(&cookie);
    assert_eq!(status, "HTTP/1.1 200", "one closed, one more allowed");
}

#[test]
fn introspection_is_off_outside_development_and_close_frames_fit_rfc_6455() {
    let production = Service::start_with(&[], &["CASELEDGER_DEV_JWT_SECRET"]);
    let answer = production.graphql(None, "{ __schema { types { name } } }", json!({}));
    assert!(
        answer["data"].is_null() || answer["data"]["__schema"].is_null(),
        "{answer}"
    );
    assert!(!answer.to_string().contains("CaseStatus"), "{answer}");
    let on = Service::start_with(
        &[("CASELEDGER_GRAPHQL_INTROSPECTION", "on")],
        &["CASELEDGER_DEV_JWT_SECRET"],
    );
    let answer = on.graphql(None, "{ __schema { queryType { name } } }", json!({}));
    assert_eq!(
        answer["data"]["__schema"]["queryType"]["name"], "Query",
        "when asked for: {answer}"
    );

    // A refused connection_init closes with a reason of at most 123 bytes (RFC 6455 §5.5).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let long_token = format!("{}.{}.{}", "x".repeat(300), "y".repeat(300), "z".repeat(300));
    let closed = runtime.block_on(async {
        let mut socket = connect_ws(&on.url, Some(long_token)).await;
        next_message(&mut socket).await
    });
    assert_eq!(closed["type"], "closed", "{closed}");
    let reason = closed["frame"].as_str().unwrap_or_default();
    assert!(reason.len() <= 123, "{} bytes: {reason}", reason.len());
}

#[test]
fn websockets_hold_their_connections_place_and_their_operations_are_capped() {
    let service = Service::start_with(
        &[
            ("CASELEDGER_MAX_CONNECTIONS", "3"),
            ("CASELEDGER_MAX_SUBSCRIPTIONS_PER_CONNECTION", "100"),
            ("CASELEDGER_MAX_SUBSCRIPTIONS_PER_PERSON", "100"),
        ],
        &[],
    );
    let icb = service.token("icb", "icb-assurance-1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use futures_util::SinkExt;
        // Three sockets, acknowledged: every place is taken, though hyper's own connections ended
        // when they upgraded.
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let mut socket = connect_ws(&service.url, Some(icb.clone())).await;
            assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
            sockets.push(socket);
        }
        let status = tokio::task::spawn_blocking({
            let url = service.url.clone();
            move || match ureq::get(&format!("{url}/livez")).call() {
                Ok(response) => response.status(),
                Err(ureq::Error::Status(status, _)) => status,
                Err(error) => panic!("{error}"),
            }
        })
        .await
        .unwrap();
        assert_eq!(status, 503, "every place taken by a socket");

        // Seventeen operations under way on one socket: it is closed, saying why.
        let socket = &mut sockets[0];
        for id in 0..17 {
            let subscribe = json!({ "id": id.to_string(), "type": "subscribe",
                "payload": { "query": "subscription { caseEvents { type } }" } });
            if socket
                .send(tokio_tungstenite::tungstenite::Message::text(subscribe.to_string()))
                .await
                .is_err()
            {
                break;
            }
        }
        let closed = next_message(socket).await;
        assert_eq!(closed["type"], "closed", "{closed}");
        assert!(
            closed["frame"].as_str().unwrap().contains("operations under way"),
            "{closed}"
        );
    });
}
