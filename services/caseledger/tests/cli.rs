//! The command line, run as a user would: the real binary against a real database.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::path::PathBuf;
use std::process::Command;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

fn caseledger(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_caseledger"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("CASELEDGER_KEK", caseledger_testsupport::kek())
        .output()
        .unwrap()
}

#[tokio::test]
async fn replay_loads_the_case_study_and_reports_what_it_did() {
    let db = caseledger_testsupport::fresh_db().await;
    let out = caseledger(&db.url(), &["replay", fixture("case-study").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imports"], 9);
    assert_eq!(report["commands"], 235);
    assert_eq!(report["flagged"], 28);
    let compliant: i64 = sqlx::query_scalar("select count(*) from practice_cases where state = 'compliant'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(compliant, 28);
}

#[tokio::test]
async fn import_applies_a_good_file_and_rejects_a_bad_one_with_its_errors() {
    let db = caseledger_testsupport::fresh_db().await;
    let week0 = fixture("case-study/dashboard-week-00.csv");
    let out = caseledger(&db.url(), &["import", week0.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["rows"].as_u64(), report["flagged"].as_u64()),
        (Some(119), Some(28))
    );

    let bad = std::env::temp_dir().join(format!("caseledger-bad-{}.csv", std::process::id()));
    let text = std::fs::read_to_string(&week0)
        .unwrap()
        .replacen("Z00012", "NOT-A-CODE", 1)
        .replacen(",5121,", ",0,", 1);
    std::fs::write(&bad, text).unwrap();
    let out = caseledger(&db.url(), &["import", bad.to_str().unwrap()]);
    std::fs::remove_file(&bad).ok();
    assert!(!out.status.success(), "a bad file fails the command");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["errors"].as_array().unwrap().len() >= 2, "{report}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing applied"));
}

#[test]
fn without_database_url_it_runs_on_its_own_cluster_whose_data_survives_restarts() {
    let dir = std::env::temp_dir().join(format!("caseledger-embedded-{}", std::process::id()));
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_caseledger"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("CASELEDGER_DATA_DIR", &dir)
            .output()
            .unwrap()
    };
    let week0 = fixture("case-study/dashboard-week-00.csv");
    let first = run(&["import", week0.to_str().unwrap()]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["flagged"], 28);
    assert!(
        !dir.join("data/postmaster.pid").exists(),
        "the process that started the cluster stopped it"
    );

    let again = run(&["import", week0.to_str().unwrap()]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (report["observed"].as_u64(), report["flagged"].as_u64()),
        (Some(0), Some(0)),
        "the data survived the restart"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn parked_events_are_listed_retried_and_skipped_from_the_command_line() {
    use caseledger_eventstore::{EventMetadata, EventStore, ExpectedRevision, NewEvent};
    let db = caseledger_testsupport::fresh_db().await;
    let store = EventStore::new(db.pool.clone());
    // An event no projection can read, then every projection run over it: each parks it.
    let bad_id = uuid::Uuid::now_v7();
    let bad = NewEvent::new(
        bad_id,
        "PracticeFlagged",
        &serde_json::json!({ "not": "a flag" }),
        EventMetadata::default(),
    )
    .unwrap();
    store
        .append(
            &format!("case-{}", uuid::Uuid::now_v7()),
            ExpectedRevision::NoStream,
            &[bad],
        )
        .await
        .unwrap();
    let projections = caseledger_projections::Projections::start(&store);
    assert!(
        caseledger_projections::wait_for_projections(&store, std::time::Duration::from_secs(30))
            .await
            .unwrap(),
        "the projections went past the bad event"
    );
    projections.stop().await;

    let out = caseledger(&db.url(), &["parked", "list", "--projection", "case_view"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["event_id"], bad_id.to_string());
    assert!(
        listed[0]["error"].as_str().unwrap().contains("PracticeFlagged"),
        "{listed}"
    );

    let id = bad_id.to_string();
    let out = caseledger(&db.url(), &["parked", "retry", "case_view", &id]);
    assert!(!out.status.success(), "it still fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("still fails"));
    let out = caseledger(&db.url(), &["parked", "skip", "no_such_view", &id]);
    assert!(!out.status.success());
    let out = caseledger(&db.url(), &["parked", "skip", "case_view", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = caseledger(&db.url(), &["parked", "list"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case_view = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subscriber"] == "case_view")
        .unwrap();
    assert_eq!(case_view["resolution"], "skipped");
}

#[tokio::test]
async fn serve_refuses_to_start_without_its_key_encryption_key_or_with_another() {
    let db = caseledger_testsupport::fresh_db().await;
    // `replay` seals the case study's personal data under the tests' key.
    let out = caseledger(&db.url(), &["replay", fixture("case-study").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let serve = |kek: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_caseledger"));
        command
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("CASELEDGER_LISTEN", "127.0.0.1:0")
            .env("CASELEDGER_METRICS_LISTEN", "off")
            .env_remove("CASELEDGER_KEK");
        if let Some(kek) = kek {
            command.env("CASELEDGER_KEK", kek);
        }
        command.output().unwrap()
    };
    let missing = serve(None);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("CASELEDGER_KEK is not set"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let (_, other) = caseledger_eventstore::Kek::generate().unwrap();
    let wrong = serve(Some(&other));
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("not the one this database's personal data was sealed with"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
}
