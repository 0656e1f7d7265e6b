//! Commands through GraphQL over HTTP, as clients send them: `addNote` on 40 cases of a fresh
//! database, from N clients back to back, each on cases of its own. Each answer waits for the
//! views to show its own write (read your writes), so the latency is the whole round trip.

use caseledger_api::auth::dev_token;
use caseledger_cases::Role;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::process::{SECRET, ServiceProcess};
use crate::server::BenchServer;
use crate::service::{graphql_with, load_test_with};

const CASES: usize = 40;

pub async fn run(server: &BenchServer, clients: usize, seconds: u64, kind: &str) -> anyhow::Result<Vec<Value>> {
    let pool = server.fresh_database("bench_commands", true, 4).await?;
    pool.close().await;
    let mut service = ServiceProcess::spawn(&server.url("bench_commands"), None)?;
    service.wait_ready(std::time::Duration::from_secs(60))?;
    let url = format!("{}/graphql", service.base);
    let icb = dev_token(SECRET, Role::Icb, "icb-assurance-1", 3600)?;

    let agent = ureq::AgentBuilder::new().build();
    let mut cases = Vec::new();
    for n in 0..CASES {
        let flagged: Value = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {icb}"))
            .send_json(json!({
                "query": "mutation($i: FlagPracticeInput!) { flagPractice(input: $i) { case { id } } }",
                "variables": { "i": { "odsCode": format!("Y{n:05}"), "practiceName": format!("Practice {n}"),
                                      "pcnCode": "U00001", "place": "Place 1", "listSize": 6000, "visibleSlots": 0 } }
            }))?
            .into_json()?;
        let id = flagged["data"]["flagPractice"]["case"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("flagging failed: {flagged}"))?;
        cases.push(id.to_string());
    }

    let query = match kind {
        "note" => "mutation($i: AddNoteInput!) { addNote(input: $i) { revision } }",
        "assign" => "mutation($i: AssignCaseInput!) { assignCase(input: $i) { revision } }",
        other => anyhow::bail!("--kind {other:?}: note or assign"),
    };
    let note = kind == "note";
    let request = graphql_with(&url, &icb, move |client, n| {
        // Each client on cases of its own (while there are as many cases as clients).
        let mine = (client..CASES).step_by(clients.max(1)).collect::<Vec<_>>();
        let index = match mine.len() {
            0 => client % CASES,
            len => mine[usize::try_from(n).unwrap_or_default() % len],
        };
        let input = if note {
            json!({ "caseId": cases[index], "text": "bench note" })
        } else {
            json!({ "caseId": cases[index], "championId": format!("dc-{n}") })
        };
        json!({ "query": query, "variables": { "i": input } })
    });
    let before = stage_totals(&agent, &service.metrics_base)?;
    let run = load_test_with("commands", clients, seconds, request).await?;
    let after = stage_totals(&agent, &service.metrics_base)?;
    service.stop()?;
    // In a closed loop each client's requests follow each other: their mean is the window's
    // client-seconds over the requests answered.
    let mean_ms = match run.events {
        0 => 0.0,
        answered => run.seconds * clients as f64 * 1000.0 / answered as f64,
    };
    let mut lines = vec![json!({
        "what": "commands",
        "kind": kind,
        "clients": clients,
        "commands": run.events,
        "seconds": run.seconds,
        "commands_per_sec": run.events_per_sec,
        "mean_ms": mean_ms,
        "p50_ms": run.p50_ms,
        "p99_ms": run.p99_ms,
    })];
    let mut accounted = 0.0;
    for (stage, (sum, count)) in &after {
        let (sum_before, count_before) = before.get(stage).copied().unwrap_or_default();
        let (sum, count) = (sum - sum_before, count - count_before);
        if count <= 0.0 {
            continue;
        }
        // Per command: a stage that runs more than once a command (a retry) counts each time.
        let per_command_ms = sum * 1000.0 / run.events.max(1) as f64;
        if !stage.starts_with("http") && !stage.starts_with("graphql") {
            accounted += per_command_ms;
        }
        lines.push(json!({
            "what": "command_stage",
            "clients": clients,
            "stage": stage,
            "per_command_ms": per_command_ms,
            "share_of_mean": if mean_ms > 0.0 { per_command_ms / mean_ms } else { 0.0 },
            "times": count,
        }));
    }
    lines.push(json!({
        "what": "command_stage",
        "clients": clients,
        "stage": "rest (HTTP, execution, serialising, the client)",
        "per_command_ms": mean_ms - accounted,
        "share_of_mean": if mean_ms > 0.0 { (mean_ms - accounted) / mean_ms } else { 0.0 },
    }));
    Ok(lines)
}

/// From the service's `/metrics`: the command path's stages, the GraphQL mutations and the HTTP
/// requests to `/graphql`, each as (seconds in all, times).
fn stage_totals(agent: &ureq::Agent, base: &str) -> anyhow::Result<BTreeMap<String, (f64, f64)>> {
    let text = agent.get(&format!("{base}/metrics")).call()?.into_string()?;
    let mut totals: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (metric, labels) = name.split_once('{').unwrap_or((name, ""));
        let label = |key: &str| {
            labels
                .split(',')
                .find_map(|pair| pair.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches(['}', '"']).to_string())
        };
        let (stage, field) = match metric {
            "caseledger_command_stage_seconds_sum" => (label("stage"), 0),
            "caseledger_command_stage_seconds_count" => (label("stage"), 1),
            "caseledger_graphql_request_duration_seconds_sum" if label("type").as_deref() == Some("mutation") => (
                Some("graphql execution (all of the above but token and parse)".into()),
                0,
            ),
            "caseledger_graphql_request_duration_seconds_count" if label("type").as_deref() == Some("mutation") => (
                Some("graphql execution (all of the above but token and parse)".into()),
                1,
            ),
            "caseledger_http_request_duration_seconds_sum" if label("route").as_deref() == Some("/graphql") => {
                (Some("http request in the service (all of the above)".into()), 0)
            }
            "caseledger_http_request_duration_seconds_count" if label("route").as_deref() == Some("/graphql") => {
                (Some("http request in the service (all of the above)".into()), 1)
            }
            _ => continue,
        };
        if let Some(stage) = stage {
            let entry = totals.entry(stage).or_default();
            if field == 0 { entry.0 += value } else { entry.1 += value }
        }
    }
    Ok(totals)
}
