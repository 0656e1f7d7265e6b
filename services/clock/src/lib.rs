//! The service's one reading of the wall clock, and UK civil time.
//!
//! Business time ("now": the default `occurredAt` of a command, "today" for deadlines, the
//! demo's week) is read here and nowhere else, so a development setting can start the clock at
//! another instant and the whole service lives that day: the demo and its tests on a Sunday, a
//! bank holiday or the first working day of a year, whatever the real date. The domain never
//! reads it: time comes in with each command. Tokens, sessions and timeouts keep the real clock.

pub mod ukclock;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// How far business time runs ahead of (or behind) the real clock, once set.
static OFFSET: OnceLock<TimeDelta> = OnceLock::new();

/// Business time now: the real clock, moved by the offset set at start, if any.
pub fn now() -> DateTime<Utc> {
    let real = Utc::now();
    match OFFSET.get() {
        Some(offset) => real.checked_add_signed(*offset).unwrap_or(real),
        None => real,
    }
}

/// Today's date in the UK, in business time.
pub fn today() -> NaiveDate {
    ukclock::to_uk(now()).date_naive()
}

/// Starts business time at `instant` (it then runs on at the real clock's pace). Once per
/// process, before anything reads the clock; a second call is refused with the offset in force.
pub fn start_at(instant: DateTime<Utc>) -> Result<(), AlreadyStarted> {
    let offset = instant.signed_duration_since(Utc::now());
    OFFSET.set(offset).map_err(|_| AlreadyStarted)
}

/// The clock was started once already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyStarted;

impl std::fmt::Display for AlreadyStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the clock was started once already")
    }
}

impl std::error::Error for AlreadyStarted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_clock_lives_the_day_it_was_started_on_and_runs_on_from_there() {
        let christmas = DateTime::parse_from_rfc3339("2026-12-25T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(start_at(christmas), Ok(()));
        let seen = now();
        assert!(seen >= christmas && seen < christmas + TimeDelta::minutes(1), "{seen}");
        assert_eq!(today(), NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default());
        assert_eq!(start_at(christmas), Err(AlreadyStarted), "once per process");
    }
}
