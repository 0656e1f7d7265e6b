//! Least privilege, end to end: a unique marker in every text field of every event type a case
//! can hold, written by the party that writes it, and every surface the LMC, the DHU and a PCN's
//! clinical director have (GraphQL queries, subscriptions, `/live`, the HTML pages, the report)
//! checked for each marker. The LMC and the clinical director receive none; the DHU only the text
//! it wrote itself.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::BTreeSet;
use std::io::Read;
use std::time::Duration;

use caseledger_tests::{Service, Web, connect_ws, next_message, settle};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A champion whose id is itself a marker: who the champion is never reaches the LMC or DHU.
const CHAMPION: &str = "dc-marker-champion-id";

/// (marker, written by the DHU)
const MARKERS: [(&str, bool); 19] = [
    ("MARKER-FLAG-REASON", false),
    ("MARKER-CONTACT-NAME", false),
    ("MARKER-CONTACT-SUMMARY", false),
    ("MARKER-GUIDE", false),
    ("MARKER-GUIDE-VERSION", false),
    ("MARKER-ROOT-CAUSE-DETAIL", false),
    ("MARKER-GPC-REFERENCE", false),
    ("MARKER-CHAMPION-NOTE", false),
    ("MARKER-ICB-NOTE", false),
    ("MARKER-REOPEN-REASON", false),
    ("MARKER-ESCALATION-REASON", false),
    ("MARKER-REVIEW-NOTE", false),
    ("MARKER-DISMISSAL-REASON", false),
    ("MARKER-DHU-REPORT-DETAIL", true),
    (CHAMPION, false),
    ("MARKER-DHU-ISSUE", true),
    // A practice's words on its diversion: for the practice, the ICB and champions.
    ("MARKER-DIVERSION-DETAIL", false),
    ("MARKER-DHU-DETAIL", true),
    // A practice's answer to the champion: for the practice, the ICB and the case's champion.
    ("MARKER-PRACTICE-ANSWER", false),
];

fn command(service: &Service, token: &str, mutation: &str, input_type: &str, input: Value) -> Value {
    let answer = service.graphql(
        Some(token),
        &format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ revision case {{ id }} }} }}"),
        json!({ "i": input }),
    );
    assert!(answer["errors"].is_null(), "{mutation}: {answer}");
    answer["data"][mutation].clone()
}

/// Everything a web page's live stream sent within `for_how_long`.
fn live_stream(service: &Service, web: &Web, for_how_long: Duration) -> std::thread::JoinHandle<String> {
    let url = format!("{}/live", service.url);
    let cookie = web
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new().timeout_read(for_how_long).build();
        let response = agent.get(&url).set("Cookie", &cookie).call().unwrap();
        let mut body = Vec::new();
        let _ = response.into_reader().read_to_end(&mut body);
        String::from_utf8_lossy(&body).to_string()
    })
}

#[test]
fn no_marker_reaches_the_lmc_and_the_dhu_gets_only_its_own_text() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", CHAMPION);
    let dhu = service.token("dhu", "dhu-liaison-1");
    let lmc = service.token("lmc", "lmc-officer-1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // The LMC's and DHU's subscriptions and live pages are open while the case is worked.
    let mut lmc_web = Web::new(&service);
    lmc_web.sign_in("lmc-officer-1");
    let mut dhu_web = Web::new(&service);
    dhu_web.sign_in("dhu-liaison-1");
    let lmc_live = live_stream(&service, &lmc_web, Duration::from_secs(6));
    let dhu_live = live_stream(&service, &dhu_web, Duration::from_secs(6));
    let mut sockets = runtime.block_on(async {
        let mut sockets = Vec::new();
        for token in [&lmc, &dhu] {
            let mut socket = connect_ws(&service.url, Some(token.clone())).await;
            assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
            socket
                .send(Message::text(
                    json!({ "type": "subscribe", "id": "all", "payload": {
                        "query": "subscription { caseEvents { caseId revision type actorRole actorId data occurredAt } }" } })
                    .to_string(),
                ))
                .await
                .unwrap();
            settle(&mut socket).await;
            sockets.push(socket);
        }
        sockets
    });

    let flagged = command(
        &service,
        &icb,
        "flagPractice",
        "FlagPracticeInput",
        json!({ "odsCode": "Z00077", "practiceName": "Marker Surgery", "pcnCode": "U10001", "place": "Coventry",
                "listSize": 3000, "visibleSlots": 0, "reason": "MARKER-FLAG-REASON" }),
    );
    let case_id = flagged["case"]["id"].as_str().unwrap().to_string();
    let on_case = |input: Value| {
        let mut input = input;
        input["caseId"] = json!(case_id);
        input
    };
    for (token, mutation, input_type, input) in [
        (
            &champion,
            "assignCase",
            "AssignCaseInput",
            json!({ "championId": CHAMPION }),
        ),
        (
            &champion,
            "recordContact",
            "RecordContactInput",
            json!({ "channel": "PHONE", "contactName": "MARKER-CONTACT-NAME", "summary": "MARKER-CONTACT-SUMMARY" }),
        ),
        (
            &champion,
            "shareGuidance",
            "ShareGuidanceInput",
            json!({ "guide": "MARKER-GUIDE", "version": "MARKER-GUIDE-VERSION" }),
        ),
        (
            &champion,
            "recordRootCause",
            "RecordRootCauseInput",
            json!({ "cause": "PROVIDER_CODE_UNMAPPED", "detail": "MARKER-ROOT-CAUSE-DETAIL" }),
        ),
        (
            &champion,
            "recordGpConnectReEnabled",
            "RecordGpConnectReEnabledInput",
            json!({ "reference": "MARKER-GPC-REFERENCE" }),
        ),
        (
            &champion,
            "addNote",
            "AddNoteInput",
            json!({ "text": "MARKER-CHAMPION-NOTE" }),
        ),
        (&icb, "addNote", "AddNoteInput", json!({ "text": "MARKER-ICB-NOTE" })),
        (
            &dhu,
            "reportDhuVisibilityIssue",
            "ReportDhuVisibilityIssueInput",
            json!({ "issue": "MARKER-DHU-ISSUE", "detail": "MARKER-DHU-DETAIL" }),
        ),
        (
            &champion,
            "recordRemap",
            "RecordRemapInput",
            json!({ "changes": ["MAP_PROVIDER_CODE"], "slotsPerDayConfigured": 1 }),
        ),
        (
            &dhu,
            "confirmDhuVisibility",
            "ConfirmDhuVisibilityInput",
            json!({ "visibleSlotsPerDay": 1 }),
        ),
        (
            &icb,
            "confirmCompliance",
            "ConfirmComplianceInput",
            json!({ "visibleSlotsPerDay": 1, "evidence": "DHU_CONFIRMATION" }),
        ),
        (
            &icb,
            "reopenCase",
            "ReopenCaseInput",
            json!({ "reason": "MARKER-REOPEN-REASON" }),
        ),
        (
            &icb,
            "escalateToContractReview",
            "EscalateInput",
            json!({ "reason": "MARKER-ESCALATION-REASON" }),
        ),
        (
            &icb,
            "concludeContractReview",
            "ConcludeContractReviewInput",
            json!({ "outcome": "REMEDIAL_NOTICE", "note": "MARKER-REVIEW-NOTE" }),
        ),
    ] {
        command(&service, token, mutation, input_type, on_case(input));
    }

    // A DHU report on a practice with no case, dismissed by the ICB with its reason.
    let extract = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
                   2026-09-07,Z00078,Quiet Surgery,U10001,Coventry,3000,1\n";
    let imported = service.graphql(
        Some(&icb),
        "mutation($csv: String!) { importDashboard(csv: $csv) { errors { message } } }",
        json!({ "csv": extract }),
    );
    assert!(imported["errors"].is_null(), "{imported}");
    let reported = service.graphql(
        Some(&dhu),
        "mutation($i: ReportVisibilityProblemInput!) { reportVisibilityProblem(input: $i) { report { id } } }",
        json!({ "i": { "odsCode": "Z00078", "category": "OTHER", "detail": "MARKER-DHU-REPORT-DETAIL" } }),
    );
    let report_id = reported["data"]["reportVisibilityProblem"]["report"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reported}"))
        .to_string();
    let dismissed = service.graphql(
        Some(&icb),
        "mutation($i: DismissDhuReportInput!) { dismissDhuReport(input: $i) { id } }",
        json!({ "i": { "reportId": report_id, "reason": "MARKER-DISMISSAL-REASON" } }),
    );
    assert!(dismissed["errors"].is_null(), "{dismissed}");

    // The ICB's own view holds the whole story (and so every marker but the contact name).
    let history = "history { revision type actorRole actorId occurredAt recordedAt data }";
    let icb_case = service.graphql(
        Some(&icb),
        &format!("query($i: ID!) {{ case(id: $i) {{ {history} }} }}"),
        json!({ "i": case_id }),
    );
    let types: BTreeSet<&str> = icb_case["data"]["case"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for event_type in [
        "PracticeFlagged",
        "CaseAssigned",
        "PracticeContacted",
        "GuidanceShared",
        "RootCauseIdentified",
        "GpConnectReEnabled",
        "NoteAdded",
        "DhuVisibilityIssueReported",
        "SlotsRemapped",
        "DhuVisibilityConfirmed",
        "ComplianceConfirmed",
        "CaseReopened",
    ] {
        assert!(types.contains(event_type), "the story holds {event_type}: {types:?}");
    }
    let blob = icb_case.to_string();
    for (marker, _) in MARKERS {
        let seen = blob.contains(marker);
        let in_history = !matches!(
            marker,
            "MARKER-CONTACT-NAME"
                | "MARKER-ESCALATION-REASON"
                | "MARKER-REVIEW-NOTE"
                | "MARKER-DISMISSAL-REASON"
                | "MARKER-DHU-REPORT-DETAIL"
                | "MARKER-DIVERSION-DETAIL"
                | "MARKER-PRACTICE-ANSWER"
        );
        assert_eq!(seen, in_history, "the ICB's case history and {marker}");
    }
    // The ICB reads the review whole.
    let reviews = service.graphql(
        Some(&icb),
        "query($i: ID!) { case(id: $i) { contractReviews { reason note outcome } } }",
        json!({ "i": case_id }),
    );
    let reviews = reviews.to_string();
    assert!(
        reviews.contains("MARKER-ESCALATION-REASON") && reviews.contains("MARKER-REVIEW-NOTE"),
        "{reviews}"
    );

    // The practice told the ICB of a diversion, in its own words.
    let manager = service.token_of("practice", "pm-z00077", "Z00077");
    let diverted = service.graphql(
        Some(&manager),
        "mutation { notifyDiversion(input: { from: \"2026-11-24T08:00:00Z\", expectedUntil: \"2026-11-24T12:00:00Z\", \
         reason: TELEPHONY_FAILURE, detail: \"MARKER-DIVERSION-DETAIL\" }) { detail } }",
        json!({}),
    );
    assert_eq!(
        diverted["data"]["notifyDiversion"]["detail"], "MARKER-DIVERSION-DETAIL",
        "the practice reads its own words: {diverted}"
    );

    // The practice answered the champion on its (reopened) case, in its own words: the ICB and
    // the case's champion read them; the LMC, the DHU and the PCN at most that it answered.
    let answered = service.graphql(
        Some(&manager),
        "mutation($i: ID!) { answerChampion(input: { caseId: $i, text: \"MARKER-PRACTICE-ANSWER\" }) \
         { answers { text } } }",
        json!({ "i": case_id }),
    );
    assert_eq!(
        answered["data"]["answerChampion"]["answers"][0]["text"], "MARKER-PRACTICE-ANSWER",
        "the practice reads its own words: {answered}"
    );
    let answers = "query($i: ID!) { case(id: $i) { practiceAnswers { answeredAt text } } }";
    for token in [&icb, &champion] {
        let read = service.graphql(Some(token), answers, json!({ "i": case_id }));
        assert_eq!(
            read["data"]["case"]["practiceAnswers"][0]["text"], "MARKER-PRACTICE-ANSWER",
            "{read}"
        );
    }

    // Every surface of the LMC, the DHU and the PCN's clinical director.
    let mut surfaces: Vec<(&str, String)> = Vec::new();
    let director = service.token_of("pcn_clinical_director", "cd-u10001", "U10001");
    for (who, token) in [("lmc", &lmc), ("dhu", &dhu)] {
        let read = service.graphql(Some(token), answers, json!({ "i": case_id }));
        assert!(read["errors"].is_null(), "{who}: {read}");
        surfaces.push((who, read.to_string()));
    }
    let own = service.graphql(
        Some(&director),
        "{ ownCases { odsCode answers { answeredAt text } } }",
        json!({}),
    );
    assert!(
        own["data"]["ownCases"][0]["answers"][0]["answeredAt"].is_string(),
        "the PCN sees that its practice answered: {own}"
    );
    surfaces.push(("pcn", own.to_string()));
    let diversions = "{ diversions { id practice { odsCode } reason detail notifiedBy notifiedByRole late coreMinutes } \
                      diversionReviews { id support closeNote } diversionFigures { key notices } }";
    for (who, token) in [("lmc", &lmc), ("dhu", &dhu), ("pcn", &director)] {
        let read = service.graphql(Some(token), diversions, json!({}));
        assert!(read["errors"].is_null(), "{who}: {read}");
        assert!(read.to_string().contains("Z00077"), "{who} reads the diversion: {read}");
        surfaces.push((who, read.to_string()));
    }
    let mut director_web = Web::new(&service);
    director_web.sign_in("cd-u10001");
    surfaces.push(("pcn", director_web.get("/diversions").body));
    surfaces.push(("pcn", director_web.get("/our-cases").body));
    let everything = format!(
        "id status revision assignedTo rootCauses openDhuIssue lastActivityAt escalatedAt practice {{ odsCode name }} \
         contractReviewOpen contractReviews {{ escalatedAt escalatedBy reason concludedAt concludedBy outcome note }} {history}"
    );
    for (who, token) in [("lmc", &lmc), ("dhu", &dhu)] {
        let case = service.graphql(
            Some(token),
            &format!("query($i: ID!) {{ case(id: $i) {{ {everything} }} caseByPractice(odsCode: \"Z00077\") {{ {everything} }} }}"),
            json!({ "i": case_id }),
        );
        assert!(case["errors"].is_null(), "{case}");
        assert_eq!(case["data"]["case"]["id"], case_id.as_str());
        surfaces.push((who, case.to_string()));
    }
    let lmc_view = service.graphql(
        Some(&lmc),
        &format!("{{ lmc {{ summary {{ openCases }} contractReviews cases(first: 50) {{ edges {{ node {{ {everything} }} }} }} }} }}"),
        json!({}),
    );
    assert!(lmc_view["errors"].is_null(), "{lmc_view}");
    surfaces.push(("lmc", lmc_view.to_string()));
    let dhu_view = service.graphql(
        Some(&dhu),
        &format!(
            "{{ dhu {{ awaitingConfirmation {{ {everything} }} openIssues {{ {everything} }} confirmed(first: 50) {{ edges {{ node {{ {everything} }} }} }} }} }}"
        ),
        json!({}),
    );
    assert!(dhu_view["errors"].is_null(), "{dhu_view}");
    surfaces.push(("dhu", dhu_view.to_string()));
    let dhu_reports = service.graphql(
        Some(&dhu),
        "{ dhu { reports(status: [NEW, CASE_OPENED, DISMISSED]) { id category detail status dismissedReason } } }",
        json!({}),
    );
    assert!(dhu_reports.to_string().contains("DISMISSED"), "{dhu_reports}");
    surfaces.push(("dhu", dhu_reports.to_string()));
    let lmc_reviews = service.graphql(
        Some(&lmc),
        "query($i: ID!) { case(id: $i) { contractReviews { reason note outcome escalatedBy } } }",
        json!({ "i": case_id }),
    );
    assert!(
        lmc_reviews["data"]["case"]["contractReviews"][0]["outcome"].is_null()
            && !lmc_reviews.to_string().contains("REMEDIAL_NOTICE"),
        "the LMC sees that a review happened, never its outcome: {lmc_reviews}"
    );
    surfaces.push(("lmc", lmc_reviews.to_string()));

    for (who, web) in [("lmc", &mut lmc_web), ("dhu", &mut dhu_web)] {
        for path in [
            format!("/{who}"),
            format!("/cases/{case_id}"),
            "/diversions".to_string(),
        ] {
            let page = web.get(&path);
            assert_eq!(page.status, 200, "{who} {path}");
            surfaces.push((who, page.body));
        }
        let report = web.get("/icb/report.csv");
        assert_eq!(report.status, 403, "{who} may not have the assurance report");
        surfaces.push((who, report.body));
    }

    let received = runtime.block_on(async {
        let mut received = Vec::new();
        for socket in &mut sockets {
            let mut messages = Vec::new();
            while let Ok(Some(Ok(Message::Text(text)))) =
                tokio::time::timeout(Duration::from_millis(1500), socket.next()).await
            {
                messages.push(text.to_string());
            }
            received.push(messages.join("\n"));
        }
        received
    });
    assert!(
        received[0].contains("PracticeContacted"),
        "the LMC's subscription saw support happen"
    );
    assert!(
        received[1].contains("DhuVisibilityIssueReported"),
        "the DHU's subscription saw its report"
    );
    surfaces.push(("lmc", received[0].clone()));
    surfaces.push(("dhu", received[1].clone()));
    surfaces.push(("lmc", lmc_live.join().unwrap()));
    surfaces.push(("dhu", dhu_live.join().unwrap()));

    for (who, text) in &surfaces {
        for (marker, written_by_dhu) in MARKERS {
            let allowed = *who == "dhu" && written_by_dhu;
            if !allowed {
                assert!(!text.contains(marker), "{who} received {marker}");
            }
        }
    }
    let dhu_text: String = surfaces
        .iter()
        .filter(|(w, _)| *w == "dhu")
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(dhu_text.contains("MARKER-DHU-ISSUE"), "the DHU sees what it reported");

    // The PCN's own words on its review of a month: for that PCN's clinical director alone.
    let noted = service.graphql(
        Some(&director),
        "mutation { recordPcnReviewNote(input: { month: \"2026-10-01\", note: \"MARKER-PCN-NOTE\" }) { note } }",
        json!({}),
    );
    assert_eq!(
        noted["data"]["recordPcnReviewNote"]["note"], "MARKER-PCN-NOTE",
        "{noted}"
    );
    let other_pcn = service.token_of("pcn_clinical_director", "cd-u10002", "U10002");
    for (who, token) in [
        ("icb", &icb),
        ("lmc", &lmc),
        ("dhu", &dhu),
        ("champion", &champion),
        ("practice", &manager),
        ("another pcn", &other_pcn),
    ] {
        for query in [
            "{ pcnReviewNotes { note } }",
            "{ pcnReviewNotes(pcnCode: \"U10001\") { note } }",
            "{ telephonyMetrics { odsCode } }",
        ] {
            let read = service.graphql(Some(token), query, json!({}));
            assert!(
                !read.to_string().contains("MARKER-PCN-NOTE"),
                "{who}: {query} -> {read}"
            );
        }
    }
    for user in [
        "icb-assurance-1",
        "lmc-officer-1",
        "dhu-liaison-1",
        "dc-amira",
        "pm-z00011",
    ] {
        let mut web = Web::new(&service);
        web.sign_in(user);
        for path in ["/pcn-review", "/diversions"] {
            let page = web.get(path);
            assert!(!page.body.contains("MARKER-PCN-NOTE"), "{user} {path}");
        }
    }
    assert!(
        director_web.get("/pcn-review").body.contains("MARKER-PCN-NOTE"),
        "the PCN reads its own note on its page"
    );

    // A Directory of Services gap in Z00077's entry: the 111 provider's words reach the ICB, the
    // 111 provider and that practice; the ICB's reason for dismissing one, the ICB alone; the
    // update's words, the ICB and that practice.
    let gap = |detail: &str| {
        let reported = service.graphql(
            Some(&dhu),
            "mutation($d: String!) { reportDosGap(input: { serviceId: \"2000077777\", serviceName: \"Marker Surgery\", \
             kind: WRONG_DETAILS, bitAt: \"2026-11-24T10:00:00Z\", odsCode: \"Z00077\", detail: $d }) { id } }",
            json!({ "d": detail }),
        );
        reported["data"]["reportDosGap"]["id"].as_str().unwrap().to_string()
    };
    let (dismissed, opened) = (gap("MARKER-DOS-DETAIL"), gap("MARKER-DOS-DETAIL-2"));
    let triage = |id: &str, outcome: &str, reason: &str| {
        service.graphql(
            Some(&icb),
            &format!(
                "mutation {{ triageDosGap(input: {{ gapId: \"{id}\", outcome: {outcome}{reason} }}) {{ status }} }}"
            ),
            json!({}),
        )
    };
    let done = triage(&dismissed, "DISMISSED", ", reason: \"MARKER-DOS-DISMISS\"");
    assert_eq!(done["data"]["triageDosGap"]["status"], "DISMISSED", "{done}");
    let done = triage(&opened, "CASE_OPENED", "");
    assert_eq!(done["data"]["triageDosGap"]["status"], "AWAITING_UPDATE", "{done}");
    let updated = service.graphql(
        Some(&manager),
        &format!("mutation {{ recordDosUpdate(input: {{ gapId: \"{opened}\", summary: \"MARKER-DOS-UPDATE\" }}) {{ updateSummary }} }}"),
        json!({}),
    );
    assert_eq!(
        updated["data"]["recordDosUpdate"]["updateSummary"], "MARKER-DOS-UPDATE",
        "{updated}"
    );
    let all = "{ dosGaps { detail dismissReason updateSummary persistDetail } dosServices { serviceName rag } }";
    let other_practice = service.token_of("practice", "pm-z00011", "Z00011");
    // (reader, what it may read of the three)
    for (who, token, detail, reason, update) in [
        ("icb", &icb, true, true, true),
        ("dhu", &dhu, true, false, false),
        ("practice", &manager, true, false, true),
        ("another practice", &other_practice, false, false, false),
        ("lmc", &lmc, false, false, false),
        ("champion", &champion, false, false, false),
        ("pcn", &director, false, false, false),
    ] {
        let read = service.graphql(Some(token), all, json!({})).to_string();
        assert_eq!(read.contains("MARKER-DOS-DETAIL"), detail, "{who}: {read}");
        assert_eq!(read.contains("MARKER-DOS-DISMISS"), reason, "{who}: {read}");
        assert_eq!(read.contains("MARKER-DOS-UPDATE"), update, "{who}: {read}");
    }
    for user in ["lmc-officer-1", "dhu-liaison-1", "pm-z00011", "cd-u10001"] {
        let mut web = Web::new(&service);
        web.sign_in(user);
        let page = web.get("/dos");
        for marker in ["MARKER-DOS-DISMISS", "MARKER-DOS-UPDATE"] {
            assert!(!page.body.contains(marker), "{user} /dos has {marker}");
        }
    }
}
