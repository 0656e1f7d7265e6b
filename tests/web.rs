//! The web pages over plain HTTP: sign-in and its cookies, CSRF on every form, role checks, and
//! the markup each party receives (not what CSS shows) never holding what its role may not see;
//! the dashboard upload's error report and the assurance report's formula-safe cells.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_tests::{Service, Web, eventually, fixture, hidden};
use serde_json::{Value, json};

fn history(service: &Service, token: &str, case_id: &str) -> Vec<Value> {
    let response = service.graphql(
        Some(token),
        "query($id: ID!) { case(id: $id) { history { type data } } }",
        json!({ "id": case_id }),
    );
    response["data"]["case"]["history"].as_array().unwrap().clone()
}

/// Case `case_id` taken by dc-amira, remapped to `required` slots a day, and seen by the DHU at
/// `seen` a day.
fn remapped_and_seen(service: &Service, case_id: &str, required: i64, seen: i64) {
    let champion = service.token("champion", "dc-amira");
    let dhu = service.token("dhu", "dhu-liaison-1");
    for (token, mutation) in [
        (
            &champion,
            "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }"
                .to_string(),
        ),
        (
            &champion,
            format!(
                "mutation($id: ID!) {{ recordRemap(input: {{ caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: {required} }}) {{ revision }} }}"
            ),
        ),
        (
            &dhu,
            format!(
                "mutation($id: ID!) {{ confirmDhuVisibility(input: {{ caseId: $id, visibleSlotsPerDay: {seen} }}) {{ revision }} }}"
            ),
        ),
    ] {
        let done = service.graphql(Some(token), &mutation, json!({ "id": case_id }));
        assert!(done["errors"].is_null(), "{done}");
    }
}

/// Week 0 imported; the first case's id and required slots.
fn seeded(service: &Service, icb: &str) -> (String, i64) {
    let csv = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    let imported = service.graphql(
        Some(icb),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 28, "{imported}");
    let cases = service.graphql(
        Some(icb),
        "{ icb { cases(first: 1) { edges { node { id requiredSlots } } } } }",
        json!({}),
    );
    let node = &cases["data"]["icb"]["cases"]["edges"][0]["node"];
    (
        node["id"].as_str().unwrap().to_string(),
        node["requiredSlots"].as_i64().unwrap(),
    )
}

/// The ICB assigns `case_id` to `champion`: a champion works the cases they hold.
fn assign(service: &Service, icb: &str, case_id: &str, champion: &str) {
    let assigned = service.graphql(
        Some(icb),
        "mutation($c: ID!, $to: String!) { assignCase(input: { caseId: $c, championId: $to }) { revision } }",
        json!({ "c": case_id, "to": champion }),
    );
    assert!(assigned["errors"].is_null(), "{assigned}");
}

#[test]
fn sign_in_cookies_csrf_and_role_checks() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, _) = seeded(&service, &icb);
    assign(&service, &icb, &case_id, "dc-amira");
    let mut web = Web::new(&service);

    // Pages need a session.
    let page = web.get("/icb");
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/sign-in?next=%2Ficb"))
    );

    // The sign-in form's own CSRF token, in a cookie and in the form.
    let sign_in = web.get("/sign-in");
    let pre = sign_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("caseledger_signin="))
        .unwrap();
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Lax") && !pre.contains("Secure"),
        "{pre}"
    );
    assert!(web.post("/sign-in", &[("user", "dc-amira")]).status == 403, "no token");
    assert!(
        web.post("/sign-in", &[("_csrf", "forged"), ("user", "dc-amira")])
            .status
            == 403
    );
    assert!(web.cookies.iter().all(|(k, _)| !k.contains("caseledger_session")));
    let signed_in = web.sign_in("dc-amira");
    assert_eq!(signed_in.location.as_deref(), Some("/champion"));
    let session = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("caseledger_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    let caseload = web.get("/champion");
    assert_eq!(caseload.status, 200);
    assert!(caseload.body.contains("My caseload"));
    let csp = service_headers(&service, &web, "/champion");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    // A form without the session's token changes nothing.
    let before = history(&service, &icb, &case_id).len();
    let forged = web.post(
        &format!("/cases/{case_id}/note"),
        &[("text", "forged note"), ("_csrf", "nope")],
    );
    assert_eq!(forged.status, 403);
    let csrf = web.csrf("/champion");
    let noted = web.post(
        &format!("/cases/{case_id}/note"),
        &[("text", "a real note"), ("_csrf", &csrf)],
    );
    assert_eq!(noted.status, 303, "{}", noted.body);
    let after = history(&service, &icb, &case_id);
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap()["data"]["text"], "a real note");

    // The champion may not see the ICB's pages; the LMC may not write.
    assert_eq!(web.get("/icb").status, 403);
    assert_eq!(web.get("/icb/report.csv").status, 403);
    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let csrf = lmc.csrf("/lmc");
    let refused = lmc.post(
        &format!("/cases/{case_id}/note"),
        &[("text", "lmc note"), ("_csrf", &csrf)],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(history(&service, &icb, &case_id).len(), before + 1, "nothing written");

    // Signing out ends the session on the server, not just in the browser.
    let old_cookies = web.cookies.clone();
    let csrf = web.csrf("/champion");
    let out = web.post("/sign-out", &[("_csrf", &csrf)]);
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/sign-in")));
    web.cookies = old_cookies;
    assert_eq!(
        web.get("/champion").location.as_deref(),
        Some("/sign-in?next=%2Fchampion")
    );
}

/// The Content-Security-Policy header of a page.
fn service_headers(service: &Service, web: &Web, path: &str) -> String {
    ureq::get(&format!("{}{path}", service.url))
        .set("Cookie", &web.cookie_header())
        .call()
        .unwrap()
        .header("content-security-policy")
        .unwrap_or("")
        .to_string()
}

#[test]
fn production_mode_has_no_demo_sign_in_and_secure_cookies() {
    let service = Service::start_with(&[], &["CASELEDGER_DEV_JWT_SECRET"]);
    let mut web = Web::new(&service);
    let page = web.get("/sign-in");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("demo user"), "no demo users outside development");
    assert!(
        page.set_cookies.iter().all(|c| c.contains("Secure")),
        "{:?}",
        page.set_cookies
    );
    let (_, token) = web
        .cookies
        .iter()
        .find(|(k, _)| k == "__Host-caseledger_signin")
        .unwrap()
        .clone();
    assert_eq!(
        web.post("/sign-in", &[("_csrf", &token), ("user", "icb-assurance-1")])
            .status,
        404
    );
    assert!(web.cookies.iter().all(|(k, _)| !k.contains("caseledger_session")));
}

#[test]
fn each_partys_markup_holds_only_what_its_role_may_see() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let (case_id, required) = seeded(&service, &icb);
    let secrets = [
        "Dr Secret Contact",
        "confidential summary text",
        "private champion note",
    ];
    for (mutation, input) in [
        ("assignCase", json!({ "championId": "dc-amira" })),
        (
            "recordContact",
            json!({ "channel": "PHONE", "contactName": secrets[0], "summary": secrets[1] }),
        ),
        ("addNote", json!({ "text": secrets[2] })),
        (
            "recordRemap",
            json!({ "changes": ["MAP_PROVIDER_CODE"], "slotsPerDayConfigured": required }),
        ),
    ] {
        let input_type = match mutation {
            "assignCase" => "AssignCaseInput",
            "recordContact" => "RecordContactInput",
            "addNote" => "AddNoteInput",
            _ => "RecordRemapInput",
        };
        let mut input = input;
        input["caseId"] = json!(case_id);
        let done = service.graphql(
            Some(&champion),
            &format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ revision }} }}"),
            json!({ "i": input }),
        );
        assert!(done["errors"].is_null(), "{done}");
    }
    let escalated = service.graphql(
        Some(&icb),
        "mutation($i: EscalateInput!) { escalateToContractReview(input: $i) { revision } }",
        json!({ "i": { "caseId": case_id, "reason": "contract review reason text" } }),
    );
    assert!(escalated["errors"].is_null(), "{escalated}");

    // The champion sees everything operational, the ICB the contract review too.
    let mut web = Web::new(&service);
    web.sign_in("dc-amira");
    let page = web.get(&format!("/cases/{case_id}")).body;
    assert!(
        secrets.iter().all(|s| page.contains(s)),
        "the champion's view is complete"
    );
    assert!(
        !page.contains("contract review reason text"),
        "but has no contract review"
    );
    assert!(
        !page.contains("Verify through GP Connect"),
        "no GP Connect button on a service without GP Connect"
    );

    for (user, pages) in [
        ("dhu-liaison-1", vec!["/dhu".to_string(), format!("/cases/{case_id}")]),
        ("lmc-officer-1", vec!["/lmc".to_string(), format!("/cases/{case_id}")]),
    ] {
        let mut web = Web::new(&service);
        web.sign_in(user);
        for path in pages {
            let page = web.get(&path);
            assert_eq!(page.status, 200, "{user} {path}");
            for forbidden in secrets.iter().chain(&["dc-amira", "contract review reason text"]) {
                assert!(
                    !page.body.contains(forbidden),
                    "{user} received {forbidden:?} on {path}"
                );
            }
        }
    }
    let mut dhu = Web::new(&service);
    dhu.sign_in("dhu-liaison-1");
    let dhu_page = dhu.get("/dhu").body;
    assert!(
        dhu_page.to_lowercase().contains("map provider code"),
        "DHU sees what was remapped"
    );
    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let lmc_page = lmc.get("/lmc?status=all").body;
    assert!(
        lmc_page.contains("Practice contacted"),
        "the LMC sees the support given"
    );
    assert!(
        lmc_page.contains("Contract review, "),
        "and whether and when a contract action happened"
    );
}

#[test]
fn extracts_are_uploaded_with_an_error_report_and_the_report_is_formula_safe() {
    let service = Service::start();
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let csrf = web.csrf("/icb");

    let bad = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
               2026-01-05,Z00011,Good Surgery,U10001,Coventry,6000,2\n\
               2026-01-05,Z00012,Bad Surgery,U10001,Coventry,lots,0\n";
    let page = web.post_file("/icb/import", &csrf, bad);
    assert_eq!(page.status, 422);
    assert!(
        page.body.contains("id=\"import-errors\"") && page.body.contains("list_size"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Line </span>3</td>"),
        "the error names line 3 (in a cell labelled for phones): {}",
        page.body
    );
    assert_eq!(
        web.get("/icb").body.matches("Good Surgery").count(),
        0,
        "nothing was applied"
    );

    let good = "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
                2026-01-05,Z00011,=HYPERLINK(\"http://evil.example\"),U10001,Coventry,9000,0\n\
                2026-01-05,Z00012,+Plus Surgery,U10001,Coventry,6000,0\n";
    let page = web.post_file("/icb/import", &csrf, good);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Extract imported"));

    let report = web.get("/icb/report.csv");
    assert_eq!(report.status, 200);
    assert!(report.content_type.starts_with("text/csv"));
    // UTF-8 with a byte-order mark (so Excel reads it as UTF-8), human headings, UK dates.
    let body = report.body.strip_prefix('\u{feff}').expect("a byte-order mark first");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headings: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&headings[..5], ["Practice", "ODS code", "PCN code", "PCN", "Place"]);
    assert!(headings.contains(&"Days to compliance".to_string()) && headings.contains(&"Opened".to_string()));
    let opened = headings.iter().position(|h| h == "Opened").unwrap();
    let status = headings.iter().position(|h| h == "Status").unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&records[0][opened], "05/01/2026", "the date people read");
    assert_eq!(&records[0][status], "Flagged", "the status in words");
    let practices: Vec<String> = records.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(practices.len(), 2);
    for name in &practices {
        assert!(!name.starts_with(['=', '+', '-', '@']), "a formula cell: {name}");
    }
    assert!(
        practices.contains(&"'=HYPERLINK(\"http://evil.example\")".to_string()),
        "{practices:?}"
    );
    assert!(practices.contains(&"'+Plus Surgery".to_string()));

    // The spreadsheet: a summary sheet and a cases sheet; text is text, never a formula.
    let (status, content_type, bytes) = web.get_bytes("/icb/report.xlsx");
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| xlsx_part(&mut book, name);
    let workbook = part("xl/workbook.xml");
    assert!(
        workbook.contains("name=\"Cover\"")
            && workbook.contains("name=\"Summary\"")
            && workbook.contains("name=\"Cases\""),
        "{workbook}"
    );
    let cases = part("xl/worksheets/sheet3.xml");
    assert!(!cases.contains("<f>"), "no formula anywhere in the cases");
    let strings = part("xl/sharedStrings.xml");
    assert!(
        strings.contains("=HYPERLINK(\"http://evil.example\")")
            || strings.contains("=HYPERLINK(&quot;http://evil.example&quot;)"),
        "kept as text, as typed: {strings}"
    );
    assert!(strings.contains("Days to compliance") && strings.contains("By place") && strings.contains("Coventry"));
    assert!(part("xl/styles.xml").contains("d mmm yyyy"), "dates are dates");
}

#[test]
fn many_open_pages_share_one_live_feed_and_leave_the_database_pool_free() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let mut web = Web::new(&service);
    web.sign_in("dc-amira");
    // More open pages than the service has database connections (20): eight tabs (as many as a
    // person may stream to) for each of four people.
    let browsers: Vec<Web> = ["dc-amira", "dc-ben", "dc-chloe", "icb-assurance-1"]
        .into_iter()
        .map(|person| {
            let mut browser = Web::new(&service);
            browser.sign_in(person);
            browser
        })
        .collect();
    let streams: Vec<ureq::Response> = browsers
        .iter()
        .flat_map(|browser| (0..8).map(move |_| browser.cookie_header()))
        .map(|cookie| {
            let response = ureq::get(&format!("{}/live", service.url))
                .set("Cookie", &cookie)
                .call()
                .unwrap();
            assert_eq!(response.header("content-type"), Some("text/event-stream"));
            response
        })
        .collect();
    // Pages and commands still get database connections (a starved pool answers 500 after its
    // acquire timeout, and the import would fail).
    assert_eq!(web.get("/champion").status, 200);
    seeded(&service, &icb);
    // Each open page hears of the new cases: the first line of every stream names one.
    for stream in streams.into_iter().take(3) {
        let mut reader = std::io::BufReader::new(stream.into_reader());
        let mut line = String::new();
        while !line.starts_with("data:") {
            line.clear();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        }
        assert!(line.trim().len() > "data:".len(), "{line}");
    }
}

#[test]
fn the_case_list_comes_a_page_at_a_time_and_the_dashboard_reads_no_case_list() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    // 60 non-compliant practices in one place, flagged by one extract.
    let mut csv = String::from("report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n");
    for n in 0..60 {
        csv.push_str(&format!("2026-01-05,Y{n:05},Practice {n},U10001,Rugby,6000,0\n"));
    }
    let imported = service.graphql(
        Some(&icb),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 60, "{imported}");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");

    let first = web.get("/icb/cases?place=Rugby");
    assert_eq!(first.status, 200);
    assert!(first.body.contains("60 cases, 50 on this page"), "{}", first.body);
    assert_eq!(first.body.matches("href=\"/cases/").count(), 50);
    let next = first
        .body
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.contains("after=")))
        .unwrap()
        .replace("&amp;", "&");
    assert!(next.starts_with("/icb/cases?place=Rugby&after="), "{next}");
    let second = web.get(&next);
    assert!(second.body.contains("60 cases, 10 on this page"), "{}", second.body);
    assert!(second.body.contains("First page") && !second.body.contains("Next page"));
    let cases_on = |body: &str| -> Vec<String> {
        body.split("href=\"/cases/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_string))
            .collect()
    };
    let mut both = cases_on(&first.body);
    both.extend(cases_on(&second.body));
    let listed = both.len();
    both.sort();
    both.dedup();
    assert_eq!((listed, both.len()), (60, 60), "every case once, none on both pages");
    assert_eq!(web.get("/icb/cases?place=Rugby&after=not-a-cursor").status, 400);

    // The dashboard's histogram and trend come from the summary, as many as are compliant.
    let summary = service.graphql(
        Some(&icb),
        "{ icb { trendStart summary { compliantCases timeToCompliance(bucketDays: 7) { fromDays toDays count } } } }",
        json!({}),
    );
    assert_eq!(summary["data"]["icb"]["trendStart"], "2026-01-05", "{summary}");
    assert_eq!(summary["data"]["icb"]["summary"]["timeToCompliance"], json!([]));
    let refused = service.graphql(
        Some(&icb),
        "{ icb { summary { timeToCompliance(bucketDays: 0) { count } } } }",
        json!({}),
    );
    assert_eq!(caseledger_tests::codes(&refused), vec!["BAD_USER_INPUT"]);
    let dashboard = web.get("/icb");
    assert!(dashboard.body.contains("No case has become compliant yet."));

    // What the figures are as at, what changed this week, and what is late.
    assert!(
        dashboard.body.contains("Data as at <strong>5 Jan 2026</strong>"),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard.body.contains("Overdue cases (60)"),
        "flagged in January: contact is long overdue"
    );
    let change = |body: &str, label: &str| {
        let at = body.find(&format!("data-change=\"{label}\">")).unwrap();
        body[at..]
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        change(&dashboard.body, "New cases"),
        "0",
        "January's flags are not this week's"
    );
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Y99999\", practiceName: \"New Surgery\", pcnCode: \"U10001\", \
         place: \"Rugby\", listSize: 6000, visibleSlots: 0 }) { case { id } } }",
        json!({}),
    );
    assert!(flagged["errors"].is_null(), "{flagged}");
    let dashboard = web.get("/icb");
    assert_eq!(change(&dashboard.body, "New cases"), "+1");
    assert_eq!(change(&dashboard.body, "Open cases"), "+1");
    assert_eq!(change(&dashboard.body, "Overdue now"), "60", "today's flag is not late");
}

#[test]
fn a_practice_page_and_the_pcn_table_for_the_icb_and_not_for_a_stranger() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let register = std::fs::read_to_string(fixture("case-study/practices.csv")).unwrap();
    let registered = service.graphql(
        Some(&icb),
        "mutation($c: String!) { importPracticeRegister(csv: $c) { registered errorCount } }",
        json!({ "c": register }),
    );
    assert_eq!(
        registered["data"]["importPracticeRegister"]["registered"], 119,
        "{registered}"
    );
    seeded(&service, &icb);
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");

    let page = web.get("/practices/Z00011");
    assert_eq!(page.status, 200);
    for seen in [
        "Arden Health Centre",
        "Keresley Branch Surgery",
        "111 slots a day, three ways",
        "id=\"counts\"",
        "practice-weeks-chart",
    ] {
        assert!(page.body.contains(seen), "{seen}");
    }
    assert_eq!(web.get("/practices/Z99999").status, 404);
    assert_eq!(web.get("/practices/not-a-code").status, 404);

    let dashboard = web.get("/icb");
    assert!(dashboard.body.contains("id=\"by-pcn\""));
    assert!(
        dashboard.body.contains("/icb/cases?pcn=U10020"),
        "the PCN with 5 of its 6 practices flagged is listed"
    );
    // Each PCN's row has the places' figures: the share compliant, median days, within 8 weeks,
    // as the ICB's summary gives them, each labelled for a phone's stacked rows.
    let figures = service.graphql(
        Some(&icb),
        "{ icb { summary { byPcn { pcnCode practices nonCompliantPractices medianDaysToCompliance \
           compliantWithinDays { count percentage } } } } }",
        json!({}),
    );
    let u10020 = figures["data"]["icb"]["summary"]["byPcn"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pcn| pcn["pcnCode"] == "U10020")
        .unwrap()
        .clone();
    let row = dashboard
        .body
        .split("data-area=\"U10020\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap();
    let practices = u10020["practices"].as_i64().unwrap();
    let below = u10020["nonCompliantPractices"].as_i64().unwrap();
    let share = format!("{:.0}%", (practices - below) as f64 * 100.0 / practices as f64);
    let median = u10020["medianDaysToCompliance"]
        .as_f64()
        .map_or_else(|| "–".to_string(), |d| format!("{d:.1}"));
    for (label, value) in [
        ("Practices compliant", share),
        ("Median days to compliance", median),
        ("Within 8 weeks", u10020["compliantWithinDays"]["count"].to_string()),
    ] {
        assert!(
            row.contains(&format!("{label} </span>{value}")),
            "{label}: {value} in {row}"
        );
    }
    let pcn = web.get("/icb/cases?pcn=U10020");
    assert!(pcn.body.contains("5 cases"), "{}", pcn.body);

    // A champion reaches only the practices of their cases.
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    assert_eq!(champion.get("/practices/Z00011").status, 404);
}

/// GP Connect configured as an operator would (environment variables, certificate files), a fake
/// provider over TLS with a client certificate, and the case page's button: the search runs, its
/// answer shows on the case and the practice pages; the LMC has no button.
#[test]
fn verify_through_gp_connect_from_the_case_page() {
    use caseledger_gpconnect::fake::{FakeTls, Scenario, serve_fake};
    let dir = tempfile::tempdir().unwrap();
    let pki = caseledger_gpconnect::pki::generate(dir.path()).unwrap();
    let week0 = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    // Every practice of the extract offers 5 bookable slots each core-hours day.
    let today = caseledger_tests::TEST_NOW[..10].to_string();
    let practices: Vec<Value> = week0
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(1))
        .map(|ods| {
            json!({
                "ods_code": ods, "name": "Surgery",
                "locations": [{"id": "main", "name": "Main Surgery"}],
                "schedules": [{"id": "s", "location": "main"}],
                "generate": [{"schedule": "s", "from": today, "to": "2099-12-31", "per_day": 5, "minutes": 10,
                              "availability": {"allowed_ods_codes": ["NHS111"], "allowed_org_types": ["urgent-care"]}}]
            })
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime
        .block_on(serve_fake(
            Scenario::from_json(&json!({ "practices": practices }).to_string()).unwrap(),
            FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca).unwrap(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let template = fake.endpoint_template();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (cert, key, ca) = (path(&pki.client_cert), path(&pki.client_key), path(&pki.ca));
    let service = Service::start_with(
        &[
            ("CASELEDGER_GPCONNECT_PROVIDER_ODS_CODE", "NHS111"),
            ("CASELEDGER_GPCONNECT_PROVIDER_NAME", "NHS 111 provider"),
            ("CASELEDGER_GPCONNECT_FROM_ASID", "200000000111"),
            ("CASELEDGER_GPCONNECT_TO_ASID", "918999198993"),
            ("CASELEDGER_GPCONNECT_JWT_ISSUER", "https://caseledger.test"),
            ("CASELEDGER_GPCONNECT_CLIENT_CERT", &cert),
            ("CASELEDGER_GPCONNECT_CLIENT_KEY", &key),
            ("CASELEDGER_GPCONNECT_CA_BUNDLE", &ca),
            ("CASELEDGER_GPCONNECT_PRACTITIONER_ID", "caseledger"),
            ("CASELEDGER_GPCONNECT_PRACTITIONER_FAMILY", "CaseLedger"),
            ("CASELEDGER_GPCONNECT_ENDPOINT_TEMPLATE", &template),
        ],
        &[],
    );
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, required) = seeded(&service, &icb);

    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let page = web.get(&format!("/cases/{case_id}"));
    assert!(page.body.contains("Verify through GP Connect"), "the button is offered");
    assert!(!page.body.contains("GP Connect check"), "nothing verified yet");
    let csrf = hidden(&page.body, "_csrf");
    let forged = web.post(&format!("/cases/{case_id}/verify"), &[("_csrf", "forged")]);
    assert_eq!(forged.status, 403, "a forged form runs no search");
    assert!(fake.requests().is_empty());
    let done = web.post(&format!("/cases/{case_id}/verify"), &[("_csrf", &csrf)]);
    assert_eq!(done.status, 303, "{}", done.body);
    // Back on the case page, what the search found: when, the verdict, each location's slots.
    let back = done.location.clone().unwrap();
    assert_eq!(back, format!("/cases/{case_id}?verified=1#gp-connect-result"));
    let result = web.get(&back);
    let panel = &result.body[result.body.find(r#"id="gp-connect-result""#).expect("the result")..];
    assert!(panel.contains("GP Connect check, "), "{panel}");
    assert!(panel.contains("Enough: at least 5 free slots"), "{panel}");
    assert!(panel.contains("Main Surgery") && panel.contains("Main site"), "{panel}");
    // As NHS England's appointment checker shows it: every slot, by channel and slot type.
    assert!(panel.contains("Every free slot returned ("), "{panel}");
    assert!(
        panel.contains("Answered by the practice&#39;s system: <strong>CaseLedger fake provider</strong>")
            || panel.contains("Answered by the practice's system: <strong>CaseLedger fake provider</strong>"),
        "{panel}"
    );
    assert!(panel.contains("id=\"gp-connect-channels\""), "{panel}");
    let page = web.get(&format!("/cases/{case_id}"));
    assert!(
        !page.body.contains(r#"id="gp-connect-result""#),
        "shown once, after the search"
    );
    let expected = format!("Enough: at least 5 free slots every core-hours day ({required} required)");
    assert!(page.body.contains(&expected), "{}", page.body);
    assert_eq!(fake.requests().len(), 1, "one search of 14 days");
    let ods = service.graphql(
        Some(&icb),
        "query($id: ID!) { case(id: $id) { practice { odsCode } } }",
        json!({ "id": case_id }),
    )["data"]["case"]["practice"]["odsCode"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(web.get(&format!("/practices/{ods}")).body.contains(&expected));
    // Searched again: the practice page keeps every search and says what changed between them.
    let csrf = hidden(&web.get(&format!("/cases/{case_id}")).body, "_csrf");
    let again = web.post(&format!("/cases/{case_id}/verify"), &[("_csrf", &csrf)]);
    assert_eq!(again.status, 303);
    let practice_page = web.get(&format!("/practices/{ods}"));
    let searches = &practice_page.body[practice_page
        .body
        .find(r#"id="gp-connect-searches""#)
        .expect("the searches")..];
    let searches = &searches[..searches.find("</table>").unwrap()];
    assert_eq!(
        searches.matches("<tr class=\"nhsuk-table__row\"").count(),
        2,
        "{searches}"
    );
    assert!(
        searches.contains("The first search here") && searches.contains(">Nothing<"),
        "{searches}"
    );
    // The practice page shows its latest search in full, as the appointment checker does.
    let latest = &practice_page.body[practice_page
        .body
        .find(r#"id="gp-connect-result""#)
        .expect("the latest search")..];
    assert!(
        latest.contains("Latest GP Connect search, ") && latest.contains("Every free slot returned ("),
        "{latest}"
    );

    // Many practices at once, from the GP Connect page: the practice's whole PCN.
    let pcn = service.graphql(
        Some(&icb),
        "query($ods: String!) { practice(odsCode: $ods) { pcnCode } }",
        json!({ "ods": ods }),
    )["data"]["practice"]["pcnCode"]
        .as_str()
        .unwrap()
        .to_string();
    let members = service.graphql(
        Some(&icb),
        "query($pcn: String!) { practices(pcn: $pcn, closed: false, first: 200) { edges { node { odsCode } } } }",
        json!({ "pcn": pcn }),
    )["data"]["practices"]["edges"]
        .as_array()
        .unwrap()
        .len();
    assert!(members >= 1);
    let form = web.get("/gp-connect");
    assert_eq!(form.status, 200);
    assert!(form.body.contains(&format!("value=\"{pcn}\"")), "the PCN is offered");
    assert!(!form.body.contains("gp-connect-off"), "set up here");
    let csrf = hidden(&form.body, "_csrf");
    // A list that names no practice, or one nobody can see, comes back beside its form, kept.
    let empty = web.post("/gp-connect", &[("_csrf", &csrf), ("ods", " ")]);
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains("id=\"gp-ods-error\""), "{}", empty.body);
    let unknown = web.post("/gp-connect", &[("_csrf", &csrf), ("ods", "Z99999")]);
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown.body.contains("Z99999</textarea>"), "what was typed is kept");
    assert!(
        unknown
            .body
            .contains(">no practice you can see has the ODS code Z99999<"),
        "{}",
        unknown.body
    );
    let malformed = web.post("/gp-connect", &[("_csrf", &csrf), ("ods", "ZZ9999")]);
    assert_eq!(malformed.status, 422);
    assert!(
        malformed.body.contains("is not a GP practice ODS code"),
        "{}",
        malformed.body
    );
    let before = fake.requests().len();
    let begun = web.post("/gp-connect", &[("_csrf", &csrf), ("pcn", &pcn)]);
    assert_eq!(begun.status, 303, "{}", begun.body);
    let results = begun.location.clone().unwrap();
    assert!(
        results.starts_with(&format!("/gp-connect?pcn={pcn}&since=")),
        "{results}"
    );
    let all_done = format!("{members} of {members} practices searched");
    assert!(
        eventually(std::time::Duration::from_secs(60), || web
            .get(&results)
            .body
            .contains(&all_done)),
        "{}",
        web.get(&results).body
    );
    let page = web.get(&results);
    assert!(!page.body.contains("data-poll"), "done: the list stops refreshing");
    assert!(
        page.body.contains(&format!(": {members} enough, 0 too few, 0 failed.")),
        "{}",
        page.body
    );
    assert_eq!(fake.requests().len() - before, members, "each practice searched once");
    // What the page's script asks for while it waits: the results alone.
    let part = web.get(&format!("{}&part=results", results.split('#').next().unwrap()));
    assert_eq!(part.status, 200);
    assert!(
        part.body.starts_with("<div id=\"gp-connect-batch\"") && !part.body.contains("<html"),
        "{}",
        part.body
    );
    assert!(part.body.contains(&all_done), "{}", part.body);
    // Every slot of each, as a spreadsheet.
    let sheet = results.replacen("/gp-connect?", "/gp-connect/slots.xlsx?", 1);
    let (status, content_type, bytes) = web.get_bytes(sheet.split('#').next().unwrap());
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| xlsx_part(&mut book, name);
    let workbook = part("xl/workbook.xml");
    assert!(
        workbook.contains("name=\"Practices\"") && workbook.contains("name=\"Slots\""),
        "{workbook}"
    );
    // 5 a day for each core-hours day of the 14 (8 to 10 of them), for each practice, and a heading.
    let slot_rows = part("xl/worksheets/sheet2.xml").matches("<row ").count();
    assert!(slot_rows > members * 5 * 8, "{slot_rows} rows for {members} practices");
    assert!(part("xl/sharedStrings.xml").contains(&ods));

    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let page = lmc.get(&format!("/cases/{case_id}"));
    assert!(page.body.contains(&expected), "the LMC sees the verdict");
    assert!(!page.body.contains("Verify through GP Connect"), "but has no button");
    assert_eq!(lmc.get("/gp-connect").status, 403, "nor a batch");
    assert!(!page.body.contains("href=\"/gp-connect\""), "nor a link to one");
    runtime.block_on(fake.shutdown());
}

#[test]
fn the_icb_erases_a_cases_personal_data_from_its_page_after_confirming() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let (case_id, _) = seeded(&service, &icb);
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }",
        "mutation($id: ID!) { recordContact(input: { caseId: $id, channel: PHONE, contactName: \"Zebedee Quartermain\", \
         summary: \"Rang the practice manager on 07700 900123\" }) { revision } }",
    ] {
        let done = service.graphql(Some(&champion), mutation, json!({ "id": case_id }));
        assert!(done["errors"].is_null(), "{done}");
    }
    let page_path = format!("/cases/{case_id}");
    let mut amira = Web::new(&service);
    amira.sign_in("dc-amira");
    let page = amira.get(&page_path);
    assert!(
        page.body.contains("Zebedee Quartermain"),
        "the champion reads the contact's name"
    );
    assert!(!page.body.contains("Erase personal data"), "champions may not erase");

    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let page = web.get(&page_path);
    assert!(page.body.contains("Erase personal data"), "the ICB is offered erasure");
    let csrf = hidden(&page.body, "_csrf");
    let erase = format!("/cases/{case_id}/erase");
    let reason = ("reason", "the practice manager asked to be forgotten");
    // Without the confirmation nothing is erased, and the form says why.
    let unconfirmed = web.post(&erase, &[("_csrf", &csrf), reason, ("commandId", "erase-1")]);
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert!(
        unconfirmed.body.contains("Tick the box to confirm"),
        "{}",
        unconfirmed.body
    );
    assert!(amira.get(&page_path).body.contains("Zebedee Quartermain"));
    let forged = web.post(&erase, &[("_csrf", "forged"), reason, ("confirm", "yes")]);
    assert_eq!(forged.status, 403);
    let done = web.post(
        &erase,
        &[("_csrf", &csrf), reason, ("confirm", "yes"), ("commandId", "erase-2")],
    );
    assert_eq!(done.status, 303, "{}", done.body);

    let page = amira.get(&page_path);
    assert!(
        !page.body.contains("Zebedee Quartermain"),
        "the name is gone from the page"
    );
    assert!(!page.body.contains("07700 900123"));
    assert!(page.body.contains("[erased]"), "and shown as erased");
    let events = history(&service, &icb, &case_id);
    assert_eq!(events.last().unwrap()["type"], "PersonalDataErased");
    assert_eq!(events.last().unwrap()["data"]["reason"], reason.1);
}

#[test]
fn the_caseload_puts_what_needs_doing_first_marks_what_is_late_and_says_what_was_assigned() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let cases = service.graphql(
        Some(&icb),
        "{ icb { cases(first: 2) { edges { node { id practice { name } } } } } }",
        json!({}),
    );
    let edges = cases["data"]["icb"]["cases"]["edges"].as_array().unwrap().clone();
    let (finished, open) = (&edges[0]["node"], &edges[1]["node"]);
    let id = |case: &Value| case["id"].as_str().unwrap().to_string();
    let name = |case: &Value| case["practice"]["name"].as_str().unwrap().to_string();

    let mut web = Web::new(&service);
    web.sign_in("dc-amira");
    // Assign to me, from the list: back to the list, saying so.
    for case in [finished, open] {
        let page = web.get("/champion");
        let csrf = hidden(&page.body, "_csrf");
        let done = web.post(
            &format!("/cases/{}/assign", id(case)),
            &[
                ("_csrf", &csrf),
                ("expectedRevision", "0"),
                ("_return", &format!("/champion?assigned={}#assigned", id(case))),
            ],
        );
        assert_eq!(done.status, 303, "{}", done.body);
        let location = done.location.unwrap();
        assert_eq!(location, format!("/champion?assigned={}#assigned", id(case)));
        let back = web.get(&location);
        assert!(back.body.contains("Assigned to you: "), "{}", back.body);
        assert!(back.body.contains(&name(case)));
    }
    // The first is closed by the ICB: finished cases go below the open ones.
    let closed = service.graphql(
        Some(&icb),
        "mutation($id: ID!) { closeCase(input: { caseId: $id, reason: WITHDRAWN }) { revision } }",
        json!({ "id": id(finished) }),
    );
    assert!(closed["errors"].is_null(), "{closed}");
    let page = web.get("/champion");
    let (at_open, at_finished) = (
        page.body.find(&name(open)).unwrap(),
        page.body.find(&name(finished)).unwrap(),
    );
    assert!(at_open < at_finished, "the open case comes first");
    // Week 0's flags are weeks old: contact is long overdue, and the page says so.
    assert!(page.body.contains("Overdue"), "{}", page.body);
    assert!(page.body.contains("1 overdue"), "{}", page.body);
    assert!(page.body.contains("Contact the practice was due"));
    assert!(page.body.contains("Open for"), "days open are shown");
    assert!(page.body.contains("Last activity"));
}

#[test]
fn the_timeline_reads_in_words_and_uk_time() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Z00031\", practiceName: \"Mill Surgery\", pcnCode: \"U10001\", \
         place: \"Coventry\", listSize: 6000, visibleSlots: 0, occurredAt: \"2026-07-13T08:00:00Z\" }) { case { id } } }",
        json!({}),
    );
    let id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\", occurredAt: \"2026-07-13T09:00:00Z\" }) { revision } }",
        // 08:30 UTC in July is 09:30 in London.
        "mutation($id: ID!) { recordRootCause(input: { caseId: $id, cause: SLOT_TYPE_NOT_EXTERNAL, occurredAt: \"2026-07-14T08:30:00Z\" }) { revision } }",
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [MAKE_SLOT_TYPE_EXTERNAL], slotsPerDayConfigured: 2, occurredAt: \"2026-07-15T13:05:00Z\" }) { revision } }",
    ] {
        let done = service.graphql(Some(&champion), mutation, json!({ "id": id }));
        assert!(done["errors"].is_null(), "{done}");
    }
    // The DHU sees one of the two a day; the champion remaps to one, below the requirement.
    let dhu = service.token("dhu", "dhu-liaison-1");
    let seen = service.graphql(
        Some(&dhu),
        "mutation($id: ID!) { confirmDhuVisibility(input: { caseId: $id, visibleSlotsPerDay: 1, occurredAt: \"2026-07-16T09:00:00Z\" }) { revision } }",
        json!({ "id": id }),
    );
    assert!(seen["errors"].is_null(), "{seen}");
    let below = service.graphql(
        Some(&champion),
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 1, occurredAt: \"2026-07-16T10:00:00Z\" }) { revision } }",
        json!({ "id": id }),
    );
    assert!(
        below["errors"].is_null(),
        "a remap below the requirement is accepted: {below}"
    );
    let mut web = Web::new(&service);
    web.sign_in("dc-amira");
    let page = web.get(&format!("/cases/{id}"));
    for words in [
        "DHU saw 1 of 2 slots a day: a shortfall",
        "Slots remapped: 1 a day set up, below the 2 required",
        "Root cause",
        "Slot type not externally visible",
        "14 Jul 2026, 09:30",
        "15 Jul 2026, 14:05",
        "What changed",
        "Made the slot type external",
        "Slots a day set up",
        "dc-amira (Digital Champion)",
    ] {
        assert!(page.body.contains(words), "{words:?} missing");
    }
    for raw in [
        "champion id",
        "slot type not external<",
        "slots per day configured",
        "make slot type external",
    ] {
        assert!(!page.body.contains(raw), "{raw:?} still shown");
    }
}

#[test]
fn every_page_has_the_nhs_frame_a_styled_404_and_error_titles() {
    let service = Service::start();
    let mut web = Web::new(&service);
    // Anyone: the accessibility statement and privacy notice the footer links to.
    for (path, heading) in [
        ("/accessibility", "Accessibility statement for CaseLedger"),
        ("/privacy", "Privacy notice"),
    ] {
        let page = web.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(heading), "{path}");
    }
    // Every unknown path: a page in the service's style, saying so, with a 404.
    for path in ["/no-such-page", "/icb/nothing/here", "/cases"] {
        let page = web.get(path);
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Page not found"), "{path}: {}", page.body);
        assert!(page.body.contains("nhsuk-header"), "{path}");
    }
    web.sign_in("icb-assurance-1");
    let page = web.get("/icb");
    assert!(page.body.contains("href=\"/accessibility\"") && page.body.contains("href=\"/privacy\""));
    assert!(
        page.body.contains("/assets/nhsuk/assets/images/favicon.svg"),
        "the frontend's favicon"
    );
    assert!(page.body.contains("<title>NHS</title>"), "the frontend's logo, named");
    assert!(page.body.contains("<title>Assurance dashboard"));
    let signed_in_404 = web.get("/nowhere");
    assert!(signed_in_404.body.contains("Back to your start page"));
    // A form that fails says so first in the title.
    let csrf = hidden(&page.body, "_csrf");
    let failed = web.post_file("/icb/import", &csrf, "report_date,ods_code\nnot,a,valid,extract\n");
    assert!(failed.body.contains("<title>Error: "), "{}", failed.body);
}

#[test]
fn a_case_page_leads_with_the_next_step_and_says_whose_case_it_is() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let bryn = service.token("champion", "dc-bryn");
    let (case_id, _) = seeded(&service, &icb);
    let path = format!("/cases/{case_id}");
    let primaries = |body: &str| body.matches("class=\"nhsuk-button\" type=\"submit\"").count();

    // The ICB, on an unassigned case: assign it, picking from the champions the service knows.
    let other = service.graphql(
        Some(&icb),
        "{ icb { cases(first: 2) { edges { node { id } } } } }",
        json!({}),
    )["data"]["icb"]["cases"]["edges"][1]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let taken = service.graphql(
        Some(&bryn),
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-bryn\" }) { revision } }",
        json!({ "id": other }),
    );
    assert!(taken["errors"].is_null(), "{taken}");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let page = web.get(&path);
    let next = page.body.split("id=\"next-action\"").nth(1).unwrap();
    assert!(next.contains("Assign to a champion"), "the next step leads");
    assert_eq!(primaries(&page.body), 1, "one primary form");
    // The champions in the directory, picked by name (dc-bryn is there from the harness).
    assert!(
        page.body
            .contains("<option value=\"dc-bryn\">Champion dc-bryn (dc-bryn)</option>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<details class=\"nhsuk-details cl-action-details\">"),
        "the rest folded"
    );

    // A champion on a case another holds: told so plainly, no step leads, no form at all, and
    // the case read as the LMC reads it (not even who holds it).
    let mut amira = Web::new(&service);
    amira.sign_in("dc-amira");
    let page = amira.get(&format!("/cases/{other}"));
    assert!(page.body.contains("Not your case"));
    assert!(page.body.contains("Another champion holds this case"), "{}", page.body);
    assert!(!page.body.contains("dc-bryn"), "the holder is not named to a colleague");
    assert_eq!(primaries(&page.body), 0);
    assert!(
        !page.body.contains("<form method=\"post\" action=\"/cases/"),
        "no form on a colleague's case"
    );
    // On an unassigned case, taking it is the next step.
    let page = amira.get(&path);
    assert!(
        page.body
            .split("id=\"next-action\"")
            .nth(1)
            .unwrap()
            .contains("Take this case")
    );
    assert!(!page.body.contains("Not your case"));
}

#[test]
fn escalation_is_confirmed_shown_on_the_status_and_timeline_and_the_decision_is_prefilled() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, required) = seeded(&service, &icb);
    remapped_and_seen(&service, &case_id, required, required + 1);
    let path = format!("/cases/{case_id}");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let page = web.get(&path);
    // The decision leads, filled in with what the DHU saw.
    let next = page.body.split("id=\"next-action\"").nth(1).unwrap();
    assert!(next.contains("Confirm compliance"));
    assert!(
        next.contains(&format!("value=\"{}\"", required + 1)),
        "the DHU's count is filled in"
    );
    assert!(
        next.contains("<option value=\"DHU_CONFIRMATION\" selected>"),
        "and its evidence chosen"
    );

    // Escalation asks to be confirmed; then the status and the timeline say so.
    let csrf = hidden(&page.body, "_csrf");
    let escalate = format!("/cases/{case_id}/escalate");
    let reason = ("reason", "three months without a remap that held");
    let unconfirmed = web.post(&escalate, &[("_csrf", &csrf), reason, ("commandId", "esc-1")]);
    assert_eq!(unconfirmed.status, 422);
    assert!(unconfirmed.body.contains("Tick the box to confirm"));
    assert!(
        !web.get(&path).body.contains("id=\"under-review\""),
        "nothing escalated yet"
    );
    let done = web.post(
        &escalate,
        &[("_csrf", &csrf), reason, ("confirm", "yes"), ("commandId", "esc-2")],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let page = web.get(&path);
    assert!(page.body.contains("id=\"under-review\""), "the status says so");
    let timeline = page.body.split("id=\"timeline\"").nth(1).unwrap();
    assert!(timeline.contains("Escalated to contract review") && timeline.contains(reason.1));
    assert!(web.get("/icb/cases").body.contains("Contract review"), "and every list");
    // The LMC sees that a review is open; a champion does not.
    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let page = lmc.get(&path);
    assert!(page.body.contains("id=\"under-review\""));
    assert!(!page.body.contains(reason.1), "not why");
    let mut amira = Web::new(&service);
    amira.sign_in("dc-amira");
    assert!(!amira.get(&path).body.contains("Contract review"));
}

#[test]
fn the_lmc_page_answers_whether_support_came_first_and_filters_by_place_and_status() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    seeded(&service, &icb);
    let cases = service.graphql(
        Some(&icb),
        "{ icb { cases(first: 100) { edges { node { id practice { name place } } } } } }",
        json!({}),
    );
    let nodes: Vec<Value> = cases["data"]["icb"]["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let (supported, sanctioned) = (&nodes[0], &nodes[1]);
    // One practice contacted before any contract action; another escalated with no support at all.
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }",
        "mutation($id: ID!) { recordContact(input: { caseId: $id, channel: PHONE, summary: \"walked it through\" }) { revision } }",
    ] {
        let done = service.graphql(Some(&champion), mutation, json!({ "id": supported["id"] }));
        assert!(done["errors"].is_null(), "{done}");
    }
    let escalated = service.graphql(
        Some(&icb),
        "mutation($id: ID!) { escalateToContractReview(input: { caseId: $id, reason: \"no engagement\" }) { revision } }",
        json!({ "id": sanctioned["id"] }),
    );
    assert!(escalated["errors"].is_null(), "{escalated}");

    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let page = lmc.get("/lmc");
    let answer = |body: &str, key: &str| {
        let at = body.find(&format!("data-answer=\"{key}\">")).unwrap();
        body[at..]
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        answer(&page.body, "support-first"),
        "0 of 1",
        "the review came before any support"
    );
    assert_eq!(
        answer(&page.body, "never-supported"),
        "27",
        "28 open cases, one supported"
    );
    assert!(page.body.contains("before any support"));
    assert!(
        page.body.contains("Practice contacted"),
        "the kinds of support, by date"
    );
    assert!(!page.body.contains("no engagement"), "not the ICB's reason");
    assert!(page.body.contains("28 of 28 cases"), "open ones by default");

    // Filtered to one place: only its cases.
    let place = supported["practice"]["place"].as_str().unwrap();
    let in_place = nodes.iter().filter(|n| n["practice"]["place"] == place).count();
    let filtered = lmc.get(&format!("/lmc?place={}&status=all", place.replace(' ', "+")));
    assert!(
        filtered.body.contains(&format!("{in_place} of 28 cases")),
        "{}",
        filtered.body
    );
    let contacted = lmc.get("/lmc?status=CONTACTED");
    assert!(contacted.body.contains("1 of 28 cases"));
    assert!(contacted.body.contains(supported["practice"]["name"].as_str().unwrap()));
}

#[test]
fn the_dhu_finds_any_practice_and_sees_its_confirmation_history() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, required) = seeded(&service, &icb);
    let mut web = Web::new(&service);
    web.sign_in("dhu-liaison-1");

    // By ODS code's start and by part of the name, in any case; `%` is only a character.
    let page = web.get("/dhu?q=Z0001");
    let found = page.body.split("id=\"search-results\"").nth(1).unwrap();
    assert!(
        found.contains("Z00011") && found.contains("Arden Health Centre"),
        "{found}"
    );
    assert!(!found.contains("Z00021"), "only codes starting Z0001");
    let page = web.get("/dhu?q=arden+HEALTH");
    assert!(
        page.body
            .split("id=\"search-results\"")
            .nth(1)
            .unwrap()
            .contains("/practices/Z00011")
    );
    let page = web.get("/dhu?q=%25");
    assert!(page.body.contains("No practice matches."), "a % is not a wildcard");

    // A practice's page lists each time the DHU confirmed what it saw.
    remapped_and_seen(&service, &case_id, required, required + 2);
    let ods = service.graphql(
        Some(&icb),
        "query($id: ID!) { case(id: $id) { practice { odsCode } } }",
        json!({ "id": case_id }),
    )["data"]["case"]["practice"]["odsCode"]
        .as_str()
        .unwrap()
        .to_string();
    let page = web.get(&format!("/practices/{ods}"));
    let history = page.body.split("id=\"dhu-confirmations\"").nth(1).unwrap();
    assert!(history.contains(&(required + 2).to_string()), "{history}");
}

#[test]
fn the_trend_shows_the_weeks_with_activity_lines_told_apart_and_axis_titles() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let rows = |body: &str| {
        let table = body
            .split("id=\"trend-table\"")
            .nth(1)
            .unwrap()
            .split("</table>")
            .next()
            .unwrap();
        table.matches("<tr class=\"nhsuk-table__row\">").count()
    };
    // Week 0's flags in January, nothing since: the default stops a week after the last change.
    let page = web.get("/icb");
    let default = rows(&page.body);
    assert!(default <= 3, "{default} weeks shown by default");
    let all = rows(&web.get("/icb?weeks=all").body);
    assert!(all > default + 10, "every week to today on asking: {all}");
    assert_eq!(rows(&web.get("/icb?weeks=12").body), 12.min(all));
    // Lines are told apart by dash and marker as well as colour, and the axes say what they are.
    assert!(page.body.contains("stroke-dasharray=\"10 5\"") && page.body.contains("stroke-dasharray=\"3 4\""));
    assert!(page.body.contains("<polygon"), "a triangle marker");
    assert!(
        page.body.contains("class=\"cl-legend__key\""),
        "the legend shows each line's style"
    );
    assert!(page.body.contains(">Week ending</text>") && page.body.contains(">Practices or cases</text>"));
    // By place: the share of practices meeting the requirement.
    assert!(page.body.contains("Practices compliant"));
    assert!(page.body.contains("data-place-compliant=\"Coventry\""));
}

#[test]
fn the_icb_loads_nhs_englands_files_from_its_pages_and_others_cannot() {
    let service = Service::start_with(&[("CASELEDGER_SUB_ICB_CODES", "B2M3M")], &[]);
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    assert!(
        web.get("/icb").body.contains("href=\"/icb/register\""),
        "the dashboard leads to it"
    );
    let csrf = web.csrf("/icb/register");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../services/cases/tests/fixtures/nhs/");
    let read = |name: &str| std::fs::read_to_string(format!("{fixtures}{name}")).unwrap();

    // ODS's file as published: the practice waits for its list size.
    let page = web.post_file("/icb/register/ods", &csrf, &read("epraccur-2025-04.csv"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Waiting for a list size") && page.body.contains("M84001"),
        "{}",
        page.body
    );

    // A bad list size file: named by line and column, nothing applied.
    let bad = read("gp-reg-pat-prac-all-2026-04.csv").replace("13265", "many");
    let page = web.post_file("/icb/register/list-sizes", &csrf, &bad);
    assert_eq!(page.status, 422);
    assert!(
        page.body.contains("NUMBER_OF_PATIENTS") && page.body.contains("Line </span>5</td>"),
        "{}",
        page.body
    );

    let page = web.post_file(
        "/icb/register/list-sizes",
        &csrf,
        &read("gp-reg-pat-prac-all-2026-04.csv"),
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("1 practices registered"), "{}", page.body);
    let page = web.post_file(
        "/icb/register/pcns",
        &csrf,
        &read("epcn-core-partner-details-sheet-2023-01.csv"),
    );
    assert_eq!(page.status, 200, "{}", page.body);

    // The practice page: its ODS address and telephone, its PCN from the release, its list size's date.
    let practice = web.get("/practices/M84001").body;
    for shown in [
        "024 76357100",
        "31 COTON ROAD",
        "CV11 5TW",
        "NUNEATON &amp; BEDWORTH PCN",
        "13265",
        "published",
    ] {
        assert!(practice.contains(shown), "{shown}: {practice}");
    }

    // Only the ICB and operators load them.
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    assert_eq!(champion.get("/icb/register").status, 403);
    let csrf = champion.csrf("/champion");
    let refused = champion.post_file("/icb/register/ods", &csrf, &read("epraccur-2025-04.csv"));
    assert_eq!(refused.status, 403);
    let csrf = web.csrf("/icb/register");
    assert_eq!(
        web.post_file("/icb/register/nothing", &csrf, "x").status,
        404,
        "only the three files"
    );
}

#[test]
fn the_dhu_uploads_its_own_extract_on_its_page() {
    let service = Service::start();
    let mut dhu = Web::new(&service);
    dhu.sign_in("dhu-liaison-1");
    let page = dhu.get("/dhu");
    assert!(
        page.body.contains("id=\"dhu-upload\""),
        "the upload is on the DHU's page"
    );
    let csrf = dhu.csrf("/dhu");
    let bad = "ods_code,date,slots_visible\nZ00011,2026-11-20,3\nZ00012,2026-11-20,many\n";
    let refused = dhu.post_file("/dhu/import", &csrf, bad);
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("slots_visible") && refused.body.contains("Line </span>3</td>"),
        "{}",
        refused.body
    );
    let good = "ods_code,date,slots_visible\r\nZ00011,2026-11-20,3\r\nZ00012,2026-11-20,1\r\n";
    let done = dhu.post_file("/dhu/import", &csrf, good);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("2 rows, 2 new"), "{}", done.body);
    let again = dhu.post_file("/dhu/import", &csrf, good);
    assert!(
        again.body.contains("2 rows, 0 new"),
        "a day is counted once: {}",
        again.body
    );

    // The LMC cannot send the DHU's extract.
    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let csrf = lmc.csrf("/lmc");
    assert_eq!(lmc.post_file("/dhu/import", &csrf, good).status, 403);
}

#[test]
fn the_icb_finds_any_practice_and_flags_it_by_hand_from_its_page() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let imported = service.graphql(
        Some(&icb),
        "mutation { importDashboard(csv: \"report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\\n\
         2026-11-16,Z00091,Rowan Surgery,U10001,Coventry,6000,2\\n\") { errors { message } } }",
        json!({}),
    );
    assert!(imported["errors"].is_null(), "{imported}");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    // Without GP Connect set up, its page says so before anyone tries a search.
    assert!(web.get("/gp-connect").body.contains("id=\"gp-connect-off\""));
    assert!(
        web.get("/icb").body.contains("id=\"practice-search\""),
        "a search box on the dashboard"
    );
    let found = web.get("/icb/practices?q=rowan");
    assert!(found.body.contains("href=\"/practices/Z00091\""), "{}", found.body);

    let page = web.get("/practices/Z00091");
    assert!(
        page.body.contains("id=\"flag-practice\""),
        "no open case: the ICB may flag it"
    );
    let csrf = hidden(&page.body, "_csrf");
    let wrong = web.post(
        "/practices/Z00091/flag",
        &[("_csrf", &csrf), ("visibleSlots", "lots"), ("reason", "")],
    );
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.body.contains("nhsuk-error-summary") && wrong.body.contains("whole number"),
        "{}",
        wrong.body
    );
    let flagged = web.post(
        "/practices/Z00091/flag",
        &[
            ("_csrf", &csrf),
            ("visibleSlots", "1"),
            ("reason", "The PCN says Tuesday clinics vanished"),
        ],
    );
    assert_eq!(flagged.status, 303, "{}", flagged.body);
    let case_page = web.get(flagged.location.as_deref().unwrap());
    assert!(case_page.body.contains("Rowan Surgery"), "{}", case_page.body);
    assert!(
        !web.get("/practices/Z00091").body.contains("id=\"flag-practice\""),
        "an open case now"
    );

    // A champion has no such form, and cannot flag.
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    let csrf = champion.csrf("/champion");
    let refused = champion.post("/practices/Z00091/flag", &[("_csrf", &csrf), ("visibleSlots", "1")]);
    assert_ne!(refused.status, 303, "{}", refused.body);
}

#[test]
fn the_dhu_sees_the_shortfalls_it_reported_until_a_remap() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let champion = service.token("champion", "dc-amira");
    let dhu = service.token("dhu", "dhu-liaison-1");
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Z00081\", practiceName: \"Hazel Surgery\", pcnCode: \"U10001\", \
         place: \"Coventry\", listSize: 6000, visibleSlots: 0 }) { case { id } } }",
        json!({}),
    );
    let id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (token, mutation) in [
        (
            &champion,
            "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }",
        ),
        (
            &champion,
            "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: 2 }) { revision } }",
        ),
        (
            &dhu,
            "mutation($id: ID!) { confirmDhuVisibility(input: { caseId: $id, visibleSlotsPerDay: 1 }) { revision } }",
        ),
    ] {
        let done = service.graphql(Some(token), mutation, json!({ "id": id }));
        assert!(done["errors"].is_null(), "{done}");
    }
    let mut web = Web::new(&service);
    web.sign_in("dhu-liaison-1");
    let page = web.get("/dhu").body;
    assert!(page.contains("Shortfalls you reported (1)"), "{page}");
    assert!(page.contains("you saw 1 of 2 slots a day"), "{page}");
    let remapped = service.graphql(
        Some(&champion),
        "mutation($id: ID!) { recordRemap(input: { caseId: $id, changes: [CHANGE_TEMPLATE], slotsPerDayConfigured: 2 }) { revision } }",
        json!({ "id": id }),
    );
    assert!(remapped["errors"].is_null(), "{remapped}");
    let page = web.get("/dhu").body;
    assert!(
        page.contains("Shortfalls you reported (0)"),
        "back with the DHU to check: {page}"
    );
}

#[test]
fn a_link_followed_while_signed_out_lands_on_its_page_after_sign_in_and_no_other_site() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, _) = seeded(&service, &icb);
    let case_page = format!("/cases/{case_id}");
    let mut web = Web::new(&service);
    let asked = web.get(&case_page);
    let to_sign_in = format!("/sign-in?next=%2Fcases%2F{case_id}");
    assert_eq!(asked.location.as_deref(), Some(to_sign_in.as_str()));
    let page = web.get(&to_sign_in);
    assert!(page.body.contains("Sign in to see the page you followed a link to"));
    assert_eq!(hidden(&page.body, "next"), case_page);
    let token = hidden(&page.body, "_csrf");
    let signed = web.post(
        "/sign-in",
        &[("_csrf", &token), ("user", "icb-assurance-1"), ("next", &case_page)],
    );
    assert_eq!(signed.location.as_deref(), Some(case_page.as_str()));
    assert_eq!(web.get(&case_page).status, 200);
    // A practice's page and the case list with its filters are places to return to too.
    let mut other = Web::new(&service);
    let asked = other.get("/icb/cases?status=FLAGGED&place=Coventry");
    assert_eq!(
        asked.location.as_deref(),
        Some("/sign-in?next=%2Ficb%2Fcases%3Fstatus%3DFLAGGED%26place%3DCoventry")
    );
    // A `next` that leaves the site, or is not one of its pages, is never followed.
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/sign-out",
    ] {
        let mut stranger = Web::new(&service);
        let page = stranger.get(&format!("/sign-in?next={}", urlencode(hostile)));
        assert!(!page.body.contains("evil.example"), "{hostile}");
        let token = hidden(&page.body, "_csrf");
        let signed = stranger.post(
            "/sign-in",
            &[("_csrf", &token), ("user", "lmc-officer-1"), ("next", hostile)],
        );
        assert_eq!(signed.location.as_deref(), Some("/lmc"), "{hostile}");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn the_admin_keeps_the_directory_of_people_and_a_case_goes_only_to_an_active_champion() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, _) = seeded(&service, &icb);
    let case_page = format!("/cases/{case_id}");
    let mut admin = Web::new(&service);
    admin.sign_in("admin-1");
    let list = admin.get("/admin/people");
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains("dc-amira") && list.body.contains("Alex Morgan"),
        "{}",
        list.body
    );
    let csrf = hidden(&list.body, "_csrf");
    // Errors on the same page, the NHS way, what was typed kept.
    let add = |admin: &mut Web, fields: &[(&str, &str)]| {
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        admin.post("/admin/people", &form)
    };
    let unnamed = add(&mut admin, &[("id", "dc-frank"), ("name", ""), ("role", "champion")]);
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.body.contains("Enter their name") && unnamed.body.contains("nhsuk-error-summary"));
    assert!(unnamed.body.contains(r#"value="dc-frank""#), "the id typed is kept");
    let gmail = add(
        &mut admin,
        &[
            ("id", "dc-frank"),
            ("name", "Frank Li"),
            ("role", "champion"),
            ("email", "frank@gmail.com"),
        ],
    );
    assert_eq!(gmail.status, 422);
    assert!(gmail.body.contains("Must be an email address at"), "{}", gmail.body);
    assert!(gmail.body.contains(r#"value="Frank Li""#));
    let added = add(
        &mut admin,
        &[
            ("id", "dc-frank"),
            ("name", "Frank Li"),
            ("role", "champion"),
            ("email", "frank.li@nhs.net"),
        ],
    );
    assert_eq!(
        added.location.as_deref(),
        Some("/admin/people?saved=dc-frank"),
        "{}",
        added.body
    );
    let saved = admin.get("/admin/people?saved=dc-frank");
    assert!(saved.body.contains("Saved <strong>Frank Li</strong>"), "{}", saved.body);

    // The ICB picks from the active champions by name: no text box to mistype into.
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let page = web.get(&case_page);
    assert!(
        page.body
            .contains(r#"<option value="dc-frank">Frank Li (dc-frank)</option>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"name="championId" type="text""#));

    // Deactivated: gone from the choices; a stale form is refused on the same page, naming him.
    let edit = admin.get("/admin/people/dc-frank");
    assert!(edit.body.contains("Deactivate"));
    let csrf_edit = hidden(&edit.body, "_csrf");
    let off = admin.post(
        "/admin/people/dc-frank/active",
        &[("_csrf", &csrf_edit), ("active", "false")],
    );
    assert_eq!(off.status, 303);
    assert!(admin.get("/admin/people").body.contains("Deactivated"));
    let stale = page;
    let refused = web.post(
        &format!("{case_page}/assign-champion"),
        &[
            ("_csrf", &hidden(&stale.body, "_csrf")),
            ("expectedRevision", &hidden(&stale.body, "expectedRevision")),
            ("commandId", &hidden(&stale.body, "commandId")),
            ("championId", "dc-frank"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("dc-frank has been deactivated"),
        "{}",
        refused.body
    );
    assert!(!web.get(&case_page).body.contains(r#"value="dc-frank""#));
    let case = service.graphql(
        Some(&icb),
        "query($id: ID!) { case(id: $id) { assignedTo } }",
        json!({ "id": case_id }),
    );
    assert_eq!(case["data"]["case"]["assignedTo"], Value::Null, "nothing assigned");

    // A deactivated person cannot sign in to the pages, and a session they had ends at once;
    // turned back on, they can sign in again.
    let mut signed_in_before = Web::new(&service);
    signed_in_before.sign_in("dc-chloe");
    assert_eq!(signed_in_before.get("/champion").status, 200);
    let chloe = admin.get("/admin/people/dc-chloe");
    let off = admin.post(
        "/admin/people/dc-chloe/active",
        &[("_csrf", &hidden(&chloe.body, "_csrf")), ("active", "false")],
    );
    assert_eq!(off.status, 303);
    assert_eq!(
        signed_in_before.get("/champion").location.as_deref(),
        Some("/sign-in?next=%2Fchampion"),
        "the session they had ended"
    );
    let mut chloe_web = Web::new(&service);
    let page = chloe_web.get("/sign-in");
    let refused = chloe_web.post(
        "/sign-in",
        &[("_csrf", &hidden(&page.body, "_csrf")), ("user", "dc-chloe")],
    );
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("Your access to CaseLedger has been turned off"));
    let token = service.token("champion", "dc-chloe");
    let api = service.graphql(Some(&token), "{ me { id } }", json!({}));
    assert!(api["errors"].to_string().contains("deactivated"), "{api}");
    let back = admin.get("/admin/people/dc-chloe");
    admin.post(
        "/admin/people/dc-chloe/active",
        &[("_csrf", &hidden(&back.body, "_csrf")), ("active", "true")],
    );
    chloe_web.sign_in("dc-chloe");

    // Only an admin sees or changes the directory.
    assert_eq!(web.get("/admin/people").status, 403);
    let csrf_icb = web.csrf("/icb");
    let tried = web.post(
        "/admin/people",
        &[
            ("_csrf", &csrf_icb),
            ("id", "dc-mole"),
            ("name", "Mole"),
            ("role", "admin"),
        ],
    );
    assert_eq!(tried.status, 403);
}

#[test]
fn each_partys_page_says_what_it_is_as_at_and_what_changed_since_the_last_visit() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, _) = seeded(&service, &icb);
    assign(&service, &icb, &case_id, "dc-amira");
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    let first = champion.get("/champion");
    assert!(first.body.contains(r#"id="data-as-at""#) && first.body.contains("Dashboard data as at"));
    assert!(!first.body.contains("since-last-visit"), "no earlier visit yet");
    // Something happens on the champion's case after that visit.
    let noted = service.graphql(
        Some(&icb),
        "mutation($id: ID!) { addNote(input: { caseId: $id, text: \"Rang the practice manager\" }) { revision } }",
        json!({ "id": case_id }),
    );
    assert!(noted["errors"].is_null(), "{noted}");
    let mut again = Web::new(&service);
    again.sign_in("dc-amira");
    let second = again.get("/champion");
    assert!(second.body.contains("Since your last visit"), "{}", second.body);
    assert!(
        second.body.contains("1</strong> of these cases changed"),
        "{}",
        second.body
    );
    assert!(second.body.contains(&format!("href=\"/cases/{case_id}\"")));
    // The ICB's dashboard counts what changed since its last visit, beside the fixed week.
    let mut icb_web = Web::new(&service);
    icb_web.sign_in("icb-assurance-1");
    let flagged = service.graphql(
        Some(&icb),
        "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { revision } }",
        json!({ "i": { "odsCode": "Z99998", "practiceName": "Since Surgery", "pcnCode": "U10001",
                       "place": "Coventry", "listSize": 9000, "visibleSlots": 0 } }),
    );
    assert!(flagged["errors"].is_null(), "{flagged}");
    let mut icb_again = Web::new(&service);
    icb_again.sign_in("icb-assurance-1");
    let dashboard = icb_again.get("/icb");
    let since = &dashboard.body[dashboard.body.find(r#"id="since-last-visit""#).expect("since box")..];
    assert!(since.contains(r#"data-change="New cases">+1<"#), "{since}");
    // Work first: what to do comes before the figures and charts.
    let at = |marker: &str| dashboard.body.find(marker).unwrap_or_else(|| panic!("{marker}"));
    assert!(at(r#"id="work""#) < at(r#"id="overdue""#));
    assert!(at(r#"id="overdue""#) < at(r#"id="triage""#));
    assert!(at(r#"id="triage""#) < at("Counts that disagree"));
    assert!(at("Counts that disagree") < at(r#"id="headline""#));
    assert!(at(r#"id="headline""#) < at(r#"id="trend-range""#));
    // The LMC and the DHU: as at, on their pages too.
    for (user, path) in [("lmc-officer-1", "/lmc"), ("dhu-liaison-1", "/dhu")] {
        let mut other = Web::new(&service);
        other.sign_in(user);
        assert!(other.get(path).body.contains("Dashboard data as at"), "{path}");
    }
}

#[test]
fn triage_errors_come_back_on_the_dashboard_with_what_was_typed_and_an_opened_case_says_where_it_came_from() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let dhu = service.token("dhu", "dhu-liaison-1");
    let report = |ods: &str, detail: &str| {
        let filed = service.graphql(
            Some(&dhu),
            "mutation($i: ReportVisibilityProblemInput!) { reportVisibilityProblem(input: $i) { report { id } } }",
            json!({ "i": { "odsCode": ods, "category": "SLOT_TYPE_NOT_EXTERNAL", "detail": detail } }),
        );
        assert!(filed["errors"].is_null(), "{filed}");
        filed["data"]["reportVisibilityProblem"]["report"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Practices of the register without a case (week 0 flags 28 of 119).
    let quiet: Vec<String> = service.graphql(
        Some(&icb),
        "{ practices(hasOpenCase: false, first: 2) { edges { node { odsCode } } } }",
        json!({}),
    )["data"]["practices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["odsCode"].as_str().unwrap().to_string())
        .collect();
    let first = report(&quiet[0], "Extended-hours slots are not bookable by 111");
    let second = report(&quiet[1], "Its 111 slots sit under a clinician-only slot type");

    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let csrf = web.csrf("/icb");
    // No reason: the dashboard again, the error beside the report's field and in the summary.
    let blank = web.post(
        &format!("/icb/reports/{first}/dismiss"),
        &[("_csrf", &csrf), ("reason", " ")],
    );
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert!(blank.body.contains("Assurance dashboard"), "the same page");
    assert!(blank.body.contains("nhsuk-error-summary"));
    assert!(
        blank.body.contains(&format!("href=\"#dismiss-{first}\"")),
        "the summary links to the field"
    );
    assert!(blank.body.contains(&format!("id=\"dismiss-{first}-error\"")));
    // Too long: refused, and what was typed is still in the box.
    let long = format!("Checked with the PCN {}and no more", "and the practice ".repeat(130));
    let refused = web.post(
        &format!("/icb/reports/{first}/dismiss"),
        &[("_csrf", &csrf), ("reason", &long)],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    let kept = &refused.body[refused
        .body
        .find(&format!("id=\"dismiss-{first}\""))
        .expect("the field")..];
    assert!(
        kept.contains(&format!("value=\"{long}\"")),
        "what was typed is kept: {}",
        &kept[..kept.len().min(600)]
    );
    assert!(refused.body.contains("The reason "), "{}", refused.body);
    // Opened: the case says it came from the DHU's report, with the DHU's words.
    let opened = web.post(&format!("/icb/reports/{second}/open"), &[("_csrf", &csrf)]);
    assert_eq!(opened.status, 303, "{}", opened.body);
    let case = web.get(opened.location.as_deref().unwrap());
    assert!(case.body.contains("Opened from"), "{}", case.body);
    assert!(
        case.body.contains("the DHU&#39;s report of") || case.body.contains("the DHU's report of"),
        "{}",
        case.body
    );
    assert!(
        case.body.contains("Its 111 slots sit under a clinician-only slot type"),
        "{}",
        case.body
    );
}

#[test]
fn the_dhus_forms_say_what_is_wrong_in_plain_words_on_its_own_page_keeping_what_was_typed() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, required) = seeded(&service, &icb);
    let champion = service.token("champion", "dc-amira");
    for mutation in [
        "mutation($id: ID!) { assignCase(input: { caseId: $id, championId: \"dc-amira\" }) { revision } }".to_string(),
        format!(
            "mutation($id: ID!) {{ recordRemap(input: {{ caseId: $id, changes: [ADD_SLOTS], slotsPerDayConfigured: {required} }}) {{ revision }} }}"
        ),
    ] {
        let done = service.graphql(Some(&champion), &mutation, json!({ "id": case_id }));
        assert!(done["errors"].is_null(), "{done}");
    }
    let mut web = Web::new(&service);
    web.sign_in("dhu-liaison-1");
    let page = web.get("/dhu");
    let csrf = hidden(&page.body, "_csrf");
    let form_of = |body: &str, name: &str| {
        let at = body.find(&format!("action=\"/cases/{case_id}/dhu-confirm\"")).unwrap();
        hidden(&body[at..], name)
    };
    let confirm = |web: &mut Web, body: &str, count: &str| {
        web.post(
            &format!("/cases/{case_id}/dhu-confirm"),
            &[
                ("_csrf", &csrf),
                ("expectedRevision", &form_of(body, "expectedRevision")),
                ("commandId", &form_of(body, "commandId")),
                ("_return", "/dhu"),
                ("visibleSlotsPerDay", count),
            ],
        )
    };
    // Not a number: the DHU's page again, the error beside that case's box, what was typed kept.
    let refused = confirm(&mut web, &page.body, "two");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Visibility checks"), "the same page");
    assert!(
        refused
            .body
            .contains("Enter how many 111 slots a day the DHU can see, as a whole number, like 2"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(&format!("href=\"#visible-{case_id}\"")));
    assert!(refused.body.contains("value=\"two\""), "what was typed is kept");
    assert!(!refused.body.contains("dhu can see"), "no lower-cased DHU");
    // A negative count: refused by the server, said the same way, on the same page.
    let negative = confirm(&mut web, &page.body, "-1");
    assert_eq!(negative.status, 422, "{}", negative.body);
    assert!(
        negative.body.contains("The slots a day the DHU can see"),
        "{}",
        negative.body
    );
    assert!(negative.body.contains("value=\"-1\""));

    // The report form: an ODS code in the wrong shape, and one nobody knows.
    let report = |web: &mut Web, ods: &str, detail: &str| {
        web.post(
            "/dhu/report",
            &[
                ("_csrf", &csrf),
                ("odsCode", ods),
                ("category", "SLOT_TYPE_NOT_EXTERNAL"),
                ("detail", detail),
            ],
        )
    };
    let shape = report(&mut web, "Z0001", "Extended hours not bookable");
    assert_eq!(shape.status, 422);
    assert!(shape.body.contains("Visibility checks"), "the same page");
    assert!(
        shape
            .body
            .contains("Enter an ODS code of one letter and five digits, like Z00011"),
        "{}",
        shape.body
    );
    assert!(
        shape.body.contains("Extended hours not bookable"),
        "the detail typed is kept"
    );
    let unknown = report(&mut web, "Q99999", "Extended hours not bookable");
    assert_eq!(unknown.status, 422);
    assert!(
        unknown
            .body
            .contains("There is no practice with the ODS code Q99999 in CaseLedger"),
        "{}",
        unknown.body
    );
    assert!(unknown.body.contains("value=\"Q99999\""));
    let empty = report(&mut web, " ", "");
    assert!(
        empty.body.contains("Enter the practice&#39;s ODS code")
            || empty.body.contains("Enter the practice's ODS code")
    );
}

#[test]
fn the_assurance_report_is_sendable_as_it_is_and_the_lmc_has_its_own() {
    let service = Service::start_with(&[("CASELEDGER_ICB_NAME", "NHS Test and Trial ICB")], &[]);
    let icb = service.token("icb", "icb-assurance-1");
    let (case_id, _) = seeded(&service, &icb);
    assign(&service, &icb, &case_id, "dc-amira");
    let mut web = Web::new(&service);
    web.sign_in("icb-assurance-1");
    let (status, _, bytes) = web.get_bytes("/icb/report.xlsx");
    assert_eq!(status, 200);
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| xlsx_part(&mut book, name);
    let strings = part("xl/sharedStrings.xml");
    // A cover: which ICB, the period, as at when, and what each figure means.
    for expected in [
        "NHS Test and Trial ICB",
        "Period",
        "Figures as at",
        "Dashboard data as at",
        "Definitions",
        "max(1, floor(list size / 3,000))",
        "Every case",
    ] {
        assert!(strings.contains(expected), "{expected}: {strings}");
    }
    // Names beside codes: the PCN's name, the champion's name with their id; no ISO dates in text.
    assert!(strings.contains("Champion dc-amira (dc-amira)"), "{strings}");
    let iso = regex_free_iso(&strings);
    assert!(iso.is_empty(), "ISO dates inside text: {iso:?}");
    // Every column has a width; dates, shares and rounded figures have their formats.
    let cases = part("xl/worksheets/sheet3.xml");
    let covered: u32 = cases
        .split("<col ")
        .skip(1)
        .map(|col| {
            let number = |key: &str| -> u32 {
                col.split(&format!("{key}=\""))
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            number("max") - number("min") + 1
        })
        .sum();
    assert_eq!(covered, 19, "every column of the cases has a width");
    let styles = part("xl/styles.xml");
    for format in ["d mmm yyyy", "0%", "#,##0"] {
        assert!(
            styles.contains(&format!("formatCode=\"{format}\"")),
            "{format}: {styles}"
        );
    }
    // Printed as a board reads it: landscape, a page wide, headings repeated, page numbers.
    assert!(
        cases.contains("orientation=\"landscape\"") && cases.contains("fitToHeight=\"0\""),
        "{cases}"
    );
    assert!(cases.contains("Page &amp;P of &amp;N"), "{cases}");
    assert!(part("xl/workbook.xml").contains("_xlnm.Print_Titles"));

    // The case list's filters choose the cases; an as-at date moves the figures.
    let coventry = web.get("/icb/report.csv?place=Coventry");
    let body = coventry.body.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let place = reader.headers().unwrap().iter().position(|h| h == "Place").unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!records.is_empty() && records.len() < 28, "{}", records.len());
    assert!(records.iter().all(|r| &r[place] == "Coventry"));
    let before = web.get_bytes("/icb/report.xlsx?asOf=2026-01-01");
    assert_eq!(before.0, 200);
    assert_eq!(web.get("/icb/report.xlsx?asOf=next-tuesday").status, 400);
    assert_eq!(web.get("/icb/report.xlsx?asOf=2099-01-01").status, 400);
    let page = web.get("/icb/cases?place=Coventry");
    assert!(
        page.body.contains("/icb/report.xlsx?place=Coventry"),
        "the list's export keeps its filter"
    );

    // The LMC's export: its cases and their support, with nothing its lens hides.
    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    assert!(lmc.get("/lmc").body.contains("/lmc/report.csv?status=open"));
    let export = lmc.get("/lmc/report.csv?status=all");
    assert_eq!(export.status, 200);
    let body = export.body.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headings: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        &headings[..6],
        ["Practice", "ODS code", "Place", "Status", "Flagged", "First support"]
    );
    assert_eq!(reader.records().count(), 28);
    assert!(
        !export.body.contains("dc-amira"),
        "the LMC does not learn which champion"
    );
    let (status, content_type, _) = lmc.get_bytes("/lmc/report.xlsx?status=all");
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"));
    assert_eq!(web.get("/lmc/report.csv").status, 403, "the ICB has its own report");
}

/// Text that reads as an ISO date (2026-01-05) inside the shared strings.
fn regex_free_iso(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for i in 0..bytes.len().saturating_sub(10) {
        let window = &bytes[i..i + 10];
        let digits = |range: std::ops::Range<usize>| window[range].iter().all(u8::is_ascii_digit);
        if digits(0..4) && window[4] == b'-' && digits(5..7) && window[7] == b'-' && digits(8..10) {
            found.push(String::from_utf8_lossy(window).to_string());
        }
    }
    found
}

/// `caseledger verify` straight after `caseledger import-practices` sees the practice just
/// imported (the views are brought up to the store first), and a practice nobody imported is
/// refused saying why.
#[test]
fn the_command_line_verifies_a_practice_it_has_just_imported() {
    use caseledger_gpconnect::fake::{FakeTls, Scenario, serve_fake};
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let pki = caseledger_gpconnect::pki::generate(dir.path()).unwrap();
    let today = caseledger_tests::TEST_NOW[..10].to_string();
    let scenario = json!({ "practices": [{
        "ods_code": "A00001", "name": "Lone Surgery",
        // The answer names the surgery but does not describe it: one site on the register is
        // enough to place it.
        "locations": [{"id": "main", "name": "Lone Surgery"}],
        "schedules": [{"id": "s", "location": "main"}],
        "generate": [{"schedule": "s", "from": today, "to": "2099-12-31", "per_day": 3, "minutes": 10,
                      "availability": {"allowed_ods_codes": ["NHS111"], "allowed_org_types": ["urgent-care"]}}]
    }]});
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime
        .block_on(serve_fake(
            Scenario::from_json(&scenario.to_string()).unwrap(),
            FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca).unwrap(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let db = runtime.block_on(caseledger_testsupport::fresh_db());
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let register = dir.path().join("register.csv");
    std::fs::write(
        &register,
        "ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site\n\
         A00001,Lone Surgery,U10001,Coventry South PCN 1,Coventry,6100,Lone Surgery\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(caseledger_tests::binary())
            .args(args)
            .env("DATABASE_URL", db.url())
            .env("CASELEDGER_KEK", caseledger_testsupport::kek())
            .env("CASELEDGER_DEV_JWT_SECRET", caseledger_tests::secret())
            .env("CASELEDGER_NOW", caseledger_tests::TEST_NOW)
            .env("CASELEDGER_GPCONNECT_PROVIDER_ODS_CODE", "NHS111")
            .env("CASELEDGER_GPCONNECT_PROVIDER_NAME", "NHS 111 provider")
            .env("CASELEDGER_GPCONNECT_FROM_ASID", "200000000111")
            .env("CASELEDGER_GPCONNECT_TO_ASID", "918999198993")
            .env("CASELEDGER_GPCONNECT_JWT_ISSUER", "https://caseledger.test")
            .env("CASELEDGER_GPCONNECT_CLIENT_CERT", path(&pki.client_cert))
            .env("CASELEDGER_GPCONNECT_CLIENT_KEY", path(&pki.client_key))
            .env("CASELEDGER_GPCONNECT_CA_BUNDLE", path(&pki.ca))
            .env("CASELEDGER_GPCONNECT_PRACTITIONER_ID", "caseledger")
            .env("CASELEDGER_GPCONNECT_PRACTITIONER_FAMILY", "CaseLedger")
            .env("CASELEDGER_GPCONNECT_ENDPOINT_TEMPLATE", fake.endpoint_template())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let imported = run(&["import-practices", register.to_str().unwrap()]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let verified = run(&["verify", "A00001"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let found: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(found["verdict"], "ENOUGH", "{found}");
    assert_eq!(found["required_per_day"], 2);
    assert!(
        found["slots"].as_array().is_some_and(|slots| !slots.is_empty()),
        "every slot is kept: {found}"
    );
    let unknown = run(&["verify", "A00002"]);
    assert!(!unknown.status.success());
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        said.contains("A00002 is not in the register: import it first"),
        "{said}"
    );
}

/// One part of an XLSX file (`xl/workbook.xml`, a sheet, the shared strings) as text.
fn xlsx_part(book: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut book.by_name(name).unwrap(), &mut text).unwrap();
    text
}

/// A practice manager tells the ICB of a diversion on the diversions page (their practice is
/// theirs: no ODS code to type), the form says what is wrong in plain words keeping what was
/// typed; the ICB acknowledges it there; the LMC and the PCN's clinical director see it without
/// the practice's words; and the practice reads nothing across the ICB.
#[test]
fn a_practice_tells_the_icb_of_a_diversion_and_the_icb_acknowledges_it_on_the_diversions_page() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut practice = Web::new(&service);
    let landed = practice.sign_in("pm-z00011");
    assert_eq!(
        landed.location.as_deref(),
        Some("/diversions"),
        "a practice starts on its diversions"
    );
    let page = practice.get("/diversions");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Diversions to NHS 111: Arden Health Centre (Z00011)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Tell the ICB about a diversion"));
    assert!(!page.body.contains("name=\"odsCode\""), "its own practice, not typed");
    assert!(!page.body.contains(">Acknowledge<"), "only the ICB acknowledges");
    let csrf = hidden(&page.body, "_csrf");
    // The day before the tests' business day (TEST_NOW, a Wednesday): Tuesday, a working day.
    let yesterday = chrono::DateTime::parse_from_rfc3339(caseledger_tests::TEST_NOW)
        .unwrap()
        .date_naive()
        - chrono::Duration::days(1);
    let from = format!("{yesterday}T08:00");
    let until = format!("{yesterday}T12:00");
    let notify = |web: &mut Web, from: &str, command: &str| {
        web.post(
            "/diversions/notify",
            &[
                ("_csrf", &csrf),
                ("commandId", command),
                ("from", from),
                ("expectedUntil", &until),
                ("reason", "TELEPHONY_FAILURE"),
                ("detail", "Mrs Ashdown-Brae reported the lines dead at opening"),
            ],
        )
    };
    let refused = notify(&mut practice, "first thing", "web-notice-0");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Enter when the diversion began as a date and time, like 2026-12-07 08:30"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Mrs Ashdown-Brae reported the lines dead"),
        "what was typed is kept"
    );
    let told = notify(&mut practice, &from, "web-notice-1");
    assert_eq!(told.status, 303, "{}", told.body);
    let page = practice.get("/diversions");
    assert!(page.body.contains("Arden Health Centre (Z00011)"), "{}", page.body);
    assert!(page.body.contains("Mrs Ashdown-Brae reported the lines dead"));
    assert!(page.body.contains("Telephony or IT failure"));
    // Told after it began.
    assert!(page.body.contains("Told late"), "{}", page.body);
    // Overlapping itself: refused on the page, in words.
    let again = notify(&mut practice, &from, "web-notice-2");
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("overlaps this one"), "{}", again.body);
    // Nothing across the ICB.
    assert_eq!(practice.get("/icb").status, 403);
    assert_eq!(practice.get("/icb/cases").status, 403);

    let mut commissioner = Web::new(&service);
    commissioner.sign_in("icb-assurance-1");
    let page = commissioner.get("/diversions");
    assert!(
        page.body.contains("Waiting for your acknowledgement (1)"),
        "{}",
        page.body
    );
    let at = page.body.find("action=\"/diversions/").unwrap();
    let action = &page.body[at + "action=\"".len()..];
    let action = &action[..action.find('"').unwrap()];
    assert!(action.ends_with("/acknowledge"), "{action}");
    let acknowledged = commissioner.post(
        action,
        &[("_csrf", &hidden(&page.body, "_csrf")), ("commandId", "web-ack-1")],
    );
    assert_eq!(acknowledged.status, 303, "{}", acknowledged.body);
    let page = commissioner.get("/diversions");
    assert!(
        page.body.contains("Every notice has been acknowledged."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Mrs Ashdown-Brae"),
        "the ICB reads the practice's words"
    );

    // The practice ends it on its page (the phones answered again at 11:15).
    let page = practice.get("/diversions");
    let at = page.body.find("/end\"").unwrap();
    let start = page.body[..at].rfind("action=\"").unwrap() + "action=\"".len();
    let end_action = format!("{}/end", &page.body[start..at]);
    let ended = practice.post(
        &end_action,
        &[
            ("_csrf", &hidden(&page.body, "_csrf")),
            ("commandId", "web-end-1"),
            ("endedAt", &format!("{yesterday}T11:15")),
        ],
    );
    assert_eq!(ended.status, 303, "{}", ended.body);
    assert!(!practice.get("/diversions").body.contains("Running now"));

    // Two more that afternoon, told by phone to the ICB: past the threshold, a review opens.
    let icb = service.token("icb", "icb-assurance-1");
    for (n, (from, until)) in [("T13:00", "T15:00"), ("T15:30", "T16:30")].iter().enumerate() {
        let told = service.graphql(
            Some(&icb),
            "mutation($f: DateTime!, $u: DateTime!, $c: ID) { notifyDiversion(input: { odsCode: \"Z00011\", from: $f, \
             expectedUntil: $u, reason: STAFF_SHORTAGE, commandId: $c }) { id } }",
            json!({ "f": format!("{yesterday}{from}:00Z"), "u": format!("{yesterday}{until}:00Z"), "c": format!("phone-{n}") }),
        );
        let id = told["data"]["notifyDiversion"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{told}"))
            .to_string();
        let ended = service.graphql(
            Some(&icb),
            "mutation($id: ID!, $at: DateTime!) { endDiversion(input: { diversionId: $id, endedAt: $at }) { id } }",
            json!({ "id": id, "at": format!("{yesterday}{until}:00Z") }),
        );
        assert!(ended["errors"].is_null(), "{ended}");
    }
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    let page = champion.get("/diversions");
    assert!(page.body.contains("Diversion reviews (1)"), "{}", page.body);
    assert!(page.body.contains("None yet"), "no support yet");
    let at = page.body.find("/support\"").unwrap();
    let start = page.body[..at].rfind("action=\"").unwrap() + "action=\"".len();
    let review = page.body[start..at].to_string();
    // The ICB may not close it before anyone has helped: said on its page.
    let page_icb = commissioner.get("/diversions");
    let close = |web: &mut Web, command: &str| {
        web.post(
            &format!("{review}/close"),
            &[
                ("_csrf", &hidden(&page_icb.body, "_csrf")),
                ("commandId", command),
                ("outcome", "RESOLVED"),
                ("note", "Dr Fenwick-Orme agreed a failover line"),
            ],
        )
    };
    let too_soon = close(&mut commissioner, "web-close-1");
    assert_eq!(too_soon.status, 422, "{}", too_soon.body);
    assert!(too_soon.body.contains("Support comes first"), "{}", too_soon.body);
    let supported = champion.post(
        &format!("{review}/support"),
        &[
            ("_csrf", &hidden(&page.body, "_csrf")),
            ("commandId", "web-support-1"),
            ("kind", "TELEPHONY_HELP"),
        ],
    );
    assert_eq!(supported.status, 303, "{}", supported.body);
    let closed = close(&mut commissioner, "web-close-2");
    assert_eq!(closed.status, 303, "{}", closed.body);
    let page = commissioner.get("/diversions");
    assert!(page.body.contains("Help with its telephony"), "{}", page.body);
    assert!(page.body.contains("Dr Fenwick-Orme"), "the ICB reads its own note");

    for user in ["lmc-officer-1", "cd-u10001"] {
        let mut reader = Web::new(&service);
        reader.sign_in(user);
        let page = reader.get("/diversions");
        assert_eq!(page.status, 200, "{user}: {}", page.body);
        assert!(
            page.body.contains("Arden Health Centre (Z00011)"),
            "{user}: {}",
            page.body
        );
        assert!(
            !page.body.contains("Ashdown-Brae"),
            "{user} never reads the practice's words"
        );
        assert!(
            !page.body.contains("Tell the ICB about a diversion"),
            "{user} tells nothing"
        );
        assert!(
            page.body.contains("Help with its telephony"),
            "{user} sees that support came first"
        );
        assert!(!page.body.contains("Fenwick-Orme"), "{user} never reads the ICB's note");
    }
}

/// The 111 provider uploads the week's core-hours calls on the diversions page (a bad file
/// rejected whole, line by line); a PCN's clinical director then reads its practices' calls per
/// 1,000 patients there, an outlier marked, and not another PCN's practice; the LMC cannot upload.
#[test]
fn the_111_provider_uploads_core_hours_calls_and_the_pcn_reads_them_on_the_diversions_page() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut dhu = Web::new(&service);
    dhu.sign_in("dhu-liaison-1");
    let page = dhu.get("/diversions");
    assert!(page.body.contains("id=\"calls-upload\""), "the upload is on the page");
    let csrf = dhu.csrf("/diversions");
    // TEST_NOW is Wednesday 25 November 2026: the week before starts on Monday 16 November.
    let bad = "week_start,ods_code,calls\n2026-11-17,Z00011,30\n2026-11-16,Z00012,many\n";
    let refused = dhu.post_file("/diversions/calls", &csrf, bad);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("a week starts on a Monday"), "{}", refused.body);
    let good = "week_start,ods_code,calls\r\n2026-11-16,Z00011,30\r\n2026-11-16,Z00012,400\r\n2026-11-16,Z00013,20\r\n\
                2026-11-16,Z00021,25\r\n";
    let done = dhu.post_file("/diversions/calls", &csrf, good);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("4 rows, 4 new"), "{}", done.body);

    let mut director = Web::new(&service);
    director.sign_in("cd-u10001");
    let page = director.get("/diversions");
    let at = page.body.find("id=\"core-hours-calls\"").unwrap();
    let table = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(table.contains("Mill Health Centre (Z00012)"), "{table}");
    assert!(table.contains("High"), "Mill's 400 calls stand out: {table}");
    assert!(!table.contains("Z00021"), "another PCN's practice: {table}");
    assert!(
        !page.body.contains("id=\"calls-upload\""),
        "a clinical director reads, not uploads"
    );

    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    let csrf = lmc.csrf("/lmc");
    assert_eq!(lmc.post_file("/diversions/calls", &csrf, good).status, 403);
}

/// The ICB uploads practices' months of telephony on the review page (a month not yet over
/// rejected); a PCN's clinical director sets its own practices side by side there and records
/// what the PCN agreed, which only that PCN reads; a practice sees its own months; the LMC none.
#[test]
fn a_pcn_reviews_its_practices_telephony_side_by_side_and_keeps_its_own_notes() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut commissioner = Web::new(&service);
    commissioner.sign_in("icb-assurance-1");
    let page = commissioner.get("/pcn-review");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"telephony-upload\""), "the ICB uploads");
    assert!(page.body.contains("href=\"/pcn-review\""), "the menu links the page");
    let csrf = commissioner.csrf("/pcn-review");
    let header =
        "month,ods_code,inbound_calls,average_wait_seconds,abandonment_rate,average_call_seconds,callbacks\r\n";
    // TEST_NOW is 25 November 2026: October is over, November is not.
    let bad = format!("{header}2026-11,Z00011,4000,80,5,170,100\r\n");
    let refused = commissioner.post_file("/pcn-review/metrics", &csrf, &bad);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("has not ended"), "{}", refused.body);
    let good = format!(
        "{header}2026-09,Z00011,4100,75,5,168,95\r\n2026-10,Z00011,4000,80,5.5,170,100\r\n\
         2026-10,Z00012,1500,425,18.2,160,0\r\n2026-10,Z00021,3000,60,3,150,90\r\n"
    );
    let done = commissioner.post_file("/pcn-review/metrics", &csrf, &good);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("4 rows, 4 new"), "{}", done.body);

    let mut director = Web::new(&service);
    director.sign_in("cd-u10001");
    let page = director.get("/pcn-review");
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("id=\"average-wait-table\"").unwrap();
    let table = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(table.contains("Mill Health Centre (Z00012)"), "{table}");
    assert!(
        table.contains("Sep 2026") && table.contains("Oct 2026"),
        "month on month: {table}"
    );
    assert!(
        table.contains("7:05"),
        "Mill's 425 s wait as minutes and seconds: {table}"
    );
    assert!(!table.contains("Z00021"), "another PCN's practice: {table}");
    let csrf = hidden(&page.body, "_csrf");
    let empty = director.post(
        "/pcn-review/notes",
        &[
            ("_csrf", &csrf),
            ("commandId", "web-note-0"),
            ("month", "2026-10-01"),
            ("note", " "),
        ],
    );
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains("Enter what the PCN agreed"), "{}", empty.body);
    let long = format!("Agreed at length {}", "x".repeat(2_000));
    let too_long = director.post(
        "/pcn-review/notes",
        &[
            ("_csrf", &csrf),
            ("commandId", "web-note-00"),
            ("month", "2026-10-01"),
            ("note", &long),
        ],
    );
    assert_eq!(too_long.status, 422, "{}", too_long.body);
    assert!(too_long.body.contains("at most 2000 characters"), "{}", too_long.body);
    assert!(too_long.body.contains(&long), "the note as typed is kept");
    let words = "Agreed: Mill adds a callback queue; Dr Lindqvist-Hart reviews waits in December";
    let noted = director.post(
        "/pcn-review/notes",
        &[
            ("_csrf", &csrf),
            ("commandId", "web-note-1"),
            ("month", "2026-10-01"),
            ("note", words),
        ],
    );
    assert_eq!(noted.status, 303, "{}", noted.body);
    let page = director.get("/pcn-review");
    assert!(
        page.body.contains("Lindqvist-Hart"),
        "the PCN reads its note: {}",
        page.body
    );

    let page = commissioner.get("/pcn-review");
    assert!(
        page.body.contains("Grange Surgery (Z00021)"),
        "the ICB reads every PCN: {}",
        page.body
    );
    assert!(!page.body.contains("Lindqvist-Hart"), "the PCN's words are its own");
    assert!(!page.body.contains("What the PCN agreed"));
    let mut manager = Web::new(&service);
    manager.sign_in("pm-z00011");
    let page = manager.get("/pcn-review");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Z00011"), "{}", page.body);
    assert!(
        !page.body.contains("Z00012"),
        "another practice's months: {}",
        page.body
    );
    assert!(!page.body.contains("Lindqvist-Hart"));
    assert!(
        !page.body.contains("id=\"telephony-upload\""),
        "a practice reads, not uploads"
    );

    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    assert_eq!(lmc.get("/pcn-review").status, 403);
    let csrf = lmc.csrf("/lmc");
    assert_eq!(lmc.post_file("/pcn-review/metrics", &csrf, &good).status, 403);

    // The clinical director erases the note's words from the page: its month stays.
    let page = director.get("/pcn-review");
    let at = page.body.find("/erase\"").expect("an erase button on the note");
    let start = page.body[..at].rfind("action=\"").unwrap() + "action=\"".len();
    let erase = format!("{}/erase", &page.body[start..at]);
    assert!(erase.starts_with("/pcn-review/notes/"), "{erase}");
    assert_eq!(
        lmc.post(&erase, &[("_csrf", &csrf)]).status,
        403,
        "not the LMC's to erase"
    );
    let director_csrf = hidden(&page.body, "_csrf");
    assert_eq!(director.post(&erase, &[("_csrf", &director_csrf)]).status, 303);
    let page = director.get("/pcn-review");
    assert!(!page.body.contains("Lindqvist-Hart"), "{}", page.body);
    assert!(page.body.contains("Its words were erased"), "{}", page.body);
    let at = page.body.find("id=\"pcn-notes\"").unwrap();
    let notes = &page.body[at..at + page.body[at..].find("</ul>").unwrap()];
    assert!(notes.contains("Oct 2026"), "the note's month stays: {notes}");
}

/// The 111 provider reports a Directory of Services gap on its page (a missing field said in
/// plain words); the service turns red; the ICB opens a case and records the provider's update;
/// the 111 provider confirms and the service turns green. The ICB's reason for dismissing another
/// is the ICB's alone; the LMC has no such page.
#[test]
fn a_directory_of_services_gap_goes_from_the_111_provider_to_the_icb_and_back_on_the_pages() {
    let service = Service::start();
    let mut dhu = Web::new(&service);
    dhu.sign_in("dhu-liaison-1");
    let page = dhu.get("/dos");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/dos\""), "the menu links the page");
    let csrf = hidden(&page.body, "_csrf");
    let missing = dhu.post(
        "/dos/report",
        &[
            ("_csrf", &csrf),
            ("commandId", "web-dos-0"),
            ("serviceId", ""),
            ("serviceName", "x"),
            ("kind", "HOURS"),
            ("bitAt", "2026-11-24T17:45"),
        ],
    );
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing.body.contains("Enter the service&#39;s DoS id") || missing.body.contains("Enter the service's DoS id"),
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("value=\"2026-11-24T17:45\""),
        "what was typed is kept: {}",
        missing.body
    );
    // TEST_NOW is Wednesday 25 November 2026: Tuesday 24th at 17:45 is core hours.
    for (command, service_id, name, bit_at, detail) in [
        (
            "web-dos-1",
            "2000012345",
            "Coventry South district nursing",
            "2026-11-24T17:45",
            "No nurse listed 17:30 to 19:00",
        ),
        (
            "web-dos-2",
            "2000023456",
            "Earlsdon community pharmacy",
            "2026-11-24T20:15",
            "Old telephone number",
        ),
    ] {
        let reported = dhu.post(
            "/dos/report",
            &[
                ("_csrf", &csrf),
                ("commandId", command),
                ("serviceId", service_id),
                ("serviceName", name),
                ("kind", "HOURS"),
                ("bitAt", bit_at),
                ("detail", detail),
            ],
        );
        assert_eq!(reported.status, 303, "{}", reported.body);
    }
    let page = dhu.get("/dos");
    let at = page.body.find("id=\"dos-services\"").unwrap();
    let table = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(
        table.contains("nhsuk-tag--red") && table.contains("nhsuk-tag--orange"),
        "{table}"
    );

    let mut commissioner = Web::new(&service);
    commissioner.sign_in("icb-assurance-1");
    let page = commissioner.get("/dos");
    let gap_form = |body: &str, action: &str| -> String {
        let at = body.find(&format!("/{action}\"")).unwrap();
        let start = body[..at].rfind("action=\"/dos/").unwrap() + "action=\"".len();
        body[start..at + action.len() + 1].to_string()
    };
    let csrf = hidden(&page.body, "_csrf");
    // The first gap listed is the newest: the pharmacy's, dismissed; then the nursing gap opened.
    let dismiss = gap_form(&page.body, "dismiss");
    let done = commissioner.post(
        &dismiss,
        &[
            ("_csrf", &csrf),
            ("commandId", "web-dos-3"),
            ("reason", "Checked with Ms Ravensworth-Iqbal: correct"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let page = commissioner.get("/dos");
    let open = gap_form(&page.body, "open");
    assert_eq!(
        commissioner
            .post(&open, &[("_csrf", &csrf), ("commandId", "web-dos-4")])
            .status,
        303
    );
    let page = commissioner.get("/dos");
    assert!(page.body.contains("Ravensworth-Iqbal"), "the ICB reads its reason");
    let update = gap_form(&page.body, "update");
    let done = commissioner.post(
        &update,
        &[
            ("_csrf", &csrf),
            ("commandId", "web-dos-5"),
            ("summary", "Evening hours added"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);

    let page = dhu.get("/dos");
    assert!(
        !page.body.contains("Ravensworth-Iqbal"),
        "the ICB's reason is the ICB's"
    );
    assert!(
        !page.body.contains("Evening hours added"),
        "the update's words are not the DHU's"
    );
    let csrf = hidden(&page.body, "_csrf");
    let confirm = gap_form(&page.body, "confirm");
    assert_eq!(
        dhu.post(&confirm, &[("_csrf", &csrf), ("commandId", "web-dos-6")])
            .status,
        303
    );
    let page = dhu.get("/dos");
    let at = page.body.find("id=\"dos-services\"").unwrap();
    let table = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(
        !table.contains("nhsuk-tag--red") && !table.contains("nhsuk-tag--orange"),
        "{table}"
    );
    assert!(table.contains("nhsuk-tag--green"), "{table}");
    let at = page.body.find("id=\"dos-figures\"").unwrap();
    let figures = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(figures.contains("23 Nov 2026"), "this week's figures: {figures}");

    let mut lmc = Web::new(&service);
    lmc.sign_in("lmc-officer-1");
    assert_eq!(lmc.get("/dos").status, 403);
}

/// A PCN's clinical director sees its practices' slot cases and what each is asked to do, not
/// another PCN's; a practice with no case is told so; the ICB reads cases through its own pages.
#[test]
fn a_practice_and_its_pcn_see_their_own_slot_cases_and_what_is_asked() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut director = Web::new(&service);
    director.sign_in("cd-u10001");
    let page = director.get("/our-cases");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/our-cases\""), "the menu links the page");
    let at = page.body.find("id=\"own-cases\"").unwrap();
    let table = &page.body[at..at + page.body[at..].find("</table>").unwrap()];
    assert!(table.contains("Mill Health Centre (Z00012)"), "{table}");
    assert!(
        !table.contains("Valley Family Practice"),
        "another PCN's practice: {table}"
    );
    assert!(
        table.contains("Answer the Digital Champion who will contact you"),
        "{table}"
    );
    let mut manager = Web::new(&service);
    manager.sign_in("pm-z00011");
    let page = manager.get("/our-cases");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No 111 slot cases."), "{}", page.body);
    let mut commissioner = Web::new(&service);
    commissioner.sign_in("icb-assurance-1");
    assert_eq!(commissioner.get("/our-cases").status, 403);
}

/// A practice answers the Digital Champion on its own case from its page: a blank answer is
/// refused on the form and records nothing; the answer reaches the case's champion on the case
/// page; its PCN sees that it answered, not the words.
#[test]
fn a_practice_answers_its_champion_on_its_page() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    let flagged = service.graphql(
        Some(&icb),
        "mutation { flagPractice(input: { odsCode: \"Z00011\", practiceName: \"Arden Health Centre\", \
         pcnCode: \"U10001\", place: \"Coventry\", listSize: 9000, visibleSlots: 0 }) { case { id } } }",
        json!({}),
    );
    let case_id = flagged["data"]["flagPractice"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{flagged}"))
        .to_string();
    let mut manager = Web::new(&service);
    manager.sign_in("pm-z00011");
    let page = manager.get("/our-cases");
    let action = format!("/our-cases/{case_id}/answer");
    assert!(page.body.contains(&format!("action=\"{action}\"")), "{}", page.body);
    assert!(page.body.contains("No answers yet."), "{}", page.body);
    let csrf = hidden(&page.body, "_csrf");

    let blank = manager.post(
        &action,
        &[("_csrf", &csrf), ("text", "   "), ("commandId", "web-answer-0")],
    );
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert!(
        blank.body.contains("Enter your answer to the Digital Champion"),
        "{}",
        blank.body
    );
    assert!(
        manager.get("/our-cases").body.contains("No answers yet."),
        "nothing was recorded"
    );
    let words = "We made the 111 slot type external; ask for Sam on the main line";
    let sent = manager.post(
        &action,
        &[("_csrf", &csrf), ("text", words), ("commandId", "web-answer-1")],
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = manager.get("/our-cases");
    assert!(page.body.contains(words), "{}", page.body);
    assert_eq!(
        manager
            .post("/our-cases/not-a-case/answer", &[("_csrf", &csrf), ("text", words)])
            .status,
        404
    );

    assign(&service, &icb, &case_id, "dc-amira");
    let mut champion = Web::new(&service);
    champion.sign_in("dc-amira");
    let page = champion.get(&format!("/cases/{case_id}"));
    assert!(page.body.contains("The practice answered"), "{}", page.body);
    assert!(
        page.body.contains(words),
        "the champion reads the answer: {}",
        page.body
    );
    let mut director = Web::new(&service);
    director.sign_in("cd-u10001");
    let page = director.get("/our-cases");
    assert!(
        page.body.contains("The practice answered the champion"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(words), "the PCN sees that it answered, not what");
}

/// A practice plans a diversion for next week on its page, then calls it off before it begins:
/// the page lists it as called off and asks for nothing more.
#[test]
fn a_practice_calls_off_a_planned_diversion_before_it_begins() {
    let service = Service::start();
    let icb = service.token("icb", "icb-assurance-1");
    seeded(&service, &icb);
    let mut practice = Web::new(&service);
    practice.sign_in("pm-z00011");
    let page = practice.get("/diversions");
    let csrf = hidden(&page.body, "_csrf");
    // TEST_NOW is Wednesday 25 November 2026: Wednesday 2 December is next week.
    let planned = practice.post(
        "/diversions/notify",
        &[
            ("_csrf", &csrf),
            ("commandId", "web-plan-1"),
            ("from", "2026-12-02T08:00"),
            ("expectedUntil", "2026-12-02T18:30"),
            ("reason", "PREMISES"),
        ],
    );
    assert_eq!(planned.status, 303, "{}", planned.body);
    let page = practice.get("/diversions");
    assert!(page.body.contains("Planned (1)"), "{}", page.body);
    assert!(!page.body.contains("Running now"), "a planned diversion is not running");
    let at = page.body.find("action=\"/diversions/").unwrap();
    let action = &page.body[at + "action=\"".len()..];
    let action = &action[..action.find('"').unwrap()];
    assert!(action.ends_with("/cancel"), "{action}");
    let called_off = practice.post(action, &[("_csrf", &csrf), ("commandId", "web-cancel-1")]);
    assert_eq!(called_off.status, 303, "{}", called_off.body);
    let page = practice.get("/diversions");
    assert!(page.body.contains("Called off before it began"), "{}", page.body);
    assert!(!page.body.contains("Planned ("), "{}", page.body);
}
