//! `case.history` of a 50-event case, in process, the way the GraphQL loader and resolver do it:
//! read the case's streams, open the sealed fields, put each event through the lens. Once with
//! personal fields stored in plaintext (a store without a vault), once sealed (with one): the
//! cost of crypto-shredding on the read side.

use std::time::Instant;

use caseledger_cases::case::{ContactChannel, case_stream, contract_stream};
use caseledger_cases::values::{FreeText, OdsCode, PcnCode, ShortText, SlotCount};
use caseledger_cases::{Action, Actor, Role};
use caseledger_commands::{CommandContext, Commands};
use caseledger_eventstore::{EventStore, Kek, Vault};
use caseledger_projections::lens::{lens, personal_fields};
use serde_json::{Value, json};

use crate::report::Run;
use crate::server::BenchServer;

/// Events in the case: the flag, an assignment, then contacts, notes and guidance in turn.
const EVENTS: usize = 50;

pub async fn run(server: &BenchServer, iterations: usize) -> anyhow::Result<Vec<Value>> {
    let mut lines = Vec::new();
    for sealed in [false, true] {
        let name = if sealed {
            "bench_history_sealed"
        } else {
            "bench_history_plain"
        };
        let pool = server.fresh_database(name, true, 4).await?;
        let mut store = EventStore::new(pool.clone());
        if sealed {
            let (kek, _) = Kek::generate()?;
            let vault = Vault::new(kek, personal_fields);
            vault.check(&pool).await?;
            store = store.with_vault(vault);
        }
        let case_id = case_of(&Commands::new(store.clone())).await?;
        let streams = [case_stream(case_id), contract_stream(case_id)];
        let mut latencies = Vec::with_capacity(iterations);
        let started = Instant::now();
        let mut shown = 0;
        for _ in 0..iterations {
            let began = Instant::now();
            let mut events = store.read_streams(&streams).await?;
            store.open_sealed(&mut events).await?;
            shown = events.iter().filter_map(|e| lens(Role::Champion, e)).count();
            latencies.push(began.elapsed());
        }
        let elapsed = started.elapsed();
        anyhow::ensure!(shown == EVENTS, "the champion sees {shown} of {EVENTS} events");
        let run = Run::new("history", 1, EVENTS, iterations as u64, elapsed, &mut latencies);
        lines.push(json!({
            "what": "case_history_50_events",
            "personal_fields": if sealed { "sealed" } else { "plaintext" },
            "iterations": iterations,
            "per_sec": run.events_per_sec,
            "p50_ms": run.p50_ms,
            "p99_ms": run.p99_ms,
        }));
        pool.close().await;
    }
    Ok(lines)
}

/// A case of [`EVENTS`] events, written through the commands as the service writes them.
async fn case_of(commands: &Commands) -> anyhow::Result<uuid::Uuid> {
    let text = |s: &str| FreeText::parse(s).map_err(anyhow::Error::from);
    let short = |s: &str| ShortText::parse(s).map_err(anyhow::Error::from);
    let icb = CommandContext::new(Actor::new(short("icb-assurance-1")?, Role::Icb));
    let champion = CommandContext::new(Actor::new(short("dc-amira")?, Role::Champion));
    let now = chrono::Utc::now();
    let flagged = commands
        .flag_practice(
            &icb,
            Action::FlagPractice {
                practice: caseledger_cases::practice::PracticeDetails {
                    ods_code: OdsCode::parse("Y00001")?,
                    name: short("Bench Surgery")?,
                    pcn_code: PcnCode::parse("U00001")?,
                    pcn_name: None,
                    place: short("Place 1")?,
                },
                list_size: caseledger_cases::values::ListSize::new(6_000)?,
                visible_slots: SlotCount::new(0)?,
                source: caseledger_cases::case::FlagSource {
                    kind: caseledger_cases::case::FlagSourceKind::Manual,
                    report_date: None,
                    report_id: None,
                },
                reason: Some(text("flagged for the benchmark")?),
            },
            now,
        )
        .await?;
    let case_id = flagged.case_id;
    commands
        .execute(
            case_id,
            &champion,
            Action::AssignCase {
                champion_id: short("dc-amira")?,
            },
            now,
        )
        .await?;
    for n in 2..EVENTS {
        let action = match n % 3 {
            0 => Action::RecordContact {
                channel: ContactChannel::Phone,
                contact_name: Some(short(&format!("Practice Manager {n}"))?),
                summary: text(&format!("Call {n}: went through the slot types and the 111 mapping."))?,
            },
            1 => Action::AddNote {
                text: text(&format!("Note {n}: the practice will change its template next week."))?,
            },
            _ => Action::ShareGuidance {
                guide: short("111-slots-how-to")?,
                version: Some(short("1.0")?),
            },
        };
        commands.execute(case_id, &champion, action, now).await?;
    }
    Ok(case_id)
}
