//! The dashboard import: one call of `import_dashboard` on a fresh database, timed end to end
//! (parse, check, observations, new cases).

use std::time::{Duration, Instant};

use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::EventStore;

use crate::report::Run;
use crate::server::BenchServer;

/// `practices` rows: the case study's first week for 119, else a generated national-sized file
/// with one practice in fifty short of its requirement.
pub async fn run(server: &BenchServer, practices: usize) -> anyhow::Result<Run> {
    let csv = if practices == 119 {
        let week0 = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/case-study/dashboard-week-00.csv"
        );
        std::fs::read_to_string(week0)?
    } else {
        generated(practices)
    };
    let pool = server.fresh_database("bench_import", true, 4).await?;
    let commands = Commands::new(EventStore::new(pool));
    let actor = Actor::new(ShortText::parse("bench-import")?, Role::Icb);
    let started = Instant::now();
    let report = commands.import_dashboard(&actor, &csv, chrono::Utc::now()).await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        report.errors.is_empty() && report.observed == practices,
        "import failed: {report:?}"
    );
    eprintln!("import of {practices} rows: {} flagged", report.flagged);
    Ok(Run::new(
        "import",
        1,
        practices,
        practices as u64,
        elapsed,
        &mut [Duration::from_secs_f64(elapsed.as_secs_f64())],
    ))
}

fn generated(practices: usize) -> String {
    let mut csv = String::from("report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n");
    for i in 0..practices as u32 {
        let list_size = 2_000 + (i * 37) % 18_000;
        let required = (list_size / 3000).max(1);
        let visible = if i % 50 == 0 { required - 1 } else { required + i % 3 };
        csv.push_str(&format!(
            "2026-01-05,Z{:05},Practice {i},U{:05},Place {},{list_size},{visible}\n",
            10_000 + i,
            10_000 + i / 6,
            i % 40
        ));
    }
    csv
}
