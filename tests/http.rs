//! The service as HTTP clients meet it: limits on what one request may cost, GraphiQL only in
//! development, and subscriptions over graphql-transport-ws with the token in connection_init.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::time::Duration;

use caseledger_tests::{Service, codes, connect_ws, next_message};
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn post_raw(service: &Service, token: &str, body: &str) -> u16 {
    match ureq::post(&format!("{}/graphql", service.url))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(body)
    {
        Ok(response) => response.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(error) => panic!("{error}"),
    }
}

/// The status of a POST of a 5 MiB body. The service answers 413 part-way through the body and
/// closes; a client that only reads after sending everything may meet a broken pipe instead of
/// the answer, so this reads while a second thread sends.
fn oversized_post(service: &Service, token: &str) -> u16 {
    use std::io::{Read, Write};
    let address = service.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let length = 5 * 1024 * 1024;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..length / chunk.len() {
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    drop(stream);
    let _ = sender.join();
    std::str::from_utf8(&answer[9..12]).unwrap().parse().unwrap()
}

#[test]
fn batches_oversized_bodies_and_deep_queries_are_refused() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let batch = r#"[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]"#;
    assert_eq!(post_raw(&service, &icb, batch), 400, "batched requests are refused");
    assert_eq!(oversized_post(&service, &icb), 413, "bodies over 4 MiB are refused");

    let deep =
        "{ icb { cases { edges { node { practice { latestObservation { reportDate } } history { data } } } } } }";
    assert!(
        service.graphql(Some(&icb), deep, json!({}))["errors"].is_null(),
        "an ordinary nested query is answered"
    );
    let mut too_deep = String::from("{ __schema { types { ");
    for _ in 0..8 {
        too_deep.push_str("fields { type { ofType { ");
    }
    too_deep.push_str("name");
    too_deep.push_str(&" } } }".repeat(8));
    too_deep.push_str(" } } }");
    let response = service.graphql(Some(&icb), &too_deep, json!({}));
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{response}"
    );
    assert!(
        codes(&service.graphql(Some("not-a-token"), "{ me { id } }", json!({})))
            .contains(&"UNAUTHENTICATED".to_string())
    );
}

#[test]
fn graphiql_is_served_in_development_mode_only() {
    let service = Service::start();
    let page = ureq::get(&format!("{}/graphiql", service.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(page.contains("graphiql"), "development mode serves GraphiQL");
    let production = Service::start_with(&[], &["CASELEDGER_DEV_JWT_SECRET"]);
    match ureq::get(&format!("{}/graphiql", production.url)).call() {
        Err(ureq::Error::Status(404, _)) => {}
        other => panic!("GraphiQL outside development mode: {other:?}"),
    }
}

#[test]
fn a_subscription_delivers_new_events_through_the_subscribers_lens() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let lmc = service.token("lmc", "lmc-officer-1");
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Z00012\", practiceName: \"Mill\", pcnCode: \"U10001\", place: \"Coventry\", listSize: 5121, visibleSlots: 0 }) { case { id } } }",
        json!({}),
    );
    let case_id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The champion takes the case: she works (and reads as a champion) the cases she holds.
    let taken = service.graphql(
        Some(&champion),
        "mutation($c: ID!) { assignCase(input: { caseId: $c, championId: \"dc-amira\" }) { revision } }",
        json!({ "c": case_id }),
    );
    assert!(taken["errors"].is_null(), "{taken}");
    let ws_url = service.url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connect = |token: Option<String>| connect_ws(&ws_url, token);

        // Without a token the connection is refused.
        let mut anonymous = connect(None).await;
        let refused = next_message(&mut anonymous).await;
        assert_ne!(refused["type"], "connection_ack", "{refused}");

        let mut socket = connect(Some(lmc.clone())).await;
        assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($c: ID) { caseEvents(caseId: $c) { type actorId data } }", "variables": { "c": case_id } } });
        socket.send(Message::text(subscribe.to_string())).await.unwrap();
        // The champion's subscription receives the personal fields, opened from their sealed form.
        let mut champion_socket = connect(Some(champion.clone())).await;
        assert_eq!(next_message(&mut champion_socket).await["type"], "connection_ack");
        champion_socket.send(Message::text(subscribe.to_string())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;

        let contact = service.graphql(
            Some(&champion),
            "mutation($i: RecordContactInput!) { recordContact(input: $i) { revision } }",
            json!({ "i": { "caseId": case_id, "channel": "PHONE", "contactName": "Practice Manager 7", "summary": "Talked it through" } }),
        );
        assert!(contact["errors"].is_null(), "{contact}");
        let event = next_message(&mut socket).await;
        assert_eq!(event["type"], "next", "{event}");
        let delivered = &event["payload"]["data"]["caseEvents"];
        assert_eq!(delivered["type"], "PracticeContacted");
        assert!(delivered["actorId"].is_null(), "the LMC does not learn which champion");
        assert!(!event.to_string().contains("Practice Manager 7") && !event.to_string().contains("Talked it through"));
        let opened = next_message(&mut champion_socket).await;
        let delivered = &opened["payload"]["data"]["caseEvents"]["data"];
        assert_eq!(delivered["contact_name"], "Practice Manager 7", "{opened}");
        assert_eq!(delivered["summary"], "Talked it through", "{opened}");
    });
}

#[test]
fn the_trend_follows_the_log_as_it_grows() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let today =
        service.graphql(Some(&icb), "{ icb { summary { asOf } } }", json!({}))["data"]["icb"]["summary"]["asOf"]
            .as_str()
            .unwrap()[..10]
            .to_string();
    let trend = "query($d: Date!) { icb { trend(from: $d, to: $d) { openCases } } }";
    let open_today = |service: &Service| {
        service.graphql(Some(&icb), trend, json!({ "d": today }))["data"]["icb"]["trend"][0]["openCases"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(open_today(&service), 0);
    assert_eq!(open_today(&service), 0, "asked again, from the cached timeline");
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Z00012\", practiceName: \"Mill\", pcnCode: \"U10001\", place: \"Coventry\", listSize: 5121, visibleSlots: 0 }) { revision } }",
        json!({}),
    );
    assert!(flagged["errors"].is_null(), "{flagged}");
    assert_eq!(open_today(&service), 1, "the new case is in the trend");
}
