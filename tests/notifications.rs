//! Email notifications end to end: the real binary sends through a real SMTP server started here
//! (a minimal one, speaking the protocol over TCP), and what arrived is read back. An overdue case
//! produces exactly one email for its champion, across a restart; a kind turned off sends nothing;
//! the DHU hears of a case waiting for its check; the ICB gets one digest per extract.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caseledger_tests::{Launch, Service, fixture};
use serde_json::json;

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    data: String,
}

/// An SMTP server on a free port, keeping every message it is given.
fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let kept = inbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut reply = |text: &str| writer.write_all(format!("{text}\r\n").as_bytes());
                if reply("220 test-smtp ESMTP").is_err() {
                    return;
                }
                let mut to = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    let answer = if command.starts_with("EHLO") || command.starts_with("HELO") {
                        "250 test-smtp"
                    } else if command.starts_with("MAIL FROM") {
                        to.clear();
                        "250 OK"
                    } else if command.starts_with("RCPT TO") {
                        to.push(line.trim_end()[8..].trim().to_string());
                        "250 OK"
                    } else if command == "DATA" {
                        if reply("354 go ahead").is_err() {
                            return;
                        }
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line.trim_end() == "." {
                                break;
                            }
                            data.push_str(&line);
                        }
                        kept.lock().unwrap().push(Received { to: to.clone(), data });
                        "250 OK queued"
                    } else if command == "QUIT" {
                        let _ = reply("221 bye");
                        return;
                    } else {
                        "250 OK"
                    };
                    if reply(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, inbox)
}

fn messages_to(inbox: &Arc<Mutex<Vec<Received>>>, address: &str) -> Vec<Received> {
    inbox
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.to.iter().any(|to| to.contains(address)))
        .cloned()
        .collect()
}

/// Waits (at most 30 s) until `done` holds.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn an_overdue_case_sends_its_champion_exactly_one_email_across_a_restart() {
    let (port, inbox) = smtp_server();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let env = [
        ("CASELEDGER_SMTP_URL", smtp.as_str()),
        ("CASELEDGER_MAIL_FROM", "CaseLedger <caseledger@test.nhs.uk>"),
        ("CASELEDGER_NOTIFY_EVERY_SECONDS", "1"),
        ("CASELEDGER_PUBLIC_URL", "https://caseledger.test"),
        ("CASELEDGER_MAIL_DOMAINS", "test.nhs.uk"),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(caseledger_testsupport::fresh_db());
    let mut service = Service::launch(
        &db.url(),
        Launch {
            env: &env,
            ..Launch::default()
        },
    );
    let icb = service.token("icb", "icb-assurance-1");
    let amira = service.token("champion", "dc-amira");
    let bryn = service.token("champion", "dc-bryn");
    let dhu = service.token("dhu", "dhu-liaison-1");

    // Each sets an address; Bryn turns deadline emails off; a bad address is refused.
    let set = "mutation($e: String, $off: [NotificationKind!]) { setNotifications(email: $e, off: $off) { email off kindsForRole } }";
    for (token, email, off) in [
        (&amira, "amira@test.nhs.uk", json!([])),
        (&bryn, "bryn@test.nhs.uk", json!(["DEADLINE"])),
        (&dhu, "dhu@test.nhs.uk", json!([])),
        (&icb, "icb@test.nhs.uk", json!([])),
    ] {
        let done = service.graphql(Some(token), set, json!({ "e": email, "off": off }));
        assert!(done["errors"].is_null(), "{done}");
    }
    for bad in ["not an address", "amira@gmail.com", "amira@test.nhs.uk.evil.example"] {
        let refused = service.graphql(Some(&amira), set, json!({ "e": bad }));
        assert_eq!(
            caseledger_tests::codes(&refused),
            vec!["BAD_USER_INPUT"],
            "{bad}: {refused}"
        );
    }
    let mine = service.graphql(Some(&bryn), "{ myNotifications { email off kindsForRole } }", json!({}));
    assert_eq!(mine["data"]["myNotifications"]["off"], json!(["DEADLINE"]), "{mine}");

    // Week 0: 28 flags from January, long past their contact target. Amira and Bryn take one each.
    let csv = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    let imported = service.graphql(
        Some(&icb),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 28, "{imported}");
    let cases = service.graphql(
        Some(&icb),
        "{ icb { cases(first: 3) { edges { node { id practice { odsCode name } } } } } }",
        json!({}),
    );
    let edges = cases["data"]["icb"]["cases"]["edges"].as_array().unwrap().clone();
    let node = |n: usize| edges[n]["node"].clone();
    for (token, champion, case) in [(&amira, "dc-amira", node(0)), (&bryn, "dc-bryn", node(1))] {
        let assigned = service.graphql(
            Some(token),
            "mutation($id: ID!, $c: String!) { assignCase(input: { caseId: $id, championId: $c }) { revision } }",
            json!({ "id": case["id"], "c": champion }),
        );
        assert!(assigned["errors"].is_null(), "{assigned}");
    }
    // A third case remapped: it waits for the DHU's check.
    let third = node(2);
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }",
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 9 }) { revision } }",
    ] {
        let done = service.graphql(Some(&amira), mutation, json!({ "id": third["id"] }));
        assert!(done["errors"].is_null(), "{done}");
    }

    let first_name = node(0)["practice"]["name"].as_str().unwrap().to_string();
    assert!(
        eventually(|| messages_to(&inbox, "amira@test.nhs.uk")
            .iter()
            .any(|m| m.data.contains(&first_name))),
        "Amira hears of her overdue case"
    );
    assert!(
        eventually(|| !messages_to(&inbox, "dhu@test.nhs.uk").is_empty()),
        "the DHU hears of the check"
    );
    assert!(
        eventually(|| !messages_to(&inbox, "icb@test.nhs.uk").is_empty()),
        "the ICB gets its digest"
    );
    // A few more rounds: nothing is sent twice.
    std::thread::sleep(Duration::from_secs(3));
    let about = |address: &str, text: &str| {
        messages_to(&inbox, address)
            .iter()
            .filter(|m| m.data.contains(text))
            .count()
    };
    let overdue = about("amira@test.nhs.uk", &first_name);
    assert_eq!(overdue, 1, "exactly one email about the overdue case");
    let mail = messages_to(&inbox, "amira@test.nhs.uk")
        .into_iter()
        .find(|m| m.data.contains(&first_name))
        .unwrap();
    assert!(
        mail.data.contains("Subject: Overdue: Contact the practice for"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("From: CaseLedger <caseledger@test.nhs.uk>"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains(&format!(
            "https://caseledger.test/cases/{}",
            node(0)["id"].as_str().unwrap()
        )),
        "{}",
        mail.data
    );
    assert!(
        messages_to(&inbox, "bryn@test.nhs.uk").is_empty(),
        "Bryn turned deadline emails off"
    );
    let digests = messages_to(&inbox, "icb@test.nhs.uk").len();
    assert_eq!(digests, 1, "one digest for the one extract");
    let dhu_before = messages_to(&inbox, "dhu@test.nhs.uk").len();

    // A restart: the outbox remembers what went.
    service.terminate(Duration::from_secs(20));
    let service = Service::launch(
        &db.url(),
        Launch {
            env: &env,
            ..Launch::default()
        },
    );
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        about("amira@test.nhs.uk", &first_name),
        1,
        "still exactly one after a restart"
    );
    assert_eq!(messages_to(&inbox, "icb@test.nhs.uk").len(), 1);
    assert_eq!(messages_to(&inbox, "dhu@test.nhs.uk").len(), dhu_before);

    // A Directory of Services gap: the ICB hears it waits for triage, by service and kind, never
    // the 111 provider's words.
    let reported = service.graphql(
        Some(&dhu),
        "mutation { reportDosGap(input: { serviceId: \"2000012345\", serviceName: \"Coventry district nursing\", \
         kind: HOURS, bitAt: \"2026-11-24T17:45:00Z\", detail: \"Caller Mrs Featherstonehaugh had no nurse\" }) { id } }",
        json!({}),
    );
    assert!(reported["errors"].is_null(), "{reported}");
    assert!(
        eventually(|| about("icb@test.nhs.uk", "Directory of Services gaps waiting for triage: 1") == 1),
        "the ICB hears of the gap"
    );
    let mail = messages_to(&inbox, "icb@test.nhs.uk")
        .into_iter()
        .find(|m| m.data.contains("Directory of Services"))
        .unwrap();
    assert!(mail.data.contains("Coventry district nursing"), "{}", mail.data);
    assert!(!mail.data.contains("Featherstonehaugh"), "{}", mail.data);
    assert!(mail.data.contains("https://caseledger.test/dos"), "{}", mail.data);

    // The practice of Amira's case answers her: she hears that it did, once, never its words.
    let ods = node(0)["practice"]["odsCode"].as_str().unwrap().to_string();
    let manager = service.token_of("practice", "pm-answering", &ods);
    let answered = service.graphql(
        Some(&manager),
        "mutation($id: ID!) { answerChampion(input: { caseId: $id, text: \"Ring Mrs Featherstonehaugh on Tuesdays\" }) { id } }",
        json!({ "id": node(0)["id"] }),
    );
    assert!(answered["errors"].is_null(), "{answered}");
    let subject = format!("Subject: The practice answered: {first_name}");
    assert!(
        eventually(|| about("amira@test.nhs.uk", &subject) == 1),
        "Amira hears that the practice answered"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(about("amira@test.nhs.uk", &subject), 1, "once an answer");
    assert_eq!(about("amira@test.nhs.uk", "Featherstonehaugh"), 0, "never its words");
    assert_eq!(about("bryn@test.nhs.uk", "answered"), 0, "not another champion's news");
    drop(service);
}
