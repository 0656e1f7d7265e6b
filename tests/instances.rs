//! Three `caseledger serve` processes on one database: each projection runs in exactly one of
//! them, another takes over when that one is killed (`kill -9`) or stopped (SIGTERM), and a
//! subscription on any instance receives events appended through another. Their queries read from
//! a streaming standby of the database, so what one instance writes another reads there.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::time::{Duration, Instant};

use caseledger_tests::{Launch, Service, connect_ws, eventually, next_message};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PROJECTIONS: [&str; 2] = ["case_view", "practice_view"];

/// The instances (by index) that run `projection` now.
fn leaders(services: &[Option<Service>], projection: &str) -> Vec<usize> {
    services
        .iter()
        .enumerate()
        .filter_map(|(i, service)| service.as_ref().map(|s| (i, s)))
        .filter(|(_, service)| {
            service.metric("caseledger_subscriber_leader", &[("subscriber", projection)]) == Some(1.0)
        })
        .map(|(i, _)| i)
        .collect()
}

fn flag(service: &Service, token: &str, ods: &str) -> String {
    let flagged = service.graphql(
        Some(token),
        "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { case { id } } }",
        json!({ "i": { "odsCode": ods, "practiceName": "Mill Surgery", "pcnCode": "U10001",
                       "place": "Coventry", "listSize": 9027, "visibleSlots": 0 } }),
    );
    assert!(flagged["errors"].is_null(), "{flagged}");
    flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn case_ids(service: &Service, token: &str) -> Vec<String> {
    let cases = service.graphql(
        Some(token),
        "{ icb { cases(first: 100) { edges { node { id } } } } }",
        json!({}),
    );
    cases["data"]["icb"]["cases"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{cases}"))
        .iter()
        .map(|edge: &Value| edge["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until exactly one live instance runs `projection`, and checks it stays so.
fn single_leader(services: &[Option<Service>], projection: &str, within: Duration) -> usize {
    assert!(
        eventually(within, || leaders(services, projection).len() == 1),
        "{projection}: leaders {:?}",
        leaders(services, projection)
    );
    let leader = leaders(services, projection);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(leaders(services, projection), leader, "{projection} has one runner");
    }
    leader[0]
}

#[test]
fn three_instances_share_one_database() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Queries read from a streaming standby: what one instance writes, another reads there.
    let replicated = runtime.block_on(caseledger_testsupport::replicated_db());
    let db = &replicated.primary;
    let reads = [("CASELEDGER_READ_DATABASE_URL", replicated.replica_url.as_str())];
    let mut services: Vec<Option<Service>> = (0..3)
        .map(|_| {
            Some(Service::launch(
                &db.url(),
                Launch {
                    env: &reads,
                    ..Launch::default()
                },
            ))
        })
        .collect();
    for projection in PROJECTIONS {
        single_leader(&services, projection, Duration::from_secs(10));
    }
    let icb = services[0].as_ref().unwrap().token("icb", "icb-assurance-1");

    // A subscription on instance 2 receives what instance 0 appends, and instance 1 reads it.
    let (first, delivered) = runtime.block_on(async {
        let mut socket = connect_ws(&services[2].as_ref().unwrap().url, Some(icb.clone())).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        let subscribe = json!({ "id": "1", "type": "subscribe",
                                "payload": { "query": "subscription { caseEvents { caseId type } }" } });
        socket.send(Message::text(subscribe.to_string())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let first = flag(services[0].as_ref().unwrap(), &icb, "Z00001");
        (first, next_message(&mut socket).await)
    });
    assert_eq!(delivered["type"], "next", "{delivered}");
    assert_eq!(delivered["payload"]["data"]["caseEvents"]["type"], "PracticeFlagged");
    assert_eq!(delivered["payload"]["data"]["caseEvents"]["caseId"], first.as_str());
    assert_eq!(
        case_ids(services[1].as_ref().unwrap(), &icb),
        std::slice::from_ref(&first)
    );

    // kill -9 the instance running case_view: another takes over and keeps the view current.
    let killed = single_leader(&services, "case_view", Duration::from_secs(1));
    services[killed].as_mut().unwrap().kill();
    services[killed] = None;
    let started = Instant::now();
    let successor = single_leader(&services, "case_view", Duration::from_secs(15));
    eprintln!(
        "case_view: instance {killed} killed, instance {successor} took over in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let survivors: Vec<usize> = (0..3).filter(|i| services[*i].is_some()).collect();
    let second = flag(services[survivors[0]].as_ref().unwrap(), &icb, "Z00002");
    let reader = services[survivors[1]].as_ref().unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        let ids = case_ids(reader, &icb);
        ids.contains(&first) && ids.contains(&second)
    }));

    // SIGTERM the instance running practice_view: it stops cleanly and hands over.
    let stopped = single_leader(&services, "practice_view", Duration::from_secs(15));
    let status = services[stopped]
        .as_mut()
        .unwrap()
        .terminate(Duration::from_secs(30))
        .unwrap();
    assert!(status.success(), "{status}");
    services[stopped] = None;
    let successor = single_leader(&services, "practice_view", Duration::from_secs(15));
    assert_ne!(successor, stopped);
    for projection in PROJECTIONS {
        single_leader(&services, projection, Duration::from_secs(15));
    }
}
