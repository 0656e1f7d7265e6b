//! Every path a case takes (`fixtures/paths/`), through GraphQL as each party, with each party's
//! view checked after each step: shortfalls, a remap after a DHU confirmation, the requirement
//! following the list size, episodes, evidence, DHU reports and their triage, a close after
//! compliance, a contract review with its outcome.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::HashMap;

use caseledger_tests::{Service, codes, fixture};
use serde_json::{Value, json};

/// The case fields the steps' expectations may name.
const CASE: &str = "id status requiredSlots revision reopenReason source openDhuIssue \
                    dhuShortfall { visibleSlots requiredSlots } contractReviewOpen \
                    contractReviews { reason outcome note } assignedTo";
const SUMMARY: &str = "casesOpened openCases compliantCases closedCases \
                       compliantWithinDays { days count percentage }";

struct Run {
    service: Service,
    tokens: HashMap<String, String>,
}

impl Run {
    fn token(&mut self, who: &str) -> String {
        let (role, id) = who.split_once(':').unwrap();
        if !self.tokens.contains_key(who) {
            let token = self.service.token(role, id);
            self.tokens.insert(who.to_string(), token);
        }
        self.tokens[who].clone()
    }

    fn as_party(&mut self, who: &str, query: &str, variables: Value) -> Value {
        let token = self.token(who);
        self.service.graphql(Some(&token), query, variables)
    }

    /// The practice's case id, as the ICB finds it.
    fn case_id(&mut self, ods: &str) -> Option<String> {
        let answer = self.as_party(
            "icb:icb-assurance-1",
            "query($o: String!) { caseByPractice(odsCode: $o) { id } }",
            json!({ "o": ods }),
        );
        answer["data"]["caseByPractice"]["id"].as_str().map(str::to_string)
    }

    /// The DHU report on the practice, as the ICB lists them.
    fn report_id(&mut self, ods: &str) -> String {
        let answer = self.as_party(
            "icb:icb-assurance-1",
            "{ icb { dhuReports(status: [NEW, CASE_OPENED, DISMISSED]) { id practice { odsCode } } } }",
            json!({}),
        );
        answer["data"]["icb"]["dhuReports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["practice"]["odsCode"] == ods)
            .unwrap_or_else(|| panic!("no report on {ods}: {answer}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// `expected` holds in `actual`: every field named, recursively; arrays element by element.
fn holds(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => expected
            .iter()
            .all(|(key, value)| holds(value, actual.get(key).unwrap_or(&Value::Null))),
        (Value::Array(expected), Value::Array(actual)) => {
            expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| holds(e, a))
        }
        (expected, actual) => expected == actual,
    }
}

fn input_type(mutation: &str) -> String {
    let mut name = mutation.to_string();
    name[..1].make_ascii_uppercase();
    match mutation {
        "escalateToContractReview" => "EscalateInput".into(),
        _ => format!("{name}Input"),
    }
}

#[test]
fn every_path_a_case_takes_shows_right_to_each_party() {
    let mut run = Run {
        service: Service::start(),
        tokens: HashMap::new(),
    };
    let steps = std::fs::read_to_string(fixture("paths/steps.jsonl")).unwrap();
    for (number, line) in steps.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let step: Value = serde_json::from_str(line).unwrap();
        let what = format!(
            "step {} ({})",
            number + 1,
            step["do"].as_str().or(step["import"].as_str()).unwrap_or("")
        );
        let practice = step["practice"].as_str().unwrap_or("");

        let answer = if let Some(file) = step["import"].as_str() {
            let csv = std::fs::read_to_string(fixture(&format!("paths/{file}"))).unwrap();
            run.as_party(
                "icb:icb-assurance-1",
                "mutation($csv: String!) { importDashboard(csv: $csv) { rows errors { message } } }",
                json!({ "csv": csv }),
            )
        } else {
            let mutation = step["do"].as_str().unwrap();
            let mut input = step["input"].clone();
            input["occurredAt"] = step["at"].clone();
            match mutation {
                "reportVisibilityProblem" => input["odsCode"] = json!(practice),
                "openCaseFromDhuReport" | "dismissDhuReport" => input["reportId"] = json!(run.report_id(practice)),
                _ => input["caseId"] = json!(run.case_id(practice).unwrap()),
            }
            let selection = match mutation {
                "reportVisibilityProblem" => "{ case { id } report { id } }",
                "dismissDhuReport" => "{ id }",
                _ => "{ revision }",
            };
            let query = format!(
                "mutation($i: {}!) {{ {mutation}(input: $i) {selection} }}",
                input_type(mutation)
            );
            run.as_party(step["as"].as_str().unwrap(), &query, json!({ "i": input }))
        };
        match step["refused"].as_str() {
            Some(code) => {
                assert_eq!(codes(&answer), [code], "{what}: {answer}");
                let saying = step["saying"].as_str().unwrap_or("");
                assert!(
                    answer["errors"][0]["message"].as_str().unwrap().contains(saying),
                    "{what}: {answer}"
                );
            }
            None => assert!(answer["errors"].is_null(), "{what}: {answer}"),
        }

        for (party, expected) in step["then"].as_object().into_iter().flatten() {
            let who = match party.as_str() {
                "icb" => "icb:icb-assurance-1",
                "dhu" => "dhu:dhu-liaison-1",
                "champion" => "champion:dc-ana",
                _ => "lmc:lmc-officer-1",
            };
            let case_id = run.case_id(practice);
            if let Some(expected_case) = expected.get("case") {
                let seen = run.as_party(
                    who,
                    &format!("query($i: ID!) {{ case(id: $i) {{ {CASE} }} }}"),
                    json!({ "i": case_id }),
                );
                assert!(
                    holds(expected_case, &seen["data"]["case"]),
                    "{what}: {party} expected {expected_case}, saw {seen}"
                );
            }
            if let Some(expected_summary) = expected.get("summary") {
                let view = if party == "lmc" { "lmc" } else { "icb" };
                let seen = run.as_party(who, &format!("{{ {view} {{ summary {{ {SUMMARY} }} }} }}"), json!({}));
                assert!(
                    holds(expected_summary, &seen["data"][view]["summary"]),
                    "{what}: {party} summary expected {expected_summary}, saw {seen}"
                );
            }
            if let Some(count) = expected.get("reports_to_triage") {
                let seen = run.as_party(who, "{ icb { dhuReports { id } } }", json!({}));
                assert_eq!(
                    seen["data"]["icb"]["dhuReports"].as_array().map(Vec::len),
                    count.as_u64().map(|n| n as usize),
                    "{what}: {seen}"
                );
            }
            for (list, field) in [("awaiting", "awaitingConfirmation"), ("confirmed", "confirmed")] {
                if let Some(on_it) = expected.get(list) {
                    let query = if field == "confirmed" {
                        "{ dhu { confirmed(first: 500) { edges { node { id } } } } }"
                    } else {
                        "{ dhu { awaitingConfirmation { id } } }"
                    };
                    let seen = run.as_party(who, query, json!({}));
                    let ids = seen.to_string();
                    let id = case_id.clone().unwrap();
                    assert_eq!(ids.contains(&id), on_it == &json!(true), "{what}: {list} {seen}");
                }
            }
            if let Some(expected_report) = expected.get("report") {
                let seen = run.as_party(
                    who,
                    "{ dhu { reports { practice { odsCode } status detail dismissedReason } } }",
                    json!({}),
                );
                let report = seen["data"]["dhu"]["reports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["practice"]["odsCode"] == practice)
                    .cloned()
                    .unwrap_or(Value::Null);
                assert!(
                    holds(expected_report, &report),
                    "{what}: the DHU's report expected {expected_report}, saw {report}"
                );
            }
        }
    }
}
