//! Commands through GraphQL over HTTP, as clients send them: `addNote` on 40 cases of a fresh
//! database, from N clients back to back, each on cases of its own. Each answer waits for the
//! views to show its own write (read your writes), so the latency is the whole round trip.

use caseledger_api::auth::dev_token;
use caseledger_cases::Role;
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
    let run = load_test_with("commands", clients, seconds, request).await?;
    service.stop()?;
    Ok(vec![json!({
        "what": "commands",
        "kind": kind,
        "clients": clients,
        "commands": run.events,
        "seconds": run.seconds,
        "commands_per_sec": run.events_per_sec,
        "p50_ms": run.p50_ms,
        "p99_ms": run.p99_ms,
    })])
}
