//! Where a write's time goes: every part of the command path (the API's token and parsing, the
//! command's load, decision, sealing and append, the wait for the views and the read back)
//! records its duration under one histogram, `caseledger_command_stage_seconds{stage}`, so
//! `/metrics` shows the breakdown in production as the benchmark reports it.

use std::time::Instant;

/// The histogram every stage of the command path records into.
pub const COMMAND_STAGE_SECONDS: &str = "caseledger_command_stage_seconds";

/// Records the time since `started` as stage `stage` of the command path.
pub fn record(stage: &'static str, started: Instant) {
    metrics::histogram!(COMMAND_STAGE_SECONDS, "stage" => stage).record(started.elapsed().as_secs_f64());
}
