//! What a hostile document costs the service: each of the shapes that cost a parser more than
//! their size (fragments that double, brackets nested thousands deep, thousands of directives or
//! operations), answered in process one at a time (the time of one answer on an otherwise idle
//! thread: its CPU), and then over HTTP: the ICB's summary alone, and with eight clients sending
//! the worst of them back to back.

use std::time::{Duration, Instant};

use caseledger_api::auth::{Authenticator, dev_token};
use caseledger_api::graphql::{AppState, build_schema};
use caseledger_api::http::{HttpState, router};
use caseledger_cases::Role;
use caseledger_eventstore::EventStore;

use crate::process::SECRET;
use crate::report::Run;
use crate::server::BenchServer;
use crate::service::{Request, graphql, load_test_with};

/// `depth` fragments, each spreading the next twice.
fn doubling(depth: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..depth {
        query.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    query.push_str(&format!("fragment F{depth} on Query {{ __typename }}\n"));
    query
}

/// The shapes, each under the 64 KB limit on a query's text.
fn documents() -> Vec<(&'static str, String)> {
    vec![
        ("fragment doubling, 28 levels (10 s before)", doubling(28)),
        ("fragment doubling, 45 levels", doubling(45)),
        (
            "lists nested 5,000 deep",
            format!(
                "{{ case(id: {}\"x\"{}) {{ id }} }}",
                "[".repeat(5_000),
                "]".repeat(5_000)
            ),
        ),
        (
            "selections nested 3,000 deep",
            format!("{}{}", "{ me ".repeat(3_000), "}".repeat(3_000)),
        ),
        ("60,000 opening braces", "{".repeat(60_000)),
        (
            "2,000 directives on a field",
            format!("{{ me {} {{ id }} }}", "@skip(if: false) ".repeat(2_000)),
        ),
        (
            "2,000 operations",
            (0..2_000)
                .map(|i| format!("query Q{i} {{ me {{ id }} }}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "near the largest accepted: 1,900 selections of a fragment",
            format!(
                "query {{ ...A }} fragment A on Query {{ {} }}",
                "__typename ".repeat(1_900)
            ),
        ),
    ]
}

pub async fn run(server: &BenchServer, seconds: u64) -> anyhow::Result<Vec<serde_json::Value>> {
    let pool = server.fresh_database("bench_hostile", true, 20).await?;
    let store = EventStore::new(pool.clone());
    let schema = build_schema(AppState::new(store.clone()));
    let mut lines = Vec::new();

    // One at a time, in process, on this (otherwise idle) thread.
    for (what, document) in documents() {
        anyhow::ensure!(document.len() <= 64 * 1024, "{what}: over the limit on a query's size");
        let mut times = Vec::new();
        let mut answer = async_graphql::Response::default();
        for _ in 0..20 {
            let started = Instant::now();
            answer = schema.execute(async_graphql::Request::new(document.clone())).await;
            times.push(started.elapsed());
        }
        times.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let code = answer
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|e| e.get("code"))
            .map(|code| code.to_string());
        lines.push(serde_json::json!({
            "what": what, "bytes": document.len(), "answer": code.unwrap_or_else(|| "answered".into()),
            "p50_ms": ms(times[times.len() / 2]), "max_ms": ms(times[times.len() - 1]),
        }));
    }

    // Over HTTP, as the service serves it.
    let app = router(HttpState {
        schema,
        auth: Authenticator::new(Some(SECRET)),
        pool: pool.clone(),
        web: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(caseledger_api::serve::serve(
        listener,
        app,
        caseledger_api::serve::ConnectionLimits::default(),
        stopped,
    ));
    let icb = dev_token(SECRET, Role::Icb, "icb-assurance-1", 3600)?;
    let summary = "{ icb { summary { openCases compliantCases byPlace { place openCases } } } }";
    let alone = load_test_with("icb.summary, alone", 1, seconds, graphql(&url, &icb, summary)).await?;
    lines.push(line(&alone));
    let hostile = doubling(45);
    let attacker: Request = {
        let (url, hostile) = (url.clone(), hostile.clone());
        std::sync::Arc::new(move |agent: &ureq::Agent, _, _| {
            let _ = agent.post(&url).send_json(serde_json::json!({ "query": hostile }));
            Ok(())
        })
    };
    let attack = tokio::spawn(load_test_with(
        "45-level fragment doubling, 8 clients",
        8,
        seconds,
        attacker,
    ));
    let during = load_test_with(
        "icb.summary, with 8 clients sending 45-level fragment doubling",
        1,
        seconds,
        graphql(&url, &icb, summary),
    )
    .await?;
    lines.push(line(&during));
    lines.push(line(&attack.await??));
    Ok(lines)
}

fn line(run: &Run) -> serde_json::Value {
    serde_json::json!({ "what": run.mode, "per_sec": run.events_per_sec, "p50_ms": run.p50_ms, "p99_ms": run.p99_ms })
}
