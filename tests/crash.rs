//! Nothing acknowledged is lost: clients issue commands through GraphQL while the service is
//! killed (`kill -9`) and PostgreSQL is stopped as a crash would stop it (`pg_ctl stop -m
//! immediate`); both restart. Every acknowledged command's events are then present exactly once,
//! no stream has a gap in its revisions, and every projection equals a rebuild from zero.
//!
//! The test runs its own PostgreSQL cluster (it has to crash it), whatever `DATABASE_URL` says,
//! with a streaming standby the service's queries read from (it rides out the primary's crash).

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use caseledger_pgembed::{Cluster, StopMode};
use caseledger_tests::{Launch, Service, binary, eventually, fixture};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

const CLIENTS: usize = 4;

/// One client's commands, each retried with its own `commandId` until it is acknowledged.
fn client(
    n: usize,
    url: &RwLock<String>,
    token: &str,
    cases: &[String],
    stop: &AtomicBool,
    acknowledged: &Mutex<Vec<(String, String)>>,
) -> usize {
    let mut failures = 0;
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let case_id = &cases[(n * 7 + i) % cases.len()];
        let command_id = format!("crash-{n}-{i}");
        let (mutation, input) = if i % 2 == 0 {
            (
                "mutation($i: AddNoteInput!) { addNote(input: $i) { revision } }",
                json!({ "caseId": case_id, "text": format!("note {i} from client {n}"), "commandId": command_id }),
            )
        } else {
            (
                "mutation($i: RecordContactInput!) { recordContact(input: $i) { revision } }",
                json!({ "caseId": case_id, "channel": "PHONE", "contactName": "Practice Manager",
                        "summary": format!("call {i}"), "commandId": command_id }),
            )
        };
        // Retry the same command (same commandId) until it is acknowledged: through the crash
        // and the restart, on whatever address the service has now.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let target = format!("{}/graphql", url.read().unwrap());
            let answer = agent
                .post(&target)
                .set("Authorization", &format!("Bearer {token}"))
                .send_json(json!({ "query": mutation, "variables": { "i": input } }))
                .ok()
                .and_then(|response| response.into_json::<Value>().ok());
            match answer {
                Some(body) if body["errors"].is_null() && !body["data"].is_null() => {
                    acknowledged.lock().unwrap().push((command_id.clone(), case_id.clone()));
                    break;
                }
                _ => {
                    failures += 1;
                    assert!(Instant::now() < deadline, "{command_id} was never acknowledged");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    failures
}

/// Both projections' tables, as JSON text in a fixed order.
async fn views(conn: &mut PgConnection) -> (String, String) {
    let cases: String =
        sqlx::query_scalar("select coalesce(json_agg(v order by case_id)::text, '[]') from case_view v")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let practices: String =
        sqlx::query_scalar("select coalesce(json_agg(v order by ods_code)::text, '[]') from practice_view v")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    (cases, practices)
}

#[test]
fn nothing_acknowledged_is_lost_when_the_service_and_postgres_crash() {
    let cluster = Cluster::temporary("caseledger-crash").unwrap();
    cluster.discard_when_process_exits(std::process::id()).unwrap();
    cluster.start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut admin = PgConnection::connect_with(&cluster.connect_options("postgres"))
            .await
            .unwrap();
        sqlx::query("create database crash").execute(&mut admin).await.unwrap();
    });
    let url = cluster.database_url("crash");
    let standby = cluster.start_standby("caseledger-crash-standby").unwrap();
    standby.discard_when_process_exits(std::process::id()).unwrap();
    let replica_url = standby.database_url("crash");
    let reads = [("CASELEDGER_READ_DATABASE_URL", replica_url.as_str())];
    let with_reads = || Launch {
        env: &reads,
        ..Launch::default()
    };

    let mut service = Service::launch(&url, with_reads());
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let csv = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    let imported = service.graphql(
        Some(&icb),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged errors { message } } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 28, "{imported}");
    let listed = service.graphql(
        Some(&icb),
        "{ icb { cases(first: 100) { edges { node { id } } } } }",
        json!({}),
    );
    let cases: Vec<String> = listed["data"]["icb"]["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cases.len(), 28);
    // The champion works the cases she holds: the ICB assigns them to her.
    for case in &cases {
        let assigned = service.graphql(
            Some(&icb),
            "mutation($c: ID!) { assignCase(input: { caseId: $c, championId: \"dc-amira\" }) { revision } }",
            json!({ "c": case }),
        );
        assert!(assigned["errors"].is_null(), "{assigned}");
    }

    let address = Arc::new(RwLock::new(service.url.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (address, stop, acknowledged) = (address.clone(), stop.clone(), acknowledged.clone());
            let (token, cases) = (champion.clone(), cases.clone());
            std::thread::spawn(move || client(n, &address, &token, &cases, &stop, &acknowledged))
        })
        .collect();

    // Mid-run: the service dies, then PostgreSQL crashes; both come back.
    assert!(eventually(Duration::from_secs(30), || acknowledged
        .lock()
        .unwrap()
        .len()
        >= 100));
    let before_crash = acknowledged.lock().unwrap().len();
    service.kill();
    cluster.stop(StopMode::Immediate).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    cluster.start().unwrap();
    let service = Service::launch(&url, with_reads());
    *address.write().unwrap() = service.url.clone();
    assert!(eventually(Duration::from_secs(60), || {
        acknowledged.lock().unwrap().len() >= before_crash + 100
    }));
    stop.store(true, Ordering::Relaxed);
    let failures: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let acknowledged = acknowledged.lock().unwrap().clone();

    runtime.block_on(async {
        let mut conn = PgConnection::connect_with(&cluster.connect_options("crash"))
            .await
            .unwrap();
        // Every acknowledged command's event, exactly once, in the case it was meant for.
        let ids: Vec<String> = acknowledged.iter().map(|(id, _)| id.clone()).collect();
        let found: Vec<(String, String, i64)> = sqlx::query_as(
            "select metadata->>'command_id', min(stream_id), count(*) from events
              where metadata->>'command_id' = any($1) group by 1",
        )
        .bind(&ids)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let found: HashMap<String, (String, i64)> = found
            .into_iter()
            .map(|(id, stream, count)| (id, (stream, count)))
            .collect();
        for (command_id, case_id) in &acknowledged {
            let (stream, count) = found
                .get(command_id)
                .unwrap_or_else(|| panic!("acknowledged {command_id} is not in the log"));
            assert_eq!(*count, 1, "{command_id} is in the log {count} times");
            assert_eq!(stream, &format!("case-{case_id}"));
        }

        // No stream has a gap: revisions 0..n.
        let gaps: i64 = sqlx::query_scalar(
            "select count(*) from (select stream_id from events group by stream_id
                                    having min(revision) <> 0 or max(revision) <> count(*) - 1) g",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(gaps, 0, "streams with gaps in their revisions");

        // Every projection equals a rebuild from zero, once the live ones have caught up.
        let caught_up = || {
            ["case_view", "practice_view"].iter().all(|projection| {
                service.metric("caseledger_projection_lag_events", &[("projection", projection)]) == Some(0.0)
            })
        };
        assert!(eventually(Duration::from_secs(30), caught_up));
        let live = views(&mut conn).await;
        let rebuilt = Command::new(binary())
            .arg("rebuild")
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
        let from_zero = views(&mut conn).await;
        assert_eq!(live.0, from_zero.0, "case_view differs from a rebuild");
        assert_eq!(live.1, from_zero.1, "practice_view differs from a rebuild");
        let revisions: i64 = sqlx::query_scalar("select coalesce(sum(revision + 1), 0)::bigint from case_view")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let case_events: i64 = sqlx::query_scalar("select count(*) from events where stream_id like 'case-%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(revisions, case_events, "case_view has seen every case event");
    });
    println!(
        "crash test: {} commands acknowledged ({before_crash} before the crash), all {} checked; \
         {failures} attempts failed during the outage and were retried",
        acknowledged.len(),
        acknowledged.len()
    );
}
