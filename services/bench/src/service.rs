//! The service at size: 10,000 cases and 1,000,000 events (900,000 dashboard observations of
//! 10,000 practices over 90 weeks, and 10 events a case). Times the rebuild of each projection
//! from zero, the latency of `icb.summary` and `champion.myCases` with 16 concurrent HTTP
//! clients, and the projection lag under 1,000 events/s.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caseledger_api::auth::{Authenticator, dev_token};
use caseledger_api::graphql::{AppState, build_schema};
use caseledger_api::http::{HttpState, metrics_router, router};
use caseledger_cases::case::*;
use caseledger_cases::practice::{PracticeDetails, SlotsObserved, practice_stream};
use caseledger_cases::values::{FreeText, ListSize, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_cases::{Role, required_slots};
use caseledger_eventstore::{
    EventMetadata, EventStore, ExpectedRevision, NewEvent, StreamAppend, append_batch, load_checkpoint,
};
use caseledger_projections::{Projections, rebuild};
use caseledger_web::WebState;
use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use uuid::Uuid;

use crate::process::SECRET;
use crate::report::Run;
use crate::server::BenchServer;

const PRACTICES: u32 = 10_000;
const WEEKS: u32 = 90;
const CHAMPIONS: u32 = 20;

pub async fn run(server: &BenchServer, seconds: u64) -> anyhow::Result<Vec<Run>> {
    let pool = server.fresh_database("bench_service", true, 40).await?;
    let store = EventStore::new(pool.clone());
    let loaded = Instant::now();
    let events = load(&store).await?;
    // As autovacuum would soon after a load this size.
    sqlx::query("vacuum analyze events").execute(&pool).await?;
    eprintln!("loaded {events} events in {:.0} s", loaded.elapsed().as_secs_f64());

    let mut runs = Vec::new();
    for name in caseledger_projections::NAMES {
        let rebuilt = rebuild(&store, name).await?;
        let elapsed = Duration::from_secs_f64(rebuilt.seconds);
        runs.push(Run::new(
            &format!("rebuild {name}"),
            1,
            2_000,
            rebuilt.events,
            elapsed,
            &mut [],
        ));
    }
    let projections = Projections::start(&store);

    let state = AppState::new(store.clone());
    let schema = build_schema(state);
    let web = WebState::new(
        {
            let schema = schema.clone();
            caseledger_web::InProcess::new(move |actor, ids, request| {
                caseledger_api::graphql::execute_as(&schema, actor, ids, request)
            })
        },
        pool.clone(),
        true,
        None,
        Duration::from_secs(30 * 60),
    );
    // As the service does, on one port here: the bench scrapes /metrics beside the pages.
    let app = router(HttpState {
        schema,
        auth: Authenticator::new(Some(SECRET)),
        pool: pool.clone(),
        web: Some(caseledger_web::router(web)),
    })
    .merge(metrics_router(caseledger_eventstore::EventStore::new(pool.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let url = format!("{base}/graphql");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let icb = dev_token(SECRET, Role::Icb, "icb-assurance-1", 3600)?;
    let summary = "{ icb { summary { practices nonCompliantPractices casesOpened openCases compliantCases closedCases \
                   medianDaysToCompliance byStatus { status count } byPlace { place openCases compliantCases nonCompliantPractices } } } }";
    runs.push(load_test("icb.summary", seconds, graphql(&url, &icb, summary)).await?);
    let champion = dev_token(SECRET, Role::Champion, "dc-0", 3600)?;
    let my_cases = "{ champion { myCases { id status revision practice { odsCode name } } } }";
    runs.push(load_test("champion.myCases", seconds, graphql(&url, &champion, my_cases)).await?);

    // The web pages, as a signed-in ICB user's browser asks for them.
    let cookie = web_session(&base, "icb-assurance-1")?;
    runs.push(load_test("page /icb", seconds, page(&format!("{base}/icb"), &cookie)).await?);
    let place = format!("{base}/icb/cases?place=Place%207");
    runs.push(load_test("page /icb/cases (one place)", seconds, page(&place, &cookie)).await?);
    runs.push(load_test("/metrics", seconds, page(&format!("{base}/metrics"), "")).await?);

    runs.push(lag(&store, seconds).await?);
    projections.stop().await;
    Ok(runs)
}

/// One request of a load test, by client number and that client's request number; an error
/// ends the run.
pub type Request = Arc<dyn Fn(&ureq::Agent, usize, u64) -> anyhow::Result<()> + Send + Sync>;

/// A GraphQL POST with a bearer token; any GraphQL error fails the run.
pub fn graphql(url: &str, token: &str, query: &str) -> Request {
    let query = query.to_string();
    graphql_with(url, token, move |_, _| serde_json::json!({ "query": query }))
}

/// A GraphQL POST whose body `body(client, request)` makes; any GraphQL error fails the run.
pub fn graphql_with(
    url: &str,
    token: &str,
    body: impl Fn(usize, u64) -> serde_json::Value + Send + Sync + 'static,
) -> Request {
    let (url, token) = (url.to_string(), format!("Bearer {token}"));
    Arc::new(move |agent: &ureq::Agent, client, n| {
        let response: serde_json::Value = agent
            .post(&url)
            .set("Authorization", &token)
            .set("Content-Type", "application/json")
            .send_string(&body(client, n).to_string())?
            .into_json()?;
        anyhow::ensure!(response["errors"].is_null(), "{response}");
        Ok(())
    })
}

/// A GET of a page with the session cookie, read to the end.
pub fn page(url: &str, cookie: &str) -> Request {
    let (url, cookie) = (url.to_string(), cookie.to_string());
    Arc::new(move |agent: &ureq::Agent, _, _| {
        let body = agent.get(&url).set("Cookie", &cookie).call()?.into_string()?;
        anyhow::ensure!(!body.is_empty(), "{url}: an empty page");
        Ok(())
    })
}

/// Signs in through the development sign-in page; the session cookie.
pub fn web_session(base: &str, user: &str) -> anyhow::Result<String> {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let form = agent.get(&format!("{base}/sign-in")).call()?;
    let pre = form
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no sign-in cookie"))?
        .to_string();
    let token = pre.split_once('=').map(|(_, v)| v.to_string()).unwrap_or_default();
    let signed_in = match agent
        .post(&format!("{base}/sign-in"))
        .set("Cookie", &pre)
        .send_form(&[("_csrf", &token), ("user", user)])
    {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(error.into()),
    };
    signed_in
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("caseledger_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("signing in as {user} failed"))
}

/// 16 clients, each sending `request` back to back for `seconds`.
async fn load_test(mode: &str, seconds: u64, request: Request) -> anyhow::Result<Run> {
    load_test_with(mode, 16, seconds, request).await
}

/// `clients` clients, each sending `request` back to back for `seconds`.
pub async fn load_test_with(mode: &str, clients: usize, seconds: u64, request: Request) -> anyhow::Result<Run> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let request = request.clone();
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let agent = ureq::AgentBuilder::new().build();
                let mut latencies = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    request(&agent, client, n)?;
                    latencies.push(sent.elapsed());
                    n += 1;
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for thread in threads {
        latencies.extend(thread.join().map_err(|_| anyhow::anyhow!("a client panicked"))??);
    }
    let requests = latencies.len() as u64;
    Ok(Run::new(mode, clients, 1, requests, started.elapsed(), &mut latencies))
}

/// Appends a note a millisecond apart (1,000 events/s) and measures, for each, the time from
/// its commit until `case_view`'s checkpoint has passed it.
async fn lag(store: &EventStore, seconds: u64) -> anyhow::Result<Run> {
    let pending: Arc<Mutex<Vec<(caseledger_eventstore::Position, Instant)>>> = Arc::default();
    let writer = {
        let (store, pending) = (store.clone(), pending.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(1));
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut written = 0u64;
            while Instant::now() < deadline {
                ticks.tick().await;
                let case = case_id(u32::try_from(written % u64::from(PRACTICES)).unwrap_or(0));
                let note = CaseEvent::NoteAdded(NoteAdded {
                    text: FreeText::parse("bench note").map_err(anyhow::Error::from)?,
                });
                let event = new_event(&note, Role::Icb, "icb-assurance-1", Utc::now())?;
                let result = store
                    .append(&case_stream(case), ExpectedRevision::Any, &[event])
                    .await?;
                pending
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .push((result.positions[0], Instant::now()));
                written += 1;
            }
            anyhow::Ok(written)
        })
    };
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut conn = store.pool().acquire().await?;
    while !writer.is_finished() || !pending.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.is_empty() {
        let checkpoint = load_checkpoint(&mut conn, "case_view").await?.unwrap_or_default();
        let seen = Instant::now();
        pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .retain(|(position, committed)| {
                let visible = *position <= checkpoint;
                if visible {
                    latencies.push(seen.duration_since(*committed));
                }
                !visible
            });
        tokio::time::sleep(Duration::from_millis(1)).await;
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(seconds + 60),
            "the projection did not catch up"
        );
    }
    let written = writer.await??;
    Ok(Run::new(
        "projection lag",
        1,
        1,
        written,
        started.elapsed(),
        &mut latencies,
    ))
}

pub fn case_id(n: u32) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
}

pub fn new_event(event: &CaseEvent, role: Role, actor: &str, at: DateTime<Utc>) -> anyhow::Result<NewEvent> {
    let (event_type, data) = encode_event(event);
    let mut metadata = EventMetadata::default();
    metadata.custom.insert("actor_id".into(), actor.into());
    metadata.custom.insert("actor_role".into(), role.as_str().into());
    metadata.custom.insert(
        "occurred_at".into(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into(),
    );
    Ok(NewEvent::new(Uuid::now_v7(), event_type, &data, metadata)?)
}

/// 10,000 practices with 90 weekly observations each, and a case of 10 events for each.
pub(crate) async fn load(store: &EventStore) -> anyhow::Result<u64> {
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("date"))?;
    let mut total = 0u64;
    for chunk in (0..PRACTICES).collect::<Vec<_>>().chunks(50) {
        let mut appends = Vec::new();
        for &n in chunk {
            let practice = practice(n)?;
            let list_size = ListSize::new(i64::from(3_000 + (n * 37) % 15_000))?;
            let required = required_slots(list_size);
            let events = (0..WEEKS)
                .map(|week| {
                    let at = start + Days::weeks(i64::from(week));
                    let visible = if week < 4 && n % 3 == 0 { 0 } else { required };
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
            total += events.len() as u64;
            appends.push(StreamAppend {
                stream: practice_stream(&practice.ods_code),
                expected: ExpectedRevision::NoStream,
                events,
            });
            let case_events = case_story(
                n,
                &practice,
                list_size,
                start,
                &format!("dc-{}", n % CHAMPIONS),
                n.is_multiple_of(2),
            )?;
            total += case_events.len() as u64;
            appends.push(StreamAppend {
                stream: case_stream(case_id(n)),
                expected: ExpectedRevision::NoStream,
                events: case_events,
            });
        }
        let mut tx = store.pool().begin().await?;
        append_batch(&mut tx, &appends).await?;
        tx.commit().await?;
    }
    Ok(total)
}

fn practice(n: u32) -> anyhow::Result<PracticeDetails> {
    Ok(PracticeDetails {
        ods_code: OdsCode::parse(&format!("Y{:05}", n))?,
        name: ShortText::parse(&format!("Practice {n}"))?,
        pcn_code: PcnCode::parse(&format!("U{:05}", n / 8))?,
        pcn_name: None,
        place: ShortText::parse(&format!("Place {}", n % 40))?,
    })
}

/// Flag, assign, contact, guidance, root cause, remap, DHU confirmation, two notes, and
/// compliance (or, when not `compliant`, a third note), a day apart from `start`.
pub fn case_story(
    n: u32,
    practice: &PracticeDetails,
    list_size: ListSize,
    start: DateTime<Utc>,
    champion: &str,
    compliant: bool,
) -> anyhow::Result<Vec<NewEvent>> {
    let required = required_slots(list_size);
    let champion = champion.to_string();
    let text = |s: &str| FreeText::parse(s).map_err(anyhow::Error::from);
    let slots = SlotCount::new(i64::from(required))?;
    let mut story = vec![
        (
            Role::Icb,
            "icb-assurance-1".to_string(),
            CaseEvent::PracticeFlagged(PracticeFlagged {
                practice: practice.clone(),
                list_size,
                required_slots: required,
                visible_slots: SlotCount::new(0)?,
                source: FlagSource {
                    kind: FlagSourceKind::Dashboard,
                    report_date: Some(start.date_naive()),
                    report_id: None,
                },
                reason: None,
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::CaseAssigned(CaseAssigned {
                champion_id: ShortText::parse(&champion)?,
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::PracticeContacted(PracticeContacted {
                channel: ContactChannel::Phone,
                contact_name: Some(ShortText::parse("Practice Manager")?),
                summary: text("Explained the requirement")?,
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::GuidanceShared(GuidanceShared {
                guide: ShortText::parse("111-slots-how-to")?,
                version: None,
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::RootCauseIdentified(RootCauseIdentified {
                cause: RootCause::ProviderCodeUnmapped,
                detail: None,
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::SlotsRemapped(SlotsRemapped {
                changes: vec![RemapChange::MapProviderCode],
                slots_per_day_configured: slots,
            }),
        ),
        (
            Role::Dhu,
            "dhu-liaison-1".to_string(),
            CaseEvent::DhuVisibilityConfirmed(DhuVisibilityConfirmed {
                visible_slots_per_day: slots,
                required_slots: Some(required),
            }),
        ),
        (
            Role::Champion,
            champion.clone(),
            CaseEvent::NoteAdded(NoteAdded {
                text: text("Followed up")?,
            }),
        ),
        (
            Role::Icb,
            "icb-assurance-1".to_string(),
            CaseEvent::NoteAdded(NoteAdded {
                text: text("Reviewed")?,
            }),
        ),
    ];
    story.push(if compliant {
        (
            Role::Icb,
            "icb-assurance-1".to_string(),
            CaseEvent::ComplianceConfirmed(ComplianceConfirmed {
                visible_slots_per_day: slots,
                evidence: Evidence::DhuConfirmation,
                required_slots: Some(required),
            }),
        )
    } else {
        (
            Role::Champion,
            champion,
            CaseEvent::NoteAdded(NoteAdded {
                text: text("Waiting on the practice")?,
            }),
        )
    });
    story
        .iter()
        .enumerate()
        .map(|(i, (role, actor, event))| {
            new_event(
                event,
                *role,
                actor,
                start + Days::hours(i as i64 * 24 + i64::from(n % 24)),
            )
        })
        .collect()
}
