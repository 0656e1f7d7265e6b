//! The case study, replayed through GraphQL only, as the four parties with their own tokens,
//! against the real binary: the ICB's summary and weekly trend, each party's view, the end state.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::{BTreeMap, BTreeSet, HashMap};

use caseledger_tests::{Service, codes, fixture};
use serde_json::{Value, json};

/// Every step of the story in business-time order: (at, extract file | intervention line).
fn timeline() -> Vec<(String, Result<String, Value>)> {
    let dir = fixture("case-study");
    let mut steps: Vec<(String, u8, Result<String, Value>)> = Vec::new();
    let mut extracts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("dashboard-"))
        .collect();
    extracts.sort();
    for path in extracts {
        let csv = std::fs::read_to_string(path).unwrap();
        let date = csv.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
        steps.push((format!("{date}T00:00:00Z"), 0, Ok(csv)));
    }
    for line in std::fs::read_to_string(dir.join("interventions.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
    {
        let line: Value = serde_json::from_str(line).unwrap();
        steps.push((line["at"].as_str().unwrap().to_string(), 1, Err(line)));
    }
    steps.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    steps.into_iter().map(|(at, _, step)| (at, step)).collect()
}

/// The mutation and input that record an intervention line.
fn mutation_for(line: &Value, case_id: &str) -> (&'static str, Value) {
    let data = &line["data"];
    let upper = |v: &Value| Value::String(v.as_str().unwrap().to_uppercase());
    let (name, mut input) = match line["kind"].as_str().unwrap() {
        "CaseAssigned" => ("assignCase", json!({ "championId": data["champion_id"] })),
        "PracticeContacted" => (
            "recordContact",
            json!({ "channel": upper(&data["channel"]), "contactName": data["contact_name"], "summary": data["summary"] }),
        ),
        "GuidanceShared" => (
            "shareGuidance",
            json!({ "guide": data["guide"], "version": data["version"] }),
        ),
        "RootCauseIdentified" => (
            "recordRootCause",
            json!({ "cause": upper(&data["cause"]), "detail": data["detail"] }),
        ),
        "SlotsRemapped" => (
            "recordRemap",
            json!({
                "changes": data["changes"].as_array().unwrap().iter().map(upper).collect::<Vec<_>>(),
                "slotsPerDayConfigured": data["slots_per_day_configured"]
            }),
        ),
        "GpConnectReEnabled" => ("recordGpConnectReEnabled", json!({ "reference": data["reference"] })),
        "DhuVisibilityConfirmed" => (
            "confirmDhuVisibility",
            json!({ "visibleSlotsPerDay": data["visible_slots_per_day"] }),
        ),
        "ComplianceConfirmed" => (
            "confirmCompliance",
            json!({ "visibleSlotsPerDay": data["visible_slots_per_day"], "evidence": upper(&data["evidence"]) }),
        ),
        other => panic!("no mutation for {other}"),
    };
    input["caseId"] = json!(case_id);
    input["occurredAt"] = line["at"].clone();
    (name, input)
}

fn input_type(mutation: &str) -> String {
    let mut chars = mutation.chars();
    let first = chars.next().unwrap().to_uppercase().collect::<String>();
    format!("{first}{}Input", chars.as_str())
}

#[test]
fn the_case_study_through_graphql_as_the_four_parties() {
    let service = Service::start();
    let mut tokens: HashMap<(String, String), String> = HashMap::new();
    let mut token = |role: &str, sub: &str| {
        tokens
            .entry((role.to_string(), sub.to_string()))
            .or_insert_with(|| service.token(role, sub))
            .clone()
    };
    let icb = token("icb", "icb-assurance-1");

    let anonymous = service.graphql(None, "{ me { id } }", json!({}));
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);

    let mut case_ids: HashMap<String, String> = HashMap::new();
    let mut assigned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, step) in timeline() {
        match step {
            Ok(csv) => {
                let response = service.graphql(
                    Some(&icb),
                    "mutation($csv: String!) { importDashboard(csv: $csv) { rows errors { message } } }",
                    json!({ "csv": csv }),
                );
                assert!(response["errors"].is_null(), "{response}");
                assert_eq!(response["data"]["importDashboard"]["errors"], json!([]));
            }
            Err(line) => {
                let ods = line["ods_code"].as_str().unwrap().to_string();
                let case_id = case_ids
                    .entry(ods.clone())
                    .or_insert_with(|| {
                        let found = service.graphql(
                            Some(&icb),
                            "query($o: String!) { caseByPractice(odsCode: $o) { id } }",
                            json!({ "o": ods }),
                        );
                        found["data"]["caseByPractice"]["id"].as_str().unwrap().to_string()
                    })
                    .clone();
                if line["kind"] == "CaseAssigned" {
                    assigned
                        .entry(line["actor"].as_str().unwrap().to_string())
                        .or_default()
                        .insert(ods);
                }
                let (name, input) = mutation_for(&line, &case_id);
                let party = token(line["role"].as_str().unwrap(), line["actor"].as_str().unwrap());
                let query = format!(
                    "mutation($i: {}!) {{ {name}(input: $i) {{ revision case {{ status }} }} }}",
                    input_type(name)
                );
                let response = service.graphql(Some(&party), &query, json!({ "i": input }));
                assert!(
                    response["errors"].is_null(),
                    "{name} for {}: {response}",
                    line["ods_code"]
                );
            }
        }
    }

    let summary = service.graphql(
        Some(&icb),
        "{ icb { summary { practices nonCompliantPractices casesOpened openCases compliantCases closedCases } } }",
        json!({}),
    );
    assert_eq!(
        summary["data"]["icb"]["summary"],
        json!({ "practices": 119, "nonCompliantPractices": 0, "casesOpened": 28, "openCases": 0, "compliantCases": 28, "closedCases": 0 })
    );
    let trend = service.graphql(
        Some(&icb),
        "{ icb { trend(from: \"2026-01-05\", to: \"2026-03-02\", everyDays: 7) { nonCompliantPractices } } }",
        json!({}),
    );
    let weekly: Vec<i64> = trend["data"]["icb"]["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nonCompliantPractices"].as_i64().unwrap())
        .collect();
    assert_eq!(weekly, vec![28, 25, 21, 16, 11, 7, 4, 1, 0]);

    for (champion, practices) in &assigned {
        let mine = service.graphql(
            Some(&token("champion", champion)),
            "{ champion { myCases { practice { odsCode } } } }",
            json!({}),
        );
        let seen: BTreeSet<String> = mine["data"]["champion"]["myCases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["practice"]["odsCode"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(&seen, practices, "{champion}'s caseload");
    }

    let dhu = service.graphql(
        Some(&token("dhu", "dhu-liaison-1")),
        "{ dhu { awaitingConfirmation { id } openIssues { id } confirmed { totalCount } } }",
        json!({}),
    );
    assert_eq!(dhu["data"]["dhu"]["awaitingConfirmation"], json!([]));
    assert_eq!(dhu["data"]["dhu"]["openIssues"], json!([]));
    assert_eq!(dhu["data"]["dhu"]["confirmed"]["totalCount"], 28);

    let lmc = service.graphql(
        Some(&token("lmc", "lmc-officer-1")),
        "{ lmc { contractReviews cases(first: 100) { totalCount edges { node { status assignedTo history { type data } } } } } }",
        json!({}),
    );
    assert_eq!(lmc["data"]["lmc"]["contractReviews"], 0);
    assert_eq!(lmc["data"]["lmc"]["cases"]["totalCount"], 28);
    let text = lmc.to_string();
    assert!(!text.contains("Practice Manager"), "no contact names for the LMC");
    assert!(
        !text.contains("Explained the 111 slot requirement"),
        "no summaries for the LMC"
    );
    assert_eq!(
        codes(&service.graphql(
            Some(&token("lmc", "lmc-officer-1")),
            "{ icb { summary { practices } } }",
            json!({})
        )),
        ["FORBIDDEN"]
    );
}

/// The demo on one day: the ICB's cases (status, shortfall, deadline, when and how opened), its
/// late cases and its reports to triage, and what waits for the DHU.
fn demo_on(now: &str) -> Value {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(caseledger_testsupport::fresh_db());
    let dir = tempfile::tempdir().unwrap();
    let port = caseledger_tests::free_port();
    let mut demo = Command::new(caseledger_tests::binary())
        .arg("demo")
        .env("DATABASE_URL", db.url())
        .env("CASELEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .env("CASELEDGER_METRICS_LISTEN", "off")
        .env("CASELEDGER_DEV_JWT_SECRET", caseledger_tests::secret())
        .env("CASELEDGER_DATA_DIR", dir.path())
        .env("CASELEDGER_NOW", now)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(180);
    while ureq::get(&format!("{base}/readyz")).call().is_err() {
        assert!(demo.try_wait().unwrap().is_none(), "the demo exited on {now}");
        assert!(Instant::now() < deadline, "the demo did not become ready on {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let token = |role: &str, sub: &str| {
        // A PCN's clinical director names its PCN (the demo's `cd-u10001` is U10001's).
        let org: &[&str] = if role == "pcn_clinical_director" {
            &["--org", "U10001"]
        } else {
            &[]
        };
        let out = Command::new(caseledger_tests::binary())
            .args(["token", "--role", role, "--sub", sub])
            .args(org)
            .env("CASELEDGER_DEV_JWT_SECRET", caseledger_tests::secret())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let ask = |role: &str, sub: &str, query: &str| -> Value {
        ureq::post(&format!("{base}/graphql"))
            .set("Authorization", &format!("Bearer {}", token(role, sub)))
            .send_json(json!({ "query": query }))
            .unwrap()
            .into_json()
            .unwrap()
    };
    let icb = ask(
        "icb",
        "icb-assurance-1",
        "{ icb { cases(first: 100) { edges { node { status openedAt openDhuIssue dhuShortfall { visibleSlots } \
           deadline { overdue } history { type data } } } } overdue { id } dhuReports { id } } }",
    );
    let dhu = ask("dhu", "dhu-liaison-1", "{ dhu { awaitingConfirmation { id } } }");
    let work = ask(
        "icb",
        "icb-assurance-1",
        "{ diversions { practice { odsCode } endedAt acknowledgedAt from } diversionReviews { support } \
           coreHoursCalls { odsCode outlier } dosServices { serviceId rag } dosGaps { serviceId status } }",
    );
    let pcn = ask(
        "pcn_clinical_director",
        "cd-u10001",
        "{ telephonyMetrics { odsCode months { month } } pcnReviewNotes { month note } }",
    );
    let _ = demo.kill();
    let _ = demo.wait();
    assert_eq!(pcn["errors"], Value::Null, "{now}: {pcn}");
    assert_eq!(icb["errors"], Value::Null, "{now}: {icb}");
    assert_eq!(dhu["errors"], Value::Null, "{now}: {dhu}");
    assert_eq!(work["errors"], Value::Null, "{now}: {work}");
    json!({ "icb": icb["data"]["icb"], "dhu": dhu["data"]["dhu"], "work": work["data"], "pcn": pcn["data"] })
}

/// The demo's picture is the same whatever the day: run with the clock started on every day of a
/// fortnight over Christmas and New Year (weekends, three bank holidays, the first working day of
/// a year), at different hours, never on the real date.
#[test]
fn the_demo_shows_work_in_progress_with_cases_in_every_stage_some_late_on_any_day() {
    let days: Vec<String> = (0..16)
        .map(|day| {
            // Sunday 20 December 2026 to Monday 4 January 2027; the hour moves through the day.
            let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
            let date = start + chrono::Days::new(day);
            format!("{date}T{:02}:{:02}:00Z", (day * 7 + 1) % 24, (day * 13) % 60)
        })
        .collect();
    let pictures: Vec<(String, Value)> = std::thread::scope(|scope| {
        days.chunks(4)
            .flat_map(|chunk| {
                let running: Vec<_> = chunk
                    .iter()
                    .map(|now| scope.spawn(move || (now.clone(), demo_on(now))))
                    .collect();
                running.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
            })
            .collect()
    });
    for (now, picture) in pictures {
        let today = &now[..10];
        let nodes: Vec<&Value> = picture["icb"]["cases"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .collect();
        let statuses: BTreeSet<&str> = nodes.iter().filter_map(|n| n["status"].as_str()).collect();
        for stage in ["FLAGGED", "CONTACTED", "REMAPPED", "DHU_CONFIRMED", "COMPLIANT"] {
            assert!(statuses.contains(stage), "{now}: no case is {stage}: {statuses:?}");
        }
        let open = nodes.iter().filter(|n| n["deadline"].is_object()).count();
        let late = picture["icb"]["overdue"].as_array().unwrap().len();
        assert!(late > 0 && late < open, "{now}: some late, not all: {late} of {open}");
        let shortfalls: Vec<_> = nodes.iter().filter(|n| n["dhuShortfall"].is_object()).collect();
        assert_eq!(shortfalls.len(), 1, "{now}: one DHU shortfall");
        assert_eq!(
            shortfalls[0]["status"], "REMAPPED",
            "{now}: a shortfall leaves the case with the champion"
        );
        let waiting = picture["dhu"]["awaitingConfirmation"].as_array().unwrap().len();
        assert!(waiting > 0, "{now}: a remapped case waits for the DHU");
        assert_eq!(
            picture["icb"]["dhuReports"].as_array().unwrap().len(),
            1,
            "{now}: one report to triage"
        );
        let by_hand: Vec<_> = nodes
            .iter()
            .filter(|n| {
                n["history"][0]["type"] == "PracticeFlagged" && n["history"][0]["data"]["source"]["kind"] == "manual"
            })
            .collect();
        assert_eq!(by_hand.len(), 1, "{now}: one practice flagged by hand");
        assert_eq!(by_hand[0]["status"], "FLAGGED");
        assert!(
            by_hand[0]["openedAt"].as_str().unwrap().starts_with(today),
            "{now}: flagged by hand today: {}",
            by_hand[0]["openedAt"]
        );
        // The 111 work beside the slots: three diversions at Arden (ended, a review opened and a
        // champion rang), one running at Mill waiting for acknowledgement; core-hours calls for the
        // PCN with Mill standing out.
        let diversions = picture["work"]["diversions"].as_array().unwrap();
        assert_eq!(diversions.len(), 4, "{now}: {diversions:?}");
        let running: Vec<_> = diversions.iter().filter(|d| d["endedAt"].is_null()).collect();
        assert_eq!(running.len(), 1, "{now}: one running");
        assert_eq!(running[0]["practice"]["odsCode"], "Z00012");
        assert!(running[0]["acknowledgedAt"].is_null(), "{now}: waiting for the ICB");
        assert!(
            diversions.iter().all(|d| &d["from"].as_str().unwrap()[..10] <= today),
            "{now}: no diversion in the demo's future"
        );
        assert_eq!(
            picture["work"]["diversionReviews"],
            json!([{ "support": ["CALL"] }]),
            "{now}: Arden's review, supported"
        );
        let calls = picture["work"]["coreHoursCalls"].as_array().unwrap();
        assert_eq!(calls.len(), 7, "{now}: the PCN's seven practices");
        let high: Vec<_> = calls.iter().filter(|c| c["outlier"] == true).collect();
        assert_eq!(high.len(), 1, "{now}: {calls:?}");
        assert_eq!(high[0]["odsCode"], "Z00012");
        // The PCN's practices' telephony, the six months before this one, and the note it made.
        let this_month = format!("{}-01", &today[..7]);
        let telephony = picture["pcn"]["telephonyMetrics"].as_array().unwrap();
        assert_eq!(telephony.len(), 7, "{now}: {telephony:?}");
        for practice in telephony {
            let months: Vec<&str> = practice["months"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["month"].as_str().unwrap())
                .collect();
            assert_eq!(
                months.len(),
                6,
                "{now}: the six whole months before this one: {months:?}"
            );
            assert!(
                months.iter().all(|m| *m < this_month.as_str()),
                "{now}: only ended months: {months:?}"
            );
        }
        let notes = picture["pcn"]["pcnReviewNotes"].as_array().unwrap();
        assert_eq!(notes.len(), 1, "{now}: {notes:?}");
        // Directory of Services gaps in every stage's colour: red, amber, green.
        assert_eq!(
            picture["work"]["dosServices"],
            json!([
                { "serviceId": "2000012345", "rag": "RED" },
                { "serviceId": "2000023456", "rag": "AMBER" },
                { "serviceId": "2000067890", "rag": "GREEN" }
            ]),
            "{now}"
        );
        let mut stages: Vec<&str> = picture["work"]["dosGaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["status"].as_str().unwrap())
            .collect();
        stages.sort_unstable();
        assert_eq!(stages, ["AWAITING_UPDATE", "CLOSED", "REPORTED"], "{now}");
        // Nothing in the demo lies in its future.
        for node in &nodes {
            assert!(
                &node["openedAt"].as_str().unwrap()[..10] <= today,
                "{now}: {}",
                node["openedAt"]
            );
        }
    }
}

/// Ctrl-C as soon as the demo is ready, while its GP Connect schedule is in its first round: the
/// round finishes while the database is still there, and the service stops cleanly.
#[test]
fn the_demo_stopped_at_once_finishes_its_background_rounds_before_the_database_goes() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    // As root the cluster runs as `postgres`, which must be able to reach its directory inside.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = caseledger_tests::free_port();
    // The demo's own embedded cluster: the one whose pool closes as the service stops.
    let mut demo = Command::new(caseledger_tests::binary())
        .arg("demo")
        .env_remove("DATABASE_URL")
        .env("CASELEDGER_NOW", caseledger_tests::TEST_NOW)
        .env("CASELEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .env("CASELEDGER_METRICS_LISTEN", "off")
        .env("CASELEDGER_DATA_DIR", dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(180);
    while ureq::get(&format!("{base}/readyz")).call().is_err() {
        assert!(demo.try_wait().unwrap().is_none(), "the demo exited");
        assert!(Instant::now() < deadline, "the demo did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = demo.wait().unwrap();
    let mut log = String::new();
    demo.stdout.take().unwrap().read_to_string(&mut log).unwrap();
    demo.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(status.success(), "{status}: {log}");
    for failure in ["closed pool", "not recorded", "ERROR"] {
        assert!(!log.contains(failure), "{failure:?} on shutdown:\n{log}");
    }
    assert!(log.contains("embedded PostgreSQL stopped"), "{log}");
}

/// `value` with each `"$name"` string replaced by what an earlier step saved under `name`.
fn bind(value: &Value, saved: &HashMap<String, Value>) -> Value {
    match value {
        Value::String(text) => text
            .strip_prefix('$')
            .and_then(|name| saved.get(name))
            .cloned()
            .unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(items.iter().map(|v| bind(v, saved)).collect()),
        Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), bind(v, saved))).collect()),
        other => other.clone(),
    }
}

/// Each new case type's recorded story (`tests/fixtures/stories/*.jsonl`: a step a line, as one
/// party, with what it must answer, the error it must get, words it must never see, and ids to
/// keep for later steps) replayed through GraphQL against the real binary, party by party.
#[test]
fn each_case_types_recorded_story_replays_through_graphql_as_each_party() {
    for story in ["diversions", "telephony", "dos"] {
        let service = Service::start();
        let text = std::fs::read_to_string(fixture(&format!("stories/{story}.jsonl"))).unwrap();
        let mut saved: HashMap<String, Value> = HashMap::new();
        let mut tokens: HashMap<String, String> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let step: Value = serde_json::from_str(line).unwrap();
            let at = format!("{story}.jsonl:{}: {}", n + 1, step["note"]);
            let who = &step["as"];
            let (role, sub) = (who["role"].as_str().unwrap(), who["sub"].as_str().unwrap());
            let token = tokens
                .entry(format!("{role}/{sub}"))
                .or_insert_with(|| match who["org"].as_str() {
                    Some(org) => service.token_of(role, sub, org),
                    None => service.token(role, sub),
                })
                .clone();
            let variables = bind(&step["variables"], &saved);
            let answer = service.graphql(
                Some(&token),
                step["query"].as_str().unwrap(),
                if variables.is_null() { json!({}) } else { variables },
            );
            match step["error"].as_str() {
                Some(code) => {
                    assert_eq!(codes(&answer), vec![code.to_string()], "{at}: {answer}");
                    continue;
                }
                None => assert!(answer["errors"].is_null(), "{at}: {answer}"),
            }
            let data = &answer["data"];
            for (pointer, expected) in step["expect"].as_object().into_iter().flatten() {
                assert_eq!(
                    data.pointer(pointer),
                    Some(&bind(expected, &saved)),
                    "{at}: {pointer} in {data}"
                );
            }
            for words in step["absent"].as_array().into_iter().flatten() {
                let words = bind(words, &saved);
                let words = words.as_str().unwrap();
                assert!(!data.to_string().contains(words), "{at}: {words} in {data}");
            }
            for (name, pointer) in step["save"].as_object().into_iter().flatten() {
                let value = data.pointer(pointer.as_str().unwrap()).cloned();
                saved.insert(
                    name.clone(),
                    value.unwrap_or_else(|| panic!("{at}: nothing at {pointer}")),
                );
            }
        }
    }
}
