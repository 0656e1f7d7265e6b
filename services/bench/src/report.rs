//! One run's figures, printed as a table or as JSON lines.

use std::time::Duration;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Run {
    pub mode: String,
    pub writers: usize,
    pub batch: usize,
    pub events: u64,
    pub seconds: f64,
    pub events_per_sec: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Run {
    pub fn new(
        mode: &str,
        writers: usize,
        batch: usize,
        events: u64,
        elapsed: Duration,
        latencies: &mut [Duration],
    ) -> Self {
        let seconds = elapsed.as_secs_f64();
        latencies.sort_unstable();
        Self {
            mode: mode.into(),
            writers,
            batch,
            events,
            seconds,
            events_per_sec: if seconds > 0.0 { events as f64 / seconds } else { 0.0 },
            p50_ms: percentile(latencies, 0.50),
            p99_ms: percentile(latencies, 0.99),
        }
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[index].as_secs_f64() * 1000.0)
}

pub fn print(runs: &[Run], json: bool) {
    if json {
        for run in runs {
            println!("{}", serde_json::to_string(run).unwrap_or_default());
        }
        return;
    }
    println!("| mode | writers | batch | events | seconds | events/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2}"));
    for run in runs {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} | {} |",
            run.mode,
            run.writers,
            run.batch,
            run.events,
            run.seconds,
            run.events_per_sec,
            ms(run.p50_ms),
            ms(run.p99_ms)
        );
    }
}

/// Lines of named figures: JSON, one object a line, or a table of their fields.
pub fn print_lines(lines: &[serde_json::Value], json: bool) -> anyhow::Result<()> {
    if json {
        for line in lines {
            println!("{line}");
        }
        return Ok(());
    }
    for line in lines {
        let fields: Vec<String> = line
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.as_str() != "what")
            .map(|(key, value)| match value.as_f64() {
                Some(number) if value.is_f64() => format!("{key} {number:.2}"),
                _ => format!("{key} {value}"),
            })
            .collect();
        println!("{:<36} {}", line["what"].as_str().unwrap_or(""), fields.join("  "));
    }
    Ok(())
}
