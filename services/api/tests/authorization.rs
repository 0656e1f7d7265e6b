//! Least privilege, proven: every root field and mutation as every role, allowed or FORBIDDEN as
//! GRAPHQL.md says; without a token, UNAUTHENTICATED.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

mod common;

use caseledger_api::auth::Caller;
use caseledger_cases::Role;
use common::{Service, as_actor, codes};
use serde_json::json;

const ROLES: [Role; 7] = Role::ALL;
/// The roles that read across the whole ICB (not scoped to one practice or PCN).
const UNSCOPED: [Role; 5] = [Role::Icb, Role::Lmc, Role::Dhu, Role::Champion, Role::Admin];

fn id_for(role: Role) -> &'static str {
    match role {
        Role::Icb => "icb-assurance-1",
        Role::Lmc => "lmc-officer-1",
        Role::Dhu => "dhu-liaison-1",
        Role::Champion => "dc-amira",
        Role::Admin => "ops-1",
        Role::Practice => "pm-z00011",
        Role::PcnClinicalDirector => "cd-u10001",
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
        (format!("{{ case(id: \"{missing_case}\") {{ id }} }}"), UNSCOPED.to_vec()),
        ("{ caseByPractice(odsCode: \"Z99999\") { id } }".into(), UNSCOPED.to_vec()),
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
        (
            format!("mutation {{ eraseReportPersonalData(reportId: \"{missing_case}\", reason: \"asked\") {{ id }} }}"),
            vec![Icb, Admin],
        ),
        (
            format!("mutation {{ erasePersonalData(caseId: \"{missing_case}\", reason: \"asked\") {{ revision }} }}"),
            vec![Icb, Admin],
        ),
        (
            "mutation { importPracticeRegister(csv: \"ods_code\\n\") { rows } }".into(),
            vec![Icb, Admin],
        ),
        ("mutation { importDhuExtract(csv: \"ods_code\\n\") { rows } }".into(), vec![Dhu, Admin]),
        ("mutation { importOdsPractices(csv: \"\") { rows } }".into(), vec![Icb, Admin]),
        ("mutation { importListSizes(csv: \"\") { rows } }".into(), vec![Icb, Admin]),
        ("mutation { importPcns(csv: \"\") { rows } }".into(), vec![Icb, Admin]),
        (
            format!("mutation {{ verifySlotVisibility(caseId: \"{missing_case}\") {{ verdict }} }}"),
            vec![Icb, Dhu, Champion, Admin],
        ),
        (
            "mutation { verifyPractices(odsCodes: [\"Z99999\"]) { startedAt } }".into(),
            vec![Icb, Dhu, Champion, Admin],
        ),
        ("{ myNotifications { email } }".into(), ROLES.to_vec()),
        (
            "mutation { setNotifications(email: \"a@nhs.net\", off: []) { email } }".into(),
            ROLES.to_vec(),
        ),
        ("{ parkedEvents { eventId } }".into(), vec![Admin]),
        (
            format!("mutation {{ retryParkedEvent(projection: \"case_view\", eventId: \"{missing_case}\") {{ eventId }} }}"),
            vec![Admin],
        ),
        (
            format!("mutation {{ skipParkedEvent(projection: \"case_view\", eventId: \"{missing_case}\") {{ eventId }} }}"),
            vec![Admin],
        ),
        ("{ practices { edges { node { odsCode } } } }".into(), UNSCOPED.to_vec()),
        ("{ practice(odsCode: \"Z99999\") { odsCode } }".into(), UNSCOPED.to_vec()),
        ("{ dataAsAt }".into(), UNSCOPED.to_vec()),
        // Every party reads diversions: a practice its own, a PCN's clinical director its PCN's.
        ("{ diversions { id } }".into(), ROLES.to_vec()),
        (format!("{{ diversion(id: \"{missing_case}\") {{ id }} }}"), ROLES.to_vec()),
        ("{ diversionFigures(groupBy: PCN) { key } }".into(), ROLES.to_vec()),
        (
            "mutation { notifyDiversion(input: { odsCode: \"NOT-ODS\", from: \"2026-01-05T08:00:00Z\", \
             expectedUntil: \"2026-01-05T10:00:00Z\", reason: OTHER }) { id } }"
                .into(),
            vec![Practice, Icb],
        ),
        (
            format!(
                "mutation {{ endDiversion(input: {{ diversionId: \"{missing_case}\", endedAt: \"2026-01-05T10:00:00Z\" }}) {{ id }} }}"
            ),
            vec![Practice, Icb],
        ),
        (
            format!("mutation {{ acknowledgeDiversion(input: {{ diversionId: \"{missing_case}\" }}) {{ id }} }}"),
            vec![Icb],
        ),
        ("{ diversionReviews { id support } }".into(), ROLES.to_vec()),
        ("{ coreHoursCalls { odsCode perThousand } }".into(), ROLES.to_vec()),
        (
            "mutation { importCoreHoursCalls(csv: \"week_start\\n\") { rows } }".into(),
            vec![Dhu, Icb, Admin],
        ),
        (
            "{ telephonyMetrics { odsCode months { inboundCalls } } }".into(),
            vec![Icb, Champion, Admin, Practice, PcnClinicalDirector],
        ),
        ("{ pcnReviewNotes { id note } }".into(), vec![PcnClinicalDirector, Admin]),
        ("{ ownCases { id status askedOfPractice } }".into(), vec![Practice, PcnClinicalDirector]),
        ("{ dosGaps { id status detail } }".into(), vec![Icb, Dhu, Admin, Practice]),
        (
            format!("mutation {{ eraseDosGapWords(gapId: \"{missing_case}\") {{ id }} }}"),
            vec![Icb, Admin],
        ),
        (
            format!("mutation {{ cancelDiversion(input: {{ diversionId: \"{missing_case}\" }}) {{ id }} }}"),
            vec![Practice, Icb],
        ),
        (
            format!("mutation {{ eraseDiversionWords(diversionId: \"{missing_case}\") {{ id }} }}"),
            vec![Icb, Admin],
        ),
        ("{ dosServices { serviceId rag } }".into(), vec![Icb, Dhu, Admin, Practice]),
        ("{ dosFigures { week kind reported } }".into(), vec![Icb, Dhu, Admin, Practice]),
        (
            "mutation { reportDosGap(input: { serviceId: \"not-digits\", serviceName: \"s\", kind: HOURS, \
             bitAt: \"2026-11-20T10:00:00Z\" }) { id } }"
                .into(),
            vec![Dhu],
        ),
        (
            format!("mutation {{ triageDosGap(input: {{ gapId: \"{missing_case}\", outcome: CASE_OPENED }}) {{ id }} }}"),
            vec![Icb],
        ),
        (
            format!("mutation {{ recordDosUpdate(input: {{ gapId: \"{missing_case}\" }}) {{ id }} }}"),
            vec![Icb, Practice],
        ),
        (
            format!("mutation {{ confirmDosFix(input: {{ gapId: \"{missing_case}\" }}) {{ id }} }}"),
            vec![Dhu],
        ),
        (
            format!("mutation {{ reportDosGapPersists(input: {{ gapId: \"{missing_case}\" }}) {{ id }} }}"),
            vec![Dhu],
        ),
        (
            "mutation { importTelephonyMetrics(csv: \"month\\n\") { rows } }".into(),
            vec![Icb, PcnClinicalDirector, Admin],
        ),
        (
            "mutation { recordPcnReviewNote(input: { month: \"2026-01-01\", note: \"\" }) { id } }".into(),
            vec![PcnClinicalDirector],
        ),
        (
            format!("mutation {{ eraseDiversionReviewNote(reviewId: \"{missing_case}\") {{ id }} }}"),
            vec![Icb, Admin],
        ),
        (
            format!("mutation {{ erasePcnReviewNote(noteId: \"{missing_case}\") }}"),
            vec![PcnClinicalDirector, Icb, Admin],
        ),
        (
            format!("mutation {{ answerChampion(input: {{ caseId: \"{missing_case}\", text: \"x\" }}) {{ id }} }}"),
            vec![Practice],
        ),
        (
            format!("mutation {{ recordDiversionSupport(input: {{ reviewId: \"{missing_case}\", kind: CALL }}) {{ id }} }}"),
            vec![Champion, PcnClinicalDirector],
        ),
        (
            format!(
                "mutation {{ closeDiversionReview(input: {{ reviewId: \"{missing_case}\", outcome: RESOLVED }}) {{ id }} }}"
            ),
            vec![Icb],
        ),
        ("{ people { id email } }".into(), vec![Admin]),
        (
            "mutation { addPerson(input: { id: \"dc-matrix\", name: \"M\", role: CHAMPION }) { id } }".into(),
            vec![Admin],
        ),
        (
            "mutation { updatePerson(input: { id: \"nobody-at-all\", active: false }) { id } }".into(),
            vec![Admin],
        ),
    ]
}

/// The root fields and mutations of the schema: each must be in the matrix above.
fn every_root_and_mutation() -> Vec<String> {
    let sdl = caseledger_api::graphql::sdl();
    let mut names = Vec::new();
    for root in ["type Query {", "type Mutation {"] {
        let Some(start) = sdl.find(root) else { continue };
        let body = &sdl[start + root.len()..];
        let body = &body[..body.find("\n}").unwrap_or(body.len())];
        names.extend(
            body.lines()
                .map(str::trim)
                .filter(|line| !line.starts_with('"') && !line.starts_with('#') && !line.is_empty())
                .filter_map(|line| line.split(['(', ':']).next())
                .filter(|name| name.chars().all(char::is_alphanumeric))
                .map(str::to_string),
        );
    }
    names
}

#[test]
fn the_matrix_covers_every_root_field_and_mutation() {
    let operations = operations("00000000-0000-0000-0000-000000000000");
    let missing: Vec<String> = every_root_and_mutation()
        .into_iter()
        .filter(|name| {
            !operations.iter().any(|(operation, _)| {
                operation.contains(&format!("{name}(")) || operation.contains(&format!("{{ {name} "))
            })
        })
        .collect();
    assert!(missing.is_empty(), "not in the role matrix: {missing:?}");
}

/// A case held by dc-ben: every case command a champion may issue, as dc-amira, is FORBIDDEN
/// (she reads it as the LMC does); as dc-ben it gets past the ownership check.
#[tokio::test]
async fn a_champion_acts_only_on_the_cases_they_hold() {
    let service = Service::start().await;
    let flagged = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "mutation { flagPractice(input: { odsCode: \"Z00012\", practiceName: \"Mill\", pcnCode: \"U10001\", \
             place: \"Coventry\", listSize: 5121, visibleSlots: 0 }) { case { id } } }",
            json!({}),
        )
        .await;
    let case_id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assigned = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "mutation($c: ID!) { assignCase(input: { caseId: $c, championId: \"dc-ben\" }) { revision } }",
            json!({ "c": case_id }),
        )
        .await;
    assert!(assigned["errors"].is_null(), "{assigned}");
    let case = |input: &str| format!("caseId: \"{case_id}\", {input}");
    let mutation = |name: &str, input: String| format!("mutation {{ {name}(input: {{ {input} }}) {{ revision }} }}");
    let champion_commands = [
        mutation(
            "recordContact",
            case("channel: EMAIL, contactName: \"Pat\", summary: \"s\""),
        ),
        mutation("shareGuidance", case("guide: \"g\"")),
        mutation("recordRootCause", case("cause: OTHER")),
        mutation("recordRemap", case("changes: [ADD_SLOTS], slotsPerDayConfigured: 1")),
        mutation("recordGpConnectReEnabled", case("reference: \"r\"")),
        mutation("addNote", case("text: \"t\"")),
        mutation("assignCase", case("championId: \"dc-amira\"")),
    ];
    for operation in &champion_commands {
        let amira = service.as_role(Role::Champion, "dc-amira", operation, json!({})).await;
        assert_eq!(
            codes(&amira),
            ["FORBIDDEN"],
            "a colleague's case: {operation} -> {amira}"
        );
        assert!(
            !amira.to_string().contains("dc-ben"),
            "the refusal names nobody: {amira}"
        );
    }
    for operation in &champion_commands[..6] {
        let ben = service.as_role(Role::Champion, "dc-ben", operation, json!({})).await;
        assert!(ben["errors"].is_null(), "his own case: {operation} -> {ben}");
    }
    // What each sees of it: Ben the contact's name and his note; Amira what the LMC sees.
    let read = "query($c: ID!) { case(id: $c) { assignedTo holder availableCommands history { type actorId data } } }";
    let ben = service
        .as_role(Role::Champion, "dc-ben", read, json!({ "c": case_id }))
        .await;
    assert!(ben.to_string().contains("Pat"), "{ben}");
    assert_eq!(ben["data"]["case"]["holder"], "YOU");
    let amira = service
        .as_role(Role::Champion, "dc-amira", read, json!({ "c": case_id }))
        .await;
    let seen = amira.to_string();
    for hidden in ["Pat", "dc-ben", "\"t\"", "\"s\""] {
        assert!(!seen.contains(hidden), "{hidden} reached a colleague: {seen}");
    }
    assert_eq!(amira["data"]["case"]["holder"], "SOMEONE_ELSE");
    assert_eq!(amira["data"]["case"]["availableCommands"], json!([]), "{amira}");
    let lmc = service
        .as_role(Role::Lmc, "lmc-officer-1", read, json!({ "c": case_id }))
        .await;
    assert_eq!(
        amira["data"]["case"]["history"], lmc["data"]["case"]["history"],
        "a colleague's case reads as the LMC reads it"
    );
    // ...but no more than a champion may: not its contract review, which the LMC sees happen.
    let escalated = service
        .as_role(
            Role::Icb,
            "icb-assurance-1",
            "mutation($c: ID!) { escalateToContractReview(input: { caseId: $c, reason: \"no engagement\" }) { revision } }",
            json!({ "c": case_id }),
        )
        .await;
    assert!(escalated["errors"].is_null(), "{escalated}");
    let review = "query($c: ID!) { case(id: $c) { contractReviewOpen escalatedAt contractReviews { escalatedAt } history { type } } }";
    let lmc = service
        .as_role(Role::Lmc, "lmc-officer-1", review, json!({ "c": case_id }))
        .await;
    assert_eq!(lmc["data"]["case"]["contractReviewOpen"], true, "{lmc}");
    let amira = service
        .as_role(Role::Champion, "dc-amira", review, json!({ "c": case_id }))
        .await;
    let case = &amira["data"]["case"];
    assert!(
        case["contractReviewOpen"].is_null() && case["escalatedAt"].is_null(),
        "{amira}"
    );
    assert_eq!(case["contractReviews"], json!([]), "{amira}");
    assert!(!amira.to_string().contains("EscalatedToContractReview"), "{amira}");
    service.stop().await;
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
