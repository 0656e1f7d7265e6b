//! The web pages as the four parties use them, in real headless Chromium driven over WebDriver
//! (chromedriver): a champion signs in, assigns a case, logs a contact (with a mistake first),
//! meets a conflict and records a remap; DHU confirms what it can see; the ICB confirms
//! compliance and sees its dashboard change, and its case list update live; the LMC sees the
//! case without the contact's name. A screenshot of each party's main page is saved under
//! `target/browser-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/install-deps` installs them).

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use caseledger_tests::{Launch, Service, fixture};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(names: &[&str]) -> PathBuf {
    for name in names {
        for dir in std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .chain(["/usr/bin", "/usr/lib/chromium"])
        {
            let path = PathBuf::from(dir).join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!("{names:?} not found: install Debian's chromium and chromium-driver (scripts/install-deps does)");
}

fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(find_program(&["chromedriver"]))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{url}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn browser(driver: &Driver) -> Client {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let profile = driver._profile.path().display().to_string();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1400",
                     format!("--user-data-dir={profile}")],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap()
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn sign_in(client: &Client, base: &str, user: &str) {
    client.goto(&format!("{base}/sign-in")).await.unwrap();
    click(client, &format!("#sign-in-{user}")).await;
    eventually(client, "signed in", async |c| {
        !c.current_url().await.unwrap().path().starts_with("/sign-in")
    })
    .await;
    wait_for(client, "main h1").await;
}

async fn sign_out(client: &Client) {
    click(client, "header form[action='/sign-out'] button").await;
    wait_for(client, "#sign-in-dc-amira").await;
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// Clicks a submit button and waits until the next page has replaced this one.
async fn submit(client: &Client, css: &str) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    click(client, css).await;
    eventually(client, "the next page loads", async |_| old.tag_name().await.is_err()).await;
    wait_for(client, "main h1").await;
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Opens the folded form `slug` (every form but the next action's is folded away on a case page).
async fn unfold(client: &Client, slug: &str) {
    let summary = format!("details:has(#form-{slug}) > summary");
    client
        .find(Locator::Css(&summary))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// The element's text; found again if the page replaced it meanwhile (live refreshes do).
async fn text_of(client: &Client, css: &str) -> String {
    let mut tries = 0;
    loop {
        let element = client.find(Locator::Css(css)).await;
        match element {
            Ok(element) => match element.text().await {
                Ok(text) => return text,
                Err(error) if tries < 20 => retry_later(&mut tries, &error).await,
                Err(error) => panic!("{css}: {error}"),
            },
            Err(error) if tries < 20 => retry_later(&mut tries, &error).await,
            Err(error) => panic!("{css}: {error}"),
        }
    }
}

async fn retry_later(tries: &mut u32, _error: &fantoccini::error::CmdError) {
    *tries += 1;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What the browser received for the current page, as markup (not what CSS shows).
async fn source(client: &Client) -> String {
    client.source().await.unwrap()
}

/// axe-core's WCAG 2.1 A and AA checks on the current page: every violation, named.
async fn accessibility_violations(client: &Client) -> Vec<String> {
    let axe = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../services/web/assets/node_modules/axe-core/axe.min.js"),
    )
    .expect("axe-core is installed by scripts/install-deps --test");
    client.execute(&axe, vec![]).await.unwrap();
    let found = client
        .execute(
            "return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', ')));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

async fn assert_accessible(client: &Client, page: &str) {
    let violations = accessibility_violations(client).await;
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}

/// The current page at a phone's width (390 px): nothing wider than the screen (no sideways
/// scrolling), and a screenshot; then back to the desktop width.
async fn at_phone_width(client: &Client, name: &str) {
    let (width, height) = client.get_window_size().await.unwrap();
    client.set_window_size(390, 844).await.unwrap();
    client.refresh().await.unwrap();
    let overflow = client
        .execute(
            "const wide = [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                 .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));
             return { scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, wide: wide.slice(0, 5) };",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow["scroll"].as_i64() <= overflow["client"].as_i64(),
        "{name} overflows sideways at 390 px: {overflow}"
    );
    screenshot(client, &format!("{name}-390")).await;
    client
        .set_window_size(
            u32::try_from(width).unwrap_or(1280),
            u32::try_from(height).unwrap_or(900),
        )
        .await
        .unwrap();
}

async fn eventually(client: &Client, what: &str, check: impl AsyncFn(&Client) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check(client).await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn the_four_parties_work_a_case_through_the_web_pages() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(caseledger_testsupport::fresh_db());
    let service = Service::launch(&db.url(), Launch::default());
    let base = service.url.clone();
    let icb_token = service.token("icb", "icb-assurance-1");
    let csv = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    let imported = service.graphql(
        Some(&icb_token),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 28, "{imported}");
    let cases = service.graphql(
        Some(&icb_token),
        "{ icb { cases(first: 1) { edges { node { id requiredSlots practice { name odsCode } } } } } }",
        json!({}),
    );
    let case: Value = cases["data"]["icb"]["cases"]["edges"][0]["node"].clone();
    let case_id = case["id"].as_str().unwrap().to_string();
    let practice = case["practice"]["name"].as_str().unwrap().to_string();
    let ods = case["practice"]["odsCode"].as_str().unwrap().to_string();
    let required = case["requiredSlots"].as_i64().unwrap().to_string();
    let case_url = format!("{base}/cases/{case_id}");
    let contact_name = "Jo Bloggs-Practice-Manager";

    let driver = driver();
    runtime.block_on(async {
        let client = browser(&driver).await;

        // The sign-in page by keyboard: the skip link comes first, then the page in order.
        client.goto(&format!("{base}/sign-in")).await.unwrap();
        assert_accessible(&client, "sign-in").await;
        // The checker does find faults: an input without a label is one.
        client
            .execute(
                "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')",
                vec![],
            )
            .await
            .unwrap();
        let found = accessibility_violations(&client).await;
        assert!(found.iter().any(|v| v.starts_with("label")), "{found:?}");
        client.refresh().await.unwrap();
        client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        assert_eq!(
            client.active_element().await.unwrap().text().await.unwrap(),
            "Skip to main content"
        );

        // The champion: sign in, take the case, log a contact (a mistake first), remap.
        sign_in(&client, &base, "dc-amira").await;
        assert_eq!(text_of(&client, "main h1").await, "My caseload");
        assert_accessible(&client, "caseload").await;
        client.goto(&case_url).await.unwrap();
        submit(&client, "#form-assign button").await;
        wait_for(&client, ".cl-done").await;
        client
            .find(Locator::Css("#contact-channel"))
            .await
            .unwrap()
            .select_by_value("PHONE")
            .await
            .unwrap();
        fill(&client, "#contact-contactName", contact_name).await;
        submit(&client, "#form-contact button").await;
        // No summary: the page comes back with the error beside the field, what was typed kept.
        let error = wait_for(&client, "#contact-summary-error").await;
        assert!(error.text().await.unwrap().contains("Enter what was said"));
        // The title says so first, and focus is on the summary of what went wrong.
        assert!(client.title().await.unwrap().starts_with("Error: "));
        let focused = client
            .execute(
                "return document.activeElement.classList.contains('nhsuk-error-summary')",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(focused, json!(true), "focus moves to the error summary");
        assert!(
            text_of(&client, ".nhsuk-error-summary")
                .await
                .contains("Enter what was said")
        );
        let kept = client.find(Locator::Css("#contact-contactName")).await.unwrap();
        assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some(contact_name));
        fill(
            &client,
            "#contact-summary",
            "Walked through making the slot type external",
        )
        .await;
        submit(&client, "#form-contact button").await;
        wait_for(&client, ".cl-done").await;
        assert!(text_of(&client, "#timeline").await.contains("Practice contacted"));

        // The page leads with the next step (the root cause), one primary form; the rest are folded.
        assert!(text_of(&client, "#next-action").await.contains("Next step"));
        assert!(
            text_of(&client, "#form-root-cause")
                .await
                .contains("Record the root cause")
        );
        let primary = client
            .execute(
                "return document.querySelectorAll('#actions button.nhsuk-button:not(.nhsuk-button--secondary)').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(primary, json!(1), "one primary action");
        // Someone else writes while the champion types: a conflict, shown with what changed.
        unfold(&client, "guidance").await;
        fill(&client, "#guidance-guide", "111 direct booking guide").await;
        let note = service.graphql(
            Some(&icb_token),
            "mutation($i: AddNoteInput!) { addNote(input: $i) { revision } }",
            json!({ "i": { "caseId": case_id, "text": "ICB checked the contract position" } }),
        );
        assert!(note["errors"].is_null(), "{note}");
        submit(&client, "#form-guidance button").await;
        wait_for(&client, "#what-changed").await;
        assert!(
            text_of(&client, ".nhsuk-error-summary")
                .await
                .contains("changed since you opened it")
        );
        assert!(text_of(&client, "#what-changed").await.contains("Note added"));
        let kept = client.find(Locator::Css("#guidance-guide")).await.unwrap();
        assert_eq!(
            kept.prop("value").await.unwrap().as_deref(),
            Some("111 direct booking guide")
        );
        submit(&client, "#form-guidance button").await;
        wait_for(&client, ".cl-done").await;

        unfold(&client, "remap").await;
        click(&client, "label[for='remap-changes-MAKE_SLOT_TYPE_EXTERNAL']").await;
        fill(&client, "#remap-slotsPerDayConfigured", &required).await;
        submit(&client, "#form-remap button").await;
        wait_for(&client, ".cl-done").await;
        assert!(text_of(&client, "main h1").await.contains("Remapped"));
        screenshot(&client, "case").await;
        assert_accessible(&client, "case").await;
        at_phone_width(&client, "case").await;
        client.goto(&format!("{base}/champion")).await.unwrap();
        wait_for(&client, "#my-cases").await;
        assert!(text_of(&client, "#my-cases").await.contains("Wait for DHU to confirm"));
        screenshot(&client, "champion").await;
        assert_accessible(&client, "champion").await;
        at_phone_width(&client, "champion").await;
        sign_out(&client).await;

        // DHU: the case waits for its check; it confirms what it can see.
        sign_in(&client, &base, "dhu-liaison-1").await;
        assert!(text_of(&client, "#awaiting").await.contains(&practice));
        screenshot(&client, "dhu").await;
        assert_accessible(&client, "dhu").await;
        at_phone_width(&client, "dhu").await;
        // The DHU's search for any practice.
        client.goto(&format!("{base}/dhu?q=Z000")).await.unwrap();
        wait_for(&client, "#search-results").await;
        assert_accessible(&client, "dhu-search").await;
        client.goto(&format!("{base}/dhu")).await.unwrap();
        wait_for(&client, "#awaiting").await;
        fill(&client, &format!("#visible-{case_id}"), &required).await;
        submit(&client, &format!("form[action='/cases/{case_id}/dhu-confirm'] button")).await;
        let field = format!("visible-{case_id}");
        eventually(&client, "the case is no longer awaiting a check", async |c| {
            !source(c).await.contains(&field)
        })
        .await;
        assert!(!source(&client).await.contains(contact_name));
        sign_out(&client).await;

        // The ICB confirms compliance and sees the dashboard change.
        sign_in(&client, &base, "icb-assurance-1").await;
        let compliant = |text: String| text.trim().parse::<i64>().unwrap();
        let before = compliant(text_of(&client, "[data-figure='Compliant cases']").await);
        client.goto(&case_url).await.unwrap();
        fill(&client, "#confirm-compliance-visibleSlotsPerDay", &required).await;
        client
            .find(Locator::Css("#confirm-compliance-evidence"))
            .await
            .unwrap()
            .select_by_value("DHU_CONFIRMATION")
            .await
            .unwrap();
        submit(&client, "#form-confirm-compliance button").await;
        wait_for(&client, ".cl-done").await;
        assert!(text_of(&client, "main h1").await.contains("Compliant"));
        client.goto(&format!("{base}/icb")).await.unwrap();
        let after = compliant(text_of(&client, "[data-figure='Compliant cases']").await);
        assert_eq!(after, before + 1, "the dashboard counts the newly compliant case");
        wait_for(&client, "#trend-chart svg").await;
        screenshot(&client, "icb").await;
        assert_accessible(&client, "icb").await;
        at_phone_width(&client, "icb").await;

        // The case list updates by itself when a new case arrives.
        client.goto(&format!("{base}/icb/cases")).await.unwrap();
        wait_for(&client, "#cases").await;
        let flagged = service.graphql(
            Some(&icb_token),
            "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { revision } }",
            json!({ "i": { "odsCode": "Z99999", "practiceName": "Live Update Surgery", "pcnCode": "U10001",
                           "place": "Coventry", "listSize": 9000, "visibleSlots": 0 } }),
        );
        assert!(flagged["errors"].is_null(), "{flagged}");
        eventually(&client, "the list shows the new case without a reload", async |c| {
            text_of(c, "#cases").await.contains("Live Update Surgery")
        })
        .await;
        sign_out(&client).await;

        // The LMC sees the case and its support, never the contact's name or what was said.
        sign_in(&client, &base, "lmc-officer-1").await;
        client.goto(&format!("{base}/lmc?status=all")).await.unwrap();
        assert!(text_of(&client, "#lmc-cases").await.contains(&practice));
        let page = source(&client).await;
        assert!(page.contains("Practice contacted"));
        assert!(!page.contains(contact_name) && !page.contains("Walked through"));
        screenshot(&client, "lmc").await;
        assert_accessible(&client, "lmc").await;
        at_phone_width(&client, "lmc").await;
        // The pages every party reaches: a practice, the footer's two, and a missing page.
        for (path, name) in [
            (format!("/practices/{ods}"), "practice"),
            ("/accessibility".to_string(), "accessibility"),
            ("/privacy".to_string(), "privacy"),
            ("/no-such-page".to_string(), "not-found"),
            ("/diversions".to_string(), "diversions"),
        ] {
            client.goto(&format!("{base}{path}")).await.unwrap();
            wait_for(&client, "main h1").await;
            assert_accessible(&client, name).await;
            at_phone_width(&client, name).await;
        }
        client.goto(&case_url).await.unwrap();
        wait_for(&client, "#timeline").await;
        let page = source(&client).await;
        assert!(page.contains("Practice contacted") && page.contains("Compliant"));
        assert!(!page.contains(contact_name) && !page.contains("Walked through") && !page.contains("ICB checked"));
        assert!(!page.contains("dc-amira"), "the LMC does not learn which champion");
        assert!(
            !page.contains("<form method=\"post\" action=\"/cases/"),
            "the LMC's view is read-only"
        );
        sign_out(&client).await;

        // A practice manager starts on their diversions, with the form to tell the ICB.
        sign_in(&client, &base, "pm-z00011").await;
        wait_for(&client, "#notify-diversion").await;
        assert!(text_of(&client, "main h1").await.contains("Z00011"));
        assert_accessible(&client, "practice-diversions").await;
        at_phone_width(&client, "practice-diversions").await;
        // Its own slot cases, its telephony and the gaps in its own Directory of Services entry.
        for (path, name) in [
            ("/our-cases", "practice-cases"),
            ("/pcn-review", "practice-telephony"),
            ("/dos", "practice-dos"),
        ] {
            client.goto(&format!("{base}{path}")).await.unwrap();
            wait_for(&client, "main h1").await;
            assert_accessible(&client, name).await;
            at_phone_width(&client, name).await;
        }
        client.close().await.unwrap();
    });
    for name in ["champion", "dhu", "icb", "lmc"] {
        let path = screenshots().join(format!("{name}.png"));
        assert!(
            std::fs::metadata(&path).unwrap().len() > 10_000,
            "{} is a real screenshot",
            path.display()
        );
    }
}

/// Where an element's top is on the page (px).
async fn top_of(client: &Client, css: &str) -> f64 {
    client
        .execute(
            "return document.querySelector(arguments[0]).getBoundingClientRect().top + window.scrollY;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{css} has no position"))
}

#[test]
fn the_weeks_work_in_the_pages_alone() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(caseledger_testsupport::fresh_db());
    let service = Service::launch(&db.url(), Launch::default());
    let base = service.url.clone();
    let icb_token = service.token("icb", "icb-assurance-1");
    let csv = std::fs::read_to_string(fixture("case-study/dashboard-week-00.csv")).unwrap();
    let imported = service.graphql(
        Some(&icb_token),
        "mutation($c: String!) { importDashboard(csv: $c) { flagged } }",
        json!({ "c": csv }),
    );
    assert_eq!(imported["data"]["importDashboard"]["flagged"], 28, "{imported}");
    let cases = service.graphql(
        Some(&icb_token),
        "{ icb { cases(first: 1) { edges { node { id } } } } }",
        json!({}),
    );
    let case_id = cases["data"]["icb"]["cases"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case_url = format!("{base}/cases/{case_id}");

    let driver = driver();
    runtime.block_on(async {
        let client = browser(&driver).await;
        // A link from an email, followed while signed out: after sign-in, that page.
        client.goto(&case_url).await.unwrap();
        wait_for(&client, "#sign-in-to-continue").await;
        click(&client, "#sign-in-admin-1").await;
        eventually(&client, "back on the case", async |c| {
            c.current_url().await.unwrap().path() == format!("/cases/{case_id}")
        })
        .await;

        // The admin adds a champion ahead of her first sign-in.
        client.goto(&format!("{base}/admin/people")).await.unwrap();
        wait_for(&client, "#people").await;
        fill(&client, "#person-id", "dc-gwen").await;
        fill(&client, "#person-name", "Gwen Ashby").await;
        client
            .find(Locator::Css("#person-role"))
            .await
            .unwrap()
            .select_by_value("champion")
            .await
            .unwrap();
        fill(&client, "#person-email", "gwen.ashby@nhs.net").await;
        submit(&client, "#person-form button").await;
        assert!(text_of(&client, "#saved").await.contains("Gwen Ashby"));
        screenshot(&client, "admin-people").await;
        assert_accessible(&client, "admin-people").await;
        at_phone_width(&client, "admin-people").await;
        sign_out(&client).await;

        // The ICB: work first on the dashboard, then a champion picked by name.
        sign_in(&client, &base, "icb-assurance-1").await;
        wait_for(&client, "#work").await;
        assert!(top_of(&client, "#work").await < top_of(&client, "#headline").await);
        assert!(top_of(&client, "#triage").await < top_of(&client, "#trend-chart").await);
        screenshot(&client, "icb-work-first").await;
        at_phone_width(&client, "icb-work-first").await;
        client.goto(&case_url).await.unwrap();
        client
            .find(Locator::Css("#assign-champion-championId"))
            .await
            .unwrap()
            .select_by_value("dc-gwen")
            .await
            .unwrap();
        submit(&client, "#form-assign-champion button").await;
        wait_for(&client, ".cl-done").await;
        assert!(text_of(&client, "#case-summary").await.contains("dc-gwen"));
        // On a phone the next step comes before the timeline, and nothing scrolls sideways.
        at_phone_width(&client, "case-icb").await;
        client.set_window_size(390, 844).await.unwrap();
        client.refresh().await.unwrap();
        wait_for(&client, "#actions").await;
        assert!(top_of(&client, "#actions").await < top_of(&client, "#timeline").await);
        client.set_window_size(1366, 900).await.unwrap();
        // The case list, filtered, at a phone's width: no sideways scroll, labels kept.
        client.goto(&format!("{base}/icb/cases?place=Coventry")).await.unwrap();
        wait_for(&client, "#cases").await;
        assert_accessible(&client, "icb-cases").await;
        at_phone_width(&client, "icb-cases").await;
        // The search of many practices at once: reached from the menu, accessible, fits a phone.
        client.goto(&format!("{base}/gp-connect")).await.unwrap();
        wait_for(&client, "#gp-pcn").await;
        assert_accessible(&client, "gp-connect").await;
        at_phone_width(&client, "gp-connect").await;
        // The charts: legend markers all one size.
        client.goto(&format!("{base}/icb?weeks=all")).await.unwrap();
        wait_for(&client, "#trend-chart svg").await;
        let sizes = client
            .execute(
                "return [...document.querySelectorAll('.cl-legend__key')].map(k => { const m = k.querySelector('circle, rect, polygon').getBBox(); return [m.width, m.height]; });",
                vec![],
            )
            .await
            .unwrap();
        let sizes = sizes.as_array().unwrap().clone();
        assert_eq!(sizes.len(), 3, "{sizes:?}");
        assert!(sizes.windows(2).all(|pair| pair[0] == pair[1]), "legend markers differ: {sizes:?}");
        sign_out(&client).await;

        // The LMC: its own export, and its page at a phone's width.
        sign_in(&client, &base, "lmc-officer-1").await;
        wait_for(&client, "#lmc-export").await;
        assert!(source(&client).await.contains("/lmc/report.xlsx"));
        at_phone_width(&client, "lmc-week").await;
        client.close().await.unwrap();
    });
    for name in ["admin-people", "icb-work-first", "icb-cases-390", "case-icb-390"] {
        let path = screenshots().join(format!("{name}.png"));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000, "{}", path.display());
    }
}
