//! The read side at national size: 6,300 practices in 1,250 PCNs and 42 places, 156 weekly
//! extracts (3 years, 982,800 observations), 30,000 case episodes of 10 events each. The service
//! runs as its own process; with 20 events/s of background writes throughout, 16 clients ask each
//! question for S seconds. One JSON object per line: `{"what", "p50_ms", "p99_ms", "per_sec"}`,
//! and `{"what", "value"}` for the server's peak memory and its first dashboard after a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caseledger_api::auth::dev_token;
use caseledger_cases::Role;
use caseledger_cases::case::{CaseEvent, NoteAdded, case_stream};
use caseledger_cases::practice::{PracticeDetails, SlotsObserved, practice_stream};
use caseledger_cases::required_slots;
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_eventstore::{EventStore, ExpectedRevision, StreamAppend, append_batch};
use caseledger_projections::{NAMES, rebuild};
use chrono::{DateTime, Datelike, Duration as Days, Utc};
use serde_json::{Value, json};

use crate::process::{SECRET, ServiceProcess};
use crate::report::Run;
use crate::server::BenchServer;
use crate::service::{case_id, case_story, graphql, graphql_with, load_test_with, new_event, page, web_session};

const PRACTICES: u32 = 6_300;
const PCNS: u32 = 1_250;
const PLACES: u32 = 42;
const WEEKS: u32 = 156;
const CASES: u32 = 30_000;
const CHAMPIONS: u32 = 60;
const CLIENTS: usize = 16;
/// Background writes, events a second.
const WRITES_PER_SEC: u64 = 20;
const DATABASE: &str = "bench_national";

fn row(what: &str, run: &Run) -> Value {
    json!({ "what": what, "p50_ms": run.p50_ms, "p99_ms": run.p99_ms, "per_sec": run.events_per_sec })
}

pub async fn run(server: &BenchServer, seconds: u64) -> anyhow::Result<Vec<Value>> {
    let mut rows = Vec::new();
    let pool = server.fresh_database(DATABASE, true, 8).await?;
    let store = EventStore::new(pool.clone());
    let first_week = first_week();
    let load_started_at = Utc::now();
    let loaded = Instant::now();
    let events = load(&store, first_week).await?;
    sqlx::query("vacuum analyze").execute(&pool).await?;
    let load_seconds = loaded.elapsed().as_secs_f64();
    eprintln!("loaded {events} events in {load_seconds:.0} s");
    rows.push(json!({ "what": "load", "events": events, "seconds": load_seconds }));

    // The register: every observed practice and 700 more (in the same PCNs) with no data yet.
    let register = register_csv()?;
    let importer = caseledger_cases::Actor::new(ShortText::parse("icb-practice-register")?, Role::Icb);
    let started = Instant::now();
    let registered = caseledger_commands::Commands::new(store.clone())
        .import_register(&importer, &register, Utc::now())
        .await?;
    let took = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        registered.errors.is_empty(),
        "the register was refused: {:?}",
        registered.errors
    );
    rows.push(
        json!({ "what": "register_import", "rows": registered.rows, "seconds": took,
                      "per_sec": registered.rows as f64 / took.max(1e-9) }),
    );
    let loaded_at = Utc::now();

    // Every projection from zero: the rebuild leaves each caught up for the service.
    for name in NAMES {
        let rebuilt = rebuild(&store, name).await?;
        rows.push(
            json!({ "what": format!("rebuild_{name}"), "events": rebuilt.events, "seconds": rebuilt.seconds,
                          "per_sec": rebuilt.events as f64 / rebuilt.seconds.max(1e-9) }),
        );
        eprintln!("rebuilt {name}: {} events in {:.1} s", rebuilt.events, rebuilt.seconds);
    }
    sqlx::query("vacuum analyze").execute(&pool).await?;

    let mut service = ServiceProcess::spawn(&server.url(DATABASE), None)?;
    service.wait_ready(Duration::from_secs(120))?;
    let base = service.base.clone();
    let url = format!("{base}/graphql");
    let icb = dev_token(SECRET, Role::Icb, "icb-assurance-1", 3600)?;
    let champion = dev_token(SECRET, Role::Champion, "dc-0", 3600)?;
    let cookie = web_session(&base, "icb-assurance-1")?;

    let (stop, writer) = background_writes(store.clone());

    let summary = "{ icb { summary { practices nonCompliantPractices casesOpened openCases compliantCases closedCases \
                   medianDaysToCompliance compliantWithinDays { count percentage } byStatus { status count } \
                   byPlace { place openCases compliantCases nonCompliantPractices medianDaysToCompliance } } } }";
    let run = load_test_with("icb_summary", CLIENTS, seconds, graphql(&url, &icb, summary)).await?;
    rows.push(row("icb_summary", &run));

    let span_days = (loaded_at - first_week).num_days().max(1);
    let asof_query = summary.replace("summary {", "summary(asOf: $asOf, knownAt: $knownAt) {");
    let asof_query = format!("query($asOf: DateTime, $knownAt: DateTime) {asof_query}");
    let load_span = (loaded_at - load_started_at).num_milliseconds().max(1);
    let asof = graphql_with(&url, &icb, move |client, n| {
        let r = mix((client as u64) << 32 | n);
        let as_of = first_week + Days::minutes((r % (span_days as u64 * 1_440)) as i64);
        let known_at = loaded_at - Days::milliseconds(((r >> 20) % load_span as u64) as i64);
        json!({ "query": asof_query, "variables": { "asOf": as_of.to_rfc3339(), "knownAt": known_at.to_rfc3339() } })
    });
    let run = load_test_with("icb_summary_asof", CLIENTS, seconds, asof).await?;
    rows.push(row("icb_summary_asof", &run));

    let from = first_week.date_naive();
    let to = from + Days::weeks(i64::from(WEEKS) - 1);
    let trend = format!(
        "{{ icb {{ trend(from: \"{from}\", to: \"{to}\", everyDays: 7) {{ date openCases compliantCases nonCompliantPractices }} }} }}"
    );
    let run = load_test_with("icb_trend_156", CLIENTS, seconds, graphql(&url, &icb, &trend)).await?;
    rows.push(row("icb_trend_156", &run));

    let run = load_test_with("icb_page", CLIENTS, seconds, page(&format!("{base}/icb"), &cookie)).await?;
    rows.push(row("icb_page", &run));
    let place = page(&format!("{base}/icb/cases?place=Place%207"), &cookie);
    let run = load_test_with("icb_cases_place", CLIENTS, seconds, place).await?;
    rows.push(row("icb_cases_place", &run));

    let practices = graphql_with(&url, &icb, |client, n| {
        let place = mix((client as u64) << 32 | n) % u64::from(PLACES);
        json!({ "query": "query($p: String) { practices(first: 50, place: $p) { totalCount edges { node { odsCode name pcnCode \
                          missingWeeks latestObservation { reportDate visibleSlots compliant } counts { disagreement } } } } }",
                 "variables": { "p": format!("Place {place}") } })
    });
    let run = load_test_with("practices_page", CLIENTS, seconds, practices).await?;
    rows.push(row("practices_page", &run));
    let practice = graphql_with(&url, &icb, |client, n| {
        let practice = mix((client as u64) << 32 | n) % u64::from(PRACTICES);
        json!({ "query": "query($o: String!) { practice(odsCode: $o) { name observations { reportDate visibleSlots requiredSlots } \
                          counts { configured { slots at } seenByDhu { slots at } dashboard { slots at } disagreement } \
                          episodes { openedAt compliantAt status } } }",
                 "variables": { "o": format!("Y{practice:05}") } })
    });
    let run = load_test_with("practice_3_years", CLIENTS, seconds, practice).await?;
    rows.push(row("practice_3_years", &run));

    let my_cases = "{ champion { myCases { id status revision openedAt practice { odsCode name pcnCode place } } } }";
    let run = load_test_with(
        "champion_my_cases",
        CLIENTS,
        seconds,
        graphql(&url, &champion, my_cases),
    )
    .await?;
    rows.push(row("champion_my_cases", &run));

    stop.send(true)?;
    let mut lags = writer.await??;
    let written = lags.len() as u64;
    let lag = Run::new("projection_lag", 1, 1, written, Duration::from_secs(1), &mut lags);
    rows.push(json!({ "what": "projection_lag", "p50_ms": lag.p50_ms, "p99_ms": lag.p99_ms, "events": written }));
    rows.push(json!({ "what": "server_rss_mb", "value": service.peak_rss_mb()? }));

    // A restart: from the new process's start to the first dashboard it serves.
    let port = service.port();
    service.stop()?;
    let restarted = Instant::now();
    let mut service = ServiceProcess::spawn(&server.url(DATABASE), port)?;
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let first = loop {
        let shown = agent
            .get(&format!("{base}/icb"))
            .set("Cookie", &cookie)
            .call()
            .ok()
            .filter(|response| response.status() == 200)
            .and_then(|response| response.into_string().ok())
            .is_some_and(|body| body.contains("Assurance dashboard"));
        if shown {
            break restarted.elapsed();
        }
        anyhow::ensure!(
            restarted.elapsed() < Duration::from_secs(120),
            "no dashboard after the restart"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    rows.push(json!({ "what": "first_dashboard_after_restart_ms", "value": first.as_secs_f64() * 1000.0 }));
    service.wait_ready(Duration::from_secs(5))?;
    service.stop()?;
    pool.close().await;
    Ok(rows)
}

/// A well-mixed 64-bit number from `n` (splitmix64's finaliser): varied questions, reproducibly.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49eb_1331_11eb);
    z ^ (z >> 31)
}

/// The Monday 156 weeks before this week's: the first extract.
fn first_week() -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    (monday - Days::weeks(i64::from(WEEKS)))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

/// Notes on existing cases at 20 a second until `stop`; for each, the time from its commit
/// until every projection has passed it, woken by the service's progress notifications.
fn background_writes(
    store: EventStore,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move {
        let lags: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let mut waits = Vec::new();
        let mut ticks = tokio::time::interval(Duration::from_millis(1_000 / WRITES_PER_SEC));
        let mut n = 0u64;
        while !*stopped.borrow() {
            ticks.tick().await;
            let case = case_id(u32::try_from(mix(n) % u64::from(CASES)).unwrap_or(0));
            let note = CaseEvent::NoteAdded(NoteAdded {
                text: FreeText::parse("background note")?,
            });
            let event = new_event(&note, Role::Icb, "icb-assurance-1", Utc::now())?;
            let result = store
                .append(&case_stream(case), ExpectedRevision::Any, &[event])
                .await?;
            let committed = Instant::now();
            let (store, lags) = (store.clone(), lags.clone());
            waits.push(tokio::spawn(async move {
                let position = result.positions[0];
                if store
                    .progress()
                    .wait_for(NAMES, position, Duration::from_secs(30))
                    .await?
                {
                    lags.lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .push(committed.elapsed());
                }
                anyhow::Ok(())
            }));
            n += 1;
        }
        for wait in waits {
            wait.await??;
        }
        let lags = lags.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
        anyhow::ensure!(
            lags.len() as u64 == n,
            "{} of {n} writes were not projected in 30 s",
            n - lags.len() as u64
        );
        Ok(lags)
    });
    (stop, handle)
}

fn practice(n: u32) -> anyhow::Result<PracticeDetails> {
    let pcn = n * PCNS / PRACTICES;
    Ok(PracticeDetails {
        ods_code: OdsCode::parse(&format!("Y{n:05}"))?,
        name: ShortText::parse(&format!("Practice {n}"))?,
        pcn_code: PcnCode::parse(&format!("U{pcn:05}"))?,
        pcn_name: Some(ShortText::parse(&format!("PCN {pcn}"))?),
        place: ShortText::parse(&format!("Place {}", pcn % PLACES))?,
    })
}

/// Extra registered practices, with no observation yet.
const UNOBSERVED: u32 = 700;

/// The register's CSV: the observed practices as the dashboards describe them, and
/// [`UNOBSERVED`] more in the same PCNs and places.
fn register_csv() -> anyhow::Result<String> {
    let mut csv = String::from("ods_code,practice_name,pcn_code,pcn_name,place,list_size,main_site,branch_sites\n");
    for n in 0..PRACTICES + UNOBSERVED {
        let details = if n < PRACTICES {
            practice(n)?
        } else {
            practice((n - PRACTICES) * PRACTICES / UNOBSERVED)?
        };
        let branch = if n % 10 == 0 {
            format!("Branch of {n}")
        } else {
            String::new()
        };
        csv.push_str(&format!(
            "Y{n:05},Practice {n},{},{},{},{},Practice {n},{branch}\n",
            details.pcn_code,
            details.pcn_name.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            details.place,
            3_000 + (n * 37) % 15_000,
        ));
    }
    Ok(csv)
}

/// The weeks in which case `k` of practice `n` opens (each case lasts about ten days).
fn case_week(n: u32, k: u32) -> u32 {
    4 + k * 30 + n % 20
}

/// Practice `n`'s cases: `k`-th is case number `k * PRACTICES + n`. The last one of every fifth
/// practice is still open (it never reaches compliance).
fn cases_of(n: u32) -> impl Iterator<Item = (u32, u32, bool)> {
    let count = (0..).take_while(move |k| k * PRACTICES + n < CASES).count() as u32;
    (0..count).map(move |k| (k, k * PRACTICES + n, !(k + 1 == count && n.is_multiple_of(5))))
}

async fn load(store: &EventStore, first_week: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut total = 0u64;
    for chunk in (0..PRACTICES).collect::<Vec<_>>().chunks(40) {
        let mut appends = Vec::new();
        for &n in chunk {
            let practice = practice(n)?;
            let list_size = ListSize::new(i64::from(3_000 + (n * 37) % 15_000))?;
            let required = required_slots(list_size);
            let cases: Vec<(u32, u32, bool)> = cases_of(n).collect();
            // Short in the week each case opens, and the next; for good while the last is open.
            let short = |week: u32| {
                cases.iter().any(|(k, _, finished)| {
                    let opened = case_week(n, *k);
                    week >= opened && (week <= opened + 1 || !finished)
                })
            };
            let observations = (0..WEEKS)
                .map(|week| {
                    let at = first_week + Days::weeks(i64::from(week));
                    let visible = if short(week) { 0 } else { required };
                    let observed = CaseEvent::SlotsObserved(SlotsObserved {
                        report_date: at.date_naive(),
                        visible_slots: SlotCount::new(i64::from(visible))?,
                        list_size,
                        required_slots: required,
                        practice: practice.clone(),
                    });
                    new_event(&observed, Role::Icb, "icb-dashboard-import", at)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            total += observations.len() as u64;
            appends.push(StreamAppend {
                stream: practice_stream(&practice.ods_code),
                expected: ExpectedRevision::NoStream,
                events: observations,
            });
            for (k, case, finished) in cases {
                let opened = first_week + Days::weeks(i64::from(case_week(n, k)));
                let champion = format!("dc-{}", case % CHAMPIONS);
                let story = case_story(n, &practice, list_size, opened, &champion, finished)?;
                total += story.len() as u64;
                appends.push(StreamAppend {
                    stream: case_stream(case_id(case)),
                    expected: ExpectedRevision::NoStream,
                    events: story,
                });
            }
        }
        let mut tx = store.pool().begin().await?;
        append_batch(&mut tx, &appends).await?;
        tx.commit().await?;
    }
    Ok(total)
}
