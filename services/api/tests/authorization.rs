//! Least privilege, proven: every root field and mutation as every role, allowed or FORBIDDEN as
//! GRAPHQL.md says; without a token, UNAUTHENTICATED.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_api::auth::Caller;
use caseledger_cases::Role;
use common::{Service, as_actor, codes};
use serde_json::json;

const ROLES: [Role; 5] = [Role::Icb, Role::Lmc, Role::Dhu, Role::Champion, Role::Admin];

fn id_for(role: Role) -> &'static str {
    match role {
        Role::Icb => "icb-assurance-1",
        Role::Lmc => "lmc-officer-1",
        Role::Dhu => "dhu-liaison-1",
        Role::Champion => "dc-amira",
        Role::Admin => "ops-1",
    }
}

/// (operation, roles allowed). Mutations name a case that does not exist: an allowed role gets
/// past the role check and is told NOT_FOUND; a refused one is told FORBIDDEN first.
fn operations(missing_case: &str) -> Vec<(String, Vec<Role>)> {
    use Role::*;
    let case = |input: &str| format!("caseId: \"{missing_case}\", {input}");
    let mutation = |name: &str, input: String| format!("mutation {{ {name}(input: {{ {input} }}) {{ revision }} }}");
    vec![
        ("{ me { id role } }".into(), ROLES.to_vec()),
        (format!("{{ case(id: \"{missing_case}\") {{ id }} }}"), ROLES.to_vec()),
        ("{ caseByPractice(odsCode: \"Z99999\") { id } }".into(), ROLES.to_vec()),
        ("{ icb { summary { openCases } } }".into(), vec![Icb, Admin]),
        ("{ lmc { contractReviews } }".into(), vec![Lmc, Admin]),
        ("{ dhu { awaitingConfirmation { id } } }".into(), vec![Dhu, Admin]),
        ("{ champion { unassigned { id } } }".into(), vec![Champion, Admin]),
        ("mutation { importDashboard(csv: \"report_date\\n\") { rows errors { message } } }".into(), vec![Icb, Admin]),
        (
            mutation(
                "flagPractice",
                "odsCode: \"NOT-ODS\", practiceName: \"x\", pcnCode: \"U10001\", place: \"x\", listSize: 5000, visibleSlots: 0".into(),
            ),
            vec![Icb, Admin],
        ),
        (mutation("assignCase", case("championId: \"dc-amira\"")), vec![Champion, Icb]),
        (mutation("recordContact", case("channel: EMAIL, summary: \"s\"")), vec![Champion]),
        (mutation("shareGuidance", case("guide: \"g\"")), vec![Champion]),
        (mutation("recordRootCause", case("cause: OTHER")), vec![Champion]),
        (mutation("recordRemap", case("changes: [ADD_SLOTS], slotsPerDayConfigured: 1")), vec![Champion]),
        (mutation("recordGpConnectReEnabled", case("reference: \"r\"")), vec![Champion]),
        (mutation("confirmDhuVisibility", case("visibleSlotsPerDay: 1")), vec![Dhu]),
        (mutation("reportDhuVisibilityIssue", case("issue: \"i\"")), vec![Dhu]),
        (mutation("confirmCompliance", case("visibleSlotsPerDay: 1, evidence: DASHBOARD")), vec![Icb]),
        (mutation("closeCase", case("reason: WITHDRAWN")), vec![Icb]),
        (mutation("reopenCase", case("reason: \"r\"")), vec![Icb, Admin]),
        (mutation("addNote", case("text: \"t\"")), vec![Champion, Icb]),
        (mutation("escalateToContractReview", case("reason: \"r\"")), vec![Icb]),
        (mutation("concludeContractReview", case("outcome: OTHER")), vec![Icb]),
        (
            "mutation { reportVisibilityProblem(input: { odsCode: \"NOT-ODS\", category: OTHER }) { report { id } } }".into(),
            vec![Dhu],
        ),
        (
            format!("mutation {{ openCaseFromDhuReport(input: {{ reportId: \"{missing_case}\" }}) {{ revision }} }}"),
            vec![Icb, Admin],
        ),
        (
            format!("mutation {{ dismissDhuReport(input: {{ reportId: \"{missing_case}\", reason: \"r\" }}) {{ id }} }}"),
            vec![Icb, Admin],
        ),
        ("{ icb { dhuReports { id } } }".into(), vec![Icb, Admin]),
        ("{ dhu { reports { id } } }".into(), vec![Dhu, Admin]),
    ]
}

#[tokio::test]
async fn every_root_field_and_mutation_checks_the_callers_role() {
    let service = Service::start().await;
    let missing_case = uuid::Uuid::now_v7().to_string();
    let mut failures = Vec::new();
    for (operation, allowed) in operations(&missing_case) {
        let anonymous = service.run(Caller::Anonymous, &operation, json!({})).await;
        if codes(&anonymous) != ["UNAUTHENTICATED"] {
            failures.push(format!("no token: {operation} -> {anonymous}"));
        }
        for role in ROLES {
            let response = service.run(as_actor(role, id_for(role)), &operation, json!({})).await;
            let codes = codes(&response);
            let forbidden = codes.iter().any(|c| c == "FORBIDDEN");
            let refused_auth = codes.iter().any(|c| c == "UNAUTHENTICATED");
            if allowed.contains(&role) == forbidden || refused_auth {
                failures.push(format!("{role}: {operation} -> {response}"));
            }
        }
    }
    service.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_rejected_token_is_unauthenticated_not_anonymous() {
    let service = Service::start().await;
    let response = service
        .run(
            Caller::Rejected("invalid token: ExpiredSignature".into()),
            "{ me { id } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&response), ["UNAUTHENTICATED"]);
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("Expired"));
    service.stop().await;
}
